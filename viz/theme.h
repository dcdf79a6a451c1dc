/*
 * theme.h - the one table of styles and map glyphs (no curses here).
 *
 * VIZ_STYLES rows: C(NAME, fg256, bg256, fg8, bg8, attr, mono_attr)
 *   colours are xterm-256 indices, or 0..7 (black red green yellow blue
 *   magenta cyan white) for 8-colour terminals; -1 is the terminal's own.
 *   For the map kinds bg is the fill colour of the kind; fg draws its glyph.
 *   mono_attr is all a monochrome terminal gets: the glyphs carry the rest.
 *
 * VIZ_KINDS rows: C(NAME, style, ascii, utf8, colour_glyph, label)
 *   ascii/utf8: the glyph a cell of this kind shows without colour (and in
 *   every dump); colour_glyph: the glyph drawn over the fill colour.
 */
#ifndef VIZ_THEME_H
#define VIZ_THEME_H

#include <stdint.h>

enum { VA_BOLD = 1, VA_REVERSE = 2, VA_UNDERLINE = 4, VA_DIM = 8, VA_SPLIT = 16 };

#define VIZ_STYLES(C)                                                        \
    C(NORMAL,        -1,  -1, -1, -1, 0, 0)                                  \
    C(OBJECT_A,     231,  25,  7,  4, 0, 0)                                  \
    C(OBJECT_B,     231,  67,  0,  6, 0, 0)                                  \
    C(HEADER,       231, 127,  7,  5, 0, 0)                                  \
    C(PADDING,      130, 179,  0,  3, 0, 0)                                  \
    C(FREE,         244, 236,  7,  0, 0, 0)                                  \
    C(TABLE,        241, 234,  7,  0, 0, VA_DIM)                             \
    C(RUN,          231,  90,  7,  5, VA_BOLD, VA_BOLD)                      \
    C(SLOT_A,       231,  29,  7,  2, 0, 0)                                  \
    C(SLOT_B,       231,  65,  0,  2, 0, 0)                                  \
    C(SLOT_FREE,     78, 235,  2,  0, 0, 0)                                  \
    C(ALARM,        226, 160,  3,  1, VA_BOLD, VA_BOLD)                      \
    C(FLASH_ALLOC,   16,  40,  0,  2, 0, VA_UNDERLINE)                       \
    C(FLASH_FREE,    16, 209,  0,  1, 0, VA_UNDERLINE)                       \
    C(FLASH_SPLIT,   16,  51,  0,  6, 0, VA_UNDERLINE)                       \
    C(FLASH_COALESCE,16, 226,  0,  3, 0, VA_UNDERLINE)                       \
    C(FLASH_FAIL,   231, 196,  7,  1, VA_BOLD, VA_UNDERLINE)                 \
    C(MARK_SELECT,  231,  -1,  7, -1, VA_BOLD, VA_BOLD)                      \
    C(MARK_ROVER,   214,  -1,  3, -1, VA_BOLD, VA_BOLD)                      \
    C(MARK_TOUCH,   250,  -1,  7, -1, 0, 0)                                  \
    C(TITLE,        231,  24,  7,  4, VA_BOLD, VA_REVERSE | VA_BOLD)         \
    C(LABEL,        245,  -1,  7, -1, 0, 0)                                  \
    C(VALUE,        231,  -1,  7, -1, VA_BOLD, VA_BOLD)                      \
    C(DIM,          242,  -1,  7, -1, 0, VA_DIM)                             \
    C(RULER,        244,  -1,  6, -1, 0, 0)                                  \
    C(HEAD,         117,  -1,  6, -1, VA_BOLD, VA_BOLD | VA_UNDERLINE)       \
    C(KEY,          214,  -1,  3, -1, VA_BOLD, VA_BOLD)                      \
    C(WARN,         203,  -1,  1, -1, VA_BOLD, VA_BOLD)                      \
    C(GOOD,         114,  -1,  2, -1, 0, 0)                                  \
    C(STATUS,       252, 237,  7,  4, 0, VA_REVERSE)                         \
    C(STATUS_KEY,   214, 237,  3,  4, VA_BOLD, VA_REVERSE | VA_BOLD)         \
    C(STATUS_MSG,   226, 237,  3,  4, VA_BOLD, VA_REVERSE | VA_BOLD)         \
    C(BOX,          240,  -1,  7, -1, 0, 0)                                  \
    C(HIST_EXT,     209,  -1,  1, -1, 0, 0)                                  \
    C(HIST_UTIL,    114,  -1,  2, -1, 0, 0)                                  \
    C(LOG_ALLOC,    151,  -1,  2, -1, 0, 0)                                  \
    C(LOG_FREE,     117,  -1,  6, -1, 0, 0)                                  \
    C(LOG_FAIL,     209,  -1,  1, -1, VA_BOLD, VA_BOLD)                      \
    C(LOG_REJECT,   214,  -1,  3, -1, 0, VA_BOLD)                            \
    C(LOG_ALARM,    226, 160,  3,  1, VA_BOLD, VA_REVERSE | VA_BOLD)         \
    C(OVERLAY,      252,  -1,  7, -1, 0, 0)

#define VIZ_STYLE_ENUM(name, f, b, f8, b8, a, m) S_##name,
typedef enum Style { VIZ_STYLES(VIZ_STYLE_ENUM) S_COUNT } Style;
#undef VIZ_STYLE_ENUM

typedef struct StyleDef {
    const char *name;
    int fg, bg, fg8, bg8;
    unsigned attr, mono_attr;
} StyleDef;

extern const StyleDef Theme_Styles[S_COUNT];

/* The kinds of byte on the map. */
#define VIZ_KINDS(C)                                                              \
    C(OBJECT_A, S_OBJECT_A, '#', 0x2588, ' ', "object")          /* █ */          \
    C(OBJECT_B, S_OBJECT_B, '#', 0x2593, ' ', "object (next block)") /* ▓ */      \
    C(HEADER,   S_HEADER,   '|', 0x2502, 0x2502, "header")        /* │ */          \
    C(PADDING,  S_PADDING,  '~', 0x2591, 0x2591, "padding")       /* ░ */          \
    C(FREE,     S_FREE,     '.', 0x00B7, 0x00B7, "free")          /* · */          \
    C(TABLE,    S_TABLE,    '/', 0x2571, 0x2571, "heap tables")   /* ╱ */          \
    C(ALARM,    S_ALARM,    '!', '!', '!', "overflowed guard")                    \
    C(RUN,      S_RUN,      'R', 0x2503, 0x2503, "run table")     /* ┃ */          \
    C(SLOT_A,   S_SLOT_A,   'o', 0x25A0, ' ', "slot")             /* ■ */          \
    C(SLOT_B,   S_SLOT_B,   'o', 0x25AA, ' ', "slot (next)")      /* ▪ */          \
    C(SLOT_FREE, S_SLOT_FREE, ',', 0x25A1, 0x25A1, "free slot")   /* □ */

#define VIZ_KIND_ENUM(name, style, a, u, c, label) K_##name,
typedef enum Kind { VIZ_KINDS(VIZ_KIND_ENUM) K_COUNT, K_NONE = K_COUNT } Kind;
#undef VIZ_KIND_ENUM

typedef struct KindDef {
    Style style;
    uint32_t ascii, utf8, colour;
    const char *label;
} KindDef;

extern const KindDef Theme_Kinds[K_COUNT];

/* How glyphs are chosen. */
typedef struct GlyphMode {
    int utf8;    /* UTF-8 glyphs (else ASCII only) */
    int colour;  /* colours available (else glyphs carry everything) */
} GlyphMode;

/* The glyph a whole cell of kind k shows. */
uint32_t Theme_Glyph(Kind k, GlyphMode g);

/* Marker-row glyphs: selected block, last-touched block, next-fit rover. */
uint32_t Theme_MarkSelect(GlyphMode g);
uint32_t Theme_MarkTouch(GlyphMode g);
uint32_t Theme_MarkRover(GlyphMode g);

#endif

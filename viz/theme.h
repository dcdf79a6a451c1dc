/*
 * theme.h - the one table of styles and map glyphs (no curses here).
 *
 * VIZ_STYLES rows:
 *   C(NAME, role, dark fg, bg, light fg, bg, contrast fg, bg, fg8, bg8, attr, mono_attr)
 *   Colours are xterm-256 indices for the three themes, 0..7 (black red
 *   green yellow blue magenta cyan white) for 8-colour terminals; -1 is the
 *   terminal's own.  For the map kinds bg is the fill colour of the kind; fg
 *   draws its glyph.  mono_attr is all a monochrome terminal gets: the
 *   glyphs carry the rest.
 *   role says what the colours must pass (WCAG 2 contrast ratio between fg
 *   and bg, or the theme's paper where bg is -1, computed from the
 *   palette's RGB values by tests/test_viz_theme.c):
 *     TEXT     words and figures: at least 4.5 (7 in the contrast theme);
 *     GRAPHIC  glyphs that are not words (map glyphs, marks, box lines):
 *              at least 3 (4.5 in the contrast theme), WCAG's non-text rule;
 *     FILL     a colour block with no glyph on it: not checked.
 *
 * Themes: dark for a dark terminal background, light for a light one (both
 * keep the terminal's own background), contrast paints its own black paper
 * under everything and keeps text at 7:1, for projectors.  Each is checked
 * against the papers Theme_Papers names.
 *
 * VIZ_KINDS rows: C(NAME, style, ascii, utf8, colour_glyph, label)
 *   ascii/utf8: the glyph a cell of this kind shows without colour (and in
 *   every dump); colour_glyph: the glyph drawn over the fill colour.
 */
#ifndef VIZ_THEME_H
#define VIZ_THEME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { VA_BOLD = 1, VA_REVERSE = 2, VA_UNDERLINE = 4, VA_DIM = 8, VA_SPLIT = 16 };

typedef enum StyleRole { ROLE_TEXT, ROLE_GRAPHIC, ROLE_FILL } StyleRole;

/* clang-format off */
#define VIZ_STYLES(C)                                                                          \
    /*  name          role     dark       light      contrast   8-colour  attr     mono */   \
    C(NORMAL,        TEXT,     -1,  -1,   -1,  -1,   231,  16,  -1, -1,   0, 0)               \
    C(OBJECT_A,      FILL,    231,  25,  231,  25,   231,  33,   7,  4,   0, 0)               \
    C(OBJECT_B,      FILL,    231,  67,  231,  74,   231,  75,   0,  6,   0, 0)               \
    C(HEADER,        GRAPHIC, 231, 127,  231, 127,   231,  90,   7,  5,   0, 0)               \
    C(PADDING,       GRAPHIC,  52, 179,   94, 222,    16, 220,   0,  3,   0, 0)               \
    C(FREE,          GRAPHIC, 244, 236,  242, 255,   250,  16,   7,  0,   0, 0)               \
    C(TABLE,         GRAPHIC, 244, 234,  240, 252,   252, 236,   7,  0,   0, VA_DIM)          \
    C(FREE_RANK,     TEXT,    231, 236,   16, 255,   231,  16,   7,  0,   VA_BOLD, VA_BOLD)   \
    C(RUN,           GRAPHIC, 231,  90,  231,  90,   231,  90,   7,  5,   VA_BOLD, VA_BOLD)   \
    C(SLOT_A,        FILL,    231,  29,  231,  29,   231,  35,   7,  2,   0, 0)               \
    C(SLOT_B,        FILL,    231,  65,  231,  72,   231,  71,   0,  2,   0, 0)               \
    C(SLOT_FREE,     GRAPHIC,  78, 235,   28, 255,   120,  16,   2,  0,   0, 0)               \
    C(ALARM,         GRAPHIC, 226, 160,  226, 160,   231,  88,   3,  1,   VA_BOLD, VA_BOLD)   \
    C(FLASH_ALLOC,   GRAPHIC,  16,  40,   16,  40,    16,  46,   0,  2,   0, VA_UNDERLINE)    \
    C(FLASH_FREE,    GRAPHIC,  16, 209,   16, 209,    16, 208,   0,  1,   0, VA_UNDERLINE)    \
    C(FLASH_SPLIT,   GRAPHIC,  16,  51,   16,  51,    16,  51,   0,  6,   0, VA_UNDERLINE)    \
    C(FLASH_COALESCE,GRAPHIC,  16, 226,   16, 226,    16, 226,   0,  3,   0, VA_UNDERLINE)    \
    C(FLASH_FAIL,    GRAPHIC, 231, 160,  231, 160,   231, 124,   7,  1,   VA_BOLD, VA_UNDERLINE) \
    C(MARK_SELECT,   GRAPHIC, 231,  -1,   16,  -1,   231,  -1,   7, -1,   VA_BOLD, VA_BOLD)   \
    C(MARK_ROVER,    GRAPHIC, 214,  -1,  130,  -1,   226,  -1,   3, -1,   VA_BOLD, VA_BOLD)   \
    C(MARK_TOUCH,    GRAPHIC, 250,  -1,  242,  -1,   250,  -1,   7, -1,   0, 0)               \
    C(TITLE,         TEXT,    231,  24,  231,  24,    16, 226,   7,  4,   VA_BOLD, VA_REVERSE | VA_BOLD) \
    C(LABEL,         TEXT,    248,  -1,  240,  -1,   252,  -1,   7, -1,   0, 0)               \
    C(VALUE,         TEXT,    231,  -1,   16,  -1,   231,  -1,   7, -1,   VA_BOLD, VA_BOLD)   \
    C(DIM,           TEXT,    246,  -1,  241,  -1,   250,  -1,   7, -1,   0, VA_DIM)          \
    C(RULER,         TEXT,    247,  -1,  240,  -1,   250,  -1,   6, -1,   0, 0)               \
    C(HEAD,          TEXT,    117,  -1,   24,  -1,    51,  -1,   6, -1,   VA_BOLD, VA_BOLD | VA_UNDERLINE) \
    C(KEY,           TEXT,    214,  -1,   94,  -1,   226,  -1,   3, -1,   VA_BOLD, VA_BOLD)   \
    C(WARN,          TEXT,    203,  -1,  124,  -1,   210,  -1,   1, -1,   VA_BOLD, VA_BOLD)   \
    C(GOOD,          TEXT,    114,  -1,   22,  -1,   120,  -1,   2, -1,   0, 0)               \
    C(STATUS,        TEXT,    252, 237,   16, 252,    16, 252,   7,  4,   0, VA_REVERSE)      \
    C(STATUS_KEY,    TEXT,    214, 237,   18, 252,    17, 252,   3,  4,   VA_BOLD, VA_REVERSE | VA_BOLD) \
    C(STATUS_MSG,    TEXT,    226, 237,   88, 252,    52, 252,   3,  4,   VA_BOLD, VA_REVERSE | VA_BOLD) \
    C(BOX,           GRAPHIC, 244,  -1,  243,  -1,   250,  -1,   7, -1,   0, 0)               \
    C(HIST_EXT,      TEXT,    209,  -1,  160,  -1,   210,  -1,   1, -1,   0, 0)               \
    C(HIST_UTIL,     TEXT,    114,  -1,   22,  -1,   120,  -1,   2, -1,   0, 0)               \
    C(LOG_ALLOC,     TEXT,    151,  -1,   22,  -1,   120,  -1,   2, -1,   0, 0)               \
    C(LOG_FREE,      TEXT,    117,  -1,   24,  -1,    51,  -1,   6, -1,   0, 0)               \
    C(LOG_FAIL,      TEXT,    209,  -1,  124,  -1,   210,  -1,   1, -1,   VA_BOLD, VA_BOLD)   \
    C(LOG_REJECT,    TEXT,    214,  -1,   94,  -1,   226,  -1,   3, -1,   0, VA_BOLD)         \
    C(LOG_ALARM,     TEXT,    226, 160,  226, 160,   231,  88,   3,  1,   VA_BOLD, VA_REVERSE | VA_BOLD) \
    C(OVERLAY,       TEXT,    252,  -1,   16,  -1,   231,  -1,   7, -1,   0, 0)
/* clang-format on */

#define VIZ_STYLE_ENUM(name, role, df, db, lf, lb, cf, cb, f8, b8, a, m) S_##name,
typedef enum Style { VIZ_STYLES(VIZ_STYLE_ENUM) S_COUNT } Style;
#undef VIZ_STYLE_ENUM

typedef enum ThemeId { THEME_DARK, THEME_LIGHT, THEME_CONTRAST, THEME_COUNT } ThemeId;

typedef struct StyleDef {
    const char *name;
    StyleRole role;
    int fg[THEME_COUNT], bg[THEME_COUNT]; /* xterm-256 */
    int fg8, bg8;
    unsigned attr, mono_attr;
} StyleDef;

extern const StyleDef Theme_Styles[S_COUNT];

/* "dark", "light", "contrast". */
const char *Theme_Name(ThemeId t);
/* Returns 0 and sets *out, or -1 for another name. */
int Theme_Parse(const char *name, ThemeId *out);
/* The theme a COLORFGBG value ("15;0", "0;default;15") asks for: light when
 * its last field is a light background (7, or 9 to 15), dark otherwise,
 * also for NULL and anything unreadable. */
ThemeId Theme_FromColorFgBg(const char *colorfgbg);

/* The colours a style takes under theme t with 256 colours (many) or 8:
 * palette indices, -1 for the terminal's own.  The contrast theme paints
 * its paper (black) wherever the table says -1. */
void Theme_Colors(ThemeId t, Style s, bool many, int *fg, int *bg);
/* The backgrounds theme t is designed for (what -1 may be): dark 16 and
 * 235, light 231 and 255, contrast its own 16.  Sets *n. */
const int *Theme_Papers(ThemeId t, size_t *n);
/* The 256-colour palette's RGB value of index i (xterm's), 0xRRGGBB. */
uint32_t Theme_Rgb(int i);

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

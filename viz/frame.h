/*
 * frame.h - a screen as a grid of styled cells, composed without curses.
 * The live path copies a Frame to the terminal (render.c); --dump prints
 * it as text.  Both show the same cells.
 */
#ifndef VIZ_FRAME_H
#define VIZ_FRAME_H

#include "theme.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct FCell {
    uint32_t ch;    /* a Unicode code point, one column wide */
    uint8_t fg;     /* Style whose fg colours the glyph (or, split: left fill) */
    uint8_t bg;     /* Style whose bg fills the cell (split: right fill) */
    uint8_t attr;   /* VA_* added to the style's own */
} FCell;

typedef struct Frame {
    int rows, cols;
    bool utf8;      /* false: text is folded to ASCII as it is written */
    FCell *c;
} Frame;

int Frame_Init(Frame *f, int rows, int cols, bool utf8);
void Frame_Free(Frame *f);
void Frame_Clear(Frame *f);
FCell *Frame_At(Frame *f, int y, int x); /* NULL outside */
void Frame_Put(Frame *f, int y, int x, uint32_t ch, Style s);
/* Fills [x, x+w) of row y with ch in style s. */
void Frame_Fill(Frame *f, int y, int x, int w, uint32_t ch, Style s);
/* Writes UTF-8 text from (y, x), at most maxw columns (clipped to the
 * frame); returns the columns written.  Text that does not fit ends in
 * "…" ('>' in an ASCII frame) in its last column.  In an ASCII frame,
 * arrows and other symbols are folded ("→" becomes "->"). */
int Frame_Text(Frame *f, int y, int x, int maxw, Style s, const char *text);
__attribute__((format(printf, 6, 7))) int Frame_Printf(Frame *f, int y, int x, int maxw,
                                                       Style s, const char *fmt, ...);
/* Columns `text` takes in this frame (after folding). */
int Frame_TextWidth(const Frame *f, const char *text);
/* A box outline with an optional title. */
void Frame_Box(Frame *f, int y, int x, int h, int w, Style s, const char *title);

/* Prints every row, trailing blanks trimmed, as UTF-8 (or ASCII). */
void Frame_Dump(const Frame *f, FILE *out);
/* One row as UTF-8 text into buf (trailing blanks trimmed); for tests. */
void Frame_RowText(const Frame *f, int y, char *buf, size_t len);

/* The colours and attributes the terminal gives cell c under theme t with
 * 256 colours (many) or 8: fg draws the glyph (in a split cell, the left
 * piece's fill), bg fills the cell; palette indices, -1 the terminal's own;
 * attr VA_* without VA_SPLIT. */
void Frame_CellColors(const FCell *c, ThemeId t, bool many, int *fg, int *bg, unsigned *attr);

/* Encodes one code point as UTF-8; returns the bytes (1..4). */
int Frame_EncodeUtf8(uint32_t cp, char out[4]);

#endif

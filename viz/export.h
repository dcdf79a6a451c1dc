/*
 * export.h - a composed frame as a standalone SVG picture or HTML page, for
 * slides and handouts: every cell in the colours the terminal shows
 * (xterm-256 indices turned into RGB), eighth-cell boundaries as exact
 * rectangles, underlines where the selection is.  No curses.
 */
#ifndef VIZ_EXPORT_H
#define VIZ_EXPORT_H

#include "frame.h"
#include "theme.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Pixels of one cell in the SVG (the picture is cols x rows cells). */
#define EXPORT_CELL_W 10
#define EXPORT_CELL_H 20

/* The RGB (0xRRGGBB) of an xterm-256 colour index under theme t; -1 (the
 * terminal's own) is the theme's ink (fg) or paper: a dark terminal's, a
 * light one's, the contrast theme's black. */
uint32_t Export_Rgb(ThemeId t, int index, bool fg);

/* The colour style s paints its glyph (fg) or its fill with under theme t. */
uint32_t Export_StyleRgb(ThemeId t, Style s, bool fg);

/* Writes f as an SVG document (UTF-8) titled `title`, in theme t's colours
 * as a 256-colour terminal shows them.  Returns 0, or -1 when writing
 * failed (errno). */
int Export_Svg(const Frame *f, ThemeId t, const char *title, FILE *out);

/* Writes f as a standalone HTML page: one <pre>, a span a run of cells. */
int Export_Html(const Frame *f, ThemeId t, const char *title, FILE *out);

struct Ui;

/* Composes ui's screen at rows x cols in colour (UTF-8 unless ascii) and
 * writes it, in ui->theme's colours, to svg and/or html (either may be NULL).  An existing file is
 * replaced only when `replace`; else it is an error (EEXIST).  Returns 0,
 * or -1 with "FILE: reason" in err; a file that could not be written whole
 * is removed. */
int Export_Screen(struct Ui *ui, int rows, int cols, bool ascii, const char *svg,
                  const char *html, bool replace, char *err, size_t errlen);

/* Key e: exports the screen as it is to heapviz-stepN.svg and .html (new
 * files in the working directory) and says where. */
unsigned Export_Key(struct Ui *ui, int key);

#endif

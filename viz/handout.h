/*
 * handout.h - --dump --handout: a lecture as text for paper, one compact
 * bar of the whole arena and the library's sentence per operation, from the
 * present step to the end of the trace or script (a generated workload:
 * `max_ops` operations).  Also the pieces the predict worksheet prints.
 * No curses.
 */
#ifndef VIZ_HANDOUT_H
#define VIZ_HANDOUT_H

#include "app.h"

#include <stdbool.h>
#include <stdio.h>

/* Prints the handout; returns 0, or 1 when writing failed. */
int Handout_Print(Ui *ui, FILE *out, int cols, bool utf8, unsigned long max_ops);

/* The heading: a title line, the ruler and the legend of the bars. */
void Handout_Heading(Ui *ui, FILE *out, int cols, bool utf8, const char *what);
/* Lane l's whole arena as one row of glyphs after `label` (padded to the
 * gutter), and under it the marker row when it has marks. */
void Handout_Bar(Ui *ui, Lane *l, FILE *out, int cols, bool utf8, const char *label);
/* text wrapped to cols, every line indented by `indent` spaces (folded to
 * ASCII unless utf8). */
void Handout_Wrap(FILE *out, const char *text, int cols, int indent, bool utf8);

/* The running script's notes that stand before its next operation (the
 * captions, "(pause)"), each once: *note is where the last call stopped
 * (0 at first). */
void Handout_Notes(Ui *ui, FILE *out, size_t *note, int cols, bool utf8);

/* Columns before the bar (the label's). */
#define HANDOUT_GUTTER 7

#endif

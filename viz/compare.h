/*
 * compare.h - what compare mode adds per heap: the selected place's block
 * in every heap (the selection is an offset, so each heap shows what it
 * keeps there), and each heap's fragmentation history as a one-row chart
 * on its line.  No curses.
 */
#ifndef VIZ_COMPARE_H
#define VIZ_COMPARE_H

#include "app.h"

/* Rows the details take on a screen with `avail` rows for the lanes: one
 * per heap, or 0 when nothing is selected or there is no room. */
int Compare_DetailRows(const Ui *ui, int avail);
/* Draws the details from row y: the focused heap's selected block (or the
 * run's piece), then, while rows last, what each other heap keeps at the
 * same offset. */
void Compare_Details(Ui *ui, Frame *f, int y, int rows);
/* Lane l's external fragmentation, newest on the right, as a one-row
 * chart after "  ext " in [x, x + w) (nothing when w is too small). */
void Compare_Spark(const Lane *l, Frame *f, int y, int x, int w);

#endif

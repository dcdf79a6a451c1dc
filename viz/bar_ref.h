/*
 * bar_ref.h - the reference implementation of the heap map (bar_ref.c):
 * the rules of bar.h applied a segment at a time, with nothing clever.
 * Linked into the tests only; heapviz uses Bar_Layout.
 */
#ifndef VIZ_BAR_REF_H
#define VIZ_BAR_REF_H

#include "bar.h"

/* Exactly what Bar_Layout fills: out[0 .. Bar_Cells(v)-1]. */
void Bar_LayoutReference(const Snapshot *s, const BarView *v, BarCell *out);

#endif

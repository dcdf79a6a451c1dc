/* testviz.h - helpers shared by the suites of heapviz's pure layout. */
#ifndef TESTVIZ_H
#define TESTVIZ_H

#include "bar.h"

#include <string.h>

/* A view of [start, end) at bpc bytes a cell; nothing selected, no rover. */
static inline BarView view(size_t start, size_t end, size_t bpc, int utf8, int colour)
{
    BarView v;
    memset(&v, 0, sizeof v);
    v.start = start;
    v.end = end;
    v.bpc = bpc;
    v.glyphs.utf8 = utf8;
    v.glyphs.colour = colour;
    v.selected = SIZE_MAX;
    v.rover = SIZE_MAX;
    return v;
}

#endif

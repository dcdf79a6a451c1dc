/*
 * levels.c - buddy's split levels above the map (the rules are in levels.h).
 *
 * Two passes over the blocks in the view, in address order, touching each
 * block's first and last cells and the cells between: the glyphs, then the
 * labels over the ─ runs.  Blocks that begin in one cell come one after the
 * other, so "a second block begins here" is the cell of the last start.
 */
#include "levels.h"

#include <stdio.h>
#include <string.h>

const char *Levels_Label(size_t bytes, char *buf, size_t len)
{
    static const char unit[] = "KMGT";
    unsigned u = 0;
    while (bytes >= 1024 && bytes % 1024 == 0 && u < sizeof unit - 1) {
        bytes /= 1024;
        u++;
    }
    if (u)
        snprintf(buf, len, "%zu%c", bytes, unit[u - 1]);
    else
        snprintf(buf, len, "%zu", bytes);
    return buf;
}

static uint8_t order_of(size_t bytes)
{
    uint8_t k = 0;
    while (k < 63 && ((size_t)MEM_ALIGNMENT << k) < bytes)
        k++;
    return k;
}

/* The first block with a byte at or after the view's start. */
static size_t first_block(const Snapshot *s, const BarView *v)
{
    long bi = Snapshot_BlockAt(s, v->start);
    if (bi >= 0)
        return (size_t)bi;
    return v->start < s->region.heap_begin ? 0 : s->nblocks;
}

/* A block's cells in the view, [c0, c1], and whether it begins and ends
 * inside the view. */
typedef struct Span {
    const SnapBlock *b;
    size_t c0, c1;
    bool begins, ends;
} Span;

/* The next block from *i with a byte in the view, as a Span; false past
 * the view's end. */
static bool next_span(const Snapshot *s, const BarView *v, size_t *i, Span *sp)
{
    for (; *i < s->nblocks && s->blocks[*i].offset < v->end; ++*i) {
        const SnapBlock *b = &s->blocks[*i];
        size_t bs = b->offset, be = bs + b->size;
        if (be <= v->start || b->size == 0)
            continue;
        size_t from = bs > v->start ? bs : v->start, to = be < v->end ? be : v->end;
        *sp = (Span){b, (from - v->start) / v->bpc, (to - 1 - v->start) / v->bpc,
                     bs >= v->start, be <= v->end};
        ++*i;
        return true;
    }
    return false;
}

void Levels_Layout(const Snapshot *s, const BarView *v, size_t cols, LevelCell *out)
{
    size_t n = Bar_Cells(v);
    if (n == 0)
        return;
    bool u8 = v->glyphs.utf8 != 0;
    const uint32_t g_cross = u8 ? 0x253Cu : '+', g_one = u8 ? 0x2502u : '|',
                   g_open = u8 ? 0x251Cu : '[', g_close = u8 ? 0x2524u : ']',
                   g_line = u8 ? 0x2500u : '-';
    for (size_t c = 0; c < n; c++)
        out[c] = (LevelCell){' ', 0, false, false};
    if (cols == 0)
        cols = n;

    size_t first = first_block(s, v), last_start = SIZE_MAX;
    Span sp;
    for (size_t i = first; next_span(s, v, &i, &sp);) {
        const SnapBlock *b = sp.b;
        size_t c0 = sp.c0, c1 = sp.c1;
        bool begins = sp.begins, ends = sp.ends;
        LevelCell mark = {g_line, order_of(b->size), b->used, false};
        for (size_t c = begins ? c0 + 1 : c0; c <= c1; c++)
            out[c] = mark;
        if (ends && !(begins && c1 == c0)) {
            mark.ch = g_close;
            out[c1] = mark;
        }
        if (begins) {
            mark.ch = c0 == last_start ? g_cross : ends && c1 == c0 ? g_one : g_open;
            out[c0] = mark;
            last_start = c0;
        }
    }

    for (size_t i = first; next_span(s, v, &i, &sp);) {
        const SnapBlock *b = sp.b;
        size_t c0 = sp.c0, c1 = sp.c1;
        bool begins = sp.begins, ends = sp.ends;
        /* the cells that are this block's alone: not its first or last if
         * it begins or ends there */
        size_t lo = begins ? c0 + 1 : c0;
        if (ends && c1 == 0)
            continue;
        size_t hi = ends ? c1 - 1 : c1;
        if (lo > hi || hi >= n)
            continue;
        char text[16];
        Levels_Label(b->size, text, sizeof text);
        size_t m = strlen(text);
        for (size_t row = lo / cols; row * cols <= hi; row++) {
            size_t a = row * cols > lo ? row * cols : lo;
            size_t z = row * cols + cols - 1 < hi ? row * cols + cols - 1 : hi;
            size_t len = z - a + 1;
            if (len < m + 2)
                continue;
            size_t at = a + (len - m) / 2;
            for (size_t k = 0; k < m; k++) {
                out[at + k].ch = (uint32_t)(unsigned char)text[k];
                out[at + k].label = true;
            }
        }
    }
}

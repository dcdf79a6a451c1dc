/*
 * levels.h - buddy's split levels, the row drawn above each bar row of a
 * MEM_BUDDY heap: a pure function of a snapshot and a view, like bar.h
 * (no curses, no allocation), and cell for cell over the same bytes.
 *
 * Every buddy block is 2^k granules of MEM_ALIGNMENT bytes (its order k).
 * The row says which block lies under each cell, and its size, so that the
 * halvings are seen: a 1 KiB block split for a 100-byte object reads
 *
 *   ├─ 128 ──┤├─ 128 ──┤├────── 256 ───────┤├─────────── 512 ─────────...
 *   │██████░░││········││··················││·························...
 *
 * Rules, for the cell [a, a + bpc) of the view:
 *   two or more blocks begin in the cell       ┼  (ASCII +)
 *   one begins, and ends in the same cell       │  (|)
 *   one begins                                  ├  ([)
 *   none begins, one ends                       ┤  (])
 *   none begins or ends: inside one block       ─  (-)
 *   no block at all (the heap's tables)         blank
 * Then each block's size ("32", "64", ..., "512", "1K", ..., "4G": bytes,
 * K/M/G as powers of 1024) is written over its ─ cells, centred, on every
 * map row where a run of its ─ cells is at least two cells longer than the
 * label; a block too narrow for its label shows the brackets alone.
 */
#ifndef VIZ_LEVELS_H
#define VIZ_LEVELS_H

#include "bar.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct LevelCell {
    uint32_t ch;      /* the glyph (a code point; ' ' for none) */
    uint8_t order;    /* order k of the block the glyph belongs to; 0: none */
    bool used;        /* that block is used */
    bool label;       /* the glyph is part of a size label */
} LevelCell;

/* The label of a block of `bytes` (a power of two) into buf: "128", "4K".
 * Returns buf. */
const char *Levels_Label(size_t bytes, char *buf, size_t len);

/* Fills out[0 .. Bar_Cells(v)-1] for a view whose rows are `cols` cells
 * wide (labels never cross a row's end).  v->glyphs.utf8 picks the box
 * glyphs or ASCII.  Time: O(cells + blocks in the view), plus O(log
 * blocks) to find the first. */
void Levels_Layout(const Snapshot *s, const BarView *v, size_t cols, LevelCell *out);

#endif

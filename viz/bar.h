/*
 * bar.h - the heap map as cells: a pure function of a snapshot and a view.
 *
 * The map is linear: cell i covers bytes [start + i*bpc, start + (i+1)*bpc)
 * of the arena.  Every byte is one kind: a block's header, its object, its
 * padding (used blocks), free (a free block, its header included, as the
 * library counts it), or the arena's own tables (outside the blocks); in a
 * run (model.h: SnapRun), the run's header and table, a slot's object, its
 * padding, or a free slot.  The slots are the run's pieces in the snapshot:
 * they shade like used blocks; a free slot is not a free block (the rule
 * that every free block shows is for free blocks).  But a free block right
 * after another free block (buddy, or coalescing that is deferred or off)
 * shows its header as a header: the boundary between the two, which the
 * allocator did not merge, stays visible at every scale.
 * Adjacent used blocks alternate two object shades (reset after any free
 * block), so that their boundary shows.  A piece is a run of one kind.
 *
 * Split rule (UTF-8 with colour):
 *   one piece       the kind's fill;
 *   two pieces      an eighth block ▏▎▍▌▋▊▉ split at the nearest eighth
 *                   (at least one eighth each), left piece in front;
 *   three or more   two pieces are shown: an overflowed guard first, then a
 *                   free piece, then the largest; they keep their order, and
 *                   the split is where the later one's block begins (if it
 *                   begins in the cell) or where the later piece begins.
 *   Two free pieces of two blocks show the later one in the header's
 *   colour: the boundary of free blocks side by side stays visible.
 *   So every free byte shows, as at least an eighth of a cell.
 * Glyph rule (no colour, ASCII, and every dump), one glyph per cell:
 *   an overflowed guard anywhere in the cell shows '!'; else a used block's
 *   header anywhere in the cell shows '|' (a block starts here); else the
 *   kind with the most bytes (ties: the earlier).  Last, a free block that
 *   no cell shows takes the cell that holds most of it: a free block of any
 *   size stays visible.
 * Marker row (under each bar row): ▲/^ the next-fit rover's block, ! a
 * block whose guard an overflow broke (its whole extent), ━/= the
 * selected block, ╌/- the block the last operation touched first (the
 * allocated block, or the freed block after coalescing); every touched
 * block (a split-off remainder too) flashes in colour.
 */
#ifndef VIZ_BAR_H
#define VIZ_BAR_H

#include "model.h"
#include "theme.h"

#include <stddef.h>
#include <stdint.h>

typedef struct BarView {
    size_t start;       /* first byte shown, from the arena base */
    size_t end;         /* one past the last byte shown */
    size_t bpc;         /* bytes per cell, >= 1 */
    GlyphMode glyphs;
    size_t selected;    /* offset of the selected block, or SIZE_MAX */
    const Touch *touch; /* last operation's blocks */
    unsigned ntouch;
    size_t rover;       /* offset of the rover's block, or SIZE_MAX */
} BarView;

enum {
    BAR_SELECTED = 1,  /* holds a byte of the selected block */
    BAR_TOUCH_L = 2,   /* the left (or only) part was touched by the last op */
    BAR_TOUCH_R = 4,   /* the right part was */
    BAR_ROVER = 8,     /* the rover's block starts here */
    BAR_MIXED = 16,    /* three or more pieces */
    BAR_OVERFLOW = 32  /* holds a byte of a block whose guard is broken */
};

typedef struct BarCell {
    uint32_t ch;        /* the glyph */
    uint8_t left;       /* Kind of the left (or only) part */
    uint8_t right;      /* Kind of the right part (== left when not split) */
    uint8_t eighths;    /* 8: not split; 1..7: eighths of the cell that are left */
    uint8_t flags;      /* BAR_* */
    uint8_t touch;      /* TouchKind of the touched part, or TOUCH_NONE */
    int32_t owner;      /* block with the most bytes here (index), -1: none */
    uint32_t mark;      /* marker-row glyph under this cell (' ' for none) */
} BarCell;

/* Cells needed for the view: ceil((end - start) / bpc). */
size_t Bar_Cells(const BarView *v);

/* Bytes per cell to show `bytes` in at most `cells` cells: the exact
 * ceiling rounded up to a power of two, so that offsets read aloud. */
size_t Bar_Scale(size_t bytes, size_t cells);

/* Fills out[0 .. Bar_Cells(v)-1].  Allocates nothing.  Time: O(cells +
 * blocks in the view), plus O(log blocks) to find the view's first block
 * (and the run of used blocks before it, for its shade). */
void Bar_Layout(const Snapshot *s, const BarView *v, BarCell *out);

/* A map's cells kept from frame to frame.  The blocks' part of the layout
 * (glyphs, parts, owners: O(blocks in view)) depends only on the snapshot's
 * walk (Snapshot.serial) and on the view's start, end, bpc and glyphs; the
 * rest of BarView (selection, rover, touched blocks) decorates the cells
 * again every time, in O(cells).  A live program's heap is re-read a few
 * times a second but drawn 20 times: most frames pay for the decoration
 * only.  Zero-initialise; Bar_CacheFree releases it.  A field added to
 * BarView that changes the blocks' part must join cache_holds (bar.c). */
typedef struct BarCache {
    BarCell *cells;         /* cap cells */
    size_t *split;          /* per cell: where its right part begins */
    size_t cap;
    uint64_t serial;        /* the walk the cells are from; 0: none */
    const SnapBlock *blocks;
    size_t nblocks, size, heap_begin, heap_end;
    size_t start, end, bpc; /* of the view they were laid out for */
    GlyphMode glyphs;
    uint64_t hits, misses;  /* layouts kept, and done */
} BarCache;

/* What Bar_Layout would fill, in the cache's own Bar_Cells(v) cells (valid
 * until the next call on c), laid out again only when the snapshot's walk
 * or the view's stretch, scale or glyphs changed.  NULL when out of memory
 * (the cache is then empty).  Time: O(cells) when kept, else Bar_Layout's. */
const BarCell *Bar_LayoutCached(BarCache *c, const Snapshot *s, const BarView *v);
void Bar_CacheFree(BarCache *c);

#endif

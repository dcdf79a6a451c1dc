/*
 * bar.c - the heap map's cells (the rules are stated in bar.h).
 *
 * One pass over the snapshot's blocks in address order, as the cells
 * advance.  A cell gathers the pieces (runs of one kind of byte) that
 * overlap it into a few running totals and picks what to show from them;
 * a frame stores nothing per block, whatever the number of blocks.
 *
 * Two paths feed a cell:
 *   - a unit (a block, or the tables before and after the blocks) that
 *     crosses the cell's edges, or a view's, is cut into its segments,
 *     clipped, and each piece goes through add_piece(): the general path,
 *     at most two units a cell;
 *   - a block that lies wholly inside the cell adds its pieces directly
 *     (fast_split, fast_glyph): no clipping, and only the totals that its
 *     mode can still use.  On a heap of 1e6 blocks nearly every block is
 *     such a block.
 * What a whole block can change, and why the fast path may skip the rest:
 *   - its pieces never merge with a neighbour's (another block: merging
 *     needs one block), so each is one piece, in address order;
 *   - the two top pieces (split mode): a later piece ranks above an earlier
 *     one only with a higher class or strictly more bytes, so one key
 *     (class, bytes) compared with the second piece's decides, and a block
 *     whose largest piece does not beat it changes nothing;
 *   - the glyph (no split): a used block's header makes the cell '|' unless
 *     an alarm is there, so the per-kind byte totals are dead from then on;
 *   - the owner: the block's bytes in the cell are its size.
 * A free block no cell shows (glyph modes) takes the cell holding most of
 * it; the fix is made as soon as the block's last cell is done (FreeVis),
 * instead of in a pass over every block at the end.
 *
 * The view's decoration (selection, rover, touched blocks, marker row) is
 * a second step over the cells, decorate_cell(): Bar_LayoutCached keeps the
 * blocks' cells of the last snapshot and decorates them again, so a frame
 * whose heap did not change (a live program's heap is re-read a few times
 * a second, drawn twenty) costs O(cells), not O(blocks in view).
 *
 * bar_ref.c is the same rules a segment at a time, with nothing of this;
 * tests/test_layout.c compares the two cell by cell on random heaps, and
 * the kept cells with fresh ones.
 */
#include "bar.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

size_t Bar_Cells(const BarView *v)
{
    if (v->bpc == 0 || v->end <= v->start)
        return 0;
    return (v->end - v->start + v->bpc - 1) / v->bpc;
}

size_t Bar_Scale(size_t bytes, size_t cells)
{
    size_t b = cells ? bytes / cells + (bytes % cells != 0) : bytes;
    size_t p = 1;
    while (p < b && p <= SIZE_MAX / 2)
        p *= 2;
    return p;
}

/* ---- pieces and a cell's totals ------------------------------------------------ */

typedef struct Piece {
    Kind kind;
    size_t start, len;
    long block;      /* index in the snapshot, -1 for tables */
    size_t bstart;   /* where that block begins (start for tables) */
} Piece;

/* The rank of a piece among the cell's pieces: an overflowed guard, then
 * free, then bytes; among equals the earlier piece (pieces come in address
 * order, so a later one needs a strictly higher key).  0: no piece. */
#define CLASS_SHIFT 62
static uint64_t rank_key(Kind k, size_t len)
{
    uint64_t klass = k == K_ALARM ? 2u : k == K_FREE ? 1u : 0u;
    return klass << CLASS_SHIFT | (uint64_t)len;
}

/* The free block that goes on past the cell being built (at most one),
 * for the rule that every free block shows (glyph modes). */
typedef struct FreeVis {
    long block;      /* -1: none */
    size_t end;      /* where the block ends */
    size_t bytes;    /* its most bytes in one cell so far */
    size_t cell;     /* the first cell that holds that many */
    bool shown;      /* some cell shows it */
} FreeVis;

typedef struct Acc {
    unsigned npieces;
    Piece cur;             /* the piece being built */
    bool have_cur;
    Piece top[2];          /* the two highest-ranked pieces */
    uint64_t topkey[2];    /* their rank_key; 0 while missing */
    size_t kbytes[K_COUNT];
    unsigned korder[K_COUNT];
    unsigned nkinds;
    bool header, alarm;
    bool ovf;              /* holds a byte of a block whose guard is broken */
    long owner, curblock;
    size_t owner_bytes, curbytes;
    long freeblk;          /* the free block with most bytes here */
    size_t freebytes;
    /* free blocks met here (glyph modes) */
    unsigned nwhole;       /* ... that begin and end here (in the view) */
    FreeVis next;          /* ... that begins here and goes on */
} Acc;

static void top_offer(Acc *a, const Piece *p)
{
    uint64_t key = rank_key(p->kind, p->len);
    if (key > a->topkey[0]) {
        a->top[1] = a->top[0];
        a->topkey[1] = a->topkey[0];
        a->top[0] = *p;
        a->topkey[0] = key;
    } else if (key > a->topkey[1]) {
        a->top[1] = *p;
        a->topkey[1] = key;
    }
}

static void finish_piece(Acc *a)
{
    if (!a->have_cur)
        return;
    Piece *p = &a->cur;
    a->npieces++;
    top_offer(a, p);
    if (p->kind == K_FREE && p->len > a->freebytes) {
        a->freebytes = p->len;
        a->freeblk = p->block;
    }
    a->have_cur = false;
}

static void add_kbytes(Acc *a, Kind k, size_t len)
{
    if (a->kbytes[k] == 0)
        a->korder[k] = a->nkinds++;
    a->kbytes[k] += len;
}

/* A free block's bytes in cell c (glyph modes); `more`: it has bytes in
 * the next cell too. */
static void free_seen(Acc *a, FreeVis *open, long block, size_t end, size_t len, size_t c,
                      bool more)
{
    if (block == open->block) {
        if (len > open->bytes) {
            open->bytes = len;
            open->cell = c;
        }
    } else if (more) {
        a->next = (FreeVis){block, end, len, c, false};
    } else {
        a->nwhole++;
    }
}

/* The general path: one clipped piece. */
static void add_piece(Acc *a, Kind k, size_t start, size_t len, long block, size_t bstart)
{
    if (a->have_cur && a->cur.kind == k && a->cur.block == block &&
        a->cur.start + a->cur.len == start) {
        a->cur.len += len;
    } else {
        finish_piece(a);
        a->cur = (Piece){k, start, len, block, bstart};
        a->have_cur = true;
    }
    add_kbytes(a, k, len);
    if (k == K_HEADER)
        a->header = true;
    if (k == K_ALARM)
        a->alarm = true;
    if (block != a->curblock) {
        a->curblock = block;
        a->curbytes = 0;
    }
    a->curbytes += len;
    if (block >= 0 && a->curbytes > a->owner_bytes) {
        a->owner_bytes = a->curbytes;
        a->owner = block;
    }
}

/* ---- units: the tables and the blocks, in address order ------------------------- */

typedef struct Seg {
    Kind kind;
    size_t start, end;
} Seg;

typedef struct Walk {
    const Snapshot *s;
    size_t n;        /* blocks */
    long u;          /* -1 the leading table, 0..n-1 a block, n the trailing table */
    bool prev_used;  /* the block before u is used */
    bool prev_free;  /* the block before u is a free block (a table, a slot
                        and a run are not) */
    int shade;       /* of the last used block */
} Walk;

static bool unit_bounds(const Walk *w, long u, size_t *start, size_t *end)
{
    const MemRegion *r = &w->s->region;
    if (u < 0) {
        *start = 0;
        *end = r->heap_begin;
        return r->heap_begin > 0;
    }
    if ((size_t)u < w->n) {
        const SnapBlock *b = &w->s->blocks[u];
        *start = b->offset;
        *end = (size_t)b->offset + b->size;
        return true;
    }
    *start = r->heap_end;
    *end = r->size;
    return (size_t)u == w->n && r->heap_end < r->size;
}

/* The shade block u would take if it is used. */
static int shade_of(const Walk *w)
{
    return w->prev_used ? !w->shade : 0;
}

static void walk_step(Walk *w)
{
    if (w->u >= 0 && (size_t)w->u < w->n) {
        const SnapBlock *blk = &w->s->blocks[w->u];
        bool used = blk->used;
        if (used)
            w->shade = shade_of(w);
        w->prev_used = used;
        w->prev_free = !used && !Snap_InRun(blk);
    }
    w->u++;
}

/* Positions w on the first unit that ends after `start`. */
static void walk_begin(Walk *w, const Snapshot *s, size_t start)
{
    memset(w, 0, sizeof *w);
    w->s = s;
    w->n = s->nblocks;
    w->u = -1;
    if (start >= s->region.heap_begin && w->n > 0) {
        /* the first block that ends after start */
        size_t lo = 0, hi = w->n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if ((size_t)s->blocks[mid].offset + s->blocks[mid].size <= start)
                lo = mid + 1;
            else
                hi = mid;
        }
        w->u = (long)lo;
        w->prev_free = lo > 0 && !s->blocks[lo - 1].used && !Snap_InRun(&s->blocks[lo - 1]);
        if (lo > 0 && s->blocks[lo - 1].used) {
            /* the shade alternates along a run of used blocks */
            size_t i = lo - 1, run = 0;
            while (i > 0 && s->blocks[i - 1].used)
                i--, run++;
            w->prev_used = true;
            w->shade = (int)(run % 2);
        }
    }
    size_t a, b;
    while (w->u <= (long)w->n && (!unit_bounds(w, w->u, &a, &b) || b <= start))
        walk_step(w);
}

/* Unit u cut into its non-empty segments, in address order. */
static unsigned unit_segments(const Walk *w, Seg *g, bool *ovf)
{
    size_t a, b;
    *ovf = false;
    if (!unit_bounds(w, w->u, &a, &b) || a >= b)
        return 0;
    if (w->u < 0 || (size_t)w->u >= w->n) {
        g[0] = (Seg){K_TABLE, a, b};
        return 1;
    }
    const SnapBlock *blk = &w->s->blocks[w->u];
    if (!blk->used) {
        if (w->prev_free && blk->header && blk->header < blk->size) {
            /* free after free: its header is the boundary (bar.h) */
            g[0] = (Seg){K_HEADER, a, a + blk->header};
            g[1] = (Seg){K_FREE, a + blk->header, b};
            return 2;
        }
        g[0] = (Seg){Snap_IsSlot(blk) ? K_SLOT_FREE : K_FREE, a, b};
        return 1;
    }
    *ovf = blk->overflowed;
    size_t h = a + blk->header, obj = h + blk->object;
    bool slot = Snap_IsSlot(blk);
    Seg all[3] = {{Snap_IsRunTable(blk) ? K_RUN : K_HEADER, a, h},
                  {slot ? (shade_of(w) ? K_SLOT_B : K_SLOT_A)
                        : (shade_of(w) ? K_OBJECT_B : K_OBJECT_A),
                   h, obj},
                  {blk->overflowed ? K_ALARM : K_PADDING, obj, b}};
    unsigned n = 0;
    for (unsigned i = 0; i < 3; i++)
        if (all[i].start < all[i].end)
            g[n++] = all[i];
    return n;
}

/* The general path: unit w->u clipped to the cell [a, b) of index c. */
static void add_unit(Acc *acc, const Walk *w, FreeVis *open, bool glyphs, size_t a, size_t b,
                     size_t c, size_t view_end)
{
    Seg g[3];
    bool ovf;
    unsigned n = unit_segments(w, g, &ovf);
    bool table = w->u < 0 || (size_t)w->u >= w->n;
    long block = table ? -1 : w->u;
    size_t bstart, bend; /* where the unit begins */
    unit_bounds(w, w->u, &bstart, &bend);
    for (unsigned i = 0; i < n; i++) {
        size_t lo = g[i].start > a ? g[i].start : a;
        size_t hi = g[i].end < b ? g[i].end : b;
        if (lo >= hi)
            continue;
        add_piece(acc, g[i].kind, lo, hi - lo, block, bstart);
        acc->ovf |= ovf;
        if (glyphs && g[i].kind == K_FREE)
            free_seen(acc, open, block, g[i].end, hi - lo, c, g[i].end > b && b < view_end);
    }
}

/* ---- the fast path: whole blocks inside one cell --------------------------------- */

/* What both fast paths hand back: the largest block met (the cell's owner,
 * if one beat the owner so far), the last block added, and where the walk
 * goes on. */
static void fast_done(Acc *acc, Walk *w, size_t u, size_t first, size_t owner,
                      size_t owner_bytes, unsigned prev_used, unsigned shade)
{
    if (u > first) /* a free slot is no free block: no boundary after it */
        w->prev_free = !w->s->blocks[u - 1].used && !Snap_InRun(&w->s->blocks[u - 1]);
    if (owner != SIZE_MAX) {
        acc->owner = (long)owner;
        acc->owner_bytes = owner_bytes;
    }
    if (u > first) {
        acc->curblock = (long)(u - 1);
        acc->curbytes = w->s->blocks[u - 1].size;
    }
    w->u = (long)u;
    w->prev_used = prev_used != 0;
    w->shade = (int)shade;
}

/* Split mode (UTF-8 with colour): pieces, the two top pieces, the owner and
 * the overflow mark; the pieces of runs too (their kinds, and a free slot's
 * rank, are those of unit_segments).  w->u is a block that begins in the cell; stops at the
 * first block that does not end in it (by `b`).  Used and free blocks mix
 * at random, so the loop computes both cases without branching on them; a
 * block goes to top_offer only when one of its pieces ranks among the two. */
static void fast_split(Acc *acc, Walk *w, size_t b)
{
    const SnapBlock *blocks = w->s->blocks;
    size_t u = (size_t)w->u, first = u, n = w->n;
    unsigned prev_used = w->prev_used, shade = (unsigned)w->shade;
    unsigned npieces = acc->npieces;
    bool ovf = acc->ovf, prev_free = w->prev_free;
    size_t owner = SIZE_MAX, owner_bytes = acc->owner_bytes;
    for (; u < n; u++) {
        const SnapBlock *blk = &blocks[u];
        size_t o = blk->offset, size = blk->size;
        if (o + size > b || size == 0)
            break;
        /* the owner: a whole block's bytes here are its size */
        if (size > owner_bytes) { /* rare after the first few */
            owner = u;
            owner_bytes = size;
        }
        unsigned used = blk->used;
        size_t h = blk->header, obj = blk->object, pad = size - h - obj;
        bool boundary = !used && prev_free && h && h < size; /* free after free */
        shade = used ? prev_used & (shade ^ 1u) : shade;
        prev_used = used;
        prev_free = !used && !Snap_InRun(blk); /* a free slot is no free block */
        npieces += used ? (unsigned)(h > 0) + (obj > 0) + (pad > 0) : 1u + boundary;
        ovf |= blk->overflowed;
        /* a slot of a run: a free slot ranks by its bytes, not as free */
        bool slot = Snap_IsSlot(blk);
        Kind fk = slot ? K_SLOT_FREE : K_FREE;
        /* the block's best piece: free, or the largest of a used block's
         * (its padding is an alarm when the guard is broken) */
        size_t most = h > obj ? h : obj;
        uint64_t padkey = rank_key(blk->overflowed ? K_ALARM : K_PADDING, pad);
        uint64_t best = padkey > most ? padkey : most;
        if (!used)
            best = rank_key(fk, size);
        if (boundary) {
            best = rank_key(K_FREE, size - h);
            best = best > h ? best : h;
        }
        if (best <= acc->topkey[1])
            continue;
        if (boundary) {
            Piece hp = {K_HEADER, o, h, (long)u, o}, fp = {K_FREE, o + h, size - h, (long)u, o};
            top_offer(acc, &hp);
            top_offer(acc, &fp);
            continue;
        }
        if (!used) {
            Piece p = {fk, o, size, (long)u, o};
            top_offer(acc, &p);
            continue;
        }
        Kind ok = slot ? (shade ? K_SLOT_B : K_SLOT_A) : (shade ? K_OBJECT_B : K_OBJECT_A);
        Piece p[3] = {{Snap_IsRunTable(blk) ? K_RUN : K_HEADER, o, h, (long)u, o},
                      {ok, o + h, obj, (long)u, o},
                      {blk->overflowed ? K_ALARM : K_PADDING, o + h + obj, pad, (long)u, o}};
        for (unsigned k = 0; k < 3; k++)
            if (p[k].len)
                top_offer(acc, &p[k]);
    }
    acc->npieces = npieces;
    acc->ovf = ovf;
    fast_done(acc, w, u, first, owner, owner_bytes, prev_used, shade);
}

/* Glyph modes: pieces, the header and alarm flags, the owner, the overflow
 * mark, the byte totals, the largest free piece and the free blocks met.
 * Like fast_split.  A used block's header decides the glyph (unless an
 * alarm does), so used blocks add no byte totals; the pieces of a run (its
 * table, slots and tail: no block header among them) and free blocks add
 * theirs, in address order (the order of kinds breaks ties). */
static void fast_glyph(Acc *acc, Walk *w, size_t b)
{
    const SnapBlock *blocks = w->s->blocks;
    size_t u = (size_t)w->u, first = u, n = w->n;
    unsigned prev_used = w->prev_used, shade = (unsigned)w->shade;
    unsigned npieces = acc->npieces, nwhole = acc->nwhole;
    bool ovf = acc->ovf, alarm = acc->alarm, header = acc->header, prev_free = w->prev_free;
    size_t owner = SIZE_MAX, owner_bytes = acc->owner_bytes;
    for (; u < n; u++) {
        const SnapBlock *blk = &blocks[u];
        size_t o = blk->offset, size = blk->size;
        if (o + size > b || size == 0)
            break;
        if (size > owner_bytes) { /* rare after the first few */
            owner = u;
            owner_bytes = size;
        }
        unsigned used = blk->used;
        size_t h = blk->header, obj = blk->object, pad = size - h - obj;
        bool in_run = Snap_InRun(blk);
        bool boundary = !used && prev_free && h && h < size;
        shade = used ? prev_used & (shade ^ 1u) : shade;
        prev_used = used;
        prev_free = !used && !in_run;
        ovf |= blk->overflowed;
        if (in_run) { /* its kinds as unit_segments cuts it */
            if (!used) {
                add_kbytes(acc, K_SLOT_FREE, size);
                npieces++;
                continue;
            }
            if (h)
                add_kbytes(acc, K_RUN, h);
            if (obj)
                add_kbytes(acc, shade ? K_SLOT_B : K_SLOT_A, obj);
            if (pad)
                add_kbytes(acc, blk->overflowed ? K_ALARM : K_PADDING, pad);
            alarm |= blk->overflowed && pad > 0;
            npieces += (unsigned)(h > 0) + (unsigned)(obj > 0) + (unsigned)(pad > 0);
            continue;
        }
        npieces += used ? 1u + (unsigned)(obj > 0) + (unsigned)(pad > 0) : 1u + boundary;
        header |= used || boundary;
        alarm |= blk->overflowed && pad > 0;
        if (used)
            continue;
        size_t fsize = boundary ? size - h : size;
        add_kbytes(acc, K_FREE, fsize);
        nwhole++;
        if (fsize > acc->freebytes) {
            acc->freebytes = fsize;
            acc->freeblk = (long)u;
        }
    }
    acc->npieces = npieces;
    acc->nwhole = nwhole;
    acc->ovf = ovf;
    acc->alarm = alarm;
    acc->header = header;
    fast_done(acc, w, u, first, owner, owner_bytes, prev_used, shade);
}

/* ---- cells ----------------------------------------------------------------------- */

static bool overlaps(size_t a, size_t b, size_t off, size_t size)
{
    return size && off < b && a < off + size;
}

static TouchKind touched(const BarView *v, size_t a, size_t b)
{
    for (unsigned i = 0; i < v->ntouch; i++)
        if (overlaps(a, b, v->touch[i].offset, v->touch[i].size))
            return v->touch[i].kind;
    return TOUCH_NONE;
}

static void set_kind(BarCell *c, Kind k, const BarView *v)
{
    c->left = c->right = (uint8_t)k;
    c->eighths = 8;
    c->ch = Theme_Glyph(k, v->glyphs);
}

/* A free block that no cell shows takes the cell holding most of it. */
static void show_free(BarCell *cell, const BarView *v)
{
    if (cell->left != K_ALARM)
        set_kind(cell, K_FREE, v);
}

/* What the view adds to a cell over the blocks: the selection, the rover,
 * the last operation's blocks, and the marker row.  It resets what it sets,
 * so that kept cells can be decorated again (Bar_LayoutCached). */
typedef struct Sel {
    size_t off, size; /* the selected block; size 0: none */
} Sel;

static Sel selection(const Snapshot *s, const BarView *v)
{
    Sel sel = {SIZE_MAX, 0};
    if (v->selected != SIZE_MAX) {
        long bi = Snapshot_BlockAt(s, v->selected);
        if (bi >= 0) {
            sel.off = s->blocks[bi].offset;
            sel.size = s->blocks[bi].size;
        }
    }
    return sel;
}

static void decorate_cell(const BarView *v, const Sel *sel, BarCell *cell, size_t a, size_t b,
                          size_t split_at)
{
    cell->flags &= BAR_MIXED | BAR_OVERFLOW;
    if (sel->size && overlaps(a, b, sel->off, sel->size))
        cell->flags |= BAR_SELECTED;
    if (v->rover != SIZE_MAX && v->rover >= a && v->rover < b)
        cell->flags |= BAR_ROVER;
    TouchKind tl = touched(v, a, split_at), tr = touched(v, split_at, b);
    if (tl != TOUCH_NONE)
        cell->flags |= BAR_TOUCH_L;
    if (tr != TOUCH_NONE || (cell->eighths == 8 && tl != TOUCH_NONE))
        cell->flags |= BAR_TOUCH_R;
    if (cell->eighths == 8 && tr != TOUCH_NONE)
        cell->flags |= BAR_TOUCH_L;
    cell->touch = (uint8_t)(tl != TOUCH_NONE ? tl : tr);
    if (cell->flags & BAR_ROVER)
        cell->mark = Theme_MarkRover(v->glyphs);
    else if (cell->flags & BAR_OVERFLOW)
        cell->mark = '!';
    else if (cell->flags & BAR_SELECTED)
        cell->mark = Theme_MarkSelect(v->glyphs);
    else if (v->ntouch && overlaps(a, b, v->touch[0].offset, v->touch[0].size))
        cell->mark = Theme_MarkTouch(v->glyphs);
    else
        cell->mark = ' ';
}

/* The cells as the blocks make them (glyph, parts, owner, BAR_MIXED,
 * BAR_OVERFLOW), each decorated at once when sel is given; else split[c]
 * gets where cell c's right part begins (its end when it is not split),
 * for decorating it later. */
static void layout_blocks(const Snapshot *s, const BarView *v, BarCell *out, size_t *split,
                          const Sel *sel)
{
    size_t ncells = Bar_Cells(v);
    if (ncells == 0)
        return;
    Walk w;
    walk_begin(&w, s, v->start);
    bool split_mode = v->glyphs.utf8 && v->glyphs.colour;
    FreeVis open = {-1, 0, 0, 0, false};

    for (size_t c = 0; c < ncells; c++) {
        size_t a = v->start + c * v->bpc;
        size_t b = a + v->bpc;
        if (b > v->end)
            b = v->end;
        Acc acc;
        memset(&acc, 0, sizeof acc);
        acc.owner = -1;
        acc.curblock = -2;
        acc.freeblk = -1;
        acc.next.block = -1;
        size_t ua, ub;
        while (w.u <= (long)w.n) {
            if (!unit_bounds(&w, w.u, &ua, &ub) || ua >= ub) {
                walk_step(&w);
                continue;
            }
            if (ua >= b)
                break;
            bool is_block = w.u >= 0 && (size_t)w.u < w.n;
            if (is_block && ua >= a && ub <= b) {
                long before = w.u;
                finish_piece(&acc); /* a whole block never merges with it */
                if (split_mode)
                    fast_split(&acc, &w, b);
                else
                    fast_glyph(&acc, &w, b);
                if (w.u != before)
                    continue;
            }
            add_unit(&acc, &w, &open, !split_mode, a, b, c, v->end);
            if (ub > b)
                break; /* it goes on in the next cell */
            walk_step(&w);
        }
        finish_piece(&acc);

        BarCell *cell = &out[c];
        memset(cell, 0, sizeof *cell);
        cell->owner = (int32_t)acc.owner;
        size_t split_at = b; /* where the right part begins */
        Kind k = K_NONE;
        if (acc.npieces == 0) {
            cell->left = cell->right = K_NONE;
            cell->eighths = 8;
            cell->ch = ' ';
        } else if (split_mode) {
            if (acc.npieces == 1) {
                set_kind(cell, acc.top[0].kind, v);
            } else {
                const Piece *l = &acc.top[0], *r = &acc.top[1];
                if (r->start < l->start) {
                    const Piece *t = l;
                    l = r;
                    r = t;
                }
                split_at = r->block != l->block && r->bstart > a ? r->bstart : r->start;
                size_t len = b - a;
                size_t e = ((split_at - a) * 16 + len) / (2 * len); /* nearest eighth */
                if (e < 1)
                    e = 1;
                if (e > 7)
                    e = 7;
                cell->left = (uint8_t)l->kind;
                cell->right = (uint8_t)r->kind;
                /* two free blocks side by side: the later one's header
                 * colour marks where it begins (bar.h) */
                if (l->kind == K_FREE && r->kind == K_FREE && r->block != l->block)
                    cell->right = K_HEADER;
                cell->eighths = (uint8_t)e;
                cell->ch = 0x2590u - (uint32_t)e;
                if (acc.npieces >= 3)
                    cell->flags |= BAR_MIXED;
            }
        } else {
            if (acc.alarm) {
                k = K_ALARM;
            } else if (acc.header) {
                k = K_HEADER;
            } else {
                for (unsigned q = 0; q < K_COUNT; q++) {
                    if (!acc.kbytes[q])
                        continue;
                    if (k == K_NONE || acc.kbytes[q] > acc.kbytes[k] ||
                        (acc.kbytes[q] == acc.kbytes[k] && acc.korder[q] < acc.korder[k]))
                        k = (Kind)q;
                }
            }
            set_kind(cell, k, v);
            if (acc.npieces >= 3)
                cell->flags |= BAR_MIXED;
        }

        if (acc.ovf)
            cell->flags |= BAR_OVERFLOW;
        if (sel)
            decorate_cell(v, sel, cell, a, b, split_at);
        else
            split[c] = split_at;

        if (split_mode)
            continue;
        /* every free block shows: the cell shows the free block with most
         * bytes here when its glyph is free; one that ends here unshown
         * takes the cell that held most of it (this one, for those that
         * began here) */
        long shown = k == K_FREE ? acc.freeblk : -1;
        long carried = open.block;
        if (carried >= 0) {
            if (carried == shown)
                open.shown = true;
            if (!(open.end > b && b < v->end)) {
                if (!open.shown && open.bytes)
                    show_free(&out[open.cell], v);
                open.block = -1;
            }
        }
        bool shown_whole = shown >= 0 && shown != carried && shown != acc.next.block;
        if (acc.nwhole > (shown_whole ? 1u : 0u))
            show_free(cell, v);
        if (acc.next.block >= 0) {
            if (acc.next.block == shown)
                acc.next.shown = true;
            open = acc.next;
        }
    }
    if (open.block >= 0 && !open.shown && open.bytes)
        show_free(&out[open.cell], v);
}

void Bar_Layout(const Snapshot *s, const BarView *v, BarCell *out)
{
    Sel sel = selection(s, v);
    layout_blocks(s, v, out, NULL, &sel);
}

/* ---- the cells kept from frame to frame ---------------------------------------- */

/* Whether c holds the blocks' cells of s in view v: the same walk of the
 * heap (Snapshot.serial, with the arrays and the region it filled) and the
 * same stretch, scale and glyphs. */
static bool cache_holds(const BarCache *c, const Snapshot *s, const BarView *v)
{
    return c->serial != 0 && c->serial == s->serial && c->blocks == s->blocks &&
           c->nblocks == s->nblocks && c->size == s->region.size &&
           c->heap_begin == s->region.heap_begin && c->heap_end == s->region.heap_end &&
           c->start == v->start && c->end == v->end && c->bpc == v->bpc &&
           c->glyphs.utf8 == v->glyphs.utf8 && c->glyphs.colour == v->glyphs.colour;
}

const BarCell *Bar_LayoutCached(BarCache *c, const Snapshot *s, const BarView *v)
{
    size_t n = Bar_Cells(v);
    Sel sel = selection(s, v);
    if (cache_holds(c, s, v)) {
        c->hits++;
    } else {
        c->misses++;
        c->serial = 0;
        if (n > c->cap) {
            BarCell *cells = realloc(c->cells, n * sizeof *cells);
            if (cells)
                c->cells = cells;
            size_t *split = realloc(c->split, n * sizeof *split);
            if (split)
                c->split = split;
            if (!cells || !split)
                return NULL;
            c->cap = n;
        }
        if (n == 0)
            return c->cells;
        layout_blocks(s, v, c->cells, c->split, NULL);
        c->serial = s->serial;
        c->blocks = s->blocks;
        c->nblocks = s->nblocks;
        c->size = s->region.size;
        c->heap_begin = s->region.heap_begin;
        c->heap_end = s->region.heap_end;
        c->start = v->start;
        c->end = v->end;
        c->bpc = v->bpc;
        c->glyphs = v->glyphs;
    }
    for (size_t i = 0; i < n; i++) {
        size_t a = v->start + i * v->bpc, b = a + v->bpc < v->end ? a + v->bpc : v->end;
        decorate_cell(v, &sel, &c->cells[i], a, b, c->split[i]);
    }
    return c->cells;
}

void Bar_CacheFree(BarCache *c)
{
    free(c->cells);
    free(c->split);
    memset(c, 0, sizeof *c);
}

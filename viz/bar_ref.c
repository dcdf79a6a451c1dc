/*
 * bar_ref.c - the straightforward heap map: the rules of bar.h, a segment
 * (one kind of byte) at a time, every piece through the same accumulators.
 * Not part of heapviz: it is the reference that tests/test_layout.c holds
 * Bar_Layout (bar.c, with its fast path for cells of many blocks) to, cell
 * by cell, on random heaps in every glyph mode.  Keep it simple and slow.
 */
#include "bar_ref.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct Seg {
    Kind kind;
    size_t start, end;
    long block;      /* index in the snapshot, -1 for tables */
    size_t bstart;   /* where that block begins (start for tables) */
    bool ovf;        /* the block's guard is broken */
} Seg;

/* The segments in address order, made one at a time as the cells advance:
 * a frame stores none of them, whatever the number of blocks. */
typedef struct SegIt {
    const Snapshot *s;
    const BarView *v;
    unsigned phase;  /* 0 leading table, 1 blocks, 2 trailing table, 3 done */
    size_t i;        /* the block */
    unsigned part;   /* of a used block: 0 header, 1 object, 2 padding;
                        of a free block after a free one: 0 header, 1 free */
    bool prev_used;
    bool prev_free;  /* the block before is free (bar.h: its boundary) */
    int shade;
} SegIt;

/* Shades alternate along a run of used blocks, starting from A after a
 * free block: the shade of block i counts the used blocks before it. */
static int shade_at(const Snapshot *s, size_t i)
{
    size_t run = 0;
    while (i > 0 && s->blocks[i - 1].used)
        i--, run++;
    return (int)(run % 2);
}

static void seg_begin(SegIt *it, const Snapshot *s, const BarView *v)
{
    memset(it, 0, sizeof *it);
    it->s = s;
    it->v = v;
    /* start at the block holding the view's first byte (a zoomed view) */
    long first = v->start > s->region.heap_begin ? Snapshot_BlockAt(s, v->start) : -1;
    if (first > 0) {
        it->phase = 1;
        it->i = (size_t)first;
        it->prev_used = s->blocks[first - 1].used;
        it->prev_free = !it->prev_used && !Snap_InRun(&s->blocks[first - 1]);
        it->shade = it->prev_used ? shade_at(s, (size_t)first - 1) : 0;
    }
}

/* The next raw segment (unclipped); false at the end of the arena. */
static bool seg_raw(SegIt *it, Seg *g)
{
    const Snapshot *s = it->s;
    const MemRegion *r = &s->region;
    for (;;) {
        switch (it->phase) {
        case 0:
            it->phase = 1;
            if (r->heap_begin > 0) {
                *g = (Seg){K_TABLE, 0, r->heap_begin, -1, 0, false};
                return true;
            }
            continue;
        case 1: {
            if (it->i >= s->nblocks) {
                it->phase = 2;
                continue;
            }
            const SnapBlock *b = &s->blocks[it->i];
            size_t o = b->offset, h = o + b->header, obj = h + b->object;
            long bi = (long)it->i;
            if (!b->used) {
                if (it->part == 0 && it->prev_free && b->header && b->header < b->size) {
                    it->part = 1;
                    *g = (Seg){K_HEADER, o, h, bi, o, false};
                    return true;
                }
                *g = (Seg){Snap_IsSlot(b) ? K_SLOT_FREE : K_FREE, it->part ? h : o, o + b->size,
                           bi, o, false};
                it->part = 0;
                it->prev_used = false;
                it->prev_free = !Snap_InRun(b); /* a free slot is no free block */
                it->i++;
                return true;
            }
            if (it->part == 0)
                it->shade = it->prev_used ? !it->shade : 0;
            bool ovf = b->overflowed;
            unsigned part = it->part++;
            if (part == 2) {
                it->part = 0;
                it->prev_used = true;
                it->prev_free = false;
                it->i++;
            }
            bool slot = Snap_IsSlot(b);
            if (part == 0)
                *g = (Seg){Snap_IsRunTable(b) ? K_RUN : K_HEADER, o, h, bi, o, ovf};
            else if (part == 1 && slot)
                *g = (Seg){it->shade ? K_SLOT_B : K_SLOT_A, h, obj, bi, o, ovf};
            else if (part == 1)
                *g = (Seg){it->shade ? K_OBJECT_B : K_OBJECT_A, h, obj, bi, o, ovf};
            else
                *g = (Seg){ovf ? K_ALARM : K_PADDING, obj, o + b->size, bi, o, ovf};
            if (g->start < g->end)
                return true;
            continue;
        }
        case 2:
            it->phase = 3;
            if (r->heap_end < r->size) {
                *g = (Seg){K_TABLE, r->heap_end, r->size, -1, r->heap_end, false};
                return true;
            }
            continue;
        default:
            return false;
        }
    }
}

/* The next segment that overlaps the view, clipped to it. */
static bool seg_next(SegIt *it, Seg *g)
{
    const BarView *v = it->v;
    while (seg_raw(it, g)) {
        if (g->end <= v->start)
            continue;
        if (g->start >= v->end)
            return false;
        if (g->start < v->start)
            g->start = v->start;
        if (g->end > v->end)
            g->end = v->end;
        return true;
    }
    return false;
}

typedef struct Piece {
    Kind kind;
    size_t start, len;
    long block;
    size_t bstart;
} Piece;

typedef struct Acc {
    unsigned npieces;
    Piece cur;             /* the piece being built */
    bool have_cur;
    Piece top[2];          /* the two highest-ranked pieces */
    unsigned ntop;
    size_t kbytes[K_COUNT];
    unsigned korder[K_COUNT];
    unsigned nkinds;
    bool header, alarm;
    bool ovf;              /* holds a byte of a block whose guard is broken */
    long owner, curblock;
    size_t owner_bytes, curbytes;
    long freeblk;          /* the free block with most bytes here */
    size_t freebytes;
    size_t cell;           /* this cell's index */
} Acc;

static int klass(Kind k) { return k == K_ALARM ? 2 : k == K_FREE ? 1 : 0; }

/* true when p ranks above q: alarm, then free, then bytes, then address */
static bool above(const Piece *p, const Piece *q)
{
    if (klass(p->kind) != klass(q->kind))
        return klass(p->kind) > klass(q->kind);
    if (p->len != q->len)
        return p->len > q->len;
    return p->start < q->start;
}

typedef struct FreeBest {
    size_t bytes;  /* most bytes of this free block in one cell */
    size_t cell;
    bool shown;
} FreeBest;

static void finish_piece(Acc *a, FreeBest *fb)
{
    if (!a->have_cur)
        return;
    Piece *p = &a->cur;
    a->npieces++;
    if (a->ntop < 2) {
        a->top[a->ntop++] = *p;
        if (a->ntop == 2 && above(&a->top[1], &a->top[0])) {
            Piece t = a->top[0];
            a->top[0] = a->top[1];
            a->top[1] = t;
        }
    } else if (above(p, &a->top[0])) {
        a->top[1] = a->top[0];
        a->top[0] = *p;
    } else if (above(p, &a->top[1])) {
        a->top[1] = *p;
    }
    if (p->kind == K_FREE && p->len > a->freebytes) {
        a->freebytes = p->len;
        a->freeblk = p->block;
    }
    if (fb && p->kind == K_FREE && p->block >= 0 && p->len > fb[p->block].bytes) {
        fb[p->block].bytes = p->len;
        fb[p->block].cell = a->cell;
    }
    a->have_cur = false;
}

static void add_piece(Acc *a, Kind k, size_t start, size_t len, long block, size_t bstart,
                      FreeBest *fb)
{
    if (a->have_cur && a->cur.kind == k && a->cur.block == block &&
        a->cur.start + a->cur.len == start) {
        a->cur.len += len;
    } else {
        finish_piece(a, fb);
        a->cur = (Piece){k, start, len, block, bstart};
        a->have_cur = true;
    }
    if (a->kbytes[k] == 0)
        a->korder[k] = a->nkinds++;
    a->kbytes[k] += len;
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

void Bar_LayoutReference(const Snapshot *s, const BarView *v, BarCell *out)
{
    size_t ncells = Bar_Cells(v);
    if (ncells == 0)
        return;
    SegIt it;
    seg_begin(&it, s, v);
    Seg g;
    bool have = seg_next(&it, &g);
    bool split_mode = v->glyphs.utf8 && v->glyphs.colour;
    FreeBest *fb = split_mode ? NULL : calloc(s->nblocks ? s->nblocks : 1, sizeof *fb);

    size_t sel_off = SIZE_MAX, sel_size = 0;
    if (v->selected != SIZE_MAX) {
        long bi = Snapshot_BlockAt(s, v->selected);
        if (bi >= 0) {
            sel_off = s->blocks[bi].offset;
            sel_size = s->blocks[bi].size;
        }
    }

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
        acc.cell = c;
        while (have && g.start < b) {
            size_t lo = g.start > a ? g.start : a;
            size_t hi = g.end < b ? g.end : b;
            if (lo < hi) {
                add_piece(&acc, g.kind, lo, hi - lo, g.block, g.bstart, fb);
                acc.ovf |= g.ovf;
            }
            if (g.end > b)
                break; /* it goes on in the next cell */
            have = seg_next(&it, &g);
        }
        finish_piece(&acc, fb);

        BarCell *cell = &out[c];
        memset(cell, 0, sizeof *cell);
        cell->owner = (int32_t)acc.owner;
        size_t split_at = b; /* where the right part begins */
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
            Kind k;
            if (acc.alarm) {
                k = K_ALARM;
            } else if (acc.header) {
                k = K_HEADER;
            } else {
                k = K_NONE;
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
            if (fb && acc.freeblk >= 0 && k == K_FREE)
                fb[acc.freeblk].shown = true;
        }

        if (sel_size && overlaps(a, b, sel_off, sel_size))
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
        if (acc.ovf)
            cell->flags |= BAR_OVERFLOW;
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

    /* a free block that no cell shows takes the cell holding most of it */
    if (fb) {
        for (size_t i = 0; i < s->nblocks; i++) {
            FreeBest *f = &fb[i];
            if (s->blocks[i].used || f->shown || f->bytes == 0)
                continue;
            BarCell *cell = &out[f->cell];
            if (cell->left == K_ALARM)
                continue;
            set_kind(cell, K_FREE, v);
            f->shown = true;
        }
    }
    free(fb);
}

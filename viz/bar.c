/*
 * bar.c - the heap map's cells (the rules are stated in bar.h).
 *
 * The walk is cut into segments (one kind of byte each, in address order),
 * then each cell gathers the pieces of the segments it overlaps and picks
 * what to show from a few running totals, so a cell that holds a thousand
 * blocks costs no more memory than one that holds one.
 */
#include "bar.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct Seg {
    Kind kind;
    size_t start, end;
    long block;      /* index in the snapshot, -1 for tables */
    size_t bstart;   /* where that block begins (start for tables) */
} Seg;

typedef struct Segs {
    Seg *v;
    size_t n, cap;
} Segs;

static void seg_add(Segs *s, const BarView *view, Kind k, size_t a, size_t b, long block,
                    size_t bstart)
{
    if (a >= b || b <= view->start || a >= view->end)
        return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        Seg *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = (Seg){k, a < view->start ? view->start : a, b > view->end ? view->end : b,
                         block, bstart};
}

static void segments(const Snapshot *s, const BarView *v, Segs *out)
{
    const MemRegion *r = &s->region;
    seg_add(out, v, K_TABLE, 0, r->heap_begin, -1, 0);
    bool prev_used = false;
    int shade = 0;
    for (size_t i = 0; i < s->nblocks; i++) {
        const MemBlock *b = &s->blocks[i];
        size_t o = b->offset;
        if (b->used) {
            /* shades alternate along a run of used blocks, from A after a gap */
            shade = prev_used ? !shade : 0;
            size_t h = o + b->header, obj = h + b->object;
            seg_add(out, v, K_HEADER, o, h, (long)i, o);
            seg_add(out, v, shade ? K_OBJECT_B : K_OBJECT_A, h, obj, (long)i, o);
            seg_add(out, v, b->overflowed ? K_ALARM : K_PADDING, obj, o + b->size, (long)i, o);
        } else {
            seg_add(out, v, K_FREE, o, o + b->size, (long)i, o);
        }
        prev_used = b->used;
    }
    seg_add(out, v, K_TABLE, r->heap_end, r->size, -1, r->heap_end);
}

size_t Bar_Cells(const BarView *v)
{
    if (v->bpc == 0 || v->end <= v->start)
        return 0;
    return (v->end - v->start + v->bpc - 1) / v->bpc;
}

size_t Bar_Scale(size_t bytes, size_t cells)
{
    if (cells == 0)
        return bytes ? bytes : 1;
    size_t b = bytes / cells + (bytes % cells != 0);
    if (b <= 1)
        return 1;
    if (b <= 2)
        return 2;
    if (b <= 4)
        return 4;
    return (b + 7) / 8 * 8;
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

void Bar_Layout(const Snapshot *s, const BarView *v, BarCell *out)
{
    size_t ncells = Bar_Cells(v);
    if (ncells == 0)
        return;
    Segs segs = {NULL, 0, 0};
    segments(s, v, &segs);
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

    size_t j = 0;
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
        while (j < segs.n && segs.v[j].end <= a)
            j++;
        for (size_t k = j; k < segs.n && segs.v[k].start < b; k++) {
            const Seg *g = &segs.v[k];
            size_t lo = g->start > a ? g->start : a;
            size_t hi = g->end < b ? g->end : b;
            if (lo < hi)
                add_piece(&acc, g->kind, lo, hi - lo, g->block, g->bstart, fb);
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
        if (cell->flags & BAR_ROVER)
            cell->mark = Theme_MarkRover(v->glyphs);
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
    free(segs.v);
}

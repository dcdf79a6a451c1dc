/*
 * test_levels.c - heapviz's drawing of buddy heaps and of free blocks left
 * side by side: the split-level row above the map (viz/levels.c, pure
 * layout), golden rows on real MEM_BUDDY heaps at several scales, in ASCII
 * and UTF-8, zoomed and across map rows; and the bar's boundary between two
 * adjacent free blocks (bar.h), in every glyph mode, in both layouts.
 */
#include "testlib.h"

#include "bar.h"
#include "bar_ref.h"
#include "frame.h"
#include "levels.h"
#include "model.h"
#include "testviz.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Alignas(16) unsigned char region[1 << 16];

/* A lane over a buddy heap whose block area is `grans` granules (the
 * arena: the bitmap's first word, the blocks, 8 bytes of slack). */
static Lane *lane_of(size_t grans)
{
    MemHeap *h = MemHeap_Create(region, MemHeap_ControlSize() + 8 + 16 * grans + 8, MEM_BUDDY,
                                MEM_OPT_NOLOCK);
    cr_assert_not_null(h);
    Lane *l = calloc(1, sizeof *l);
    cr_assert_not_null(l);
    l->heap = h;
    l->policy = MEM_BUDDY;
    Lane_Refresh(l);
    return l;
}

static void refresh(Lane *l) { Lane_Refresh(l); }

static void lane_free(Lane *l)
{
    free(l->snap.blocks);
    free(l);
}

static LevelCell lc[4096];

static const char *levels(const Lane *l, const BarView *v, size_t cols)
{
    static char buf[4096 * 4 + 1];
    size_t n = Bar_Cells(v), used = 0;
    cr_assert_leq(n, sizeof lc / sizeof lc[0]);
    Levels_Layout(&l->snap, v, cols, lc);
    for (size_t i = 0; i < n; i++) {
        char u[4];
        int k = Frame_EncodeUtf8(lc[i].ch, u);
        memcpy(buf + used, u, (size_t)k);
        used += (size_t)k;
    }
    buf[used] = '\0';
    return buf;
}

/* ---- the level row ----------------------------------------------------------- */

Test(levels, labels)
{
    char b[16];
    cr_assert_str_eq(Levels_Label(32, b, sizeof b), "32");
    cr_assert_str_eq(Levels_Label(512, b, sizeof b), "512");
    cr_assert_str_eq(Levels_Label(1024, b, sizeof b), "1K");
    cr_assert_str_eq(Levels_Label(64u << 10, b, sizeof b), "64K");
    cr_assert_str_eq(Levels_Label(2u << 20, b, sizeof b), "2M");
    cr_assert_str_eq(Levels_Label((size_t)4 << 30, b, sizeof b), "4G");
}

/* 1 KiB split for a 100-byte object: 128 128 256 512, at 16 bytes a cell.
 * Each block begins in the cell where the one before ends: ├ wins. */
Test(levels, a_split_block_shows_its_halves_with_their_sizes)
{
    Lane *l = lane_of(64);
    cr_assert_not_null(MemHeap_Alloc(l->heap, 100));
    refresh(l);
    size_t arena = l->snap.region.size;
    BarView v = view(0, arena, 16, 0, 0);
    cr_assert_str_eq(levels(l, &v, 200),
                     "[--128--[--128--[------256------[--------------512--------------]");
    /* the orders and the used flag under the glyphs */
    cr_assert_eq(lc[1].order, 3);
    cr_assert(lc[1].used);
    cr_assert_eq(lc[20].order, 4);
    cr_assert(!lc[20].used);
    cr_assert(lc[47].label && lc[48].label && lc[49].label && !lc[46].label);
    cr_assert_eq(lc[64].order, 5);
    v.glyphs.utf8 = 1;
    cr_assert_str_eq(levels(l, &v, 200),
                     "├──128──├──128──├──────256──────├──────────────512──────────────┤");
    lane_free(l);
}

Test(levels, the_whole_heap_before_any_split)
{
    Lane *l = lane_of(64);
    BarView v = view(0, l->snap.region.size, 16, 0, 0);
    cr_assert_str_eq(levels(l, &v, 200),
                     "[------------------------------1K-------------------------------]");
    lane_free(l);
}

/* Too narrow for a label: brackets alone; several blocks beginning in one
 * cell: +; one beginning and ending in a cell: |. */
Test(levels, narrow_blocks_and_crowded_cells)
{
    Lane *l = lane_of(64);
    void *a = MemHeap_Alloc(l->heap, 24), *b = MemHeap_Alloc(l->heap, 24);
    cr_assert(a && b); /* U32 U32 F64 F128 F256 F512 */
    refresh(l);
    BarView v = view(0, l->snap.region.size, 16, 0, 0);
    /* 32-byte blocks at 8, 40, the 64 at 72, the 128 at 136 */
    cr_assert_str_eq(levels(l, &v, 200),
                     "[-[-[---[--128--[------256------[--------------512--------------]");
    v = view(0, l->snap.region.size, 64, 0, 0);
    /* cell 0 [0,64): the two 32s begin (+); cell 1 [64,128): the 64 begins;
     * cell 2 [128,192): the 128 begins and the 64 ends */
    cr_assert_str_eq(levels(l, &v, 200), "+[[-[---[--512--]");
    v = view(0, l->snap.region.size, 1024, 0, 0);
    cr_assert_str_eq(levels(l, &v, 200), "+]");
    lane_free(l);
}

/* A block that is alone in its cell, beginning and ending there. */
Test(levels, a_block_inside_one_cell)
{
    Lane *l = lane_of(64);
    cr_assert_not_null(MemHeap_Alloc(l->heap, 24)); /* U32@8 F32@40 F64@72 ... */
    refresh(l);
    /* a zoomed view of [32, 80) at 16 bytes: cell 0 [32,48) holds the end of
     * the first 32 and the start of the second; cell 2 [64,80) its end and
     * the 64's start */
    BarView v = view(32, 80, 16, 0, 0);
    cr_assert_str_eq(levels(l, &v, 200), "[-[");
    /* [40, 72) at 32 bytes a cell, from 40: the second 32 is one cell */
    v = view(40, 72, 32, 1, 0);
    cr_assert_str_eq(levels(l, &v, 200), "│");
    lane_free(l);
}

/* Labels stay on their map row: a block across two rows gets its label on
 * each row that has room, and none across the row's end. */
Test(levels, labels_never_cross_a_row)
{
    Lane *l = lane_of(64);
    BarView v = view(0, l->snap.region.size, 16, 0, 0);
    const char *row = levels(l, &v, 20); /* rows of 20 cells */
    char want[80];
    /* the 1K block covers cells 0..64: rows 0..19, 20..39, 40..59, 60..64 */
    snprintf(want, sizeof want, "%s%s%s%s", "[--------1K---------", "---------1K---------",
             "---------1K---------", "-1K-]");
    cr_assert_str_eq(row, want);
    lane_free(l);
}

/* At one byte a cell (heapviz's --size 256) every block's brackets are at
 * its first and last byte. */
Test(levels, one_byte_a_cell)
{
    Lane *l = lane_of(14); /* 224 bytes: 128 + 64 + 32 */
    cr_assert_not_null(MemHeap_Alloc(l->heap, 20)); /* the 32 */
    refresh(l);
    BarView v = view(0, l->snap.region.size, 1, 0, 0);
    const char *row = levels(l, &v, 73);
    cr_assert_eq(strlen(row), l->snap.region.size);
    cr_assert_eq(row[8], '[');
    cr_assert_eq(row[8 + 127], ']');
    cr_assert_eq(row[8 + 128], '[');
    cr_assert_eq(row[8 + 128 + 63], ']');
    cr_assert_eq(row[8 + 192], '[');
    cr_assert_eq(row[8 + 223], ']');
    cr_assert_eq(row[0], ' ', "the bitmap word before the blocks");
    cr_assert(strstr(row, "--128--") && strstr(row, "--64--") && strstr(row, "--32--"), "%s",
              row);
    lane_free(l);
}

/* Random buddy heaps at every scale: the row says what the walk says.
 * Every block that begins in the view has a bracket at its first cell, a
 * cell holds + exactly when two blocks begin in it, and every label sits
 * over the cells of a block of that size. */
Test(levels, random_heaps_at_every_scale)
{
    ThRng rng = {th_seed(7)};
    for (int round = 0; round < 8; round++) {
        MemHeap *h = MemHeap_Create(region, sizeof region, MEM_BUDDY, MEM_OPT_NOLOCK);
        void *p[200] = {0};
        for (int i = 0; i < 600; i++) {
            size_t k = th_below(&rng, 200);
            if (p[k]) {
                MemHeap_Free(h, p[k]);
                p[k] = NULL;
            } else {
                p[k] = MemHeap_Alloc(h, 1 + th_below(&rng, 700));
            }
        }
        Lane *l = calloc(1, sizeof *l);
        l->heap = h;
        Lane_Refresh(l);
        const Snapshot *s = &l->snap;
        for (size_t bpc = 1; bpc <= 2048; bpc *= 2) {
            BarView v = view(0, s->region.size, bpc, 0, 0);
            size_t n = Bar_Cells(&v);
            if (n > sizeof lc / sizeof lc[0])
                continue;
            Levels_Layout(s, &v, 97, lc);
            for (size_t c = 0; c < n; c++) {
                size_t a = c * bpc, b = a + bpc, starts = 0;
                for (size_t i = 0; i < s->nblocks; i++)
                    starts += s->blocks[i].offset >= a && s->blocks[i].offset < b;
                if (lc[c].label)
                    continue;
                if (starts >= 2)
                    cr_assert_eq(lc[c].ch, '+', "bpc %zu cell %zu: %zu starts", bpc, c, starts);
                else if (starts == 1)
                    cr_assert(lc[c].ch == '[' || lc[c].ch == '|', "bpc %zu cell %zu: '%c'", bpc,
                              c, (char)lc[c].ch);
                else
                    cr_assert(lc[c].ch == '-' || lc[c].ch == ']' || lc[c].ch == ' ',
                              "bpc %zu cell %zu: '%c' where no block begins", bpc, c,
                              (char)lc[c].ch);
            }
            for (size_t c = 0; c < n; c++) {
                if (!lc[c].label || (c > 0 && lc[c - 1].label))
                    continue;
                char want[16];
                size_t bi = (size_t)Snapshot_BlockAt(s, c * bpc);
                Levels_Label(s->blocks[bi].size, want, sizeof want);
                for (size_t k = 0; want[k]; k++)
                    cr_assert_eq(lc[c + k].ch, (uint32_t)want[k], "bpc %zu: label at %zu", bpc, c);
                cr_assert_eq((size_t)16 << lc[c].order, s->blocks[bi].size);
            }
        }
        free(l->snap.blocks);
        free(l);
        MemHeap_Release(h);
    }
}

/* ---- adjacent free blocks on the bar ---------------------------------------------- */

static BarCell bc[4096], rc[4096];

/* U32 F32 F64 ...: the F64's header is the boundary the allocator kept. */
Test(bar, two_free_blocks_side_by_side_keep_their_boundary)
{
    Lane *l = lane_of(64);
    void *a = MemHeap_Alloc(l->heap, 24), *b = MemHeap_Alloc(l->heap, 24),
         *c = MemHeap_Alloc(l->heap, 56);
    MemHeap_Free(l->heap, b);
    MemHeap_Free(l->heap, c); /* U32 F32 F64 F128 F256 F512 */
    (void)a;
    refresh(l);
    cr_assert_eq(l->snap.nblocks, 6);
    const Snapshot *s = &l->snap;
    for (size_t bpc = 1; bpc <= 32; bpc *= 2) {
        for (int mode = 0; mode < 4; mode++) {
            BarView v = view(0, s->region.size, bpc, mode & 1, mode >> 1);
            size_t n = Bar_Cells(&v);
            Bar_Layout(s, &v, bc);
            Bar_LayoutReference(s, &v, rc);
            cr_assert_eq(memcmp(bc, rc, n * sizeof bc[0]), 0,
                         "bpc %zu mode %d: the layouts differ", bpc, mode);
            /* every free-after-free boundary: F32|F64 at 72, F64|F128 at
             * 136, F128|F256 at 264, F256|F512 at 520 */
            static const size_t at[] = {72, 136, 264, 520};
            for (size_t i = 0; i < 4; i++) {
                const BarCell *cell = &bc[at[i] / bpc];
                bool header = cell->left == K_HEADER || cell->right == K_HEADER;
                cr_assert(header, "bpc %zu mode %d: no boundary at +%zu", bpc, mode, at[i]);
                if (!(mode == 3))
                    cr_assert_eq(cell->ch, Theme_Glyph(K_HEADER, v.glyphs));
            }
            /* the free block after a used block shows no header of its own */
            if (bpc == 1)
                cr_assert_eq(bc[40].left, K_FREE, "F32 at +40 follows the used block");
        }
    }
    lane_free(l);
}

/* The same boundary in a zoomed view that starts inside the second block,
 * and one that starts exactly at it. */
Test(bar, the_boundary_shows_in_a_zoomed_view)
{
    Lane *l = lane_of(64);
    void *a = MemHeap_Alloc(l->heap, 24), *b = MemHeap_Alloc(l->heap, 24);
    MemHeap_Free(l->heap, b); /* U32 F32 F64 F128 ... */
    (void)a;
    refresh(l);
    for (size_t start = 64; start <= 80; start += 8) {
        BarView v = view(start, start + 64, 1, 0, 0);
        size_t n = Bar_Cells(&v);
        Bar_Layout(&l->snap, &v, bc);
        Bar_LayoutReference(&l->snap, &v, rc);
        cr_assert_eq(memcmp(bc, rc, n * sizeof bc[0]), 0, "start %zu", start);
        for (size_t o = 72; o < 80; o++)
            if (o >= start)
                cr_assert_eq(bc[o - start].ch, '|', "start %zu: +%zu", start, o);
    }
    lane_free(l);
}

/* ---- on the screen ------------------------------------------------------------------- */

#include "app.h"

static Model model;
static Ui ui;

static Frame frame;

/* A model of nlanes heaps of `arena` bytes after `steps` operations, composed
 * once on a frame of rows x cols (freed by finish). */
static void start(size_t arena, unsigned nlanes, const MemPolicy *pol, GlyphMode g, int steps);

static void start_on(int rows, int cols, size_t arena, const MemPolicy *pol)
{
    start(arena, 1, pol, (GlyphMode){1, 0}, 6);
    cr_assert_eq(Frame_Init(&frame, rows, cols, true), 0);
    Screen_Compose(&ui, &frame);
}

static void finish(void)
{
    Frame_Free(&frame);
    Model_Fini(&model);
}

static void start(size_t arena, unsigned nlanes, const MemPolicy *pol, GlyphMode g, int steps)
{
    ModelConfig cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.region_size = MemHeap_ControlSize() + arena;
    cfg.nlanes = nlanes;
    for (unsigned i = 0; i < nlanes; i++)
        cfg.policies[i] = pol[i];
    cfg.workload = WL_RANDOM;
    cfg.seed = 1;
    char err[128];
    cr_assert_eq(Model_Init(&model, &cfg, err, sizeof err), 0, "%s", err);
    Ui_Init(&ui, &model, g, 8, true);
    for (int i = 0; i < steps; i++)
        Model_Step(&model);
}

/* The code point at column x of row y. */
static uint32_t at(Frame *f, int y, int x)
{
    const FCell *c = Frame_At(f, y, x);
    return c ? c->ch : 0;
}

/* heapviz --size 256 --policy buddy: one byte a cell; the level row sits
 * right above its bar row, each block's bracket over its header's first
 * byte, and every byte of the bar is one cell of one kind. */
Test(screen, a_256_byte_buddy_heap_one_byte_a_cell)
{
    static const MemPolicy p[] = {MEM_BUDDY};
    start_on(30, 100, 256, p);
    Frame *f = &frame;
    const MapGeom *g = &ui.geom[0];
    cr_assert(g->valid);
    cr_assert_eq(g->bpc, 1, "every byte a cell");
    cr_assert_eq(g->stride, 3);
    const Snapshot *s = &model.lanes[0].snap;
    size_t bars = 0;
    for (int r = 0; r < g->rows; r++) {
        int y = g->y + g->stride * r;
        for (int c = 0; c < g->cols; c++) {
            size_t off = g->start + (size_t)(r * g->cols + c);
            if (off >= s->region.size)
                break;
            long bi = Snapshot_BlockAt(s, off);
            uint32_t up = at(f, y - 1, g->x + c), bar = at(f, y, g->x + c);
            if (bi < 0) {
                cr_assert_eq(up, ' ', "+%zu: a level glyph over the tables", off);
                cr_assert_eq(bar, 0x2571u, "+%zu: the tables", off);
                continue;
            }
            const SnapBlock *b = &s->blocks[bi];
            if (off == b->offset)
                cr_assert_eq(up, 0x251Cu, "+%zu: the block's bracket opens over its header",
                             off);
            else if (off + 1 == (size_t)b->offset + b->size)
                cr_assert_eq(up, 0x2524u, "+%zu: and closes over its last byte", off);
            if (b->used && off < (size_t)b->offset + b->header)
                cr_assert_eq(bar, 0x2502u, "+%zu: a header byte", off);
            bars++;
        }
    }
    cr_assert_eq(bars, s->region.heap_end - s->region.heap_begin, "every block byte seen once");
    /* the selected block's panel names its order */
    App_Key(&ui, '\t');
    Screen_Compose(&ui, f);
    char row[512];
    bool order = false;
    for (int y = 0; y < f->rows && !order; y++) {
        Frame_RowText(f, y, row, sizeof row);
        order = strstr(row, "order ") != NULL;
    }
    cr_assert(order, "the selected block's order");
    finish();
}

/* Compare mode with a buddy lane (three lines a bar row) composes at every
 * size, inside the frame, each map where its geometry says. */
Test(screen, compare_mode_with_buddy_at_every_size)
{
    static const MemPolicy p[] = {MEM_FIRST_FIT, MEM_NEXT_FIT, MEM_BEST_FIT,
                                  MEM_WORST_FIT, MEM_FAST,     MEM_BUDDY};
    start(8192, 6, p, (GlyphMode){1, 1}, 80);
    for (int h = 1; h <= 70; h += 3) {
        for (int w = 1; w <= 220; w += 13) {
            Frame f;
            cr_assert_eq(Frame_Init(&f, h, w, true), 0);
            Screen_Compose(&ui, &f);
            for (unsigned i = 0; i < 6; i++) {
                const MapGeom *g = &ui.geom[i];
                if (!g->valid)
                    continue;
                cr_assert_eq(g->stride, p[i] == MEM_BUDDY ? 3 : 2);
                cr_assert_geq(g->y - (g->stride - 2), 1, "%dx%d lane %u", w, h, i);
            }
            Frame_Free(&f);
        }
    }
    Model_Fini(&model);
}

/* A click on a buddy map: on the level row, the bar or the marker row of a
 * bar row, it selects the block under it. */
Test(screen, a_click_on_a_buddy_map_selects_the_block_under_it)
{
    static const MemPolicy p[] = {MEM_BUDDY};
    start_on(30, 100, 256, p);
    const MapGeom *g = &ui.geom[0];
    const Snapshot *s = &model.lanes[0].snap;
    for (int line = -1; line <= 1; line++) {
        for (int r = 0; r < g->rows; r++) {
            ui.mouse_y = g->y + g->stride * r + line;
            ui.mouse_x = g->x + 20;
            App_Key(&ui, VK_MOUSE);
            size_t off = g->start + (size_t)(r * g->cols + 20) * g->bpc;
            long bi = Snapshot_BlockAt(s, off);
            if (bi >= 0)
                cr_assert_eq(ui.sel, s->blocks[bi].offset, "row %d line %d", r, line);
        }
    }
    finish();
}

/* The title names the knobs while a list policy's heap is shown, and not
 * over a heap that does not take them. */
Test(screen, the_title_names_the_knobs_only_where_they_apply)
{
    for (int k = 0; k < 2; k++) {
        ModelConfig cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.region_size = MemHeap_ControlSize() + 4096;
        cfg.nlanes = 1;
        cfg.policies[0] = k ? MEM_FAST : MEM_BEST_FIT;
        cfg.order = MEM_ORDER_LIFO;
        cfg.coalesce = MEM_COALESCE_DEFERRED;
        cfg.workload = WL_RANDOM;
        cfg.seed = 1;
        char err[128];
        cr_assert_eq(Model_Init(&model, &cfg, err, sizeof err), 0, "%s", err);
        Ui_Init(&ui, &model, (GlyphMode){1, 0}, 8, true);
        cr_assert_eq(Frame_Init(&frame, 24, 120, true), 0);
        Screen_Compose(&ui, &frame);
        char row[512];
        Frame_RowText(&frame, 0, row, sizeof row);
        if (k)
            cr_assert(!strstr(row, "LIFO"), "%s", row);
        else
            cr_assert(strstr(row, "best fit (LIFO list, deferred coalescing)"), "%s", row);
        MemRegion r = MemHeap_Region(model.lanes[0].heap);
        cr_assert_eq(r.order, k ? MEM_ORDER_ADDRESS : MEM_ORDER_LIFO, "the heap got them or not");
        finish();
    }
}

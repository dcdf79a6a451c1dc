/* test_layout.c - heapviz's pure layout: the bar's cells (golden cells at
 * several widths, ASCII and UTF-8, with and without colour; the fast layout
 * cell for cell against the reference one on random heaps), the frame, and
 * whole composed screens at several sizes. */
#include "testlib.h"

#include "app.h"
#include "bar.h"
#include "bar_ref.h"
#include "frame.h"
#include "model.h"
#include "testviz.h"
#include "theme.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a hand-made snapshot: "U48/30 U32/20 F32" ---------------------------
 * U<size>/<object> is a used block (header 8, padding the rest), U...! one
 * whose guard is broken, F<size> a free block.  Blocks start at offset 8;
 * everything before and after them is table bytes. */

static SnapBlock blocks[64];

static Snapshot snap_of(size_t arena, const char *spec)
{
    Snapshot s;
    memset(&s, 0, sizeof s);
    size_t off = 8, n = 0;
    const char *p = spec;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        SnapBlock b;
        memset(&b, 0, sizeof b);
        char kind = *p++;
        char *end;
        b.size = (uint32_t)strtoul(p, &end, 10);
        p = end;
        b.offset = (uint32_t)off;
        b.header = 8;
        if (kind == 'U') {
            cr_assert_eq(*p, '/');
            b.object = (uint32_t)strtoul(p + 1, &end, 10);
            p = end;
            b.used = true;
            if (*p == '!') {
                b.overflowed = true;
                p++;
            }
        }
        blocks[n++] = b;
        off += b.size;
    }
    s.blocks = blocks;
    s.nblocks = n;
    s.region.size = arena;
    s.region.heap_begin = 8;
    s.region.heap_end = off;
    s.stats.rover = SIZE_MAX;
    return s;
}

static BarCell cells[4096];

/* The glyphs (or, with marks, the marker row) as UTF-8. */
static const char *text(size_t n, bool marks)
{
    static char buf[4096 * 4 + 1];
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        char u[4];
        int k = Frame_EncodeUtf8(marks ? cells[i].mark : cells[i].ch, u);
        memcpy(buf + used, u, (size_t)k);
        used += (size_t)k;
    }
    buf[used] = '\0';
    return buf;
}

static const char *lay(const Snapshot *s, const BarView *v)
{
    size_t n = Bar_Cells(v);
    cr_assert_leq(n, sizeof cells / sizeof cells[0]);
    Bar_Layout(s, v, cells);
    return text(n, false);
}

#define SPEC1 "U48/30 U32/20 F32"

Test(bar, ascii_one_glyph_per_cell_at_8_bytes)
{
    Snapshot s = snap_of(128, SPEC1);
    BarView v = view(0, 128, 8, 0, 0);
    cr_assert_eq(Bar_Cells(&v), 16);
    cr_assert_str_eq(lay(&s, &v), "/|####~|###..../");
}

Test(bar, utf8_monochrome_uses_block_glyphs_and_alternates_shades)
{
    Snapshot s = snap_of(128, SPEC1);
    BarView v = view(0, 128, 8, 1, 0);
    cr_assert_str_eq(lay(&s, &v), "╱│████░│▓▓▓····╱");
}

Test(bar, ascii_at_16_bytes_marks_headers_and_takes_the_majority)
{
    Snapshot s = snap_of(128, SPEC1);
    BarView v = view(0, 128, 16, 0, 0);
    cr_assert_str_eq(lay(&s, &v), "|##|#...");
    cr_assert(cells[5].flags & BAR_MIXED, "obj, padding and free share cell 5");
}

Test(bar, utf8_colour_splits_cells_at_the_nearest_eighth)
{
    Snapshot s = snap_of(128, SPEC1);
    BarView v = view(0, 128, 16, 1, 1);
    cr_assert_str_eq(lay(&s, &v), "▌ ▉▌ ▌·▌");
    cr_assert_eq(cells[0].left, K_TABLE);
    cr_assert_eq(cells[0].right, K_HEADER);
    cr_assert_eq(cells[0].eighths, 4);
    cr_assert_eq(cells[2].left, K_OBJECT_A);
    cr_assert_eq(cells[2].right, K_PADDING);
    cr_assert_eq(cells[2].eighths, 7, "14 of 16 bytes are object");
    cr_assert_eq(cells[4].left, K_OBJECT_B, "the second of two adjacent used blocks");
    /* three pieces: the free piece and the larger of the others */
    cr_assert_eq(cells[5].left, K_OBJECT_B);
    cr_assert_eq(cells[5].right, K_FREE);
    cr_assert_eq(cells[5].eighths, 4);
    cr_assert(cells[5].flags & BAR_MIXED);
    cr_assert_eq(cells[7].left, K_FREE);
    cr_assert_eq(cells[7].right, K_TABLE);
}

Test(bar, widths_of_4_and_32_bytes)
{
    Snapshot s = snap_of(128, SPEC1);
    BarView v = view(0, 128, 4, 0, 0);
    cr_assert_str_eq(lay(&s, &v), "//||########~~||#####~........//");
    v = view(0, 128, 32, 0, 0);
    cr_assert_str_eq(lay(&s, &v), "||#.", "a header anywhere in a cell marks it");
    v = view(0, 128, 32, 1, 0);
    cr_assert_str_eq(lay(&s, &v), "││▓·");
}

#define SPEC_TINY_FREE "U104/96 F32 U80/72"

Test(bar, a_small_free_block_stays_visible_in_ascii)
{
    Snapshot s = snap_of(256, SPEC_TINY_FREE);
    BarView v = view(0, 256, 64, 0, 0);
    /* by majority the free block would show nowhere: it takes cell 1 */
    cr_assert_str_eq(lay(&s, &v), "|.|#");
}

Test(bar, a_small_free_block_stays_visible_in_colour)
{
    Snapshot s = snap_of(256, SPEC_TINY_FREE);
    BarView v = view(0, 256, 64, 1, 1);
    lay(&s, &v);
    cr_assert_eq(cells[1].left, K_OBJECT_A);
    cr_assert_eq(cells[1].right, K_FREE);
    cr_assert_eq(cells[1].eighths, 6);
    cr_assert_eq(cells[2].left, K_FREE, "free, header, object: free is kept");
    cr_assert_eq(cells[2].right, K_OBJECT_A, "a used block after a free one is shade A");
    cr_assert_eq(cells[2].eighths, 2, "split where the used block's header begins");
}

Test(bar, shades_alternate_along_a_run_and_reset_after_free)
{
    Snapshot s = snap_of(8 + 4 * 32 + 32 + 8, "U32/16 U32/16 U32/16 F32 U32/16");
    BarView v = view(8, 8 + 5 * 32, 8, 1, 0);
    cr_assert_str_eq(lay(&s, &v), "│██░│▓▓░│██░····│██░");
}

Test(bar, a_zoomed_view_keeps_the_shades_of_the_whole_map)
{
    Snapshot s = snap_of(8 + 4 * 32 + 32 + 8, "U32/16 U32/16 U32/16 F32 U32/16");
    BarView v = view(40, 168, 8, 1, 0);
    cr_assert_str_eq(lay(&s, &v), "│▓▓░│██░····│██░", "starts at the second block: shade B");
    v = view(72, 168, 8, 1, 0);
    cr_assert_str_eq(lay(&s, &v), "│██░····│██░", "the third block is shade A again");
    v = view(48, 168, 8, 1, 0);
    cr_assert_str_eq(lay(&s, &v), "▓▓░│██░····│██░", "a view that starts inside a block");
}

Test(bar, an_overflowed_guard_shows_the_alarm_glyph)
{
    Snapshot s = snap_of(128, "U48/30! U32/20 F32");
    BarView v = view(0, 128, 8, 0, 0);
    cr_assert_str_eq(lay(&s, &v), "/|###!!|###..../");
    v = view(0, 128, 32, 0, 0);
    cr_assert_str_eq(lay(&s, &v), "|!#.", "the alarm wins over everything in its cell");
    v = view(0, 128, 16, 1, 1);
    lay(&s, &v);
    cr_assert_eq(cells[3].left, K_ALARM);
    /* the whole block is marked under the bar, not only its guard */
    v = view(0, 128, 8, 0, 0);
    lay(&s, &v);
    cr_assert_str_eq(text(16, true), " !!!!!!         ");
    cr_assert(cells[2].flags & BAR_OVERFLOW);
    cr_assert(!(cells[8].flags & BAR_OVERFLOW));
}

Test(bar, marker_row_shows_rover_selection_and_last_touch)
{
    Snapshot s = snap_of(128, SPEC1);
    BarView v = view(0, 128, 8, 0, 0);
    Touch t = {TOUCH_ALLOC, 8, 48};
    v.touch = &t;
    v.ntouch = 1;
    v.selected = 70; /* any byte of the block selects it */
    v.rover = 88;
    lay(&s, &v);
    cr_assert_str_eq(text(16, true), " ------====^    ");
    cr_assert(cells[1].flags & BAR_TOUCH_L);
    cr_assert_eq(cells[1].touch, TOUCH_ALLOC);
    cr_assert(cells[8].flags & BAR_SELECTED);
    cr_assert(cells[11].flags & BAR_ROVER);
    v.glyphs.utf8 = 1;
    lay(&s, &v);
    cr_assert_str_eq(text(16, true), " ╌╌╌╌╌╌━━━━▲    ");
}

Test(bar, a_zoomed_view_starts_where_it_is_told)
{
    Snapshot s = snap_of(128, SPEC1);
    BarView v = view(56, 96, 4, 0, 0);
    cr_assert_eq(Bar_Cells(&v), 10);
    cr_assert_str_eq(lay(&s, &v), "||#####~..");
    cr_assert_eq(cells[0].owner, 1);
    cr_assert_eq(cells[9].owner, 2);
}

Test(bar, scale_rounds_up_to_powers_of_two)
{
    cr_assert_eq(Bar_Scale(1000, 1000), 1);
    cr_assert_eq(Bar_Scale(1001, 1000), 2);
    cr_assert_eq(Bar_Scale(3001, 1000), 4);
    cr_assert_eq(Bar_Scale(4100, 1000), 8);
    cr_assert_eq(Bar_Scale(8192, 1000), 16);
    cr_assert_eq(Bar_Scale(12000, 1000), 16);
    cr_assert_eq(Bar_Scale(24001, 1000), 32);
    cr_assert_eq(Bar_Scale(24 * 1000, 1000), 32, "24 B/cell is not round: 32");
    cr_assert_eq(Bar_Scale(6240 * 1000, 1000), 8192, "nor 6240: 8 KiB");
    cr_assert_eq(Bar_Scale(100, 0), 128);
    cr_assert_eq(Bar_Scale((size_t)1 << 30, 1), (size_t)1 << 30);
    BarView v = view(0, 8192, Bar_Scale(8192, 700), 0, 0);
    cr_assert_leq(Bar_Cells(&v), 700);
}

/* ---- real heaps: every free block shows, at every scale ------------------- */

static bool shows_free(const BarCell *c, size_t n, const BarView *v, const SnapBlock *b)
{
    for (size_t i = 0; i < n; i++) {
        size_t a = v->start + i * v->bpc, e = a + v->bpc;
        if (b->offset >= e || a >= b->offset + b->size)
            continue;
        if (c[i].left == K_FREE || c[i].right == K_FREE)
            return true;
    }
    return false;
}

Test(bar, every_free_block_is_visible_at_every_scale_in_every_mode)
{
    uint64_t seed = th_seed(42);
    ThRng rng = {seed};
    for (int round = 0; round < 20; round++) {
        MemPolicy pol = (MemPolicy)(round % MEM_POLICY_COUNT);
        /* buddy's padding would fill 16 KiB: no free block to look for */
        MemHeap *h = th_heap(pol, pol == MEM_BUDDY ? 65536 : 16384, 0);
        cr_assert_not_null(h);
        void *p[300] = {0};
        for (int i = 0; i < 300; i++) {
            size_t k = th_below(&rng, 300);
            if (p[k]) {
                MemHeap_Free(h, p[k]);
                p[k] = NULL;
            } else {
                p[k] = MemHeap_Alloc(h, 1 + th_below(&rng, 200));
            }
        }
        Lane *l = calloc(1, sizeof *l);
        l->heap = h;
        Lane_Refresh(l);
        cr_assert_gt(l->snap.stats.free_blocks, 0);
        for (size_t bpc = 1; bpc <= 1024; bpc *= 2) {
            for (int mode = 0; mode < 4; mode++) {
                BarView v = view(0, l->snap.region.size, bpc, mode & 1, mode >> 1);
                size_t n = Bar_Cells(&v);
                BarCell *c = calloc(n, sizeof *c);
                Bar_Layout(&l->snap, &v, c);
                for (size_t i = 0; i < l->snap.nblocks; i++) {
                    const SnapBlock *b = &l->snap.blocks[i];
                    if (!b->used && !Snap_IsSlot(b)) /* a free slot is no free block */
                        cr_assert(shows_free(c, n, &v, b),
                                  "seed %llu: free block +%#zx (%zu B) hidden at %zu B/cell, "
                                  "mode %d", (unsigned long long)seed, (size_t)b->offset,
                                  (size_t)b->size, bpc, mode);
                }
                free(c);
            }
        }
        free(l->snap.blocks);
        free(l->snap.runs);
        free(l);
    }
}

/* ---- the fast layout is the reference layout, cell for cell ----------------- */

/* The first cell where Bar_Layout and Bar_LayoutReference differ, or -1. */
static long first_difference(const Snapshot *s, const BarView *v, char *why, size_t len)
{
    size_t n = Bar_Cells(v);
    BarCell *fast = calloc(n ? n : 1, sizeof *fast), *ref = calloc(n ? n : 1, sizeof *ref);
    cr_assert(fast && ref);
    Bar_Layout(s, v, fast);
    Bar_LayoutReference(s, v, ref);
    long at = -1;
    for (size_t i = 0; i < n && at < 0; i++) {
        const BarCell *f = &fast[i], *r = &ref[i];
        if (f->ch != r->ch || f->left != r->left || f->right != r->right ||
            f->eighths != r->eighths || f->flags != r->flags || f->touch != r->touch ||
            f->owner != r->owner || f->mark != r->mark) {
            at = (long)i;
            snprintf(why, len,
                     "cell %zu [+%#zx, +%#zx): fast ch %#x %u|%u /%u flags %#x touch %u owner %d "
                     "mark %#x; reference ch %#x %u|%u /%u flags %#x touch %u owner %d mark %#x",
                     i, v->start + i * v->bpc, v->start + (i + 1) * v->bpc, f->ch, f->left,
                     f->right, f->eighths, f->flags, f->touch, f->owner, f->mark, r->ch, r->left,
                     r->right, r->eighths, r->flags, r->touch, r->owner, r->mark);
        }
    }
    free(fast);
    free(ref);
    return at;
}

static size_t pick_bpc(ThRng *rng, size_t span)
{
    switch (th_below(rng, 4)) {
    case 0: return 1 + th_below(rng, 16);                    /* a few bytes a cell */
    case 1: return Bar_Scale(span, 1 + th_below(rng, 4000)); /* as the screen picks it */
    case 2: return 1 + th_below(rng, span + 1);              /* anything, one cell included */
    default: return span + 1 + th_below(rng, 64);            /* all of it in one cell */
    }
}

/* A random view of s: the whole arena or a zoomed part of it, any scale,
 * a selection, a rover and touches anywhere, in glyph mode `mode`. */
static BarView random_view(ThRng *rng, const Snapshot *s, int mode, Touch *t)
{
    size_t size = s->region.size;
    BarView v = view(0, size, 1, mode & 1, mode >> 1);
    if (th_below(rng, 3) == 0 && size > 1) {
        v.start = th_below(rng, size - 1);
        v.end = v.start + 1 + th_below(rng, size - v.start);
    }
    v.bpc = pick_bpc(rng, v.end - v.start);
    if (Bar_Cells(&v) > 20000)
        v.bpc = (v.end - v.start) / 20000 + 1;
    if (th_below(rng, 2))
        v.selected = th_below(rng, size);
    if (th_below(rng, 3) == 0)
        v.rover = th_below(rng, size);
    v.ntouch = (unsigned)th_below(rng, 4);
    for (unsigned i = 0; i < v.ntouch; i++) {
        size_t off = th_below(rng, size);
        t[i] = (Touch){(TouchKind)(1 + th_below(rng, TOUCH_FAIL)), off,
                       th_below(rng, size - off + 1)};
    }
    v.touch = t;
    return v;
}

static SnapBlock made[4096];

/* A random snapshot the library could not make as well as ones it could:
 * adjacent free blocks, empty objects and paddings, broken guards, blocks
 * of a few bytes and blocks of thousands, gaps, no blocks at all, tables
 * before and after. */
static Snapshot random_snapshot(ThRng *rng)
{
    Snapshot s;
    memset(&s, 0, sizeof s);
    size_t nmax = th_below(rng, th_below(rng, 2) ? 40 : 4000);
    bool gaps = th_below(rng, 8) == 0;
    size_t big = th_below(rng, 3) == 0 ? 4096 : th_below(rng, 2) ? 256 : 48;
    size_t off = th_below(rng, 3) == 0 ? 0 : th_below(rng, 200);
    s.region.heap_begin = off;
    size_t n = 0;
    bool prev_free = false;
    for (; n < nmax; n++) {
        SnapBlock b;
        memset(&b, 0, sizeof b);
        b.header = th_below(rng, 50) == 0 ? 0 : 8;
        b.size = (uint32_t)(b.header + th_below(rng, big));
        if (b.size == 0)
            b.size = 1;
        b.offset = (uint32_t)off;
        /* free blocks mostly alone, as the library keeps them */
        b.used = prev_free ? th_below(rng, 8) != 0 : th_below(rng, 3) != 0;
        if (b.used) {
            b.object = b.size > b.header ? (uint32_t)th_below(rng, b.size - b.header + 1) : 0;
            b.overflowed = th_below(rng, 30) == 0;
        }
        prev_free = !b.used;
        made[n] = b;
        off += b.size;
        if (gaps && th_below(rng, 4) == 0)
            off += 1 + th_below(rng, 64); /* bytes no block holds */
    }
    s.blocks = made;
    s.nblocks = n;
    s.region.heap_end = off;
    s.region.size = off + (th_below(rng, 3) == 0 ? 0 : th_below(rng, 300));
    if (s.region.size == 0)
        s.region.size = 1;
    s.stats.rover = SIZE_MAX;
    return s;
}

Test(bar, the_fast_layout_gives_the_reference_cells_on_random_snapshots)
{
    uint64_t seed = th_seed(7);
    ThRng rng = {seed};
    char why[512];
    for (int round = 0; round < 3000; round++) {
        Snapshot s = random_snapshot(&rng);
        for (int mode = 0; mode < 4; mode++) {
            Touch t[3];
            BarView v = random_view(&rng, &s, mode, t);
            long at = first_difference(&s, &v, why, sizeof why);
            cr_assert_eq(at, -1, "seed %llu round %d: %zu blocks, arena %zu, view [%zu, %zu) "
                                 "at %zu B/cell, mode %d: %s",
                         (unsigned long long)seed, round, s.nblocks, s.region.size, v.start,
                         v.end, v.bpc, mode, why);
        }
    }
}

/* ---- the kept cells are the cells laid out afresh ----------------------------- */

/* The cached cells against Bar_Layout's, cell for cell. */
static void expect_fresh_cells(BarCache *c, const Snapshot *s, const BarView *v,
                               unsigned long long seed, int round)
{
    size_t n = Bar_Cells(v);
    BarCell *fresh = calloc(n ? n : 1, sizeof *fresh);
    cr_assert(fresh);
    Bar_Layout(s, v, fresh);
    const BarCell *kept = Bar_LayoutCached(c, s, v);
    cr_assert(kept);
    for (size_t i = 0; i < n; i++)
        cr_assert(memcmp(&kept[i], &fresh[i], sizeof fresh[i]) == 0,
                  "seed %llu round %d: cell %zu of %zu differs (view [%zu, %zu) at %zu B/cell)",
                  seed, round, i, n, v->start, v->end, v->bpc);
    free(fresh);
}

Test(bar, kept_cells_are_the_cells_laid_out_again_whatever_changed)
{
    uint64_t seed = th_seed(13);
    ThRng rng = {seed};
    BarCache cache;
    memset(&cache, 0, sizeof cache);
    uint64_t serial = 0, hits = 0;
    for (int round = 0; round < 600; round++) {
        Snapshot s = random_snapshot(&rng);
        s.serial = ++serial; /* a new walk: made[] was written again */
        int mode = (int)th_below(&rng, 4);
        Touch t[3];
        BarView v = random_view(&rng, &s, mode, t);
        expect_fresh_cells(&cache, &s, &v, (unsigned long long)seed, round);
        /* the selection, the rover and the touched blocks move: kept */
        for (int k = 0; k < 4; k++) {
            Touch t2[3];
            BarView w = random_view(&rng, &s, mode, t2);
            w.start = v.start;
            w.end = v.end;
            w.bpc = v.bpc;
            uint64_t before = cache.hits;
            expect_fresh_cells(&cache, &s, &w, (unsigned long long)seed, round);
            cr_assert_eq(cache.hits, before + 1, "round %d: the cells were laid out again", round);
            hits++;
        }
        /* another stretch or scale, or other glyphs: laid out again */
        BarView z = v;
        switch (th_below(&rng, 3)) {
        case 0: z.bpc = v.bpc + 1; break;
        case 1: z.glyphs.utf8 = !v.glyphs.utf8; break;
        default: z.end = v.end > v.start + 1 ? v.end - 1 : v.end + 1; break;
        }
        uint64_t misses = cache.misses;
        expect_fresh_cells(&cache, &s, &z, (unsigned long long)seed, round);
        cr_assert_eq(cache.misses, misses + 1, "round %d: stale cells kept", round);
        /* the same walk's blocks changed in place (a block freed): a new
         * serial, and the cells follow */
        if (s.nblocks) {
            size_t i = th_below(&rng, s.nblocks);
            made[i].used = !made[i].used;
            made[i].object = made[i].used ? (made[i].size > made[i].header ? 1u : 0u) : 0u;
            made[i].overflowed = false;
            s.serial = ++serial;
            misses = cache.misses;
            expect_fresh_cells(&cache, &s, &z, (unsigned long long)seed, round);
            cr_assert_eq(cache.misses, misses + 1, "round %d: a changed heap kept", round);
        }
    }
    cr_assert_eq(cache.hits, hits);
    Bar_CacheFree(&cache);
}

Test(bar, the_fast_layout_gives_the_reference_cells_on_real_heaps)
{
    uint64_t seed = th_seed(11);
    ThRng rng = {seed};
    char why[512];
    /* arenas of a few blocks to tens of thousands; every policy where the
     * list policies stay quick, the fast one beyond */
    static const size_t arenas[] = {4096, 16384, 65536, 1u << 20, 4u << 20};
    for (size_t ai = 0; ai < sizeof arenas / sizeof arenas[0]; ai++) {
        for (int round = 0; round < 5; round++) {
            MemPolicy pol = arenas[ai] > 65536
                                ? MEM_FAST
                                : (MemPolicy)((ai + (size_t)round) % MEM_POLICY_COUNT);
            unsigned flags = round % 2 ? MEM_OPT_GUARD : 0;
            MemHeap *h = th_heap(pol, arenas[ai], flags);
            cr_assert_not_null(h);
            size_t nobj = arenas[ai] / 64;
            void **p = calloc(nobj, sizeof *p);
            size_t maxsz = th_below(&rng, 2) ? 64 : 600;
            for (size_t i = 0; i < nobj * 3; i++) {
                size_t k = th_below(&rng, nobj);
                if (p[k]) {
                    MemHeap_Free(h, p[k]);
                    p[k] = NULL;
                } else {
                    p[k] = MemHeap_Alloc(h, 1 + th_below(&rng, maxsz));
                }
            }
            Lane *l = calloc(1, sizeof *l);
            l->heap = h;
            Lane_Refresh(l);
            for (int k = 0; k < 40; k++) {
                int mode = k % 4;
                Touch t[3];
                BarView v = random_view(&rng, &l->snap, mode, t);
                if (k < 4) { /* the screen's own scale over the whole arena */
                    v.start = 0;
                    v.end = l->snap.region.size;
                    v.bpc = Bar_Scale(v.end, 188 * 23);
                }
                long at = first_difference(&l->snap, &v, why, sizeof why);
                cr_assert_eq(at, -1, "seed %llu: %s heap of %zu B, %zu blocks, view [%zu, %zu) "
                                     "at %zu B/cell, mode %d: %s",
                             (unsigned long long)seed, MemPolicy_Name(pol), arenas[ai],
                             l->snap.nblocks, v.start, v.end, v.bpc, mode, why);
            }
            free(l->snap.blocks);
            free(l->snap.runs);
            free(l);
            free(p);
            MemHeap_Release(h);
        }
    }
}

/* ---- frames ------------------------------------------------------------------ */

Test(frame, ascii_frames_fold_symbols_and_rows_are_trimmed)
{
    Frame f;
    cr_assert_eq(Frame_Init(&f, 2, 30, false), 0);
    int n = Frame_Text(&f, 0, 1, -1, S_NORMAL, "free → 2.1 KiB · ok");
    cr_assert_eq(n, 20);
    char row[128];
    Frame_RowText(&f, 0, row, sizeof row);
    cr_assert_str_eq(row, " free -> 2.1 KiB . ok");
    Frame_RowText(&f, 1, row, sizeof row);
    cr_assert_str_eq(row, "");
    cr_assert_eq(Frame_TextWidth(&f, "a→b"), 4);
    Frame_Free(&f);
    cr_assert_eq(Frame_Init(&f, 1, 10, true), 0);
    cr_assert_eq(Frame_Text(&f, 0, 0, -1, S_NORMAL, "a→b"), 3);
    cr_assert_eq(Frame_Text(&f, 0, 8, -1, S_NORMAL, "clipped"), 2, "clipped at the edge");
    Frame_RowText(&f, 0, row, sizeof row);
    cr_assert_str_eq(row, "a→b     c…", "and marked as cut");
    Frame_Free(&f);
}

/* ---- whole screens ---------------------------------------------------------------- */

static Model model;
static Ui ui;

static void start(unsigned nlanes, GlyphMode g)
{
    ModelConfig cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.region_size = 8192;
    cfg.nlanes = nlanes;
    for (unsigned i = 0; i < nlanes; i++)
        cfg.policies[i] = (MemPolicy)i;
    cfg.workload = WL_RANDOM;
    cfg.seed = 3;
    char err[128];
    cr_assert_eq(Model_Init(&model, &cfg, err, sizeof err), 0, "%s", err);
    Ui_Init(&ui, &model, g, 8, true);
    for (int i = 0; i < 60; i++)
        Model_Step(&model);
}

static bool screen_has(Frame *f, const char *needle)
{
    char row[4096];
    for (int y = 0; y < f->rows; y++) {
        Frame_RowText(f, y, row, sizeof row);
        if (strstr(row, needle))
            return true;
    }
    return false;
}

Test(screen, a_terminal_too_small_says_so)
{
    start(1, (GlyphMode){1, 1});
    Frame f;
    Frame_Init(&f, 9, 39, true);
    Screen_Compose(&ui, &f);
    cr_assert(screen_has(&f, "terminal too small: 39x9"));
    cr_assert(screen_has(&f, "needs 40x10"));
    Frame_Free(&f);
    Model_Fini(&model);
}

Test(screen, every_size_composes_and_keeps_title_status_and_map)
{
    start(1, (GlyphMode){0, 0});
    App_Key(&ui, 'l'); /* a selection, so the selected-block panel has content */
    for (int h = 1; h <= 70; h += 3) {
        for (int w = 1; w <= 220; w += 9) {
            for (int help = 0; help < 2; help++) {
                Frame f;
                cr_assert_eq(Frame_Init(&f, h, w, false), 0);
                ui.help = help;
                Screen_Compose(&ui, &f);
                if (w >= VIZ_MIN_COLS && h >= VIZ_MIN_ROWS && !help) {
                    char row[512];
                    Frame_RowText(&f, 0, row, sizeof row);
                    cr_assert(strstr(row, "/cell") && strstr(row, "op 60"), "%dx%d title: %s",
                              w, h, row);
                    Frame_RowText(&f, h - 1, row, sizeof row);
                    cr_assert(strstr(row, "? help"), "%dx%d status: %s", w, h, row);
                    cr_assert(ui.geom[0].valid, "%dx%d: no map", w, h);
                    cr_assert(screen_has(&f, "+0x0000"), "%dx%d: no ruler", w, h);
                }
                Frame_Free(&f);
            }
        }
    }
    Model_Fini(&model);
}

Test(screen, compare_mode_composes_at_every_size)
{
    start(5, (GlyphMode){1, 1});
    for (int h = 1; h <= 70; h += 4) {
        for (int w = 1; w <= 220; w += 11) {
            Frame f;
            cr_assert_eq(Frame_Init(&f, h, w, true), 0);
            Screen_Compose(&ui, &f);
            if (w >= VIZ_MIN_COLS && h >= VIZ_MIN_ROWS)
                cr_assert(screen_has(&f, "compare"), "%dx%d", w, h);
            Frame_Free(&f);
        }
    }
    Model_Fini(&model);
}

Test(screen, compare_mode_stacks_one_bar_per_policy)
{
    start(4, (GlyphMode){1, 0});
    Frame f;
    Frame_Init(&f, 40, 120, true);
    Screen_Compose(&ui, &f);
    cr_assert(screen_has(&f, "compare first, next, best, worst"));
    for (unsigned i = 0; i < 4; i++) {
        cr_assert(ui.geom[i].valid, "lane %u has a map", i);
        if (i)
            cr_assert_gt(ui.geom[i].y, ui.geom[i - 1].y);
        cr_assert_eq(ui.geom[i].bpc, ui.geom[0].bpc, "lanes share one scale");
    }
    cr_assert(screen_has(&f, "best fit"));
    Frame_Free(&f);
    Model_Fini(&model);
}

Test(screen, the_help_overlay_lists_keys_and_the_legend)
{
    start(1, (GlyphMode){1, 1});
    Frame f;
    Frame_Init(&f, 40, 100, true);
    cr_assert_eq(App_Key(&ui, '?') & R_REDRAW, R_REDRAW);
    Screen_Compose(&ui, &f);
    cr_assert(screen_has(&f, "heapviz help"));
    cr_assert(screen_has(&f, "padding: unused bytes after an object"));
    /* the keys come after the legend: the end of the help shows them */
    App_Key(&ui, VK_END);
    Screen_Compose(&ui, &f);
    cr_assert(screen_has(&f, "zoom in / out"));
    cr_assert(screen_has(&f, "step back one operation"));
    App_Key(&ui, VK_ESC);
    Screen_Compose(&ui, &f);
    cr_assert(!screen_has(&f, "heapviz help"));
    Frame_Free(&f);
    Model_Fini(&model);
}

/*
 * screen.c - composes heapviz's screen into a Frame: title, ruler, map,
 * panels (stats, selected block, history, events), legend, status line,
 * help overlay.  No curses, no clock, no terminal I/O: it reads the model
 * (refreshing a stale snapshot through the library's hooks, and asking for
 * the selected block's place in the free list) and may adjust the view
 * (zoom and pan) to fit the screen.
 *
 *   title ........................................................ op N
 *           +0x0      +0x100     +0x200     ...            (ruler)
 *   +0x0000 bar row
 *           marker row (▲ rover, ━ selected, ╌ last op)
 *   ...
 *   stats | selected | history          (as the size allows)
 *   events (newest last)
 *   legend
 *   status line
 */
#include "app.h"
#include "bar.h"
#include "compare.h"
#include "explain.h"
#include "history.h"
#include "lecture.h"
#include "levels.h"
#include "live.h"
#include "options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GAP 2

static Style kind_style(unsigned k)
{
    return k < K_COUNT ? Theme_Kinds[k].style : S_NORMAL;
}

static Style flash_style(unsigned t)
{
    switch (t) {
    case TOUCH_ALLOC: return S_FLASH_ALLOC;
    case TOUCH_FREE: return S_FLASH_FREE;
    case TOUCH_SPLIT: return S_FLASH_SPLIT;
    case TOUCH_COALESCE: return S_FLASH_COALESCE;
    case TOUCH_ALARM: return S_ALARM;
    case TOUCH_FAIL: return S_FLASH_FAIL;
    default: return S_NORMAL;
    }
}

static int hex_digits(size_t v)
{
    int n = 1;
    while (v >>= 4)
        n++;
    return n;
}

/* ---- the map ----------------------------------------------------------------- */

/* Cells a map row takes of `avail` columns: a power of two (rows then start
 * at round offsets: +0x400, +0x800...) unless that leaves a quarter of the
 * width unused, then a multiple of 16 (of 8 below 64 columns).  Bytes per
 * cell are a power of two (at least 2 when a row is not a multiple of 16
 * cells: min_bpc), so a row's bytes are a power of two or a multiple of 16
 * times one, and the 16-byte grid lines up from row to row. */
static int map_cols(int avail)
{
    if (avail < 16)
        return avail < 8 ? avail : avail / 8 * 8;
    int p = 16;
    while (p * 2 <= avail)
        p *= 2;
    if (p * 4 >= avail * 3)
        return p;
    return avail >= 64 ? avail / 16 * 16 : avail / 8 * 8;
}

static size_t min_bpc(int cols) { return cols % 16 ? 2 : 1; }

/* Screen lines a bar row takes: the bar and its marker row, and for a buddy
 * heap the level row above them (levels.h). */
static int map_stride(const Lane *l)
{
    return l->policy == MEM_BUDDY ? 3 : 2;
}

static int gutter_width(const Lane *l)
{
    size_t size = l->snap.region.size;
    return 3 + hex_digits(size ? size - 1 : 0) + 1;
}

/* The first byte of the last page: the page whose last row holds the
 * arena's last byte (0 when one page holds it all). */
static size_t last_start(size_t size, size_t row_bytes, int rows)
{
    size_t last_row = size ? (size - 1) / row_bytes * row_bytes : 0;
    size_t above = (size_t)(rows - 1) * row_bytes;
    return last_row > above ? last_row - above : 0;
}

/* Picks the view for a map of `rows` x `cols` cells of lane l (the focused
 * one) and records it.  A zoomed view starts on a row boundary; it moves to
 * show the selection when the selection has moved since the last frame, and
 * otherwise stays where zoom and paging put it. */
static void choose_view(Ui *ui, const Lane *l, int rows, int cols, MapGeom *g)
{
    size_t size = l->snap.region.size;
    size_t cells = (size_t)rows * (size_t)cols;
    g->rows = rows;
    g->cols = cols;
    size_t full = Bar_Scale(size, cells);
    if (full < min_bpc(cols))
        full = min_bpc(cols);
    if (ui->zoom >= full)
        ui->zoom = 0;
    if (ui->zoom && ui->zoom < min_bpc(cols))
        ui->zoom = min_bpc(cols);
    if (ui->zoom == 0) {
        g->bpc = full;
        g->start = 0;
        g->end = size;
        ui->followed = ui->sel;
        return;
    }
    g->bpc = ui->zoom;
    size_t span = cells * g->bpc;
    size_t row_bytes = (size_t)cols * g->bpc;
    size_t start = ui->view_start;
    if (ui->sel != ui->followed) {
        long bi = ui->sel == SIZE_MAX ? -1 : Snapshot_BlockAt(&l->snap, ui->sel);
        if (bi >= 0) {
            size_t off = l->snap.blocks[bi].offset;
            if (off < start || off >= start + span)
                start = off > span / 2 ? off - span / 2 : 0;
        }
        ui->followed = ui->sel;
    }
    size_t last = last_start(size, row_bytes, rows);
    start = start / row_bytes * row_bytes;
    if (start > last)
        start = last;
    ui->view_start = start;
    g->start = start;
    g->end = start + span < size ? start + span : size;
}

static void draw_ruler(Frame *f, int y, int x, int cols, size_t bpc)
{
    int tick = 16;
    char lab[32];
    snprintf(lab, sizeof lab, "+0x%zx", (size_t)(cols - 1) * bpc);
    while (tick < cols && (int)strlen(lab) + 2 > tick)
        tick *= 2;
    for (int c = 0; c < cols; c += tick) {
        snprintf(lab, sizeof lab, "+0x%zx", (size_t)c * bpc);
        int w = (int)strlen(lab);
        if (c + w + 1 > cols)
            break;
        Frame_Put(f, y, x + c, f->utf8 ? 0x2577 : '\'', S_RULER); /* ╷ */
        Frame_Text(f, y, x + c + 1, w, S_RULER, lab);
    }
}

/* Key #: each free block's place in the free list (from 1), written over
 * its cells where the digits fit inside it on one row. */
typedef struct Numbers {
    Frame *f;
    const MapGeom *g;
    size_t cells;     /* of the view */
} Numbers;

static bool number_block(const MemBlock *b, void *arg)
{
    Numbers *nb = arg;
    const MapGeom *g = nb->g;
    size_t end = b->offset + b->size, bpc = g->bpc, cols = (size_t)g->cols;
    if (end <= g->start || b->offset >= g->end)
        return true;
    /* the cells wholly inside the block */
    size_t lo = b->offset > g->start ? (b->offset - g->start + bpc - 1) / bpc : 0;
    size_t hi = (end - g->start) / bpc;
    if (hi > nb->cells)
        hi = nb->cells;
    char digits[24];
    size_t len = (size_t)snprintf(digits, sizeof digits, "%zu", b->rank + 1);
    if (lo % cols + len > cols)
        lo = (lo / cols + 1) * cols; /* not across a row's end */
    if (lo + len > hi)
        return true;
    int row = (int)(lo / cols), col = (int)(lo % cols);
    for (size_t i = 0; i < len; i++) {
        FCell *fc = Frame_At(nb->f, g->y + g->stride * row, g->x + col + (int)i);
        if (fc)
            *fc = (FCell){(uint32_t)digits[i], S_FREE_RANK, S_FREE_RANK,
                          (uint8_t)(fc->attr & ~(unsigned)VA_SPLIT)};
    }
    return true;
}


/* Key L's search, as far as it has been shown: on the marker row under
 * each free block examined, × passed over, ◆ being examined (in the good
 * colour when it fits). */
static void draw_search(Frame *f, const Ui *ui, const Lane *l, const MapGeom *g, size_t n)
{
    const FreeList *fl = &ui->freelist;
    unsigned lane = (unsigned)(l - ui->m->lanes);
    size_t cols = (size_t)g->cols;
    for (unsigned i = 0; i < fl->shown && i < fl->npath; i++) {
        const MemPlanStep *st = &fl->path[i];
        int mark = FreeList_Mark(ui, lane, st->offset);
        if (!mark || st->offset + st->size <= g->start || st->offset >= g->end)
            continue;
        size_t lo = st->offset > g->start ? (st->offset - g->start) / g->bpc : 0;
        size_t hi = (st->offset + st->size - 1 - g->start) / g->bpc + 1;
        uint32_t ch = mark == 1 ? (f->utf8 ? 0x00D7u : 'x') : (f->utf8 ? 0x25C6u : '*');
        Style sty = mark == 1 ? S_DIM : mark == 3 ? S_GOOD : S_KEY;
        for (size_t c = lo; c < hi && c < n; c++)
            Frame_Put(f, g->y + g->stride * (int)(c / cols) + 1, g->x + (int)(c % cols), ch, sty);
    }
}

/* Buddy's level row over the bar row whose cells start at `first`. */
static void draw_levels(Frame *f, const MapGeom *g, size_t first, int y, const LevelCell *lv,
                        size_t n)
{
    for (int c = 0; c < g->cols && first + (size_t)c < n; c++) {
        const LevelCell *k = &lv[first + (size_t)c];
        if (k->ch != ' ')
            Frame_Put(f, y, g->x + c, k->ch, k->used ? S_LABEL : S_DIM);
    }
}

/* The map's cells of each lane slot, kept while the lane's snapshot and
 * the view's stretch stay (bar.h, BarCache): a walk's serial names it in
 * any model, so the slots serve every Ui of the process (tests make several). */
static BarCache map_cache[VIZ_LANES_MAX];

/* Draws the bar rows of `view` (each with its marker row, and for a buddy
 * heap its level row above) for lane l from line y, column x, and records
 * where they went in *g. */
static void draw_map(Frame *f, Ui *ui, const Lane *l, bool focused, int y, int x,
                     const MapGeom *view, MapGeom *g)
{
    int gw = gutter_width(l);
    int rows = view->rows, cols = view->cols;
    if (cols < 8 || rows < 1)
        return;
    *g = *view;
    g->valid = true;
    g->stride = map_stride(l);
    g->y = y + g->stride - 2;
    g->x = x + gw;
    BarView v = {
        .start = g->start,
        .end = g->end,
        .bpc = g->bpc,
        .glyphs = ui->glyphs,
        .selected = focused ? ui->sel : SIZE_MAX,
        .touch = l->touch,
        .ntouch = l->ntouch,
        .rover = l->snap.stats.rover,
    };
    size_t n = Bar_Cells(&v);
    const BarCell *cells = Bar_LayoutCached(&map_cache[l - ui->m->lanes], &l->snap, &v);
    LevelCell *lv = g->stride > 2 ? calloc(n ? n : 1, sizeof *lv) : NULL;
    if (!cells || (g->stride > 2 && !lv)) {
        free(lv);
        return;
    }
    if (lv)
        Levels_Layout(&l->snap, &v, (size_t)cols, lv);
    int hexw = hex_digits(l->snap.region.size ? l->snap.region.size - 1 : 0);
    for (int r = 0; r < rows; r++) {
        size_t first = (size_t)r * (size_t)cols;
        if (first >= n)
            break;
        int by = g->y + g->stride * r;
        if (lv)
            draw_levels(f, g, first, by - 1, lv, n);
        Frame_Printf(f, by, x, gw - 1, S_RULER, "+0x%0*zx", hexw, g->start + first * g->bpc);
        for (int c = 0; c < cols && first + (size_t)c < n; c++) {
            const BarCell *bc = &cells[first + (size_t)c];
            FCell *fc = Frame_At(f, by, g->x + c);
            if (!fc)
                continue;
            Style ls = kind_style(bc->left), rs = kind_style(bc->right);
            if (ui->flash && bc->touch != TOUCH_NONE) {
                if (bc->flags & BAR_TOUCH_L)
                    ls = flash_style(bc->touch);
                if (bc->flags & BAR_TOUCH_R)
                    rs = flash_style(bc->touch);
            }
            fc->ch = bc->ch;
            fc->fg = (uint8_t)ls;
            fc->bg = (uint8_t)(bc->eighths < 8 ? rs : ls);
            fc->attr = bc->eighths < 8 ? VA_SPLIT : 0;
            if (bc->flags & BAR_SELECTED)
                fc->attr |= ui->glyphs.colour ? VA_UNDERLINE | VA_BOLD : VA_REVERSE;
            if (bc->mark != ' ') {
                Style ms = (bc->flags & BAR_ROVER)      ? S_MARK_ROVER
                           : (bc->flags & BAR_OVERFLOW) ? S_ALARM
                           : (bc->flags & BAR_SELECTED) ? S_MARK_SELECT
                                                        : S_MARK_TOUCH;
                Frame_Put(f, by + 1, g->x + c, bc->mark, ms);
            }
        }
    }
    if (ui->numbers) {
        Numbers nb = {f, g, n};
        MemHeap_WalkFree(l->heap, number_block, &nb);
    }
    if (ui->freelist.shown)
        draw_search(f, ui, l, g, n);
    free(lv);
}

/* Bar rows needed to show the whole arena with `maxrows` rows available. */
static int rows_needed(const Lane *l, int maxrows, int cols)
{
    if (maxrows < 1 || cols < 1)
        return 0;
    size_t size = l->snap.region.size;
    size_t bpc = Bar_Scale(size, (size_t)maxrows * (size_t)cols);
    if (bpc < min_bpc(cols))
        bpc = min_bpc(cols);
    size_t cells = (size + bpc - 1) / bpc;
    size_t r = (cells + (size_t)cols - 1) / (size_t)cols;
    return r < (size_t)maxrows ? (int)r : maxrows;
}

/* ---- panels ------------------------------------------------------------------ */

typedef struct Field {
    const char *label;
    char value[40];
    Style style;
} Field;

/* The statistics, most important first: a smaller screen shows a prefix. */
static size_t stat_fields(const Lane *l, Field *fl, size_t cap)
{
    const MemStats *s = &l->snap.stats;
    size_t n = 0;
#define ADD(lbl, st, ...)                                                      \
    do {                                                                       \
        if (n < cap) {                                                         \
            fl[n].label = lbl;                                                 \
            fl[n].style = st;                                                  \
            snprintf(fl[n].value, sizeof fl[n].value, __VA_ARGS__);            \
            n++;                                                               \
        }                                                                      \
    } while (0)
    char b[32];
    ADD("ext. frag", s->external_frag > 0.5 ? S_WARN : S_VALUE, "%.1f %%", s->external_frag * 100);
    ADD("frag. no tail", l->free.frag_no_tail > 0.5 ? S_WARN : S_VALUE, "%.1f %%",
        l->free.frag_no_tail * 100);
    ADD("utilisation", S_VALUE, "%.1f %%", s->utilisation * 100);
    ADD("int. frag", S_VALUE, "%.1f %%", s->internal_frag * 100);
    ADD("free", S_VALUE, "%s", Explain_Bytes(s->free_bytes, b, sizeof b));
    ADD("free blocks", S_VALUE, "%zu", s->free_blocks);
    ADD("largest free", S_VALUE, "%s", Explain_Bytes(s->largest_free, b, sizeof b));
    if (l->snap.region.coalesce == MEM_COALESCE_DEFERRED)
        ADD("merge passes", S_VALUE, "%llu", (unsigned long long)s->deferred_coalesces);
    if (s->runs) /* free space inside runs: for their own classes only */
        ADD("free slots", S_VALUE, "%zu, %s", s->run_free_slots,
            Explain_Bytes(s->run_free_bytes, b, sizeof b));
    ADD("live objects", S_VALUE, "%s", Explain_Bytes(s->live_bytes, b, sizeof b));
    ADD("used blocks", S_VALUE, "%zu", s->used_blocks);
    ADD("failed allocs", s->failed_allocs ? S_WARN : S_VALUE, "%llu",
        (unsigned long long)s->failed_allocs);
    ADD("refused frees", s->rejected_frees ? S_WARN : S_VALUE, "%llu",
        (unsigned long long)s->rejected_frees);
    if (l->flags & MEM_OPT_GUARD)
        ADD("overflows", s->overflows ? S_WARN : S_VALUE, "%llu",
            (unsigned long long)s->overflows);
    ADD("padding", S_VALUE, "%s", Explain_Bytes(s->padding_bytes, b, sizeof b));
    ADD("metadata", S_VALUE, "%s", Explain_Bytes(s->metadata_bytes, b, sizeof b));
    ADD("peak live", S_VALUE, "%s", Explain_Bytes(s->peak_live_bytes, b, sizeof b));
    ADD("allocs", S_VALUE, "%llu", (unsigned long long)s->allocs);
    ADD("frees", S_VALUE, "%llu", (unsigned long long)s->frees);
#undef ADD
    return n;
}

/* "32 B" .. "512 B", then "1K", "2K" .. "1M": a free size class's floor. */
static const char *class_label(unsigned k, char *buf, size_t len)
{
    size_t lo = (size_t)MEM_MIN_BLOCK << k;
    if (lo >= ((size_t)1 << 30))
        snprintf(buf, len, "%zuG", lo >> 30);
    else if (lo >= ((size_t)1 << 20))
        snprintf(buf, len, "%zuM", lo >> 20);
    else if (lo >= 1024)
        snprintf(buf, len, "%zuK", lo >> 10);
    else
        snprintf(buf, len, "%zu", lo);
    return buf;
}

/* The free sizes as one line of words: "by size  32:4 64:2 1K:1" (a class
 * is its floor: 64 holds 64 to 127 bytes). */
static void free_sizes_line(Frame *f, const Lane *l, int y, int x, int w)
{
    int n = Frame_Text(f, y, x, w, S_LABEL, "by size");
    n += 7; /* under the values of the fields above */
    char buf[512] = "", lab[16];
    size_t used = 0;
    for (unsigned k = 0; k < FREE_CLASSES && used + 24 < sizeof buf; k++)
        if (l->free.count[k])
            used += (size_t)snprintf(buf + used, sizeof buf - used, " %s:%zu",
                                     class_label(k, lab, sizeof lab), l->free.count[k]);
    Frame_Text(f, y, x + n - 1, w - n + 1, S_VALUE, used ? buf : " none");
}

static void panel_stats(Frame *f, const Lane *l, int y, int x, int w, int h, bool sizes_line)
{
    if (h < 2 || w < 20)
        return;
    Field fl[24];
    size_t n = stat_fields(l, fl, 24);
    int colw = 26;
    int ncols = (w + GAP) / colw;
    if (ncols < 1)
        ncols = 1;
    int rows = h - 1 - (sizes_line ? 1 : 0);
    if (rows < 1)
        rows = 1, sizes_line = false;
    size_t shown = (size_t)ncols * (size_t)rows < n ? (size_t)ncols * (size_t)rows : n;
    int hw = Frame_Text(f, y, x, w, S_HEAD, "stats");
    if (shown < n)
        Frame_Printf(f, y, x + hw, w - hw, S_DIM, "  %zu of %zu shown (more on a larger screen)",
                     shown, n);
    for (size_t i = 0; i < shown; i++) {
        int c = (int)(i / (size_t)rows), r = (int)(i % (size_t)rows);
        int cx = x + c * colw;
        Frame_Text(f, y + 1 + r, cx, 14, S_LABEL, fl[i].label);
        Frame_Text(f, y + 1 + r, cx + 14, colw - 15, fl[i].style, fl[i].value);
    }
    if (sizes_line)
        free_sizes_line(f, l, y + 1 + rows, x, w);
}

/* The free sizes as a chart, one class a row: "  64 B ▇▇▇▇ 3". */
static void panel_free_sizes(Frame *f, const Lane *l, int y, int x, int w, int h)
{
    if (h < 2 || w < 20)
        return;
    Frame_Text(f, y, x, w, S_HEAD, "free blocks by size");
    unsigned lo = FREE_CLASSES, hi = 0;
    size_t most = 0;
    for (unsigned k = 0; k < FREE_CLASSES; k++)
        if (l->free.count[k]) {
            lo = k < lo ? k : lo;
            hi = k;
            most = l->free.count[k] > most ? l->free.count[k] : most;
        }
    if (lo == FREE_CLASSES) {
        Frame_Text(f, y + 1, x, w, S_DIM, "no free block");
        return;
    }
    /* the classes from the smallest to the largest present, as rows allow */
    int rows = h - 1;
    if ((int)(hi - lo + 1) > rows)
        lo = hi + 1 - (unsigned)rows;
    int barw = w - 7 - 7;
    char lab[16];
    for (unsigned k = lo; k <= hi; k++) {
        int ry = y + 1 + (int)(k - lo);
        size_t lo_b = (size_t)MEM_MIN_BLOCK << k;
        Frame_Printf(f, ry, x, 6, S_LABEL, lo_b >= 1024 ? "%6s" : "%4s B",
                     class_label(k, lab, sizeof lab));
        size_t c = l->free.count[k];
        int len = c ? (int)((c * (size_t)barw + most - 1) / most) : 0;
        Frame_Fill(f, ry, x + 7, len, f->utf8 ? 0x2588 : '#', S_HIST_EXT);
        Frame_Printf(f, ry, x + 7 + len + (len ? 1 : 0), 7, S_VALUE, "%zu", c);
    }
}

/* The selected piece of a run: the run (class, slot size, live slots, its
 * block) and what is under the cursor (a slot, the table, the tail). */
static void panel_run(Frame *f, const Snapshot *s, const MemBlock *b, int y, int x, int w, int h)
{
    const SnapRun *run = Snapshot_RunAt(s, b->offset);
    if (!run)
        return;
    char b1[32], b2[32], b3[32];
    int r = y + 1, end = y + h;
    int n = Frame_Printf(f, r, x, w, S_VALUE, "+0x%x ", run->offset);
    n += Frame_Text(f, r, x + n, w - n, S_RUN, "run");
    Frame_Printf(f, r++, x + n, w - n, S_VALUE, " · %s slots · class %u",
                 Explain_Bytes(run->slot_size, b1, sizeof b1), run->cls);
    if (r < end)
        Frame_Printf(f, r++, x, w, S_LABEL, "%u of %u slots live · block %s", run->live,
                     run->slots, Explain_Bytes(run->size, b2, sizeof b2));
    const SnapBlock *p = &s->blocks[b->rank];
    if (r < end && Snap_IsSlot(p)) {
        unsigned i = (unsigned)((b->offset - run->slot_offset) / run->slot_size);
        if (b->used)
            Frame_Printf(f, r++, x, w, S_LOG_ALLOC, "slot %u: object %s at +0x%zx, %s unused", i,
                         Explain_Bytes(b->object, b1, sizeof b1), b->offset,
                         Explain_Bytes(b->padding, b3, sizeof b3));
        else
            Frame_Printf(f, r++, x, w, S_LOG_FREE, "slot %u: free (a slot does not coalesce)", i);
    } else if (r < end && Snap_IsRunTable(p)) {
        Frame_Printf(f, r++, x, w, S_LABEL, "its header and table: %s (class, live bitmap, sizes)",
                     Explain_Bytes(b->size, b1, sizeof b1));
    } else if (r < end) {
        Frame_Printf(f, r++, x, w, S_LABEL, "its tail, after the last slot: %s unused",
                     Explain_Bytes(b->size, b1, sizeof b1));
    }
    if (r < end)
        Frame_Text(f, r++, x, w, S_DIM,
                   b->used && b->object ? "f frees it · i frees inside"
                                        : "an empty run goes back to the free blocks");
}

static void panel_selected(Frame *f, const Ui *ui, Lane *l, int y, int x, int w, int h)
{
    if (h < 2 || w < 16)
        return;
    Frame_Text(f, y, x, w, S_HEAD, "selected block");
    const Snapshot *s = &l->snap;
    long bi = ui->sel == SIZE_MAX ? -1 : Snapshot_BlockAt(s, ui->sel);
    if (bi < 0) {
        Frame_Text(f, y + 1, x, w, S_DIM, "none: ← → Tab or a click");
        return;
    }
    MemBlock sb = Snapshot_Block(s, (size_t)bi);
    const MemBlock *b = &sb;
    if (b->run) {
        panel_run(f, s, b, y, x, w, h);
        return;
    }
    char b1[32], b2[32], b3[32], o1[32];
    int r = y + 1, end = y + h;
    int n = Frame_Printf(f, r, x, w, S_VALUE, "+0x%zx ", b->offset);
    n += Frame_Text(f, r, x + n, w - n, b->used ? S_LOG_ALLOC : S_LOG_FREE,
                    b->used ? "used" : "free");
    Frame_Printf(f, r, x + n, w - n, S_VALUE, " · %s block", Explain_Bytes(b->size, b1, sizeof b1));
    r++;
    if (l->policy == MEM_BUDDY && r < end) {
        unsigned k = 0;
        while (((size_t)MEM_ALIGNMENT << k) < b->size)
            k++;
        Frame_Printf(f, r++, x, w, S_LABEL, "order %u: 2^%u × %d B", k, k, MEM_ALIGNMENT);
    }
    if (b->used) {
        if (r < end)
            Frame_Printf(f, r++, x, w, S_LABEL, "object %s at +0x%zx",
                         Explain_Bytes(b->object, b1, sizeof b1), b->offset + b->header);
        if (r < end)
            Frame_Printf(f, r++, x, w, S_LABEL, "header %s · padding %s",
                         Explain_Bytes(b->header, b2, sizeof b2),
                         Explain_Bytes(b->padding, b3, sizeof b3));
        if (b->overflowed && r < end)
            Frame_Text(f, r++, x, w, S_LOG_ALARM, "guard broken: overflowed!");
        if (ui->live) {
            const Live *lv = ui->live;
            bool known = lv->sel_block == b->offset && lv->sel_frames > 0;
            for (unsigned k = 0; r < end && k < (known ? lv->sel_frames : 1u); k++)
                Frame_Printf(f, r++, x, w, k ? S_DIM : S_LABEL, "%s %s", k ? "  by" : "from",
                             known ? lv->sel_site[k] : "(no site recorded)");
        } else if (r < end) {
            Frame_Text(f, r++, x, w, S_DIM, "f frees it · i frees inside");
        }
    } else {
        unsigned list = 0;
        long rank = r < end ? Lane_FreeRank(l, b->offset, &list) : -1;
        if (rank >= 0) {
            if (l->policy == MEM_FAST || l->policy == MEM_BUDDY)
                Frame_Printf(f, r++, x, w, S_LABEL, "free list: %s of %zu (%s %u)",
                             Explain_Ordinal((size_t)rank + 1, o1, sizeof o1), s->stats.free_blocks,
                             l->policy == MEM_FAST ? "class" : "order", list);
            else
                Frame_Printf(f, r++, x, w, S_LABEL, "free list: %s of %zu",
                             Explain_Ordinal((size_t)rank + 1, o1, sizeof o1), s->stats.free_blocks);
        }
        if (r < end)
            Frame_Text(f, r++, x, w, S_DIM,
                       l->policy == MEM_FAST    ? "lists by size class, smallest first"
                       : l->policy == MEM_BUDDY ? "lists by order, smallest first"
                       : l->snap.region.order == MEM_ORDER_LIFO ? "list newest first (LIFO)"
                       : l->snap.region.order == MEM_ORDER_FIFO ? "list oldest first (FIFO)"
                                                                : "list in address order");
        if (r < end && s->stats.rover == b->offset)
            Frame_Text(f, r++, x, w, S_MARK_ROVER, "the next-fit rover is here");
        if (r < end)
            Frame_Text(f, r++, x, w, S_DIM, "Tab: next in the free list");
    }
}

static uint32_t level_glyph(const Frame *f, unsigned eighths)
{
    static const char ascii[] = " _..--=#";
    if (eighths == 0)
        return ' ';
    if (eighths >= 8)
        return f->utf8 ? 0x2588 : '#';
    return f->utf8 ? 0x2580u + eighths : (uint32_t)ascii[eighths];
}

/* One series as a column chart of h rows, newest on the right. */
static void chart(Frame *f, const Lane *l, bool util, int y, int x, int w, int h, size_t per)
{
    Style st = util ? S_HIST_UTIL : S_HIST_EXT;
    for (int c = 0; c < w; c++) {
        size_t col_from_right = (size_t)(w - 1 - c);
        unsigned sum = 0, cnt = 0;
        for (size_t k = 0; k < per; k++) {
            const HistPoint *p = Lane_Hist(l, col_from_right * per + k);
            if (!p)
                break;
            sum += util ? p->util : p->ext;
            cnt++;
        }
        if (!cnt)
            continue;
        unsigned total = (unsigned)((sum / cnt) * (unsigned)h * 8u / 10000u);
        if (total == 0 && sum)
            total = 1;
        for (int r = 0; r < h; r++) {
            unsigned lv = total >= (unsigned)(r + 1) * 8u ? 8u : total > (unsigned)r * 8u ? total - (unsigned)r * 8u : 0u;
            if (lv)
                Frame_Put(f, y + h - 1 - r, x + c, level_glyph(f, lv), st);
        }
    }
}

void Screen_Chart(Frame *f, const Lane *l, bool util, int y, int x, int w, int h, size_t per)
{
    chart(f, l, util, y, x, w, h, per);
}

static void panel_history(Frame *f, const Lane *l, int y, int x, int w, int h)
{
    if (h < 3 || w < 24)
        return;
    int lw = 20; /* "utilisation  43.2 %" */
    int cw = w - lw;
    size_t have = l->hist_count < HIST_CAP ? l->hist_count : HIST_CAP;
    size_t per = 1;
    while (per * (size_t)cw < have && per < HIST_CAP)
        per *= 2;
    const HistPoint *now = Lane_Hist(l, 0);
    if (w < 60) {
        /* narrow: short labels with the values, the charts beside them */
        int lw2 = 10, cw2 = w - lw2, ch2 = (h - 1) / 2;
        per = 1;
        while (per * (size_t)cw2 < have && per < HIST_CAP)
            per *= 2;
        int n = Frame_Text(f, y, x, w, S_HEAD, "history");
        Frame_Printf(f, y, x + n, w - n, S_DIM, "  %zu op%s/column", per, per == 1 ? "" : "s");
        Frame_Printf(f, y + 1, x, lw2, S_HIST_EXT, "ext %3.0f%%", now ? now->ext / 100.0 : 0.0);
        Frame_Printf(f, y + 1 + ch2, x, lw2, S_HIST_UTIL, "util %3.0f%%",
                     now ? now->util / 100.0 : 0.0);
        chart(f, l, false, y + 1, x + lw2, cw2, ch2, per);
        chart(f, l, true, y + 1 + ch2, x + lw2, cw2, ch2, per);
        return;
    }
    int n = Frame_Text(f, y, x, w, S_HEAD, "history");
    Frame_Printf(f, y, x + n, w - n, S_DIM, "  %zu op%s a column, newest right", per,
                 per == 1 ? "" : "s");
    int ch = (h - 1) / 2;
    int y1 = y + 1, y2 = y + 1 + ch;
    Frame_Text(f, y1, x, 13, S_HIST_EXT, "ext. frag");
    Frame_Text(f, y2, x, 13, S_HIST_UTIL, "utilisation");
    if (now) {
        Frame_Printf(f, y1, x + 13, 7, S_VALUE, "%5.1f%%", now->ext / 100.0);
        Frame_Printf(f, y2, x + 13, 7, S_VALUE, "%5.1f%%", now->util / 100.0);
    }
    chart(f, l, false, y1, x + lw, cw, ch, per);
    chart(f, l, true, y2, x + lw, cw, ch, per);
}

static Style log_style(LogKind k)
{
    switch (k) {
    case LOG_ALLOC: return S_LOG_ALLOC;
    case LOG_FREE: return S_LOG_FREE;
    case LOG_FAIL: return S_LOG_FAIL;
    case LOG_REJECT: return S_LOG_REJECT;
    case LOG_ALARM: return S_LOG_ALARM;
    case LOG_INFO: break;
    }
    return S_DIM;
}

/* A break before a unit would strand it ("120" / "B"). */
static bool unit_follows(const char *p)
{
    return (p[0] == 'B' && (p[1] == '\0' || p[1] == ' ' || p[1] == ',' || p[1] == ')' ||
                            p[1] == ';' || p[1] == ':')) ||
           strncmp(p, "KiB", 3) == 0 || strncmp(p, "MiB", 3) == 0 ||
           strncmp(p, "GiB", 3) == 0 || p[0] == '%';
}

/* Splits text into rows of at most w columns, at spaces where possible.
 * Returns the number of rows; starts[i] are byte offsets. */
static int wrap(const Frame *f, const char *text, int w, size_t *starts, int maxrows)
{
    int rows = 0;
    size_t pos = 0, len = strlen(text);
    while (pos < len && rows < maxrows) {
        starts[rows++] = pos;
        /* walk w columns */
        size_t p = pos, last_space = 0;
        int col = 0;
        while (p < len && col < w) {
            unsigned char c = (unsigned char)text[p];
            size_t step = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
            if (step > len - p)
                step = len - p; /* a character cut off at the end of the text */
            char one[8] = {0};
            memcpy(one, text + p, step);
            col += Frame_TextWidth(f, one);
            if (c == ' ' && !unit_follows(text + p + 1))
                last_space = p;
            p += step;
        }
        if (p >= len)
            break;
        pos = last_space > pos ? last_space + 1 : p;
    }
    return rows;
}

/* A line's operation number, "#12   " (6 columns, more from #100000 on):
 * its text wraps in the columns after it. */
static int log_prefix(const LogLine *ln, char *pre, size_t len)
{
    if (ln->op)
        snprintf(pre, len, "#%-4llu ", (unsigned long long)ln->op);
    else
        snprintf(pre, len, "      ");
    return (int)strlen(pre);
}

/* Prints the first `rows` of the line's nrows wrapped rows at y.. */
static void draw_log_line(Frame *f, const LogLine *ln, int y, int x, int w, int rows,
                          size_t *starts, int nrows)
{
    char pre[24];
    int pw = log_prefix(ln, pre, sizeof pre);
    Style st = log_style(ln->kind);
    for (int i = 0, r = 0; i < nrows && r < rows; i++, r++) {
        if (i == 0)
            Frame_Text(f, y + r, x, pw, S_DIM, pre);
        size_t a = starts[i], b = i + 1 < nrows ? starts[i + 1] : strlen(ln->text);
        char part[LOG_LEN];
        size_t n = b - a < sizeof part - 1 ? b - a : sizeof part - 1;
        memcpy(part, ln->text + a, n);
        part[n] = '\0';
        Frame_Text(f, y + r, x + pw, w - pw, st, part);
    }
}

/* Live mode's sites panel (s): the sites holding the most live bytes. */
static void panel_sites(Frame *f, const Live *lv, int y, int x, int w, int h)
{
    if (h < 1 || w < 20)
        return;
    Frame_Text(f, y++, x, w, S_HEAD, "allocation sites holding the most live bytes");
    if (lv->ntop == 0 && h > 1)
        Frame_Text(f, y, x, w, S_DIM, "none yet");
    char b1[32];
    for (unsigned i = 0; i < lv->ntop && i + 1 < (unsigned)h; i++) {
        const LiveSiteRow *s = &lv->top[i];
        int n = Frame_Printf(f, y + (int)i, x, w, S_VALUE, "%10s %8lld× ",
                             Explain_Bytes((size_t)s->live_bytes, b1, sizeof b1),
                             (long long)s->live_blocks);
        Frame_Text(f, y + (int)i, x + n, w - n, S_LABEL, s->name);
    }
}

static void panel_log(Frame *f, const Lane *l, int y, int x, int w, int h, bool heading)
{
    if (h < 1 || w < 20)
        return;
    if (heading) {
        Frame_Text(f, y, x, w, S_HEAD, "events");
        y++;
        h--;
    }
    int bottom = y + h; /* newest line ends here */
    for (unsigned i = 0; bottom > y; i++) {
        const LogLine *ln = Lane_Log(l, i);
        if (!ln)
            break;
        char pre[24];
        int pw = log_prefix(ln, pre, sizeof pre);
        size_t starts[8];
        int nrows = wrap(f, ln->text, w - pw, starts, 8);
        if (nrows < 1)
            nrows = 1, starts[0] = 0;
        int space = bottom - y;
        int show = nrows < space ? nrows : space;
        /* not enough room: its beginning shows, and it is marked cut */
        draw_log_line(f, ln, bottom - show, x, w, show, starts, nrows);
        if (show < nrows) {
            /* cut short: say so at the end of its last row shown */
            int ey = bottom - 1, ex = x + w - 1;
            while (ex > x) {
                FCell *c = Frame_At(f, ey, ex - 1);
                if (c && c->ch != ' ')
                    break;
                ex--;
            }
            Frame_Text(f, ey, ex < x + w - 1 ? ex + 1 : ex, 3, S_DIM, "…");
        }
        bottom -= show;
    }
}

/* The legend: the kinds of byte, then the marks under the bar.  It takes
 * the first of these that fits: long labels two apart, medium ones, one
 * apart, short ones with the glyph touching; failing all, short ones up to
 * the width and "+N more in ?" for the rest (the help has them all). */
typedef struct LegendItem {
    uint32_t ch[4];     /* its glyphs (two object shades; a run's four), 0 after the last */
    Style st[4];
    const char *label[3]; /* long, medium, short */
} LegendItem;

static int legend_glyphs(const LegendItem *it)
{
    int n = 0;
    while (n < 4 && it->ch[n])
        n++;
    return n;
}

static size_t legend_items(const Ui *ui, LegendItem *it)
{
    GlyphMode g = ui->glyphs;
    size_t n = 0;
    bool guard = false, rover = false, runs = false, buddy = false;
    for (unsigned i = 0; i < ui->m->nlanes; i++) {
        guard |= (ui->m->lanes[i].flags & MEM_OPT_GUARD) != 0;
        rover |= ui->m->lanes[i].policy == MEM_NEXT_FIT;
        runs |= ui->m->lanes[i].snap.nruns > 0;
        buddy |= ui->m->lanes[i].policy == MEM_BUDDY;
    }
    it[n++] = (LegendItem){{Theme_Glyph(K_OBJECT_A, g), Theme_Glyph(K_OBJECT_B, g)},
                           {S_OBJECT_A, S_OBJECT_B},
                           {"objects", "objects", "obj"}};
    it[n++] = (LegendItem){{Theme_Glyph(K_HEADER, g)}, {S_HEADER}, {"header", "header", "hdr"}};
    it[n++] = (LegendItem){{Theme_Glyph(K_PADDING, g)}, {S_PADDING}, {"padding", "padding", "pad"}};
    it[n++] = (LegendItem){{Theme_Glyph(K_FREE, g)}, {S_FREE}, {"free", "free", "free"}};
    it[n++] = (LegendItem){{Theme_Glyph(K_TABLE, g)}, {S_TABLE}, {"heap tables", "tables", "tbl"}};
    if (runs) /* a run's table, its slots (two shades) and its free slots */
        it[n++] = (LegendItem){{Theme_Glyph(K_RUN, g), Theme_Glyph(K_SLOT_A, g),
                                Theme_Glyph(K_SLOT_B, g), Theme_Glyph(K_SLOT_FREE, g)},
                               {Theme_Kinds[K_RUN].style, Theme_Kinds[K_SLOT_A].style,
                                Theme_Kinds[K_SLOT_B].style, Theme_Kinds[K_SLOT_FREE].style},
                               {"runs", "runs", "run"}};
    if (guard)
        it[n++] = (LegendItem){{Theme_Glyph(K_ALARM, g)}, {S_ALARM},
                               {"overflowed guard", "guard", "grd"}};
    it[n++] = (LegendItem){{Theme_MarkSelect(g)}, {S_MARK_SELECT}, {"selected", "selected", "sel"}};
    it[n++] = (LegendItem){{Theme_MarkTouch(g)}, {S_MARK_TOUCH}, {"last op", "last op", "last"}};
    if (rover)
        it[n++] = (LegendItem){{Theme_MarkRover(g)}, {S_MARK_ROVER}, {"rover", "rover", "rov"}};
    if (buddy) /* the level row's bracket over a block */
        it[n++] = (LegendItem){{g.utf8 ? 0x251Cu : '[', g.utf8 ? 0x2524u : ']'},
                               {S_LABEL, S_LABEL},
                               {"buddy block", "buddy", "bud"}};
    return n;
}

/* Columns item i takes with labels of set k and a glyph-label space sp. */
static int legend_width(const Frame *f, const LegendItem *it, int k, int sp)
{
    return legend_glyphs(it) + sp + Frame_TextWidth(f, it->label[k]);
}

static void draw_legend(Frame *f, const Ui *ui, int y, int w)
{
    LegendItem it[12];
    size_t n = legend_items(ui, it);
    static const struct { int set, gap, sp; } tries[] = {{0, 2, 1}, {1, 2, 1}, {1, 1, 1}, {2, 1, 0}};
    int room = w - 1, set = 2, gap = 1, sp = 0;
    size_t show = 0;
    for (size_t t = 0; t < sizeof tries / sizeof tries[0] && show < n; t++) {
        int need = 0;
        for (size_t i = 0; i < n; i++)
            need += legend_width(f, &it[i], tries[t].set, tries[t].sp) + (i ? tries[t].gap : 0);
        if (need <= room) {
            set = tries[t].set, gap = tries[t].gap, sp = tries[t].sp;
            show = n;
        }
    }
    char more[40] = "";
    if (show < n) {
        /* as many as fit before the note of how many are left out */
        int used = 0;
        for (show = 0; show < n; show++) {
            snprintf(more, sizeof more, "+%zu more in ?", n - show - 1);
            int wi = legend_width(f, &it[show], set, sp) + (show ? gap : 0);
            int tail = show + 1 < n ? gap + Frame_TextWidth(f, more) : 0;
            if (used + wi + tail > room)
                break;
            used += wi;
        }
        snprintf(more, sizeof more, "+%zu more in ?", n - show);
    }
    int x = 1;
    for (size_t i = 0; i < show; i++) {
        if (i)
            x += gap;
        for (int k = 0; k < legend_glyphs(&it[i]); k++)
            Frame_Put(f, y, x++, it[i].ch[k], it[i].st[k]);
        x += sp;
        x += Frame_Text(f, y, x, w - x, S_LABEL, it[i].label[set]);
    }
    if (show < n)
        Frame_Text(f, y, x + (show ? gap : 0), w - x, S_DIM, more);
}

static void draw_title(Frame *f, const Ui *ui, const MapGeom *g)
{
    const Model *m = ui->m;
    const Lane *l = &m->lanes[0];
    Frame_Fill(f, 0, 0, f->cols, ' ', S_TITLE);
    char right[48];
    /* live mode's model ticks once a frame; the program's operations are
     * the count its heap keeps (the events are numbered by it too) */
    uint64_t op = ui->live ? l->snap.stats.ops : m->ops;
    snprintf(right, sizeof right, "op %llu ", (unsigned long long)op);
    int rw = (int)strlen(right);
    int room = f->cols - rw - 1;
    enum { T_POLICY, T_SCALE, T_ARENA, T_WORKLOAD, T_ZOOM, T_N };
    char parts[T_N][160] = {{0}};
    char b1[32], b2[32];
    if (m->nlanes > 1) {
        int n = snprintf(parts[T_POLICY], sizeof parts[0], "compare");
        for (unsigned i = 0; i < m->nlanes && n > 0 && (size_t)n < sizeof parts[0]; i++)
            n += snprintf(parts[T_POLICY] + n, sizeof parts[0] - (size_t)n, "%s%s", i ? ", " : " ",
                          MemPolicy_Name(m->lanes[i].policy));
    } else {
        snprintf(parts[T_POLICY], sizeof parts[0], "%s", Explain_Policy(l->policy));
    }
    /* the knobs, when they are not the defaults and a list policy's heap
     * (the only ones that take them) is on the screen */
    char knobs[64];
    if (Model_Knobs(m, knobs, sizeof knobs)[0]) {
        size_t kn = strlen(parts[T_POLICY]);
        snprintf(parts[T_POLICY] + kn, sizeof parts[0] - kn, " (%s)", knobs);
    }
    if (g && g->valid && !ui->live) /* live: the program's name needs the room */
        snprintf(parts[T_SCALE], sizeof parts[0], "%s/cell", Explain_Bytes(g->bpc, b1, sizeof b1));
    snprintf(parts[T_ARENA], sizeof parts[0], "arena %s",
             Explain_Bytes(l->snap.region.size, b2, sizeof b2));
    if (ui->live)
        snprintf(parts[T_WORKLOAD], sizeof parts[0], "live: %.90s", ui->live->title);
    else if (m->cfg.workload == WL_TRACE)
        snprintf(parts[T_WORKLOAD], sizeof parts[0], "%s %.100s",
                 ui->script && !ui->script->was_trace ? "script" : "trace",
                 ui->trace_name ? ui->trace_name : "");
    else
        snprintf(parts[T_WORKLOAD], sizeof parts[0], "%s, seed %llu",
                 Workload_Name(m->cfg.workload), (unsigned long long)m->cfg.seed);
    if (g && g->valid && ui->zoom)
        snprintf(parts[T_ZOOM], sizeof parts[0], "zoom +0x%zx–+0x%zx", g->start, g->end);
    /* the policies of compare mode are named on their own lines too */
    if (m->nlanes > 1 && 1 + Frame_TextWidth(f, parts[T_SCALE]) + 3 +
                                 Frame_TextWidth(f, parts[T_POLICY]) > room)
        snprintf(parts[T_POLICY], sizeof parts[0], "compare %u heaps", m->nlanes);
    /* kept by importance: the scale, the policy, the zoom, the arena, the
     * workload (live: the program's name and pid come before the zoom, which
     * live mode sets by itself); shown in their natural order */
    static const int importance_of[2][T_N] = {{T_SCALE, T_POLICY, T_ZOOM, T_ARENA, T_WORKLOAD},
                                              {T_SCALE, T_POLICY, T_WORKLOAD, T_ZOOM, T_ARENA}};
    const int *importance = importance_of[ui->live != NULL];
    bool keep[T_N] = {false};
    int used = 0;
    for (int k = 0; k < T_N; k++) {
        int i = importance[k];
        if (!parts[i][0])
            continue;
        int w = (used ? 3 : 1) + Frame_TextWidth(f, parts[i]);
        if (used + w <= room) {
            keep[i] = true;
            used += w;
        }
    }
    int x = 0;
    if (used + Frame_TextWidth(f, " heapviz") + 2 <= room)
        x = Frame_Text(f, 0, 0, room, S_TITLE, " heapviz");
    static const int order[] = {T_POLICY, T_WORKLOAD, T_ARENA, T_SCALE, T_ZOOM};
    for (int k = 0; k < T_N; k++) {
        int i = order[k];
        if (!keep[i])
            continue;
        x += Frame_Text(f, 0, x, room - x, S_TITLE, x ? " · " : " ");
        x += Frame_Text(f, 0, x, room - x, S_TITLE, parts[i]);
    }
    Frame_Text(f, 0, f->cols - rw, rw, S_TITLE, right);
}

static void draw_status(Frame *f, const Ui *ui, int y)
{
    const Model *m = ui->m;
    const Lane *l = &m->lanes[ui->lane < m->nlanes ? ui->lane : 0];
    Frame_Fill(f, y, 0, f->cols, ' ', S_STATUS);
    int x = 1, w = f->cols;
    if (ui->prompt == PROMPT_PREDICT) {
        char q[200];
        Predict_Prompt(ui, q, sizeof q);
        Frame_Text(f, y, x, w - x, S_STATUS_KEY, q);
        return;
    }
    if (ui->prompt != PROMPT_NONE) {
        char steps[64];
        snprintf(steps, sizeof steps, "go to which step (0 to %llu, or later)? ",
                 (unsigned long long)History_Last(m->hist));
        const char *q = ui->prompt == PROMPT_ALLOC ? "allocate how many bytes (K/M ok)? "
                        : ui->prompt == PROMPT_GOTO ? steps
                        : ui->prompt == PROMPT_SAVE ? "save the session as a script in: "
                                                    : "free at which offset (hex; d452 decimal)? ";
        x += Frame_Text(f, y, x, w - x, S_STATUS_KEY, q);
        x += Frame_Text(f, y, x, w - x, S_STATUS, ui->input);
        Frame_Put(f, y, x++, f->utf8 ? 0x2588 : '_', S_STATUS);
        /* what the input means so far */
        char echo[64] = "";
        size_t v;
        if (ui->ninput && ui->prompt == PROMPT_ALLOC && Options_ParseSize(ui->input, &v) == 0)
            snprintf(echo, sizeof echo, "= %zu B", v);
        else if (ui->ninput && ui->prompt == PROMPT_IFREE) {
            int base = App_ParseOffset(ui->input, &v);
            if (base == 16)
                snprintf(echo, sizeof echo, "= +0x%zx", v);
            else if (base == 10)
                snprintf(echo, sizeof echo, "= +0x%zx (decimal %zu)", v, v);
        }
        if (echo[0])
            x += 1 + Frame_Text(f, y, x + 1, w - x - 1, S_STATUS_KEY, echo);
        Frame_Text(f, y, x + 2, w - x - 2, S_STATUS, "Enter: do it · Esc: cancel");
        return;
    }
    char buf[200];
    if (m->nlanes > 1)
        snprintf(buf, sizeof buf, "%u heaps", m->nlanes);
    else
        snprintf(buf, sizeof buf, "%s", Explain_Policy(l->policy));
    x += Frame_Text(f, y, x, w - x, S_STATUS_KEY, buf);
    x += Frame_Text(f, y, x, w - x, S_STATUS, " │ ");
    if (ui->live)
        Live_Status(ui->live, buf, sizeof buf);
    else if (m->ended)
        snprintf(buf, sizeof buf, "trace ended");
    else if (ui->paused)
        snprintf(buf, sizeof buf, "paused");
    else if (ui->help)
        snprintf(buf, sizeof buf, "held (help)");
    else if (ui->rate && ui->rate < ui->speed - ui->speed / 10)
        /* what runs, when it is not what was asked for */
        snprintf(buf, sizeof buf, "running %u op/s (%u asked)", ui->rate, ui->speed);
    else
        snprintf(buf, sizeof buf, "running %u op/s", ui->speed);
    x += Frame_Text(f, y, x, w - x, S_STATUS, buf);
    x += Frame_Text(f, y, x, w - x, S_STATUS, " │ ");
    const char *help = "? help";
    int hw = (int)strlen(help) + 1;
    if (w - x - hw < 12) {
        /* too narrow for more */
    } else if (App_Message(ui)) {
        Frame_Text(f, y, x, w - x - hw - 1, ui->msg_warn ? S_STATUS_MSG : S_STATUS, ui->msg);
    } else if (l->last[0]) {
        snprintf(buf, sizeof buf, "last: %s", l->last);
        Frame_Text(f, y, x, w - x - hw - 1, S_STATUS, buf);
    } else {
        Frame_Text(f, y, x, w - x - hw - 1, S_STATUS, "Space runs/pauses · n steps");
    }
    Frame_Put(f, y, w - hw - 1, ' ', S_STATUS);
    Frame_Text(f, y, w - hw, hw, S_STATUS_KEY, help);
}

static void draw_too_small(Frame *f)
{
    char a[80], b[80];
    snprintf(a, sizeof a, "terminal too small: %dx%d", f->cols, f->rows);
    snprintf(b, sizeof b, "heapviz needs %dx%d", VIZ_MIN_COLS, VIZ_MIN_ROWS);
    int y = f->rows / 2 - 1;
    if (y < 0)
        y = 0;
    Frame_Text(f, y, 0, f->cols, S_WARN, a);
    Frame_Text(f, y + 1, 0, f->cols, S_NORMAL, b);
    Frame_Text(f, y + 2, 0, f->cols, S_DIM, "enlarge it, or q quits");
}

/* ---- help overlay -------------------------------------------------------------- */

/* The help is a list of lines, drawn through a window that scrolls:
 * headings, lines that show a kind of byte (or a mark, or a flash) in its
 * real glyph and colour, keys (two to a line when there is room), text. */
typedef enum HelpKind { HL_HEAD, HL_TEXT, HL_KIND, HL_SPLIT, HL_MARKS, HL_FLASH, HL_KEYS } HelpKind;

typedef struct HelpLine {
    HelpKind kind;
    int a, b;          /* KIND: a Kind; FLASH: a Style; KEYS: key indices (b -1: none) */
    const char *text;
} HelpLine;

#define HELP_CAP 96

static int help_lines(const Ui *ui, int iw, HelpLine *hl)
{
    int n = 0;
#define LINE(k, x, y, t) (n < HELP_CAP ? (hl[n++] = (HelpLine){k, x, y, t}) : hl[0])
    LINE(HL_HEAD, 0, 0, "the map: every cell holds the bytes per cell the title states");
    static const struct { Kind k; const char *what; } kinds[] = {
        {K_OBJECT_A, "object bytes (what the program asked for)"},
        {K_OBJECT_B, "object bytes of the next used block (shades alternate)"},
        {K_HEADER, "header: metadata before every object"},
        {K_PADDING, "padding: unused bytes after an object (internal fragmentation)"},
        {K_FREE, "free bytes (a free block, its header included)"},
        {K_TABLE, "the heap's own tables (outside the blocks)"},
        {K_ALARM, "a guard overwritten by an overflow (--guard)"},
        {K_RUN, "a run (fast): one block of equal slots; its header and table"},
        {K_SLOT_A, "an object in a run's slot (no header of its own; shades alternate)"},
        {K_SLOT_FREE, "a free slot: free space that only its run's size class can use"},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        LINE(HL_KIND, (int)kinds[i].k, 0, kinds[i].what);
    if (ui->glyphs.utf8 && ui->glyphs.colour) {
        LINE(HL_SPLIT, 0, 0, "▏▎▍▌▋▊▉ a boundary inside a cell, to the eighth; with 3+");
        LINE(HL_TEXT, 0, 0, "     pieces in a cell: a broken guard, free, then the largest");
    } else {
        LINE(HL_SPLIT, 0, 0, "a cell: ! if a guard broke, | if a header is in it,");
        LINE(HL_TEXT, 0, 0, "     else what most bytes are; every free block shows");
    }
    LINE(HL_MARKS, 0, 0, "under the bar: selected block, last operation, next-fit rover");
    LINE(HL_TEXT, 0, 0, ui->glyphs.utf8
                            ? "◆×   with L, a stepped allocation's search: the block examined"
                            : "*x   with L, a stepped allocation's search: the block examined");
    LINE(HL_TEXT, 0, 0, "     now (green: it fits), the blocks passed over");
    bool buddy = false, apart = ui->m->cfg.coalesce != MEM_COALESCE_NOW;
    for (unsigned i = 0; i < ui->m->nlanes; i++)
        buddy |= ui->m->lanes[i].policy == MEM_BUDDY;
    if (buddy)
        LINE(HL_TEXT, 0, 0, ui->glyphs.utf8
                                ? "├64┤ above a buddy map: each block and its power-of-two size"
                                : "[64] above a buddy map: each block and its power-of-two size");
    if (buddy || apart)
        LINE(HL_TEXT, 0, 0, "     free blocks side by side: the later one's header between");
    LINE(HL_TEXT, 0, 0, "");
    LINE(HL_HEAD, 0, 0, "the last operation flashes (and keeps its colours while paused)");
    LINE(HL_FLASH, S_FLASH_ALLOC, 0, "allocated: the block an allocation took");
    LINE(HL_FLASH, S_FLASH_SPLIT, 0, "split off: the rest of that block, free again");
    LINE(HL_FLASH, S_FLASH_FREE, 0, "freed: a block with no free neighbour");
    LINE(HL_FLASH, S_FLASH_COALESCE, 0, "coalesced: a freed block merged with free neighbours");
    LINE(HL_FLASH, S_FLASH_FAIL, 0, "failed: the largest free block, still too small");
    LINE(HL_TEXT, 0, 0, "");
    LINE(HL_HEAD, 0, 0, "the statistics");
    LINE(HL_TEXT, 0, 0, "ext. frag     1 − largest free / free bytes");
    LINE(HL_TEXT, 0, 0, "frag. w/o tail  the same, leaving out the untouched tail (the bytes");
    LINE(HL_TEXT, 0, 0, "              after the highest ever allocated)");
    LINE(HL_TEXT, 0, 0, "utilisation   live / arena (the bytes objects asked for)");
    LINE(HL_TEXT, 0, 0, "int. frag     (used − live − free slots) / used: headers, padding,");
    LINE(HL_TEXT, 0, 0, "              slots' unused ends and run tables");
    LINE(HL_TEXT, 0, 0, "free sizes    free blocks by size: 32 B, 64 B, 128 B... and up");
    LINE(HL_TEXT, 0, 0, "");
    LINE(HL_HEAD, 0, 0, "keys");
    size_t nk;
    App_KeyHelp(&nk);
    if (iw >= 64) {
        int half = (int)((nk + 1) / 2);
        for (int i = 0; i < half; i++)
            LINE(HL_KEYS, i, i + half < (int)nk ? i + half : -1, NULL);
    } else {
        for (int i = 0; i < (int)nk; i++)
            LINE(HL_KEYS, i, -1, NULL);
    }
    LINE(HL_TEXT, 0, 0, "in the help: ↑ ↓ j k PgUp PgDn Home End scroll; ? Esc q close");
    LINE(HL_TEXT, 0, 0, "");
    LINE(HL_TEXT, 0, 0, "All of it comes from the heap's own hooks: walk, free list, events, stats.");
#undef LINE
    return n;
}

static void draw_help_line(Frame *f, const Ui *ui, const HelpLine *h, int y, int x, int iw)
{
    size_t nk;
    const KeyHelp *keys = App_KeyHelp(&nk);
    switch (h->kind) {
    case HL_HEAD:
        Frame_Text(f, y, x, iw, S_HEAD, h->text);
        break;
    case HL_TEXT:
        Frame_Text(f, y, x, iw, S_OVERLAY, h->text);
        break;
    case HL_KIND:
        for (int k = 0; k < 3; k++)
            Frame_Put(f, y, x + k, Theme_Glyph((Kind)h->a, ui->glyphs), Theme_Kinds[h->a].style);
        Frame_Text(f, y, x + 5, iw - 5, S_OVERLAY, h->text);
        break;
    case HL_SPLIT:
        if (ui->glyphs.utf8 && ui->glyphs.colour) {
            FCell *c = Frame_At(f, y, x + 1);
            Frame_Put(f, y, x, ' ', S_OBJECT_A);
            if (c)
                *c = (FCell){0x258D, S_OBJECT_A, S_FREE, VA_SPLIT};
            Frame_Put(f, y, x + 2, Theme_Glyph(K_FREE, ui->glyphs), S_FREE);
        } else {
            Frame_Put(f, y, x, Theme_Glyph(K_HEADER, ui->glyphs), S_HEADER);
            Frame_Put(f, y, x + 1, Theme_Glyph(K_OBJECT_A, ui->glyphs), S_OBJECT_A);
            Frame_Put(f, y, x + 2, Theme_Glyph(K_FREE, ui->glyphs), S_FREE);
        }
        Frame_Text(f, y, x + 5, iw - 5, S_OVERLAY, h->text);
        break;
    case HL_MARKS:
        Frame_Put(f, y, x, Theme_MarkSelect(ui->glyphs), S_MARK_SELECT);
        Frame_Put(f, y, x + 1, Theme_MarkTouch(ui->glyphs), S_MARK_TOUCH);
        Frame_Put(f, y, x + 2, Theme_MarkRover(ui->glyphs), S_MARK_ROVER);
        Frame_Text(f, y, x + 5, iw - 5, S_OVERLAY, h->text);
        break;
    case HL_FLASH:
        /* a swatch in the flash colour; monochrome shows it underlined */
        for (int k = 0; k < 3; k++)
            Frame_Put(f, y, x + k, ui->glyphs.colour ? ' ' : Theme_Glyph(K_OBJECT_A, ui->glyphs),
                      (Style)h->a);
        Frame_Text(f, y, x + 5, iw - 5, S_OVERLAY, h->text);
        break;
    case HL_KEYS: {
        int colw = h->b >= 0 ? iw / 2 : iw;
        for (int c = 0; c < 2; c++) {
            int k = c ? h->b : h->a;
            if (k < 0 || (size_t)k >= nk)
                continue;
            int cx = x + c * colw;
            Frame_Text(f, y, cx, 10, S_KEY, keys[k].keys);
            Frame_Text(f, y, cx + 10, colw - 11, S_OVERLAY, keys[k].what);
        }
        break;
    }
    }
}

static void draw_help(Frame *f, Ui *ui)
{
    int w = f->cols - 4 < 78 ? f->cols - 4 : 78;
    int iw = w - 4;
    HelpLine hl[HELP_CAP];
    int n = help_lines(ui, iw, hl);
    int h = f->rows - 2 < n + 2 ? f->rows - 2 : n + 2;
    int y0 = (f->rows - h) / 2, x0 = (f->cols - w) / 2;
    int rows = h - 2;
    if (ui->help_top > n - rows)
        ui->help_top = n - rows;
    if (ui->help_top < 0)
        ui->help_top = 0;
    ui->help_rows = rows;
    for (int r = 0; r < h; r++)
        Frame_Fill(f, y0 + r, x0, w, ' ', S_OVERLAY);
    Frame_Box(f, y0, x0, h, w, S_BOX, "heapviz help");
    for (int i = 0; i < rows && ui->help_top + i < n; i++)
        draw_help_line(f, ui, &hl[ui->help_top + i], y0 + 1 + i, x0 + 2, iw);
    /* where the window is: more above, more below */
    if (ui->help_top > 0)
        Frame_Text(f, y0, x0 + w - 10, 8, S_KEY, " ▲ more ");
    const char *close = " ? Esc q close ";
    int cw = Frame_TextWidth(f, close);
    Frame_Text(f, y0 + h - 1, x0 + w - cw - 2, cw, S_DIM, close);
    if (ui->help_top + rows < n)
        Frame_Text(f, y0 + h - 1, x0 + 2, 30, S_KEY, " more ▼ (↓ PgDn scroll) ");
}

/* ---- whole screens ---------------------------------------------------------------- */

static void compose_single(Ui *ui, Frame *f, int top, int avail)
{
    Lane *l = &ui->m->lanes[0];
    int w = f->cols;
    int band = avail >= 20 ? 8 : avail >= 14 ? 5 : 0;
    int logh = avail >= 20 ? 3 + (avail - 20) / 6 : avail >= 7 ? 1 : 0;
    if (logh > 10)
        logh = 10;
    int stride = map_stride(l);
    int maprows = (avail - 1 - band - logh) / stride;
    if (maprows < 1)
        maprows = 1;
    int gw = gutter_width(l), cols = map_cols(w - gw);
    int need = rows_needed(l, maprows, cols);
    if (ui->zoom == 0 && need < maprows)
        maprows = need;
    MapGeom *g = &ui->geom[0], view;
    choose_view(ui, l, maprows, cols, &view);
    draw_map(f, ui, l, true, top + 1, 0, &view, g);
    if (g->valid)
        draw_ruler(f, top, g->x, g->cols, g->bpc);
    int y = top + 1 + stride * maprows;
    int left = top + avail - y;
    if (band && left >= band + 1) {
        /* stats (three columns from 160 wide), then the selected block, the
         * free sizes as a chart from 200 wide (else a line in the stats),
         * and the history */
        int statw = w >= 160 ? 78 : w >= 80 ? 52 : w;
        bool chart = w >= 200;
        panel_stats(f, l, y, 1, statw - 1, band, !chart);
        int rx = statw + 1, rw = w - rx - 1;
        if (w >= 120) {
            int selw = 34;
            panel_selected(f, ui, l, y, rx, selw, band);
            rx += selw + GAP, rw -= selw + GAP;
            if (chart) {
                int fw = 30;
                panel_free_sizes(f, l, y, rx, fw, band);
                rx += fw + GAP, rw -= fw + GAP;
            }
            panel_history(f, l, y, rx, rw, band);
        } else if (rw >= 24) {
            int sh = band / 2 + 1;
            panel_selected(f, ui, l, y, rx, rw, sh);
            panel_history(f, l, y + sh, rx, rw, band - sh);
        }
        y += band;
        left -= band;
    }
    if (left > 0 && ui->live && ui->live->show_sites)
        panel_sites(f, ui->live, y, 1, w - 2, left);
    else if (left > 0)
        panel_log(f, l, y, 1, w - 2, left, left >= 4);
}

static void compose_compare(Ui *ui, Frame *f, int top, int avail)
{
    Model *m = ui->m;
    int w = f->cols;
    unsigned nl = m->nlanes;
    int details = Compare_DetailRows(ui, avail), rows = avail;
    avail -= details;
    int logh = avail - 1 >= (int)nl * 4 + (int)nl ? (int)nl : 0;
    int per = (avail - 1 - logh) / (int)nl; /* lines per lane */
    int maprows = (per - 1) / 2;
    int strides = 0; /* lines per bar row, all lanes: buddy's take 3 */
    for (unsigned i = 0; i < nl; i++)
        strides += map_stride(&m->lanes[i]);
    if (strides > 2 * (int)nl)
        maprows = (avail - 1 - logh - (int)nl) / strides;
    if (maprows < 1)
        maprows = 1;
    int gw = gutter_width(&m->lanes[0]), cols = map_cols(w - gw);
    int need = rows_needed(&m->lanes[0], maprows, cols);
    if (ui->zoom == 0 && need < maprows)
        maprows = need;
    MapGeom view;
    choose_view(ui, &m->lanes[ui->lane < nl ? ui->lane : 0], maprows, cols, &view);
    int y = top + 1;
    for (unsigned i = 0; i < nl && y < top + avail; i++) {
        Lane *l = &m->lanes[i];
        const MemStats *s = &l->snap.stats;
        bool focus = i == ui->lane;
        char b1[32], b2[32];
        int x = 0;
        x += Frame_Text(f, y, x, w, focus ? S_KEY : S_DIM, focus ? (f->utf8 ? "▶ " : "> ") : "  ");
        char name[24];
        snprintf(name, sizeof name, "%-10s", Explain_Policy(l->policy));
        x += Frame_Text(f, y, x, w - x, S_HEAD, name);
        x += Frame_Printf(f, y, x, w - x, s->external_frag > 0.5 ? S_WARN : S_VALUE,
                          " ext %4.1f%%", s->external_frag * 100);
        x += Frame_Printf(f, y, x, w - x, S_VALUE, "  util %4.1f%%", s->utilisation * 100);
        x += Frame_Printf(f, y, x, w - x, S_LABEL, "  free %s in %zu", Explain_Bytes(s->free_bytes, b1, sizeof b1),
                          s->free_blocks);
        x += Frame_Printf(f, y, x, w - x, S_LABEL, "  largest %s", Explain_Bytes(s->largest_free, b2, sizeof b2));
        x += Frame_Printf(f, y, x, w - x, s->failed_allocs ? S_WARN : S_LABEL, "  failed %llu",
                          (unsigned long long)s->failed_allocs);
        Compare_Spark(l, f, y, x, w - x);
        y++;
        draw_map(f, ui, l, focus, y, 0, &view, &ui->geom[i]);
        y += map_stride(l) * maprows;
    }
    if (ui->geom[0].valid)
        draw_ruler(f, top, ui->geom[0].x, ui->geom[0].cols, ui->geom[0].bpc);
    /* the selected place in every heap (when there is room), or the
     * focused heap's selected block (once there is one); then the last
     * events of each heap, as many a heap as the rest allows */
    int left = top + rows - y;
    if (!details && left >= 2 && ui->sel != SIZE_MAX)
        details = 1; /* the focused heap's line at least */
    if (details) {
        Compare_Details(ui, f, y, details);
        y += details;
        left -= details;
    }
    int k = left / (int)nl;
    if (k > 4)
        k = 4;
    for (unsigned i = 0; i < nl && left > 0; i++) {
        const Lane *l = &m->lanes[i];
        char name[16];
        snprintf(name, sizeof name, "%-6s", MemPolicy_Name(l->policy));
        int lines = k > 0 ? k : 1;
        for (int j = lines - 1; j >= 0 && left > 0; j--, left--, y++) {
            const LogLine *ln = Lane_Log(l, (unsigned)j);
            if (j == lines - 1)
                Frame_Text(f, y, 1, 7, S_HEAD, name);
            if (ln)
                Frame_Text(f, y, 9, w - 10, log_style(ln->kind), ln->text);
        }
    }
}

void Screen_Compose(Ui *ui, Frame *f)
{
    Model_Sync(ui->m);
    Frame_Clear(f);
    ui->rows = f->rows;
    ui->cols = f->cols;
    for (unsigned i = 0; i < VIZ_LANES_MAX; i++)
        ui->geom[i].valid = false;
    if (f->cols < VIZ_MIN_COLS || f->rows < VIZ_MIN_ROWS) {
        draw_too_small(f);
        return;
    }
    int caption = Lecture_CaptionRows(ui, f);
    int top = 1 + caption, avail = f->rows - 3 - caption;
    if (caption)
        Lecture_DrawCaption(ui, f, 1);
    if (ui->m->nlanes > 1)
        compose_compare(ui, f, top, avail);
    else
        compose_single(ui, f, top, avail);
    draw_title(f, ui, &ui->geom[0]);
    draw_legend(f, ui, f->rows - 2, f->cols);
    draw_status(f, ui, f->rows - 1);
    FreeList_Draw(ui, f);
    if (ui->help)
        draw_help(f, ui);
}

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

static const char *ordinal(size_t n, char *buf, size_t len)
{
    const char *suf = "th";
    if (n % 100 < 11 || n % 100 > 13) {
        if (n % 10 == 1)
            suf = "st";
        else if (n % 10 == 2)
            suf = "nd";
        else if (n % 10 == 3)
            suf = "rd";
    }
    snprintf(buf, len, "%zu%s", n, suf);
    return buf;
}

/* ---- the map ----------------------------------------------------------------- */

static int gutter_width(const Lane *l)
{
    size_t size = l->snap.region.size;
    return 3 + hex_digits(size ? size - 1 : 0) + 1;
}

/* Picks the view for a map of `rows` x `cols` cells and records it. */
static void choose_view(Ui *ui, const Lane *l, int rows, int cols, MapGeom *g)
{
    size_t size = l->snap.region.size;
    size_t cells = (size_t)rows * (size_t)cols;
    g->rows = rows;
    g->cols = cols;
    if (ui->zoom == 0) {
        g->bpc = Bar_Scale(size, cells);
        g->start = 0;
        g->end = size;
        return;
    }
    size_t full = Bar_Scale(size, cells);
    if (ui->zoom >= full) {
        ui->zoom = 0;
        g->bpc = full;
        g->start = 0;
        g->end = size;
        return;
    }
    g->bpc = ui->zoom;
    size_t span = cells * g->bpc;
    size_t row_bytes = (size_t)cols * g->bpc;
    size_t start = ui->view_start;
    /* the view follows the selection */
    if (ui->sel != SIZE_MAX) {
        long bi = Snapshot_BlockAt(&l->snap, ui->sel);
        if (bi >= 0) {
            const SnapBlock *b = &l->snap.blocks[bi];
            if (b->offset < start || b->offset >= start + span) {
                size_t c = b->offset > span / 2 ? b->offset - span / 2 : 0;
                start = c;
            }
        }
    }
    if (start > size)
        start = size;
    if (start + span > size)
        start = size > span ? size - span : 0;
    start = start / row_bytes * row_bytes;
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

/* Draws `rows` bar rows (each with its marker row) for lane l at (y, x). */
static void draw_map(Frame *f, Ui *ui, const Lane *l, bool focused, int y, int x, int w,
                     int rows, MapGeom *g)
{
    int gw = gutter_width(l);
    int cols = w - gw;
    if (cols < 8 || rows < 1)
        return;
    choose_view(ui, l, rows, cols, g);
    g->valid = true;
    g->y = y;
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
    BarCell *cells = calloc(n ? n : 1, sizeof *cells);
    if (!cells)
        return;
    Bar_Layout(&l->snap, &v, cells);
    int hexw = hex_digits(l->snap.region.size ? l->snap.region.size - 1 : 0);
    for (int r = 0; r < rows; r++) {
        size_t first = (size_t)r * (size_t)cols;
        if (first >= n)
            break;
        int by = y + 2 * r;
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
    free(cells);
}

/* Bar rows needed to show the whole arena with `maxrows` rows available. */
static int rows_needed(const Lane *l, int maxrows, int cols)
{
    if (maxrows < 1 || cols < 1)
        return 0;
    size_t size = l->snap.region.size;
    size_t bpc = Bar_Scale(size, (size_t)maxrows * (size_t)cols);
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
    ADD("utilisation", S_VALUE, "%.1f %%", s->utilisation * 100);
    ADD("int. frag", S_VALUE, "%.1f %%", s->internal_frag * 100);
    ADD("free", S_VALUE, "%s", Explain_Bytes(s->free_bytes, b, sizeof b));
    ADD("free blocks", S_VALUE, "%zu", s->free_blocks);
    ADD("largest free", S_VALUE, "%s", Explain_Bytes(s->largest_free, b, sizeof b));
    ADD("live objects", S_VALUE, "%s", Explain_Bytes(s->live_bytes, b, sizeof b));
    ADD("padding", S_VALUE, "%s", Explain_Bytes(s->padding_bytes, b, sizeof b));
    ADD("metadata", S_VALUE, "%s", Explain_Bytes(s->metadata_bytes, b, sizeof b));
    ADD("peak live", S_VALUE, "%s", Explain_Bytes(s->peak_live_bytes, b, sizeof b));
    ADD("failed allocs", s->failed_allocs ? S_WARN : S_VALUE, "%llu",
        (unsigned long long)s->failed_allocs);
    ADD("operations", S_VALUE, "%llu", (unsigned long long)s->ops);
    ADD("capacity", S_VALUE, "%s", Explain_Bytes(s->capacity, b, sizeof b));
    ADD("policy", S_VALUE, "%s", Explain_Policy(s->policy));
    ADD("used blocks", S_VALUE, "%zu", s->used_blocks);
    ADD("refused frees", s->rejected_frees ? S_WARN : S_VALUE, "%llu",
        (unsigned long long)s->rejected_frees);
    if (l->flags & MEM_OPT_GUARD)
        ADD("overflows", s->overflows ? S_WARN : S_VALUE, "%llu",
            (unsigned long long)s->overflows);
#undef ADD
    return n;
}

static void panel_stats(Frame *f, const Lane *l, int y, int x, int w, int h)
{
    if (h < 2 || w < 20)
        return;
    Frame_Text(f, y, x, w, S_HEAD, "stats");
    Field fl[20];
    size_t n = stat_fields(l, fl, 20);
    int colw = 26;
    int ncols = (w + GAP) / colw;
    if (ncols < 1)
        ncols = 1;
    int rows = h - 1;
    for (size_t i = 0; i < n; i++) {
        int c = (int)(i / (size_t)rows), r = (int)(i % (size_t)rows);
        if (c >= ncols)
            break;
        int cx = x + c * colw;
        Frame_Text(f, y + 1 + r, cx, 14, S_LABEL, fl[i].label);
        Frame_Text(f, y + 1 + r, cx + 14, colw - 15, fl[i].style, fl[i].value);
    }
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
    char b1[32], b2[32], b3[32], o1[32];
    int r = y + 1, end = y + h;
    int n = Frame_Printf(f, r, x, w, S_VALUE, "+0x%zx ", b->offset);
    n += Frame_Text(f, r, x + n, w - n, b->used ? S_LOG_ALLOC : S_LOG_FREE,
                    b->used ? "used" : "free");
    Frame_Printf(f, r, x + n, w - n, S_VALUE, " · %s block", Explain_Bytes(b->size, b1, sizeof b1));
    r++;
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
        if (r < end)
            Frame_Text(f, r++, x, w, S_DIM, "f frees it · i frees inside");
    } else {
        unsigned list = 0;
        long rank = r < end ? Lane_FreeRank(l, b->offset, &list) : -1;
        if (rank >= 0) {
            if (l->policy == MEM_FAST)
                Frame_Printf(f, r++, x, w, S_LABEL, "free list: %s of %zu (class %u)",
                             ordinal((size_t)rank + 1, o1, sizeof o1), s->stats.free_blocks,
                             list);
            else
                Frame_Printf(f, r++, x, w, S_LABEL, "free list: %s of %zu",
                             ordinal((size_t)rank + 1, o1, sizeof o1), s->stats.free_blocks);
        }
        if (r < end)
            Frame_Text(f, r++, x, w, S_DIM,
                       l->policy == MEM_FAST ? "lists by size class, smallest first"
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

/* Prints the first `rows` of the line's nrows wrapped rows at y.. */
static void draw_log_line(Frame *f, const LogLine *ln, int y, int x, int w, int rows,
                          size_t *starts, int nrows)
{
    char pre[24];
    if (ln->op)
        snprintf(pre, sizeof pre, "#%-4llu ", (unsigned long long)ln->op);
    else
        snprintf(pre, sizeof pre, "      ");
    int pw = (int)strlen(pre);
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

static void panel_log(Frame *f, const Lane *l, int y, int x, int w, int h, bool heading)
{
    if (h < 1 || w < 20)
        return;
    if (heading) {
        Frame_Text(f, y, x, w, S_HEAD, "events");
        y++;
        h--;
    }
    int pw = 6;
    int bottom = y + h; /* newest line ends here */
    for (unsigned i = 0; bottom > y; i++) {
        const LogLine *ln = Lane_Log(l, i);
        if (!ln)
            break;
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

static void draw_legend(Frame *f, const Ui *ui, int y, int w)
{
    int x = 1;
    static const Kind order[] = {K_OBJECT_A, K_OBJECT_B, K_HEADER, K_PADDING, K_FREE, K_TABLE,
                                 K_ALARM};
    for (size_t i = 0; i < sizeof order / sizeof order[0] && x < w; i++) {
        Kind k = order[i];
        if (k == K_OBJECT_B)
            continue; /* shown with A */
        if (k == K_ALARM && !(ui->m->lanes[0].flags & MEM_OPT_GUARD))
            continue;
        Frame_Put(f, y, x, Theme_Glyph(k, ui->glyphs), Theme_Kinds[k].style);
        x++;
        if (k == K_OBJECT_A) {
            Frame_Put(f, y, x, Theme_Glyph(K_OBJECT_B, ui->glyphs), S_OBJECT_B);
            x++;
        }
        x += 1;
        x += Frame_Text(f, y, x, w - x, S_LABEL, k == K_OBJECT_A ? "objects" : Theme_Kinds[k].label);
        x += 2;
    }
    struct {
        uint32_t ch;
        Style st;
        const char *what;
    } marks[] = {
        {Theme_MarkSelect(ui->glyphs), S_MARK_SELECT, "selected"},
        {Theme_MarkTouch(ui->glyphs), S_MARK_TOUCH, "last op"},
        {Theme_MarkRover(ui->glyphs), S_MARK_ROVER, "rover"},
    };
    for (size_t i = 0; i < 3 && x + 4 < w; i++) {
        Frame_Put(f, y, x, marks[i].ch, marks[i].st);
        x += 2;
        x += Frame_Text(f, y, x, w - x, S_LABEL, marks[i].what);
        x += 2;
    }
}

static void draw_title(Frame *f, const Ui *ui, const MapGeom *g)
{
    const Model *m = ui->m;
    const Lane *l = &m->lanes[0];
    Frame_Fill(f, 0, 0, f->cols, ' ', S_TITLE);
    char right[48];
    snprintf(right, sizeof right, "op %llu ", (unsigned long long)l->snap.stats.ops);
    int rw = (int)strlen(right);
    int room = f->cols - rw - 1;
    /* parts in order of importance; each is added if it still fits */
    char parts[5][160];
    int np = 0;
    if (m->nlanes > 1) {
        int n = snprintf(parts[np], sizeof parts[np], "compare");
        for (unsigned i = 0; i < m->nlanes && n > 0 && (size_t)n < sizeof parts[np]; i++)
            n += snprintf(parts[np] + n, sizeof parts[np] - (size_t)n, "%s%s", i ? ", " : " ",
                          MemPolicy_Name(m->lanes[i].policy));
    } else {
        snprintf(parts[np], sizeof parts[np], "%s", Explain_Policy(l->policy));
    }
    np++;
    if (g && g->valid)
        snprintf(parts[np++], sizeof parts[0], "%zu B/cell", g->bpc);
    char cap[32];
    snprintf(parts[np++], sizeof parts[0], "arena %s",
             Explain_Bytes(l->snap.region.size, cap, sizeof cap));
    if (m->cfg.workload == WL_TRACE)
        snprintf(parts[np++], sizeof parts[0], "%s %.100s",
                 ui->script && !ui->script->was_trace ? "script" : "trace",
                 ui->trace_name ? ui->trace_name : "");
    else
        snprintf(parts[np++], sizeof parts[0], "%s, seed %llu", Workload_Name(m->cfg.workload),
                 (unsigned long long)m->cfg.seed);
    if (g && g->valid && ui->zoom)
        snprintf(parts[np++], sizeof parts[0], "zoom +0x%zx–+0x%zx", g->start, g->end);
    if (m->nlanes > 1 && Frame_TextWidth(f, parts[0]) + 11 > room)
        snprintf(parts[0], sizeof parts[0], "compare %u heaps", m->nlanes);
    bool keep[5] = {false};
    int used = Frame_TextWidth(f, " heapviz");
    for (int i = 0; i < np; i++) {
        int w = 3 + Frame_TextWidth(f, parts[i]);
        if (used + w <= room) {
            keep[i] = true;
            used += w;
        }
    }
    int x = Frame_Text(f, 0, 0, room, S_TITLE, " heapviz");
    /* shown in their natural order: policy, workload, arena, scale, zoom */
    static const int order[] = {0, 3, 2, 1, 4};
    for (int k = 0; k < np; k++) {
        int i = order[k];
        if (i >= np || !keep[i])
            continue;
        x += Frame_Text(f, 0, x, room - x, S_TITLE, " · ");
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
        snprintf(steps, sizeof steps, "go to which step (%zu to %zu, or later)? ",
                 History_First(m->hist), History_Last(m->hist));
        const char *q = ui->prompt == PROMPT_ALLOC ? "allocate how many bytes (K/M ok)? "
                        : ui->prompt == PROMPT_GOTO ? steps
                        : ui->prompt == PROMPT_SAVE ? "save the session as a script in: "
                                                    : "free at which offset (like 0x1c4)? ";
        x += Frame_Text(f, y, x, w - x, S_STATUS_KEY, q);
        x += Frame_Text(f, y, x, w - x, S_STATUS, ui->input);
        Frame_Put(f, y, x++, f->utf8 ? 0x2588 : '_', S_STATUS);
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
    if (m->ended)
        snprintf(buf, sizeof buf, "trace ended");
    else if (ui->paused)
        snprintf(buf, sizeof buf, "paused");
    else
        snprintf(buf, sizeof buf, "running %u op/s", ui->speed);
    x += Frame_Text(f, y, x, w - x, S_STATUS, buf);
    x += Frame_Text(f, y, x, w - x, S_STATUS, " │ ");
    const char *help = "? help";
    int hw = (int)strlen(help) + 1;
    if (w - x - hw < 12) {
        /* too narrow for more */
    } else if (ui->msg[0]) {
        Frame_Text(f, y, x, w - x - hw, ui->msg_warn ? S_STATUS_MSG : S_STATUS, ui->msg);
    } else if (l->last[0]) {
        snprintf(buf, sizeof buf, "last: %s", l->last);
        Frame_Text(f, y, x, w - x - hw, S_STATUS, buf);
    } else {
        Frame_Text(f, y, x, w - x - hw, S_STATUS, "Space runs/pauses · n steps");
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

static void draw_help(Frame *f, const Ui *ui)
{
    size_t nk;
    const KeyHelp *keys = App_KeyHelp(&nk);
    int w = f->cols - 4 < 78 ? f->cols - 4 : 78;
    int want = 4 + 10 + 1 + (int)((nk + 1) / 2) + 1 + 4;
    int h = f->rows - 2 < want ? f->rows - 2 : want;
    int y0 = (f->rows - h) / 2, x0 = (f->cols - w) / 2;
    for (int r = 0; r < h; r++)
        Frame_Fill(f, y0 + r, x0, w, ' ', S_OVERLAY);
    Frame_Box(f, y0, x0, h, w, S_BOX, "heapviz help");
    int x = x0 + 2, y = y0 + 1, iw = w - 4, end = y0 + h - 1;
    Frame_Text(f, y++, x, iw, S_HEAD, "the map: one cell holds the bytes per cell in the title");
    static const Kind ks[] = {K_OBJECT_A, K_OBJECT_B, K_HEADER, K_PADDING, K_FREE, K_TABLE,
                              K_ALARM};
    static const char *const what[] = {
        "object bytes (what the program asked for)",
        "object bytes of the next used block (shades alternate)",
        "header: metadata before every object",
        "padding: unused bytes after an object (internal fragmentation)",
        "free bytes (a free block, its header included)",
        "the heap's own tables (outside the blocks)",
        "a guard overwritten by an overflow (--guard)",
    };
    for (size_t i = 0; i < sizeof ks / sizeof ks[0] && y < end; i++) {
        for (int k = 0; k < 3; k++)
            Frame_Put(f, y, x + k, Theme_Glyph(ks[i], ui->glyphs), Theme_Kinds[ks[i]].style);
        Frame_Text(f, y++, x + 5, iw - 5, S_OVERLAY, what[i]);
    }
    if (y < end) {
        if (ui->glyphs.utf8 && ui->glyphs.colour) {
            FCell *c = Frame_At(f, y, x + 1);
            Frame_Put(f, y, x, ' ', S_OBJECT_A);
            if (c)
                *c = (FCell){0x258D, S_OBJECT_A, S_FREE, VA_SPLIT};
            Frame_Put(f, y, x + 2, Theme_Glyph(K_FREE, ui->glyphs), S_FREE);
            Frame_Text(f, y++, x + 5, iw - 5, S_OVERLAY,
                       "▏▎▍▌▋▊▉ a boundary inside a cell, to the eighth; with 3+");
            if (y < end)
                Frame_Text(f, y++, x + 5, iw - 5, S_OVERLAY,
                           "pieces in a cell: a broken guard, free, then the largest");
        } else {
            Frame_Put(f, y, x, Theme_Glyph(K_HEADER, ui->glyphs), S_HEADER);
            Frame_Put(f, y, x + 1, Theme_Glyph(K_OBJECT_A, ui->glyphs), S_OBJECT_A);
            Frame_Put(f, y, x + 2, Theme_Glyph(K_FREE, ui->glyphs), S_FREE);
            Frame_Text(f, y++, x + 5, iw - 5, S_OVERLAY,
                       "a cell: ! if a guard broke, | if a header is in it,");
            if (y < end)
                Frame_Text(f, y++, x + 5, iw - 5, S_OVERLAY,
                           "else what most bytes are; every free block shows");
        }
    }
    if (y < end) {
        Frame_Put(f, y, x, Theme_MarkSelect(ui->glyphs), S_MARK_SELECT);
        Frame_Put(f, y, x + 1, Theme_MarkTouch(ui->glyphs), S_MARK_TOUCH);
        Frame_Put(f, y, x + 2, Theme_MarkRover(ui->glyphs), S_MARK_ROVER);
        Frame_Text(f, y++, x + 5, iw - 5, S_OVERLAY,
                   "under the bar: selected block, last operation, next-fit rover");
    }
    if (y < end)
        y++;
    if (y < end)
        Frame_Text(f, y++, x, iw, S_HEAD, "keys");
    int half = (int)((nk + 1) / 2), colw = iw / 2;
    for (int i = 0; i < half && y < end; i++, y++) {
        for (int c = 0; c < 2; c++) {
            size_t k = (size_t)(i + c * half);
            if (k >= nk)
                continue;
            int cx = x + c * colw;
            Frame_Text(f, y, cx, 10, S_KEY, keys[k].keys);
            Frame_Text(f, y, cx + 10, colw - 11, S_OVERLAY, keys[k].what);
        }
    }
    if (y < end)
        y++;
    if (y < end)
        Frame_Text(f, y++, x, iw, S_DIM,
                   "All of it comes from the heap's own hooks: walk, free list, events, stats.");
    Frame_Text(f, y0 + h - 1, x0 + w - 24, 22, S_DIM, " ? or Esc closes ");
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
    int maprows = (avail - 1 - band - logh) / 2;
    if (maprows < 1)
        maprows = 1;
    int gw = gutter_width(l);
    int need = rows_needed(l, maprows, w - gw);
    if (ui->zoom == 0 && need < maprows)
        maprows = need;
    MapGeom *g = &ui->geom[0];
    draw_map(f, ui, l, true, top + 1, 0, w, maprows, g);
    if (g->valid)
        draw_ruler(f, top, g->x, g->cols, g->bpc);
    int y = top + 1 + 2 * maprows;
    int left = top + avail - y;
    if (band && left >= band + 1) {
        int statw = w >= 80 ? 52 : w;
        panel_stats(f, l, y, 1, statw - 1, band);
        int rx = statw + 1, rw = w - rx - 1;
        if (w >= 120) {
            int selw = 34;
            panel_selected(f, ui, l, y, rx, selw, band);
            panel_history(f, l, y, rx + selw + GAP, rw - selw - GAP, band);
        } else if (rw >= 24) {
            int sh = band / 2 + 1;
            panel_selected(f, ui, l, y, rx, rw, sh);
            panel_history(f, l, y + sh, rx, rw, band - sh);
        }
        y += band;
        left -= band;
    }
    if (left > 0)
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
    if (maprows < 1)
        maprows = 1;
    int gw = gutter_width(&m->lanes[0]);
    int need = rows_needed(&m->lanes[0], maprows, w - gw);
    if (ui->zoom == 0 && need < maprows)
        maprows = need;
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
        draw_map(f, ui, l, focus, y, 0, w, maprows, &ui->geom[i]);
        y += 2 * maprows;
    }
    if (ui->geom[0].valid)
        draw_ruler(f, top, ui->geom[0].x, ui->geom[0].cols, ui->geom[0].bpc);
    if (details) {
        Compare_Details(ui, f, y, details);
        y += details;
    }
    /* the last events of each heap, as many a heap as the rest allows */
    int left = top + rows - y;
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

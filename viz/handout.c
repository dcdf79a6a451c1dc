/*
 * handout.c - the lecture on paper (see handout.h).
 *
 *   heapviz handout · first fit · script board.hvs · arena 4 KiB · 64 B/cell
 *          +0x0            +0x400          +0x800 ...
 *          │ header  █ object  ░ padding  · free  ╱ tables  ╌ last op
 *   start  ······································
 *   ▍Splitting: each request takes the low end of the free block
 *   #1     │██░·································
 *          ╌╌╌
 *          alloc 100 B: first fit examined 1 free block, chose ...
 *
 * The bars are the map's own layout (Bar_Layout) at one row for the whole
 * arena, in the glyphs a monochrome terminal shows; the sentences are the
 * lane's log lines that the operation added.
 */
#include "handout.h"

#include "bar.h"
#include "explain.h"
#include "history.h"
#include "lecture.h"

#include <stdlib.h>
#include <string.h>

static void put_glyph(FILE *out, uint32_t ch, bool utf8)
{
    char u[4];
    if (!utf8 && ch >= 0x80)
        ch = '?';
    fwrite(u, 1, (size_t)Frame_EncodeUtf8(ch, u), out);
}

static size_t bar_scale(const Lane *l, int cols)
{
    int w = cols - HANDOUT_GUTTER;
    return Bar_Scale(l->snap.region.size, (size_t)(w > 8 ? w : 8));
}

void Handout_Bar(Ui *ui, Lane *l, FILE *out, int cols, bool utf8, const char *label)
{
    Lane_Sync(l);
    BarView v = {
        .start = 0,
        .end = l->snap.region.size,
        .bpc = bar_scale(l, cols),
        .glyphs = {utf8, 0},
        .selected = SIZE_MAX,
        .touch = l->touch,
        .ntouch = l->ntouch,
        .rover = l->snap.stats.rover,
    };
    (void)ui;
    size_t n = Bar_Cells(&v);
    BarCell *cells = calloc(n ? n : 1, sizeof *cells);
    if (!cells)
        return;
    Bar_Layout(&l->snap, &v, cells);
    fprintf(out, "%-*.*s", HANDOUT_GUTTER, HANDOUT_GUTTER - 1, label);
    for (size_t i = 0; i < n; i++)
        put_glyph(out, cells[i].ch, utf8);
    fputc('\n', out);
    size_t last = n;
    while (last > 0 && cells[last - 1].mark == ' ')
        last--;
    if (last) {
        fprintf(out, "%*s", HANDOUT_GUTTER, "");
        for (size_t i = 0; i < last; i++)
            put_glyph(out, cells[i].mark, utf8);
        fputc('\n', out);
    }
    free(cells);
}

/* text in ASCII, folded as an ASCII frame folds it ("→" is "->"). */
static char *ascii_copy(const char *text)
{
    int n = (int)strlen(text);
    Frame f;
    char *out = malloc((size_t)n * 3 + 1);
    if (!out || Frame_Init(&f, 1, n * 3 + 1, false) != 0) {
        free(out);
        return NULL;
    }
    Frame_Text(&f, 0, 0, f.cols, S_NORMAL, text);
    Frame_RowText(&f, 0, out, (size_t)n * 3 + 1);
    Frame_Free(&f);
    return out;
}

void Handout_Wrap(FILE *out, const char *text, int cols, int indent, bool utf8)
{
    char *folded = utf8 ? NULL : ascii_copy(text);
    int w = cols - indent > 20 ? cols - indent : 20;
    const char *p = folded ? folded : text;
    while (*p) {
        /* the longest piece of at most w characters that ends at a space */
        const char *end = p, *brk = NULL;
        int chars = 0;
        while (*end && chars < w) {
            if (*end == ' ')
                brk = end;
            end++;
            while (((unsigned char)*end & 0xC0) == 0x80)
                end++;
            chars++;
        }
        if (*end && brk && brk > p)
            end = brk;
        fprintf(out, "%*s%.*s\n", indent, "", (int)(end - p), p);
        p = end;
        while (*p == ' ')
            p++;
    }
    free(folded);
}

void Handout_Heading(Ui *ui, FILE *out, int cols, bool utf8, const char *what)
{
    Model *m = ui->m;
    Lane *l = &m->lanes[0];
    Lane_Sync(l);
    size_t bpc = bar_scale(l, cols);
    char cap[32];
    fprintf(out, "heapviz %s %s ", what, utf8 ? "·" : "-");
    if (m->nlanes > 1) {
        fputs("compare", out);
        for (unsigned i = 0; i < m->nlanes; i++)
            fprintf(out, "%s%s", i ? ", " : " ", MemPolicy_Name(m->lanes[i].policy));
    } else {
        fputs(Explain_Policy(l->policy), out);
    }
    char knobs[64];
    if (Model_Knobs(m, knobs, sizeof knobs)[0])
        fprintf(out, " (%s)", knobs);
    if (m->cfg.workload == WL_TRACE)
        fprintf(out, " %s %s %s", utf8 ? "·" : "-",
                ui->script && !ui->script->was_trace ? "script" : "trace",
                ui->trace_name ? ui->trace_name : "");
    else
        fprintf(out, " %s %s, seed %llu", utf8 ? "·" : "-", Workload_Name(m->cfg.workload),
                (unsigned long long)m->cfg.seed);
    fprintf(out, " %s arena %s %s %zu B/cell\n", utf8 ? "·" : "-",
            Explain_Bytes(l->snap.region.size, cap, sizeof cap), utf8 ? "·" : "-", bpc);
    /* a ruler over the bar's cells: an offset every 16 (fewer if they crowd) */
    int w = (int)((l->snap.region.size + bpc - 1) / bpc), tick = 16;
    char lab[32];
    snprintf(lab, sizeof lab, "+0x%zx", (size_t)w * bpc);
    while (tick < w && (int)strlen(lab) + 2 > tick)
        tick *= 2;
    char ruler[1100];
    int len = snprintf(ruler, sizeof ruler, "%*s", HANDOUT_GUTTER, "");
    for (int c = 0; c < w && len < (int)sizeof ruler - 40; c += tick) {
        snprintf(lab, sizeof lab, "+0x%zx", (size_t)c * bpc);
        if (c + (int)strlen(lab) > w)
            break;
        len += snprintf(ruler + len, sizeof ruler - (size_t)len, "%-*s", tick, lab);
    }
    while (len > 0 && ruler[len - 1] == ' ')
        len--;
    fprintf(out, "%.*s\n", len, ruler);
    static const Kind legend[] = {K_HEADER, K_OBJECT_A, K_PADDING, K_FREE, K_TABLE,
                                  K_RUN,    K_SLOT_A,   K_SLOT_FREE};
    /* the runs' kinds when a heap serves small objects from runs */
    size_t nkinds = 5;
    for (unsigned i = 0; i < m->nlanes; i++)
        if (MemHeap_SlotSize(m->lanes[i].heap, 1))
            nkinds = sizeof legend / sizeof legend[0];
    fprintf(out, "%*s", HANDOUT_GUTTER, "");
    GlyphMode g = {utf8, 0};
    for (size_t i = 0; i < nkinds; i++) {
        if (i == 5) /* the runs on a line of their own */
            fprintf(out, "\n%*s", HANDOUT_GUTTER, "");
        else if (i)
            fputs("  ", out);
        put_glyph(out, Theme_Glyph(legend[i], g), utf8);
        fprintf(out, " %s", Theme_Kinds[legend[i]].label);
    }
    fputs("  ", out);
    put_glyph(out, Theme_MarkTouch(g), utf8);
    fputs(" last op\n", out);
}

void Handout_Notes(Ui *ui, FILE *out, size_t *note, int cols, bool utf8)
{
    const Script *sc = ui->m->cfg.workload == WL_TRACE ? ui->script : NULL;
    uint64_t at = ui->m->steps;
    while (sc && *note < sc->nnotes && sc->notes[*note].at < at)
        (*note)++;
    for (; sc && *note < sc->nnotes && sc->notes[*note].at == at; (*note)++) {
        const ScriptNote *n = &sc->notes[*note];
        if (n->kind == NOTE_PAUSE)
            fprintf(out, "%*s(pause)\n", HANDOUT_GUTTER, "");
        else if (sc->pool[n->text] && utf8)
            fprintf(out, "▍%s\n", sc->pool + n->text);
        else if (sc->pool[n->text])
            fputs("| ", out), Handout_Wrap(out, sc->pool + n->text, cols - 2, 0, false);
    }
}

/* The lines lane l's log gained since it had `before` in all. */
static void new_lines(FILE *out, const Lane *l, uint64_t before, int cols, bool utf8)
{
    uint64_t added = l->log_total - before;
    unsigned k = added < LOG_CAP ? (unsigned)added : LOG_CAP;
    for (unsigned i = k; i-- > 0;) {
        const LogLine *ln = Lane_Log(l, i);
        if (ln)
            Handout_Wrap(out, ln->text, cols, HANDOUT_GUTTER, utf8);
    }
}

int Handout_Print(Ui *ui, FILE *out, int cols, bool utf8, unsigned long max_ops)
{
    Model *m = ui->m;
    Handout_Heading(ui, out, cols, utf8, "handout");
    uint64_t before[VIZ_LANES_MAX] = {0};
    size_t note = 0;
    for (unsigned long k = 0;; k++) {
        char head[32], label[32];
        size_t step = (size_t)m->ops;
        if (k == 0)
            snprintf(head, sizeof head, "%s", step ? "now" : "start");
        else
            snprintf(head, sizeof head, "#%zu", step);
        if (m->nlanes > 1)
            fprintf(out, "%s\n", head);
        for (unsigned i = 0; i < m->nlanes; i++) {
            Lane *l = &m->lanes[i];
            snprintf(label, sizeof label, "%s", m->nlanes > 1 ? MemPolicy_Name(l->policy) : head);
            Handout_Bar(ui, l, out, cols, utf8, label);
            if (k > 0)
                new_lines(out, l, before[i], cols, utf8);
        }
        Handout_Notes(ui, out, &note, cols, utf8);
        if (k >= max_ops)
            break;
        for (unsigned i = 0; i < m->nlanes; i++)
            before[i] = m->lanes[i].log_total;
        if (!Model_Step(m))
            break;
    }
    return fflush(out) == 0 && !ferror(out) ? 0 : 1;
}

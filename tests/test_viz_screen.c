/* test_viz_screen.c - heapviz's screen composition as issue 12's trial
 * used it: text that is cut says so, the legend and the title at every
 * width, the help overlay, the statistics, the map's geometry.  No
 * terminal: Screen_Compose draws into a Frame and the rows are read back. */
#include "testlib.h"

#include "app.h"
#include "frame.h"
#include "model.h"
#include "viz_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static Model model;
static Ui ui;
static Frame frame;

static void start_with(MemPolicy policy, unsigned flags, unsigned nlanes, int steps)
{
    viz_start(&model, &ui, nlanes, policy, flags, WL_RANDOM, 1, steps, (GlyphMode){1, 0});
}

static void compose(int rows, int cols)
{
    Frame_Free(&frame);
    cr_assert_eq(Frame_Init(&frame, rows, cols, true), 0);
    Screen_Compose(&ui, &frame);
}

static void stop(void)
{
    Frame_Free(&frame);
    Model_Fini(&model);
}

static const char *row(int y)
{
    static char buf[4096];
    Frame_RowText(&frame, y < 0 ? frame.rows + y : y, buf, sizeof buf);
    return buf;
}

static bool screen_has(const char *needle)
{
    for (int y = 0; y < frame.rows; y++)
        if (strstr(row(y), needle))
            return true;
    return false;
}

/* ---- 17: text that is cut says so -------------------------------------------------- */

Test(text, cut_text_ends_in_an_ellipsis)
{
    Frame f;
    cr_assert_eq(Frame_Init(&f, 2, 30, true), 0);
    int w = Frame_Text(&f, 0, 0, 20, S_NORMAL, "lists by size class, smallest first");
    cr_assert_eq(w, 20);
    char buf[128];
    Frame_RowText(&f, 0, buf, sizeof buf);
    cr_assert_str_eq(buf, "lists by size class…");
    Frame_Text(&f, 1, 0, 12, S_NORMAL, "exactly 12 c");
    Frame_RowText(&f, 1, buf, sizeof buf);
    cr_assert_str_eq(buf, "exactly 12 c", "text that fits is not marked");
    Frame_Free(&f);
    cr_assert_eq(Frame_Init(&f, 1, 30, false), 0);
    Frame_Text(&f, 0, 0, 10, S_NORMAL, "split off 3.0 MiB");
    Frame_RowText(&f, 0, buf, sizeof buf);
    cr_assert_str_eq(buf, "split off>", "ASCII frames mark the cut with >");
    Frame_Free(&f);
}

Test(text, a_long_status_message_stops_before_the_help_key)
{
    start_with(MEM_FIRST_FIT, 0, 1, 10);
    snprintf(ui.msg, sizeof ui.msg, "%s", "a message far too long for the status line of a "
                                          "terminal that is only eighty columns wide, really");
    ui.msg_op = model.ops;
    compose(24, 80);
    const char *s = row(-1);
    cr_assert(strstr(s, "… ? help"), "cut, marked, and a blank before ? help: %s", s);
    stop();
}

/* ---- 18: the legend and the title keep what matters ----------------------------- */

static const char *const marks[] = {"━", "╌", "▲"};

Test(legend, the_marks_are_in_the_legend_at_80_and_100_columns)
{
    start_with(MEM_NEXT_FIT, 0, 1, 30);
    for (int cols = 80; cols <= 100; cols += 4) {
        compose(24, cols);
        const char *s = row(-2);
        cr_assert(strstr(s, "━ selected") && strstr(s, "╌ last op") && strstr(s, "▲ rover"),
                  "%d columns: %s", cols, s);
    }
    stop();
    start_with(MEM_NEXT_FIT, MEM_OPT_GUARD, 1, 30);
    compose(24, 80);
    for (size_t i = 0; i < 3; i++)
        cr_assert(strstr(row(-2), marks[i]), "guard mode, 80 columns: %s", row(-2));
    cr_assert(strstr(row(-2), "!"), "the broken guard too: %s", row(-2));
    stop();
}

Test(legend, no_entry_is_dropped_without_saying_so)
{
    for (unsigned guard = 0; guard <= MEM_OPT_GUARD; guard += MEM_OPT_GUARD) {
        start_with(MEM_NEXT_FIT, guard, 1, 30);
        for (int cols = 40; cols <= 130; cols++) {
            compose(24, cols);
            const char *s = row(-2);
            bool all = true;
            for (size_t i = 0; i < 3; i++)
                all &= strstr(s, marks[i]) != NULL;
            all &= !guard || strstr(s, "!") != NULL;
            cr_assert(all || strstr(s, "more in ?"), "%d columns: %s", cols, s);
            cr_assert(strstr(s, "█▓") && strstr(s, "│") && strstr(s, "·"), "%d: %s", cols, s);
        }
        stop();
    }
}

Test(legend, the_rover_is_only_in_the_legend_of_next_fit)
{
    start_with(MEM_BEST_FIT, 0, 1, 30);
    compose(24, 120);
    cr_assert(!strstr(row(-2), "rover"), "%s", row(-2));
    stop();
}

Test(title, the_scale_stays_in_the_title_at_40_columns)
{
    start_with(MEM_FIRST_FIT, 0, MEM_POLICY_COUNT, 10);
    compose(24, 40);
    cr_assert(strstr(row(0), "/cell"), "compare mode: %s", row(0));
    cr_assert(strstr(row(0), "op 10"), "%s", row(0));
    stop();
    start_with(MEM_WORST_FIT, 0, 1, 10);
    ui.zoom = 4;
    compose(24, 40);
    cr_assert(strstr(row(0), "/cell"), "zoomed: %s", row(0));
    stop();
}

/* ---- 19: round scales, rows and rulers ---------------------------------------------- */

static bool pow2(size_t v) { return v && (v & (v - 1)) == 0; }

/* The map's rows and ruler read back from the screen agree with the
 * geometry, and every figure is round. */
static void check_geometry(int rows, int cols, size_t arena)
{
    const MapGeom *g = &ui.geom[0];
    cr_assert(g->valid, "%dx%d, arena %zu: a map", cols, rows, arena);
    cr_assert(pow2(g->bpc), "%dx%d, arena %zu: %zu B/cell is a power of two", cols, rows, arena,
              g->bpc);
    size_t row_bytes = (size_t)g->cols * g->bpc;
    cr_assert(pow2((size_t)g->cols) || g->cols % 16 == 0 || (g->cols % 8 == 0 && g->bpc >= 2),
              "%dx%d: %d cells a row is a power of two or a multiple of 16", cols, rows, g->cols);
    cr_assert(pow2(row_bytes) || row_bytes % (16 * g->bpc) == 0 || row_bytes % 16 == 0,
              "%dx%d: rows of 0x%zx bytes keep the 16-byte grid", cols, rows, row_bytes);
    cr_assert(g->cols >= (cols - 12) * 2 / 3, "%dx%d: %d cells use the width", cols, rows, g->cols);
    /* the gutter: row r starts at start + r * row_bytes */
    for (int r = 0; r < g->rows && (size_t)r * row_bytes < g->end - g->start; r++) {
        char want[32];
        snprintf(want, sizeof want, "+0x%0*zx ", g->x - 4, g->start + (size_t)r * row_bytes);
        cr_assert(strncmp(row(g->y + 2 * r), want, strlen(want)) == 0, "%dx%d row %d: '%s' for %s",
                  cols, rows, r, row(g->y + 2 * r), want);
    }
    /* the ruler: a tick every power-of-two bytes, labelled with the offset
     * inside the row of the cell it stands on */
    const char *ruler = row(g->y - 1);
    int ticks = 0;
    for (const char *p = strstr(ruler, "╷+0x"); p; p = strstr(p + 1, "╷+0x")) {
        size_t cell = 0;
        for (const char *q = ruler; q < p; q++)
            cell += ((unsigned char)*q & 0xC0) != 0x80; /* columns, not bytes */
        cell -= (size_t)g->x;
        size_t off = strtoul(p + strlen("╷+0x"), NULL, 16);
        cr_assert_eq(off, cell * g->bpc, "%dx%d: the ruler's +0x%zx stands on cell %zu", cols,
                     rows, off, cell);
        cr_assert(off == 0 || pow2(off) || off % (16 * g->bpc) == 0, "%dx%d: tick +0x%zx", cols,
                  rows, off);
        ticks++;
    }
    cr_assert_geq(ticks, g->cols >= 32 ? 2 : 1, "%dx%d: %s", cols, rows, ruler);
}

Test(geometry, bytes_per_cell_rows_and_rulers_are_round_at_every_size)
{
    static const size_t arenas[] = {4096, 8192, 12288, 65536, 100000, 1u << 20, 3u << 20};
    static const int sizes[][2] = {{24, 80}, {30, 100}, {48, 160}, {60, 250}, {12, 40}, {40, 120}};
    for (size_t a = 0; a < sizeof arenas / sizeof arenas[0]; a++) {
        ModelConfig cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.region_size = MemHeap_ControlSize() + arenas[a];
        cfg.nlanes = 1;
        cfg.workload = WL_RANDOM;
        cfg.seed = 1;
        char err[128];
        cr_assert_eq(Model_Init(&model, &cfg, err, sizeof err), 0, "%s", err);
        Ui_Init(&ui, &model, (GlyphMode){1, 0}, 8, true);
        for (int i = 0; i < 50; i++)
            Model_Step(&model);
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            compose(sizes[k][0], sizes[k][1]);
            check_geometry(sizes[k][0], sizes[k][1], arenas[a]);
            /* zoomed in twice: still round */
            App_Key(&ui, VK_HOME);
            Screen_Compose(&ui, &frame);
            App_Key(&ui, 'z');
            Screen_Compose(&ui, &frame);
            App_Key(&ui, 'z');
            Screen_Compose(&ui, &frame);
            if (ui.zoom)
                check_geometry(sizes[k][0], sizes[k][1], arenas[a]);
            ui.zoom = 0;
        }
        stop();
    }
}

/* ---- 4, 5, 6: the help scrolls, holds the workload, and q closes it ---------------- */

/* Every line the help showed while scrolled from top to bottom, joined. */
static void help_text(char *all, size_t len)
{
    all[0] = '\0';
    App_Key(&ui, VK_HOME);
    for (int page = 0; page < 40; page++) {
        Screen_Compose(&ui, &frame);
        for (int y = 0; y < frame.rows; y++) {
            strncat(all, row(y), len - strlen(all) - 2);
            strncat(all, "\n", len - strlen(all) - 1);
        }
        if (!screen_has("more ▼"))
            break;
        App_Key(&ui, VK_PGDN);
    }
}

Test(help, at_80x24_every_key_can_be_read_by_scrolling)
{
    start_with(MEM_FIRST_FIT, 0, 1, 10);
    compose(24, 80);
    App_Key(&ui, '?');
    Screen_Compose(&ui, &frame);
    cr_assert(screen_has("heapviz help"));
    cr_assert(screen_has("more ▼"), "more than a screen: it says so");
    static char all[65536];
    help_text(all, sizeof all);
    size_t n;
    const KeyHelp *k = App_KeyHelp(&n);
    for (size_t i = 0; i < n; i++) {
        cr_assert(strstr(all, k[i].keys), "the help shows '%s'", k[i].keys);
        cr_assert(strstr(all, k[i].what), "the help shows '%s'", k[i].what);
    }
    /* what defect 21 asked the help to explain */
    cr_assert(strstr(all, "Ctrl-L"), "Ctrl-L");
    cr_assert(strstr(all, "Ctrl-Z"), "Ctrl-Z");
    cr_assert(strstr(all, "1 − largest free / free"), "the fragmentation formula");
    cr_assert(strstr(all, "live / arena"), "the utilisation formula");
    cr_assert(strstr(all, "allocated") && strstr(all, "split off") && strstr(all, "coalesced"),
              "the flash colours");
    cr_assert(ui.help, "scrolling keeps the help open");
    stop();
}

Test(help, q_and_esc_close_it_and_other_keys_do_not)
{
    start_with(MEM_FIRST_FIT, 0, 1, 10);
    compose(24, 80);
    App_Key(&ui, '?');
    unsigned r = App_Key(&ui, 'q');
    cr_assert(!(r & R_QUIT), "q in the help closes the help, as its box says");
    cr_assert(!ui.help);
    App_Key(&ui, '?');
    App_Key(&ui, 'x');
    cr_assert(ui.help, "a key that means nothing there leaves it open");
    App_Key(&ui, 'j');
    App_Key(&ui, VK_DOWN);
    cr_assert(ui.help);
    App_Key(&ui, VK_ESC);
    cr_assert(!ui.help);
    App_Key(&ui, VK_F1);
    cr_assert(ui.help);
    App_Key(&ui, 'H');
    cr_assert(!ui.help);
    App_Key(&ui, '?');
    r = App_Key(&ui, VK_CTRL('c'));
    cr_assert(r & R_QUIT, "Ctrl-C still quits");
    stop();
}

Test(help, help_and_prompts_hold_the_workload)
{
    start_with(MEM_FIRST_FIT, 0, 1, 10);
    ui.paused = false;
    compose(24, 80);
    uint64_t ops = model.ops;
    App_Key(&ui, '?');
    cr_assert(!App_Running(&ui));
    App_Step(&ui);
    cr_assert_eq(model.ops, ops, "no step while the help is open");
    App_Key(&ui, '?');
    cr_assert(App_Running(&ui), "closed: it runs again");
    App_Key(&ui, 'i');
    cr_assert(!App_Running(&ui));
    App_Step(&ui);
    cr_assert_eq(model.ops, ops, "no step while an offset is typed");
    Screen_Compose(&ui, &frame);
    App_Key(&ui, VK_ESC);
    App_Key(&ui, 'a');
    App_Step(&ui);
    cr_assert_eq(model.ops, ops, "nor while a size is");
    App_Key(&ui, VK_ESC);
    cr_assert(App_Running(&ui), "cancelled: it runs again");
    App_Step(&ui);
    cr_assert_eq(model.ops, ops + 1);
    stop();
}

/* ---- 14: the status line says each thing once, and what is current ---------------- */

Test(status, running_is_said_once)
{
    start_with(MEM_FIRST_FIT, 0, 1, 10);
    compose(24, 80);
    App_Key(&ui, ' ');
    Screen_Compose(&ui, &frame);
    const char *s = row(-1);
    cr_assert(strstr(s, "running 8 op/s"), "%s", s);
    cr_assert_null(strstr(strstr(s, "running") + 1, "running"), "said twice: %s", s);
    stop();
}

Test(status, a_message_gives_way_to_the_next_step)
{
    start_with(MEM_FIRST_FIT, 0, 1, 10);
    compose(24, 80);
    App_Key(&ui, 'r');
    Screen_Compose(&ui, &frame);
    cr_assert(strstr(row(-1), "reset: empty heaps"), "%s", row(-1));
    App_Key(&ui, 'n');
    Screen_Compose(&ui, &frame);
    cr_assert_null(strstr(row(-1), "reset"), "one step later the reset is old news: %s", row(-1));
    cr_assert(strstr(row(-1), "last: "), "%s", row(-1));
    /* while running, a message stays for about six seconds' worth of operations */
    App_Key(&ui, 'r');
    ui.paused = false;
    for (int i = 0; i < 10; i++)
        App_Step(&ui);
    Screen_Compose(&ui, &frame);
    cr_assert(strstr(row(-1), "reset"), "10 operations at 8 op/s: still there: %s", row(-1));
    for (int i = 0; i < 60; i++)
        App_Step(&ui);
    Screen_Compose(&ui, &frame);
    cr_assert_null(strstr(row(-1), "reset"), "70 operations later: gone: %s", row(-1));
    stop();
}

/* ---- 9 and the projector: every statistic when there is room; the free sizes
 * and fragmentation without the untouched tail ------------------------------------ */

Test(stats, at_250x60_every_statistic_shows)
{
    start_with(MEM_NEXT_FIT, MEM_OPT_GUARD, 1, 60);
    compose(60, 250);
    static const char *const labels[] = {"ext. frag", "frag. no tail", "utilisation", "int. frag",
                                         "free", "free blocks", "largest free", "live objects",
                                         "used blocks", "failed allocs", "refused frees",
                                         "overflows", "padding", "metadata", "peak live",
                                         "allocs", "frees"};
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        cr_assert(screen_has(labels[i]), "250x60 shows '%s'", labels[i]);
    cr_assert(!screen_has("of 17 shown"), "nothing left out");
    stop();
}

Test(stats, a_smaller_screen_says_what_it_leaves_out)
{
    start_with(MEM_FIRST_FIT, 0, 1, 60);
    compose(24, 80);
    cr_assert(screen_has("ext. frag") && screen_has("frag. no tail"));
    cr_assert(screen_has("of 16 shown"), "the heading counts them");
    stop();
}

static bool count_free(const MemBlock *b, void *arg)
{
    size_t *count = arg;
    if (!b->used)
        count[Free_Class(b->size)]++;
    return true;
}

Test(stats, the_free_sizes_are_counted_from_the_walk)
{
    start_with(MEM_FIRST_FIT, 0, 1, 150);
    size_t want[FREE_CLASSES] = {0};
    MemHeap_Walk(model.lanes[0].heap, count_free, want);
    for (int w = 80; w <= 250; w += 170) {
        compose(w == 80 ? 24 : 60, w);
        for (unsigned k = 0; k < FREE_CLASSES; k++) {
            if (!want[k])
                continue;
            char lab[32], num[32];
            size_t lo = (size_t)MEM_MIN_BLOCK << k;
            if (lo >= 1024)
                snprintf(lab, sizeof lab, "%zuK", lo / 1024);
            else
                snprintf(lab, sizeof lab, "%zu", lo);
            snprintf(num, sizeof num, "%zu", want[k]);
            bool found = false;
            for (int y = 0; y < frame.rows && !found; y++) {
                const char *r = row(y);
                const char *p = strstr(r, w == 80 ? "by size" : "free blocks by size");
                if (!p && w == 80)
                    continue;
                if (w == 80) {
                    char pair[80];
                    snprintf(pair, sizeof pair, " %s:%s", lab, num);
                    found = strstr(p, pair) != NULL;
                } else {
                    /* the panel: one class a row, "  64 B ▇▇▇ 3" */
                    char head[40];
                    snprintf(head, sizeof head, "%s B", lab);
                    if (lo >= 1024)
                        snprintf(head, sizeof head, "%s", lab);
                    const char *q = strstr(r, head);
                    found = q && strstr(q, num);
                }
            }
            cr_assert(found, "%d columns: class %s has %zu free blocks", w, lab, want[k]);
        }
    }
    stop();
}

Test(stats, fragmentation_without_the_untouched_tail)
{
    /* first fit, typed: eight 200 B objects, every other one freed: the holes
     * are chopped up, the tail after the eighth object has never been used */
    start_with(MEM_FIRST_FIT, 0, 1, 0);
    void *p[8];
    for (int i = 0; i < 8; i++)
        p[i] = Model_Alloc(&model, 0, 200);
    for (int i = 0; i < 8; i += 2) {
        size_t off = (size_t)((uintptr_t)p[i] - (uintptr_t)model.lanes[0].snap.region.base);
        cr_assert_eq(Model_FreeAt(&model, 0, off, NULL, NULL), MEM_OK);
    }
    Model_Sync(&model);
    const Lane *l = &model.lanes[0];
    MemStats st = MemHeap_Stats(l->heap);
    cr_assert_lt(st.external_frag, 0.2, "today's figure: the tail hides the holes (%.3f)",
                 st.external_frag);
    /* the holes are four 208 B blocks below the high-water mark */
    cr_assert_eq(l->free.touched_free, 4 * 208);
    cr_assert_eq(l->free.touched_largest, 208);
    cr_assert_float_eq(l->free.frag_no_tail, 0.75, 1e-9);
    compose(24, 80);
    cr_assert(screen_has("frag. no tail 75.0 %"), "the panel shows it next to today's");
    stop();
}

/* ---- 21: compare mode tells the selected block -------------------------------------- */

Test(compare, the_selected_block_is_described)
{
    start_with(MEM_FIRST_FIT, 0, 4, 150);
    compose(40, 120);
    cr_assert(!screen_has("selected in"), "before a selection, the events have the room");
    App_Key(&ui, VK_HOME);
    App_Key(&ui, 'l');
    Screen_Compose(&ui, &frame);
    const SnapBlock *b = &model.lanes[0].snap.blocks[1];
    char want[64];
    snprintf(want, sizeof want, "selected in first fit: +0x%x %s", b->offset,
             b->used ? "used" : "free");
    cr_assert(screen_has(want), "%s", want);
    cr_assert(screen_has(b->used ? "· object " : "in the free list"), "its details");
    App_Key(&ui, VK_DOWN);
    Screen_Compose(&ui, &frame);
    cr_assert(screen_has("selected in next fit: "), "the focused heap's");
    stop();
}

/* ---- 20: the rate shown is the rate that runs ------------------------------------------ */

Test(status, the_rate_that_runs_when_it_is_not_the_one_asked)
{
    start_with(MEM_FIRST_FIT, 0, 1, 10);
    ui.paused = false;
    ui.speed = 10000;
    ui.rate = 566;
    compose(24, 80);
    cr_assert(strstr(row(-1), "running 566 op/s (10000 asked)"), "%s", row(-1));
    ui.rate = 9500;
    Screen_Compose(&ui, &frame);
    cr_assert(strstr(row(-1), "running 10000 op/s"), "within a tenth: %s", row(-1));
    stop();
}

/* test_viz_keys.c - heapviz's key table: every key the help lists does
 * something, and each action changes the model or the UI as it says (no
 * terminal: actions return reaction flags and never draw). */
#include "testlib.h"

#include "app.h"
#include "frame.h"
#include "history.h"
#include "model.h"
#include "viz_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

static Model model;
static Ui ui;
static Frame frame;

static void start(unsigned flags, unsigned nlanes)
{
    ModelConfig cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.region_size = 8192;
    cfg.nlanes = nlanes;
    for (unsigned i = 0; i < nlanes; i++)
        cfg.policies[i] = (MemPolicy)i;
    cfg.flags = flags;
    cfg.workload = WL_RANDOM;
    cfg.seed = 5;
    char err[128];
    cr_assert_eq(Model_Init(&model, &cfg, err, sizeof err), 0, "%s", err);
    Ui_Init(&ui, &model, (GlyphMode){1, 1}, 8, true);
    for (int i = 0; i < 40; i++)
        Model_Step(&model);
    cr_assert_eq(Frame_Init(&frame, 30, 100, true), 0);
    Screen_Compose(&ui, &frame);
}

static void stop(void)
{
    Frame_Free(&frame);
    Model_Fini(&model);
}

static unsigned press(int key) { return viz_press(&ui, &frame, key); }
static void type(const char *s) { viz_type(&ui, &frame, s); }

static uint64_t ops(void) { return model.lanes[0].snap.stats.ops; }

static int token_key(const char *t)
{
    static const struct {
        const char *name;
        int key;
    } named[] = {{"Space", ' '},    {"←", VK_LEFT},    {"→", VK_RIGHT},   {"↑", VK_UP},
                 {"↓", VK_DOWN},    {"Tab", '\t'},     {"S-Tab", VK_BTAB}, {"Home", VK_HOME},
                 {"End", VK_END},   {"PgUp", VK_PGUP}, {"PgDn", VK_PGDN}, {"F1", VK_F1},
                 {"Ctrl-C", VK_CTRL('c')}, {"Ctrl-L", VK_CTRL('l')}, {"Ctrl-Z", VK_CTRL('z')},
                 {"click", VK_MOUSE}, {"Bksp", VK_BACKSPACE}};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if (strcmp(t, named[i].name) == 0)
            return named[i].key;
    cr_assert_eq(strlen(t), 1, "unknown key name '%s' in the help", t);
    return (unsigned char)t[0];
}

Test(keys, every_key_in_the_help_does_something)
{
    size_t n;
    const KeyHelp *h = App_KeyHelp(&n);
    cr_assert_gt(n, 15);
    /* e exports and s saves into the working directory: not the tree */
    char dir[] = "/tmp/test_viz_keys_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(chdir(dir), 0);
    for (size_t i = 0; i < n; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s", h[i].keys);
        for (char *t = strtok(buf, " "); t; t = strtok(NULL, " ")) {
            start(0, 1);
            ui.mouse_y = ui.geom[0].y;
            ui.mouse_x = ui.geom[0].x;
            int key = token_key(t);
            unsigned r = press(key);
            cr_assert(r != R_NONE || key == VK_MOUSE, "'%s' returned no reaction", t);
            cr_assert(!strstr(ui.msg, "does nothing"), "'%s': %s", t, ui.msg);
            if (key == 'q' || key == VK_CTRL('c'))
                cr_assert(r & R_QUIT, "'%s' quits", t);
            stop();
        }
    }
    char cmd[80];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

Test(keys, a_key_that_means_nothing_says_so)
{
    start(0, 1);
    press('x');
    cr_assert_str_eq(ui.msg, "'x' does nothing here: ? shows the keys");
    cr_assert(ui.msg_warn);
    press('f');
    cr_assert(strstr(ui.msg, "select one first"), "%s", ui.msg);
    press(VK_PGDN);
    cr_assert(strstr(ui.msg, "z zooms in first"), "%s", ui.msg);
    stop();
}

Test(keys, step_and_pause_move_the_operation_count_by_one)
{
    start(0, 1);
    uint64_t before = ops();
    cr_assert(ui.paused);
    unsigned r = press('n');
    cr_assert(r & R_FLASH);
    cr_assert_eq(ops(), before + 1);
    press('n');
    cr_assert_eq(ops(), before + 2);
    press(' ');
    cr_assert(!ui.paused);
    press(' ');
    cr_assert(ui.paused);
    cr_assert_eq(ops(), before + 2, "pausing does not step");
    unsigned s = ui.speed;
    press('+');
    cr_assert_gt(ui.speed, s);
    press('-');
    press('-');
    cr_assert_lt(ui.speed, s);
    stop();
}

Test(keys, allocate_through_the_prompt_then_free_the_selection)
{
    start(0, 1);
    press('a');
    cr_assert_eq(ui.prompt, PROMPT_ALLOC);
    type("7x");
    press(VK_BACKSPACE);
    type("77\n");
    cr_assert_eq(ui.prompt, PROMPT_NONE);
    cr_assert(strstr(ui.msg, "allocated 777 B"), "%s", ui.msg);
    const Lane *l = &model.lanes[0];
    long bi = Snapshot_BlockAt(&l->snap, ui.sel);
    cr_assert_geq(bi, 0);
    cr_assert(l->snap.blocks[bi].used);
    cr_assert_eq(l->snap.blocks[bi].object, 777, "the new block is selected");
    const LogLine *ln = Lane_Log(l, 0);
    cr_assert(strstr(ln->text, "alloc 777 B: first fit examined"), "%s", ln->text);
    size_t live = l->snap.stats.live_bytes;
    press('f');
    cr_assert(strstr(ui.msg, "freed the object"), "%s", ui.msg);
    cr_assert_eq(model.lanes[0].snap.stats.live_bytes, live - 777);
    press('a');
    type("lots\n");
    cr_assert(strstr(ui.msg, "'lots' is not a size"), "%s", ui.msg);
    press('a');
    press(VK_ESC);
    cr_assert_eq(ui.prompt, PROMPT_NONE);
    stop();
}

Test(keys, interior_free_at_a_typed_offset_and_a_refusal)
{
    start(0, 1);
    press('a');
    type("300\n");
    const Lane *l = &model.lanes[0];
    long bi = Snapshot_BlockAt(&l->snap, ui.sel);
    size_t obj = l->snap.blocks[bi].offset + l->snap.blocks[bi].header;
    char off[32];
    snprintf(off, sizeof off, "0x%zx\n", obj + 123);
    press('i');
    type(off);
    char want[96];
    snprintf(want, sizeof want, "is byte 123 of the 300 B object at +0x%zx", obj);
    cr_assert(strstr(ui.msg, want), "%s", ui.msg);
    cr_assert(!l->snap.blocks[Snapshot_BlockAt(&l->snap, obj)].used);
    /* the header of the first block is refused with the library's words */
    press('i');
    snprintf(off, sizeof off, "d%zu\n", (size_t)l->snap.blocks[0].offset + 2);
    type(off);
    cr_assert(strstr(ui.msg, "refused: it points into"), "%s", ui.msg);
    char echo[64];
    snprintf(echo, sizeof echo, "decimal %zu is +0x%zx", (size_t)l->snap.blocks[0].offset + 2,
             (size_t)l->snap.blocks[0].offset + 2);
    cr_assert(strstr(ui.msg, echo), "what was understood is said: %s", ui.msg);
    cr_assert_gt(l->snap.stats.rejected_frees, 0);
    stop();
}

static bool head_of(const MemBlock *b, void *arg)
{
    *(size_t *)arg = b->offset;
    return false;
}

/* the head of the free list, straight from the library */
static size_t free_head(const MemHeap *h)
{
    size_t off = SIZE_MAX;
    MemHeap_WalkFree(h, head_of, &off);
    return off;
}

Test(keys, selection_moves_across_blocks_and_the_free_list)
{
    start(0, 1);
    press(VK_HOME);
    cr_assert_eq(ui.sel, model.lanes[0].snap.blocks[0].offset);
    press('l');
    cr_assert_eq(ui.sel, model.lanes[0].snap.blocks[1].offset);
    press(VK_LEFT);
    press(VK_LEFT);
    cr_assert(strstr(ui.msg, "first block"), "%s", ui.msg);
    press('\t');
    Lane *l = &model.lanes[0];
    cr_assert_eq(ui.sel, free_head(l->heap), "Tab: the free list's head");
    cr_assert_eq(Lane_FreeRank(l, ui.sel, NULL), 0);
    if (l->snap.stats.free_blocks > 1) {
        press('\t');
        cr_assert_eq(ui.sel, Lane_FreeNth(l, 1));
        cr_assert_eq(Lane_FreeRank(l, ui.sel, NULL), 1);
        press(VK_BTAB);
        cr_assert_eq(ui.sel, free_head(l->heap), "S-Tab: back to the head");
    }
    press(VK_BTAB);
    cr_assert_eq(Lane_FreeRank(l, ui.sel, NULL), (long)l->snap.stats.free_blocks - 1,
                 "S-Tab from the head: the list's tail");
    cr_assert_eq(Lane_FreeRank(l, l->snap.blocks[0].offset + 1, NULL), -1,
                 "no free block starts there");
    ui.mouse_y = ui.geom[0].y;
    ui.mouse_x = ui.geom[0].x + 3;
    press(VK_MOUSE);
    size_t at = ui.geom[0].start + 3 * ui.geom[0].bpc;
    cr_assert_eq(ui.sel, model.lanes[0].snap.blocks[Snapshot_BlockAt(&model.lanes[0].snap, at)].offset);
    stop();
}

Test(keys, zoom_in_and_out_changes_the_scale)
{
    start(0, 1);
    size_t full = ui.geom[0].bpc;
    press('l');
    press('z');
    Screen_Compose(&ui, &frame);
    cr_assert_lt(ui.geom[0].bpc, full);
    press('Z');
    press('Z');
    press('Z');
    press('Z');
    Screen_Compose(&ui, &frame);
    cr_assert_eq(ui.geom[0].bpc, full);
    cr_assert_eq(ui.zoom, 0);
    stop();
}

Test(keys, policy_workload_and_reset_restart_the_same_operations)
{
    start(0, 1);
    uint64_t before = ops(); /* a realloc is two of the library's operations */
    press('p');
    cr_assert_eq(model.lanes[0].policy, MEM_NEXT_FIT);
    cr_assert_eq(ops(), before, "p replays the same operations, up to where they were");
    cr_assert_eq(model.ops, 40);
    press('r');
    cr_assert_eq(ops(), 0);
    cr_assert_eq(model.ops, 0);
    cr_assert_not_null(Lane_Log(&model.lanes[0], 0));
    cr_assert(strstr(Lane_Log(&model.lanes[0], 0)->text, "start: next fit"), "%s",
              Lane_Log(&model.lanes[0], 0)->text);
    cr_assert_null(Lane_Log(&model.lanes[0], 1), "r empties the log: the old run's events go");
    press('n');
    press('n');
    const LogLine *a = Lane_Log(&model.lanes[0], 0);
    char first[LOG_LEN];
    snprintf(first, sizeof first, "%s", a->text);
    cr_assert_eq(a->op, 2);
    press('r');
    press('n');
    press('n');
    cr_assert_str_eq(Lane_Log(&model.lanes[0], 0)->text, first, "same seed, same operations");
    press('w');
    cr_assert_eq(model.cfg.workload, WL_STACK);
    cr_assert(strstr(ui.msg, "last in, first out"), "w says what the workload does: %s", ui.msg);
    stop();
}

/* The used block whose object is `size` bytes, or -1. */
static long block_of_size(const Lane *l, size_t size)
{
    for (size_t i = 0; i < l->snap.nblocks; i++)
        if (l->snap.blocks[i].used && l->snap.blocks[i].object == size)
            return (long)i;
    return -1;
}


Test(keys, typed_operations_survive_p_w_and_r)
{
    start(0, 1);
    const Lane *l = &model.lanes[0];
    press('a');
    type("777\n");
    press('a');
    type("333\n");
    press('f'); /* the 333 B object, just selected */
    cr_assert_eq(block_of_size(l, 333), -1);
    /* a workload object, freed through a byte inside it */
    long w = -1;
    for (size_t i = 0; i < l->snap.nblocks && w < 0; i++)
        if (l->snap.blocks[i].used && l->snap.blocks[i].object != 777 &&
            l->snap.blocks[i].object > 20)
            w = (long)i;
    cr_assert_geq(w, 0);
    size_t wobj = l->snap.blocks[w].offset + l->snap.blocks[w].header;
    uint32_t wsize = l->snap.blocks[w].object;
    char off[32];
    snprintf(off, sizeof off, "%zx\n", wobj + 10);
    press('i');
    type(off);
    cr_assert(!l->snap.blocks[Snapshot_BlockAt(&l->snap, wobj)].used);
    size_t n;
    const TypedOp *t = Model_TypedOps(&model, &n);
    cr_assert_eq(n, 4);
    cr_assert_eq(t[0].kind, TYPED_ALLOC);
    cr_assert_eq(t[0].after, 40);
    cr_assert_eq(t[2].kind, TYPED_FREE);
    cr_assert_eq(t[2].target, TARGET_TYPED, "the free names the typed allocation");
    cr_assert_eq(t[2].id, t[1].no);
    cr_assert_eq(t[3].target, TARGET_WORKLOAD, "a workload object is named by its id");
    cr_assert_eq(t[3].offset, 10, "the interior byte is kept");
    uint64_t before = model.ops;
    cr_assert_eq(before, 44);

    press('p');
    cr_assert_eq(model.ops, before, "p: the same operations, typed ones included");
    cr_assert_geq(block_of_size(l, 777), 0, "the typed allocation is there under next fit");
    cr_assert_eq(block_of_size(l, 333), -1, "and the typed free freed it again");
    cr_assert(viz_log_has(l, "alloc 777 B: next fit"), "the replay is in the events");
    char want[64];
    snprintf(want, sizeof want, "(%u B), ", wsize);
    cr_assert(viz_log_has(l, want), "the workload object (%u B) is freed again", wsize);
    cr_assert(strstr(ui.msg, "4 of them yours"), "%s", ui.msg);

    press('r');
    cr_assert_eq(model.ops, 0);
    cr_assert_eq(block_of_size(l, 777), -1, "not yet: it comes back after 40 operations");
    /* n applies one operation: the workload's 40, then the 4 typed ones */
    for (int i = 0; i < 40; i++)
        press('n');
    cr_assert_eq(model.ops, 40);
    cr_assert_eq(block_of_size(l, 777), -1, "the typed ones come next");
    for (int i = 0; i < 4; i++)
        press('n');
    cr_assert_eq(model.ops, 44, "40 workload operations and the 4 typed ones");
    cr_assert_geq(block_of_size(l, 777), 0, "back where it was");
    Model_TypedOps(&model, &n);
    cr_assert_eq(n, 4, "a replay adds nothing to the list");

    press('w');
    cr_assert_eq(model.cfg.workload, WL_STACK);
    cr_assert(strstr(ui.msg, "your 4 operations come back"), "%s", ui.msg);
    for (int i = 0; i < 41; i++)
        press('n');
    cr_assert_geq(block_of_size(l, 777), 0, "and under the next workload too");
    stop();
}

/* The knobs (--order, --coalesce) hold for typed operations replayed by p
 * and by time travel: the replay's heaps are made with them, as the first. */
Test(keys, typed_operations_replay_under_the_knobs)
{
    ModelConfig cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.region_size = 8192;
    cfg.nlanes = 1;
    cfg.policies[0] = MEM_FIRST_FIT;
    cfg.order = MEM_ORDER_LIFO;
    cfg.coalesce = MEM_COALESCE_NEVER;
    cfg.workload = WL_RANDOM;
    cfg.seed = 5;
    char err[128];
    cr_assert_eq(Model_Init(&model, &cfg, err, sizeof err), 0, "%s", err);
    Ui_Init(&ui, &model, (GlyphMode){1, 1}, 8, true);
    cr_assert_eq(Frame_Init(&frame, 30, 100, true), 0);
    Screen_Compose(&ui, &frame);
    const Lane *l = &model.lanes[0];
    /* three neighbours, the outer two freed: never coalesced, the last
     * freed heads the LIFO list */
    for (int i = 0; i < 3; i++) {
        press('a');
        type("200\n");
    }
    size_t at[3], k = 0;
    for (size_t i = 0; i < l->snap.nblocks && k < 3; i++)
        if (l->snap.blocks[i].used && l->snap.blocks[i].object == 200)
            at[k++] = l->snap.blocks[i].offset + l->snap.blocks[i].header;
    cr_assert_eq(k, 3);
    char off[32];
    for (int i = 0; i < 3; i++) {
        snprintf(off, sizeof off, "%zx\n", at[i]);
        press('i');
        type(off);
    }
    uint64_t ops = model.ops;
    cr_assert_eq(ops, 6);
    cr_assert(viz_log_has(l, "not coalesced"), "never: the neighbours stay apart");
    size_t free_before = l->snap.stats.free_blocks;
    cr_assert_geq(free_before, 4, "three freed blocks and the rest, apart");

    press('p'); /* next fit, the same knobs and operations */
    MemRegion r = MemHeap_Region(l->heap);
    cr_assert_eq(r.policy, MEM_NEXT_FIT);
    cr_assert_eq(r.order, MEM_ORDER_LIFO, "p keeps the list order");
    cr_assert_eq(r.coalesce, MEM_COALESCE_NEVER, "p keeps coalescing off");
    cr_assert_eq(model.ops, ops, "the typed operations are replayed");
    cr_assert_eq(l->snap.stats.free_blocks, free_before, "and their frees stay apart");
    cr_assert_eq(MemHeap_Check(l->heap), 0);

    /* back to the start and forward again: the replayed heap is made with
     * the knobs too */
    press('g');
    type("0\n");
    cr_assert_eq(model.ops, 0);
    press('g');
    snprintf(off, sizeof off, "%llu\n", (unsigned long long)ops);
    type(off);
    cr_assert_eq(model.ops, ops);
    r = MemHeap_Region(l->heap);
    cr_assert_eq(r.order, MEM_ORDER_LIFO);
    cr_assert_eq(r.coalesce, MEM_COALESCE_NEVER);
    cr_assert_eq(l->snap.stats.free_blocks, free_before);
    cr_assert_eq(MemHeap_Check(l->heap), 0);
    stop();
}

Test(keys, the_overflow_key_breaks_a_guard_that_free_then_reports)
{
    start(MEM_OPT_GUARD, 1);
    press('a');
    type("100\n");
    size_t sel = ui.sel;
    press('o');
    const Lane *l = &model.lanes[0];
    const SnapBlock *b = &l->snap.blocks[Snapshot_BlockAt(&l->snap, sel)];
    cr_assert(b->overflowed, "the walk reports the broken guard");
    cr_assert(strstr(Lane_Log(l, 0)->text, "you wrote 4 B past the end of the 100 B object"));
    press('f');
    cr_assert(strstr(Lane_Log(l, 0)->text, "OVERFLOW: 4 B of the guard"), "%s",
              Lane_Log(l, 0)->text);
    cr_assert_eq(l->snap.stats.overflows, 1);
    stop();
}

Test(keys, compare_mode_allocates_in_every_heap_and_moves_between_them)
{
    start(0, 4);
    press('a');
    type("64\n");
    for (unsigned i = 0; i < 4; i++)
        cr_assert(strstr(Lane_Log(&model.lanes[i], 0)->text, "alloc 64 B"), "lane %u", i);
    press(VK_DOWN);
    cr_assert_eq(ui.lane, 1);
    uint64_t before = model.ops;
    press('p');
    /* next fit becomes the next policy no other heap shows: fast fit */
    cr_assert_eq(model.lanes[1].policy, MEM_FAST, "%s", ui.msg);
    cr_assert_eq(model.lanes[0].policy, MEM_FIRST_FIT);
    cr_assert_eq(model.lanes[2].policy, MEM_BEST_FIT);
    cr_assert(strstr(ui.msg, "the next fit heap is fast fit now"), "%s", ui.msg);
    cr_assert_eq(model.ops, before, "the same operations, up to where they were");
    for (unsigned i = 0; i < 4; i++)
        cr_assert(viz_log_has(&model.lanes[i], "alloc 64 B"), "lane %u replays the typed alloc", i);
    press('i');
    cr_assert(strstr(ui.msg, "one heap"), "%s", ui.msg);
    stop();
}

Test(keys, p_with_every_policy_on_the_screen_says_so)
{
    start(0, MEM_POLICY_COUNT);
    press('p');
    cr_assert(strstr(ui.msg, "every policy is on the screen"), "%s", ui.msg);
    stop();
}

Test(keys, a_failed_allocation_flashes_the_largest_free_block)
{
    for (unsigned p = 0; p < MEM_POLICY_COUNT; p++) {
        start(0, 1);
        char err[128];
        cr_assert_eq(Model_SetPolicy(&model, (MemPolicy)p, err, sizeof err), 0, "%s", err);
        for (int i = 0; i < 40; i++)
            Model_Step(&model);
        press('a');
        type("99999999\n");
        const Lane *l = &model.lanes[0];
        MemStats st = MemHeap_Stats(l->heap);
        cr_assert_eq(l->ntouch, 1, "%s", MemPolicy_Name((MemPolicy)p));
        cr_assert_eq(l->touch[0].kind, TOUCH_FAIL);
        cr_assert_eq(l->touch[0].offset, st.largest_free_offset);
        cr_assert_eq(l->touch[0].size, st.largest_free);
        stop();
    }
}

Test(model, regions_the_snapshot_cannot_hold_are_refused)
{
    ModelConfig cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.region_size = VIZ_MODEL_MAX_REGION + 1;
    cfg.nlanes = 1;
    cfg.workload = WL_RANDOM;
    char err[128] = "";
    cr_assert_eq(Model_Init(&model, &cfg, err, sizeof err), -1);
    cr_assert(strstr(err, "cannot show a region"), "%s", err);
}

/* The screen's rows but the status line, as text. */
static void screen_text(char *out, size_t len)
{
    Screen_Compose(&ui, &frame);
    size_t n = 0;
    out[0] = '\0';
    for (int y = 0; y < frame.rows - 1 && n + 200 < len; y++) {
        Frame_RowText(&frame, y, out + n, len - n);
        n += strlen(out + n);
        out[n++] = '\n';
        out[n] = '\0';
    }
}

Test(keys, b_and_backspace_step_back_and_n_comes_forward_again)
{
    start(0, 1);
    static char at40[8192], at41[8192], now[8192];
    press(VK_HOME);
    press('l');
    size_t sel40 = ui.sel;
    screen_text(at40, sizeof at40);
    press('n');
    press(VK_END);
    screen_text(at41, sizeof at41);
    press('b');
    cr_assert(ui.paused);
    cr_assert(strstr(ui.msg, "step 40 of 41"), "%s", ui.msg);
    cr_assert_eq(ui.sel, sel40, "the selection of step 40");
    screen_text(now, sizeof now);
    cr_assert_str_eq(now, at40, "the screen of step 40 again");
    press('n');
    screen_text(now, sizeof now);
    cr_assert_str_eq(now, at41, "n redoes step 41");
    press(VK_BACKSPACE);
    screen_text(now, sizeof now);
    cr_assert_str_eq(now, at40, "Backspace is b");
    stop();
}

Test(keys, brackets_go_ten_steps_and_g_goes_to_a_typed_step)
{
    start(0, 1);
    History *h = model.hist;
    cr_assert_eq(model.ops, 40);
    press('[');
    cr_assert_eq(model.ops, 30);
    press('[');
    press('[');
    press('[');
    press('[');
    cr_assert_eq(model.ops, 0);
    press('[');
    cr_assert(strstr(ui.msg, "this is the start"), "%s", ui.msg);
    press(']');
    cr_assert_eq(model.ops, 10);
    press('g');
    cr_assert_eq(ui.prompt, PROMPT_GOTO);
    type("35\n");
    cr_assert_eq(model.ops, 35);
    press('g');
    type("55\n");
    cr_assert_eq(model.ops, 55, "beyond the present: new operations");
    cr_assert_eq(History_Last(h), 55);
    press('g');
    type("ten\n");
    cr_assert(strstr(ui.msg, "'ten' is not a step number"), "%s", ui.msg);
    cr_assert_eq(model.ops, 55, "nothing moved");
    press('g');
    type("1000056\n"); /* one more than a million ahead */
    cr_assert(strstr(ui.msg, "too far ahead: at most 1000000 steps beyond 55"), "%s", ui.msg);
    cr_assert_eq(model.ops, 55);
    stop();
}

Test(keys, travel_works_in_compare_mode)
{
    start(0, 4);
    static char at40[16384], now[16384];
    screen_text(at40, sizeof at40);
    press('a');
    type("200\n");
    press('n');
    press('b');
    press('b');
    cr_assert_eq(model.ops, 40);
    screen_text(now, sizeof now);
    cr_assert_str_eq(now, at40, "every heap as it was");
    stop();
}

/* ---- issue 12 ------------------------------------------------------------------ */

/* The zoomed view as the title states it: [start, end). */
static void view(size_t *a, size_t *b)
{
    Screen_Compose(&ui, &frame);
    *a = ui.geom[0].start;
    *b = ui.geom[0].end;
}

Test(keys, paging_a_zoomed_view_moves_one_page_a_press_and_reaches_both_ends)
{
    start(0, 1);
    Frame_Free(&frame);
    cr_assert_eq(Frame_Init(&frame, 48, 160, true), 0);
    press(VK_HOME);
    press('z');
    press('z');
    size_t a, b, size = model.lanes[0].snap.region.size;
    view(&a, &b);
    cr_assert_eq(a, 0, "zoomed around the first block");
    size_t span = (size_t)ui.geom[0].rows * (size_t)ui.geom[0].cols * ui.geom[0].bpc;
    cr_assert_lt(span, size, "the zoomed view shows part of the arena");
    size_t sel = ui.sel;
    size_t prev = a;
    int presses = 0;
    while (b < size) {
        cr_assert_lt(presses++, 64, "PgDn never reached the end (stuck at +0x%zx)", a);
        press(VK_PGDN);
        view(&a, &b);
        cr_assert_gt(a, prev, "PgDn moved the view (+0x%zx, then +0x%zx)", prev, a);
        cr_assert(a - prev == span || b == size,
                  "a full page (+0x%zx bytes), unless it reaches the end: +0x%zx -> +0x%zx", span,
                  prev, a);
        cr_assert_eq(ui.sel, sel, "paging leaves the selection alone");
        prev = a;
    }
    press(VK_PGDN);
    cr_assert(strstr(ui.msg, "end of the arena"), "%s", ui.msg);
    while (a > 0) {
        cr_assert_lt(presses++, 128, "PgUp never reached the start (stuck at +0x%zx)", a);
        press(VK_PGUP);
        view(&a, &b);
        cr_assert_lt(a, prev, "PgUp moved the view (+0x%zx, then +0x%zx)", prev, a);
        prev = a;
    }
    press(VK_PGUP);
    cr_assert(strstr(ui.msg, "start of the arena"), "%s", ui.msg);
    /* a selection that moves brings the view back to it */
    press(VK_END);
    view(&a, &b);
    cr_assert(ui.sel >= a && ui.sel < b, "the view follows a moved selection");
    stop();
}

Test(keys, offsets_are_hex_unless_marked_decimal)
{
    size_t v = 0;
    cr_assert_eq(App_ParseOffset("100", &v), 16);
    cr_assert_eq(v, 0x100, "100 is hex, like every offset on the screen");
    cr_assert_eq(App_ParseOffset("1c4", &v), 16);
    cr_assert_eq(v, 0x1c4);
    cr_assert_eq(App_ParseOffset("abc", &v), 16);
    cr_assert_eq(v, 0xabc);
    cr_assert_eq(App_ParseOffset("+0x1C4", &v), 16);
    cr_assert_eq(v, 0x1c4);
    cr_assert_eq(App_ParseOffset("d452", &v), 10);
    cr_assert_eq(v, 452);
    cr_assert_eq(App_ParseOffset("452.", &v), 10);
    cr_assert_eq(v, 452);
    cr_assert_eq(App_ParseOffset(" 0xd100 ", &v), 16);
    cr_assert_eq(v, 0xd100);
    v = 7;
    cr_assert_eq(App_ParseOffset("d4a", &v), -1, "no hex digit in a decimal");
    cr_assert_eq(App_ParseOffset("0x", &v), -1);
    cr_assert_eq(App_ParseOffset("", &v), -1);
    cr_assert_eq(App_ParseOffset("12g", &v), -1);
    cr_assert_eq(App_ParseOffset("fffffffffffffffff", &v), -1, "overflow");
    cr_assert_eq(v, 7, "nothing set on a refusal");
}

Test(keys, the_offset_prompt_echoes_what_it_understood)
{
    start(0, 1);
    press('i');
    type("d100");
    Screen_Compose(&ui, &frame);
    char row[512];
    Frame_RowText(&frame, frame.rows - 1, row, sizeof row);
    cr_assert(strstr(row, "d100█ = +0x64 (decimal 100)"), "%s", row);
    press(VK_BACKSPACE);
    press(VK_BACKSPACE);
    press(VK_BACKSPACE);
    press(VK_BACKSPACE);
    type("1c4");
    Screen_Compose(&ui, &frame);
    Frame_RowText(&frame, frame.rows - 1, row, sizeof row);
    cr_assert(strstr(row, "1c4█ = +0x1c4"), "%s", row);
    stop();
}

Test(keys, named_keys_in_a_key_string)
{
    const char *s = "a1<Enter><PgDn><S-Tab><C-l><lt><Bogus>x";
    int want[] = {'a', '1', VK_ENTER, VK_PGDN, VK_BTAB, VK_CTRL('l'), '<', '<'};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_assert_eq(App_NextKey(&s), want[i], "key %zu", i);
    cr_assert_str_eq(s, "Bogus>x", "an unknown name is a literal '<'");
    s = "";
    cr_assert_eq(App_NextKey(&s), 0);
}

/* test_lecture.c - heapviz's lecture features without a terminal: a
 * session saved as a script (key s) replays to the same heap; captions and
 * pauses of a running script. */
#include "testlib.h"

#include "app.h"
#include "explain.h"
#include "frame.h"
#include "history.h"
#include "lecture.h"
#include "model.h"
#include "script.h"
#include "viz_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static Model model;
static Ui ui;
static Frame frame;
static Script script;

static void start_with(unsigned nlanes, WorkloadKind wl, const char *ops)
{
    ModelConfig cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.region_size = MemHeap_ControlSize() + 8192;
    cfg.nlanes = nlanes;
    for (unsigned i = 0; i < nlanes; i++)
        cfg.policies[i] = (MemPolicy)i;
    cfg.workload = wl;
    cfg.seed = 5;
    char err[256];
    if (ops) {
        cr_assert_eq(Script_Parse(ops, strlen(ops), "t", &script, err, sizeof err), 0, "%s",
                     err);
        cfg.trace = &script.trace;
    }
    cr_assert_eq(Model_Init(&model, &cfg, err, sizeof err), 0, "%s", err);
    Ui_Init(&ui, &model, (GlyphMode){1, 1}, 8, true);
    ui.script = ops ? &script : NULL;
    ui.trace_name = "t";
    cr_assert_eq(Frame_Init(&frame, 30, 100, true), 0);
    Screen_Compose(&ui, &frame);
}

static void stop(void)
{
    Frame_Free(&frame);
    Model_Fini(&model);
    Script_Free(&script);
}

static unsigned press(int key) { return viz_press(&ui, &frame, key); }
static void type(const char *s) { viz_type(&ui, &frame, s); }

static char *layout(const Lane *l)
{
    static char buf[1 << 16];
    size_t n = 0;
    for (size_t i = 0; i < l->snap.nblocks && n + 40 < sizeof buf; i++) {
        const SnapBlock *b = &l->snap.blocks[i];
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%c%u@%x/%u ", b->used ? 'U' : 'F',
                              b->size, b->offset, b->object);
    }
    return strdup(buf);
}

/* Saves the session, runs the script on a fresh model of the same policy
 * and returns the text; the last lane-0 layout of both must agree. */
static char *save_and_replay(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    char err[200];
    long n = Lecture_WriteScript(&ui, f, err, sizeof err);
    fclose(f);
    cr_assert_geq(n, 0, "%s", err);
    Model_Sync(&model);
    char *want = layout(&model.lanes[0]);
    MemPolicy pol = model.lanes[0].policy;

    Script s;
    cr_assert_eq(Script_Parse(text, len, "saved", &s, err, sizeof err), 0, "%s\n%s", err, text);
    cr_assert_eq((long)s.trace.nops, n);
    Model m2;
    ModelConfig cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.region_size = MemHeap_ControlSize() + s.trace.heap_hint;
    cfg.nlanes = 1;
    cfg.policies[0] = pol;
    cfg.workload = WL_TRACE;
    cfg.trace = &s.trace;
    cr_assert_eq(Model_Init(&m2, &cfg, err, sizeof err), 0, "%s", err);
    while (Model_Step(&m2))
        ;
    Model_Sync(&m2);
    char *got = layout(&m2.lanes[0]);
    cr_assert_str_eq(got, want, "the script replays to the same heap:\n%s", text);
    free(got);
    free(want);
    Model_Fini(&m2);
    Script_Free(&s);
    return text;
}

Test(save, a_workload_with_typed_operations_replays_to_the_same_heap)
{
    start_with(1, WL_RANDOM, NULL);
    for (int i = 0; i < 60; i++)
        Model_Step(&model);
    press('a');
    type("300\n");
    size_t typed_obj = ui.sel + MEM_HEADER_SIZE;
    for (int i = 0; i < 30; i++)
        Model_Step(&model);
    /* free a workload object through an interior byte, and the typed one */
    Model_Sync(&model);
    const Lane *l = &model.lanes[0];
    size_t victim = SIZE_MAX;
    for (size_t i = 0; i < l->snap.nblocks && victim == SIZE_MAX; i++)
        if (l->snap.blocks[i].used && l->snap.blocks[i].object > 4 &&
            l->snap.blocks[i].offset + MEM_HEADER_SIZE != typed_obj)
            victim = l->snap.blocks[i].offset + MEM_HEADER_SIZE + 3;
    char cmd[40];
    snprintf(cmd, sizeof cmd, "i0x%zx\n", victim);
    type(cmd);
    cr_assert(strstr(ui.msg, "is byte 3 of"), "%s", ui.msg);
    snprintf(cmd, sizeof cmd, "i0x%zx\n", typed_obj);
    type(cmd);
    cr_assert(strstr(ui.msg, "freed the object"), "%s", ui.msg);
    type("i0x0\n"); /* refused: not in the script */
    for (int i = 0; i < 30; i++)
        Model_Step(&model);
    char *text = save_and_replay();
    cr_assert(strstr(text, "# saved by heapviz: 124 steps of a session (first fit, the random "
                           "workload)"), "%s", text);
    cr_assert(strstr(text, "size 8192\n"), "%s", text);
    cr_assert(strstr(text, "+3"), "the interior free: %s", text);
    cr_assert(strstr(text, "1 operations are not in the script"), "%s", text);
    free(text);
    stop();
}

Test(save, a_script_keeps_its_captions_and_pauses_where_they_stood)
{
    start_with(1, WL_TRACE, "caption one\na100 a200\npause\ncaption two\nf0 a50\n");
    Model_Step(&model);
    Model_Step(&model);
    press('a');
    type("64\n");
    Model_Step(&model);
    Model_Step(&model);
    char *text = save_and_replay();
    /* typed at the pause: after it, where the lecturer stopped */
    cr_assert(strstr(text, "caption one\na100 a200\npause\ncaption two\na64 f0 a50\n"), "%s",
              text);
    free(text);
    /* stepped back, the script holds the operations up to the step shown */
    press('b');
    press('b');
    text = save_and_replay();
    cr_assert(strstr(text, "caption one\na100 a200\npause\ncaption two\na64\n"), "%s", text);
    cr_assert_null(strstr(text, "f0"), "%s", text);
    free(text);
    stop();
}

Test(save, the_key_writes_a_new_file_and_never_overwrites_one)
{
    char dir[] = "/tmp/test_lecture_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(chdir(dir), 0);
    start_with(1, WL_RANDOM, NULL);
    for (int i = 0; i < 20; i++)
        Model_Step(&model);
    press('s');
    cr_assert_eq(ui.prompt, PROMPT_SAVE);
    cr_assert_str_eq(ui.input, "heapviz-1.hvs", "a fresh name is offered");
    press(VK_ENTER);
    cr_assert(strstr(ui.msg, "saved 20 operations to heapviz-1.hvs"), "%s", ui.msg);
    cr_assert_eq(access("heapviz-1.hvs", R_OK), 0);
    press('s');
    cr_assert_str_eq(ui.input, "heapviz-2.hvs");
    for (int i = 0; i < 5; i++)
        press(VK_BACKSPACE);
    type("1.hvs\n");
    cr_assert(strstr(ui.msg, "cannot save to heapviz-1.hvs: File exists"), "%s", ui.msg);
    press('s');
    for (int i = 0; i < 20; i++)
        press(VK_BACKSPACE);
    type("no/such/dir.hvs\n");
    cr_assert(strstr(ui.msg, "cannot save to no/such/dir.hvs"), "%s", ui.msg);
    Script s;
    char err[200];
    cr_assert_eq(Script_Load("heapviz-1.hvs", &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.trace.nops, 20);
    Script_Free(&s);
    unlink("heapviz-1.hvs");
    rmdir(dir);
    stop();
}

Test(lecture, captions_follow_the_script_and_a_pause_stops_the_run)
{
    start_with(1, WL_TRACE, "caption first\na1 a2\npause\ncaption second\nf0\n");
    cr_assert_str_eq(Lecture_Caption(&ui), "first");
    ui.paused = false;
    App_Step(&ui);
    cr_assert_not(ui.paused);
    App_Step(&ui);
    cr_assert(ui.paused, "the pause after two operations");
    cr_assert(strstr(ui.msg, "the script pauses here"), "%s", ui.msg);
    cr_assert_str_eq(Lecture_Caption(&ui), "first", "the next caption waits");
    Screen_Compose(&ui, &frame);
    char row[200];
    Frame_RowText(&frame, 1, row, sizeof row);
    cr_assert(strstr(row, "first"), "the caption bar: %s", row);
    ui.paused = false;
    App_Step(&ui);
    cr_assert_str_eq(Lecture_Caption(&ui), "second");
    press('b');
    cr_assert_str_eq(Lecture_Caption(&ui), "first", "back in time, the caption of then");
    stop();
}

/* ---- predict mode -------------------------------------------------------------- */

Test(predict, asks_before_each_operation_and_scores_from_the_events)
{
    start_with(1, WL_TRACE, "a100 a200 f0 a50 f1");
    ui.predict.on = true;
    press('n');
    cr_assert_eq(ui.prompt, PROMPT_PREDICT, "a question, not a step");
    cr_assert_eq(model.steps, 0);
    cr_assert_eq(ui.predict.guess[0], model.lanes[0].snap.blocks[0].offset,
                 "the first free block is offered");
    press(VK_ENTER);
    cr_assert_eq(model.steps, 1, "Enter reveals: the operation runs");
    cr_assert(strstr(ui.msg, "right: the free block at +0x8 · score 1/1"), "%s", ui.msg);
    press('n');
    press(VK_ENTER);
    cr_assert_eq(ui.predict.right[0], 2);
    press('n');
    cr_assert(ui.predict.is_free, "f0: which neighbours merge");
    press(VK_ENTER); /* none: the heap's start and a used block */
    cr_assert(strstr(ui.msg, "right: it merged with no neighbour · score 3/3"), "%s", ui.msg);
    press('n');
    cr_assert(!ui.predict.is_free);
    press(VK_RIGHT); /* the second free block: first fit takes the first */
    cr_assert_neq(ui.predict.guess[0], (size_t)0x8);
    cr_assert_eq(ui.sel, ui.predict.guess[0], "the marker is the selection");
    press(VK_ENTER);
    cr_assert(strstr(ui.msg, "wrong: the free block at +0x8 · score 3/4"), "%s", ui.msg);
    press('n');
    press('b'); /* f1 sits between two free blocks */
    press(VK_ENTER);
    cr_assert(strstr(ui.msg, "right: it merged with both neighbours · score 4/5"), "%s", ui.msg);
    stop();
}

Test(predict, with_the_free_list_on_the_answer_is_revealed_at_once)
{
    /* L's search animation holds a stepped allocation; predict's Enter and
     * Esc apply it at once (the search is not shown first) */
    start_with(1, WL_TRACE, "a100 a200 f0 a50 a300 f1 a260");
    press('L');
    ui.predict.on = true;
    for (int i = 0; i < 5; i++) {
        press('n');
        cr_assert_eq(ui.prompt, PROMPT_PREDICT);
        uint64_t ops = model.ops;
        press(i == 3 ? VK_ESC : VK_ENTER);
        cr_assert_eq(model.ops, ops + 1, "op %d is applied by the answer", i);
        cr_assert(i == 3 ? strstr(ui.msg, "not predicted") != NULL
                         : strstr(ui.msg, "score") != NULL, "%s", ui.msg);
    }
    stop();
}

Test(predict, a_failure_an_offset_escape_and_the_toggle)
{
    start_with(1, WL_TRACE, "a100000 a100 a200 a300");
    press('P');
    cr_assert(ui.predict.on);
    cr_assert_eq(ui.prompt, PROMPT_PREDICT, "P asks at once");
    press('!');
    cr_assert_eq(ui.predict.guess[0], PREDICT_FAILS);
    press(VK_ENTER);
    cr_assert(strstr(ui.msg, "right: it failed"), "%s", ui.msg);
    /* a typed offset names the free block it is in; a used block is refused */
    press('n');
    Model_Sync(&model);
    char off[32];
    snprintf(off, sizeof off, "%x", (unsigned)model.lanes[0].snap.blocks[0].offset + 40);
    type(off);
    press(VK_ENTER);
    cr_assert(strstr(ui.msg, "right"), "%s", ui.msg);
    press('n');
    type("0x10");
    press(VK_ENTER);
    cr_assert(strstr(ui.msg, "is not inside a free block"), "%s", ui.msg);
    cr_assert_eq(ui.prompt, PROMPT_PREDICT, "still asking");
    uint64_t steps = model.steps;
    press(VK_ESC);
    cr_assert_eq(model.steps, steps + 1, "Esc: the operation goes ahead");
    cr_assert_eq(ui.predict.asked[0], 2, "unscored");
    press('n');
    press('P');
    cr_assert_not(ui.predict.on);
    cr_assert_eq(ui.prompt, PROMPT_NONE);
    cr_assert_eq(model.steps, steps + 1, "turning it off runs nothing");
    press('n');
    cr_assert_eq(model.steps, steps + 2, "and n steps again");
    stop();
}

Test(predict, compare_mode_asks_each_heap_in_turn)
{
    start_with(3, WL_TRACE, "a300 a100 a500 a100 f0 f2 a250");
    for (int i = 0; i < 6; i++)
        Model_Step(&model);
    ui.predict.on = true;
    press('n');
    cr_assert_eq(ui.predict.lane, 0);
    press(VK_ENTER);
    cr_assert_eq(ui.predict.lane, 1, "the next heap's turn");
    cr_assert_eq(model.steps, 6);
    press(VK_END);
    press(VK_RIGHT);
    press(VK_ENTER);
    press(VK_LEFT); /* worst fit: its guess goes to "it fails", then back */
    press(VK_RIGHT);
    press(VK_ENTER);
    cr_assert_eq(model.steps, 7, "revealed once every heap answered");
    cr_assert_eq(ui.predict.asked[0] + ui.predict.asked[1] + ui.predict.asked[2], 3);
    cr_assert(strstr(ui.msg, "first right 1/1"), "%s", ui.msg);
    stop();
}

Test(predict, a_click_on_a_free_block_is_the_guess)
{
    start_with(1, WL_TRACE, "a100 a200 a300 f1 a50");
    for (int i = 0; i < 4; i++)
        Model_Step(&model);
    ui.predict.on = true;
    press('n');
    Model_Sync(&model);
    const Lane *l = &model.lanes[0];
    size_t hole = SIZE_MAX;
    for (size_t i = 0; i < l->snap.nblocks; i++)
        if (!l->snap.blocks[i].used) {
            hole = l->snap.blocks[i].offset;
            break;
        }
    cr_assert_neq(hole, SIZE_MAX);
    press(VK_RIGHT); /* away from it */
    const MapGeom *g = &ui.geom[0];
    size_t cell = (hole + 16) / g->bpc;
    ui.mouse_y = g->y + 2 * (int)(cell / (size_t)g->cols);
    ui.mouse_x = g->x + (int)(cell % (size_t)g->cols);
    press(VK_MOUSE);
    cr_assert_eq(ui.predict.guess[0], hole);
    press(VK_ENTER);
    cr_assert(strstr(ui.msg, "right"), "first fit fills the hole: %s", ui.msg);
    stop();
}

/* One fast-fit heap of 64 KiB running ops: small requests go to runs (a
 * heap below 28 KiB has none; each run is cut from the top of a free block). */
static void start_fast(const char *ops)
{
    ModelConfig cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.region_size = MemHeap_ControlSize() + 65536;
    cfg.nlanes = 1;
    cfg.policies[0] = MEM_FAST;
    cfg.workload = WL_TRACE;
    char err[256];
    cr_assert_eq(Script_Parse(ops, strlen(ops), "t", &script, err, sizeof err), 0, "%s", err);
    cfg.trace = &script.trace;
    cr_assert_eq(Model_Init(&model, &cfg, err, sizeof err), 0, "%s", err);
    Ui_Init(&ui, &model, (GlyphMode){1, 1}, 8, true);
    ui.script = &script;
    ui.trace_name = "t";
    cr_assert_eq(Frame_Init(&frame, 30, 100, true), 0);
    Screen_Compose(&ui, &frame);
}

Test(predict, a_typed_allocation_in_a_run_selects_its_slot)
{
    start_fast("a24");
    press('a');
    type("24\n");
    Model_Sync(&model);
    const Lane *l = &model.lanes[0];
    const SnapRun *r = Snapshot_RunAt(&l->snap, ui.sel);
    cr_assert_not_null(r, "the selection is in the run");
    cr_assert_eq(ui.sel, r->slot_offset, "its slot 0, not the table before it");
    stop();
}

Test(predict, an_allocation_served_from_a_run_asks_for_a_slot)
{
    start_fast("a24 a24 a24 f1 a300");
    const Lane *l = &model.lanes[0];
    ui.predict.on = true;
    press('n');
    cr_assert_eq(ui.predict.slot[0], MemHeap_SlotSize(l->heap, 24), "a slot size is asked for");
    cr_assert_gt(ui.predict.slot[0], 0);
    /* no run yet: the new run is carved from the free block, which is the answer */
    press(VK_ENTER);
    cr_assert(strstr(ui.msg, "right: a new run of 32 B slots, carved from the free block at +0x8"),
              "%s", ui.msg);
    /* now the run's free slots are choices too, in address order; the run
     * was cut from the top of the free block */
    press('n');
    Model_Sync(&model);
    const SnapRun *r = NULL;
    for (size_t i = 0; i < l->snap.nruns && !r; i++)
        r = &l->snap.runs[i];
    cr_assert_not_null(r);
    cr_assert_gt(r->offset, 0x8, "the run is not at the block's start");
    cr_assert_eq(ui.predict.guess[0], 0x8, "the free block below the run is offered first");
    press(VK_RIGHT);
    cr_assert_eq(ui.predict.guess[0], r->slot_offset + r->slot_size, "then slot 1");
    Screen_Compose(&ui, &frame);
    char row[512], want[160];
    Frame_RowText(&frame, frame.rows - 1, row, sizeof row);
    snprintf(want, sizeof want, "alloc 24 B (a 32 B slot) lands in which free block or slot? "
                                "[slot 1 of the run at +0x%x]", r->offset);
    cr_assert(strstr(row, want), "%s", row);
    press(VK_ENTER);
    snprintf(want, sizeof want, "right: slot 1 of the run at +0x%x · score 2/2", r->offset);
    cr_assert(strstr(ui.msg, want), "%s", ui.msg);
    press('n');
    press(VK_RIGHT);
    press(VK_RIGHT); /* slot 3: the run takes its lowest free slot */
    cr_assert_eq(ui.predict.guess[0], r->slot_offset + 3 * r->slot_size);
    press(VK_ENTER);
    snprintf(want, sizeof want, "wrong: slot 2 of the run at +0x%x · score 2/3", r->offset);
    cr_assert(strstr(ui.msg, want), "%s", ui.msg);
    /* a slot's free merges with nothing */
    press('n');
    cr_assert(ui.predict.is_free);
    Screen_Compose(&ui, &frame);
    Frame_RowText(&frame, frame.rows - 1, row, sizeof row);
    snprintf(want, sizeof want, "free 24 B at +0x%x (a slot)", r->slot_offset + r->slot_size);
    cr_assert(strstr(row, want), "%s", row);
    press(VK_ENTER);
    cr_assert(strstr(ui.msg, "right: it merged with no neighbour (a slot never merges)"), "%s",
              ui.msg);
    /* a request too large for runs: the free blocks only, no slot */
    press('n');
    cr_assert_eq(ui.predict.slot[0], 0);
    Model_Sync(&model);
    long bi = Snapshot_BlockAt(&l->snap, ui.predict.guess[0]);
    cr_assert(bi >= 0 && !Snap_InRun(&l->snap.blocks[bi]), "a free block is offered");
    for (int i = 0; i < 8; i++) {
        press(VK_RIGHT);
        bi = ui.predict.guess[0] == PREDICT_FAILS ? -1
                                                  : Snapshot_BlockAt(&l->snap, ui.predict.guess[0]);
        cr_assert(bi < 0 || !Snap_InRun(&l->snap.blocks[bi]), "never a slot for 300 B");
    }
    stop();
}

/* ---- the free-list overlay ------------------------------------------------------- */

static bool collect_free(const MemBlock *b, void *arg)
{
    size_t *v = arg;
    if (v[0] < 63)
        v[++v[0]] = b->offset;
    return true;
}

/* n until the operation is applied (with L on, an allocation's search
 * is shown first, a step a block). */
static void step_op(void)
{
    uint64_t ops = model.ops;
    for (int i = 0; i < 600 && model.ops == ops; i++)
        press('n');
    cr_assert_eq(model.ops, ops + 1);
}

/* Whether the screen shows text anywhere. */
static bool on_screen(const char *text)
{
    char row[1024];
    for (int y = 0; y < frame.rows; y++) {
        Frame_RowText(&frame, y, row, sizeof row);
        if (strstr(row, text))
            return true;
    }
    return false;
}

Test(freelist, L_lists_the_free_blocks_in_the_policys_order)
{
    for (unsigned pol = 0; pol < MEM_POLICY_COUNT; pol++) {
        start_with(1, WL_RANDOM, NULL);
        char err[128];
        cr_assert_eq(Model_SetPolicy(&model, (MemPolicy)pol, err, sizeof err), 0);
        for (int i = 0; i < 70; i++)
            Model_Step(&model);
        press('L');
        cr_assert(ui.freelist.on);
        Screen_Compose(&ui, &frame);
        cr_assert(on_screen(pol == MEM_FAST    ? "fast fit: by size class"
                            : pol == MEM_BUDDY ? "buddy: by order"
                                               : "address order"),
                  "%s", MemPolicy_Name((MemPolicy)pol));
        size_t order[64] = {0};
        MemHeap_WalkFree(model.lanes[0].heap, collect_free, order);
        cr_assert_gt(order[0], 1, "a few free blocks");
        /* row k shows place k and the k-th block of the library's walk */
        for (size_t k = 1; k <= order[0] && k < 8; k++) {
            char want[48];
            snprintf(want, sizeof want, "%-5zu  +0x%-8zx", k, order[k]);
            cr_assert(on_screen(want), "%s: place %zu is +0x%zx", MemPolicy_Name((MemPolicy)pol),
                      k, order[k]);
        }
        press('L');
        Screen_Compose(&ui, &frame);
        cr_assert_not(on_screen("free list ·"), "L hides it");
        stop();
    }
}

Test(freelist, a_stepped_allocation_says_which_block_the_library_took_and_the_split)
{
    start_with(1, WL_RANDOM, NULL);
    for (int i = 0; i < 60; i++)
        Model_Step(&model);
    press('L');
    size_t order[64] = {0};
    MemHeap_WalkFree(model.lanes[0].heap, collect_free, order);
    /* step until an allocation */
    for (int i = 0; i < 20; i++) {
        memset(order, 0, sizeof order);
        MemHeap_WalkFree(model.lanes[0].heap, collect_free, order);
        step_op();
        const Lane *l = &model.lanes[0];
        if (l->nevents && l->events[0].kind == MEM_EV_ALLOC)
            break;
    }
    const MemEvent *e = &model.lanes[0].events[0];
    cr_assert_eq(e->kind, MEM_EV_ALLOC);
    size_t place = 0;
    for (size_t k = 1; k <= order[0]; k++)
        if (order[k] == e->block)
            place = k;
    cr_assert_gt(place, 0);
    char want[96];
    snprintf(want, sizeof want, "took +0x%zx (%zu B), place %zu of %zu", e->block, e->size, place,
             order[0]);
    Screen_Compose(&ui, &frame);
    cr_assert(on_screen(want), "want '%s'", want);
    snprintf(want, sizeof want, "the library examined %zu", e->examined);
    cr_assert(on_screen(want), "want '%s'", want);
    if (e->remainder)
        cr_assert(on_screen("← split"), "the split-off block is marked");
    stop();
}

Test(freelist, under_fast_a_new_run_and_a_slot_are_told_apart)
{
    start_fast("a24 a24");
    press('L');
    step_op();
    Screen_Compose(&ui, &frame);
    Model_Sync(&model);
    const Lane *l = &model.lanes[0];
    cr_assert_eq(l->snap.nruns, 1);
    size_t run = l->snap.runs[0].offset;
    char want[96];
    snprintf(want, sizeof want, "new run at +0x%zx (place 1 of 1), slot 0", run);
    cr_assert(on_screen(want), "the run, the place of the free block it took, and the slot");
    cr_assert(on_screen("← split"), "the rest of the block is marked");
    press('n'); /* a slot of a run that has one: no search to show */
    Screen_Compose(&ui, &frame);
    snprintf(want, sizeof want, "alloc 24 B took slot 1 of the run at +0x%zx", run);
    cr_assert(on_screen(want), "a slot of that run");
    cr_assert(on_screen("a run's slot: no free-list search"));
    stop();
}

/* Steps the model until its next operation is an allocation. */
static void until_alloc(void)
{
    const TypedOp *t;
    Op op;
    for (int i = 0; i < 100 && Model_Peek(&model, &t, &op) && op.kind != OP_ALLOC; i++)
        press('n');
    cr_assert(Model_Peek(&model, &t, &op) && op.kind == OP_ALLOC);
}

Test(freelist, stepping_an_allocation_shows_its_search_block_by_block)
{
    for (int pol = MEM_FIRST_FIT; pol <= MEM_WORST_FIT; pol += 2) {
        start_with(1, WL_RANDOM, NULL);
        char err[128];
        cr_assert_eq(Model_SetPolicy(&model, (MemPolicy)pol, err, sizeof err), 0, "%s", err);
        for (int i = 0; i < 150; i++)
            Model_Step(&model);
        press('L');
        /* an allocation whose search examines more than one block: what the
         * library says the search will be */
        static MemPlanStep want[512];
        MemPlan plan;
        const Lane *l = &model.lanes[0];
        for (int tries = 0; tries < 60; tries++) {
            until_alloc();
            const TypedOp *t;
            Op op;
            Model_Peek(&model, &t, &op);
            cr_assert_eq(MemHeap_PlanAlloc(l->heap, op.size, want, 512, &plan), 0);
            if (plan.nsteps > 1)
                break;
            step_op();
        }
        cr_assert_gt(plan.nsteps, 1, "%s: a search of more than one block",
                     MemPolicy_Name((MemPolicy)pol));
        uint64_t ops = model.ops;
        unsigned marked = 0;
        for (size_t k = 0; k < plan.nsteps; k++) {
            press('n');
            cr_assert_eq(model.ops, ops, "the allocation waits while its search is shown");
            char ord[16], line[96];
            snprintf(line, sizeof line, "search: %s examined, +0x%zx", Explain_Ordinal(k + 1, ord, sizeof ord),
                     want[k].offset);
            cr_assert(strstr(ui.msg, line), "step %zu: want '%s': %s", k, line, ui.msg);
            if (!want[k].fits)
                cr_assert(strstr(ui.msg, "too small"), "%s", ui.msg);
            else if (want[k].offset == plan.chosen && k + 1 == plan.nsteps)
                cr_assert(strstr(ui.msg, ": taken for"), "%s", ui.msg);
            else
                cr_assert(strstr(ui.msg, "fits"), "%s", ui.msg);
            Screen_Compose(&ui, &frame);
            snprintf(line, sizeof line, "+0x%zx", want[k].offset);
            bool row = false;
            char text[1024];
            for (int y = 0; y < frame.rows && !row; y++) {
                Frame_RowText(&frame, y, text, sizeof text);
                row = strstr(text, "← examining") && strstr(text, line);
            }
            cr_assert(row, "the list marks %s as examined now", line);
            /* on the map: ◆ under the block examined, × under those passed */
            cr_assert_eq(FreeList_Mark(&ui, 0, want[k].offset), want[k].fits ? 3 : 2);
            if (k)
                cr_assert_eq(FreeList_Mark(&ui, 0, want[k - 1].offset), 1);
            /* the marker row under the block's first cell, where the
             * overlay (on the right) does not cover it */
            const MapGeom *g = &ui.geom[0];
            if (want[k].offset >= g->start && want[k].offset < g->end) {
                size_t cell = (want[k].offset - g->start) / g->bpc;
                int y = g->y + g->stride * (int)(cell / (size_t)g->cols) + 1;
                int x = g->x + (int)(cell % (size_t)g->cols);
                if (x < frame.cols - 56) {
                    const FCell *fc = Frame_At(&frame, y, x);
                    cr_assert(fc && fc->ch == 0x25C6u, "the map marks +0x%zx at %d,%d",
                              want[k].offset, y, x);
                    marked++;
                }
            }
        }
        cr_assert_gt(marked, 0, "the map marked examined blocks");
        cr_assert(strstr(ui.msg, "n applies it"), "%s", ui.msg);
        press('n');
        cr_assert_eq(model.ops, ops + 1, "then the allocation is applied");
        const MemEvent *e = NULL;
        for (unsigned i = 0; i < l->nevents; i++)
            if (l->events[i].kind == MEM_EV_ALLOC)
                e = &l->events[i];
        cr_assert_not_null(e);
        cr_assert_eq(e->block, plan.block, "where the search said");
        cr_assert_eq(e->examined, plan.examined);
        cr_assert_eq(FreeList_Mark(&ui, 0, plan.block), 0, "the marks go with the step");
        stop();
    }
}

static bool first_fit_numbers(const MemBlock *b, void *arg)
{
    /* the map's rule: the digits go in the first cells wholly inside the
     * block, when they fit there on one row */
    const MapGeom *g = &ui.geom[0];
    size_t *checked = arg, bpc = g->bpc, cols = (size_t)g->cols;
    size_t lo = (b->offset + bpc - 1) / bpc, hi = (b->offset + b->size) / bpc;
    char want[16];
    size_t len = (size_t)snprintf(want, sizeof want, "%zu", b->rank + 1);
    if (lo % cols + len > cols || lo + len > hi)
        return true;
    char row[1024];
    Frame_RowText(&frame, g->y + 2 * (int)(lo / cols), row, sizeof row);
    /* the row's text up to the cell: the gutter is ASCII, the map one
     * glyph a column */
    const char *p = row;
    for (int c = 0; c < g->x + (int)(lo % cols); c++) {
        p++;
        while (((unsigned char)*p & 0xC0) == 0x80)
            p++;
    }
    cr_assert(strncmp(p, want, len) == 0, "free block %zu at +0x%zx: '%.*s' on the map", b->rank,
              b->offset, (int)len, p);
    (*checked)++;
    return true;
}

Test(freelist, key_hash_numbers_the_free_blocks_on_the_map_in_list_order)
{
    start_with(1, WL_RANDOM, NULL);
    for (int i = 0; i < 150; i++)
        Model_Step(&model);
    press('#');
    cr_assert(ui.numbers);
    cr_assert(strstr(ui.msg, "numbered in the free list's order"), "%s", ui.msg);
    Screen_Compose(&ui, &frame);
    size_t checked = 0;
    MemHeap_WalkFree(model.lanes[0].heap, first_fit_numbers, &checked);
    cr_assert_geq(checked, 3, "free blocks numbered: %zu", checked);
    press('#');
    Screen_Compose(&ui, &frame);
    char row[1024];
    Frame_RowText(&frame, ui.geom[0].y, row, sizeof row);
    cr_assert_null(strpbrk(row + 9, "123456789"), "the numbers are gone: %s", row);
    stop();
}

/* ---- compare mode: per-heap details and charts ----------------------------------- */

Test(compare, every_heap_says_what_it_keeps_at_the_selected_place)
{
    start_with(4, WL_RANDOM, NULL);
    Frame_Free(&frame);
    cr_assert_eq(Frame_Init(&frame, 40, 120, true), 0);
    for (int i = 0; i < 150; i++)
        Model_Step(&model);
    press(VK_HOME);
    for (int i = 0; i < 5; i++)
        press('l');
    Screen_Compose(&ui, &frame);
    char want[128];
    snprintf(want, sizeof want, "selected in %s: ", Explain_Policy(model.lanes[0].policy));
    cr_assert(on_screen(want), "%s", want);
    for (unsigned i = 0; i < 4; i++) {
        Lane *l = &model.lanes[i];
        MemBlock b = Snapshot_Block(&l->snap, (size_t)Snapshot_BlockAt(&l->snap, ui.sel));
        if (b.run)
            snprintf(want, sizeof want, "%s: +0x", Explain_Policy(l->policy));
        else
            snprintf(want, sizeof want, "%s: +0x%zx %s · %zu B block", Explain_Policy(l->policy),
                     b.offset, b.used ? "used" : "free", b.size);
        cr_assert(on_screen(want), "lane %u: '%s'", i, want);
    }
    stop();
}

Test(compare, each_heap_line_carries_its_fragmentation_chart)
{
    start_with(3, WL_RANDOM, NULL);
    Frame_Free(&frame);
    cr_assert_eq(Frame_Init(&frame, 40, 140, true), 0);
    for (int i = 0; i < 150; i++)
        Model_Step(&model);
    unsigned checked = 0;
    Screen_Compose(&ui, &frame);
    for (unsigned i = 0; i < 3; i++) {
        const Lane *l = &model.lanes[i];
        /* the lane's line: its policy's name, then the chart at the end */
        char row[1024], name[32];
        snprintf(name, sizeof name, "%s", Explain_Policy(l->policy));
        int y = -1;
        for (int r = 0; r < frame.rows && y < 0; r++) {
            Frame_RowText(&frame, r, row, sizeof row);
            if (strstr(row, name) && strstr(row, "  ext "))
                y = r;
        }
        cr_assert_geq(y, 0, "%s has a chart", name);
        /* the chart's last column (the newest), in eighths of the row: the
         * history panel's rule (at least one eighth when not zero) */
        int x = 0;
        Frame_RowText(&frame, y, row, sizeof row);
        for (int c = 0; c < frame.cols; c++)
            if (Frame_At(&frame, y, c)->fg == S_HIST_EXT)
                x = c;
        unsigned ext = Lane_Hist(l, 0)->ext, level = ext * 8u / 10000u;
        if (ext == 0)
            continue; /* nothing drawn in the newest column */
        if (level == 0)
            level = 1;
        checked++;
        uint32_t want = level >= 8 ? 0x2588u : level ? 0x2580u + level : ' ';
        cr_assert_eq(Frame_At(&frame, y, x)->ch, want, "%s: the newest column is %u eighths",
                     name, level);
    }
    cr_assert_gt(checked, 1, "heaps with some fragmentation were checked");
    stop();
}

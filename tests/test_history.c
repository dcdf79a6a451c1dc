/* test_history.c - heapviz's time travel (viz/history.h): every position
 * shown again is exactly the state that was (blocks, runs, counters, log,
 * chart, touches, the player's objects, the selection), with typed
 * operations, guard overflows, compare mode, runs and thinned checkpoints;
 * an operation typed in the past goes into the model's list there, the
 * later ones stay, the workload goes on; bad positions change nothing. */
#include "testlib.h"

#include "app.h"
#include "history.h"
#include "model.h"
#include "viz_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static Model model;
static bool fast_first; /* lane 0 is fast fit (runs) */

/* One first-fit heap of 4 KiB running the n operations of ops (ids 0, 1). */
static void start_trace(Op *ops, size_t n)
{
    static Trace t;
    t.ops = ops;
    t.nops = n;
    t.nids = 2;
    ModelConfig cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.region_size = MemHeap_ControlSize() + 4096;
    cfg.nlanes = 1;
    cfg.workload = WL_TRACE;
    cfg.trace = &t;
    char err[128];
    cr_assert_eq(Model_Init(&model, &cfg, err, sizeof err), 0, "%s", err);
}

static void start(size_t arena, unsigned nlanes, unsigned flags, WorkloadKind wl)
{
    ModelConfig cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.region_size = MemHeap_ControlSize() + arena;
    cfg.nlanes = nlanes;
    for (unsigned i = 0; i < nlanes; i++)
        cfg.policies[i] = (MemPolicy)((i + 1) % MEM_POLICY_COUNT);
    if (fast_first)
        cfg.policies[0] = MEM_FAST;
    cfg.flags = flags;
    cfg.workload = wl;
    cfg.seed = 3;
    char err[128];
    cr_assert_eq(Model_Init(&model, &cfg, err, sizeof err), 0, "%s", err);
}

/* FNV-1a over everything the screen shows of the model, and the objects. */
typedef struct Fp {
    uint64_t h;
} Fp;

static void mix(Fp *f, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        f->h = (f->h ^ b[i]) * 0x100000001b3u;
}

static bool mix_slot(const MemSlot *sl, void *arg)
{
    Fp *f = arg;
    size_t v[4] = {sl->offset, sl->size, sl->object, sl->live};
    mix(f, v, sizeof v);
    return true;
}

typedef struct MixRun {
    Fp *f;
    const MemHeap *h;
} MixRun;

static bool mix_block(const MemBlock *b, void *arg)
{
    MixRun *m = arg;
    size_t v[7] = {b->offset, b->size, b->object, b->padding,
                   (size_t)b->used | (size_t)b->overflowed << 1 | (size_t)b->run << 2,
                   b->live_slots, b->run_class};
    mix(m->f, v, sizeof v);
    if (b->run)
        MemHeap_WalkSlots(m->h, b->offset, mix_slot, m->f);
    return true;
}

static bool mix_free(const MemBlock *b, void *arg)
{
    Fp *f = arg;
    size_t v[2] = {b->offset, b->list};
    mix(f, v, sizeof v);
    return true;
}

static uint64_t fingerprint(void)
{
    Fp f = {0xcbf29ce484222325u};
    Model_Sync(&model);
    mix(&f, &model.steps, sizeof model.steps);
    mix(&f, &model.ops, sizeof model.ops);
    mix(&f, &model.next_typed, sizeof model.next_typed);
    mix(&f, &model.ended, sizeof model.ended);
    for (unsigned i = 0; i < model.nlanes; i++) {
        Lane *l = &model.lanes[i];
        /* sound, or (guard mode, after an overflow) broken the same way */
        char why[160] = "";
        int problems = MemHeap_Diagnose(l->heap, why, sizeof why);
        if (!(l->flags & MEM_OPT_GUARD))
            cr_assert_eq(problems, 0, "%s", why);
        mix(&f, &problems, sizeof problems);
        mix(&f, why, strlen(why));
        MixRun mr = {&f, l->heap};
        MemHeap_Walk(l->heap, mix_block, &mr);
        MemHeap_WalkFree(l->heap, mix_free, &f);
        MemStats s = MemHeap_Stats(l->heap);
        uint64_t c[8] = {s.allocs, s.frees, s.failed_allocs, s.rejected_frees, s.overflows,
                         s.live_bytes, s.peak_live_bytes, s.rover};
        mix(&f, c, sizeof c);
        cr_assert_eq(memcmp(&s, &l->snap.stats, sizeof s), 0, "the snapshot's counters");
        for (unsigned k = 0; Lane_Log(l, k); k++) {
            const LogLine *ln = Lane_Log(l, k);
            mix(&f, &ln->op, sizeof ln->op);
            mix(&f, ln->text, strlen(ln->text));
        }
        for (size_t k = 0; Lane_Hist(l, k); k++)
            mix(&f, Lane_Hist(l, k), sizeof(HistPoint));
        mix(&f, &l->hist_count, sizeof l->hist_count);
        mix(&f, l->touch, l->ntouch * sizeof l->touch[0]);
        mix(&f, l->last, strlen(l->last));
        uint32_t live = Player_Live(l->player);
        mix(&f, &live, sizeof live);
    }
    return f.h;
}

/* Applies a mix of workload steps and typed operations (allocations, free
 * at offsets inside and outside objects, overflows), recording the
 * fingerprint of every position. */
static size_t play(size_t n, uint64_t *fp, ThRng *r)
{
    fp[model.ops] = fingerprint();
    for (size_t i = 0; i < n; i++) {
        unsigned lane = (unsigned)th_below(r, model.nlanes);
        Lane *l = &model.lanes[lane];
        uint64_t before = model.ops;
        switch (th_below(r, 10)) {
        case 0:
            Model_Alloc(&model, lane, 1 + (size_t)th_below(r, 300));
            break;
        case 1: {
            Model_Sync(&model);
            size_t off = (size_t)th_below(r, l->snap.region.size);
            Model_FreeAt(&model, lane, off, NULL, NULL);
            break;
        }
        case 2:
            Model_Sync(&model);
            if (l->snap.nblocks) {
                const SnapBlock *b = &l->snap.blocks[th_below(r, l->snap.nblocks)];
                Model_Overflow(&model, lane, b->offset, 1 + (size_t)th_below(r, 6));
            }
            if (model.ops == before)
                Model_Step(&model); /* no operation: the workload's then */
            break;
        default:
            if (!Model_Step(&model))
                return i;
        }
        cr_assert_eq(model.ops, before + 1, "one operation a move");
        cr_assert_eq(model.ops, History_Last(model.hist));
        fp[model.ops] = fingerprint();
    }
    return n;
}

static void travel_and_compare(const uint64_t *fp, size_t last, ThRng *r, unsigned visits)
{
    for (unsigned v = 0; v < visits; v++) {
        size_t to = (size_t)th_below(r, last + 1);
        cr_assert_eq(History_Goto(model.hist, &model, to), 0);
        cr_assert_eq(model.ops, to);
        cr_assert_eq(fingerprint(), fp[to], "position %zu is what it was", to);
    }
    /* step back one at a time over a stretch, as b does */
    size_t from = last > 40 ? last - 40 : 0;
    History_Goto(model.hist, &model, last);
    for (size_t p = last; p-- > from;) {
        cr_assert_eq(History_Goto(model.hist, &model, p), 0);
        cr_assert_eq(fingerprint(), fp[p], "b at %zu", p);
    }
    /* and forward again by redoing, as n does */
    for (size_t p = from; p < last; p++) {
        cr_assert(Model_Step(&model));
        cr_assert_eq(fingerprint(), fp[p + 1], "n to %zu", p + 1);
    }
}

Test(history, every_position_comes_back_exactly)
{
    start(8192, 1, 0, WL_RANDOM);
    static uint64_t fp[1001];
    ThRng r = {th_seed(11)};
    size_t n = play(1000, fp, &r);
    cr_assert_eq(n, 1000);
    travel_and_compare(fp, History_Last(model.hist), &r, 120);
    Model_Fini(&model);
}

Test(history, guard_mode_overflows_and_compare_mode)
{
    start(16384, 3, MEM_OPT_GUARD, WL_FRAGMENTER);
    static uint64_t fp[601];
    ThRng r = {th_seed(12)};
    play(600, fp, &r);
    cr_assert_gt(model.lanes[0].snap.stats.overflows + model.lanes[1].snap.stats.overflows +
                     model.lanes[2].snap.stats.overflows, 0, "some overflow was caught");
    travel_and_compare(fp, History_Last(model.hist), &r, 80);
    Model_Fini(&model);
}

Test(history, runs_come_back_exactly)
{
    /* fast fit's runs: slots, spares, released runs, in compare mode */
    fast_first = true;
    start(32768, 2, 0, WL_RANDOM);
    static uint64_t fp[1201];
    ThRng r = {th_seed(14)};
    play(1200, fp, &r);
    cr_assert_gt(model.lanes[0].snap.stats.runs, 0, "the fast heap has runs");
    travel_and_compare(fp, History_Last(model.hist), &r, 100);
    Model_Fini(&model);
}

Test(history, thinned_checkpoints_keep_it_exact_and_bounded, .timeout = 120)
{
    /* 4 MiB heaps: the budget holds 15 checkpoints, so `every` doubles */
    start((size_t)4 << 20, 1, 0, WL_PHASED);
    static uint64_t fp[1601];
    ThRng r = {th_seed(13)};
    play(1600, fp, &r);
    HistoryFigures f = History_Figures(model.hist);
    cr_assert_gt(f.every, 32, "thinned: every %zu", f.every);
    cr_assert_leq(f.bytes, HIST_BUDGET, "%zu bytes of checkpoints", f.bytes);
    cr_assert_eq(f.last, 1600);
    travel_and_compare(fp, 1600, &r, 25);
    Model_Fini(&model);
}

Test(history, near_checkpoints_follow_the_user_and_keep_it_exact, .timeout = 120)
{
    /* 6 MiB: ten checkpoints fill the budget, so they are soon `every` =
     * 512 and more apart, and the near ones (256 apart) do the work */
    start((size_t)6 << 20, 1, 0, WL_RANDOM);
    static uint64_t fp[3001];
    ThRng r = {th_seed(15)};
    play(3000, fp, &r);
    HistoryFigures f = History_Figures(model.hist);
    cr_assert_gt(f.every, 256, "thinned: every %zu", f.every);
    cr_assert_gt(f.near, 0, "near checkpoints at the present (every %zu, %zu checkpoints, last %llu)", f.every, f.checkpoints, (unsigned long long)f.last);
    bool recent = false;
    for (size_t i = 0; i < f.near; i++)
        recent |= f.near_pos[i] + 256 >= 3000 && f.near_pos[i] % f.every != 0;
    cr_assert(recent, "one in the last 256 operations, between thinned checkpoints");
    cr_assert_leq(f.bytes, HIST_BUDGET, "%zu bytes in all", f.bytes);
    /* a far jump, then b after b across near checkpoints */
    size_t to = 1500;
    cr_assert_eq(History_Goto(model.hist, &model, to), 0);
    cr_assert_eq(fingerprint(), fp[to]);
    f = History_Figures(model.hist);
    bool near_there = false;
    for (size_t i = 0; i < f.near; i++)
        near_there |= f.near_pos[i] <= to && f.near_pos[i] + 4 * 256 >= to;
    cr_assert(near_there, "the replay left near checkpoints before step %zu", to);
    for (size_t p = to; p-- > to - 700;) {
        cr_assert_eq(History_Goto(model.hist, &model, p), 0);
        cr_assert_eq(fingerprint(), fp[p], "b at %zu", p);
    }
    travel_and_compare(fp, 3000, &r, 20);
    Model_Fini(&model);
}

Test(history, a_trace_that_ended_can_be_stepped_back_and_replayed)
{
    static Op ops[6] = {{OP_ALLOC, 0, 100, 0}, {OP_ALLOC, 1, 200, 0}, {OP_FREE, 0, 0, 0},
                        {OP_REALLOC, 1, 400, 0}, {OP_FREE, 1, 0, 7}, {OP_ALLOC, 0, 50, 0}};
    start_trace(ops, 6);
    uint64_t fp[7];
    fp[0] = fingerprint();
    for (int i = 0; i < 6; i++) {
        cr_assert(Model_Step(&model));
        fp[i + 1] = fingerprint();
    }
    cr_assert_not(Model_Step(&model));
    cr_assert(model.ended);
    cr_assert_eq(History_Goto(model.hist, &model, 2), 0);
    cr_assert_not(model.ended, "going back, the trace has not ended");
    cr_assert_eq(fingerprint(), fp[2]);
    for (int i = 2; i < 6; i++) {
        cr_assert(Model_Step(&model));
        cr_assert_eq(fingerprint(), fp[i + 1]);
    }
    cr_assert_not(Model_Step(&model));
    cr_assert(model.ended, "and ends again");
    Model_Fini(&model);
}


Test(history, an_operation_typed_in_the_past_goes_in_there)
{
    start(8192, 1, 0, WL_RANDOM);
    for (int i = 0; i < 40; i++)
        Model_Step(&model);
    Model_Alloc(&model, 0, 777); /* step 41, after 40 workload operations */
    for (int i = 0; i < 9; i++)
        Model_Step(&model);
    cr_assert_eq(model.ops, 50);
    cr_assert_eq(History_Goto(model.hist, &model, 20), 0);
    cr_assert_eq(History_Last(model.hist), 50);
    cr_assert_not(viz_log_has(&model.lanes[0], "alloc 777 B"), "not yet at step 20");
    Model_Alloc(&model, 0, 123);
    cr_assert_eq(model.ops, 21);
    cr_assert_eq(History_Last(model.hist), 21, "the steps after it are made again");
    size_t n;
    const TypedOp *t = Model_TypedOps(&model, &n);
    cr_assert_eq(n, 2);
    cr_assert_eq(t[0].size, 123, "in the list where it applied");
    cr_assert_eq(t[0].after, 20);
    cr_assert_eq(t[1].size, 777, "the later one stays");
    /* the workload goes on with its 21st operation */
    cr_assert_eq(model.steps, 20);
    cr_assert(Model_Step(&model));
    cr_assert_eq(model.steps, 21, "the workload's own next operation");
    while (model.steps < 40)
        cr_assert(Model_Step(&model));
    cr_assert(Model_Step(&model));
    cr_assert_eq(model.ops, 42, "the typed 777 B at its place, one step later");
    cr_assert(strstr(Lane_Log(&model.lanes[0], 0)->text, "alloc 777 B"), "%s",
              Lane_Log(&model.lanes[0], 0)->text);
    /* and travel back over the new history is exact */
    uint64_t at42 = fingerprint();
    cr_assert_eq(History_Goto(model.hist, &model, 5), 0);
    cr_assert_eq(History_Goto(model.hist, &model, 42), 0);
    cr_assert_eq(fingerprint(), at42);
    Model_Fini(&model);
}

Test(history, the_selection_is_kept_with_each_position)
{
    start(8192, 1, 0, WL_RANDOM);
    for (size_t i = 0; i < 30; i++) {
        History_SetView(model.hist, i * 16, 0);
        Model_Step(&model);
    }
    History_SetView(model.hist, 999, 0);
    cr_assert_eq(History_Goto(model.hist, &model, 7), 0);
    size_t sel;
    unsigned lane;
    History_GetView(model.hist, 7, &sel, &lane);
    cr_assert_eq(sel, 7 * 16, "the selection when step 7 was shown");
    History_SetView(model.hist, 4242, 0); /* the user selects in the past */
    cr_assert_eq(History_Goto(model.hist, &model, 30), 0);
    History_GetView(model.hist, 30, &sel, &lane);
    cr_assert_eq(sel, 999, "the present's selection");
    History_GetView(model.hist, 8, &sel, &lane);
    cr_assert_eq(sel, 8 * 16, "step 8 keeps its own");
    cr_assert_eq(History_Goto(model.hist, &model, 7), 0);
    History_GetView(model.hist, 7, &sel, &lane);
    cr_assert_eq(sel, 4242, "what was selected there last");
    History_GetView(model.hist, 6, &sel, &lane);
    cr_assert_eq(sel, 6 * 16, "and step 6 its own");
    Model_Fini(&model);
}

Test(history, going_past_the_end_of_a_trace_stops_there_and_no_history_is_no_travel)
{
    static Op ops[3] = {{OP_ALLOC, 0, 100, 0}, {OP_ALLOC, 1, 200, 0}, {OP_FREE, 0, 0, 0}};
    start_trace(ops, 3);
    cr_assert_eq(History_Goto(model.hist, &model, 100), 0);
    cr_assert_eq(model.ops, 3, "the trace's end");
    cr_assert(model.ended);
    uint64_t before = fingerprint();
    cr_assert_eq(History_Goto(NULL, &model, 1), -1);
    cr_assert_eq(model.ops, 3);
    cr_assert_eq(fingerprint(), before, "nothing changed");
    Model_Fini(&model);
}

Test(history, reset_and_policy_change_start_a_new_history)
{
    start(8192, 1, 0, WL_RANDOM);
    for (int i = 0; i < 10; i++)
        Model_Step(&model);
    char err[128];
    cr_assert_eq(Model_SetPolicy(&model, MEM_BEST_FIT, err, sizeof err), 0);
    cr_assert_eq(model.ops, 0);
    cr_assert_eq(History_Last(model.hist), 0);
    uint64_t fresh = fingerprint();
    Model_Step(&model);
    cr_assert_eq(History_Goto(model.hist, &model, 0), 0);
    cr_assert_eq(fingerprint(), fresh);
    Model_Fini(&model);
}

/*
 * test_plan.c - MemHeap_PlanAlloc, the dry run of an allocation: its
 * contract; that it never writes (the region's bytes are the same after
 * it); and, on random heaps of every policy and knob, that what it plans is
 * what MemHeap_Alloc then does (the block or slot, the split, the free
 * blocks examined, a deferred coalesce, a failure), with MemHeap_Check after
 * every operation; a damaged heap is reported, never followed.
 */
#include "testlib.h"
#include "block.h" /* white-box: to damage a free block on purpose */

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_STEPS 4096

static MemPlanStep steps[MAX_STEPS];
/* how often each kind was planned (and deferred coalesces), so that the
 * random tests show they met every case */
static size_t kinds[MEM_PLAN_DAMAGED + 1], coalesces;

/* The whole region (control structure and arena), to compare. */
static const unsigned char *region_of(const MemHeap *h, size_t *len)
{
    MemRegion r = MemHeap_Region(h);
    *len = r.control + r.size;
    return (const unsigned char *)r.base - r.control;
}

static const MemEvent *find(const ThLog *log, MemEventKind kind)
{
    for (size_t i = 0; i < log->n; i++)
        if (log->ev[i].kind == kind)
            return &log->ev[i];
    return NULL;
}

/* Plans size, allocates it, and holds the two to the same answer. */
static void *plan_then_alloc(MemHeap *h, size_t size, const char *what)
{
    size_t len;
    const unsigned char *reg = region_of(h, &len);
    th_expose(h); /* under ASan: the copy reads what the library poisons */
    unsigned char *before = malloc(len);
    cr_assert_not_null(before);
    memcpy(before, reg, len);
    MemPlan p;
    int rc = MemHeap_PlanAlloc(h, size, steps, MAX_STEPS, &p);
    cr_assert_eq(memcmp(before, reg, len), 0, "%s: the plan wrote to the heap", what);
    free(before);
    cr_assert_eq(rc, 0, "%s: plan of %zu B: kind %d on a sound heap", what, size, (int)p.kind);
    cr_assert_leq(p.nsteps, MAX_STEPS);
    kinds[p.kind]++;
    coalesces += p.coalesce;

    ThLog log;
    memset(&log, 0, sizeof log);
    MemHeap_SetObserver(h, th_record, &log);
    unsigned char *obj = MemHeap_Alloc(h, size);
    MemHeap_SetObserver(h, NULL, NULL);
    unsigned char *base = MemHeap_Region(h).base;
    const MemEvent *al = find(&log, MEM_EV_ALLOC), *fail = find(&log, MEM_EV_FAIL);
    cr_assert_eq(p.coalesce, find(&log, MEM_EV_COALESCE_ALL) != NULL,
                 "%s: alloc %zu B: the deferred coalesce, planned %d", what, size, p.coalesce);
    switch (p.kind) {
    case MEM_PLAN_FAIL:
        cr_assert_null(obj, "%s: alloc %zu B: planned to fail, got +0x%zx", what, size,
                       (size_t)(obj - base));
        cr_assert_not_null(fail);
        cr_assert_eq(fail->examined, p.examined, "%s: alloc %zu B fails after %zu, planned %zu",
                     what, size, fail->examined, p.examined);
        break;
    case MEM_PLAN_RELEASE:
        cr_assert(obj == NULL || find(&log, MEM_EV_RUN_RELEASE), "%s: a spare goes back first",
                  what);
        break;
    case MEM_PLAN_BLOCK:
        cr_assert_not_null(obj, "%s: alloc %zu B failed, planned +0x%zx", what, size, p.block);
        cr_assert_not_null(al);
        cr_assert_eq((size_t)(obj - base), p.object, "%s: alloc %zu B at +0x%zx, planned +0x%zx",
                     what, size, (size_t)(obj - base), p.object);
        cr_assert_eq(al->block, p.block);
        cr_assert_eq(al->block, p.chosen, "the object's block starts the chosen free block");
        cr_assert_eq(al->size, p.chosen_size, "%s: chose %zu B, planned %zu B", what, al->size,
                     p.chosen_size);
        cr_assert_eq(al->remainder, p.remainder, "%s: split off %zu B, planned %zu B", what,
                     al->remainder, p.remainder);
        cr_assert_eq(al->examined, p.examined, "%s: alloc %zu B examined %zu, planned %zu",
                     what, size, al->examined, p.examined);
        if (p.splits) {
            const MemEvent *sp = find(&log, MEM_EV_SPLIT);
            cr_assert_not_null(sp);
            cr_assert_eq(sp->count, p.splits, "buddy: halvings");
        }
        break;
    case MEM_PLAN_SLOT:
    case MEM_PLAN_SPARE_RUN:
    case MEM_PLAN_NEW_RUN:
        cr_assert_not_null(obj, "%s: alloc %zu B failed, planned a slot", what, size);
        cr_assert_not_null(al);
        cr_assert_eq((size_t)(obj - base), p.object);
        cr_assert_eq(al->run, p.run, "%s: run +0x%zx, planned +0x%zx", what, al->run, p.run);
        cr_assert_eq(al->slot, p.slot);
        if (p.kind == MEM_PLAN_NEW_RUN) {
            const MemEvent *nr = find(&log, MEM_EV_RUN_NEW);
            cr_assert_not_null(nr, "%s: a new run was planned", what);
            cr_assert_eq(nr->block, p.block);
            cr_assert_eq(nr->size, p.block_size);
            cr_assert_eq(nr->remainder, p.remainder);
            cr_assert_eq(nr->examined, p.examined);
            cr_assert_eq(p.remainder ? p.remainder_offset + p.remainder : p.chosen, p.block,
                         "a run is cut from the top of its free block");
        } else {
            cr_assert_null(find(&log, MEM_EV_RUN_NEW));
        }
        break;
    case MEM_PLAN_DAMAGED:
        cr_assert_fail("damaged");
    }
    /* the steps: every free block examined, the chosen one among them */
    if (p.examined && p.examined <= MAX_STEPS && p.kind == MEM_PLAN_BLOCK) {
        bool seen = false;
        for (size_t i = p.first_search; i < p.nsteps; i++) {
            seen |= steps[i].offset == p.chosen;
            cr_assert_eq(steps[i].fits, steps[i].size >= p.need);
        }
        cr_assert(seen, "%s: the chosen block +0x%zx is not among the steps", what, p.chosen);
        MemPolicy pol = MemHeap_Region(h).policy;
        if (pol != MEM_BEST_FIT && pol != MEM_WORST_FIT)
            cr_assert_eq(steps[p.nsteps - 1].offset, p.chosen,
                         "%s: the search stops at the block it takes", what);
    }
    return obj;
}

/* Random allocations and frees with a plan before every allocation. */
static void churn(MemHeap *h, uint64_t seed, size_t ops, size_t max_size, const char *what)
{
    enum { LIVE = 256 };
    void *live[LIVE] = {0};
    ThRng rng = {seed};
    for (size_t i = 0; i < ops; i++) {
        size_t k = (size_t)th_below(&rng, LIVE);
        if (live[k]) {
            cr_assert_eq(MemHeap_Free(h, live[k]), 0);
            live[k] = NULL;
        } else {
            /* small ones (runs under fast) and larger ones alike */
            size_t size = th_below(&rng, 3) ? 1 + (size_t)th_below(&rng, 600)
                                             : 1 + (size_t)th_below(&rng, max_size);
            live[k] = plan_then_alloc(h, size, what);
        }
        th_check(h);
    }
}

Test(plan, every_list_policy_and_knob_on_random_heaps, .timeout = 120)
{
    uint64_t seed = th_seed(11);
    for (MemPolicy pol = MEM_FIRST_FIT; pol < MEM_FAST; pol++)
        for (MemOrder ord = MEM_ORDER_ADDRESS; ord < MEM_ORDER_COUNT; ord++)
            for (MemCoalesce co = MEM_COALESCE_NOW; co < MEM_COALESCE_COUNT; co++) {
                MemOptions o = {pol, 0, ord, co};
                MemHeap *h = th_heap_ex(&o, 16384);
                char what[96];
                snprintf(what, sizeof what, "%s %s %s seed %llu", MemPolicy_Name(pol),
                         MemOrder_Name(ord), MemCoalesce_Name(co), (unsigned long long)seed);
                churn(h, seed + pol * 9 + ord * 3 + co, th_scaled(1500), 3000, what);
                MemHeap_Release(h);
            }
    cr_assert_gt(kinds[MEM_PLAN_BLOCK], 0);
    cr_assert_gt(kinds[MEM_PLAN_FAIL], 0, "full heaps too");
    cr_assert_gt(coalesces, 0, "deferred coalesces too");
}

Test(plan, fast_with_runs_spares_and_its_block_heap, .timeout = 120)
{
    uint64_t seed = th_seed(12);
    for (unsigned i = 0; i < 3; i++) {
        /* 256 KiB: runs of every class; 8 KiB: none */
        MemHeap *h = th_heap(MEM_FAST, i == 2 ? 8192 : 262144, 0);
        char what[64];
        snprintf(what, sizeof what, "fast #%u seed %llu", i, (unsigned long long)(seed + i));
        churn(h, seed + i, th_scaled(4000), i == 1 ? 60000 : 2000, what);
        MemHeap_Release(h);
    }
    cr_assert_gt(kinds[MEM_PLAN_SLOT], 0);
    cr_assert_gt(kinds[MEM_PLAN_NEW_RUN], 0);
    if (th_scaled(100) == 100) /* a full-length run meets a spare */
        cr_assert_gt(kinds[MEM_PLAN_SPARE_RUN], 0);
    cr_assert_gt(kinds[MEM_PLAN_BLOCK], 0);
    cr_assert_gt(kinds[MEM_PLAN_FAIL] + kinds[MEM_PLAN_RELEASE], 0, "full heaps too");
}

Test(plan, buddy_and_guard_mode, .timeout = 120)
{
    uint64_t seed = th_seed(13);
    MemHeap *h = th_heap(MEM_BUDDY, 65536, 0);
    churn(h, seed, th_scaled(3000), 5000, "buddy");
    MemHeap_Release(h);
    for (MemPolicy pol = MEM_FIRST_FIT; pol < MEM_POLICY_COUNT; pol++) {
        h = th_heap(pol, 32768, MEM_OPT_GUARD);
        churn(h, seed + pol, th_scaled(800), 2000, MemPolicy_Name(pol));
        MemHeap_Release(h);
    }
}

Test(plan, a_full_heap_plans_a_failure)
{
    MemHeap *h = th_heap(MEM_FIRST_FIT, 4096, 0);
    while (plan_then_alloc(h, 1000, "fill"))
        ;
    MemPlan p;
    cr_assert_eq(MemHeap_PlanAlloc(h, 1000, steps, MAX_STEPS, &p), 0);
    cr_assert_eq(p.kind, MEM_PLAN_FAIL);
    cr_assert_eq(p.chosen, SIZE_MAX);
    cr_assert_eq(MemHeap_PlanAlloc(h, SIZE_MAX / 2, steps, MAX_STEPS, &p), 0);
    cr_assert_eq(p.kind, MEM_PLAN_FAIL, "a request larger than the arena");
    cr_assert_eq(p.examined, 0);
    MemHeap_Release(h);
}

/* ---- the contract --------------------------------------------------------- */

Test(plan, refuses_bad_arguments_and_touches_nothing)
{
    MemHeap *h = th_heap(MEM_BEST_FIT, 4096, 0);
    MemPlan p;
    memset(&p, 0x5a, sizeof p);
    MemPlan same = p;
    cr_assert_eq(MemHeap_PlanAlloc(NULL, 10, steps, MAX_STEPS, &p), -1);
    cr_assert_eq(MemHeap_PlanAlloc(h, 0, steps, MAX_STEPS, &p), -1);
    cr_assert_eq(MemHeap_PlanAlloc(h, 10, NULL, 4, &p), -1);
    cr_assert_eq(memcmp(&p, &same, sizeof p), 0, "*out is untouched");
    cr_assert_eq(MemHeap_PlanAlloc(h, 10, steps, MAX_STEPS, NULL), -1);
    /* no array: the plan without its steps */
    cr_assert_eq(MemHeap_PlanAlloc(h, 10, NULL, 0, &p), 0);
    cr_assert_eq(p.kind, MEM_PLAN_BLOCK);
    cr_assert_eq(p.nsteps, 0);
    cr_assert_eq(p.examined, 1);
    MemHeap_Release(h);
}

Test(plan, the_steps_are_bounded_by_the_callers_array)
{
    /* 20 free blocks of 64 B between used ones, then a request none fits
     * but the last free block: first fit examines all 21 */
    MemHeap *h = th_heap(MEM_FIRST_FIT, 16384, 0);
    void *keep[20], *gap[20];
    for (int i = 0; i < 20; i++) {
        gap[i] = MemHeap_Alloc(h, 50);
        keep[i] = MemHeap_Alloc(h, 50);
    }
    for (int i = 0; i < 20; i++)
        MemHeap_Free(h, gap[i]);
    MemPlan p;
    cr_assert_eq(MemHeap_PlanAlloc(h, 200, steps, 3, &p), 0);
    cr_assert_eq(p.examined, 21);
    cr_assert_eq(p.nsteps, 3, "only as many steps as the array holds");
    cr_assert(!steps[0].fits && !steps[2].fits);
    cr_assert_eq(MemHeap_PlanAlloc(h, 200, steps, MAX_STEPS, &p), 0);
    cr_assert_eq(p.nsteps, 21);
    cr_assert(steps[20].fits);
    cr_assert_eq(steps[20].offset, p.chosen);
    for (int i = 0; i < 20; i++)
        MemHeap_Free(h, keep[i]);
    MemHeap_Release(h);
}

Test(plan, a_deferred_coalesce_is_planned_and_its_merged_blocks_searched)
{
    MemOptions o = {MEM_FIRST_FIT, 0, MEM_ORDER_LIFO, MEM_COALESCE_DEFERRED};
    MemHeap *h = th_heap_ex(&o, 4096);
    void *a[12];
    size_t n = 0;
    while (n < 12 && (a[n] = MemHeap_Alloc(h, 300)) != NULL)
        n++;
    cr_assert_geq(n, 8);
    for (size_t i = 0; i < n; i++)
        MemHeap_Free(h, a[i]); /* side by side, none merged yet */
    MemPlan p;
    cr_assert_eq(MemHeap_PlanAlloc(h, 1000, steps, MAX_STEPS, &p), 0);
    cr_assert(p.coalesce, "no single block holds 1000 B before the coalesce");
    cr_assert_gt(p.first_search, 0);
    cr_assert_eq(p.kind, MEM_PLAN_BLOCK);
    cr_assert_gt(p.chosen_size, (size_t)1000, "the merged block");
    plan_then_alloc(h, 1000, "deferred");
    th_check(h);
    MemHeap_Release(h);
}

Test(plan, buddy_reports_its_split_chain)
{
    /* the arena's tiles are taken smallest first: soon a 32 B block can
     * only come from halving a larger one */
    MemHeap *h = th_heap(MEM_BUDDY, 4096, 0);
    MemPlan p;
    for (int i = 0; i < 8; i++) {
        cr_assert_eq(MemHeap_PlanAlloc(h, 20, steps, MAX_STEPS, &p), 0);
        if (p.splits)
            break;
        plan_then_alloc(h, 20, "buddy");
    }
    cr_assert_gt(p.splits, 0, "a larger free block is halved");
    cr_assert_eq(p.kind, MEM_PLAN_BLOCK);
    cr_assert_eq(p.block_size, 32u);
    cr_assert_eq(p.chosen_size >> p.splits, p.block_size, "halved down to 32 B");
    cr_assert_eq(p.remainder, p.chosen_size - 32u);
    cr_assert_eq(p.remainder_offset, p.block + 32u, "the smallest half is next to it");
    cr_assert_eq(p.nsteps, 1);
    cr_assert_eq(steps[0].list, 1u + p.splits, "the order examined");
    plan_then_alloc(h, 20, "buddy");
    MemHeap_Release(h);
}

Test(plan, a_damaged_free_block_is_reported_not_followed)
{
    for (MemPolicy pol = MEM_FIRST_FIT; pol < MEM_POLICY_COUNT; pol++) {
        MemHeap *h = th_heap(pol, 8192, 0);
        void *a = MemHeap_Alloc(h, 600), *b = MemHeap_Alloc(h, 600);
        cr_assert(a && b);
        MemHeap_Free(h, a);
        th_expose(h);
        /* a's block is free: break its header's tag, then its links */
        BlockHeader *hd = (BlockHeader *)(void *)((unsigned char *)a - HDR);
        BlockHeader keep = *hd;
        hd->info ^= 0x100u;
        MemPlan p;
        int rc = MemHeap_PlanAlloc(h, 500, steps, MAX_STEPS, &p);
        if (rc != 0)
            cr_assert_eq(p.kind, MEM_PLAN_DAMAGED, "%s", MemPolicy_Name(pol));
        else
            cr_assert_neq(p.chosen, (size_t)((unsigned char *)a - HDR -
                                             (unsigned char *)MemHeap_Region(h).base),
                          "%s: a damaged block is never planned", MemPolicy_Name(pol));
        *hd = keep;
        uint32_t *links = (uint32_t *)a;
        links[0] = 0xFFFFFFF0u; /* out of range: ends the list */
        links[1] = 0x7FFFFFFFu;
        rc = MemHeap_PlanAlloc(h, 5000, steps, MAX_STEPS, &p);
        cr_assert(rc == 0 || p.kind == MEM_PLAN_DAMAGED, "%s", MemPolicy_Name(pol));
        cr_assert_leq(p.nsteps, 4u, "%s: a bounded walk", MemPolicy_Name(pol));
        MemHeap_Release(h);
    }
}

/* A view (MemHeap_View) of the heap through a second, read-only mapping:
 * the plan reads it in place and says what it says on the heap. */
Test(plan, a_read_only_view_plans_as_the_heap_does)
{
    enum { REGION = 1 << 18 };
    for (MemPolicy pol = MEM_FIRST_FIT; pol < MEM_POLICY_COUNT; pol++) {
        int fd = memfd_create("test-plan", MFD_CLOEXEC);
        cr_assert_geq(fd, 0);
        cr_assert_eq(ftruncate(fd, (off_t)REGION), 0);
        unsigned char *rw = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        unsigned char *ro = mmap(NULL, REGION, PROT_READ, MAP_SHARED, fd, 0);
        cr_assert(rw != MAP_FAILED && ro != MAP_FAILED);
        MemHeap *h = MemHeap_Create(rw, REGION, pol, 0);
        cr_assert_not_null(h);
        ThRng rng = {7 + pol};
        void *keep[64] = {0};
        for (int i = 0; i < 400; i++) {
            size_t k = (size_t)th_below(&rng, 64);
            if (keep[k]) {
                MemHeap_Free(h, keep[k]);
                keep[k] = NULL;
            } else {
                keep[k] = MemHeap_Alloc(h, 1 + (size_t)th_below(&rng, 2000));
            }
        }
        _Alignas(16) static unsigned char buf[8192];
        cr_assert_leq(MemHeap_ViewSize(), sizeof buf);
        MemHeap *v = MemHeap_View(buf, ro, REGION);
        cr_assert_not_null(v);
        static MemPlanStep vs[MAX_STEPS];
        for (size_t size = 8; size < 4000; size = size * 3 / 2 + 1) {
            MemPlan a, b;
            cr_assert_eq(MemHeap_PlanAlloc(h, size, steps, MAX_STEPS, &a), 0);
            cr_assert_eq(MemHeap_PlanAlloc(v, size, vs, MAX_STEPS, &b), 0);
            cr_assert(a.kind == b.kind && a.object == b.object && a.examined == b.examined &&
                          a.nsteps == b.nsteps,
                      "%s, %zu B: the view plans kind %d at +0x%zx, the heap %d at +0x%zx",
                      MemPolicy_Name(pol), size, (int)b.kind, b.object, (int)a.kind, a.object);
            for (size_t i = 0; i < a.nsteps; i++)
                cr_assert_eq(steps[i].offset, vs[i].offset);
        }
        MemHeap_Release(h);
        munmap(ro, REGION);
        munmap(rw, REGION);
        close(fd);
    }
}

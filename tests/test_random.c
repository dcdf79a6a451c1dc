/*
 * test_random.c - a seeded random differential test against a shadow model.
 *
 * The shadow knows, for every granule of the arena, which live object (if
 * any) covers it, so it can say in O(1) whether any pointer is inside a live
 * object.  After every operation: MemHeap_Check, and the heap's counters
 * against the shadow's.  Payload bytes are verified before each free and in
 * full sweeps.  Interior, stale, wild, header, padding and edge pointers are
 * thrown at Free, Find and Classify.  Every failure message names the seed
 * and the operation; SEED=n replays a run.
 *
 * MEM_FAST serves small requests from runs of equal slots: the sizes drawn
 * for it lean on the edges of its size classes and on the edge between
 * runs and blocks (MEM_RUN_MAX); runs fill, empty, are kept as spares and
 * reused; every allocation is checked against the runs it could have used
 * (a class with a free slot must not fall back to a block).
 *
 * 1,000,000 operations per policy across the suite (4 x 250,000), plus the
 * Mem_* facade under each policy.  Buddy's blocks are checked against the
 * power of two each request needs, and its emptied heap against the tiling
 * it started with.  TEST_SCALE=percent scales them (valgrind
 * runs a share).
 */
#include "testlib.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LIVE 8192u
#define NONE UINT32_MAX

typedef struct Obj {
    unsigned char *p;
    size_t size;
    unsigned char fill;
} Obj;

typedef struct Run {
    MemHeap *h;
    bool facade; /* drive Mem_* instead of MemHeap_* */
    MemPolicy policy;
    unsigned flags;
    MemRegion r;
    uint64_t seed;
    size_t op;
    ThRng rng;
    Obj live[MAX_LIVE];
    uint32_t nlive;
    size_t live_bytes;
    uint32_t *owner; /* per granule of the arena: index into live[], or NONE */
    unsigned char *stale[64];
    unsigned nstale;
    size_t checked;
    size_t whole_free; /* free blocks of the empty heap (buddy: its tiling) */
    size_t runs, max_runs, runs_released, slot_allocs, block_allocs_small;
} Run;

__attribute__((format(printf, 2, 3))) static void ctx_fail(const Run *r, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cr_assert_fail("%s seed=%llu op=%zu: %s", MemPolicy_Name(r->policy), (unsigned long long)r->seed,
            r->op, msg);
}

#define expect(run, cond, ...)                                                             \
    do {                                                                                   \
        if (!(cond))                                                                       \
            ctx_fail(run, __VA_ARGS__);                                                    \
    } while (0)

static void *do_alloc(Run *r, size_t size)
{
    if (r->facade)
        return Mem_Alloc((int)size);
    return MemHeap_Alloc(r->h, size);
}

static int do_free(Run *r, void *p)
{
    if (r->facade)
        return Mem_Free(p);
    return MemHeap_Free(r->h, p);
}

/* The object start and size the heap reports for p, or NULL. */
static void *do_find(Run *r, void *p, size_t *size)
{
    if (r->facade) {
        int valid = Mem_IsValid(p);
        int s = Mem_GetSize(p);
        expect(r, (valid == 1) == (s > 0), "IsValid %d and GetSize %d disagree", valid, s);
        if (!valid)
            return NULL;
        *size = (size_t)s;
        /* Mem_* has no way to ask for the start: the shadow checks size. */
        return MemHeap_Find(r->h, p, NULL);
    }
    return MemHeap_Find(r->h, p, size);
}

static size_t gran_of(const Run *r, const void *p)
{
    return (size_t)((const unsigned char *)p - (const unsigned char *)r->r.base) / 16u;
}

/* The live object containing p according to the shadow, or NONE. */
static uint32_t shadow_owner(const Run *r, const void *p)
{
    uintptr_t a = (uintptr_t)p, b = (uintptr_t)r->r.base;
    if (a < b || a >= b + r->r.size)
        return NONE;
    uint32_t o = r->owner[(a - b) / 16u];
    if (o == NONE)
        return NONE;
    const Obj *ob = &r->live[o];
    return a >= (uintptr_t)ob->p && a < (uintptr_t)ob->p + ob->size ? o : NONE;
}

static void shadow_mark(Run *r, uint32_t idx, uint32_t val)
{
    const Obj *o = &r->live[idx];
    size_t first = gran_of(r, o->p), last = gran_of(r, o->p + o->size - 1);
    for (size_t g = first; g <= last; g++)
        r->owner[g] = val;
}

static void verify_fill(Run *r, const Obj *o)
{
    for (size_t i = 0; i < o->size; i++)
        if (o->p[i] != o->fill)
            ctx_fail(r, "object at %p (%zu B) byte %zu changed from %#x to %#x", (void *)o->p,
                     o->size, i, o->fill, o->p[i]);
}

static void check_all(Run *r)
{
    char why[256];
    int problems = r->facade ? (Mem_Check() == 0 ? 0 : 1) : 0;
    if (!problems)
        problems = MemHeap_Diagnose(r->h, why, sizeof why);
    else
        MemHeap_Diagnose(r->h, why, sizeof why);
    expect(r, problems == 0, "invariant broken: %s", why);
    MemStats s = MemHeap_Stats(r->h);
    expect(r, s.live_bytes == r->live_bytes, "live bytes %zu, shadow %zu", s.live_bytes,
           r->live_bytes);
    expect(r, s.used_blocks == r->nlive, "used blocks %zu, shadow %u", s.used_blocks, r->nlive);
    r->runs_released += s.runs < r->runs;
    r->runs = s.runs;
    if (s.runs > r->max_runs)
        r->max_runs = s.runs;
    r->checked++;
}

static size_t block_need(const Run *r, size_t size)
{
    size_t extra = 8 + ((r->flags & MEM_OPT_GUARD) ? 8 : 0);
    size_t n = (size + extra + 15) / 16 * 16;
    n = n < 32 ? 32 : n;
    if (r->policy == MEM_BUDDY) {
        size_t p = 32;
        while (p < n)
            p *= 2;
        n = p;
    }
    return n;
}

static const size_t class_edges[] = {16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224,
                                     256, 320, 384, 448, 512, 640, 768, 896, 1024};

static size_t random_size(Run *r)
{
    uint64_t k = th_below(&r->rng, 1000);
    if (r->policy == MEM_FAST && k < 300) {
        /* a class's edge, one byte either side, or the edge of runs */
        size_t e = class_edges[th_below(&r->rng, sizeof class_edges / sizeof class_edges[0])];
        if (k < 40)
            e = MEM_RUN_MAX;
        return e - 1 + th_below(&r->rng, 3);
    }
    if (k < 700)
        return 1 + th_below(&r->rng, 256);
    if (k < 950)
        return 257 + th_below(&r->rng, 3840);
    if (k < 995)
        return 1 + th_below(&r->rng, r->r.size / 4);
    return r->r.size + th_below(&r->rng, 100); /* cannot fit */
}

/* The runs of one slot size, as the walk shows them. */
typedef struct RunScan {
    size_t slot;        /* the slot size asked about */
    size_t room;        /* its runs with a free slot */
    size_t empty;       /* runs of any class with no live slot (spares) */
    const void *obj;    /* and whether this object is in one of its runs */
    size_t base;
    bool obj_in_run;
} RunScan;

static bool scan_visit(const MemBlock *b, void *arg)
{
    RunScan *s = arg;
    if (!b->run)
        return true;
    s->empty += b->live_slots == 0;
    if (b->slot_size == s->slot) {
        s->room += b->live_slots < b->slots;
        size_t o = (size_t)((uintptr_t)s->obj - s->base);
        if (s->obj && o >= b->slot_offset && o < b->slot_offset + b->slots * b->slot_size)
            s->obj_in_run = true;
    }
    return true;
}

static RunScan scan_runs(const Run *r, size_t slot, const void *obj)
{
    RunScan s = {.slot = slot, .obj = obj, .base = (size_t)(uintptr_t)r->r.base};
    MemHeap_Walk(r->h, scan_visit, &s);
    return s;
}

static void op_alloc(Run *r)
{
    if (r->nlive >= MAX_LIVE)
        return;
    size_t size = random_size(r);
    MemStats before = MemHeap_Stats(r->h);
    size_t need = block_need(r, size);
    size_t slot = MemHeap_SlotSize(r->h, size);
    RunScan runs = scan_runs(r, slot, NULL);
    if (slot)
        expect(r, r->policy == MEM_FAST && !(r->flags & MEM_OPT_GUARD) && size <= MEM_RUN_MAX &&
                      slot >= size && slot - size < 256,
               "a slot of %zu bytes for %zu", slot, size);
    unsigned char *p = do_alloc(r, size);
    bool deferred = r->r.coalesce == MEM_COALESCE_DEFERRED;
    if (!p) {
        MemStats after = MemHeap_Stats(r->h); /* deferred: after the coalesce */
        expect(r, !slot || !runs.room, "alloc %zu failed though a run of %zu has a free slot",
               size, slot);
        if (r->policy != MEM_FAST)
            expect(r, after.largest_free < need,
                   "alloc %zu failed though a free block of %zu fits", size, after.largest_free);
        else
            expect(r, before.largest_free < 2 * need,
                   "fast: alloc %zu failed though a free block of %zu exists", size,
                   before.largest_free);
        expect(r, after.free_bytes == before.free_bytes &&
                      (after.free_blocks == before.free_blocks ||
                       (deferred && after.free_blocks < before.free_blocks)),
               "a failed allocation changed the heap");
        expect(r, after.failed_allocs == before.failed_allocs + 1, "failure not counted");
        return;
    }
    expect(r, before.largest_free >= need || (slot && runs.room) || runs.empty ||
                  (deferred && before.free_bytes >= need),
           "alloc %zu succeeded without a block of %zu or a run's slot", size, need);
    bool in_run = slot && scan_runs(r, slot, p).obj_in_run;
    if (slot && runs.room)
        expect(r, in_run, "alloc %zu is not in a run of %zu-byte slots, though one had room",
               size, slot);
    r->slot_allocs += in_run;
    r->block_allocs_small += !in_run && size <= MEM_RUN_MAX;
    expect(r, (uintptr_t)p % MEM_ALIGNMENT == 0, "misaligned %p", (void *)p);
    if (r->policy == MEM_BUDDY) {
        /* exactly the power of two it needs, aligned to it from the first block */
        size_t at = (size_t)(p - (unsigned char *)r->r.base) - 8 - r->r.heap_begin;
        expect(r, at % need == 0, "buddy block at +%#zx is not aligned to its %zu bytes", at,
               need);
        MemStats after = MemHeap_Stats(r->h);
        expect(r, after.used_bytes == before.used_bytes + need,
               "buddy: %zu bytes used for a block of %zu", after.used_bytes - before.used_bytes,
               need);
    }
    expect(r, p >= (unsigned char *)r->r.base + r->r.heap_begin + 8 &&
                  p + size <= (unsigned char *)r->r.base + r->r.heap_end,
           "object outside the block area");
    uint32_t idx = r->nlive++;
    r->live[idx] = (Obj){p, size, (unsigned char)(th_rand(&r->rng) | 1u)};
    size_t first = gran_of(r, p), last = gran_of(r, p + size - 1);
    for (size_t g = first; g <= last; g++)
        expect(r, r->owner[g] == NONE, "new object %p overlaps a live one", (void *)p);
    shadow_mark(r, idx, idx);
    memset(p, r->live[idx].fill, size);
    r->live_bytes += size;
}

static void forget(Run *r, uint32_t idx)
{
    shadow_mark(r, idx, NONE);
    r->live_bytes -= r->live[idx].size;
    r->stale[r->nstale++ % 64] = r->live[idx].p;
    uint32_t last = --r->nlive;
    if (idx != last) {
        r->live[idx] = r->live[last];
        shadow_mark(r, idx, idx);
    }
}

static void op_free(Run *r)
{
    if (!r->nlive)
        return;
    uint32_t idx = (uint32_t)th_below(&r->rng, r->nlive);
    Obj o = r->live[idx];
    verify_fill(r, &o);
    size_t at = th_below(&r->rng, 4) == 0 ? 0 : th_below(&r->rng, o.size);
    int rc = do_free(r, o.p + at);
    expect(r, rc == 0, "free of byte %zu of a live %zu-byte object returned %d", at, o.size, rc);
    forget(r, idx);
}

/* A pointer that is probably not inside a live object. */
static unsigned char *bad_pointer(Run *r)
{
    static int on_stack;
    unsigned char *base = r->r.base;
    switch (th_below(&r->rng, 9)) {
    case 0:
        if (r->nstale)
            return r->stale[th_below(&r->rng, r->nstale < 64 ? r->nstale : 64)] +
                   th_below(&r->rng, 16);
        /* fall through */
    case 1:
        return base + th_below(&r->rng, r->r.size);
    case 2:
        if (r->nlive) {
            const Obj *o = &r->live[th_below(&r->rng, r->nlive)];
            return o->p + o->size + th_below(&r->rng, 8); /* padding or beyond */
        }
        return base;
    case 3:
        if (r->nlive)
            return r->live[th_below(&r->rng, r->nlive)].p - 1 - th_below(&r->rng, 8); /* header */
        return base + 1;
    case 4:
        return base + r->r.size - 1 - th_below(&r->rng, 32); /* the bitmap tail */
    case 5:
        return base - 1 - th_below(&r->rng, 4096);
    case 6:
        return base + r->r.size + th_below(&r->rng, 4096);
    case 7:
        return (unsigned char *)&on_stack;
    default:
        return (unsigned char *)(uintptr_t)th_rand(&r->rng);
    }
}

static void op_bad_free(Run *r)
{
    unsigned char *p = bad_pointer(r);
    if (shadow_owner(r, p) != NONE)
        return; /* it landed inside a live object: not a bad pointer */
    MemStats before = MemHeap_Stats(r->h);
    int rc = do_free(r, p);
    expect(r, rc != 0, "free of a pointer outside every live object succeeded");
    MemStats after = MemHeap_Stats(r->h);
    expect(r, after.rejected_frees == before.rejected_frees + (p != NULL),
           "rejection not counted");
    expect(r, after.live_bytes == before.live_bytes && after.free_bytes == before.free_bytes,
           "a rejected free changed the heap");
}

static void op_query(Run *r)
{
    unsigned char *p;
    if (r->nlive && th_below(&r->rng, 2)) {
        const Obj *o = &r->live[th_below(&r->rng, r->nlive)];
        p = o->p + th_below(&r->rng, o->size);
    } else {
        p = bad_pointer(r);
    }
    uint32_t own = shadow_owner(r, p);
    size_t size = 0;
    void *start = do_find(r, p, &size);
    if (own == NONE) {
        expect(r, start == NULL, "found an object at %p where there is none", (void *)p);
        if (!r->facade)
            expect(r, MemHeap_Classify(r->h, p) != MEM_OK, "classified as inside");
    } else {
        expect(r, start == r->live[own].p, "found %p, the object starts at %p", start,
               (void *)r->live[own].p);
        expect(r, size == r->live[own].size, "size %zu, the object has %zu", size,
               r->live[own].size);
        if (!r->facade)
            expect(r, MemHeap_Classify(r->h, p) == MEM_OK, "classified as outside");
    }
}

static void free_everything(Run *r)
{
    while (r->nlive) {
        verify_fill(r, &r->live[r->nlive - 1]);
        expect(r, do_free(r, r->live[r->nlive - 1].p) == 0, "free all");
        forget(r, r->nlive - 1);
    }
    check_all(r);
    MemStats s = MemHeap_Stats(r->h);
    /* everything coalesced, but for the empty runs kept as spares (fast),
     * buddy's tiling of the arena, and free blocks side by side when the
     * coalescing is deferred or never */
    expect(r, s.run_free_slots == s.run_slots && s.runs <= 20,
           "after freeing everything: %zu runs, %zu of %zu slots free", s.runs,
           s.run_free_slots, s.run_slots);
    if (r->r.coalesce == MEM_COALESCE_NOW)
        expect(r, s.free_blocks <= s.runs + r->whole_free,
               "after freeing everything: %zu free blocks", s.free_blocks);
    expect(r, s.free_bytes + s.run_bytes == r->r.heap_end - r->r.heap_begin,
           "after freeing everything: %zu bytes free, %zu in runs", s.free_bytes, s.run_bytes);
}

static void run(MemHeap *h, bool facade, uint64_t seed, size_t ops)
{
    ops = th_scaled(ops);
    static Run r; /* large: keep it off the stack */
    memset(&r, 0, sizeof r);
    r.h = h;
    r.facade = facade;
    r.r = MemHeap_Region(h);
    r.policy = r.r.policy;
    r.flags = r.r.flags;
    r.seed = th_seed(seed);
    r.rng.s = r.seed;
    r.whole_free = MemHeap_Stats(h).free_blocks;
    cr_assert(r.whole_free == 1 || r.policy == MEM_BUDDY, "a new heap is one free block");
    size_t grans = r.r.size / 16 + 1;
    r.owner = malloc(grans * sizeof *r.owner);
    cr_assert_not_null(r.owner);
    for (size_t g = 0; g < grans; g++)
        r.owner[g] = NONE;
    for (r.op = 0; r.op < ops; r.op++) {
        uint64_t k = th_below(&r.rng, 100);
        if (k < 48)
            op_alloc(&r);
        else if (k < 88)
            op_free(&r);
        else if (k < 94)
            op_bad_free(&r);
        else
            op_query(&r);
        check_all(&r);
        if (r.op % 4096 == 4095)
            for (uint32_t i = 0; i < r.nlive; i++)
                verify_fill(&r, &r.live[i]);
        if (r.op % 50000 == 49999)
            free_everything(&r);
    }
    free_everything(&r);
    /* The run must have exercised every kind of operation. */
    MemStats s = MemHeap_Stats(h);
    cr_assert_geq(r.checked, ops, "the checker ran after every operation");
    /* a heap that never coalesces shatters: it serves fewer, but some */
    size_t least = r.r.coalesce == MEM_COALESCE_NEVER ? ops / 20 : ops / 5;
    cr_assert_gt(s.allocs, least, "allocations: %llu", (unsigned long long)s.allocs);
    cr_assert_gt(s.frees, least, "frees: %llu", (unsigned long long)s.frees);
    cr_assert_gt(s.failed_allocs, 0, "no allocation ever failed");
    cr_assert_gt(s.rejected_frees, ops / 50, "rejected frees: %llu",
                 (unsigned long long)s.rejected_frees);
    if (MemHeap_SlotSize(h, 16)) {
        /* runs were made, filled, emptied and given back; small requests
         * went to slots, and to blocks when no run had room or could be made */
        cr_assert_gt(r.max_runs, 2, "runs at most %zu", r.max_runs);
        cr_assert_gt(r.runs_released, 0, "no run was ever given back");
        cr_assert_gt(r.slot_allocs, ops / 50, "slots allocated: %zu", r.slot_allocs);
    } else {
        cr_assert_eq(r.max_runs, 0, "runs under %s", MemPolicy_Name(r.policy));
    }
    cr_log_info("%s: %zu operations checked (seed %llu), runs at most %zu, %zu given back, "
                "%zu slots and %zu small blocks allocated",
                MemPolicy_Name(r.policy), r.checked, (unsigned long long)r.seed, r.max_runs,
                r.runs_released, r.slot_allocs, r.block_allocs_small);
    free(r.owner);
}

static MemHeap *heap_for(MemPolicy p, size_t arena, unsigned flags)
{
    MemHeap *h = th_heap(p, arena, flags);
    cr_assert_not_null(h);
    return h;
}

#define OPS 250000u

#define POLICY_TESTS(name, pol)                                                            \
    Test(random_##name, small_heap) { run(heap_for(pol, 16 << 10, 0), false, 1001 + pol, OPS); } \
    Test(random_##name, medium_heap) { run(heap_for(pol, 128 << 10, 0), false, 2002 + pol, OPS); } \
    Test(random_##name, large_heap_no_lock)                                                \
    {                                                                                      \
        run(heap_for(pol, 1 << 20, MEM_OPT_NOLOCK), false, 3003 + pol, OPS);               \
    }                                                                                      \
    Test(random_##name, guarded_heap)                                                      \
    {                                                                                      \
        run(heap_for(pol, 64 << 10, MEM_OPT_GUARD), false, 4004 + pol, OPS);               \
    }

POLICY_TESTS(first, MEM_FIRST_FIT)
POLICY_TESTS(next, MEM_NEXT_FIT)
POLICY_TESTS(best, MEM_BEST_FIT)
POLICY_TESTS(worst, MEM_WORST_FIT)
POLICY_TESTS(fast, MEM_FAST)
POLICY_TESTS(buddy, MEM_BUDDY)

/* Runs in a heap small enough that they fill it and fail: runs for the
 * smallest classes only (the 1/256 rule), blocks beside them. */
Test(random_fast, runs_under_pressure) { run(heap_for(MEM_FAST, 48 << 10, 0), false, 5005, OPS); }

static void facade_run(const char *policy, uint64_t seed)
{
    setenv("MEM_POLICY", policy, 1);
    cr_assert_eq(Mem_Init(96 << 10), 0);
    run(Mem_DefaultHeap(), true, seed, 60000);
    cr_assert_eq(th_mmap_calls, 1);
}

/* OSTEP's knobs: list orders and coalescing on the list policies. */
static MemHeap *knob_heap(MemPolicy p, MemOrder order, MemCoalesce co, size_t arena)
{
    MemOptions o = {p, 0, order, co};
    MemHeap *h = th_heap_ex(&o, arena);
    cr_assert_not_null(h);
    return h;
}

#define KNOB_OPS 100000u
#define KNOB_TEST(name, pol, order, co, arena, seed)                                        \
    Test(random_knobs, name) { run(knob_heap(pol, order, co, arena), false, seed, KNOB_OPS); }

KNOB_TEST(first_lifo_deferred, MEM_FIRST_FIT, MEM_ORDER_LIFO, MEM_COALESCE_DEFERRED, 32 << 10, 5005)
KNOB_TEST(next_fifo_never, MEM_NEXT_FIT, MEM_ORDER_FIFO, MEM_COALESCE_NEVER, 64 << 10, 5006)
KNOB_TEST(best_lifo_now, MEM_BEST_FIT, MEM_ORDER_LIFO, MEM_COALESCE_NOW, 32 << 10, 5007)
KNOB_TEST(worst_fifo_deferred, MEM_WORST_FIT, MEM_ORDER_FIFO, MEM_COALESCE_DEFERRED, 32 << 10,
          5008)
KNOB_TEST(first_address_never, MEM_FIRST_FIT, MEM_ORDER_ADDRESS, MEM_COALESCE_NEVER, 64 << 10,
          5009)

Test(random_facade, first) { facade_run("first", 11); }
Test(random_facade, next) { facade_run("next", 12); }
Test(random_facade, best) { facade_run("best", 13); }
Test(random_facade, worst) { facade_run("worst", 14); }
Test(random_facade, fast) { facade_run("fast", 15); }
Test(random_facade, buddy) { facade_run("buddy", 16); }

/*
 * test_resize.c - MemHeap_Resize and MemHeap_AllocAligned (lib/resize.c):
 * exact layouts for each case of the block diagrams, the failure set, the
 * events, and a seeded random test against a shadow model with
 * MemHeap_Check after every operation, under every policy, with and
 * without guard mode.  SEED=n replays a run.
 */
#include "testlib.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void fill(unsigned char *p, size_t n, unsigned char v)
{
    memset(p, v, n);
}

static bool filled(const unsigned char *p, size_t n, unsigned char v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return false;
    return true;
}

/* A fresh first-fit heap: layouts are deterministic from the arena start. */
static MemHeap *heap(MemPolicy policy, unsigned flags)
{
    MemHeap *h = th_heap(policy, 16384, flags);
    cr_assert_not_null(h);
    return h;
}

/* The layout without its last block (the rest of the arena). */
static const char *head_of(const MemHeap *h)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "%s", th_layout(h));
    char *last = strrchr(buf, ' ');
    if (last)
        *last = '\0';
    return buf;
}

Test(resize, grows_into_the_free_block_after_it)
{
    MemHeap *h = heap(MEM_FIRST_FIT, 0);
    unsigned char *a = MemHeap_Alloc(h, 24), *b = MemHeap_Alloc(h, 100);
    cr_assert(MemHeap_Alloc(h, 24));
    fill(a, 24, 0x5a);
    cr_assert_eq(MemHeap_Free(h, b), 0);
    cr_assert_str_eq(head_of(h), "U32 F112 U32");
    cr_assert_eq(MemHeap_Resize(h, a, 100), 0);
    cr_assert_str_eq(head_of(h), "U112 F32 U32", "the rest stays free: %s", th_layout(h));
    cr_assert(filled(a, 24, 0x5a), "the old bytes are kept");
    size_t size = 0;
    cr_assert_eq(MemHeap_Find(h, a + 99, &size), a);
    cr_assert_eq(size, 100);
    th_check(h);
}

Test(resize, takes_a_neighbour_whole_when_the_rest_cannot_be_a_block)
{
    MemHeap *h = heap(MEM_BEST_FIT, 0);
    unsigned char *a = MemHeap_Alloc(h, 24), *b = MemHeap_Alloc(h, 24);
    cr_assert(MemHeap_Alloc(h, 24));
    cr_assert_eq(MemHeap_Free(h, b), 0);
    cr_assert_eq(MemHeap_Resize(h, a, 40), 0); /* 48 bytes of block: 16 left over */
    cr_assert_str_eq(head_of(h), "U64 U32", "%s", th_layout(h));
    cr_assert_eq(MemHeap_Stats(h).padding_bytes, 16, "the leftover granule is padding");
    th_check(h);
}

Test(resize, shrinking_splits_the_end_off)
{
    MemHeap *h = heap(MEM_FIRST_FIT, 0);
    unsigned char *a = MemHeap_Alloc(h, 200);
    cr_assert(MemHeap_Alloc(h, 24));
    cr_assert_str_eq(head_of(h), "U208 U32");
    cr_assert_eq(MemHeap_Resize(h, a, 24), 0);
    cr_assert_str_eq(head_of(h), "U32 F176 U32", "%s", th_layout(h));
    th_check(h);
}

Test(resize, shrinking_merges_with_a_free_neighbour)
{
    MemHeap *h = heap(MEM_FAST, MEM_OPT_NORUNS);
    unsigned char *a = MemHeap_Alloc(h, 200), *b = MemHeap_Alloc(h, 24);
    cr_assert(MemHeap_Alloc(h, 24));
    cr_assert_eq(MemHeap_Free(h, b), 0);
    cr_assert_eq(MemHeap_Resize(h, a, 24), 0);
    cr_assert_str_eq(head_of(h), "U32 F208 U32", "%s", th_layout(h));
    /* one granule: only a free neighbour can take it */
    unsigned char *c = MemHeap_Alloc(h, 40);
    cr_assert_eq(c, a + 32);
    cr_assert_eq(MemHeap_Resize(h, c, 24), 0);
    cr_assert_str_eq(head_of(h), "U32 U32 F176 U32", "%s", th_layout(h));
    th_check(h);
}

Test(resize, a_granule_next_to_a_used_block_stays_as_padding)
{
    MemHeap *h = heap(MEM_WORST_FIT, 0);
    unsigned char *a = MemHeap_Alloc(h, 40);
    cr_assert(MemHeap_Alloc(h, 24));
    cr_assert_eq(MemHeap_Resize(h, a, 24), 0);
    cr_assert_str_eq(head_of(h), "U48 U32", "%s", th_layout(h));
    size_t size = 0;
    cr_assert_eq(MemHeap_Find(h, a, &size), a);
    cr_assert_eq(size, 24);
    cr_assert_null(MemHeap_Find(h, a + 24, NULL), "the bytes after it are padding now");
    th_check(h);
}

Test(resize, an_object_in_a_run_keeps_its_slot)
{
    MemHeap *h = th_heap(MEM_FAST, 1 << 20, 0);
    cr_assert_not_null(h);
    size_t slot = MemHeap_SlotSize(h, 100);
    cr_assert_geq(slot, 100, "100 bytes go to a run's slot under fast");
    unsigned char *a = MemHeap_Alloc(h, 100);
    fill(a, 100, 0x33);
    ThLog log = {0};
    MemHeap_SetObserver(h, th_record, &log);
    size_t low = slot - 15; /* the class's smallest request */
    cr_assert_eq(MemHeap_SlotSize(h, low), slot);
    cr_assert_eq(MemHeap_Resize(h, a, slot), 0, "up to the slot's size");
    cr_assert_eq(MemHeap_Resize(h, a, low), 0, "down, in the same slot");
    size_t size = 0;
    cr_assert_eq(MemHeap_Find(h, a, &size), a);
    cr_assert_eq(size, low);
    cr_assert(filled(a, low, 0x33));
    cr_assert_null(MemHeap_Find(h, a + low, NULL), "past the object: its slot's slack");
    cr_assert_eq(MemHeap_Resize(h, a, slot + 1), -1, "more than the slot: it must move");
    cr_assert_eq(MemHeap_Resize(h, a, low - 1), -1, "a smaller class: it must move");
    cr_assert_eq(log.n, 2);
    cr_assert_eq(log.ev[1].kind, MEM_EV_RESIZE);
    cr_assert_eq(log.ev[1].previous, slot);
    cr_assert_eq(log.ev[1].request, low);
    cr_assert_eq(log.ev[1].size, slot);
    cr_assert_neq(log.ev[1].run, 0, "the event names the run");
    cr_assert_eq(MemHeap_Stats(h).live_bytes, low);
    cr_assert_eq(MemHeap_FreeExact(h, a + 16), MEM_REJECT_INTERIOR, "exact frees in runs too");
    cr_assert_eq(MemHeap_FreeExact(h, a), MEM_OK);
    th_check(h);
}

Test(resize, failure_changes_nothing)
{
    MemHeap *h = heap(MEM_FIRST_FIT, 0);
    unsigned char *a = MemHeap_Alloc(h, 24), *b = MemHeap_Alloc(h, 24);
    cr_assert(a && b);
    char before[512];
    snprintf(before, sizeof before, "%s", th_layout(h));
    MemStats s0 = MemHeap_Stats(h);
    cr_assert_eq(MemHeap_Resize(h, a, 100), -1, "the next block is used");
    cr_assert_eq(MemHeap_Resize(h, a + 16, 8), -1, "not the object's first byte");
    cr_assert_eq(MemHeap_Resize(h, a - 8, 8), -1, "a header");
    cr_assert_eq(MemHeap_Resize(h, a, 0), -1, "size 0");
    cr_assert_eq(MemHeap_Resize(h, NULL, 8), -1);
    cr_assert_eq(MemHeap_Resize(NULL, a, 8), -1);
    cr_assert_eq(MemHeap_Resize(h, (void *)(uintptr_t)0x10, 8), -1, "outside");
    cr_assert_eq(MemHeap_Resize(h, b, (size_t)1 << 40), -1, "more than the arena");
    cr_assert_eq(MemHeap_Free(h, a), 0);
    cr_assert_eq(MemHeap_Resize(h, a, 8), -1, "a freed object");
    cr_assert_eq(MemHeap_Alloc(h, 24), a);
    cr_assert_str_eq(th_layout(h), before);
    MemStats s1 = MemHeap_Stats(h);
    cr_assert_eq(s1.resizes, 0);
    cr_assert_eq(s1.rejected_frees, s0.rejected_frees);
    cr_assert_eq(s1.failed_allocs, s0.failed_allocs);
    th_check(h);
}


Test(resize, raises_an_event_and_counts)
{
    MemHeap *h = heap(MEM_FIRST_FIT, 0);
    unsigned char *a = MemHeap_Alloc(h, 24), *b = MemHeap_Alloc(h, 100);
    cr_assert(MemHeap_Alloc(h, 24));
    cr_assert_eq(MemHeap_Free(h, b), 0);
    ThLog log = {0};
    MemHeap_SetObserver(h, th_record, &log);
    uint64_t ops = MemHeap_Stats(h).ops;
    cr_assert_eq(MemHeap_Resize(h, a, 100), 0);
    cr_assert_eq(log.n, 1);
    MemEvent e = log.ev[0];
    MemRegion r = MemHeap_Region(h);
    cr_assert_eq(e.kind, MEM_EV_RESIZE);
    cr_assert_eq(e.op, ops + 1);
    cr_assert_eq(e.previous, 24);
    cr_assert_eq(e.request, 100);
    cr_assert_eq(e.object, (size_t)(a - (unsigned char *)r.base));
    cr_assert_eq(e.block, e.object - MEM_HEADER_SIZE);
    cr_assert_eq(e.size, 112);
    cr_assert_eq(e.remainder, 32);
    cr_assert_eq(e.neighbours, MEM_RIGHT);
    MemStats s = MemHeap_Stats(h);
    cr_assert_eq(s.resizes, 1);
    cr_assert_eq(s.ops, ops + 1);
    cr_assert_eq(s.live_bytes, 124);
    cr_assert_geq(s.peak_used_bytes, s.used_bytes);
}

Test(aligned, gives_the_gap_back_as_a_free_block)
{
    for (unsigned p = 0; p < MEM_POLICY_COUNT; p++) {
        MemHeap *h = heap((MemPolicy)p, 0);
        size_t free0 = MemHeap_Stats(h).free_bytes;
        if (p == MEM_BUDDY) {
            /* the contract: buddy's blocks are aligned to their size, not
             * to a request's, so it refuses rather than waste the gap */
            cr_assert_null(MemHeap_AllocAligned(h, 32, 100));
            cr_assert_eq(MemHeap_Stats(h).free_bytes, free0, "a refusal changes nothing");
            th_check(h);
            continue;
        }
        for (size_t align = 32; align <= 4096; align *= 2) {
            unsigned char *x = MemHeap_AllocAligned(h, align, 100);
            cr_assert_not_null(x, "%s align %zu", MemPolicy_Name((MemPolicy)p), align);
            cr_assert_eq((uintptr_t)x % align, 0);
            MemStats s = MemHeap_Stats(h);
            cr_assert_leq(s.padding_bytes, 16 + 15, "no gap is wasted as padding");
            th_check(h);
            cr_assert_eq(MemHeap_Free(h, x), 0);
            cr_assert_eq(MemHeap_Stats(h).free_blocks, 1, "%s: the gap coalesced back: %s",
                         MemPolicy_Name((MemPolicy)p), th_layout(h));
            cr_assert_eq(MemHeap_Stats(h).free_bytes, free0);
        }
    }
}

Test(aligned, the_gap_is_a_block_or_nothing)
{
    MemHeap *h = heap(MEM_FIRST_FIT, 0);
    /* Move the first free block's object onto every 16-byte phase of 64. */
    for (size_t lead = 0; lead < 4; lead++) {
        unsigned char *pad = lead ? MemHeap_Alloc(h, lead * 16 + 8) : NULL;
        unsigned char *x = MemHeap_AllocAligned(h, 64, 40);
        cr_assert_not_null(x);
        cr_assert_eq((uintptr_t)x % 64, 0);
        th_check(h);
        const char *lay = th_layout(h);
        cr_assert(strstr(lay, "F16 ") == NULL, "%s", lay);
        cr_assert_leq(MemHeap_Stats(h).padding_bytes, 2 * 31, "%s", lay);
        MemHeap_Free(h, x);
        if (pad)
            MemHeap_Free(h, pad);
        cr_assert_eq(MemHeap_Stats(h).free_blocks, 1);
    }
}

Test(aligned, refuses_bad_arguments_and_counts_failures)
{
    MemHeap *h = heap(MEM_FAST, 0);
    cr_assert_null(MemHeap_AllocAligned(NULL, 64, 8));
    cr_assert_null(MemHeap_AllocAligned(h, 64, 0));
    cr_assert_null(MemHeap_AllocAligned(h, 48, 8), "not a power of two");
    cr_assert_null(MemHeap_AllocAligned(h, 0, 8));
    cr_assert_eq(MemHeap_Stats(h).failed_allocs, 0, "bad arguments are not failures");
    cr_assert_null(MemHeap_AllocAligned(h, (size_t)1 << 40, 8), "an alignment past the arena");
    cr_assert_null(MemHeap_AllocAligned(h, 4096, 16000), "no block that large");
    cr_assert_eq(MemHeap_Stats(h).failed_allocs, 2);
    unsigned char *x = MemHeap_AllocAligned(h, 8, 8);
    cr_assert_not_null(x, "small alignments are plain allocations");
    cr_assert_eq((uintptr_t)x % 16, 0);
    th_check(h);
}

Test(create, zeroed_flag_skips_clearing_and_is_not_kept)
{
    MemHeap *h = th_heap(MEM_FAST, 1 << 20, MEM_OPT_ZEROED);
    cr_assert_not_null(h);
    cr_assert_eq(MemHeap_Region(h).flags, 0);
    th_check(h);
    void *p = MemHeap_Alloc(h, 1000);
    cr_assert_not_null(p);
    th_check(h);
}

/* ---- random, against a shadow model ----------------------------------------- */

#define MAX_LIVE 512u

typedef struct Obj {
    unsigned char *p;
    size_t size;
    unsigned char v;
} Obj;

typedef struct Rand {
    MemHeap *h;
    MemPolicy policy;
    unsigned flags;
    uint64_t seed;
    size_t op;
    ThRng rng;
    Obj live[MAX_LIVE];
    unsigned n;
    size_t live_bytes;
} Rand;

__attribute__((format(printf, 2, 3))) static void rfail(const Rand *r, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cr_assert_fail("%s flags=%u seed=%llu op=%zu: %s", MemPolicy_Name(r->policy), r->flags,
                   (unsigned long long)r->seed, r->op, msg);
}

#define expect(r, cond, ...)                                                               \
    do {                                                                                   \
        if (!(cond))                                                                       \
            rfail(r, __VA_ARGS__);                                                         \
    } while (0)

/* What the shadow says Resize must do: the object's block and a free block
 * right after it, from a walk. */
typedef struct Around {
    size_t object;             /* the object's offset */
    size_t block, right_free;  /* its block, the free block after it */
    size_t slot;               /* in a run (MEM_FAST): its slot size, else 0 */
    bool found;
} Around;

static bool around_visit(const MemBlock *b, void *arg)
{
    Around *a = arg;
    if (a->found) {
        a->right_free = b->used ? 0 : b->size;
        return false;
    }
    if (b->offset <= a->object && a->object < b->offset + b->size) {
        a->found = true;
        a->block = b->size;
        a->slot = b->run ? b->slot_size : 0;
    }
    return true;
}

static size_t need_bytes(const Rand *r, size_t size)
{
    size_t extra = MEM_HEADER_SIZE + ((r->flags & MEM_OPT_GUARD) ? 8u : 0u);
    size_t n = (size + extra + 15u) / 16u * 16u;
    return n < MEM_MIN_BLOCK ? MEM_MIN_BLOCK : n;
}

static size_t rand_size(Rand *r)
{
    uint64_t k = th_below(&r->rng, 100);
    if (k < 60)
        return 1 + th_below(&r->rng, 64);
    if (k < 95)
        return 1 + th_below(&r->rng, 1024);
    return 1 + th_below(&r->rng, 16384);
}

static void add(Rand *r, unsigned char *p, size_t size)
{
    Obj *o = &r->live[r->n++];
    o->p = p;
    o->size = size;
    o->v = (unsigned char)(1 + th_below(&r->rng, 255));
    fill(p, size, o->v);
    r->live_bytes += size;
}

static void step(Rand *r)
{
    uint64_t k = th_below(&r->rng, 100);
    if (r->n == 0 || (r->n < MAX_LIVE && k < 35)) {
        size_t size = rand_size(r);
        unsigned char *p = MemHeap_Alloc(r->h, size);
        if (p)
            add(r, p, size);
    } else if (r->n < MAX_LIVE && k < 45) {
        size_t align = (size_t)32 << th_below(&r->rng, 8);
        size_t size = rand_size(r);
        unsigned char *p = MemHeap_AllocAligned(r->h, align, size);
        if (p) {
            expect(r, (uintptr_t)p % align == 0, "%p not aligned to %zu", (void *)p, align);
            add(r, p, size);
        }
    } else if (k < 80) {
        Obj *o = &r->live[th_below(&r->rng, r->n)];
        size_t size = th_below(&r->rng, 3) == 0 ? 1 + th_below(&r->rng, o->size)
                                                : rand_size(r);
        MemRegion reg = MemHeap_Region(r->h);
        Around a = {.object = (size_t)(o->p - (unsigned char *)reg.base)};
        MemHeap_Walk(r->h, around_visit, &a);
        expect(r, a.found, "the object's block is not in the walk");
        /* a run's slot keeps an object that still fits it; a block grows
         * into a free block after it */
        bool can = a.slot ? MemHeap_SlotSize(r->h, size) == a.slot
                          : need_bytes(r, size) <= a.block + a.right_free;
        int rc = MemHeap_Resize(r->h, o->p, size);
        expect(r, (rc == 0) == can, "resize %zu -> %zu (block %zu, free after %zu): got %d",
               o->size, size, a.block, a.right_free, rc);
        if (rc == 0) {
            size_t keep = size < o->size ? size : o->size;
            expect(r, filled(o->p, keep, o->v), "resize lost the object's bytes");
            r->live_bytes = r->live_bytes - o->size + size;
            o->size = size;
            fill(o->p, size, o->v);
        }
    } else {
        unsigned i = (unsigned)th_below(&r->rng, r->n);
        Obj *o = &r->live[i];
        expect(r, filled(o->p, o->size, o->v), "object %p was overwritten", (void *)o->p);
        expect(r, MemHeap_Free(r->h, o->p) == 0, "free refused");
        r->live_bytes -= o->size;
        r->live[i] = r->live[--r->n];
    }
    char why[256];
    expect(r, MemHeap_Diagnose(r->h, why, sizeof why) == 0, "%s", why);
    MemStats s = MemHeap_Stats(r->h);
    expect(r, s.live_bytes == r->live_bytes, "live bytes %zu, shadow %zu", s.live_bytes,
           r->live_bytes);
    expect(r, s.used_blocks == r->n, "used blocks %zu, shadow %u", s.used_blocks, r->n);
    /* no gap of an aligned object is kept as padding (runs have tails and
     * slots' slack of their own) */
    expect(r, s.runs || s.padding_bytes <= (size_t)r->n * 47u, "padding %zu for %u objects",
           s.padding_bytes, r->n);
}

static void random_run(MemPolicy policy, unsigned flags, uint64_t fallback)
{
    static Rand r;
    memset(&r, 0, sizeof r);
    r.policy = policy;
    r.flags = flags;
    r.seed = th_seed(fallback);
    r.rng.s = r.seed;
    r.h = th_heap(policy, 1 << 20, flags);
    cr_assert_not_null(r.h);
    size_t ops = th_scaled(20000);
    for (r.op = 0; r.op < ops; r.op++)
        step(&r);
    for (unsigned i = 0; i < r.n; i++)
        expect(&r, filled(r.live[i].p, r.live[i].size, r.live[i].v), "final sweep");
}

Test(random, first) { random_run(MEM_FIRST_FIT, 0, 11); }
Test(random, next) { random_run(MEM_NEXT_FIT, 0, 12); }
Test(random, best) { random_run(MEM_BEST_FIT, 0, 13); }
Test(random, worst) { random_run(MEM_WORST_FIT, 0, 14); }
Test(random, fast) { random_run(MEM_FAST, 0, 15); }
Test(random, fast_noruns) { random_run(MEM_FAST, MEM_OPT_NORUNS, 19); }
Test(random, fast_guard) { random_run(MEM_FAST, MEM_OPT_GUARD, 16); }
Test(random, first_guard) { random_run(MEM_FIRST_FIT, MEM_OPT_GUARD, 17); }
Test(random, next_guard) { random_run(MEM_NEXT_FIT, MEM_OPT_GUARD, 18); }

Test(free_exact, refuses_an_interior_pointer_and_frees_at_the_start)
{
    MemHeap *h = heap(MEM_FAST, 0);
    unsigned char *a = MemHeap_Alloc(h, 100);
    cr_assert_not_null(a);
    ThLog log = {0};
    MemHeap_SetObserver(h, th_record, &log);
    cr_assert_eq(MemHeap_FreeExact(h, a + 16), MEM_REJECT_INTERIOR);
    cr_assert_eq(log.n, 1);
    cr_assert_eq(log.ev[0].kind, MEM_EV_REJECT);
    cr_assert_eq(log.ev[0].reason, MEM_REJECT_INTERIOR);
    cr_assert_eq(MemHeap_Stats(h).rejected_frees, 1);
    cr_assert_eq(MemHeap_Find(h, a, NULL), a, "still live");
    cr_assert_str_eq(MemReject_Describe(MEM_REJECT_INTERIOR),
                     "points inside a live object, not at its first byte");
    cr_assert_eq(MemHeap_FreeExact(h, a + 200), MEM_REJECT_FREE, "other reasons as Free's");
    cr_assert_eq(MemHeap_FreeExact(h, NULL), MEM_OK);
    cr_assert_eq(MemHeap_FreeExact(NULL, a), MEM_REJECT_NULL_HEAP);
    cr_assert_eq(MemHeap_FreeExact(h, a), MEM_OK);
    cr_assert_eq(MemHeap_FreeExact(h, a), MEM_REJECT_FREE, "twice");
    cr_assert_eq(MemHeap_Stats(h).free_blocks, 1);
    th_check(h);
}

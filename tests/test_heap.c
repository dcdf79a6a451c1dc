/*
 * test_heap.c - the instance API: creation, hooks (walk, free order, events,
 * stats), pointer classification, and the invariant checker, including a
 * checker that must notice corrupted metadata.
 */
#include "testlib.h"
#include "block.h" /* white-box: to corrupt metadata on purpose */

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static _Alignas(16) unsigned char region[1 << 16];

/* The block layer's tests: MEM_FAST without its runs, so that small
 * objects are blocks with headers (test_runs.c covers runs). */
static unsigned blocks_only(MemPolicy p)
{
    return p == MEM_FAST ? MEM_OPT_NORUNS : 0u;
}

Test(create, refuses_bad_arguments)
{
    cr_assert_null(MemHeap_Create(NULL, sizeof region, MEM_FAST, 0));
    cr_assert_null(MemHeap_Create(region, MemHeap_ControlSize() + MEM_MIN_ARENA - 1, MEM_FAST, 0));
    cr_assert_null(MemHeap_Create(region, sizeof region, (MemPolicy)MEM_POLICY_COUNT, 0));
    cr_assert_null(MemHeap_Create(region, sizeof region, (MemPolicy)-1, 0));
    cr_assert_null(MemHeap_Create(region, sizeof region, MEM_FAST, 1u << 7));
    for (size_t skew = 0; skew < 16; skew++) {
        MemHeap *h = MemHeap_Create(region + skew, MEM_MIN_REGION, MEM_FAST, 0);
        cr_assert_not_null(h, "MEM_MIN_REGION suffices at any alignment (%zu)", skew);
        MemHeap_Release(h); /* (ASan: the next heap's control is in this arena) */
    }
}

/* The minimum is on the arena: MEM_MIN_ARENA bytes after the control
 * structure make a heap under every policy, with one block that holds an
 * object, and every invariant holds. */
Test(create, the_smallest_arena_works_under_every_policy)
{
    for (int p = 0; p < MEM_POLICY_COUNT; p++) {
        for (size_t skew = 0; skew < 16; skew += 5) {
            size_t lead = (16 - skew) % 16;
            MemHeap *h = MemHeap_Create(region + skew, lead + MemHeap_ControlSize() + MEM_MIN_ARENA,
                                        (MemPolicy)p, 0);
            cr_assert_not_null(h, "%s, skew %zu", MemPolicy_Name((MemPolicy)p), skew);
            cr_assert_eq(MemHeap_Region(h).size, MEM_MIN_ARENA);
            th_check(h);
            MemStats st = MemHeap_Stats(h);
            cr_assert_eq(st.free_blocks, 1);
            size_t most = st.largest_free - MEM_HEADER_SIZE;
            cr_assert_geq(most, 24, "%s: room for an object", MemPolicy_Name((MemPolicy)p));
            void *o = MemHeap_Alloc(h, most);
            cr_assert_not_null(o, "%s: an object of %zu B", MemPolicy_Name((MemPolicy)p), most);
            cr_assert_null(MemHeap_Alloc(h, 1), "%s: full", MemPolicy_Name((MemPolicy)p));
            th_check(h);
            cr_assert_eq(MemHeap_Free(h, (char *)o + most - 1), MEM_OK);
            th_check(h);
            MemHeap_Release(h);
        }
    }
}

/* heapviz's --size 256: a 256-byte arena under every policy holds several
 * objects, frees them (interior pointers too), and stays sound. */
Test(create, a_256_byte_arena_under_every_policy)
{
    for (int p = 0; p < MEM_POLICY_COUNT; p++) {
        MemHeap *h = MemHeap_Create(region, MemHeap_ControlSize() + 256, (MemPolicy)p, 0);
        cr_assert_not_null(h);
        MemRegion r = MemHeap_Region(h);
        cr_assert_eq(r.size, 256);
        cr_assert_geq(r.heap_end - r.heap_begin, 224, "%s: %zu bytes of blocks",
                      MemPolicy_Name((MemPolicy)p), r.heap_end - r.heap_begin);
        void *a = MemHeap_Alloc(h, 20), *b = MemHeap_Alloc(h, 40), *c = MemHeap_Alloc(h, 8);
        cr_assert(a && b && c, "%s: three small objects fit", MemPolicy_Name((MemPolicy)p));
        th_check(h);
        cr_assert_eq(MemHeap_Free(h, (char *)b + 39), MEM_OK);
        cr_assert_eq(MemHeap_Free(h, a), MEM_OK);
        cr_assert_eq(MemHeap_Free(h, (char *)c + 7), MEM_OK);
        th_check(h);
        cr_assert_eq(MemHeap_Stats(h).used_blocks, 0);
        MemHeap_Release(h);
    }
}

Test(create, control_size_gives_an_exact_arena)
{
    size_t c = MemHeap_ControlSize();
    cr_assert_eq(c % 16, 0);
    cr_assert_lt(c, 4096, "the control structure is small");
    MemHeap *h = MemHeap_Create(region, c + 8192, MEM_FAST, 0);
    cr_assert_not_null(h);
    MemRegion r = MemHeap_Region(h);
    cr_assert_eq(r.size, 8192);
    cr_assert_eq(r.control, c);
    cr_assert_eq((unsigned char *)r.base, region + c);
}

Test(create, handles_a_misaligned_region)
{
    for (size_t skew = 1; skew < 16; skew++) {
        MemHeap *h = MemHeap_Create(region + skew, sizeof region - skew, MEM_BEST_FIT, 0);
        cr_assert_not_null(h);
        char *p = MemHeap_Alloc(h, 100);
        cr_assert_not_null(p);
        cr_assert_eq((uintptr_t)p % 16, 0);
        MemRegion r = MemHeap_Region(h);
        cr_assert_geq((unsigned char *)r.base, region + skew + r.control - 16);
        cr_assert_leq((unsigned char *)r.base + r.size, region + sizeof region);
        th_check(h);
    }
}

Test(create, heaps_live_side_by_side)
{
    MemHeap *a = MemHeap_Create(region, sizeof region / 2, MEM_FIRST_FIT, 0);
    MemHeap *b = MemHeap_Create(region + sizeof region / 2, sizeof region / 2, MEM_FAST, 0);
    char *pa = MemHeap_Alloc(a, 64), *pb = MemHeap_Alloc(b, 64);
    cr_assert(pa && pb);
    cr_assert_not_null(MemHeap_Find(a, pa + 10, NULL));
    cr_assert_null(MemHeap_Find(a, pb + 10, NULL), "b's object is outside a");
    cr_assert_eq(MemHeap_Free(a, pb), MEM_REJECT_OUTSIDE);
    cr_assert_eq(MemHeap_Free(b, pb + 63), MEM_OK);
    th_check(a);
    th_check(b);
}

Test(create, recreating_over_the_same_region_starts_afresh)
{
    MemHeap *h = MemHeap_Create(region, sizeof region, MEM_FAST, 0);
    for (int i = 0; i < 50; i++)
        MemHeap_Alloc(h, 100);
    h = MemHeap_Create(region, sizeof region, MEM_WORST_FIT, 0);
    MemStats s = MemHeap_Stats(h);
    cr_assert_eq(s.used_blocks, 0);
    cr_assert_eq(s.free_blocks, 1);
    cr_assert_eq(s.policy, MEM_WORST_FIT);
    th_check(h);
}

Test(alloc, zero_and_oversized_requests_fail_cleanly)
{
    MemHeap *h = MemHeap_Create(region, sizeof region, MEM_FAST, 0);
    cr_assert_null(MemHeap_Alloc(h, 0));
    cr_assert_null(MemHeap_Alloc(NULL, 10));
    cr_assert_null(MemHeap_Alloc(h, SIZE_MAX));
    cr_assert_null(MemHeap_Alloc(h, SIZE_MAX - 7));
    cr_assert_null(MemHeap_Alloc(h, (size_t)UINT32_MAX * 16));
    cr_assert_null(MemHeap_Alloc(h, sizeof region));
    MemStats s = MemHeap_Stats(h);
    cr_assert_eq(s.failed_allocs, 4, "zero-size is not counted as a failure");
    th_check(h);
}

Test(classify, names_each_kind_of_bad_pointer)
{
    MemHeap *h = MemHeap_Create(region, sizeof region, MEM_FIRST_FIT, 0);
    char *a = MemHeap_Alloc(h, 100), *b = MemHeap_Alloc(h, 50);
    MemHeap_Free(h, b);
    MemRegion r = MemHeap_Region(h);
    int local;
    cr_assert_eq(MemHeap_Classify(h, a), MEM_OK);
    cr_assert_eq(MemHeap_Classify(h, a + 99), MEM_OK);
    cr_assert_eq(MemHeap_Classify(h, a + 100), MEM_REJECT_PADDING);
    cr_assert_eq(MemHeap_Classify(h, a - 1), MEM_REJECT_HEADER);
    cr_assert_eq(MemHeap_Classify(h, b), MEM_REJECT_FREE);
    cr_assert_eq(MemHeap_Classify(h, r.base), MEM_REJECT_TABLE);
    cr_assert_eq(MemHeap_Classify(h, (char *)r.base + r.size - 1), MEM_REJECT_TABLE);
    cr_assert_eq(MemHeap_Classify(h, (char *)r.base + r.size), MEM_REJECT_OUTSIDE);
    cr_assert_eq(MemHeap_Classify(h, &local), MEM_REJECT_OUTSIDE);
    cr_assert_eq(MemHeap_Classify(NULL, a), MEM_REJECT_NULL_HEAP);
    for (int k = MEM_OK; k <= MEM_REJECT_CORRUPT; k++)
        cr_assert_gt(strlen(MemReject_Describe((MemReject)k)), 5);
    size_t size = 0;
    cr_assert_eq(MemHeap_Find(h, a + 42, &size), a);
    cr_assert_eq(size, 100);
}

/* ---- walks ------------------------------------------------------------- */

typedef struct Tally {
    size_t blocks, bytes, used, objects, object, padding, header, run_free, stop_after;
    size_t last_end;
    bool contiguous;
} Tally;

static bool tally(const MemBlock *b, void *arg)
{
    Tally *t = arg;
    if (t->blocks && b->offset != t->last_end)
        t->contiguous = false;
    t->last_end = b->offset + b->size;
    t->blocks++;
    t->bytes += b->size;
    t->used += b->used;
    t->object += b->object;
    t->padding += b->padding;
    if (b->used)
        t->header += b->header;
    if (b->run) {
        size_t free_slots = (b->slots - b->live_slots) * b->slot_size;
        cr_assert(b->used, "a run is a used block");
        cr_assert_eq(b->size, b->header + b->object + b->padding + free_slots);
        t->objects += b->live_slots;
        t->run_free += free_slots;
    } else if (b->used) {
        cr_assert_eq(b->size, b->header + b->object + b->padding);
        t->objects++;
    } else {
        cr_assert_eq(b->object + b->padding, 0);
    }
    return !t->stop_after || t->blocks < t->stop_after;
}

Test(walk, visits_every_block_in_address_order_and_agrees_with_stats)
{
    for (int p = 0; p < MEM_POLICY_COUNT; p++) {
        MemHeap *h = MemHeap_Create(region, sizeof region, (MemPolicy)p, 0);
        void *o[40];
        for (int i = 0; i < 40; i++)
            o[i] = MemHeap_Alloc(h, (size_t)(1 + i * 13));
        for (int i = 0; i < 40; i += 3)
            MemHeap_Free(h, o[i]);
        Tally t = {.contiguous = true};
        size_t n = MemHeap_Walk(h, tally, &t);
        MemStats s = MemHeap_Stats(h);
        MemRegion r = MemHeap_Region(h);
        cr_assert_eq(n, t.blocks);
        cr_assert(t.contiguous, "blocks tile the heap");
        cr_assert_eq(t.bytes, r.heap_end - r.heap_begin);
        cr_assert_eq(t.objects, s.used_blocks, "used_blocks counts objects, slots included");
        cr_assert_eq(t.blocks - t.used, s.free_blocks);
        cr_assert_eq(t.object, s.live_bytes);
        cr_assert_eq(t.padding, s.padding_bytes);
        cr_assert_eq(t.header, s.header_bytes);
        cr_assert_eq(t.run_free, s.run_free_bytes);
        cr_assert_eq(s.used_bytes, s.live_bytes + s.header_bytes + s.padding_bytes +
                                       s.run_free_bytes);
        cr_assert_eq(s.used_bytes + s.free_bytes + s.table_bytes, s.capacity);
        cr_assert_eq(s.metadata_bytes, s.header_bytes + s.table_bytes);
    }
}

Test(walk, the_visitor_can_stop_it)
{
    MemHeap *h = MemHeap_Create(region, sizeof region, MEM_FAST, MEM_OPT_NORUNS);
    for (int i = 0; i < 10; i++)
        MemHeap_Alloc(h, 30);
    Tally t = {.stop_after = 3, .contiguous = true};
    cr_assert_eq(MemHeap_Walk(h, tally, &t), 3);
    cr_assert_eq(t.blocks, 3);
    cr_assert_eq(MemHeap_Walk(h, NULL, NULL), 0);
    cr_assert_eq(MemHeap_Walk(NULL, tally, &t), 0);
    t.blocks = 0;
    cr_assert_eq(MemHeap_WalkFree(h, tally, &t), 1);
}

/* ---- events -------------------------------------------------------------- */

Test(events, alloc_reports_search_choice_and_split)
{
    MemHeap *h = MemHeap_Create(region, sizeof region, MEM_BEST_FIT, 0);
    void *a = MemHeap_Alloc(h, 100), *b = MemHeap_Alloc(h, 24), *c = MemHeap_Alloc(h, 200);
    MemHeap_Alloc(h, 24);
    MemHeap_Free(h, a);
    MemHeap_Free(h, c);
    ThLog log = {0};
    MemHeap_SetObserver(h, th_record, &log);
    char *p = MemHeap_Alloc(h, 56);
    cr_assert_eq(log.n, 1);
    MemEvent e = log.ev[0];
    cr_assert_eq(e.kind, MEM_EV_ALLOC);
    cr_assert_eq(e.policy, MEM_BEST_FIT);
    cr_assert_eq(e.request, 56);
    cr_assert_eq(e.examined, 3, "best fit examines every free block");
    cr_assert_eq(e.block, 8, "the 112-byte hole at the start is the best fit");
    cr_assert_eq(e.size, 112);
    cr_assert_eq(e.remainder, 48);
    cr_assert_eq(e.object, 16);
    cr_assert_eq(p, (char *)MemHeap_Region(h).base + 16);
    cr_assert_eq(e.op, MemHeap_Stats(h).ops);
    (void)b;
}

Test(events, free_reports_the_pointer_the_object_and_the_coalesce)
{
    MemHeap *h = MemHeap_Create(region, sizeof region, MEM_FIRST_FIT, 0);
    char *a = MemHeap_Alloc(h, 100), *b = MemHeap_Alloc(h, 40);
    MemHeap_Alloc(h, 10);
    MemHeap_Free(h, a);
    ThLog log = {0};
    MemHeap_SetObserver(h, th_record, &log);
    cr_assert_eq(MemHeap_Free(h, b + 33), 0);
    cr_assert_eq(log.n, 2);
    cr_assert_eq(log.ev[0].kind, MEM_EV_FREE);
    cr_assert_eq(log.ev[0].pointer, 16 + 112 + 33);
    cr_assert_eq(log.ev[0].object, 16 + 112);
    cr_assert_eq(log.ev[0].request, 40);
    cr_assert_eq(log.ev[0].block, 8 + 112);
    cr_assert_eq(log.ev[0].size, 48);
    cr_assert_eq(log.ev[1].kind, MEM_EV_COALESCE);
    cr_assert_eq(log.ev[1].neighbours, MEM_LEFT);
    cr_assert_eq(log.ev[1].block, 8);
    cr_assert_eq(log.ev[1].size, 160);
    cr_assert_eq(log.ev[0].op, log.ev[1].op, "one operation");
}

Test(events, failure_explains_itself)
{
    MemHeap *h = MemHeap_Create(region, 8192, MEM_FIRST_FIT, 0);
    void *o[200];
    size_t n = 0;
    while ((o[n] = MemHeap_Alloc(h, 100)) != NULL)
        n++;
    for (size_t i = 0; i < n; i += 2)
        MemHeap_Free(h, o[i]);
    MemStats s = MemHeap_Stats(h);
    ThLog log = {0};
    MemHeap_SetObserver(h, th_record, &log);
    cr_assert_null(MemHeap_Alloc(h, 1000));
    cr_assert_eq(log.n, 1);
    MemEvent e = log.ev[0];
    cr_assert_eq(e.kind, MEM_EV_FAIL);
    cr_assert_eq(e.request, 1000);
    cr_assert_eq(e.free_total, s.free_bytes);
    cr_assert_gt(e.free_total, 1000, "enough free bytes in all...");
    cr_assert_eq(e.largest_free, s.largest_free);
    cr_assert_lt(e.largest_free, 1008, "...but no block large enough");
    cr_assert_eq(e.examined, s.free_blocks);
    cr_assert_eq(e.block, s.largest_free_offset, "the event names the largest block");
    cr_assert_eq(e.size, s.largest_free);
    cr_assert_neq(e.block, SIZE_MAX);
}

Test(events, rejected_free_gives_the_reason)
{
    MemHeap *h = MemHeap_Create(region, sizeof region, MEM_FAST, MEM_OPT_NORUNS);
    char *a = MemHeap_Alloc(h, 20);
    ThLog log = {0};
    MemHeap_SetObserver(h, th_record, &log);
    cr_assert_eq(MemHeap_Free(h, a + 20), MEM_REJECT_PADDING);
    cr_assert_eq(log.n, 1);
    cr_assert_eq(log.ev[0].kind, MEM_EV_REJECT);
    cr_assert_eq(log.ev[0].reason, MEM_REJECT_PADDING);
    cr_assert_eq(log.ev[0].pointer, 16 + 20);
    cr_assert_eq(log.ev[0].block, 8);
    MemHeap_SetObserver(h, NULL, NULL);
    MemHeap_Free(h, a);
    cr_assert_eq(log.n, 1, "no observer, no events");
}

Test(events, next_fit_reports_the_rover)
{
    MemHeap *h = MemHeap_Create(region, sizeof region, MEM_NEXT_FIT, 0);
    ThLog log = {0};
    MemHeap_SetObserver(h, th_record, &log);
    MemHeap_Alloc(h, 56);
    cr_assert_eq(log.n, 2);
    cr_assert_eq(log.ev[1].kind, MEM_EV_ROVER);
    cr_assert_eq(log.ev[1].block, 8 + 64);
    cr_assert_eq(log.ev[1].block, MemHeap_Stats(h).rover);
}

static void observe_by_walking(const MemEvent *e, void *arg)
{
    (void)e;
    const MemHeap *h = arg;
    /* The observer may query the heap: it sees a consistent state. */
    cr_assert_eq(MemHeap_Check(h), 0);
    Tally t = {.contiguous = true};
    MemHeap_Walk(h, tally, &t);
    cr_assert(t.contiguous);
}

Test(events, the_observer_may_query_the_heap)
{
    for (int p = 0; p < MEM_POLICY_COUNT; p++) {
        MemHeap *h = MemHeap_Create(region, sizeof region, (MemPolicy)p, 0);
        MemHeap_SetObserver(h, observe_by_walking, h);
        void *o[30];
        for (int i = 0; i < 30; i++)
            o[i] = MemHeap_Alloc(h, (size_t)(5 + i * 7));
        for (int i = 0; i < 30; i += 2)
            MemHeap_Free(h, o[i]);
        MemHeap_Free(h, o[0]);
        MemHeap_Alloc(h, 1 << 20);
    }
}

/* ---- stats ---------------------------------------------------------------- */

Test(stats, fragmentation_and_peak)
{
    MemHeap *h = MemHeap_Create(region, sizeof region, MEM_FIRST_FIT, 0);
    MemStats s = MemHeap_Stats(h);
    cr_assert_eq(s.external_frag, 0.0, "one free block: no external fragmentation");
    cr_assert_eq(s.largest_free, s.free_bytes);
    cr_assert_eq(s.largest_free_offset, 8);
    cr_assert_eq(s.rover, SIZE_MAX);
    void *o[8];
    for (int i = 0; i < 8; i++)
        o[i] = MemHeap_Alloc(h, 1000);
    size_t peak = MemHeap_Stats(h).live_bytes;
    cr_assert_eq(peak, 8000);
    MemHeap_Free(h, o[1]);
    MemHeap_Free(h, o[3]);
    s = MemHeap_Stats(h);
    cr_assert_eq(s.peak_live_bytes, 8000);
    cr_assert_eq(s.live_bytes, 6000);
    cr_assert_eq(s.free_blocks, 3);
    double expect = 1.0 - (double)s.largest_free / (double)s.free_bytes;
    cr_assert_float_eq(s.external_frag, expect, 1e-12);
    cr_assert_gt(s.external_frag, 0.0);
    cr_assert_float_eq(s.internal_frag,
                       (double)(s.used_bytes - s.live_bytes) / (double)s.used_bytes, 1e-12);
    cr_assert_float_eq(s.utilisation, 6000.0 / (double)s.capacity, 1e-12);
    cr_assert_eq(s.allocs, 8);
    cr_assert_eq(s.frees, 2);
    cr_assert_eq(s.ops, 10);
    MemStats z = MemHeap_Stats(NULL);
    cr_assert_eq(z.capacity, 0);
}

/* ---- the checker must notice corruption -------------------------------------- */

static MemHeap *busy_heap(MemPolicy p, char **objs)
{
    MemHeap *h = MemHeap_Create(region, sizeof region, p, blocks_only(p));
    for (int i = 0; i < 6; i++)
        objs[i] = MemHeap_Alloc(h, 100);
    MemHeap_Free(h, objs[1]);
    MemHeap_Free(h, objs[3]);
    th_check(h);
    th_expose(h); /* these tests corrupt metadata on purpose */
    return h;
}

static void expect_broken(const MemHeap *h, const char *what)
{
    char why[256];
    cr_assert_gt(MemHeap_Diagnose(h, why, sizeof why), 0, "checker missed: %s", what);
    cr_assert_eq(MemHeap_Check(h), -1);
    cr_assert_gt(strlen(why), 10, "a sentence says what broke (%s)", what);
}

Test(checker, notices_a_wrong_block_size)
{
    char *o[6];
    MemHeap *h = busy_heap(MEM_FAST, o);
    ((BlockHeader *)(void *)(o[2] - 8))->size += 1;
    expect_broken(h, "size");
    cr_assert_eq(MemHeap_Classify(h, o[2] + 3), MEM_REJECT_CORRUPT);
    cr_assert_eq(MemHeap_Free(h, o[2]), MEM_REJECT_CORRUPT, "a corrupt block is not trusted");
}

Test(checker, notices_a_flipped_used_bit)
{
    char *o[6];
    MemHeap *h = busy_heap(MEM_FIRST_FIT, o);
    ((BlockHeader *)(void *)(o[4] - 8))->info ^= 1u; /* used -> free, tag now wrong */
    expect_broken(h, "used bit");
}

Test(checker, notices_a_wrong_footer)
{
    char *o[6];
    MemHeap *h = busy_heap(MEM_BEST_FIT, o);
    uint32_t *footer = (uint32_t *)(void *)(o[2] - 8) - 1; /* o[1]'s block's footer */
    *footer += 2;
    expect_broken(h, "footer");
}

Test(checker, notices_a_broken_free_list_link)
{
    char *o[6];
    for (int p = 0; p < MEM_POLICY_COUNT; p++) {
        MemHeap *h = busy_heap((MemPolicy)p, o);
        /* o[3]'s block is free; its links are stored masked (block.h) */
        uint32_t g = (uint32_t)((o[3] - 16 - (char *)MemHeap_Region(h).base) / 16);
        MemKeys k = mem_keys(h);
        link_put(h, &k, g, 1, link_get(h, &k, g, 1) == NIL ? 3u : NIL);
        expect_broken(h, MemPolicy_Name((MemPolicy)p));
    }
}

Test(checker, notices_a_wrong_bitmap_bit)
{
    char *o[6];
    MemHeap *h = busy_heap(MEM_FAST, o);
    MemRegion r = MemHeap_Region(h);
    *(uint64_t *)r.base ^= (uint64_t)1 << 5; /* granule 5 is inside block 0 */
    expect_broken(h, "bitmap");
}

Test(checker, notices_wrong_counters)
{
    char *o[6];
    MemHeap *h = busy_heap(MEM_WORST_FIT, o);
    h->live_bytes += 1;
    expect_broken(h, "live counter");
}

Test(checker, notices_adjacent_free_blocks)
{
    char *o[6];
    MemHeap *h = busy_heap(MEM_FIRST_FIT, o);
    /* Mark o[2] free by hand, with a valid tag but no coalescing. */
    BlockHeader *b = (BlockHeader *)(void *)(o[2] - 8);
    uint32_t g = (uint32_t)((o[2] - 8 - 8 - (char *)MemHeap_Region(h).base) / 16);
    hdr_write(h, g, b->size, 0); /* a valid tag: only the library can make one */
    expect_broken(h, "adjacent free blocks");
}

/* The region for a heap whose first blocks are neighbours: all of it, but
 * for buddy a block area of exactly 1 KiB (the first object splits it, and
 * the next ones take the halves that follow). */
static size_t area_for(MemPolicy p)
{
    return p == MEM_BUDDY ? MemHeap_ControlSize() + 8 + 1024 + 8 : sizeof region;
}

/* An overflow past an object's padding into the next header: freeing the
 * object must not merge through the damaged header. */
Test(checker, free_refuses_to_merge_with_a_damaged_neighbour)
{
    for (int p = 0; p < MEM_POLICY_COUNT; p++) {
        MemHeap *h = MemHeap_Create(region, area_for((MemPolicy)p), (MemPolicy)p,
                                    blocks_only((MemPolicy)p));
        char *a = MemHeap_Alloc(h, 24), *b = MemHeap_Alloc(h, 24);
        MemHeap_Alloc(h, 24);
        th_expose(h);
        memset(a + 24, 0x41, 8 + 8); /* a's block ends at +24: b's header */
        MemStats before = MemHeap_Stats(h);
        cr_assert_eq(MemHeap_Free(h, a), MEM_REJECT_CORRUPT, "%s", MemPolicy_Name((MemPolicy)p));
        MemStats after = MemHeap_Stats(h);
        cr_assert_eq(after.free_blocks, before.free_blocks, "nothing merged");
        cr_assert_eq(after.live_bytes, before.live_bytes);
        cr_assert_eq(MemHeap_Free(h, b), MEM_REJECT_CORRUPT, "b's own header is damaged");
        cr_assert_eq(MemHeap_Check(h), -1, "the checker sees the damage");
    }
}

/* An overrun past an object into the header of the free block after it:
 * the next allocation must not split or unlink through the damage. */
Test(checker, alloc_refuses_a_damaged_free_block)
{
    for (int p = 0; p < MEM_POLICY_COUNT; p++) {
        MemHeap *h = MemHeap_Create(region, area_for((MemPolicy)p), (MemPolicy)p,
                                    blocks_only((MemPolicy)p));
        char *a = MemHeap_Alloc(h, 24); /* the rest of the heap is one free block */
        th_expose(h);
        memset(a + 24, 0x41, 16);       /* its header and its links */
        /* buddy: a's buddy, 32 bytes, heads its list: the next 24 takes it */
        size_t next = p == MEM_BUDDY ? 24 : 100;
        cr_assert_null(MemHeap_Alloc(h, next), "%s", MemPolicy_Name((MemPolicy)p));
        cr_assert_eq(MemHeap_Check(h), -1);
        MemStats s = MemHeap_Stats(h);
        cr_assert_eq(s.used_blocks, 1, "nothing was allocated from the damaged block");
    }
}

/* A free list whose links form a cycle: searches and walks end. */
Test(checker, a_cyclic_free_list_does_not_hang_the_search, .timeout = 10)
{
    for (int p = 0; p < MEM_POLICY_COUNT; p++) {
        MemHeap *h = MemHeap_Create(region, sizeof region, (MemPolicy)p, blocks_only((MemPolicy)p));
        char *o[6];
        for (int i = 0; i < 6; i++)
            o[i] = MemHeap_Alloc(h, 40);
        MemHeap_Free(h, o[1]);
        MemHeap_Free(h, o[3]);
        th_expose(h);
        uint32_t self = (uint32_t)((o[3] - 16 - (char *)MemHeap_Region(h).base) / 16);
        MemKeys k = mem_keys(h);
        links_put(h, &k, self, self, self); /* o[3]'s block now follows itself */
        /* larger than every free block, not than the heap: a full search */
        MemRegion r = MemHeap_Region(h);
        size_t want = r.heap_end - r.heap_begin - 64;
        cr_assert_null(MemHeap_Alloc(h, want), "%s", MemPolicy_Name((MemPolicy)p));
        /* bounded by the free-block count (3, or buddy's split-off halves) */
        cr_assert_leq(MemHeap_WalkFree(h, tally, &(Tally){.contiguous = true}),
                      MemHeap_Stats(h).free_blocks);
        cr_assert_eq(MemHeap_Check(h), -1);
    }
}

Test(checker, free_refuses_a_bogus_left_footer)
{
    MemHeap *h = MemHeap_Create(region, sizeof region, MEM_FAST, MEM_OPT_NORUNS);
    char *a = MemHeap_Alloc(h, 40), *b = MemHeap_Alloc(h, 40);
    MemHeap_Alloc(h, 40);
    th_expose(h);
    /* Clear b's PREV_USED, with a valid tag (which only the library can
     * compute): its "footer" is then a's last four bytes, which the program
     * controls. */
    BlockHeader *bh = (BlockHeader *)(void *)(b - 8);
    uint32_t gb = (uint32_t)((b - 16 - (char *)MemHeap_Region(h).base) / 16);
    hdr_write(h, gb, bh->size, bh->info & B_LOW_MASK & ~B_PREV_USED);
    memset(a + 36, 0x7f, 4);
    cr_assert_eq(MemHeap_Free(h, b), MEM_REJECT_CORRUPT);
    (void)a;
}

Test(checker, rejects_null_and_non_heaps)
{
    cr_assert_eq(MemHeap_Check(NULL), -1);
    static _Alignas(16) unsigned char junk[8192];
    memset(junk, 0x5a, sizeof junk);
    cr_assert_eq(MemHeap_Check((const MemHeap *)(void *)junk), -1);
}

Test(checker, a_corrupt_heap_never_crashes_the_lookup)
{
    char *o[6];
    MemHeap *h = busy_heap(MEM_FAST, o);
    MemRegion r = MemHeap_Region(h);
    /* Scribble over the whole bitmap tail and the first word. */
    memset((char *)r.base + r.heap_end, 0xff, r.size - r.heap_end);
    *(uint64_t *)r.base = ~(uint64_t)0;
    for (size_t off = 0; off < r.size; off += 7)
        (void)MemHeap_Classify(h, (char *)r.base + off);
    expect_broken(h, "bitmap scribbled");
}

/*
 * test_knobs.c - OSTEP's knobs on the list policies (MemHeap_CreateEx):
 * the free list kept in address, LIFO or FIFO order, and coalescing at
 * once, deferred until an allocation finds no block, or never.  Scripted
 * layouts ("U32 F96 U64") and free-list orders ("+0x8:32 +0x48:96"), the
 * events, the statistics, the checker's view of each (and that it notices
 * a broken order), and the contract of MemHeap_CreateEx.
 *
 * Block sizes: a request of r bytes takes max(32, round16(r + 8)) bytes.
 */
#include "testlib.h"
#include "block.h" /* white-box: to break a stamp on purpose */

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static _Alignas(16) unsigned char region[1 << 16];

static MemHeap *heap(MemPolicy p, MemOrder order, MemCoalesce co, size_t arena)
{
    MemOptions o = {p, 0, order, co};
    MemHeap *h = MemHeap_CreateEx(region, MemHeap_ControlSize() + arena, &o);
    cr_assert_not_null(h, "%s %s %s", MemPolicy_Name(p), MemOrder_Name(order),
                       MemCoalesce_Name(co));
    th_check(h);
    return h;
}

/* ---- the contract -------------------------------------------------------- */

Test(create_ex, refuses_what_it_must_and_writes_nothing)
{
    memset(region, 0x5c, 4096 + MemHeap_ControlSize());
    MemOptions o = {MEM_FIRST_FIT, 0, MEM_ORDER_ADDRESS, MEM_COALESCE_NOW};
    cr_assert_null(MemHeap_CreateEx(region, sizeof region, NULL));
    cr_assert_null(MemHeap_CreateEx(NULL, sizeof region, &o));
    o.order = MEM_ORDER_COUNT;
    cr_assert_null(MemHeap_CreateEx(region, sizeof region, &o));
    o.order = (MemOrder)-1;
    cr_assert_null(MemHeap_CreateEx(region, sizeof region, &o));
    o.order = MEM_ORDER_LIFO;
    o.coalesce = MEM_COALESCE_COUNT;
    cr_assert_null(MemHeap_CreateEx(region, sizeof region, &o));
    o.coalesce = MEM_COALESCE_NOW;
    o.flags = 1u << 9;
    cr_assert_null(MemHeap_CreateEx(region, sizeof region, &o));
    o.flags = 0;
    /* fast and buddy keep their own structures: only the defaults */
    for (MemPolicy p = MEM_FAST; p < MEM_POLICY_COUNT; p++) {
        o.policy = p;
        o.order = MEM_ORDER_FIFO;
        o.coalesce = MEM_COALESCE_NOW;
        cr_assert_null(MemHeap_CreateEx(region, sizeof region, &o), "%s", MemPolicy_Name(p));
        o.order = MEM_ORDER_ADDRESS;
        o.coalesce = MEM_COALESCE_NEVER;
        cr_assert_null(MemHeap_CreateEx(region, sizeof region, &o), "%s", MemPolicy_Name(p));
    }
    for (size_t i = 0; i < 4096 + MemHeap_ControlSize(); i++)
        cr_assert_eq(region[i], 0x5c, "a refused create wrote byte %zu", i);
    o.coalesce = MEM_COALESCE_NOW;
    cr_assert_not_null(MemHeap_CreateEx(region, sizeof region, &o), "buddy, defaults");
}

Test(create_ex, every_combination_on_every_list_policy_and_the_region_reports_it)
{
    for (MemPolicy p = MEM_FIRST_FIT; p < MEM_FAST; p++)
        for (MemOrder ord = 0; ord < MEM_ORDER_COUNT; ord++)
            for (MemCoalesce co = 0; co < MEM_COALESCE_COUNT; co++) {
                MemHeap *h = heap(p, ord, co, 8192);
                MemRegion r = MemHeap_Region(h);
                cr_assert_eq(r.policy, p);
                cr_assert_eq(r.order, ord);
                cr_assert_eq(r.coalesce, co);
                cr_assert_eq(MemHeap_Stats(h).free_blocks, 1);
            }
    MemHeap *h = MemHeap_Create(region, sizeof region, MEM_BEST_FIT, 0);
    cr_assert_eq(MemHeap_Region(h).order, MEM_ORDER_ADDRESS);
    cr_assert_eq(MemHeap_Region(h).coalesce, MEM_COALESCE_NOW);
}

Test(create_ex, names)
{
    static const char *const orders[] = {"address", "lifo", "fifo"};
    static const char *const co[] = {"now", "deferred", "never"};
    for (int i = 0; i < 3; i++) {
        MemOrder o = MEM_ORDER_COUNT;
        MemCoalesce c = MEM_COALESCE_COUNT;
        cr_assert_str_eq(MemOrder_Name((MemOrder)i), orders[i]);
        cr_assert_str_eq(MemCoalesce_Name((MemCoalesce)i), co[i]);
        cr_assert_eq(MemOrder_Parse(orders[i], &o), 0);
        cr_assert_eq(o, (MemOrder)i);
        cr_assert_eq(MemCoalesce_Parse(co[i], &c), 0);
        cr_assert_eq(c, (MemCoalesce)i);
    }
    MemOrder o = MEM_ORDER_FIFO;
    MemCoalesce c = MEM_COALESCE_NEVER;
    cr_assert_eq(MemOrder_Parse("LIFO", &o), -1);
    cr_assert_eq(MemOrder_Parse(NULL, &o), -1);
    cr_assert_eq(MemOrder_Parse("lifo", NULL), -1);
    cr_assert_eq(MemCoalesce_Parse("later", &c), -1);
    cr_assert_eq(MemCoalesce_Parse("", &c), -1);
    cr_assert_eq(o, MEM_ORDER_FIFO, "untouched");
    cr_assert_eq(c, MEM_COALESCE_NEVER, "untouched");
    cr_assert_str_eq(MemOrder_Name((MemOrder)7), "?");
    cr_assert_str_eq(MemCoalesce_Name((MemCoalesce)-1), "?");
}

/* ---- list order ----------------------------------------------------------- */

/* U64 U32 U64 U32 U64 U32 F<tail>, then the three 64s freed left to right:
 * no two are neighbours, so coalescing does not matter. */
static MemHeap *three_holes(MemPolicy p, MemOrder ord, char **obj)
{
    MemHeap *h = heap(p, ord, MEM_COALESCE_NOW, 4096);
    for (int i = 0; i < 6; i++)
        cr_assert_not_null(obj[i] = MemHeap_Alloc(h, i % 2 ? 24 : 56));
    for (int i = 0; i < 6; i += 2)
        cr_assert_eq(MemHeap_Free(h, obj[i]), MEM_OK);
    th_check(h);
    return h;
}

Test(order, address_lifo_and_fifo_keep_the_list_as_they_say)
{
    char *o[6];
    MemHeap *h = three_holes(MEM_FIRST_FIT, MEM_ORDER_ADDRESS, o);
    cr_assert_str_eq(th_layout(h), "F64 U32 F64 U32 F64 U32 F3776");
    cr_assert_str_eq(th_free_order(h), "+0x8:64 +0x68:64 +0xc8:64 +0x128:3776");
    h = three_holes(MEM_FIRST_FIT, MEM_ORDER_LIFO, o);
    /* newest first: the third hole, the second, the first, then the tail,
     * which joined when the heap was made */
    cr_assert_str_eq(th_free_order(h), "+0xc8:64 +0x68:64 +0x8:64 +0x128:3776");
    h = three_holes(MEM_FIRST_FIT, MEM_ORDER_FIFO, o);
    cr_assert_str_eq(th_free_order(h), "+0x128:3776 +0x8:64 +0x68:64 +0xc8:64");
}

/* The order decides which block first fit takes: the head of the list. */
Test(order, first_fit_takes_the_first_block_of_the_list_in_its_order)
{
    char *o[6];
    MemHeap *h = three_holes(MEM_FIRST_FIT, MEM_ORDER_LIFO, o);
    cr_assert_eq(MemHeap_Alloc(h, 40), o[4], "LIFO: the hole freed last");
    th_check(h);
    h = three_holes(MEM_FIRST_FIT, MEM_ORDER_FIFO, o);
    char *p = MemHeap_Alloc(h, 40);
    cr_assert_eq(p, o[5] + 24 + 8, "FIFO: the oldest free block, the tail");
    /* the remainder keeps the tail's place: still first */
    cr_assert_str_eq(th_free_order(h), "+0x158:3728 +0x8:64 +0x68:64 +0xc8:64");
    th_check(h);
    h = three_holes(MEM_FIRST_FIT, MEM_ORDER_ADDRESS, o);
    cr_assert_eq(MemHeap_Alloc(h, 40), o[0], "address order: the lowest");
}

/* Best fit's ties go to the block found first: in list order. */
Test(order, best_fit_ties_go_to_the_first_in_list_order)
{
    char *o[6];
    MemHeap *h = three_holes(MEM_BEST_FIT, MEM_ORDER_LIFO, o);
    cr_assert_eq(MemHeap_Alloc(h, 56), o[4]);
    h = three_holes(MEM_BEST_FIT, MEM_ORDER_FIFO, o);
    cr_assert_eq(MemHeap_Alloc(h, 56), o[0]);
    h = three_holes(MEM_WORST_FIT, MEM_ORDER_FIFO, o);
    cr_assert_eq(MemHeap_Alloc(h, 56), o[5] + 24 + 8, "worst: the tail whatever the order");
}

/* Coalescing at once under LIFO: the neighbours leave the list, and the
 * merged block joins it at the head; under FIFO at the tail. */
Test(order, a_merged_block_joins_the_list_anew)
{
    char *o[6];
    MemHeap *h = three_holes(MEM_FIRST_FIT, MEM_ORDER_LIFO, o);
    cr_assert_eq(MemHeap_Free(h, o[1]), MEM_OK); /* F64 U32 F64 => F160 */
    cr_assert_str_eq(th_layout(h), "F160 U32 F64 U32 F3776");
    cr_assert_str_eq(th_free_order(h), "+0x8:160 +0xc8:64 +0x128:3776");
    th_check(h);
    h = three_holes(MEM_FIRST_FIT, MEM_ORDER_FIFO, o);
    cr_assert_eq(MemHeap_Free(h, o[3]), MEM_OK); /* the second and third holes */
    cr_assert_str_eq(th_free_order(h), "+0x128:3776 +0x8:64 +0x68:160");
    cr_assert_eq(MemHeap_Free(h, o[5]), MEM_OK); /* and the tail: all but the first */
    cr_assert_str_eq(th_free_order(h), "+0x8:64 +0x68:3968");
    th_check(h);
}

/* Next fit walks the list in its order, from the rover, around. */
Test(order, next_fit_walks_the_list_order_from_its_rover)
{
    char *o[6];
    MemHeap *h = three_holes(MEM_NEXT_FIT, MEM_ORDER_LIFO, o);
    char *a = MemHeap_Alloc(h, 56), *b = MemHeap_Alloc(h, 56);
    cr_assert(a && b);
    th_check(h);
    /* each took the block the rover was on, or the next in the list */
    cr_assert_neq(a, b);
    MemStats s = MemHeap_Stats(h);
    cr_assert_neq(s.rover, SIZE_MAX);
}

/* ---- coalescing ------------------------------------------------------------- */

/* A B C D: B and C freed (neighbours), then a request for their sum. */
static MemHeap *pair(MemCoalesce co, ThLog *log, char **obj)
{
    MemHeap *h = heap(MEM_FIRST_FIT, MEM_ORDER_ADDRESS, co, 512);
    for (int i = 0; i < 4; i++)
        cr_assert_not_null(obj[i] = MemHeap_Alloc(h, 56));
    char *rest = MemHeap_Alloc(h, 232); /* the 240 left: only B and C can serve */
    cr_assert_not_null(rest);
    memset(log, 0, sizeof *log);
    MemHeap_SetObserver(h, th_record, log);
    cr_assert_eq(MemHeap_Free(h, obj[1]), MEM_OK);
    cr_assert_eq(MemHeap_Free(h, obj[2] + 10), MEM_OK);
    th_check(h);
    return h;
}

Test(coalesce, now_merges_at_free)
{
    char *o[4];
    ThLog log;
    MemHeap *h = pair(MEM_COALESCE_NOW, &log, o);
    cr_assert(strstr(th_layout(h), "U64 F128 U64"), "%s", th_layout(h));
    cr_assert_eq(log.ev[log.n - 1].kind, MEM_EV_COALESCE);
}

Test(coalesce, never_leaves_neighbours_apart_and_a_request_for_their_sum_fails)
{
    char *o[4];
    ThLog log;
    MemHeap *h = pair(MEM_COALESCE_NEVER, &log, o);
    cr_assert(strstr(th_layout(h), "U64 F64 F64 U64"), "%s", th_layout(h));
    /* the FREE event names the neighbour it was not merged with */
    cr_assert_eq(log.n, 2);
    cr_assert_eq(log.ev[0].kind, MEM_EV_FREE);
    cr_assert_eq(log.ev[0].neighbours, 0);
    cr_assert_eq(log.ev[1].kind, MEM_EV_FREE);
    cr_assert_eq(log.ev[1].neighbours, MEM_LEFT);
    MemStats s = MemHeap_Stats(h);
    cr_assert_eq(s.free_blocks, 2);
    cr_assert_eq(s.largest_free, 64);
    log.n = 0;
    cr_assert_null(MemHeap_Alloc(h, 100), "128 bytes free, but never in one block");
    cr_assert_eq(log.n, 1);
    cr_assert_eq(log.ev[0].kind, MEM_EV_FAIL);
    cr_assert_eq(MemHeap_Stats(h).deferred_coalesces, 0);
    th_check(h);
    cr_assert_eq(MemHeap_Free(h, o[0]), MEM_OK); /* three side by side now */
    cr_assert(strstr(th_layout(h), "F64 F64 F64 U64"), "%s", th_layout(h));
    th_check(h);
}

Test(coalesce, deferred_merges_when_a_request_finds_no_block)
{
    char *o[4];
    ThLog log;
    MemHeap *h = pair(MEM_COALESCE_DEFERRED, &log, o);
    cr_assert(strstr(th_layout(h), "U64 F64 F64 U64"), "%s", th_layout(h));
    log.n = 0;
    char *p = MemHeap_Alloc(h, 100); /* 112: in neither 64, in the two */
    cr_assert_eq(p, o[1], "the merged block is B's");
    cr_assert_eq(log.n, 2);
    const MemEvent *c = &log.ev[0], *a = &log.ev[1];
    cr_assert_eq(c->kind, MEM_EV_COALESCE_ALL);
    cr_assert_eq(c->request, 100);
    cr_assert_eq(c->examined, 2, "two free blocks before");
    cr_assert_eq(c->count, 1, "one absorbed into the one before it");
    cr_assert_eq(c->size, 128, "the largest free block after");
    cr_assert_eq(c->block, (size_t)(o[1] - 8 - (char *)MemHeap_Region(h).base));
    cr_assert_eq(a->kind, MEM_EV_ALLOC);
    cr_assert_eq(a->op, c->op, "one operation");
    cr_assert_eq(MemHeap_Stats(h).deferred_coalesces, 1);
    th_check(h);
    th_expose(h); /* the absorbed block's header is gone */
    cr_assert_eq(((BlockHeader *)(void *)(o[2] - 8))->size, 0);
    /* a request that fits at once does not coalesce */
    cr_assert_eq(MemHeap_Free(h, p), MEM_OK);
    cr_assert_eq(MemHeap_Free(h, o[0]), MEM_OK);
    log.n = 0;
    cr_assert_not_null(MemHeap_Alloc(h, 40));
    cr_assert_eq(log.n, 1);
    cr_assert_eq(MemHeap_Stats(h).deferred_coalesces, 1);
    /* nothing fits even merged: it runs, and the request fails after it */
    log.n = 0;
    cr_assert_null(MemHeap_Alloc(h, 400));
    cr_assert_eq(log.n, 2);
    cr_assert_eq(log.ev[0].kind, MEM_EV_COALESCE_ALL);
    cr_assert_eq(log.ev[1].kind, MEM_EV_FAIL);
    cr_assert_eq(MemHeap_Stats(h).deferred_coalesces, 2);
    th_check(h);
}

/* Deferred coalescing with a list in LIFO order: each run merges into its
 * first block, which keeps its place (and its stamp). */
Test(coalesce, deferred_keeps_the_first_blocks_place_in_a_lifo_list)
{
    MemHeap *h = heap(MEM_FIRST_FIT, MEM_ORDER_LIFO, MEM_COALESCE_DEFERRED, 512);
    char *o[6];
    for (int i = 0; i < 6; i++)
        cr_assert_not_null(o[i] = MemHeap_Alloc(h, 56));
    cr_assert_not_null(MemHeap_Alloc(h, 104)); /* the tail: 112 left, no more */
    /* free 1, 4, 2 (the run 1-2), 5 (the run 4-5) */
    int order[] = {1, 4, 2, 5};
    for (int i = 0; i < 4; i++)
        cr_assert_eq(MemHeap_Free(h, o[order[i]]), MEM_OK);
    th_check(h);
    /* newest first: 5, 2, 4, 1 (64 bytes at +0x48, +0x88, +0x108, +0x148) */
    cr_assert_str_eq(th_free_order(h), "+0x148:64 +0x88:64 +0x108:64 +0x48:64");
    cr_assert_not_null(MemHeap_Alloc(h, 100));
    th_check(h);
    /* 1 absorbed 2 and 4 absorbed 5: 4's run came first in the list and
     * took the request, then 1's is left, in 1's place */
    cr_assert_str_eq(th_free_order(h), "+0x48:128");
}

/* Next fit's rover on a block that a deferred coalesce absorbs stays on its
 * bytes: it moves to the merged block, not on to the next in the list. */
Test(coalesce, deferred_keeps_next_fits_rover_on_its_bytes)
{
    MemHeap *h = heap(MEM_NEXT_FIT, MEM_ORDER_ADDRESS, MEM_COALESCE_DEFERRED, 512);
    char *o[6];
    for (int i = 0; i < 6; i++)
        cr_assert_not_null(o[i] = MemHeap_Alloc(h, 56));
    cr_assert_not_null(MemHeap_Alloc(h, 104)); /* full: no rover */
    char *base = MemHeap_Region(h).base;
    cr_assert_eq(MemHeap_Free(h, o[2]), MEM_OK); /* the heap was full: the rover is here */
    cr_assert_eq(MemHeap_Free(h, o[1]), MEM_OK);
    cr_assert_eq(MemHeap_Free(h, o[4]), MEM_OK);
    cr_assert_eq(MemHeap_Stats(h).rover, (size_t)(o[2] - 8 - base));
    cr_assert_null(MemHeap_Alloc(h, 300)); /* the coalesce runs: 1 absorbs 2 */
    cr_assert(strstr(th_layout(h), "U64 F128 U64 F64 U64"), "%s", th_layout(h));
    cr_assert_eq(MemHeap_Stats(h).rover, (size_t)(o[1] - 8 - base),
                 "the rover is on the merged block, not the next free one");
    th_check(h);
}

/* ---- the checker ------------------------------------------------------------- */

Test(checker, allows_free_neighbours_exactly_when_coalescing_is_not_now)
{
    for (MemCoalesce co = 0; co < MEM_COALESCE_COUNT; co++) {
        MemHeap *h = heap(MEM_FIRST_FIT, MEM_ORDER_ADDRESS, co, 512);
        char *a = MemHeap_Alloc(h, 56), *b = MemHeap_Alloc(h, 56);
        MemHeap_Alloc(h, 56);
        MemHeap_Free(h, a);
        MemHeap_Free(h, b);
        th_check(h);
        if (co == MEM_COALESCE_NOW) {
            cr_assert(strstr(th_layout(h), "F128 U64"), "%s", th_layout(h));
            continue;
        }
        cr_assert(strstr(th_layout(h), "F64 F64 U64"), "%s", th_layout(h));
    }
}

Test(checker, notices_a_lifo_or_fifo_list_out_of_order)
{
    for (MemOrder ord = MEM_ORDER_LIFO; ord <= MEM_ORDER_FIFO; ord++) {
        char *o[6];
        MemHeap *h = three_holes(MEM_FIRST_FIT, ord, o);
        th_expose(h);
        /* swap the stamps of the first two blocks of the list */
        const MemKeys k = mem_keys(h);
        uint32_t a = h->head, b = link_get(h, &k, a, 0);
        uint64_t sa, sb;
        memcpy(&sa, mem_payload(h, a) + 8, 8);
        memcpy(&sb, mem_payload(h, b) + 8, 8);
        memcpy(mem_payload(h, a) + 8, &sb, 8);
        memcpy(mem_payload(h, b) + 8, &sa, 8);
        char why[200];
        cr_assert_geq(MemHeap_Diagnose(h, why, sizeof why), 1);
        cr_assert(strstr(why, ord == MEM_ORDER_LIFO ? "LIFO order" : "FIFO order"), "%s", why);
        /* a stamp from the future */
        memcpy(mem_payload(h, a) + 8, &sa, 8);
        memcpy(mem_payload(h, b) + 8, &sb, 8);
        th_check(h);
        uint64_t future = h->seq + 1;
        memcpy(mem_payload(h, a) + 8, &future, 8);
        cr_assert_geq(MemHeap_Diagnose(h, why, sizeof why), 1);
        cr_assert(strstr(why, "stamp"), "%s", why);
    }
}

Test(checker, notices_knobs_on_a_policy_that_has_none)
{
    MemHeap *h = MemHeap_Create(region, sizeof region, MEM_FAST, 0);
    h->order = MEM_ORDER_LIFO;
    cr_assert_eq(MemHeap_Check(h), -1);
    h->order = MEM_ORDER_ADDRESS;
    h->coalesce = 9;
    cr_assert_eq(MemHeap_Check(h), -1);
}

/* ---- long random runs ---------------------------------------------------------- */

/* Every policy, order and coalescing: allocations and frees (interior
 * pointers) at random, the checker after every operation, the contents
 * intact, and what each knob promises: a failure means no free block fits
 * (never: as the blocks lie; deferred: after merging, when the free bytes
 * could have held it, the coalesce ran). */
Test(random, every_knob_on_every_list_policy_with_the_checker_after_every_op,
     .timeout = 120)
{
    uint64_t seed = th_seed(99);
    ThRng rng = {seed};
    size_t ops = th_scaled(6000);
    for (MemPolicy p = MEM_FIRST_FIT; p < MEM_FAST; p++)
        for (MemOrder ord = 0; ord < MEM_ORDER_COUNT; ord++)
            for (MemCoalesce co = 0; co < MEM_COALESCE_COUNT; co++) {
                MemHeap *h = heap(p, ord, co, 16384);
                char *obj[256] = {0};
                size_t size[256] = {0};
                unsigned char fill[256] = {0};
                uint64_t ran = 0;
                for (size_t op = 0; op < ops; op++) {
                    size_t k = th_below(&rng, 256);
                    if (obj[k]) {
                        for (size_t i = 0; i < size[k]; i++)
                            cr_assert_eq((unsigned char)obj[k][i], fill[k], "seed %llu op %zu",
                                         (unsigned long long)seed, op);
                        cr_assert_eq(MemHeap_Free(h, obj[k] + th_below(&rng, size[k])), MEM_OK);
                        obj[k] = NULL;
                    } else {
                        size[k] = 1 + th_below(&rng, th_below(&rng, 8) ? 200 : 2000);
                        MemStats before = MemHeap_Stats(h);
                        obj[k] = MemHeap_Alloc(h, size[k]);
                        MemStats after = MemHeap_Stats(h);
                        size_t need = (size[k] + 8 + 15) / 16 * 16;
                        need = need < 32 ? 32 : need;
                        if (!obj[k]) {
                            cr_assert_lt(after.largest_free, need, "%s %s %s seed %llu op %zu",
                                         MemPolicy_Name(p), MemOrder_Name(ord),
                                         MemCoalesce_Name(co), (unsigned long long)seed, op);
                            if (co == MEM_COALESCE_DEFERRED)
                                cr_assert_eq(after.deferred_coalesces,
                                             before.deferred_coalesces + 1);
                        } else {
                            fill[k] = (unsigned char)(1 + th_below(&rng, 255));
                            memset(obj[k], fill[k], size[k]);
                        }
                        if (co != MEM_COALESCE_DEFERRED)
                            cr_assert_eq(after.deferred_coalesces, 0);
                        ran = after.deferred_coalesces;
                    }
                    th_check(h);
                }
                if (co == MEM_COALESCE_DEFERRED)
                    cr_assert_gt(ran, 0, "%s %s: the deferred coalesce never ran",
                                 MemPolicy_Name(p), MemOrder_Name(ord));
                for (size_t k = 0; k < 256; k++)
                    if (obj[k])
                        cr_assert_eq(MemHeap_Free(h, obj[k]), MEM_OK);
                th_check(h);
                MemStats s = MemHeap_Stats(h);
                cr_assert_eq(s.used_blocks, 0);
                if (co == MEM_COALESCE_NOW)
                    cr_assert_eq(s.free_blocks, 1, "coalesced at once: one block again");
            }
}

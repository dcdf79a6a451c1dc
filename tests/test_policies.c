/*
 * test_policies.c - each placement policy chooses exactly the block it
 * should, on scripted layouts, asserted as layout strings ("U32 F96 U64").
 * Coalescing with neighbours is that of every policy but buddy, whose
 * splitting and merging are in test_buddy.c.
 *
 * Block sizes: a request of r bytes takes max(32, round16(r + 8)) bytes, so
 * 24 -> 32, 56 -> 64, 120 -> 128, 248 -> 256.
 *
 * These are the block layer's rules, so MEM_FAST runs here without its runs
 * (MEM_OPT_NORUNS): with them, these small requests would be slots of runs,
 * which test_runs.c covers.
 */
#include "testlib.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

/* The flags that keep every request of this file a block. */
static unsigned blocks_only(MemPolicy policy)
{
    return policy == MEM_FAST ? MEM_OPT_NORUNS : 0u;
}

typedef struct Script {
    MemHeap *h;
    size_t tail; /* bytes of the free block at the end */
    char tail_s[32], tail64_s[32], tail128_s[32];
} Script;

/* F128 U32 F64 U32 F256 U32 F64 U32 F<tail>: holes of 128, 64, 256 and 64
 * separated by 32-byte used blocks, freed in address order. */
static Script holes(MemPolicy policy)
{
    Script s;
    s.h = th_heap(policy, 1 << 16, MEM_OPT_NOLOCK | blocks_only(policy));
    cr_assert_not_null(s.h);
    static const size_t req[] = {120, 24, 56, 24, 248, 24, 56, 24};
    void *p[8];
    for (int i = 0; i < 8; i++)
        cr_assert_not_null(p[i] = MemHeap_Alloc(s.h, req[i]));
    for (int i = 0; i < 8; i += 2)
        cr_assert_eq(MemHeap_Free(s.h, p[i]), 0);
    s.tail = th_first_free(s.h);
    const char *l = th_layout(s.h);
    size_t tail = 0;
    cr_assert_eq(sscanf(strrchr(l, 'F'), "F%zu", &tail), 1);
    s.tail = tail;
    snprintf(s.tail_s, sizeof s.tail_s, "F%zu", tail);
    snprintf(s.tail64_s, sizeof s.tail64_s, "F%zu", tail - 64);
    snprintf(s.tail128_s, sizeof s.tail128_s, "F%zu", tail - 128);
    char want[256];
    snprintf(want, sizeof want, "F128 U32 F64 U32 F256 U32 F64 U32 %s", s.tail_s);
    cr_assert_str_eq(l, want, "%s: script layout", MemPolicy_Name(policy));
    th_check(s.h);
    return s;
}

/* The heap's layout is `head` followed by `tail` (the free tail's token). */
static void expect(const Script *s, const char *head, const char *tail)
{
    char want[256];
    snprintf(want, sizeof want, "%s%s", head, tail);
    cr_assert_str_eq(th_layout(s->h), want);
    th_check(s->h);
}

Test(first_fit, takes_the_lowest_block_that_fits_and_splits_it)
{
    Script s = holes(MEM_FIRST_FIT);
    cr_assert_not_null(MemHeap_Alloc(s.h, 56));
    expect(&s, "U64 F64 U32 F64 U32 F256 U32 F64 U32 ", s.tail_s);
    cr_assert_not_null(MemHeap_Alloc(s.h, 56));
    expect(&s, "U64 U64 U32 F64 U32 F256 U32 F64 U32 ", s.tail_s);
    cr_assert_not_null(MemHeap_Alloc(s.h, 200));
    expect(&s, "U64 U64 U32 F64 U32 U208 F48 U32 F64 U32 ", s.tail_s);
}

Test(first_fit, absorbs_a_remainder_too_small_to_be_a_block)
{
    Script s = holes(MEM_FIRST_FIT);
    /* 100 B needs 112; the 16 left of the 128 cannot be a block. */
    cr_assert_not_null(MemHeap_Alloc(s.h, 100));
    expect(&s, "U128 U32 F64 U32 F256 U32 F64 U32 ", s.tail_s);
    MemStats st = MemHeap_Stats(s.h);
    cr_assert_eq(st.padding_bytes, 20,
                 "padding %zu: none in the 32-byte blocks of 24, 20 in the 128", st.padding_bytes);
}

Test(best_fit, takes_the_smallest_block_that_fits_lowest_first)
{
    Script s = holes(MEM_BEST_FIT);
    cr_assert_not_null(MemHeap_Alloc(s.h, 56));
    expect(&s, "F128 U32 U64 U32 F256 U32 F64 U32 ", s.tail_s);
    cr_assert_not_null(MemHeap_Alloc(s.h, 56));
    expect(&s, "F128 U32 U64 U32 F256 U32 U64 U32 ", s.tail_s);
    cr_assert_not_null(MemHeap_Alloc(s.h, 72)); /* 80: the 128 is smallest */
    expect(&s, "U80 F48 U32 U64 U32 F256 U32 U64 U32 ", s.tail_s);
}

Test(worst_fit, takes_the_largest_block)
{
    Script s = holes(MEM_WORST_FIT);
    cr_assert_not_null(MemHeap_Alloc(s.h, 56));
    expect(&s, "F128 U32 F64 U32 F256 U32 F64 U32 U64 ", s.tail64_s);
    /* Fill the tail exactly, then the 256 is the largest. */
    cr_assert_not_null(MemHeap_Alloc(s.h, s.tail - 64 - 8));
    cr_assert_not_null(MemHeap_Alloc(s.h, 24));
    char want[256];
    snprintf(want, sizeof want, "F128 U32 F64 U32 U32 F224 U32 F64 U32 U64 U%zu", s.tail - 64);
    cr_assert_str_eq(th_layout(s.h), want);
}

Test(worst_fit, breaks_ties_towards_the_lowest_address)
{
    MemHeap *h = th_heap(MEM_WORST_FIT, 1 << 16, 0);
    void *a = MemHeap_Alloc(h, 248), *b = MemHeap_Alloc(h, 24);
    void *c = MemHeap_Alloc(h, 248), *d = MemHeap_Alloc(h, 24);
    cr_assert(a && b && c && d);
    size_t tail = th_first_free(h);
    cr_assert_not_null(MemHeap_Alloc(h, tail - 8), "fill the tail");
    MemHeap_Free(h, c);
    MemHeap_Free(h, a);
    cr_assert_not_null(MemHeap_Alloc(h, 24));
    char want[128];
    snprintf(want, sizeof want, "U32 F224 U32 F256 U32 U%zu", tail);
    cr_assert_str_eq(th_layout(h), want);
    th_check(h);
}

Test(best_fit, breaks_ties_towards_the_lowest_address)
{
    Script s = holes(MEM_BEST_FIT);
    /* Two holes of 64: the lower one is chosen (asserted above); a request
     * of 40 (48 bytes) also picks the lower 64, splitting 16: absorbed. */
    cr_assert_not_null(MemHeap_Alloc(s.h, 40));
    expect(&s, "F128 U32 U64 U32 F256 U32 F64 U32 ", s.tail_s);
}

Test(next_fit, continues_from_the_rover)
{
    Script s = holes(MEM_NEXT_FIT);
    /* The last allocation left the rover on the tail's remainder. */
    MemStats st = MemHeap_Stats(s.h);
    cr_assert_neq(st.rover, SIZE_MAX);
    cr_assert_not_null(MemHeap_Alloc(s.h, 56));
    expect(&s, "F128 U32 F64 U32 F256 U32 F64 U32 U64 ", s.tail64_s);
    cr_assert_not_null(MemHeap_Alloc(s.h, 56));
    expect(&s, "F128 U32 F64 U32 F256 U32 F64 U32 U64 U64 ", s.tail128_s);
    /* The rover sits on the tail's remainder. */
    st = MemHeap_Stats(s.h);
    cr_assert_eq(st.rover, 8 + 128 + 32 + 64 + 32 + 256 + 32 + 64 + 32 + 128);
}

Test(next_fit, wraps_around_to_the_head)
{
    Script s = holes(MEM_NEXT_FIT);
    /* Use up the tail so the rover must wrap. */
    cr_assert_not_null(MemHeap_Alloc(s.h, s.tail - 8));
    cr_assert_not_null(MemHeap_Alloc(s.h, 56));
    char want[256];
    snprintf(want, sizeof want, "U64 F64 U32 F64 U32 F256 U32 F64 U32 U%zu", s.tail);
    cr_assert_str_eq(th_layout(s.h), want);
    /* Next search starts at the remainder of the first hole. */
    cr_assert_not_null(MemHeap_Alloc(s.h, 200));
    snprintf(want, sizeof want, "U64 F64 U32 F64 U32 U208 F48 U32 F64 U32 U%zu", s.tail);
    cr_assert_str_eq(th_layout(s.h), want);
    MemStats st = MemHeap_Stats(s.h);
    cr_assert_eq(st.rover, 8 + 64 + 64 + 32 + 64 + 32 + 208, "rover on the 48 left over");
    th_check(s.h);
}

Test(next_fit, a_full_heap_gets_a_rover_back_when_a_block_is_freed)
{
    MemHeap *h = th_heap(MEM_NEXT_FIT, 1 << 16, 0);
    size_t whole = th_first_free(h);
    void *a = MemHeap_Alloc(h, 56);
    void *rest = MemHeap_Alloc(h, whole - 64 - 8);
    cr_assert(a && rest);
    cr_assert_eq(MemHeap_Stats(h).rover, SIZE_MAX, "no free block, no rover");
    cr_assert_eq(MemHeap_Free(h, a), 0);
    cr_assert_eq(MemHeap_Stats(h).rover, 8, "the freed block is where the search starts");
    th_check(h);
    cr_assert_eq(MemHeap_Alloc(h, 56), a);
}

Test(next_fit, rover_follows_a_coalesce)
{
    MemHeap *h = th_heap(MEM_NEXT_FIT, 1 << 16, 0);
    void *a = MemHeap_Alloc(h, 56);
    cr_assert_not_null(a);
    MemStats st = MemHeap_Stats(h);
    cr_assert_eq(st.rover, 8 + 64, "rover on the remainder");
    MemHeap_Free(h, a); /* merges into the remainder, to its left */
    st = MemHeap_Stats(h);
    cr_assert_eq(st.rover, 8, "rover on the merged block");
    th_check(h);
}

Test(fast, takes_a_block_from_the_exact_class_most_recent_first)
{
    Script s = holes(MEM_FAST);
    /* Small classes are exact; each list is LIFO: the last 64 freed. */
    cr_assert_not_null(MemHeap_Alloc(s.h, 56));
    expect(&s, "F128 U32 F64 U32 F256 U32 U64 U32 ", s.tail_s);
    cr_assert_not_null(MemHeap_Alloc(s.h, 56));
    expect(&s, "F128 U32 U64 U32 F256 U32 U64 U32 ", s.tail_s);
    /* 240 bytes (256 block, class of 16 granules) fits the 256 hole exactly. */
    cr_assert_not_null(MemHeap_Alloc(s.h, 248));
    expect(&s, "F128 U32 U64 U32 U256 U32 U64 U32 ", s.tail_s);
}

Test(fast, good_fit_never_takes_a_block_smaller_than_the_request)
{
    Script s = holes(MEM_FAST);
    /* 120 bytes needs 128: the 128 hole is in its exact class. */
    cr_assert_not_null(MemHeap_Alloc(s.h, 120));
    expect(&s, "U128 U32 F64 U32 F256 U32 F64 U32 ", s.tail_s);
}

Test(fast, free_order_is_by_size_class)
{
    Script s = holes(MEM_FAST);
    char want[256];
    /* classes ascending: 64s (LIFO: higher one first), 128, 256, tail */
    snprintf(want, sizeof want, "+%#x:64 +%#x:64 +0x8:128 +%#x:256 +%#x:%zu",
             8 + 128 + 32 + 64 + 32 + 256 + 32, 8 + 128 + 32, 8 + 128 + 32 + 64 + 32,
             8 + 128 + 32 + 64 + 32 + 256 + 32 + 64 + 32, s.tail);
    cr_assert_str_eq(th_free_order(s.h), want);
}

Test(list_policies, free_order_is_address_order)
{
    for (int p = MEM_FIRST_FIT; p <= MEM_WORST_FIT; p++) {
        Script s = holes((MemPolicy)p);
        char want[256];
        snprintf(want, sizeof want, "+0x8:128 +%#x:64 +%#x:256 +%#x:64 +%#x:%zu", 8 + 128 + 32,
                 8 + 128 + 32 + 64 + 32, 8 + 128 + 32 + 64 + 32 + 256 + 32,
                 8 + 128 + 32 + 64 + 32 + 256 + 32 + 64 + 32, s.tail);
        cr_assert_str_eq(th_free_order(s.h), want, "%s", MemPolicy_Name((MemPolicy)p));
    }
}

/* [A][B][C][D][tail]: free patterns that coalesce left, right and both. */
static void coalesce_case(MemPolicy pol, const int *order, int n, const char *head)
{
    MemHeap *h = th_heap(pol, 1 << 16, blocks_only(pol));
    void *p[4];
    static const size_t req[] = {56, 120, 248, 24};
    for (int i = 0; i < 4; i++)
        cr_assert_not_null(p[i] = MemHeap_Alloc(h, req[i]));
    size_t tail = th_first_free(h);
    for (int i = 0; i < n; i++) {
        cr_assert_eq(MemHeap_Free(h, (char *)p[order[i]] + 3), 0);
        th_check(h);
    }
    char want[128];
    snprintf(want, sizeof want, "%sF%zu", head, tail);
    cr_assert_str_eq(th_layout(h), want, "%s", MemPolicy_Name(pol));
    MemStats st = MemHeap_Stats(h);
    size_t free_blocks = 0;
    for (const char *c = want; *c; c++)
        free_blocks += *c == 'F';
    cr_assert_eq(st.free_blocks, free_blocks);
}

Test(coalesce, with_the_right_neighbour)
{
    static const int order[] = {1, 0}; /* B, then A merges with B */
    for (int p = 0; p < MEM_BUDDY; p++)
        coalesce_case((MemPolicy)p, order, 2, "F192 U256 U32 ");
}

Test(coalesce, with_the_left_neighbour)
{
    static const int order[] = {0, 1}; /* A, then B merges with A */
    for (int p = 0; p < MEM_BUDDY; p++)
        coalesce_case((MemPolicy)p, order, 2, "F192 U256 U32 ");
}

Test(coalesce, with_both_neighbours)
{
    static const int order[] = {0, 2, 1}; /* A, C, then B joins all three */
    for (int p = 0; p < MEM_BUDDY; p++)
        coalesce_case((MemPolicy)p, order, 3, "F448 U32 ");
}

Test(coalesce, with_the_free_tail)
{
    static const int order[] = {3, 2, 1, 0};
    for (int p = 0; p < MEM_BUDDY; p++) {
        MemHeap *h = th_heap((MemPolicy)p, 1 << 16, blocks_only((MemPolicy)p));
        size_t whole = th_first_free(h);
        void *q[4];
        static const size_t req[] = {56, 120, 248, 24};
        for (int i = 0; i < 4; i++)
            q[i] = MemHeap_Alloc(h, req[i]);
        for (int i = 0; i < 4; i++)
            cr_assert_eq(MemHeap_Free(h, q[order[i]]), 0);
        char want[64];
        snprintf(want, sizeof want, "F%zu", whole);
        cr_assert_str_eq(th_layout(h), want, "%s: back to one block", MemPolicy_Name((MemPolicy)p));
        th_check(h);
    }
}

Test(exhaustion, then_refill_with_one_allocation_of_nearly_the_whole_region)
{
    for (int p = 0; p < MEM_BUDDY; p++) {
        MemHeap *h = th_heap((MemPolicy)p, 1 << 18, 0);
        size_t whole = th_first_free(h);
        void *objs[20000];
        size_t n = 0;
        ThRng r = {(uint64_t)p + 1};
        while (n < 20000) {
            void *o = MemHeap_Alloc(h, 2 + th_below(&r, 300));
            if (!o)
                break;
            objs[n++] = o;
        }
        cr_assert_gt(n, 100);
        cr_assert_null(MemHeap_Alloc(h, 4096), "%s: exhausted", MemPolicy_Name((MemPolicy)p));
        th_check(h);
        for (size_t i = 0; i < n; i += 2)
            cr_assert_eq(MemHeap_Free(h, objs[i]), 0);
        for (size_t i = 1; i < n; i += 2)
            cr_assert_eq(MemHeap_Free(h, (char *)objs[i] + 1), 0);
        th_check(h);
        void *all = MemHeap_Alloc(h, whole - 8);
        cr_assert_not_null(all, "%s: one object of the whole block after freeing everything",
                           MemPolicy_Name((MemPolicy)p));
        cr_assert_eq(MemHeap_Stats(h).free_bytes, 0);
    }
}

/* MEM_FAST's documented limit: good fit looks at the first 32 blocks of the
 * request's own size class at most.  Forty 1024-byte blocks (64 granules)
 * freed after one 1072-byte block (67 granules, same class 64..67): a
 * request of 1032 bytes (65 granules) fits only the 1072, which is 41st in
 * its list.  First fit finds it. */
static MemHeap *deep_class(MemPolicy p)
{
    MemHeap *h = th_heap(p, 1 << 16, blocks_only(p));
    void *big = MemHeap_Alloc(h, 1064);
    MemHeap_Alloc(h, 24);
    void *small[40];
    for (int i = 0; i < 40; i++) {
        small[i] = MemHeap_Alloc(h, 1016);
        MemHeap_Alloc(h, 24);
    }
    cr_assert_not_null(MemHeap_Alloc(h, th_first_free(h) - 8), "fill the tail");
    MemHeap_Free(h, big);
    for (int i = 0; i < 40; i++)
        MemHeap_Free(h, small[i]);
    th_check(h);
    return h;
}

Test(fast, its_bounded_search_can_miss_a_block_deep_in_a_class)
{
    MemHeap *h = deep_class(MEM_FAST);
    MemStats s = MemHeap_Stats(h);
    cr_assert_eq(s.largest_free, 1072);
    cr_assert_geq(s.largest_request, 1032, "a free block could hold it");
    cr_assert_null(MemHeap_Alloc(h, 1032), "but fast fit gives up after 32 of the class");
    cr_assert_not_null(MemHeap_Alloc(h, 1016), "the class itself still serves");
    MemHeap *f = deep_class(MEM_FIRST_FIT);
    cr_assert_not_null(MemHeap_Alloc(f, 1032), "first fit finds the 1072");
}

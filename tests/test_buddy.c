/*
 * test_buddy.c - MEM_BUDDY: the tiling of a new heap, splitting into
 * buddies, merging with the buddy (and with nothing else), the events, the
 * free lists by order, power-of-two padding (wide padding words), interior
 * pointers, guard mode, the checker's buddy invariants (and that it notices
 * their violation), and the classic API under MEM_POLICY=buddy.
 *
 * Heaps here have an arena whose block area is an exact power of two where
 * the script needs one: an arena of 8 + 16 * 2^k + 8 bytes (the bitmap's
 * first word, the blocks, and the rest of a one-word bitmap: none) has
 * exactly 2^k granules for k <= 6.
 */
#include "testlib.h"
#include "block.h" /* white-box: to break the buddy invariants on purpose */

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static _Alignas(16) unsigned char region[1 << 16];

/* A buddy heap whose block area is `grans` granules (<= 64), or the given
 * arena when grans is 0. */
static MemHeap *heap(size_t grans, size_t arena, unsigned flags)
{
    if (grans)
        arena = 8 + 16 * grans + 8;
    MemHeap *h = MemHeap_Create(region, MemHeap_ControlSize() + arena, MEM_BUDDY, flags);
    cr_assert_not_null(h);
    th_check(h);
    return h;
}

/* ---- the tiling ---------------------------------------------------------- */

Test(tiling, a_power_of_two_area_is_one_block)
{
    MemHeap *h = heap(64, 0, 0);
    cr_assert_str_eq(th_layout(h), "F1024");
    cr_assert_eq(MemHeap_Stats(h).free_blocks, 1);
}

Test(tiling, any_other_area_is_the_largest_aligned_blocks_left_to_right)
{
    /* a 4 KiB arena: 254 granules = 128 + 64 + 32 + 16 + 8 + 4 + 2 */
    MemHeap *h = heap(0, 4096, 0);
    cr_assert_str_eq(th_layout(h), "F2048 F1024 F512 F256 F128 F64 F32");
    MemStats s = MemHeap_Stats(h);
    cr_assert_eq(s.free_blocks, 7);
    cr_assert_eq(s.largest_free, 2048);
    cr_assert_eq(s.largest_free_offset, 8);
    /* an odd count of granules leaves the last one to the tables */
    h = heap(0, 8 + 16 * 7 + 8, 0);
    cr_assert_str_eq(th_layout(h), "F64 F32");
    cr_assert_eq(MemHeap_Region(h).heap_end, 8 + 16 * 6);
}

Test(tiling, the_smallest_arena_is_one_minimum_block)
{
    MemHeap *h = heap(0, MEM_MIN_ARENA, 0);
    cr_assert_str_eq(th_layout(h), "F32");
    void *p = MemHeap_Alloc(h, 24);
    cr_assert_not_null(p);
    cr_assert_null(MemHeap_Alloc(h, 1));
    th_check(h);
}

/* ---- splitting ------------------------------------------------------------ */

Test(split, halves_the_smallest_free_block_until_it_fits)
{
    MemHeap *h = heap(64, 0, 0);
    ThLog log = {0};
    MemHeap_SetObserver(h, th_record, &log);
    /* 100 + 8 bytes: 7 granules, rounded up to 8 (128 bytes) */
    char *a = MemHeap_Alloc(h, 100);
    cr_assert_not_null(a);
    cr_assert_str_eq(th_layout(h), "U128 F128 F256 F512");
    th_check(h);
    cr_assert_eq(log.n, 2);
    const MemEvent *sp = &log.ev[0], *al = &log.ev[1];
    cr_assert_eq(sp->kind, MEM_EV_SPLIT);
    cr_assert_eq(sp->block, 8);
    cr_assert_eq(sp->size, 1024);
    cr_assert_eq(sp->count, 3, "1024 -> 512 -> 256 -> 128");
    cr_assert_eq(sp->remainder, 896);
    cr_assert_eq(sp->request, 100);
    cr_assert_eq(al->kind, MEM_EV_ALLOC);
    cr_assert_eq(al->block, 8);
    cr_assert_eq(al->size, 1024, "the block chosen, before the split");
    cr_assert_eq(al->remainder, 896);
    cr_assert_eq(al->object, 16);
    cr_assert_eq(al->examined, 1);
    cr_assert_eq(sp->op, al->op);

    /* the next one takes the buddy split off last: no split, one event */
    log.n = 0;
    char *b = MemHeap_Alloc(h, 120);
    cr_assert_eq(b, a + 128);
    cr_assert_str_eq(th_layout(h), "U128 U128 F256 F512");
    cr_assert_eq(log.n, 1);
    cr_assert_eq(log.ev[0].kind, MEM_EV_ALLOC);
    cr_assert_eq(log.ev[0].remainder, 0);
}

Test(split, takes_a_larger_order_only_when_the_smaller_are_empty)
{
    MemHeap *h = heap(0, 4096, 0);
    /* 24 B needs 32: the 32-byte block at the end, nothing split */
    char *a = MemHeap_Alloc(h, 24);
    cr_assert_str_eq(th_layout(h), "F2048 F1024 F512 F256 F128 F64 U32");
    /* the next 24 B: order 1 is empty, order 2 (the 64) is halved */
    char *b = MemHeap_Alloc(h, 24);
    cr_assert_str_eq(th_layout(h), "F2048 F1024 F512 F256 F128 U32 F32 U32");
    cr_assert_lt(b, a);
    th_check(h);
}

Test(split, a_request_larger_than_every_free_power_of_two_fails_and_changes_nothing)
{
    MemHeap *h = heap(0, 4096, 0);
    ThLog log = {0};
    MemHeap_SetObserver(h, th_record, &log);
    /* 2041 + 8 bytes need 4096: the largest block is 2048, although 4064
     * bytes are free */
    cr_assert_null(MemHeap_Alloc(h, 2041));
    cr_assert_str_eq(th_layout(h), "F2048 F1024 F512 F256 F128 F64 F32");
    cr_assert_eq(log.n, 1);
    cr_assert_eq(log.ev[0].kind, MEM_EV_FAIL);
    cr_assert_eq(log.ev[0].largest_free, 2048);
    cr_assert_eq(log.ev[0].block, 8);
    cr_assert_not_null(MemHeap_Alloc(h, 2040), "2040 + 8 fits the 2048");
    cr_assert_null(MemHeap_Alloc(h, (size_t)1 << 40));
    cr_assert_null(MemHeap_Alloc(h, SIZE_MAX));
    th_check(h);
}

/* ---- merging ---------------------------------------------------------------- */

Test(merge, with_the_buddy_only_while_it_is_free_and_whole)
{
    MemHeap *h = heap(64, 0, 0);
    ThLog log = {0};
    char *a = MemHeap_Alloc(h, 100), *b = MemHeap_Alloc(h, 100);
    cr_assert_str_eq(th_layout(h), "U128 U128 F256 F512");
    MemHeap_SetObserver(h, th_record, &log);
    /* a's buddy b is used: nothing merges */
    cr_assert_eq(MemHeap_Free(h, a + 50), MEM_OK);
    cr_assert_str_eq(th_layout(h), "F128 U128 F256 F512");
    cr_assert_eq(log.n, 1);
    cr_assert_eq(log.ev[0].kind, MEM_EV_FREE);
    th_check(h);
    /* b merges left with a, then right with the 256, then with the 512 */
    log.n = 0;
    cr_assert_eq(MemHeap_Free(h, b), MEM_OK);
    cr_assert_str_eq(th_layout(h), "F1024");
    cr_assert_eq(log.n, 2);
    cr_assert_eq(log.ev[0].kind, MEM_EV_FREE);
    cr_assert_eq(log.ev[0].block, 8 + 128);
    cr_assert_eq(log.ev[0].size, 128);
    cr_assert_eq(log.ev[1].kind, MEM_EV_MERGE);
    cr_assert_eq(log.ev[1].block, 8);
    cr_assert_eq(log.ev[1].size, 1024);
    cr_assert_eq(log.ev[1].count, 3);
    cr_assert_eq(log.ev[1].neighbours, MEM_LEFT | MEM_RIGHT);
    th_check(h);
    /* the absorbed halves' headers are gone: none lies inside a block */
    th_expose(h);
    static const uint32_t absorbed[] = {8, 16, 32};
    for (int i = 0; i < 3; i++)
        cr_assert_eq(mem_hdr(h, absorbed[i])->size, 0, "granule %u", absorbed[i]);
}

Test(merge, never_with_a_free_neighbour_that_is_not_its_buddy)
{
    MemHeap *h = heap(64, 0, 0);
    char *a = MemHeap_Alloc(h, 24), *b = MemHeap_Alloc(h, 24), *c = MemHeap_Alloc(h, 56);
    cr_assert_str_eq(th_layout(h), "U32 U32 U64 F128 F256 F512");
    cr_assert_eq(MemHeap_Free(h, b), MEM_OK);
    /* b (order 1) and c's block are neighbours, not buddies */
    cr_assert_eq(MemHeap_Free(h, c + 1), MEM_OK);
    cr_assert_str_eq(th_layout(h), "U32 F32 F64 F128 F256 F512");
    MemStats s = MemHeap_Stats(h);
    cr_assert_eq(s.free_blocks, 5);
    cr_assert_eq(s.largest_free, 512);
    th_check(h); /* adjacent free blocks are no error under buddy */
    cr_assert_eq(MemHeap_Free(h, a), MEM_OK);
    cr_assert_str_eq(th_layout(h), "F1024");
    th_check(h);
}

Test(merge, a_block_whose_buddy_would_cross_the_end_never_merges)
{
    MemHeap *h = heap(0, 4096, 0);
    MemStats s0 = MemHeap_Stats(h);
    char *p[8];
    static const size_t req[] = {2000, 1000, 500, 200, 100, 50, 20};
    for (int i = 0; i < 7; i++)
        cr_assert_not_null(p[i] = MemHeap_Alloc(h, req[i]), "%zu", req[i]);
    cr_assert_str_eq(th_layout(h), "U2048 U1024 U512 U256 U128 U64 U32");
    cr_assert_null(MemHeap_Alloc(h, 1));
    for (int i = 0; i < 7; i++)
        cr_assert_eq(MemHeap_Free(h, p[i]), MEM_OK);
    cr_assert_str_eq(th_layout(h), "F2048 F1024 F512 F256 F128 F64 F32");
    cr_assert_eq(MemHeap_Stats(h).free_blocks, s0.free_blocks);
    th_check(h);
}

/* ---- the free lists ------------------------------------------------------------ */

static bool orders(const MemBlock *b, void *arg)
{
    char *s = arg;
    size_t n = strlen(s);
    snprintf(s + n, 256 - n, "%s%u:+%#zx", n ? " " : "", b->list, b->offset);
    cr_assert_eq((size_t)16 << b->list, b->size, "list %u holds a block of %zu", b->list,
                 b->size);
    cr_assert(!b->used);
    return true;
}

Test(lists, walk_free_goes_by_order_ascending_each_list_newest_first)
{
    MemHeap *h = heap(64, 0, 0);
    char *a = MemHeap_Alloc(h, 24), *b = MemHeap_Alloc(h, 24), *c = MemHeap_Alloc(h, 24);
    (void)b;
    /* a 0..2, b 2..4, c 4..6; free: 6..8 (1), 8..16 (3), 16..32 (4), 32..64 (5) */
    cr_assert_eq(MemHeap_Free(h, a), MEM_OK); /* 0..2 joins order 1, ahead of 6..8 */
    char s[256] = "";
    cr_assert_eq(MemHeap_WalkFree(h, orders, s), 5);
    cr_assert_str_eq(s, "1:+0x8 1:+0x68 3:+0x88 4:+0x108 5:+0x208");
    cr_assert_eq(MemHeap_Free(h, c), MEM_OK); /* 4..6 merges with 6..8: order 2 */
    s[0] = '\0';
    MemHeap_WalkFree(h, orders, s);
    cr_assert_str_eq(s, "1:+0x8 2:+0x48 3:+0x88 4:+0x108 5:+0x208");
    th_check(h);
}

/* ---- padding: the price of powers of two ---------------------------------------- */

Test(padding, is_the_rest_of_the_power_of_two_and_counts_as_internal_fragmentation)
{
    MemHeap *h = heap(0, 1 << 15, 0);
    char *p = MemHeap_Alloc(h, 600); /* 608 -> 1024 */
    cr_assert_not_null(p);
    MemStats s = MemHeap_Stats(h);
    cr_assert_eq(s.used_bytes, 1024);
    cr_assert_eq(s.live_bytes, 600);
    cr_assert_eq(s.padding_bytes, 1024 - 8 - 600);
    cr_assert_float_eq(s.internal_frag, (1024.0 - 600.0) / 1024.0, 1e-9);
    size_t size = 0;
    cr_assert_eq(MemHeap_Find(h, p + 599, &size), p);
    cr_assert_eq(size, 600);
    cr_assert_eq(MemHeap_Classify(h, p + 600), MEM_REJECT_PADDING);
    cr_assert_eq(MemHeap_Classify(h, p + 1015), MEM_REJECT_PADDING, "the size word too");
    cr_assert_eq(MemHeap_Free(h, p + 600), MEM_REJECT_PADDING);
    cr_assert_eq(MemHeap_Free(h, p + 300), MEM_OK);
    th_check(h);
}

/* Every size from 1 to 2100: the exact size comes back, every interior
 * byte finds the object, the first padding byte does not, and the block is
 * the power of two the header, object and guard need. */
Test(padding, every_size_comes_back_exactly)
{
    for (unsigned flags = 0; flags <= MEM_OPT_GUARD; flags += MEM_OPT_GUARD) {
        MemHeap *h = heap(0, 1 << 15, flags);
        for (size_t n = 1; n <= 2100; n++) {
            char *p = MemHeap_Alloc(h, n);
            cr_assert_not_null(p, "%zu", n);
            size_t need = (n + 8 + (flags ? 8 : 0) + 15) / 16 * 16, blk = 32;
            while (blk < need)
                blk *= 2;
            cr_assert_eq(MemHeap_Stats(h).used_bytes, blk, "%zu B in a block of %zu", n,
                         MemHeap_Stats(h).used_bytes);
            size_t size = 0;
            cr_assert_eq(MemHeap_Find(h, p + n - 1, &size), p);
            cr_assert_eq(size, n);
            if (blk - 8 > n) /* else p + n is the next block's header */
                cr_assert_eq(MemHeap_Classify(h, p + n), MEM_REJECT_PADDING, "%zu", n);
            cr_assert_eq(MemHeap_Classify(h, p + blk - 9), n == blk - 8 ? MEM_OK
                                                                         : MEM_REJECT_PADDING);
            th_check(h);
            cr_assert_eq(MemHeap_Free(h, p + n / 2), MEM_OK);
        }
        th_check(h);
    }
}

/* ---- guard mode and overflows ------------------------------------------------------ */

/* The guard runs up to the size word; an overflow through the guard into
 * the word leaves the object refused as corrupt (never miscounted), the walk
 * going on past it, and the checker naming it. */
Test(guard, an_overflow_into_the_size_word_is_refused_and_reported)
{
    MemHeap *h = heap(0, 1 << 15, MEM_OPT_GUARD);
    char *p = MemHeap_Alloc(h, 300); /* 316 -> 512: 204 bytes of padding */
    char *q = MemHeap_Alloc(h, 300);
    cr_assert(p && q);
    th_expose(h);
    memset(p + 300, 0x41, 196); /* the whole guard: detected, still freed */
    ThLog log = {0};
    MemHeap_SetObserver(h, th_record, &log);
    cr_assert_eq(MemHeap_Check(h), -1);
    cr_assert_eq(MemHeap_Free(h, p), MEM_OK);
    cr_assert_eq(log.ev[0].kind, MEM_EV_OVERFLOW);
    cr_assert_eq(log.ev[0].size, 196);
    th_check(h);

    memset(q + 300, 0x41, 197); /* one byte into the size word */
    MemStats before = MemHeap_Stats(h);
    cr_assert_eq(MemHeap_Classify(h, q), MEM_REJECT_CORRUPT);
    cr_assert_null(MemHeap_Find(h, q + 10, NULL));
    cr_assert_eq(MemHeap_Free(h, q), MEM_REJECT_CORRUPT);
    MemStats after = MemHeap_Stats(h);
    cr_assert_eq(after.live_bytes, before.live_bytes, "nothing miscounted");
    cr_assert_eq(after.free_blocks, before.free_blocks);
    char why[200];
    cr_assert_geq(MemHeap_Diagnose(h, why, sizeof why), 1);
    cr_assert(strstr(why, "size word"), "%s", why);
    const char *l = th_layout(h); /* the walk goes on past it */
    cr_assert(strstr(l, "U512") && strstr(l, " F"), "%s", l);
}

Test(guard, without_guard_mode_the_size_word_is_still_checked)
{
    MemHeap *h = heap(0, 1 << 15, 0);
    char *p = MemHeap_Alloc(h, 129); /* 137 -> 256: padding 119, wide */
    th_expose(h);
    p[129 + 111] ^= 0x01; /* the word: the block's last 8 bytes, p + 240 */
    cr_assert_eq(MemHeap_Free(h, p), MEM_REJECT_CORRUPT);
    cr_assert_eq(MemHeap_Check(h), -1);
    p[129 + 111] ^= 0x01; /* repaired: all is well again */
    th_check(h);
    cr_assert_eq(MemHeap_Free(h, p), MEM_OK);
    th_check(h);
}

/* ---- the checker knows buddy's invariants ------------------------------------------ */

static void expect_diagnosis(const MemHeap *h, const char *words)
{
    char why[256];
    cr_assert_geq(MemHeap_Diagnose(h, why, sizeof why), 1, "no problem found");
    cr_assert(strstr(why, words), "diagnosis: %s (wanted \"%s\")", why, words);
    cr_assert_eq(MemHeap_Check(h), -1);
}

Test(checker, notices_free_buddies_left_unmerged)
{
    MemHeap *h = heap(64, 0, 0);
    char *a = MemHeap_Alloc(h, 24); /* U32 F32 F64 F128 F256 F512 */
    th_expose(h);
    /* free block 0 by hand, without merging it with its free buddy at 2 */
    MemHeap *m = h;
    m->live_bytes -= 24;
    m->used_bytes -= 32;
    m->frees++;
    const MemKeys k = mem_keys(m);
    hdr_write(m, 0, 2, B_PREV_USED);
    footer_write(m, 0, 2);
    set_prev_used(m, &k, 2, false);
    links_put(m, &k, 0, m->buddy_head[1], NIL);
    link_put(m, &k, m->buddy_head[1], 1, 0);
    m->buddy_head[1] = 0;
    m->free_blocks++;
    (void)a;
    expect_diagnosis(h, "should have merged");
}

Test(checker, notices_a_block_that_is_not_a_power_of_two)
{
    MemHeap *h = heap(64, 0, 0);
    MemHeap_Alloc(h, 24); /* U32@0 F32@2 F64@4 F128@8 ... */
    th_expose(h);
    hdr_write(h, 2, 6, B_PREV_USED); /* F32@2 and F64@4 made one free block of 6 */
    footer_write(h, 2, 6);
    expect_diagnosis(h, "not a power of two");
}

Test(checker, notices_a_misaligned_block)
{
    MemHeap *h = heap(64, 0, 0);
    MemHeap_Alloc(h, 24); /* U32@0 F32@2 F64@4 F128@8 ... */
    th_expose(h);
    hdr_write(h, 2, 4, B_PREV_USED); /* 2..6 and 6..8: 4 granules at 2 */
    footer_write(h, 2, 4);
    hdr_write(h, 6, 2, 0);
    footer_write(h, 6, 2);
    expect_diagnosis(h, "not aligned");
}

Test(checker, notices_a_block_on_the_wrong_list_and_a_wrong_bitmap)
{
    MemHeap *h = heap(64, 0, 0);
    MemHeap_Alloc(h, 24);
    MemHeap *m = h;
    uint32_t g = m->buddy_head[2]; /* the 64 at granule 4 */
    m->buddy_head[2] = NIL;
    m->buddy_map &= ~(1u << 2);
    m->buddy_head[3] = g; /* and nothing else on order 3's list, which held one */
    expect_diagnosis(h, "list");
    h = heap(64, 0, 0);
    h->buddy_map |= 1u << 30;
    expect_diagnosis(h, "no order 30");
}

Test(checker, a_buddy_that_fails_its_check_is_not_merged)
{
    MemHeap *h = heap(64, 0, 0);
    char *a = MemHeap_Alloc(h, 24); /* U32@0 F32@2 ... */
    th_expose(h);
    memset(a + 24, 0x5a, 8 + 8); /* the overflow reaches the free buddy's header */
    MemStats before = MemHeap_Stats(h);
    int r = MemHeap_Free(h, a);
    cr_assert_eq(r, MEM_REJECT_CORRUPT, "its right neighbour, the buddy, is damaged");
    MemStats after = MemHeap_Stats(h);
    cr_assert_eq(after.free_blocks, before.free_blocks);
    cr_assert_eq(after.live_bytes, before.live_bytes);
    cr_assert_eq(MemHeap_Check(h), -1);
}

/* A list head that damage sent out of range is not written through when a
 * split puts a half on that list: the half becomes the head. */
Test(checker, a_damaged_list_head_is_not_written_through)
{
    MemHeap *h = heap(64, 0, 0);
    h->buddy_head[3] = 0x7FFFFFF0u; /* far past the arena */
    cr_assert_eq(MemHeap_Check(h), -1, "a head with no bit, out of range");
    cr_assert_not_null(MemHeap_Alloc(h, 24)); /* halves onto orders 5..1 */
    cr_assert_eq(h->buddy_head[3], 8, "the 8 granules at 8");
    th_check(h);
}

/* ---- large heaps: the top order ---------------------------------------------------- */

/* A 4.5 GiB arena (its bitmap takes 36 MiB: fine for a test, but not
 * under ASan, whose shadow of it would be 576 MiB). */
Test(large, blocks_stop_at_2_to_the_28_granules)
{
    if (TEST_ASAN)
        cr_skip_test("4.5 GiB of arena under ASan");
    size_t arena = (size_t)9 << 29;
    unsigned char *r = mmap(NULL, arena + 8192, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r == MAP_FAILED)
        cr_skip_test("cannot reserve 4.5 GiB of address space");
    MemHeap *h = MemHeap_Create(r, MemHeap_ControlSize() + arena, MEM_BUDDY, MEM_OPT_NOLOCK);
    cr_assert_not_null(h);
    MemStats s = MemHeap_Stats(h);
    cr_assert_eq(s.largest_free, (size_t)1 << 32, "4 GiB blocks at most");
    cr_assert_eq(s.largest_free_offset, 8);
    cr_assert_geq(s.free_blocks, 2, "one of 4 GiB and the rest");
    cr_assert_null(MemHeap_Alloc(h, ((size_t)1 << 32) - 7), "no block above 4 GiB");
    size_t big = ((size_t)3 << 30) + 5; /* a 4 GiB block, about 1 GiB of padding */
    char *p = MemHeap_Alloc(h, big);
    cr_assert_not_null(p);
    size_t size = 0;
    cr_assert_eq(MemHeap_Find(h, p + big - 1, &size), p);
    cr_assert_eq(size, big);
    cr_assert_eq(MemHeap_Classify(h, p + big), MEM_REJECT_PADDING);
    cr_assert_eq(MemHeap_Stats(h).padding_bytes, ((size_t)1 << 32) - 8 - big);
    cr_assert_eq(MemHeap_Free(h, p + 12345), MEM_OK);
    th_check(h);
    munmap(r, arena + 8192);
}

/* ---- the classic API ------------------------------------------------------------------ */

Test(facade, mem_policy_buddy_in_the_environment)
{
    setenv("MEM_POLICY", "buddy", 1);
    cr_assert_eq(Mem_Init(1 << 16), 0);
    cr_assert_eq(MemHeap_Stats(Mem_DefaultHeap()).policy, MEM_BUDDY);
    char *p = Mem_Alloc(100);
    cr_assert_not_null(p);
    cr_assert_eq(Mem_GetSize(p + 99), 100);
    cr_assert_eq(Mem_IsValid(p + 100), 0, "padding");
    cr_assert_eq(Mem_Free(p + 42), 0);
    cr_assert_eq(Mem_Check(), 0);
    cr_assert_str_eq(MemPolicy_Name(MEM_BUDDY), "buddy");
    MemPolicy pol;
    cr_assert_eq(MemPolicy_Parse("buddy", &pol), 0);
    cr_assert_eq(pol, MEM_BUDDY);
}

/*
 * test_guard.c - guard mode (MEM_OPT_GUARD): an overflow past an object's end
 * into its padding is detected at free (a MEM_EV_OVERFLOW event with the
 * object's offset and the number of bytes overwritten), by MemHeap_Check and
 * MemHeap_Diagnose, and by the walk (MemBlock.overflowed); and long random
 * runs that stay inside their objects never raise a false alarm.
 *
 * Under ASan the padding is poisoned, so the deliberate overflows unpoison
 * the bytes they hit first (they play a program ASan would have stopped).
 */
#include "testlib.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if TEST_ASAN
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#else
#define UNPOISON(p, n) ((void)(p), (void)(n))
#define POISON(p, n) ((void)(p), (void)(n))
#endif

#define GUARD 0xABu /* the pattern, as mem.h's guard mode fills it */

/* Writes n bytes of value v at p, which may be padding. */
static void stray_write(unsigned char *p, size_t n, unsigned char v)
{
    UNPOISON(p, n);
    memset(p, v, n);
    POISON(p, n);
}

typedef struct Events {
    MemEvent ev[64];
    size_t n;
    size_t overflows;
    MemEvent last_overflow;
} Events;

static void record(const MemEvent *e, void *arg)
{
    Events *log = arg;
    if (log->n < sizeof log->ev / sizeof log->ev[0])
        log->ev[log->n++] = *e;
    if (e->kind == MEM_EV_OVERFLOW) {
        log->overflows++;
        log->last_overflow = *e;
    }
}

typedef struct Found {
    size_t offset;     /* of the block sought */
    bool seen;
    MemBlock block;
    size_t overflowed; /* blocks flagged in the whole walk */
} Found;

static bool find_block(const MemBlock *b, void *arg)
{
    Found *f = arg;
    if (b->offset == f->offset) {
        f->seen = true;
        f->block = *b;
    }
    f->overflowed += b->overflowed;
    return true;
}

static Found walk_for(const MemHeap *h, const void *obj)
{
    MemRegion r = MemHeap_Region(h);
    Found f = {(size_t)((const unsigned char *)obj - (const unsigned char *)r.base) - MEM_HEADER_SIZE,
               false, {0}, 0};
    MemHeap_Walk(h, find_block, &f);
    cr_assert(f.seen, "the walk has no block for the object at %p", obj);
    return f;
}

static size_t offset_of(const MemHeap *h, const void *p)
{
    return (size_t)((const unsigned char *)p - (const unsigned char *)MemHeap_Region(h).base);
}

/* Every padding length, every number of bytes overwritten, every policy. */
Test(guard, an_overflow_of_1_to_n_bytes_is_reported_at_free_with_offset_and_count)
{
    size_t cases = 0;
    for (int pol = 0; pol < MEM_POLICY_COUNT; pol++) {
        MemHeap *h = th_heap((MemPolicy)pol, 1 << 16, MEM_OPT_GUARD);
        cr_assert_not_null(h);
        Events log = {0};
        MemHeap_SetObserver(h, record, &log);
        for (size_t size = 1; size <= 80; size++) {
            unsigned char *keep = MemHeap_Alloc(h, 8); /* a neighbour before */
            unsigned char *p = MemHeap_Alloc(h, size);
            cr_assert(keep && p);
            memset(p, 0x11, size);
            Found f = walk_for(h, p);
            cr_assert_geq(f.block.padding, 8, "guard mode keeps at least 8 bytes of guard");
            /* wide padding (buddy) ends in its size word: the guard is before */
            size_t guard = f.block.padding >= 62 ? f.block.padding - 8 : f.block.padding;
            for (size_t n = 1; n <= guard; n++) {
                unsigned char *q = n == 1 ? p : MemHeap_Alloc(h, size);
                cr_assert_not_null(q);
                stray_write(q + size, n, (unsigned char)(0x40 + n));
                log.overflows = 0;
                uint64_t before = MemHeap_Stats(h).overflows;
                cr_assert_eq(MemHeap_Free(h, q + size / 2), MEM_OK,
                             "an overflowed object is still freed");
                cr_assert_eq(log.overflows, 1, "%s size %zu, %zu bytes over: no event",
                             MemPolicy_Name((MemPolicy)pol), size, n);
                MemEvent e = log.last_overflow;
                cr_assert_eq(e.object, offset_of(h, q), "event names the object's offset");
                cr_assert_eq(e.block, offset_of(h, q) - MEM_HEADER_SIZE);
                cr_assert_eq(e.request, size);
                cr_assert_eq(e.size, n, "%s size %zu: %zu bytes overwritten, event says %zu",
                             MemPolicy_Name((MemPolicy)pol), size, n, e.size);
                cr_assert_eq(e.pointer, (ptrdiff_t)offset_of(h, q + size / 2));
                cr_assert_eq(MemHeap_Stats(h).overflows, before + 1);
                th_check(h, "after freeing the overflowed object");
                cases++;
            }
            cr_assert_eq(MemHeap_Free(h, keep), 0);
        }
    }
    cr_assert_gt(cases, 5 * 80 * 8);
}

/* Only bytes that differ from the pattern count; a stray write in the
 * middle or at the end of the guard is found too. */
Test(guard, the_count_is_of_bytes_changed_wherever_they_are_in_the_guard)
{
    MemHeap *h = th_heap(MEM_BEST_FIT, 1 << 14, MEM_OPT_GUARD);
    Events log = {0};
    MemHeap_SetObserver(h, record, &log);
    unsigned char *p = MemHeap_Alloc(h, 20); /* block 48: padding 20 */
    Found f = walk_for(h, p);
    cr_assert_eq(f.block.padding, 20);
    stray_write(p + 20 + 19, 1, 0);   /* the guard's last byte */
    stray_write(p + 20 + 7, 1, 0x55); /* one in the middle */
    stray_write(p + 20 + 3, 1, GUARD); /* the pattern itself: not a change */
    cr_assert_eq(MemHeap_Free(h, p), 0);
    cr_assert_eq(log.overflows, 1);
    cr_assert_eq(log.last_overflow.size, 2);
}

Test(guard, check_and_diagnose_report_an_overflowed_live_object_by_offset)
{
    for (int pol = 0; pol < MEM_POLICY_COUNT; pol++) {
        MemHeap *h = th_heap((MemPolicy)pol, 1 << 14, MEM_OPT_GUARD);
        unsigned char *a = MemHeap_Alloc(h, 40);
        unsigned char *b = MemHeap_Alloc(h, 33);
        unsigned char *c = MemHeap_Alloc(h, 7);
        cr_assert(a && b && c);
        th_check(h, "before the overflow");
        stray_write(b + 33 + 2, 3, 0); /* bytes 2..4 of b's guard */
        cr_assert_eq(MemHeap_Check(h), -1, "%s: Check misses the overflow",
                     MemPolicy_Name((MemPolicy)pol));
        char why[256];
        cr_assert_geq(MemHeap_Diagnose(h, why, sizeof why), 1);
        char expect[96];
        snprintf(expect, sizeof expect, "object at +%#zx overflowed", offset_of(h, b));
        cr_assert(strstr(why, expect), "diagnosis \"%s\" lacks \"%s\"", why, expect);
        cr_assert(strstr(why, "guard byte 2 "), "the first byte overwritten is named: %s", why);
        /* freeing it ends the alarm: the block is free space now */
        cr_assert_eq(MemHeap_Free(h, b), 0);
        th_check(h, "after the free");
    }
}

Test(guard, the_walk_flags_exactly_the_overflowed_blocks)
{
    MemHeap *h = th_heap(MEM_FAST, 1 << 15, MEM_OPT_GUARD);
    unsigned char *p[12];
    for (int i = 0; i < 12; i++)
        cr_assert_not_null(p[i] = MemHeap_Alloc(h, (size_t)(10 + 9 * i)));
    stray_write(p[3] + 10 + 27, 1, 1);
    stray_write(p[8] + 10 + 72, 4, 2);
    for (int i = 0; i < 12; i++) {
        Found f = walk_for(h, p[i]);
        cr_assert_eq(f.block.overflowed, i == 3 || i == 8, "block %d flag %d", i,
                     f.block.overflowed);
        cr_assert_eq(f.overflowed, 2, "two blocks are flagged in the whole walk");
    }
    /* WalkFree never flags a free block */
    MemHeap_Free(h, p[5]);
    Found f = {0, false, {0}, 0};
    MemHeap_WalkFree(h, find_block, &f);
    cr_assert_eq(f.overflowed, 0);
}

Test(guard, without_guard_mode_there_is_no_guard_to_check)
{
    MemHeap *h = th_heap(MEM_FIRST_FIT, 1 << 14, 0);
    Events log = {0};
    MemHeap_SetObserver(h, record, &log);
    unsigned char *p = MemHeap_Alloc(h, 20); /* padding 4 */
    Found f = walk_for(h, p);
    cr_assert_eq(f.block.padding, 4);
    stray_write(p + 20, 4, 0);
    cr_assert_not(walk_for(h, p).block.overflowed);
    th_check(h, "padding is not checked without guard mode");
    cr_assert_eq(MemHeap_Free(h, p), 0);
    cr_assert_eq(log.overflows, 0);
    cr_assert_eq(MemHeap_Stats(h).overflows, 0);
    cr_assert_eq(MemHeap_Region(h).flags & MEM_OPT_GUARD, 0);
}

/* ---- no false positives ---------------------------------------------------- */

static bool no_flag(const MemBlock *b, void *arg)
{
    if (b->overflowed)
        *(size_t *)arg = b->offset;
    return !b->overflowed;
}

/* Random sizes (small and large), every byte of every object written and
 * verified, frees through interior pointers, a check after every operation.
 * GUARD_OPS=n sets the operations per policy (default 20000, scaled by
 * $TEST_SCALE percent). */
Test(guard, long_random_runs_raise_no_false_alarm_on_any_policy, .timeout = 600)
{
    const char *env = getenv("GUARD_OPS");
    const char *scale = getenv("TEST_SCALE");
    long pct = scale && *scale ? strtol(scale, NULL, 10) : 100;
    long ops = env && *env ? strtol(env, NULL, 10) : 20000 * (pct > 0 ? pct : 1) / 100;
    uint64_t seed = th_seed(0x6A4D5EEDu);
    ThRng rng = {seed};
    enum { SLOTS = 64 };
    for (int pol = 0; pol < MEM_POLICY_COUNT; pol++) {
        MemHeap *h = th_heap((MemPolicy)pol, 1 << 17, MEM_OPT_GUARD);
        cr_assert_not_null(h);
        Events log = {0};
        MemHeap_SetObserver(h, record, &log);
        unsigned char *live[SLOTS] = {0};
        size_t size[SLOTS] = {0};
        long failed = 0;
        for (long op = 0; op < ops; op++) {
            size_t k = (size_t)th_below(&rng, SLOTS);
            if (live[k]) {
                for (size_t i = 0; i < size[k]; i++)
                    cr_assert_eq(live[k][i], (unsigned char)(k * 7 + i),
                                 "seed %#llx %s op %ld: object %zu byte %zu changed",
                                 (unsigned long long)seed, MemPolicy_Name((MemPolicy)pol), op,
                                 k, i);
                cr_assert_eq(MemHeap_Free(h, live[k] + th_below(&rng, size[k])), 0);
                live[k] = NULL;
            } else {
                uint64_t kind = th_below(&rng, 16);
                size[k] = kind < 12  ? 1 + (size_t)th_below(&rng, 64)
                          : kind < 15 ? 1 + (size_t)th_below(&rng, 1024)
                                      : 1 + (size_t)th_below(&rng, 16384);
                live[k] = MemHeap_Alloc(h, size[k]);
                if (!live[k]) {
                    failed++;
                    continue;
                }
                for (size_t i = 0; i < size[k]; i++)
                    live[k][i] = (unsigned char)(k * 7 + i);
            }
            char why[256];
            cr_assert_eq(MemHeap_Diagnose(h, why, sizeof why), 0,
                         "seed %#llx %s op %ld: %s", (unsigned long long)seed,
                         MemPolicy_Name((MemPolicy)pol), op, why);
            cr_assert_eq(log.overflows, 0, "seed %#llx %s op %ld: a false overflow at +%#zx",
                         (unsigned long long)seed, MemPolicy_Name((MemPolicy)pol), op,
                         log.last_overflow.object);
            if (op % 64 == 0) {
                size_t flagged = SIZE_MAX;
                MemHeap_Walk(h, no_flag, &flagged);
                cr_assert_eq(flagged, SIZE_MAX, "a block at +%#zx is flagged", flagged);
            }
        }
        MemStats s = MemHeap_Stats(h);
        cr_assert_eq(s.overflows, 0);
        cr_assert_eq((long)(s.allocs + s.failed_allocs + s.frees), ops);
        cr_assert_lt(failed, ops / 4, "the run should mostly succeed (%ld failed)", failed);
    }
}

/* ---- past the guard: into the next header ----------------------------------- */

/* An overflow that runs through the guard into the next block's header
 * breaks that header's integrity tag.  The overflowing object's free still
 * reports the overflow; the damaged neighbour is then refused, never
 * trusted, and nothing outside the arena is written. */
Test(guard, an_overflow_into_the_next_header_is_caught_and_not_trusted)
{
    for (int pol = 0; pol < MEM_POLICY_COUNT; pol++) {
        /* canaries around the heap's whole region */
        size_t len = 1 << 16, page = 4096;
        unsigned char *map = mmap(NULL, len + 2 * page, PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        cr_assert_neq(map, MAP_FAILED);
        memset(map, 0xC5, page);
        memset(map + page + len, 0xC5, page);
        MemHeap *h = MemHeap_Create(map + page, len, (MemPolicy)pol, MEM_OPT_GUARD);
        cr_assert_not_null(h);
        Events log = {0};
        MemHeap_SetObserver(h, record, &log);
        /* block 48: guard 16 (buddy: a power of two, 64: guard 32) */
        size_t blk = pol == MEM_BUDDY ? 64 : 48, guard = blk - 8 - 24;
        unsigned char *a = MemHeap_Alloc(h, 24);
        unsigned char *b = MemHeap_Alloc(h, 24);
        /* buddy takes the smallest free blocks first, wherever they are:
         * allocate on until one lands right after the one before */
        for (int i = 0; i < 32 && a && b && b != a + blk; i++) {
            a = b;
            b = MemHeap_Alloc(h, 24);
        }
        cr_assert(a && b);
        memset(b, 0x41, 24); /* what b's "links" would be if it were trusted */
        cr_assert_eq(b, a + blk, "%s", MemPolicy_Name((MemPolicy)pol));
        stray_write(a + 24, guard + 8, 0x00); /* guard and all of b's header */
        cr_assert_eq(MemHeap_Check(h), -1);
        int ra = MemHeap_Free(h, a);
        cr_assert(ra == MEM_OK || ra == MEM_REJECT_CORRUPT, "%s: free(a) gave %d",
                  MemPolicy_Name((MemPolicy)pol), ra);
        if (ra == MEM_OK)
            cr_assert_eq(log.last_overflow.size, guard, "all the guard bytes were overwritten");
        cr_assert_eq(MemHeap_Free(h, b), MEM_REJECT_CORRUPT, "%s: b's header is broken",
                     MemPolicy_Name((MemPolicy)pol));
        cr_assert_eq(MemHeap_Classify(h, b), MEM_REJECT_CORRUPT);
        cr_assert_null(MemHeap_Find(h, b, NULL));
        for (size_t i = 0; i < page; i++) {
            cr_assert_eq(map[i], 0xC5, "a byte before the region changed");
            cr_assert_eq(map[page + len + i], 0xC5, "a byte after the region changed");
        }
        MemHeap_Release(h);
        munmap(map, len + 2 * page);
    }
}

/*
 * test_badinput.c - every row of tests/BAD_INPUT.md, with the answer it
 * documents.  A row's id appears as ID("X9") in the assertions that check
 * it; meta/every_row_is_tested compares those with the table's rows.
 */
#include "testlib.h"
#include "workload.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define ID(x) x


/* A stray store into the heap's metadata, which ASan keeps poisoned (the
 * library's own reads of it are not instrumented). */
static void scribble(unsigned char *p, unsigned char xor_mask)
{
#if TEST_ASAN
    ASAN_UNPOISON_MEMORY_REGION(p, 1);
#endif
    *p ^= xor_mask;
#if TEST_ASAN
    ASAN_POISON_MEMORY_REGION(p, 1);
#endif
}

extern char **environ;

static int global_object;

/* ---- helpers ---------------------------------------------------------------- */

typedef struct Snap {
    char layout[4096];
    MemStats s;
} Snap;

static Snap snap(const MemHeap *h)
{
    Snap x;
    snprintf(x.layout, sizeof x.layout, "%s", th_layout(h));
    x.s = MemHeap_Stats(h);
    return x;
}

/* The heap is as in `before`, except the counters the caller expects. */
static void expect_unchanged(const MemHeap *h, const Snap *before, uint64_t failed,
                             uint64_t rejected, const char *what)
{
    Snap now = snap(h);
    cr_assert_str_eq(now.layout, before->layout, "%s changed the heap", what);
    cr_assert_eq(now.s.live_bytes, before->s.live_bytes, "%s", what);
    cr_assert_eq(now.s.allocs, before->s.allocs, "%s", what);
    cr_assert_eq(now.s.frees, before->s.frees, "%s", what);
    cr_assert_eq(now.s.failed_allocs, before->s.failed_allocs + failed, "%s: failed count",
                 what);
    cr_assert_eq(now.s.rejected_frees, before->s.rejected_frees + rejected,
                 "%s: rejected count", what);
    th_check(h, "after %s", what);
}

/* ---- A. sizes and arguments ---------------------------------------------------- */

Test(sizes, mem_init_refuses_zero_and_negative)
{
    errno = 0;
    cr_assert_eq(Mem_Init(0), -1, ID("A1") ": Mem_Init(0)");
    cr_assert_eq(errno, EINVAL, ID("A1"));
    errno = 0;
    cr_assert_eq(Mem_Init(-1), -1, ID("A2"));
    cr_assert_eq(errno, EINVAL, ID("A2"));
    cr_assert_eq(Mem_Init(INT_MIN), -1, ID("A2"));
    cr_assert_eq(th_mmap_calls, 0, ID("A1") " " ID("A2") ": no mmap for a refused size");
    cr_assert_eq(Mem_Init(4096), 0, ID("A1") ": a corrected call succeeds");
}

Test(sizes, mem_init_of_int_max_rounds_up_to_a_page)
{
    cr_assert_eq(Mem_Init(INT_MAX), 0, ID("A3"));
    MemStats s = MemHeap_Stats(Mem_DefaultHeap());
    cr_assert_eq(s.capacity, (size_t)INT_MAX + 1u, ID("A3") ": capacity %zu", s.capacity);
    char *p = Mem_Alloc(100);
    cr_assert_not_null(p, ID("A3"));
    cr_assert_eq(Mem_Check(), 0, ID("A3"));
}

Test(sizes, mem_init_twice_is_busy)
{
    cr_assert_eq(Mem_Init(4096), 0);
    errno = 0;
    cr_assert_eq(Mem_Init(4096), -1, ID("A4"));
    cr_assert_eq(errno, EBUSY, ID("A4"));
    cr_assert_eq(th_mmap_calls, 1, ID("A4"));
}

Test(sizes, an_unknown_policy_in_the_environment)
{
    setenv("MEM_POLICY", "bogus", 1);
    errno = 0;
    cr_assert_eq(Mem_Init(4096), -1, ID("A5"));
    cr_assert_eq(errno, EINVAL, ID("A5"));
    cr_assert_eq(th_mmap_calls, 0, ID("A5"));
}

Test(sizes, the_classic_api_before_init)
{
    cr_assert_null(Mem_Alloc(16), ID("A6"));
    cr_assert_eq(Mem_Free(&global_object), -1, ID("A6"));
    cr_assert_eq(Mem_GetSize(&global_object), -1, ID("A6"));
    cr_assert_eq(Mem_Check(), -1, ID("A6"));
    cr_assert_eq(Mem_IsValid(&global_object), 0, ID("A6"));
}

Test(sizes, zero_negative_and_int_max_requests)
{
    cr_assert_eq(Mem_Init(4096), 0);
    MemHeap *h = Mem_DefaultHeap();
    Snap before = snap(h);
    cr_assert_null(Mem_Alloc(0), ID("A7"));
    cr_assert_null(Mem_Alloc(-1), ID("A7"));
    cr_assert_null(Mem_Alloc(INT_MIN), ID("A7"));
    expect_unchanged(h, &before, 0, 0, ID("A7") ": Mem_Alloc(0/-1/INT_MIN)");
    cr_assert_null(Mem_Alloc(INT_MAX), ID("A8"));
    expect_unchanged(h, &before, 1, 0, ID("A8") ": Mem_Alloc(INT_MAX)");
}

Test(sizes, huge_requests_to_an_instance)
{
    for (int pol = 0; pol < MEM_POLICY_COUNT; pol++) {
        for (unsigned flags = 0; flags <= MEM_OPT_GUARD; flags += MEM_OPT_GUARD) {
            MemHeap *h = th_heap((MemPolicy)pol, 1 << 16, flags);
            void *keep = MemHeap_Alloc(h, 100);
            cr_assert_not_null(keep);
            Snap before = snap(h);
            cr_assert_null(MemHeap_Alloc(h, 0), ID("A9"));
            expect_unchanged(h, &before, 0, 0, ID("A9") ": MemHeap_Alloc(0)");
            static const size_t huge[] = {SIZE_MAX, SIZE_MAX - 15, SIZE_MAX - 16 - 8,
                                          (size_t)INT_MAX + 1u};
            for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
                before = snap(h);
                cr_assert_null(MemHeap_Alloc(h, huge[i]), ID("A10") ": %zu", huge[i]);
                expect_unchanged(h, &before, 1, 0, ID("A10"));
            }
            MemStats s = MemHeap_Stats(h);
            before = snap(h);
            cr_assert_null(MemHeap_Alloc(h, s.capacity), ID("A11"));
            cr_assert_null(MemHeap_Alloc(h, s.largest_request + 1), ID("A11") ": %s%s",
                           MemPolicy_Name((MemPolicy)pol), flags ? "+guard" : "");
            expect_unchanged(h, &before, 2, 0, ID("A11"));
            cr_assert_not_null(MemHeap_Alloc(h, s.largest_request),
                               ID("A11") ": largest_request %zu must fit", s.largest_request);
        }
    }
}

static _Alignas(16) unsigned char region[1 << 14];

static bool untouched(void)
{
    for (size_t i = 0; i < sizeof region; i++)
        if (region[i] != 0x77)
            return false;
    return true;
}

Test(sizes, bad_arguments_to_create)
{
    memset(region, 0x77, sizeof region);
    cr_assert_null(MemHeap_Create(NULL, 1 << 16, MEM_FAST, 0), ID("A12"));
    cr_assert_null(MemHeap_Create(region, 0, MEM_FAST, 0), ID("A13"));
    for (int pol = 0; pol < MEM_POLICY_COUNT; pol++) {
        /* an arena one byte short of MEM_MIN_ARENA, aligned or not */
        size_t small = MemHeap_ControlSize() + MEM_MIN_ARENA - 1;
        cr_assert_null(MemHeap_Create(region, small, (MemPolicy)pol, 0), ID("A13"));
        cr_assert_null(MemHeap_Create(region + 1, small + 15, (MemPolicy)pol, 0), ID("A13"));
        cr_assert_null(MemHeap_Create(region, MemHeap_ControlSize() - 1, (MemPolicy)pol, 0),
                       ID("A13"));
    }
    cr_assert_null(MemHeap_Create(region, sizeof region, MEM_POLICY_COUNT, 0), ID("A14"));
    cr_assert_null(MemHeap_Create(region, sizeof region, (MemPolicy)-1, 0), ID("A14"));
    cr_assert_null(MemHeap_Create(region, sizeof region, MEM_FAST, 1u << 5), ID("A15"));
    cr_assert_null(MemHeap_Create(region, sizeof region, MEM_FAST, ~0u), ID("A15"));
    cr_assert(untouched(), ID("A13") " " ID("A14") " " ID("A15") ": a refused create wrote");

    unsigned char *odd = region + 1;
    MemHeap *h = MemHeap_Create(odd, sizeof region - 1, MEM_BEST_FIT, 0);
    cr_assert_not_null(h, ID("A16"));
    MemRegion r = MemHeap_Region(h);
    cr_assert_eq((uintptr_t)r.base % MEM_ALIGNMENT, 0, ID("A16"));
    cr_assert((unsigned char *)r.base >= odd &&
                  (unsigned char *)r.base + r.size <= region + sizeof region,
              ID("A16") ": the arena is inside the region");
    void *p = MemHeap_Alloc(h, 1000);
    cr_assert_not_null(p, ID("A16"));
    th_check(h, ID("A16"));
    MemHeap_Release(h);
}

static bool never_called(const MemBlock *b, void *arg)
{
    (void)b;
    (void)arg;
    cr_assert_fail(ID("A17") ": a walk of no heap called its visitor");
    return true;
}

Test(sizes, a_null_heap_everywhere)
{
    int x;
    cr_assert_null(MemHeap_Alloc(NULL, 16), ID("A17"));
    cr_assert_eq(MemHeap_Free(NULL, &x), MEM_REJECT_NULL_HEAP, ID("A17"));
    cr_assert_eq(MemHeap_Free(NULL, NULL), MEM_OK, ID("A17"));
    cr_assert_null(MemHeap_Find(NULL, &x, NULL), ID("A17"));
    cr_assert_eq(MemHeap_Classify(NULL, &x), MEM_REJECT_NULL_HEAP, ID("A17"));
    cr_assert_eq(MemHeap_Walk(NULL, never_called, NULL), 0, ID("A17"));
    cr_assert_eq(MemHeap_WalkFree(NULL, never_called, NULL), 0, ID("A17"));
    MemHeap *h = th_heap(MEM_FAST, 1 << 14, 0);
    cr_assert_eq(MemHeap_Walk(h, NULL, NULL), 0, ID("A17") ": NULL visitor");
    MemStats s = MemHeap_Stats(NULL);
    MemRegion r = MemHeap_Region(NULL);
    cr_assert(s.capacity == 0 && s.ops == 0 && r.base == NULL && r.size == 0, ID("A17"));
    cr_assert_eq(MemHeap_Check(NULL), -1, ID("A17"));
    char why[64];
    cr_assert_geq(MemHeap_Diagnose(NULL, why, sizeof why), 1, ID("A17"));
    cr_assert_str_eq(why, "not a heap", ID("A17"));
    MemHeap_SetObserver(NULL, NULL, NULL);
    MemHeap_Release(NULL);
}

Test(sizes, memory_that_is_not_a_heap)
{
    static _Alignas(16) unsigned char junk[8192];
    char why[64];
    cr_assert_eq(MemHeap_Check((MemHeap *)(void *)junk), -1, ID("A18") ": zeroed memory");
    ThRng rng = {th_seed(7)};
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)th_rand(&rng);
    cr_assert_geq(MemHeap_Diagnose((MemHeap *)(void *)junk, why, sizeof why), 1, ID("A18"));
    cr_assert_str_eq(why, "not a heap", ID("A18") ": random bytes");
}

Test(sizes, bad_options_to_create_ex)
{
    memset(region, 0x77, sizeof region);
    MemOptions o = {MEM_FIRST_FIT, 0, MEM_ORDER_ADDRESS, MEM_COALESCE_NOW};
    cr_assert_null(MemHeap_CreateEx(region, sizeof region, NULL), ID("A30"));
    MemOptions bad[] = {
        {MEM_FIRST_FIT, 0, MEM_ORDER_COUNT, MEM_COALESCE_NOW},
        {MEM_FIRST_FIT, 0, (MemOrder)-1, MEM_COALESCE_NOW},
        {MEM_BEST_FIT, 0, MEM_ORDER_LIFO, MEM_COALESCE_COUNT},
        {MEM_BEST_FIT, 0, MEM_ORDER_LIFO, (MemCoalesce)-1},
        {MEM_WORST_FIT, 1u << 6, MEM_ORDER_FIFO, MEM_COALESCE_NEVER},
        {MEM_POLICY_COUNT, 0, MEM_ORDER_ADDRESS, MEM_COALESCE_NOW},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_null(MemHeap_CreateEx(region, sizeof region, &bad[i]), ID("A30") ": %zu", i);
    for (MemPolicy p = MEM_FAST; p < MEM_POLICY_COUNT; p++) {
        MemOptions knob[] = {{p, 0, MEM_ORDER_LIFO, MEM_COALESCE_NOW},
                             {p, 0, MEM_ORDER_FIFO, MEM_COALESCE_NOW},
                             {p, 0, MEM_ORDER_ADDRESS, MEM_COALESCE_DEFERRED},
                             {p, 0, MEM_ORDER_ADDRESS, MEM_COALESCE_NEVER}};
        for (size_t i = 0; i < 4; i++)
            cr_assert_null(MemHeap_CreateEx(region, sizeof region, &knob[i]),
                           ID("A31") ": %s %zu", MemPolicy_Name(p), i);
    }
    cr_assert(untouched(), ID("A30") " " ID("A31") ": a refused create wrote");
    cr_assert_not_null(MemHeap_CreateEx(region, sizeof region, &o));
}

Test(sizes, names_of_values_out_of_range)
{
    cr_assert_str_eq(MemReject_Describe((MemReject)99), "is rejected", ID("A19"));
    cr_assert_str_eq(MemReject_Describe((MemReject)-1), "is rejected", ID("A19"));
    cr_assert_str_eq(MemPolicy_Name((MemPolicy)99), "?", ID("A19"));
    cr_assert_str_eq(MemPolicy_Name((MemPolicy)-1), "?", ID("A19"));
    MemPolicy p = MEM_WORST_FIT;
    static const char *const bad[] = {"", "FIRST", "first ", " first", "firs", "fast\n"};
    cr_assert_eq(MemPolicy_Parse(NULL, &p), -1, ID("A20"));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(MemPolicy_Parse(bad[i], &p), -1, ID("A20") ": \"%s\"", bad[i]);
    cr_assert_eq(p, MEM_WORST_FIT, ID("A20") ": output untouched");
    cr_assert_str_eq(MemOrder_Name(MEM_ORDER_COUNT), "?", ID("A32"));
    cr_assert_str_eq(MemOrder_Name((MemOrder)-1), "?", ID("A32"));
    cr_assert_str_eq(MemCoalesce_Name(MEM_COALESCE_COUNT), "?", ID("A32"));
    MemOrder ord = MEM_ORDER_FIFO;
    MemCoalesce co = MEM_COALESCE_NEVER;
    static const char *const bad_knobs[] = {NULL, "", "LIFO", "lifo ", "Now", "addr"};
    for (size_t i = 0; i < sizeof bad_knobs / sizeof bad_knobs[0]; i++) {
        cr_assert_eq(MemOrder_Parse(bad_knobs[i], &ord), -1, ID("A32") ": %zu", i);
        cr_assert_eq(MemCoalesce_Parse(bad_knobs[i], &co), -1, ID("A32") ": %zu", i);
    }
    cr_assert_eq(MemOrder_Parse("lifo", NULL), -1, ID("A32"));
    cr_assert_eq(MemCoalesce_Parse("now", NULL), -1, ID("A32"));
    cr_assert(ord == MEM_ORDER_FIFO && co == MEM_COALESCE_NEVER, ID("A32") ": output untouched");
}

/* ---- B. pointers -------------------------------------------------------------------- */

static void expect_refused(MemHeap *h, const void *p, MemReject want, const char *what)
{
    Snap before = snap(h);
    cr_assert_eq(MemHeap_Classify(h, p), want, "%s: Classify %d, expected %d (%s)", what,
                 MemHeap_Classify(h, p), want, MemReject_Describe(want));
    cr_assert_null(MemHeap_Find(h, p, NULL), "%s: Find", what);
    cr_assert_eq(MemHeap_Free(h, (void *)(uintptr_t)p), (int)want, "%s: Free", what);
    expect_unchanged(h, &before, 0, 1, what);
}

typedef struct PadQuery {
    size_t offset, padding;
} PadQuery;

static bool pad_visit(const MemBlock *b, void *arg)
{
    PadQuery *q = arg;
    if (b->offset + b->header == q->offset)
        q->padding = b->padding;
    return true;
}

static size_t padding_of(const MemHeap *h, const unsigned char *obj)
{
    PadQuery q = {(size_t)(obj - (unsigned char *)MemHeap_Region(h).base), 0};
    MemHeap_Walk(h, pad_visit, &q);
    return q.padding;
}

static unsigned char *at(const void *base, intptr_t o)
{
    return (unsigned char *)((uintptr_t)base + (uintptr_t)o);
}

/* B11-B18 are about blocks: MEM_FAST without its runs (B21-B25: runs). */
static unsigned blocks_only(int pol)
{
    return pol == MEM_FAST ? MEM_OPT_NORUNS : 0u;
}

Test(pointers, every_kind_of_stray_pointer_on_every_policy)
{
    for (int pol = 0; pol < MEM_POLICY_COUNT; pol++) {
        for (unsigned flags = 0; flags <= MEM_OPT_GUARD; flags += MEM_OPT_GUARD) {
            MemHeap *h = th_heap((MemPolicy)pol, 1 << 15, flags | blocks_only(pol));
            MemHeap *other = th_heap((MemPolicy)pol, 1 << 14, flags | blocks_only(pol));
            unsigned char *a = MemHeap_Alloc(h, 100);
            unsigned char *b = MemHeap_Alloc(h, 40);
            unsigned char *c = MemHeap_Alloc(h, 1);
            unsigned char *d = MemHeap_Alloc(h, 24);
            unsigned char *o = MemHeap_Alloc(other, 64);
            cr_assert(a && b && c && d && o);
            MemRegion r = MemHeap_Region(h);
            size_t pad_a = padding_of(h, a);
            cr_assert_gt(pad_a, 0);
            int local = 0;
            void *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            void *heap_mem = malloc(64);
            cr_assert(none != MAP_FAILED && heap_mem);

            Snap before = snap(h);
            cr_assert_eq(MemHeap_Free(h, NULL), MEM_OK, ID("B1"));
            expect_unchanged(h, &before, 0, 0, ID("B1"));
            expect_refused(h, &local, MEM_REJECT_OUTSIDE, ID("B2") ": a stack variable");
            expect_refused(h, &global_object, MEM_REJECT_OUTSIDE, ID("B3") ": a global");
            expect_refused(h, none, MEM_REJECT_OUTSIDE, ID("B4") ": a PROT_NONE mapping");
            expect_refused(h, heap_mem, MEM_REJECT_OUTSIDE, ID("B5") ": malloc'd memory");
            Snap other_before = snap(other);
            expect_refused(h, o, MEM_REJECT_OUTSIDE, ID("B6") ": another heap's object");
            cr_assert_str_eq(th_layout(other), other_before.layout, ID("B6"));
            expect_refused(h, h, MEM_REJECT_OUTSIDE, ID("B7") ": the control structure");
            expect_refused(h, r.base, MEM_REJECT_TABLE, ID("B8") ": the arena's first byte");
            expect_refused(h, at(r.base, (intptr_t)r.heap_end), MEM_REJECT_TABLE,
                           ID("B9") ": the bitmap after the blocks");
            expect_refused(h, at(r.base, (intptr_t)r.size - 1), MEM_REJECT_TABLE,
                           ID("B9") ": the arena's last byte");
            expect_refused(h, at(r.base, (intptr_t)r.size), MEM_REJECT_OUTSIDE,
                           ID("B10") ": one past the arena");
            expect_refused(h, at(h, -1), MEM_REJECT_OUTSIDE, ID("B10") ": before the region");
            expect_refused(h, a - 8, MEM_REJECT_HEADER, ID("B11") ": a header's first byte");
            expect_refused(h, a - 1, MEM_REJECT_HEADER, ID("B11") ": a header's last byte");
            expect_refused(h, a + 100, MEM_REJECT_PADDING, ID("B12") ": first padding byte");
            expect_refused(h, a + 100 + pad_a - 1, MEM_REJECT_PADDING,
                           ID("B12") ": last padding byte");
            /* (buddy puts small objects at the end: the largest free block) */
            expect_refused(h, at(r.base, (intptr_t)MemHeap_Stats(h).largest_free_offset + 100),
                           MEM_REJECT_FREE, ID("B13") ": free space");
            cr_assert_eq(MemHeap_Free(h, b), MEM_OK);
            expect_refused(h, b, MEM_REJECT_FREE, ID("B14") ": a double free");
            expect_refused(h, b + 20, MEM_REJECT_FREE, ID("B14") ": inside a freed object");
            cr_assert_eq(MemHeap_Free(h, c), MEM_OK);
            cr_assert_eq(MemHeap_Free(h, a + 50), MEM_OK); /* a, b, c merge */
            expect_refused(h, c, MEM_REJECT_FREE, ID("B15") ": stale, merged");
            expect_refused(h, a + 99, MEM_REJECT_FREE, ID("B15") ": stale, merged");
            expect_refused(h, (void *)(uintptr_t)1, MEM_REJECT_OUTSIDE, ID("B16"));
            expect_refused(h, (void *)UINTPTR_MAX, MEM_REJECT_OUTSIDE, ID("B16"));
            expect_refused(h, (void *)(uintptr_t)-16, MEM_REJECT_OUTSIDE, ID("B16"));
            cr_assert_eq(MemHeap_Free(h, d), MEM_OK);
            munmap(none, 4096);
            free(heap_mem);
        }
    }
}

Test(pointers, an_object_whose_header_was_overwritten)
{
    for (int pol = 0; pol < MEM_POLICY_COUNT; pol++) {
        MemHeap *h = th_heap((MemPolicy)pol, 1 << 14, blocks_only(pol));
        unsigned char *a = MemHeap_Alloc(h, 24);
        unsigned char *b = MemHeap_Alloc(h, 24);
        unsigned char *c = MemHeap_Alloc(h, 24);
        cr_assert(a && b && c);
        scribble(b - 4, 0x40); /* a slack bit of b's header: its tag breaks */
        cr_assert_eq(MemHeap_Classify(h, b + 3), MEM_REJECT_CORRUPT, ID("B17"));
        cr_assert_null(MemHeap_Find(h, b, NULL), ID("B17"));
        cr_assert_eq(MemHeap_Free(h, b), MEM_REJECT_CORRUPT, ID("B17"));
        cr_assert_eq(MemHeap_Check(h), -1, ID("B17"));
        char why[160];
        MemHeap_Diagnose(h, why, sizeof why);
        cr_assert(strstr(why, "integrity tag"), ID("B17") ": %s", why);
    }
}

/* The neighbour's header lies: USED cleared, so b looks free, and its
 * object bytes would be taken for free-list links.  Freeing a must not
 * trust it.  The region sits between two canary pages. */
Test(pointers, an_object_whose_neighbours_header_was_overwritten)
{
    for (int pol = 0; pol < MEM_POLICY_COUNT; pol++) {
        size_t len = 1 << 15, page = 4096;
        unsigned char *map = mmap(NULL, len + 2 * page, PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        cr_assert_neq(map, MAP_FAILED);
        memset(map, 0xC5, page);
        memset(map + page + len, 0xC5, page);
        MemHeap *h = MemHeap_Create(map + page, len, (MemPolicy)pol, blocks_only(pol));
        unsigned char *a = MemHeap_Alloc(h, 24);
        unsigned char *b = MemHeap_Alloc(h, 24);
        unsigned char *c = MemHeap_Alloc(h, 24);
        cr_assert(a && b && c);
        memset(b, 0x41, 24);
        scribble(b - 4, 0x01); /* B_USED */
        int r = MemHeap_Free(h, a);
        cr_assert(r == MEM_OK || r == MEM_REJECT_CORRUPT, ID("B18") ": %s: Free gave %d",
                  MemPolicy_Name((MemPolicy)pol), r);
        for (size_t i = 0; i < page; i++)
            cr_assert(map[i] == 0xC5 && map[page + len + i] == 0xC5,
                      ID("B18") ": %s: a byte outside the region changed",
                      MemPolicy_Name((MemPolicy)pol));
        cr_assert_eq(MemHeap_Check(h), -1, ID("B18"));
        MemHeap_Release(h);
        munmap(map, len + 2 * page);
    }
}

typedef struct RunQuery {
    size_t offset;  /* an object's offset */
    MemBlock run;   /* the run holding it */
} RunQuery;

static bool run_visit(const MemBlock *b, void *arg)
{
    RunQuery *q = arg;
    if (b->run && q->offset >= b->offset && q->offset < b->offset + b->size) {
        q->run = *b;
        return false;
    }
    return true;
}

/* The run that holds obj (run set false when none does). */
static MemBlock run_of(const MemHeap *h, const unsigned char *obj)
{
    RunQuery q = {(size_t)(obj - (unsigned char *)MemHeap_Region(h).base), {0}};
    MemHeap_Walk(h, run_visit, &q);
    return q.run;
}

Test(pointers, into_runs)
{
    MemHeap *h = th_heap(MEM_FAST, 1 << 16, 0);
    MemHeap *other = th_heap(MEM_FAST, 1 << 14, 0);
    unsigned char *a = MemHeap_Alloc(h, 20); /* three slots of the 32-byte class */
    unsigned char *b = MemHeap_Alloc(h, 32);
    unsigned char *c = MemHeap_Alloc(h, 17);
    unsigned char *o = MemHeap_Alloc(other, 20);
    cr_assert(a && b && c && o);
    MemRegion r = MemHeap_Region(h);
    MemBlock run = run_of(h, a);
    cr_assert(run.run && run.slot_size == 32 && run.live_slots == 3, "the three share a run");
    cr_assert_eq(MemHeap_SlotSize(h, 20), 32);
    unsigned char *slot0 = at(r.base, (intptr_t)run.slot_offset);
    int local = 0;
    Snap before = snap(h);
    cr_assert_eq(MemHeap_Free(h, NULL), MEM_OK, ID("B1"));
    expect_unchanged(h, &before, 0, 0, ID("B1"));
    expect_refused(h, &local, MEM_REJECT_OUTSIDE, ID("B2") ": runs");
    expect_refused(h, &global_object, MEM_REJECT_OUTSIDE, ID("B3") ": runs");
    expect_refused(h, o, MEM_REJECT_OUTSIDE, ID("B6") ": another heap's slot");
    expect_refused(h, h, MEM_REJECT_OUTSIDE, ID("B7") ": runs");
    expect_refused(h, r.base, MEM_REJECT_TABLE, ID("B8") ": runs");
    expect_refused(h, at(r.base, (intptr_t)r.size - 1), MEM_REJECT_TABLE, ID("B9") ": runs");
    expect_refused(h, at(r.base, (intptr_t)r.size), MEM_REJECT_OUTSIDE, ID("B10") ": runs");
    expect_refused(h, at(r.base, (intptr_t)run.offset + 8), MEM_REJECT_HEADER,
                   ID("B21") ": the table's first byte");
    expect_refused(h, slot0 - 1, MEM_REJECT_HEADER, ID("B21") ": the table's last byte");
    expect_refused(h, a + 20, MEM_REJECT_PADDING, ID("B22") ": a slot's first unused byte");
    expect_refused(h, a + 31, MEM_REJECT_PADDING, ID("B22") ": a slot's last unused byte");
    expect_refused(h, c + 17, MEM_REJECT_PADDING, ID("B22") ": 17 bytes in a 32-byte slot");
    size_t tail = run.size - (run.slot_offset - run.offset) - run.slots * run.slot_size;
    cr_assert_gt(tail, 0);
    expect_refused(h, at(r.base, (intptr_t)(run.offset + run.size) - 1), MEM_REJECT_PADDING,
                   ID("B23") ": the run's last byte");
    expect_refused(h, c + 32, MEM_REJECT_FREE, ID("B24") ": the slot after the last used");
    expect_refused(h, slot0 + (run.slots - 1) * 32 + 5, MEM_REJECT_FREE,
                   ID("B24") ": the run's last slot");
    expect_refused(h, at(r.base, (intptr_t)r.heap_end - 100), MEM_REJECT_FREE,
                   ID("B13") ": free space beside runs");
    cr_assert_eq(MemHeap_Free(h, b + 31), MEM_OK, "an interior free of a slot");
    expect_refused(h, b, MEM_REJECT_FREE, ID("B14") ": runs");
    expect_refused(h, b, MEM_REJECT_FREE, ID("B24") ": a slot freed twice, at its start");
    expect_refused(h, b + 7, MEM_REJECT_FREE, ID("B24") ": a slot freed twice, inside");
    expect_refused(h, (void *)UINTPTR_MAX, MEM_REJECT_OUTSIDE, ID("B16") ": runs");
    cr_assert_eq(MemHeap_Find(h, c + 16, NULL), c, "c is still there");
    /* The run's header is overwritten: every slot is refused, nothing moves. */
    scribble(at(r.base, (intptr_t)run.offset + 5), 0x40);
    Snap damaged = snap(h);
    for (unsigned char *p = a; p < c + 17; p += 7)
        cr_assert_eq(MemHeap_Classify(h, p), MEM_REJECT_CORRUPT, ID("B25") ": +%td", p - a);
    cr_assert_null(MemHeap_Find(h, a, NULL), ID("B25"));
    cr_assert_eq(MemHeap_Free(h, a), MEM_REJECT_CORRUPT, ID("B25"));
    cr_assert_eq(MemHeap_Free(h, c + 3), MEM_REJECT_CORRUPT, ID("B25"));
    cr_assert_eq(MemHeap_Stats(h).live_bytes, damaged.s.live_bytes, ID("B25"));
    cr_assert_eq(MemHeap_Check(h), -1, ID("B25"));
    /* and an allocation of the class does not take a slot of that run */
    unsigned char *d = MemHeap_Alloc(h, 30);
    cr_assert(d == NULL || d < at(r.base, (intptr_t)run.offset) ||
                  d >= at(r.base, (intptr_t)(run.offset + run.size)),
              ID("B25") ": a slot of the damaged run was handed out");
}

Test(pointers, a_heap_created_again_over_the_same_region)
{
    static _Alignas(16) unsigned char mem[1 << 14];
    MemHeap *h = MemHeap_Create(mem, sizeof mem, MEM_BEST_FIT, 0);
    unsigned char *p = MemHeap_Alloc(h, 200);
    cr_assert_not_null(p);
    h = MemHeap_Create(mem, sizeof mem, MEM_BEST_FIT, 0);
    expect_refused(h, p, MEM_REJECT_FREE, ID("B19") ": a pointer from the old heap");
    MemHeap_Release(h);
}

Test(pointers, the_classic_api_with_a_wild_pointer)
{
    cr_assert_eq(Mem_Init(8192), 0);
    int local;
    cr_assert_eq(Mem_Free(&local), -1, ID("B20"));
    cr_assert_eq(Mem_IsValid(&local), 0, ID("B20"));
    cr_assert_eq(Mem_GetSize(&local), -1, ID("B20"));
    cr_assert_eq(MemHeap_Stats(Mem_DefaultHeap()).rejected_frees, 1, ID("B20"));
}

/* ---- C. trace files ---------------------------------------------------------------- */

typedef struct TraceCase {
    const char *id;
    const char *text;
    size_t len; /* 0: strlen(text) */
    const char *message;
} TraceCase;

static const TraceCase trace_cases[] = {
    {ID("C3"), "", 0, "t.rep:1: truncated: the header has no heap size"},
    {ID("C4"), "4096\n3\n", 0, "t.rep:3: truncated: the header has no number of ops"},
    {ID("C5"), "4096\n3\n4\n1\na 0 8\nf 0\n", 0,
     "t.rep:7: truncated: the header promises 4 ops, found 2"},
    {ID("C6"), "40\0\n3\n1\n1\na 0 8\n", 12, "t.rep:1: binary data (byte 0x00 at column 3)"},
    {ID("C7"), "\xff\n", 0, "t.rep:1: binary data (byte 0xff at column 1)"},
    {ID("C8"), "4096\n3\n1\n1\na 7 8\n", 0,
     "t.rep:5: id 7 is out of range (the header says 3 ids)"},
    {ID("C9"), "4096\n3\n1\n1\na 4294967296 8\n", 0, "t.rep:5: id is too large"},
    {ID("C10"), "4096\n3\n1\n1\na 0 1099511627777\n", 0, "t.rep:5: size is too large"},
    {ID("C11"), "4096\n3\n1\n1\na 0 -5\n", 0, "t.rep:5: size is negative: '-5'"},
    {ID("C12"), "4096\n3\n2\n1\na 0 8\nf 2\n", 0,
     "t.rep:6: free of id 2, which was never allocated"},
    {ID("C13"), "4096\n3\n3\n1\na 0 8\nf 0\nf 0\n", 0,
     "t.rep:7: free of id 0, which is already free (double free)"},
    {ID("C14"), "4096\n3\n3\n1\na 0 8\nf 0\nr 0 16\n", 0,
     "t.rep:7: realloc of id 0, which is already free (double free)"},
    {ID("C15"), "4096\n3\n2\n1\na 0 100\nf 0 100\n", 0,
     "t.rep:6: offset 100 is outside id 0's object of 100 bytes"},
    {ID("C16"), "4096\n3\n1\n1\nx 0 8\n", 0, "t.rep:5: unknown op 'x' (expected a, f or r)"},
    {ID("C17"), "4096\n3\n1\n1\na 0 8 junk\n", 0,
     "t.rep:5: unexpected text after the op: 'junk'"},
    {ID("C19"), "4096\n3\n1\n1\na 0 8\na 1 8\n", 0,
     "t.rep:6: more ops than the 1 the header promises"},
    {ID("C20"), "big\n3\n1\n1\n", 0, "t.rep:1: heap size is not a number: 'big'"},
    {ID("C21"), "4096\n99999999\n1\n1\n", 0, "t.rep:2: number of ids is too large"},
};

Test(traces, every_malformed_text_is_refused_with_its_line)
{
    for (size_t i = 0; i < sizeof trace_cases / sizeof trace_cases[0]; i++) {
        const TraceCase *c = &trace_cases[i];
        Trace t;
        char err[256];
        size_t len = c->len ? c->len : strlen(c->text);
        cr_assert_eq(Trace_Parse(c->text, len, "t.rep", &t, err, sizeof err), -1, "%s", c->id);
        cr_assert(t.ops == NULL && t.nops == 0, "%s: the refused trace is not empty", c->id);
        cr_assert(strncmp(err, c->message, strlen(c->message)) == 0,
                  "%s: message \"%s\", expected \"%s\"", c->id, err, c->message);
    }
}

Test(traces, a_line_over_256_bytes)
{
    char text[600];
    int n = snprintf(text, sizeof text, "4096\n3\n1\n1\na 0 8 ");
    memset(text + n, ' ', 300);
    memcpy(text + n + 300, "\n", 2);
    Trace t;
    char err[256];
    cr_assert_eq(Trace_Parse(text, strlen(text), "t.rep", &t, err, sizeof err), -1, ID("C18"));
    cr_assert_str_eq(err, "t.rep:5: line longer than 256 bytes", ID("C18"));
}

Test(traces, files_that_cannot_be_read)
{
    Trace t;
    char err[256];
    cr_assert_eq(Trace_Load("/nonexistent/t.rep", &t, err, sizeof err), -1, ID("C1"));
    cr_assert_str_eq(err, "/nonexistent/t.rep: No such file or directory", ID("C1"));
    cr_assert_eq(Trace_Load("/", &t, err, sizeof err), -1, ID("C2"));
    cr_assert_str_eq(err, "/: Is a directory", ID("C2"));
    cr_assert(t.ops == NULL && t.nops == 0, ID("C2"));
}

Test(traces, a_file_over_64_mib)
{
    char path[] = "/tmp/badinput-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    static char line[4096];
    memset(line, '#', sizeof line - 1);
    line[sizeof line - 1] = '\n';
    for (size_t done = 0; done <= ((size_t)64 << 20); done += sizeof line)
        cr_assert_eq(write(fd, line, sizeof line), (ssize_t)sizeof line);
    close(fd);
    Trace t;
    char err[256];
    int r = Trace_Load(path, &t, err, sizeof err);
    unlink(path);
    cr_assert_eq(r, -1, ID("C22"));
    cr_assert(strstr(err, "larger than 64 MiB"), ID("C22") ": %s", err);
}

/* ---- D. heapviz's command line ------------------------------------------------------ */

typedef struct Run {
    int status;
    char err[8192];
} Run;

/* Runs $OUT/heapviz with args (NULL-terminated) and env additions, stdin and
 * stdout from /dev/null, and captures stderr. */
static void heapviz(Run *r, const char *const *args, const char *const *env)
{
    const char *out = getenv("OUT");
    char bin[512];
    snprintf(bin, sizeof bin, "%s/heapviz", out && *out ? out : ".");
    cr_assert_eq(access(bin, X_OK), 0, "%s is not built", bin);
    char *argv[32];
    int argc = 0;
    argv[argc++] = bin;
    for (; args[argc - 1] && argc < 31; argc++)
        argv[argc] = (char *)(uintptr_t)args[argc - 1];
    argv[argc] = NULL;
    char *envp[256];
    size_t n = 0;
    for (char **e = environ; *e && n < 200; e++)
        if (strncmp(*e, "LINES=", 6) != 0 && strncmp(*e, "COLUMNS=", 8) != 0)
            envp[n++] = *e;
    for (; env && *env && n < 250; env++)
        envp[n++] = (char *)(uintptr_t)*env;
    envp[n] = NULL;

    char path[] = "/tmp/heapviz-err-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fd, 2);
    pid_t pid;
    cr_assert_eq(posix_spawn(&pid, bin, &fa, NULL, argv, envp), 0);
    posix_spawn_file_actions_destroy(&fa);
    cr_assert_eq(waitpid(pid, &r->status, 0), pid);
    ssize_t got = pread(fd, r->err, sizeof r->err - 1, 0);
    r->err[got > 0 ? got : 0] = '\0';
    close(fd);
    unlink(path);
}

typedef struct CliCase {
    const char *id;
    const char *args[8];
    int status;
    const char *first_line; /* a prefix of stderr's first line */
} CliCase;

static const CliCase cli_cases[] = {
    {ID("D1"), {"--size", "0"}, 2, "heapviz: --size: 0 is out of range (256 to 1G)"},
    {ID("D2"), {"--size", "-1"}, 2, "heapviz: --size: '-1' is not a size (like 8K, 64K, 1M)"},
    {ID("D3"), {"--size", "255"}, 2, "heapviz: --size: 255 is out of range (256 to 1G)"},
    {ID("D4"), {"--size", "12Q"}, 2, "heapviz: --size: '12Q' is not a size (like 8K, 64K, 1M)"},
    {ID("D5"), {"--size", "1.5K"}, 2, "heapviz: --size: '1.5K' is not a size"},
    {ID("D6"), {"--size", "99999999999999999999"}, 2,
     "heapviz: --size: '99999999999999999999' is not a size"},
    {ID("D7"), {"--size", "65G"}, 2, "heapviz: --size: 65G is out of range (256 to 1G)"},
    {ID("D7"), {"--size", "2G"}, 2, "heapviz: --size: 2G is out of range (256 to 1G)"},
    {ID("D8"), {"--size", "17179869184G"}, 2, "heapviz: --size: '17179869184G' is not a size"},
    {ID("D9"), {"--size"}, 2, "heapviz: --size needs a value"},
    {ID("D10"), {"--policy", "bogus"}, 2,
     "heapviz: --policy: 'bogus' is not a policy (first, next, best, worst, fast, buddy)"},
    {ID("D11"), {"--workload", "bogus"}, 2, "heapviz: --workload: 'bogus' is not a workload"},
    {ID("D12"), {"--speed", "0"}, 2,
     "heapviz: --speed: '0' is not 1 to 10000 operations a second"},
    {ID("D13"), {"--frames", "0"}, 2, "heapviz: --frames: '0' is not a positive number"},
    {ID("D13"), {"--frames", "-1"}, 2, "heapviz: --frames: '-1' is not a positive number"},
    {ID("D14"), {"--seed", "x"}, 2, "heapviz: --seed: 'x' is not a number"},
    {ID("D15"), {"--compare", "first,first"}, 2, "heapviz: --compare: 'first' is listed twice"},
    {ID("D16"), {"--compare", "first,,best"}, 2, "heapviz: --compare: '' is not a policy"},
    {ID("D17"), {"--bogus"}, 2, "heapviz: unknown option '--bogus'"},
    {ID("D17"), {"-Z"}, 2, "heapviz: unknown option '-Z'"},
    {ID("D18"), {"stray"}, 2, "heapviz: unexpected argument 'stray' (options start with --)"},
    {ID("D19"), {"--guard=yes"}, 2, "heapviz: --guard takes no value"},
    {ID("D20"), {"--dump", "--trace", "/nonexistent"}, 1,
     "heapviz: /nonexistent: No such file or directory"},
    {ID("D21"), {"--dump", "--trace", "/"}, 1, "heapviz: /: Is a directory"},
    {ID("D22"), {"--dump", "--trace", "tests/data/traces/bad_double_free.rep"}, 1,
     "heapviz: tests/data/traces/bad_double_free.rep:8: free of id 1, which is already free "
     "(double free)"},
    {ID("D23"), {"--dump", "--trace", "x.rep", "--workload", "random"}, 2,
     "heapviz: --trace and --workload random exclude each other"},
    {ID("D24"), {"--frames", "1"}, 1,
     "heapviz: standard input and output must be a terminal"},
    {ID("D28"), {"--compare", "first,next", "--policy", "best"}, 2,
     "heapviz: --policy and --compare exclude each other"},
    {ID("D29"), {"--theme", "sepia"}, 2,
     "heapviz: --theme: 'sepia' is not a theme (dark, light, contrast)"},
    {ID("D30"), {"--flash", "99999"}, 2,
     "heapviz: --flash: '99999' is not 0 to 60000 milliseconds"},
    {ID("D31"), {"--attach", "0"}, 2, "heapviz: --attach: '0' is not a process id"},
    {ID("D31"), {"--attach", "x"}, 2, "heapviz: --attach: 'x' is not a process id"},
    {ID("D32"), {"--interval", "0", "--", "true"}, 2,
     "heapviz: --interval: '0' is not 1 to 3600000 ms"},
    {ID("D33"), {"--output", "x", "--dump"}, 2,
     "heapviz: --output is for live mode (-- COMMAND or --attach PID)"},
    {ID("D34"), {"--trace", "x.rep", "--", "true"}, 2,
     "heapviz: live mode draws the program's own heap: no --trace"},
    {ID("D34"), {"--attach", "1", "--", "true"}, 2,
     "heapviz: -- COMMAND and --attach exclude each other"},
    {ID("D35"), {"--", ""}, 2, "heapviz: --: the command is empty"},
    {ID("D37"), {"--dump", "--attach", "1"}, 1, "heapviz: process 1 shares no heap"},
    {ID("D38"), {"--order", "random"}, 2,
     "heapviz: --order: 'random' is not an order (addr, lifo, fifo)"},
    {ID("D39"), {"--coalesce", ""}, 2,
     "heapviz: --coalesce: '' is not a choice (now, deferred, never)"},
    {ID("D40"), {"--policy", "fast", "--coalesce", "never"}, 2,
     "heapviz: --order and --coalesce are for first, next, best and worst fit, not fast"},
    {ID("D41"), {"--dump", "--ops", "a100 f0 f0"}, 1,
     "heapviz: --ops:1:9: 'f0': allocation 0 is already free (freed on line 1)"},
    {ID("D41"), {"--dump", "--ops", "a100 f1"}, 1,
     "heapviz: --ops:1:6: 'f1': there is no allocation 1 (allocations so far: 0 to 0)"},
    {ID("D41"), {"--dump", "--ops", "a100 f0+100"}, 1,
     "heapviz: --ops:1:9: 'f0+100': byte 100 is outside allocation 0 (100 bytes)"},
    {ID("D41"), {"--dump", "--ops", "a0"}, 1,
     "heapviz: --ops:1:1: 'a0': an allocation needs at least 1 byte"},
    {ID("D42"), {"--dump", "--script", "/nonexistent"}, 1,
     "heapviz: /nonexistent: No such file or directory"},
    {ID("D42"), {"--dump", "--script", "tests/data/traces/bad_double_free.rep"}, 1,
     "heapviz: tests/data/traces/bad_double_free.rep:8: free of id 1, which is already free"},
    {ID("D43"), {"--ops", "a1", "--trace", "x.rep"}, 2,
     "heapviz: --ops and --trace exclude each other"},
    {ID("D43"), {"--script", "x", "--ops", "a1"}, 2,
     "heapviz: --ops and --script exclude each other"},
    {ID("D43"), {"--script", "x", "--workload", "stack"}, 2,
     "heapviz: --script and --workload stack exclude each other"},
    {ID("D44"), {"--script", ""}, 2, "heapviz: --script: the file name is empty"},
    {ID("D44"), {"--svg", ""}, 2, "heapviz: --svg: the file name is empty"},
    {ID("D45"), {"--svg", "/nonexistent/dir/x.svg"}, 1,
     "heapviz: /nonexistent/dir/x.svg: No such file or directory"},
    {ID("D45"), {"--html", "/"}, 1, "heapviz: /: Is a directory"},
    {ID("D46"), {"--handout"}, 2, "heapviz: --handout works with --dump"},
    {ID("D34"), {"--ops", "a1", "--", "true"}, 2,
     "heapviz: live mode draws the program's own heap: no --trace, --ops"},
    {ID("D47"), {"--predict", "--", "true"}, 2,
     "heapviz: --predict is not for live mode: the program does not wait for an answer"},
    {ID("D47"), {"--dump", "--handout", "--attach", "1"}, 2,
     "heapviz: --handout is not for live mode"},
    {ID("D47"), {"--svg", "x.svg", "--", "true"}, 2, "heapviz: --svg is not for live mode"},
};

Test(cli, every_bad_command_line_exits_with_its_message, .timeout = 120)
{
    for (size_t i = 0; i < sizeof cli_cases / sizeof cli_cases[0]; i++) {
        const CliCase *c = &cli_cases[i];
        Run r;
        heapviz(&r, c->args, NULL);
        cr_assert(WIFEXITED(r.status), "%s: heapviz died (status %#x): %s", c->id, r.status,
                  r.err);
        cr_assert_eq(WEXITSTATUS(r.status), c->status, "%s: exit %d, expected %d: %s", c->id,
                     WEXITSTATUS(r.status), c->status, r.err);
        cr_assert(strncmp(r.err, c->first_line, strlen(c->first_line)) == 0,
                  "%s: stderr \"%.300s\", expected \"%s...\"", c->id, r.err, c->first_line);
        const char *nl = strchr(r.err, '\n');
        cr_assert(nl && (size_t)(nl - r.err) >= strlen(c->first_line),
                  "%s: the message is not one line: \"%.300s\"", c->id, r.err);
        /* one line to point at --help, not the usage that scrolls the error away */
        if (c->status == 2)
            cr_assert_str_eq(nl + 1, "heapviz --help lists the options.\n",
                             "%s: after the error: \"%.300s\"", c->id, nl + 1);
    }
}

static char *read_text(const char *path);

/* A command that cannot be run: heapviz shows it ended with status 127, and
 * the program's output file says why. */
Test(cli, a_live_command_that_cannot_run_ends_with_127, .timeout = 60)
{
    const char *out = getenv("OUT");
    char dir[] = "/tmp/heapviz-d33-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "%s/heapviz --dump --frames 2 --interval 50 --output %s/prog.out -- "
             "/nonexistent/program > %s/frames.txt 2> %s/err.txt",
             out && *out ? out : ".", dir, dir, dir);
    int st = system(cmd);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, ID("D36") ": heapviz exit %#x", st);
    char path[600];
    snprintf(path, sizeof path, "%s/frames.txt", dir);
    char *frames = read_text(path);
    snprintf(path, sizeof path, "%s/prog.out", dir);
    char *prog = read_text(path);
    cr_assert(strstr(frames, "exited with status 127"), ID("D36") ": %s", frames);
    cr_assert(strstr(prog, "heapviz: cannot run /nonexistent/program: No such file or "
                           "directory"), ID("D36") ": %s", prog);
    free(frames);
    free(prog);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

/* options.h: "err holds one line (no newline)", whatever argv holds. */
Test(cli, a_newline_in_an_argument_gives_a_one_line_message, .timeout = 60)
{
    static const char *const args[] = {"--siz\ne", NULL};
    Run r;
    heapviz(&r, args, NULL);
    cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 2, ID("D27") ": status %#x",
              r.status);
    cr_assert(strncmp(r.err, "heapviz: unknown option '--siz", 30) == 0, ID("D27") ": %s",
              r.err);
    const char *nl = strchr(r.err, '\n');
    cr_assert(nl && strcmp(nl, "\nheapviz --help lists the options.\n") == 0,
              ID("D27") ": the message spans lines: \"%.200s\"", r.err);
}

Test(cli, bad_terminal_sizes_in_the_environment, .timeout = 60)
{
    static const char *const args[] = {"--dump", "--frames", "2", NULL};
    static const char *const junk[] = {"LINES=0", "COLUMNS=abc", NULL};
    static const char *const tiny[] = {"LINES=1", "COLUMNS=1", NULL};
    Run r;
    heapviz(&r, args, junk);
    cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
              ID("D25") ": status %#x: %s", r.status, r.err);
    heapviz(&r, args, tiny);
    cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 1,
              ID("D26") ": status %#x: %s", r.status, r.err);
    cr_assert(strstr(r.err, "heapviz: --dump needs a screen of at least 40x10; LINES=1 COLUMNS=1 "
                            "give 1x1"), ID("D26") ": %s", r.err);
}

/* ---- the table and the tests agree ----------------------------------------------------- */

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot read %s (run from the top of the tree)", path);
    static char buf[1 << 17];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return strdup(buf);
}

Test(meta, every_row_is_tested)
{
    char *table = read_text("tests/BAD_INPUT.md");
    char *source = read_text("tests/test_badinput.c");
    unsigned rows = 0;
    char *attack = read_text("tests/test_attack.c");
    char *stress = read_text("fuzz/stress_threads.c");
    for (char *line = strtok(table, "\n"); line; line = strtok(NULL, "\n")) {
        char id[8];
        if (sscanf(line, "| %7[A-H0-9] |", id) != 1 || !strchr("ABCDH", id[0]))
            continue;
        rows++;
        char mark[32];
        snprintf(mark, sizeof mark, "ID(\"%s\")", id);
        if (id[0] == 'H') /* attacks: tests/test_attack.c, or the TSan stress */
            cr_assert(strstr(attack, mark) || strstr(stress, id), "attack %s has no test", id);
        else
            cr_assert(strstr(source, mark), "row %s of BAD_INPUT.md has no test", id);
    }
    free(attack);
    free(stress);
    cr_assert_geq(rows, 124, "only %u rows found in BAD_INPUT.md", rows);
    free(table);
    table = read_text("tests/BAD_INPUT.md");
    for (const char *p = source; (p = strstr(p, "ID(\"")) != NULL; p += 4) {
        char id[8], row[16];
        if (sscanf(p + 4, "%7[A-D0-9]", id) != 1)
            continue;
        snprintf(row, sizeof row, "| %s |", id);
        cr_assert(strstr(table, row), "the tests name %s, which is not a row of the table", id);
    }
    free(table);
    free(source);
}

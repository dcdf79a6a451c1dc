/*
 * test_asan_region.c - AddressSanitizer sees inside the arena.
 *
 * When libmem is compiled with ASan, a live object's bytes are addressable
 * and everything else in the arena (headers, padding, free space, the start
 * bitmap) is poisoned.  These tests provoke each kind of stray access in a
 * child process and expect ASan's report naming the exact address, and they
 * check that a correct program, and the library's own work on metadata,
 * draws no report at all.
 *
 * Without ASan there is no poisoning to observe: every test skips itself and
 * says so.  `make asan` runs them for real.
 */
#include "testlib.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#if TEST_ASAN
#define REQUIRE_ASAN() ((void)0)
#define IS_POISONED(p) (__asan_address_is_poisoned(p) != 0)
#define FIRST_POISONED(p, n) ((unsigned char *)__asan_region_is_poisoned((p), (n)))
#else
#define REQUIRE_ASAN()                                                                     \
    cr_skip_test("libmem was built without AddressSanitizer, so the arena is not "       \
                 "poisoned; `make asan` runs this test")
#define IS_POISONED(p) ((void)(p), false)
#define FIRST_POISONED(p, n) ((void)(p), (void)(n), (unsigned char *)NULL)
#endif

/* ---- running the offending code in a child ------------------------------ */

typedef struct Report {
    int status;      /* as from waitpid */
    char text[16384]; /* the child's stderr */
} Report;

typedef void (*Offence)(void *arg);

/* Runs fn(arg) in a forked child whose stderr is captured. */
static void run_child(Offence fn, void *arg, Report *r)
{
    int fd[2];
    cr_assert_eq(pipe(fd), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        close(fd[0]);
        dup2(fd[1], STDERR_FILENO);
        alarm(120); /* a hang is a failure too, not a stuck suite */
        fn(arg);
        _exit(0);
    }
    close(fd[1]);
    size_t used = 0;
    for (;;) {
        ssize_t n = read(fd[0], r->text + used, sizeof r->text - 1 - used);
        if (n <= 0)
            break;
        used += (size_t)n;
        if (used == sizeof r->text - 1) {
            char sink[4096]; /* keep draining so the child never blocks */
            while (read(fd[0], sink, sizeof sink) > 0)
                ;
            break;
        }
    }
    r->text[used] = '\0';
    close(fd[0]);
    cr_assert_eq(waitpid(pid, &r->status, 0), pid);
}

/* The child died of an ASan report of `kind` about an access at addr. */
static void expect_report(const Report *r, const char *kind, const char *access,
                          const void *addr, const char *what)
{
    char needle[128];
    cr_assert(!(WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0),
              "%s: the child ran to the end, ASan reported nothing", what);
    snprintf(needle, sizeof needle, "ERROR: AddressSanitizer: %s on address %p", kind, addr);
    cr_assert(strstr(r->text, needle), "%s: expected \"%s\" in the report:\n%.3000s", what,
              needle, r->text);
    snprintf(needle, sizeof needle, "%s of size 1 at %p", access, addr);
    cr_assert(strstr(r->text, needle), "%s: expected \"%s\" in the report:\n%.3000s", what,
              needle, r->text);
}

static void expect_silence(const Report *r, const char *what)
{
    cr_assert(WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0,
              "%s: the child failed (status %#x):\n%.6000s", what, r->status, r->text);
    cr_assert_str_empty(r->text, "%s: the child printed:\n%.6000s", what, r->text);
}

static volatile unsigned char sink_byte;

static void read_byte(void *p) { sink_byte = *(volatile unsigned char *)p; }
static void write_byte(void *p) { *(volatile unsigned char *)p = 0x42; }

/* ---- provoked errors ----------------------------------------------------- */

Test(asan, use_after_free_is_reported_on_every_policy)
{
    REQUIRE_ASAN();
    for (int pol = 0; pol < MEM_POLICY_COUNT; pol++) {
        MemHeap *h = th_heap((MemPolicy)pol, 1 << 16, 0);
        cr_assert_not_null(h);
        unsigned char *p = MemHeap_Alloc(h, 64);
        unsigned char *keep = MemHeap_Alloc(h, 64); /* p's block is not merged away */
        cr_assert(p && keep);
        memset(p, 1, 64);
        cr_assert_eq(MemHeap_Free(h, p + 10), 0);
        Report r;
        run_child(read_byte, p + 10, &r);
        expect_report(&r, "use-after-poison", "READ", p + 10, MemPolicy_Name((MemPolicy)pol));
        run_child(write_byte, p, &r);
        expect_report(&r, "use-after-poison", "WRITE", p, MemPolicy_Name((MemPolicy)pol));
    }
}

Test(asan, use_after_free_is_reported_through_the_classic_api)
{
    REQUIRE_ASAN();
    cr_assert_eq(Mem_Init(8192), 0);
    char *p = Mem_Alloc(100);
    cr_assert_not_null(p);
    p[99] = 1;
    cr_assert_eq(Mem_Free(p), 0);
    Report r;
    run_child(read_byte, p + 99, &r);
    expect_report(&r, "use-after-poison", "READ", p + 99, "Mem_Free then read");
}

/* A 24-byte object fills its 32-byte block: its next byte is the next
 * block's header. */
Test(asan, overflow_into_the_next_header_is_reported)
{
    REQUIRE_ASAN();
    for (int pol = 0; pol < MEM_POLICY_COUNT; pol++) {
        MemHeap *h = th_heap((MemPolicy)pol, 1 << 16, 0);
        unsigned char *a = MemHeap_Alloc(h, 24);
        unsigned char *b = MemHeap_Alloc(h, 24);
        cr_assert(a && b);
        if (pol == MEM_BUDDY) {
            /* buddy rounds the block to a power of two and hands out the
             * lower buddy last: the object at the lower address is followed
             * by its padding, then its buddy's header, poisoned alike */
            unsigned char *hi = a > b ? a : b;
            a = a < b ? a : b;
            b = hi;
            cr_assert_gt(b, a + 24, "buddy: the blocks do not overlap");
        } else {
            cr_assert_eq(b, a + 32, "%s: the blocks are adjacent", MemPolicy_Name((MemPolicy)pol));
        }
        memset(a, 7, 24);
        Report r;
        run_child(write_byte, a + 24, &r);
        expect_report(&r, "use-after-poison", "WRITE", a + 24, "write into the next header");
        run_child(read_byte, b - 1, &r);
        expect_report(&r, "use-after-poison", "READ", b - 1, "read of a header's last byte");
    }
}

/* The byte just past an object is poisoned whatever its size: objects start
 * on 16-byte boundaries, so ASan's 8-byte granules describe them exactly. */
Test(asan, the_byte_past_every_object_size_is_poisoned)
{
    REQUIRE_ASAN();
    MemHeap *h = th_heap(MEM_FIRST_FIT, 1 << 16, 0);
    for (size_t size = 1; size <= 96; size++) {
        unsigned char *p = MemHeap_Alloc(h, size);
        cr_assert_not_null(p);
        cr_assert_not(IS_POISONED(p), "size %zu: first byte", size);
        cr_assert_not(IS_POISONED(p + size - 1), "size %zu: last byte", size);
        cr_assert(IS_POISONED(p + size), "size %zu: the byte past the end is addressable", size);
        cr_assert(IS_POISONED(p - 1), "size %zu: the header is addressable", size);
        cr_assert_eq(MemHeap_Free(h, p), 0);
    }
    /* One real report for a size that leaves padding. */
    unsigned char *p = MemHeap_Alloc(h, 13);
    Report r;
    run_child(write_byte, p + 13, &r);
    expect_report(&r, "use-after-poison", "WRITE", p + 13, "write into the padding");
}

Test(asan, a_read_of_free_space_or_of_the_tables_is_reported)
{
    REQUIRE_ASAN();
    MemHeap *h = th_heap(MEM_FAST, 1 << 16, MEM_OPT_NORUNS);
    unsigned char *p = MemHeap_Alloc(h, 40);
    cr_assert_not_null(p);
    MemRegion reg = MemHeap_Region(h);
    unsigned char *base = reg.base;
    Report r;
    run_child(read_byte, p + 4096, &r);
    expect_report(&r, "use-after-poison", "READ", p + 4096, "read of free space");
    /* with runs: a free slot, and a run's table */
    MemHeap *g = th_heap(MEM_FAST, 1 << 20, 0);
    unsigned char *q = MemHeap_Alloc(g, 40);
    cr_assert_not_null(q);
    run_child(read_byte, q + 48, &r);
    expect_report(&r, "use-after-poison", "READ", q + 48, "read of a free slot");
    run_child(read_byte, q - 1, &r);
    expect_report(&r, "use-after-poison", "READ", q - 1, "read of a run's table");
    run_child(read_byte, base + reg.heap_end - 1, &r);
    expect_report(&r, "use-after-poison", "READ", base + reg.heap_end - 1,
                  "read of the last free byte");
    run_child(read_byte, base, &r);
    expect_report(&r, "use-after-poison", "READ", base, "read of the bitmap's first word");
    run_child(read_byte, base + reg.heap_end, &r);
    expect_report(&r, "use-after-poison", "READ", base + reg.heap_end,
                  "read of the bitmap after the blocks");
}

/* ---- no false alarms ------------------------------------------------------ */

typedef struct Shadow {
    unsigned char *bad; /* the first byte whose poisoning is wrong, or NULL */
    const char *why;
    unsigned char *base;
    const MemHeap *h;
} Shadow;

static size_t runs_seen; /* by poison_visit */

static void poison_fault(Shadow *s, unsigned char *p, const char *why)
{
    if (!s->bad) {
        s->bad = p;
        s->why = why;
    }
}

/* A run's slot: its object addressable, the rest poisoned. */
static bool poison_slot(const MemSlot *sl, void *arg)
{
    Shadow *s = arg;
    unsigned char *p = s->base + sl->offset;
    for (size_t i = 0; i < sl->size; i++)
        if (IS_POISONED(p + i) != (i >= sl->object))
            poison_fault(s, p + i, i < sl->object ? "a live object's byte in a slot is poisoned"
                                                  : "an unused byte of a slot is addressable");
    return true;
}

/* For every block: header and padding poisoned, object addressable; free
 * blocks poisoned throughout; a run: its table and tail poisoned, its
 * slots as poison_slot says. */
static bool poison_visit(const MemBlock *b, void *arg)
{
    Shadow *s = arg;
    unsigned char *blk = s->base + b->offset;
    if (b->run) {
        size_t end = b->slot_offset + b->slots * b->slot_size;
        for (size_t o = b->offset; o < b->offset + b->size; o++)
            if ((o < b->slot_offset || o >= end) && !IS_POISONED(s->base + o))
                poison_fault(s, s->base + o, "a run's table or tail byte is addressable");
        runs_seen++;
        MemHeap_WalkSlots(s->h, b->offset, poison_slot, s);
        return true;
    }
    for (size_t i = 0; i < b->header; i++)
        if (!IS_POISONED(blk + i))
            poison_fault(s, blk + i, "a header byte is addressable");
    if (b->used) {
        unsigned char *obj = blk + b->header;
        for (size_t i = 0; i < b->object; i++)
            if (IS_POISONED(obj + i))
                poison_fault(s, obj + i, "a live object's byte is poisoned");
        for (size_t i = 0; i < b->padding; i++)
            if (!IS_POISONED(obj + b->object + i))
                poison_fault(s, obj + b->object + i, "a padding byte is addressable");
    } else {
        for (size_t i = b->header; i < b->size; i++)
            if (!IS_POISONED(blk + i))
                poison_fault(s, blk + i, "a free byte is addressable");
    }
    return true;
}

static void expect_poisoning_matches(const MemHeap *h, const char *when)
{
    MemRegion reg = MemHeap_Region(h);
    Shadow s = {NULL, NULL, reg.base, h};
    MemHeap_Walk(h, poison_visit, &s);
    for (size_t i = 0; i < reg.heap_begin; i++)
        if (!IS_POISONED(s.base + i))
            poison_fault(&s, s.base + i, "a bitmap byte is addressable");
    for (size_t i = reg.heap_end; i < reg.size; i++)
        if (!IS_POISONED(s.base + i))
            poison_fault(&s, s.base + i, "a table byte is addressable");
    cr_assert_null(s.bad, "%s: %s at arena offset %#zx", when, s.why,
                   (size_t)(s.bad - s.base));
}

Test(asan, poisoning_matches_the_walk_after_every_operation)
{
    REQUIRE_ASAN();
    ThRng rng = {th_seed(0x5eed0a5a)};
    for (int pol = 0; pol < MEM_POLICY_COUNT; pol++) {
        for (unsigned flags = 0; flags <= MEM_OPT_GUARD; flags += MEM_OPT_GUARD) {
            /* fast: large enough for runs of its small classes */
            MemHeap *h = th_heap((MemPolicy)pol, pol == MEM_FAST ? 1 << 17 : 1 << 15, flags);
            cr_assert_not_null(h);
            unsigned char *live[48] = {0};
            size_t sizes[48] = {0};
            expect_poisoning_matches(h, "fresh heap");
            for (int op = 0; op < 400; op++) {
                size_t k = (size_t)th_below(&rng, 48);
                if (live[k]) {
                    cr_assert_eq(MemHeap_Free(h, live[k] + th_below(&rng, sizes[k])), 0);
                    live[k] = NULL;
                } else {
                    sizes[k] = 1 + (size_t)th_below(&rng, th_below(&rng, 8) ? 200 : 3000);
                    live[k] = MemHeap_Alloc(h, sizes[k]);
                    if (live[k])
                        memset(live[k], (int)k, sizes[k]);
                }
                char when[96];
                snprintf(when, sizeof when, "%s%s, op %d", MemPolicy_Name((MemPolicy)pol),
                         flags ? "+guard" : "", op);
                expect_poisoning_matches(h, when);
            }
            MemHeap_Release(h);
            MemRegion reg = MemHeap_Region(h);
            cr_assert_null(FIRST_POISONED(reg.base, reg.size),
                           "MemHeap_Release leaves the arena poisoned");
        }
    }
    cr_assert_gt(runs_seen, 0, "fast's runs were checked too");
}

static void quiet_observer(const MemEvent *e, void *arg)
{
    ++*(uint64_t *)arg;
    sink_byte = (unsigned char)e->kind;
}

/* A correct program that uses every entry point, observer installed, on
 * every policy with and without guard mode.  The child must print nothing. */
static void correct_program(void *arg)
{
    (void)arg;
    ThRng rng = {0xC0FFEEu};
    for (int pol = 0; pol < MEM_POLICY_COUNT; pol++) {
        for (unsigned flags = 0; flags <= MEM_OPT_GUARD; flags += MEM_OPT_GUARD) {
            MemHeap *h = th_heap((MemPolicy)pol, 1 << 14, flags);
            if (!h)
                _exit(3);
            uint64_t events = 0;
            MemHeap_SetObserver(h, quiet_observer, &events);
            unsigned char *live[32] = {0};
            size_t sizes[32] = {0};
            for (int op = 0; op < 600; op++) {
                size_t k = (size_t)th_below(&rng, 32);
                if (live[k]) {
                    for (size_t i = 0; i < sizes[k]; i++)
                        if (live[k][i] != (unsigned char)(k + i))
                            _exit(4);
                    if (MemHeap_Find(h, live[k] + sizes[k] - 1, NULL) != live[k])
                        _exit(5);
                    if (MemHeap_Free(h, live[k] + th_below(&rng, sizes[k])) != 0)
                        _exit(6);
                    /* a double free and a free into freed space are refused */
                    if (MemHeap_Free(h, live[k]) == 0)
                        _exit(7);
                    live[k] = NULL;
                } else {
                    sizes[k] = 1 + (size_t)th_below(&rng, th_below(&rng, 6) ? 300 : 5000);
                    live[k] = MemHeap_Alloc(h, sizes[k]);
                    for (size_t i = 0; live[k] && i < sizes[k]; i++)
                        live[k][i] = (unsigned char)(k + i);
                }
                MemStats s = MemHeap_Stats(h);
                sink_byte = (unsigned char)s.free_blocks;
                (void)MemHeap_Classify(h, (unsigned char *)MemHeap_Region(h).base +
                                              th_below(&rng, 1 << 14));
                if (op % 50 == 0 && MemHeap_Check(h) != 0)
                    _exit(8);
            }
            for (size_t k = 0; k < 32; k++)
                if (live[k] && MemHeap_Free(h, live[k]) != 0)
                    _exit(9);
            if (MemHeap_Check(h) != 0 || events == 0)
                _exit(10);
        }
    }
}

Test(asan, a_correct_program_draws_no_report)
{
    REQUIRE_ASAN();
    Report r;
    run_child(correct_program, NULL, &r);
    expect_silence(&r, "random alloc/free/query on every policy, observer installed");
}

static bool count_visit(const MemBlock *b, void *arg)
{
    (void)b;
    ++*(size_t *)arg;
    return true;
}

/* The library's own metadata accesses (walks, statistics, the checker, the
 * failure path, the next-fit rover) on a heap full of free blocks. */
static void metadata_readers(void *arg)
{
    (void)arg;
    for (int pol = 0; pol < MEM_POLICY_COUNT; pol++) {
        MemHeap *h = th_heap((MemPolicy)pol, 1 << 14, MEM_OPT_GUARD);
        uint64_t events = 0;
        MemHeap_SetObserver(h, quiet_observer, &events);
        void *p[40];
        for (int i = 0; i < 40; i++)
            p[i] = MemHeap_Alloc(h, (size_t)(16 + 8 * i));
        for (int i = 0; i < 40; i += 2)
            MemHeap_Free(h, p[i]);
        size_t n = 0;
        MemHeap_Walk(h, count_visit, &n);
        MemHeap_WalkFree(h, count_visit, &n);
        MemStats s = MemHeap_Stats(h);
        (void)MemHeap_Alloc(h, s.capacity); /* fails: the failure event */
        (void)MemHeap_Free(h, p[0]);        /* refused: the rejection event */
        char why[128];
        if (MemHeap_Diagnose(h, why, sizeof why) != 0 || n == 0 || events == 0)
            _exit(11);
    }
}

Test(asan, the_library_reading_its_own_metadata_draws_no_report)
{
    REQUIRE_ASAN();
    Report r;
    run_child(metadata_readers, NULL, &r);
    expect_silence(&r, "walks, stats, failed alloc, rejected free with an observer");
}

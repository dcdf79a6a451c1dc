/*
 * test_runs.c - MEM_FAST's runs of equal slots: size classes, where objects
 * go, interior pointers, the spare run (hysteresis), release and
 * coalescing, the hooks (walk, slot walk, events, statistics), and a
 * checker that must notice damaged run metadata.
 */
#include "testlib.h"
#include "runs.h" /* white-box: to damage run tables on purpose */

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static const size_t classes[] = {16,  32,  48,  64,  80,  96,  112, 128, 160, 192,
                                 224, 256, 320, 384, 448, 512};
#define NCLASSES (sizeof classes / sizeof classes[0])

/* The smallest class that holds size bytes. */
static size_t class_of(size_t size)
{
    for (size_t i = 0; i < NCLASSES; i++)
        if (classes[i] >= size)
            return classes[i];
    return 0;
}

/* ---- the run holding an object, through the walk ------------------------- */

typedef struct Find {
    size_t offset;
    MemBlock run;
    size_t runs, blocks;
} Find;

static bool find_visit(const MemBlock *b, void *arg)
{
    Find *f = arg;
    f->blocks++;
    if (!b->run)
        return true;
    f->runs++;
    if (f->offset >= b->offset && f->offset < b->offset + b->size)
        f->run = *b;
    return true;
}

static size_t off(const MemHeap *h, const void *p)
{
    return (size_t)((const unsigned char *)p - (const unsigned char *)MemHeap_Region(h).base);
}

static MemBlock run_of(const MemHeap *h, const void *p)
{
    Find f = {.offset = off(h, p)};
    MemHeap_Walk(h, find_visit, &f);
    return f.run;
}

static size_t count_runs(const MemHeap *h)
{
    Find f = {.offset = SIZE_MAX};
    MemHeap_Walk(h, find_visit, &f);
    return f.runs;
}

/* ---- events -------------------------------------------------------------- */

typedef struct Log {
    MemEvent ev[1024];
    unsigned n;
} Log;

static void record(const MemEvent *e, void *arg)
{
    Log *l = arg;
    cr_assert_lt(l->n, 1024, "the log is full");
    l->ev[l->n++] = *e;
}

static unsigned count(const Log *l, MemEventKind k)
{
    unsigned n = 0;
    for (unsigned i = 0; i < l->n; i++)
        n += l->ev[i].kind == k;
    return n;
}

/* ---- size classes ------------------------------------------------------------ */

Test(classes, every_small_request_gets_the_smallest_class_that_holds_it)
{
    MemHeap *h = th_heap(MEM_FAST, 1 << 20, 0);
    cr_assert_eq(MemHeap_SlotSize(h, 0), 0);
    for (size_t size = 1; size <= MEM_RUN_MAX; size++)
        cr_assert_eq(MemHeap_SlotSize(h, size), class_of(size), "size %zu", size);
    cr_assert_eq(MemHeap_SlotSize(h, MEM_RUN_MAX + 1), 0, "the edge of runs: a block");
    cr_assert_eq(MemHeap_SlotSize(h, SIZE_MAX), 0);
    cr_assert_eq(MemHeap_SlotSize(NULL, 16), 0);
    for (size_t i = 0; i < NCLASSES; i++) {
        unsigned char *p = MemHeap_Alloc(h, classes[i]);
        unsigned char *q = MemHeap_Alloc(h, classes[i] - (i ? classes[i] - classes[i - 1] - 1 : 15));
        cr_assert(p && q);
        MemBlock r = run_of(h, p);
        cr_assert(r.run && r.slot_size == classes[i], "class %zu", classes[i]);
        cr_assert_eq(run_of(h, q).offset, r.offset, "the class's smallest request shares it");
        cr_assert_eq(r.run_class, i);
    }
    unsigned char *big = MemHeap_Alloc(h, MEM_RUN_MAX + 1);
    cr_assert_not_null(big);
    cr_assert_not(run_of(h, big).run, "1025 bytes is a block");
    th_check(h);
}

Test(classes, no_runs_outside_fast_in_guard_mode_or_in_a_one_page_heap)
{
    for (int p = 0; p < MEM_POLICY_COUNT; p++) {
        MemHeap *h = th_heap((MemPolicy)p, 1 << 16, 0);
        cr_assert_eq(MemHeap_SlotSize(h, 16) != 0, p == MEM_FAST, "%s",
                     MemPolicy_Name((MemPolicy)p));
    }
    cr_assert_eq(MemHeap_SlotSize(th_heap(MEM_FAST, 1 << 16, MEM_OPT_GUARD), 16), 0);
    cr_assert_eq(MemHeap_SlotSize(th_heap(MEM_FAST, 1 << 16, MEM_OPT_NORUNS), 16), 0);
    /* A run takes at most 1/256 of the arena: a 16 KiB heap has none, a
     * 32 KiB one only the smallest class, a large one all of them. */
    MemHeap *one = th_heap(MEM_FAST, 16 << 10, 0);
    for (size_t s = 1; s <= MEM_RUN_MAX; s++)
        cr_assert_eq(MemHeap_SlotSize(one, s), 0);
    MemHeap *small = th_heap(MEM_FAST, 32 << 10, 0);
    cr_assert_eq(MemHeap_SlotSize(small, 16), 16);
    cr_assert_eq(MemHeap_SlotSize(small, 17), 0);
    MemHeap *large = th_heap(MEM_FAST, 1 << 20, 0);
    cr_assert_eq(MemHeap_SlotSize(large, MEM_RUN_MAX), MEM_RUN_MAX);
}

Test(classes, a_one_page_heap_still_takes_4048_bytes)
{
    cr_assert_eq(Mem_Init(4096), 0);
    unsigned char *p = Mem_Alloc(4048);
    cr_assert_not_null(p);
    cr_assert_eq(Mem_GetSize(p + 4000), 4048);
    cr_assert_eq(Mem_Free(p + 17), 0);
    cr_assert_not_null(Mem_Alloc(16));
    cr_assert_eq(count_runs(Mem_DefaultHeap()), 0);
}

/* ---- objects in slots ---------------------------------------------------------- */

Test(slots, sixteen_byte_objects_sit_sixteen_bytes_apart_with_exact_sizes)
{
    MemHeap *h = th_heap(MEM_FAST, 1 << 20, MEM_OPT_NOLOCK);
    unsigned char *p[40];
    for (int i = 0; i < 40; i++) {
        p[i] = MemHeap_Alloc(h, (size_t)(1 + i % 16));
        cr_assert_not_null(p[i]);
        memset(p[i], i, (size_t)(1 + i % 16));
    }
    for (int i = 1; i < 40; i++)
        cr_assert_eq(p[i] - p[i - 1], 16, "slot %d", i);
    MemBlock r = run_of(h, p[0]);
    cr_assert_eq(r.live_slots, 40);
    cr_assert_eq(r.slot_offset, off(h, p[0]));
    for (int i = 0; i < 40; i++) {
        size_t want = (size_t)(1 + i % 16), size = 0;
        for (size_t b = 0; b < 16; b++) {
            void *f = MemHeap_Find(h, p[i] + b, &size);
            if (b < want) {
                cr_assert_eq(f, p[i], "object %d byte %zu", i, b);
                cr_assert_eq(size, want);
            } else {
                cr_assert_null(f, "object %d byte %zu is past its %zu bytes", i, b, want);
                cr_assert_eq(MemHeap_Classify(h, p[i] + b), MEM_REJECT_PADDING);
            }
        }
    }
    /* free each through a different interior byte; the bytes of the others
     * stay as written */
    for (int i = 0; i < 40; i += 2)
        cr_assert_eq(MemHeap_Free(h, p[i] + (size_t)i % (size_t)(1 + i % 16)), MEM_OK);
    for (int i = 1; i < 40; i += 2)
        for (int b = 0; b < 1 + i % 16; b++)
            cr_assert_eq(p[i][b], i);
    cr_assert_eq(run_of(h, p[0]).live_slots, 20);
    th_check(h);
}

/* The slot behind every byte of a run, for every class: the reciprocal
 * multiply must agree with a division everywhere. */
Test(slots, every_byte_of_every_class_finds_its_slot)
{
    MemHeap *h = th_heap(MEM_FAST, 4 << 20, MEM_OPT_NOLOCK);
    for (size_t c = 0; c < NCLASSES; c++) {
        size_t size = classes[c];
        unsigned char *first = MemHeap_Alloc(h, size);
        cr_assert_not_null(first);
        MemBlock r = run_of(h, first);
        unsigned char *slot0 = (unsigned char *)MemHeap_Region(h).base + r.slot_offset;
        for (size_t i = 1; i < r.slots; i++)
            cr_assert_eq(MemHeap_Alloc(h, size - (i % 7)), slot0 + i * size);
        for (size_t b = 0; b < r.slots * size; b++) {
            size_t got = 0;
            void *f = MemHeap_Find(h, slot0 + b, &got);
            size_t i = b / size, want = size - (i % 7);
            if (b % size < want)
                cr_assert(f == slot0 + i * size && got == want, "class %zu byte %zu", size, b);
            else
                cr_assert_null(f, "class %zu byte %zu", size, b);
        }
    }
    th_check(h);
}

Test(slots, a_freed_slot_does_not_coalesce)
{
    MemHeap *h = th_heap(MEM_FAST, 1 << 20, 0);
    unsigned char *a = MemHeap_Alloc(h, 40), *b = MemHeap_Alloc(h, 40),
                  *c = MemHeap_Alloc(h, 40);
    cr_assert(a && b && c);
    char before[256];
    snprintf(before, sizeof before, "%s", th_layout(h));
    cr_assert_eq(MemHeap_Free(h, b + 5), MEM_OK);
    cr_assert_eq(MemHeap_Classify(h, b), MEM_REJECT_FREE);
    cr_assert_eq(MemHeap_Free(h, b), MEM_REJECT_FREE, "a double free into a run is refused");
    MemStats s = MemHeap_Stats(h);
    cr_assert_eq(s.free_blocks, 1, "the slot is no free block");
    cr_assert_eq(s.run_free_bytes, (run_of(h, a).slots - 2) * 48);
    cr_assert_eq(MemHeap_Free(h, a), MEM_OK);
    cr_assert_eq(MemHeap_Free(h, c + 39), MEM_OK);
    /* the run is empty now: kept as its class's spare, not coalesced */
    cr_assert_eq(count_runs(h), 1);
    cr_assert_eq(MemHeap_Stats(h).used_blocks, 0);
    cr_assert_eq(MemHeap_Alloc(h, 33), a, "the spare serves the class again, from slot 0");
    th_check(h);
    (void)before;
}

/* ---- the spare run and release ----------------------------------------------------- */

Test(spare, alternating_at_the_edge_of_a_run_makes_no_run_each_time)
{
    MemHeap *h = th_heap(MEM_FAST, 1 << 20, 0);
    static Log log;
    log.n = 0;
    MemHeap_SetObserver(h, record, &log);
    unsigned char *first = MemHeap_Alloc(h, 64);
    MemBlock r = run_of(h, first);
    for (size_t i = 1; i < r.slots; i++)
        cr_assert_not_null(MemHeap_Alloc(h, 64));
    cr_assert_eq(count(&log, MEM_EV_RUN_NEW), 1, "one run so far, full now");
    log.n = 0;
    for (int i = 0; i < 50; i++) {
        unsigned char *p = MemHeap_Alloc(h, 64); /* the first slot of a second run */
        cr_assert_not_null(p);
        cr_assert_eq(MemHeap_Free(h, p), MEM_OK); /* which empties again */
    }
    cr_assert_eq(count(&log, MEM_EV_RUN_NEW), 1, "the second run was made once");
    cr_assert_eq(count(&log, MEM_EV_RUN_RELEASE), 0, "and kept as the spare");
    cr_assert_eq(count_runs(h), 2);
    th_check(h);
}

Test(spare, a_second_empty_run_of_a_class_goes_back_and_coalesces)
{
    MemHeap *h = th_heap(MEM_FAST, 1 << 20, 0);
    unsigned char *first = MemHeap_Alloc(h, 128);
    size_t n = run_of(h, first).slots;
    unsigned char *p[512];
    p[0] = first;
    for (size_t i = 1; i < 2 * n; i++)
        cr_assert_not_null(p[i] = MemHeap_Alloc(h, 128));
    cr_assert_eq(count_runs(h), 2);
    MemStats full = MemHeap_Stats(h);
    static Log log;
    log.n = 0;
    MemHeap_SetObserver(h, record, &log);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(MemHeap_Free(h, p[i] + 100), MEM_OK);
    cr_assert_eq(count(&log, MEM_EV_RUN_RELEASE), 0, "the first run to empty is the spare");
    for (size_t i = n; i < 2 * n; i++)
        cr_assert_eq(MemHeap_Free(h, p[i]), MEM_OK);
    cr_assert_eq(count(&log, MEM_EV_RUN_RELEASE), 1, "the second goes back");
    const MemEvent *rel = NULL, *co = NULL;
    for (unsigned i = 0; i < log.n; i++) {
        if (log.ev[i].kind == MEM_EV_RUN_RELEASE)
            rel = &log.ev[i];
        if (rel && log.ev[i].kind == MEM_EV_COALESCE)
            co = &log.ev[i];
    }
    cr_assert(rel && co, "and coalesces with the free block beside it");
    cr_assert_eq(rel->run, rel->block);
    cr_assert_neq(co->neighbours, 0);
    MemStats s = MemHeap_Stats(h);
    cr_assert_eq(s.runs, 1);
    cr_assert_eq(s.free_blocks, 1);
    cr_assert_eq(s.run_bytes, full.run_bytes / 2);
    th_check(h);
}

Test(spare, spares_go_back_when_the_block_heap_needs_their_room)
{
    MemHeap *h = th_heap(MEM_FAST, 1 << 20, 0);
    MemRegion r = MemHeap_Region(h);
    size_t whole = r.heap_end - r.heap_begin - MEM_HEADER_SIZE;
    cr_assert_not_null(MemHeap_Alloc(h, whole), "a fresh heap holds one object of it all");
    /* make runs of every class, then free everything */
    MemHeap *g = th_heap(MEM_FAST, 1 << 20, 0);
    unsigned char *p[NCLASSES];
    for (size_t i = 0; i < NCLASSES; i++)
        p[i] = MemHeap_Alloc(g, classes[i]);
    size_t runs = count_runs(g);
    cr_assert_eq(runs, NCLASSES);
    for (size_t i = 0; i < NCLASSES; i++)
        cr_assert_eq(MemHeap_Free(g, p[i]), MEM_OK);
    cr_assert_eq(count_runs(g), runs, "every class keeps its empty run as a spare");
    MemStats before = MemHeap_Stats(g);
    cr_assert_null(MemHeap_Alloc(g, whole + 1), "too large for the heap");
    MemStats after = MemHeap_Stats(g);
    cr_assert_eq(after.runs, before.runs, "a failed allocation gives back nothing");
    cr_assert_eq(after.free_blocks, before.free_blocks);
    cr_assert_eq(after.failed_allocs, before.failed_allocs + 1);
    static Log log;
    log.n = 0;
    MemHeap_SetObserver(g, record, &log);
    cr_assert_not_null(MemHeap_Alloc(g, whole), "the spares go back for it");
    cr_assert_eq(count(&log, MEM_EV_RUN_RELEASE), runs);
    cr_assert_eq(count_runs(g), 0);
    th_check(g);
}

/* The same operations on MEM_FAST and on MEM_FAST without runs, in heaps
 * too small for runs: the same heap, block for block. */
Test(spare, a_heap_too_small_for_runs_is_the_block_heap)
{
    static _Alignas(16) unsigned char a[4096], b[4096];
    MemHeap *x = MemHeap_Create(a, sizeof a, MEM_FAST, 0);
    MemHeap *y = MemHeap_Create(b, sizeof b, MEM_FAST, MEM_OPT_NORUNS);
    ThRng rng = {th_seed(21)};
    unsigned char *px[32] = {0}, *py[32] = {0};
    for (int op = 0; op < 4000; op++) {
        unsigned k = (unsigned)th_below(&rng, 32);
        if (px[k]) {
            cr_assert_eq(MemHeap_Free(x, px[k] + 1), MemHeap_Free(y, py[k] + 1));
            px[k] = py[k] = NULL;
        } else {
            size_t size = 2 + th_below(&rng, 400);
            px[k] = MemHeap_Alloc(x, size);
            py[k] = MemHeap_Alloc(y, size);
            cr_assert_eq(px[k] == NULL, py[k] == NULL, "op %d", op);
        }
        char lx[1024];
        snprintf(lx, sizeof lx, "%s", th_layout(x));
        cr_assert_str_eq(lx, th_layout(y), "op %d", op);
    }
}

/* ---- hooks ---------------------------------------------------------------------- */

typedef struct Slots {
    size_t n, live, object, last_offset;
    size_t size;
    bool ordered;
} Slots;

static bool slot_visit(const MemSlot *s, void *arg)
{
    Slots *t = arg;
    if (t->n && s->offset != t->last_offset + s->size)
        t->ordered = false;
    cr_assert_eq(s->index, t->n);
    t->last_offset = s->offset;
    t->size = s->size;
    t->n++;
    t->live += s->live;
    t->object += s->object;
    cr_assert(s->live ? s->object > 0 && s->object <= s->size : s->object == 0);
    return true;
}

Test(hooks, walk_and_slot_walk_report_runs)
{
    MemHeap *h = th_heap(MEM_FAST, 1 << 20, 0);
    unsigned char *p[10];
    for (int i = 0; i < 10; i++)
        p[i] = MemHeap_Alloc(h, 85 + (size_t)i);
    MemHeap_Free(h, p[3]);
    MemHeap_Free(h, p[7] + 50);
    MemBlock r = run_of(h, p[0]);
    cr_assert(r.run && r.used);
    cr_assert_eq(r.slot_size, 96);
    cr_assert_eq(r.live_slots, 8);
    size_t want = 0;
    for (int i = 0; i < 10; i++)
        if (i != 3 && i != 7)
            want += 85 + (size_t)i;
    cr_assert_eq(r.object, want);
    cr_assert_eq(r.size, r.header + r.object + r.padding + (r.slots - r.live_slots) * 96);
    cr_assert_eq(r.slot_offset, r.offset + r.header);
    Slots s = {.ordered = true};
    cr_assert_eq(MemHeap_WalkSlots(h, r.offset, slot_visit, &s), r.slots);
    cr_assert(s.ordered && s.n == r.slots && s.live == 8 && s.object == want && s.size == 96);
    /* not a run: nothing */
    cr_assert_eq(MemHeap_WalkSlots(h, r.offset + 16, slot_visit, &s), 0);
    cr_assert_eq(MemHeap_WalkSlots(h, r.offset + r.size, slot_visit, &s), 0, "the free tail");
    cr_assert_eq(MemHeap_WalkSlots(h, 3, slot_visit, &s), 0);
    cr_assert_eq(MemHeap_WalkSlots(h, SIZE_MAX - 7, slot_visit, &s), 0);
    cr_assert_eq(MemHeap_WalkSlots(NULL, r.offset, slot_visit, &s), 0);
    cr_assert_eq(MemHeap_WalkSlots(h, r.offset, NULL, NULL), 0);
}

Test(hooks, events_name_the_run_and_the_slot)
{
    MemHeap *h = th_heap(MEM_FAST, 1 << 20, 0);
    static Log log;
    log.n = 0;
    MemHeap_SetObserver(h, record, &log);
    unsigned char *a = MemHeap_Alloc(h, 20);
    cr_assert_eq(log.n, 2);
    cr_assert_eq(log.ev[0].kind, MEM_EV_RUN_NEW);
    cr_assert_eq(log.ev[0].request, 32, "the slot size");
    cr_assert_eq(log.ev[0].run, log.ev[0].block);
    cr_assert_gt(log.ev[0].remainder, 0, "split off the free block");
    const MemEvent *al = &log.ev[1];
    cr_assert_eq(al->kind, MEM_EV_ALLOC);
    cr_assert_eq(al->run, log.ev[0].block);
    cr_assert_eq(al->slot, 0);
    cr_assert_eq(al->object, off(h, a));
    cr_assert_eq(al->block, off(h, a), "block/size: the slot");
    cr_assert_eq(al->size, 32);
    cr_assert_eq(al->request, 20);
    unsigned char *b = MemHeap_Alloc(h, 31);
    cr_assert_eq(log.n, 3);
    cr_assert_eq(log.ev[2].slot, 1);
    cr_assert_eq(log.ev[2].op, 2);
    log.n = 0;
    cr_assert_eq(MemHeap_Free(h, b + 30), MEM_OK);
    cr_assert_eq(log.n, 1);
    cr_assert_eq(log.ev[0].kind, MEM_EV_FREE);
    cr_assert_eq(log.ev[0].slot, 1);
    cr_assert_eq(log.ev[0].pointer, (ptrdiff_t)off(h, b + 30));
    cr_assert_eq(log.ev[0].object, off(h, b));
    cr_assert_eq(log.ev[0].request, 31);
    log.n = 0;
    cr_assert_eq(MemHeap_Free(h, b), MEM_REJECT_FREE);
    cr_assert_eq(log.ev[0].kind, MEM_EV_REJECT);
    cr_assert_eq(log.ev[0].run, run_of(h, a).offset, "the refusal names the run");
    cr_assert_eq(log.ev[0].slot, 1);
    log.n = 0;
    unsigned char *big = MemHeap_Alloc(h, 2000);
    cr_assert_not_null(big);
    cr_assert_eq(log.ev[0].run, 0, "a block is in no run");
}

Test(hooks, statistics_count_free_slots_apart)
{
    MemHeap *h = th_heap(MEM_FAST, 1 << 20, 0);
    unsigned char *p[100];
    for (int i = 0; i < 100; i++)
        p[i] = MemHeap_Alloc(h, 10);
    for (int i = 0; i < 100; i += 4)
        MemHeap_Free(h, p[i]);
    MemBlock r = run_of(h, p[1]);
    MemStats s = MemHeap_Stats(h);
    cr_assert_eq(s.runs, 1);
    cr_assert_eq(s.run_slots, r.slots);
    cr_assert_eq(s.run_free_slots, r.slots - 75);
    cr_assert_eq(s.run_free_bytes, (r.slots - 75) * 16);
    cr_assert_eq(s.run_bytes, r.size);
    cr_assert_float_eq(s.run_frag, (double)s.run_free_bytes / (double)r.size, 1e-12);
    cr_assert_eq(s.used_blocks, 75, "objects, not blocks");
    cr_assert_eq(s.live_bytes, 750);
    cr_assert_eq(s.padding_bytes, r.padding, "6 bytes a slot and the run's tail");
    cr_assert_eq(s.header_bytes, r.header);
    cr_assert_eq(s.used_bytes, s.live_bytes + s.header_bytes + s.padding_bytes + s.run_free_bytes);
    MemStats n = MemHeap_Stats(th_heap(MEM_BEST_FIT, 1 << 16, 0));
    cr_assert_eq(n.runs + n.run_slots + n.run_bytes, 0);
}

/* ---- the checker must notice damaged run metadata ---------------------------------- */

typedef struct Damaged {
    MemHeap *h;
    unsigned char *p[8];
    MemBlock run;
    RunTable *t;
} Damaged;

/* A run of 48-byte slots with eight objects, the third freed. */
static Damaged damaged(void)
{
    Damaged d;
    d.h = th_heap(MEM_FAST, 1 << 20, 0);
    for (int i = 0; i < 8; i++)
        d.p[i] = MemHeap_Alloc(d.h, 40);
    MemHeap_Free(d.h, d.p[2]);
    th_check(d.h);
    d.run = run_of(d.h, d.p[0]);
    d.t = (RunTable *)(void *)((unsigned char *)MemHeap_Region(d.h).base + d.run.offset + 8);
    th_expose(d.h);
    return d;
}

static void expect_broken(const MemHeap *h, const char *what, const char *words)
{
    char why[256];
    cr_assert_gt(MemHeap_Diagnose(h, why, sizeof why), 0, "checker missed: %s", what);
    cr_assert_eq(MemHeap_Check(h), -1);
    cr_assert(strstr(why, words), "%s: the sentence (%s) should say \"%s\"", what, why, words);
}

/* The words of the live bitmap carry keyed hashes (runs.h): a raw store is
 * caught by them; a word rewritten with its hash (which only the library
 * can compute, run_word_put) is caught by the count. */
static uint32_t run_gran(const Damaged *d) { return (uint32_t)((d->run.offset - 8) / 16); }

Test(checker, notices_a_flipped_live_bit)
{
    Damaged d = damaged();
    uint64_t *bits = (uint64_t *)(void *)(d.t + 1);
    run_word_put(d.h, run_gran(&d), d.t, &d.h->runs[d.t->cls], 0,
                 bits[0] ^ 1u << 2); /* slot 2: free -> live */
    expect_broken(d.h, "live bit", "live bits");
    bits[0] ^= 1u << 3; /* a raw store: the word's hash fails */
    expect_broken(d.h, "live bit", "fails its keyed hash");
    cr_assert_eq(MemHeap_Free(d.h, d.p[3]), MEM_REJECT_CORRUPT, "the run is not trusted");
}

Test(checker, notices_a_wrong_live_count)
{
    Damaged d = damaged();
    d.t->nlive++;
    expect_broken(d.h, "count", "its count says");
}

Test(checker, notices_a_size_outside_its_slot)
{
    /* A class above 128 bytes keeps a byte a slot (in those up to 128, half
     * a byte holds no size outside the class): 200 bytes go to 224. */
    MemHeap *h = th_heap(MEM_FAST, 1 << 20, 0);
    void *p[8];
    for (int i = 0; i < 8; i++)
        cr_assert_not_null(p[i] = MemHeap_Alloc(h, 200));
    th_check(h);
    MemBlock run = run_of(h, p[0]);
    cr_assert_eq(run.slot_size, 224);
    RunTable *t = (RunTable *)(void *)((unsigned char *)MemHeap_Region(h).base + run.offset + 8);
    th_expose(h);
    unsigned char *sizes = (unsigned char *)(void *)(t + 1) + 8 * ((run.slots + 63) / 64);
    sizes[4] = 224; /* slot 4: an object of 0 bytes */
    expect_broken(h, "size", "is not of its class");
    sizes[4] = 40; /* 184 bytes: below the 224-byte class */
    expect_broken(h, "size", "is not of its class");
}

Test(checker, notices_a_wrong_class)
{
    Damaged d = damaged();
    d.t->cls = 7;
    expect_broken(d.h, "class", "run at");
    cr_assert_eq(MemHeap_Free(d.h, d.p[0]), MEM_REJECT_CORRUPT, "the run is not trusted");
    d.t->cls = 200;
    expect_broken(d.h, "class", "names class 200");
    cr_assert_eq(MemHeap_Classify(d.h, d.p[1]), MEM_REJECT_CORRUPT);
}

Test(checker, notices_bitmap_bits_past_the_last_slot)
{
    Damaged d = damaged();
    uint64_t *bits = (uint64_t *)(void *)(d.t + 1);
    size_t last = (d.run.slots - 1) / 64;
    if (d.run.slots % 64 == 0)
        cr_skip_test("the class fills its last word");
    run_word_put(d.h, run_gran(&d), d.t, &d.h->runs[d.t->cls], (unsigned)last,
                 bits[last] & ~((uint64_t)1 << 63));
    expect_broken(d.h, "padding bits", "past its");
}

Test(checker, notices_a_broken_list_of_runs)
{
    Damaged d = damaged();
    d.t->prev = 12345;
    expect_broken(d.h, "prev link", "prev link");
    d.t->prev = NIL;
    d.t->next = 3; /* granule 3 is no run */
    expect_broken(d.h, "next link", "not a run of the class");
}

Test(checker, notices_a_search_hint_out_of_range)
{
    Damaged d = damaged();
    d.t->hint = 200;
    expect_broken(d.h, "hint", "the search starts at word");
    /* the fast path must not follow it: the allocation goes the full way */
    unsigned char *q = MemHeap_Alloc(d.h, 40);
    cr_assert(q == NULL || run_of(d.h, q).offset != d.run.offset || q == d.p[2],
              "a slot handed out through a wild hint");
}

Test(checker, notices_wrong_run_counters)
{
    Damaged d = damaged();
    d.h->runs[2].live++;
    expect_broken(d.h, "class live count", "live slots counted");
    d.h->runs[2].live--;
    d.h->run_bytes += 16;
    expect_broken(d.h, "run bytes", "run bytes counter");
}

/* A store from the block before a run reaches its header and table: no
 * slot of it is handed out or freed again, nothing outside it changes. */
Test(checker, an_overflow_into_a_run_is_never_trusted)
{
    MemHeap *h = th_heap(MEM_FAST, 1 << 20, MEM_OPT_NOLOCK);
    unsigned char *s[4];
    for (int i = 0; i < 4; i++)
        s[i] = MemHeap_Alloc(h, 24);
    MemBlock r = run_of(h, s[0]);
    /* the run is cut from the top of the free space: the block below it
     * takes all the rest */
    size_t rest = MemHeap_Stats(h).largest_request;
    unsigned char *big = MemHeap_Alloc(h, rest);
    cr_assert_not_null(big);
    cr_assert_eq(off(h, big) + rest, r.offset, "the run follows the block");
    th_expose(h);
    memset(big + rest, 0, 8 + 8 + 16 + 8); /* the run's header, table, bitmap */
    cr_assert_eq(MemHeap_Check(h), -1);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(MemHeap_Free(h, s[i]), MEM_REJECT_CORRUPT, "slot %d", i);
        cr_assert_null(MemHeap_Find(h, s[i], NULL));
    }
    for (int i = 0; i < 100; i++) {
        unsigned char *q = MemHeap_Alloc(h, 24);
        cr_assert(q == NULL || q < (unsigned char *)MemHeap_Region(h).base + r.offset ||
                      q >= (unsigned char *)MemHeap_Region(h).base + r.offset + r.size,
                  "allocation %d took a slot of the damaged run", i);
    }
    cr_assert_eq(MemHeap_Free(h, big), MEM_REJECT_CORRUPT, "its neighbour is damaged");
}

/* What MemHeap_Resize (lib/resize.c) relies on: an object in a slot grows
 * or shrinks in place within its class, and only there. */
Test(slots, an_object_resizes_in_place_within_its_class)
{
    MemHeap *h = th_heap(MEM_FAST, 1 << 20, 0);
    unsigned char *a = MemHeap_Alloc(h, 40), *b = MemHeap_Alloc(h, 40);
    cr_assert(a && b);
    MemBlock r = run_of(h, a);
    uint32_t g = (uint32_t)((r.offset - 8) / 16), slot = (uint32_t)((off(h, a) - r.slot_offset) / 48);
    cr_assert(mem_run_resize(h, g, slot, 48), "40 -> 48: the same class");
    size_t size = 0;
    cr_assert_eq(MemHeap_Find(h, a + 47, &size), a);
    cr_assert_eq(size, 48);
    cr_assert(mem_run_resize(h, g, slot, 33));
    cr_assert_null(MemHeap_Find(h, a + 33, NULL), "the bytes past 33 are padding again");
    cr_assert_not(mem_run_resize(h, g, slot, 49), "49 is of the next class");
    cr_assert_not(mem_run_resize(h, g, slot, 32), "32 is of the class below");
    cr_assert_not(mem_run_resize(h, g, slot + 5, 40), "a free slot");
    cr_assert_eq(MemHeap_Stats(h).live_bytes, 33 + 40);
    th_check(h);
}

/* ---- the fast paths' moves of runs (no observer, one thread) --------------- */

/* A program's temporaries: one object allocated and freed again and again.
 * The run empties into the spare and the spare comes back, on the fast
 * paths, and everything stays exact. */
Test(spare, a_temporary_alternating_in_one_run_keeps_its_slot_and_counts)
{
    MemHeap *h = th_heap(MEM_FAST, 1 << 20, MEM_OPT_NOLOCK);
    unsigned char *first = MemHeap_Alloc(h, 64);
    cr_assert_not_null(first);
    cr_assert_eq(MemHeap_Free(h, first + 10), MEM_OK);
    for (int i = 0; i < 200; i++) {
        size_t size = 49 + (size_t)i % 16; /* all of the 64-byte class */
        unsigned char *p = MemHeap_Alloc(h, size);
        cr_assert_eq(p, first, "round %d: the spare's first slot again", i);
        size_t got = 0;
        cr_assert_eq(MemHeap_Find(h, p + size - 1, &got), p);
        cr_assert_eq(got, size, "exact size");
        cr_assert_null(MemHeap_Find(h, p + size, NULL), "the slot's padding is no object");
        MemStats s = MemHeap_Stats(h);
        cr_assert_eq(s.live_bytes, size);
        cr_assert_eq(s.run_free_slots, s.run_slots - 1);
        cr_assert_eq(MemHeap_Free(h, p + i % (int)size), MEM_OK);
        s = MemHeap_Stats(h);
        cr_assert_eq(s.runs, 1, "one run, the spare");
        cr_assert_eq(s.run_free_slots, s.run_slots);
        cr_assert_eq(s.live_bytes, 0);
        cr_assert_eq(s.allocs, (uint64_t)i + 2u);
        cr_assert_eq(s.frees, (uint64_t)i + 2u);
        cr_assert_eq(MemHeap_Free(h, p), MEM_REJECT_FREE, "a double free into the spare");
        cr_assert_eq(MemHeap_Stats(h).rejected_frees, (uint64_t)i + 1u);
        th_check(h);
    }
}

/* A full run that gets a slot back goes to the head of its class's list on
 * the fast path: the next allocation takes that slot. */
Test(spare, a_full_run_that_gets_a_slot_back_serves_the_next_allocation)
{
    MemHeap *h = th_heap(MEM_FAST, 1 << 20, MEM_OPT_NOLOCK);
    unsigned char *p[600];
    p[0] = MemHeap_Alloc(h, 30);
    size_t n = run_of(h, p[0]).slots;
    cr_assert_lt(n + 1, sizeof p / sizeof p[0]);
    for (size_t i = 1; i <= n; i++) /* the last one opens a second run */
        cr_assert_not_null(p[i] = MemHeap_Alloc(h, 30));
    cr_assert_eq(count_runs(h), 2);
    cr_assert_neq(run_of(h, p[n]).offset, run_of(h, p[0]).offset);
    for (size_t k = 0; k < 3; k++) {
        size_t i = 5 + 40 * k;
        cr_assert_eq(MemHeap_Free(h, p[i] + 29), MEM_OK);
        th_check(h);
        unsigned char *q = MemHeap_Alloc(h, 31);
        cr_assert_eq(q, p[i], "the full run's freed slot, taken again");
        p[i] = q;
        th_check(h);
    }
    MemStats s = MemHeap_Stats(h);
    cr_assert_eq(s.used_blocks, n + 1);
    cr_assert_eq(s.run_free_slots, s.run_slots - n - 1);
}

/* The spare's header changes behind the heap's back (an overflow from the
 * block before it): the fast path does not take it, and the checker says
 * that the class's copy of the header no longer matches. */
Test(checker, notices_a_spare_whose_header_changed)
{
    MemHeap *h = th_heap(MEM_FAST, 1 << 20, MEM_OPT_NOLOCK);
    unsigned char *p = MemHeap_Alloc(h, 100);
    MemBlock r = run_of(h, p);
    cr_assert_eq(MemHeap_Free(h, p), MEM_OK);
    th_check(h);
    th_expose(h);
    unsigned char *hdr = (unsigned char *)MemHeap_Region(h).base + r.offset;
    hdr[0] ^= 0x40; /* the size */
    cr_assert_eq(MemHeap_Check(h), -1);
    for (int i = 0; i < 20; i++) {
        unsigned char *q = MemHeap_Alloc(h, 100);
        cr_assert(q == NULL || q < hdr || q >= hdr + r.size, "a slot of the damaged spare");
    }
    hdr[0] ^= 0x40;
}

Test(checker, notices_a_wrong_copy_of_a_runs_header)
{
    MemHeap *h = th_heap(MEM_FAST, 1 << 20, MEM_OPT_NOLOCK);
    unsigned char *q = MemHeap_Alloc(h, 20), *q2 = MemHeap_Alloc(h, 20);
    cr_assert(q && q2); /* the second on the fast path: the head's copy taken */
    th_check(h);
    unsigned head = mem_run_class_of[(20 - 1) / 16];
    cr_assert_neq(h->runs[head].head_hdr, 0, "the head's header copied");
    h->runs[head].head_hdr ^= 1u << 4; /* a size bit */
    expect_broken(h, "head copy", "copy of its first listed run's header");
    h->runs[head].head_hdr ^= 1u << 4;
    th_check(h);
    h->runs[head].head_hdr ^= (uint64_t)1 << 60; /* a tag bit */
    expect_broken(h, "head copy", "copy of its first listed run's header");
}

/* A spare that the free fast path left on its list, behind another run,
 * still goes back when the block heap needs its room: taken off the list
 * first, the list intact. */
Test(spare, a_listed_spare_behind_another_run_goes_back_for_a_large_request)
{
    MemHeap *h = th_heap(MEM_FAST, 1 << 20, MEM_OPT_NOLOCK);
    unsigned char *p[600];
    p[0] = MemHeap_Alloc(h, 64);
    size_t n = run_of(h, p[0]).slots;
    cr_assert_lt(n, sizeof p / sizeof p[0]);
    for (size_t i = 1; i < n; i++)
        cr_assert_not_null(p[i] = MemHeap_Alloc(h, 64)); /* run A is full */
    unsigned char *q = MemHeap_Alloc(h, 64);              /* run B */
    MemBlock b = run_of(h, q);
    cr_assert_eq(MemHeap_Free(h, q), MEM_OK); /* B: the spare, listed */
    cr_assert_eq(MemHeap_Free(h, p[3]), MEM_OK); /* A to the head: A, B */
    th_check(h);
    MemStats s = MemHeap_Stats(h);
    cr_assert_eq(s.runs, 2);
    size_t big = s.largest_request + b.size / 2;
    static Log log;
    log.n = 0;
    MemHeap_SetObserver(h, record, &log);
    unsigned char *x = MemHeap_Alloc(h, big);
    cr_assert_not_null(x, "B's room, given back, makes the request fit");
    cr_assert_eq(count(&log, MEM_EV_RUN_RELEASE), 1);
    cr_assert_eq(count_runs(h), 1);
    th_check(h);
    cr_assert_eq(MemHeap_Alloc(h, 64), p[3], "A still serves its class");
    th_check(h);
}

/* Issue 9's rule on the free fast path: a run becomes the (listed) spare
 * only when its whole keyed bitmap agrees that it is empty.  A count
 * lowered by a stray store (the table is not keyed, its words are) must
 * not make a spare of a run that holds an object in another word. */
Test(spare, a_wrong_count_makes_no_spare_of_a_run_with_a_live_slot)
{
    MemHeap *h = th_heap(MEM_FAST, 1 << 20, MEM_OPT_NOLOCK);
    unsigned char *p[80];
    for (int i = 0; i < 80; i++)
        cr_assert_not_null(p[i] = MemHeap_Alloc(h, 16));
    MemBlock r = run_of(h, p[0]);
    cr_assert_gt(r.slots, 80, "one run holds them all, over two bitmap words");
    cr_assert_eq(run_of(h, p[70]).offset, r.offset);
    for (int i = 1; i < 80; i++)
        if (i != 70)
            cr_assert_eq(MemHeap_Free(h, p[i]), MEM_OK);
    th_check(h);
    memset(p[70], 0x5a, 16);
    th_expose(h); /* the test reads the run's table */
    RunTable *t = (RunTable *)(void *)((unsigned char *)MemHeap_Region(h).base + r.offset + HDR);
    unsigned cls = t->cls;
    cr_assert_eq(t->nlive, 2);
    t->nlive = 1; /* slot 70 (word 1) is still live */
    MemHeap_Free(h, p[0]);
    cr_assert_eq(h->runs[cls].spare, NIL, "no spare of a run with a live slot");
    for (int i = 0; i < 400; i++) {
        unsigned char *q = MemHeap_Alloc(h, 16);
        cr_assert(q == NULL || q + 16 <= p[70] || q >= p[70] + 16, "a slot over a live object");
        if (q && i % 3)
            MemHeap_Free(h, q);
    }
    for (int i = 0; i < 16; i++)
        cr_assert_eq(p[70][i], 0x5a, "the live object is intact");
}

/* The fast paths take the heap's keys from a per-thread copy while the
 * heap's seal reads as it did (mem_hot_of).  A heap released and made again
 * in the same memory, with the same size and policy, has new keys (and so
 * a new seal), and a second heap used in turns takes the copy back and
 * forth: every operation still does what it should and both heaps check
 * clean. */
Test(fastpath, a_heap_made_again_in_the_same_place_gets_its_own_keys)
{
    size_t len = (1u << 20) + 4096u;
    void *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(mem, MAP_FAILED);
    MemHeap *other = th_heap(MEM_FAST, 1 << 20, 0), *first = NULL;
    for (int round = 0; round < 3; round++) {
        MemHeap *h = MemHeap_Create(mem, len, MEM_FAST, 0);
        cr_assert_not_null(h);
        if (!first)
            first = h;
        cr_assert_eq(h, first, "made again at the same address");
        void *keep[64];
        for (int i = 0; i < 64; i++) {
            cr_assert_not_null(keep[i] = MemHeap_Alloc(h, 16 + (size_t)i));
            void *t = MemHeap_Alloc(h, 40);
            cr_assert_not_null(t);
            void *o = MemHeap_Alloc(other, 24); /* the other heap between */
            cr_assert_not_null(o);
            cr_assert_eq(MemHeap_Free(h, t), MEM_OK);
            cr_assert_eq(MemHeap_Free(other, o), MEM_OK);
        }
        for (int i = 0; i < 64; i += 2)
            cr_assert_eq(MemHeap_Free(h, keep[i]), MEM_OK);
        th_check(h);
        th_check(other);
        MemHeap_Release(h);
    }
    munmap(mem, len);
}

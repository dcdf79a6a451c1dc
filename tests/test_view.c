/*
 * test_view.c - MemHeap_View (lib/view.c): a heap read through a second,
 * read-only mapping of its region at another address, as heapviz reads a
 * running program's heap.  The view must answer as the heap does, refuse
 * every write, reject control structures that do not describe a heap that
 * fits, and survive a torn or hostile arena (random bytes, and a writer
 * changing the heap while it is read) without a crash or an endless walk.
 */
#include "testlib.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define REGION ((size_t)1 << 20)

typedef struct Pair {
    int fd;
    unsigned char *rw, *ro; /* the same memory at two addresses */
    MemHeap *h;
    _Alignas(16) unsigned char view[4096];
} Pair;

static void pair_open(Pair *p, MemPolicy policy, unsigned flags)
{
    p->fd = memfd_create("test-view", MFD_CLOEXEC);
    cr_assert_geq(p->fd, 0);
    cr_assert_eq(ftruncate(p->fd, (off_t)REGION), 0);
    p->rw = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd, 0);
    p->ro = mmap(NULL, REGION, PROT_READ, MAP_SHARED, p->fd, 0);
    cr_assert(p->rw != MAP_FAILED && p->ro != MAP_FAILED && p->rw != p->ro);
    p->h = MemHeap_Create(p->rw, REGION, policy, flags);
    cr_assert_not_null(p->h);
    cr_assert_leq(MemHeap_ViewSize(), sizeof p->view);
}

static MemHeap *pair_view(Pair *p)
{
    return MemHeap_View(p->view, p->ro, REGION);
}

static void churn(MemHeap *h, void **keep, size_t n, ThRng *rng, size_t steps)
{
    for (size_t i = 0; i < steps; i++) {
        size_t k = th_below(rng, n);
        if (keep[k]) {
            MemHeap_Free(h, keep[k]);
            keep[k] = NULL;
        } else {
            keep[k] = MemHeap_Alloc(h, 1 + th_below(rng, 600));
        }
    }
}

Test(view, answers_as_the_heap_does_at_another_address)
{
    for (unsigned pol = 0; pol < MEM_POLICY_COUNT; pol++) {
        Pair p;
        pair_open(&p, (MemPolicy)pol, pol == MEM_FAST ? MEM_OPT_GUARD : 0);
        void *keep[200] = {0};
        ThRng rng = {pol + 1};
        churn(p.h, keep, 200, &rng, 3000);
        MemHeap *v = pair_view(&p);
        cr_assert_not_null(v, "%s", MemPolicy_Name((MemPolicy)pol));
        char a[4096], b[4096];
        snprintf(a, sizeof a, "%s", th_layout(p.h));
        snprintf(b, sizeof b, "%s", th_layout(v));
        cr_assert_str_eq(a, b, "the walk through the view is the heap's");
        snprintf(a, sizeof a, "%s", th_free_order(p.h));
        snprintf(b, sizeof b, "%s", th_free_order(v));
        cr_assert_str_eq(a, b, "so is the free order");
        MemStats s = MemHeap_Stats(p.h), t = MemHeap_Stats(v);
        cr_assert_eq(s.live_bytes, t.live_bytes);
        cr_assert_eq(s.free_blocks, t.free_blocks);
        cr_assert_eq(s.largest_free, t.largest_free);
        cr_assert_eq(s.ops, t.ops);
        MemRegion rr = MemHeap_Region(p.h), rv = MemHeap_Region(v);
        cr_assert_eq((unsigned char *)rv.base - p.ro, (unsigned char *)rr.base - p.rw);
        cr_assert_eq(rv.size, rr.size);
        cr_assert_eq(rv.flags, rr.flags, "the creator's flags");
        cr_assert_eq(MemHeap_Check(v), 0);
        for (size_t k = 0; k < 200; k++) {
            if (!keep[k])
                continue;
            size_t off = (size_t)((unsigned char *)keep[k] - p.rw);
            size_t size = 0;
            cr_assert_eq(MemHeap_Find(v, p.ro + off, &size), p.ro + off);
            size_t want = 0;
            MemHeap_Find(p.h, keep[k], &want);
            cr_assert_eq(size, want);
        }
        munmap(p.rw, REGION);
        munmap(p.ro, REGION);
        close(p.fd);
    }
}

Test(view, refuses_every_write_and_sees_later_states_when_reopened)
{
    Pair p;
    pair_open(&p, MEM_FAST, 0);
    unsigned char *a = MemHeap_Alloc(p.h, 100);
    MemHeap *v = pair_view(&p);
    cr_assert_not_null(v);
    unsigned char *va = p.ro + (a - p.rw);
    cr_assert_null(MemHeap_Alloc(v, 10));
    cr_assert_null(MemHeap_AllocAligned(v, 64, 10));
    cr_assert_eq(MemHeap_Free(v, va), MEM_REJECT_VIEW);
    cr_assert_eq(MemHeap_FreeExact(v, va), MEM_REJECT_VIEW);
    cr_assert_eq(MemHeap_Resize(v, va, 10), -1);
    cr_assert_str_eq(MemReject_Describe(MEM_REJECT_VIEW),
                     "is not freed: the heap is a read-only view");
    cr_assert_eq(MemHeap_Stats(v).used_blocks, 1);
    cr_assert_eq(MemHeap_Free(p.h, a), 0);
    cr_assert_eq(MemHeap_Stats(v).allocs, 1, "the view is a copy taken when it was opened");
    v = pair_view(&p);
    cr_assert_eq(MemHeap_Stats(v).used_blocks, 0, "reopened, it sees the free");
    cr_assert_eq(MemHeap_Stats(v).frees, 1);
    th_check(v);
}

static bool count_visit(const MemBlock *b, void *arg)
{
    (void)b;
    ++*(size_t *)arg;
    return true;
}

/* A reader in another process has another process secret: the keys the
 * view copied are wrong there, until MemHeap_ViewKeys installs the heap's
 * own (MemHeap_ExportKeys).  Simulated here by wrong keys installed on
 * purpose: every tag fails, the hooks refuse the blocks and nothing
 * crashes; the exported keys make the view whole again. */
Test(view, checks_tags_with_the_keys_it_is_given)
{
    for (unsigned pol = 0; pol < MEM_POLICY_COUNT; pol++) {
        Pair p;
        pair_open(&p, (MemPolicy)pol, 0);
        void *keep[100] = {0};
        ThRng rng = {pol + 7};
        churn(p.h, keep, 100, &rng, 1000);
        unsigned char keys[MEM_KEYS_SIZE], wrong[MEM_KEYS_SIZE];
        cr_assert_eq(MemHeap_ExportKeys(p.h, keys, sizeof keys), 0);
        cr_assert_eq(MemHeap_ExportKeys(p.h, keys, sizeof keys - 1), -1, "too small");
        cr_assert_eq(MemHeap_ExportKeys(NULL, keys, sizeof keys), -1);
        MemHeap *v = pair_view(&p);
        cr_assert_not_null(v);
        cr_assert_eq(MemHeap_ExportKeys(v, keys + 0, sizeof keys), -1, "a view has none to give");
        cr_assert_eq(MemHeap_ViewKeys(p.h, keys, sizeof keys), -1, "the heap is no view");
        cr_assert_eq(MemHeap_ViewKeys(v, NULL, sizeof keys), -1);
        for (size_t i = 0; i < sizeof wrong; i++)
            wrong[i] = (unsigned char)(keys[i] ^ (0x11u + i));
        cr_assert_eq(MemHeap_ViewKeys(v, wrong, sizeof wrong), 0);
        size_t n = 0;
        cr_assert_eq(MemHeap_Walk(v, count_visit, &n), 0, "%s: no tag passes",
                     MemPolicy_Name((MemPolicy)pol));
        cr_assert_eq(MemHeap_Check(v), -1);
        (void)MemHeap_WalkFree(v, count_visit, &n);
        (void)MemHeap_Stats(v);
        (void)th_layout(v);
        cr_assert_eq(MemHeap_ViewKeys(v, keys, sizeof keys), 0);
        char a[4096], b[4096];
        snprintf(a, sizeof a, "%s", th_layout(p.h));
        snprintf(b, sizeof b, "%s", th_layout(v));
        cr_assert_str_eq(a, b, "with the heap's keys the walk is the heap's");
        th_check(v);
    }
}

Test(view, rejects_a_control_structure_that_does_not_fit)
{
    static _Alignas(16) unsigned char region[65536], copy[65536];
    _Alignas(16) unsigned char view[4096];
    MemHeap *h = MemHeap_Create(region, sizeof region, MEM_BEST_FIT, 0);
    cr_assert_not_null(h);
    cr_assert(MemHeap_Alloc(h, 500));
    cr_assert_not_null(MemHeap_View(view, region, sizeof region));
    cr_assert_null(MemHeap_View(NULL, region, sizeof region));
    cr_assert_null(MemHeap_View(view, NULL, sizeof region));
    cr_assert_null(MemHeap_View(view + 1, region, sizeof region), "misaligned buffer");
    cr_assert_null(MemHeap_View(view, region, sizeof region / 2), "the arena is larger");
    cr_assert_null(MemHeap_View(view, region, 64), "smaller than a control structure");
    size_t ctl = MemHeap_ControlSize();
    th_expose(h); /* a reader's copy is plain bytes, headers and free space too */
    /* one byte of the control structure at a time, flipped: each is refused,
     * or (a counter, a list head) checked later by the hooks as they read */
    for (size_t i = 0; i < ctl; i++) {
        memcpy(copy, region, sizeof copy);
        copy[i] ^= 0x5a;
        MemHeap *v = MemHeap_View(view, copy, sizeof copy);
        if (!v)
            continue;
        MemStats s = MemHeap_Stats(v);
        (void)s;
        (void)th_layout(v);
        (void)th_free_order(v);
        (void)MemHeap_Check(v);
    }
    memset(copy, 0, sizeof copy);
    cr_assert_null(MemHeap_View(view, copy, sizeof copy), "zeroes are no heap");
}

Test(view, survives_random_bytes_in_the_arena)
{
    static _Alignas(16) unsigned char region[65536];
    _Alignas(16) unsigned char view[4096];
    for (unsigned pol = 0; pol < MEM_POLICY_COUNT; pol++) {
        MemHeap *h = MemHeap_Create(region, sizeof region, (MemPolicy)pol, 0);
        void *keep[64] = {0};
        ThRng rng = {pol + 7};
        churn(h, keep, 64, &rng, 500);
        MemRegion r = MemHeap_Region(h);
        th_expose(h);
        for (unsigned round = 0; round < 50; round++) {
            /* scribble over some of the arena, headers, links and bitmap */
            for (unsigned i = 0; i < 64; i++)
                ((unsigned char *)r.base)[th_below(&rng, r.size)] = (unsigned char)th_rand(&rng);
            MemHeap *v = MemHeap_View(view, region, sizeof region);
            cr_assert_not_null(v, "the control structure was not touched");
            (void)MemHeap_Stats(v);
            (void)th_layout(v);
            (void)th_free_order(v);
            (void)MemHeap_Check(v);
            for (unsigned i = 0; i < 64; i++)
                (void)MemHeap_Find(v, (unsigned char *)r.base + th_below(&rng, r.size), NULL);
        }
    }
}

typedef struct Writer {
    MemHeap *h;
    atomic_bool stop;
} Writer;

static void *writer(void *arg)
{
    Writer *w = arg;
    void *keep[256] = {0};
    ThRng rng = {99};
    while (!atomic_load(&w->stop))
        churn(w->h, keep, 256, &rng, 1000);
    return NULL;
}

Test(view, survives_a_heap_that_changes_while_it_is_read)
{
    Pair p;
    pair_open(&p, MEM_FAST, 0);
    Writer w = {p.h, false};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, writer, &w), 0);
    size_t walks = 0;
    for (unsigned i = 0; i < 2000; i++) {
        MemHeap *v = pair_view(&p);
        if (!v)
            continue; /* caught mid-copy: a torn control structure */
        walks++;
        (void)th_layout(v);
        (void)th_free_order(v);
        (void)MemHeap_Stats(v);
    }
    atomic_store(&w.stop, true);
    pthread_join(t, NULL);
    cr_assert_gt(walks, 100, "most views open (%zu of 2000)", walks);
    cr_assert_not_null(pair_view(&p));
    th_check(pair_view(&p));
}

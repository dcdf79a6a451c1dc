/*
 * test_threads.c - four threads on one heap (and sixteen, more than the
 * machine has CPUs, so that the lock's holder is preempted and its waiters
 * sleep).  Each thread allocates, fills, verifies and frees its own objects,
 * and hands some to a neighbour to free (through an interior pointer), so
 * blocks cross threads.  Run under ThreadSanitizer by `make tsan`.
 */
#include "testlib.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#define THREADS 4
#define MAX_THREADS 16
#define OPS 40000
#define SLOTS 64

typedef struct Shared {
    MemHeap *h;
    bool facade;
    int threads;     /* THREADS unless set */
    size_t max_size; /* of an object: 701 unless set */
    _Atomic(unsigned char *) mailbox[MAX_THREADS]; /* objects handed to thread i */
    atomic_size_t events;
    atomic_int failures;
} Shared;

typedef struct Worker {
    Shared *s;
    int id;
} Worker;

static void *t_alloc(Shared *s, size_t n)
{
    return s->facade ? Mem_Alloc((int)n) : MemHeap_Alloc(s->h, n);
}

static int t_free(Shared *s, void *p)
{
    return s->facade ? Mem_Free(p) : MemHeap_Free(s->h, p);
}

static void *worker(void *arg)
{
    Worker *w = arg;
    Shared *s = w->s;
    ThRng rng = {(uint64_t)w->id * 7919u + 1u};
    unsigned char *mine[SLOTS] = {0};
    size_t size[SLOTS] = {0};
    unsigned char fill = (unsigned char)(0x11 * (w->id + 1));
    int nthreads = s->threads ? s->threads : THREADS;
    size_t span = s->max_size ? s->max_size - 1u : 700u;
    for (int op = 0; op < OPS; op++) {
        int k = (int)th_below(&rng, SLOTS);
        if (mine[k]) {
            for (size_t i = 0; i < size[k]; i++)
                if (mine[k][i] != fill) {
                    atomic_fetch_add(&s->failures, 1);
                    break;
                }
            if (th_below(&rng, 8) == 0) {
                /* Hand it to the next thread; free whatever was waiting. */
                unsigned char *old = atomic_exchange(&s->mailbox[(w->id + 1) % nthreads], mine[k]);
                if (old && t_free(s, old + 1) != 0)
                    atomic_fetch_add(&s->failures, 1);
            } else if (t_free(s, mine[k] + th_below(&rng, size[k])) != 0) {
                atomic_fetch_add(&s->failures, 1);
            }
            mine[k] = NULL;
        } else {
            size[k] = 2 + th_below(&rng, span);
            mine[k] = t_alloc(s, size[k]);
            if (mine[k])
                memset(mine[k], fill, size[k]);
        }
        if (op % 1000 == 0 && !s->facade) {
            MemStats st = MemHeap_Stats(s->h);
            if (st.used_bytes + st.free_bytes + st.table_bytes != st.capacity)
                atomic_fetch_add(&s->failures, 1);
        }
        unsigned char *mine_now = mine[k];
        if (mine_now && (s->facade ? Mem_IsValid(mine_now + 1) != 1
                                   : MemHeap_Find(s->h, mine_now + 1, NULL) != mine_now))
            atomic_fetch_add(&s->failures, 1);
    }
    for (int k = 0; k < SLOTS; k++)
        if (mine[k] && t_free(s, mine[k]) != 0)
            atomic_fetch_add(&s->failures, 1);
    return NULL;
}

static void run_threads(Shared *s)
{
    /* a fresh heap's free blocks: one, or buddy's tiling of the arena */
    size_t initial_free = MemHeap_Stats(s->h).free_blocks;
    int nthreads = s->threads ? s->threads : THREADS;
    pthread_t t[MAX_THREADS];
    Worker w[MAX_THREADS];
    for (int i = 0; i < nthreads; i++) {
        w[i] = (Worker){s, i};
        cr_assert_eq(pthread_create(&t[i], NULL, worker, &w[i]), 0);
    }
    for (int i = 0; i < nthreads; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < nthreads; i++) {
        unsigned char *left = atomic_load(&s->mailbox[i]);
        if (left)
            cr_assert_eq(t_free(s, left), 0);
    }
    cr_assert_eq(atomic_load(&s->failures), 0, "a thread saw a wrong result");
    th_check(s->h);
    MemStats st = MemHeap_Stats(s->h);
    cr_assert_eq(st.used_blocks, 0, "every object was freed");
    /* everything coalesced, but for the empty runs that MEM_FAST keeps as
     * spares (a run's slots do not coalesce; the run does when it goes), and
     * for buddy's tiling of a fresh heap */
    cr_assert_eq(st.run_free_slots, st.run_slots, "every run is empty");
    cr_assert_leq(st.runs, 20, "one spare run per size class at most");
    cr_assert_leq(st.free_blocks, st.runs + initial_free, "and everything else coalesced");
    cr_assert_eq(st.allocs, st.frees);
    cr_assert_gt(st.allocs, (uint64_t)nthreads * OPS / 4);
}

static void on_event(const MemEvent *e, void *arg)
{
    (void)e;
    atomic_fetch_add(&((Shared *)arg)->events, 1);
}

Test(threads, four_threads_on_one_heap_under_every_policy)
{
    for (int p = 0; p < MEM_POLICY_COUNT; p++) {
        static Shared s;
        memset(&s, 0, sizeof s);
        s.h = th_heap((MemPolicy)p, 1 << 20, 0);
        cr_assert_not_null(s.h);
        MemHeap_SetObserver(s.h, on_event, &s);
        run_threads(&s);
        MemStats st = MemHeap_Stats(s.h);
        cr_assert_geq(atomic_load(&s.events), st.ops, "%s: one event per operation at least",
                      MemPolicy_Name((MemPolicy)p));
    }
}

Test(threads, four_threads_on_the_default_heap)
{
    cr_assert_eq(Mem_Init(1 << 20), 0);
    static Shared s;
    memset(&s, 0, sizeof s);
    s.h = Mem_DefaultHeap();
    s.facade = true;
    run_threads(&s);
    cr_assert_eq(Mem_Check(), 0);
}

/* No observer: small objects take the runs' fast paths, under the lock;
 * sixteen threads on a machine of fewer CPUs wait for a preempted holder. */
Test(threads, sixteen_threads_on_the_runs_fast_paths)
{
    static Shared s;
    memset(&s, 0, sizeof s);
    s.h = th_heap(MEM_FAST, 4 << 20, 0);
    cr_assert_not_null(s.h);
    s.threads = MAX_THREADS;
    s.max_size = 200;
    run_threads(&s);
}

/* An observer that queries the heap from inside an operation (the lock is
 * re-entered by its holder) while other threads wait for it. */
static void on_event_query(const MemEvent *e, void *arg)
{
    Shared *s = arg;
    (void)e;
    MemStats st = MemHeap_Stats(s->h);
    if (st.used_bytes + st.free_bytes + st.table_bytes != st.capacity)
        atomic_fetch_add(&s->failures, 1);
    atomic_fetch_add(&s->events, 1);
}

Test(threads, an_observer_reenters_the_lock_while_others_wait)
{
    static Shared s;
    memset(&s, 0, sizeof s);
    s.h = th_heap(MEM_FAST, 4 << 20, 0);
    cr_assert_not_null(s.h);
    s.threads = 8;
    MemHeap_SetObserver(s.h, on_event_query, &s);
    run_threads(&s);
    cr_assert_geq(atomic_load(&s.events), MemHeap_Stats(s.h).ops);
}

static atomic_int init_ok;

static void *racer(void *arg)
{
    (void)arg;
    if (Mem_Init(1 << 16) == 0)
        atomic_fetch_add(&init_ok, 1);
    return NULL;
}

Test(threads, concurrent_init_succeeds_once)
{
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, racer, NULL);
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    cr_assert_eq(atomic_load(&init_ok), 1);
    cr_assert_eq(th_mmap_calls, 1);
    cr_assert_not_null(Mem_Alloc(100));
}

/*
 * stress_threads.c - threads on one heap, for ThreadSanitizer (`make tsan`).
 *
 * A plain program, not a Criterion suite: Criterion's process arena cannot
 * be set up under TSan ("Could not initialize inheritable arena", Criterion
 * issue 274), so tests/test_threads.c cannot run there.  This covers the
 * same ground and more, and TSan watches all of it:
 *   - every policy, with and without guard mode: 4 threads allocate, fill,
 *     verify and free their own objects, and hand objects to a neighbour
 *     that frees them through an interior pointer; one thread also reads
 *     (Find, Classify, Stats, Walk, Check) while the others write; every
 *     thread also asks Find and Classify about interior bytes of the other
 *     threads' live objects while their owners rewrite them (the lookup
 *     may read no byte of an object: issue 9, BAD_INPUT.md H13); an
 *     observer counts events; afterwards the heap checks and its counters
 *     add up;
 *   - Mem_Init raced by 4 threads: exactly one succeeds (the others get
 *     EBUSY), then all 4 use the default heap.
 * STRESS_OPS sets the operations per thread (default 20000).  Prints one line
 * per scenario and "stress_threads: N passed, N failed"; exits 1 on failure.
 */
#include "mem.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define THREADS 4
#define SLOTS 48

typedef struct Shared {
    MemHeap *h; /* NULL: the Mem_* facade */
    long ops;
    _Atomic(unsigned char *) mailbox[THREADS];
    _Atomic(unsigned char *) shown[THREADS]; /* an object its owner keeps writing */
    atomic_int failures;
    atomic_long frees_done, allocs_done;
    char why[200];
    atomic_flag why_set;
    uint64_t events; /* written by the observer, under the heap's lock */
} Shared;

typedef struct Worker {
    Shared *s;
    int id;
    uint64_t rng;
} Worker;

static uint64_t next(Worker *w)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return w->rng;
}

static void failed(Shared *s, const char *what, int id)
{
    if (!atomic_flag_test_and_set(&s->why_set))
        snprintf(s->why, sizeof s->why, "thread %d: %s", id, what);
    atomic_fetch_add(&s->failures, 1);
}

static void *t_alloc(Shared *s, size_t n)
{
    return s->h ? MemHeap_Alloc(s->h, n) : Mem_Alloc((int)n);
}

static int t_free(Shared *s, void *p)
{
    return s->h ? MemHeap_Free(s->h, p) : Mem_Free(p);
}

/* Objects start with their size and the owner's mark, then a pattern. */
static void fill(unsigned char *p, size_t n, int id)
{
    memcpy(p, &n, sizeof n < n ? sizeof n : n);
    for (size_t i = sizeof n; i < n; i++)
        p[i] = (unsigned char)((size_t)id * 31u + i);
}

static int intact(const unsigned char *p, size_t n, int id)
{
    for (size_t i = sizeof n; i < n; i++)
        if (p[i] != (unsigned char)((size_t)id * 31u + i))
            return 0;
    return 1;
}

static bool count_block(const MemBlock *b, void *arg)
{
    ++*(size_t *)arg;
    return b->size > 0;
}

static void *worker(void *arg)
{
    Worker *w = arg;
    Shared *s = w->s;
    unsigned char *mine[SLOTS] = {0};
    size_t size[SLOTS] = {0};
    for (long op = 0; op < s->ops && !atomic_load(&s->failures); op++) {
        /* first, free what a neighbour handed over, through an interior byte */
        unsigned char *got = atomic_exchange(&s->mailbox[w->id], NULL);
        if (got) {
            size_t n;
            memcpy(&n, got, sizeof n);
            if (!intact(got, n, (w->id + THREADS - 1) % THREADS))
                failed(s, "a handed-over object was changed", w->id);
            if (t_free(s, got + n / 2) != 0)
                failed(s, "a handed-over object could not be freed", w->id);
            atomic_fetch_add(&s->frees_done, 1);
        }
        /* an interior byte of another thread's object, asked about while its
         * owner may be writing it (the answer may be stale: it is not checked) */
        size_t them = ((size_t)w->id + 1u + (size_t)(next(w) % (THREADS - 1))) % THREADS;
        unsigned char *other = atomic_load(&s->shown[them]);
        if (other && s->h) {
            (void)MemHeap_Find(s->h, other + 16 + next(w) % 64, NULL);
            (void)MemHeap_Classify(s->h, other + 16 + next(w) % 64);
        } else if (other) {
            (void)Mem_IsValid(other + 16 + next(w) % 64);
        }
        unsigned char *shown = atomic_load(&s->shown[w->id]);
        if (shown) { /* the owner goes on writing what it shows */
            size_t n;
            memcpy(&n, shown, sizeof n);
            fill(shown, n, w->id);
        }
        size_t k = (size_t)(next(w) % SLOTS);
        if (mine[k] && size[k] >= 96 && !shown) {
            atomic_store(&s->shown[w->id], mine[k]); /* others may ask about it now */
            fill(mine[k], size[k], w->id);           /* while it is rewritten */
        }
        if (mine[k]) {
            if (!intact(mine[k], size[k], w->id))
                failed(s, "an object was changed by someone else", w->id);
            unsigned char *was = mine[k];
            atomic_compare_exchange_strong(&s->shown[w->id], &was, NULL); /* no longer shown */
            unsigned char *expect = NULL;
            if (next(w) % 4 == 0 &&
                atomic_compare_exchange_strong(&s->mailbox[(w->id + 1) % THREADS], &expect,
                                               mine[k])) {
                mine[k] = NULL; /* the neighbour frees it */
                continue;
            }
            if (t_free(s, mine[k] + next(w) % size[k]) != 0)
                failed(s, "an own object could not be freed", w->id);
            atomic_fetch_add(&s->frees_done, 1);
            mine[k] = NULL;
        } else {
            size[k] = sizeof(size_t) + (size_t)(next(w) % (next(w) % 8 ? 200 : 3000));
            mine[k] = t_alloc(s, size[k]);
            if (mine[k]) {
                fill(mine[k], size[k], w->id);
                atomic_fetch_add(&s->allocs_done, 1);
            }
        }
        if (w->id == 0 && s->h && op % 64 == 0) { /* a reader among the writers */
            MemStats st = MemHeap_Stats(s->h);
            if (st.allocs < st.frees)
                failed(s, "stats: more frees than allocations", w->id);
            for (int i = 0; i < SLOTS; i++)
                if (mine[i] && MemHeap_Find(s->h, mine[i] + size[i] - 1, NULL) != mine[i])
                    failed(s, "Find lost an object", w->id);
            (void)MemHeap_Classify(s->h, (void *)(uintptr_t)next(w));
            if (op % 1024 == 0) {
                size_t blocks = 0;
                MemHeap_Walk(s->h, count_block, &blocks);
                char why[160];
                if (blocks == 0 || MemHeap_Diagnose(s->h, why, sizeof why) != 0)
                    failed(s, "the heap does not check while threads run", w->id);
            }
        }
    }
    atomic_store(&s->shown[w->id], NULL);
    for (int k = 0; k < SLOTS; k++)
        if (mine[k]) {
            if (t_free(s, mine[k]) != 0)
                failed(s, "a last free was refused", w->id);
            atomic_fetch_add(&s->frees_done, 1);
        }
    return NULL;
}

static void observe(const MemEvent *e, void *arg)
{
    Shared *s = arg;
    s->events += e->kind == MEM_EV_ALLOC || e->kind == MEM_EV_FREE;
}

static int run(Shared *s, const char *name)
{
    pthread_t t[THREADS];
    Worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (Worker){s, i, 0x9E3779B97F4A7C15u * (uint64_t)(i + 1)};
        if (pthread_create(&t[i], NULL, worker, &w[i]) != 0) {
            failed(s, "pthread_create", -1);
            return 0;
        }
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < THREADS; i++) { /* a handed-over object nobody took */
        unsigned char *left = atomic_exchange(&s->mailbox[i], NULL);
        if (left) {
            if (t_free(s, left) != 0)
                failed(s, "a left-over object could not be freed", i);
            atomic_fetch_add(&s->frees_done, 1);
        }
    }
    MemHeap *h = s->h ? s->h : Mem_DefaultHeap();
    MemStats st = MemHeap_Stats(h);
    char why[160] = "";
    if (MemHeap_Diagnose(h, why, sizeof why) != 0)
        failed(s, why, -1);
    if (st.used_blocks != 0 || st.live_bytes != 0)
        failed(s, "objects are left after every thread freed its own", -1);
    if ((long)st.allocs != atomic_load(&s->allocs_done) ||
        (long)st.frees != atomic_load(&s->frees_done))
        failed(s, "the heap's counts differ from the threads' counts", -1);
    if (s->h && s->events != st.allocs + st.frees)
        failed(s, "the observer missed events", -1);
    int ok = atomic_load(&s->failures) == 0;
    printf("stress_threads: %-22s %s: %ld allocations, %ld frees by %d threads%s%s\n", name,
           ok ? "ok" : "FAILED", atomic_load(&s->allocs_done), atomic_load(&s->frees_done),
           THREADS, ok ? "" : ": ", ok ? "" : s->why);
    return ok;
}

static void *race_init(void *arg)
{
    int *rc = arg;
    errno = 0;
    rc[0] = Mem_Init(1 << 20);
    rc[1] = errno;
    return NULL;
}

int main(void)
{
    const char *env = getenv("STRESS_OPS");
    long ops = env && *env ? strtol(env, NULL, 10) : 20000;
    int passed = 0, failed_runs = 0;
    size_t len = 1 << 20;
    void *region = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED)
        return 1;
    for (int pol = 0; pol < MEM_POLICY_COUNT; pol++) {
        for (unsigned flags = 0; flags <= MEM_OPT_GUARD; flags += MEM_OPT_GUARD) {
            Shared *s = calloc(1, sizeof *s);
            s->ops = ops;
            s->h = MemHeap_Create(region, len, (MemPolicy)pol, flags);
            MemHeap_SetObserver(s->h, observe, s);
            char name[32];
            snprintf(name, sizeof name, "%s%s", MemPolicy_Name((MemPolicy)pol),
                     flags ? "+guard" : "");
            run(s, name) ? passed++ : failed_runs++;
            MemHeap_Release(s->h);
            free(s);
        }
    }

    /* Mem_Init raced, then the facade shared */
    pthread_t t[THREADS];
    int rc[THREADS][2];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, race_init, rc[i]);
    int winners = 0, busy = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        winners += rc[i][0] == 0;
        busy += rc[i][0] == -1 && rc[i][1] == EBUSY;
    }
    if (winners == 1 && busy == THREADS - 1) {
        printf("stress_threads: %-22s ok: one of %d racing calls won, the others got EBUSY\n",
               "Mem_Init race", THREADS);
        passed++;
    } else {
        printf("stress_threads: %-22s FAILED: %d succeeded, %d got EBUSY\n", "Mem_Init race",
               winners, busy);
        failed_runs++;
    }
    Shared *s = calloc(1, sizeof *s);
    s->ops = ops;
    run(s, "Mem_* facade") ? passed++ : failed_runs++;
    free(s);
    printf("stress_threads: %d passed, %d failed\n", passed, failed_runs);
    return failed_runs ? 1 : 0;
}

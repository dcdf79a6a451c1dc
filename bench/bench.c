/*
 * bench.c - libmem against glibc, jemalloc, mimalloc and tcmalloc, side by
 * side in one run.  libmem runs in this process; each malloc in a runner
 * process of its own (mallocrun.c; bench.h says why), asked for its timings
 * in turn.
 *
 *   bench [--out FILE] [--reps N] [--only LIST] trace.rep...
 *                                                   run the measures (LIST:
 *                                                   util,tput,scale,viz)
 *   bench --write-workloads DIR                     write gen-*.rep
 *
 * Five measures, each printed as one Markdown table (and written to --out
 * with a description of the machine):
 *
 * Throughput.  Each trace is replayed on each allocator; ops per second is
 * the trace's op count over the median time of --reps runs (after one
 * warm-up run).  libmem: a fresh heap over a pre-faulted region big enough
 * that nothing fails, every "f" frees through a random byte inside the
 * object (drawn beforehand), and "r" is allocate-copy-free since libmem has
 * no realloc.  The mallocs: malloc/free/realloc, frees at the start (they
 * accept nothing else).  Objects are not written, except by realloc's copy.
 *
 * Utilisation.  Peak live requested bytes (from the trace, realloc counted
 * as a change of size) over the smallest region in which the trace runs
 * with no failed allocation, found by binary search to 1/4096 (control
 * structure, bitmap and headers are all inside the region).  A policy need
 * not be monotone in the region size; the search reports a size that works.
 * glibc: the trace is replayed in a fresh process (the glibc runner, with
 * --peak on the prepared ops, which it reads through mmap, so its heap
 * holds nothing but the trace's objects), and its heap is
 * mallinfo2()'s arena + hblkhd (sbrk'd bytes + mmap'd chunks) after every
 * op; the high-water mark.
 *
 * Scaling.  A heap with about N live blocks (1.5 N allocated, a random
 * third freed: a heap with holes), sizes 16..128 bytes.  Then rounds of: K
 * allocations (timed), K frees of random live objects at random interior
 * bytes (timed), K MemHeap_Find of random interior bytes (timed); the
 * median per-op time of the rounds.  The mallocs do the same (in their
 * runners) with malloc, free (at the start) and malloc_usable_size (at the
 * start: they have no interior lookup).
 *
 * Capacity.  How many 16-byte objects a 1 MiB heap holds: libmem's arena of
 * exactly 1 MiB (as Mem_Init(1 << 20) makes), every policy; glibc: objects
 * until its heap (mallinfo2) has grown by 1 MiB.
 *
 * Visualiser cost.  heapviz's model and screen composer on heaps of 1e4,
 * 1e5 and 1e6 blocks: see viz_one().
 */
#include "app.h"
#include "bench.h"
#include "frame.h"
#include "history.h"
#include "model.h"
#include "workload.h"

#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The allocators, in table order: libmem's policies, fast without its
 * lock, then the mallocs (each in its runner). */
#define A_FAST_NOLOCK MEM_POLICY_COUNT
#define A_GLIBC (MEM_POLICY_COUNT + 1)
#define A_JEMALLOC (MEM_POLICY_COUNT + 2)
#define A_MIMALLOC (MEM_POLICY_COUNT + 3)
#define A_TCMALLOC (MEM_POLICY_COUNT + 4)
#define NALLOC (MEM_POLICY_COUNT + 5)
#define NMALLOC 4u

static bool is_malloc(unsigned a) { return a >= A_GLIBC; }

static const char *alloc_name(unsigned a)
{
    static const char *const mallocs[NMALLOC] = {"glibc", "jemalloc", "mimalloc", "tcmalloc"};
    if (is_malloc(a))
        return mallocs[a - A_GLIBC];
    if (a == A_FAST_NOLOCK)
        return "fast-nolock";
    return MemPolicy_Name((MemPolicy)a);
}

/* ---- small tools ----------------------------------------------------------- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void *xmalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    return p;
}

static void *xmap(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "bench: mmap of %zu bytes: %s\n", n, strerror(errno));
        exit(1);
    }
    return p;
}

static uint64_t rng_state = 0x5EED;
static uint64_t rnd(void) { return bench_rnd(&rng_state); }
static size_t below(size_t n) { return n ? (size_t)(rnd() % n) : 0; }

/* Everything printed goes to stdout and to the report. */
static FILE *report;

__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (report) {
        va_start(ap, fmt);
        vfprintf(report, fmt, ap);
        va_end(ap);
    }
    fflush(stdout);
}

/* ---- prepared traces ------------------------------------------------------- */

typedef struct Prep {
    size_t index;       /* in the ops file the runners read */
    char name[64];
    BOp *ops;
    size_t nops;
    uint32_t nids;
    size_t peak;        /* peak live requested bytes */
} Prep;

static void prepare(const Trace *t, const char *path, Prep *p)
{
    const char *base = strrchr(path, '/');
    snprintf(p->name, sizeof p->name, "%s", base ? base + 1 : path);
    char *dot = strstr(p->name, ".rep");
    if (dot)
        *dot = '\0';
    p->nops = t->nops;
    p->nids = t->nids ? t->nids : 1;
    p->ops = xmalloc(t->nops * sizeof *p->ops);
    size_t *size = xmalloc(p->nids * sizeof *size);
    size_t live = 0;
    p->peak = 0;
    for (size_t i = 0; i < t->nops; i++) {
        const Op *op = &t->ops[i];
        BOp *b = &p->ops[i];
        b->id = op->id;
        b->kind = op->kind;
        b->size = op->size ? op->size : 1;
        b->at = 0;
        if (op->kind == OP_FREE) {
            b->at = below(size[op->id]);
            live -= size[op->id];
            size[op->id] = 0;
        } else {
            live = live - size[op->id] + b->size;
            size[op->id] = b->size;
            if (live > p->peak)
                p->peak = live;
        }
    }
    free(size);
}

/* Per-run state: each id's object and its size. */
typedef struct Live {
    unsigned char **ptr;
    size_t *size;
} Live;

static Live live_new(uint32_t nids)
{
    Live l = {xmalloc(nids * sizeof *l.ptr), xmalloc(nids * sizeof *l.size)};
    return l;
}

static void live_free(Live *l)
{
    free(l->ptr);
    free(l->size);
}

/* Replays on a libmem heap; returns the number of failed allocations. */
static size_t run_mem(MemHeap *h, const Prep *p, Live *l)
{
    size_t fails = 0;
    memset(l->ptr, 0, p->nids * sizeof *l->ptr);
    for (size_t i = 0; i < p->nops; i++) {
        const BOp *op = &p->ops[i];
        unsigned char **slot = &l->ptr[op->id];
        switch (op->kind) {
        case OP_ALLOC:
            *slot = MemHeap_Alloc(h, op->size);
            l->size[op->id] = op->size;
            fails += !*slot;
            break;
        case OP_FREE:
            if (*slot)
                MemHeap_Free(h, *slot + op->at);
            *slot = NULL;
            break;
        default: {
            unsigned char *n = MemHeap_Alloc(h, op->size);
            if (!n) {
                fails++;
                break;
            }
            if (*slot) {
                size_t keep = l->size[op->id] < op->size ? l->size[op->id] : op->size;
                memcpy(n, *slot, keep);
                MemHeap_Free(h, *slot);
            }
            *slot = n;
            l->size[op->id] = op->size;
            break;
        }
        }
    }
    return fails;
}

/* ---- the malloc runners ------------------------------------------------------- */

typedef struct Runner {
    FILE *to, *from;
    pid_t pid;
    bool up;
} Runner;

static Runner runners[NMALLOC];
static char ops_file[64];
static char bench_dir[4096];

/* The runner binary of malloc a, next to this program. */
static void runner_path(unsigned a, char *out, size_t len)
{
    snprintf(out, len, "%s/mallocrun-%s", bench_dir, alloc_name(a));
}

/* Writes every prepared trace into the ops file the runners map. */
static void write_ops(const Prep *prep, size_t ntr)
{
    snprintf(ops_file, sizeof ops_file, "/tmp/bench-ops-XXXXXX");
    int fd = mkstemp(ops_file);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    uint64_t n = ntr;
    bool ok = f && fwrite(&n, sizeof n, 1, f) == 1;
    for (size_t t = 0; ok && t < ntr; t++) {
        uint64_t hdr[2] = {prep[t].nops, prep[t].nids};
        ok = fwrite(hdr, sizeof hdr, 1, f) == 1 &&
             fwrite(prep[t].ops, sizeof *prep[t].ops, prep[t].nops, f) == prep[t].nops;
    }
    if (!f || fclose(f) != 0 || !ok) {
        fprintf(stderr, "bench: cannot write %s\n", ops_file);
        exit(1);
    }
}

static void runners_start(void)
{
    for (unsigned i = 0; i < NMALLOC; i++) {
        Runner *r = &runners[i];
        char path[4200];
        runner_path(A_GLIBC + i, path, sizeof path);
        int in[2], out[2];
        if (access(path, X_OK) != 0 || pipe(in) != 0 || pipe(out) != 0) {
            fprintf(stderr, "bench: %s: not built (make bench builds it when the library is "
                            "installed: .ci/deps.sh test); its columns are left out\n",
                    path);
            continue;
        }
        pid_t pid = fork();
        if (pid == 0) {
            dup2(in[0], 0);
            dup2(out[1], 1);
            close(in[0]), close(in[1]), close(out[0]), close(out[1]);
            execl(path, path, "--serve", ops_file, (char *)NULL);
            _exit(127);
        }
        close(in[0]);
        close(out[1]);
        r->to = fdopen(in[1], "w");
        r->from = fdopen(out[0], "r");
        r->pid = pid;
        r->up = pid > 0 && r->to && r->from;
    }
}

static void runners_stop(void)
{
    for (unsigned i = 0; i < NMALLOC; i++) {
        Runner *r = &runners[i];
        if (!r->up)
            continue;
        fprintf(r->to, "Q\n");
        fclose(r->to);
        fclose(r->from);
        waitpid(r->pid, NULL, 0);
        r->up = false;
    }
    unlink(ops_file);
}

static bool runner_up(unsigned a) { return runners[a - A_GLIBC].up; }

/* Sends one command, reads one line back; false (and the runner is taken
 * out) when it does not answer. */
static bool ask(unsigned a, char *reply, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool ask(unsigned a, char *reply, size_t len, const char *fmt, ...)
{
    Runner *r = &runners[a - A_GLIBC];
    if (!r->up)
        return false;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(r->to, fmt, ap);
    va_end(ap);
    fflush(r->to);
    if (!fgets(reply, (int)len, r->from) || strncmp(reply, "error", 5) == 0) {
        fprintf(stderr, "bench: the %s runner stopped answering\n", alloc_name(a));
        r->up = false;
        return false;
    }
    return true;
}

static void set_bench_dir(void)
{
    ssize_t n = readlink("/proc/self/exe", bench_dir, sizeof bench_dir - 1);
    bench_dir[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(bench_dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(bench_dir, sizeof bench_dir, ".");
}

/* Runs a fresh runner of malloc a with args and reads one number. */
static size_t run_once(unsigned a, const char *args)
{
    char path[4200], cmd[8600];
    runner_path(a, path, sizeof path);
    snprintf(cmd, sizeof cmd, "'%s' %s", path, args);
    FILE *c = popen(cmd, "r");
    size_t v = 0;
    if (c) {
        if (fscanf(c, "%zu", &v) != 1)
            v = 0;
        pclose(c);
    }
    return v;
}

/* ---- throughput ------------------------------------------------------------ */

/* glibc gives memory back to the system (top trimming, munmap of large
 * chunks) and faults it in again on the next run, while libmem's region is
 * faulted in once before timing.  So that both are timed warm, glibc is
 * told to keep what it takes.  (Utilisation runs in its own process with
 * glibc's defaults.) */
static void glibc_keep_memory(void)
{
    mallopt(M_TRIM_THRESHOLD, INT_MAX);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
}


typedef struct Results {
    double ops_per_s[NALLOC];          /* NAN: not measured */
    size_t region[MEM_POLICY_COUNT];   /* smallest region that works */
    double util[NALLOC];               /* fast-nolock: unused */
    size_t glibc_hwm;
} Results;

static unsigned reps = 9;

/* One timed sample: the trace run `times` times (each on a fresh heap, the
 * re-creation not timed); returns seconds. */
static double sample(unsigned a, const Prep *p, Live *l, unsigned char *mem, size_t memlen,
                     unsigned times, size_t *fails)
{
    double total = 0;
    if (is_malloc(a)) {
        char reply[64];
        if (!ask(a, reply, sizeof reply, "T %zu %u\n", p->index, times))
            return NAN;
        return atof(reply);
    }
    for (unsigned i = 0; i < times; i++) {
        double t0, t1;
        {
            MemPolicy pol = a == A_FAST_NOLOCK ? MEM_FAST : (MemPolicy)a;
            unsigned flags = a == A_FAST_NOLOCK ? MEM_OPT_NOLOCK : 0;
            MemHeap *h = MemHeap_Create(mem, memlen, pol, flags);
            t0 = bench_cpu_now();
            *fails += run_mem(h, p, l);
            t1 = bench_cpu_now();
        }
        total += t1 - t0;
    }
    return total;
}

/* Each sample lasts at least 20 ms (the trace repeated) so that timer and
 * scheduling noise stay small; the allocators take turns sample by sample,
 * so a slow spell of the shared machine hits them all alike. */
static void throughput(const Prep *p, Results *r, unsigned char *mem, size_t memlen)
{
    Live l = live_new(p->nids);
    double t[NALLOC][64];
    unsigned times[NALLOC];
    size_t fails[NALLOC] = {0};
    for (unsigned a = 0; a < NALLOC; a++) {
        double once = sample(a, p, &l, mem, memlen, 1, &fails[a]); /* warm-up */
        times[a] = once >= 0.02 ? 1 : (unsigned)(0.02 / (once > 1e-6 ? once : 1e-6)) + 1;
    }
    for (unsigned k = 0; k < reps; k++)
        for (unsigned a = 0; a < NALLOC; a++)
            t[a][k] = sample(a, p, &l, mem, memlen, times[a], &fails[a]) / times[a];
    for (unsigned a = 0; a < NALLOC; a++) {
        if (is_malloc(a) && !runner_up(a)) {
            r->ops_per_s[a] = NAN;
            continue;
        }
        r->ops_per_s[a] = (double)p->nops / median(t[a], reps);
        if (fails[a])
            fprintf(stderr, "bench: %s on %s: %zu failed allocations\n", alloc_name(a),
                    p->name, fails[a]);
    }
    live_free(&l);
}

/* ---- utilisation ------------------------------------------------------------- */

static bool fits(const Prep *p, MemPolicy pol, unsigned char *mem, size_t len, Live *l)
{
    MemHeap *h = MemHeap_Create(mem, len, pol, MEM_OPT_NOLOCK);
    return h && run_mem(h, p, l) == 0;
}

static size_t min_region(const Prep *p, MemPolicy pol, unsigned char *mem, size_t memlen)
{
    Live l = live_new(p->nids);
    size_t lo = MEM_MIN_REGION, hi = p->peak + p->peak / 8 + MEM_MIN_REGION;
    size_t found = 0;
    if (fits(p, pol, mem, lo, &l)) {
        found = lo;
        goto done;
    }
    while (!fits(p, pol, mem, hi, &l)) {
        lo = hi;
        hi *= 2;
        if (hi > memlen)
            goto done;
    }
    while (hi - lo > 16 && hi - lo > hi / 4096) {
        size_t mid = (lo + (hi - lo) / 2) & ~(size_t)15;
        if (mid <= lo)
            break;
        if (fits(p, pol, mem, mid, &l))
            hi = mid;
        else
            lo = mid;
    }
    found = hi;
done:
    live_free(&l);
    return found;
}

/* glibc's footprint for a trace: the runner, fresh, with --peak. */
static size_t glibc_hwm(const Prep *p)
{
    char args[128];
    snprintf(args, sizeof args, "--peak '%s' %zu", ops_file, p->index);
    return run_once(A_GLIBC, args);
}

/* ---- scaling ---------------------------------------------------------------- */

enum { SC_ALLOC, SC_FREE, SC_FIND, SC_MEASURES };

/* Where lookups put their answers, so that they are not optimised away. */
static volatile size_t bench_sink;

typedef struct Scale {
    double ns[SC_MEASURES]; /* NAN when not run */
} Scale;

#define SCALE_POINTS 4
#define PASSES 5
static const size_t scale_n[SCALE_POINTS] = {1000, 10000, 100000, 1000000};

static size_t scale_size(void) { return SCALE_MIN + below(SCALE_SPAN); }

/* The live set: objects and sizes, removal by swapping with the last. */
typedef struct Pool {
    unsigned char **obj;
    size_t *size;
    size_t n;
} Pool;

static void pool_take(Pool *pl, size_t k, unsigned char **obj, size_t *size)
{
    *obj = pl->obj[k];
    *size = pl->size[k];
    pl->n--;
    pl->obj[k] = pl->obj[pl->n];
    pl->size[k] = pl->size[pl->n];
}

static Scale scale_one(unsigned a, size_t n, unsigned char *mem, size_t memlen)
{
    Scale s = {{NAN, NAN, NAN}};
    if (is_malloc(a)) {
        char reply[128];
        if (ask(a, reply, sizeof reply, "S %zu %llu\n", n, (unsigned long long)rnd()) &&
            sscanf(reply, "%lf %lf %lf", &s.ns[SC_ALLOC], &s.ns[SC_FREE], &s.ns[SC_FIND]) != 3)
            s = (Scale){{NAN, NAN, NAN}};
        return s;
    }
    MemPolicy pol = a == A_FAST_NOLOCK ? MEM_FAST : (MemPolicy)a;
    MemHeap *h = MemHeap_Create(mem, memlen, pol, a == A_FAST_NOLOCK ? MEM_OPT_NOLOCK : 0);
    size_t k = n / 10 < 1000 ? n / 10 : 1000;
    size_t cap = n + n / 2 + 2 * k;
    Pool pl = {xmalloc(cap * sizeof *pl.obj), xmalloc(cap * sizeof *pl.size), 0};
    unsigned char **batch = xmalloc(k * sizeof *batch);
    size_t *bsize = xmalloc(k * sizeof *bsize);
    /* build: 1.5 n objects, then free a random third */
    for (size_t i = 0; i < n + n / 2; i++) {
        size_t sz = scale_size();
        unsigned char *o = MemHeap_Alloc(h, sz);
        if (!o)
            goto out;
        pl.obj[pl.n] = o;
        pl.size[pl.n++] = sz;
    }
    for (size_t i = 0; i < n / 2; i++) {
        unsigned char *o;
        size_t sz;
        pool_take(&pl, below(pl.n), &o, &sz);
        MemHeap_Free(h, o + below(sz));
    }
    double per[SC_MEASURES][1024];
    size_t rounds = 0, done = 0;
    double start = now();

    while (rounds < 1024 && (done < 200000 || rounds < 5) && (now() - start < 0.8 || rounds < 3)) {
        /* K allocations */
        for (size_t i = 0; i < k; i++)
            bsize[i] = scale_size();
        double t0 = now();
        for (size_t i = 0; i < k; i++)
            batch[i] = MemHeap_Alloc(h, bsize[i]);
        double t1 = now();
        for (size_t i = 0; i < k; i++) {
            if (!batch[i])
                goto out;
            pl.obj[pl.n] = batch[i];
            pl.size[pl.n++] = bsize[i];
        }
        per[SC_ALLOC][rounds] = (t1 - t0) / (double)k;
        /* K lookups of random interior bytes (the mallocs: the start) */
        for (size_t i = 0; i < k; i++) {
            size_t j = below(pl.n);
            batch[i] = pl.obj[j] + below(pl.size[j]);
        }
        t0 = now();
        for (size_t i = 0; i < k; i++) {
            size_t sz;
            bench_sink += (size_t)(MemHeap_Find(h, batch[i], &sz) != NULL);
        }
        t1 = now();
        per[SC_FIND][rounds] = (t1 - t0) / (double)k;
        /* K frees of random live objects */
        for (size_t i = 0; i < k; i++) {
            unsigned char *o;
            size_t sz;
            pool_take(&pl, below(pl.n), &o, &sz);
            batch[i] = o + below(sz);
        }
        t0 = now();
        for (size_t i = 0; i < k; i++)
            MemHeap_Free(h, batch[i]);
        t1 = now();
        per[SC_FREE][rounds] = (t1 - t0) / (double)k;
        rounds++;
        done += k;
    }
    for (unsigned m = 0; m < SC_MEASURES; m++)
        s.ns[m] = median(per[m], rounds) * 1e9;
out:
    free(pl.obj);
    free(pl.size);
    free(batch);
    free(bsize);
    return s;
}

/* ---- the report ---------------------------------------------------------------- */

static void machine(void)
{
    struct utsname u;
    char cpu[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    unsigned ncpu = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            if (ncpu++ == 0) {
                char *c = strchr(line, ':');
                snprintf(cpu, sizeof cpu, "%.200s", c ? c + 2 : line);
                cpu[strcspn(cpu, "\n")] = '\0';
            }
        }
    }
    if (f)
        fclose(f);
    uname(&u);
    time_t t = time(NULL);
    char date[64];
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&t));
    say("# libmem benchmark results\n\n");
    say("Written by `make bench` (bench/bench.c) on %s.\n\n", date);
    say("- machine: `%s %s %s %s %s`\n", u.sysname, u.nodename, u.release, u.version, u.machine);
    say("- CPU: %s (%u logical CPUs listed; the machine is shared)\n", cpu, ncpu);
#ifdef __clang__
    say("- compiler: clang %s, bench built -O2\n", __clang_version__);
#else
    say("- compiler: gcc %s, bench built -O2\n", __VERSION__);
#endif
    say("- glibc: %s\n", gnu_get_libc_version());
    char load[128] = "?";
    FILE *lf = fopen("/proc/loadavg", "r");
    if (lf && fgets(load, sizeof load, lf))
        load[strcspn(load, "\n")] = '\0';
    if (lf)
        fclose(lf);
    say("- load average at the start (/proc/loadavg): %s; other jobs share the CPUs, so "
        "compare within a table (the allocators take turns), not across runs\n\n",
        load);
}

static void write_workloads(const char *dir)
{
    for (unsigned k = 0; k < WL_TRACE; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/gen-%s.rep", dir, Workload_Name((WorkloadKind)k));
        FILE *f = fopen(path, "w");
        if (!f || fprintf(f, "# generated: %s, seed 1, capacity 262144, 5000 ops\n",
                          Workload_Name((WorkloadKind)k)) < 0 ||
            Workload_WriteTrace((WorkloadKind)k, 1, 262144, 5000, f) != 0) {
            fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
            exit(1);
        }
        fclose(f);
        printf("wrote %s\n", path);
    }
}

/* For perf: replays one trace on one allocator for about `secs` seconds. */
static int profile_main(const char *who, const char *path, double secs)
{
    unsigned a = NALLOC;
    for (unsigned k = 0; k < NALLOC; k++)
        if (strcmp(who, alloc_name(k)) == 0)
            a = k;
    if (a == NALLOC) {
        fprintf(stderr, "bench: unknown allocator '%s'\n", who);
        return 2;
    }
    Trace tr;
    char err[512];
    if (Trace_Load(path, &tr, err, sizeof err) != 0) {
        fprintf(stderr, "bench: %s\n", err);
        return 1;
    }
    glibc_keep_memory();
    Prep p;
    prepare(&tr, path, &p);
    p.index = 0;
    if (is_malloc(a)) {
        set_bench_dir();
        write_ops(&p, 1);
        runners_start();
    }
    size_t memlen = 4 * p.peak + (4u << 20);
    unsigned char *mem = xmap(memlen);
    memset(mem, 0, memlen);
    Live l = live_new(p.nids);
    size_t fails = 0, runs = 0;
    double t = 0;
    while (t < secs) {
        double one = sample(a, &p, &l, mem, memlen, 1, &fails);
        if (isnan(one)) {
            fprintf(stderr, "bench: no %s runner\n", who);
            return 1;
        }
        t += one;
        runs++;
    }
    if (is_malloc(a))
        runners_stop();
    printf("%s on %s: %zu runs, %.1f ns/op, %zu failed\n", who, p.name, runs,
           t * 1e9 / (double)(runs * p.nops), fails);
    return 0;
}

/* ---- visualiser cost ---------------------------------------------------------------- */


/* ---- the measures, one table each ------------------------------------------------ */

typedef struct Run Run;
struct Run {
    size_t ntr;
    Prep *prep;
    Results *res;
    double util_mean[NALLOC];
    double tput_geo[NALLOC];           /* geometric mean of the ratios to glibc */
    size_t capacity[MEM_POLICY_COUNT + 1]; /* the policies, then glibc */
    bool util, tput, scale, viz, cap;
    Scale sc[NALLOC][SCALE_POINTS];
    double growth_vs_glibc[SC_MEASURES + 1]; /* per-pass medians; last: alloc+free */
    size_t viz_blocks[3];
    double viz_snap[3], viz_layout[3];
    bool travel;
    double travel_back_ms, travel_worst_ms, travel_base_ms;
    double travel_cmp_back_ms, travel_cmp_worst_ms, travel_cmp_base_ms;
};

static void header_row(const char *first, bool skip_nolock)
{
    say("| %s |", first);
    for (unsigned a = 0; a < NALLOC; a++)
        if (!(skip_nolock && a == A_FAST_NOLOCK))
            say(" %s |", alloc_name(a));
    say("\n|---|");
    for (unsigned a = 0; a < NALLOC; a++)
        if (!(skip_nolock && a == A_FAST_NOLOCK))
            say("--:|");
    say("\n");
}

static void measure_util(Run *r)
{
    say("## Utilisation\n\n"
        "Peak live requested bytes / smallest region in which the trace runs with no failed "
        "allocation.  libmem: binary search to 1/4096, the region holds the control structure, "
        "bitmap and headers too.  glibc: the high-water mark of mallinfo2's arena + hblkhd "
        "(sbrk'd bytes + mmap'd chunks) in a fresh process whose heap holds only the trace's "
        "objects.  libmem reallocs are allocate-copy-free (old and new both live for a "
        "moment); glibc's may grow in place.\n\n");
    say("| trace | ops | peak live B |");
    for (unsigned a = 0; a <= A_GLIBC; a++)
        if (a != A_FAST_NOLOCK)
            say(" %s |", alloc_name(a));
    say("\n|---|--:|--:|");
    for (unsigned a = 0; a <= A_GLIBC; a++)
        if (a != A_FAST_NOLOCK)
            say("--:|");
    say("\n");
    for (size_t t = 0; t < r->ntr; t++) {
        Prep *p = &r->prep[t];
        Results *res = &r->res[t];
        size_t memlen = 16 * p->peak + (16u << 20);
        unsigned char *mem = xmap(memlen);
        say("| %s | %zu | %zu |", p->name, p->nops, p->peak);
        for (unsigned a = 0; a < MEM_POLICY_COUNT; a++) {
            res->region[a] = min_region(p, (MemPolicy)a, mem, memlen);
            res->util[a] = res->region[a] ? (double)p->peak / (double)res->region[a] : 0;
            r->util_mean[a] += res->util[a] / (double)r->ntr;
            say(" %.1f%% |", 100 * res->util[a]);
        }
        res->glibc_hwm = glibc_hwm(p);
        res->util[A_GLIBC] = res->glibc_hwm ? (double)p->peak / (double)res->glibc_hwm : 0;
        r->util_mean[A_GLIBC] += res->util[A_GLIBC] / (double)r->ntr;
        say(" %.1f%% |\n", 100 * res->util[A_GLIBC]);
        munmap(mem, memlen);
    }
    say("| **mean** | | |");
    for (unsigned a = 0; a <= A_GLIBC; a++)
        if (a != A_FAST_NOLOCK)
            say(" **%.1f%%** |", 100 * r->util_mean[a]);
    say("\n\n");
}

static void measure_tput(Run *r)
{
    say("## Throughput\n\n"
        "Million operations per second (ratio to glibc): the median of %u samples of at "
        "least 20 ms each (the trace repeated), after a warm-up, allocators taking turns, "
        "timed in CPU time (CLOCK_THREAD_CPUTIME_ID: the other jobs' turns on the CPU are "
        "not counted).  "
        "libmem frees every object through a random byte inside it (drawn beforehand); "
        "realloc is allocate-copy-free; fast-nolock is fast with MEM_OPT_NOLOCK.  glibc, "
        "jemalloc, mimalloc, tcmalloc: malloc, free at the start, realloc, each in a process "
        "of its own linked against it (bench/mallocrun.c: the same code four times), timing "
        "itself; all warm: libmem's region is faulted in before timing, and glibc keeps its "
        "memory (M_TRIM_THRESHOLD = INT_MAX, M_MMAP_THRESHOLD = 32 MiB, set by its runner; "
        "the scaling measure below runs with them too; the others keep their defaults).  The "
        "last row is the geometric mean of the ratios.\n\n",
        reps);
    header_row("trace", false);
    for (size_t t = 0; t < r->ntr; t++) {
        Prep *p = &r->prep[t];
        Results *res = &r->res[t];
        size_t memlen = 4 * p->peak + (4u << 20);
        for (unsigned a = 0; a < MEM_POLICY_COUNT; a++)
            if (2 * res->region[a] > memlen)
                memlen = 2 * res->region[a];
        unsigned char *mem = xmap(memlen);
        memset(mem, 0, memlen); /* fault the pages in before timing */
        throughput(p, res, mem, memlen);
        munmap(mem, memlen);
        say("| %s |", p->name);
        for (unsigned a = 0; a < NALLOC; a++) {
            double q = res->ops_per_s[a] / res->ops_per_s[A_GLIBC];
            if (isnan(res->ops_per_s[a]))
                say(" - |");
            else
                say(" %.2f (%.2f) |", res->ops_per_s[a] / 1e6, q);
            r->tput_geo[a] += log(q) / (double)r->ntr;
        }
        say("\n");
    }
    say("| **geometric mean** |");
    for (unsigned a = 0; a < NALLOC; a++) {
        r->tput_geo[a] = exp(r->tput_geo[a]);
        if (isnan(r->tput_geo[a]))
            say(" - |");
        else
            say(" **(%.2f)** |", r->tput_geo[a]);
    }
    say("\n\n");
}

static const char *const mname[SC_MEASURES] = {"alloc", "free", "find"};

static void measure_scale(Run *r)
{
    say("## Scaling\n\n"
        "Nanoseconds per operation with about N live blocks of 16..128 bytes in a heap with "
        "holes (1.5 N allocated, a random third freed); in each of five passes the median "
        "of rounds of K = min(N/10, 1000) operations, then the median of the passes.  The "
        "targets compare growths pass by pass (median of the per-pass ratios).  libmem: "
        "MemHeap_Alloc, MemHeap_Free at a random interior byte of a random live object, "
        "MemHeap_Find of a random interior byte.  glibc, jemalloc, mimalloc, tcmalloc (in their "
        "runners): malloc, free, and malloc_usable_size for comparison with find (start "
        "pointers only: they have no interior lookup).  The list policies are run once, and "
        "not at 1e6: building that heap costs O(free blocks) per free.\n\n");
    for (unsigned a = 0; a < NALLOC; a++)
        for (unsigned j = 0; j < SCALE_POINTS; j++)
            r->sc[a][j] = (Scale){{NAN, NAN, NAN}};
    size_t memlen = scale_n[SCALE_POINTS - 1] * 2 * 160 + (64u << 20);
    unsigned char *mem = xmap(memlen);
    memset(mem, 0, memlen);
    /* The whole grid PASSES times over, allocators taking turns; each cell
     * reports the median of its passes, and a growth ratio against glibc is
     * taken within each pass (so its four numbers are measured close in
     * time) and then the median over the passes: a shared machine is noisy.
     * The list policies, slow to build and not part of any target, run in
     * the first pass only. */
    static Scale pass[PASSES][NALLOC][SCALE_POINTS];
    for (unsigned k = 0; k < PASSES; k++)
        for (unsigned j = 0; j < SCALE_POINTS; j++)
            for (unsigned a = 0; a < NALLOC; a++) {
                bool list = a < MEM_FAST; /* first, next, best, worst */
                if (is_malloc(a) && !runner_up(a)) {
                    pass[k][a][j] = (Scale){{NAN, NAN, NAN}};
                    continue;
                }
                pass[k][a][j] = k > 0 && list ? pass[0][a][j] : (Scale){{NAN, NAN, NAN}};
                if (!(list && (scale_n[j] > 100000 || k > 0)))
                    pass[k][a][j] = scale_one(a, scale_n[j], mem, memlen);
            }
    for (unsigned a = 0; a < NALLOC; a++)
        for (unsigned j = 0; j < SCALE_POINTS; j++)
            for (unsigned m = 0; m < SC_MEASURES; m++) {
                double v[PASSES];
                for (unsigned k = 0; k < PASSES; k++)
                    v[k] = pass[k][a][j].ns[m];
                r->sc[a][j].ns[m] = isnan(v[0]) ? NAN : median(v, PASSES);
            }
    /* fast's growth over glibc's, pass by pass: alloc, free, alloc+free */
    for (unsigned m = 0; m <= SC_MEASURES; m++) {
        double q[PASSES];
        for (unsigned k = 0; k < PASSES; k++) {
            const Scale *f0 = &pass[k][MEM_FAST][0], *f3 = &pass[k][MEM_FAST][SCALE_POINTS - 1];
            const Scale *g0 = &pass[k][A_GLIBC][0], *g3 = &pass[k][A_GLIBC][SCALE_POINTS - 1];
            double gf, gg;
            if (m < SC_MEASURES) {
                gf = f3->ns[m] / f0->ns[m];
                gg = g3->ns[m] / g0->ns[m];
            } else {
                gf = (f3->ns[SC_ALLOC] + f3->ns[SC_FREE]) / (f0->ns[SC_ALLOC] + f0->ns[SC_FREE]);
                gg = (g3->ns[SC_ALLOC] + g3->ns[SC_FREE]) / (g0->ns[SC_ALLOC] + g0->ns[SC_FREE]);
            }
            q[k] = gf / gg;
        }
        r->growth_vs_glibc[m] = median(q, PASSES);
    }
    munmap(mem, memlen);
    say("| allocator | op |");
    for (unsigned j = 0; j < SCALE_POINTS; j++)
        say(" N=%zu |", scale_n[j]);
    say(" 1e6/1e3 |\n|---|---|");
    for (unsigned j = 0; j <= SCALE_POINTS; j++)
        say("--:|");
    say("\n");
    for (unsigned a = 0; a < NALLOC; a++)
        for (unsigned m = 0; m < SC_MEASURES; m++) {
            say("| %s | %s |", alloc_name(a), is_malloc(a) && m == SC_FIND ? "usable_size" : mname[m]);
            for (unsigned j = 0; j < SCALE_POINTS; j++)
                if (isnan(r->sc[a][j].ns[m]))
                    say(" - |");
                else
                    say(" %.1f |", r->sc[a][j].ns[m]);
            double g = r->sc[a][SCALE_POINTS - 1].ns[m] / r->sc[a][0].ns[m];
            if (isnan(g))
                say(" - |\n");
            else
                say(" %.2fx |\n", g);
        }
    say("\n");
}

/* 16-byte objects in an arena of exactly 1 MiB (Mem_Init(1 << 20) makes
 * one: its control structure is static). */
static size_t capacity_of(MemPolicy pol)
{
    size_t len = MemHeap_ControlSize() + ((size_t)1 << 20);
    unsigned char *mem = xmap(len);
    MemHeap *h = MemHeap_Create(mem, len, pol, MEM_OPT_NOLOCK);
    size_t n = 0;
    while (h && MemHeap_Alloc(h, 16))
        n++;
    munmap(mem, len);
    return n;
}

static void measure_capacity(Run *r)
{
    say("## Capacity\n\n"
        "Objects of 16 bytes that a 1 MiB heap holds: libmem, an arena of exactly 1 MiB (what "
        "Mem_Init(1 << 20) makes) filled until an allocation fails; glibc, objects until "
        "mallinfo2's arena + hblkhd has grown by 1 MiB (its chunk is 32 bytes).\n\n"
        "| | first | next | best | worst | fast | glibc |\n|---|--:|--:|--:|--:|--:|--:|\n"
        "| 16-byte objects in 1 MiB |");
    for (unsigned a = 0; a < MEM_POLICY_COUNT; a++) {
        r->capacity[a] = capacity_of((MemPolicy)a);
        say(" %zu |", r->capacity[a]);
    }
    r->capacity[MEM_POLICY_COUNT] = run_once(A_GLIBC, "--capacity");
    say(" %zu |\n\n", r->capacity[MEM_POLICY_COUNT]);
}

static void targets(const Run *r)
{
    say("## Targets\n\n| target | measured | verdict |\n|---|---|---|\n");
    if (r->tput) {
        double worst = 1e9;
        const char *name = "";
        for (size_t t = 0; t < r->ntr; t++) {
            double q = r->res[t].ops_per_s[MEM_FAST] / r->res[t].ops_per_s[A_GLIBC];
            if (q < worst)
                worst = q, name = r->prep[t].name;
        }
        say("| fast throughput >= glibc on every trace (interior frees) | lowest ratio %.2f (%s) "
            "| %s |\n",
            worst, name, worst >= 1 ? "met" : "MISSED");
        double f = r->tput_geo[MEM_FAST], m = r->tput_geo[A_MIMALLOC];
        if (isnan(m))
            say("| fast throughput >= mimalloc on the geometric mean | fast %.2f x glibc, "
                "mimalloc not measured | - |\n",
                f);
        else
            say("| fast throughput >= mimalloc on the geometric mean | fast %.2f x glibc, "
                "mimalloc %.2f x | %s |\n",
                f, m, f >= m ? "met" : "MISSED");
    }
    if (r->scale) {
        const Scale *f0 = &r->sc[MEM_FAST][0], *f3 = &r->sc[MEM_FAST][SCALE_POINTS - 1];
        const Scale *g0 = &r->sc[A_GLIBC][0], *g3 = &r->sc[A_GLIBC][SCALE_POINTS - 1];
        for (unsigned m = 0; m <= SC_FREE + 1; m++) {
            unsigned mm = m == SC_FREE + 1 ? SC_MEASURES : m;
            double gf, gg;
            if (mm < SC_MEASURES) {
                gf = f3->ns[mm] / f0->ns[mm];
                gg = g3->ns[mm] / g0->ns[mm];
            } else {
                gf = (f3->ns[SC_ALLOC] + f3->ns[SC_FREE]) / (f0->ns[SC_ALLOC] + f0->ns[SC_FREE]);
                gg = (g3->ns[SC_ALLOC] + g3->ns[SC_FREE]) / (g0->ns[SC_ALLOC] + g0->ns[SC_FREE]);
            }
            double q = r->growth_vs_glibc[mm];
            say("| fast %s cost growth 1e6/1e3 <= 1.3 x glibc's | %.2fx vs glibc %.2fx (table); "
                "per pass, median %.2f x glibc's | %s |\n",
                mm < SC_MEASURES ? mname[mm] : "alloc+free", gf, gg, q,
                q <= 1.3 ? "met" : "MISSED");
        }
    }
    if (r->util) {
        double worst = 1e9;
        const char *name = "";
        for (size_t t = 0; t < r->ntr; t++) {
            double gap = 100 * (r->res[t].util[MEM_FAST] - r->res[t].util[MEM_BEST_FIT]);
            if (gap < worst)
                worst = gap, name = r->prep[t].name;
        }
        say("| fast utilisation >= best - 5 points on every trace | worst %+.1f points (%s) | "
            "%s |\n",
            worst, name, worst >= -5 ? "met" : "MISSED");
        double mf = r->util_mean[MEM_FAST];
        say("| fast utilisation mean >= 90%% | %.1f%% | %s |\n", 100 * mf,
            mf >= 0.9 ? "met" : "MISSED");
    }
    if (r->cap)
        say("| a 1 MiB heap holds >= 60,000 objects of 16 bytes | fast %zu (glibc %zu) | %s |\n",
            r->capacity[MEM_FAST], r->capacity[MEM_POLICY_COUNT],
            r->capacity[MEM_FAST] >= 60000 ? "met" : "MISSED");
    if (r->viz)
        say("| 1e6-block frame layout < 10 ms | %.2f ms layout (+ %.2f ms snapshot), %zu blocks "
            "| %s |\n",
            r->viz_layout[2], r->viz_snap[2], r->viz_blocks[2],
            r->viz_layout[2] < 10 ? "met" : "MISSED");
    if (r->travel)
        say("| step back at op 1e5 of a 1 MiB heap < 100 ms, the longest replay too | %.2f ms "
            "(longest replay %.2f ms; "
            "baseline %.0f ms) | %s |\n",
            r->travel_back_ms, r->travel_worst_ms, r->travel_base_ms,
            r->travel_worst_ms < 100 ? "met" : "MISSED");
    if (r->travel)
        say("| compare mode (six 1 MiB heaps): step back at op 1e5 < 100 ms, the longest "
            "replay too | %.2f ms (longest replay %.2f ms; baseline %.0f ms) | %s |\n",
            r->travel_cmp_back_ms, r->travel_cmp_worst_ms, r->travel_cmp_base_ms,
            r->travel_cmp_worst_ms < 100 ? "met" : "MISSED");
}

/* heapviz's own model and screen composer, as the live program uses them:
 * a heap of about N blocks (N objects of 16..128 bytes, a random quarter
 * freed), then per frame Lane_Refresh (the snapshot through MemHeap_Walk
 * and Stats) and Screen_Compose into a 200 x 50 frame (the bar layout of
 * every map cell, panels, log; no terminal output). */
static void viz_one(size_t n, size_t *blocks, double *snap_ms, double *compose_ms)
{
    static Model m;
    static Ui ui;
    ModelConfig cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.region_size = n * 112 + (4u << 20);
    cfg.nlanes = 1;
    cfg.policies[0] = MEM_FAST;
    cfg.workload = WL_RANDOM;
    cfg.seed = 1;
    char err[256];
    *blocks = 0;
    *snap_ms = *compose_ms = NAN;
    if (Model_Init(&m, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "bench: heapviz model: %s\n", err);
        return;
    }
    Lane *l = &m.lanes[0];
    unsigned char **obj = xmalloc(n * sizeof *obj);
    size_t live = 0;
    for (size_t i = 0; i < n; i++)
        if ((obj[live] = MemHeap_Alloc(l->heap, scale_size())))
            live++;
    for (size_t i = 0; i < n / 4 && live; i++) {
        size_t k = below(live);
        MemHeap_Free(l->heap, obj[k]);
        obj[k] = obj[--live];
    }
    free(obj);
    l->npending = 0;
    Frame f;
    if (Frame_Init(&f, 50, 200, true) != 0) {
        Model_Fini(&m);
        return;
    }
    Ui_Init(&ui, &m, (GlyphMode){1, 1}, 0, true);
    double ts[16], tc[16];
    unsigned k = 0;
    for (; k < 9; k++) {
        double t0 = now();
        Lane_Refresh(l);
        double t1 = now();
        Screen_Compose(&ui, &f);
        double t2 = now();
        ts[k] = (t1 - t0) * 1e3;
        tc[k] = (t2 - t1) * 1e3;
    }
    *blocks = l->snap.nblocks;
    *snap_ms = median(ts, k);
    *compose_ms = median(tc, k);
    Frame_Free(&f);
    Model_Fini(&m);
}

static void measure_viz(Run *r)
{
    static const size_t vn[] = {10000, 100000, 1000000};
    say("## Visualiser cost\n\n"
        "Milliseconds per frame of heapviz (median of 9): the snapshot (Lane_Refresh: "
        "MemHeap_Walk and Stats into the model) and the layout of a whole 200 x 50 "
        "screen (Screen_Compose: every map cell through Bar_Layout, the panels and the log; "
        "nothing is written to a terminal).  A fast heap of N objects of 16..128 bytes with a "
        "random quarter freed.\n\n"
        "| N | blocks | snapshot ms | layout ms | frame ms |\n|--:|--:|--:|--:|--:|\n");
    for (size_t j = 0; j < sizeof vn / sizeof vn[0]; j++) {
        size_t blocks;
        double s, c;
        viz_one(vn[j], &blocks, &s, &c);
        r->viz_blocks[j] = blocks;
        r->viz_snap[j] = s;
        r->viz_layout[j] = c;
        say("| %zu | %zu | %.2f | %.2f | %.2f |\n", vn[j], blocks, s, c, s + c);
    }
    say("\n");
}

/* ---- time travel ------------------------------------------------------------ */

/* A heapviz model of one heap of `arena` bytes (first fit, the random
 * workload, seed 1) that has applied n operations, as `--size 1M --skip n`
 * makes it.  NULL on failure. */
static Model *travel_model(Model *m, size_t arena, unsigned nlanes, size_t n)
{
    ModelConfig cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.region_size = MemHeap_ControlSize() + arena;
    cfg.nlanes = nlanes;
    for (unsigned i = 0; i < nlanes; i++)
        cfg.policies[i] = (MemPolicy)i;
    cfg.workload = WL_RANDOM;
    cfg.seed = 1;
    char err[256];
    if (Model_Init(m, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "bench: heapviz model: %s\n", err);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        Model_Step(m);
    return m;
}

/* Milliseconds to show step `to` from step `from` (History_Goto, then the
 * frame's walk: what b costs before the screen is drawn). */
static double travel_once(Model *m, size_t from, size_t to)
{
    History_Goto(m->hist, m, from);
    double t0 = now();
    History_Goto(m->hist, m, to);
    Model_Sync(m);
    return (now() - t0) * 1e3;
}

/* b from the present and from spread-out past steps (back), the longest
 * replay, the step just before a checkpoint (worst), both `reps` times on
 * m (nlanes heaps at operation n); and the baseline without checkpoints,
 * the step reached by replaying from the start on a fresh model (base, 5
 * times, in *fresh). */
static void travel_measure(Model *m, Model *fresh, size_t arena, unsigned nlanes, size_t n,
                           double *back, double *worst, double *base, HistoryFigures *hf)
{
    *hf = History_Figures(m->hist);
    size_t last = (size_t)History_Last(m->hist);
    for (unsigned k = 0; k < reps; k++) {
        size_t at = last - (size_t)k * 997u;
        back[k] = travel_once(m, at, at - 1);
        size_t cp = (at / hf->every) * hf->every;
        worst[k] = travel_once(m, last, cp - 1);
    }
    for (unsigned k = 0; k < reps && k < 5; k++) {
        double t0 = now();
        Model *b = travel_model(fresh, arena, nlanes, n - 1);
        base[k] = (now() - t0) * 1e3;
        if (b)
            Model_Fini(b);
    }
}

static void measure_travel(Run *r)
{
    enum { N = 100000 };
    const size_t arena = (size_t)1 << 20;
    say("## Time travel\n\n"
        "heapviz's step back (key b) at operation %d of a 1 MiB heap (first fit, random "
        "workload, seed 1): History_Goto restores the nearest checkpoint (the heap's region, "
        "the player, the lane's log and chart, the workload's state) and applies the operations "
        "after it again (the workload's, and typed ones from the model's list); the checkpoints "
        "are thinned to fit the budget, and a few near ones (256 operations apart) follow the "
        "user, so b from where one is replays at most 256 operations, and a jump to the step "
        "before a thinned checkpoint is the longest replay. "
        "The baseline is the design without checkpoints: the same step reached by replaying "
        "every operation from the start, on a fresh model.  Median of %u.\n\n",
        N, reps);
    static Model model, fresh;
    Model *m = travel_model(&model, arena, 1, N);
    if (!m)
        return;
    double back[64], worst[64], base[64];
    HistoryFigures hf;
    travel_measure(m, &fresh, arena, 1, N, back, worst, base, &hf);
    r->travel_back_ms = median(back, reps);
    r->travel_worst_ms = median(worst, reps);
    r->travel_base_ms = median(base, reps < 5 ? reps : 5);
    say("| measure | ms |\n|---|--:|\n"
        "| b: one step back (%u steps, spread over the run) | %.2f |\n"
        "| the longest replay (the step before a checkpoint: %zu operations) | %.2f |\n"
        "| baseline: replay from the start (%d operations, 5 runs) | %.1f |\n\n"
        "Checkpoints: %zu of %.1f MiB in all, one every %zu operations (budget %zu MiB).  "
        "Step back is %.0f times faster than the baseline.\n\n",
        reps, r->travel_back_ms, hf.every - 1, r->travel_worst_ms, N - 1, r->travel_base_ms,
        hf.checkpoints, (double)hf.bytes / (1 << 20), hf.every, HIST_BUDGET >> 20,
        r->travel_base_ms / r->travel_back_ms);
    Model_Fini(m);
    /* compare mode: a heap of 1 MiB per policy, the same number of operations */
    m = travel_model(&model, arena, MEM_POLICY_COUNT, N);
    if (!m)
        return;
    travel_measure(m, &fresh, arena, MEM_POLICY_COUNT, N, back, worst, base, &hf);
    r->travel_cmp_back_ms = median(back, reps);
    r->travel_cmp_worst_ms = median(worst, reps);
    r->travel_cmp_base_ms = median(base, reps < 5 ? reps : 5);
    _Static_assert(MEM_POLICY_COUNT == 6, "the text names six heaps");
    say("Compare mode, six 1 MiB heaps (first, next, best, worst, fast, buddy) at "
        "operation %d:\n\n"
        "| measure | ms |\n|---|--:|\n"
        "| b: one step back (%u steps, spread over the run) | %.2f |\n"
        "| the longest replay (%zu operations, six heaps) | %.2f |\n"
        "| baseline: replay from the start (%d operations, 5 runs) | %.1f |\n\n"
        "Checkpoints: %zu of %.1f MiB in all, one every %zu operations.\n\n",
        N, reps, r->travel_cmp_back_ms, hf.every - 1, r->travel_cmp_worst_ms, N - 1,
        r->travel_cmp_base_ms, hf.checkpoints, (double)hf.bytes / (1 << 20), hf.every);
    Model_Fini(m);
}

static bool wanted(const char *only, const char *what)
{
    if (!only)
        return true;
    size_t n = strlen(what);
    for (const char *s = only; (s = strstr(s, what)); s += n)
        if ((s == only || s[-1] == ',') && (s[n] == '\0' || s[n] == ','))
            return true;
    return false;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--profile") == 0)
        return profile_main(argv[2], argv[3], atof(argv[4]));
    if (argc == 3 && strcmp(argv[1], "--write-workloads") == 0) {
        write_workloads(argv[2]);
        return 0;
    }
    const char *out = NULL, *only = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = (unsigned)atoi(argv[++i]);
        else
            break;
    }
    if (reps < 5 || reps > 63)
        reps = reps < 5 ? 5 : 63;
    if (i >= argc) {
        fprintf(stderr, "usage: bench [--out FILE] [--reps N] [--only util,tput,scale,cap,viz,travel] "
                        "trace.rep...\n"
                        "       bench --write-workloads DIR\n"
                        "       bench --profile POLICY|fast-nolock|glibc|jemalloc|mimalloc|"
                        "tcmalloc trace.rep SECONDS\n");
        return 2;
    }
    char *md = NULL;
    size_t mdlen = 0;
    if (out)
        report = open_memstream(&md, &mdlen);
    double t_start = now();
    machine();

    static Run r;
    r.ntr = (size_t)(argc - i);
    r.prep = xmalloc(r.ntr * sizeof *r.prep);
    r.res = xmalloc(r.ntr * sizeof *r.res);
    for (size_t t = 0; t < r.ntr; t++) {
        Trace tr;
        char err[512];
        if (Trace_Load(argv[i + (int)t], &tr, err, sizeof err) != 0) {
            fprintf(stderr, "bench: %s\n", err);
            return 1;
        }
        prepare(&tr, argv[i + (int)t], &r.prep[t]);
        r.prep[t].index = t;
        Trace_Free(&tr);
    }
    set_bench_dir();
    write_ops(r.prep, r.ntr);
    runners_start();
    r.util = wanted(only, "util");
    r.tput = wanted(only, "tput");
    r.scale = wanted(only, "scale");
    r.cap = wanted(only, "cap");
    r.viz = wanted(only, "viz");
    r.travel = wanted(only, "travel");
    if (r.util)
        measure_util(&r);
    if (r.tput || r.scale)
        glibc_keep_memory();
    if (r.tput)
        measure_tput(&r);
    if (r.scale)
        measure_scale(&r);
    if (r.cap)
        measure_capacity(&r);
    if (r.viz)
        measure_viz(&r);
    if (r.travel)
        measure_travel(&r);
    runners_stop();
    targets(&r);
    say("\nWhole run: %.0f s.\n", now() - t_start);

    if (report) {
        fclose(report);
        FILE *f = fopen(out, "w");
        if (!f || fwrite(md, 1, mdlen, f) != mdlen || fclose(f) != 0) {
            fprintf(stderr, "bench: cannot write %s\n", out);
            return 1;
        }
        free(md);
        printf("\nwrote %s\n", out);
    }
    return 0;
}

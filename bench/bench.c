/*
 * bench.c - libmem against glibc malloc, side by side in one process run.
 *
 *   bench [--out FILE] [--reps N] [--only LIST] trace.rep...
 *                                                   run the measures (LIST:
 *                                                   util,tput,scale,viz)
 *   bench --write-workloads DIR                     write gen-*.rep
 *   bench --glibc-peak ops-file                     (internal, see below)
 *
 * Four measures, each printed as one Markdown table (and written to --out
 * with a description of the machine):
 *
 * Throughput.  Each trace is replayed on each allocator; ops per second is
 * the trace's op count over the median time of --reps runs (after one
 * warm-up run).  libmem: a fresh heap over a pre-faulted region big enough
 * that nothing fails, every "f" frees through a random byte inside the
 * object (drawn beforehand), and "r" is allocate-copy-free since libmem has
 * no realloc.  glibc: malloc/free/realloc, frees at the start (it accepts
 * nothing else).  Objects are not written, except by realloc's copy.
 *
 * Utilisation.  Peak live requested bytes (from the trace, realloc counted
 * as a change of size) over the smallest region in which the trace runs
 * with no failed allocation, found by binary search to 1/4096 (control
 * structure, bitmap and headers are all inside the region).  A policy need
 * not be monotone in the region size; the search reports a size that works.
 * glibc: the trace is replayed in a fresh process (this program run again
 * with --glibc-peak on the prepared ops, which it reads through mmap, so
 * its heap holds nothing but the trace's objects), and its heap is
 * mallinfo2()'s arena + hblkhd (sbrk'd bytes + mmap'd chunks) after every
 * op; the high-water mark.
 *
 * Scaling.  A heap with about N live blocks (1.5 N allocated, a random
 * third freed: a heap with holes), sizes 16..128 bytes.  Then rounds of: K
 * allocations (timed), K frees of random live objects at random interior
 * bytes (timed), K MemHeap_Find of random interior bytes (timed); the
 * median per-op time of the rounds.  glibc does the same with malloc, free
 * (at the start) and malloc_usable_size (at the start: it has no interior
 * lookup).
 *
 * Visualiser cost.  heapviz's model and screen composer on heaps of 1e4,
 * 1e5 and 1e6 blocks: see viz_one().
 */
#include "app.h"
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
#include <time.h>
#include <unistd.h>

#define NALLOC (MEM_POLICY_COUNT + 2) /* five policies, fast without lock, glibc */
#define A_FAST_NOLOCK MEM_POLICY_COUNT
#define A_GLIBC (MEM_POLICY_COUNT + 1)

static const char *alloc_name(unsigned a)
{
    if (a == A_GLIBC)
        return "glibc";
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
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}
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

typedef struct BOp {
    uint32_t id;
    uint32_t kind;      /* OpKind */
    size_t size;        /* ALLOC/REALLOC: bytes (0 made as 1) */
    size_t at;          /* FREE: random byte inside the object */
} BOp;

typedef struct Prep {
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

static void run_glibc(const Prep *p, Live *l)
{
    for (size_t i = 0; i < p->nops; i++) {
        const BOp *op = &p->ops[i];
        unsigned char **slot = &l->ptr[op->id];
        switch (op->kind) {
        case OP_ALLOC: *slot = malloc(op->size); break;
        case OP_FREE:
            free(*slot);
            *slot = NULL;
            break;
        default: {
            unsigned char *n = realloc(*slot, op->size);
            if (n)
                *slot = n;
            break;
        }
        }
    }
}

static void glibc_release(const Prep *p, Live *l)
{
    for (uint32_t i = 0; i < p->nids; i++) {
        free(l->ptr[i]);
        l->ptr[i] = NULL;
    }
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
    double ops_per_s[NALLOC];
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
    for (unsigned i = 0; i < times; i++) {
        double t0, t1;
        if (a == A_GLIBC) {
            memset(l->ptr, 0, p->nids * sizeof *l->ptr);
            t0 = now();
            run_glibc(p, l);
            t1 = now();
            glibc_release(p, l);
        } else {
            MemPolicy pol = a == A_FAST_NOLOCK ? MEM_FAST : (MemPolicy)a;
            unsigned flags = a == A_FAST_NOLOCK ? MEM_OPT_NOLOCK : 0;
            MemHeap *h = MemHeap_Create(mem, memlen, pol, flags);
            t0 = now();
            *fails += run_mem(h, p, l);
            t1 = now();
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

/* Child mode: replay with glibc in a fresh process whose heap has never
 * been used: the prepared ops come from a file the parent wrote, read
 * through mmap, and the id table is mmap'd too, so every byte the heap
 * takes from the system is the trace's.  Prints the high-water mark. */
static int glibc_peak_main(const char *path)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || (size_t)st.st_size < 2 * sizeof(size_t))
        return 1;
    size_t len = (size_t)st.st_size;
    const size_t *hdr = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (hdr == MAP_FAILED)
        return 1;
    size_t nops = hdr[0], nids = hdr[1];
    if (len != 2 * sizeof(size_t) + nops * sizeof(BOp))
        return 1;
    const BOp *ops = (const BOp *)(const void *)(hdr + 2);
    unsigned char **ptr = xmap((nids ? nids : 1) * sizeof *ptr);
    struct mallinfo2 m = mallinfo2();
    size_t base = m.arena + m.hblkhd, hwm = base;
    for (size_t i = 0; i < nops; i++) {
        const BOp *op = &ops[i];
        unsigned char **slot = &ptr[op->id];
        if (op->kind == OP_ALLOC) {
            *slot = malloc(op->size);
        } else if (op->kind == OP_FREE) {
            free(*slot);
            *slot = NULL;
        } else {
            unsigned char *n = realloc(*slot, op->size);
            if (n)
                *slot = n;
        }
        m = mallinfo2();
        if (m.arena + m.hblkhd > hwm)
            hwm = m.arena + m.hblkhd;
    }
    printf("%zu\n", hwm - base);
    return 0;
}

static size_t glibc_hwm(const Prep *p)
{
    char self[4096], file[] = "/tmp/bench-ops-XXXXXX", cmd[9000];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return 0;
    self[n] = '\0';
    int fd = mkstemp(file);
    if (fd < 0)
        return 0;
    FILE *f = fdopen(fd, "wb");
    size_t hdr[2] = {p->nops, p->nids};
    bool ok = f && fwrite(hdr, sizeof hdr, 1, f) == 1 &&
              fwrite(p->ops, sizeof *p->ops, p->nops, f) == p->nops;
    if (f)
        ok = fclose(f) == 0 && ok;
    size_t hwm = 0;
    if (ok) {
        snprintf(cmd, sizeof cmd, "'%s' --glibc-peak '%s'", self, file);
        FILE *c = popen(cmd, "r");
        if (c) {
            if (fscanf(c, "%zu", &hwm) != 1)
                hwm = 0;
            pclose(c);
        }
    }
    unlink(file);
    return hwm;
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

static size_t scale_size(void) { return 16 + below(113); }

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
    bool glibc = a == A_GLIBC;
    MemHeap *h = NULL;
    if (!glibc) {
        MemPolicy pol = a == A_FAST_NOLOCK ? MEM_FAST : (MemPolicy)a;
        h = MemHeap_Create(mem, memlen, pol, a == A_FAST_NOLOCK ? MEM_OPT_NOLOCK : 0);
    }
    size_t k = n / 10 < 1000 ? n / 10 : 1000;
    size_t cap = n + n / 2 + 2 * k;
    Pool pl = {xmalloc(cap * sizeof *pl.obj), xmalloc(cap * sizeof *pl.size), 0};
    unsigned char **batch = xmalloc(k * sizeof *batch);
    size_t *bsize = xmalloc(k * sizeof *bsize);
    /* build: 1.5 n objects, then free a random third */
    for (size_t i = 0; i < n + n / 2; i++) {
        size_t sz = scale_size();
        unsigned char *o = glibc ? malloc(sz) : MemHeap_Alloc(h, sz);
        if (!o)
            goto out;
        pl.obj[pl.n] = o;
        pl.size[pl.n++] = sz;
    }
    for (size_t i = 0; i < n / 2; i++) {
        unsigned char *o;
        size_t sz;
        pool_take(&pl, below(pl.n), &o, &sz);
        if (glibc)
            free(o);
        else
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
        if (glibc)
            for (size_t i = 0; i < k; i++)
                batch[i] = malloc(bsize[i]);
        else
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
        /* K lookups of random interior bytes (glibc: the start) */
        for (size_t i = 0; i < k; i++) {
            size_t j = below(pl.n);
            batch[i] = pl.obj[j] + (glibc ? 0 : below(pl.size[j]));
        }
        t0 = now();
        if (glibc)
            for (size_t i = 0; i < k; i++)
                bench_sink += malloc_usable_size(batch[i]);
        else
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
            batch[i] = o + (glibc ? 0 : below(sz));
        }
        t0 = now();
        if (glibc)
            for (size_t i = 0; i < k; i++)
                free(batch[i]);
        else
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
    if (glibc)
        for (size_t i = 0; i < pl.n; i++)
            free(pl.obj[i]);
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
    unsigned a = A_GLIBC;
    MemPolicy pol;
    if (strcmp(who, "fast-nolock") == 0) {
        a = A_FAST_NOLOCK;
    } else if (strcmp(who, "glibc") != 0) {
        if (MemPolicy_Parse(who, &pol) != 0) {
            fprintf(stderr, "bench: unknown allocator '%s'\n", who);
            return 2;
        }
        a = (unsigned)pol;
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
    size_t memlen = 4 * p.peak + (4u << 20);
    unsigned char *mem = xmap(memlen);
    memset(mem, 0, memlen);
    Live l = live_new(p.nids);
    size_t fails = 0, runs = 0;
    double t = 0;
    while (t < secs) {
        t += sample(a, &p, &l, mem, memlen, 1, &fails);
        runs++;
    }
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
    bool util, tput, scale, viz;
    Scale sc[NALLOC][SCALE_POINTS];
    double growth_vs_glibc[SC_MEASURES + 1]; /* per-pass medians; last: alloc+free */
    size_t viz_blocks[3];
    double viz_snap[3], viz_layout[3];
    bool travel;
    double travel_back_ms, travel_worst_ms, travel_base_ms;
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
    for (unsigned a = 0; a < NALLOC; a++)
        if (a != A_FAST_NOLOCK)
            say(" %s |", alloc_name(a));
    say("\n|---|--:|--:|");
    for (unsigned a = 0; a < NALLOC; a++)
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
    for (unsigned a = 0; a < NALLOC; a++)
        if (a != A_FAST_NOLOCK)
            say(" **%.1f%%** |", 100 * r->util_mean[a]);
    say("\n\n");
}

static void measure_tput(Run *r)
{
    say("## Throughput\n\n"
        "Million operations per second (ratio to glibc): the median of %u samples of at "
        "least 20 ms each (the trace repeated), after a warm-up, allocators taking turns.  "
        "libmem frees every object through a random byte inside it (drawn beforehand); "
        "realloc is allocate-copy-free; fast-nolock is fast with MEM_OPT_NOLOCK.  glibc: "
        "malloc, free at the start, realloc; both warm: libmem's region is faulted in before "
        "timing, and glibc keeps its memory (M_TRIM_THRESHOLD = INT_MAX, M_MMAP_THRESHOLD = "
        "32 MiB, set by the harness; the scaling measure below runs with them too).\n\n",
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
        for (unsigned a = 0; a < NALLOC; a++)
            say(" %.2f (%.2f) |", res->ops_per_s[a] / 1e6,
                res->ops_per_s[a] / res->ops_per_s[A_GLIBC]);
        say("\n");
    }
    say("\n");
}

static const char *const mname[SC_MEASURES] = {"alloc", "free", "find"};

static void measure_scale(Run *r)
{
    say("## Scaling\n\n"
        "Nanoseconds per operation with about N live blocks of 16..128 bytes in a heap with "
        "holes (1.5 N allocated, a random third freed); in each of five passes the median "
        "of rounds of K = min(N/10, 1000) operations, then the median of the passes.  The "
        "targets compare growths pass by pass (median of the per-pass ratios).  libmem: MemHeap_Alloc, MemHeap_Free at a random interior byte of "
        "a random live object, MemHeap_Find of a random interior byte.  glibc: malloc, free, "
        "and malloc_usable_size for comparison with find (start pointers only: glibc has no "
        "interior lookup).  The list policies are run once, and not at 1e6: building that heap "
        "costs O(free blocks) per free.\n\n");
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
                bool list = a < MEM_POLICY_COUNT && a != MEM_FAST;
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
            say("| %s | %s |", alloc_name(a),
                a == A_GLIBC && m == SC_FIND ? "usable_size" : mname[m]);
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
        say("| fast throughput >= glibc on every trace | lowest ratio %.2f (%s) | %s |\n", worst,
            name, worst >= 1 ? "met" : "MISSED");
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
        double mf = r->util_mean[MEM_FAST], mg = r->util_mean[A_GLIBC];
        say("| fast utilisation >= glibc on the mean | %.1f%% vs %.1f%% | %s |\n", 100 * mf,
            100 * mg, mf >= mg ? "met" : "MISSED");
    }
    if (r->viz)
        say("| 1e6-block frame layout < 10 ms | %.2f ms layout (+ %.2f ms snapshot), %zu blocks "
            "| %s |\n",
            r->viz_layout[2], r->viz_snap[2], r->viz_blocks[2],
            r->viz_layout[2] < 10 ? "met" : "MISSED");
    if (r->travel)
        say("| step back at op 1e5 of a 1 MiB heap < 100 ms | %.2f ms (longest replay %.2f ms; "
            "baseline %.0f ms) | %s |\n",
            r->travel_back_ms, r->travel_worst_ms, r->travel_base_ms,
            r->travel_worst_ms < 100 ? "met" : "MISSED");
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

static void measure_travel(Run *r)
{
    enum { N = 100000 };
    const size_t arena = (size_t)1 << 20;
    say("## Time travel\n\n"
        "heapviz's step back (key b) at operation %d of a 1 MiB heap (first fit, random "
        "workload, seed 1): History_Goto restores the nearest checkpoint (the heap's region, "
        "the player, the lane's log and chart) and replays the recorded operations after it. "
        "The baseline is the design without checkpoints: the same step reached by replaying "
        "every operation from the start, on a fresh model.  Median of %u.\n\n",
        N, reps);
    static Model model, fresh;
    Model *m = travel_model(&model, arena, 1, N);
    if (!m)
        return;
    HistoryFigures hf = History_Figures(m->hist);
    size_t last = History_Last(m->hist);
    double back[64], worst[64], base[64];
    for (unsigned k = 0; k < reps; k++) {
        /* b from the present, and from spread-out past steps */
        size_t at = last - (size_t)k * 997u;
        back[k] = travel_once(m, at, at - 1);
        /* the longest replay: the step just before a checkpoint */
        size_t cp = (at / hf.every) * hf.every;
        worst[k] = travel_once(m, last, cp - 1);
    }
    for (unsigned k = 0; k < reps && k < 5; k++) {
        double t0 = now();
        Model *b = travel_model(&fresh, arena, 1, N - 1);
        base[k] = (now() - t0) * 1e3;
        if (b)
            Model_Fini(b);
    }
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
    /* compare mode: five heaps of 1 MiB */
    m = travel_model(&model, arena, MEM_POLICY_COUNT, N / 10);
    if (!m)
        return;
    hf = History_Figures(m->hist);
    last = History_Last(m->hist);
    for (unsigned k = 0; k < reps; k++)
        back[k] = travel_once(m, last - (size_t)k * 97u, last - (size_t)k * 97u - 1);
    say("Compare mode, five 1 MiB heaps at operation %d: one step back %.2f ms (median of %u); "
        "checkpoints every %zu operations, %.1f MiB.\n\n",
        N / 10, median(back, reps), reps, hf.every, (double)hf.bytes / (1 << 20));
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
    if (argc == 3 && strcmp(argv[1], "--glibc-peak") == 0)
        return glibc_peak_main(argv[2]);
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
        fprintf(stderr, "usage: bench [--out FILE] [--reps N] [--only util,tput,scale,viz,travel] "
                        "trace.rep...\n"
                        "       bench --write-workloads DIR\n"
                        "       bench --profile POLICY|fast-nolock|glibc trace.rep SECONDS\n");
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
        Trace_Free(&tr);
    }
    r.util = wanted(only, "util");
    r.tput = wanted(only, "tput");
    r.scale = wanted(only, "scale");
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
    if (r.viz)
        measure_viz(&r);
    if (r.travel)
        measure_travel(&r);
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

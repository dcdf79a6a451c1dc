/*
 * mallocrun.c - a malloc runner for the benchmark (bench.h says why each
 * malloc gets a process of its own).  Built once per allocator, with
 * RUNNER_LIB naming the library that must provide malloc ("libc.so",
 * "jemalloc", "mimalloc", "tcmalloc"); the runner checks at start that it
 * does, so a column never measures the wrong allocator.
 *
 *   mallocrun --serve OPSFILE     answer T, S and Q commands (bench.h)
 *   mallocrun --peak OPSFILE N    trace N's high-water mark of the heap
 *   mallocrun --capacity          16-byte objects that fit in 1 MiB of heap
 *   mallocrun --which             the library that provides malloc
 */
#include "bench.h"
#include "workload.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef RUNNER_LIB
#define RUNNER_LIB "libc.so"
#endif

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

/* Memory of the runner itself comes from mmap, never from the malloc it
 * measures. */
static void *xmap(size_t n)
{
    void *p = mmap(NULL, n ? n : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "mallocrun: mmap of %zu bytes failed\n", n);
        exit(1);
    }
    return p;
}

/* ---- the ops file -------------------------------------------------------------- */

static BTrace *traces;
static size_t ntraces;

static int load(const char *path)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(uint64_t))
        return -1;
    size_t len = (size_t)st.st_size;
    const unsigned char *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return -1;
    uint64_t n;
    memcpy(&n, m, sizeof n);
    size_t at = sizeof n;
    traces = xmap((size_t)n * sizeof *traces);
    for (uint64_t t = 0; t < n; t++) {
        uint64_t hdr[2];
        if (at + sizeof hdr > len)
            return -1;
        memcpy(hdr, m + at, sizeof hdr);
        at += sizeof hdr;
        if (hdr[0] > (len - at) / sizeof(BOp))
            return -1;
        traces[t].ops = (const BOp *)(const void *)(m + at);
        traces[t].nops = (size_t)hdr[0];
        traces[t].nids = (uint32_t)hdr[1];
        at += (size_t)hdr[0] * sizeof(BOp);
    }
    ntraces = (size_t)n;
    return 0;
}

/* ---- replay ------------------------------------------------------------------------ */

static unsigned char **slots;
static size_t slots_cap;

static void replay(const BTrace *t)
{
    unsigned char **s = slots;
    for (size_t i = 0; i < t->nops; i++) {
        const BOp *op = &t->ops[i];
        unsigned char **slot = &s[op->id];
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

static double run_trace(size_t idx, unsigned times)
{
    const BTrace *t = &traces[idx];
    if (t->nids > slots_cap) {
        slots_cap = t->nids;
        slots = xmap(slots_cap * sizeof *slots);
    }
    double total = 0;
    for (unsigned k = 0; k < times; k++) {
        memset(slots, 0, t->nids * sizeof *slots);
        double t0 = bench_cpu_now();
        replay(t);
        total += bench_cpu_now() - t0;
        for (uint32_t i = 0; i < t->nids; i++) {
            free(slots[i]);
            slots[i] = NULL;
        }
    }
    return total;
}

/* ---- scaling (bench.c's scale_one, for malloc) ------------------------------------ */

static volatile size_t sink;

static void scale(size_t n, uint64_t seed, double out[3])
{
    uint64_t rs = seed;
    size_t k = n / 10 < 1000 ? n / 10 : 1000;
    size_t cap = n + n / 2 + 2 * k;
    unsigned char **obj = xmap(cap * sizeof *obj);
    unsigned char **batch = xmap(k * sizeof *batch);
    size_t *bsize = xmap(k * sizeof *bsize);
    size_t live = 0;
    for (size_t i = 0; i < n + n / 2; i++)
        obj[live++] = malloc(SCALE_MIN + bench_rnd(&rs) % SCALE_SPAN);
    for (size_t i = 0; i < n / 2; i++) {
        size_t j = bench_rnd(&rs) % live;
        free(obj[j]);
        obj[j] = obj[--live];
    }
    static double per[3][1024];
    size_t rounds = 0, done = 0;
    double start = now();
    while (rounds < 1024 && (done < 200000 || rounds < 5) && (now() - start < 0.8 || rounds < 3)) {
        for (size_t i = 0; i < k; i++)
            bsize[i] = SCALE_MIN + bench_rnd(&rs) % SCALE_SPAN;
        double t0 = now();
        for (size_t i = 0; i < k; i++)
            batch[i] = malloc(bsize[i]);
        double t1 = now();
        for (size_t i = 0; i < k; i++)
            obj[live++] = batch[i];
        per[0][rounds] = (t1 - t0) / (double)k;
        for (size_t i = 0; i < k; i++)
            batch[i] = obj[bench_rnd(&rs) % live];
        t0 = now();
        for (size_t i = 0; i < k; i++)
            sink += malloc_usable_size(batch[i]);
        t1 = now();
        per[2][rounds] = (t1 - t0) / (double)k;
        for (size_t i = 0; i < k; i++) {
            size_t j = bench_rnd(&rs) % live;
            batch[i] = obj[j];
            obj[j] = obj[--live];
        }
        t0 = now();
        for (size_t i = 0; i < k; i++)
            free(batch[i]);
        t1 = now();
        per[1][rounds] = (t1 - t0) / (double)k;
        rounds++;
        done += k;
    }
    for (unsigned m = 0; m < 3; m++)
        out[m] = median(per[m], rounds) * 1e9;
    for (size_t i = 0; i < live; i++)
        free(obj[i]);
    munmap(obj, cap * sizeof *obj);
    munmap(batch, k * sizeof *batch);
    munmap(bsize, k * sizeof *bsize);
}

/* ---- glibc's footprint ---------------------------------------------------------------- */

static size_t heap_bytes(void)
{
    struct mallinfo2 m = mallinfo2();
    return m.arena + m.hblkhd;
}

static int peak(size_t idx)
{
    const BTrace *t = &traces[idx];
    unsigned char **s = xmap((t->nids ? t->nids : 1) * sizeof *s);
    size_t base = heap_bytes(), hwm = base;
    for (size_t i = 0; i < t->nops; i++) {
        const BOp *op = &t->ops[i];
        unsigned char **slot = &s[op->id];
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
        size_t b = heap_bytes();
        if (b > hwm)
            hwm = b;
    }
    printf("%zu\n", hwm - base);
    return 0;
}

/* 16-byte objects until the heap has grown by more than 1 MiB. */
static int capacity(void)
{
    size_t base = heap_bytes(), n = 0;
    for (;;) {
        void *p = malloc(16);
        if (!p || heap_bytes() - base > ((size_t)1 << 20))
            break;
        n++;
    }
    printf("%zu\n", n);
    return 0;
}

/* ---- main ------------------------------------------------------------------------------ */

static int serve(void)
{
    /* glibc keeps what it takes, as bench.c tells it for throughput and
     * scaling (the others: their defaults) */
    mallopt(M_TRIM_THRESHOLD, INT_MAX);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    char line[128];
    while (fgets(line, sizeof line, stdin)) {
        unsigned long long a = 0, b = 0;
        if (sscanf(line, "T %llu %llu", &a, &b) == 2 && a < ntraces && b > 0) {
            printf("%.9f\n", run_trace((size_t)a, (unsigned)b));
        } else if (sscanf(line, "S %llu %llu", &a, &b) == 2 && a > 0) {
            double r[3];
            scale((size_t)a, (uint64_t)b, r);
            printf("%.3f %.3f %.3f\n", r[0], r[1], r[2]);
        } else if (line[0] == 'Q') {
            return 0;
        } else {
            printf("error\n");
        }
        fflush(stdout);
    }
    return 0;
}

int main(int argc, char **argv)
{
    Dl_info info;
    if (!dladdr((void *)(uintptr_t)malloc, &info) || !info.dli_fname ||
        !strstr(info.dli_fname, RUNNER_LIB)) {
        fprintf(stderr, "mallocrun: malloc comes from %s, not %s\n",
                info.dli_fname ? info.dli_fname : "?", RUNNER_LIB);
        return 3;
    }
    if (argc == 2 && strcmp(argv[1], "--which") == 0) {
        printf("%s\n", info.dli_fname);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--capacity") == 0)
        return capacity();
    if (argc >= 3 && load(argv[2]) != 0) {
        fprintf(stderr, "mallocrun: cannot read %s\n", argv[2]);
        return 1;
    }
    if (argc == 3 && strcmp(argv[1], "--serve") == 0)
        return serve();
    if (argc == 4 && strcmp(argv[1], "--peak") == 0 && (size_t)atol(argv[3]) < ntraces)
        return peak((size_t)atol(argv[3]));
    fprintf(stderr, "usage: mallocrun --serve OPSFILE | --peak OPSFILE N | --capacity | --which\n");
    return 2;
}

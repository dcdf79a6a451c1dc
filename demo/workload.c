/*
 * workload.c - seeded generators of allocation workloads.
 *
 * A generator keeps its own view of the objects it has asked for (size per
 * id, and the ids in allocation order).  It does not know whether the heap
 * granted them: a failed allocation leaves the player's id empty and the
 * generator's later free of it is skipped.  That is what keeps the op
 * sequence a function of (kind, seed, capacity) alone.
 *
 * Sizes scale with the capacity C.  On a 100-column bar one column is C/100
 * bytes, so the size ranges below run from about C/2000 (a sliver) to C/24
 * (four columns), and the occupancy bands keep the heap 30-70 % full so
 * holes form within a few hundred operations.  Sizes are drawn log-uniform:
 * an octave uniformly, then a size uniformly inside it.
 *
 * Every cycle ends by freeing all it holds, then starts again (the random
 * stream goes on, so no two cycles are alike): a workload never ends and
 * never leaks.
 */
#include "workload.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum {
    PH_CHURN,   /* random, stack, queue: alloc/free within a band */
    PH_GROW,    /* phased: allocate only, up to 70 % full */
    PH_SMALL,   /* phased: churn with smaller objects */
    PH_SHRINK,  /* phased: free at random until empty */
    PH_FILL,    /* fragmenter: small objects until the heap is full */
    PH_HOLES,   /* fragmenter: free every other one */
    PH_BIG,     /* fragmenter: large requests that cannot fit */
    PH_DRAIN    /* free everything held, in the kind's order */
};

struct Workload {
    WorkloadKind kind;
    uint64_t rng;
    size_t capacity;
    const Trace *trace;
    size_t pos;            /* trace: next op */
    uint32_t max_ids;
    size_t *held;          /* per id: requested size + 1; 0 when empty */
    uint32_t *live;        /* ids holding objects, oldest first */
    uint32_t nlive;
    size_t live_bytes;     /* block bytes the live objects take (estimate) */
    unsigned phase;
    size_t left;           /* ops left in a counted phase */
    size_t sweep;          /* PH_HOLES: index into live[] */
    size_t lo, hi;         /* object sizes */
    size_t band_lo, band_hi; /* churn: live_bytes kept between these */
};

static const struct {
    const char *name;
    const char *text;
} kinds[WL_COUNT] = {
    [WL_RANDOM] = {"random", "random sizes and random frees: a steady churn"},
    [WL_STACK] = {"stack", "last in, first out: every free takes the newest object"},
    [WL_QUEUE] = {"queue", "first in, first out: every free takes the oldest object"},
    [WL_FRAGMENTER] = {"fragmenter", "fill with small objects, free every other one, then ask "
                                     "for large ones that cannot fit although enough is free"},
    [WL_PHASED] = {"phased", "grow to 70% full, churn with smaller objects, shrink to empty"},
    [WL_TRACE] = {"trace", "replay a malloc-lab trace file"},
};

const char *Workload_Name(WorkloadKind kind)
{
    return (unsigned)kind < WL_COUNT ? kinds[kind].name : "?";
}

const char *Workload_Describe(WorkloadKind kind)
{
    return (unsigned)kind < WL_COUNT ? kinds[kind].text : "?";
}

int Workload_Parse(const char *name, WorkloadKind *out)
{
    if (!name || !out)
        return -1;
    for (unsigned k = 0; k < WL_COUNT; k++)
        if (strcmp(name, kinds[k].name) == 0) {
            *out = (WorkloadKind)k;
            return 0;
        }
    return -1;
}

/* ---- randomness (splitmix64: tiny, seedable with any value) -------------- */

static uint64_t rnd(Workload *w)
{
    uint64_t z = (w->rng += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static size_t below(Workload *w, size_t n) { return n ? (size_t)(rnd(w) % n) : 0; }

static bool chance(Workload *w, unsigned num, unsigned den) { return rnd(w) % den < num; }

static unsigned log2z(size_t x) { return 63u - (unsigned)__builtin_clzll((unsigned long long)x); }

/* Log-uniform in [lo, hi]: an octave, then a size inside it. */
static size_t size_between(Workload *w, size_t lo, size_t hi)
{
    if (hi <= lo)
        return lo;
    unsigned a = log2z(lo), b = log2z(hi);
    for (int tries = 0; tries < 16; tries++) {
        unsigned k = a + (unsigned)below(w, b - a + 1u);
        size_t base = (size_t)1 << k;
        size_t s = base + below(w, base);
        if (s >= lo && s <= hi)
            return s;
    }
    return lo + below(w, hi - lo + 1);
}

/* Bytes of the block an object of s bytes takes, header and alignment in. */
static size_t block_bytes(size_t s)
{
    size_t b = (s + MEM_HEADER_SIZE + MEM_ALIGNMENT - 1) / MEM_ALIGNMENT * MEM_ALIGNMENT;
    return b < MEM_MIN_BLOCK ? MEM_MIN_BLOCK : b;
}

/* ---- the generator's view of its objects --------------------------------- */

static bool ids_left(const Workload *w) { return w->nlive < w->max_ids; }

static void gen_alloc(Workload *w, size_t size, Op *op)
{
    uint32_t id = 0;
    while (w->held[id])
        id++;
    w->held[id] = size + 1;
    w->live[w->nlive++] = id;
    w->live_bytes += block_bytes(size);
    *op = (Op){OP_ALLOC, id, size, 0};
}

/* Frees live[k]; a quarter of frees go through an interior byte. */
static void gen_free(Workload *w, size_t k, Op *op)
{
    uint32_t id = w->live[k];
    size_t size = w->held[id] - 1;
    size_t at = size > 1 && chance(w, 1, 4) ? 1 + below(w, size - 1) : 0;
    memmove(&w->live[k], &w->live[k + 1], (w->nlive - k - 1) * sizeof w->live[0]);
    w->nlive--;
    w->held[id] = 0;
    w->live_bytes -= block_bytes(size);
    *op = (Op){OP_FREE, id, 0, at};
}

static void gen_realloc(Workload *w, size_t k, size_t size, Op *op)
{
    uint32_t id = w->live[k];
    w->live_bytes -= block_bytes(w->held[id] - 1);
    w->live_bytes += block_bytes(size);
    w->held[id] = size + 1;
    *op = (Op){OP_REALLOC, id, size, 0};
}

/* The index in live[] that a churn free takes for this kind. */
static size_t victim(Workload *w)
{
    switch (w->kind) {
    case WL_STACK: return w->nlive - 1u;
    case WL_QUEUE:
    case WL_FRAGMENTER: return 0;
    default: return below(w, w->nlive);
    }
}

/* ---- the generators ------------------------------------------------------ */

static void cycle_start(Workload *w)
{
    size_t c = w->capacity;
    switch (w->kind) {
    case WL_RANDOM:
        w->phase = PH_CHURN, w->left = 600;
        w->band_lo = c / 100 * 40, w->band_hi = c / 100 * 65;
        break;
    case WL_STACK:
        w->phase = PH_CHURN, w->left = 500;
        w->band_lo = c / 100 * 30, w->band_hi = c / 100 * 70;
        break;
    case WL_QUEUE:
        w->phase = PH_CHURN, w->left = 600;
        w->band_lo = c / 100 * 40, w->band_hi = c / 100 * 60;
        break;
    case WL_PHASED:
        w->phase = PH_GROW;
        break;
    default:
        w->phase = PH_FILL;
        break;
    }
}

/* Churn: allocate when below the band, free when above, else toss a coin. */
static void churn(Workload *w, size_t lo, size_t hi, bool reallocs, Op *op)
{
    unsigned p = w->live_bytes < w->band_lo ? 3 : w->live_bytes > w->band_hi ? 1 : 2;
    if (w->nlive == 0 || (ids_left(w) && chance(w, p, 4))) {
        gen_alloc(w, size_between(w, lo, hi), op);
    } else if (reallocs && chance(w, 1, 10)) {
        /* Two draws: named in order, so every compiler makes the same ops. */
        size_t size = size_between(w, lo, hi);
        size_t k = below(w, w->nlive);
        gen_realloc(w, k, size, op);
    } else {
        gen_free(w, victim(w), op);
    }
}

static void next_generated(Workload *w, Op *op)
{
    size_t c = w->capacity;
    for (;;) {
        switch (w->phase) {
        case PH_CHURN:
            if (w->left == 0) {
                w->phase = PH_DRAIN;
                continue;
            }
            w->left--;
            churn(w, w->lo, w->hi, w->kind == WL_RANDOM, op);
            return;
        case PH_GROW:
            if (w->live_bytes + block_bytes(w->hi) > c / 100 * 70 || !ids_left(w)) {
                w->phase = PH_SMALL, w->left = 300;
                w->band_lo = w->live_bytes - w->live_bytes / 8;
                w->band_hi = w->live_bytes;
                continue;
            }
            gen_alloc(w, size_between(w, w->lo, w->hi), op);
            return;
        case PH_SMALL:
            if (w->left == 0) {
                w->phase = PH_SHRINK;
                continue;
            }
            w->left--;
            churn(w, w->lo, w->lo + (w->hi - w->lo) / 4, false, op);
            return;
        case PH_SHRINK:
        case PH_DRAIN:
            if (w->nlive == 0) {
                /* The fragmenter's cycle ends with proof that the space was
                 * there: on the empty heap one large request succeeds (and
                 * is drained in turn). */
                if (w->kind == WL_FRAGMENTER && w->left == 1) {
                    w->left = 2;
                    gen_alloc(w, size_between(w, c / 6, c / 4), op);
                    return;
                }
                cycle_start(w);
                continue;
            }
            gen_free(w, w->phase == PH_SHRINK ? below(w, w->nlive) : victim(w), op);
            return;
        case PH_FILL: {
            size_t s = size_between(w, w->lo, w->hi);
            if (w->live_bytes + block_bytes(s) > c / 100 * 96 || !ids_left(w)) {
                w->phase = PH_HOLES, w->sweep = 0;
                continue;
            }
            gen_alloc(w, s, op);
            return;
        }
        case PH_HOLES:
            /* Free positions 0, 2, 4... of the fill: each removal shifts the
             * next survivor into place, so step over it. */
            if (w->sweep >= w->nlive) {
                w->phase = PH_BIG, w->left = 3;
                continue;
            }
            gen_free(w, w->sweep++, op);
            return;
        case PH_BIG:
            if (w->left == 0 || !ids_left(w)) {
                w->phase = PH_DRAIN, w->left = 1;
                continue;
            }
            w->left--;
            gen_alloc(w, size_between(w, c / 6, c / 4), op);
            return;
        default:
            w->phase = PH_DRAIN, w->left = 0;
            continue;
        }
    }
}

Workload *Workload_Create(WorkloadKind kind, uint64_t seed, size_t capacity, const Trace *trace)
{
    if ((unsigned)kind >= WL_COUNT || (kind == WL_TRACE && !trace))
        return NULL;
    Workload *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->kind = kind;
    w->rng = seed;
    w->capacity = capacity < MEM_MIN_ARENA ? MEM_MIN_ARENA : capacity;
    if (kind == WL_TRACE) {
        w->trace = trace;
        w->max_ids = trace->nids;
        return w;
    }
    size_t c = w->capacity;
    switch (kind) {
    case WL_RANDOM: w->lo = c / 2048, w->hi = c / 24, w->max_ids = 128; break;
    case WL_STACK:
    case WL_QUEUE: w->lo = c / 1024, w->hi = c / 32, w->max_ids = 128; break;
    case WL_PHASED: w->lo = c / 1024, w->hi = c / 40, w->max_ids = 256; break;
    default: w->lo = c / 160, w->hi = c / 100, w->max_ids = 256; break;
    }
    if (w->lo < 16)
        w->lo = 16;
    if (w->hi < 2 * w->lo)
        w->hi = 2 * w->lo;
    w->held = calloc(w->max_ids, sizeof *w->held);
    w->live = calloc(w->max_ids, sizeof *w->live);
    if (!w->held || !w->live) {
        Workload_Destroy(w);
        return NULL;
    }
    cycle_start(w);
    return w;
}

bool Workload_Next(Workload *w, Op *op)
{
    if (!w || !op)
        return false;
    if (w->kind == WL_TRACE) {
        if (w->pos >= w->trace->nops)
            return false;
        *op = w->trace->ops[w->pos++];
        return true;
    }
    next_generated(w, op);
    return true;
}

uint32_t Workload_MaxIds(const Workload *w) { return w ? w->max_ids : 0; }

/* The state: the struct (its own pointers are kept on load), then held[]
 * and live[] (none for a trace). */
size_t Workload_StateSize(const Workload *w)
{
    if (!w)
        return 0;
    size_t n = w->held ? w->max_ids : 0;
    return sizeof *w + n * (sizeof *w->held + sizeof *w->live);
}

void Workload_SaveState(const Workload *w, void *buf)
{
    if (!w || !buf)
        return;
    unsigned char *p = buf;
    size_t n = w->held ? w->max_ids : 0;
    memcpy(p, w, sizeof *w);
    p += sizeof *w;
    if (n) {
        memcpy(p, w->held, n * sizeof *w->held);
        memcpy(p + n * sizeof *w->held, w->live, n * sizeof *w->live);
    }
}

void Workload_LoadState(Workload *w, const void *buf)
{
    if (!w || !buf)
        return;
    const unsigned char *p = buf;
    size_t *held = w->held;
    uint32_t *live = w->live;
    const Trace *trace = w->trace;
    size_t n = held ? w->max_ids : 0;
    memcpy(w, p, sizeof *w);
    w->held = held;
    w->live = live;
    w->trace = trace;
    p += sizeof *w;
    if (n) {
        memcpy(held, p, n * sizeof *held);
        memcpy(live, p + n * sizeof *held, n * sizeof *live);
    }
}

void Workload_Destroy(Workload *w)
{
    if (!w)
        return;
    free(w->held);
    free(w->live);
    free(w);
}

int Workload_WriteTrace(WorkloadKind kind, uint64_t seed, size_t capacity, size_t n, FILE *f)
{
    if (kind == WL_TRACE || !f || n > TRACE_MAX_OPS) {
        errno = EINVAL;
        return -1;
    }
    Workload *w = Workload_Create(kind, seed, capacity, NULL);
    Trace t = {.ops = malloc((n ? n : 1) * sizeof(Op)), .nops = n, .heap_hint = capacity,
               .weight = 1};
    if (!w || !t.ops) {
        Workload_Destroy(w);
        free(t.ops);
        errno = ENOMEM;
        return -1;
    }
    t.nids = Workload_MaxIds(w);
    for (size_t i = 0; i < n; i++)
        Workload_Next(w, &t.ops[i]);
    int rc = Trace_Write(&t, f);
    Workload_Destroy(w);
    free(t.ops);
    return rc;
}

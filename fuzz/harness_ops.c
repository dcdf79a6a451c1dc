/*
 * ops.c - the operation-stream harness over the MemHeap_* API.
 *
 * Input layout (missing bytes read as 0, so every input is valid):
 *   [0] policy (% 5), bit 3: guard mode, bit 4: no lock (MEM_FAST: always
 *       MEM_OPT_NORUNS, the block heap this model describes)
 *   [1] region size (% 8, from the table below), bits 3..6: base misalignment
 *   [2] the byte the region is filled with before the heap is created
 *   then operations, one opcode byte and its arguments each.
 *
 * The shadow model is what the program knows: the live objects (start, size,
 * the pattern written into them, which guard bytes were overwritten), the
 * pointers it freed, and its own counts of operations.  After every
 * operation the heap must agree with it:
 *   - the walk tiles the block area, no two free blocks touch, and its used
 *     blocks are exactly the live objects, flagged overflowed exactly when
 *     their guard was hit;
 *   - the free walk holds exactly the free blocks, in address order or by
 *     size class (whose number is recomputed here);
 *   - every statistic equals the value computed from the walk and the model;
 *   - the events of the operation are the ones it must raise, with the
 *     offsets, sizes and neighbours the walk before it implies;
 *   - the block an allocation took is the one the policy's rule picks from
 *     the free blocks before it, and an allocation fails exactly when the
 *     rule finds none;
 *   - a rejected pointer gets the reason the walk implies and changes
 *     nothing; Find and Classify agree with the model for any pointer;
 *   - MemHeap_Check holds, or fails naming the first overflowed object;
 *   - the objects' bytes are as the program wrote them.
 */
#include "harness.h"

#include "mem.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#define FUZZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_ASAN 1
#endif
#endif
#if defined(FUZZ_ASAN)
#include <sanitizer/asan_interface.h>
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#else
#define UNPOISON(p, n) ((void)(p), (void)(n))
#define POISON(p, n) ((void)(p), (void)(n))
#endif

#define GRAN 16u
#define GUARD_MIN 8u
#define GUARD_BYTE 0xABu
#define MAX_OBJ 384u
#define MAX_BLK (2u * MAX_OBJ + 2u)
#define MAX_STALE 64u
#define MAX_OPS 4096u
#define MAX_EV 16u
#define FAST_SCAN 32u

/* Sizes from the smallest arena (filled in at the first call: it depends on
 * the control structure) to 5 MiB. */
static size_t region_sizes[8] = {
    0, MEM_MIN_REGION + 13, 5000, 12288, 65536 + 7, 262144, 1u << 20, 5u << 20,
};
#define REGION_MAX ((size_t)(5u << 20) + 64u)

typedef struct Obj {
    unsigned char *p;
    size_t size;
    unsigned char seed;   /* byte i holds (seed + i) * 31 */
    uint64_t damage;      /* bit i: padding byte i overwritten (guard mode) */
} Obj;

typedef struct Blk {
    size_t offset, size, object, padding;
    bool used, overflowed;
    unsigned list;
} Blk;

typedef struct World {
    MemHeap *h;
    MemRegion reg;
    MemPolicy policy;
    unsigned flags;
    MemOrder order;         /* the knobs (list policies) */
    MemCoalesce coalesce;
    bool listed;            /* a list policy: mlist models its free list */
    unsigned char *region;
    size_t region_size;
    unsigned char *base;
    size_t ngran;

    Obj obj[MAX_OBJ];
    size_t nobj;
    unsigned char *stale[MAX_STALE];
    size_t nstale;
    uint64_t allocs, frees, failed, rejected, overflows;
    size_t peak;

    /* the heap as the last check saw it */
    Blk blk[MAX_BLK];
    size_t nblk;
    Blk fblk[MAX_BLK]; /* free walk order */
    size_t nfblk;
    size_t rover;
    size_t mlist[MAX_BLK]; /* the list policies' free list as the model keeps
                              it: offsets, in the list's order */
    size_t nmlist;

    MemEvent ev[MAX_EV];
    size_t nev;
    bool ev_overrun;

    const uint8_t *in;
    size_t in_len, in_pos;
    unsigned char *stack; /* a byte on the harness's stack */
} World;

static World W;
static FuzzOpsTotals totals;
static jmp_buf bail;
static char why[1024];
static unsigned char *mapping;
static unsigned char other_mapping[64];
static int global_probe;

FuzzOpsTotals Fuzz_OpsTotals(void) { return totals; }

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2), noreturn))
#endif
static void fail(const char *fmt, ...)
{
    int n = snprintf(why, sizeof why, "%s%s%s%s%s%s heap of %zu, op %llu: ",
                     MemPolicy_Name(W.policy), (W.flags & MEM_OPT_GUARD) ? "+guard" : "",
                     W.order ? "+" : "", W.order ? MemOrder_Name(W.order) : "",
                     W.coalesce ? "+" : "", W.coalesce ? MemCoalesce_Name(W.coalesce) : "",
                     W.region_size,
                     (unsigned long long)(W.allocs + W.frees + W.failed + W.rejected));
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof why)
        vsnprintf(why + n, sizeof why - (size_t)n, fmt, ap);
    va_end(ap);
    longjmp(bail, 1);
}

#define EXPECT(cond, ...)                                                                  \
    do {                                                                                   \
        if (!(cond))                                                                       \
            fail(__VA_ARGS__);                                                             \
    } while (0)

/* ---- input ------------------------------------------------------------------ */

static unsigned byte(void) { return W.in_pos < W.in_len ? W.in[W.in_pos++] : 0u; }
static unsigned u16(void) { return byte() | byte() << 8; }
static uint32_t u32(void) { return (uint32_t)u16() | (uint32_t)u16() << 16; }

/* ---- the model ---------------------------------------------------------------- */

static size_t off(const void *p) { return (size_t)((const unsigned char *)p - W.base); }

/* Byte i of an object holds (seed + i) * 31 mod 256: period 256, so the
 * pattern is copied and compared in chunks from one table (byte loops under
 * the fuzzer's instrumentation made large objects dominate the run time). */
#define PCHUNK 4096u
static unsigned char ptab[PCHUNK + 256u];

static unsigned char pattern(const Obj *o, size_t i)
{
    return (unsigned char)((o->seed + i) * 31u);
}

static const unsigned char *pattern_at(const Obj *o, size_t i)
{
    if (!ptab[1])
        for (size_t k = 0; k < sizeof ptab; k++)
            ptab[k] = (unsigned char)(k * 31u);
    return ptab + (o->seed + i) % 256u;
}

static void fill(Obj *o)
{
    for (size_t i = 0; i < o->size; i += PCHUNK)
        memcpy(o->p + i, pattern_at(o, i), o->size - i < PCHUNK ? o->size - i : PCHUNK);
}

static void verify_bytes(const Obj *o, size_t from, size_t to)
{
    if (to > o->size)
        to = o->size;
    for (size_t i = from; i < to; i += PCHUNK) {
        size_t n = to - i < PCHUNK ? to - i : PCHUNK;
        if (memcmp(o->p + i, pattern_at(o, i), n) == 0)
            continue;
        for (size_t k = i; k < i + n; k++)
            EXPECT(o->p[k] == pattern(o, k), "object at +%#zx (%zu bytes): byte %zu is %#x, "
                   "the program wrote %#x", off(o->p), o->size, k, o->p[k], pattern(o, k));
    }
}

static void verify_object(const Obj *o) { verify_bytes(o, 0, o->size); }

/* The first and last 16 bytes: cheap enough for every object after every op. */
static void verify_ends(const Obj *o)
{
    verify_bytes(o, 0, 16);
    if (o->size > 16)
        verify_bytes(o, o->size - 16, o->size);
}

/* The live object containing p, or -1. */
static long find_obj(const unsigned char *p)
{
    uintptr_t a = (uintptr_t)p;
    for (size_t i = 0; i < W.nobj; i++)
        if (a >= (uintptr_t)W.obj[i].p && a - (uintptr_t)W.obj[i].p < W.obj[i].size)
            return (long)i;
    return -1;
}

/* base + o for any o, without pointer arithmetic outside an object. */
static unsigned char *at(const unsigned char *base, intptr_t o)
{
    return (unsigned char *)((uintptr_t)base + (uintptr_t)o);
}

static void forget(size_t i)
{
    if (W.nstale < MAX_STALE)
        W.stale[W.nstale++] = W.obj[i].p;
    else
        W.stale[(size_t)W.obj[i].seed % MAX_STALE] = W.obj[i].p;
    W.obj[i] = W.obj[--W.nobj];
}

static unsigned popcount64(uint64_t x)
{
    unsigned n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

/* ---- events ------------------------------------------------------------------- */

static void observe(const MemEvent *e, void *arg)
{
    (void)arg;
    if (W.nev < MAX_EV)
        W.ev[W.nev++] = *e;
    else
        W.ev_overrun = true;
}

static const MemEvent *event(MemEventKind kind)
{
    for (size_t i = 0; i < W.nev; i++)
        if (W.ev[i].kind == kind)
            return &W.ev[i];
    return NULL;
}

static size_t count_events(MemEventKind kind)
{
    size_t n = 0;
    for (size_t i = 0; i < W.nev; i++)
        n += W.ev[i].kind == kind;
    return n;
}

static uint64_t model_ops(void) { return W.allocs + W.frees + W.failed + W.rejected; }

/* Every event of an operation carries its number and the policy. */
static void expect_event_frame(void)
{
    EXPECT(!W.ev_overrun, "more than %u events for one operation", MAX_EV);
    for (size_t i = 0; i < W.nev; i++) {
        EXPECT(W.ev[i].op == model_ops(), "event %zu (kind %d) has op %llu, expected %llu", i,
               (int)W.ev[i].kind, (unsigned long long)W.ev[i].op,
               (unsigned long long)model_ops());
        EXPECT(W.ev[i].policy == W.policy, "event %zu has policy %d", i, (int)W.ev[i].policy);
    }
}

/* ---- the model of the list policies' free list ------------------------------------ */

static size_t mlist_index(size_t offset)
{
    for (size_t i = 0; i < W.nmlist; i++)
        if (W.mlist[i] == offset)
            return i;
    return SIZE_MAX;
}

static void mlist_remove(size_t offset)
{
    size_t i = mlist_index(offset);
    EXPECT(i != SIZE_MAX, "model: +%#zx is not in the free list", offset);
    memmove(&W.mlist[i], &W.mlist[i + 1], (W.nmlist - i - 1) * sizeof W.mlist[0]);
    W.nmlist--;
}

/* A block joins the list: by address, at the head (LIFO), at the tail (FIFO). */
static void mlist_add(size_t offset)
{
    EXPECT(W.nmlist < MAX_BLK, "model: free list full");
    size_t at = W.order == MEM_ORDER_LIFO ? 0 : W.nmlist;
    if (W.order == MEM_ORDER_ADDRESS)
        for (at = 0; at < W.nmlist && W.mlist[at] < offset; at++)
            ;
    memmove(&W.mlist[at + 1], &W.mlist[at], (W.nmlist - at) * sizeof W.mlist[0]);
    W.mlist[at] = offset;
    W.nmlist++;
}

/* ---- walking the heap ------------------------------------------------------------ */

typedef struct Collect {
    Blk *out;
    size_t n, cap;
} Collect;

static bool collect(const MemBlock *b, void *arg)
{
    Collect *c = arg;
    if (c->n >= c->cap) {
        c->n++;
        return false;
    }
    EXPECT(b->rank == c->n, "walk rank %zu at position %zu", b->rank, c->n);
    Blk *k = &c->out[c->n++];
    k->offset = b->offset;
    k->size = b->size;
    k->object = b->object;
    k->padding = b->padding;
    k->used = b->used;
    k->overflowed = b->overflowed;
    k->list = b->list;
    EXPECT(b->header == MEM_HEADER_SIZE, "block at +%#zx: header %zu", b->offset, b->header);
    return true;
}

static int cmp_obj(const void *a, const void *b)
{
    const Obj *x = a, *y = b;
    return x->p < y->p ? -1 : x->p > y->p;
}

static unsigned msb(size_t x)
{
    unsigned m = 0;
    while (x >>= 1)
        m++;
    return m;
}

/* The size class of a free block of g granules, as the header's overview
 * describes MEM_FAST: the highest bit, then 16 classes per power of two. */
static unsigned size_class(size_t g)
{
    if (g < 16)
        return (unsigned)g;
    unsigned m = msb(g);
    return (m - 3u) * 16u + (unsigned)((g >> (m - 4u)) & 15u);
}

/* Granules of the block an object of `size` bytes needs, 0 when none can
 * hold it (before buddy's rounding up to a power of two). */
static size_t need_grans(size_t size)
{
    size_t extra = MEM_HEADER_SIZE + ((W.flags & MEM_OPT_GUARD) ? GUARD_MIN : 0u) + GRAN - 1u;
    if (size > W.ngran * GRAN)
        return 0;
    size_t n = (size + extra) / GRAN;
    return n < 2 ? 2 : n;
}

/* MEM_BUDDY, as mem.h describes it: blocks of 2^k granules, 1 <= k <= 28. */
#define BUDDY_TOP 28u
static unsigned buddy_order(size_t grans)
{
    unsigned k = 1;
    while (((size_t)1 << k) < grans)
        k++;
    return k;
}

static bool pow2(size_t x) { return x && !(x & (x - 1)); }

static size_t blk_index(size_t offset)
{
    for (size_t i = 0; i < W.nblk; i++)
        if (W.blk[i].offset == offset)
            return i;
    return SIZE_MAX;
}

/* Compares the whole heap with the model and refreshes the snapshot. */
static void check_heap(void)
{
    totals.checks++;
    Collect c = {W.blk, 0, MAX_BLK};
    size_t visited = MemHeap_Walk(W.h, collect, &c);
    EXPECT(c.n <= MAX_BLK, "the walk has more than %u blocks for %zu live objects", MAX_BLK,
           W.nobj);
    EXPECT(visited == c.n, "Walk returned %zu, visited %zu", visited, c.n);
    W.nblk = c.n;

    /* tiling */
    size_t at = W.reg.heap_begin, used = 0, free_b = 0, nfree = 0, live = 0, pad = 0,
           largest = 0;
    size_t nused = 0;
    qsort(W.obj, W.nobj, sizeof W.obj[0], cmp_obj);
    for (size_t i = 0; i < W.nblk; i++) {
        const Blk *b = &W.blk[i];
        EXPECT(b->offset == at, "block %zu at +%#zx, the one before ends at +%#zx", i,
               b->offset, at);
        EXPECT(b->size >= MEM_MIN_BLOCK && b->size % GRAN == 0, "block at +%#zx has size %zu",
               b->offset, b->size);
        if (W.policy == MEM_BUDDY)
            EXPECT(pow2(b->size / GRAN) && b->size / GRAN <= ((size_t)1 << BUDDY_TOP) &&
                       (b->offset - W.reg.heap_begin) % b->size == 0,
                   "buddy block at +%#zx of %zu bytes: not a power of two aligned to its size",
                   b->offset, b->size);
        at += b->size;
        if (b->used) {
            EXPECT(nused < W.nobj, "used block at +%#zx is no live object of the program",
                   b->offset);
            const Obj *o = &W.obj[nused++];
            EXPECT(off(o->p) == b->offset + MEM_HEADER_SIZE,
                   "used block at +%#zx, but the next live object is at +%#zx", b->offset,
                   off(o->p));
            EXPECT(b->object == o->size, "block at +%#zx: object %zu bytes, program asked %zu",
                   b->offset, b->object, o->size);
            EXPECT(b->object + b->padding + MEM_HEADER_SIZE == b->size,
                   "block at +%#zx: %zu + %zu + 8 != %zu", b->offset, b->object, b->padding,
                   b->size);
            if (W.flags & MEM_OPT_GUARD)
                EXPECT(b->padding >= GUARD_MIN, "block at +%#zx: guard of %zu bytes",
                       b->offset, b->padding);
            if (W.policy != MEM_BUDDY)
                EXPECT(b->padding < 64, "block at +%#zx: padding %zu", b->offset, b->padding);
            else /* the smallest power of two that holds it */
                EXPECT(b->size == GRAN << buddy_order(need_grans(b->object)),
                       "buddy block at +%#zx of %zu bytes for an object of %zu", b->offset,
                       b->size, b->object);
            bool hit = o->damage != 0;
            EXPECT(b->overflowed == hit, "block at +%#zx: overflowed %d, guard hit %d",
                   b->offset, b->overflowed, hit);
            EXPECT(b->list == 0, "address walk: list %u", b->list);
            used += b->size;
            live += b->object;
            pad += b->padding;
            verify_ends(o);
        } else {
            EXPECT(b->object == 0 && b->padding == 0 && !b->overflowed,
                   "free block at +%#zx has object/padding/flag", b->offset);
            if (W.policy != MEM_BUDDY && W.coalesce == MEM_COALESCE_NOW)
                EXPECT(i == 0 || W.blk[i - 1].used, "free blocks at +%#zx and +%#zx touch",
                       W.blk[i - 1].offset, b->offset);
            else if (W.policy == MEM_BUDDY && i > 0 && !W.blk[i - 1].used &&
                     W.blk[i - 1].size == b->size)
                EXPECT(((W.blk[i - 1].offset - W.reg.heap_begin) / b->size) % 2u == 1u,
                       "free buddies at +%#zx and +%#zx were not merged", W.blk[i - 1].offset,
                       b->offset);
            free_b += b->size;
            nfree++;
            if (b->size > largest)
                largest = b->size;
        }
    }
    EXPECT(at == W.reg.heap_end, "blocks end at +%#zx, the heap at +%#zx", at,
           W.reg.heap_end);
    EXPECT(nused == W.nobj, "%zu used blocks, %zu live objects", nused, W.nobj);

    /* the free walk */
    Collect f = {W.fblk, 0, MAX_BLK};
    size_t fvisited = MemHeap_WalkFree(W.h, collect, &f);
    EXPECT(f.n == nfree && fvisited == nfree, "WalkFree visits %zu, the walk has %zu free",
           f.n, nfree);
    W.nfblk = f.n;
    for (size_t i = 0; i < W.nfblk; i++) {
        const Blk *b = &W.fblk[i];
        size_t k = blk_index(b->offset);
        EXPECT(k != SIZE_MAX && !W.blk[k].used && W.blk[k].size == b->size,
               "WalkFree gives +%#zx (%zu), not a free block of the walk", b->offset, b->size);
        if (W.policy == MEM_FAST) {
            EXPECT(b->list == size_class(b->size / GRAN),
                   "free block of %zu bytes in class %u, expected %u", b->size, b->list,
                   size_class(b->size / GRAN));
            EXPECT(i == 0 || W.fblk[i - 1].list <= b->list, "size classes out of order");
        } else if (W.policy == MEM_BUDDY) {
            EXPECT(((size_t)GRAN << b->list) == b->size, "free block of %zu bytes on the list "
                   "of order %u", b->size, b->list);
            EXPECT(i == 0 || W.fblk[i - 1].list <= b->list, "orders out of order");
        } else {
            EXPECT(b->list == 0, "list policy reports class %u", b->list);
            if (W.order == MEM_ORDER_ADDRESS)
                EXPECT(i == 0 || W.fblk[i - 1].offset < b->offset,
                       "free list out of address order");
        }
    }
    if (W.listed) { /* the list in the order the model says */
        EXPECT(W.nmlist == W.nfblk, "the free list has %zu blocks, the model %zu", W.nfblk,
               W.nmlist);
        for (size_t i = 0; i < W.nfblk; i++)
            EXPECT(W.fblk[i].offset == W.mlist[i], "%s list: block %zu is +%#zx, the model "
                   "says +%#zx", MemOrder_Name(W.order), i, W.fblk[i].offset, W.mlist[i]);
    }

    /* statistics */
    MemStats s = MemHeap_Stats(W.h);
    EXPECT(s.policy == W.policy, "stats policy %d", (int)s.policy);
    EXPECT(s.capacity == W.reg.size, "capacity %zu, region %zu", s.capacity, W.reg.size);
    EXPECT(s.live_bytes == live, "live_bytes %zu, model %zu", s.live_bytes, live);
    EXPECT(s.used_bytes == used, "used_bytes %zu, walk %zu", s.used_bytes, used);
    EXPECT(s.header_bytes == nused * MEM_HEADER_SIZE, "header_bytes %zu", s.header_bytes);
    EXPECT(s.padding_bytes == pad, "padding_bytes %zu, walk %zu", s.padding_bytes, pad);
    EXPECT(s.table_bytes == W.reg.size - (W.reg.heap_end - W.reg.heap_begin),
           "table_bytes %zu", s.table_bytes);
    EXPECT(s.metadata_bytes == s.header_bytes + s.table_bytes, "metadata_bytes");
    EXPECT(s.free_bytes == free_b, "free_bytes %zu, walk %zu", s.free_bytes, free_b);
    EXPECT(s.used_blocks == nused && s.free_blocks == nfree, "blocks %zu/%zu, walk %zu/%zu",
           s.used_blocks, s.free_blocks, nused, nfree);
    EXPECT(s.largest_free == largest, "largest_free %zu, walk %zu", s.largest_free, largest);
    size_t lr = largest > MEM_HEADER_SIZE ? largest - MEM_HEADER_SIZE : 0;
    if ((W.flags & MEM_OPT_GUARD) && lr)
        lr = lr > GUARD_MIN ? lr - GUARD_MIN : 0;
    EXPECT(s.largest_request == lr, "largest_request %zu, expected %zu", s.largest_request, lr);
    if (live > W.peak)
        W.peak = live;
    EXPECT(s.peak_live_bytes == W.peak, "peak_live_bytes %zu, model %zu", s.peak_live_bytes,
           W.peak);
    EXPECT(s.allocs == W.allocs && s.frees == W.frees && s.failed_allocs == W.failed &&
               s.rejected_frees == W.rejected && s.overflows == W.overflows,
           "counters %llu/%llu/%llu/%llu/%llu, model %llu/%llu/%llu/%llu/%llu",
           (unsigned long long)s.allocs, (unsigned long long)s.frees,
           (unsigned long long)s.failed_allocs, (unsigned long long)s.rejected_frees,
           (unsigned long long)s.overflows, (unsigned long long)W.allocs,
           (unsigned long long)W.frees, (unsigned long long)W.failed,
           (unsigned long long)W.rejected, (unsigned long long)W.overflows);
    EXPECT(s.ops == model_ops(), "ops %llu", (unsigned long long)s.ops);
    if (W.policy == MEM_NEXT_FIT) {
        EXPECT(s.rover == SIZE_MAX ? nfree == 0 : blk_index(s.rover) != SIZE_MAX &&
                                                   !W.blk[blk_index(s.rover)].used,
               "rover +%#zx is not a free block", s.rover);
    } else {
        EXPECT(s.rover == SIZE_MAX, "rover %zu under %s", s.rover, MemPolicy_Name(W.policy));
    }
    W.rover = s.rover;

    /* the checker: clean, or naming the first overflowed object */
    char diag[256];
    int problems = MemHeap_Diagnose(W.h, diag, sizeof diag);
    const Obj *hit = NULL;
    for (size_t i = 0; i < W.nobj && !hit; i++)
        if (W.obj[i].damage)
            hit = &W.obj[i];
    if (!hit) {
        EXPECT(problems == 0, "MemHeap_Diagnose: %s", diag);
        if (totals.checks % 16 == 0) /* the same walk again: now and then */
            EXPECT(MemHeap_Check(W.h) == 0, "MemHeap_Check fails, Diagnose does not");
    } else {
        char name[64];
        snprintf(name, sizeof name, "object at +%#zx overflowed", off(hit->p));
        EXPECT(problems >= 1 && strstr(diag, name), "guard of +%#zx hit; Diagnose says %d: %s",
               off(hit->p), problems, diag);
        EXPECT(MemHeap_Check(W.h) == -1, "MemHeap_Check passes an overflowed heap");
    }
}

/* ---- the placement rules ------------------------------------------------------------ */

/* The free block (offset) the policy must take for `need` granules, judged
 * from the heap as it was before the operation, or SIZE_MAX for none. */
static size_t expected_block(size_t need)
{
    size_t best = SIZE_MAX, best_size = 0;
    size_t bytes = need * GRAN;
    switch (W.policy) {
    case MEM_FIRST_FIT:
        for (size_t i = 0; i < W.nfblk; i++)
            if (W.fblk[i].size >= bytes)
                return W.fblk[i].offset;
        return SIZE_MAX;
    case MEM_NEXT_FIT: {
        if (W.nfblk == 0)
            return SIZE_MAX;
        size_t start = 0;
        for (size_t i = 0; i < W.nfblk; i++)
            if (W.fblk[i].offset == W.rover)
                start = i;
        for (size_t n = 0; n < W.nfblk; n++) {
            const Blk *b = &W.fblk[(start + n) % W.nfblk];
            if (b->size >= bytes)
                return b->offset;
        }
        return SIZE_MAX;
    }
    case MEM_BEST_FIT:
    case MEM_WORST_FIT:
        for (size_t i = 0; i < W.nfblk; i++) {
            size_t s = W.fblk[i].size;
            if (s < bytes)
                continue;
            if (best == SIZE_MAX || (W.policy == MEM_BEST_FIT ? s < best_size : s > best_size)) {
                best = W.fblk[i].offset;
                best_size = s;
            }
        }
        return best;
    case MEM_FAST: {
        /* good fit: the head of the smallest non-empty class at or above
         * the request rounded up to its class's upper end */
        size_t rounded = need >= 16 ? need + ((size_t)1 << (msb(need) - 4u)) - 1u : need;
        unsigned want = size_class(rounded);
        if (rounded <= UINT32_MAX)
            for (size_t i = 0; i < W.nfblk; i++)
                if (W.fblk[i].list >= want)
                    return W.fblk[i].offset;
        /* else the first fitting block among the first 32 of need's class */
        unsigned own = size_class(need);
        unsigned seen = 0;
        for (size_t i = 0; i < W.nfblk && seen < FAST_SCAN; i++) {
            if (W.fblk[i].list != own)
                continue;
            seen++;
            if (W.fblk[i].size >= bytes)
                return W.fblk[i].offset;
        }
        return SIZE_MAX;
    }
    case MEM_BUDDY: {
        /* the head of the smallest non-empty order that holds the request */
        unsigned k = buddy_order(need);
        for (size_t i = 0; i < W.nfblk && k <= BUDDY_TOP; i++)
            if (W.fblk[i].list >= k)
                return W.fblk[i].offset;
        return SIZE_MAX;
    }
    case MEM_POLICY_COUNT:
        break;
    }
    return SIZE_MAX;
}

/* The offset of the block (in the snapshot) containing arena offset o. */
static const Blk *block_at(size_t o)
{
    for (size_t i = 0; i < W.nblk; i++)
        if (o >= W.blk[i].offset && o < W.blk[i].offset + W.blk[i].size)
            return &W.blk[i];
    return NULL;
}

/* Why the heap must reject p, from the snapshot: p is not in a live object. */
static MemReject expected_reject(const unsigned char *p)
{
    uintptr_t a = (uintptr_t)p, b = (uintptr_t)W.base;
    if (a < b + W.reg.heap_begin || a >= b + W.reg.heap_end)
        return a >= b && a - b < W.reg.size ? MEM_REJECT_TABLE : MEM_REJECT_OUTSIDE;
    const Blk *k = block_at((size_t)(a - b));
    EXPECT(k, "no block holds +%#zx", (size_t)(a - b));
    if (!k->used)
        return MEM_REJECT_FREE;
    size_t o = (size_t)(a - b);
    if (o < k->offset + MEM_HEADER_SIZE)
        return MEM_REJECT_HEADER;
    EXPECT(o >= k->offset + MEM_HEADER_SIZE + k->object,
           "+%#zx is inside the object of block +%#zx, which the program does not hold", o,
           k->offset);
    return MEM_REJECT_PADDING;
}

static Blk saved[MAX_BLK];
static size_t nsaved;

static void save_heap(void)
{
    memcpy(saved, W.blk, W.nblk * sizeof W.blk[0]);
    nsaved = W.nblk;
}

static bool same_heap(void)
{
    if (nsaved != W.nblk)
        return false;
    for (size_t i = 0; i < W.nblk; i++)
        if (saved[i].offset != W.blk[i].offset || saved[i].size != W.blk[i].size ||
            saved[i].used != W.blk[i].used || saved[i].object != W.blk[i].object ||
            saved[i].overflowed != W.blk[i].overflowed)
            return false;
    return true;
}

/* ---- operations ------------------------------------------------------------------- */

static void begin_op(void)
{
    W.nev = 0;
    W.ev_overrun = false;
    totals.ops[W.policy]++;
}

/* The deferred coalesce on the model: each run of free neighbours (W.blk,
 * in address order) merges into its first block, which keeps its place in
 * the list and takes the rover of the blocks it absorbs; W.fblk becomes the
 * list after it.  Returns the blocks absorbed; *largest and *at get the
 * largest free block after it (the lowest of equals; 0 and SIZE_MAX: none). */
static size_t model_coalesce_all(size_t *largest, size_t *at)
{
    static size_t run[MAX_BLK]; /* by the index in W.blk of a run's first block */
    size_t merges = 0;
    for (size_t i = 0; i < W.nblk; i++) {
        run[i] = W.blk[i].size;
        if (W.blk[i].used)
            continue;
        size_t j = i + 1;
        for (; j < W.nblk && !W.blk[j].used; j++, merges++) {
            mlist_remove(W.blk[j].offset);
            if (W.rover == W.blk[j].offset)
                W.rover = W.blk[i].offset;
            run[i] += W.blk[j].size;
        }
        i = j - 1;
    }
    *largest = 0;
    *at = SIZE_MAX;
    W.nfblk = W.nmlist;
    for (size_t k = 0; k < W.nmlist; k++) {
        size_t bi = blk_index(W.mlist[k]);
        W.fblk[k] = W.blk[bi];
        W.fblk[k].size = run[bi];
        if (run[bi] > *largest || (run[bi] == *largest && W.mlist[k] < *at)) {
            *largest = run[bi];
            *at = W.mlist[k];
        }
    }
    return merges;
}

static void op_alloc(size_t size)
{
    size_t need = need_grans(size);
    size_t rover_start = W.rover, nfree_before = W.nfblk;
    size_t expect = size && need ? expected_block(need) : SIZE_MAX;
    /* deferred coalescing: no block fits, so the runs merge and the search
     * runs again (on the model's list after the merge) */
    size_t merges = SIZE_MAX, largest = 0, largest_at = SIZE_MAX;
    if (expect == SIZE_MAX && size && need && W.listed && W.coalesce == MEM_COALESCE_DEFERRED) {
        merges = model_coalesce_all(&largest, &largest_at);
        expect = expected_block(need);
    }
    /* the list before the allocation, for the rover (after a merge: its list) */
    static size_t pre[MAX_BLK];
    size_t npre = W.nfblk, fi = SIZE_MAX;
    for (size_t i = 0; i < W.nfblk; i++) {
        pre[i] = W.fblk[i].offset;
        if (pre[i] == expect)
            fi = i;
    }
    Blk before_blk = {0};
    if (fi != SIZE_MAX)
        before_blk = W.fblk[fi];
    /* the library's own dry run must say the same (plan.c) */
    MemPlan plan;
    int planned = size ? MemHeap_PlanAlloc(W.h, size, NULL, 0, &plan) : -1;
    save_heap();
    begin_op();
    unsigned char *p = MemHeap_Alloc(W.h, size);
    if (planned == 0 && plan.kind != MEM_PLAN_RELEASE)
        EXPECT(p ? plan.object == off(p) : plan.kind == MEM_PLAN_FAIL,
               "MemHeap_PlanAlloc(%zu) planned kind %d, object +%#zx; Alloc gave +%#zx", size,
               (int)plan.kind, plan.object, p ? off(p) : SIZE_MAX);
    if (size == 0) {
        EXPECT(!p && W.nev == 0, "Alloc(0) gave %p and %zu events", (void *)p, W.nev);
        return;
    }
    const MemEvent *ca = event(MEM_EV_COALESCE_ALL);
    EXPECT((ca != NULL) == (merges != SIZE_MAX), "COALESCE_ALL event %d, expected %d",
           ca != NULL, merges != SIZE_MAX);
    if (ca)
        EXPECT(ca->request == size && ca->examined == nfree_before && ca->count == merges &&
                   ca->size == largest && ca->block == largest_at && ca == &W.ev[0],
               "COALESCE_ALL request %zu examined %zu count %u size %zu block +%#zx; expected "
               "%zu %zu %zu %zu +%#zx", ca->request, ca->examined, ca->count, ca->size,
               ca->block, size, nfree_before, merges, largest, largest_at);
    if (!p) {
        W.failed++;
        expect_event_frame();
        EXPECT(expect == SIZE_MAX, "Alloc(%zu) failed; the policy's rule picks +%#zx", size,
               expect);
        const MemEvent *e = event(MEM_EV_FAIL);
        EXPECT(W.nev == 1u + (ca != NULL) && e, "a failed Alloc raised %zu events, not a FAIL",
               W.nev);
        EXPECT(e->request == size, "FAIL event request %zu", e->request);
        check_heap();
        if (merges == SIZE_MAX || merges == 0)
            EXPECT(same_heap(), "a failed Alloc changed the heap");
        return;
    }
    W.allocs++;
    expect_event_frame();
    EXPECT(expect != SIZE_MAX, "Alloc(%zu) gave +%#zx; the policy's rule finds no block", size,
           off(p));
    EXPECT((uintptr_t)p % MEM_ALIGNMENT == 0, "object %p is not aligned", (void *)p);
    EXPECT(off(p) == expect + MEM_HEADER_SIZE, "Alloc(%zu) took the block at +%#zx, the "
           "policy's rule picks +%#zx", size, off(p) - MEM_HEADER_SIZE, expect);
    const MemEvent *e = event(MEM_EV_ALLOC);
    EXPECT(e && count_events(MEM_EV_ALLOC) == 1, "no ALLOC event");
    EXPECT(e->request == size && e->block == expect && e->object == off(p) &&
               e->size == before_blk.size,
           "ALLOC event request %zu block +%#zx size %zu object +%#zx", e->request, e->block,
           e->size, e->object);
    size_t rest = before_blk.size - need * GRAN;
    if (W.policy == MEM_BUDDY) {
        /* halved until the block is the power of two the request needs */
        unsigned k = buddy_order(need), top = buddy_order(before_blk.size / GRAN);
        rest = before_blk.size - (GRAN << k);
        const MemEvent *sp = event(MEM_EV_SPLIT);
        EXPECT(e->remainder == rest, "buddy ALLOC remainder %zu, expected %zu", e->remainder,
               rest);
        EXPECT((sp != NULL) == (top > k), "SPLIT event %d, halvings %u", sp != NULL, top - k);
        if (sp)
            EXPECT(sp->block == expect && sp->size == before_blk.size && sp->count == top - k &&
                       sp->remainder == rest && sp < e,
                   "SPLIT event block +%#zx size %zu levels %u remainder %zu", sp->block,
                   sp->size, sp->count, sp->remainder);
    } else {
        EXPECT(e->remainder == (rest >= MEM_MIN_BLOCK ? rest : 0),
               "ALLOC remainder %zu, rest %zu", e->remainder, rest);
    }
    EXPECT(e->examined >= 1, "ALLOC examined no block");
    if (W.policy == MEM_NEXT_FIT)
        EXPECT(count_events(MEM_EV_ROVER) <= 1, "several ROVER events");
    EXPECT(W.nobj < MAX_OBJ, "model full");
    Obj *o = &W.obj[W.nobj++];
    o->p = p;
    o->size = size;
    o->seed = (unsigned char)(W.allocs * 7u);
    o->damage = 0;
    fill(o);
    if (W.listed) { /* the remainder takes the block's place, or it leaves */
        if (rest >= MEM_MIN_BLOCK)
            W.mlist[mlist_index(expect)] = expect + need * GRAN;
        else
            mlist_remove(expect);
    }
    check_heap();
    if (W.policy == MEM_NEXT_FIT) {
        /* the rover moves to what is left of the block, or to the block after
         * it in the list (the list's head after the last) */
        size_t want = SIZE_MAX;
        if (rest >= MEM_MIN_BLOCK)
            want = expect + need * GRAN;
        else if (fi + 1 < npre)
            want = pre[fi + 1];
        else if (W.nfblk)
            want = W.fblk[0].offset;
        EXPECT(W.rover == want, "next fit: rover at +%#zx after the alloc, expected +%#zx",
               W.rover, want);
        const MemEvent *r = event(MEM_EV_ROVER);
        EXPECT((r != NULL) == (W.rover != rover_start), "ROVER event %d, rover moved %d",
               r != NULL, W.rover != rover_start);
        if (r)
            EXPECT(r->block == W.rover, "ROVER event at +%#zx, rover at +%#zx", r->block,
                   W.rover);
    }
}

/* Frees live object i through p (inside it). */
static void free_live(size_t i, unsigned char *p)
{
    Obj o = W.obj[i];
    verify_object(&o);
    size_t k = blk_index(off(o.p) - MEM_HEADER_SIZE);
    EXPECT(k != SIZE_MAX, "no block for the object at +%#zx", off(o.p));
    Blk self = W.blk[k];
    bool left = k > 0 && !W.blk[k - 1].used;
    bool right = k + 1 < W.nblk && !W.blk[k + 1].used;
    size_t merged_at = left ? W.blk[k - 1].offset : self.offset;
    size_t merged = self.size + (left ? W.blk[k - 1].size : 0) + (right ? W.blk[k + 1].size : 0);
    unsigned levels = 0, sides = 0;
    if (W.policy == MEM_BUDDY) {
        /* merged with its buddy while the buddy is a free block of its size */
        merged_at = self.offset;
        merged = self.size;
        for (;;) {
            size_t rel = merged_at - W.reg.heap_begin, bud = W.reg.heap_begin + (rel ^ merged);
            size_t bi = blk_index(bud);
            if (merged / GRAN >= ((size_t)1 << BUDDY_TOP) || bi == SIZE_MAX ||
                W.blk[bi].used || W.blk[bi].size != merged)
                break;
            sides |= bud < merged_at ? MEM_LEFT : MEM_RIGHT;
            merged_at = bud < merged_at ? bud : merged_at;
            merged *= 2;
            levels++;
        }
        left = right = false;
    }
    unsigned beside = 0; /* coalescing deferred or never: what it stays beside */
    if (W.listed && W.coalesce != MEM_COALESCE_NOW) {
        beside = (left ? MEM_LEFT : 0u) | (right ? MEM_RIGHT : 0u);
        left = right = false;
        merged_at = self.offset;
        merged = self.size;
    }
    if (W.listed) {
        if (left)
            mlist_remove(W.blk[k - 1].offset);
        if (right)
            mlist_remove(W.blk[k + 1].offset);
        mlist_add(merged_at);
    }
    begin_op();
    int r = MemHeap_Free(W.h, p);
    EXPECT(r == MEM_OK, "Free of +%#zx inside the live object at +%#zx refused (%d: %s)",
           off(p), off(o.p), r, MemReject_Describe((MemReject)r));
    W.frees++;
    unsigned damaged = popcount64(o.damage);
    if (damaged)
        W.overflows++;
    forget(i);
    expect_event_frame();
    const MemEvent *e = event(MEM_EV_FREE);
    EXPECT(e && count_events(MEM_EV_FREE) == 1, "no FREE event");
    EXPECT(e->object == off(o.p) && e->request == o.size && e->block == self.offset &&
               e->size == self.size && e->pointer == (ptrdiff_t)off(p),
           "FREE event object +%#zx request %zu block +%#zx size %zu pointer %td", e->object,
           e->request, e->block, e->size, e->pointer);
    EXPECT(e->neighbours == beside, "FREE event: left beside %u, expected %u", e->neighbours,
           beside);
    const MemEvent *ov = event(MEM_EV_OVERFLOW);
    EXPECT((ov != NULL) == (damaged != 0), "OVERFLOW event %d, %u guard bytes hit", ov != NULL,
           damaged);
    if (ov)
        EXPECT(ov->object == off(o.p) && ov->request == o.size && ov->size == damaged &&
                   ov->block == self.offset,
               "OVERFLOW event object +%#zx request %zu size %zu; expected +%#zx %zu %u",
               ov->object, ov->request, ov->size, off(o.p), o.size, damaged);
    const MemEvent *c = event(MEM_EV_COALESCE);
    EXPECT((c != NULL) == (left || right), "COALESCE event %d, free neighbours %d/%d",
           c != NULL, left, right);
    if (c)
        EXPECT(c->neighbours == ((left ? MEM_LEFT : 0u) | (right ? MEM_RIGHT : 0u)) &&
                   c->block == merged_at && c->size == merged,
               "COALESCE neighbours %u block +%#zx size %zu; expected %d/%d +%#zx %zu",
               c->neighbours, c->block, c->size, left, right, merged_at, merged);
    const MemEvent *mg = event(MEM_EV_MERGE);
    EXPECT((mg != NULL) == (levels != 0), "MERGE event %d, %u merges expected", mg != NULL,
           levels);
    if (mg)
        EXPECT(mg->block == merged_at && mg->size == merged && mg->count == levels &&
                   mg->neighbours == sides && mg > e,
               "MERGE event block +%#zx size %zu levels %u sides %u; expected +%#zx %zu %u %u",
               mg->block, mg->size, mg->count, mg->neighbours, merged_at, merged, levels, sides);
    size_t rover_before = W.rover;
    check_heap();
    size_t m = blk_index(merged_at);
    EXPECT(m != SIZE_MAX && !W.blk[m].used && W.blk[m].size == merged,
           "after the free, +%#zx is not a free block of %zu bytes", merged_at, merged);
    if (W.policy == MEM_NEXT_FIT) {
        const MemEvent *rv = event(MEM_EV_ROVER);
        EXPECT((rv != NULL) == (W.rover != rover_before), "ROVER event %d, rover moved %d",
               rv != NULL, W.rover != rover_before);
    }
}

/* A pointer the program may or may not hold: Classify and Find must agree
 * with the model; with do_free, Free too. */
static void probe(unsigned char *p, bool do_free)
{
    long i = p ? find_obj(p) : -1;
    MemReject want = i >= 0 ? MEM_OK : expected_reject(p);
    if (i < 0)
        totals.probes++;
    totals.ops[W.policy]++;
    MemReject got = MemHeap_Classify(W.h, p);
    EXPECT(got == want, "Classify(+%td) is %d (%s), expected %d (%s)",
           (ptrdiff_t)((uintptr_t)p - (uintptr_t)W.base), (int)got, MemReject_Describe(got),
           (int)want, MemReject_Describe(want));
    size_t sz = 12345;
    void *start = MemHeap_Find(W.h, p, &sz);
    if (i >= 0)
        EXPECT(start == W.obj[i].p && sz == W.obj[i].size, "Find(+%#zx) gave %p size %zu",
               off(p), start, sz);
    else
        EXPECT(!start && sz == 12345, "Find of a pointer outside live objects gave %p", start);
    if (!do_free)
        return;
    if (i >= 0) {
        free_live((size_t)i, p);
        return;
    }
    save_heap();
    begin_op();
    int r = MemHeap_Free(W.h, p);
    if (!p) {
        EXPECT(r == MEM_OK && W.nev == 0, "Free(NULL) gave %d and %zu events", r, W.nev);
        return;
    }
    W.rejected++;
    expect_event_frame();
    EXPECT(r == (int)want, "Free(+%td) gave %d, expected %d (%s)",
           (ptrdiff_t)((uintptr_t)p - (uintptr_t)W.base), r, (int)want,
           MemReject_Describe(want));
    const MemEvent *e = event(MEM_EV_REJECT);
    EXPECT(W.nev == 1 && e && e->reason == want &&
               e->pointer == (ptrdiff_t)((uintptr_t)p - (uintptr_t)W.base),
           "a rejected free raised %zu events (reason %d)", W.nev, e ? (int)e->reason : -1);
    check_heap();
    EXPECT(same_heap(), "a rejected free changed the heap");
}

/* Pointers of every kind a program might hand over by mistake. */
static unsigned char *pick_pointer(void)
{
    unsigned kind = byte() % 12u, a = byte();
    switch (kind) {
    case 0:
        if (W.nstale)
            return W.stale[a % W.nstale];
        break;
    case 1: /* anywhere near the arena */
        return at(W.base, (intptr_t)(u32() % (uint32_t)(W.reg.size + 128u)) - 64);
    case 2: /* a header byte */
        if (W.nobj)
            return at(W.obj[a % W.nobj].p, -1 - (intptr_t)(byte() % MEM_HEADER_SIZE));
        break;
    case 3: { /* just past an object: padding, or the next header */
        if (!W.nobj)
            break;
        const Obj *o = &W.obj[a % W.nobj];
        return at(o->p, (intptr_t)(o->size + byte() % 64u));
    }
    case 4: /* inside a live object: valid */
        if (W.nobj) {
            const Obj *o = &W.obj[a % W.nobj];
            return o->p + u32() % o->size;
        }
        break;
    case 5: /* inside a free block */
        if (W.nfblk) {
            const Blk *b = &W.fblk[a % W.nfblk];
            return W.base + b->offset + u32() % b->size;
        }
        break;
    case 6: /* the heap's control structure, before the arena */
        return at(W.base, -1 - (intptr_t)(u16() % (W.reg.control ? W.reg.control : 1u)));
    case 7: /* the start bitmap, before and after the blocks */
        if (a & 1)
            return W.base + a % W.reg.heap_begin;
        return at(W.base, (intptr_t)(W.reg.heap_end + u16() % (W.reg.size - W.reg.heap_end + 1u)));
    case 8: /* the harness's stack */
        return W.stack;
    case 9:
        return (unsigned char *)&global_probe + a % sizeof global_probe;
    case 10:
        return other_mapping + a % sizeof other_mapping;
    default:
        switch (a % 6u) {
        case 0: return NULL;
        case 1: return (unsigned char *)(uintptr_t)1;
        case 2: return (unsigned char *)UINTPTR_MAX;
        case 3: return at(W.base, (intptr_t)W.reg.size);
        case 4: return at(W.region, (intptr_t)W.region_size);
        default: return at(W.region, -1);
        }
    }
    return W.base + W.reg.heap_begin + u32() % (W.reg.heap_end - W.reg.heap_begin);
}

/* Guard mode: overwrite n guard bytes of a live object with values that
 * differ from the pattern. */
static void op_overflow(void)
{
    if (!W.nobj || !(W.flags & MEM_OPT_GUARD))
        return;
    Obj *o = &W.obj[byte() % W.nobj];
    size_t k = blk_index(off(o->p) - MEM_HEADER_SIZE);
    EXPECT(k != SIZE_MAX, "no block for a live object");
    /* the guard, not a wide padding's size word (buddy); the damage mask
     * follows its first 64 bytes */
    size_t pad = W.blk[k].padding >= 62 ? W.blk[k].padding - 8u : W.blk[k].padding;
    if (pad > 64)
        pad = 64;
    size_t from = byte() % pad, n = 1 + byte() % 8u;
    if (from + n > pad)
        n = pad - from;
    unsigned char v = (unsigned char)byte();
    if (v == GUARD_BYTE)
        v = 0;
    UNPOISON(o->p + o->size + from, n);
    memset(o->p + o->size + from, v, n);
    POISON(o->p + o->size + from, n);
    for (size_t i = from; i < from + n; i++)
        o->damage |= (uint64_t)1 << i;
    check_heap();
}

static void expect_whole(const char *what);

static void create_heap(unsigned pbyte, unsigned sbyte, unsigned fillb)
{
    W.policy = (MemPolicy)(pbyte % MEM_POLICY_COUNT);
    /* The model is the block heap's: MEM_FAST runs without its runs here
     * (the trace harness, test_random and test_runs exercise runs). */
    W.flags = ((pbyte & 8u) ? MEM_OPT_GUARD : 0u) | ((pbyte & 16u) ? MEM_OPT_NOLOCK : 0u) |
              (W.policy == MEM_FAST ? MEM_OPT_NORUNS : 0u);
    W.region_size = region_sizes[sbyte % 8u];
    W.region = mapping + ((sbyte >> 3) & 15u);
    /* Garbage before creation: the heap must not rely on zeroed memory. */
    size_t dirty = W.region_size < (256u << 10) ? W.region_size : (256u << 10);
    memset(W.region, (int)fillb, dirty);
    /* the knobs, from the byte's top three bits, for the list policies */
    W.listed = W.policy < MEM_FAST;
    W.order = W.listed ? (MemOrder)((pbyte >> 5) % 3u) : MEM_ORDER_ADDRESS;
    W.coalesce = W.listed ? (MemCoalesce)((pbyte >> 5) / 3u) : MEM_COALESCE_NOW;
    MemOptions opt = {W.policy, W.flags, W.order, W.coalesce};
    W.h = MemHeap_CreateEx(W.region, W.region_size, &opt);
    EXPECT(W.h, "MemHeap_CreateEx(%p, %zu) failed", (void *)W.region, W.region_size);
    MemHeap_SetObserver(W.h, observe, NULL);
    W.reg = MemHeap_Region(W.h);
    W.base = W.reg.base;
    W.ngran = (W.reg.heap_end - W.reg.heap_begin) / GRAN;
    EXPECT(W.reg.policy == W.policy && W.reg.flags == W.flags, "region policy/flags");
    EXPECT(W.reg.base == W.region + W.reg.control, "arena at control offset");
    EXPECT((uintptr_t)W.base % MEM_ALIGNMENT == 0, "arena base misaligned");
    EXPECT(W.base + W.reg.size <= W.region + W.region_size, "arena past the region");
    EXPECT(W.reg.heap_begin == MEM_HEADER_SIZE, "heap_begin %zu", W.reg.heap_begin);
    W.nobj = W.nstale = 0;
    W.allocs = W.frees = W.failed = W.rejected = W.overflows = 0;
    W.peak = 0;
    W.nmlist = W.listed ? 1u : 0u;
    W.mlist[0] = W.reg.heap_begin;
    check_heap();
    expect_whole("a new heap");
}

/* An empty heap is one free block; buddy's is the largest aligned powers of
 * two that fit, left to right. */
static void expect_whole(const char *what)
{
    if (W.policy != MEM_BUDDY) {
        EXPECT(W.nblk == 1 && !W.blk[0].used, "%s is one free block, not %zu blocks", what,
               W.nblk);
        return;
    }
    size_t at = 0, left = W.ngran;
    for (size_t i = 0; i < W.nblk; i++) {
        size_t want = (size_t)1 << BUDDY_TOP;
        while (want > left)
            want >>= 1;
        EXPECT(!W.blk[i].used && W.blk[i].offset == W.reg.heap_begin + at * GRAN &&
                   W.blk[i].size == want * GRAN,
               "%s: buddy block %zu is +%#zx of %zu bytes, expected +%#zx of %zu", what, i,
               W.blk[i].offset, W.blk[i].size, W.reg.heap_begin + at * GRAN, want * GRAN);
        at += want;
        left -= want;
    }
    EXPECT(left < 2, "%s: %zu buddy granules not tiled", what, left);
}

static size_t pick_size(void)
{
    unsigned k = byte();
    MemStats s;
    switch (k % 8u) {
    case 0: case 1: case 2:
        return 1u + byte();
    case 3: case 4:
        return 1u + u16() % 4096u;
    case 5:
        return u32() % (uint32_t)(W.reg.size + 64u);
    case 6:
        s = MemHeap_Stats(W.h);
        return s.largest_request + (byte() % 3u) - 1u + (s.largest_request == 0);
    default:
        switch (byte() % 6u) {
        case 0: return 0;
        case 1: return SIZE_MAX;
        case 2: return SIZE_MAX - 15u;
        case 3: return (size_t)INT_MAX;
        case 4: return W.ngran * GRAN;
        default: return W.ngran * GRAN + 1u;
        }
    }
}

const char *Fuzz_Ops(const uint8_t *data, size_t size)
{
    if (!mapping) {
        void *m = mmap(NULL, REGION_MAX, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        if (m == MAP_FAILED)
            return "cannot map the region";
        mapping = m;
    }
    unsigned char on_stack[16] = {0};
    memset(&W, 0, sizeof W);
    W.stack = on_stack + 5;
    W.in = data;
    W.in_len = size;
    why[0] = '\0';
    totals.inputs++;
    if (setjmp(bail)) {
        if (W.h)
            MemHeap_Release(W.h);
        return why;
    }
    unsigned pb = byte(), sb = byte(), fb = byte();
    /* The refusals of MemHeap_Create first: none of them may touch memory. */
    EXPECT(!MemHeap_Create(NULL, 1u << 16, MEM_FAST, 0), "Create(NULL) succeeded");
    if (!region_sizes[0])
        region_sizes[0] = MemHeap_ControlSize() + MEM_MIN_ARENA + 15u; /* any skew */
    EXPECT(!MemHeap_Create(mapping, MemHeap_ControlSize() + MEM_MIN_ARENA - 1u, MEM_FAST, 0),
           "Create(too small)");
    EXPECT(!MemHeap_Create(mapping, 1u << 16, MEM_POLICY_COUNT, 0), "Create(bad policy)");
    EXPECT(!MemHeap_Create(mapping, 1u << 16, MEM_FAST, 1u << 7), "Create(unknown flag)");
    create_heap(pb, sb, fb);

    for (unsigned n = 0; n < MAX_OPS && W.in_pos < W.in_len; n++) {
        unsigned op = byte() % 16u;
        if (op <= 5) {
            if (W.nobj < MAX_OBJ)
                op_alloc(pick_size());
            else
                free_live(0, W.obj[0].p);
        } else if (op <= 8) {
            if (W.nobj) {
                size_t i = byte() % W.nobj;
                free_live(i, W.obj[i].p + u32() % W.obj[i].size);
            }
        } else if (op <= 10) {
            probe(pick_pointer(), false);
        } else if (op == 11) {
            probe(pick_pointer(), true);
        } else if (op == 12) {
            if (W.nobj) { /* rewrite an object with a new pattern */
                Obj *o = &W.obj[byte() % W.nobj];
                verify_object(o);
                o->seed = (unsigned char)byte();
                fill(o);
            }
        } else if (op == 13) {
            op_overflow();
        } else if (op == 14) { /* free everything: the heap is whole again */
            while (W.nobj)
                free_live(W.nobj - 1, W.obj[W.nobj - 1].p);
            if (W.coalesce == MEM_COALESCE_NOW)
                expect_whole("the heap with everything freed");
            else /* side by side, all free */
                EXPECT(W.nfblk == W.nblk, "everything freed, yet %zu of %zu blocks are used",
                       W.nblk - W.nfblk, W.nblk);
        } else {
            /* Re-create over the same memory (the old heap is discarded):
             * every pointer the program held is now stale. */
            unsigned np = byte();
            MemHeap_Release(W.h);
            create_heap(np, sb, fb);
        }
    }
    for (size_t i = 0; i < W.nobj; i++)
        verify_object(&W.obj[i]);
    while (W.nobj)
        free_live(0, W.obj[0].p);
    MemHeap_Release(W.h);
    return NULL;
}

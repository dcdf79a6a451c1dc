/*
 * harness_damage.c - a heap under attack (issue 9).
 *
 * Input layout (missing bytes read as 0):
 *   [0] policy (% 6), bit 3: guard mode; a list policy's order (bits 4..7
 *       % 3) and coalescing (bits 6..7 % 3)
 *   [1] region size (% 4, from the table below), bits 2..5: base misalignment
 *   then operations, one opcode byte (% 32) and its arguments each.
 *
 * The operations are the program's (allocate, now and then aligned; free
 * through an interior byte; resize in place; write into its own objects)
 * and the damage: a byte changed anywhere
 * in the arena, in a header, in a free block's links or footer, in the start
 * bitmap, in the guard after an object, in a run's table (MEM_FAST's small
 * objects: links, counts, bitmap and its hashes, sizes); one bit flipped in
 * freed memory; a wild free.  Every hook is called now and then (Walk, WalkFree, Stats,
 * Check, Diagnose, Find, Classify, Region).
 *
 * No check of the heap's answers but what BAD_INPUT.md's section H
 * promises, whatever the damage:
 *   - nothing crashes or hangs (the fuzzer's timeout, the test's);
 *   - an allocation is aligned, inside the block area, over no live object;
 *   - no byte outside the region changes;
 *   - every live object holds the bytes the program (or the damage) put
 *     there: the heap writes into no live object;
 *   - an accepted free was given a pointer into a live object, and Find
 *     answers with a live object's start or NULL;
 *   - the walks report blocks inside the block area, and no more of them
 *     than fit there.
 * A refused operation is fine.  A shadow copy of the region holds what each
 * live byte must be.
 */
#include "harness.h"

#include "mem.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define DAMAGE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DAMAGE_ASAN 1
#endif
#endif
#if defined(DAMAGE_ASAN)
#include <sanitizer/asan_interface.h>
#endif

#define MAX_OBJ 128u
#define MAX_FREED 64u
#define PAD 512u
#define PAD_BYTE 0x5Au
#define REGION_MAX (65536u + 16u)

static const size_t region_sizes[4] = {MEM_MIN_REGION, 8192, 16384, REGION_MAX};

typedef struct Obj {
    unsigned char *p;
    size_t n;
} Obj;

typedef struct Span {
    unsigned char *p; /* a freed block's header */
    size_t n;         /* its bytes */
} Span;

static struct {
    MemHeap *h;
    MemRegion r;
    bool guard;
    unsigned char *region;
    size_t size;
    Obj obj[MAX_OBJ];
    size_t nobj;
    Span freed[MAX_FREED];
    size_t nfreed;
    unsigned seq;
    const uint8_t *in;
    size_t in_len, in_pos;
} D;

static _Alignas(64) unsigned char space[PAD + REGION_MAX + 64u + PAD];
static unsigned char shadow[sizeof space];
static FuzzDamageTotals totals;

FuzzDamageTotals Fuzz_DamageTotals(void) { return totals; }

static unsigned byte(void) { return D.in_pos < D.in_len ? D.in[D.in_pos++] : 0u; }
static unsigned u16(void) { return byte() | byte() << 8; }
static uint32_t u32(void) { return (uint32_t)u16() | (uint32_t)u16() << 16; }

static size_t at(const void *p) { return (size_t)((const unsigned char *)p - space); }

static bool inside(const unsigned char *p, const unsigned char *lo, size_t n)
{
    return (uintptr_t)p >= (uintptr_t)lo && (uintptr_t)p - (uintptr_t)lo < n;
}

/* The live object holding byte p, or -1. */
static long owner(const unsigned char *p)
{
    for (size_t i = 0; i < D.nobj; i++)
        if (inside(p, D.obj[i].p, D.obj[i].n))
            return (long)i;
    return -1;
}

/* The live object whose block or slot may hold byte p: the nearest start at
 * or before p, if p is no further than a block's or slot's padding past the
 * object's end (when the exact size in the metadata is damaged, the heap
 * may take padding for the object: a wrong answer about a live object, not
 * an overlap), or -1. */
#define PAD_MAX 1040u
static long owner_near(const unsigned char *p)
{
    long best = -1;
    for (size_t i = 0; i < D.nobj; i++)
        if ((uintptr_t)p >= (uintptr_t)D.obj[i].p &&
            (best < 0 || (uintptr_t)D.obj[i].p > (uintptr_t)D.obj[best].p))
            best = (long)i;
    if (best >= 0 && (uintptr_t)p - (uintptr_t)D.obj[best].p >= D.obj[best].n + PAD_MAX)
        best = -1;
    return best;
}

/* A store by the program or the damage: the shadow follows it where it
 * lands in a live object. */
static void poke(unsigned char *p, unsigned char v)
{
    *p = v;
    if (owner(p) >= 0)
        shadow[at(p)] = v;
}

static const char *verify(const char *after)
{
    for (size_t i = 0; i < PAD; i++)
        if (space[i] != PAD_BYTE || D.region[D.size + i] != PAD_BYTE)
            return fuzz_fail("after %s: a byte outside the region changed", after);
    for (size_t k = 0; k < D.nobj; k++) {
        const Obj *o = &D.obj[k];
        if (memcmp(o->p, shadow + at(o->p), o->n) != 0)
            return fuzz_fail("after %s: the live object at +%#zx (%zu bytes) was changed by "
                             "the heap",
                             after, (size_t)(o->p - (unsigned char *)D.r.base), o->n);
    }
    return NULL;
}

/* ---- the program ---------------------------------------------------------------- */

static const char *do_alloc(void)
{
    unsigned sel = byte();
    size_t n = 1 + (sel % 8 == 0 ? u16() % 3000u : u16() % 300u);
    size_t align = sel % 8 == 1 ? (size_t)32 << ((sel >> 4) & 3u) : 0u; /* resize.c's cuts */
    unsigned char *p = align ? MemHeap_AllocAligned(D.h, align, n) : MemHeap_Alloc(D.h, n);
    totals.allocs++;
    if (p && align && (uintptr_t)p % align)
        return fuzz_fail("an allocation aligned to %zu at %p is not", align, (void *)p);
    if (!p) {
        totals.refused_allocs++;
        return NULL;
    }
    unsigned char *lo = (unsigned char *)D.r.base + D.r.heap_begin;
    if (!inside(p, lo, D.r.heap_end - D.r.heap_begin) ||
        !inside(p + n - 1, lo, D.r.heap_end - D.r.heap_begin))
        return fuzz_fail("an allocation of %zu bytes at %p is outside the block area", n,
                         (void *)p);
    if ((uintptr_t)p % MEM_ALIGNMENT)
        return fuzz_fail("an allocation at %p is misaligned", (void *)p);
    for (size_t k = 0; k < D.nobj; k++)
        if ((uintptr_t)p < (uintptr_t)D.obj[k].p + D.obj[k].n &&
            (uintptr_t)D.obj[k].p < (uintptr_t)p + n)
            return fuzz_fail("an allocation of %zu bytes at +%#zx overlaps the live object "
                             "at +%#zx (%zu bytes)",
                             n, (size_t)(p - (unsigned char *)D.r.base),
                             (size_t)(D.obj[k].p - (unsigned char *)D.r.base), D.obj[k].n);
    if (D.nobj == MAX_OBJ) { /* the program forgets one (it leaks) */
        D.obj[0] = D.obj[--D.nobj];
    }
    D.obj[D.nobj++] = (Obj){p, n};
    D.seq++;
    for (size_t i = 0; i < n; i++)
        shadow[at(p + i)] = p[i] = (unsigned char)(D.seq * 29u + i * 13u);
    return NULL;
}

/* A live object resized in place (resize.c: it takes from its right
 * neighbour or gives back to it): if the heap agrees, the object stays
 * inside the block area and over no other live object. */
static const char *do_resize(void)
{
    if (!D.nobj)
        return NULL;
    size_t k = byte() % D.nobj;
    Obj *o = &D.obj[k];
    size_t n = 1 + u16() % 600u;
    totals.allocs++;
    if (MemHeap_Resize(D.h, o->p, n) != 0) {
        totals.refused_allocs++;
        return NULL;
    }
    unsigned char *lo = (unsigned char *)D.r.base + D.r.heap_begin;
    if (!inside(o->p + n - 1, lo, D.r.heap_end - D.r.heap_begin))
        return fuzz_fail("a resize to %zu bytes at %p reaches past the block area", n,
                         (void *)o->p);
    for (size_t j = 0; j < D.nobj; j++)
        if (j != k && (uintptr_t)o->p < (uintptr_t)D.obj[j].p + D.obj[j].n &&
            (uintptr_t)D.obj[j].p < (uintptr_t)o->p + n)
            return fuzz_fail("a resize to %zu bytes at +%#zx overlaps the live object at +%#zx "
                             "(%zu bytes)",
                             n, (size_t)(o->p - (unsigned char *)D.r.base),
                             (size_t)(D.obj[j].p - (unsigned char *)D.r.base), D.obj[j].n);
    for (size_t i = o->n; i < n; i++)
        shadow[at(o->p + i)] = o->p[i] = (unsigned char)(i * 7u + 3u);
    o->n = n;
    return NULL;
}

static const char *do_free(void)
{
    if (!D.nobj)
        return NULL;
    size_t k = byte() % D.nobj;
    Obj o = D.obj[k];
    int rc = MemHeap_Free(D.h, o.p + u16() % o.n);
    totals.frees++;
    if (rc != MEM_OK) {
        totals.refused_frees++; /* the program keeps it */
        return NULL;
    }
    D.obj[k] = D.obj[--D.nobj];
    size_t extra = D.guard ? 8u : 0u;
    size_t grans = (o.n + 8u + extra + 15u) / 16u;
    Span s = {o.p - 8, (grans < 2 ? 2 : grans) * 16u};
    if (D.nfreed < MAX_FREED)
        D.freed[D.nfreed++] = s;
    else
        D.freed[D.seq % MAX_FREED] = s;
    return NULL;
}

/* ---- the damage ---------------------------------------------------------------------- */

/* Under ASan the library keeps all but live objects poisoned: the damage
 * writes there on purpose. */
static void expose(void)
{
#if defined(DAMAGE_ASAN)
    ASAN_UNPOISON_MEMORY_REGION(D.r.base, D.r.size);
#endif
}

/* p is in a live block: its header, its object or the 8 bytes after it. */
static bool in_live_block(const unsigned char *p)
{
    for (size_t i = 0; i < D.nobj; i++)
        if ((uintptr_t)p + 8u >= (uintptr_t)D.obj[i].p &&
            (uintptr_t)p < (uintptr_t)D.obj[i].p + D.obj[i].n + 8u)
            return true;
    return false;
}

static void damage(unsigned char *p)
{
    unsigned char x = (unsigned char)(byte() | 1u);
    if (!inside(p, (unsigned char *)D.r.base, D.r.size))
        return;
    poke(p, (unsigned char)(*p ^ x));
    totals.corruptions++;
}

/* Where the walk finds runs: the header's offset and slot 0's. */
typedef struct Runs {
    size_t at[16], table[16];
    unsigned n;
} Runs;

static bool find_runs(const MemBlock *b, void *arg)
{
    Runs *r = arg;
    if (b->run && b->slot_offset > b->offset && r->n < 16) {
        r->at[r->n] = b->offset;
        r->table[r->n++] = b->slot_offset;
    }
    return true;
}

static const char *do_damage(unsigned kind)
{
    unsigned char *base = D.r.base;
    expose();
    switch (kind) {
    case 0: /* anywhere in the arena */
        damage(base + u32() % D.r.size);
        break;
    case 1: /* a header: of a live object, or of a freed block */
        if (D.nobj && byte() % 2)
            damage(D.obj[byte() % D.nobj].p - 8 + byte() % 8);
        else if (D.nfreed)
            damage(D.freed[byte() % D.nfreed].p + byte() % 8);
        break;
    case 2: /* a freed block's links or footer */
        if (D.nfreed) {
            const Span *s = &D.freed[byte() % D.nfreed];
            damage(byte() % 2 ? s->p + 8 + byte() % 8 : s->p + s->n - 4 + byte() % 4);
        }
        break;
    case 3: /* the start bitmap: the arena's first word, or its tail */
        if (byte() % 2 || D.r.size == D.r.heap_end)
            damage(base + byte() % 8);
        else
            damage(base + D.r.heap_end + u16() % (D.r.size - D.r.heap_end));
        break;
    case 4: /* the guard (or padding) after a live object */
        if (D.nobj) {
            const Obj *o = &D.obj[byte() % D.nobj];
            damage(o->p + o->n + byte() % 8);
        }
        break;
    default: { /* a run's header or table */
        Runs runs = {{0}, {0}, 0};
        MemHeap_Walk(D.h, find_runs, &runs);
        if (runs.n) {
            unsigned i = byte() % runs.n;
            damage(base + runs.at[i] + u16() % (runs.table[i] - runs.at[i]));
            totals.run_tables++;
        }
        break;
    }
    }
    return verify("a corruption");
}

/* One bit of a freed block, if no live object holds it now. */
static const char *do_flip(void)
{
    if (!D.nfreed)
        return NULL;
    const Span *s = &D.freed[byte() % D.nfreed];
    unsigned char *p = s->p + u16() % s->n;
    if (in_live_block(p) || !inside(p, (unsigned char *)D.r.base, D.r.size))
        return NULL;
    expose();
    *p ^= (unsigned char)(1u << (byte() % 8));
    totals.flips++;
    return NULL;
}

/* ---- the hooks -------------------------------------------------------------------------- */

typedef struct Seen {
    size_t n, limit;
    const char *why;
} Seen;

static bool seen(const MemBlock *b, void *arg)
{
    Seen *s = arg;
    if (++s->n > s->limit) {
        s->why = fuzz_fail("a walk visits more blocks than fit in the block area");
        return false;
    }
    if (b->offset < D.r.heap_begin || b->offset >= D.r.heap_end || b->size < MEM_MIN_BLOCK ||
        b->size > D.r.heap_end - b->offset) {
        s->why = fuzz_fail("a walk reports a block at +%#zx of %zu bytes, outside the block "
                           "area [+%#zx, +%#zx)",
                           b->offset, b->size, D.r.heap_begin, D.r.heap_end);
        return false;
    }
    return true;
}

static const char *do_hooks(void)
{
    size_t limit = (D.r.heap_end - D.r.heap_begin) / MEM_MIN_BLOCK;
    Seen s = {0, limit, NULL};
    MemHeap_Walk(D.h, seen, &s);
    if (s.why)
        return s.why;
    s = (Seen){0, limit, NULL};
    MemHeap_WalkFree(D.h, seen, &s);
    if (s.why)
        return s.why;
    (void)MemHeap_Stats(D.h);
    char why[128];
    (void)MemHeap_Diagnose(D.h, why, sizeof why);
    (void)MemHeap_Check(D.h);
    (void)MemHeap_Region(D.h);
    for (size_t k = 0; k < D.nobj; k++) {
        size_t n;
        unsigned char *p = MemHeap_Find(D.h, D.obj[k].p + D.obj[k].n - 1, &n);
        if (p && p != D.obj[k].p)
            return fuzz_fail("Find answers +%#zx for a byte of the live object at +%#zx",
                             (size_t)(p - (unsigned char *)D.r.base),
                             (size_t)(D.obj[k].p - (unsigned char *)D.r.base));
        (void)MemHeap_Classify(D.h, D.obj[k].p);
    }
    /* a wild pointer anywhere in the region and around it */
    unsigned char *wild = space + u32() % sizeof space;
    unsigned char *f = MemHeap_Find(D.h, wild, NULL);
    long k = owner_near(wild);
    if (f && (k < 0 || D.obj[k].p != f))
        return fuzz_fail("Find answers +%#zx for a byte of no live object",
                         (size_t)(f - (unsigned char *)D.r.base));
    int rc = MemHeap_Free(D.h, wild);
    if (rc == MEM_OK) {
        if (k < 0)
            return fuzz_fail("a free of a byte of no live object (+%#zx) was accepted",
                             (size_t)(wild - (unsigned char *)D.r.base));
        D.obj[k] = D.obj[--D.nobj];
    }
    totals.hooks++;
    return verify("the hooks");
}

/* ---- the run ------------------------------------------------------------------------------ */

const char *Fuzz_Damage(const uint8_t *data, size_t size)
{
    memset(&D, 0, sizeof D);
    D.in = data;
    D.in_len = size;
    totals.inputs++;
    unsigned b0 = byte(), b1 = byte();
    MemPolicy policy = (MemPolicy)(b0 % MEM_POLICY_COUNT);
    D.guard = (b0 >> 3) & 1u;
    D.size = region_sizes[b1 % 4u];
    memset(space, PAD_BYTE, sizeof space);
    D.region = space + PAD + ((b1 >> 2) & 15u);
    /* the list policies with OSTEP's knobs too: LIFO, FIFO; deferred, none */
    MemOptions opt = {policy, D.guard ? MEM_OPT_GUARD : 0u, MEM_ORDER_ADDRESS, MEM_COALESCE_NOW};
    if (policy < MEM_FAST) {
        opt.order = (MemOrder)((b0 >> 4) % 3u);
        opt.coalesce = (MemCoalesce)((b0 >> 6) % 3u);
    }
    D.h = MemHeap_CreateEx(D.region, D.size, &opt);
    if (!D.h)
        return fuzz_fail("MemHeap_Create refused a region of %zu bytes", D.size);
    D.r = MemHeap_Region(D.h);
    const char *why = NULL;
    while (!why && D.in_pos < D.in_len) {
        unsigned op = byte() % 32u;
        if (op < 12)
            why = do_alloc();
        else if (op < 20)
            why = do_free();
        else if (op < 26)
            why = do_damage(op - 20u);
        else if (op < 28)
            why = do_flip();
        else if (op < 30)
            why = do_hooks();
        else if (op == 30)
            why = do_resize();
        else if (D.nobj) { /* the program writes its own object */
            const Obj *o = &D.obj[byte() % D.nobj];
            poke(o->p + u16() % o->n, (unsigned char)byte());
        }
        if (!why)
            why = verify("an operation");
    }
    if (!why)
        why = do_hooks();
    MemHeap_Release(D.h);
    return why;
}

/*
 * create.c - making a heap over a region (the control structure, the bitmap
 * of block starts, one free block over the whole block area), releasing it,
 * and the policies' names.
 */
#include "seg.h"

#include <string.h>

MEM_NO_ASAN MemHeap *mem_heap_init(MemHeap *h, void *arena, size_t size, const MemOptions *o,
                                   size_t control)
{
    if (size > MEM_MAX_ARENA)
        size = MEM_MAX_ARENA;
    if (size < HDR + MIN_GRANS * GRAN + 8u)
        return NULL;

    /* The most granules whose bitmap still fits beside them. */
    size_t n = (size - HDR) / GRAN;
    unsigned levels = 0;
    size_t stored = 0;
    for (;;) {
        levels = 1;
        stored = 0;
        size_t words = mem_bm_words((uint32_t)n, 0);
        while (words > 1) {
            stored += words;
            levels++;
            words = (words + 63u) / 64u;
        }
        size_t need = HDR + n * GRAN + (stored ? (stored - 1u) * 8u : 0u);
        if (need <= size)
            break;
        n -= (need - size + GRAN - 1u) / GRAN;
    }
    MemPolicy policy = o->policy;
    if (policy == MEM_BUDDY)
        n &= ~(size_t)1; /* blocks of 2^k granules, k >= 1, tile only an even count */
    if (n < MIN_GRANS)
        return NULL;

    mem_secret_init();
    memset(h, 0, sizeof *h);
    h->magic = MEM_MAGIC;
    h->policy = (uint8_t)policy;
    h->flags = (uint8_t)(o->flags & ~(unsigned)MEM_OPT_ZEROED);
    h->order = (uint8_t)o->order;
    h->coalesce = (uint8_t)o->coalesce;
    h->bm_levels = (uint8_t)levels;
    h->base = arena;
    h->arena = size;
    h->control = control;
    h->ngran = (uint32_t)n;
    size_t off = 0;
    for (unsigned l = 0; l < levels; l++) {
        h->bm_off[l] = (uint32_t)off;
        h->bm_nwords[l] = (uint32_t)mem_bm_words((uint32_t)n, l);
        off += h->bm_nwords[l];
    }
    h->head = h->tail = h->rover = NIL;
    for (unsigned i = 0; i < FL_COUNT; i++)
        for (unsigned j = 0; j < SL_COUNT; j++)
            h->fast_head[i][j] = NIL;
    h->big = NIL;
    h->big_known = true;
    for (unsigned k = 0; k <= BUDDY_MAX_ORDER; k++)
        h->buddy_head[k] = NIL;
    atomic_init(&h->lock_owner, 0);
    atomic_init(&h->lock_word, 0u);
    mem_key_draw(h);

    MEM_UNPOISON(arena, size);
    for (unsigned l = 0; l < levels && !(o->flags & MEM_OPT_ZEROED); l++)
        for (size_t w = 0; w < h->bm_nwords[l]; w++)
            *mem_bm_word(h, l, w) = 0;

    uint32_t g = 0, s = (uint32_t)n;
    const MemKeys keys = mem_keys(h), *k = &keys;
    if (policy == MEM_BUDDY) {
        mem_buddy_init(h, k);
        mem_runs_init(h); /* (all classes off: runs are MEM_FAST's) */
        MEM_POISON(arena, size);
        h->seal[0] = h->seal[1] = mem_seal_of(h);
        return h;
    }
    hdr_write_k(h, k, g, s, B_PREV_USED);
    footer_write(h, g, s);
    bm_set(h, g);
    if (mem_is_list_policy(h)) {
        mem_list_add(h, k, g, NIL, NIL);
        if (policy == MEM_NEXT_FIT)
            h->rover = g;
    } else {
        mem_seg_insert(h, k, g, s);
    }
    h->free_blocks = 1;
    mem_runs_init(h);
    MEM_POISON(arena, size);
    h->seal[0] = h->seal[1] = mem_seal_of(h);
    return h;
}

MEM_NO_ASAN size_t MemHeap_ControlSize(void)
{
    return (sizeof(MemHeap) + GRAN - 1u) / GRAN * GRAN;
}

/* MEM_MIN_REGION's promise: any alignment, the smallest arena. */
_Static_assert((sizeof(MemHeap) + GRAN - 1u) / GRAN * GRAN + GRAN - 1u + MEM_MIN_ARENA <=
                   MEM_MIN_REGION,
               "MEM_MIN_REGION holds a control structure and MEM_MIN_ARENA");
/* The smallest arena holds the bitmap's first word and a 48-byte block. */
_Static_assert(MEM_MIN_ARENA >= HDR + 3u * GRAN + 8u, "MEM_MIN_ARENA holds a block");

MEM_NO_ASAN MemHeap *MemHeap_CreateEx(void *region, size_t size, const MemOptions *o)
{
    if (!region || !o || (unsigned)o->policy >= MEM_POLICY_COUNT ||
        (o->flags &
         ~(unsigned)(MEM_OPT_NOLOCK | MEM_OPT_GUARD | MEM_OPT_NORUNS | MEM_OPT_ZEROED)) ||
        (unsigned)o->order >= MEM_ORDER_COUNT || (unsigned)o->coalesce >= MEM_COALESCE_COUNT)
        return NULL;
    /* the knobs are the list policies' */
    if (o->policy >= MEM_FAST && (o->order != MEM_ORDER_ADDRESS || o->coalesce != MEM_COALESCE_NOW))
        return NULL;
    uintptr_t p = (uintptr_t)region;
    size_t lead = (size_t)((GRAN - p % GRAN) % GRAN);
    size_t control = lead + MemHeap_ControlSize();
    if (size < control || size - control < MEM_MIN_ARENA)
        return NULL;
    MemHeap *h = (MemHeap *)(void *)((unsigned char *)region + lead);
    return mem_heap_init(h, (unsigned char *)region + control, size - control, o, control);
}

MEM_NO_ASAN MemHeap *MemHeap_Create(void *region, size_t size, MemPolicy policy, unsigned flags)
{
    MemOptions o = {policy, flags, MEM_ORDER_ADDRESS, MEM_COALESCE_NOW};
    return MemHeap_CreateEx(region, size, &o);
}

/* Not a heap (never created, released, or its seal broken): ignored. */
MEM_NO_ASAN void MemHeap_Release(MemHeap *h)
{
    if (!mem_heap_ok(h))
        return;
    MEM_UNPOISON(h->base, h->arena);
    h->magic = 0;
    h->seal[0] = h->seal[1] = 0;
    h->observer = NULL;
}

/* ---- policies by name ---------------------------------------------------------- */

static const char *const policy_names[MEM_POLICY_COUNT] = {"first", "next", "best", "worst",
                                                           "fast",  "buddy"};

MEM_NO_ASAN const char *MemPolicy_Name(MemPolicy p)
{
    return (unsigned)p < MEM_POLICY_COUNT ? policy_names[p] : "?";
}


/* ---- the knobs by name --------------------------------------------------------- */

static const char *const order_names[MEM_ORDER_COUNT] = {"address", "lifo", "fifo"};
static const char *const coalesce_names[MEM_COALESCE_COUNT] = {"now", "deferred", "never"};

MEM_NO_ASAN const char *MemOrder_Name(MemOrder order)
{
    return (unsigned)order < MEM_ORDER_COUNT ? order_names[order] : "?";
}

MEM_NO_ASAN const char *MemCoalesce_Name(MemCoalesce coalesce)
{
    return (unsigned)coalesce < MEM_COALESCE_COUNT ? coalesce_names[coalesce] : "?";
}

/* The index of name in names[n], or -1. */
static int find_name(const char *name, const char *const *names, unsigned n)
{
    if (!name)
        return -1;
    for (unsigned i = 0; i < n; i++)
        if (strcmp(name, names[i]) == 0)
            return (int)i;
    return -1;
}

MEM_NO_ASAN int MemOrder_Parse(const char *name, MemOrder *out)
{
    int i = find_name(name, order_names, MEM_ORDER_COUNT);
    if (i < 0 || !out)
        return -1;
    *out = (MemOrder)i;
    return 0;
}

MEM_NO_ASAN int MemCoalesce_Parse(const char *name, MemCoalesce *out)
{
    int i = find_name(name, coalesce_names, MEM_COALESCE_COUNT);
    if (i < 0 || !out)
        return -1;
    *out = (MemCoalesce)i;
    return 0;
}

MEM_NO_ASAN int MemPolicy_Parse(const char *name, MemPolicy *out)
{
    int i = find_name(name, policy_names, MEM_POLICY_COUNT);
    if (i < 0 || !out)
        return -1;
    *out = (MemPolicy)i;
    return 0;
}

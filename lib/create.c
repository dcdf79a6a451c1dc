/*
 * create.c - making a heap over a region (the control structure, the bitmap
 * of block starts, one free block over the whole block area), releasing it,
 * and the policies' names.
 */
#include "seg.h"

#include <string.h>

MEM_NO_ASAN MemHeap *mem_heap_init(MemHeap *h, void *arena, size_t size, MemPolicy policy,
                                   unsigned flags, size_t control)
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
    if (n < MIN_GRANS)
        return NULL;

    mem_secret_init();
    memset(h, 0, sizeof *h);
    h->magic = MEM_MAGIC;
    h->policy = (uint8_t)policy;
    h->flags = (uint8_t)flags;
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
    atomic_init(&h->lock_owner, 0);
    mem_key_draw(h);

    MEM_UNPOISON(arena, size);
    for (unsigned l = 0; l < levels; l++)
        for (size_t w = 0; w < mem_bm_words((uint32_t)n, l); w++)
            *mem_bm_word(h, l, w) = 0;

    uint32_t g = 0, s = (uint32_t)n;
    const MemKeys keys = mem_keys(h), *k = &keys;
    hdr_write_k(h, k, g, s, B_PREV_USED);
    footer_write(h, g, s);
    bm_set(h, g);
    if (mem_is_list_policy(h)) {
        mem_list_link(h, k, g, NIL, NIL);
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

MEM_NO_ASAN MemHeap *MemHeap_Create(void *region, size_t size, MemPolicy policy, unsigned flags)
{
    if (!region || size < MEM_MIN_REGION || (unsigned)policy >= MEM_POLICY_COUNT ||
        (flags & ~(unsigned)(MEM_OPT_NOLOCK | MEM_OPT_GUARD | MEM_OPT_NORUNS)))
        return NULL;
    uintptr_t p = (uintptr_t)region;
    size_t lead = (size_t)((GRAN - p % GRAN) % GRAN);
    size_t control = lead + MemHeap_ControlSize();
    if (size < control + MEM_MIN_BLOCK * 4u)
        return NULL;
    MemHeap *h = (MemHeap *)(void *)((unsigned char *)region + lead);
    return mem_heap_init(h, (unsigned char *)region + control, size - control, policy, flags,
                         control);
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
                                                           "fast"};

MEM_NO_ASAN const char *MemPolicy_Name(MemPolicy p)
{
    return (unsigned)p < MEM_POLICY_COUNT ? policy_names[p] : "?";
}

MEM_NO_ASAN int MemPolicy_Parse(const char *name, MemPolicy *out)
{
    if (!name || !out)
        return -1;
    for (unsigned i = 0; i < MEM_POLICY_COUNT; i++) {
        if (strcmp(name, policy_names[i]) == 0) {
            *out = (MemPolicy)i;
            return 0;
        }
    }
    return -1;
}

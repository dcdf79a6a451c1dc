/*
 * view.c - reading a heap that another process is using: a view of a
 * region mapped here at another address (read-only, say), made by copying
 * the heap's control structure and recomputing its process-local parts.
 *
 * Inside the arena everything is offsets and counts (block.h), so the
 * arena can be read in place.  The control structure, at the region's start
 * (MemHeap_Create), holds the few pointers that are the creator's: the
 * arena base, the bitmap levels, the observer and the lock owner.  The view
 * is a private copy of it with those recomputed for this mapping, the lock
 * off (the creator's lock is not ours to take) and a flag that makes every
 * function that would write refuse.  Every field that decides where a read
 * goes is checked against the mapping's size first; what the arena holds is
 * checked by the hooks as they read it (tags, ranges, bounded walks), so a
 * torn or hostile region gives wrong answers at worst, never a read outside
 * the mapping or a loop.
 */
#include "runs.h"

#include <string.h>

MEM_NO_ASAN size_t MemHeap_ViewSize(void)
{
    return sizeof(MemHeap);
}

/* The control structure copied into h describes an arena that fits in
 * `avail` bytes after it, with the bitmap geometry MemHeap_Create gives. */
MEM_NO_ASAN static bool control_sane(const MemHeap *h, size_t avail)
{
    if (h->magic != MEM_MAGIC || h->policy >= MEM_POLICY_COUNT || h->order >= MEM_ORDER_COUNT ||
        h->coalesce >= MEM_COALESCE_COUNT ||
        (h->flags & ~(unsigned)(MEM_OPT_NOLOCK | MEM_OPT_GUARD)) || h->bm_levels == 0 ||
        h->bm_levels > BM_LEVELS || h->arena > avail || h->arena > MEM_MAX_ARENA ||
        h->ngran < MIN_GRANS)
        return false;
    size_t stored = 0;
    for (unsigned l = 0; l < h->bm_levels; l++) {
        if (h->bm_nwords[l] != mem_bm_words(h->ngran, l) || h->bm_off[l] != stored)
            return false;
        stored += h->bm_nwords[l];
    }
    if (h->bm_levels == 1 ? h->bm_nwords[0] != 1 : h->bm_nwords[h->bm_levels - 1u] != 1)
        return false;
    /* the block area and the stored bitmap words (all but word 0 of level 0
     * and a top level above it) lie inside the arena */
    size_t words = stored - 1u - (h->bm_levels > 1 ? 1u : 0u);
    return HDR + (size_t)h->ngran * GRAN + words * 8u <= h->arena;
}

MEM_NO_ASAN MemHeap *MemHeap_View(void *view, const void *region, size_t size)
{
    if (!view || !region || ((uintptr_t)view % _Alignof(MemHeap)))
        return NULL;
    uintptr_t p = (uintptr_t)region;
    size_t lead = (size_t)((GRAN - p % GRAN) % GRAN);
    size_t control = lead + MemHeap_ControlSize();
    if (size < control + MEM_MIN_BLOCK)
        return NULL;
    MemHeap *h = view;
    memcpy(h, (const unsigned char *)region + lead, sizeof *h);
    if (h->control != control || !control_sane(h, size - control))
        return NULL;
    unsigned char *base = (unsigned char *)(uintptr_t)region + control;
    h->base = base;
    h->flags = (uint8_t)(h->flags | MEM_VIEW_FLAG); /* which also skips the lock */
    h->run_gate = RUN_GATE_OFF; /* and the runs' fast paths, which write */
    h->observer = NULL;
    h->observer_arg = NULL;
    h->big_known = false; /* the creator's figure is not trusted: found again */
    atomic_init(&h->lock_owner, 0);
    atomic_init(&h->lock_word, 0u);
    h->lock_depth = 0;
    /* This process's seal, for this copy at this address: the hooks accept
     * it as a heap.  Its keys are the creator's as it stored them, masked
     * with the creator's process secret: right in the process that created
     * the heap (and its forked children), wrong anywhere else until
     * MemHeap_ViewKeys gives the real ones. */
    mem_secret_init();
    h->seal[0] = h->seal[1] = mem_seal_of(h);
    return h;
}

MEM_NO_ASAN int MemHeap_ExportKeys(const MemHeap *h, void *out, size_t len)
{
    if (!mem_heap_ok(h) || (h->flags & MEM_VIEW_FLAG) || !out || len < MEM_KEYS_SIZE)
        return -1;
    uint64_t k[MEM_KEYS_SIZE / 8u] = {0};
    _Static_assert(MEM_KEYS * 8u <= MEM_KEYS_SIZE, "the keys fit MEM_KEYS_SIZE");
    for (unsigned i = 0; i < MEM_KEYS; i++)
        k[i] = i == K_OBSERVER ? 0u : mem_key(h, i); /* a reader calls no observer */
    memcpy(out, k, sizeof k);
    return 0;
}

MEM_NO_ASAN int MemHeap_ViewKeys(MemHeap *h, const void *keys, size_t len)
{
    if (!mem_heap_ok(h) || !(h->flags & MEM_VIEW_FLAG) || !keys || len < MEM_KEYS_SIZE)
        return -1;
    uint64_t k[MEM_KEYS_SIZE / 8u];
    memcpy(k, keys, sizeof k);
    for (unsigned i = 0; i < MEM_KEYS; i++)
        h->key[i] = k[i] ^ mem_secret[i];
    h->seal[0] = h->seal[1] = mem_seal_of(h); /* the keys are sealed */
    h->big_known = false; /* found again with these keys */
    return 0;
}

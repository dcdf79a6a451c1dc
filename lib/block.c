/*
 * block.c - the cold parts of the block layer (block.h): the summary levels
 * of the bitmap of block starts.
 *
 * Level l has bm_nwords[l] words; the first level of one word is the top,
 * kept in the control structure (bm_top), unless level 0 is that one word.
 * The other words are stored one after the other, level 0 first from
 * storage word bm_off[l]: storage word 0 is the arena's first 8 bytes,
 * storage word i > 0 the i-th word after the block area (block.h's
 * picture).  The number of levels is sealed (mem_internal.h); a storage
 * index past the arena's tail (a damaged bm_off) gives the top word instead,
 * so even a damaged control structure keeps bitmap stores inside the heap.
 */
#include "block.h"

/* Level 0 has one bit per granule index; level k+1 one bit per word of
 * level k, set iff that word is not zero. */
MEM_NO_ASAN size_t mem_bm_words(uint32_t nbits, unsigned level)
{
    size_t n = nbits;
    for (unsigned l = 0; l <= level; l++)
        n = (n + 63u) / 64u;
    return n;
}

/* Levels of the bitmap over ngran granules, the top one included. */
MEM_NO_ASAN unsigned mem_bm_levels(uint32_t ngran)
{
    unsigned levels = 1;
    for (size_t words = mem_bm_words(ngran, 0); words > 1; words = (words + 63u) / 64u)
        levels++;
    return levels;
}

MEM_NO_ASAN uint64_t *mem_bm_summary_word(const MemHeap *h, unsigned level, size_t word)
{
    size_t tail = (h->arena - HDR - (size_t)h->ngran * GRAN) / 8u;
    size_t i = (size_t)h->bm_off[level % BM_LEVELS] - 1u + word;
    if (level + 1u >= h->bm_levels || i >= tail)
        return (uint64_t *)(uintptr_t)&h->bm_top;
    return (uint64_t *)(void *)(h->base + HDR + (size_t)h->ngran * GRAN) + i;
}

/* Summary levels change only when a level-0 word turns empty or non-empty. */
MEM_NO_ASAN void mem_bm_set_up(const MemHeap *h, size_t idx)
{
    unsigned levels = h->bm_levels;
    for (unsigned l = 1; l < levels; l++) {
        uint64_t *w = mem_bm_word(h, l, idx >> 6);
        uint64_t was = *w;
        *w = was | (uint64_t)1 << (idx & 63u);
        if (was)
            return;
        idx >>= 6;
    }
}

MEM_NO_ASAN void mem_bm_clear_up(const MemHeap *h, size_t idx)
{
    unsigned levels = h->bm_levels;
    for (unsigned l = 1; l < levels; l++) {
        uint64_t *w = mem_bm_word(h, l, idx >> 6);
        *w &= ~((uint64_t)1 << (idx & 63u));
        if (*w)
            return;
        idx >>= 6;
    }
}

/* The last set bit at or before q at level 0, or NIL.  Climb while the
 * masked word is empty, then descend taking the highest bit.  Nothing read
 * is trusted: a summary bit without its word ends the search. */
MEM_NO_ASAN uint32_t mem_bm_find_prev_slow(const MemHeap *h, uint32_t q)
{
    size_t idx = q;
    unsigned l = 0, levels = h->bm_levels;
    for (;;) {
        uint64_t w = *mem_bm_word(h, l, idx >> 6) & (~(uint64_t)0 >> (63u - (idx & 63u)));
        if (w) {
            idx = (idx & ~(size_t)63) | msb64(w);
            break;
        }
        if (l + 1u == levels || (idx >> 6) == 0)
            return NIL;
        idx = (idx >> 6) - 1u;
        l++;
    }
    while (l > 0) {
        l--;
        if (idx >= h->bm_nwords[l])
            return NIL; /* a summary bit past its level: corrupt */
        uint64_t w = *mem_bm_word(h, l, idx);
        if (!w)
            return NIL; /* a summary bit without its word: corrupt */
        idx = idx * 64u + msb64(w);
    }
    return idx <= q ? (uint32_t)idx : NIL;
}

/*
 * heap.c - the allocator: block format, free lists, placement, hooks.
 *
 * The arena
 * ---------
 * Objects must start on 16-byte boundaries and every block carries an 8-byte
 * header, so headers sit 8 bytes before a boundary.  The first 8 bytes of the
 * arena can therefore never belong to a block; the bitmap's first word lives
 * there.  Blocks tile the block area, and the rest of the bitmap follows it:
 *
 *   0        8                                    8+16N            arena
 *   [bm w0 ][hdr|object...|pad][hdr|free .....ftr][bm w1 .. w(T-1)][slack]
 *            ^ granule 0        ^ granule g
 *
 * A block is named by its granule index g: header at 8 + 16g, object at
 * 16(g+1).  Every size and link inside the region is a 32-bit count or index
 * of granules, never a pointer, so another process can read the region
 * mapped at another address.  (A one-page heap: N = 254, T = 4, and a block
 * of 4064 bytes holds an object of up to 4056 bytes: 40 bytes of metadata.)
 *
 * Blocks
 * ------
 *   used:  [size | USED PREV_USED slack tag][object ........][padding]
 *   free:  [size | PREV_USED tag][next][prev] ............ [size footer]
 *
 * size counts granules (at least 2, so a free block can hold its links and
 * its footer).  slack is block bytes - 8 - object bytes, so the exact
 * requested size comes back from 6 bits.  PREV_USED says whether the block
 * before holds an object; when it does not, the 4 bytes before this header
 * are that free block's footer, which is how we coalesce to the left without
 * spending a footer on used blocks.  tag is a 24-bit hash of (g, size, flags):
 * a header overwritten by a stray store no longer matches, and the block is
 * refused instead of trusted.
 *
 * Interior pointers
 * -----------------
 * A hierarchical bitmap has one bit per granule, set at block starts, and
 * a summary bit per word above it (6 levels at most; the top word is in the
 * control structure).  The block holding byte o is the last set bit at or
 * before (o - 8) / 16: one masked word in the common case, O(log64 n) at
 * worst, never a walk of the blocks.
 *
 * Free lists
 * ----------
 * first/next/best/worst: one doubly linked list in address order (head,
 * tail; next fit's rover).  Coalescing keeps the order without a search when
 * a neighbour is free: the merged block takes the neighbour's place.  Only a
 * block freed between two used ones searches the list for its place.
 *
 * fast: TLSF-style segregated lists.  The first level is the size's highest
 * bit, the second splits each power of two into 16 classes; two bitmaps find
 * the smallest non-empty class that is certain to fit in O(1) ("good fit").
 * If none is, the first 32 blocks of the request's own class are scanned
 * before failing: a fitting block deeper in that class is not found, the
 * price of O(1) (heapviz says so when it happens).
 */
#include "mem_internal.h"

#include <sched.h>
#include <string.h>

/* ---- small helpers ------------------------------------------------------ */

static inline unsigned msb64(uint64_t x) { return 63u - (unsigned)__builtin_clzll(x); }
static inline unsigned msb32(uint32_t x) { return 31u - (unsigned)__builtin_clz(x); }
static inline unsigned lsb32(uint32_t x) { return (unsigned)__builtin_ctz(x); }

/* One multiply: a stray store that changes the size, the flags or the
 * header's position is caught with probability 1 - 2^-24. */
MEM_NO_ASAN uint32_t mem_tag(uint32_t g, uint32_t size, uint32_t low)
{
    uint32_t x = (g ^ low << 24) + size * 0x9E3779B1u;
    return (x ^ x >> 15) & 0xFFFFFFu;
}

MEM_NO_ASAN static inline void hdr_write(const MemHeap *h, uint32_t g, uint32_t size, uint32_t low)
{
    BlockHeader *b = mem_hdr(h, g);
    b->size = size;
    b->info = low | mem_tag(g, size, low & B_TAGGED) << B_TAG_SHIFT;
}

/* A header read at block g (size and info as read) is in range and carries
 * its tag. */
MEM_NO_ASAN static inline bool hdr_valid(const MemHeap *h, uint32_t g, uint32_t size,
                                         uint32_t info)
{
    return g < h->ngran && size >= MIN_GRANS && size <= h->ngran - g &&
           info >> B_TAG_SHIFT == mem_tag(g, size, info & B_TAGGED);
}

MEM_NO_ASAN static inline bool hdr_ok(const MemHeap *h, uint32_t g, const BlockHeader *b)
{
    return hdr_valid(h, g, b->size, b->info);
}

/* Free block g can be trusted before the heap writes through it: a valid
 * free header and links that stay inside the block area.  An overrun from
 * the object before it, or a store into freed memory, fails here, and
 * nothing is split, merged or unlinked through it.  (Its footer, at the far
 * end of the block, is not read: every write that follows rewrites it, and
 * MemHeap_Check compares it.) */
MEM_NO_ASAN static inline bool free_block_ok(const MemHeap *h, uint32_t g)
{
    const BlockHeader *b = mem_hdr(h, g);
    if (!hdr_ok(h, g, b) || (b->info & B_USED))
        return false;
    const uint32_t *l = mem_links(h, g);
    return (l[0] == NIL || l[0] < h->ngran) && (l[1] == NIL || l[1] < h->ngran);
}

/* The next block of a free list, NIL at its end; a link out of the block
 * area (a damaged list) ends the list instead of being followed. */
MEM_NO_ASAN static inline uint32_t link_next(const MemHeap *h, uint32_t g)
{
    uint32_t n = mem_links(h, g)[0];
    return n < h->ngran ? n : NIL;
}

/* A list head as stored, or NIL when it is out of range. */
MEM_NO_ASAN static inline uint32_t link_first(const MemHeap *h, uint32_t head)
{
    return head < h->ngran ? head : NIL;
}

/* Rewrites the PREV_USED bit of block g (if g is a block, not the end). */
MEM_NO_ASAN static inline void set_prev_used(const MemHeap *h, uint32_t g, bool used)
{
    if (g >= h->ngran)
        return;
    BlockHeader *b = mem_hdr(h, g);
    b->info = (b->info & ~B_PREV_USED) | (used ? B_PREV_USED : 0u);
}

MEM_NO_ASAN static inline void footer_write(const MemHeap *h, uint32_t g, uint32_t size)
{
    *mem_footer_before(h, g + size) = size;
}

/* The lock is a spin-then-yield lock that its owner may take again, so an
 * observer or a walk visitor can query the heap it is called from.  A thread
 * is identified by the address of a thread-local byte.  The lock is the one
 * mutable part of a const heap.  (mem_lock, inline, skips it altogether while
 * the process has one thread.) */
static _Thread_local char thread_token;

MEM_NO_ASAN bool mem_lock_slow(const MemHeap *heap)
{
    MemHeap *h = (MemHeap *)(uintptr_t)heap;
    uintptr_t me = (uintptr_t)&thread_token;
    if (atomic_load_explicit(&h->lock_owner, memory_order_relaxed) == me) {
        h->lock_depth++;
        return true;
    }
    unsigned spins = 0;
    for (;;) {
        uintptr_t free_token = 0;
        if (atomic_compare_exchange_weak_explicit(&h->lock_owner, &free_token, me,
                                                  memory_order_acquire, memory_order_relaxed))
            break;
        if (++spins >= 64) {
            spins = 0;
            sched_yield();
        }
    }
    h->lock_depth = 1;
    return true;
}

MEM_NO_ASAN void mem_unlock_slow(const MemHeap *heap)
{
    MemHeap *h = (MemHeap *)(uintptr_t)heap;
    if (--h->lock_depth == 0)
        atomic_store_explicit(&h->lock_owner, 0, memory_order_release);
}

/* ---- the bitmap of block starts ------------------------------------------ */

MEM_NO_ASAN size_t mem_bm_words(uint32_t nbits, unsigned level)
{
    size_t n = nbits;
    for (unsigned l = 0; l <= level; l++)
        n = (n + 63u) / 64u;
    return n;
}

/* Summary levels change only when a level-0 word turns empty or non-empty. */
MEM_NO_ASAN static void bm_set_up(const MemHeap *h, size_t idx)
{
    for (unsigned l = 1; l < h->bm_levels; l++) {
        uint64_t *w = mem_bm_word(h, l, idx >> 6);
        uint64_t was = *w;
        *w = was | (uint64_t)1 << (idx & 63u);
        if (was)
            return;
        idx >>= 6;
    }
}

MEM_NO_ASAN static void bm_clear_up(const MemHeap *h, size_t idx)
{
    for (unsigned l = 1; l < h->bm_levels; l++) {
        uint64_t *w = mem_bm_word(h, l, idx >> 6);
        *w &= ~((uint64_t)1 << (idx & 63u));
        if (*w)
            return;
        idx >>= 6;
    }
}

MEM_NO_ASAN static inline void bm_set(const MemHeap *h, uint32_t g)
{
    uint64_t *w = mem_bm_word(h, 0, g >> 6);
    uint64_t was = *w;
    *w = was | (uint64_t)1 << (g & 63u);
    if (!was)
        bm_set_up(h, g >> 6);
}

MEM_NO_ASAN static inline void bm_clear(const MemHeap *h, uint32_t g)
{
    uint64_t *w = mem_bm_word(h, 0, g >> 6);
    *w &= ~((uint64_t)1 << (g & 63u));
    if (!*w)
        bm_clear_up(h, g >> 6);
}

/* The last set bit at or before q at level 0, or NIL.  Climb while the
 * masked word is empty, then descend taking the highest bit. */
MEM_NO_ASAN static uint32_t bm_find_prev_slow(const MemHeap *h, uint32_t q)
{
    size_t idx = q;
    unsigned l = 0;
    for (;;) {
        uint64_t w = *mem_bm_word(h, l, idx >> 6) & (~(uint64_t)0 >> (63u - (idx & 63u)));
        if (w) {
            idx = (idx & ~(size_t)63) | msb64(w);
            break;
        }
        if (l + 1u == h->bm_levels || (idx >> 6) == 0)
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

/* Most objects start within 64 granules (1 KiB) of any of their bytes: one
 * masked word answers. */
MEM_NO_ASAN static inline uint32_t bm_find_prev(const MemHeap *h, uint32_t q)
{
    uint64_t w = *mem_bm_word(h, 0, q >> 6) & (~(uint64_t)0 >> (63u - (q & 63u)));
    if (w)
        return (q & ~(uint32_t)63) | msb64(w);
    return bm_find_prev_slow(h, q);
}

/* ---- the address-ordered list (first, next, best, worst) ----------------- */

#define MEM_HOT MEM_NO_ASAN static inline __attribute__((always_inline))

MEM_HOT void list_link(MemHeap *h, uint32_t g, uint32_t prev, uint32_t next)
{
    uint32_t *l = mem_links(h, g);
    l[0] = next;
    l[1] = prev;
    if (prev == NIL)
        h->head = g;
    else
        mem_links(h, prev)[0] = g;
    if (next == NIL)
        h->tail = g;
    else
        mem_links(h, next)[1] = g;
}

MEM_HOT void list_unlink(MemHeap *h, uint32_t g)
{
    uint32_t *l = mem_links(h, g);
    uint32_t next = l[0], prev = l[1];
    if (prev == NIL)
        h->head = next;
    else
        mem_links(h, prev)[0] = next;
    if (next == NIL)
        h->tail = prev;
    else
        mem_links(h, next)[1] = prev;
    if (h->rover == g)
        h->rover = next != NIL ? next : h->head;
}

/* new takes old's place in the list (same neighbours in address order). */
MEM_HOT void list_replace(MemHeap *h, uint32_t old, uint32_t new_g)
{
    uint32_t *l = mem_links(h, old);
    list_link(h, new_g, l[1], l[0]);
    if (h->rover == old)
        h->rover = new_g;
}

/* Inserts a block that has no free neighbour: search from the nearer end. */
MEM_NO_ASAN static void list_insert(MemHeap *h, uint32_t g)
{
    uint32_t prev = NIL, next = h->head;
    if (h->tail != NIL && h->tail < g) {
        prev = h->tail;
        next = NIL;
    } else {
        next = link_first(h, next);
        for (size_t n = 0; next != NIL && next < g && n <= h->free_blocks; n++) {
            prev = next;
            next = link_next(h, next);
        }
    }
    list_link(h, g, prev, next);
}

/* ---- segregated lists (fast) --------------------------------------------- */

/* The class of a size, as one index fl * SL_COUNT + sl into fast_head:
 * below SL_COUNT granules one class per size; above, the highest bit picks
 * fl and the SL_BITS bits below it pick sl. */
MEM_HOT unsigned fast_class(uint32_t size)
{
    if (size < SL_COUNT)
        return size;
    unsigned m = msb32(size);
    return (m - (SL_BITS - 1u)) * SL_COUNT + ((size >> (m - SL_BITS)) & (SL_COUNT - 1u));
}

MEM_NO_ASAN void mem_fast_mapping(uint32_t size, unsigned *fl, unsigned *sl)
{
    unsigned c = fast_class(size);
    *fl = c / SL_COUNT;
    *sl = c % SL_COUNT;
}

MEM_HOT void fast_insert(MemHeap *h, uint32_t g, uint32_t size)
{
    unsigned c = fast_class(size);
    uint32_t *heads = &h->fast_head[0][0];
    uint32_t old = heads[c];
    uint32_t *l = mem_links(h, g);
    l[0] = old;
    l[1] = NIL;
    if (old != NIL)
        mem_links(h, old)[1] = g;
    heads[c] = g;
    h->sl_map[c / SL_COUNT] |= 1u << (c % SL_COUNT);
    h->fl_map |= 1u << (c / SL_COUNT);
}

MEM_HOT void fast_remove(MemHeap *h, uint32_t g, uint32_t size)
{
    uint32_t *l = mem_links(h, g);
    uint32_t next = l[0], prev = l[1];
    if (next != NIL)
        mem_links(h, next)[1] = prev;
    if (prev != NIL) {
        mem_links(h, prev)[0] = next;
        return;
    }
    unsigned c = fast_class(size);
    (&h->fast_head[0][0])[c] = next;
    if (next == NIL) {
        unsigned fl = c / SL_COUNT;
        h->sl_map[fl] &= ~(1u << (c % SL_COUNT));
        if (!h->sl_map[fl])
            h->fl_map &= ~(1u << fl);
    }
}

/* new takes old's place in class c's list (a block that changed size without
 * changing class): no bitmap changes. */
MEM_HOT void fast_replace(MemHeap *h, uint32_t old, uint32_t new_g, unsigned c)
{
    uint32_t *l = mem_links(h, old);
    uint32_t next = l[0], prev = l[1];
    uint32_t *n = mem_links(h, new_g);
    n[0] = next;
    n[1] = prev;
    if (prev != NIL)
        mem_links(h, prev)[0] = new_g;
    else
        (&h->fast_head[0][0])[c] = new_g;
    if (next != NIL)
        mem_links(h, next)[1] = new_g;
}

/* Good fit: the first block of the smallest non-empty class whose every
 * block fits, else a bounded first-fit scan of need's own class. */
MEM_HOT uint32_t fast_search(const MemHeap *h, uint32_t need, size_t *examined)
{
    uint64_t rounded = need;
    if (need >= SL_COUNT)
        rounded += ((uint64_t)1 << (msb32(need) - SL_BITS)) - 1u;
    if (rounded <= UINT32_MAX) {
        unsigned c = fast_class((uint32_t)rounded);
        unsigned fl = c / SL_COUNT;
        uint32_t slm = h->sl_map[fl] & (~0u << (c % SL_COUNT));
        if (!slm) {
            uint32_t flm = h->fl_map & (~0u << fl << 1);
            if (flm) {
                fl = lsb32(flm);
                slm = h->sl_map[fl];
            }
        }
        if (slm) {
            *examined += 1;
            return h->fast_head[fl][lsb32(slm)];
        }
    }
    uint32_t g = link_first(h, (&h->fast_head[0][0])[fast_class(need)]);
    for (unsigned n = 0; g != NIL && n < FAST_FALLBACK_SCAN; n++) {
        *examined += 1;
        if (mem_hdr(h, g)->size >= need)
            return g;
        g = link_next(h, g);
    }
    return NIL;
}

/* ---- policy-independent free-structure operations ------------------------ */

MEM_NO_ASAN static uint32_t list_search(MemHeap *h, uint32_t need, size_t *examined)
{
    /* Every walk is bounded by the number of free blocks and stops at a link
     * out of range: a damaged list cannot loop or lead out of the heap. */
    uint32_t g, best = NIL, best_size = 0;
    size_t n, limit = h->free_blocks;
    switch ((MemPolicy)h->policy) {
    case MEM_FIRST_FIT:
        for (g = link_first(h, h->head), n = 0; g != NIL && n < limit; g = link_next(h, g), n++) {
            ++*examined;
            if (mem_hdr(h, g)->size >= need)
                return g;
        }
        return NIL;
    case MEM_NEXT_FIT: {
        uint32_t start = link_first(h, h->rover != NIL ? h->rover : h->head);
        if (start == NIL)
            return NIL;
        g = start;
        n = 0;
        do {
            ++*examined;
            if (mem_hdr(h, g)->size >= need)
                return g;
            g = link_next(h, g);
            if (g == NIL)
                g = link_first(h, h->head);
        } while (g != start && g != NIL && ++n < limit);
        return NIL;
    }
    case MEM_BEST_FIT:
        for (g = link_first(h, h->head), n = 0; g != NIL && n < limit; g = link_next(h, g), n++) {
            uint32_t s = mem_hdr(h, g)->size;
            ++*examined;
            if (s >= need && (best == NIL || s < best_size)) {
                best = g;
                best_size = s;
                if (s == need)
                    break; /* nothing can fit better, nor lower */
            }
        }
        return best;
    case MEM_WORST_FIT:
        for (g = link_first(h, h->head), n = 0; g != NIL && n < limit; g = link_next(h, g), n++) {
            uint32_t s = mem_hdr(h, g)->size;
            ++*examined;
            if (s >= need && (best == NIL || s > best_size)) {
                best = g;
                best_size = s;
            }
        }
        return best;
    case MEM_FAST:
    case MEM_POLICY_COUNT:
        break;
    }
    return NIL;
}

/* The largest free block (the lowest of equals), NIL when there is none.
 * Under MEM_FAST it is in the highest non-empty class. */
MEM_NO_ASAN uint32_t mem_largest_free(const MemHeap *h, size_t *bytes)
{
    uint32_t best = NIL, best_size = 0, g = NIL;
    if (mem_is_list_policy(h)) {
        g = h->head;
    } else if (h->fl_map) {
        unsigned fl = msb32(h->fl_map);
        g = h->fast_head[fl][msb32(h->sl_map[fl])];
    }
    for (size_t n = 0; (g = link_first(h, g)) != NIL && n <= h->free_blocks;
         g = mem_links(h, g)[0], n++) {
        uint32_t size = mem_hdr(h, g)->size;
        if (size > best_size || (size == best_size && g < best)) {
            best = g;
            best_size = size;
        }
    }
    *bytes = (size_t)best_size * GRAN;
    return best;
}

/* ---- events --------------------------------------------------------------- */

/* An operation raises at most a handful of events; they are delivered when
 * it has completed, so an observer always sees a consistent heap. */
typedef struct EventBuf {
    bool on;     /* an observer is installed: build events at all */
    unsigned n;
    uint64_t op; /* this operation's number, from 1 */
    MemEvent ev[4];
} EventBuf;

MEM_NO_ASAN static inline void ev_begin(EventBuf *eb, const MemHeap *h)
{
    eb->n = 0;
    eb->on = h->observer != NULL;
    if (eb->on)
        eb->op = h->allocs + h->frees + h->failed + h->rejected + 1u;
}

MEM_NO_ASAN static MemEvent *ev_add(EventBuf *eb, const MemHeap *h, MemEventKind kind)
{
    if (!eb->on || eb->n >= sizeof eb->ev / sizeof eb->ev[0])
        return NULL;
    MemEvent *e = &eb->ev[eb->n++];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->policy = (MemPolicy)h->policy;
    e->op = eb->op;
    return e;
}

MEM_NO_ASAN static void ev_flush(const MemHeap *h, const EventBuf *eb)
{
    for (unsigned i = 0; i < eb->n && h->observer; i++)
        h->observer(&eb->ev[i], h->observer_arg);
}

static size_t goff(uint32_t g) { return HDR + (size_t)g * GRAN; }

MEM_NO_ASAN static void ev_rover(EventBuf *eb, const MemHeap *h, uint32_t before)
{
    if (h->policy != MEM_NEXT_FIT || h->rover == before)
        return;
    MemEvent *e = ev_add(eb, h, MEM_EV_ROVER);
    if (e && h->rover != NIL) {
        e->block = goff(h->rover);
        e->size = (size_t)mem_hdr(h, h->rover)->size * GRAN;
    } else if (e) {
        e->block = SIZE_MAX;
    }
}

/* ---- creation --------------------------------------------------------------- */

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
    uint64_t *tail = (uint64_t *)(void *)((unsigned char *)arena + HDR + n * GRAN);
    for (unsigned l = 0; l < levels; l++) {
        h->bm_off[l] = (uint32_t)off;
        h->bm_nwords[l] = (uint32_t)mem_bm_words((uint32_t)n, l);
        off += h->bm_nwords[l];
        /* storage word i >= 1 is tail[i - 1]; a top level above level 0 is
         * in here (a lone level 0 is just the arena's first word) */
        h->bm_level[l] = l > 0 && l + 1u == levels ? &h->bm_top : tail + h->bm_off[l] - 1;
    }
    h->head = h->tail = h->rover = NIL;
    for (unsigned i = 0; i < FL_COUNT; i++)
        for (unsigned j = 0; j < SL_COUNT; j++)
            h->fast_head[i][j] = NIL;
    atomic_init(&h->lock_owner, 0);

    MEM_UNPOISON(arena, size);
    for (unsigned l = 0; l < levels; l++)
        for (size_t w = 0; w < h->bm_nwords[l]; w++)
            *mem_bm_word(h, l, w) = 0;

    uint32_t g = 0, s = (uint32_t)n;
    hdr_write(h, g, s, B_PREV_USED);
    footer_write(h, g, s);
    bm_set(h, g);
    if (mem_is_list_policy(h)) {
        list_link(h, g, NIL, NIL);
        if (policy == MEM_NEXT_FIT)
            h->rover = g;
    } else {
        fast_insert(h, g, s);
    }
    h->free_blocks = 1;
    MEM_POISON(arena, size);
    return h;
}

MEM_NO_ASAN size_t MemHeap_ControlSize(void)
{
    return (sizeof(MemHeap) + GRAN - 1u) / GRAN * GRAN;
}

MEM_NO_ASAN MemHeap *MemHeap_Create(void *region, size_t size, MemPolicy policy, unsigned flags)
{
    if (!region || size < MEM_MIN_REGION || (unsigned)policy >= MEM_POLICY_COUNT ||
        (flags & ~(unsigned)(MEM_OPT_NOLOCK | MEM_OPT_GUARD)))
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

MEM_NO_ASAN void MemHeap_Release(MemHeap *h)
{
    if (!h)
        return;
    MEM_UNPOISON(h->base, h->arena);
    h->magic = 0;
}

/* ---- allocation ------------------------------------------------------------ */

MEM_NO_ASAN static void guard_fill(unsigned char *from, size_t n)
{
    MEM_UNPOISON(from, n);
    for (size_t i = 0; i < n; i++)
        from[i] = GUARD_BYTE;
    MEM_POISON(from, n);
}

/* Bytes of the guard after the object of block g found overwritten. */
MEM_NO_ASAN static size_t guard_damage(const MemHeap *h, uint32_t g)
{
    const BlockHeader *b = mem_hdr(h, g);
    const unsigned char *p = mem_payload(h, g) + mem_object_size(b);
    size_t n = mem_slack(b), bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += p[i] != GUARD_BYTE;
    return bad;
}

/* Granules of a block that holds size bytes, or 0 when none can. */
MEM_HOT uint32_t need_grans(const MemHeap *h, size_t size)
{
    size_t extra = HDR + ((h->flags & MEM_OPT_GUARD) ? GUARD_MIN : 0u) + GRAN - 1u;
    if (size > (size_t)h->ngran * GRAN)
        return 0;
    size_t n = (size + extra) / GRAN;
    return n < MIN_GRANS ? MIN_GRANS : (uint32_t)n;
}

MEM_NO_ASAN static void alloc_failed(MemHeap *h, size_t size, size_t examined, EventBuf *eb)
{
    h->failed++;
    MemEvent *e = ev_add(eb, h, MEM_EV_FAIL);
    if (e) {
        e->request = size;
        e->examined = examined;
        e->free_total = (size_t)h->ngran * GRAN - h->used_bytes;
        uint32_t big = mem_largest_free(h, &e->largest_free);
        e->block = big != NIL ? goff(big) : SIZE_MAX;
        e->size = e->largest_free;
    }
}

MEM_HOT void *alloc_locked(MemHeap *h, size_t size, EventBuf *eb, const bool list)
{
    uint32_t need = need_grans(h, size);
    uint32_t rover_before = h->rover;
    size_t examined = 0;
    uint32_t g = NIL;
    if (need)
        g = list ? list_search(h, need, &examined) : fast_search(h, need, &examined);
    if (g == NIL || !free_block_ok(h, g)) {
        alloc_failed(h, size, examined, eb);
        return NULL;
    }

    BlockHeader *b = mem_hdr(h, g);
    uint32_t total = b->size;
    uint32_t prev_used = b->info & B_PREV_USED;
    uint32_t rest = total - need;

    if (rest >= MIN_GRANS) {
        /* [------ free ------] => [used][ free ] */
        uint32_t r = g + need;
        hdr_write(h, r, rest, B_PREV_USED);
        footer_write(h, r, rest);
        bm_set(h, r);
        if (list) {
            list_replace(h, g, r);
            if (h->policy == MEM_NEXT_FIT)
                h->rover = r;
        } else {
            /* A small piece off a large block rarely changes its class. */
            unsigned c = fast_class(total);
            if (fast_class(rest) == c) {
                fast_replace(h, g, r, c);
            } else {
                fast_remove(h, g, total);
                fast_insert(h, r, rest);
            }
        }
    } else {
        need = total;
        if (list) {
            uint32_t next = mem_links(h, g)[0];
            list_unlink(h, g);
            if (h->policy == MEM_NEXT_FIT)
                h->rover = next != NIL ? next : h->head;
        } else {
            fast_remove(h, g, total);
        }
        set_prev_used(h, g + total, true);
        h->free_blocks--;
    }

    size_t block_bytes = (size_t)need * GRAN;
    uint32_t slack = (uint32_t)(block_bytes - HDR - size);
    MEM_ASSERT(slack <= SLACK_MAX);
    hdr_write(h, g, need, B_USED | prev_used | slack << B_SLACK_SHIFT);
    unsigned char *obj = mem_payload(h, g);
    if (h->flags & MEM_OPT_GUARD)
        guard_fill(obj + size, slack);
    MEM_UNPOISON(obj, size);

    h->used_bytes += block_bytes;
    size_t live = h->live_bytes += size;
    if (live > h->peak_live)
        h->peak_live = live;
    h->allocs++;

    if (eb->on) {
        MemEvent *e = ev_add(eb, h, MEM_EV_ALLOC);
        if (e) {
            e->request = size;
            e->examined = examined;
            e->block = goff(g);
            e->size = (size_t)total * GRAN;
            e->object = (size_t)(g + 1u) * GRAN;
            e->remainder = rest >= MIN_GRANS ? (size_t)rest * GRAN : 0u;
        }
        ev_rover(eb, h, rover_before);
    }
    return obj;
}

MEM_NO_ASAN void *MemHeap_Alloc(MemHeap *h, size_t size)
{
    if (!h || size == 0)
        return NULL;
    EventBuf eb;
    bool locked = mem_lock(h);
    ev_begin(&eb, h);
    MEM_ASSERT_EXPENSIVE(mem_diagnose_locked(h, NULL, 0) == 0);
    /* two copies, each specialised for its family of policies */
    void *p = mem_is_list_policy(h) ? alloc_locked(h, size, &eb, true)
                                    : alloc_locked(h, size, &eb, false);
    MEM_ASSERT_EXPENSIVE(mem_diagnose_locked(h, NULL, 0) == 0);
    if (eb.on)
        ev_flush(h, &eb);
    mem_unlock(h, locked);
    return p;
}

/* ---- finding the object behind a pointer ---------------------------------- */

MEM_NO_ASAN static MemReject classify_outside(const MemHeap *h, uintptr_t a)
{
    uintptr_t b = (uintptr_t)h->base;
    return a >= b && a - b < h->arena ? MEM_REJECT_TABLE : MEM_REJECT_OUTSIDE;
}

/* Which block holds ptr (*gout, NIL if none), and whether ptr is inside its
 * live object.  Nothing read from the region is trusted before it is checked:
 * the bitmap's answer must be a block whose tagged header covers ptr. */
MEM_HOT MemReject classify(const MemHeap *h, const void *ptr, uint32_t *gout)
{
    uintptr_t a = (uintptr_t)ptr;
    size_t o = (size_t)(a - (uintptr_t)h->base) - HDR; /* wraps below the area */
    if (o >= (size_t)h->ngran * GRAN)
        return classify_outside(h, a);
    uint32_t q = (uint32_t)(o / GRAN);
    /* Guess that ptr is in its object's first granule, whose header is at q:
     * that load then overlaps the bitmap's instead of waiting for it (two
     * cache misses in parallel on a large heap).  The bitmap decides. */
    const BlockHeader *guess = mem_hdr(h, q);
    uint32_t size = guess->size, info = guess->info;
    uint32_t g = bm_find_prev(h, q);
    if (g != q) {
        if (g == NIL)
            return MEM_REJECT_CORRUPT;
        const BlockHeader *bh = mem_hdr(h, g);
        size = bh->size;
        info = bh->info;
    }
    if (!hdr_valid(h, g, size, info) || g + size <= q)
        return MEM_REJECT_CORRUPT;
    *gout = g;
    if (!(info & B_USED))
        return MEM_REJECT_FREE;
    size_t start = (size_t)g * GRAN + (GRAN - HDR); /* the object, as o counts */
    if (o < start)
        return MEM_REJECT_HEADER;
    if (o - start >= (size_t)size * GRAN - HDR - ((info >> B_SLACK_SHIFT) & SLACK_MAX))
        return MEM_REJECT_PADDING;
    return MEM_OK;
}

MEM_NO_ASAN MemReject MemHeap_Classify(const MemHeap *h, const void *ptr)
{
    if (!h)
        return MEM_REJECT_NULL_HEAP;
    uint32_t g;
    bool locked = mem_lock(h);
    MemReject r = classify(h, ptr, &g);
    mem_unlock(h, locked);
    return r;
}

MEM_NO_ASAN void *MemHeap_Find(const MemHeap *h, const void *ptr, size_t *size)
{
    if (!h)
        return NULL;
    uint32_t g;
    void *obj = NULL;
    bool locked = mem_lock(h);
    if (classify(h, ptr, &g) == MEM_OK) {
        obj = mem_payload(h, g);
        if (size)
            *size = mem_object_size(mem_hdr(h, g));
    }
    mem_unlock(h, locked);
    return obj;
}

MEM_NO_ASAN const char *MemReject_Describe(MemReject r)
{
    switch (r) {
    case MEM_OK: return "points into a live object";
    case MEM_REJECT_NULL_HEAP: return "there is no heap";
    case MEM_REJECT_OUTSIDE: return "points outside the heap";
    case MEM_REJECT_TABLE: return "points into the heap's own tables, not a block";
    case MEM_REJECT_FREE: return "points into a free block (never allocated, or already freed)";
    case MEM_REJECT_HEADER: return "points into a block header (metadata)";
    case MEM_REJECT_PADDING: return "points past the object's last byte, into its padding";
    case MEM_REJECT_CORRUPT: return "points into a block whose metadata is corrupt";
    }
    return "is rejected";
}

/* ---- free and coalescing ------------------------------------------------------ */

MEM_NO_ASAN static void guard_report(MemHeap *h, uint32_t g, size_t obj_size, EventBuf *eb,
                                     ptrdiff_t given)
{
    size_t bad = guard_damage(h, g);
    if (!bad)
        return;
    h->overflows++;
    MemEvent *e = ev_add(eb, h, MEM_EV_OVERFLOW);
    if (e) {
        e->object = (size_t)(g + 1u) * GRAN;
        e->request = obj_size;
        e->block = goff(g);
        e->size = bad;
        e->pointer = given;
    }
}

MEM_NO_ASAN static void free_events(MemHeap *h, EventBuf *eb, uint32_t g, uint32_t size,
                                    size_t obj_size, uint32_t start, uint32_t merged,
                                    unsigned neighbours, uint32_t rover_before, ptrdiff_t given)
{
    MemEvent *e = ev_add(eb, h, MEM_EV_FREE);
    if (e) {
        e->pointer = given;
        e->object = (size_t)(g + 1u) * GRAN;
        e->request = obj_size;
        e->block = goff(g);
        e->size = (size_t)size * GRAN;
    }
    if (neighbours) {
        e = ev_add(eb, h, MEM_EV_COALESCE);
        if (e) {
            e->neighbours = neighbours;
            e->block = goff(start);
            e->size = (size_t)merged * GRAN;
        }
    }
    ev_rover(eb, h, rover_before);
}

/* Frees used block g; `given` is the pointer the caller passed, as an
 * offset, for the events. */
MEM_HOT void free_locked(MemHeap *h, uint32_t g, EventBuf *eb, const bool list, ptrdiff_t given)
{
    BlockHeader *b = mem_hdr(h, g);
    uint32_t size = b->size;
    uint32_t info = b->info;
    size_t obj_size = mem_object_size(b);
    uint32_t rover_before = h->rover;

    if (h->flags & MEM_OPT_GUARD)
        guard_report(h, g, obj_size, eb, given);
    MEM_POISON(mem_payload(h, g), obj_size);

    h->live_bytes -= obj_size;
    h->used_bytes -= (size_t)size * GRAN;
    h->frees++;

    /* [left][this][right] => [-------- merged --------] */
    uint32_t start = g, merged = size, prev_used = info & B_PREV_USED;
    uint32_t left_size = 0, right_size = 0;
    unsigned neighbours = 0;
    if (!prev_used) {
        left_size = *mem_footer_before(h, g);
        start = g - left_size;
        merged += left_size;
        prev_used = mem_hdr(h, start)->info & B_PREV_USED;
        neighbours = MEM_LEFT;
        bm_clear(h, g);
    }
    uint32_t right = g + size;
    if (right < h->ngran) {
        const BlockHeader *rb = mem_hdr(h, right);
        if (!(rb->info & B_USED)) {
            right_size = rb->size;
            merged += right_size;
            neighbours |= MEM_RIGHT;
            bm_clear(h, right);
        }
    }

    if (list) {
        if (neighbours == (MEM_LEFT | MEM_RIGHT)) {
            list_unlink(h, right);
            if (rover_before == right)
                h->rover = start; /* the rover stays on the bytes it was on */
        } else if (neighbours == MEM_RIGHT) {
            list_replace(h, right, g);
        } else if (!neighbours) {
            list_insert(h, g);
        }
        if (h->policy == MEM_NEXT_FIT && h->rover == NIL)
            h->rover = start; /* the heap was full: the search starts here */
    } else {
        /* The merged block takes the place of the neighbour whose class it
         * keeps, if any; else it goes to the head of its class. */
        unsigned c = fast_class(merged);
        bool placed = false;
        if (neighbours & MEM_RIGHT) {
            if (!(neighbours & MEM_LEFT) && fast_class(right_size) == c) {
                fast_replace(h, right, start, c);
                placed = true;
            } else {
                fast_remove(h, right, right_size);
            }
        }
        if (neighbours & MEM_LEFT) {
            if (fast_class(left_size) == c)
                placed = true; /* it stays where it is, grown */
            else
                fast_remove(h, start, left_size);
        }
        if (!placed)
            fast_insert(h, start, merged);
    }
    hdr_write(h, start, merged, prev_used);
    footer_write(h, start, merged);
    if (!(neighbours & MEM_RIGHT))
        set_prev_used(h, start + merged, false);

    /* one block more, less each neighbour it absorbed */
    h->free_blocks = h->free_blocks + 1u - (neighbours & MEM_LEFT ? 1u : 0u) -
                     (neighbours & MEM_RIGHT ? 1u : 0u);

    if (eb->on)
        free_events(h, eb, g, size, obj_size, start, merged, neighbours, rover_before, given);
}

/* Coalescing will trust both neighbours of used block g: the right one's
 * header (tag, and PREV_USED, which the tag does not cover), and on the left
 * the footer and the free header it leads to.  An overflow that reached a
 * header fails here, and the free is refused instead of merging through
 * garbage links. */
MEM_HOT bool neighbours_ok(const MemHeap *h, uint32_t g)
{
    const BlockHeader *b = mem_hdr(h, g);
    uint32_t right = g + b->size;
    if (right < h->ngran) {
        const BlockHeader *rb = mem_hdr(h, right);
        if (!hdr_ok(h, right, rb) || !(rb->info & B_PREV_USED) ||
            (!(rb->info & B_USED) && !free_block_ok(h, right)))
            return false;
    }
    if (!(b->info & B_PREV_USED)) {
        uint32_t ls = *mem_footer_before(h, g);
        if (ls < MIN_GRANS || ls > g || !free_block_ok(h, g - ls) || mem_hdr(h, g - ls)->size != ls)
            return false;
    }
    return true;
}

MEM_NO_ASAN static void reject_event(MemHeap *h, EventBuf *eb, const void *ptr, MemReject r,
                                     uint32_t g)
{
    MemEvent *e = ev_add(eb, h, MEM_EV_REJECT);
    if (e) {
        e->pointer = (ptrdiff_t)((uintptr_t)ptr - (uintptr_t)h->base);
        e->reason = r;
        if (g != NIL) {
            e->block = goff(g);
            e->size = (size_t)mem_hdr(h, g)->size * GRAN;
        }
    }
}

MEM_NO_ASAN int MemHeap_Free(MemHeap *h, void *ptr)
{
    if (!ptr)
        return MEM_OK;
    if (!h)
        return MEM_REJECT_NULL_HEAP;
    EventBuf eb;
    uint32_t g = NIL;
    bool locked = mem_lock(h);
    ev_begin(&eb, h);
    MEM_ASSERT_EXPENSIVE(mem_diagnose_locked(h, NULL, 0) == 0);
    MemReject r = classify(h, ptr, &g);
    ptrdiff_t given = (ptrdiff_t)((uintptr_t)ptr - (uintptr_t)h->base);
    if (r == MEM_OK && !neighbours_ok(h, g)) {
        r = MEM_REJECT_CORRUPT;
        /* Guard mode says what reached the neighbour: this object's guard. */
        if (h->flags & MEM_OPT_GUARD)
            guard_report(h, g, mem_object_size(mem_hdr(h, g)), &eb, given);
    }
    if (r == MEM_OK) {
        if (mem_is_list_policy(h))
            free_locked(h, g, &eb, true, given);
        else
            free_locked(h, g, &eb, false, given);
    } else {
        h->rejected++;
        if (eb.on)
            reject_event(h, &eb, ptr, r, g);
    }
    MEM_ASSERT_EXPENSIVE(mem_diagnose_locked(h, NULL, 0) == 0);
    if (eb.on)
        ev_flush(h, &eb);
    mem_unlock(h, locked);
    return (int)r;
}

/* ---- hooks ----------------------------------------------------------------------- */

MEM_NO_ASAN MemRegion MemHeap_Region(const MemHeap *h)
{
    MemRegion r;
    memset(&r, 0, sizeof r);
    if (!h)
        return r;
    r.base = h->base;
    r.size = h->arena;
    r.heap_begin = HDR;
    r.heap_end = HDR + (size_t)h->ngran * GRAN;
    r.control = h->control;
    r.policy = (MemPolicy)h->policy;
    r.flags = h->flags;
    return r;
}

MEM_NO_ASAN static void describe(const MemHeap *h, uint32_t g, MemBlock *out)
{
    const BlockHeader *b = mem_hdr(h, g);
    out->offset = goff(g);
    out->size = (size_t)b->size * GRAN;
    out->header = HDR;
    out->used = (b->info & B_USED) != 0;
    out->object = out->used ? mem_object_size(b) : 0;
    out->padding = out->used ? mem_slack(b) : 0;
    out->overflowed = out->used && (h->flags & MEM_OPT_GUARD) && guard_damage(h, g) != 0;
    out->list = 0;
}

MEM_NO_ASAN size_t MemHeap_Walk(const MemHeap *h, MemVisitor visit, void *arg)
{
    if (!h || !visit)
        return 0;
    size_t n = 0;
    bool locked = mem_lock(h);
    for (uint32_t g = 0; g < h->ngran;) {
        MemBlock blk;
        const BlockHeader *b = mem_hdr(h, g);
        if (!hdr_ok(h, g, b))
            break; /* corrupt: MemHeap_Check says more */
        describe(h, g, &blk);
        blk.rank = n++;
        if (!visit(&blk, arg))
            break;
        g += b->size;
    }
    mem_unlock(h, locked);
    return n;
}

MEM_NO_ASAN size_t MemHeap_WalkFree(const MemHeap *h, MemVisitor visit, void *arg)
{
    if (!h || !visit)
        return 0;
    size_t n = 0;
    bool go = true;
    MemBlock blk;
    bool locked = mem_lock(h);
    size_t limit = h->free_blocks;
    if (mem_is_list_policy(h)) {
        for (uint32_t g = link_first(h, h->head); go && g != NIL && n < limit;
             g = link_next(h, g)) {
            describe(h, g, &blk);
            blk.rank = n++;
            go = visit(&blk, arg);
        }
    } else {
        for (unsigned fl = 0; go && fl < FL_COUNT; fl++) {
            if (!(h->sl_map[fl]))
                continue;
            for (unsigned sl = 0; go && sl < SL_COUNT; sl++) {
                for (uint32_t g = link_first(h, h->fast_head[fl][sl]); go && g != NIL && n < limit;
                     g = link_next(h, g)) {
                    describe(h, g, &blk);
                    blk.list = fl * SL_COUNT + sl;
                    blk.rank = n++;
                    go = visit(&blk, arg);
                }
            }
        }
    }
    mem_unlock(h, locked);
    return n;
}

MEM_NO_ASAN MemStats MemHeap_Stats(const MemHeap *h)
{
    MemStats s;
    memset(&s, 0, sizeof s);
    if (!h)
        return s;
    bool locked = mem_lock(h);
    s.policy = (MemPolicy)h->policy;
    s.capacity = h->arena;
    s.live_bytes = h->live_bytes;
    s.used_bytes = h->used_bytes;
    s.used_blocks = (size_t)(h->allocs - h->frees);
    s.header_bytes = s.used_blocks * HDR;
    s.padding_bytes = h->used_bytes - h->live_bytes - s.header_bytes;
    s.table_bytes = h->arena - (size_t)h->ngran * GRAN;
    s.metadata_bytes = s.header_bytes + s.table_bytes;
    s.free_bytes = (size_t)h->ngran * GRAN - h->used_bytes;
    s.free_blocks = h->free_blocks;
    uint32_t big = mem_largest_free(h, &s.largest_free);
    s.largest_free_offset = big != NIL ? goff(big) : SIZE_MAX;
    s.largest_request = s.largest_free > HDR ? s.largest_free - HDR : 0;
    if ((h->flags & MEM_OPT_GUARD) && s.largest_request)
        s.largest_request = s.largest_request > GUARD_MIN ? s.largest_request - GUARD_MIN : 0;
    s.external_frag = s.free_bytes ? 1.0 - (double)s.largest_free / (double)s.free_bytes : 0.0;
    s.internal_frag =
        s.used_bytes ? (double)(s.used_bytes - s.live_bytes) / (double)s.used_bytes : 0.0;
    s.utilisation = (double)s.live_bytes / (double)s.capacity;
    s.peak_live_bytes = h->peak_live;
    s.rover = h->policy == MEM_NEXT_FIT && h->rover != NIL ? goff(h->rover) : SIZE_MAX;
    s.allocs = h->allocs;
    s.frees = h->frees;
    s.failed_allocs = h->failed;
    s.rejected_frees = h->rejected;
    s.overflows = h->overflows;
    s.ops = h->allocs + h->frees + h->failed + h->rejected;
    mem_unlock(h, locked);
    return s;
}

MEM_NO_ASAN void MemHeap_SetObserver(MemHeap *h, MemObserver observer, void *arg)
{
    if (!h)
        return;
    bool locked = mem_lock(h);
    h->observer = observer;
    h->observer_arg = arg;
    mem_unlock(h, locked);
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

/*
 * buddy.c - MEM_BUDDY: binary buddy allocation.
 *
 * Every block is 2^k granules (order k, BUDDY_MIN_ORDER <= k <=
 * BUDDY_MAX_ORDER) and starts at a granule index that is a multiple of 2^k,
 * counted from the first block (granule 0).  Its buddy is the other half of
 * the block of order k + 1 that holds it, at g ^ 2^k:
 *
 *   order 3   [------------- 8 --------------]
 *   order 2   [----- 4 ------][----- 4 ------]
 *   order 1   [- 2 -][- 2 -]
 *             g=0    g=2     g=4
 *
 * Allocation rounds the block a request needs (header, object, guard) up to
 * a power of two; the bitmap of non-empty orders names the smallest order at
 * or above it that has a free block, and that block is halved, the upper
 * half going to its order's list each time, until it has the size:
 *
 *   [-------------- 2^o --------------] => [2^k][2^k][2^(k+1)] .. [2^(o-1)]
 *
 * Free merges the block with its buddy while the buddy is a free block of the
 * same order (whole, not split), and puts the result on its order's list.  A
 * block never merges with a neighbour that is not its buddy, so two free
 * blocks can be adjacent: the checker allows that under this policy and
 * finds instead that no two free buddies are left unmerged.
 *
 * An arena of N granules (N is made even) that is not a power of two is tiled
 * at creation by the largest aligned blocks that fit, left to right: 254 =
 * 128 + 64 + 32 + 16 + 8 + 4 + 2.  A block whose buddy would cross N never
 * merges, so those are the largest blocks the heap will ever have.
 *
 * Blocks keep the common format (block.h): tagged headers, the PREV_USED bit
 * and the footers of free blocks, the start bitmap; so the walks, the
 * interior-pointer lookup and the checker's tiling checks are those of every
 * policy.  Padding can be nearly half a block, so it is wide (block.h).  The
 * lists are doubly linked, newest first, through the masked links of
 * block.h.  Nothing read from the arena is followed before it is checked: a
 * buddy is merged only if the bitmap says a block starts there, its header
 * is a sound free header of the right size and it is linked where it
 * belongs (linked_ok); a block is taken only when it is its list's sound
 * head; a list whose head fails head_ok is never written through (the block
 * pushed on it becomes the head alone: the damaged list's blocks are lost
 * to allocation, nothing is overwritten).
 */
#include "block.h"

/* Orders that have a list: BUDDY_MIN_ORDER .. BUDDY_MAX_ORDER. */
#define BUDDY_ORDERS_MASK (((1u << (BUDDY_MAX_ORDER + 1u)) - 1u) & ~((1u << BUDDY_MIN_ORDER) - 1u))

/* The smallest order whose blocks have at least grans granules. */
static inline unsigned order_of(uint32_t grans)
{
    return grans <= (1u << BUDDY_MIN_ORDER) ? BUDDY_MIN_ORDER : msb32(grans - 1u) + 1u;
}

/* A head that fails its check (only damage makes one) is not written
 * through: g starts the list alone. */
MEM_NO_ASAN static void buddy_push(MemHeap *h, const MemKeys *k, uint32_t g, unsigned o)
{
    uint32_t old = h->buddy_head[o];
    if (!head_ok(h, k, old))
        old = NIL;
    links_put(h, k, g, old, NIL);
    if (old != NIL)
        link_put(h, k, old, 1, g);
    h->buddy_head[o] = g;
    h->buddy_map |= 1u << o;
}

/* Block g of order o, whose links linked_ok has checked, leaves its list. */
MEM_NO_ASAN static void buddy_unlink(MemHeap *h, const MemKeys *k, uint32_t g, unsigned o)
{
    uint32_t next = link_get(h, k, g, 0), prev = link_get(h, k, g, 1);
    if (next != NIL)
        link_put(h, k, next, 1, prev);
    if (prev != NIL) {
        link_put(h, k, prev, 0, next);
    } else {
        h->buddy_head[o] = next;
        if (next == NIL)
            h->buddy_map &= ~(1u << o);
    }
}

/* Free block g of order o can leave its list: a sound free header of that
 * size, linked where it belongs. */
MEM_NO_ASAN static bool buddy_linked_ok(const MemHeap *h, const MemKeys *k, uint32_t g, unsigned o)
{
    uint32_t next;
    return node_ok(h, k, g) && mem_hdr(h, g)->size == 1u << o &&
           linked_ok(h, k, g, h->buddy_head[o], &next);
}

/* Makes [g, g + 2^o) a free block of order o at the head of its list; the
 * bitmap bit is the caller's. */
MEM_NO_ASAN static void buddy_put(MemHeap *h, const MemKeys *k, uint32_t g, unsigned o,
                                  uint32_t prev_used)
{
    uint32_t size = 1u << o;
    hdr_write_k(h, k, g, size, prev_used);
    footer_write(h, g, size);
    buddy_push(h, k, g, o);
}

MEM_NO_ASAN void mem_buddy_init(MemHeap *h, const MemKeys *k)
{
    uint32_t n = h->ngran, g = 0, prev_used = B_PREV_USED;
    while (n - g >= (1u << BUDDY_MIN_ORDER)) {
        unsigned o = msb32(n - g);
        if (o > BUDDY_MAX_ORDER)
            o = BUDDY_MAX_ORDER;
        if (g && lsb32(g) < o)
            o = lsb32(g); /* cannot happen left to right, but never misalign */
        buddy_put(h, k, g, o, prev_used);
        bm_set(h, g);
        h->free_blocks++;
        prev_used = 0;
        g += 1u << o;
    }
}

/* A used block that buddy.c may free: a power of two, aligned to its size. */
MEM_NO_ASAN bool mem_buddy_ok(const MemHeap *h, uint32_t g)
{
    uint32_t size = mem_hdr(h, g)->size;
    return (size & (size - 1u)) == 0 && size >= (1u << BUDDY_MIN_ORDER) &&
           size <= (1u << BUDDY_MAX_ORDER) && (g & (size - 1u)) == 0;
}

/* The block at end follows a free block that becomes used whole: its header
 * must be sound before its PREV_USED is set.  (Buddy's free blocks may be
 * adjacent, so it may be free.) */
MEM_NO_ASAN static bool buddy_after_ok(const MemHeap *h, const MemKeys *k, uint32_t end)
{
    return end >= h->ngran || hdr_ok_k(h, k, end, mem_hdr(h, end));
}

MEM_NO_ASAN void *mem_buddy_alloc(MemHeap *h, const MemKeys *k, size_t size, EventBuf *eb)
{
    uint32_t need = mem_need_grans(h, size);
    unsigned want = need ? order_of(need) : BUDDY_MAX_ORDER + 1u;
    uint32_t avail = want <= BUDDY_MAX_ORDER ? h->buddy_map & BUDDY_ORDERS_MASK & (~0u << want) : 0u;
    size_t examined = 0;
    uint32_t g = NIL;
    unsigned o = 0;
    if (avail) {
        o = lsb32(avail);
        g = link_first(h, h->buddy_head[o]);
        examined = 1;
    }
    /* the list's head, sound, of its order; when it is taken whole, the
     * block after it learns so */
    if (g == NIL || !buddy_linked_ok(h, k, g, o) ||
        (o == want && !buddy_after_ok(h, k, g + (1u << o)))) {
        mem_alloc_failed(h, size, examined, eb);
        return NULL;
    }

    uint32_t prev_used = mem_hdr(h, g)->info & B_PREV_USED;
    unsigned top = o;
    buddy_unlink(h, k, g, o);
    while (o > want) {
        o--;
        uint32_t r = g + (1u << o);
        /* the last half split off follows the object's block, which is used */
        buddy_put(h, k, r, o, o == want ? B_PREV_USED : 0u);
        bm_set(h, r);
    }
    h->free_blocks += top - want;
    h->free_blocks--;
    uint32_t bsize = 1u << want;
    if (top == want)
        set_prev_used(h, k, g + bsize, true);

    size_t block_bytes = (size_t)bsize * GRAN;
    used_write(h, k, g, bsize, prev_used, block_bytes - HDR - size);
    unsigned char *obj = mem_payload(h, g);
    if (h->flags & MEM_OPT_GUARD)
        mem_guard_fill(obj + size, mem_guard_len(mem_hdr(h, g)));
    MEM_UNPOISON(obj, size);

    size_t chosen = ((size_t)1 << top) * GRAN, rest = chosen - block_bytes;
    MemEvent *e;
    if (top > want && (e = mem_ev_add(eb, h, MEM_EV_SPLIT)) != NULL) { /* before the ALLOC */
        e->request = size;
        e->block = goff(g);
        e->size = chosen;
        e->count = top - want;
        e->remainder = rest;
    }
    mem_alloc_done(h, eb, size, g, block_bytes, chosen, rest, examined);
    return obj;
}

/* The caller (heap.c) has checked g's neighbours (free_plan), so the block
 * after it is sound; each buddy is checked as the merge reaches it, and a
 * buddy that fails stops the merge there (a smaller block goes back, whole
 * and consistent). */
MEM_NO_ASAN void mem_buddy_free(MemHeap *h, const MemKeys *k, uint32_t g, EventBuf *eb,
                                ptrdiff_t given)
{
    const BlockHeader *b = mem_hdr(h, g);
    uint32_t size = b->size;
    uint32_t prev_used = b->info & B_PREV_USED;
    size_t obj_size = mem_object_size(b);

    mem_free_begin(h, g, size, obj_size, eb, given);

    /* [start][buddy] or [buddy][start] => [------ order o + 1 ------] */
    unsigned o = msb32(size), levels = 0, sides = 0;
    uint32_t start = g;
    while (o < BUDDY_MAX_ORDER) {
        uint32_t half = 1u << o, bud = start ^ half;
        if (bud > h->ngran || h->ngran - bud < half || !bm_test(h, bud) ||
            !buddy_linked_ok(h, k, bud, o))
            break;
        buddy_unlink(h, k, bud, o);
        h->free_blocks--;
        /* the right half's header is inside the merged block now: cleared */
        if (bud < start) {
            sides |= MEM_LEFT;
            prev_used = mem_hdr(h, bud)->info & B_PREV_USED;
            bm_clear(h, start);
            hdr_clear(h, start);
            start = bud;
        } else {
            sides |= MEM_RIGHT;
            bm_clear(h, bud);
            hdr_clear(h, bud);
        }
        o++;
        levels++;
    }
    buddy_put(h, k, start, o, prev_used);
    h->free_blocks++;
    /* the block after: g's right neighbour (checked by free_plan), or the
     * one after a merged right buddy, whose header its merge check read */
    uint32_t after = start + (1u << o);
    if (after < h->ngran && hdr_ok_k(h, k, after, mem_hdr(h, after)))
        set_prev_used(h, k, after, false);

    if (eb->on) {
        MemEvent *e = mem_ev_free(eb, h, g, size, obj_size, given);
        if (levels && (e = mem_ev_add(eb, h, MEM_EV_MERGE)) != NULL) {
            e->block = goff(start);
            e->size = ((size_t)1 << o) * GRAN;
            e->count = levels;
            e->neighbours = sides;
        }
    }
}

MEM_NO_ASAN uint32_t mem_buddy_largest(const MemHeap *h, const MemKeys *k, size_t *bytes)
{
    uint32_t map = h->buddy_map & BUDDY_ORDERS_MASK, best = NIL;
    *bytes = 0;
    if (!map)
        return NIL;
    unsigned o = msb32(map);
    size_t n = 0;
    for (uint32_t g = link_first(h, h->buddy_head[o]); g != NIL && n <= h->free_blocks;
         g = link_next(h, k, g), n++)
        if (g < best)
            best = g;
    if (best != NIL)
        *bytes = ((size_t)1 << o) * GRAN;
    return best;
}

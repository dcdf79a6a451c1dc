/*
 * seg.h - the free structure of MEM_FAST: TLSF-style segregated lists.
 * Inline, because every allocation and free of the default policy runs
 * through it (heap.c); seg.c has the parts nothing hot needs.
 *
 * The first level is the size's highest bit, the second splits each power
 * of two into 16 classes; two bitmaps find the smallest non-empty class that
 * is certain to fit in O(1) ("good fit").  If none is, the first 32 blocks
 * of the request's own class are scanned before failing: a fitting block
 * deeper in that class is not found, the price of O(1) (heapviz says so when
 * it happens).  Each class is a doubly linked list, newest first.
 *
 * The same three steps as list.c: search finds a block of at least need
 * granules (NIL if none); take removes block g (total granules), leaving
 * the remainder r (rest granules) split off its end, or NIL; release puts
 * back a merged block, given the sizes of the neighbours it absorbed.
 * take and release trust the blocks they are given and the links they
 * follow: heap.c checks them all first (mem_seg_take_ok, mem_seg_unlink_ok,
 * head_ok), so that a refused operation has written nothing.
 *
 * The largest free block (big, big_size) is kept as blocks come and go:
 * a block put in that is larger takes its place; when it is split, merged
 * or taken, big_known drops and the next question searches (hooks.c).
 */
#ifndef MEM_SEG_H
#define MEM_SEG_H

#include "block.h"

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

/* The head of the list of the class of a block of size granules. */
MEM_HOT uint32_t fast_head_of(const MemHeap *h, uint32_t size)
{
    return (&h->fast_head[0][0])[fast_class(size)];
}

/* A free block of size granules at g came in: is it the largest? */
MEM_HOT void big_offer(MemHeap *h, uint32_t g, uint32_t size)
{
    if (h->big_known && (h->big == NIL || size > h->big_size)) {
        h->big = g;
        h->big_size = size;
    }
}

MEM_HOT void mem_seg_insert(MemHeap *h, const MemKeys *k, uint32_t g, uint32_t size)
{
    unsigned c = fast_class(size);
    uint32_t *heads = &h->fast_head[0][0];
    uint32_t old = heads[c];
    links_put(h, k, g, old, NIL);
    if (old != NIL)
        link_put(h, k, old, 1, g);
    heads[c] = g;
    h->sl_map[c / SL_COUNT] |= 1u << (c % SL_COUNT);
    h->fl_map |= 1u << (c / SL_COUNT);
    big_offer(h, g, size);
}

MEM_HOT void fast_remove(MemHeap *h, const MemKeys *k, uint32_t g, uint32_t size)
{
    uint32_t next = link_get(h, k, g, 0), prev = link_get(h, k, g, 1);
    if (g == h->big)
        h->big_known = false;
    if (next != NIL)
        link_put(h, k, next, 1, prev);
    if (prev != NIL) {
        link_put(h, k, prev, 0, next);
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

/* new (of size granules) takes old's place in class c's list (a block that
 * changed size without changing class): no bitmap changes. */
MEM_HOT void fast_replace(MemHeap *h, const MemKeys *k, uint32_t old, uint32_t new_g, unsigned c, uint32_t size)
{
    uint32_t next = link_get(h, k, old, 0), prev = link_get(h, k, old, 1);
    links_put(h, k, new_g, next, prev);
    if (prev != NIL)
        link_put(h, k, prev, 0, new_g);
    else
        (&h->fast_head[0][0])[c] = new_g;
    if (next != NIL)
        link_put(h, k, next, 1, new_g);
    if (old == h->big && size < h->big_size)
        h->big_known = false;
    else if (old == h->big)
        h->big = new_g, h->big_size = size;
    else
        big_offer(h, new_g, size);
}

/* Free block g (size granules) can be taken off its class's list: it is
 * linked where its class says, between sound neighbours. */
MEM_HOT bool mem_seg_unlink_ok(const MemHeap *h, const MemKeys *k, uint32_t g, uint32_t size)
{
    uint32_t next;
    return linked_ok(h, k, g, fast_head_of(h, size), &next);
}

/* Taking free block g (total granules, checked by node_ok) for need
 * granules, leaving rest, writes through: g's neighbours in its list, and
 * when the remainder changes class, the head of its new class. */
MEM_HOT bool mem_seg_take_ok(const MemHeap *h, const MemKeys *k, uint32_t g, uint32_t total, uint32_t rest)
{
    if (!mem_seg_unlink_ok(h, k, g, total))
        return false;
    return rest < MIN_GRANS || fast_class(rest) == fast_class(total) ||
           head_ok(h, k, fast_head_of(h, rest));
}

/* need rounded up to the next class boundary: every block of the class of
 * the result is at least need (above UINT32_MAX: no class is certain). */
static inline uint64_t seg_round_up(uint32_t need)
{
    uint64_t rounded = need;
    if (need >= SL_COUNT)
        rounded += ((uint64_t)1 << (msb32(need) - SL_BITS)) - 1u;
    return rounded;
}

/* Good fit: the first block of the smallest non-empty class whose every
 * block fits, else a bounded first-fit scan of need's own class. */
MEM_HOT uint32_t mem_seg_search(const MemHeap *h, const MemKeys *k, uint32_t need, size_t *examined)
{
    uint64_t rounded = seg_round_up(need);
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
        if (slm && fl < FL_COUNT) {
            *examined += 1;
            return h->fast_head[fl][lsb32(slm)];
        }
    }
    uint32_t g = link_first(h, (&h->fast_head[0][0])[fast_class(need)]);
    for (unsigned n = 0; g != NIL && n < FAST_FALLBACK_SCAN; n++) {
        *examined += 1;
        if (mem_hdr(h, g)->size >= need)
            return g; /* read before it is checked: the caller checks it */
        g = link_next(h, k, g);
    }
    return NIL;
}

/* A small piece off a large block rarely changes its class: then the
 * remainder simply takes the block's place. */
MEM_HOT void mem_seg_take(MemHeap *h, const MemKeys *k, uint32_t g, uint32_t total, uint32_t r, uint32_t rest)
{
    if (r == NIL) {
        fast_remove(h, k, g, total);
        return;
    }
    unsigned c = fast_class(total);
    if (fast_class(rest) == c) {
        fast_replace(h, k, g, r, c, rest);
    } else {
        fast_remove(h, k, g, total);
        mem_seg_insert(h, k, r, rest);
    }
}

/* The merged block takes the place of the neighbour whose class it keeps,
 * if any; else it goes to the head of its class. */
MEM_HOT void mem_seg_release(MemHeap *h, const MemKeys *k, uint32_t start, uint32_t merged, uint32_t right,
                                 uint32_t left_size, uint32_t right_size, unsigned neighbours)
{
    unsigned c = fast_class(merged);
    bool placed = false;
    if (neighbours & MEM_RIGHT) {
        if (!(neighbours & MEM_LEFT) && fast_class(right_size) == c) {
            fast_replace(h, k, right, start, c, merged);
            placed = true;
        } else {
            fast_remove(h, k, right, right_size);
        }
    }
    if (neighbours & MEM_LEFT) {
        if (fast_class(left_size) == c) {
            placed = true; /* it stays where it is, grown */
            big_offer(h, start, merged);
            if (start == h->big)
                h->big_size = merged;
        } else {
            fast_remove(h, k, start, left_size);
        }
    }
    if (!placed)
        mem_seg_insert(h, k, start, merged);
}

/* Putting back a block merged from start (merged granules) writes through:
 * the free neighbours it absorbed and their list neighbours, and the head
 * of the class it goes to unless it takes a neighbour's place. */
MEM_HOT bool mem_seg_release_ok(const MemHeap *h, const MemKeys *k, uint32_t start, uint32_t merged, uint32_t right,
                                uint32_t left_size, uint32_t right_size, unsigned neighbours)
{
    unsigned c = fast_class(merged);
    bool placed = false;
    if (neighbours & MEM_RIGHT) {
        if (!mem_seg_unlink_ok(h, k, right, right_size))
            return false;
        placed = !(neighbours & MEM_LEFT) && fast_class(right_size) == c;
    }
    if (neighbours & MEM_LEFT) {
        if (!mem_seg_unlink_ok(h, k, start, left_size))
            return false;
        placed |= fast_class(left_size) == c;
    }
    return placed || head_ok(h, k, (&h->fast_head[0][0])[c]);
}

#endif /* MEM_SEG_H */

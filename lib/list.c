/*
 * list.c - the free structure of first, next, best and worst fit: one
 * explicit doubly linked list of the free blocks (head, tail), and next
 * fit's rover, the block where its next search begins.
 *
 * In address order (the default), coalescing keeps the order without a
 * search when a neighbour is free: the merged block takes the neighbour's
 * place.  Only a block freed between two used ones searches the list for its
 * place, from the nearer end.  Under LIFO and FIFO a block that joins goes
 * to the head or the tail, and records when in its payload, after the links,
 * so that the checker can verify the order:
 *
 *   free:  [hdr][next][prev][stamp: 8 bytes] ...... [footer]
 *
 * (32 bytes at least: the stamp ends at byte 24, the footer starts at 28).
 * The deferred coalesce walks the blocks in address order and merges each
 * run of free neighbours into its first block, which keeps its place.
 * Every walk is bounded by the number of free blocks and stops at a link
 * out of range: a damaged list cannot loop or lead out of the heap.  Nothing
 * is written through a link before it is checked (the *_ok functions, which
 * heap.c calls before it changes anything; the deferred coalesce checks each
 * block before it unlinks it).  The stamp is no link: nothing is written
 * through it, and a damaged one misleads only the checker's order check.
 */
#include "block.h"

#include <string.h>

MEM_NO_ASAN uint64_t mem_list_stamp(const MemHeap *h, uint32_t g)
{
    uint64_t v;
    memcpy(&v, mem_payload(h, g) + 2u * sizeof(uint32_t), sizeof v);
    return v;
}

MEM_NO_ASAN static void stamp_put(const MemHeap *h, uint32_t g, uint64_t v)
{
    memcpy(mem_payload(h, g) + 2u * sizeof(uint32_t), &v, sizeof v);
}

MEM_NO_ASAN void mem_list_link(MemHeap *h, const MemKeys *k, uint32_t g, uint32_t prev, uint32_t next)
{
    links_put(h, k, g, next, prev);
    if (prev == NIL)
        h->head = g;
    else
        link_put(h, k, prev, 0, g);
    if (next == NIL)
        h->tail = g;
    else
        link_put(h, k, next, 1, g);
}

MEM_HOT void list_unlink(MemHeap *h, const MemKeys *k, uint32_t g)
{
    uint32_t next = link_get(h, k, g, 0), prev = link_get(h, k, g, 1);
    if (prev == NIL)
        h->head = next;
    else
        link_put(h, k, prev, 0, next);
    if (next == NIL)
        h->tail = prev;
    else
        link_put(h, k, next, 1, prev);
    if (h->rover == g)
        h->rover = next != NIL ? next : h->head;
}

/* new takes old's place in the list (same neighbours, same stamp). */
MEM_HOT void list_replace(MemHeap *h, const MemKeys *k, uint32_t old, uint32_t new_g)
{
    uint32_t prev = link_get(h, k, old, 1), next = link_get(h, k, old, 0);
    if (h->order != MEM_ORDER_ADDRESS)
        stamp_put(h, new_g, mem_list_stamp(h, old));
    mem_list_link(h, k, new_g, prev, next);
    if (h->rover == old)
        h->rover = new_g;
}

/* Most steps a walk of the list may take: one per free block, and never
 * more than the blocks that fit (the counter may be damaged too). */
MEM_NO_ASAN static size_t list_bound(const MemHeap *h)
{
    size_t most = h->ngran / MIN_GRANS;
    return h->free_blocks < most ? h->free_blocks : most;
}

/* Free block g is linked where it belongs: unlinking or replacing it writes
 * through sound blocks only. */
MEM_NO_ASAN bool mem_list_take_ok(const MemHeap *h, const MemKeys *k, uint32_t g)
{
    uint32_t next;
    return linked_ok(h, k, g, h->head, &next) && (next != NIL || h->tail == g);
}

/* The list's tail may take a block after it: NIL, or a free block with no
 * next. */
MEM_NO_ASAN static bool tail_ok(const MemHeap *h, const MemKeys *k, uint32_t tail)
{
    return tail == NIL || (node_ok(h, k, tail) && link_get(h, k, tail, 0) == NIL);
}

/* Where a free block g with no free neighbour goes in address order:
 * between *prev and *next, found from the nearer end; false when the list
 * there is unsound. */
MEM_NO_ASAN static bool list_place(const MemHeap *h, const MemKeys *k, uint32_t g,
                                   uint32_t *prev, uint32_t *next)
{
    uint32_t p = NIL, n = h->head;
    if (h->tail != NIL && h->tail < g) {
        p = h->tail;
        n = NIL;
    } else {
        n = link_first(h, n);
        for (size_t i = 0, most = list_bound(h); n != NIL && n < g && i <= most; i++) {
            p = n;
            n = link_next(h, k, n);
        }
    }
    *prev = p;
    *next = n;
    if (n != NIL && n <= g)
        return false; /* the walk was cut short */
    return (p == NIL ? h->head == n : node_ok(h, k, p) && link_get(h, k, p, 0) == n) &&
           (n == NIL ? h->tail == p : node_ok(h, k, n) && link_get(h, k, n, 1) == p);
}

/* Where block g joins the list by the heap's order: the head (LIFO), the
 * tail (FIFO), or its place by address; whatever it is linked to is
 * checked. */
MEM_NO_ASAN bool mem_list_add_ok(const MemHeap *h, const MemKeys *k, uint32_t g, uint32_t *prev,
                                 uint32_t *next)
{
    switch ((MemOrder)h->order) {
    case MEM_ORDER_LIFO:
        *prev = NIL;
        *next = h->head;
        return head_ok(h, k, h->head);
    case MEM_ORDER_FIFO:
        *prev = h->tail;
        *next = NIL;
        return tail_ok(h, k, h->tail);
    case MEM_ORDER_ADDRESS:
    case MEM_ORDER_COUNT:
        break;
    }
    return list_place(h, k, g, prev, next);
}

MEM_NO_ASAN void mem_list_add(MemHeap *h, const MemKeys *k, uint32_t g, uint32_t prev, uint32_t next)
{
    mem_list_link(h, k, g, prev, next);
    if (h->order != MEM_ORDER_ADDRESS)
        stamp_put(h, g, ++h->seq);
}

MEM_NO_ASAN uint32_t mem_list_search(MemHeap *h, const MemKeys *k, uint32_t need, size_t *examined)
{
    uint32_t g, best = NIL, best_size = 0;
    size_t n, limit = list_bound(h);
    switch ((MemPolicy)h->policy) {
    case MEM_FIRST_FIT:
        for (g = link_first(h, h->head), n = 0; g != NIL && n < limit; g = link_next(h, k, g), n++) {
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
            g = link_next(h, k, g);
            if (g == NIL)
                g = link_first(h, h->head);
        } while (g != start && g != NIL && ++n < limit);
        return NIL;
    }
    case MEM_BEST_FIT:
        for (g = link_first(h, h->head), n = 0; g != NIL && n < limit; g = link_next(h, k, g), n++) {
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
        for (g = link_first(h, h->head), n = 0; g != NIL && n < limit; g = link_next(h, k, g), n++) {
            uint32_t s = mem_hdr(h, g)->size;
            ++*examined;
            if (s >= need && (best == NIL || s > best_size)) {
                best = g;
                best_size = s;
            }
        }
        return best;
    case MEM_FAST:
    case MEM_BUDDY:
    case MEM_POLICY_COUNT:
        break;
    }
    return NIL;
}

MEM_NO_ASAN void mem_list_take(MemHeap *h, const MemKeys *k, uint32_t g, uint32_t r)
{
    if (r != NIL) {
        list_replace(h, k, g, r);
        if (h->policy == MEM_NEXT_FIT)
            h->rover = r;
        return;
    }
    uint32_t next = link_get(h, k, g, 0);
    list_unlink(h, k, g);
    if (h->policy == MEM_NEXT_FIT)
        h->rover = next != NIL ? next : h->head;
}

/* Releasing writes through: the free neighbours (in address order the left
 * one keeps its place, the right one gives it up; under LIFO and FIFO both
 * leave) and their list neighbours; then, with no neighbour in address
 * order, the blocks between which it goes (*prev, *next), or, under LIFO and
 * FIFO, the end it joins.  An end that an unlinked neighbour held passes to
 * that neighbour's list neighbour, which its check has covered. */
MEM_NO_ASAN bool mem_list_release_ok(const MemHeap *h, const MemKeys *k, uint32_t start, uint32_t right,
                                     unsigned neighbours, uint32_t *prev, uint32_t *next)
{
    *prev = *next = NIL;
    if ((neighbours & MEM_LEFT) && !mem_list_take_ok(h, k, start))
        return false;
    if ((neighbours & MEM_RIGHT) && !mem_list_take_ok(h, k, right))
        return false;
    if (h->order == MEM_ORDER_LIFO)
        return head_ok(h, k, h->head);
    if (h->order == MEM_ORDER_FIFO)
        return tail_ok(h, k, h->tail);
    return neighbours || list_place(h, k, start, prev, next);
}

/* [left][freed][right]: in address order a free left neighbour already
 * holds the merged block's place; a right one hands its place over; with
 * neither the block goes between prev and next (mem_list_release_ok).
 * Under LIFO and FIFO the neighbours leave the list and the merged block
 * joins it at its end. */
MEM_NO_ASAN void mem_list_release(MemHeap *h, const MemKeys *k, uint32_t start, uint32_t right, unsigned neighbours,
                                  uint32_t rover_before, uint32_t prev, uint32_t next)
{
    if (h->order != MEM_ORDER_ADDRESS) {
        if (neighbours & MEM_RIGHT)
            list_unlink(h, k, right);
        if (neighbours & MEM_LEFT)
            list_unlink(h, k, start);
        if (h->order == MEM_ORDER_LIFO)
            mem_list_add(h, k, start, NIL, h->head);
        else
            mem_list_add(h, k, start, h->tail, NIL);
        if (((neighbours & MEM_RIGHT) && rover_before == right) ||
            ((neighbours & MEM_LEFT) && rover_before == start))
            h->rover = start; /* the rover stays on the bytes it was on */
    } else if (neighbours == (MEM_LEFT | MEM_RIGHT)) {
        list_unlink(h, k, right);
        if (rover_before == right)
            h->rover = start; /* the rover stays on the bytes it was on */
    } else if (neighbours == MEM_RIGHT) {
        list_replace(h, k, right, start);
    } else if (!neighbours) {
        mem_list_link(h, k, start, prev, next);
    }
    if (h->policy == MEM_NEXT_FIT && h->rover == NIL)
        h->rover = start; /* the heap was full: the search starts here */
}

/* [free][free][free][used] => [----- free -----][used]: each run of free
 * neighbours becomes its first block, trusted only as far as every header
 * and link checks out (a damaged block ends the run, and the walk). */
MEM_NO_ASAN size_t mem_list_coalesce_all(MemHeap *h, const MemKeys *k)
{
    size_t merges = 0;
    uint32_t g = 0;
    while (g < h->ngran) {
        const BlockHeader *b = mem_hdr(h, g);
        if (!hdr_ok_k(h, k, g, b))
            break;
        uint32_t end = g + b->size;
        if ((b->info & B_USED) || !mem_list_take_ok(h, k, g)) {
            g = end;
            continue;
        }
        while (end < h->ngran && node_ok(h, k, end) && mem_list_take_ok(h, k, end)) {
            uint32_t next = end + mem_hdr(h, end)->size;
            bool rover = h->rover == end;
            list_unlink(h, k, end);
            if (rover)
                h->rover = g; /* it stays on the bytes it was on */
            bm_clear(h, end);
            hdr_clear(h, end); /* inside the merged block now */
            h->free_blocks--;
            merges++;
            end = next;
        }
        if (end - g != b->size) {
            hdr_write_k(h, k, g, end - g, b->info & B_PREV_USED);
            footer_write(h, g, end - g);
        }
        g = end;
    }
    return merges;
}

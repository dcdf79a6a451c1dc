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
 * out of range: a damaged list cannot loop or lead out of the heap.
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

MEM_NO_ASAN void mem_list_link(MemHeap *h, uint32_t g, uint32_t prev, uint32_t next)
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

/* new takes old's place in the list (same neighbours, same stamp). */
MEM_HOT void list_replace(MemHeap *h, uint32_t old, uint32_t new_g)
{
    uint32_t *l = mem_links(h, old);
    if (h->order != MEM_ORDER_ADDRESS)
        stamp_put(h, new_g, mem_list_stamp(h, old));
    mem_list_link(h, new_g, l[1], l[0]);
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
    mem_list_link(h, g, prev, next);
}

MEM_NO_ASAN void mem_list_add(MemHeap *h, uint32_t g)
{
    switch ((MemOrder)h->order) {
    case MEM_ORDER_LIFO:
        mem_list_link(h, g, NIL, link_first(h, h->head));
        break;
    case MEM_ORDER_FIFO:
        mem_list_link(h, g, link_first(h, h->tail), NIL);
        break;
    case MEM_ORDER_ADDRESS:
    case MEM_ORDER_COUNT:
        list_insert(h, g);
        return;
    }
    stamp_put(h, g, ++h->seq);
}

MEM_NO_ASAN uint32_t mem_list_search(MemHeap *h, uint32_t need, size_t *examined)
{
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
    case MEM_BUDDY:
    case MEM_POLICY_COUNT:
        break;
    }
    return NIL;
}

MEM_NO_ASAN void mem_list_take(MemHeap *h, uint32_t g, uint32_t r)
{
    if (r != NIL) {
        list_replace(h, g, r);
        if (h->policy == MEM_NEXT_FIT)
            h->rover = r;
        return;
    }
    uint32_t next = mem_links(h, g)[0];
    list_unlink(h, g);
    if (h->policy == MEM_NEXT_FIT)
        h->rover = next != NIL ? next : h->head;
}

/* [left][freed][right]: in address order a free left neighbour already
 * holds the merged block's place; a right one hands its place over; with
 * neither the block searches for its place.  Under LIFO and FIFO the
 * neighbours leave the list and the merged block joins it. */
MEM_NO_ASAN void mem_list_release(MemHeap *h, uint32_t start, uint32_t right, unsigned neighbours,
                                  uint32_t rover_before)
{
    if (h->order != MEM_ORDER_ADDRESS) {
        if (neighbours & MEM_RIGHT)
            list_unlink(h, right);
        if (neighbours & MEM_LEFT)
            list_unlink(h, start);
        mem_list_add(h, start);
        if (((neighbours & MEM_RIGHT) && rover_before == right) ||
            ((neighbours & MEM_LEFT) && rover_before == start))
            h->rover = start; /* the rover stays on the bytes it was on */
    } else if (neighbours == (MEM_LEFT | MEM_RIGHT)) {
        list_unlink(h, right);
        if (rover_before == right)
            h->rover = start; /* the rover stays on the bytes it was on */
    } else if (neighbours == MEM_RIGHT) {
        list_replace(h, right, start);
    } else if (!neighbours) {
        list_insert(h, start);
    }
    if (h->policy == MEM_NEXT_FIT && h->rover == NIL)
        h->rover = start; /* the heap was full: the search starts here */
}

/* [free][free][free][used] => [----- free -----][used]: each run of free
 * neighbours becomes its first block, trusted only as far as every header
 * and link checks out (a damaged block ends the run, and the walk). */
MEM_NO_ASAN size_t mem_list_coalesce_all(MemHeap *h)
{
    size_t merges = 0;
    uint32_t g = 0;
    while (g < h->ngran) {
        const BlockHeader *b = mem_hdr(h, g);
        if (!hdr_ok(h, g, b))
            break;
        uint32_t end = g + b->size;
        if ((b->info & B_USED) || !free_block_ok(h, g)) {
            g = end;
            continue;
        }
        while (end < h->ngran && free_block_ok(h, end)) {
            uint32_t next = end + mem_hdr(h, end)->size;
            bool rover = h->rover == end;
            list_unlink(h, end);
            if (rover)
                h->rover = g; /* it stays on the bytes it was on */
            bm_clear(h, end);
            hdr_clear(h, end); /* inside the merged block now */
            h->free_blocks--;
            merges++;
            end = next;
        }
        if (end - g != b->size) {
            hdr_write(h, g, end - g, b->info & B_PREV_USED);
            footer_write(h, g, end - g);
        }
        g = end;
    }
    return merges;
}

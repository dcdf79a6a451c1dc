/*
 * resize.c - changing an object's size without moving it, and allocating at
 * an alignment above MEM_ALIGNMENT without wasting the gap before it.
 *
 * An object in a run's slot (runs.h) is resized in its slot when the new size
 * still fits it, and not at all otherwise (realloc then moves it).  A block
 * object's resizing works on its block and the block right after it:
 *
 *   shrink:  [used ...........][right]  =>  [used ..][free ....][right]
 *            the freed end becomes a block of its own when it can hold one
 *            (2 granules), else a free right neighbour takes it over
 *            (its header moves left), else it stays as padding (< 32 bytes,
 *            which the 6-bit slack field holds);
 *   grow:    [used ...][free ........]  =>  [used ........][free ..]
 *            the remainder takes the free neighbour's place in its list, or,
 *            when it could not form a block, the object takes all of it.
 *
 * An aligned allocation asks the policy for a block with room for the object
 * at the first aligned address that leaves either no gap or a gap of a whole
 * block, and cuts the chosen block in up to three:
 *
 *   [-------------- free --------------]  =>  [ gap ][used .......][ end ]
 *
 * The gap keeps the chosen block's place in the free structure (it starts
 * where the block did); the end is split off as for any allocation.
 *
 * Nothing here touches header bits or list links directly: the block layer
 * (block.h) and the free structures (list.c, seg.h) do.
 */
#include "runs.h"
#include "seg.h"

/* ---- resizing ------------------------------------------------------------- */

/* The header of used block g, rewritten for an object of size bytes in a
 * block of total granules (the PREV_USED bit is kept). */
MEM_NO_ASAN static void resized_write(MemHeap *h, const MemKeys *k, uint32_t g, uint32_t total,
                                      size_t size)
{
    uint32_t prev_used = mem_hdr(h, g)->info & B_PREV_USED;
    size_t slack = (size_t)total * GRAN - HDR - size;
    MEM_ASSERT(h->policy == MEM_BUDDY || slack < SLACK_WIDE); /* SLACK_MAX marks a run */
    used_write(h, k, g, total, prev_used, slack);
    if (h->flags & MEM_OPT_GUARD)
        mem_guard_fill(mem_payload(h, g) + size, mem_guard_len(mem_hdr(h, g)));
}

/* Giving back the end of a block, as a free block r (rest granules) that
 * absorbs the old right neighbour when it is free (right_size granules, 0
 * when it is not): everything the free structure will write through is
 * checked first, as for a free (list.c's and seg.h's *_ok). */
MEM_NO_ASAN static bool give_back_ok(const MemHeap *h, const MemKeys *k, uint32_t r, uint32_t rest,
                                     uint32_t right, uint32_t right_size, uint32_t *prev,
                                     uint32_t *next)
{
    unsigned nb = right_size ? MEM_RIGHT : 0u;
    if (mem_is_list_policy(h))
        return mem_list_release_ok(h, k, r, right, nb, prev, next);
    return mem_seg_release_ok(h, k, r, rest + right_size, right, 0, right_size, nb);
}

/* A free block r of rest granules now follows used block g.  When the old
 * right neighbour (right, right_size granules) was free, r absorbs it and
 * takes its place in the free structure; else r is a new free block. */
MEM_NO_ASAN static void give_back(MemHeap *h, const MemKeys *k, uint32_t r, uint32_t rest,
                                  uint32_t right, uint32_t right_size, uint32_t rover_before,
                                  uint32_t prev, uint32_t next)
{
    bool merge = right_size != 0;
    uint32_t merged = rest + right_size;
    if (mem_is_list_policy(h))
        mem_list_release(h, k, r, right, merge ? MEM_RIGHT : 0u, rover_before, prev, next);
    else if (merge)
        mem_seg_release(h, k, r, merged, right, 0, right_size, MEM_RIGHT);
    else
        mem_seg_insert(h, k, r, merged);
    if (merge) {
        bm_clear(h, right);
        hdr_clear(h, right); /* inside r now */
    } else {
        h->free_blocks++;
    }
    free_block_write(h, k, r, merged, B_PREV_USED);
    if (!merge)
        set_prev_used(h, k, r + merged, false);
}

/* Resizes used block g in place, or returns false having changed nothing.
 * *after gets the bytes of the free block that follows it afterwards, and
 * *merged whether the old right neighbour was free and is now changed.
 * The block after g is read only once its header checks out (its tag
 * covers PREV_USED, which must say g is used); what the free structure
 * writes through is checked before anything is written. */
MEM_NO_ASAN static bool resize_locked(MemHeap *h, const MemKeys *k, uint32_t g, size_t size,
                                      size_t *after, bool *merged)
{
    uint32_t need = mem_need_grans(h, size);
    if (!need)
        return false;
    const BlockHeader *b = mem_hdr(h, g);
    uint32_t total = b->size;
    size_t old = mem_object_size(b);
    uint32_t right = g + total, right_size = 0;
    if (right < h->ngran) {
        const BlockHeader *rb = mem_hdr(h, right);
        if (!hdr_ok_k(h, k, right, rb) || !(rb->info & B_PREV_USED))
            return false;
        if (!(rb->info & B_USED))
            right_size = rb->size;
    }
    /* Buddy's blocks keep their power of two, and a heap that does not
     * coalesce at once keeps its free neighbours apart: there the object
     * stays within its block (its padding grows or shrinks). */
    if (h->policy == MEM_BUDDY || h->coalesce != MEM_COALESCE_NOW) {
        size_t slack = (size_t)total * GRAN - HDR - size;
        if (need > total || (h->policy != MEM_BUDDY && slack >= SLACK_WIDE))
            return false;
        *merged = false;
        *after = 0;
        goto rewrite;
    }
    uint32_t rover_before = h->rover;
    *merged = false;
    *after = (size_t)right_size * GRAN;

    if (need <= total) {
        uint32_t rest = total - need, prev, next;
        /* a lone granule can only go to a free neighbour */
        if (rest >= MIN_GRANS || (rest && right_size)) {
            if (right_size && !node_ok(h, k, right))
                return false;
            if (!give_back_ok(h, k, g + need, rest, right, right_size, &prev, &next))
                return false;
            give_back(h, k, g + need, rest, right, right_size, rover_before, prev, next);
            *merged = right_size != 0;
            *after = (size_t)(rest + right_size) * GRAN;
            total = need;
        }
    } else {
        /* [used][---- free ----] => [used ....][free]: the part of the right
         * neighbour that the object needs is taken as an allocation takes a
         * block (heap.c checks and takes it) */
        if (!right_size || total + right_size < need || !mem_take_ok(h, k, right, need - total))
            return false;
        uint32_t r, rest;
        uint32_t taken = mem_take_block(h, k, right, right_size, need - total, &r, &rest);
        bm_clear(h, right);
        hdr_clear(h, right); /* inside g now */
        need = total + taken;
        *merged = true;
        *after = r != NIL ? (size_t)rest * GRAN : 0u;
        total = need;
    }
rewrite:;
    size_t before_bytes = (size_t)b->size * GRAN;
    unsigned char *obj = mem_payload(h, g);
    if (size < old)
        MEM_POISON(obj + size, old - size);
    else
        MEM_UNPOISON(obj, size);
    resized_write(h, k, g, total, size);
    /* both differences as the unsigned wrap of a signed one */
    h->used_bytes -= before_bytes;
    h->live_bytes -= old;
    mem_count_used(h, (size_t)total * GRAN, size);
    h->resizes++;
    return true;
}

/* An object in slot i of run g keeps its slot when size is of the run's size
 * class (what MemHeap_Check expects of a slot's object): only its size and
 * the counters change.  Else false, nothing changed. */
MEM_NO_ASAN static bool resize_slot(MemHeap *h, uint32_t g, uint32_t i, size_t size, size_t *old,
                                    EventBuf *eb)
{
    RunTable *t = run_table(h, g);
    if (t->cls >= RUN_CLASSES || !run_free_ok(h, g))
        return false;
    const RunClass *k = &h->runs[t->cls];
    *old = k->size - run_slack(t, k, i);
    if (size > RUN_MAX_SIZE || mem_run_class_of[(size - 1u) / GRAN] != t->cls)
        return false;
    unsigned char *obj = run_slot(t, k, i);
    if (size < *old)
        MEM_POISON(obj + size, *old - size);
    else
        MEM_UNPOISON(obj, size);
    run_slack_put(t, k, i, (unsigned)(k->size - size));
    h->live_bytes -= *old;
    mem_count_used(h, 0, size);
    h->resizes++;
    MemEvent *e = mem_ev_add(eb, h, MEM_EV_RESIZE);
    if (e) {
        e->object = run_slot_off(g, k, i);
        e->pointer = (ptrdiff_t)e->object;
        e->previous = *old;
        e->request = size;
        e->block = e->object;
        e->size = k->size;
        e->run = goff(g);
        e->slot = i;
    }
    return true;
}

MEM_NO_ASAN int MemHeap_Resize(MemHeap *h, void *ptr, size_t size)
{
    if (!ptr || size == 0 || !mem_heap_ok(h) || (h->flags & MEM_VIEW_FLAG))
        return -1;
    EventBuf eb;
    const MemKeys keys = mem_keys(h), *k = &keys;
    uint32_t g = NIL, slot = NIL;
    bool locked = mem_lock(h);
    mem_ev_begin(&eb, h);
    MEM_ASSERT_EXPENSIVE(mem_diagnose_locked(h, NULL, 0) == 0);
    uint32_t rover_before = h->rover;
    int rc = -1;
    MemReject r = mem_classify(h, k, ptr, &g, &slot);
    size_t old = 0;
    if (r == MEM_OK && slot != NIL) {
        const RunTable *t = run_table(h, g);
        if (t->cls < RUN_CLASSES && (unsigned char *)ptr == h->base + run_slot_off(g, &h->runs[t->cls], slot) &&
            resize_slot(h, g, slot, size, &old, &eb))
            rc = 0;
    } else if (r == MEM_OK && (unsigned char *)ptr == mem_payload(h, g)) {
        size_t after = 0;
        old = mem_object_size(mem_hdr(h, g));
        bool merged = false;
        if (resize_locked(h, k, g, size, &after, &merged)) {
            rc = 0;
            MemEvent *e = mem_ev_add(&eb, h, MEM_EV_RESIZE);
            if (e) {
                e->object = (size_t)(g + 1u) * GRAN;
                e->pointer = (ptrdiff_t)e->object;
                e->previous = old;
                e->request = size;
                e->block = goff(g);
                e->size = (size_t)mem_hdr(h, g)->size * GRAN;
                e->remainder = after;
                e->neighbours = merged ? MEM_RIGHT : 0u;
            }
            mem_ev_rover(&eb, h, rover_before);
        }
    }
    MEM_ASSERT_EXPENSIVE(mem_diagnose_locked(h, NULL, 0) == 0);
    if (eb.on)
        mem_ev_flush(h, &eb);
    mem_unlock(h, locked);
    return rc;
}

/* ---- aligned allocation ----------------------------------------------------- */

/* The first granule at or after g whose object is aligned to `align` bytes
 * and that leaves no gap or a gap of a whole block (2 granules or more). */
MEM_NO_ASAN static uint32_t aligned_start(const MemHeap *h, uint32_t g, size_t align)
{
    uintptr_t obj = (uintptr_t)mem_payload(h, g);
    uintptr_t want = (obj + align - 1u) & ~(uintptr_t)(align - 1u);
    uint32_t gap = (uint32_t)((want - obj) / GRAN);
    while (gap == 1u)
        gap += (uint32_t)(align / GRAN);
    return g + gap;
}

/* Cutting [gap][object][end] out of free block g (total granules) writes
 * through: with no gap, what any take writes through (take_ok); with a
 * gap, which keeps g's place, g's list neighbours, and the place where the
 * end goes (its class's head; under LIFO and FIFO the list's end), and when
 * there is no end, the block after (its PREV_USED is set). */
MEM_NO_ASAN static bool aligned_ok(const MemHeap *h, const MemKeys *k, uint32_t g, uint32_t total,
                                   uint32_t gap, uint32_t need, uint32_t end)
{
    if (!gap)
        return mem_take_ok(h, k, g, need + (end >= MIN_GRANS ? 0u : end));
    if (!node_ok(h, k, g))
        return false;
    if (end < MIN_GRANS && g + total < h->ngran) {
        const BlockHeader *after = mem_hdr(h, g + total);
        if (!hdr_ok_k(h, k, g + total, after) || (after->info & B_PREV_USED))
            return false;
    }
    if (mem_is_list_policy(h)) {
        uint32_t prev, next;
        if (!mem_list_take_ok(h, k, g))
            return false;
        return end < MIN_GRANS || h->order == MEM_ORDER_ADDRESS ||
               mem_list_add_ok(h, k, g + gap + need, &prev, &next);
    }
    return mem_seg_take_ok(h, k, g, total, gap) &&
           (end < MIN_GRANS || head_ok(h, k, fast_head_of(h, end)));
}

MEM_NO_ASAN static void *alloc_aligned_locked(MemHeap *h, const MemKeys *k, size_t align,
                                              size_t size, EventBuf *eb)
{
    uint32_t need = mem_need_grans(h, size);
    uint32_t slop = (uint32_t)(align / GRAN) + 1u; /* the largest gap aligned_start leaves */
    uint32_t rover_before = h->rover;
    size_t examined = 0;
    uint32_t g = NIL;
    /* buddy cannot cut a gap off a block: its blocks are powers of two in
     * place (mem.h says so) */
    if (need && need <= h->ngran - slop && h->policy != MEM_BUDDY) {
        uint32_t ask = need + slop;
        g = mem_is_list_policy(h) ? mem_list_search(h, k, ask, &examined)
                                  : mem_seg_search(h, k, ask, &examined);
    }
    uint32_t total = 0, a = 0, gap = 0, end = 0;
    if (g != NIL && node_ok(h, k, g) && (total = mem_hdr(h, g)->size) >= need + slop) {
        a = aligned_start(h, g, align);
        gap = a - g;
        end = total - gap - need;
    }
    if (g == NIL || total < need + slop || !aligned_ok(h, k, g, total, gap, need, end)) {
        mem_alloc_failed(h, size, examined, eb);
        return NULL;
    }

    /* [gap][object][end]: the gap keeps g's place in the free structure */
    const BlockHeader *b = mem_hdr(h, g);
    uint32_t prev_used = b->info & B_PREV_USED;
    uint32_t e = NIL;
    if (end >= MIN_GRANS)
        e = a + need;
    else
        need += end;
    if (gap) {
        if (mem_is_list_policy(h)) {
            if (e != NIL && h->order == MEM_ORDER_ADDRESS) /* right after the gap */
                mem_list_link(h, k, e, g, link_get(h, k, g, 0));
            else if (e != NIL) { /* LIFO, FIFO: it joins the list */
                uint32_t prev, next;
                (void)mem_list_add_ok(h, k, e, &prev, &next); /* checked by aligned_ok */
                mem_list_add(h, k, e, prev, next);
            }
        } else {
            mem_seg_take(h, k, g, total, g, gap);
            if (e != NIL)
                mem_seg_insert(h, k, e, end);
        }
        hdr_write_k(h, k, g, gap, prev_used);
        footer_write(h, g, gap);
        bm_set(h, a);
    } else if (mem_is_list_policy(h)) {
        mem_list_take(h, k, g, e);
    } else {
        mem_seg_take(h, k, g, total, e, end);
    }
    if (e != NIL) {
        free_block_write(h, k, e, end, B_PREV_USED);
    } else {
        set_prev_used(h, k, a + need, true);
    }
    h->free_blocks = h->free_blocks - 1u + (gap ? 1u : 0u) + (e != NIL ? 1u : 0u);

    return mem_alloc_commit(h, k, a, need, gap ? 0u : prev_used, size, eb, examined, total - gap,
                            e != NIL ? end : 0u, rover_before);
}

MEM_NO_ASAN void *MemHeap_AllocAligned(MemHeap *h, size_t align, size_t size)
{
    if (size == 0 || align == 0 || (align & (align - 1u)) || !mem_heap_ok(h) ||
        (h->flags & MEM_VIEW_FLAG))
        return NULL;
    if (align <= GRAN)
        return MemHeap_Alloc(h, size);
    EventBuf eb;
    const MemKeys keys = mem_keys(h), *k = &keys;
    bool locked = mem_lock(h);
    mem_ev_begin(&eb, h);
    MEM_ASSERT_EXPENSIVE(mem_diagnose_locked(h, NULL, 0) == 0);
    void *p = NULL;
    if (align / GRAN < h->ngran)
        p = alloc_aligned_locked(h, k, align, size, &eb);
    else
        mem_alloc_failed(h, size, 0, &eb);
    MEM_ASSERT_EXPENSIVE(mem_diagnose_locked(h, NULL, 0) == 0);
    if (eb.on)
        mem_ev_flush(h, &eb);
    mem_unlock(h, locked);
    return p;
}

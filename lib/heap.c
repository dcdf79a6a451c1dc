/*
 * heap.c - the operations: allocation (search the policy's free structure,
 * split), free (find the object behind any interior pointer, check the
 * neighbours, coalesce), and the lookups behind Find and Classify.  The
 * block format is in block.h; the free structures are list.c (first, next,
 * best, worst) and seg.c (fast); MEM_FAST serves small requests from runs
 * first (runs.h), whose blocks come from and go back to the block heap
 * here.  This file ties them together and raises the events.
 */
#include "runs.h"
#include "seg.h"

/* ---- guard mode ------------------------------------------------------------- */

MEM_NO_ASAN static void guard_fill(unsigned char *from, size_t n)
{
    MEM_UNPOISON(from, n);
    for (size_t i = 0; i < n; i++)
        from[i] = GUARD_BYTE;
    MEM_POISON(from, n);
}

/* Bytes of the guard after the object of block g found overwritten. */
MEM_NO_ASAN size_t mem_guard_damage(const MemHeap *h, uint32_t g)
{
    const BlockHeader *b = mem_hdr(h, g);
    const unsigned char *p = mem_payload(h, g) + mem_object_size(b);
    size_t n = mem_slack(b), bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += p[i] != GUARD_BYTE;
    return bad;
}

/* ---- allocation ------------------------------------------------------------ */

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
    MemEvent *e = mem_ev_add(eb, h, MEM_EV_FAIL);
    if (e) {
        e->request = size;
        e->examined = examined;
        e->free_total = (size_t)h->ngran * GRAN - h->used_bytes;
        uint32_t big = mem_largest_free(h, &e->largest_free);
        e->block = big != NIL ? goff(big) : SIZE_MAX;
        e->size = e->largest_free;
    }
}

/* Block g may be taken for need granules: a free block (node_ok) at least
 * that large, everything the take writes through is sound (its list
 * neighbours; the head the remainder goes to), and when it is taken whole,
 * the block after it, whose PREV_USED is set and re-tagged, is a used block
 * with a valid header that knows g is free. */
MEM_HOT bool take_ok(const MemHeap *h, const MemKeys *k, uint32_t g, uint32_t need,
                     const bool list)
{
    if (!node_ok(h, k, g))
        return false;
    uint32_t total = mem_hdr(h, g)->size;
    if (total < need)
        return false;
    uint32_t rest = total - need;
    if (rest < MIN_GRANS && g + total < h->ngran) {
        const BlockHeader *after = mem_hdr(h, g + total);
        if (!hdr_ok_k(h, k, g + total, after) || (after->info & (B_USED | B_PREV_USED)) != B_USED)
            return false;
    }
    return list ? mem_list_take_ok(h, k, g) : mem_seg_take_ok(h, k, g, total, rest);
}

/* Takes free block g (total granules, checked by take_ok) out of the free
 * structure for a used block of need granules: the rest is split off as a
 * free block (*r, *rest) when it can be one, else the whole block is taken.
 * Returns the granules taken.  g's header is the caller's to write. */
MEM_HOT uint32_t take_block(MemHeap *h, const MemKeys *k, uint32_t g, uint32_t total,
                            uint32_t need, const bool list, uint32_t *r_out, uint32_t *rest_out)
{
    uint32_t rest = total - need;
    uint32_t r = NIL;
    if (rest >= MIN_GRANS) {
        /* [------ free ------] => [used][ free ] */
        r = g + need;
        hdr_write_k(h, k, r, rest, B_PREV_USED);
        footer_write(h, r, rest);
        bm_set(h, r);
    } else {
        need = total;
        set_prev_used(h, k, g + total, true);
        h->free_blocks--;
    }
    if (list)
        mem_list_take(h, k, g, r);
    else
        mem_seg_take(h, k, g, total, r, rest);
    *r_out = r;
    *rest_out = rest;
    return need;
}


static void *alloc_again(MemHeap *h, const MemKeys *k, size_t size, EventBuf *eb);

MEM_HOT void *alloc_locked(MemHeap *h, const MemKeys *k, size_t size, EventBuf *eb,
                           const bool list)
{
    uint32_t need = need_grans(h, size);
    uint32_t rover_before = h->rover;
    size_t examined = 0;
    uint32_t g = NIL;
    if (need)
        g = list ? mem_list_search(h, k, need, &examined) : mem_seg_search(h, k, need, &examined);
    if (g == NIL || !take_ok(h, k, g, need, list)) {
        if (!list && need && h->run_spares && mem_run_release_for(h, need, eb))
            return alloc_again(h, k, size, eb); /* it fits now */
        alloc_failed(h, size, examined, eb);
        return NULL;
    }

    BlockHeader *b = mem_hdr(h, g);
    uint32_t total = b->size;
    uint32_t prev_used = b->info & B_PREV_USED;
    uint32_t r, rest;
    need = take_block(h, k, g, total, need, list, &r, &rest);

    size_t block_bytes = (size_t)need * GRAN;
    uint32_t slack = (uint32_t)(block_bytes - HDR - size);
    MEM_ASSERT(slack < SLACK_MAX); /* SLACK_MAX marks a run */
    hdr_write_k(h, k, g, need, B_USED | prev_used | slack << B_SLACK_SHIFT);
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
        MemEvent *e = mem_ev_add(eb, h, MEM_EV_ALLOC);
        if (e) {
            e->request = size;
            e->examined = examined;
            e->block = goff(g);
            e->size = (size_t)total * GRAN;
            e->object = (size_t)(g + 1u) * GRAN;
            e->remainder = r != NIL ? (size_t)rest * GRAN : 0u;
        }
        mem_ev_rover(eb, h, rover_before);
    }
    return obj;
}

/* After a spare run went back: the search again (out of line: the failure
 * path of the copy inlined here may come back once per spare). */
MEM_NO_ASAN __attribute__((noinline)) static void *alloc_again(MemHeap *h, const MemKeys *k,
                                                               size_t size, EventBuf *eb)
{
    return alloc_locked(h, k, size, eb, false);
}

/* ---- blocks for runs (runs.c) ------------------------------------------------- */

MEM_NO_ASAN uint32_t mem_block_for_run(MemHeap *h, uint32_t need, size_t *examined,
                                       size_t *remainder)
{
    const MemKeys keys = mem_keys(h), *k = &keys;
    uint32_t g = mem_seg_search(h, k, need, examined);
    if (g == NIL || !take_ok(h, k, g, need, false))
        return NIL;
    BlockHeader *b = mem_hdr(h, g);
    uint32_t total = b->size, prev_used = b->info & B_PREV_USED, r, rest;
    need = take_block(h, k, g, total, need, false, &r, &rest);
    hdr_write_k(h, k, g, need, B_RUN_MARK | prev_used);
    h->used_bytes += (size_t)need * GRAN;
    *remainder = r != NIL ? (size_t)rest * GRAN : 0u;
    return g;
}

/* MemHeap_Alloc's full path: every case, with the lock and the events. */
MEM_NO_ASAN __attribute__((noinline)) static void *alloc_full(MemHeap *h, size_t size)
{
    if (size == 0 || !mem_heap_ok(h))
        return NULL;
    EventBuf eb;
    const MemKeys keys = mem_keys(h), *k = &keys;
    bool locked = mem_lock(h);
    mem_ev_begin(&eb, h);
    MEM_ASSERT_EXPENSIVE(mem_diagnose_locked(h, NULL, 0) == 0);
    /* two copies, each specialised for its family of policies; under
     * MEM_FAST a small request tries the runs first */
    void *p;
    if (mem_is_list_policy(h))
        p = alloc_locked(h, k, size, &eb, true);
    else if (size > RUN_MAX_SIZE || !(p = run_alloc(h, size, &eb)))
        p = alloc_locked(h, k, size, &eb, false);
    MEM_ASSERT_EXPENSIVE(mem_diagnose_locked(h, NULL, 0) == 0);
    if (eb.on)
        mem_ev_flush(h, &eb);
    mem_unlock(h, locked);
    return p;
}

/* ---- finding the object behind a pointer ---------------------------------- */

MEM_NO_ASAN static MemReject classify_outside(const MemHeap *h, uintptr_t a)
{
    uintptr_t b = (uintptr_t)h->base;
    return a >= b && a - b < h->arena ? MEM_REJECT_TABLE : MEM_REJECT_OUTSIDE;
}

/* Which block holds ptr (*gout, NIL if none), in a run which slot (*slot,
 * left alone otherwise), and whether ptr is inside its live object.
 * Nothing read from the region is trusted before it is checked: the
 * bitmap's answer must be a block whose tagged header covers ptr.  Only the
 * bitmap, the headers and the run tables are read, never a byte of an
 * object, which its owner may be writing at the same time. */
MEM_HOT MemReject classify(const MemHeap *h, const MemKeys *k, const void *ptr, uint32_t *gout,
                           uint32_t *slot)
{
    uintptr_t a = (uintptr_t)ptr;
    size_t o = (size_t)(a - (uintptr_t)h->base) - HDR; /* wraps below the area */
    if (o >= (size_t)h->ngran * GRAN)
        return classify_outside(h, a);
    uint32_t q = (uint32_t)(o / GRAN);
    uint32_t g = bm_find_prev(h, q);
    if (g == NIL)
        return MEM_REJECT_CORRUPT;
    const BlockHeader *bh = mem_hdr(h, g);
    uint32_t size = bh->size, info = bh->info;
    if (!hdr_valid(h, k, g, size, info) || g + size <= q)
        return MEM_REJECT_CORRUPT;
    *gout = g;
    if (!(info & B_USED))
        return MEM_REJECT_FREE;
    if (hdr_is_run(info))
        return run_classify(h, g, size, o, slot);
    size_t start = (size_t)g * GRAN + (GRAN - HDR); /* the object, as o counts */
    if (o < start)
        return MEM_REJECT_HEADER;
    if (o - start >= (size_t)size * GRAN - HDR - ((info >> B_SLACK_SHIFT) & SLACK_MAX))
        return MEM_REJECT_PADDING;
    return MEM_OK;
}

MEM_NO_ASAN MemReject MemHeap_Classify(const MemHeap *h, const void *ptr)
{
    if (!mem_heap_ok(h))
        return MEM_REJECT_NULL_HEAP;
    uint32_t g, slot;
    const MemKeys keys = mem_keys(h), *k = &keys;
    bool locked = mem_lock(h);
    MemReject r = classify(h, k, ptr, &g, &slot);
    mem_unlock(h, locked);
    return r;
}

MEM_NO_ASAN void *MemHeap_Find(const MemHeap *h, const void *ptr, size_t *size)
{
    if (!mem_heap_ok(h))
        return NULL;
    uint32_t g, slot = NIL;
    void *obj = NULL;
    const MemKeys keys = mem_keys(h), *k = &keys;
    bool locked = mem_lock(h);
    if (classify(h, k, ptr, &g, &slot) == MEM_OK) {
        if (slot != NIL) {
            const RunTable *t = run_table(h, g);
            const RunClass *rc = &h->runs[t->cls];
            obj = h->base + run_slot_off(g, rc, slot);
            if (size)
                *size = rc->size - run_slack(t, rc, slot);
        } else {
            obj = mem_payload(h, g);
            if (size)
                *size = mem_object_size(mem_hdr(h, g));
        }
    }
    mem_unlock(h, locked);
    return obj;
}

MEM_NO_ASAN const char *MemReject_Describe(MemReject r)
{
    switch (r) {
    case MEM_OK: return "points into a live object";
    case MEM_REJECT_NULL_HEAP: return "there is no heap (NULL, released, or its control is damaged)";
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
    size_t bad = mem_guard_damage(h, g);
    if (!bad)
        return;
    h->overflows++;
    MemEvent *e = mem_ev_add(eb, h, MEM_EV_OVERFLOW);
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
    MemEvent *e = mem_ev_add(eb, h, MEM_EV_FREE);
    if (e) {
        e->pointer = given;
        e->object = (size_t)(g + 1u) * GRAN;
        e->request = obj_size;
        e->block = goff(g);
        e->size = (size_t)size * GRAN;
    }
    if (neighbours) {
        e = mem_ev_add(eb, h, MEM_EV_COALESCE);
        if (e) {
            e->neighbours = neighbours;
            e->block = goff(start);
            e->size = (size_t)merged * GRAN;
        }
    }
    mem_ev_rover(eb, h, rover_before);
}

/* What freeing used block g will do: [left][g][right] => [--- merged ---].
 * Made and checked (free_plan) before anything is written. */
typedef struct FreePlan {
    uint32_t start, merged, right, left_size, right_size;
    unsigned neighbours;
    uint32_t prev, next; /* list policies, no free neighbour: where it goes */
} FreePlan;

/* Coalescing will trust both neighbours of used block g, and the free
 * structure will be written through their list neighbours: all are checked
 * here.  The right one's header (its tag covers PREV_USED, which must say g
 * is used); on the left, the footer and the free block it leads to, which
 * must start in the bitmap, carry a valid free header of exactly the
 * footer's size, and be linked where it belongs.  An overflow that reached
 * a header, or a forged footer and header inside an object, fails here,
 * and the free is refused instead of merging through them. */
MEM_HOT bool free_plan(const MemHeap *h, const MemKeys *k, uint32_t g, FreePlan *p,
                       const bool list)
{
    const BlockHeader *b = mem_hdr(h, g);
    uint32_t size = b->size;
    p->start = g;
    p->merged = size;
    p->left_size = p->right_size = 0;
    p->neighbours = 0;
    p->right = g + size;
    if (p->right < h->ngran) {
        const BlockHeader *rb = mem_hdr(h, p->right);
        if (!hdr_ok_k(h, k, p->right, rb) || !(rb->info & B_PREV_USED))
            return false;
        if (!(rb->info & B_USED)) {
            p->right_size = rb->size;
            p->merged += rb->size;
            p->neighbours = MEM_RIGHT;
        }
    }
    if (!(b->info & B_PREV_USED)) {
        uint32_t ls = *mem_footer_before(h, g);
        if (ls < MIN_GRANS || ls > g || !bm_test(h, g - ls) || !node_ok(h, k, g - ls) ||
            mem_hdr(h, g - ls)->size != ls)
            return false;
        p->left_size = ls;
        p->start = g - ls;
        p->merged += ls;
        p->neighbours |= MEM_LEFT;
    }
    if (list)
        return mem_list_release_ok(h, k, p->start, p->right, p->neighbours, &p->prev, &p->next);
    return mem_seg_release_ok(h, k, p->start, p->merged, p->right, p->left_size, p->right_size,
                              p->neighbours);
}

/* Puts used block g (size granules) back as a free block, merged with its
 * free neighbours as planned (free_plan). */
MEM_HOT void merge_block(MemHeap *h, const MemKeys *k, uint32_t g, uint32_t size,
                         const FreePlan *p, const bool list, uint32_t rover_before)
{
    h->used_bytes -= (size_t)size * GRAN;

    uint32_t start = p->start, merged = p->merged, right = p->right;
    unsigned neighbours = p->neighbours;
    uint32_t prev_used = mem_hdr(h, start)->info & B_PREV_USED;
    if (neighbours & MEM_LEFT)
        bm_clear(h, g);
    if (neighbours & MEM_RIGHT)
        bm_clear(h, right);

    if (list)
        mem_list_release(h, k, start, right, neighbours, rover_before, p->prev, p->next);
    else
        mem_seg_release(h, k, start, merged, right, p->left_size, p->right_size, neighbours);
    /* headers swallowed by the merge: nothing may find them again */
    if (neighbours & MEM_LEFT)
        hdr_clear(h, g);
    if (neighbours & MEM_RIGHT)
        hdr_clear(h, right);
    hdr_write_k(h, k, start, merged, prev_used);
    footer_write(h, start, merged);
    if (!(neighbours & MEM_RIGHT))
        set_prev_used(h, k, start + merged, false);

    /* one block more, less each neighbour it absorbed */
    h->free_blocks = h->free_blocks + 1u - (neighbours & MEM_LEFT ? 1u : 0u) -
                     (neighbours & MEM_RIGHT ? 1u : 0u);
}

/* Frees used block g as planned; `given` is the pointer the caller passed,
 * as an offset, for the events. */
MEM_HOT void free_locked(MemHeap *h, const MemKeys *k, uint32_t g, const FreePlan *p,
                         EventBuf *eb, const bool list, ptrdiff_t given)
{
    BlockHeader *b = mem_hdr(h, g);
    uint32_t size = b->size;
    size_t obj_size = mem_object_size(b);
    uint32_t rover_before = h->rover;

    if (h->flags & MEM_OPT_GUARD)
        guard_report(h, g, obj_size, eb, given);
    MEM_POISON(mem_payload(h, g), obj_size);

    h->live_bytes -= obj_size;
    h->frees++;
    merge_block(h, k, g, size, p, list, rover_before);
    if (eb->on)
        free_events(h, eb, g, size, obj_size, p->start, p->merged, p->neighbours, rover_before,
                    given);
}

/* Gives run g's block back to the block heap, where it coalesces; false
 * (and nothing changes) when its neighbours fail their checks. */
MEM_NO_ASAN bool mem_block_release_run(MemHeap *h, uint32_t g, EventBuf *eb)
{
    const MemKeys keys = mem_keys(h), *k = &keys;
    FreePlan plan;
    if (!free_plan(h, k, g, &plan, false))
        return false;
    BlockHeader *b = mem_hdr(h, g);
    MemEvent *e = mem_ev_add(eb, h, MEM_EV_RUN_RELEASE);
    if (e) {
        e->block = e->run = goff(g);
        e->size = (size_t)b->size * GRAN;
    }
    merge_block(h, k, g, b->size, &plan, false, h->rover);
    if (plan.neighbours) {
        e = mem_ev_add(eb, h, MEM_EV_COALESCE);
        if (e) {
            e->neighbours = plan.neighbours;
            e->block = goff(plan.start);
            e->size = (size_t)plan.merged * GRAN;
        }
    }
    return true;
}

MEM_NO_ASAN static void reject_event(MemHeap *h, EventBuf *eb, const void *ptr, MemReject r,
                                     uint32_t g, uint32_t slot)
{
    MemEvent *e = mem_ev_add(eb, h, MEM_EV_REJECT);
    if (e) {
        e->pointer = (ptrdiff_t)((uintptr_t)ptr - (uintptr_t)h->base);
        e->reason = r;
        if (g != NIL) {
            e->block = goff(g);
            e->size = (size_t)mem_hdr(h, g)->size * GRAN;
            if (hdr_is_run(mem_hdr(h, g)->info)) {
                e->run = goff(g);
                e->slot = slot != NIL ? slot : 0u;
            }
        }
    }
}

/* MemHeap_Free's full path: every case, with the lock and the events. */
MEM_NO_ASAN __attribute__((noinline)) static int free_full(MemHeap *h, void *ptr)
{
    if (!ptr)
        return MEM_OK;
    if (!mem_heap_ok(h))
        return MEM_REJECT_NULL_HEAP;
    EventBuf eb;
    FreePlan plan;
    uint32_t g = NIL, slot = NIL;
    const MemKeys keys = mem_keys(h), *k = &keys;
    bool locked = mem_lock(h);
    mem_ev_begin(&eb, h);
    MEM_ASSERT_EXPENSIVE(mem_diagnose_locked(h, NULL, 0) == 0);
    MemReject r = classify(h, k, ptr, &g, &slot);
    ptrdiff_t given = (ptrdiff_t)((uintptr_t)ptr - (uintptr_t)h->base);
    bool list = mem_is_list_policy(h);
    if (r == MEM_OK && slot != NIL) {
        if (!run_free_ok(h, g))
            r = MEM_REJECT_CORRUPT;
    } else if (r == MEM_OK &&
               !(list ? free_plan(h, k, g, &plan, true) : free_plan(h, k, g, &plan, false))) {
        r = MEM_REJECT_CORRUPT;
        /* Guard mode says what reached the neighbour: this object's guard. */
        if (h->flags & MEM_OPT_GUARD)
            guard_report(h, g, mem_object_size(mem_hdr(h, g)), &eb, given);
    }
    if (r != MEM_OK) {
        h->rejected++;
        if (eb.on)
            reject_event(h, &eb, ptr, r, g, slot);
    } else if (slot != NIL) {
        run_free(h, g, slot, &eb, given);
    } else if (list) {
        free_locked(h, k, g, &plan, &eb, true, given);
    } else {
        free_locked(h, k, g, &plan, &eb, false, given);
    }
    MEM_ASSERT_EXPENSIVE(mem_diagnose_locked(h, NULL, 0) == 0);
    if (eb.on)
        mem_ev_flush(h, &eb);
    mem_unlock(h, locked);
    return (int)r;
}

/* ---- the entry points ---------------------------------------------------------- */

/* A small request or free under MEM_FAST tries the run fast path (runs.h)
 * first; whatever it declines goes the full way. */
/* Both entry points check the heap's seal before anything else, the fast
 * paths too: a released or damaged control structure is never used. */
MEM_NO_ASAN void *MemHeap_Alloc(MemHeap *h, size_t size)
{
    if (size - 1u < RUN_MAX_SIZE && mem_heap_ok(h) && run_hot(h)) {
        void *p = run_alloc_fast(h, size);
        if (p)
            return p;
    }
    return alloc_full(h, size);
}

MEM_NO_ASAN int MemHeap_Free(MemHeap *h, void *ptr)
{
    if (mem_heap_ok(h) && run_hot(h) && run_free_fast(h, ptr))
        return MEM_OK;
    return free_full(h, ptr);
}

/*
 * hooks.c - how a visualiser sees the heap: its region, the walks over all
 * blocks and over the free structure, the statistics, and the observer with
 * the events the operations raise.  Everything is read under the heap's lock
 * and nothing read from the arena is followed before it is checked: a walk
 * stops at the first block that fails, whatever the arena holds.
 */
#include "runs.h"
#include "seg.h"

#include <string.h>

/* ---- events --------------------------------------------------------------- */

MEM_NO_ASAN MemEvent *mem_ev_add(EventBuf *eb, const MemHeap *h, MemEventKind kind)
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

/* The observer is called only through the pointer it was installed with:
 * one whose keyed copy no longer matches (a store into the control
 * structure) is never called. */
MEM_NO_ASAN void mem_ev_flush(const MemHeap *h, const EventBuf *eb)
{
    for (unsigned i = 0; i < eb->n; i++) {
        MemObserver fn = h->observer;
        void *arg = h->observer_arg;
        if (!fn || h->observer_seal != mem_observer_seal(h, fn, arg))
            return;
        fn(&eb->ev[i], arg);
    }
}

MEM_NO_ASAN void mem_ev_rover(EventBuf *eb, const MemHeap *h, uint32_t before)
{
    if (h->policy != MEM_NEXT_FIT || h->rover == before)
        return;
    MemEvent *e = mem_ev_add(eb, h, MEM_EV_ROVER);
    if (e && h->rover < h->ngran) {
        e->block = goff(h->rover);
        e->size = (size_t)mem_hdr(h, h->rover)->size * GRAN;
    } else if (e) {
        e->block = SIZE_MAX;
    }
}

MEM_NO_ASAN void MemHeap_SetObserver(MemHeap *h, MemObserver observer, void *arg)
{
    if (!mem_heap_ok(h))
        return;
    bool locked = mem_lock(h);
    h->observer = observer;
    h->observer_arg = arg;
    h->observer_seal = mem_observer_seal(h, observer, arg);
    mem_run_gate(h);
    mem_unlock(h, locked);
}

/* ---- region and walks ------------------------------------------------------ */

MEM_NO_ASAN MemRegion MemHeap_Region(const MemHeap *h)
{
    MemRegion r;
    memset(&r, 0, sizeof r);
    if (!mem_heap_ok(h))
        return r;
    r.base = h->base;
    r.size = h->arena;
    r.heap_begin = HDR;
    r.heap_end = HDR + (size_t)h->ngran * GRAN;
    r.control = h->control;
    r.policy = (MemPolicy)h->policy;
    r.flags = h->flags & ~(unsigned)MEM_VIEW_FLAG;
    r.order = (MemOrder)h->order;
    r.coalesce = (MemCoalesce)h->coalesce;
    return r;
}

/* Block g, whose header has been checked (so its object and guard lie
 * inside it). */
MEM_NO_ASAN static void describe(const MemHeap *h, uint32_t g, MemBlock *out)
{
    const BlockHeader *b = mem_hdr(h, g);
    memset(out, 0, sizeof *out);
    if (hdr_is_run(b->info)) {
        mem_run_describe(h, g, out);
        return;
    }
    out->offset = goff(g);
    out->size = (size_t)b->size * GRAN;
    out->header = HDR;
    out->used = (b->info & B_USED) != 0;
    out->object = out->used ? mem_object_size(b) : 0;
    out->padding = out->used ? mem_slack(b) : 0;
    out->overflowed = out->used && (((h->flags & MEM_OPT_GUARD) && mem_guard_damage(h, g) != 0) ||
                                    !wide_ok(b)); /* an overflow reached the size word */
    out->list = 0;
}

MEM_NO_ASAN size_t MemHeap_Walk(const MemHeap *h, MemVisitor visit, void *arg)
{
    if (!mem_heap_ok(h) || !visit)
        return 0;
    size_t n = 0;
    const MemKeys keys = mem_keys(h), *k = &keys;
    bool locked = mem_lock(h);
    for (uint32_t g = 0; g < h->ngran;) {
        MemBlock blk;
        const BlockHeader *b = mem_hdr(h, g);
        if (!hdr_ok_k(h, k, g, b))
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

/* Most free blocks a walk may visit: the counter, and never more than
 * fit in the block area (the counter may be damaged too). */
MEM_NO_ASAN static size_t free_bound(const MemHeap *h)
{
    size_t most = h->ngran / MIN_GRANS;
    return h->free_blocks < most ? h->free_blocks : most;
}

/* The next node of a free list after g (prev before it), or NIL at its end
 * or at the first node that is not a free block linking back. */
MEM_NO_ASAN static uint32_t next_node(const MemHeap *h, const MemKeys *k, uint32_t g)
{
    uint32_t n = link_next(h, k, g);
    return n != NIL && node_ok(h, k, n) && link_get(h, k, n, 1) == g ? n : NIL;
}

/* Visits list `head` (a size class's if cls is not NIL): *n counts the
 * blocks visited against limit; returns false when the visitor stopped. */
MEM_NO_ASAN static bool walk_list(const MemHeap *h, const MemKeys *k, uint32_t head, unsigned cls, size_t *n,
                                  size_t limit, MemVisitor visit, void *arg)
{
    MemBlock blk;
    uint32_t g = head_ok(h, k, link_first(h, head)) ? link_first(h, head) : NIL;
    for (; g != NIL && *n < limit; g = next_node(h, k, g)) {
        describe(h, g, &blk);
        blk.list = cls;
        blk.rank = (*n)++;
        if (!visit(&blk, arg))
            return false;
    }
    return true;
}

MEM_NO_ASAN size_t MemHeap_WalkFree(const MemHeap *h, MemVisitor visit, void *arg)
{
    if (!mem_heap_ok(h) || !visit)
        return 0;
    size_t n = 0;
    const MemKeys keys = mem_keys(h), *k = &keys;
    bool locked = mem_lock(h);
    size_t limit = free_bound(h);
    if (mem_is_list_policy(h)) {
        walk_list(h, k, h->head, 0, &n, limit, visit, arg);
    } else if (h->policy == MEM_BUDDY) {
        for (unsigned o = BUDDY_MIN_ORDER; o <= BUDDY_MAX_ORDER; o++)
            if (!walk_list(h, k, h->buddy_head[o], o, &n, limit, visit, arg))
                break;
    } else {
        bool go = true;
        for (unsigned fl = 0; go && fl < FL_COUNT; fl++) {
            if (!(h->sl_map[fl]))
                continue;
            for (unsigned sl = 0; go && sl < SL_COUNT; sl++)
                go = walk_list(h, k, h->fast_head[fl][sl], fl * SL_COUNT + sl, &n, limit, visit,
                               arg);
        }
    }
    mem_unlock(h, locked);
    return n;
}

/* ---- statistics ------------------------------------------------------------- */

/* The largest free block of the list from head (the lowest of equals),
 * NIL when there is none; a walk that stops at the first unsound node. */
MEM_NO_ASAN static uint32_t largest_of(const MemHeap *h, const MemKeys *k, uint32_t head, uint32_t *size)
{
    uint32_t best = NIL, best_size = 0;
    uint32_t g = head_ok(h, k, link_first(h, head)) ? link_first(h, head) : NIL;
    for (size_t n = 0, limit = free_bound(h); g != NIL && n < limit; g = next_node(h, k, g), n++) {
        uint32_t s = mem_hdr(h, g)->size;
        if (s > best_size || (s == best_size && g < best)) {
            best = g;
            best_size = s;
        }
    }
    *size = best_size;
    return best;
}

/* The largest free block, NIL when there is none.  The list policies walk
 * their list.  MEM_FAST keeps it (big): when it is not known, it is in the
 * highest non-empty class, and in a class of one size (below 32 granules)
 * that class's first block will do; only a class of several sizes is
 * walked, once, until the largest block changes again. */
MEM_NO_ASAN uint32_t mem_largest_free(const MemHeap *heap, size_t *bytes)
{
    MemHeap *h = (MemHeap *)(uintptr_t)heap; /* the cache: under the lock */
    const MemKeys keys = mem_keys(h), *k = &keys;
    uint32_t best = NIL, best_size = 0;
    if (h->policy == MEM_BUDDY)
        return mem_buddy_largest(h, k, bytes);
    if (mem_is_list_policy(h)) {
        best = largest_of(h, k, h->head, &best_size);
    } else if (h->big_known) {
        best = h->big;
        best_size = best != NIL ? h->big_size : 0;
    } else {
        unsigned fl = h->fl_map ? msb32(h->fl_map) : 0;
        if (h->fl_map && fl < FL_COUNT && h->sl_map[fl]) {
            unsigned sl = msb32(h->sl_map[fl]);
            uint32_t head = link_first(h, h->fast_head[fl][sl]);
            if (fl * SL_COUNT + sl < 2u * SL_COUNT && head_ok(h, k, head)) {
                best = head;
                best_size = head != NIL ? mem_hdr(h, head)->size : 0;
            } else {
                best = largest_of(h, k, head, &best_size);
            }
        }
        h->big = best;
        h->big_size = best_size;
        h->big_known = true;
    }
    *bytes = (size_t)best_size * GRAN;
    return best;
}

MEM_NO_ASAN MemStats MemHeap_Stats(const MemHeap *h)
{
    MemStats s;
    memset(&s, 0, sizeof s);
    if (!mem_heap_ok(h))
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
    s.peak_used_bytes = h->peak_used;
    s.rover = h->policy == MEM_NEXT_FIT && h->rover != NIL ? goff(h->rover) : SIZE_MAX;
    s.allocs = h->allocs;
    s.frees = h->frees;
    s.failed_allocs = h->failed;
    s.rejected_frees = h->rejected;
    s.overflows = h->overflows;
    s.deferred_coalesces = h->deferred;
    s.resizes = h->resizes;
    s.ops = h->allocs + h->frees + h->failed + h->rejected + h->resizes;
    mem_run_stats(h, &s);
    mem_unlock(h, locked);
    return s;
}

/*
 * hooks.c - how a visualiser sees the heap: its region, the walks over all
 * blocks and over the free structure, the statistics, and the observer with
 * the events the operations raise.  Everything is read under the heap's lock
 * and nothing read from the arena is followed before it is checked.
 */
#include "runs.h"

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

MEM_NO_ASAN void mem_ev_flush(const MemHeap *h, const EventBuf *eb)
{
    for (unsigned i = 0; i < eb->n && h->observer; i++)
        h->observer(&eb->ev[i], h->observer_arg);
}

MEM_NO_ASAN void mem_ev_rover(EventBuf *eb, const MemHeap *h, uint32_t before)
{
    if (h->policy != MEM_NEXT_FIT || h->rover == before)
        return;
    MemEvent *e = mem_ev_add(eb, h, MEM_EV_ROVER);
    if (e && h->rover != NIL) {
        e->block = goff(h->rover);
        e->size = (size_t)mem_hdr(h, h->rover)->size * GRAN;
    } else if (e) {
        e->block = SIZE_MAX;
    }
}

MEM_NO_ASAN void MemHeap_SetObserver(MemHeap *h, MemObserver observer, void *arg)
{
    if (!h)
        return;
    bool locked = mem_lock(h);
    h->observer = observer;
    h->observer_arg = arg;
    mem_run_gate(h);
    mem_unlock(h, locked);
}

/* ---- region and walks ------------------------------------------------------ */

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
    r.flags = h->flags & ~(unsigned)MEM_VIEW_FLAG;
    r.order = (MemOrder)h->order;
    r.coalesce = (MemCoalesce)h->coalesce;
    return r;
}

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
    } else if (h->policy == MEM_BUDDY) {
        for (unsigned k = BUDDY_MIN_ORDER; go && k <= BUDDY_MAX_ORDER; k++) {
            for (uint32_t g = link_first(h, h->buddy_head[k]); go && g != NIL && n < limit;
                 g = link_next(h, g)) {
                describe(h, g, &blk);
                blk.list = k;
                blk.rank = n++;
                go = visit(&blk, arg);
            }
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

/* ---- statistics ------------------------------------------------------------- */

/* The largest free block (the lowest of equals), NIL when there is none.
 * Under MEM_FAST it is in the highest non-empty class, under MEM_BUDDY in the
 * highest non-empty order. */
MEM_NO_ASAN uint32_t mem_largest_free(const MemHeap *h, size_t *bytes)
{
    uint32_t best = NIL, best_size = 0, g = NIL;
    if (h->policy == MEM_BUDDY)
        return mem_buddy_largest(h, bytes);
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

/*
 * heap.c - the operations: allocation (search the policy's free structure,
 * split), free (find the object behind any interior pointer, check the
 * neighbours, coalesce), and the lookups behind Find and Classify.  The
 * block format is in block.h; the free structures are list.c (first, next,
 * best, worst) and seg.c (fast); MEM_FAST serves small requests from runs
 * first (runs.h), whose blocks come from and go back to the block heap
 * here.  This file ties them together and raises the events.  MEM_BUDDY's
 * operations are in buddy.c (they split and merge by powers of two), with
 * what is shared here.
 */
#include "runs.h"
#include "seg.h"

/* ---- guard mode ------------------------------------------------------------- */

MEM_NO_ASAN void mem_guard_fill(unsigned char *from, size_t n)
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
    size_t n = mem_guard_len(b), bad = 0;
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

MEM_NO_ASAN uint32_t mem_need_grans(const MemHeap *h, size_t size)
{
    return need_grans(h, size);
}

MEM_NO_ASAN void mem_alloc_failed(MemHeap *h, size_t size, size_t examined, EventBuf *eb)
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

/* The counters after an allocation (or a resize, as its difference). */
MEM_HOT void count_used(MemHeap *h, size_t block_bytes, size_t live_bytes)
{
    size_t used = h->used_bytes += block_bytes;
    size_t live = h->live_bytes += live_bytes;
    if (live > h->peak_live)
        h->peak_live = live;
    if (used > h->peak_used)
        h->peak_used = used;
}

MEM_NO_ASAN void mem_count_used(MemHeap *h, size_t block_bytes, size_t live_bytes)
{
    count_used(h, block_bytes, live_bytes);
}

/* The counters and the ALLOC event of an allocation of size bytes in block
 * g (block_bytes), cut from a free block of chosen bytes whose rest was
 * split off (rest bytes, 0 when none). */
MEM_HOT void alloc_done(MemHeap *h, EventBuf *eb, size_t size, uint32_t g, size_t block_bytes,
                        size_t chosen, size_t rest, size_t examined)
{
    count_used(h, block_bytes, size);
    h->allocs++;
    if (!eb->on)
        return;
    MemEvent *e = mem_ev_add(eb, h, MEM_EV_ALLOC);
    if (e) {
        e->request = size;
        e->examined = examined;
        e->block = goff(g);
        e->size = chosen;
        e->object = (size_t)(g + 1u) * GRAN;
        e->remainder = rest;
    }
}

MEM_NO_ASAN void mem_alloc_done(MemHeap *h, EventBuf *eb, size_t size, uint32_t g,
                                size_t block_bytes, size_t chosen, size_t rest, size_t examined)
{
    alloc_done(h, eb, size, g, block_bytes, chosen, rest, examined);
}

/* The end of every block allocation: block g (need granules) holds the
 * object of size bytes; the counters; the ALLOC event, whose block is g and
 * whose size is the `total` granules of the free block from g on,
 * `remainder` of them split off its end. */
MEM_HOT void *commit_alloc(MemHeap *h, const MemKeys *k, uint32_t g, uint32_t need,
                           uint32_t prev_used, size_t size, EventBuf *eb, size_t examined,
                           uint32_t total, uint32_t remainder, uint32_t rover_before)
{
    size_t block_bytes = (size_t)need * GRAN;
    uint32_t slack = (uint32_t)(block_bytes - HDR - size);
    MEM_ASSERT(slack < SLACK_WIDE); /* SLACK_MAX marks a run, SLACK_WIDE wide padding */
    hdr_write_k(h, k, g, need, B_USED | prev_used | slack << B_SLACK_SHIFT);
    unsigned char *obj = mem_payload(h, g);
    if (h->flags & MEM_OPT_GUARD)
        mem_guard_fill(obj + size, slack);
    MEM_UNPOISON(obj, size);

    alloc_done(h, eb, size, g, block_bytes, (size_t)total * GRAN, (size_t)remainder * GRAN,
               examined);
    if (eb->on)
        mem_ev_rover(eb, h, rover_before);
    return obj;
}

MEM_NO_ASAN void *mem_alloc_commit(MemHeap *h, const MemKeys *k, uint32_t g, uint32_t need,
                                   uint32_t prev_used, size_t size, EventBuf *eb,
                                   size_t examined, uint32_t total, uint32_t remainder,
                                   uint32_t rover_before)
{
    return commit_alloc(h, k, g, need, prev_used, size, eb, examined, total, remainder,
                        rover_before);
}

/* The block at end follows a free block that is about to become used: its
 * PREV_USED bit will be set and re-tagged, so its header must be valid and
 * say that the block before is free.  (It is used, or, where coalescing is
 * deferred or never done, free too.) */
MEM_HOT bool after_ok(const MemHeap *h, const MemKeys *k, uint32_t end)
{
    if (end >= h->ngran)
        return true;
    const BlockHeader *after = mem_hdr(h, end);
    return hdr_ok_k(h, k, end, after) && !(after->info & B_PREV_USED) &&
           ((after->info & B_USED) || h->coalesce != MEM_COALESCE_NOW);
}

/* Block g may be taken for need granules: a free block (node_ok) at least
 * that large, everything the take writes through is sound (its list
 * neighbours; the head the remainder goes to), and when it is taken whole,
 * the block after it (after_ok). */
MEM_HOT bool take_ok(const MemHeap *h, const MemKeys *k, uint32_t g, uint32_t need,
                     const bool list)
{
    if (!node_ok(h, k, g))
        return false;
    uint32_t total = mem_hdr(h, g)->size;
    if (total < need)
        return false;
    uint32_t rest = total - need;
    if (rest < MIN_GRANS && !after_ok(h, k, g + total))
        return false;
    return list ? mem_list_take_ok(h, k, g) : mem_seg_take_ok(h, k, g, total, rest);
}

MEM_NO_ASAN bool mem_take_ok(const MemHeap *h, const MemKeys *k, uint32_t g, uint32_t need)
{
    return mem_is_list_policy(h) ? take_ok(h, k, g, need, true) : take_ok(h, k, g, need, false);
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
        free_block_write(h, k, r, rest, B_PREV_USED);
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

/* MEM_COALESCE_DEFERRED: no block fits, so the deferred coalesce runs (an
 * event says so), and the search again if it merged anything. */
MEM_NO_ASAN static uint32_t coalesce_and_search(MemHeap *h, const MemKeys *k, size_t size,
                                                uint32_t need, size_t *examined, EventBuf *eb)
{
    size_t before = h->free_blocks;
    size_t merges = mem_list_coalesce_all(h, k);
    h->deferred++;
    MemEvent *e = mem_ev_add(eb, h, MEM_EV_COALESCE_ALL);
    if (e) {
        e->request = size;
        e->examined = before;
        e->count = (unsigned)merges;
        uint32_t big = mem_largest_free(h, &e->size);
        e->block = big != NIL ? goff(big) : SIZE_MAX;
    }
    return merges ? mem_list_search(h, k, need, examined) : NIL;
}

MEM_HOT void *alloc_locked(MemHeap *h, const MemKeys *k, size_t size, EventBuf *eb,
                           const bool list)
{
    uint32_t need = need_grans(h, size);
    uint32_t rover_before = h->rover;
    size_t examined = 0;
    uint32_t g = NIL;
    if (need)
        g = list ? mem_list_search(h, k, need, &examined) : mem_seg_search(h, k, need, &examined);
    if (list && g == NIL && need && h->coalesce == MEM_COALESCE_DEFERRED)
        g = coalesce_and_search(h, k, size, need, &examined, eb);
    if (g == NIL || !take_ok(h, k, g, need, list)) {
        if (!list && need && h->run_spares && mem_run_release_for(h, need, eb))
            return alloc_again(h, k, size, eb); /* it fits now */
        mem_alloc_failed(h, size, examined, eb);
        return NULL;
    }

    BlockHeader *b = mem_hdr(h, g);
    uint32_t total = b->size;
    uint32_t prev_used = b->info & B_PREV_USED;
    uint32_t r, rest;
    need = take_block(h, k, g, total, need, list, &r, &rest);
    return commit_alloc(h, k, g, need, prev_used, size, eb, examined, total,
                        r != NIL ? rest : 0u, rover_before);
}

/* After a spare run went back: the search again (out of line: the failure
 * path of the copy inlined here may come back once per spare). */
MEM_NO_ASAN __attribute__((noinline)) static void *alloc_again(MemHeap *h, const MemKeys *k,
                                                               size_t size, EventBuf *eb)
{
    return alloc_locked(h, k, size, eb, false);
}

/* ---- blocks for runs (runs.c) ------------------------------------------------- */

/* A run is cut from the high end of the free block it takes, which keeps
 * its place (and its class when it can): runs gather at the top of the free
 * space they come from, and the low part stays one free block for the
 * larger requests.
 *   [------ free ------] => [ free (rest) ][run]   */
MEM_NO_ASAN uint32_t mem_block_for_run(MemHeap *h, uint32_t need, size_t *examined,
                                       size_t *remainder)
{
    const MemKeys keys = mem_keys(h), *k = &keys;
    uint32_t g = mem_seg_search(h, k, need, examined);
    if (g == NIL || !take_ok(h, k, g, need, false))
        return NIL;
    BlockHeader *b = mem_hdr(h, g);
    uint32_t total = b->size, prev_used = b->info & B_PREV_USED, rest = total - need;
    if (rest < MIN_GRANS) {
        uint32_t r;
        need = take_block(h, k, g, total, need, false, &r, &rest);
        hdr_write_k(h, k, g, need, B_RUN_MARK | prev_used);
        count_used(h, (size_t)need * GRAN, 0);
        *remainder = 0;
        return g;
    }
    /* the block after the run learns that a used block is before it */
    if (!after_ok(h, k, g + total))
        return NIL;
    uint32_t run = g + rest;
    if (fast_class(rest) != fast_class(total)) {
        fast_remove(h, k, g, total);
        mem_seg_insert(h, k, g, rest);
    } else if (g == h->big) {
        h->big_known = false; /* it shrank */
    }
    hdr_write_k(h, k, g, rest, prev_used);
    footer_write(h, g, rest);
    hdr_write_k(h, k, run, need, B_RUN_MARK); /* the block before it is free */
    bm_set(h, run);
    set_prev_used(h, k, run + need, true);
    count_used(h, (size_t)need * GRAN, 0);
    *remainder = (size_t)rest * GRAN;
    return run;
}

/* MemHeap_Alloc's full path: every case, with the lock and the events. */
MEM_NO_ASAN __attribute__((noinline)) static void *alloc_full(MemHeap *h, size_t size)
{
    if (size == 0 || !mem_heap_ok(h) || (h->flags & MEM_VIEW_FLAG))
        return NULL;
    mem_heap_note(h);
    EventBuf eb;
    const MemKeys keys = mem_keys(h), *k = &keys;
    bool locked = mem_lock(h);
    mem_ev_begin(&eb, h);
    MEM_ASSERT_EXPENSIVE(mem_diagnose_locked(h, NULL, 0) == 0);
    /* two copies, each specialised for its family of policies; under
     * MEM_FAST a small request tries the runs first */
    void *p;
    if (h->policy == MEM_BUDDY)
        p = mem_buddy_alloc(h, k, size, &eb);
    else if (mem_is_list_policy(h))
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
    /* The header is read once the bitmap has named the block: a guess read
     * at q would overlap the two cache misses, but inside a run q is
     * another thread's object, and reading it while that thread writes it
     * is a data race (ThreadSanitizer reports it), even if the value is
     * thrown away. */
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
    size_t slack = (info >> B_SLACK_SHIFT) & SLACK_MAX;
    if (slack == SLACK_WIDE) { /* wide padding: its word says how much */
        if (!wide_ok(bh))
            return MEM_REJECT_CORRUPT;
        slack = mem_slack(bh);
    }
    if (o - start >= (size_t)size * GRAN - HDR - slack)
        return MEM_REJECT_PADDING;
    return MEM_OK;
}

MEM_NO_ASAN MemReject mem_classify(const MemHeap *h, const MemKeys *k, const void *ptr,
                                   uint32_t *g, uint32_t *slot)
{
    return classify(h, k, ptr, g, slot);
}

MEM_NO_ASAN uint32_t mem_take_block(MemHeap *h, const MemKeys *k, uint32_t g, uint32_t total,
                                    uint32_t need, uint32_t *r, uint32_t *rest)
{
    return mem_is_list_policy(h) ? take_block(h, k, g, total, need, true, r, rest)
                                 : take_block(h, k, g, total, need, false, r, rest);
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
    case MEM_REJECT_INTERIOR: return "points inside a live object, not at its first byte";
    case MEM_REJECT_VIEW: return "is not freed: the heap is a read-only view";
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

/* Before used block g (size granules, its object obj_size bytes) goes
 * back: the guard's verdict, the object poisoned, the counters (but the
 * used bytes: merge_block's). */
MEM_HOT void free_begin(MemHeap *h, uint32_t g, size_t obj_size, EventBuf *eb, ptrdiff_t given)
{
    if (h->flags & MEM_OPT_GUARD)
        guard_report(h, g, obj_size, eb, given);
    MEM_POISON(mem_payload(h, g), obj_size);
    h->live_bytes -= obj_size;
    h->frees++;
}

MEM_NO_ASAN void mem_free_begin(MemHeap *h, uint32_t g, uint32_t size, size_t obj_size,
                                EventBuf *eb, ptrdiff_t given)
{
    free_begin(h, g, obj_size, eb, given);
    h->used_bytes -= (size_t)size * GRAN;
}

MEM_NO_ASAN MemEvent *mem_ev_free(EventBuf *eb, const MemHeap *h, uint32_t g, uint32_t size,
                                  size_t obj_size, ptrdiff_t given)
{
    MemEvent *e = mem_ev_add(eb, h, MEM_EV_FREE);
    if (e) {
        e->pointer = given;
        e->object = (size_t)(g + 1u) * GRAN;
        e->request = obj_size;
        e->block = goff(g);
        e->size = (size_t)size * GRAN;
    }
    return e;
}

MEM_NO_ASAN static void free_events(MemHeap *h, EventBuf *eb, uint32_t g, uint32_t size,
                                    size_t obj_size, uint32_t start, uint32_t merged,
                                    unsigned neighbours, uint32_t rover_before, ptrdiff_t given)
{
    MemEvent *e;
    mem_ev_free(eb, h, g, size, obj_size, given);
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
    bool alone;          /* list policies whose coalescing is deferred or
                            never: g goes back unmerged, between prev and next,
                            and neighbours says which are free beside it */
} FreePlan;

/* Which free structure a plan is for: list.c's, seg.h's, or buddy.c's
 * (which checks its buddies itself, as it merges). */
enum { PLAN_LIST, PLAN_SEG, PLAN_BUDDY };

/* Coalescing will trust both neighbours of used block g, and the free
 * structure will be written through their list neighbours: all are checked
 * here.  The right one's header (its tag covers PREV_USED, which must say g
 * is used); on the left, the footer and the free block it leads to, which
 * must start in the bitmap, carry a valid free header of exactly the
 * footer's size, and be linked where it belongs.  An overflow that reached
 * a header, or a forged footer and header inside an object, fails here,
 * and the free is refused instead of merging through them. */
MEM_HOT bool free_plan(const MemHeap *h, const MemKeys *k, uint32_t g, FreePlan *p,
                       const unsigned kind)
{
    const BlockHeader *b = mem_hdr(h, g);
    uint32_t size = b->size;
    p->start = g;
    p->merged = size;
    p->left_size = p->right_size = 0;
    p->neighbours = 0;
    p->alone = false;
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
    if (kind == PLAN_BUDDY)
        return true;
    if (kind == PLAN_LIST && h->coalesce != MEM_COALESCE_NOW) {
        p->alone = true;
        p->start = g;
        p->merged = size;
        return mem_list_add_ok(h, k, g, &p->prev, &p->next);
    }
    if (kind == PLAN_LIST)
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

/* Coalescing deferred or never: the freed block joins the list as it is,
 * between the blocks the plan found, and its free neighbours, if any, stay
 * beside it (the FREE event names them). */
MEM_NO_ASAN static void free_alone(MemHeap *h, const MemKeys *k, uint32_t g, uint32_t size,
                                   const FreePlan *p, size_t obj_size, EventBuf *eb,
                                   uint32_t rover_before, ptrdiff_t given)
{
    uint32_t prev_used = mem_hdr(h, g)->info & B_PREV_USED;
    h->used_bytes -= (size_t)size * GRAN;
    mem_list_add(h, k, g, p->prev, p->next);
    hdr_write_k(h, k, g, size, prev_used);
    footer_write(h, g, size);
    set_prev_used(h, k, p->right, false);
    h->free_blocks++;
    if (h->policy == MEM_NEXT_FIT && h->rover == NIL)
        h->rover = g; /* the heap was full: the search starts here */
    if (eb->on) {
        MemEvent *e = mem_ev_free(eb, h, g, size, obj_size, given);
        if (e)
            e->neighbours = p->neighbours;
        mem_ev_rover(eb, h, rover_before);
    }
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
    free_begin(h, g, obj_size, eb, given);
    if (list && p->alone) {
        free_alone(h, k, g, size, p, obj_size, eb, rover_before, given);
        return;
    }
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
    if (!free_plan(h, k, g, &plan, PLAN_SEG))
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

/* MemHeap_Free's full path: every case, with the lock and the events.
 * exact: ptr must be the object's first byte (MemHeap_FreeExact). */
MEM_NO_ASAN __attribute__((noinline)) static int free_full(MemHeap *h, void *ptr, bool exact)
{
    if (!ptr)
        return MEM_OK;
    if (!mem_heap_ok(h))
        return MEM_REJECT_NULL_HEAP;
    if (h->flags & MEM_VIEW_FLAG)
        return MEM_REJECT_VIEW;
    mem_heap_note(h);
    EventBuf eb;
    FreePlan plan;
    uint32_t g = NIL, slot = NIL;
    const MemKeys keys = mem_keys(h), *k = &keys;
    bool locked = mem_lock(h);
    mem_ev_begin(&eb, h);
    MEM_ASSERT_EXPENSIVE(mem_diagnose_locked(h, NULL, 0) == 0);
    MemReject r = classify(h, k, ptr, &g, &slot);
    ptrdiff_t given = (ptrdiff_t)((uintptr_t)ptr - (uintptr_t)h->base);
    if (exact && r == MEM_OK) {
        unsigned char *start = mem_payload(h, g);
        if (slot != NIL) {
            const RunTable *t = run_table(h, g);
            start = h->base + run_slot_off(g, &h->runs[t->cls], slot);
        }
        if ((unsigned char *)ptr != start)
            r = MEM_REJECT_INTERIOR;
    }
    unsigned kind = h->policy == MEM_BUDDY ? PLAN_BUDDY : mem_is_list_policy(h) ? PLAN_LIST : PLAN_SEG;
    if (r == MEM_OK && slot != NIL) {
        if (!run_free_ok(h, g))
            r = MEM_REJECT_CORRUPT;
    } else if (r == MEM_OK &&
               !(kind == PLAN_LIST   ? free_plan(h, k, g, &plan, PLAN_LIST)
                 : kind == PLAN_SEG  ? free_plan(h, k, g, &plan, PLAN_SEG)
                                     : free_plan(h, k, g, &plan, PLAN_BUDDY) && mem_buddy_ok(h, g))) {
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
    } else if (kind == PLAN_BUDDY) {
        mem_buddy_free(h, k, g, &eb, given);
    } else if (kind == PLAN_LIST) {
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
 * first; whatever it declines goes the full way.  With threads, both under
 * one hold of the lock (the full path takes it again: it is re-entrant), so
 * that the common case is short while others wait.  That case is out of
 * line, so that the one-thread path saves no registers for it.  Both entry
 * points check the heap's seal before anything else, the fast paths too: a
 * released or damaged control structure is never used (the fast paths
 * compare it with this thread's copy, mem_heap_hot). */
MEM_NO_ASAN __attribute__((noinline)) static void *alloc_threads(MemHeap *h, size_t size)
{
    mem_lock_slow(h);
    void *p = run_alloc_fast(h, size);
    if (!p)
        p = alloc_full(h, size);
    mem_unlock_slow(h);
    return p;
}

MEM_NO_ASAN void *MemHeap_Alloc(MemHeap *h, size_t size)
{
    if (size - 1u < RUN_MAX_SIZE && h && mem_heap_hot(h)) {
        unsigned mode = run_mode(h);
        if (mode == RUN_FAST_BARE) {
            void *p = run_alloc_fast(h, size);
            if (p)
                return p;
        } else if (mode == RUN_FAST_LOCKED) {
            return alloc_threads(h, size);
        }
    }
    return alloc_full(h, size);
}

/* The fast path left the free to run_free_edge (the run empties or was
 * full); the full path if that declines too. */
MEM_NO_ASAN __attribute__((noinline)) static int free_edge(MemHeap *h, void *ptr, bool exact)
{
    return run_free_edge(h, ptr, exact) ? MEM_OK : free_full(h, ptr, exact);
}

MEM_NO_ASAN __attribute__((noinline)) static int free_threads(MemHeap *h, void *ptr,
                                                              bool exact)
{
    mem_lock_slow(h);
    unsigned f = run_free_fast(h, ptr, exact);
    int r = f == RUN_FREE_DONE ? MEM_OK
            : f == RUN_FREE_EDGE ? free_edge(h, ptr, exact)
                                 : free_full(h, ptr, exact);
    mem_unlock_slow(h);
    return r;
}

MEM_HOT int free_entry(MemHeap *h, void *ptr, const bool exact)
{
    if (ptr && h && mem_heap_hot(h)) {
        unsigned mode = run_mode(h);
        if (mode == RUN_FAST_BARE) {
            unsigned f = run_free_fast(h, ptr, exact);
            if (f == RUN_FREE_DONE)
                return MEM_OK;
            if (f == RUN_FREE_EDGE)
                return free_edge(h, ptr, exact);
        } else if (mode == RUN_FAST_LOCKED) {
            return free_threads(h, ptr, exact);
        }
    }
    return free_full(h, ptr, exact);
}

MEM_NO_ASAN int MemHeap_Free(MemHeap *h, void *ptr)
{
    return free_entry(h, ptr, false);
}

MEM_NO_ASAN int MemHeap_FreeExact(MemHeap *h, void *ptr)
{
    return free_entry(h, ptr, true);
}

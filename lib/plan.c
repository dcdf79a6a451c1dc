/*
 * plan.c - MemHeap_PlanAlloc: what an allocation would do, found without
 * doing it, for heapviz's search animation (the free blocks the policy
 * examines, in its order, the one it takes, the split).
 *
 * The searches are those of list.c, seg.h, buddy.c and runs.c, walked again
 * here read-only and step by step: those files' versions write as they go
 * (the rover, the lists) and are the allocator's hot path, so they are not
 * given a recorder.  test_plan.c holds the two to the same answers: for every
 * policy and knob, on random heaps, the plan's choice is what MemHeap_Alloc
 * then does.  List links are read through block.h's accessors (link_first,
 * link_next) only, and every walk is bounded by the number of free blocks.
 *
 * A deferred coalesce (MEM_COALESCE_DEFERRED) is not run: its result is
 * read off the heap as it is.  It merges each stretch of free neighbours
 * into the stretch's first block, which keeps its place in the list, so the
 * list after it is this list without the blocks whose left neighbour is
 * free (their header's PREV_USED bit is clear), each remaining block grown
 * by the free blocks after it:
 *
 *   list  A -> C -> B -> D      [A][B][used][C][D]
 *   after A(+B) -> C(+D)        [--A--][used][--C--]
 */
#include "runs.h"
#include "seg.h"

typedef struct Planner {
    const MemHeap *h;
    MemPlanStep *steps;
    size_t max;
    MemPlan *out;
    size_t seen;      /* steps examined in all (some may not be written) */
    bool merged;      /* the search after a deferred coalesce */
    size_t budget;    /* link follows left: a damaged list cannot loop */
    MemKeys keys;     /* the heap's, unmasked once (links are stored masked) */
} Planner;

/* Records free block g (size granules) as examined. */
MEM_NO_ASAN static void note(Planner *p, uint32_t g, uint32_t size, unsigned list,
                             uint32_t need)
{
    if (p->seen < p->max)
        p->steps[p->seen] = (MemPlanStep){goff(g), (size_t)size * GRAN, list, size >= need};
    p->seen++;
    p->out->examined++;
}

/* ---- the list after a deferred coalesce ------------------------------------ */

/* Free block g would be merged into the free block before it. */
MEM_NO_ASAN static bool absorbed(const MemHeap *h, uint32_t g)
{
    return g > 0 && !(mem_hdr(h, g)->info & B_PREV_USED);
}

/* g's granules once merged with the sound free blocks after it. */
MEM_NO_ASAN static uint32_t merged_size(const MemHeap *h, uint32_t g)
{
    uint32_t end = g + mem_hdr(h, g)->size;
    while (end < h->ngran && free_block_ok(h, end))
        end += mem_hdr(h, end)->size;
    return end - g;
}

/* The stretch's first block for free block g: where the coalesce leaves
 * the rover that was on g.  A footer that does not lead to a sound free
 * block ends the walk (the coalesce would stop there too). */
MEM_NO_ASAN static uint32_t stretch_start(const MemHeap *h, uint32_t g)
{
    for (uint32_t n = 0; absorbed(h, g) && n < h->ngran; n++) {
        uint32_t ls = *mem_footer_before(h, g);
        if (ls < MIN_GRANS || ls > g || !free_block_ok(h, g - ls))
            break;
        g -= ls;
    }
    return g;
}

/* A list link, and (merged) past the blocks the coalesce removes. */
MEM_NO_ASAN static uint32_t skip(Planner *p, uint32_t g)
{
    while (g != NIL && p->merged && absorbed(p->h, g) && p->budget) {
        p->budget--;
        g = link_next(p->h, &p->keys, g);
    }
    return p->budget ? g : NIL;
}
MEM_NO_ASAN static uint32_t first(Planner *p, uint32_t head)
{
    return skip(p, link_first(p->h, head));
}
MEM_NO_ASAN static uint32_t next(Planner *p, uint32_t g)
{
    if (!p->budget)
        return NIL;
    p->budget--;
    return skip(p, link_next(p->h, &p->keys, g));
}
MEM_NO_ASAN static uint32_t size_of(const Planner *p, uint32_t g)
{
    return p->merged ? merged_size(p->h, g) : mem_hdr(p->h, g)->size;
}

/* ---- the searches, as list.c, seg.h and buddy.c make them ------------------- */

/* mem_list_search, over the list as it is or as the coalesce leaves it
 * (limit: the free blocks then). */
MEM_NO_ASAN static uint32_t list_search(Planner *p, uint32_t need, size_t limit)
{
    const MemHeap *h = p->h;
    uint32_t g, best = NIL, best_size = 0;
    size_t n;
    p->budget = 2u * h->free_blocks + 2u;
    switch ((MemPolicy)h->policy) {
    case MEM_FIRST_FIT:
        for (g = first(p, h->head), n = 0; g != NIL && n < limit; g = next(p, g), n++) {
            uint32_t s = size_of(p, g);
            note(p, g, s, 0, need);
            if (s >= need)
                return g;
        }
        return NIL;
    case MEM_NEXT_FIT: {
        /* the coalesce leaves the rover on its stretch's first block, and
         * takes absorbed blocks off the list (the head among them) */
        uint32_t start;
        if (h->rover == NIL)
            start = first(p, h->head);
        else if ((start = link_first(h, h->rover)) != NIL && p->merged)
            start = stretch_start(h, start);
        if (start == NIL)
            return NIL;
        g = start;
        n = 0;
        do {
            uint32_t s = size_of(p, g);
            note(p, g, s, 0, need);
            if (s >= need)
                return g;
            g = next(p, g);
            if (g == NIL && p->budget)
                g = first(p, h->head);
        } while (g != start && g != NIL && ++n < limit);
        return NIL;
    }
    case MEM_BEST_FIT:
    case MEM_WORST_FIT: {
        bool best_fit = h->policy == MEM_BEST_FIT;
        for (g = first(p, h->head), n = 0; g != NIL && n < limit; g = next(p, g), n++) {
            uint32_t s = size_of(p, g);
            note(p, g, s, 0, need);
            if (s >= need && (best == NIL || (best_fit ? s < best_size : s > best_size))) {
                best = g;
                best_size = s;
                if (best_fit && s == need)
                    break; /* nothing can fit better, nor lower */
            }
        }
        return best;
    }
    case MEM_FAST:
    case MEM_BUDDY:
    case MEM_POLICY_COUNT:
        break;
    }
    return NIL;
}

/* mem_seg_search: the head of the smallest class certain to fit, else a
 * bounded scan of need's own class.  A head out of range is damage. */
MEM_NO_ASAN static uint32_t seg_search(Planner *p, uint32_t need, bool *damaged)
{
    const MemHeap *h = p->h;
    uint64_t rounded = seg_round_up(need);
    if (rounded <= UINT32_MAX) {
        unsigned c = fast_class((uint32_t)rounded);
        unsigned fl = c / SL_COUNT;
        uint32_t slm = fl < FL_COUNT ? h->sl_map[fl] & (~0u << (c % SL_COUNT)) : 0u;
        if (!slm) {
            uint32_t flm = h->fl_map & (~0u << fl << 1);
            if (flm) {
                fl = lsb32(flm);
                slm = fl < FL_COUNT ? h->sl_map[fl] : 0u;
            }
        }
        if (slm) {
            uint32_t g = h->fast_head[fl][lsb32(slm)];
            if (g >= h->ngran) {
                *damaged = true;
                return NIL;
            }
            note(p, g, mem_hdr(h, g)->size, fast_class(mem_hdr(h, g)->size), need);
            return g;
        }
    }
    uint32_t g = link_first(h, (&h->fast_head[0][0])[fast_class(need)]);
    for (unsigned n = 0; g != NIL && n < FAST_FALLBACK_SCAN; n++) {
        uint32_t s = mem_hdr(h, g)->size;
        note(p, g, s, fast_class(s), need);
        if (s >= need)
            return g;
        g = link_next(h, &p->keys, g);
    }
    return NIL;
}

/* The chosen free block g (total granules) holds need granules: the split
 * of take_block (the rest stays free at its end) or the whole block. */
MEM_NO_ASAN static void take(MemPlan *o, uint32_t g, uint32_t total, uint32_t need)
{
    o->kind = MEM_PLAN_BLOCK;
    o->chosen = goff(g);
    o->chosen_size = (size_t)total * GRAN;
    o->block = goff(g);
    o->object = (size_t)(g + 1u) * GRAN;
    if (total - need >= MIN_GRANS) {
        o->block_size = (size_t)need * GRAN;
        o->remainder = (size_t)(total - need) * GRAN;
        o->remainder_offset = goff(g + need);
    } else {
        o->block_size = o->chosen_size;
    }
}

/* first, next, best and worst fit, and MEM_FAST's block heap. */
MEM_NO_ASAN static void plan_block(Planner *p, size_t size)
{
    const MemHeap *h = p->h;
    MemPlan *o = p->out;
    bool list = mem_is_list_policy(h), damaged = false;
    uint32_t need = mem_need_grans(h, size), g = NIL;
    o->need = (size_t)need * GRAN;
    if (need)
        g = list ? list_search(p, need, h->free_blocks) : seg_search(p, need, &damaged);
    if (list && g == NIL && need && h->coalesce == MEM_COALESCE_DEFERRED) {
        /* the deferred coalesce, as it would leave the list */
        size_t merges = 0;
        p->budget = 2u * h->free_blocks + 2u;
        for (uint32_t f = link_first(h, h->head); f != NIL && p->budget;
             f = link_next(h, &p->keys, f), p->budget--)
            merges += absorbed(h, f);
        o->coalesce = true;
        o->first_search = p->seen < p->max ? p->seen : p->max;
        if (merges) {
            p->merged = true;
            g = list_search(p, need, h->free_blocks - merges);
        }
    }
    if (damaged || (g != NIL && !free_block_ok(h, g))) {
        o->kind = MEM_PLAN_DAMAGED;
        return;
    }
    if (g == NIL) {
        o->kind = !list && need && h->run_spares ? MEM_PLAN_RELEASE : MEM_PLAN_FAIL;
        return;
    }
    take(o, g, p->merged ? merged_size(h, g) : mem_hdr(h, g)->size, need);
}

/* mem_buddy_alloc: the smallest non-empty order that fits; its head is
 * halved down to the request's order. */
MEM_NO_ASAN static void plan_buddy(Planner *p, size_t size)
{
    const MemHeap *h = p->h;
    MemPlan *o = p->out;
    const uint32_t orders = ((1u << (BUDDY_MAX_ORDER + 1u)) - 1u) & ~((1u << BUDDY_MIN_ORDER) - 1u);
    uint32_t need = mem_need_grans(h, size);
    unsigned k = !need ? BUDDY_MAX_ORDER + 1u
                 : need <= (1u << BUDDY_MIN_ORDER) ? BUDDY_MIN_ORDER : msb32(need - 1u) + 1u;
    uint32_t avail = k <= BUDDY_MAX_ORDER ? h->buddy_map & orders & (~0u << k) : 0u;
    if (k <= BUDDY_MAX_ORDER)
        o->need = ((size_t)1 << k) * GRAN;
    if (!avail) {
        o->kind = MEM_PLAN_FAIL;
        return;
    }
    unsigned top = lsb32(avail);
    uint32_t g = link_first(h, h->buddy_head[top]);
    if (g != NIL)
        note(p, g, mem_hdr(h, g)->size, top, 1u << k);
    if (g == NIL || !free_block_ok(h, g) || mem_hdr(h, g)->size != 1u << top) {
        o->kind = MEM_PLAN_DAMAGED;
        return;
    }
    o->kind = MEM_PLAN_BLOCK;
    o->chosen = o->block = goff(g);
    o->chosen_size = ((size_t)1 << top) * GRAN;
    o->block_size = o->need;
    o->splits = top - k;
    o->remainder = o->chosen_size - o->block_size;
    if (o->remainder)
        o->remainder_offset = goff(g + (1u << k)); /* the smallest half, next to it */
    o->object = (size_t)(g + 1u) * GRAN;
}

/* MEM_FAST's runs for a small request: the first run with a free slot,
 * else the spare, else a new run from the block heap.  False when runs do
 * not serve it (the block heap does). */
MEM_NO_ASAN static bool plan_run(Planner *p, size_t size)
{
    const MemHeap *h = p->h;
    MemPlan *o = p->out;
    unsigned c = mem_run_class_of[(size - 1u) / GRAN];
    const RunClass *k = &h->runs[c];
    uint32_t g = k->partial;
    if (g == NIL && !k->nslots)
        return false;
    o->need = k->size;
    uint32_t slot;
    unsigned w;
    uint64_t live;
    if (g != NIL || k->spare != NIL) {
        bool spare = g == NIL;
        if (spare)
            g = k->spare;
        if (g >= h->ngran || !((*mem_bm_word(h, 0, g >> 6) >> (g & 63u)) & 1u) ||
            !run_sound(h, g, run_table(h, g), c) || (spare && run_table(h, g)->nlive) ||
            (slot = run_free_slot(run_table(h, g), k, &w, &live)) == UINT32_MAX) {
            o->kind = MEM_PLAN_DAMAGED;
            return true;
        }
        o->kind = spare ? MEM_PLAN_SPARE_RUN : MEM_PLAN_SLOT;
        o->examined = 1;
    } else {
        /* a new run: mem_block_for_run cuts it from the top of the block
         * the search finds (whole when the rest could not be a block) */
        bool damaged = false;
        uint32_t f = seg_search(p, k->grans, &damaged);
        if (damaged || (f != NIL && !free_block_ok(h, f))) {
            o->kind = MEM_PLAN_DAMAGED;
            return true;
        }
        if (f == NIL) {
            /* no run can be made: the block heap's search follows */
            o->first_search = p->seen < p->max ? p->seen : p->max;
            o->examined = 0;
            return false;
        }
        uint32_t total = mem_hdr(h, f)->size, rest = total - k->grans;
        o->kind = MEM_PLAN_NEW_RUN;
        o->chosen = goff(f);
        o->chosen_size = (size_t)total * GRAN;
        g = rest < MIN_GRANS ? f : f + rest;
        o->block_size = (size_t)(rest < MIN_GRANS ? total : k->grans) * GRAN;
        if (rest >= MIN_GRANS) {
            o->remainder = (size_t)rest * GRAN;
            o->remainder_offset = goff(f);
        }
        slot = 0; /* an empty run's first */
    }
    o->block = o->run = goff(g);
    o->slot = slot;
    if (o->kind != MEM_PLAN_NEW_RUN)
        o->block_size = (size_t)mem_hdr(h, g)->size * GRAN;
    o->object = run_slot_off(g, k, slot);
    return true;
}

MEM_NO_ASAN int MemHeap_PlanAlloc(const MemHeap *h, size_t size, MemPlanStep *steps,
                                  size_t max_steps, MemPlan *out)
{
    if (!out || !mem_heap_ok(h) || size == 0 || (!steps && max_steps))
        return -1;
    *out = (MemPlan){.kind = MEM_PLAN_FAIL, .chosen = SIZE_MAX, .object = SIZE_MAX,
                     .run = SIZE_MAX, .slot = SIZE_MAX};
    Planner p = {h, steps, max_steps, out, 0, false, 0, mem_keys(h)};
    bool locked = mem_lock(h);
    if (h->policy == MEM_BUDDY)
        plan_buddy(&p, size);
    else if (mem_is_list_policy(h) || size > RUN_MAX_SIZE || !plan_run(&p, size))
        plan_block(&p, size);
    mem_unlock(h, locked);
    out->nsteps = p.seen < max_steps ? p.seen : max_steps;
    return out->kind == MEM_PLAN_DAMAGED ? -1 : 0;
}

/*
 * runs.c - the cold parts of MEM_FAST's runs (runs.h): the size classes,
 * the size of a run in a given heap, making a run, keeping or releasing a
 * run that empties, and what the walks and statistics say about runs.
 */
#include "runs.h"

#include <string.h>

/* ---- size classes -------------------------------------------------------
 * 16 bytes apart up to 128 (60-90 % of the requests of the traces in
 * bench/traces are at most 128 bytes, most of them at most 64), then four
 * per doubling, as jemalloc spaces them, up to RUN_MAX_SIZE: a request
 * wastes at most 15 bytes below 128 and under a fifth of its size above.
 * Runs stop at 512 bytes: measured on bench/traces (utilisation of the
 * smallest heap each trace runs in), serving 513..1024 from runs as well
 * (four more classes) cost 0.3 points of mean utilisation and 0.3 on the
 * worst trace (python-start, where a third of the requests are 600-1000
 * bytes: a 1024-byte slot wastes up to 127 of them, a block 23), which is
 * the margin of the targets; the block heap serves them instead, at its
 * speed.  bench/ANALYSIS.md has the figures. */
const uint16_t mem_run_class_size[RUN_CLASSES] = {
    16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512};

const uint8_t mem_run_class_of[RUN_MAX_SIZE / GRAN] = {
    0,  1,  2,  3,  4,  5,  6,  7,  8,  8,  9,  9,  10, 10, 11, 11,
    12, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15, 15, 15};

_Static_assert(RUN_CLASSES == sizeof mem_run_class_size / sizeof mem_run_class_size[0],
               "one size per class");

/* ---- the size of a run ----------------------------------------------------
 * A run aims at RUN_BYTES of slots (and at least RUN_SLOTS_WANT slots), so
 * that its table, header and tail cost a few percent: the 16-byte class
 * gets 256 slots in 4,416 bytes, 17.25 bytes a slot with everything.  No
 * run is longer than RUN_GRANS_MAX (5 KiB: the fast lookup's reach).  A run
 * takes at most 1/RUN_HEAP_SHARE of the arena, so that the space stranded
 * in partly used runs (and in the spares) stays small beside the heap: a
 * 1 MiB heap gets runs of 4 KiB, a 150 KiB heap runs of 600 bytes.  1/64
 * and 1/128 cost 2 to 6 points of mean utilisation on bench/traces, and
 * 1/512 would take the 1 MiB heap's runs below 2 KiB and its 16-byte
 * objects below 60,000.  A class that cannot have RUN_SLOTS_MIN slots is
 * not served by runs in that heap (a heap below 28 KiB has none). */
#define RUN_BYTES 4096u
#define RUN_SLOTS_WANT 8u
#define RUN_SLOTS_MIN 4u
#define RUN_HEAP_SHARE 256u

/* Granules of the table of a run of n slots: RunTable (with word 0's
 * hash), bitmap, the other words' hashes, sizes (half a byte a slot when
 * nibbles). */
static uint32_t table_grans(uint32_t n, unsigned nibbles)
{
    size_t words = (n + 63u) / 64u;
    size_t bytes = sizeof(RunTable) + 12u * words - 4u + (nibbles ? (n + 1u) / 2u : n);
    return (uint32_t)((bytes + GRAN - 1u) / GRAN);
}

MEM_NO_ASAN void mem_runs_init(MemHeap *h)
{
    bool on = h->policy == MEM_FAST && !(h->flags & (MEM_OPT_GUARD | MEM_OPT_NORUNS));
    uint32_t cap = h->ngran / RUN_HEAP_SHARE;
    if (cap > RUN_GRANS_MAX)
        cap = RUN_GRANS_MAX;
    h->run_spares = 0;
    h->run_bytes = 0;
    for (unsigned c = 0; c < RUN_CLASSES; c++) {
        RunClass *k = &h->runs[c];
        memset(k, 0, sizeof *k);
        k->partial = k->spare = NIL;
        k->head_hdr = 0;
        uint32_t size = mem_run_class_size[c], sg = size / GRAN;
        k->size = (uint16_t)size;
        k->recip = (uint32_t)((((uint64_t)1 << RUN_RECIP_SHIFT) + sg - 1u) / sg);
        if (!on)
            continue;
        unsigned nib = c == 0 || size - mem_run_class_size[c - 1u] <= 16u;
        uint32_t n = RUN_BYTES / size;
        if (n < RUN_SLOTS_WANT)
            n = RUN_SLOTS_WANT;
        for (; n >= RUN_SLOTS_MIN; n--)
            if (1u + table_grans(n, nib) + n * sg <= cap)
                break;
        if (n < RUN_SLOTS_MIN)
            continue;
        MEM_ASSERT((n + 63u) / 64u <= RUN_WORDS_MAX);
        k->nslots = (uint16_t)n;
        k->words = (uint8_t)((n + 63u) / 64u);
        k->sizes_at = (uint16_t)(sizeof(RunTable) + 12u * k->words - 4u);
        k->nibbles = (uint8_t)nib;
        k->slots_at = (uint16_t)(table_grans(n, nib) * GRAN);
        k->slot_bytes = n * size;
        k->grans = 1u + table_grans(n, nib) + n * sg;
    }
    mem_run_gate(h);
}

MEM_NO_ASAN void mem_run_gate(MemHeap *h)
{
    bool on = h->policy == MEM_FAST && !(h->flags & (MEM_OPT_GUARD | MEM_OPT_NORUNS)) &&
              !h->observer;
    h->run_gate = (uint8_t)((on ? 0u : RUN_GATE_OFF) |
                            (h->flags & MEM_OPT_NOLOCK ? 0u : RUN_GATE_LOCK));
}

MEM_NO_ASAN size_t MemHeap_SlotSize(const MemHeap *h, size_t size)
{
    if (!mem_heap_ok(h) || size - 1u >= RUN_MAX_SIZE)
        return 0;
    const RunClass *k = &h->runs[mem_run_class_of[(size - 1u) / GRAN]];
    return k->nslots ? k->size : 0u;
}

/* ---- events ------------------------------------------------------------------ */

MEM_NO_ASAN void mem_run_alloc_event(MemHeap *h, EventBuf *eb, uint32_t g, uint32_t i,
                                     size_t size)
{
    const RunClass *k = &h->runs[run_table(h, g)->cls];
    MemEvent *e = mem_ev_add(eb, h, MEM_EV_ALLOC);
    if (e) {
        e->request = size;
        e->examined = 1;
        e->block = e->object = run_slot_off(g, k, i);
        e->size = k->size;
        e->run = goff(g);
        e->slot = i;
    }
}

MEM_NO_ASAN void mem_run_free_event(MemHeap *h, EventBuf *eb, uint32_t g, uint32_t i,
                                    size_t object, ptrdiff_t given)
{
    const RunClass *k = &h->runs[run_table(h, g)->cls];
    MemEvent *e = mem_ev_add(eb, h, MEM_EV_FREE);
    if (e) {
        e->pointer = given;
        e->request = object;
        e->block = e->object = run_slot_off(g, k, i);
        e->size = k->size;
        e->run = goff(g);
        e->slot = i;
    }
}

/* The free fast path's other copy (runs.h). */
MEM_NO_ASAN bool run_free_edge(MemHeap *h, const void *ptr, bool exact)
{
    return (exact ? run_free_fast_in(h, ptr, true, true) : run_free_fast_in(h, ptr, false, true)) ==
           RUN_FREE_DONE;
}

/* ---- making, keeping and releasing runs --------------------------------------- */

/* A new empty run of class c, or NIL when the block heap has no room. */
MEM_NO_ASAN static uint32_t run_make(MemHeap *h, unsigned c, EventBuf *eb)
{
    RunClass *k = &h->runs[c];
    size_t examined = 0, remainder = 0;
    uint32_t g = mem_block_for_run(h, k->grans, &examined, &remainder);
    if (g == NIL)
        return NIL;
    RunTable *t = run_table(h, g);
    t->next = t->prev = NIL;
    t->nlive = 0;
    t->hint = 0;
    t->cls = (uint8_t)c;
    for (unsigned w = 0; w < k->words; w++) /* the bits past the last slot: set */
        run_word_put(h, g, t, k, w,
                     w + 1u == k->words && k->nslots % 64u ? ~(uint64_t)0 << (k->nslots % 64u)
                                                            : 0u);
    /* the sizes are written as slots are taken: a free slot's is never read */
    size_t bytes = (size_t)mem_hdr(h, g)->size * GRAN;
    k->nruns++;
    h->run_bytes += bytes;
    MemEvent *e = mem_ev_add(eb, h, MEM_EV_RUN_NEW);
    if (e) {
        e->block = e->run = goff(g);
        e->size = bytes;
        e->request = k->size;
        e->examined = examined;
        e->remainder = remainder;
    }
    return g;
}

/* A run's link, if it leads to a sound run of the same class; else NIL
 * (a damaged list ends there rather than leading astray). */
MEM_NO_ASAN uint32_t mem_run_link(const MemHeap *h, uint32_t l, unsigned c)
{
    if (l >= h->ngran || !((*mem_bm_word(h, 0, l >> 6) >> (l & 63u)) & 1u) ||
        !run_sound(h, l, run_table(h, l), c))
        return NIL;
    return l;
}

MEM_NO_ASAN static void run_push(MemHeap *h, RunClass *k, uint32_t g)
{
    RunTable *t = run_table(h, g);
    uint32_t head = mem_run_link(h, k->partial, t->cls); /* a damaged head: a new list */
    t->prev = NIL;
    t->next = head;
    if (head != NIL)
        run_table(h, head)->prev = g;
    run_set_head(k, g);
}

MEM_NO_ASAN void *mem_run_alloc_slow(MemHeap *h, unsigned c, size_t size, EventBuf *eb)
{
    RunClass *k = &h->runs[c];
    if (!k->nslots)
        return NULL;
    uint32_t g = k->spare;
    if (g != NIL) {
        if (mem_run_link(h, g, c) == NIL || run_table(h, g)->nlive ||
            !run_empty_ok(h, g, run_table(h, g), k))
            return NULL; /* a damaged spare: leave it to MemHeap_Check */
        k->spare = NIL;
        h->run_spares--;
    } else if ((g = run_make(h, c, eb)) == NIL) {
        return NULL;
    }
    run_push(h, k, g);
    return run_take(h, g, run_table(h, g), k, size, eb);
}

MEM_NO_ASAN static void run_release(MemHeap *h, RunClass *k, uint32_t g, EventBuf *eb)
{
    size_t bytes = (size_t)mem_hdr(h, g)->size * GRAN;
    if (!mem_block_release_run(h, g, eb)) {
        run_push(h, k, g); /* its neighbours are damaged: keep it, listed */
        return;
    }
    k->nruns--;
    h->run_bytes -= bytes;
}

/* Takes run g of class k off its list (its links checked first: a next or
 * prev that is no run of the class linking back ends the list there). */
MEM_NO_ASAN static void run_unlink(MemHeap *h, RunClass *k, uint32_t g)
{
    RunTable *t = run_table(h, g);
    unsigned c = t->cls;
    uint32_t next = mem_run_link(h, t->next, c), prev = mem_run_link(h, t->prev, c);
    if (next != NIL && run_table(h, next)->prev != g)
        next = NIL; /* a damaged list: it ends here */
    if (prev != NIL && run_table(h, prev)->next != g)
        prev = NIL;
    if (next != NIL)
        run_table(h, next)->prev = prev;
    if (prev != NIL)
        run_table(h, prev)->next = next;
    else if (k->partial == g)
        run_set_head(k, next);
    t->next = t->prev = NIL;
}

/* Run g of class k has just lost its last object, as its count says;
 * listed: it is on the list of runs with a free slot (it was not full).
 * A run whose bitmap does not agree (a damaged count or bitmap) stays as it
 * is: no run is kept as a spare or given back while it may hold an object. */
MEM_NO_ASAN void mem_run_emptied(MemHeap *h, uint32_t g, RunClass *k, bool listed, EventBuf *eb)
{
    RunTable *t = run_table(h, g);
    if (!run_empty_ok(h, g, t, k))
        return;
    if (listed)
        run_unlink(h, k, g);
    t->next = t->prev = NIL;
    t->hint = 0;
    if (k->spare == NIL) {
        k->spare = g;
        h->run_spares++;
        return;
    }
    run_release(h, k, g, eb);
}

/* Block g is a sound spare run (the empty run its class keeps). */
MEM_NO_ASAN static bool is_spare(const MemHeap *h, uint32_t g)
{
    const BlockHeader *b = mem_hdr(h, g);
    if (!hdr_ok(h, g, b) || !hdr_is_run(b->info))
        return false;
    unsigned c = run_table(h, g)->cls;
    return c < RUN_CLASSES && h->runs[c].spare == g && mem_run_link(h, g, c) != NIL &&
           !run_table(h, g)->nlive && run_empty_ok(h, g, run_table(h, g), &h->runs[c]);
}

/* The stretch of free blocks and spare runs around spare g: [*from, *to). */
MEM_NO_ASAN static void spare_stretch(const MemHeap *h, uint32_t g, uint32_t *from, uint32_t *to)
{
    uint32_t lo = g, hi = g + mem_hdr(h, g)->size;
    for (unsigned n = 0; lo > 0 && n < 2u * RUN_CLASSES + 2u; n++) {
        if (!(mem_hdr(h, lo)->info & B_PREV_USED)) {
            uint32_t ls = *mem_footer_before(h, lo);
            if (ls < MIN_GRANS || ls > lo || !free_block_ok(h, lo - ls))
                break;
            lo -= ls;
            continue;
        }
        uint32_t l = bm_find_prev(h, lo - 1u);
        if (l == NIL || !is_spare(h, l) || l + mem_hdr(h, l)->size != lo)
            break;
        lo = l;
    }
    for (unsigned n = 0; hi < h->ngran && n < 2u * RUN_CLASSES + 2u; n++) {
        const BlockHeader *b = mem_hdr(h, hi);
        if (!hdr_ok(h, hi, b) || ((b->info & B_USED) && !is_spare(h, hi)))
            break;
        hi += b->size;
    }
    *from = lo;
    *to = hi;
}

/* When the block heap cannot serve need granules: if a stretch of free
 * blocks and spare runs (the empty runs the classes keep) is at least that
 * long, its spares go back and coalesce into one free block, which the
 * block heap's search finds; true.  Otherwise nothing changes (false): an
 * allocation that fails leaves the heap as it was.  True only when a spare
 * did go back (a spare that cannot, its neighbours damaged, stays): the
 * caller searches again, which ends, since every true has one spare less. */
MEM_NO_ASAN bool mem_run_release_for(MemHeap *h, uint32_t need, EventBuf *eb)
{
    for (unsigned c = 0; c < RUN_CLASSES; c++) {
        uint32_t g = h->runs[c].spare, from, to;
        if (g == NIL || !is_spare(h, g))
            continue;
        spare_stretch(h, g, &from, &to);
        if (to - from < need)
            continue;
        bool released = false;
        for (unsigned d = 0; d < RUN_CLASSES; d++) {
            RunClass *k = &h->runs[d];
            uint32_t s = k->spare;
            if (s == NIL || s < from || s >= to || !is_spare(h, s))
                continue;
            size_t bytes = (size_t)mem_hdr(h, s)->size * GRAN;
            /* a spare the free fast path made is still listed */
            bool listed = k->partial == s || run_table(h, s)->prev != NIL;
            if (listed)
                run_unlink(h, k, s);
            if (!mem_block_release_run(h, s, eb)) {
                if (listed)
                    run_push(h, k, s);
                continue;
            }
            k->spare = NIL;
            h->run_spares--;
            k->nruns--;
            h->run_bytes -= bytes;
            released = true;
        }
        if (released)
            return true;
    }
    return false;
}

MEM_NO_ASAN bool mem_run_resize(MemHeap *h, uint32_t g, uint32_t slot, size_t size)
{
    RunTable *t = run_table(h, g);
    if (t->cls >= RUN_CLASSES || size == 0 || size > RUN_MAX_SIZE)
        return false;
    RunClass *k = &h->runs[t->cls];
    if (slot >= k->nslots || mem_run_class_of[(size - 1u) / GRAN] != t->cls ||
        !((run_bits(t)[slot >> 6] >> (slot & 63u)) & 1u))
        return false;
    size_t old = k->size - run_slack(t, k, slot);
    unsigned char *obj = run_slot(t, k, slot);
    if (size > old)
        MEM_UNPOISON(obj + old, size - old);
    else
        MEM_POISON(obj + size, old - size);
    run_slack_put(t, k, slot, (unsigned)(k->size - size));
    h->live_bytes = h->live_bytes - old + size;
    if (h->live_bytes > h->peak_live)
        h->peak_live = h->live_bytes;
    return true;
}

/* ---- walks and statistics ---------------------------------------------------- */

/* Run g (its header checked by the caller) as the walk reports it; a run
 * whose table does not match its header is reported with no slots. */
MEM_NO_ASAN void mem_run_describe(const MemHeap *h, uint32_t g, MemBlock *out)
{
    const BlockHeader *b = mem_hdr(h, g);
    const RunTable *t = run_table(h, g);
    out->run = true;
    out->used = true;
    out->offset = goff(g);
    out->size = (size_t)b->size * GRAN;
    out->header = out->size;
    if (t->cls >= RUN_CLASSES || !h->runs[t->cls].nslots || b->size - h->runs[t->cls].grans > 1u)
        return;
    const RunClass *k = &h->runs[t->cls];
    out->run_class = t->cls;
    out->slot_size = k->size;
    out->slots = k->nslots;
    out->slot_offset = run_slot_off(g, k, 0);
    out->header = out->slot_offset - out->offset;
    const uint64_t *bits = run_bits_c(t);
    for (uint32_t i = 0; i < k->nslots; i++) {
        if ((bits[i >> 6] >> (i & 63u)) & 1u) {
            out->live_slots++;
            out->object += k->size - run_slack(t, k, i);
        }
    }
    out->padding = out->size - out->header - out->object -
                   (out->slots - out->live_slots) * k->size;
}

MEM_NO_ASAN size_t MemHeap_WalkSlots(const MemHeap *h, size_t run_offset, MemSlotVisitor visit,
                                     void *arg)
{
    if (!mem_heap_ok(h) || !visit || run_offset < HDR || (run_offset - HDR) % GRAN)
        return 0;
    size_t n = 0;
    bool locked = mem_lock(h);
    size_t gg = (run_offset - HDR) / GRAN;
    uint32_t g = gg < h->ngran ? (uint32_t)gg : NIL;
    const RunTable *t = g != NIL ? run_table(h, g) : NULL;
    if (t && t->cls < RUN_CLASSES && mem_run_link(h, g, t->cls) != NIL) {
        const RunClass *k = &h->runs[t->cls];
        const uint64_t *bits = run_bits_c(t);
        for (uint32_t i = 0; i < k->nslots; i++) {
            MemSlot s;
            s.offset = run_slot_off(g, k, i);
            s.size = k->size;
            s.index = i;
            s.live = (bits[i >> 6] >> (i & 63u)) & 1u;
            s.object = s.live ? k->size - run_slack(t, k, i) : 0u;
            n++;
            if (!visit(&s, arg))
                break;
        }
    }
    mem_unlock(h, locked);
    return n;
}

/* The runs' share of the statistics, from the per-class counts: O(classes).
 * s already has used_bytes, live_bytes and used_blocks (live objects); the
 * headers and padding are corrected for the runs here. */
MEM_NO_ASAN void mem_run_stats(const MemHeap *h, MemStats *s)
{
    size_t live_slots = 0, meta = 0;
    for (unsigned c = 0; c < RUN_CLASSES; c++) {
        const RunClass *k = &h->runs[c];
        size_t slots = (size_t)k->nruns * k->nslots;
        s->runs += k->nruns;
        s->run_slots += slots;
        s->run_free_slots += slots - k->live;
        s->run_free_bytes += (slots - k->live) * k->size;
        live_slots += k->live;
        meta += (size_t)k->nruns * (HDR + k->slots_at);
    }
    s->run_bytes = h->run_bytes;
    s->header_bytes = (s->used_blocks - live_slots) * HDR + meta;
    s->metadata_bytes = s->header_bytes + s->table_bytes;
    s->padding_bytes = s->used_bytes - s->live_bytes - s->header_bytes - s->run_free_bytes;
    s->run_frag = s->run_bytes ? (double)s->run_free_bytes / (double)s->run_bytes : 0.0;
    s->internal_frag =
        s->used_bytes
            ? (double)(s->used_bytes - s->live_bytes - s->run_free_bytes) / (double)s->used_bytes
            : 0.0;
}

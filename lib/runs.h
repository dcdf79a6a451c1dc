/*
 * runs.h - MEM_FAST's small objects: runs of equal slots.  Inline, because
 * every small allocation and free of the default policy runs through it
 * (heap.c); runs.c has the cold parts (the size classes, making, keeping
 * and releasing runs, walks, statistics).
 *
 * A run is one used block of the block heap, cut into equal slots of one
 * size class.  Its table sits at the start of the block, right after the
 * block's (tagged) header; the slots follow, with no header per object:
 *
 *   16g+8   16(g+1)                                16(g+1) + slots_at
 *   [hdr: size, RUN_MARK, tag][RunTable|live bitmap|macs|sizes|pad][slot 0][slot 1]...[tail]
 *
 *   RunTable    class, live slots, the bitmap word where the next search for
 *               a free slot starts (it goes round: a slot freed behind it is
 *               found when the words ahead are full), and the links of the
 *               class's list of runs with a free slot
 *   macs        a keyed 32-bit hash of each word of the live bitmap and its
 *               place (run_mac, issue 9; word 0's in the RunTable, so that
 *               a run of one word costs no more table than before): slot
 *               0's underflow or a stray
 *               store reaches the table, and a word that fails its hash is
 *               never believed, so no live slot is handed out again, and no
 *               run is given back while it holds an object
 *   live bitmap one bit per slot, 1 = live; the bits past the last slot are 1,
 *               so the search never picks them
 *   sizes       a byte per slot: slot size minus the exact requested size
 *               (a class's sizes are at most 64 bytes apart); half a byte
 *               in the classes up to 128 bytes, which are 16 bytes apart,
 *               so a 16-byte object costs 17.1 bytes with everything
 *
 * Everything is an index or a count (granules, slots, bytes), never a
 * pointer, so another process reads it at another address.  The table is
 * out of band for the slots: an object overflowing its slot reaches the next
 * slot or, from the last slot, the next block's tagged header, never a
 * table.  A store from the block before the run reaches the run's header
 * first, and every operation checks that header (its tag, the run mark, the
 * size of its class) before it believes the table.
 *
 * Interior pointers: the start bitmap finds the run (block.h), one multiply
 * by a reciprocal finds the slot, the live bit and the exact size decide.
 *
 * Allocation takes the first run of the class's list of runs with a free
 * slot, and in its bitmap the first clear bit from the hint word on.  A
 * run that fills leaves the list; a full run that gets a slot back goes to
 * its head.  A run that empties is kept as its class's spare if the class
 * has none (so that an allocation and a free alternating at the edge of a
 * run do not make and release a run each time), else it goes back to the
 * block heap and coalesces there.  A spare goes back too when the block heap
 * cannot serve a request that the spare's block would.  Every empty run is
 * its class's spare.  The full path takes the spare off the list; the free
 * fast path leaves it where it is (listed), so that the next allocation
 * takes it with no move at all.
 */
#ifndef MEM_RUNS_H
#define MEM_RUNS_H

#include "block.h"

#include <string.h>

typedef struct RunTable {
    uint32_t next, prev;     /* the class's list of runs with a free slot */
    uint16_t nlive;          /* live slots */
    uint8_t hint;            /* the bitmap word the search starts at */
    uint8_t cls;             /* size class */
    uint32_t mac0;           /* run_mac of word 0 of the live bitmap (those of
                                words 1.. follow the bitmap: run_mac_at) */
} RunTable;

_Static_assert(sizeof(RunTable) == GRAN, "run table layout");

#define RUN_RECIP_SHIFT 31u
/* A run's block is at most RUN_GRANS_MAX granules, so that any of its
 * bytes is at most RUN_FIND_WORDS - 1 start-bitmap words after its header:
 * run_find looks at no more words than that.  Its live bitmap has at most
 * RUN_WORDS_MAX words (256 slots). */
#define RUN_FIND_WORDS 6u
#define RUN_GRANS_MAX (64u * (RUN_FIND_WORDS - 1u) + 1u)
#define RUN_WORDS_MAX 4u
_Static_assert(RUN_WORDS_MAX <= 4u, "a mac per word of the live bitmap");

/* "runs.c": the class of a request of 1..RUN_MAX_SIZE bytes is
 * mem_run_class_of[(size - 1) / 16]; the class sizes. */
extern const uint8_t mem_run_class_of[RUN_MAX_SIZE / GRAN];
extern const uint16_t mem_run_class_size[RUN_CLASSES];

MEM_NO_ASAN static inline bool hdr_is_run(uint32_t info)
{
    return (info & B_RUN_MARK) == B_RUN_MARK;
}

MEM_NO_ASAN static inline RunTable *run_table(const MemHeap *h, uint32_t g)
{
    return (RunTable *)(void *)mem_payload(h, g);
}
MEM_NO_ASAN static inline uint64_t *run_bits(RunTable *t)
{
    return (uint64_t *)(void *)(t + 1);
}
MEM_NO_ASAN static inline const uint64_t *run_bits_c(const RunTable *t)
{
    return (const uint64_t *)(const void *)(t + 1);
}
MEM_NO_ASAN static inline unsigned char *run_sizes(RunTable *t, const RunClass *k)
{
    return (unsigned char *)t + k->sizes_at;
}
/* Bytes of slot i that its object does not use: a byte a slot, or in a
 * class of sizes 16 bytes apart (at most 128 bytes) half a byte, low half
 * first, so that the 16-byte class's tables leave room for more slots. */
MEM_NO_ASAN static inline unsigned run_slack(const RunTable *t, const RunClass *k, uint32_t i)
{
    unsigned v = ((const unsigned char *)t)[k->sizes_at + (i >> k->nibbles)];
    return k->nibbles ? (v >> ((i & 1u) << 2)) & 15u : v;
}
MEM_NO_ASAN static inline void run_slack_put(RunTable *t, const RunClass *k, uint32_t i,
                                             unsigned slack)
{
    unsigned char *s = run_sizes(t, k) + (i >> k->nibbles);
    if (k->nibbles) {
        unsigned sh = (i & 1u) << 2;
        *s = (unsigned char)((*s & ~(15u << sh)) | slack << sh);
    } else {
        *s = (unsigned char)slack;
    }
}
MEM_NO_ASAN static inline unsigned char *run_slot(RunTable *t, const RunClass *k, uint32_t i)
{
    return (unsigned char *)t + k->slots_at + (size_t)i * k->size;
}
/* Slot i's offset from the arena base. */
MEM_NO_ASAN static inline size_t run_slot_off(uint32_t g, const RunClass *k, uint32_t i)
{
    return (size_t)(g + 1u) * GRAN + k->slots_at + (size_t)i * k->size;
}

/* The keyed hash of word w of the live bitmap of run g of class cls
 * holding bits: without the heap's keys nobody can make a word that passes,
 * move one elsewhere, or change the run's class (which places its slots). */
MEM_HOT uint32_t run_mac(const MemHeap *h, uint32_t g, unsigned cls, unsigned w,
                         uint64_t bits)
{
    uint64_t at = ((uint64_t)cls << 36 | (uint64_t)g << 2 | w) * mem_key(h, K_LINK1);
    return (uint32_t)((((bits ^ mem_key(h, K_RUN0)) * mem_key(h, K_RUN1)) ^ at) >> 32);
}

/* Where the hash of word w (below k->words) of the live bitmap is kept. */
MEM_HOT uint32_t *run_mac_at(RunTable *t, const RunClass *k, unsigned w)
{
    return w ? (uint32_t *)(void *)((unsigned char *)(t + 1) + 8u * k->words) + (w - 1u)
             : &t->mac0;
}
MEM_HOT uint32_t run_mac_of(const RunTable *t, const RunClass *k, unsigned w)
{
    return *run_mac_at((RunTable *)(uintptr_t)t, k, w);
}

/* Word w of run g's bitmap (its class k) holds what its hash says. */
MEM_HOT bool run_word_ok(const MemHeap *h, uint32_t g, const RunTable *t, const RunClass *k,
                         unsigned w)
{
    return run_mac(h, g, t->cls, w, run_bits_c(t)[w]) == run_mac_of(t, k, w);
}

MEM_HOT void run_word_put(const MemHeap *h, uint32_t g, RunTable *t, const RunClass *k,
                          unsigned w, uint64_t bits)
{
    run_bits(t)[w] = bits;
    *run_mac_at(t, k, w) = run_mac(h, g, t->cls, w, bits);
}

/* Run g (its header and class checked) holds no object: every word of its
 * bitmap passes its hash and has no live bit.  Only then may it be kept
 * empty as a spare or given back to the block heap, whatever its count.
 * run_empty_but asks it of the bitmap with word x replaced by bits (a word
 * whose hash the caller has checked, about to be stored). */
MEM_HOT bool run_empty_but(const MemHeap *h, uint32_t g, const RunTable *t, const RunClass *k,
                           unsigned x, uint64_t bits)
{
    for (unsigned w = 0; w < k->words && w < RUN_WORDS_MAX; w++) {
        uint64_t pad = w + 1u == k->words && k->nslots % 64u
                           ? ~(uint64_t)0 << (k->nslots % 64u) : 0u;
        if (w == x ? bits != pad : (run_bits_c(t)[w] != pad || !run_word_ok(h, g, t, k, w)))
            return false;
    }
    return true;
}

MEM_NO_ASAN static inline bool run_empty_ok(const MemHeap *h, uint32_t g, const RunTable *t,
                                            const RunClass *k)
{
    return run_empty_but(h, g, t, k, RUN_WORDS_MAX, 0);
}

/* The header as one word, to compare with RunClass.head_hdr. */
MEM_NO_ASAN static inline uint64_t hdr_word(const MemHeap *h, uint32_t g)
{
    uint64_t v;
    memcpy(&v, mem_hdr(h, g), sizeof v);
    return v;
}

/* The first listed run changes: the fast path waits until the full path
 * has checked it (run_alloc) and taken a copy of its header. */
MEM_NO_ASAN static inline void run_set_head(RunClass *k, uint32_t g)
{
    k->partial = g;
    k->head_hdr = 0; /* no header reads 0: size 0 is never valid */
}

/* The class's spare (listed: see run_free_fast_in) takes an object. */
MEM_NO_ASAN static inline void run_unspare(MemHeap *h, RunClass *k)
{
    k->spare = NIL;
    h->run_spares--;
}

/* Run g can be believed as a run of class c: its header carries its tag
 * and the run mark, its size is its class's, its table names the class. */
MEM_NO_ASAN static inline bool run_sound(const MemHeap *h, uint32_t g, const RunTable *t,
                                         unsigned c)
{
    const BlockHeader *b = mem_hdr(h, g);
    return hdr_ok(h, g, b) && hdr_is_run(b->info) && h->runs[c].nslots &&
           b->size - h->runs[c].grans <= 1u && t->cls == c;
}

/* ---- lookup ---------------------------------------------------------------- */

/* The slot of run g (size granules, as its header says) that holds the
 * byte at o (counted as classify counts, from the first header), in *slot,
 * and whether o is inside its live object. */
MEM_HOT MemReject run_classify(const MemHeap *h, uint32_t g, uint32_t size, size_t o,
                               uint32_t *slot)
{
    const RunTable *t = run_table(h, g);
    unsigned c = t->cls;
    if (c >= RUN_CLASSES)
        return MEM_REJECT_CORRUPT;
    const RunClass *k = &h->runs[c];
    if (!k->nslots || size - k->grans > 1u)
        return MEM_REJECT_CORRUPT;
    size_t first = (size_t)(g + 1u) * GRAN + k->slots_at - HDR;
    if (o < first)
        return MEM_REJECT_HEADER; /* the run's table */
    size_t in = o - first;
    if (in >= k->slot_bytes)
        return MEM_REJECT_PADDING; /* the run's tail, after its last slot */
    uint32_t i = (uint32_t)(((uint64_t)(in / GRAN) * k->recip) >> RUN_RECIP_SHIFT);
    *slot = i;
    if (i >= k->nslots || !run_word_ok(h, g, t, k, i >> 6))
        return MEM_REJECT_CORRUPT;
    if (!((run_bits_c(t)[i >> 6] >> (i & 63u)) & 1u))
        return MEM_REJECT_FREE;
    if (in - (size_t)i * k->size >= (size_t)(k->size - run_slack(t, k, i)))
        return MEM_REJECT_PADDING;
    return MEM_OK;
}

/* ---- allocation (the full path) ------------------------------------------- */

void *mem_run_alloc_slow(MemHeap *heap, unsigned c, size_t size, EventBuf *eb);
uint32_t mem_run_link(const MemHeap *heap, uint32_t l, unsigned c);
void mem_run_alloc_event(MemHeap *heap, EventBuf *eb, uint32_t g, uint32_t i, size_t size);

/* The slot run_take gives in a run of class k: the first free one from the
 * hint's word on (its word in *w, that word's live bits in *live), or
 * UINT32_MAX when the table contradicts itself.  lib/plan.c asks it too. */
MEM_NO_ASAN static inline uint32_t run_free_slot(const RunTable *t, const RunClass *k,
                                                 unsigned *w, uint64_t *live)
{
    const uint64_t *bits = run_bits_c(t);
    unsigned nw = k->words, n;
    *w = t->hint;
    *live = ~(uint64_t)0;
    for (n = 0; n < nw; n++, (*w)++) {
        if (*w >= nw)
            *w = 0;
        if ((*live = bits[*w]) != ~(uint64_t)0)
            break;
    }
    uint32_t i = *w * 64u + (unsigned)__builtin_ctzll(~*live | (uint64_t)1 << 63);
    return n < nw && i < k->nslots && t->nlive < k->nslots ? i : UINT32_MAX;
}

/* A slot of run g (the head of class k's list, sound) for size bytes, or
 * NULL when its table contradicts itself (then nothing changed). */
MEM_HOT void *run_take(MemHeap *h, uint32_t g, RunTable *t, RunClass *k, size_t size,
                       EventBuf *eb)
{
    unsigned w;
    uint64_t live;
    uint32_t i = run_free_slot(t, k, &w, &live);
    if (i == UINT32_MAX || !run_word_ok(h, g, t, k, w))
        return NULL;
    if (t->nlive == 0 && k->spare == g)
        run_unspare(h, k); /* the listed spare */
    run_word_put(h, g, t, k, w, live | (live + 1u));
    t->hint = (uint8_t)w;
    run_slack_put(t, k, i, (unsigned)(k->size - size));
    if (++t->nlive == k->nslots) {
        /* full: off the list (it is the head); a next that is no run of
         * the class linking back ends the list instead.  The next run
         * becomes the head, checked here (mem_run_link), so that the next
         * allocation takes the fast path (a class whose runs fill and get
         * a slot back by turns, as growing vectors make them, would go the
         * full way twice a turn) */
        uint32_t next = mem_run_link(h, t->next, t->cls);
        if (next != NIL && run_table(h, next)->prev != g)
            next = NIL;
        run_set_head(k, next);
        if (next != NIL) {
            run_table(h, next)->prev = NIL;
            k->head_hdr = hdr_word(h, next);
        }
        t->next = NIL;
    }
    k->live++;
    h->allocs++;
    size_t live_bytes = h->live_bytes += size;
    if (live_bytes > h->peak_live)
        h->peak_live = live_bytes;
    unsigned char *obj = run_slot(t, k, i);
    MEM_UNPOISON(obj, size);
    if (eb->on)
        mem_run_alloc_event(h, eb, g, i, size);
    return obj;
}

/* A slot for a request of 1..RUN_MAX_SIZE bytes, or NULL: the class is not
 * served by runs in this heap, no run could be made, or its run failed its
 * check.  The caller then tries the block heap. */
MEM_HOT void *run_alloc(MemHeap *h, size_t size, EventBuf *eb)
{
    unsigned c = mem_run_class_of[(size - 1u) / GRAN];
    RunClass *k = &h->runs[c];
    uint32_t g = k->partial;
    if (g == NIL)
        return mem_run_alloc_slow(h, c, size, eb);
    RunTable *t = run_table(h, g);
    if (!run_sound(h, g, t, c))
        return NULL;
    k->head_hdr = hdr_word(h, g);
    return run_take(h, g, t, k, size, eb);
}

/* ---- free (the full path) -------------------------------------------------- */

void mem_run_emptied(MemHeap *heap, uint32_t g, RunClass *k, bool listed, EventBuf *eb);
void mem_run_free_event(MemHeap *heap, EventBuf *eb, uint32_t g, uint32_t i, size_t object,
                        ptrdiff_t given);

/* Run g's count can take one free more (run_classify has checked the rest:
 * header, class, the slot's live bit and its word's hash). */
MEM_HOT bool run_free_ok(const MemHeap *h, uint32_t g)
{
    const RunTable *t = run_table(h, g);
    return t->nlive != 0 && t->nlive <= h->runs[t->cls].nslots;
}

/* Frees live slot i of run g (run_classify and run_free_ok said so). */
MEM_HOT void run_free(MemHeap *h, uint32_t g, uint32_t i, EventBuf *eb, ptrdiff_t given)
{
    RunTable *t = run_table(h, g);
    RunClass *k = &h->runs[t->cls];
    run_word_put(h, g, t, k, i >> 6, run_bits(t)[i >> 6] & ~((uint64_t)1 << (i & 63u)));
    size_t obj = k->size - run_slack(t, k, i);
    MEM_POISON(run_slot(t, k, i), obj);
    h->live_bytes -= obj;
    h->frees++;
    k->live--;
    unsigned was = t->nlive--;
    if (eb->on)
        mem_run_free_event(h, eb, g, i, obj, given);
    if (was == 1u) {
        mem_run_emptied(h, g, k, was != k->nslots, eb);
    } else if (was == k->nslots) {
        /* it has a free slot again: to the head of the list */
        uint32_t head = k->partial;
        t->prev = NIL;
        t->next = head;
        if (head != NIL)
            run_table(h, head)->prev = g;
        run_set_head(k, g);
    }
}

/* ---- the fast paths ---------------------------------------------------------
 * MemHeap_Alloc and MemHeap_Free try these first.  They do the common case
 * only: an operation on a run that raises no event (no observer) and moves
 * no run between lists.  Everything else (a block, a run that fills or
 * empties, a damaged run, a pointer to refuse) makes them return NULL or
 * false having changed nothing, and the full path does the operation from
 * the start.  While the process has one thread (or with MEM_OPT_NOLOCK)
 * they run without the lock; with threads, under it (run_mode).
 *
 * The allocation fast path does not recompute the first listed run's tag:
 * it compares the run's header with the copy its class took when the full
 * path last checked the run.  A store that reaches the run's table from the
 * block before it changes that header on its way, and the full path, which
 * checks the tag, takes over. */

#define RUN_GATE_OFF 1u  /* no runs, or an observer wants every event */
#define RUN_GATE_LOCK 2u /* the heap has a lock: only while one thread runs */

/* How MemHeap_Alloc and _Free may try the fast paths: RUN_FAST_NO (go the
 * full way), RUN_FAST_BARE (no lock needed), RUN_FAST_LOCKED (under the
 * heap's lock: other threads run). */
enum { RUN_FAST_NO, RUN_FAST_BARE, RUN_FAST_LOCKED };

MEM_HOT unsigned run_mode(const MemHeap *h)
{
    unsigned gate = h->run_gate;
    if (!gate)
        return RUN_FAST_BARE;
    if (gate != RUN_GATE_LOCK)
        return RUN_FAST_NO;
    return MEM_SINGLE_THREADED() ? RUN_FAST_BARE : RUN_FAST_LOCKED;
}

MEM_HOT void *run_alloc_fast(MemHeap *h, size_t size)
{
    RunClass *k = &h->runs[mem_run_class_of[(size - 1u) / GRAN]];
    uint32_t g = k->partial;
    if (g == NIL || hdr_word(h, g) != k->head_hdr)
        return NULL;
    RunTable *t = run_table(h, g);
    unsigned n = t->nlive + 1u, w = t->hint & (RUN_WORDS_MAX - 1u);
    uint64_t *word = &run_bits(t)[w], live = *word;
    /* it fills (the full path takes it off the list), or the search goes
     * on past the hint word (a hint out of range is caught by i) */
    if (n >= k->nslots || live == ~(uint64_t)0)
        return NULL;
    uint32_t i = w * 64u + (unsigned)__builtin_ctzll(~live);
    uint32_t *mac = run_mac_at(t, k, w);
    if (i >= k->nslots || run_mac(h, g, t->cls, w, live) != *mac)
        return NULL;
    if (n == 1u && k->spare == g)
        run_unspare(h, k); /* the listed spare (run_free_fast_in) */
    *word = live | (live + 1u);
    *mac = run_mac(h, g, t->cls, w, *word);
    run_slack_put(t, k, i, (unsigned)(k->size - size));
    t->nlive = (uint16_t)n;
    k->live++;
    h->allocs++;
    size_t sum = h->live_bytes += size;
    if (sum > h->peak_live)
        h->peak_live = sum;
    unsigned char *obj = run_slot(t, k, i);
    MEM_UNPOISON(obj, size);
    return obj;
}

/* The block start at or before granule q when it is in q's bitmap word or
 * in the RUN_FIND_WORDS - 1 words before it (any byte of any run), else
 * NIL: the caller takes the full lookup (bm_find_prev).  Straight-line for
 * the words; near the arena's start a loop, as word 0 lives apart. */
MEM_HOT uint32_t run_find(const MemHeap *h, uint32_t q)
{
    uint32_t x = q >> 6;
    uint64_t w = *mem_bm_word(h, 0, x) & (~(uint64_t)0 >> (63u - (q & 63u)));
    if (w)
        return x * 64u + msb64(w);
    if (x < RUN_FIND_WORDS) { /* near the arena's start, where word 0 lives apart */
        while (x && !(w = *mem_bm_word(h, 0, --x)))
            ;
        return w ? x * 64u + msb64(w) : NIL;
    }
    const uint64_t *bm = mem_bm_level0(h);
    if (!(w = bm[--x]) && !(w = bm[--x]) && !(w = bm[--x]) && !(w = bm[--x]) &&
        !(w = bm[--x]))
        return NIL;
    return x * 64u + msb64(w);
}

/* The free fast path, in two copies: run_free_fast, the common case, and
 * run_free_edge (edge), out of line so that the common case saves no
 * registers for it (run_free_fast returns RUN_FREE_EDGE, the caller calls
 * it): a full run that gets a slot back goes to the head of its list when
 * the head is as last checked.  A run that empties becomes its class's
 * spare where it is, the only run on its list, when the class has none (no
 * other run has a free slot, so the next allocation takes it, as it would
 * take an unlisted spare): an allocation
 * and a free alternating in one run, as a program's temporaries do, then
 * never leave the fast paths (the next allocation from it makes it an
 * ordinary run again).  Anything else: false, nothing changed.  exact: ptr
 * must be the object's first byte (MemHeap_FreeExact). */
MEM_NO_ASAN bool run_free_edge(MemHeap *h, const void *ptr, bool exact);

/* What run_free_fast did: declined (the full path frees), freed, or left it
 * to run_free_edge (the run was full). */
enum { RUN_FREE_NO, RUN_FREE_DONE, RUN_FREE_EDGE };

MEM_HOT unsigned run_free_fast_in(MemHeap *h, const void *ptr, const bool exact,
                                  const bool edge)
{
    size_t o = (size_t)((uintptr_t)ptr - (uintptr_t)h->base) - HDR;
    if (o >= (size_t)h->ngran * GRAN)
        return RUN_FREE_NO;
    uint32_t g = run_find(h, (uint32_t)(o / GRAN));
    if (g == NIL)
        return RUN_FREE_NO;
    const BlockHeader *b = mem_hdr(h, g);
    if (!hdr_is_run(b->info) || !hdr_ok(h, g, b))
        return RUN_FREE_NO;
    RunTable *t = (RunTable *)(void *)(b + 1);
    unsigned c = t->cls;
    if (c >= RUN_CLASSES)
        return RUN_FREE_NO;
    RunClass *k = &h->runs[c];
    size_t in = (size_t)((const unsigned char *)ptr - (unsigned char *)t) - k->slots_at;
    unsigned n = t->nlive;
    /* in wraps below slot 0; n - 1 wraps when n is 0 */
    if ((b->size - k->grans > 1u) | (in >= k->slot_bytes) | (n - 1u >= k->nslots))
        return RUN_FREE_NO;
    uint32_t i = (uint32_t)(((uint64_t)(in / GRAN) * k->recip) >> RUN_RECIP_SHIFT);
    uint64_t *word = &run_bits(t)[i >> 6], bits = *word, bit = (uint64_t)1 << (i & 63u);
    size_t obj = k->size - run_slack(t, k, i);
    uint32_t *mac = run_mac_at(t, k, i >> 6);
    if (!(bits & bit) || in - (size_t)i * k->size >= obj ||
        run_mac(h, g, c, i >> 6, bits) != *mac || (exact && in != (size_t)i * k->size))
        return RUN_FREE_NO;
    uint32_t head = k->partial;
    if (!edge) {
        if (__builtin_expect(n == k->nslots, 0))
            return RUN_FREE_EDGE;
        /* it empties: the full path gives it back when the class has a
         * spare, and unlists it when other runs are listed (they serve
         * first, as before a spare); the whole bitmap must agree that it
         * empties (a damaged count or word makes no spare of a run with
         * live slots) */
        if (n == 1u && (k->spare != NIL || head != g || t->next != NIL ||
                        !run_empty_but(h, g, t, k, i >> 6, bits & ~bit)))
            return RUN_FREE_NO;
    } else if (n != k->nslots || head == g ||
               (head != NIL && hdr_word(h, head) != k->head_hdr)) {
        return RUN_FREE_NO;
    }
    *word = bits & ~bit;
    *mac = run_mac(h, g, c, i >> 6, *word);
    t->nlive = (uint16_t)(n - 1u);
    k->live--;
    h->frees++;
    h->live_bytes -= obj;
    MEM_POISON(run_slot(t, k, i), obj);
    if (!edge) {
        if (n == 1u) { /* the spare, the only run on its list */
            k->spare = g;
            h->run_spares++;
        }
    } else { /* it was full: to the head */
        t->prev = NIL;
        t->next = head;
        if (head != NIL)
            run_table(h, head)->prev = g;
        k->partial = g;
        k->head_hdr = hdr_word(h, g); /* its tag was checked */
    }
    return RUN_FREE_DONE;
}

MEM_HOT unsigned run_free_fast(MemHeap *h, const void *ptr, const bool exact)
{
    return run_free_fast_in(h, ptr, exact, false);
}

#endif /* MEM_RUNS_H */

/*
 * check.c - the invariant checker.
 *
 * It trusts nothing it reads: every size, link and bit is range-checked
 * before it is followed, every list walk is bounded, and a header whose tag
 * fails is not interpreted (its object and guard are not looked for), so a
 * corrupted heap yields a diagnosis rather than a crash or a read outside
 * its block.  It counts problems (as TLSF's checker does) instead of
 * asserting, so it works with NDEBUG.
 */
#include "runs.h"
#include "seg.h"

#include <stdarg.h>
#include <stdio.h>

typedef struct Checker {
    const MemHeap *h;
    MemKeys keys;
    int problems;
    char *why;
    size_t len;
    uint32_t runs[RUN_CLASSES];  /* runs of each class the walk finds */
    uint32_t live[RUN_CLASSES];  /* their live slots */
    uint32_t listable[RUN_CLASSES]; /* those with a free slot, but the spare */
    size_t run_bytes;
} Checker;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
MEM_NO_ASAN static void fail(Checker *c, const char *fmt, ...)
{
    if (c->problems++ == 0 && c->why && c->len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->why, c->len, fmt, ap);
        va_end(ap);
    }
}

static size_t off(uint32_t g) { return HDR + (size_t)g * GRAN; }

/* MEM_BUDDY: block g is 2^k granules, aligned to its size; a free left
 * buddy is not followed by its free right buddy of the same size (the tiling
 * is known sound up to g's end). */
MEM_NO_ASAN static void check_buddy_block(Checker *c, uint32_t g, const BlockHeader *b, bool used)
{
    const MemHeap *h = c->h;
    uint32_t size = b->size;
    if ((size & (size - 1u)) || size > (1u << BUDDY_MAX_ORDER)) {
        fail(c, "buddy block at +%#zx has %u granules, not a power of two up to 2^%u", off(g),
             size, BUDDY_MAX_ORDER);
        return;
    }
    if (g & (size - 1u))
        fail(c, "buddy block at +%#zx of %u granules is not aligned to its size", off(g), size);
    uint32_t bud = g + size;
    if (used || (g & size) || bud >= h->ngran || h->ngran - bud < size)
        return;
    const BlockHeader *n = mem_hdr(h, bud);
    if (!(n->info & B_USED) && n->size == size)
        fail(c, "free buddies at +%#zx and +%#zx (%u granules each) should have merged", off(g),
             off(bud), size);
}

/* Run g (its header says it is one): its table against its class and its
 * block, its bitmap against its count, every live slot's size within its
 * slot and its class.  Adds its live objects to *live and *nused. */
MEM_NO_ASAN static void check_run(Checker *c, uint32_t g, size_t *live, size_t *nused)
{
    const MemHeap *h = c->h;
    const BlockHeader *b = mem_hdr(h, g);
    const RunTable *t = run_table(h, g);
    unsigned cls = t->cls;
    if (cls >= RUN_CLASSES) {
        fail(c, "run at +%#zx: its table names class %u, there are %u", off(g), cls, RUN_CLASSES);
        return;
    }
    const RunClass *k = &h->runs[cls];
    if (!k->nslots) {
        fail(c, "run at +%#zx: class %u (%u bytes) is not served by runs in this heap", off(g),
             cls, k->size);
        return;
    }
    if (b->size - k->grans > 1u) {
        fail(c, "run at +%#zx: %u granules, a run of class %u has %u", off(g), b->size, cls,
             k->grans);
        return;
    }
    c->runs[cls]++;
    c->run_bytes += (size_t)b->size * GRAN;
    const uint64_t *bits = run_bits_c(t);
    uint32_t n = 0;
    for (uint32_t i = 0; i < k->nslots; i++) {
        if (!((bits[i >> 6] >> (i & 63u)) & 1u))
            continue;
        n++;
        unsigned slack = run_slack(t, k, i);
        unsigned below = cls ? mem_run_class_size[cls - 1] : 0u;
        if (slack >= k->size - below)
            fail(c, "run at +%#zx slot %u: object of %u bytes is not of its class (%u..%u)",
                 off(g), i, k->size - slack, below + 1u, k->size);
        *live += k->size - slack;
    }
    if (k->nslots % 64u &&
        (bits[k->words - 1u] | (~(uint64_t)0 >> (64u - k->nslots % 64u))) != ~(uint64_t)0)
        fail(c, "run at +%#zx: bitmap bits past its %u slots are clear", off(g), k->nslots);
    for (unsigned w = 0; w < k->words; w++)
        if (!run_word_ok(h, g, t, k, w))
            fail(c, "run at +%#zx: word %u of its live bitmap fails its keyed hash", off(g), w);
    if (n != t->nlive)
        fail(c, "run at +%#zx: %u live bits in its bitmap, its count says %u", off(g), n,
             t->nlive);
    if (t->hint >= k->words)
        fail(c, "run at +%#zx: the search starts at word %u of %u", off(g), t->hint, k->words);
    c->live[cls] += n;
    if (n == 0 && k->spare != g)
        fail(c, "run at +%#zx is empty and not its class's spare", off(g));
    if (n < k->nslots && k->spare != g)
        c->listable[cls]++;
    *nused += n;
}

/* A class's copy of its first listed run's header (the allocation fast
 * path takes the run when its header still reads so, runs.h): when set, of
 * that run, and the header as it is, or as it was before the block before
 * the run flipped its B_PREV_USED (the tag covers that bit: the copy is
 * then the header with the other bit and its tag, and the fast path
 * declines). */
MEM_NO_ASAN static void check_hdr_copy(Checker *c, unsigned cls, const char *what, uint32_t g,
                                       uint64_t copy)
{
    if (!copy)
        return;
    if (g >= c->h->ngran) {
        fail(c, "class %u: a copy of its %s run's header, and no such run", cls, what);
        return;
    }
    BlockHeader was, is = *mem_hdr(c->h, g);
    memcpy(&was, &copy, sizeof was);
    uint32_t low = (is.info ^ B_PREV_USED) & B_LOW_MASK;
    if (copy != hdr_word(c->h, g) &&
        (was.size != is.size || (was.info & B_LOW_MASK) != low ||
         was.info >> B_TAG_SHIFT != mem_tag(&c->keys, g, is.size, low)))
        fail(c, "class %u: the copy of its %s run's header is not that header", cls, what);
}

/* Every class's list holds exactly its runs with a free slot but the
 * spare, and perhaps the spare, mutually linked; the spare is an empty run
 * of its class; the counts agree with the walk. */
MEM_NO_ASAN static void check_run_lists(Checker *c)
{
    const MemHeap *h = c->h;
    uint32_t spares = 0;
    size_t runs = 0;
    for (unsigned cls = 0; cls < RUN_CLASSES; cls++) {
        const RunClass *k = &h->runs[cls];
        runs += c->runs[cls];
        if (k->nruns != c->runs[cls])
            fail(c, "class %u: %u runs counted, the walk finds %u", cls, k->nruns, c->runs[cls]);
        if (k->live != c->live[cls])
            fail(c, "class %u: %u live slots counted, the walk finds %u", cls, k->live,
                 c->live[cls]);
        check_hdr_copy(c, cls, "first listed", k->partial, k->head_hdr);
        if (k->spare != NIL) {
            spares++;
            if (k->spare >= h->ngran || !((*mem_bm_word(h, 0, k->spare >> 6) >> (k->spare & 63u)) & 1u) ||
                !run_sound(h, k->spare, run_table(h, k->spare), cls))
                fail(c, "class %u: its spare run at granule %u is not a run of the class", cls,
                     k->spare);
            else if (run_table(h, k->spare)->nlive)
                fail(c, "class %u: its spare run at +%#zx is not empty", cls, off(k->spare));
        }
        uint32_t n = 0, prev = NIL, spare_listed = 0;
        for (uint32_t g = k->partial; g != NIL; g = run_table(h, g)->next) {
            if (n++ > c->runs[cls]) {
                fail(c, "class %u: its list of runs is longer than its %u runs (a cycle?)", cls,
                     c->runs[cls]);
                break;
            }
            if (g >= h->ngran || !((*mem_bm_word(h, 0, g >> 6) >> (g & 63u)) & 1u) ||
                !run_sound(h, g, run_table(h, g), cls)) {
                fail(c, "class %u: its list of runs leads to granule %u, not a run of the class",
                     cls, g);
                break;
            }
            const RunTable *t = run_table(h, g);
            if (t->prev != prev)
                fail(c, "run at +%#zx: prev link is not the run before it in the list", off(g));
            if (t->nlive >= k->nslots)
                fail(c, "run at +%#zx is full but listed as having a free slot", off(g));
            if (g == k->spare) /* as the free fast path leaves it (runs.h) */
                spare_listed = 1;
            prev = g;
        }
        if (n != c->listable[cls] + spare_listed)
            fail(c, "class %u: %u runs listed as having a free slot, the walk finds %u", cls, n,
                 c->listable[cls]);
    }
    if (spares != h->run_spares)
        fail(c, "%u spare runs counted, the classes hold %u", h->run_spares, spares);
    if (c->run_bytes != h->run_bytes)
        fail(c, "run bytes counter %zu, the walk finds %zu", h->run_bytes, c->run_bytes);
    (void)runs;
}

/* Blocks tile the area; headers, flags, footers and neighbours agree; the
 * counters match.  Returns false when the tiling itself is broken (then
 * nothing else can be trusted). */
MEM_NO_ASAN static bool check_blocks(Checker *c)
{
    const MemHeap *h = c->h;
    const MemKeys *k = &c->keys;
    size_t used = 0, free_b = 0, live = 0, nused = 0, nfree = 0;
    bool prev_used = true;
    uint32_t g = 0;
    while (g < h->ngran) {
        const BlockHeader *b = mem_hdr(h, g);
        if (b->size < MIN_GRANS || b->size > h->ngran - g) {
            fail(c, "block at +%#zx has size %u granules: blocks do not tile the heap", off(g),
                 b->size);
            return false;
        }
        bool tagged = hdr_ok_k(h, k, g, b);
        if (!tagged)
            fail(c, "block at +%#zx: header integrity tag does not match", off(g));
        bool is_used = (b->info & B_USED) != 0;
        if (((b->info & B_PREV_USED) != 0) != prev_used)
            fail(c, "block at +%#zx: PREV_USED flag says %d, the block before is %s", off(g),
                 (b->info & B_PREV_USED) != 0, prev_used ? "used" : "free");
        size_t bytes = (size_t)b->size * GRAN;
        if (h->policy == MEM_BUDDY)
            check_buddy_block(c, g, b, is_used);
        if (is_used && hdr_is_run(b->info)) {
            used += bytes;
            check_run(c, g, &live, &nused);
        } else if (is_used) {
            size_t slack = mem_slack(b), guard = mem_guard_len(b);
            bool sane = tagged && slack < bytes - HDR && wide_ok(b); /* the object lies in the block */
            if (!wide_ok(b))
                fail(c, "object at +%#zx overflowed: the size word at the end of its padding "
                        "was overwritten",
                     (size_t)(g + 1u) * GRAN);
            else if (slack >= bytes - HDR)
                fail(c, "block at +%#zx: padding %zu leaves no object", off(g), slack);
            if ((h->flags & MEM_OPT_GUARD) && guard < GUARD_MIN)
                fail(c, "block at +%#zx: guard of %zu bytes, fewer than %u", off(g), guard,
                     GUARD_MIN);
            if ((h->flags & MEM_OPT_GUARD) && sane) {
                const unsigned char *p = mem_payload(h, g) + mem_object_size(b);
                for (size_t i = 0; i < guard; i++) {
                    if (p[i] != GUARD_BYTE) {
                        fail(c, "object at +%#zx overflowed: guard byte %zu after its end "
                                "was overwritten",
                             (size_t)(g + 1u) * GRAN, i);
                        break;
                    }
                }
            }
            used += bytes;
            live += sane ? mem_object_size(b) : 0;
            nused++;
        } else {
            if (!prev_used && h->policy != MEM_BUDDY && h->coalesce == MEM_COALESCE_NOW)
                fail(c, "free blocks at +%#zx and before it are adjacent: they should have "
                        "coalesced",
                     off(g));
            if (*mem_footer_before(h, g + b->size) != b->size)
                fail(c, "free block at +%#zx: footer %u differs from header size %u", off(g),
                     *mem_footer_before(h, g + b->size), b->size);
            free_b += bytes;
            nfree++;
        }
        prev_used = is_used;
        g += b->size;
    }
    if (used != h->used_bytes)
        fail(c, "used bytes counter %zu, walk finds %zu", h->used_bytes, used);
    if (free_b + used != (size_t)h->ngran * GRAN)
        fail(c, "free and used bytes %zu + %zu do not fill the heap", free_b, used);
    if (live != h->live_bytes)
        fail(c, "live bytes counter %zu, walk finds %zu", h->live_bytes, live);
    if (nused != h->allocs - h->frees)
        fail(c, "allocations less frees is %llu, walk finds %zu used blocks",
             (unsigned long long)(h->allocs - h->frees), nused);
    if (nfree != h->free_blocks)
        fail(c, "free blocks counter %zu, walk finds %zu", h->free_blocks, nfree);
    if (h->peak_used < h->used_bytes)
        fail(c, "peak used bytes %zu below used bytes %zu", h->peak_used, h->used_bytes);
    if (h->peak_live < h->live_bytes)
        fail(c, "peak live bytes %zu below live bytes %zu", h->peak_live, h->live_bytes);
    if (h->allocs < h->frees)
        fail(c, "more frees (%llu) than allocations (%llu)", (unsigned long long)h->frees,
             (unsigned long long)h->allocs);
    return true;
}

/* Level 0 marks exactly the block starts; every summary bit says whether
 * the word below it is non-zero. */
MEM_NO_ASAN static void check_bitmap(Checker *c)
{
    const MemHeap *h = c->h;
    uint32_t next_start = 0; /* the next block start the walk expects */
    unsigned levels = h->bm_levels;
    for (size_t w = 0; w < mem_bm_words(h->ngran, 0); w++) {
        uint64_t expect = 0;
        size_t lo = w * 64u, hi = lo + 64u;
        while (next_start < h->ngran && next_start < hi) {
            expect |= (uint64_t)1 << (next_start - lo);
            next_start += mem_hdr(h, next_start)->size;
        }
        uint64_t got = *mem_bm_word(h, 0, w);
        if (got != expect) {
            fail(c, "start bitmap word %zu is %#llx, the blocks say %#llx", w,
                 (unsigned long long)got, (unsigned long long)expect);
            return;
        }
    }
    for (unsigned l = 1; l < levels; l++) {
        for (size_t w = 0; w < mem_bm_words(h->ngran, l); w++) {
            uint64_t expect = 0;
            for (size_t i = 0; i < 64u && w * 64u + i < mem_bm_words(h->ngran, l - 1); i++)
                if (*mem_bm_word(h, l - 1, w * 64u + i))
                    expect |= (uint64_t)1 << i;
            uint64_t got = *mem_bm_word(h, l, w);
            if (got != expect) {
                fail(c, "start bitmap level %u word %zu is %#llx, level %u says %#llx", l, w,
                     (unsigned long long)got, l - 1u, (unsigned long long)expect);
                return;
            }
        }
    }
}

/* A list node must be the start of a free block. */
MEM_NO_ASAN static bool free_node_ok(Checker *c, uint32_t g, const char *where)
{
    const MemHeap *h = c->h;
    if (g >= h->ngran || !bm_test(h, g)) {
        fail(c, "%s links to granule %u, which is not a block start", where, g);
        return false;
    }
    if (mem_hdr(h, g)->info & B_USED) {
        fail(c, "%s holds the used block at +%#zx", where, off(g));
        return false;
    }
    return true;
}

/* The list policies' one list, in its order: by address, or (LIFO, FIFO)
 * by the stamps its blocks got when they joined, newest or oldest first. */
MEM_NO_ASAN static void check_address_list(Checker *c)
{
    const MemHeap *h = c->h;
    const MemKeys *k = &c->keys;
    size_t n = 0;
    uint32_t prev = NIL;
    uint64_t prev_stamp = 0;
    bool rover_seen = h->rover == NIL;
    for (uint32_t g = h->head; g != NIL; g = link_get(h, k, g, 0)) {
        if (n++ > h->free_blocks) {
            fail(c, "the free list is longer than the %zu free blocks (a cycle?)",
                 h->free_blocks);
            return;
        }
        if (!free_node_ok(c, g, "the free list"))
            return;
        if (link_get(h, k, g, 1) != prev)
            fail(c, "free block at +%#zx: prev link is not the block before it in the list",
                 off(g));
        if (h->order == MEM_ORDER_ADDRESS) {
            if (prev != NIL && prev >= g)
                fail(c, "free list out of address order at +%#zx", off(g));
        } else {
            uint64_t st = mem_list_stamp(h, g);
            bool lifo = h->order == MEM_ORDER_LIFO;
            if (st == 0 || st > h->seq)
                fail(c, "free block at +%#zx: its stamp %llu is not one the list gave", off(g),
                     (unsigned long long)st);
            else if (prev != NIL && (lifo ? st >= prev_stamp : st <= prev_stamp))
                fail(c, "free list out of %s order at +%#zx: it joined %s the block before it",
                     lifo ? "LIFO" : "FIFO", off(g), st > prev_stamp ? "after" : "before");
            prev_stamp = st;
        }
        rover_seen |= g == h->rover;
        prev = g;
    }
    if (prev != h->tail)
        fail(c, "free list tail is not its last block");
    if (n != h->free_blocks)
        fail(c, "free list holds %zu blocks, the heap has %zu free", n, h->free_blocks);
    if (!rover_seen)
        fail(c, "next-fit rover at granule %u is not a free block", h->rover);
    if (h->policy != MEM_NEXT_FIT && h->rover != NIL)
        fail(c, "a rover is set under the %s policy", MemPolicy_Name((MemPolicy)h->policy));
    if (h->policy == MEM_NEXT_FIT && h->rover == NIL && h->head != NIL)
        fail(c, "next fit has free blocks but no rover");
}

/* MEM_FAST's largest free block, when it is known, is a free block of the
 * size it says, and none is larger. */
MEM_NO_ASAN static void check_largest(Checker *c)
{
    const MemHeap *h = c->h;
    if (!h->big_known)
        return;
    uint32_t largest = 0;
    for (uint32_t g = 0; g < h->ngran; g += mem_hdr(h, g)->size)
        if (!(mem_hdr(h, g)->info & B_USED) && mem_hdr(h, g)->size > largest)
            largest = mem_hdr(h, g)->size;
    if (h->big == NIL ? largest != 0
                      : h->big >= h->ngran || !bm_test(h, h->big) ||
                            (mem_hdr(h, h->big)->info & B_USED) ||
                            mem_hdr(h, h->big)->size != h->big_size || h->big_size != largest)
        fail(c, "the largest free block is kept as granule %u of %u granules, the blocks say "
                "%u granules",
             h->big, h->big_size, largest);
}

MEM_NO_ASAN static void check_fast_lists(Checker *c)
{
    const MemHeap *h = c->h;
    const MemKeys *k = &c->keys;
    size_t n = 0;
    for (unsigned fl = 0; fl < FL_COUNT; fl++) {
        if (((h->fl_map >> fl) & 1u) != (h->sl_map[fl] != 0))
            fail(c, "first-level bitmap bit %u disagrees with its second level", fl);
        for (unsigned sl = 0; sl < SL_COUNT; sl++) {
            uint32_t head = h->fast_head[fl][sl];
            if (((h->sl_map[fl] >> sl) & 1u) != (head != NIL))
                fail(c, "class %u/%u: bitmap bit disagrees with its list", fl, sl);
            uint32_t prev = NIL;
            for (uint32_t g = head; g != NIL; g = link_get(h, k, g, 0)) {
                if (n++ > h->free_blocks) {
                    fail(c, "the size classes hold more than the %zu free blocks",
                         h->free_blocks);
                    return;
                }
                if (!free_node_ok(c, g, "a size class"))
                    return;
                unsigned f, s;
                mem_fast_mapping(mem_hdr(h, g)->size, &f, &s);
                if (f != fl || s != sl)
                    fail(c, "free block at +%#zx of %u granules is in class %u/%u, not %u/%u",
                         off(g), mem_hdr(h, g)->size, fl, sl, f, s);
                if (link_get(h, k, g, 1) != prev)
                    fail(c, "free block at +%#zx: prev link is wrong", off(g));
                prev = g;
            }
        }
    }
    if (h->fl_map >> FL_COUNT)
        fail(c, "first-level bitmap has bits past the last class");
    if (n != h->free_blocks)
        fail(c, "size classes hold %zu blocks, the heap has %zu free", n, h->free_blocks);
    check_largest(c);
}

/* One list per order: each holds exactly free blocks of its order, linked
 * both ways; the bitmap marks the non-empty ones and nothing else. */
MEM_NO_ASAN static void check_buddy_lists(Checker *c)
{
    const MemHeap *h = c->h;
    size_t n = 0;
    for (unsigned k = 0; k < 32u; k++) {
        bool bit = (h->buddy_map >> k) & 1u;
        if (k < BUDDY_MIN_ORDER || k > BUDDY_MAX_ORDER) {
            if (bit)
                fail(c, "buddy bitmap bit %u is set: there is no order %u", k, k);
            if (k > BUDDY_MAX_ORDER || h->buddy_head[k] == NIL)
                continue;
            fail(c, "buddy list of order %u is not empty", k);
            continue;
        }
        uint32_t head = h->buddy_head[k];
        if (bit != (head != NIL))
            fail(c, "buddy order %u: bitmap bit disagrees with its list", k);
        uint32_t prev = NIL;
        for (uint32_t g = head; g != NIL; g = link_get(h, &c->keys, g, 0)) {
            if (n++ > h->free_blocks) {
                fail(c, "the buddy lists hold more than the %zu free blocks", h->free_blocks);
                return;
            }
            if (!free_node_ok(c, g, "a buddy list"))
                return;
            if (mem_hdr(h, g)->size != 1u << k)
                fail(c, "free block at +%#zx of %u granules is on the list of order %u", off(g),
                     mem_hdr(h, g)->size, k);
            if (link_get(h, &c->keys, g, 1) != prev)
                fail(c, "free block at +%#zx: prev link is wrong", off(g));
            prev = g;
        }
    }
    if (n != h->free_blocks)
        fail(c, "buddy lists hold %zu blocks, the heap has %zu free", n, h->free_blocks);
}

MEM_NO_ASAN int mem_diagnose_locked(const MemHeap *h, char *why, size_t len)
{
    Checker c = {.h = h, .why = why, .len = len};
    if (why && len)
        why[0] = '\0';
    if (!mem_heap_ok(h) || h->magic != MEM_MAGIC) {
        fail(&c, "not a heap"); /* never created, released, or its seal is broken */
        return c.problems;
    }
    c.keys = mem_keys(h);
    if (h->observer && h->observer_seal != mem_observer_seal(h, h->observer, h->observer_arg))
        fail(&c, "the observer's pointers were overwritten (they fail their keyed copy)");
    bool geometry = h->ngran >= MIN_GRANS && h->bm_levels == mem_bm_levels(h->ngran);
    for (unsigned l = 0, off = 0; geometry && l < h->bm_levels; off += h->bm_nwords[l], l++)
        geometry = h->bm_off[l] == off && h->bm_nwords[l] == mem_bm_words(h->ngran, l);
    if (h->policy >= MEM_POLICY_COUNT || !geometry || h->order >= MEM_ORDER_COUNT ||
        h->coalesce >= MEM_COALESCE_COUNT ||
        (!mem_is_list_policy(h) && (h->order || h->coalesce))) {
        fail(&c, "the control structure is corrupt");
    } else if (check_blocks(&c)) {
        check_bitmap(&c);
        if (mem_is_list_policy(h))
            check_address_list(&c);
        else if (h->policy == MEM_BUDDY)
            check_buddy_lists(&c);
        else
            check_fast_lists(&c);
        check_run_lists(&c);
    }
    return c.problems;
}

MEM_NO_ASAN int MemHeap_Diagnose(const MemHeap *h, char *why, size_t len)
{
    if (!mem_heap_ok(h)) /* not a heap: do not touch its lock */
        return mem_diagnose_locked(h, why, len);
    bool locked = mem_lock(h);
    int n = mem_diagnose_locked(h, why, len);
    mem_unlock(h, locked);
    return n;
}

MEM_NO_ASAN int MemHeap_Check(const MemHeap *h)
{
    return MemHeap_Diagnose(h, NULL, 0) == 0 ? 0 : -1;
}

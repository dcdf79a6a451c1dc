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
#include "seg.h"

#include <stdarg.h>
#include <stdio.h>

typedef struct Checker {
    const MemHeap *h;
    MemKeys keys;
    int problems;
    char *why;
    size_t len;
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
        if (is_used) {
            size_t slack = mem_slack(b);
            bool sane = tagged && slack < bytes - HDR; /* the object lies in the block */
            if (slack >= bytes - HDR)
                fail(c, "block at +%#zx: padding %zu leaves no object", off(g), slack);
            if ((h->flags & MEM_OPT_GUARD) && slack < GUARD_MIN)
                fail(c, "block at +%#zx: guard of %zu bytes, fewer than %u", off(g), slack,
                     GUARD_MIN);
            if ((h->flags & MEM_OPT_GUARD) && sane) {
                const unsigned char *p = mem_payload(h, g) + mem_object_size(b);
                for (size_t i = 0; i < slack; i++) {
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
            if (!prev_used)
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

MEM_NO_ASAN static void check_address_list(Checker *c)
{
    const MemHeap *h = c->h;
    const MemKeys *k = &c->keys;
    size_t n = 0;
    uint32_t prev = NIL;
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
        if (prev != NIL && prev >= g)
            fail(c, "free list out of address order at +%#zx", off(g));
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

MEM_NO_ASAN int mem_diagnose_locked(const MemHeap *h, char *why, size_t len)
{
    Checker c = {h, {0, 0, 0, 0}, 0, why, len};
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
    if (h->policy >= MEM_POLICY_COUNT || !geometry) {
        fail(&c, "the control structure is corrupt");
    } else if (check_blocks(&c)) {
        check_bitmap(&c);
        if (mem_is_list_policy(h))
            check_address_list(&c);
        else
            check_fast_lists(&c);
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

/*
 * block.h - the block layer: how a block looks in the arena, its integrity
 * tag, the links of a free block, and the bitmap of block starts.  Inline,
 * because every operation of every policy goes through it; the cold parts
 * (the bitmap's summary levels, the tag's hash) are in block.c.
 *
 * The arena
 * ---------
 * Objects must start on 16-byte boundaries and every block carries an 8-byte
 * header, so headers sit 8 bytes before a boundary.  The first 8 bytes of the
 * arena can therefore never belong to a block; the bitmap's first word lives
 * there.  Blocks tile the block area, and the rest of the bitmap follows it:
 *
 *   0        8                                    8+16N            arena
 *   [bm w0 ][hdr|object...|pad][hdr|free .....ftr][bm w1 .. w(T-1)][slack]
 *            ^ granule 0        ^ granule g
 *
 * A block is named by its granule index g: header at 8 + 16g, object at
 * 16(g+1).  Every size and link inside the region is a 32-bit count or index
 * of granules, never a pointer, so another process can read the region
 * mapped at another address.  (A one-page heap: N = 254, T = 4, and a block
 * of 4064 bytes holds an object of up to 4056 bytes: 40 bytes of metadata.)
 *
 * Blocks
 * ------
 *   used:  [size | USED PREV_USED slack tag][object ........][padding]
 *   free:  [size | PREV_USED tag][next][prev] ............ [size footer]
 *
 * size counts granules (at least 2, so a free block can hold its links and
 * its footer).  slack is block bytes - 8 - object bytes, so the exact
 * requested size comes back from 6 bits.  PREV_USED says whether the block
 * before holds an object; when it does not, the 4 bytes before this header
 * are that free block's footer, which is how we coalesce to the left without
 * spending a footer on used blocks.
 *
 * Integrity (issue 9: the program may be hostile)
 * ------------------------------------------------
 * tag is a 24-bit keyed hash of (g, size, and all 8 flag and slack bits),
 * under the heap's secret: a header overwritten by a stray store no longer
 * matches, and a program that knows this format but not the secret cannot
 * forge one (a guess holds with probability 2^-24) nor move one elsewhere.
 * Changing a flag re-tags the header.  A header absorbed by coalescing is
 * cleared, so no valid header lies inside a block.
 *
 * next and prev are stored XOR-ed with a mask keyed by the secret and by g
 * (glibc's safe-linking, position dependent but not address dependent, so
 * the region still reads at any address).  Nothing writes through a link
 * before it is checked (node_ok, linked_ok): the block it names is in
 * range, has a valid tag, is free, and links back.
 *
 * Sizes and the flag and slack bits stay in the clear: a reader without the
 * secret (another process) walks the blocks by their sizes, and can check
 * that they tile the area, that free blocks' footers repeat their sizes and
 * that PREV_USED agrees with the block before; not the tags, nor the links.
 *
 * Wide padding: slack 62 (SLACK_WIDE) says the padding is 62 bytes or more
 * and its exact length is in the block's last 8 bytes, which are part of it
 * (only a buddy block has such padding: half the block at worst):
 *
 *   used:  [size | USED .. 62 tag][object ....][padding ...][slack|wtag]
 *
 * wtag is a 32-bit hash of (size, slack): an overflow that reaches the word
 * is caught, and the object is refused as corrupt rather than miscounted.
 * Guard mode fills the padding up to that word.
 *
 * Interior pointers
 * -----------------
 * A hierarchical bitmap has one bit per granule, set at block starts, and
 * a summary bit per word above it (6 levels at most; the top word is in the
 * control structure).  The block holding byte o is the last set bit at or
 * before (o - 8) / 16: one masked word in the common case, O(log64 n) at
 * worst, never a walk of the blocks.
 */
#ifndef MEM_BLOCK_H
#define MEM_BLOCK_H

#include "mem_internal.h"

#define MEM_HOT MEM_NO_ASAN static inline __attribute__((always_inline))

static inline unsigned msb64(uint64_t x) { return 63u - (unsigned)__builtin_clzll(x); }
static inline unsigned msb32(uint32_t x) { return 31u - (unsigned)__builtin_clz(x); }
static inline unsigned lsb32(uint32_t x) { return (unsigned)__builtin_ctz(x); }

/* The offset of block g's header from the arena base. */
static inline size_t goff(uint32_t g) { return HDR + (size_t)g * GRAN; }

/* Block accessors, by granule index g (header at base + HDR + g * GRAN). */
MEM_NO_ASAN static inline BlockHeader *mem_hdr(const MemHeap *h, uint32_t g)
{
    return (BlockHeader *)(void *)(h->base + HDR + (size_t)g * GRAN);
}
MEM_NO_ASAN static inline unsigned char *mem_payload(const MemHeap *h, uint32_t g)
{
    return h->base + (size_t)(g + 1u) * GRAN;
}
MEM_NO_ASAN static inline uint32_t *mem_links(const MemHeap *h, uint32_t g)
{
    return (uint32_t *)(void *)mem_payload(h, g); /* [0] next, [1] prev */
}
MEM_NO_ASAN static inline uint32_t *mem_footer_before(const MemHeap *h, uint32_t g)
{
    return (uint32_t *)(void *)(h->base + HDR + (size_t)g * GRAN - sizeof(uint32_t));
}
/* The wide padding word's tag (see the top of this file). */
static inline uint32_t wide_tag(uint32_t size, uint32_t slack)
{
    uint32_t x = (slack ^ 0x5bd1e995u) * 0x9E3779B1u + size * 0x85EBCA77u;
    return x ^ x >> 13;
}

/* The padding word of block b (size trusted), read as the two uint32s it
 * is; the slack it holds, or 0 when its tag or its value is wrong. */
MEM_NO_ASAN static inline size_t wide_slack(const BlockHeader *b)
{
    const uint32_t *w = (const uint32_t *)(const void *)((const unsigned char *)b +
                                                         (size_t)b->size * GRAN - 8u);
    uint32_t slack = w[0];
    if (w[1] != wide_tag(b->size, slack) || slack < SLACK_WIDE ||
        (size_t)slack >= (size_t)b->size * GRAN - HDR)
        return 0;
    return slack;
}

/* Bytes after the object of used block b, up to the block's end.  A wide
 * padding word that fails its check gives the whole block but the header
 * (an object of 0 bytes, which no live object has): see wide_ok. */
MEM_NO_ASAN static inline size_t mem_slack(const BlockHeader *b)
{
    size_t s = (b->info >> B_SLACK_SHIFT) & SLACK_MAX;
    if (s == SLACK_WIDE && !(s = wide_slack(b)))
        s = (size_t)b->size * GRAN - HDR;
    return s;
}
MEM_NO_ASAN static inline size_t mem_object_size(const BlockHeader *b)
{
    return (size_t)b->size * GRAN - HDR - mem_slack(b);
}
/* Used block b's padding word, if it has one, is intact. */
MEM_NO_ASAN static inline bool wide_ok(const BlockHeader *b)
{
    return ((b->info >> B_SLACK_SHIFT) & SLACK_MAX) != SLACK_WIDE || wide_slack(b) != 0;
}
/* Bytes of guard after the object of used block b (guard mode): the
 * padding, but a wide padding's word. */
MEM_NO_ASAN static inline size_t mem_guard_len(const BlockHeader *b)
{
    size_t s = mem_slack(b);
    return ((b->info >> B_SLACK_SHIFT) & SLACK_MAX) == SLACK_WIDE ? s - 8u : s;
}
/* first, next, best, worst: the policies of list.c */
MEM_NO_ASAN static inline bool mem_is_list_policy(const MemHeap *h)
{
    return h->policy < MEM_FAST;
}

/* One multiply: (size, g) masked by one secret, times a secret odd number
 * that the 8 flag and slack bits perturb; the product's top 24 bits depend
 * on every bit of the header and its position, and without the heap's keys
 * no tag can be computed. */
MEM_HOT uint32_t mem_tag(const MemKeys *k, uint32_t g, uint32_t size, uint32_t low)
{
    uint64_t x = ((uint64_t)size << 32 | g) ^ k->tag0;
    return (uint32_t)((x * (k->tag1 ^ (uint64_t)low << 1)) >> 40);
}

/* Writes block g's header; low is the flag and slack bits (B_LOW_MASK). */
MEM_HOT void hdr_write_k(const MemHeap *h, const MemKeys *k, uint32_t g, uint32_t size,
                         uint32_t low)
{
    BlockHeader *b = mem_hdr(h, g);
    b->size = size;
    b->info = low | mem_tag(k, g, size, low) << B_TAG_SHIFT;
}

/* Writes used block g: size granules, prev_used (B_PREV_USED or 0), and the
 * padding after its object, slack bytes (wide when it is SLACK_WIDE or more). */

/* A header read at block g (size and info as read) is in range and carries
 * its tag. */
MEM_HOT bool hdr_valid(const MemHeap *h, const MemKeys *k, uint32_t g, uint32_t size,
                       uint32_t info)
{
    return g < h->ngran && size >= MIN_GRANS && size <= h->ngran - g &&
           info >> B_TAG_SHIFT == mem_tag(k, g, size, info & B_LOW_MASK);
}

MEM_HOT bool hdr_ok_k(const MemHeap *h, const MemKeys *k, uint32_t g, const BlockHeader *b)
{
    return hdr_valid(h, k, g, b->size, b->info);
}

/* The same, for code that does not carry the keys (the names other layers
 * use: they take the keys themselves). */
MEM_HOT void hdr_write(const MemHeap *h, uint32_t g, uint32_t size, uint32_t low)
{
    MemKeys k = mem_keys(h);
    hdr_write_k(h, &k, g, size, low);
}

MEM_HOT bool hdr_ok(const MemHeap *h, uint32_t g, const BlockHeader *b)
{
    MemKeys k = mem_keys(h);
    return hdr_ok_k(h, &k, g, b);
}

/* Writes used block g: size granules, prev_used (B_PREV_USED or 0), and the
 * padding after its object, slack bytes (wide when it is SLACK_WIDE or more). */
MEM_HOT void used_write(const MemHeap *h, const MemKeys *k, uint32_t g, uint32_t size,
                        uint32_t prev_used, size_t slack)
{
    if (slack >= SLACK_WIDE) {
        uint32_t *w = (uint32_t *)(void *)(h->base + HDR + (size_t)(g + size) * GRAN - 8u);
        w[0] = (uint32_t)slack;
        w[1] = wide_tag(size, (uint32_t)slack);
        slack = SLACK_WIDE;
    }
    hdr_write_k(h, k, g, size, B_USED | prev_used | (uint32_t)slack << B_SLACK_SHIFT);
}

/* A header absorbed by coalescing: never valid again. */
MEM_HOT void hdr_clear(const MemHeap *h, uint32_t g)
{
    BlockHeader *b = mem_hdr(h, g);
    b->size = 0;
    b->info = 0;
}

/* ---- links, stored masked ---------------------------------------------------- */

/* The mask of block g's links: next is XOR-ed with its high half, prev
 * with its low half. */
MEM_HOT uint64_t link_mask(const MemKeys *k, uint32_t g)
{
    return ((uint64_t)g ^ k->link0) * k->link1;
}

/* Link i (0: next, 1: prev) of free block g, decoded but not checked. */
MEM_HOT uint32_t link_get(const MemHeap *h, const MemKeys *k, uint32_t g, unsigned i)
{
    uint64_t m = link_mask(k, g);
    return mem_links(h, g)[i] ^ (uint32_t)(i ? m : m >> 32);
}

MEM_HOT void link_put(const MemHeap *h, const MemKeys *k, uint32_t g, unsigned i, uint32_t v)
{
    uint64_t m = link_mask(k, g);
    mem_links(h, g)[i] = v ^ (uint32_t)(i ? m : m >> 32);
}

MEM_HOT void links_put(const MemHeap *h, const MemKeys *k, uint32_t g, uint32_t next,
                       uint32_t prev)
{
    uint64_t m = link_mask(k, g);
    uint32_t *l = mem_links(h, g);
    l[0] = next ^ (uint32_t)(m >> 32);
    l[1] = prev ^ (uint32_t)m;
}

/* Free block g can be trusted before the heap writes through it: a valid
 * free header and links that stay inside the block area.  An overrun from
 * the object before it, or a store into freed memory, fails here, and
 * nothing is split, merged or unlinked through it.  (Its footer, at the far
 * end of the block, is not read: every write that follows rewrites it, and
 * MemHeap_Check compares it.) */
MEM_HOT bool free_block_ok_k(const MemHeap *h, const MemKeys *k, uint32_t g)
{
    const BlockHeader *b = mem_hdr(h, g);
    if (!hdr_ok_k(h, k, g, b) || (b->info & B_USED))
        return false;
    uint32_t next = link_get(h, k, g, 0), prev = link_get(h, k, g, 1);
    return (next == NIL || next < h->ngran) && (prev == NIL || prev < h->ngran);
}

MEM_HOT bool free_block_ok(const MemHeap *h, uint32_t g)
{
    MemKeys k = mem_keys(h);
    return free_block_ok_k(h, &k, g);
}

/* The next block of a free list, NIL at its end; a link out of the block
 * area (a damaged list) ends the list instead of being followed. */
MEM_HOT uint32_t link_next(const MemHeap *h, const MemKeys *k, uint32_t g)
{
    uint32_t n = link_get(h, k, g, 0);
    return n < h->ngran ? n : NIL;
}

/* A list head as stored, or NIL when it is out of range. */
MEM_NO_ASAN static inline uint32_t link_first(const MemHeap *h, uint32_t head)
{
    return head < h->ngran ? head : NIL;
}

/* Rewrites the PREV_USED bit of block g (if g is a block, not the end), and
 * so its tag.  The caller has checked g's header: a damaged one is never
 * re-tagged into a valid one. */
MEM_HOT void set_prev_used(const MemHeap *h, const MemKeys *k, uint32_t g, bool used)
{
    if (g >= h->ngran)
        return;
    BlockHeader *b = mem_hdr(h, g);
    uint32_t low = (b->info & B_LOW_MASK & ~B_PREV_USED) | (used ? B_PREV_USED : 0u);
    hdr_write_k(h, k, g, b->size, low);
}

MEM_HOT void footer_write(const MemHeap *h, uint32_t g, uint32_t size)
{
    *mem_footer_before(h, g + size) = size;
}

/* ---- the bitmap of block starts ----------------------------------------- */

MEM_NO_ASAN static inline void bm_set(const MemHeap *h, uint32_t g)
{
    uint64_t *w = mem_bm_word(h, 0, g >> 6);
    uint64_t was = *w;
    *w = was | (uint64_t)1 << (g & 63u);
    if (!was)
        mem_bm_set_up(h, g >> 6);
}

MEM_NO_ASAN static inline void bm_clear(const MemHeap *h, uint32_t g)
{
    uint64_t *w = mem_bm_word(h, 0, g >> 6);
    *w &= ~((uint64_t)1 << (g & 63u));
    if (!*w)
        mem_bm_clear_up(h, g >> 6);
}

/* A block starts at granule g (g < ngran). */
MEM_HOT bool bm_test(const MemHeap *h, uint32_t g)
{
    return (*mem_bm_word(h, 0, g >> 6) >> (g & 63u)) & 1u;
}

/* Granules [g, g + size) become a free block: its header (low: the
 * PREV_USED bit), its footer, its bit among the block starts.  (Its links
 * are the free structure's business: list.c, seg.h.) */
MEM_HOT void free_block_write(const MemHeap *h, const MemKeys *k, uint32_t g, uint32_t size,
                             uint32_t low)
{
    hdr_write_k(h, k, g, size, low);
    footer_write(h, g, size);
    bm_set(h, g);
}

/* The block start at or before granule q, or NIL.  Most objects start
 * within 64 granules (1 KiB) of any of their bytes: one masked word answers. */
MEM_NO_ASAN static inline uint32_t bm_find_prev(const MemHeap *h, uint32_t q)
{
    uint64_t w = *mem_bm_word(h, 0, q >> 6) & (~(uint64_t)0 >> (63u - (q & 63u)));
    if (w)
        return (q & ~(uint32_t)63) | msb64(w);
    return mem_bm_find_prev_slow(h, q);
}

/* ---- checks before the heap writes through a link ------------------------------ */

/* x names a free block: in range, with a valid tag, free.  (Only block
 * starts carry valid headers: the library erases those that coalescing
 * swallows.  A header copied elsewhere fails its tag, which covers its
 * position.) */
MEM_HOT bool node_ok(const MemHeap *h, const MemKeys *k, uint32_t x)
{
    if (x >= h->ngran)
        return false;
    const BlockHeader *b = mem_hdr(h, x);
    return hdr_ok_k(h, k, x, b) && !(b->info & B_USED);
}

/* Free block g's place in its list is sound: its prev is a free block whose
 * next is g (or, with no prev, head is g), and its next is NIL or a free
 * block whose prev is g (glibc's double-linked check, on checked blocks).
 * Unlinking or replacing g writes through exactly these two.  *next gets
 * the next block. */
MEM_HOT bool linked_ok(const MemHeap *h, const MemKeys *k, uint32_t g, uint32_t head,
                       uint32_t *next)
{
    uint64_t m = link_mask(k, g);
    const uint32_t *l = mem_links(h, g);
    uint32_t n = l[0] ^ (uint32_t)(m >> 32), p = l[1] ^ (uint32_t)m;
    if (p == NIL ? head != g : p == g || !node_ok(h, k, p) || link_get(h, k, p, 0) != g)
        return false;
    *next = n;
    return n == NIL || (n != g && node_ok(h, k, n) && link_get(h, k, n, 1) == g);
}

/* A list's head may take a block before it: NIL, or a free block with no
 * prev. */
MEM_HOT bool head_ok(const MemHeap *h, const MemKeys *k, uint32_t head)
{
    return head == NIL || (node_ok(h, k, head) && link_get(h, k, head, 1) == NIL);
}

#endif /* MEM_BLOCK_H */

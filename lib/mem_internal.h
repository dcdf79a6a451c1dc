/*
 * mem_internal.h - the heap's private layout, shared by the files of lib/.
 * Nothing outside lib/ includes this file (but white-box tests).
 *
 * lib/ is split by layer, one job per file:
 *   block.h, block.c   the block format, its integrity tag, the start bitmap
 *   list.c             first/next/best/worst: one free list (address, LIFO, FIFO order)
 *   seg.h, seg.c       fast: segregated free lists indexed by bitmaps (TLSF)
 *   runs.h, runs.c     fast: small objects in runs of equal slots
 *   buddy.c            buddy: power-of-two blocks, one free list per order
 *   heap.c             allocation, free and lookup: split, coalesce, classify
 *   resize.c           resizing in place, aligned allocation
 *   view.c             read-only views of a heap mapped at another address
 *   hooks.c            region, walks, statistics, observer and events
 *   create.c           creating and releasing heaps, policy names
 *   secret.c           the secrets that key the metadata, and the seals
 *   lock.c             the heap's lock, and the gate that makes fork safe
 *   check.c            the invariant checker
 *   facade.c           the classic Mem_* API over one default heap
 */
#ifndef MEM_INTERNAL_H
#define MEM_INTERNAL_H

#include "mem.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* MEM_DEBUG 0: none; 1: cheap assertions; 2: MemHeap_Check at the entry and
 * exit of every operation.  MEM_ASSERT may be overridden by the build. */
#ifndef MEM_DEBUG
#define MEM_DEBUG 0
#endif
#ifndef MEM_ASSERT
#define MEM_ASSERT(x) assert(x)
#endif
#if MEM_DEBUG >= 2
#define MEM_ASSERT_EXPENSIVE(x) MEM_ASSERT(x)
#else
#define MEM_ASSERT_EXPENSIVE(x) ((void)0)
#endif

/* ---- AddressSanitizer: let it see inside the arena ---------------------
 * Object bytes are unpoisoned while live; everything else in the arena
 * (headers, free space, padding, the bitmap) stays poisoned, so a program's
 * stray access is reported like a glibc heap error.  The library's own
 * functions are not instrumented (MEM_NO_ASAN): they legitimately touch
 * metadata.  They avoid libc's mem* functions on the arena, which ASan
 * intercepts, or unpoison around them. */
#if defined(__SANITIZE_ADDRESS__)
#define MEM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MEM_ASAN 1
#endif
#endif
#ifndef MEM_ASAN
#define MEM_ASAN 0
#endif
#if MEM_ASAN
#include <sanitizer/asan_interface.h>
#define MEM_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define MEM_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#define MEM_NO_ASAN __attribute__((no_sanitize_address))
#else
#define MEM_POISON(p, n) ((void)(p), (void)(n))
#define MEM_UNPOISON(p, n) ((void)(p), (void)(n))
#define MEM_NO_ASAN
#endif

/* ---- Geometry ---------------------------------------------------------- */
#define GRAN 16u             /* bytes per granule (MEM_ALIGNMENT) */
#define HDR 8u               /* MEM_HEADER_SIZE */
#define MIN_GRANS 2u         /* MEM_MIN_BLOCK / GRAN */
#define NIL UINT32_MAX       /* "no block" in links and heads */
#define GUARD_MIN 8u         /* guard mode: bytes of guard at least */
#define GUARD_BYTE 0xABu     /* guard mode: the pattern */
#define SLACK_MAX 63u        /* the header's 6-bit padding field */
#define SLACK_WIDE 62u       /* the field's mark of wide padding (block.h): its
                                length is at the block's end (buddy) */

/* Header bits of BlockHeader.info */
#define B_USED 1u            /* this block holds an object */
#define B_PREV_USED 2u       /* the block before is used (it has no footer) */
#define B_SLACK_SHIFT 2u     /* 6 bits: block bytes - HDR - object bytes */
#define B_LOW_MASK 0xFFu     /* the flag and slack bits; above: the tag, which
                                covers them all, the size and the position */
#define B_TAG_SHIFT 8u
/* A run (MEM_FAST's small objects, runs.h) is a used block whose slack
 * field is all ones.  An object's block never has more than 39 bytes of
 * slack (need_grans: 23 for the smallest block, 16 more when a block is
 * taken whole), so no object block carries this mark; a buddy block's
 * longer padding is wide (SLACK_WIDE, one below it). */
#define B_RUN_MARK (B_USED | SLACK_MAX << B_SLACK_SHIFT)

typedef struct BlockHeader {
    uint32_t size;           /* granules in the whole block, header included */
    uint32_t info;           /* B_* flags, slack, 24-bit integrity tag */
} BlockHeader;

_Static_assert(sizeof(BlockHeader) == HDR, "header layout");
_Static_assert(GRAN == MEM_ALIGNMENT, "granule is the alignment");
_Static_assert(MIN_GRANS * GRAN == MEM_MIN_BLOCK, "minimum block");

/* ---- Bitmap of block starts ---------------------------------------------
 * Level 0 has one bit per granule index; level k+1 one bit per word of
 * level k (set iff that word is not zero).  The last level is one word and
 * lives in the control structure; the others live in the arena.  Where a
 * word lives is an offset, bounded by the arena on use, never a stored
 * pointer: a damaged control structure cannot send a bitmap store astray. */
#define BM_LEVELS 6u

/* ---- Keys ------------------------------------------------------------------
 * Each heap has its own secret (secret.c), drawn from the OS at creation:
 * the header tags and the free-list links are keyed with it.  The control
 * structure keeps it XOR-ed with the process's secret, which lives in the
 * library's static storage, out of every region. */
enum {
    K_TAG0,      /* XOR-ed into a header's size and position */
    K_TAG1,      /* the tag's odd multiplier */
    K_LINK0,     /* a free block's link mask: (g ^ K_LINK0) * K_LINK1 */
    K_LINK1,
    K_OBSERVER,  /* the observer's keyed copy */
    K_RUN0,      /* a run's live bitmap words: (bits ^ K_RUN0) * K_RUN1 */
    K_RUN1,
    MEM_KEYS
};

/* ---- Two-level segregated lists (MEM_FAST) ------------------------------ */
#define SL_BITS 4u
#define SL_COUNT (1u << SL_BITS)
#define FL_COUNT 29u         /* sizes up to 2^32 granules */
#define FAST_FALLBACK_SCAN 32u /* blocks examined in the exact class at most */

/* ---- Binary buddy (MEM_BUDDY) ------------------------------------------- */
#define BUDDY_MIN_ORDER 1u   /* 2 granules: MEM_MIN_BLOCK */
#define BUDDY_MAX_ORDER 28u  /* 2^28 granules, 4 GiB: padding fits 32 bits */
/* ---- Runs (MEM_FAST's small objects; runs.h explains them) ------------- */
#define RUN_CLASSES 16u      /* size classes served by runs */
#define RUN_MAX_SIZE 512u    /* the largest request a run serves */
_Static_assert(RUN_MAX_SIZE == MEM_RUN_MAX, "one limit");

/* One size class of one heap: 64 bytes, the fields of the fast paths
 * first.  The geometry is fixed when the heap is created (runs are sized
 * to the heap); the lists and counts change. */
typedef struct RunClass {
    uint64_t head_hdr;       /* the first listed run's header, as it was
                                when last checked (runs.h: the fast path) */
    uint32_t partial;        /* the runs with a free slot: a list through
                                their tables (RunTable.next), NIL-ended */
    uint32_t live;           /* live slots in this class's runs */
    uint16_t size;           /* bytes per slot */
    uint16_t nslots;         /* slots per run; 0: the class is not served
                                by runs in this heap */
    uint16_t slots_at;       /* bytes from a run's table to its slot 0 */
    uint16_t sizes_at;       /* bytes from a run's table to its sizes */
    uint32_t slot_bytes;     /* nslots * size */
    uint32_t recip;          /* slot = (granules into the slots * recip)
                                >> RUN_RECIP_SHIFT */
    uint32_t grans;          /* granules of a run's block (one more when the
                                rest of its free block could not be split
                                off) */
    uint8_t words;           /* 64-bit words of the live bitmap */
    uint8_t nibbles;         /* 1: the sizes are 4 bits a slot (a class
                                whose sizes are at most 16 bytes apart) */
    uint8_t reserved[2];
    uint32_t spare;          /* an empty run kept for the next allocation
                                (hysteresis), or NIL */
    uint32_t nruns;          /* runs of this class, the spare included */
    uint32_t reserved2[4];
} RunClass;

_Static_assert(sizeof(RunClass) == 64, "one cache line per class");

struct MemHeap {
    uint32_t magic;
    uint8_t policy;          /* MemPolicy */
    uint8_t flags;           /* MEM_OPT_* */
    uint8_t bm_levels;       /* levels of the bitmap, the top one included */
    uint8_t order;           /* MemOrder of the list policies' free list */
    uint8_t coalesce;        /* MemCoalesce */
    /* process-local, first: as far as can be from the arena, which an
     * object's underflow reaches through the seal first */
    uint32_t lock_depth;         /* re-entries by the owner (observers, visitors) */
    atomic_uintptr_t lock_owner; /* the owning thread's token, 0 when free */
    atomic_uint lock_word;       /* the lock (lock.c): 0 free, 1 held, 2 held and
                                    a thread may sleep on it (a futex) */
    unsigned char *base;     /* arena base.  This, the observer and the lock
                                owner are this process's pointers: a reader
                                mapping the region elsewhere must recompute
                                them (view.c); everything inside the arena is
                                offsets and counts */
    size_t arena;            /* bytes of the arena */
    size_t control;          /* bytes of control before the arena (Create) */
    uint32_t ngran;          /* N: the block area is [HDR, HDR + N * GRAN) */
    uint32_t bm_off[BM_LEVELS]; /* first storage word of each stored level */
    uint32_t bm_nwords[BM_LEVELS]; /* words in each level */
    uint64_t bm_top;         /* the top level's only word */

    /* list policies: one doubly linked list, in address order or (LIFO,
     * FIFO) in the order blocks joined it: each free block then records
     * when, from seq (list.c) */
    uint32_t head, tail;
    uint32_t rover;          /* next fit: where the next search begins */
    uint64_t seq;            /* LIFO, FIFO: the last stamp given */

    /* MEM_FAST: bitmaps of non-empty lists, and their heads */
    uint32_t fl_map;
    uint32_t sl_map[FL_COUNT];
    uint32_t fast_head[FL_COUNT][SL_COUNT];

    /* MEM_FAST: a largest free block, kept as blocks come and go so that
     * Stats and a failed allocation need no search (hooks.c) */
    uint32_t big;            /* its granule, NIL when there is no free block */
    uint32_t big_size;       /* its granules */
    bool big_known;          /* false: it left, the next question searches */
    /* MEM_BUDDY: bit k set iff the list of free blocks of 2^k granules is
     * not empty, and the lists' heads (index 0 unused) */
    uint32_t buddy_map;
    uint32_t buddy_head[BUDDY_MAX_ORDER + 1u];
    /* MEM_FAST: small objects in runs (all classes off for the list
     * policies and in guard mode) */
    RunClass runs[RUN_CLASSES];
    uint8_t run_gate;        /* 0: MemHeap_Alloc and _Free may try the run
                                fast paths (runs.h); else RUN_GATE_* bits */
    uint32_t run_spares;     /* classes holding a spare run */
    size_t run_bytes;        /* bytes of all runs' blocks */

    /* counters, kept as the operations go; MemHeap_Check recounts them */
    size_t live_bytes, used_bytes, free_blocks; /* free bytes: the rest;
                                                  used blocks: allocs - frees */
    size_t peak_live, peak_used;
    uint64_t allocs, frees, failed, rejected, overflows, resizes;
    uint64_t deferred;       /* deferred coalesces run */

    /* this heap's secret XOR the process's (K_*).  unsigned long long, not
     * uint64_t (unsigned long): no store to a counter or a bitmap word can
     * alias it, so the compiler keeps the keys in registers across them. */
    unsigned long long key[MEM_KEYS];

    /* process-local */
    MemObserver observer;
    void *observer_arg;
    uint64_t observer_seal;      /* keyed hash of the two: checked before a call */

    /* Last, next to the arena: an underflow from the first object reaches it
     * before any other field.  A keyed hash of the heap's address and of the
     * fields that steer every store (base, arena, ngran, policy, flags);
     * every entry point compares it, and refuses a heap whose seal fails
     * (released, never created, or damaged).  Both words hold it; the
     * second ends the structure. */
    _Alignas(MEM_ALIGNMENT) uint64_t seal[2];
};

_Static_assert(sizeof(struct MemHeap) % MEM_ALIGNMENT == 0, "the seal ends the control structure");

#define MEM_MAGIC 0x4d454d31u /* "MEM1" */

/* A flags bit no caller can set: the heap is a read-only view (view.c), and
 * every function that would write to it refuses. */
#define MEM_VIEW_FLAG 0x80u

/* "secret.c" */
#define MEM_SECRETS (MEM_KEYS + 2u)
extern unsigned long long mem_secret[MEM_SECRETS]; /* [0, MEM_KEYS): masks of the
                                                      heaps' keys; then the seal's */
void mem_secret_init(void);
void mem_key_draw(MemHeap *heap);
uint64_t mem_observer_seal(const MemHeap *heap, MemObserver observer, const void *arg);

/* One of the heap's keys, unmasked. */
static inline uint64_t mem_key(const MemHeap *h, unsigned k)
{
    return h->key[k] ^ mem_secret[k];
}

/* The heap's keys, unmasked: an operation takes them once (mem_keys) and
 * passes them down (block.h), so they stay in registers whatever it stores. */
typedef struct MemKeys {
    unsigned long long tag0, tag1, link0, link1;
} MemKeys;

static inline MemKeys mem_keys(const MemHeap *h)
{
    MemKeys k = {mem_key(h, K_TAG0), mem_key(h, K_TAG1), mem_key(h, K_LINK0),
                 mem_key(h, K_LINK1)};
    return k;
}

/* The seal of a heap at this address with these fields: one multiply by a
 * secret odd number.  The structure's first 8 bytes (magic, policy, flags,
 * bm_levels) are taken as one word.  One of the heap's keys is in it too:
 * a heap made again at the same place with the same fields has new keys
 * and so seals differently, which the per-thread copy below relies on. */
static inline uint64_t mem_seal_of(const MemHeap *h)
{
    uint64_t head;
    memcpy(&head, h, sizeof head);
    uint64_t a = (uintptr_t)h->base ^ (uintptr_t)h ^ h->arena ^ (uint64_t)h->ngran << 32 ^ head ^
                 h->key[K_TAG0];
    return (a ^ mem_secret[MEM_KEYS]) * mem_secret[MEM_KEYS + 1u];
}

/* heap is a live heap of this process: created, not released, its seal whole. */
static inline bool mem_heap_ok(const MemHeap *h)
{
    return h && h->seal[1] == mem_seal_of(h);
}

/* The fast paths' copy of a heap's seal (secret.c), one per thread: the
 * heap this thread last found sound and its seal then.  Thread-local
 * storage is in no region: no object's overflow reaches it (as the
 * process's secret).  While the heap's seal still reads as the copy, the
 * heap is the one that was checked (a store that reached the structure's
 * fields from the arena went through the seal, and a heap made again in
 * its place seals differently): the fast paths compare one word where
 * they computed the seal. */
typedef struct MemHot {
    const MemHeap *heap;     /* NULL: none yet */
    uint64_t seal;
} MemHot;

extern _Thread_local MemHot mem_hot __attribute__((tls_model("initial-exec")));

/* Heap h (not NULL) is the heap this thread last found sound, its seal as
 * it was: a live heap of this process, as mem_heap_ok would say.  false
 * sends the caller to its full path, which checks the seal and takes the
 * copy (mem_heap_note): the fast paths make no call. */
MEM_NO_ASAN static inline bool mem_heap_hot(const MemHeap *h)
{
    return mem_hot.heap == h && h->seal[1] == mem_hot.seal;
}

/* Heap h passed mem_heap_ok: this thread's copy. */
MEM_NO_ASAN static inline void mem_heap_note(const MemHeap *h)
{
    mem_hot.heap = h;
    mem_hot.seal = h->seal[1];
}

/* While the process has one thread (glibc says so) there is nobody to
 * exclude, and the lock's atomic is skipped, as glibc's own malloc does. */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
#include <sys/single_threaded.h>
#define MEM_SINGLE_THREADED() (__libc_single_threaded != 0)
#else
#define MEM_SINGLE_THREADED() 0
#endif

/* "block.c" */
size_t mem_bm_words(uint32_t nbits, unsigned level);
unsigned mem_bm_levels(uint32_t ngran);
uint64_t *mem_bm_summary_word(const MemHeap *heap, unsigned level, size_t word);
void mem_bm_set_up(const MemHeap *heap, size_t idx);
void mem_bm_clear_up(const MemHeap *heap, size_t idx);
uint32_t mem_bm_find_prev_slow(const MemHeap *heap, uint32_t q);

/* Level 0 as an array from which words 1 and up are read directly (word 0
 * is the arena's first 8 bytes: mem_bm_word). */
MEM_NO_ASAN static inline const uint64_t *mem_bm_level0(const MemHeap *h)
{
    return (const uint64_t *)(const void *)(h->base + HDR + (size_t)h->ngran * GRAN) - 1;
}

/* Word w of the bitmap's level l.  Level 0's word 0 is the arena's first 8
 * bytes; its others follow the block area; the summary levels after them
 * (block.c).  Callers keep w below the level's words. */
MEM_NO_ASAN static inline uint64_t *mem_bm_word(const MemHeap *h, unsigned level, size_t word)
{
    if (level == 0) {
        unsigned char *w = word == 0 ? h->base
                                     : h->base + HDR + (size_t)h->ngran * GRAN + (word - 1u) * 8u;
        return (uint64_t *)(void *)w;
    }
    return mem_bm_summary_word(h, level, word);
}

/* "lock.c" */
bool mem_lock_slow(const MemHeap *heap);
void mem_unlock_slow(const MemHeap *heap);

/* "list.c": the free structure of first, next, best and worst fit.
 * search finds a block of at least need granules (NIL if none); take
 * removes block g from the list, leaving in its place the remainder r split
 * off its end (NIL when the whole block is taken); release puts a freed
 * block back: start is the merged block, right the right neighbour that it
 * absorbed (when neighbours has MEM_RIGHT), prev and next its place when it
 * has no free neighbour (or, in LIFO or FIFO order, its place at an end);
 * add puts a block that joins the list between prev and next (add_ok finds
 * them by the heap's order); coalesce_all is the deferred coalesce (merges
 * made); stamp is when block g joined the list (LIFO, FIFO).  The *_ok
 * functions check, before anything is written, every block that the
 * operation will write through. */
uint32_t mem_list_search(MemHeap *heap, const MemKeys *k, uint32_t need, size_t *examined);
bool mem_list_take_ok(const MemHeap *heap, const MemKeys *k, uint32_t g);
void mem_list_take(MemHeap *heap, const MemKeys *k, uint32_t g, uint32_t r);
bool mem_list_release_ok(const MemHeap *heap, const MemKeys *k, uint32_t start, uint32_t right,
                         unsigned neighbours, uint32_t *prev, uint32_t *next);
void mem_list_release(MemHeap *heap, const MemKeys *k, uint32_t start, uint32_t right, unsigned neighbours,
                      uint32_t rover_before, uint32_t prev, uint32_t next);
bool mem_list_add_ok(const MemHeap *heap, const MemKeys *k, uint32_t g, uint32_t *prev,
                     uint32_t *next);
void mem_list_add(MemHeap *heap, const MemKeys *k, uint32_t g, uint32_t prev, uint32_t next);
size_t mem_list_coalesce_all(MemHeap *heap, const MemKeys *k);
uint64_t mem_list_stamp(const MemHeap *heap, uint32_t g);
void mem_list_link(MemHeap *heap, const MemKeys *k, uint32_t g, uint32_t prev, uint32_t next);

/* "seg.c" (the rest of MEM_FAST's free structure is inline in seg.h) */
void mem_fast_mapping(uint32_t size, unsigned *fl, unsigned *sl);

/* "buddy.c": MEM_BUDDY but for what every policy shares (classify, the
 * events, the counters).  init tiles a new heap's block area; ok says a used
 * block has a buddy block's shape (a power of two aligned to its size); alloc
 * and free are the operations (free takes a used block that classify,
 * neighbours_ok and ok have accepted); largest is the largest free block (the
 * lowest of equals; NIL and 0 bytes when none). */
typedef struct EventBuf EventBuf;
void mem_buddy_init(MemHeap *heap, const MemKeys *k);
bool mem_buddy_ok(const MemHeap *heap, uint32_t g);
void *mem_buddy_alloc(MemHeap *heap, const MemKeys *k, size_t size, EventBuf *eb);
void mem_buddy_free(MemHeap *heap, const MemKeys *k, uint32_t g, EventBuf *eb, ptrdiff_t given);
uint32_t mem_buddy_largest(const MemHeap *heap, const MemKeys *k, size_t *bytes);

/* "hooks.c": events.  An operation raises at most a handful of events; they
 * are delivered when it has completed, so an observer always sees a
 * consistent heap.  Nothing is built when no observer is installed. */
struct EventBuf {
    bool on;     /* an observer is installed: build events at all */
    unsigned n;
    uint64_t op; /* this operation's number, from 1 */
    MemEvent ev[2u * RUN_CLASSES + 4u]; /* an allocation that gives back
                        every spare run: a RUN_RELEASE and a COALESCE each */
};

MEM_NO_ASAN static inline void mem_ev_begin(EventBuf *eb, const MemHeap *h)
{
    eb->n = 0;
    eb->on = h->observer != NULL;
    if (eb->on)
        eb->op = h->allocs + h->frees + h->failed + h->rejected + h->resizes + 1u;
}
MemEvent *mem_ev_add(EventBuf *eb, const MemHeap *heap, MemEventKind kind);
void mem_ev_flush(const MemHeap *heap, const EventBuf *eb);
void mem_ev_rover(EventBuf *eb, const MemHeap *heap, uint32_t before);
uint32_t mem_largest_free(const MemHeap *heap, size_t *bytes);

/* "create.c" */
MemHeap *mem_heap_init(MemHeap *heap, void *arena, size_t size, const MemOptions *options,
                       size_t control);

/* "heap.c" */
size_t mem_guard_damage(const MemHeap *heap, uint32_t g);
/* for buddy.c: the granules of a block holding size bytes (0: none can);
 * writing the guard after an object; counting a failed allocation (and its
 * event), a successful one (and its ALLOC event, see heap.c); what a free
 * does before merging (the guard and its event, the counters); the FREE
 * event */
uint32_t mem_need_grans(const MemHeap *heap, size_t size);
void mem_guard_fill(unsigned char *from, size_t n);
void mem_alloc_failed(MemHeap *heap, size_t size, size_t examined, EventBuf *eb);
void mem_alloc_done(MemHeap *heap, EventBuf *eb, size_t size, uint32_t g, size_t block_bytes,
                    size_t chosen, size_t rest, size_t examined);
void mem_free_begin(MemHeap *heap, uint32_t g, uint32_t size, size_t obj_size, EventBuf *eb,
                    ptrdiff_t given);
MemEvent *mem_ev_free(EventBuf *eb, const MemHeap *heap, uint32_t g, uint32_t size,
                      size_t obj_size, ptrdiff_t given);
/* for resize.c: which block holds ptr and whether it is inside its live
 * object; whether free block g may be taken for need granules (every block
 * the take writes through checked) and taking it (heap.c's take_ok and
 * take_block); counting a resize; the end of a successful allocation
 * (header, guard, counters, event) */
MemReject mem_classify(const MemHeap *heap, const MemKeys *k, const void *ptr, uint32_t *g,
                       uint32_t *slot);
bool mem_take_ok(const MemHeap *heap, const MemKeys *k, uint32_t g, uint32_t need);
uint32_t mem_take_block(MemHeap *heap, const MemKeys *k, uint32_t g, uint32_t total,
                        uint32_t need, uint32_t *r, uint32_t *rest);
void mem_count_used(MemHeap *heap, size_t block_bytes, size_t live_bytes);
void *mem_alloc_commit(MemHeap *heap, const MemKeys *k, uint32_t g, uint32_t need,
                       uint32_t prev_used, size_t size, EventBuf *eb, size_t examined,
                       uint32_t total, uint32_t remainder, uint32_t rover_before);
/* A block of need granules (or one more) for a run, its header written as
 * a run's (B_RUN_MARK), or NIL when MEM_FAST's search finds none; nothing
 * is counted as failed.  *remainder: the bytes split off. */
uint32_t mem_block_for_run(MemHeap *heap, uint32_t need, size_t *examined, size_t *remainder);
/* Gives run g's block back (MEM_EV_RUN_RELEASE, then it coalesces); false,
 * changing nothing, when its neighbours fail their checks. */
bool mem_block_release_run(MemHeap *heap, uint32_t g, EventBuf *eb);

/* "runs.c" (the hot paths are inline in runs.h) */
void mem_runs_init(MemHeap *heap);
/* Sets run_gate from the policy, flags and observer (SetObserver calls it). */
void mem_run_gate(MemHeap *heap);
/* Gives back a spare run whose block, merged with its free neighbours,
 * holds need granules; false (nothing changed) when there is none. */
bool mem_run_release_for(MemHeap *heap, uint32_t need, EventBuf *eb);
void mem_run_describe(const MemHeap *heap, uint32_t g, MemBlock *out);
/* For resizing in place (MemHeap_Resize): the live object in slot `slot`
 * of sound run g becomes size bytes when size is still of its slot's class
 * (then true, the counters follow); false, changing nothing, otherwise
 * (the object must move).  The caller holds the lock. */
bool mem_run_resize(MemHeap *heap, uint32_t g, uint32_t slot, size_t size);
void mem_run_stats(const MemHeap *heap, MemStats *s);

/* "check.c" */
int mem_diagnose_locked(const MemHeap *heap, char *why, size_t len);

/* Every function that reads or writes the arena is MEM_NO_ASAN, public entry
 * points included: a helper inlined into an instrumented caller would be
 * instrumented with it. */

/* Returns whether the lock was taken; pass that to mem_unlock. */
MEM_NO_ASAN static inline bool mem_lock(const MemHeap *h)
{
    if ((h->flags & (MEM_OPT_NOLOCK | MEM_VIEW_FLAG)) || MEM_SINGLE_THREADED())
        return false;
    return mem_lock_slow(h);
}

MEM_NO_ASAN static inline void mem_unlock(const MemHeap *h, bool locked)
{
    if (locked)
        mem_unlock_slow(h);
}

#endif /* MEM_INTERNAL_H */

/*
 * mem.h - libmem: an observable allocator over one region of memory.
 *
 * Two layers:
 *
 *   Mem_*      The classic API of the course project.  One default heap whose
 *              memory comes from exactly one mmap() call made by Mem_Init().
 *   MemHeap_*  Instances over memory the caller provides.  No global state:
 *              create as many heaps as you like, side by side.  The Mem_*
 *              functions are thin wrappers over one such instance.
 *
 * Every object is aligned to MEM_ALIGNMENT bytes.  Unlike free(), the free
 * and query functions accept a pointer to ANY byte inside a live object,
 * and they find the object in O(log64 n) time without walking the blocks.
 *
 * The library never prints, never calls malloc/calloc/realloc/free, sbrk or
 * brk, and calls mmap only in Mem_Init (once, or again after a failed try).
 * It asks the OS for random secrets with getrandom().  Errors are return
 * values.
 *
 * Thread safety: every function that takes a heap is safe to call from
 * several threads at once unless the heap was created with MEM_OPT_NOLOCK.
 * Creating a heap is not synchronised with other calls on the same memory.
 * fork() is safe from any thread at any time: see "fork" below.
 *
 * Security: the program may be hostile (see "Security" below).  Whatever
 * its objects' overflows, underflows and stale stores do to the metadata,
 * no allocation overlaps a live object and the library writes nothing
 * outside the heap's region; damaged metadata is refused, never trusted.
 *
 * Sizes and offsets reported by the hooks are in bytes; offsets are counted
 * from the heap's arena base (MemRegion.base), never absolute addresses,
 * because the metadata inside the region is position independent.
 */
#ifndef MEM_H
#define MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MEM_VERSION "1.0.0"

/* The library is built with hidden visibility; this marks its API. */
#if defined(MEM_BUILDING_LIBRARY) && defined(__GNUC__)
#define MEM_API __attribute__((visibility("default")))
#else
#define MEM_API
#endif

/* Every object returned is aligned to this many bytes. */
#define MEM_ALIGNMENT 16

/* Metadata bytes at the start of every block (the block header). */
#define MEM_HEADER_SIZE 8

/* Smallest block the heap manages, header included. */
#define MEM_MIN_BLOCK 32

/* The largest request MEM_FAST serves from a run (MemHeap_SlotSize). */
#define MEM_RUN_MAX 512

/* Smallest arena MemHeap_Create() accepts: the region must hold the heap's
 * control structure (MemHeap_ControlSize(), plus up to 15 bytes to align it)
 * and then at least this many bytes, which hold one block of 48 bytes (an
 * object of up to 40; under MEM_BUDDY a block of 32).  The arena, not the
 * region, has the minimum because the control structure is over 2 KiB while
 * a lecture's heap can be 100 bytes. */
#define MEM_MIN_ARENA 64

/* A region of this many bytes is always large enough for MemHeap_Create
 * (any alignment, any build).  Not the minimum: see MEM_MIN_ARENA. */
#define MEM_MIN_REGION 4096

/* Largest arena a heap can manage: block offsets are 32-bit counts of
 * MEM_ALIGNMENT-byte granules.  Larger regions are used up to this size. */
#define MEM_MAX_ARENA ((size_t)0xFFFFFFF0u * 16u)

/* ------------------------------------------------------------------------ */
/* The classic API                                                          */
/* ------------------------------------------------------------------------ */

/*
 * Takes sizeOfRegion bytes, rounded up to the page size, from the OS with one
 * mmap() call, and sets up the default heap in it.  The placement policy is
 * MEM_FAST unless the environment variable MEM_POLICY names another
 * ("first", "next", "best", "worst", "fast", "buddy").
 *
 * Returns 0 on success.  Fails, returning -1 with errno set, iff:
 *   - sizeOfRegion <= 0, or too large to round up           (EINVAL)
 *   - MEM_POLICY is set to an unknown name                  (EINVAL)
 *   - Mem_Init already succeeded, or another call is in it  (EBUSY)
 *   - mmap fails                                            (mmap's errno)
 * A failure leaves no trace, so a corrected or later call may follow.
 * Thread safe: of concurrent calls at most one succeeds.
 */
MEM_API int Mem_Init(int sizeOfRegion);

/*
 * Returns a new object of exactly size bytes, aligned to MEM_ALIGNMENT.
 * Returns NULL iff size <= 0, Mem_Init has not succeeded, or no free block
 * fits (under MEM_FAST: no run has a free slot for it and none of the
 * blocks its bounded search finds fits, see MemHeap_Alloc); after NULL the
 * heap is exactly as before (only the failure counter of its statistics
 * moves).
 * Time: O(1) under MEM_FAST; O(free blocks) under the list policies; O(log
 * region) under MEM_BUDDY (one halving per order).
 */
MEM_API void *Mem_Alloc(int size);

/*
 * Frees the live object that ptr points into: ptr may be any address in
 * [start, start + size) where size is the size that was requested.  The block
 * is coalesced with free neighbours at once (under MEM_BUDDY: merged with its
 * buddy, see MemPolicy); under MEM_FAST an object of at most MEM_RUN_MAX
 * bytes is a slot of a run instead, and its slot does not coalesce (see
 * MemHeap_Free).  Mem_Free(NULL) does nothing.
 * Returns 0 on success or for NULL.  Returns -1 and changes nothing for any
 * other pointer: outside the region, into free space, into a header, into the
 * padding after an object, into an object already freed, or before Mem_Init.
 * Time: O(log64 n) to find the object, then O(1) under MEM_FAST,
 * O(free blocks) under the list policies (address-ordered insertion; O(1)
 * in LIFO or FIFO order) and O(log region) under MEM_BUDDY (one merge per
 * order).
 */
MEM_API int Mem_Free(void *ptr);

/* 1 if ptr points into a live object (as for Mem_Free), else 0.  Any pointer
 * value whatsoever is answered without a crash.  Time: O(log64 n). */
MEM_API int Mem_IsValid(void *ptr);

/* The requested size of the live object that ptr points into, else -1.
 * Time: O(log64 n). */
MEM_API int Mem_GetSize(void *ptr);

/* 0 when every invariant of the default heap holds, -1 otherwise, or when
 * Mem_Init has not succeeded.  Works with NDEBUG.  Time: O(region). */
MEM_API int Mem_Check(void);

typedef struct MemHeap MemHeap;

/* The default heap that Mem_* work on, or NULL before Mem_Init succeeds.
 * Use it with the MemHeap_* hooks below (walk, stats, events). */
MEM_API MemHeap *Mem_DefaultHeap(void);

/* ------------------------------------------------------------------------ */
/* Policies                                                                 */
/* ------------------------------------------------------------------------ */

/* Where an allocation is placed.  FIRST, NEXT, BEST and WORST search one
 * explicit doubly linked free list kept in address order; ties go to the
 * lowest address; the object takes the low end of the chosen block and the
 * rest is split off when it can form a block of MEM_MIN_BLOCK bytes.  They
 * are pure list allocators: every object is a block with a header.
 * FAST keeps segregated free lists in two levels of size classes indexed by
 * bitmaps (as TLSF does): allocation and free in constant time.  In front
 * of them, requests of 1..MEM_RUN_MAX bytes are served from runs (as slab
 * allocators do): a run is one used block cut into equal slots of one size
 * class (MemHeap_SlotSize), with its table (class, a live bitmap, the exact
 * size of each object) at its start and no header per object.  A freed slot
 * does not coalesce; the run is the unit that does: when it empties it is
 * kept as its class's spare if the class has none, else it goes back to the
 * free blocks and coalesces there.  Spares go back, too, when the free
 * blocks alone cannot serve a request that they would.  Runs are sized to
 * the heap (at most 1/256 of the arena each, 5 KiB at most), so a heap
 * below 28 KiB has none.
 * BUDDY is binary buddy allocation: every block is 2^k granules of
 * MEM_ALIGNMENT bytes (k >= 1, so 32 bytes at least, and at most 2^28
 * granules, 4 GiB), aligned to its own size counted from the first block of
 * the arena.  A request takes the smallest such block that holds header and
 * object (the rest of it is padding: internal fragmentation); a larger free
 * block is halved into buddies until one has that size; a freed block merges
 * with its buddy while the buddy is free and whole, and never with any other
 * neighbour.  The arena is tiled by the largest aligned blocks that fit, so
 * an arena that is not a power of two starts as several free blocks.  One
 * free list per order (size), newest first, and a bitmap of the non-empty
 * ones: allocation and free in O(log arena). */
typedef enum MemPolicy {
    MEM_FIRST_FIT = 0,
    MEM_NEXT_FIT,
    MEM_BEST_FIT,
    MEM_WORST_FIT,
    MEM_FAST,
    MEM_BUDDY,
    MEM_POLICY_COUNT
} MemPolicy;

#define MEM_POLICY_DEFAULT MEM_FAST

/* "first", "next", "best", "worst", "fast", "buddy"; "?" for a value out of
 * range. */
MEM_API const char *MemPolicy_Name(MemPolicy policy);

/* Parses a policy name (exactly as MemPolicy_Name spells it).  Returns 0 and
 * sets *out, or -1 leaving *out unchanged when name is NULL or unknown. */
MEM_API int MemPolicy_Parse(const char *name, MemPolicy *out);

/* ------------------------------------------------------------------------ */
/* Instances                                                                */
/* ------------------------------------------------------------------------ */

enum {
    /* No lock: for heaps used by one thread only (a little faster). */
    MEM_OPT_NOLOCK = 1u << 0,
    /* Guard mode: the padding after every object (at least 8 bytes) holds
     * a known pattern that is verified on free and by MemHeap_Check, so an
     * overflow past the end of an object is detected and reported.  Every
     * object is then a block (MEM_FAST makes no runs: a slot has no room for
     * a guard). */
    MEM_OPT_GUARD = 1u << 1,
    /* MEM_FAST without its runs: every request is a block of the
     * segregated lists (what MEM_FAST was before runs; for lectures and
     * tests of that layer).  Ignored by the other policies. */
    MEM_OPT_NORUNS = 1u << 2,
    /* The region is known to be all zero bytes (fresh from mmap): creation
     * does not clear the start bitmap, so a large reservation's untouched
     * pages stay untouched (MemHeap_Create is then O(1)). */
    MEM_OPT_ZEROED = 1u << 3
};

/*
 * Creates a heap in [region, region + size).  The heap's control structure
 * is placed at the start of the region (aligned up to MEM_ALIGNMENT); the
 * rest becomes the arena.  The heap owns the region until the caller stops
 * using it; there is nothing to destroy.  Creating a heap again over the same
 * region discards the old heap.
 * Returns NULL iff region is NULL, the arena would have fewer than
 * MEM_MIN_ARENA bytes (size < MemHeap_ControlSize() + MEM_MIN_ARENA, plus
 * the bytes that align region up to MEM_ALIGNMENT), policy is out of range,
 * or flags has an unknown bit; the region is then not written.  Regions above
 * MEM_MAX_ARENA bytes are used up to that size.  The heap's secret is drawn
 * with one getrandom() call (Security, below).
 * Time: O(size / 8192) to clear the start bitmap, O(1) with MEM_OPT_ZEROED.
 */
MEM_API MemHeap *MemHeap_Create(void *region, size_t size, MemPolicy policy, unsigned flags);

/* ---- OSTEP's knobs: list order and coalescing (the list policies) -------
 * The free list of first, next, best and worst fit can be kept
 *   MEM_ORDER_ADDRESS  sorted by address (the default, as MemHeap_Create)
 *   MEM_ORDER_LIFO     a block that joins the list goes to its head
 *   MEM_ORDER_FIFO     a block that joins the list goes to its tail
 * "Joins" is a freed block, or (coalescing at once) the merged block it
 * became; the remainder split off a chosen block takes that block's place.
 * A freed block is coalesced with its free neighbours
 *   MEM_COALESCE_NOW       at once (the default)
 *   MEM_COALESCE_DEFERRED  not at free: when an allocation finds no block,
 *                          every run of free neighbours is merged into its
 *                          first block, which keeps its place in the list
 *                          (MEM_EV_COALESCE_ALL), and the search runs again
 *   MEM_COALESCE_NEVER     not at all: free blocks stay side by side
 * Searches walk the list in its order: ties go to the block found first
 * (the lowest address only in address order).  What stays fixed: the 8-byte
 * header, the 16-byte alignment, splitting (the object takes the low end of
 * its block), and the policy's search rule.  MEM_FAST and MEM_BUDDY keep
 * their own structures and take only the defaults.
 *
 * These are an options struct for MemHeap_CreateEx, not more MEM_OPT_ bits
 * for MemHeap_Create: each knob has three values, so as bits they would need
 * pairs with a forbidden combination each (LIFO and FIFO at once), and a
 * struct names them, zero-initialised gives today's heap, and it can grow. */
typedef enum MemOrder { MEM_ORDER_ADDRESS = 0, MEM_ORDER_LIFO, MEM_ORDER_FIFO, MEM_ORDER_COUNT } MemOrder;
typedef enum MemCoalesce {
    MEM_COALESCE_NOW = 0,
    MEM_COALESCE_DEFERRED,
    MEM_COALESCE_NEVER,
    MEM_COALESCE_COUNT
} MemCoalesce;

typedef struct MemOptions {
    MemPolicy policy;
    unsigned flags;          /* MEM_OPT_* */
    MemOrder order;          /* list policies only; else MEM_ORDER_ADDRESS */
    MemCoalesce coalesce;    /* list policies only; else MEM_COALESCE_NOW */
} MemOptions;

/*
 * MemHeap_Create with the knobs: the same contract, and it also returns
 * NULL iff options is NULL, order or coalesce is out of range, or either is
 * not its default while the policy is MEM_FAST or MEM_BUDDY.
 * MemHeap_Create(r, n, p, f) is MemHeap_CreateEx(r, n, &(MemOptions){p, f}).
 */
MEM_API MemHeap *MemHeap_CreateEx(void *region, size_t size, const MemOptions *options);

/* "address", "lifo", "fifo" and "now", "deferred", "never" ("?" out of
 * range); Parse takes exactly those and returns 0, or -1 leaving *out as it
 * was (also for NULL). */
MEM_API const char *MemOrder_Name(MemOrder order);
MEM_API int MemOrder_Parse(const char *name, MemOrder *out);
MEM_API const char *MemCoalesce_Name(MemCoalesce coalesce);
MEM_API int MemCoalesce_Parse(const char *name, MemCoalesce *out);

/*
 * Bytes MemHeap_Create keeps at the start of a 16-byte-aligned region for the
 * heap's control structure: a region of MemHeap_ControlSize() + n bytes gives
 * an arena of exactly n bytes.  Constant for a given build of the library.
 */
MEM_API size_t MemHeap_ControlSize(void);

/*
 * Ends a heap: afterwards its region is the caller's again, and every
 * function given the heap refuses it as if it were NULL (without reading
 * the arena).  Nothing needs releasing, except that builds with
 * AddressSanitizer keep the arena's free bytes and metadata poisoned while
 * the heap lives; this unpoisons them, so call it before reusing a region
 * that is not the heap's for good (a stack buffer, say).  NULL, a released
 * heap and memory that is not a heap are ignored.
 */
MEM_API void MemHeap_Release(MemHeap *heap);

/*
 * Allocates size bytes aligned to MEM_ALIGNMENT.  Returns NULL iff heap is
 * NULL, size is 0, or the policy finds no free block that fits (then only the
 * failure counter changes).  The list policies find one whenever one exists.
 * MEM_FAST, to stay O(1), takes the first block of the smallest size class
 * in which every block fits, and else looks at no more than the first 32
 * blocks of the request's own class: it can fail while a block that fits
 * lies deeper in that class.  A request of 1..MEM_RUN_MAX bytes under
 * MEM_FAST takes a slot of a run of its class when one has a free slot,
 * else a new run (or the class's spare), else a block; so it fails only
 * when no run of its class has a free slot and no free block fits.  Empty
 * spare runs are given back first when that lets a block fit; a failed
 * allocation gives back nothing.  MEM_BUDDY finds a block whenever a free
 * block of at least the request's power of two exists.  A free block or a
 * run that fails its integrity check (an overrun reached it) is never
 * allocated from.
 * Time: O(1) under MEM_FAST, O(log arena) under MEM_BUDDY, O(free blocks)
 * otherwise, plus O(blocks) when a deferred coalesce runs.
 */
MEM_API void *MemHeap_Alloc(MemHeap *heap, size_t size);

/* Returned by MemHeap_Free, and reported in MemEvent.reason, when a pointer
 * is rejected.  MEM_OK (0) means the pointer was accepted. */
typedef enum MemReject {
    MEM_OK = 0,
    MEM_REJECT_NULL_HEAP,   /* heap is NULL, released, or not a heap (its
                               control structure fails its seal) */
    MEM_REJECT_OUTSIDE,     /* not inside the heap's block area */
    MEM_REJECT_TABLE,       /* inside the region's own tables, not a block */
    MEM_REJECT_FREE,        /* inside a free block (never allocated, or freed) */
    MEM_REJECT_HEADER,      /* inside a block header (metadata) */
    MEM_REJECT_PADDING,     /* after the object's last byte, inside its block */
    MEM_REJECT_CORRUPT,     /* the block there fails its integrity check */
    MEM_REJECT_INTERIOR,    /* MemHeap_FreeExact: inside a live object, not
                               at its first byte */
    MEM_REJECT_VIEW         /* the heap is a read-only view (MemHeap_View) */
} MemReject;

/* A sentence for a MemReject ("points into a free block", ...). */
MEM_API const char *MemReject_Describe(MemReject reason);

/*
 * Frees the live object that ptr points into (any byte of it) and coalesces
 * it with free neighbours (MEM_BUDDY: merges it with its buddy, and the
 * result with its own buddy, while the buddy is free and whole; not at all
 * when the heap's coalescing is deferred or never, see MemOptions); an
 * object in a run (MEM_FAST) frees its slot, which does not coalesce, and a
 * run that empties is kept as its class's spare or goes back and coalesces.
 * Returns MEM_OK (0), also for ptr == NULL (which
 * does nothing); otherwise a MemReject value (> 0) and the heap is unchanged
 * except for the rejected-free counter.  A free whose block or neighbours
 * fail their integrity checks is refused as MEM_REJECT_CORRUPT rather than
 * merged through damaged metadata.  Under MEM_OPT_GUARD an overwritten guard
 * raises MEM_EV_OVERFLOW and counts in stats.overflows: the object is still
 * freed if its neighbours are sound, and refused (CORRUPT) if the overflow
 * reached the next header.  A block whose padding is 62 bytes or longer
 * (only MEM_BUDDY makes them) keeps the object's exact size in the last 8
 * bytes of its padding, tagged: an overflow that reaches them makes the
 * object CORRUPT too (refused, never miscounted).
 */
MEM_API int MemHeap_Free(MemHeap *heap, void *ptr);
/* (For an object in a run: a pointer into the run's table is
 * MEM_REJECT_HEADER, into a free slot MEM_REJECT_FREE, past the object's
 * last byte in its slot or after the run's last slot MEM_REJECT_PADDING, and
 * every pointer into a run whose header fails its check MEM_REJECT_CORRUPT.
 * Time: O(log64 n) to find the object, O(1) to free a slot.) */

/*
 * As MemHeap_Free, but ptr must be the first byte of the object, as free()
 * requires: a pointer inside a live object anywhere else is refused with
 * MEM_REJECT_INTERIOR (and counted, and raises MEM_EV_REJECT, as every
 * refusal).  Same time and thread safety as MemHeap_Free.
 */
MEM_API int MemHeap_FreeExact(MemHeap *heap, void *ptr);

/*
 * Finds the live object that ptr points into.  Returns its first byte and
 * stores its requested size in *size (when size is not NULL), or returns NULL
 * when ptr is not inside a live object.  Any pointer value is answered
 * without a crash.  Time: O(log64 n).
 */
MEM_API void *MemHeap_Find(const MemHeap *heap, const void *ptr, size_t *size);

/* Like Find, but says why a pointer is not inside a live object. */
MEM_API MemReject MemHeap_Classify(const MemHeap *heap, const void *ptr);

/*
 * The slot size that a request of size bytes gets in this heap: MEM_FAST
 * serves requests of 1..MEM_RUN_MAX bytes from runs of equal slots, in size
 * classes 16 bytes apart up to 128, then four per doubling (160, 192, 224,
 * 256, 320, 384, 448, 512).  Returns 0 when such a request is served by a block
 * instead: the list policies, guard mode, MEM_OPT_NORUNS, size 0 or above
 * MEM_RUN_MAX, and the classes too large for runs in a small heap (a run
 * takes at most 1/256 of the arena; a heap below 28 KiB has none).
 * Time: O(1).
 */
MEM_API size_t MemHeap_SlotSize(const MemHeap *heap, size_t size);

/* ------------------------------------------------------------------------ */
/* Resizing in place and aligned allocation (resize.c)                      */
/* ------------------------------------------------------------------------ */

/*
 * Changes the size of the live object that STARTS at ptr to size bytes
 * without moving it; its first min(old, new) bytes are kept.  An object in a
 * run's slot (MEM_FAST) keeps its slot when size is of the slot's size class
 * (MemHeap_SlotSize(heap, size) is its slot size), and is not resized
 * otherwise.
 * For a block object: shrinking gives
 * the freed end of the block back as a free block (merged with a free right
 * neighbour) whenever that makes a block of MEM_MIN_BLOCK bytes, and else
 * keeps it as padding.  Growing takes what it needs from the free block right
 * after the object's block, leaving the rest of it free (or, when the rest
 * could not form a block, taking it whole as padding).
 * Returns 0 on success (then a MEM_EV_RESIZE event, and stats.resizes counts
 * it).  Fails, returning -1 with the heap exactly as it was, iff:
 *   - heap is NULL, ptr is NULL, or size is 0;
 *   - ptr is not the first byte of a live object (any pointer value is
 *     answered without a crash, as by MemHeap_Find);
 *   - the object's block plus a free right neighbour is too small for size
 *     bytes, or the object or its neighbours fail their integrity checks
 *     (a caller then allocates, copies and frees, as realloc does);
 *   - under MEM_BUDDY, or with coalescing deferred or never
 *     (MemHeap_CreateEx), size does not fit the object's own block: there
 *     the object only grows or shrinks within its block (buddy's blocks keep
 *     their power of two; those heaps keep free neighbours apart), and
 *     outside buddy its padding stays below 62 bytes.
 * No counter moves and no event is raised on failure.
 * Time: O(log64 n) to find the object, then O(1) under MEM_FAST and for
 * growing under every policy; shrinking next to a used block is O(free
 * blocks) under the list policies (address-ordered insertion).
 * Thread safety: as every function taking a heap.
 */
MEM_API int MemHeap_Resize(MemHeap *heap, void *ptr, size_t size);

/*
 * Allocates size bytes at an address that is a multiple of align, which must
 * be a power of two.  align <= MEM_ALIGNMENT is MemHeap_Alloc.  The search
 * asks the policy for a free block of size + align + 24 bytes (room for the
 * object at an aligned address whatever the block's own alignment); the gap
 * before the object stays a free block (it is not wasted, and it coalesces as
 * usual), and the end of the block is split off as for MemHeap_Alloc, so an
 * aligned object costs no more than MEM_ALIGNMENT bytes of padding.
 * Returns NULL iff heap is NULL, size is 0, align is not a power of two, the
 * heap is MEM_BUDDY's and align is above MEM_ALIGNMENT (a buddy block cannot
 * give a gap back: its size and place are powers of two), or
 * the policy finds no free block of that size (then only the failure counter
 * changes and MEM_EV_FAIL is raised, as for MemHeap_Alloc).  The MEM_EV_ALLOC
 * event's block is where the object's block begins (a gap before it stays
 * free), its size runs to the end of the chosen free block.
 * Time: as MemHeap_Alloc.  Thread safety: as every function taking a heap.
 */
MEM_API void *MemHeap_AllocAligned(MemHeap *heap, size_t align, size_t size);

/* ------------------------------------------------------------------------ */
/* Views: reading a heap another process is using (view.c)                  */
/* ------------------------------------------------------------------------ */

/*
 * Opens a read-only view of a heap that MemHeap_Create made in a region that
 * is mapped in this process at `region` (size bytes; another process may be
 * using it, mapped elsewhere).  The view is a copy of the heap's control
 * structure, taken now, in the caller's `view` buffer (MemHeap_ViewSize()
 * bytes, aligned as a pointer), with the creator's process-local pointers
 * recomputed for this mapping and every field that decides where a read
 * goes checked against size.  Nothing in the region is ever written, so it
 * may be mapped read-only.
 * The view answers the query hooks: Region, Walk, WalkFree, Stats, Find,
 * Classify, Check and Diagnose, reading the arena in place as they go; its
 * statistics are the copy's.  Allocation, Free, FreeExact, Resize and
 * AllocAligned refuse it (NULL, MEM_REJECT_VIEW, -1).  To see a later state,
 * open the view again (O(1): one copy of the control structure).
 * A region that changes while it is read gives answers from different
 * moments, which the hooks check as they read (tags, ranges, bounded walks):
 * never a read outside the region or an endless walk.  A reader that needs a
 * consistent picture must know the heap did not change meanwhile (see
 * libmem-malloc's generation counter in mem(3)).
 * Returns the view (== view), or NULL iff view or region is NULL or view is
 * misaligned, or the region does not start with a sound control structure
 * of a heap whose arena fits in size bytes.
 * Time: O(1).  Thread safety: the view is the caller's; it takes no lock.
 */
MEM_API MemHeap *MemHeap_View(void *view, const void *region, size_t size);

/* Bytes of the buffer MemHeap_View needs. */
MEM_API size_t MemHeap_ViewSize(void);

/*
 * The keys of a view.  A heap's header tags and free-list links are keyed
 * by its secret (Security, below), which a view copied in another process
 * does not have: there every tag fails, and the walks stop at the first
 * block.  The process that owns the heap exports its keys (ExportKeys:
 * MEM_KEYS_SIZE bytes into out) and hands them to the reader out of band;
 * the reader installs them in its view (ViewKeys).  Whoever holds the keys
 * can forge headers, so the owner must put them where no object's overflow
 * can read or write them: libmem-malloc writes them to a page of its shared
 * memfd outside the heap's region and then maps that page PROT_NONE in its
 * own process (mem(3), live mode), so only the reader's mapping sees them.
 * The reader never trusts them either: wrong keys make every tag fail, and
 * the hooks refuse the blocks as damaged; nothing crashes.  (A view opened
 * in the heap's own process, or a forked child of it, needs no keys.)
 * ExportKeys returns 0, or -1 iff heap is not a live heap of this process
 * (or is a view), out is NULL or len < MEM_KEYS_SIZE.  ViewKeys returns 0,
 * or -1 iff view is not a view made by MemHeap_View, keys is NULL or len <
 * MEM_KEYS_SIZE.  Time: O(1).  Thread safety: ExportKeys reads keys that
 * never change; ViewKeys writes the caller's view.
 */
#define MEM_KEYS_SIZE 64u
MEM_API int MemHeap_ExportKeys(const MemHeap *heap, void *out, size_t len);
MEM_API int MemHeap_ViewKeys(MemHeap *view, const void *keys, size_t len);

/* ------------------------------------------------------------------------ */
/* Hooks: how a visualiser sees the heap                                    */
/* ------------------------------------------------------------------------ */

/* How the arena is laid out.  Blocks tile [heap_begin, heap_end) exactly;
 * the bytes outside it hold the interior-pointer bitmap (table bytes). */
typedef struct MemRegion {
    void *base;            /* the arena: offsets are counted from here */
    size_t size;           /* bytes of the arena */
    size_t heap_begin;     /* offset of the first block's header */
    size_t heap_end;       /* offset just past the last block */
    size_t control;        /* bytes of control structure before base (0 for Mem_*) */
    MemPolicy policy;
    unsigned flags;        /* MEM_OPT_* given at creation */
    MemOrder order;        /* the knobs (MemHeap_CreateEx) */
    MemCoalesce coalesce;
} MemRegion;

MEM_API MemRegion MemHeap_Region(const MemHeap *heap);

/* One block, as the walks report it.  size == header + object + padding for
 * a used block; size == header + free space for a free one. */
typedef struct MemBlock {
    size_t offset;         /* of the block's header from MemRegion.base */
    size_t size;           /* bytes of the whole block */
    size_t object;         /* requested bytes of the live object; 0 if free */
    size_t header;         /* metadata bytes (MEM_HEADER_SIZE) */
    size_t padding;        /* bytes after the object, unused (0 if free); see
                              MemHeap_Free for the size word some keep there */
    bool used;
    bool overflowed;       /* guard mode: the guard after the object is broken */
    unsigned list;         /* free walks: which list holds it (size class under
                              MEM_FAST, order k of 2^k granules under
                              MEM_BUDDY, 0 otherwise); 0 in address walks */
    size_t rank;           /* position in the walk, from 0 */
    /* A run (MEM_FAST's small objects): one used block cut into equal slots
     * of one size class, with no header per object.  For a run, header is
     * the block header and the run's table (bytes before slot 0), object
     * the requested bytes of its live slots, padding their unused bytes and
     * the tail after the last slot; size = header + object + padding +
     * (slots - live_slots) * slot_size.  MemHeap_WalkSlots visits its slots. */
    bool run;
    unsigned run_class;    /* run: its size class, from 0 (the smallest) */
    size_t slot_size;      /* run: bytes per slot */
    size_t slots;          /* run: slots in all */
    size_t live_slots;     /* run: slots holding an object */
    size_t slot_offset;    /* run: slot 0's offset from MemRegion.base */
} MemBlock;

/* Return true to go on, false to stop the walk. */
typedef bool (*MemVisitor)(const MemBlock *block, void *arg);

/*
 * Visits every block in address order; a run is one block (MemBlock.run),
 * whose slots MemHeap_WalkSlots visits.  Returns the number of blocks visited
 * (the one that stopped the walk included), or 0 when heap or visit is NULL.
 * The heap is locked during the walk: the visitor must not change the heap,
 * but may call the query functions of this header on it.  Time: O(blocks).
 */
MEM_API size_t MemHeap_Walk(const MemHeap *heap, MemVisitor visit, void *arg);

/*
 * Visits every free block in the order the policy keeps them: for the list
 * policies from the list's head (address order, or MEM_ORDER_LIFO's newest
 * first, or MEM_ORDER_FIFO's oldest first); for MEM_FAST, size class by size
 * class, ascending, each list from its head (block.list is the class); for
 * MEM_BUDDY, order by order, ascending, each list from its head (block.list
 * is the order k: the block has 2^k granules of MEM_ALIGNMENT bytes).  Free
 * slots of runs are not free blocks (MemStats.run_free_bytes counts them).
 * Same contract as Walk.
 */
MEM_API size_t MemHeap_WalkFree(const MemHeap *heap, MemVisitor visit, void *arg);

/* One slot of a run. */
typedef struct MemSlot {
    size_t offset;         /* of the slot's first byte (its object's, when
                              live) from MemRegion.base */
    size_t size;           /* bytes of the slot (the class size) */
    size_t object;         /* requested bytes of its object; 0 when free */
    size_t index;          /* from 0, in address order */
    bool live;
} MemSlot;

/* Return true to go on, false to stop the walk. */
typedef bool (*MemSlotVisitor)(const MemSlot *slot, void *arg);

/*
 * Visits the slots of the run whose block starts at run_offset (a
 * MemBlock.offset with run set), in address order.  Returns the number of
 * slots visited (the one that stopped the walk included); 0 when heap or
 * visit is NULL or no sound run starts there.  Same locking and visitor
 * contract as MemHeap_Walk.  Time: O(slots of the run).
 */
MEM_API size_t MemHeap_WalkSlots(const MemHeap *heap, size_t run_offset, MemSlotVisitor visit,
                                 void *arg);

/* ---- Planning an allocation (plan.c): the search, shown before it runs ---- */

/* One free block a planned allocation examines, in the order the policy
 * examines it. */
typedef struct MemPlanStep {
    size_t offset;         /* the free block's header, from MemRegion.base */
    size_t size;           /* its bytes; in the search after a deferred
                              coalesce, the bytes it has merged */
    unsigned list;         /* MEM_FAST: its size class; MEM_BUDDY: its order
                              (as MemBlock.list); 0 for the list policies */
    bool fits;             /* it holds the request's block */
} MemPlanStep;

typedef enum MemPlanKind {
    MEM_PLAN_BLOCK,        /* the object gets a block cut from free block
                              `chosen` (the rest split off, or taken whole) */
    MEM_PLAN_SLOT,         /* MEM_FAST: a free slot of a run that has one */
    MEM_PLAN_SPARE_RUN,    /* MEM_FAST: a slot of its class's spare run */
    MEM_PLAN_NEW_RUN,      /* MEM_FAST: a new run, cut from the top of free
                              block `chosen`, and its slot 0 */
    MEM_PLAN_FAIL,         /* nothing fits: the allocation fails */
    MEM_PLAN_RELEASE,      /* MEM_FAST: no free block fits, and the class
                              spares (empty runs) may go back to the free
                              blocks first and the search run again: the
                              plan stops there (the allocation then fails
                              or takes the block so made) */
    MEM_PLAN_DAMAGED       /* a block or run the search reads fails its
                              integrity check (MemHeap_Check says which) */
} MemPlanKind;

typedef struct MemPlan {
    MemPlanKind kind;
    size_t need;           /* bytes of the block (or slot) the request needs */
    size_t examined;       /* free blocks the search examines, as the
                              allocation's ALLOC or FAIL event will count
                              them (a new run: its RUN_NEW event) */
    size_t nsteps;         /* steps written: the blocks examined, those of
                              first_search included, max_steps at most */
    size_t first_search;   /* of the steps, those of a first search that
                              found nothing: the one before a deferred
                              coalesce, or a new run's before the block
                              heap's; the rest are the search that follows */
    bool coalesce;         /* MEM_COALESCE_DEFERRED: the deferred coalesce
                              runs between the two searches */
    size_t chosen;         /* BLOCK, NEW_RUN: the free block taken (its
                              offset and bytes); else SIZE_MAX and 0 */
    size_t chosen_size;
    size_t block;          /* BLOCK: the object's block; NEW_RUN: the run's */
    size_t block_size;
    size_t remainder;      /* bytes of chosen left free as one block (0: the
                              block is taken whole), at remainder_offset: the
                              end of chosen (BLOCK), its start (NEW_RUN) */
    size_t remainder_offset;
    unsigned splits;       /* MEM_BUDDY: times chosen is halved (each upper
                              half stays free: chosen_size / 2 at chosen +
                              chosen_size / 2, then a quarter, ...) */
    size_t run, slot;      /* SLOT, SPARE_RUN, NEW_RUN: the run's block
                              offset and the slot's index */
    size_t object;         /* where the object would start (SIZE_MAX: none) */
} MemPlan;

/*
 * A dry run of MemHeap_Alloc(heap, size): what the policy would do now,
 * without changing anything.  The free blocks it examines are written to
 * steps[0 .. max_steps) in the order it examines them (the list's order for
 * first, next, best and worst fit under every MemOrder, from the rover for
 * next fit; MEM_FAST: the head of the class its bitmaps find, or its bounded
 * scan of the request's own class; MEM_BUDDY: the head of the smallest
 * non-empty order that fits); *out says what it chooses: a block and its
 * split (MEM_BUDDY: the halvings), a run's slot, or failure.  Under
 * MEM_COALESCE_DEFERRED a first search that finds nothing is followed by the
 * search over the blocks as the deferred coalesce would merge them.
 * MemHeap_Alloc(heap, size) made next, with no operation in between, does
 * exactly what the plan says (but after MEM_PLAN_RELEASE or _DAMAGED).
 * Returns 0 with *out filled; -1 iff heap or out is NULL (or the heap was
 * released, or its control structure is damaged), size is 0, steps
 * is NULL while max_steps is not 0 (then *out is untouched), or the heap is
 * damaged where the search reads (*out has kind MEM_PLAN_DAMAGED and the
 * steps so far).  Never writes to the heap; a view (MemHeap_View) can be
 * planned on.  Every walk is bounded by the number of free blocks and stops
 * at a link out of range.
 * Time: that of the allocation's search (O(free blocks) for the list
 * policies, twice with a deferred coalesce, plus O(blocks) for it); takes
 * the heap's lock.
 */
MEM_API int MemHeap_PlanAlloc(const MemHeap *heap, size_t size, MemPlanStep *steps,
                              size_t max_steps, MemPlan *out);

/* Counters and derived measures, all taken from the heap itself. */
typedef struct MemStats {
    MemPolicy policy;
    size_t capacity;        /* bytes of the arena */
    size_t live_bytes;      /* sum of the requested sizes of live objects */
    size_t used_bytes;      /* bytes in used blocks: headers+objects+padding
                               (+ the free slots of runs) */
    size_t header_bytes;    /* headers of used blocks, runs' tables */
    size_t padding_bytes;   /* unused bytes after objects (internal frag.),
                               in blocks and slots, and runs' tails */
    size_t table_bytes;     /* arena bytes outside blocks (bitmap, pads) */
    size_t metadata_bytes;  /* header_bytes + table_bytes */
    size_t free_bytes;      /* bytes in free blocks, their headers included */
    size_t used_blocks;     /* live objects: used blocks and live slots */
    size_t free_blocks;
    size_t largest_free;    /* bytes of the largest free block */
    size_t largest_free_offset; /* its offset (the lowest of equals), or
                                   SIZE_MAX when there is no free block */
    size_t largest_request; /* the largest object the largest free block can
                               hold (MEM_FAST may not find it: MemHeap_Alloc) */
    double external_frag;   /* 1 - largest_free / free_bytes; 0 if no free */
    double internal_frag;   /* (used_bytes - live_bytes - run_free_bytes) /
                               used_bytes; 0 if none */
    double utilisation;     /* live_bytes / capacity */
    size_t peak_live_bytes; /* highest live_bytes so far */
    size_t peak_used_bytes; /* highest used_bytes so far: the most arena bytes
                               in use (blocks of live objects) at once */
    size_t rover;           /* next fit: offset of the rover's block, or
                               SIZE_MAX when there is none (other policies) */
    uint64_t allocs;        /* successful allocations */
    uint64_t frees;         /* successful frees (NULL not counted) */
    uint64_t failed_allocs;
    uint64_t rejected_frees;
    uint64_t overflows;     /* guard mode: broken guards detected */
    uint64_t deferred_coalesces; /* MEM_COALESCE_DEFERRED: times it ran */
    uint64_t resizes;       /* successful MemHeap_Resize calls */
    uint64_t ops;           /* allocs + frees + failed + rejected + resizes */
    /* Runs (MEM_FAST's small objects; 0 under the other policies).  A run
     * is a used block: its bytes are in used_bytes, its header and table in
     * header_bytes, its slots' unused bytes and its tail in padding_bytes,
     * and its free slots in run_free_bytes alone. */
    size_t runs;            /* runs, the empty ones kept as spares included */
    size_t run_bytes;       /* bytes of their blocks */
    size_t run_slots;       /* slots in them */
    size_t run_free_slots;  /* slots holding no object */
    size_t run_free_bytes;  /* bytes of those free slots */
    double run_frag;        /* run_free_bytes / run_bytes: free space inside
                               runs, usable only by their own class; 0 if
                               there are no runs */
} MemStats;

/* The statistics, by value; a zeroed struct when heap is NULL (or not a
 * heap).  Under MEM_FAST, largest_free_offset names a largest free block,
 * not always the lowest of equals.
 * Time: O(1) under MEM_FAST (a sum over its size classes for the runs), but
 * for the first call after the largest free block was split, merged or
 * taken, when blocks of 32 granules (512 bytes) or more were the largest:
 * that call walks one size class, O(free blocks in it), and the answer is
 * kept until the largest block changes again.  O(free blocks) under the list
 * policies (largest_free). */
MEM_API MemStats MemHeap_Stats(const MemHeap *heap);

/* ------------------------------------------------------------------------ */
/* Events: what happened, in words a lecturer would use                     */
/* ------------------------------------------------------------------------ */

typedef enum MemEventKind {
    MEM_EV_ALLOC,     /* request, examined, block/size (chosen block before
                         the split), remainder (bytes split off), object;
                         in a run: run, slot, block/size the slot */
    MEM_EV_FAIL,      /* request, examined, free_total, largest_free; block/size:
                         the largest free block (SIZE_MAX/0 when none), at
                         the cost of MemHeap_Stats */
    MEM_EV_FREE,      /* pointer given, object (its start), request (object
                         size), block/size (the freed block before merging);
                         in a run: run, slot, block/size the slot;
                         neighbours: free neighbours it was NOT merged with
                         (coalescing deferred or never), else 0 */
    MEM_EV_COALESCE,  /* neighbours (MEM_LEFT|MEM_RIGHT), block/size: result */
    MEM_EV_REJECT,    /* pointer given, reason; block/size the block there
                         (run, slot when it is a run) */
    MEM_EV_OVERFLOW,  /* guard mode: object, request, block; size = bytes of
                         the guard found overwritten */
    MEM_EV_ROVER,     /* next fit: block = the rover's new block offset */
    MEM_EV_RUN_NEW,   /* a run was made: block/size the run's block, request
                         its slot size, examined, remainder as for ALLOC */
    MEM_EV_RUN_RELEASE, /* an empty run went back to the block heap: block/
                         size the run's block (a COALESCE may follow) */
    MEM_EV_SPLIT,     /* buddy, before ALLOC: block/size: the free block that
                         was halved; count: how many times (the object's
                         block is size >> count bytes, at block); remainder:
                         bytes split off as free buddies */
    MEM_EV_MERGE,     /* buddy, after FREE: block/size: the merged block;
                         count: merges made (the freed block was size >>
                         count bytes); neighbours: the sides (MEM_LEFT,
                         MEM_RIGHT) on which buddies were absorbed */
    MEM_EV_COALESCE_ALL, /* MEM_COALESCE_DEFERRED, before the ALLOC or FAIL of
                         a request that found no block: the deferred coalesce
                         ran.  request; examined: free blocks before; count:
                         free blocks absorbed into the one before them;
                         block/size: the largest free block after it
                         (SIZE_MAX/0 when none) */
    MEM_EV_RESIZE     /* MemHeap_Resize: object, previous (its size before),
                         request (its size now), block/size (its block now),
                         remainder (bytes of the free block right after it, 0
                         when none), neighbours (MEM_RIGHT when a free right
                         neighbour was taken from or merged with) */
} MemEventKind;

enum { MEM_LEFT = 1u, MEM_RIGHT = 2u };

typedef struct MemEvent {
    MemEventKind kind;
    MemPolicy policy;
    uint64_t op;          /* sequence number of the operation (stats.ops) */
    size_t request;       /* bytes asked for / size of the object freed */
    size_t examined;      /* free blocks examined by the search */
    size_t block;         /* offset of the block concerned */
    size_t size;          /* its size in bytes */
    size_t remainder;     /* ALLOC: bytes split off as a free block, or 0 */
    size_t object;        /* offset of the object's first byte */
    ptrdiff_t pointer;    /* FREE/REJECT: the pointer given, as an offset from
                             the arena base (may be negative or past the end) */
    unsigned neighbours;  /* COALESCE: MEM_LEFT | MEM_RIGHT */
    MemReject reason;     /* REJECT */
    size_t free_total;    /* FAIL: bytes free in all */
    size_t largest_free;  /* FAIL: the largest free block */
    size_t run;           /* ALLOC/FREE in a run, RUN_NEW, RUN_RELEASE: the
                             offset of the run's block; 0 otherwise (no block
                             starts at 0).  For an object in a run, block/size
                             are its slot, and remainder is 0 */
    size_t slot;          /* ALLOC/FREE in a run: the slot's index */
    unsigned count;       /* SPLIT: halvings; MERGE: merges; COALESCE_ALL:
                             blocks absorbed */
    size_t previous;      /* RESIZE: the object's size before */
} MemEvent;

typedef void (*MemObserver)(const MemEvent *event, void *arg);

/*
 * Installs (or, with NULL, removes) the heap's observer.  It is called once
 * per event, in order, after the operation has completed, with the heap still
 * locked: it may call the query functions of this header (Walk, Stats, Find,
 * Check...) but must not allocate or free on the same heap.  The observer is
 * a property of this process, not of the region.  A keyed copy of the two
 * pointers is checked before every call: if a store changed them, the
 * observer is not called any more (and MemHeap_Check reports it).
 */
MEM_API void MemHeap_SetObserver(MemHeap *heap, MemObserver observer, void *arg);

/* ------------------------------------------------------------------------ */
/* Checking                                                                 */
/* ------------------------------------------------------------------------ */

/*
 * Verifies every invariant: the blocks tile the block area exactly; every
 * header passes its integrity tag; boundary flags and footers agree with the
 * neighbours; no two free blocks are adjacent unless coalescing is deferred
 * or never (under MEM_BUDDY instead: every block is 2^k granules aligned to
 * its size from the first block, and no two free buddies of one size are
 * left unmerged); the free lists hold exactly the free blocks, are mutually
 * linked, in range, and ordered as the policy requires (address order, or
 * under LIFO and FIFO the order in which blocks joined, which each free block
 * records; size classes and bitmaps under MEM_FAST; one list per order and its
 * bitmap under MEM_BUDDY); padding size words agree; the
 * interior-pointer bitmap marks exactly the block starts, at every level; the
 * counters agree with a walk; guards are intact (guard mode); every run's
 * table names a class served here and the size of its block, its live bitmap
 * agrees with its count (and marks no slot past the last), every live slot's
 * size is of its class, each class's list holds exactly its runs with a free
 * slot (mutually linked, in range, none full), its spare is an empty run of
 * the class, and the per-class counts agree with the runs.
 * Returns 0 when all hold, -1 otherwise (also for NULL).  Works with NDEBUG.
 * Time: O(arena / 1024 + blocks).
 */
MEM_API int MemHeap_Check(const MemHeap *heap);

/* Like Check, but writes a sentence about the first broken invariant into
 * why (NUL-terminated, truncated to len) and returns how many were found. */
MEM_API int MemHeap_Diagnose(const MemHeap *heap, char *why, size_t len);

/* ------------------------------------------------------------------------ */
/* fork                                                                     */
/* ------------------------------------------------------------------------ */

/*
 * A child of fork() gets every heap whole and usable, whichever threads
 * were using them at the fork: when the library is loaded it registers
 * pthread_atfork handlers that wait, before the fork, until no thread is
 * inside a heap operation (and hold new ones back until it returns).  The
 * child may allocate, free and check at once.  Not covered: heaps created
 * with MEM_OPT_NOLOCK, which belong to one thread (a child forked by
 * another thread must not use them), and a fork from inside an observer or
 * a visitor while another thread waits for a heap (that waits for ever).
 *
 * The three handlers are public for programs whose fork bypasses
 * pthread_atfork (a raw clone, or a malloc replacement that orders its own
 * handlers): call Prepare just before the fork, then Parent in the parent
 * and Child in the child.  Calls nest with the automatic ones; they take no
 * heap and cannot fail.  libmem-malloc.so carries its own copy of the
 * library built without the automatic handlers and calls these three from
 * its own, after taking its live-mode lock and before releasing it.
 */
MEM_API void MemHeap_ForkPrepare(void);
MEM_API void MemHeap_ForkParent(void);
MEM_API void MemHeap_ForkChild(void);

/* ------------------------------------------------------------------------ */
/* Security                                                                 */
/* ------------------------------------------------------------------------ */

/*
 * Each heap draws a secret from the OS at creation.  Every header carries a
 * 24-bit tag, a keyed hash of all its bits and its position; the free
 * blocks' links are stored masked by a key that depends on their position
 * (as glibc's safe-linking), and are followed only to a block that starts
 * in the start bitmap, carries a valid tag, is free and links back.  A
 * header absorbed by coalescing is erased.  In a run (MEM_FAST's small
 * objects), every word of the live bitmap carries a keyed hash of itself,
 * its place and the run's class, checked before a slot is handed out or
 * taken back, and a run goes back to the block heap only when its bitmap
 * proves it empty.  So a program that knows the
 * format but not the secret cannot forge a header (a guess holds with
 * probability 2^-24), move one, or redirect a link: a block or link that
 * fails is refused (MEM_REJECT_CORRUPT, a failed allocation), and no
 * allocation ever overlaps a live object.  The secret lives in the control
 * structure XOR-ed with a process secret that lives in the library's own
 * memory, so neither reading nor writing the control structure yields it.
 *
 * The control structure of a MemHeap_Create heap lies just before the
 * arena; its last word is a seal that every function checks, so an
 * underflow from the first object is caught before it reaches any other
 * field, and the heap is refused from then on.  The observer's pointers
 * have a keyed copy of their own (MemHeap_SetObserver).  Not covered: a
 * program that reads metadata and writes back a header or link that was
 * valid at the same place before (a replay) may pass the tag; the bitmap
 * and link checks stop the known patterns built on one.
 *
 * A reader in another process (MemHeap_View) checks the tags with the
 * heap's keys, which the owner exports (MemHeap_ExportKeys) and the reader
 * installs (MemHeap_ViewKeys).  The owner must keep them where no object's
 * overflow reaches: libmem-malloc.so writes them to a page of its shared
 * memfd outside the heap's region and maps that page PROT_NONE in its own
 * process, so only the reader's mapping can read them (lib/mem_live.h).  The
 * reader trusts them no more than the rest: a wrong key makes every tag
 * fail, and the hooks refuse the blocks.  Without the keys a reader can
 * still read every size in the clear and the flag and slack bits, and check
 * that the blocks tile [heap_begin, heap_end), that a free block's last 4
 * bytes repeat its size, that PREV_USED agrees with the block before, and
 * that the start bitmap marks exactly the block starts; not the tags or
 * hashes, nor the free lists.  (Buddy's wide padding word is checked by an
 * unkeyed hash: it only ever says how long an object's own padding is.)
 */

#ifdef __cplusplus
}
#endif

#endif /* MEM_H */

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
#define MEM_RUN_MAX 1024

/* Smallest region MemHeap_Create() accepts, control structure included. */
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
 * ("first", "next", "best", "worst", "fast").
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
 * Time: O(1) under MEM_FAST; O(free blocks) under the list policies.
 */
MEM_API void *Mem_Alloc(int size);

/*
 * Frees the live object that ptr points into: ptr may be any address in
 * [start, start + size) where size is the size that was requested.  The block
 * is coalesced with free neighbours at once; under MEM_FAST an object of at
 * most MEM_RUN_MAX bytes is a slot of a run instead, and its slot does not
 * coalesce (see MemHeap_Free).  Mem_Free(NULL) does nothing.
 * Returns 0 on success or for NULL.  Returns -1 and changes nothing for any
 * other pointer: outside the region, into free space, into a header, into the
 * padding after an object, into an object already freed, or before Mem_Init.
 * Time: O(log64 n) to find the object, then O(1) under MEM_FAST and
 * O(free blocks) under the list policies (address-ordered insertion).
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
 * the heap (at most 1/64 of the arena each, 5 KiB at most), so a one-page
 * heap has none. */
typedef enum MemPolicy {
    MEM_FIRST_FIT = 0,
    MEM_NEXT_FIT,
    MEM_BEST_FIT,
    MEM_WORST_FIT,
    MEM_FAST,
    MEM_POLICY_COUNT
} MemPolicy;

#define MEM_POLICY_DEFAULT MEM_FAST

/* "first", "next", "best", "worst", "fast"; "?" for a value out of range. */
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
    MEM_OPT_NORUNS = 1u << 2
};

/*
 * Creates a heap in [region, region + size).  The heap's control structure
 * is placed at the start of the region (aligned up to MEM_ALIGNMENT); the
 * rest becomes the arena.  The heap owns the region until the caller stops
 * using it; there is nothing to destroy.  Creating a heap again over the same
 * region discards the old heap.
 * Returns NULL iff region is NULL, size < MEM_MIN_REGION, policy is out of
 * range, or flags has an unknown bit.  Regions above MEM_MAX_ARENA bytes are
 * used up to that size.  The heap's secret is drawn with one getrandom()
 * call (Security, below).  Time: O(size / 8192) to clear the start bitmap.
 */
MEM_API MemHeap *MemHeap_Create(void *region, size_t size, MemPolicy policy, unsigned flags);

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
 * allocation gives back nothing.  A free block or a run that fails its
 * integrity check (an overrun reached it) is never allocated from.
 * Time: O(1) under MEM_FAST, O(free blocks) otherwise.
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
    MEM_REJECT_CORRUPT      /* the block there fails its integrity check */
} MemReject;

/* A sentence for a MemReject ("points into a free block", ...). */
MEM_API const char *MemReject_Describe(MemReject reason);

/*
 * Frees the live object that ptr points into (any byte of it) and coalesces
 * it with free neighbours; an object in a run (MEM_FAST) frees its slot,
 * which does not coalesce, and a run that empties is kept as its class's
 * spare or goes back and coalesces.  Returns MEM_OK (0), also for ptr ==
 * NULL (which does nothing); otherwise a MemReject value (> 0) and the heap is unchanged
 * except for the rejected-free counter.  A free whose block or neighbours
 * fail their integrity checks is refused as MEM_REJECT_CORRUPT rather than
 * merged through damaged metadata.  Under MEM_OPT_GUARD an overwritten guard
 * raises MEM_EV_OVERFLOW and counts in stats.overflows: the object is still
 * freed if its neighbours are sound, and refused (CORRUPT) if the overflow
 * reached the next header.
 */
MEM_API int MemHeap_Free(MemHeap *heap, void *ptr);
/* (For an object in a run: a pointer into the run's table is
 * MEM_REJECT_HEADER, into a free slot MEM_REJECT_FREE, past the object's
 * last byte in its slot or after the run's last slot MEM_REJECT_PADDING, and
 * every pointer into a run whose header fails its check MEM_REJECT_CORRUPT.
 * Time: O(log64 n) to find the object, O(1) to free a slot.) */

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
 * 256, 320, ... 1024).  Returns 0 when such a request is served by a block
 * instead: the list policies, guard mode, MEM_OPT_NORUNS, size 0 or above
 * MEM_RUN_MAX, and the classes too large for runs in a small heap (a run
 * takes at most 1/64 of the arena; a one-page heap has none).  Time: O(1).
 */
MEM_API size_t MemHeap_SlotSize(const MemHeap *heap, size_t size);

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
} MemRegion;

MEM_API MemRegion MemHeap_Region(const MemHeap *heap);

/* One block, as the walks report it.  size == header + object + padding for
 * a used block; size == header + free space for a free one. */
typedef struct MemBlock {
    size_t offset;         /* of the block's header from MemRegion.base */
    size_t size;           /* bytes of the whole block */
    size_t object;         /* requested bytes of the live object; 0 if free */
    size_t header;         /* metadata bytes (MEM_HEADER_SIZE) */
    size_t padding;        /* bytes after the object, unused (0 if free) */
    bool used;
    bool overflowed;       /* guard mode: the guard after the object is broken */
    unsigned list;         /* free walks: which list holds it (size class under
                              MEM_FAST, 0 otherwise); 0 in address walks */
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
 * Visits every free block in the order the policy keeps them: address order
 * for the list policies; for MEM_FAST, size class by size class, ascending,
 * each list from its head (block.list is the class).  Free slots of runs are
 * not free blocks (MemStats.run_free_bytes counts them).  Same contract as
 * Walk.
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
    size_t rover;           /* next fit: offset of the rover's block, or
                               SIZE_MAX when there is none (other policies) */
    uint64_t allocs;        /* successful allocations */
    uint64_t frees;         /* successful frees (NULL not counted) */
    uint64_t failed_allocs;
    uint64_t rejected_frees;
    uint64_t overflows;     /* guard mode: broken guards detected */
    uint64_t ops;           /* allocs + frees + failed + rejected */
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
                         in a run: run, slot, block/size the slot */
    MEM_EV_COALESCE,  /* neighbours (MEM_LEFT|MEM_RIGHT), block/size: result */
    MEM_EV_REJECT,    /* pointer given, reason; block/size the block there
                         (run, slot when it is a run) */
    MEM_EV_OVERFLOW,  /* guard mode: object, request, block; size = bytes of
                         the guard found overwritten */
    MEM_EV_ROVER,     /* next fit: block = the rover's new block offset */
    MEM_EV_RUN_NEW,   /* a run was made: block/size the run's block, request
                         its slot size, examined, remainder as for ALLOC */
    MEM_EV_RUN_RELEASE /* an empty run went back to the block heap: block/
                         size the run's block (a COALESCE may follow) */
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
 * neighbours; no two free blocks are adjacent; the free lists hold exactly
 * the free blocks, are mutually linked, in range, and ordered as the policy
 * requires (address order; size classes and bitmaps under MEM_FAST); the
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
 * heap and cannot fail.
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
 * A reader without the secret (another process mapping the region at
 * another address) can read every size in the clear and the flag and slack
 * bits, and can check that the blocks tile [heap_begin, heap_end), that a
 * free block's last 4 bytes repeat its size, that PREV_USED agrees with the
 * block before, and that the start bitmap marks exactly the block starts.
 * It cannot check tags or hashes, nor follow the free lists.
 */

#ifdef __cplusplus
}
#endif

#endif /* MEM_H */

/*
 * mem_live.h - the shared mapping of libmem-malloc.so in live mode: the layout a
 * reader (heapviz) finds in it.  Not part of mem.h's API: a protocol between
 * lib/malloc.c (the writer) and viz/live.c (the reader), both in this tree.
 *
 * With MEM_SHARE_FD=n (heapviz -- CMD hands CMD a memfd) or MEM_SHARE=1
 * (the replacement makes its own memfd, "libmem-heap", for heapviz --attach),
 * the replacement's one reservation is that memfd, mapped shared:
 *
 *   0           LIVE_HEADER_BYTES   LIVE_SITES_END                           size
 *   [LiveHeader][event ring][sites ..][owners ....][MemHeap_Create's region ...]
 *
 * Allocation sites: every live block's caller (its return address, and with
 * MEM_BACKTRACE=N up to N frames) is a site in the sites table, and the
 * owners table holds, for each granule index g of the arena (block.h: the
 * block whose header is at 8 + 16 g; a run's slot whose object is at
 * 16 (g + 1)), the site of the object allocated there last, plus one (0:
 * none).  A free leaves its entry as it was: an entry means something only
 * where the heap has a used block or slot, and the reader adds the live
 * bytes of each site up from the used blocks it reads.  Both tables are
 * outside the objects.
 *
 * The reader maps it read-only at its own address and opens the heap with
 * MemHeap_View(view, map + heap_offset, size - heap_offset), then gives the
 * view the heap's keys (MemHeap_ViewKeys) from keys_offset: the header tags
 * and free-list links are keyed (mem.h, Security), and the keys lie in a
 * page of the header area that the writer, once it has written them, maps
 * PROT_NONE in its own process, so no overflow of the program's objects
 * can read or write them; the reader treats them as untrusted as the rest
 * (wrong keys make every tag fail, which the hooks refuse).  It trusts
 * nothing: it checks the magic and the version, bounds every offset by the
 * mapping's size, and reads the heap only between two equal, even values
 * of `gen` (the writer makes it odd for the length of every operation, under
 * the heap's lock, with plain stores: one writer at a time), else it tries
 * again; a busy program is stopped (SIGSTOP) for the length of the walk,
 * within a share of its time.  Events go through a ring that the writer never waits
 * on: it overwrites the oldest, and the reader counts what it missed.
 */
#ifndef MEM_LIVE_H
#define MEM_LIVE_H

#include <stdatomic.h>
#include <stdint.h>

#define LIVE_MAGIC "LMLIVE01"
#define LIVE_VERSION 4u
#define LIVE_RING 4096u /* events; a power of two */
#define LIVE_HEADER_BYTES ((uint64_t)1 << 20)
#define LIVE_MEMFD_NAME "libmem-heap"
#define LIVE_SITE_FRAMES 8u
#define LIVE_SITES 16384u /* a power of two; site 0 takes what does not fit */
#define LIVE_SITES_END (LIVE_HEADER_BYTES + ((uint64_t)2 << 20))
/* The heap's keys (MemHeap_ExportKeys): a page of their own, 64 KiB before
 * the sites, which the writer maps PROT_NONE in its own process once it has
 * written them.  (64 KiB: a multiple of every page size.) */
#define LIVE_KEYS_OFFSET (LIVE_HEADER_BYTES - ((uint64_t)64 << 10))

/* One allocation site.  `key` (a hash of the frames, never 0) is written
 * last; 0 is an empty slot. */
typedef struct LiveSite {
    _Atomic uint64_t key;
    uint32_t nframes, pad;
    uint64_t frames[LIVE_SITE_FRAMES]; /* return addresses, innermost first */
} LiveSite;

/* One event, as MemEvent says it (offsets from the arena base).  `seq` is
 * written last: the index of the event + 1; a reader that finds another
 * value before or after copying the slot lost the race to the writer. */
typedef struct LiveEvent {
    _Atomic uint64_t seq;
    uint64_t op;
    uint32_t kind, policy, reason, neighbours;
    uint64_t request, examined, block, size, remainder, object, free_total, largest_free,
        previous;
    int64_t pointer;
    uint64_t run, slot;         /* an object in a run: its run and slot */
    uint32_t count, unused;     /* buddy's halvings and merges */
} LiveEvent;

typedef struct LiveHeader {
    char magic[8];              /* LIVE_MAGIC, written last at start-up */
    uint32_t version;           /* LIVE_VERSION */
    uint32_t ring_cap;          /* LIVE_RING */
    uint64_t ring_offset;       /* of ring[0] from the mapping's start */
    uint64_t heap_offset;       /* of MemHeap_Create's region */
    uint64_t size;              /* bytes of the mapping */
    _Atomic int32_t owner;      /* pid of the process whose heap this is */
    _Atomic uint32_t forks;     /* its children, each gone on with a private copy */
    _Atomic uint64_t gen;       /* odd while the heap is being changed */
    _Atomic uint64_t events;    /* events written in all: the ring's head */
    _Atomic uint32_t state;     /* LIVE_RUNNING, then LIVE_EXITED at exit() */
    int32_t exit_status;        /* unknown to a destructor: 0 */
    uint64_t sites_offset;      /* LiveSite[sites_cap] */
    uint32_t sites_cap;
    uint32_t site_frames;       /* frames recorded a site (MEM_BACKTRACE) */
    uint64_t owners_offset;     /* uint32_t[owners_count] */
    uint64_t owners_count;
    _Atomic uint64_t unrecorded; /* operations that sent no events: the writer
                                    sends those of at most 4096 operations in
                                    every 50 ms (lib/malloc.c), counts the rest */
    uint64_t keys_offset;       /* LIVE_KEYS_OFFSET: the heap's keys */
    uint64_t keys_len;          /* MEM_KEYS_SIZE */
} LiveHeader;

enum { LIVE_RUNNING = 1, LIVE_EXITED = 2 };

#endif /* MEM_LIVE_H */

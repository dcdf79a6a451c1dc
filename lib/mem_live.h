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
 * again.  Events go through a ring that the writer never waits on: it
 * overwrites the oldest, and the reader counts what it missed.
 *
 * The owners table is written late: an allocation appends its entry to the
 * owners log (LIVE_OWNER_LOG entries, a ring in the header area), and the
 * writer copies the oldest half of the log into the table when it is full
 * (one store into a random line of a large table costs the allocation a
 * page walk; a batch of them overlaps).  A reader takes an entry from the
 * log where the log has one, else from the table.
 *
 * The reader's page: the reader may map the first page read-write and
 * write the LiveReader fields there, nothing else.  Through it:
 *  - presence: `seen`, the reader's CLOCK_MONOTONIC time, written every
 *    frame.  While no reader has written it for LIVE_READER_NS the writer
 *    sends no events (they would only be overwritten), and counts the
 *    operations in `unrecorded` as it does past its events budget;
 *  - parking: a busy program's heap is read while the program waits.  The
 *    reader writes a new number into `park_req`; the writer, at the end of
 *    its next operation (gen even, the heap's lock held, so no other
 *    thread can change the heap), answers in `park_ack` (LIVE_PARKED, or
 *    LIVE_REFUSED within its budget) and waits (a futex) until the reader
 *    writes the same number into `park_release`, at most LIVE_PARK_MAX_NS,
 *    and after a wait of d ns refuses every request for LIVE_PARK_GAP d ns
 *    (at most 1/(LIVE_PARK_GAP + 1) of its time parked).  Both bounds are
 *    the writer's own: a reader that stops or dies cannot hold it longer.
 *    A reader without write access stops the program with SIGSTOP instead.
 */
#ifndef MEM_LIVE_H
#define MEM_LIVE_H

#include <stdatomic.h>
#include <stdint.h>

#define LIVE_MAGIC "LMLIVE01"
#define LIVE_VERSION 5u
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
/* The owners log: uint64_t entries, granule << 16 | site + 1. */
#define LIVE_OWNER_LOG 512u /* a power of two */
#define LIVE_OWNER_LOG_OFFSET (LIVE_HEADER_BYTES - ((uint64_t)128 << 10))
/* The reader's fields (LiveReader), in the first page. */
#define LIVE_READER_OFFSET 2048u
#define LIVE_READER_NS 1000000000LL  /* a reader unseen this long is gone */
#define LIVE_PARK_MAX_NS 20000000LL  /* the longest wait for a reader */
#define LIVE_PARK_GAP 19u            /* no wait for 19x the last one: 5 % */

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
    _Atomic uint32_t park_ack;  /* the request answered last (LiveReader) */
    _Atomic uint32_t park_state; /* its answer: LIVE_PARKED, LIVE_REFUSED, or
                                    LIVE_RESUMED once the wait is over */
    _Atomic uint64_t parks;     /* waits for a reader, and their ns in all */
    _Atomic uint64_t park_ns;
    _Atomic uint64_t park_max_ns; /* the longest */
    _Atomic uint64_t owner_head;    /* entries written to the owners log */
    _Atomic uint64_t owner_applied; /* of those, copied into the table */
    uint64_t owner_log_offset;  /* LIVE_OWNER_LOG_OFFSET */
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

/* At LIVE_READER_OFFSET: what the reader writes (the writer reads it). */
typedef struct LiveReader {
    _Atomic int64_t seen;          /* CLOCK_MONOTONIC ns, every frame */
    char pad[56];                  /* the requests on a line of their own */
    _Atomic uint32_t park_req;     /* a new number: park at the next chance */
    _Atomic uint32_t park_release; /* that number again: go on */
} LiveReader;

_Static_assert(sizeof(LiveHeader) <= LIVE_READER_OFFSET, "the header ends before the reader's fields");
#define LIVE_RING_OFFSET 4096u /* after the reader's fields */

enum { LIVE_RUNNING = 1, LIVE_EXITED = 2 };
enum { LIVE_PARKED = 1, LIVE_REFUSED = 2, LIVE_RESUMED = 3 };

#endif /* MEM_LIVE_H */

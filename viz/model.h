/*
 * model.h - what heapviz knows about its heaps, taken only through libmem's
 * public hooks.
 *
 * A Lane is one heap over a region heapviz maps itself.  After every change
 * the lane re-takes its Snapshot (MemHeap_Walk, MemHeap_Stats,
 * MemHeap_Region; MemHeap_WalkFree only on demand); the observer
 * (MemHeap_SetObserver) turns the library's events into the log, the
 * last-touched blocks and the history.  Nothing about the heap is kept on the side: the map, the panels
 * and every sentence are built from these.  No curses here.
 */
#ifndef VIZ_MODEL_H
#define VIZ_MODEL_H

#include "mem.h"
#include "workload.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VIZ_LANES_MAX MEM_POLICY_COUNT
#define LOG_CAP 256
#define LOG_LEN 224
#define HIST_CAP 4096
#define PENDING_CAP 16

/* One block of a snapshot: what the map and the panels need of the walk's
 * MemBlock, in 16 bytes instead of 80, so that a frame of a million blocks
 * copies and lays out 15 MB rather than 75.  32 bits are enough: the model takes
 * regions below 4 GiB (VIZ_MODEL_MAX_REGION; heapviz's --size stops at 1G).
 * The padding is what the rest leaves: size - header - object (used). */
typedef struct SnapBlock {
    uint32_t offset;   /* of the block's header from the arena base */
    uint32_t size;     /* bytes of the whole block */
    uint32_t object;   /* requested bytes of the live object; 0 if free */
    uint16_t header;   /* metadata bytes */
    bool used;
    bool overflowed;   /* guard mode: the guard after the object is broken */
} SnapBlock;

#define VIZ_MODEL_MAX_REGION ((size_t)UINT32_MAX)

/* The heap as the hooks report it at one moment.  The free list is not
 * copied: stats.free_blocks counts it, and Lane_FreeRank / Lane_FreeNth
 * walk it (MemHeap_WalkFree) only when a place in it is asked for. */
typedef struct Snapshot {
    MemRegion region;
    MemStats stats;
    SnapBlock *blocks; /* address order (MemHeap_Walk) */
    size_t nblocks, cap_blocks;
} Snapshot;

typedef enum LogKind { LOG_INFO, LOG_ALLOC, LOG_FREE, LOG_FAIL, LOG_REJECT, LOG_ALARM } LogKind;

typedef struct LogLine {
    uint64_t op;       /* the heap's operation number (0: not a heap op) */
    LogKind kind;
    char text[LOG_LEN];
} LogLine;

/* What the last operation touched, for the flash and the marker row. */
/* TOUCH_FAIL marks the largest free block when an allocation failed: the
 * block that was still too small. */
typedef enum TouchKind { TOUCH_NONE, TOUCH_ALLOC, TOUCH_FREE, TOUCH_SPLIT, TOUCH_COALESCE,
                         TOUCH_ALARM, TOUCH_FAIL } TouchKind;

typedef struct Touch {
    TouchKind kind;
    size_t offset, size;   /* bytes touched, from the arena base */
} Touch;

typedef struct HistPoint {
    uint16_t ext;   /* external fragmentation, per ten thousand */
    uint16_t util;  /* utilisation, per ten thousand */
} HistPoint;

typedef struct Lane {
    MemPolicy policy;
    unsigned flags;          /* MEM_OPT_* */
    unsigned char *region;   /* mapped by heapviz */
    size_t region_size;
    MemHeap *heap;
    Player *player;
    Snapshot snap;           /* stats fresh after every operation; the walk
                                (blocks) when stale is false */
    bool stale;              /* the walk is older than the heap */
    struct {                 /* Lane_FreeRank's last answer, until the heap changes */
        bool valid;
        size_t offset;
        long rank;
        unsigned list;
    } rank;
    MemEvent pending[PENDING_CAP]; /* the observer's inbox, emptied by Lane_Digest */
    unsigned npending;
    MemEvent events[PENDING_CAP]; /* the last operation's events, as the
                                     library reported them (predict.c) */
    unsigned nevents;
    LogLine log[LOG_CAP];    /* ring */
    unsigned log_head, log_count;
    uint64_t log_total;      /* lines logged in all (the ring keeps LOG_CAP) */
    HistPoint hist[HIST_CAP]; /* ring */
    size_t hist_count;       /* samples taken in all */
    Touch touch[3];
    unsigned ntouch;
    uint64_t touch_serial;   /* bumps whenever touch[] changes (flash timing) */
    char last[96];           /* the last operation, short, for the status line */
} Lane;

typedef struct ModelConfig {
    size_t region_size;
    unsigned nlanes;                  /* >= 1 */
    MemPolicy policies[VIZ_LANES_MAX];
    unsigned flags;                   /* MEM_OPT_GUARD or 0 */
    WorkloadKind workload;
    uint64_t seed;
    const Trace *trace;               /* for WL_TRACE; must outlive the model */
} ModelConfig;

struct History;

typedef struct Model {
    ModelConfig cfg;
    unsigned nlanes;
    Lane lanes[VIZ_LANES_MAX];
    Workload *wl;
    uint64_t steps;          /* workload operations applied since the start */
    bool ended;              /* the trace has no more operations */
    struct History *hist;    /* every operation applied, to go back to (history.h) */
} Model;

/* Maps the regions and creates the heaps, players and workload.  Returns 0,
 * or -1 with a sentence in err (also for a region above
 * VIZ_MODEL_MAX_REGION bytes). */
int Model_Init(Model *m, const ModelConfig *cfg, char *err, size_t errlen);
void Model_Fini(Model *m);

/* Re-creates every heap over its region (with the lane's policy) and starts
 * the workload again from its seed.  Returns 0 or -1 (err). */
int Model_Restart(Model *m, char *err, size_t errlen);
/* Single-heap mode: the next policy in MemPolicy order, then Restart. */
int Model_SetPolicy(Model *m, MemPolicy policy, char *err, size_t errlen);
/* Another workload kind (not WL_TRACE without a trace), then Restart. */
int Model_SetWorkload(Model *m, WorkloadKind kind, char *err, size_t errlen);

/* Applies the next operation to every lane: the workload's next one, or,
 * when the history shows a past position, the operation recorded there.
 * False (and nothing changes) when a trace has ended. */
bool Model_Step(Model *m);
/* Applies op as a workload operation (m->steps counts it); for replays. */
void Model_ApplyOp(Model *m, const Op *op);

/* The user's own operations on one lane; each is logged like the workload's.
 * Alloc returns the object or NULL.  FreeAt frees through the byte at
 * `offset` from the arena base and returns MemHeap_Free's answer.
 * Overflow writes `n` bytes past the end of the live object whose block
 * starts at block_offset, through the object pointer, into its padding;
 * returns the bytes written (0 when there is no such object or no padding). */
void *Model_Alloc(Model *m, unsigned lane, size_t size);
/* The typed allocation of size bytes in every lane, one operation; out[i]
 * (when out is not NULL) gets lane i's object or NULL. */
void Model_AllocAll(Model *m, size_t size, void **out);
/* FreeAt frees the object that byte `offset` of the arena is inside (any
 * byte: interior free) and returns MEM_OK or the library's MemReject; on
 * MEM_OK, *object and *size (when not NULL) name the object it was. */
int Model_FreeAt(Model *m, unsigned lane, size_t offset, size_t *object, size_t *size);
size_t Model_Overflow(Model *m, unsigned lane, size_t block_offset, size_t n);

/* Lookup in a snapshot: the index in blocks[] of the block holding the
 * byte at offset, or -1.  Time: O(log blocks). */
long Snapshot_BlockAt(const Snapshot *s, size_t offset);

/* blocks[i] as the walk reported it (rank i, list 0).  i < nblocks. */
MemBlock Snapshot_Block(const Snapshot *s, size_t i);

/* The place (from 0) of the free block that starts at offset in the
 * policy's free-list order, taken from the heap itself by a MemHeap_WalkFree
 * that stops there; -1 when no free block starts there.  *list (if not
 * NULL) gets the block's list (its size class under MEM_FAST).  The answer
 * is kept until the heap changes, so a frame that asks again pays nothing.
 * Time: O(rank) the first time. */
long Lane_FreeRank(Lane *l, size_t offset, unsigned *list);
/* The offset of the free block at place `rank` of the free-list order, or
 * SIZE_MAX when the list is shorter.  Time: O(rank). */
size_t Lane_FreeNth(const Lane *l, size_t rank);

/* The i-th newest log line (0 = newest), or NULL. */
const LogLine *Lane_Log(const Lane *l, unsigned i);
/* The i-th newest history sample (0 = newest), or NULL. */
const HistPoint *Lane_Hist(const Lane *l, size_t i);

/* A fresh heap over the lane's region (its policy and flags), observed as
 * before; nothing else of the lane changes.  Returns 0 or -1. */
int Lane_NewHeap(Lane *l);

/* Re-takes a lane's snapshot through the hooks.  After an operation only
 * the statistics are re-taken at once (cheap); the walk waits for the next
 * Lane_Sync, so a frame pays for one walk however many operations it shows. */
void Lane_Refresh(Lane *l);
/* Lane_Refresh if the walks are stale; Model_Sync does every lane. */
void Lane_Sync(Lane *l);
void Model_Sync(Model *m);

#endif

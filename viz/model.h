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
/* Bytes the player fills and checks at each end of an object (the whole of
 * a smaller one): memory and time follow the number of objects, not their
 * sizes (Player_SetWindow). */
#define VIZ_PLAYER_WINDOW 256

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

/* A run (MEM_FAST's small objects: a block cut into equal slots) as the
 * walk reports it.  Its bytes are in Snapshot.blocks as pieces, so that the
 * map draws its slots one by one (MemHeap_WalkSlots): its header and table
 * (used, header = those bytes, no object), one piece per slot (header 0:
 * used, with the object's exact size and the slot's unused bytes as
 * padding; or free), and its tail after the last slot (used, header 0, no
 * object).  No block of the heap looks like that: a block's header is 8
 * bytes, a used block's object at least 1. */
typedef struct SnapRun {
    uint32_t offset, size;   /* the run's block */
    uint32_t slot_offset;    /* slot 0 */
    uint32_t slot_size, slots, live;
    unsigned cls;            /* its size class, from 0 */
} SnapRun;

/* Snapshot pieces of runs (see SnapRun). */
static inline bool Snap_InRun(const SnapBlock *b)
{
    return b->header == 0 || (b->used && b->object == 0);
}
static inline bool Snap_IsSlot(const SnapBlock *b)
{
    return b->header == 0 && (!b->used || b->object > 0);
}
static inline bool Snap_IsRunTable(const SnapBlock *b)
{
    return b->used && b->object == 0 && b->header > 0;
}

/* The heap as the hooks report it at one moment.  The free list is not
 * copied: stats.free_blocks counts it, and Lane_FreeRank / Lane_FreeNth
 * walk it (MemHeap_WalkFree) only when a place in it is asked for. */
typedef struct Snapshot {
    MemRegion region;
    MemStats stats;
    SnapBlock *blocks; /* address order (MemHeap_Walk; runs as pieces) */
    size_t nblocks, cap_blocks;
    SnapRun *runs;     /* address order */
    size_t nruns, cap_runs;
    uint64_t serial;   /* a new number for every walk (Lane_Refresh), never
                          reused: the map keeps its cells while it stays */
} Snapshot;

typedef enum LogKind { LOG_INFO, LOG_ALLOC, LOG_FREE, LOG_FAIL, LOG_REJECT, LOG_ALARM } LogKind;

typedef struct LogLine {
    uint64_t op;       /* Model.ops of the operation (0: not an operation) */
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

/* Free blocks by size class, counted from the walk: class k holds blocks
 * of [32 << k, 64 << k) bytes (the last class: that and up). */
#define FREE_CLASSES 24

/* What the walk says about the free blocks, for figures that need more than
 * MemHeap_Stats: the size histogram, and fragmentation without the heap's
 * untouched tail (the bytes after the highest byte ever allocated, which
 * make a fresh heap look unfragmented however chopped up the rest is). */
typedef struct FreeSummary {
    size_t count[FREE_CLASSES];
    size_t touched_free;      /* free bytes below the high-water mark */
    size_t touched_largest;   /* the largest free block's bytes below it */
    double frag_no_tail;      /* 1 - touched_largest / touched_free; 0 if none */
} FreeSummary;

#define LANE_WALK_CHECK 4096u

typedef struct Lane {
    MemPolicy policy;
    unsigned flags;          /* MEM_OPT_* */
    MemCoalesce coalesce;    /* what the heap was made with (explains a free) */
    unsigned char *region;   /* mapped by heapviz */
    size_t region_size;
    MemHeap *heap;
    Player *player;
    Snapshot snap;           /* stats fresh after every operation; the walk
                                (blocks) when stale is false */
    bool stale;              /* the walk is older than the heap */
    /* live mode: asked every LANE_WALK_CHECK blocks of a walk; false ends
     * the walk there (the caller knows that it is not whole) */
    bool (*walk_go_on)(const void *arg);
    const void *walk_arg;
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
    size_t high_water;       /* one past the highest byte any allocation took
                                (from the ALLOC events since the heap began) */
    FreeSummary free;        /* from the walk, with the snapshot's blocks */
} Lane;

/* The user's own operations (keys a, f, i, o).  Each is kept, in the order
 * it applies, so that a restart replays it where it happened: after `after`
 * workload operations.  The object a free or an overflow names is recorded
 * by what it is, not where it was, so a replay under another policy or
 * workload finds it wherever it went:
 *   TARGET_TYPED     the object of typed allocation number `id`;
 *   TARGET_WORKLOAD  the object the workload's id `id` holds;
 *   TARGET_OFFSET    whatever holds byte `offset` of the arena (an object
 *                    nobody named, or none: a refused free is replayed too).
 * For the first two, `offset` is the byte inside the object (interior
 * frees).  Typed operations are the lockstep kind: they apply to every
 * lane, except TARGET_OFFSET ones, which apply to `lane` only.  The list is
 * plain data (a script of the session): a caller may save it, and
 * Model_Replay runs it again. */
typedef enum TypedKind { TYPED_ALLOC, TYPED_FREE, TYPED_OVERFLOW } TypedKind;
typedef enum TypedTarget { TARGET_OFFSET, TARGET_TYPED, TARGET_WORKLOAD } TypedTarget;

typedef struct TypedOp {
    TypedKind kind;
    uint32_t no;          /* its number among the typed operations, from 0 */
    uint64_t after;       /* workload operations applied before it */
    size_t size;          /* ALLOC: bytes asked for; OVERFLOW: bytes written */
    TypedTarget target;   /* FREE, OVERFLOW: the object (see above) */
    uint32_t id;          /* TARGET_TYPED: an ALLOC's no; TARGET_WORKLOAD: a workload id */
    size_t offset;        /* TARGET_OFFSET: arena byte; else byte inside the object */
    unsigned lane;        /* TARGET_OFFSET: the lane it was typed on */
} TypedOp;

typedef struct ModelConfig {
    size_t region_size;
    unsigned nlanes;                  /* >= 1 */
    MemPolicy policies[VIZ_LANES_MAX];
    unsigned flags;                   /* MEM_OPT_GUARD or 0 */
    MemOrder order;                   /* the knobs, given to the list */
    MemCoalesce coalesce;             /* policies' heaps only */
    WorkloadKind workload;
    uint64_t seed;
    const Trace *trace;               /* for WL_TRACE; must outlive the model */
    bool live;                        /* heapviz -- CMD: one lane, no heap of its
                                         own, no workload (viz/live.c feeds it) */
} ModelConfig;

struct History;

typedef struct Model {
    ModelConfig cfg;
    unsigned nlanes;
    Lane lanes[VIZ_LANES_MAX];
    Workload *wl;
    uint64_t steps;          /* workload operations applied since the start */
    uint64_t ops;            /* operations applied since the start, typed ones
                                included (a realloc is one): the title's "op N" */
    bool ended;              /* the trace has no more operations */
    TypedOp *typed;          /* the user's operations, by `after` (see TypedOp) */
    size_t ntyped, cap_typed;
    size_t next_typed;       /* typed[next_typed..] have not applied in this run */
    size_t *typed_obj;       /* [no * VIZ_LANES_MAX + lane]: offset of typed
                                allocation no's live object, SIZE_MAX: none */
    uint32_t cap_obj;        /* typed numbers typed_obj has room for */
    Op next;                 /* the workload's next operation, when have_next:
                                taken ahead so that it can be shown before it
                                applies (predict mode) */
    bool have_next;
    struct History *hist;    /* checkpoints, to go back to any operation
                                (history.h) */
} Model;

/* Maps the regions and creates the heaps, players and workload.  Returns 0,
 * or -1 with a sentence in err (also for a region above
 * VIZ_MODEL_MAX_REGION bytes). */
int Model_Init(Model *m, const ModelConfig *cfg, char *err, size_t errlen);
void Model_Fini(Model *m);

/* Re-creates every heap over its region (with the lane's policy), empties
 * the logs and starts the workload again from its seed: operation 0, where
 * the history starts again.  The typed operations are kept and apply again
 * as the workload reaches them (Model_Step); those typed before any
 * workload operation at once.  Returns 0 or -1 (err). */
int Model_Restart(Model *m, char *err, size_t errlen);
/* Restart, then Model_Step until `ops` operations are applied (or none is
 * left): the session again, up to that point.  Returns 0 or -1 (err).
 * Time: O(ops) operations. */
int Model_Replay(Model *m, uint64_t ops, char *err, size_t errlen);
/* Lane 0's policy, then Restart. */
int Model_SetPolicy(Model *m, MemPolicy policy, char *err, size_t errlen);
/* A lane's policy, then Restart. */
int Model_SetLanePolicy(Model *m, unsigned lane, MemPolicy policy, char *err, size_t errlen);
/* Another workload kind (not WL_TRACE without a trace), then Restart. */
int Model_SetWorkload(Model *m, WorkloadKind kind, char *err, size_t errlen);

/* Applies the next operation, one: the typed operation due here (its
 * `after` reached), else the workload's next operation (to every lane).
 * Each is operation number ++ops, the position time travel counts in.
 * False (and nothing changes) when a trace has ended and no typed
 * operation is due. */
bool Model_Step(Model *m);

/* What Model_Step would apply next, without applying it: *typed gets the
 * typed operation due (or NULL), else *op the workload's next operation.
 * False when there is none (a trace has ended). */
bool Model_Peek(Model *m, const TypedOp **typed, Op *op);

/* The user's own operations.  Each is numbered and logged like a workload
 * operation and kept in the typed list (TypedOp), which Restart replays.
 * Alloc allocates `size` bytes in every lane (lockstep) and returns lane
 * `lane`'s object, or NULL when its allocation failed. */
void *Model_Alloc(Model *m, unsigned lane, size_t size);
/* FreeAt frees the object that byte `offset` of lane `lane`'s arena is
 * inside (any byte: interior free) and returns MEM_OK or the library's
 * MemReject; on MEM_OK, *object and *size (when not NULL) name the object
 * it was.  An object allocated by the user or held by the workload is freed
 * in every lane (where it is there); any other offset on `lane` alone. */
int Model_FreeAt(Model *m, unsigned lane, size_t offset, size_t *object, size_t *size);
/* Writes `n` bytes past the end of the live object whose block starts at
 * block_offset in lane `lane`, through the object pointer, into its padding
 * (in every lane that holds the same object); returns the bytes written in
 * `lane` (0 when there is no such object or no padding). */
size_t Model_Overflow(Model *m, unsigned lane, size_t block_offset, size_t n);

/* The typed operations, in the order they apply; *n gets their number.
 * The first m->next_typed of them have applied in this run.  One typed at
 * a past position (after time travel back) is inserted there: the later
 * ones stay and apply after it, as after a restart. */
const TypedOp *Model_TypedOps(const Model *m, size_t *n);

/* Lookup in a snapshot: the index in blocks[] of the block holding the
 * byte at offset, or -1.  Time: O(log blocks). */
long Snapshot_BlockAt(const Snapshot *s, size_t offset);

/* blocks[i] as the walk reported it (rank i, list 0).  i < nblocks.  For a
 * piece of a run (its table, a slot, its tail) it is that piece, with run
 * set and the run fields of its run. */
MemBlock Snapshot_Block(const Snapshot *s, size_t i);

/* The run whose block holds the byte at offset, or NULL.
 * Time: O(log runs). */
const SnapRun *Snapshot_RunAt(const Snapshot *s, size_t offset);

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
/* The knobs in words ("LIFO list, no coalescing") when they are not the
 * defaults and a list policy's heap (the only ones that take them) is
 * shown, else "".  Returns buf. */
char *Model_Knobs(const Model *m, char *buf, size_t len);

/* The i-th newest history sample (0 = newest), or NULL. */
const HistPoint *Lane_Hist(const Lane *l, size_t i);

/* A fresh heap over the lane's region (its policy and flags, cfg's knobs),
 * observed as before; nothing else of the lane changes.  Returns 0 or -1. */
int Lane_NewHeap(Lane *l, const ModelConfig *cfg);

/* Live mode: the lane shows `view`, a MemHeap_View of a running program's
 * heap that the caller re-opens for every read, and re-takes its snapshot
 * from it now.  Feed logs the events of one operation of that program
 * (MemEvent as the library raised them), as the observer does for a lane's
 * own heap. */
void Lane_Live(Lane *l, MemHeap *view);
void Lane_Feed(Lane *l, const MemEvent *ev, unsigned n);
/* The size class (FREE_CLASSES) of a free block of `size` bytes. */
unsigned Free_Class(size_t size);

/* Re-takes a lane's snapshot through the hooks.  After an operation only
 * the statistics are re-taken at once (cheap); the walk waits for the next
 * Lane_Sync, so a frame pays for one walk however many operations it shows. */
void Lane_Refresh(Lane *l);
/* Lane_Refresh if the walks are stale; Model_Sync does every lane. */
void Lane_Sync(Lane *l);
void Model_Sync(Model *m);

#endif

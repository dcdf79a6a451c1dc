/*
 * history.h - every operation heapviz applied, and stepping back to any of
 * them (time travel).  No curses.
 *
 * The model records each operation as it applies it: the workload's next
 * operation (a trace's, a script's), or one the user typed (allocate in
 * every lane, free at an offset, overflow).  Position p is the state after
 * the first p operations.  Going to p restores the nearest checkpoint at or
 * before p and applies the recorded operations from there: everything in
 * the model is a deterministic function of the operations (the library, the
 * player's patterns, the log, the history chart), so the replayed state is
 * the state that was.  The selection of each position is kept with it.
 *
 * A checkpoint holds, per lane, the region's bytes (the heap's control
 * block and arena: the heap is position independent, and restoring into
 * the same region keeps even its process-local pointers right), the
 * player's id table and the lane's own record (log, chart, touches).  One
 * is taken every `every` operations; when they outgrow the memory budget,
 * every other one is dropped and `every` doubles, so a replay is never
 * longer than `every` operations and memory stays bounded.  Position 0
 * needs no copy of the heaps (they are fresh there); heaps of more than
 * HIST_BUDGET / 8 bytes in all get no other checkpoint, and every travel
 * replays from position 0.
 *
 * Stepping forward from a past position redoes the recorded operations; an
 * operation typed there forks: the recorded future is dropped.  The
 * workload's operations are kept as generated (they depend on its seed
 * only), so after a fork the workload goes on where it stood.
 */
#ifndef VIZ_HISTORY_H
#define VIZ_HISTORY_H

#include "model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum HistKind {
    H_STEP,      /* the workload's operation number `arg` */
    H_ALLOC,     /* allocate `arg` bytes (in `lane`, or every lane) */
    H_FREE,      /* free through the byte at offset `arg` of `lane` */
    H_OVERFLOW   /* write `n` bytes past the object of block `arg` in `lane` */
} HistKind;

#define H_ALL_LANES 0xFFu

/* What a typed operation did, for saving a session as a script. */
typedef struct HistTyped {
    uint32_t object[VIZ_LANES_MAX]; /* ALLOC: each lane's new object; FREE: the
                                       object freed (its lane only); UINT32_MAX:
                                       none */
    uint32_t wid;                   /* FREE: the player's id of that object
                                       (a workload object), else UINT32_MAX */
} HistTyped;

typedef struct HistEntry {
    uint8_t kind;       /* HistKind */
    uint8_t lane;       /* the lane, or H_ALL_LANES */
    uint8_t sel_lane;   /* the focused lane before the operation */
    uint8_t reserved;
    uint32_t sel;       /* the selected block before it, UINT32_MAX: none */
    uint64_t arg;       /* see HistKind */
    uint32_t n;         /* OVERFLOW: bytes */
    uint32_t typed;     /* index into the typed records, UINT32_MAX: none */
} HistEntry;

/* At most this many operations are kept: the next one starts the history
 * again at the current position (older positions can no longer be shown). */
#define HIST_MAX_OPS ((size_t)1 << 20)
/* Checkpoints stop growing at this many bytes (at least 8 checkpoints are
 * kept whatever their size). */
#define HIST_BUDGET ((size_t)64 << 20)

typedef struct History History;

History *History_Create(void);
void History_Destroy(History *h);

/* Forgets every operation: the model's present state (fresh heaps) becomes
 * position 0.  Returns 0, or -1 when out of memory (the history is then
 * empty and travel refuses to move). */
int History_Reset(History *h, Model *m);

/* ---- what the model calls ---------------------------------------------- */

/* Whether a replay is applying operations (then nothing is recorded). */
bool History_Replaying(const History *h);
/* Records an operation the model has just applied (typed: its record, or
 * NULL).  At a past position this forks (the later operations are dropped).
 * Takes a checkpoint when one is due.  Out of memory: the history is reset
 * at the present position. */
void History_Record(History *h, Model *m, HistEntry e, const HistTyped *typed);
/* The workload's operation number `index` (operations are kept as the
 * workload makes them): false when the workload has no more. */
bool History_WorkloadOp(History *h, Workload *wl, uint64_t index, Op *op);
/* At a past position: applies the next recorded operation and returns
 * true.  At the present: false. */
bool History_Redo(History *h, Model *m);

/* ---- travel ----------------------------------------------------------- */

/* Positions: the first kept (0 unless the history restarted), the present
 * (the last recorded) and the one shown. */
size_t History_First(const History *h);
size_t History_Last(const History *h);
size_t History_Pos(const History *h);

/* The UI's selection now (kept with the position on the next move). */
void History_SetView(History *h, size_t sel, unsigned lane);
/* The selection kept with the position shown. */
void History_GetView(const History *h, size_t *sel, unsigned *lane);

/* Shows position pos (First <= pos <= Last): the heaps, players, logs,
 * charts and selection exactly as they were.  Returns 0, or -1 and changes
 * nothing when pos is out of range.  Time: one checkpoint's copy plus at
 * most `every` operations replayed. */
int History_Goto(History *h, Model *m, size_t pos);

/* The recorded operation at position i (First <= i < Last), or NULL; its
 * typed record (or NULL); the workload's operation number k. */
const HistEntry *History_Entry(const History *h, size_t i);
const HistTyped *History_Typed(const History *h, const HistEntry *e);
const Op *History_WorkloadAt(const History *h, uint64_t k);

/* Figures for the report and the bench: checkpoints, their bytes, and the
 * operations between two of them. */
typedef struct HistoryFigures {
    size_t checkpoints, bytes, every, ops;
} HistoryFigures;
HistoryFigures History_Figures(const History *h);

#endif

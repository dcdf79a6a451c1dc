/*
 * history.h - going back to any operation heapviz applied (time travel).
 * No curses.
 *
 * A position is Model.ops: the operations applied since the heaps were
 * made, the workload's and the typed ones, each counted once.  Everything
 * in the model is a deterministic function of the operations: the
 * workload's (a function of its kind, seed and capacity, or the trace) and
 * the typed ones, which the model keeps in its own list (TypedOp) with the
 * place where each applies.  So this module keeps no journal: going to p
 * restores the nearest checkpoint at or before p and lets Model_Step apply
 * the operations from there, which are the ones that were applied.  The
 * selection of each position is kept with it.
 *
 * A checkpoint holds the model's place in its operations (workload and
 * typed positions, the typed allocations' objects, the workload's state),
 * and per lane the region's bytes (the heap's control block and arena: the
 * heap is position independent, and restoring into the same region keeps
 * even its process-local pointers right), the player's id table and the
 * lane's own record (log, chart, touches).  One is taken every `every`
 * operations; when they outgrow the memory budget, every other one is
 * dropped and `every` doubles, so a replay is never longer than `every`
 * operations and memory stays bounded; a few near checkpoints follow the
 * user, so that a step back replays at most a few hundred operations
 * (history.c).  Position 0 needs no copy of the
 * heaps (they are fresh there); heaps of more than HIST_BUDGET / 8 bytes
 * in all get no other checkpoint, and every travel replays from position 0.
 *
 * An operation typed at a past position is inserted into the model's list
 * there (the later typed ones stay, as they do after a restart): the
 * positions after it are no longer what was shown, so their checkpoints
 * and selections go, and the present is that position.
 */
#ifndef VIZ_HISTORY_H
#define VIZ_HISTORY_H

#include "model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Checkpoints stop growing at this many bytes (at least 8 checkpoints are
 * kept whatever their size). */
#define HIST_BUDGET ((size_t)64 << 20)

typedef struct History History;

History *History_Create(void);
void History_Destroy(History *h);

/* Forgets every position: the model's present state (fresh heaps, Model.ops
 * 0) becomes position 0.  Returns 0, or -1 when out of memory (travel then
 * refuses to move until the next reset). */
int History_Reset(History *h, Model *m);

/* ---- what the model calls (h may be NULL) -------------------------------- */

/* After each operation: the present moves on, the selection of the
 * position left is kept, a checkpoint is taken when one is due.  Out of
 * memory: travel refuses to move until the next reset. */
void History_Note(History *h, Model *m);
/* Before an operation is typed: at a past position, the later positions
 * are dropped (see the file comment). */
void History_Fork(History *h, Model *m);
/* An operation was applied that the model could not keep (out of memory):
 * the operations no longer make the heaps, so travel refuses to move until
 * the next reset. */
void History_Lost(History *h);

/* ---- travel ------------------------------------------------------------- */

/* The latest position applied since the last reset or fork (the present). */
uint64_t History_Last(const History *h);

/* The UI's selection now (kept with the position on the next move). */
void History_SetView(History *h, size_t sel, unsigned lane);
/* The selection kept with position pos (SIZE_MAX: none). */
void History_GetView(const History *h, uint64_t pos, size_t *sel, unsigned *lane);

/* Shows position pos: the heaps, players, logs, charts and selection
 * exactly as they were.  Beyond the present, operations are applied until
 * pos (or until a trace ends).  Returns 0, or -1 and changes nothing when
 * no history is kept (out of memory).  Time: one checkpoint's copy plus at
 * most `every` operations replayed (beyond the present: pos - present). */
int History_Goto(History *h, Model *m, uint64_t pos);

/* Figures for the report and the bench: checkpoints, their bytes, the
 * operations between two of them, the near ones (and their positions, 0:
 * none) and the present. */
typedef struct HistoryFigures {
    size_t checkpoints, bytes, every;
    size_t near;
    uint64_t near_pos[4];
    uint64_t last;
} HistoryFigures;
HistoryFigures History_Figures(const History *h);

#endif

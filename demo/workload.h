/*
 * workload.h - seeded allocation workloads, malloc-lab traces, and the player
 * that applies them to a heap.  One module serves heapviz, the tests and the
 * benchmarks.  This module may use the C library's malloc for its own
 * bookkeeping (it is not the allocator under study).
 */
#ifndef WORKLOAD_H
#define WORKLOAD_H

#include "mem.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- operations --------------------------------------------------------- */

typedef enum OpKind {
    OP_ALLOC,   /* id gets a new object of `size` bytes */
    OP_FREE,    /* free id's object through the byte at offset `at` in it */
    OP_REALLOC  /* id's object becomes `size` bytes: allocate, copy, free */
} OpKind;

typedef struct Op {
    OpKind kind;
    uint32_t id;     /* 0 .. max_ids-1 */
    size_t size;     /* ALLOC, REALLOC */
    size_t at;       /* FREE: interior offset (< the object's size), 0 = start */
} Op;

/* ---- traces: the CS:APP malloc-lab .rep format ---------------------------
 * Four header lines (suggested heap size, number of ids, number of ops,
 * weight), then one op a line: "a id size", "f id", "r id size".  Blank
 * lines and lines whose first non-blank character is '#' are ignored.  A
 * malformed file is rejected whole with "path:line: what is wrong".
 *
 * Two extensions: "f id offset" frees through the byte at `offset` inside the
 * object (an interior pointer); plain "f id" is offset 0.  And the header may
 * be left out: when the first significant line is an op, the number of ids
 * is the largest id + 1, the ops are those found, the heap size is 0 (none
 * suggested) and the weight 1.  Files without either are exactly
 * malloc-lab's.
 *
 * Rules beyond the syntax: every id is < the header's number of ids; "a"
 * names an id that holds nothing (never used, or freed); "f" and "r" name an
 * id that holds an object, and an offset is < that object's size (or 0 for a
 * size-0 object); the number of op lines equals the header's.  Limits: lines
 * of at most TRACE_MAX_LINE bytes, printable ASCII plus tab and CR; sizes up
 * to TRACE_MAX_SIZE; at most TRACE_MAX_IDS ids and TRACE_MAX_OPS ops. */

#define TRACE_MAX_LINE 256
#define TRACE_MAX_IDS (1u << 22)
#define TRACE_MAX_OPS ((size_t)1 << 27)
#define TRACE_MAX_SIZE ((size_t)1 << 40)

typedef struct Trace {
    Op *ops;
    size_t nops;
    uint32_t nids;        /* header: ids used are < nids */
    size_t heap_hint;     /* header: suggested heap size (may be 0) */
    unsigned weight;      /* header */
} Trace;

/* Parses text (not NUL-terminated, len bytes).  Returns 0, or -1 with a
 * message "<name>:<line>: <reason>" in err (when err is not NULL; truncated
 * to errlen).  On failure *out is empty (Trace_Free on it is harmless).
 * Pure: reads only text[0..len), keeps no state between calls, and is safe
 * on any bytes whatsoever.  Time and memory: O(len + largest id). */
int Trace_Parse(const char *text, size_t len, const char *name, Trace *out, char *err,
                size_t errlen);
/* Reads and parses a file (at most 64 MiB). */
int Trace_Load(const char *path, Trace *out, char *err, size_t errlen);
/* Reads a whole file of at most 64 MiB: 0 with *text (malloc'd, not
 * NUL-terminated) and *len, or -1 with "path: reason" in err. */
int Demo_ReadFile(const char *path, char **text, size_t *len, char *err, size_t errlen);
/* Writes a trace in the same format; returns 0 or -1 (errno). */
int Trace_Write(const Trace *t, FILE *f);
void Trace_Free(Trace *t);

/* ---- generated workloads --------------------------------------------------- */

typedef enum WorkloadKind {
    WL_RANDOM,      /* random sizes, random frees: a steady churn */
    WL_STACK,       /* LIFO: frees the most recent object */
    WL_QUEUE,       /* FIFO: frees the oldest object */
    WL_FRAGMENTER,  /* many small objects, free every other one, then ask
                       for large ones that cannot fit: fragmentation */
    WL_PHASED,      /* grow, churn, shrink, over and over */
    WL_TRACE,       /* replay a Trace */
    WL_COUNT
} WorkloadKind;

/* "random", "stack", "queue", "fragmenter", "phased", "trace". */
const char *Workload_Name(WorkloadKind kind);
int Workload_Parse(const char *name, WorkloadKind *out);
/* One line for a help screen or man page. */
const char *Workload_Describe(WorkloadKind kind);

typedef struct Workload Workload;

/* A workload sized for a heap of `capacity` bytes: object sizes scale with
 * it so fragmentation shows in a few hundred operations.  The same kind,
 * seed and capacity always give the same operations.  Generated workloads
 * never end (each cycle frees what it holds and starts again); a trace
 * workload ends after its last op (trace must outlive the workload).
 * Returns NULL on a bad argument (WL_TRACE without a trace). */
Workload *Workload_Create(WorkloadKind kind, uint64_t seed, size_t capacity,
                          const Trace *trace);
/* The next operation; false when a trace is exhausted. */
bool Workload_Next(Workload *w, Op *op);
/* How many ids the workload can use at once (sizes the player). */
uint32_t Workload_MaxIds(const Workload *w);
/* The generator's state as bytes, for a checkpoint (heapviz's time
 * travel): SaveState writes Workload_StateSize bytes, LoadState takes them
 * back into the same workload (same kind, capacity and trace), which then
 * goes on with the operations it made after the save.  Time: O(max ids). */
size_t Workload_StateSize(const Workload *w);
void Workload_SaveState(const Workload *w, void *buf);
void Workload_LoadState(Workload *w, const void *buf);
void Workload_Destroy(Workload *w);

/* Writes n operations of a generated workload as a trace file. */
int Workload_WriteTrace(WorkloadKind kind, uint64_t seed, size_t capacity, size_t n, FILE *f);

/* ---- the player ------------------------------------------------------------
 * Applies operations to a heap, holding the id -> object table that a
 * trace needs (the program's own variables, not a copy of the heap).
 * Objects are filled with a pattern derived from their id, and the pattern
 * is verified before every free and copy. */

typedef struct Player Player;

typedef enum StepResult {
    STEP_OK,          /* done */
    STEP_FAILED,      /* allocation returned NULL (heap unchanged) */
    STEP_SKIPPED,     /* free/realloc of an id that holds nothing */
    STEP_CORRUPT,     /* an object's pattern was wrong before a free/copy */
    STEP_REJECTED     /* the heap rejected the free (MemHeap_Free != 0) */
} StepResult;

typedef struct Step {
    Op op;
    StepResult result;
    void *ptr;        /* ALLOC/REALLOC: the new object (NULL if failed);
                         FREE: the pointer given to MemHeap_Free */
} Step;

/* A player for ids 0 .. max_ids-1 on heap; NULL when out of memory. */
Player *Player_Create(MemHeap *heap, uint32_t max_ids);
/* Fills and checks only the first and the last `bytes` bytes of each object
 * (all of an object up to twice that): a heap of large objects then costs
 * two windows of memory and time per object, not its size.  0, the
 * default, fills and checks every byte.  A realloc copies what the old
 * object's windows hold and fills the rest of the new one's. */
void Player_SetWindow(Player *p, size_t bytes);
/* Applies op; fills *step when step is not NULL.
 *   ALLOC    size 0 is made as 1 byte (malloc(0) gives an object too).  An id
 *            that still holds an object has it freed first.  FAILED leaves
 *            the id empty, so its later free or realloc is SKIPPED.
 *   FREE     verifies the pattern, then MemHeap_Free(object + at) (at is
 *            taken modulo the object's size).  CORRUPT: the pattern was
 *            wrong, the object was freed anyway.  REJECTED: the heap refused
 *            the pointer and the id keeps its object.
 *   REALLOC  verifies, allocates the new size, copies the common prefix,
 *            frees the old object.  FAILED keeps the old object (as
 *            realloc does).  CORRUPT: done anyway, with a fresh pattern.
 * An id >= max_ids is SKIPPED.  Time: O(object size). */
StepResult Player_Apply(Player *p, const Op *op, Step *step);
/* Forgets whichever id holds the object that ptr points into (after the
 * user freed it by hand), so a later free of that id is skipped.
 * Time: O(max_ids). */
void Player_Forget(Player *p, const void *object);
/* The id whose object ptr points into: true and *id set, or false when no
 * id holds that object.  Time: O(max_ids). */
bool Player_IdOf(const Player *p, const void *ptr, uint32_t *id);
/* The object id holds (its size in *size when size is not NULL), or NULL. */
void *Player_Object(const Player *p, uint32_t id, size_t *size);
/* Points the player at another heap (or the same one re-created): all ids
 * become empty. */
void Player_Reset(Player *p, MemHeap *heap);
uint32_t Player_Live(const Player *p);
void Player_Destroy(Player *p);

/* The id table as bytes, for a checkpoint (heapviz's time travel):
 * SaveState writes Player_StateSize bytes, LoadState takes them back.  The
 * table holds the objects' addresses, so a state is only valid for the same
 * heap at the same address, holding the bytes it held when it was saved. */
size_t Player_StateSize(const Player *p);
void Player_SaveState(const Player *p, void *buf);
void Player_LoadState(Player *p, const void *buf);

#endif /* WORKLOAD_H */

/*
 * freelist.h - key L: the free blocks in the order the policy keeps them,
 * as an overlay on the right of the screen (MemHeap_WalkFree: address
 * order for the list policies; size classes, smallest first, for fast),
 * with the selected block's row marked and, after an allocation, the block
 * the library chose (its place in the list before) and the block split off.
 *
 * What it cannot show yet: which blocks a search examines, one by one.
 * The library's events give their number (MemEvent.examined), not the
 * blocks; telling them apart here would mean re-running the policy's search
 * in heapviz, which is not allowed (everything comes from the library).
 * The place for it is ready: once libmem answers a dry-run query (which
 * free blocks an allocation of n bytes would examine, in order, without
 * allocating), FreeList_Before asks it (search_path in freelist.c) and
 * fills `path`; the overlay already marks path[0..shown) as examined, and
 * the animation then moves `shown` on, one block a tick, before the
 * allocation is applied.  Until then `npath` stays 0.  No curses.
 */
#ifndef VIZ_FREELIST_H
#define VIZ_FREELIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FREELIST_BEFORE 512

/* The overlay's state, kept in the Ui. */
typedef struct FreeList {
    bool on;
    /* the focused heap's free list before the last stepped operation:
     * where a chosen block stood (the first FREELIST_BEFORE of it) */
    uint32_t before[FREELIST_BEFORE];
    unsigned nbefore;
    size_t before_total;     /* free blocks then, in all */
    uint64_t before_serial;  /* the lane's touch_serial then */
    /* the search of the allocation about to be stepped, block by block
     * (see the file comment): offsets in the order examined, and how many
     * of them the animation has shown */
    uint32_t path[FREELIST_BEFORE];
    unsigned npath, shown;
} FreeList;

struct Ui;
struct Frame;

/* Key L. */
unsigned FreeList_Toggle(struct Ui *ui, int key);
/* Before an operation is stepped (App_Step), while the overlay is on. */
void FreeList_Before(struct Ui *ui);
/* Draws the overlay (when on) over the panels. */
void FreeList_Draw(struct Ui *ui, struct Frame *f);

#endif

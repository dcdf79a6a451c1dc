/*
 * freelist.h - key L: the free blocks in the order the policy keeps them,
 * as an overlay on the right of the screen (MemHeap_WalkFree: address
 * order for the list policies; size classes, smallest first, for fast),
 * with the selected block's row marked and, after an allocation, the block
 * the library chose (its place in the list before) and the block split off.
 *
 * While the overlay is on, stepping an allocation first shows its search:
 * FreeList_Search asks libmem what the allocation would do
 * (MemHeap_PlanAlloc, a dry run that changes nothing) and holds the
 * operation while each free block it examines is highlighted in turn, one a
 * step (n) or a tick (running): in the overlay's rows, and on the map's
 * marker row (the block being examined, the ones passed over, the one that
 * fits); the status line says why each is passed over or taken.  The step
 * after the last examined block applies the allocation, whose events then
 * name the block taken and the split.  Typed allocations (a) apply at once.
 * No curses.
 */
#ifndef VIZ_FREELIST_H
#define VIZ_FREELIST_H

#include "mem.h"

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
    /* the search of the allocation about to be stepped (see the file
     * comment): the library's plan, the blocks examined in order, how many
     * of them have been shown, and the operation it is for (the model's
     * operation count and the lane's touch serial then) */
    MemPlan plan;
    MemPlanStep path[FREELIST_BEFORE];
    unsigned npath, shown;
    bool planned;
    unsigned plan_lane;
    uint64_t plan_ops, plan_serial;
} FreeList;

struct Ui;
struct Frame;

/* Key L. */
unsigned FreeList_Toggle(struct Ui *ui, int key);
/* Before an operation is stepped (App_Step), while the overlay is on. */
void FreeList_Before(struct Ui *ui);
/* Before an allocation is stepped, while the overlay is on: shows the next
 * block of its search and returns true (the operation waits), or false
 * when the search has been shown (or there is none): apply it now. */
bool FreeList_Search(struct Ui *ui);
/* The next step applies the operation, its search (if any) unshown:
 * predict mode's answer is revealed at once. */
void FreeList_Skip(struct Ui *ui);
/* The map's marks of the search shown so far, for the block at `offset`:
 * 0 none, 1 passed over, 2 being examined, 3 being examined and it fits. */
int FreeList_Mark(const struct Ui *ui, unsigned lane, size_t offset);
/* Draws the overlay (when on) over the panels. */
void FreeList_Draw(struct Ui *ui, struct Frame *f);

#endif

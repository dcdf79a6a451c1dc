/*
 * predict.h - predict mode (--predict, key P), OSTEP's malloc.py homework
 * as a game: before each allocation heapviz stops and asks in which free
 * block the object will land (or whether it fails); before each free,
 * which neighbours will coalesce with it.  The answer is taken from the
 * library's own events once the operation is applied, never worked out
 * here.  In compare mode each heap is asked in turn.  And --dump --predict
 * prints the questions as a worksheet, then its answer key.  No curses.
 */
#ifndef VIZ_PREDICT_H
#define VIZ_PREDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model.h"

/* A guess for an allocation: the free block's offset, or this for "it
 * fails".  For a free: MEM_LEFT | MEM_RIGHT bits (0: no neighbour). */
#define PREDICT_FAILS SIZE_MAX

typedef struct Predict {
    bool on;                  /* --predict or P */
    bool asking;              /* a question is open (the run is paused) */
    bool is_free;             /* the question: where (alloc) or which neighbours (free) */
    size_t request;           /* bytes the allocation asks for */
    size_t slot[VIZ_LANES_MAX];   /* alloc: the slot size each heap serves it
                                     with (MemHeap_SlotSize), 0: a block */
    size_t block[VIZ_LANES_MAX];  /* free: the block being freed, per lane */
    unsigned lane;            /* the heap being asked (compare mode: in turn) */
    size_t guess[VIZ_LANES_MAX];
    char input[24];           /* an offset being typed */
    unsigned ninput;
    unsigned right[VIZ_LANES_MAX], asked[VIZ_LANES_MAX];
} Predict;

struct Ui;

/* Before the next operation runs (App_Step): when predict mode is on and
 * the operation is one to ask about, opens the question, pauses and
 * returns true (the operation waits). */
bool Predict_Ask(struct Ui *ui);
/* A key while the question is open. */
unsigned Predict_Key(struct Ui *ui, int key);
/* Key P: predict mode on or off. */
unsigned Predict_Toggle(struct Ui *ui, int key);
/* The question's text for the status line. */
void Predict_Prompt(const struct Ui *ui, char *buf, size_t len);

/* --dump --predict: the worksheet (a bar and a question per operation, to
 * the end of the trace or script, or max_ops), then a form feed and the
 * answer key.  Returns 0, or 1 when writing failed. */
int Predict_Worksheet(struct Ui *ui, FILE *out, int cols, bool utf8, unsigned long max_ops);

#endif

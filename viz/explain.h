/*
 * explain.h - the library's events in the words a lecturer would use.
 * Pure functions: text in, text out.
 */
#ifndef VIZ_EXPLAIN_H
#define VIZ_EXPLAIN_H

#include "mem.h"
#include "model.h"

#include <stddef.h>

/* "120 B", "2.1 KiB", "1.5 MiB", "3.0 GiB" (one decimal from 1 KiB on).
 * Returns buf. */
char *Explain_Bytes(size_t bytes, char *buf, size_t len);

/* "first fit", "next fit", "best fit", "worst fit", "fast fit", "buddy" */
const char *Explain_Policy(MemPolicy p);

/* The knobs of a list policy's heap that are not the defaults, in words
 * ("LIFO list, deferred coalescing"), or "" when both are. Returns buf. */
char *Explain_Knobs(MemOrder order, MemCoalesce coalesce, char *buf, size_t len);

/* One sentence for the events of one operation (in the order the observer
 * got them; a realloc's allocation and free make one sentence too).  Writes
 * NUL-terminated text into buf and returns the kind of line it is.  `brief`
 * gets the short form for the status line ("alloc 120 B → +0x1a0"). */
LogKind Explain_Events(const MemEvent *ev, unsigned n, char *buf, size_t len, char *brief,
                       size_t brieflen);

#endif

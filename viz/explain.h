/*
 * explain.h - the library's events in the words a lecturer would use.
 * Pure functions: text in, text out.
 */
#ifndef VIZ_EXPLAIN_H
#define VIZ_EXPLAIN_H

#include "mem.h"
#include "model.h"

#include <stddef.h>

/* For totals and panels: exact below 10000 bytes ("9318 B"), whole units
 * when they are whole ("8 KiB", "1 GiB"), else one decimal ("2.1 MiB").
 * Returns buf. */
char *Explain_Bytes(size_t bytes, char *buf, size_t len);

/* Exact bytes, for what a lesson adds up: "7968 B"; from 10000 bytes on the
 * rounded size follows, "3145728 B (3.0 MiB)".  Returns buf. */
char *Explain_Exact(size_t bytes, char *buf, size_t len);

/* "1st", "2nd", "3rd", "4th", "11th", "22nd"...  Returns buf. */
char *Explain_Ordinal(size_t n, char *buf, size_t len);

/* "first fit", "next fit", "best fit", "worst fit", "fast fit", "buddy" */
const char *Explain_Policy(MemPolicy p);

/* The knobs of a list policy's heap that are not the defaults, in words
 * ("LIFO list, deferred coalescing"), or "" when both are. Returns buf. */
char *Explain_Knobs(MemOrder order, MemCoalesce coalesce, char *buf, size_t len);

/* The block an allocation of `request` bytes needs on a heap created with
 * `flags`: request + header (+ the guard's 8 bytes under MEM_OPT_GUARD),
 * rounded up to MEM_ALIGNMENT, and at least MEM_MIN_BLOCK, as mem.h states
 * the layout (buddy then rounds it up to a power of two).  The event of a
 * failure does not carry it. */
size_t Explain_BlockFor(size_t request, unsigned flags);

/* One sentence for the events of one operation on a heap created with
 * `flags` (in the order the observer got them; a realloc's allocation and
 * free make one sentence too).  Writes NUL-terminated text into buf and
 * returns the kind of line it is.  `brief` gets the short form for the
 * status line ("alloc 120 B → +0x1a0").  Sizes are exact (Explain_Exact). */
LogKind Explain_Events(const MemEvent *ev, unsigned n, unsigned flags, MemCoalesce coalesce,
                       char *buf, size_t len, char *brief, size_t brieflen);

#endif

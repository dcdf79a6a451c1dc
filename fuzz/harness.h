/*
 * harness.h - the fuzz harnesses, as plain functions.
 *
 * Each takes one input and runs it through the code under test with every
 * check the harness knows.  It returns NULL when all held, else a sentence
 * about the first check that failed (static storage, valid until the next
 * call).  The libFuzzer entry points (fuzz/fuzz_*.c) abort on a sentence;
 * tests/test_fuzz_regress.c replays saved inputs through the same functions
 * in an ordinary build and asserts NULL.  Single-threaded; not re-entrant.
 */
#ifndef FUZZ_HARNESS_H
#define FUZZ_HARNESS_H

#include <stdbool.h>
#include "mem.h"

#include <stddef.h>
#include <stdint.h>

/* A harness's failure sentence, formatted into static storage shared by the
 * harnesses (one runs at a time): valid until the next call. */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
const char *fuzz_fail(const char *fmt, ...);

/* Whether err (cap bytes, NUL-terminated within them) is one line
 * "fuzz:LINE: reason", or with col also "fuzz:LINE:COL: reason". */
bool fuzz_error_ok(const char *err, size_t cap, bool col);

/* An operation stream over the MemHeap_* API: the input picks the policy,
 * guard mode, region size and alignment, then allocations, frees through
 * interior pointers, frees and lookups of interior, wild, stale, header,
 * padding and table pointers, writes, overflows into guards, re-creation.
 * After every operation the heap is compared with a shadow model: the walk,
 * the free lists, the statistics, the events, the placement the policy
 * promises, the objects' contents, and MemHeap_Check. */
const char *Fuzz_Ops(const uint8_t *data, size_t size);

/* Totals since the process started, for the figures a run reports. */
typedef struct FuzzOpsTotals {
    uint64_t inputs;
    uint64_t ops[MEM_POLICY_COUNT]; /* operations checked, by MemPolicy */
    uint64_t checks;        /* MemHeap_Check/Diagnose calls compared */
    uint64_t probes;        /* pointers classified that were not live objects */
} FuzzOpsTotals;
FuzzOpsTotals Fuzz_OpsTotals(void);

/* The malloc-lab trace parser (demo/workload.h): any bytes either parse or
 * are refused with "name:line: reason"; what parses writes back and parses
 * again to the same operations, and plays on a heap with MemHeap_Check
 * holding after every step. */
const char *Fuzz_Trace(const uint8_t *data, size_t size);

/* The lecture-script parser (demo/script.h): any bytes either parse (as a
 * script, or as a .rep) or are refused with "name:line:col: reason" (a
 * .rep: "name:line: reason") and an empty script; what parses as a script
 * keeps the language's rules, writes back with Script_Write and parses
 * again to the same operations and notes, and plays on a heap with
 * MemHeap_Check holding after every step. */
const char *Fuzz_Script(const uint8_t *data, size_t size);

/* heapviz's command line (viz/options.h): the input is split into argv at
 * NUL bytes; Options_Parse and Options_ParseSize must answer without a
 * crash, and an error must come with a message. */
const char *Fuzz_Options(const uint8_t *data, size_t size);

/* A heap under attack (issue 9): allocations, frees and the program's own
 * writes, interleaved with damage (random bytes anywhere in the arena, in
 * headers, links, footers, the start bitmap and guards; single-bit flips in
 * freed memory; wild frees) and calls of every hook.  It checks only what
 * survives any damage: no crash, no hang, no allocation over a live object
 * or outside the block area, no write outside the region or into a live
 * object, no free or Find that names memory of no live object. */
const char *Fuzz_Damage(const uint8_t *data, size_t size);

typedef struct FuzzDamageTotals {
    uint64_t inputs;
    uint64_t corruptions;    /* bytes changed in the arena */
    uint64_t run_tables;     /* of which in a run's header or table */
    uint64_t flips;          /* single bits flipped in freed memory */
    uint64_t allocs, refused_allocs;
    uint64_t frees, refused_frees;
    uint64_t hooks;          /* rounds of calls of every hook */
} FuzzDamageTotals;
FuzzDamageTotals Fuzz_DamageTotals(void);

#endif

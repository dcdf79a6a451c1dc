/*
 * harness_trace.c - the malloc-lab trace parser (demo/workload.h).
 *
 * Any bytes: Trace_Parse either accepts them or refuses them with one
 * "name:line: reason" message and an empty trace.  What it accepts must be
 * a trace the player can run: ids below the header's count, no free of an id
 * that holds nothing, interior offsets inside their objects.  It is written
 * back with Trace_Write and parsed again to the same operations, then
 * played on a heap (each policy in turn) with MemHeap_Check after every
 * step: a valid trace never makes the heap refuse a free or lose a byte.
 */
#include "harness.h"

#include "mem.h"
#include "workload.h"
#include "harness_play.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>



/* What the parser promises about a trace it accepted. */
static const char *check_trace(const Trace *t)
{
    enum { NEVER, LIVE, FREED };
    unsigned char *state = t->nids ? calloc(t->nids, 1) : NULL;
    size_t *size = t->nids ? calloc(t->nids, sizeof *size) : NULL;
    const char *bad = NULL;
    if (t->nids && (!state || !size))
        bad = fuzz_fail("out of memory for %u ids", t->nids);
    for (size_t i = 0; !bad && i < t->nops; i++) {
        const Op *op = &t->ops[i];
        if (op->id >= t->nids) {
            bad = fuzz_fail("op %zu: id %u, header says %u ids", i, op->id, t->nids);
        } else if (op->kind == OP_ALLOC) {
            if (state[op->id] == LIVE)
                bad = fuzz_fail("op %zu: id %u allocated twice", i, op->id);
            state[op->id] = LIVE;
            size[op->id] = op->size;
        } else if (op->kind == OP_FREE || op->kind == OP_REALLOC) {
            if (state[op->id] != LIVE)
                bad = fuzz_fail("op %zu: %s of id %u that holds nothing", i,
                             op->kind == OP_FREE ? "free" : "realloc", op->id);
            else if (op->kind == OP_FREE && op->at && op->at >= size[op->id])
                bad = fuzz_fail("op %zu: offset %zu outside %zu bytes", i, op->at, size[op->id]);
            if (op->kind == OP_FREE)
                state[op->id] = FREED;
            else
                size[op->id] = op->size;
        } else {
            bad = fuzz_fail("op %zu: kind %d", i, (int)op->kind);
        }
    }
    free(state);
    free(size);
    return bad;
}

static const char *round_trip(const Trace *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return fuzz_fail("open_memstream failed");
    int rc = Trace_Write(t, f);
    fclose(f);
    if (rc != 0) {
        free(buf);
        return fuzz_fail("Trace_Write failed on a parsed trace");
    }
    Trace u;
    char err[256];
    const char *bad = NULL;
    if (Trace_Parse(buf, len, "again", &u, err, sizeof err) != 0) {
        bad = fuzz_fail("the written trace does not parse: %s", err);
    } else {
        if (u.nops != t->nops || u.nids != t->nids || u.heap_hint != t->heap_hint ||
            u.weight != t->weight)
            bad = fuzz_fail("written and parsed again: %zu ops %u ids, was %zu ops %u ids",
                         u.nops, u.nids, t->nops, t->nids);
        for (size_t i = 0; !bad && i < t->nops; i++) {
            const Op *a = &t->ops[i], *b = &u.ops[i];
            if (a->kind != b->kind || a->id != b->id ||
                (a->kind != OP_FREE && a->size != b->size) ||
                (a->kind == OP_FREE && a->at != b->at))
                bad = fuzz_fail("op %zu changed by the round trip", i);
        }
        Trace_Free(&u);
    }
    free(buf);
    return bad;
}

const char *Fuzz_Trace(const uint8_t *data, size_t size)
{
    Trace t;
    char err[256];
    memset(&t, 0x5a, sizeof t);
    memset(err, 'x', sizeof err);
    int rc = Trace_Parse((const char *)data, size, "fuzz", &t, err, sizeof err);
    if (rc != 0) {
        if (rc != -1)
            return fuzz_fail("Trace_Parse returned %d", rc);
        if (t.ops || t.nops)
            return fuzz_fail("a refused trace is not empty (%zu ops)", t.nops);
        if (!fuzz_error_ok(err, sizeof err, false))
            return fuzz_fail("error is not \"fuzz:LINE: reason\": %.200s",
                          memchr(err, '\0', sizeof err) ? err : "(not terminated)");
        return NULL;
    }
    if (err[0] != '\0')
        return fuzz_fail("accepted, yet the error says: %.200s", err);
    const char *bad = check_trace(&t);
    if (!bad)
        bad = round_trip(&t);
    if (!bad)
        bad = fuzz_play_trace(&t);
    Trace_Free(&t);
    return bad;
}

/*
 * harness_script.c - the lecture-script parser (demo/script.h).
 *
 * Any bytes: Script_Parse accepts them (as a script, or as a .rep) or
 * refuses them with one "name:line:col: reason" line (a .rep's refusal has
 * no column) and an empty script.  An accepted script must keep the
 * language's rules (ids numbered by allocation; frees and reallocs of live
 * allocations only; interior offsets inside; notes in order, at operation
 * indices that exist, captions inside the pool and NUL-terminated).  It is
 * written back with Script_Write and parsed to the same operations and
 * notes, then played on a heap with MemHeap_Check after every step.
 */
#include "harness.h"
#include "harness_play.h"

#include "script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *check_script(const Script *s)
{
    const Trace *t = &s->trace;
    size_t *size = calloc(t->nids ? t->nids : 1, sizeof *size); /* size + 1 while live */
    if (!size)
        return fuzz_fail("out of memory for %u ids", t->nids);
    const char *bad = NULL;
    uint32_t made = 0;
    for (size_t i = 0; !bad && i < t->nops; i++) {
        const Op *op = &t->ops[i];
        if (op->kind == OP_ALLOC) {
            if (op->id != made || op->id >= t->nids || op->size == 0)
                bad = fuzz_fail("op %zu: allocation %u is not the %u-th (or 0 bytes)", i,
                                op->id, made);
            else
                size[made++] = op->size + 1;
        } else if (op->id >= made || !size[op->id]) {
            bad = fuzz_fail("op %zu: %s of %u, which is not live", i,
                            op->kind == OP_FREE ? "free" : "realloc", op->id);
        } else if (op->kind == OP_FREE) {
            if (op->at && op->at >= size[op->id] - 1)
                bad = fuzz_fail("op %zu: byte %zu outside %zu bytes", i, op->at,
                                size[op->id] - 1);
            size[op->id] = 0;
        } else {
            size[op->id] = op->size + 1;
        }
    }
    if (!bad && made != t->nids)
        bad = fuzz_fail("%u allocations, nids %u", made, t->nids);
    for (size_t i = 0; !bad && i < s->nnotes; i++) {
        const ScriptNote *n = &s->notes[i];
        if (n->at > t->nops || (i && s->notes[i - 1].at > n->at))
            bad = fuzz_fail("note %zu at %zu out of order or past %zu ops", i, n->at, t->nops);
        else if (n->kind == NOTE_CAPTION &&
                 (n->text >= s->poollen || !memchr(s->pool + n->text, '\0', s->poollen - n->text)))
            bad = fuzz_fail("note %zu: caption outside the pool", i);
    }
    free(size);
    return bad;
}

static const char *round_trip(const Script *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return fuzz_fail("open_memstream failed");
    int rc = Script_Write(s, "again", f);
    fclose(f);
    if (rc != 0) {
        free(buf);
        return fuzz_fail("Script_Write failed on a parsed script");
    }
    Script u;
    char err[256];
    const char *bad = NULL;
    if (Script_Parse(buf, len, "again", &u, err, sizeof err) != 0) {
        bad = fuzz_fail("the written script does not parse: %s", err);
    } else {
        if (u.trace.nops != s->trace.nops || u.trace.nids != s->trace.nids ||
            u.trace.heap_hint != s->trace.heap_hint || u.nnotes != s->nnotes)
            bad = fuzz_fail("written and parsed again: %zu ops %zu notes, was %zu ops %zu notes",
                            u.trace.nops, u.nnotes, s->trace.nops, s->nnotes);
        for (size_t i = 0; !bad && i < s->trace.nops; i++)
            if (memcmp(&u.trace.ops[i], &s->trace.ops[i], sizeof(Op)) != 0)
                bad = fuzz_fail("op %zu changed by the round trip", i);
        for (size_t i = 0; !bad && i < s->nnotes; i++) {
            const ScriptNote *a = &s->notes[i], *b = &u.notes[i];
            if (a->at != b->at || a->kind != b->kind ||
                (a->kind == NOTE_CAPTION && strcmp(s->pool + a->text, u.pool + b->text) != 0))
                bad = fuzz_fail("note %zu changed by the round trip", i);
        }
        Script_Free(&u);
    }
    free(buf);
    return bad;
}

const char *Fuzz_Script(const uint8_t *data, size_t size)
{
    Script s;
    char err[256];
    memset(&s, 0x5a, sizeof s);
    memset(err, 'x', sizeof err);
    int rc = Script_Parse((const char *)data, size, "fuzz", &s, err, sizeof err);
    if (rc != 0) {
        if (rc != -1)
            return fuzz_fail("Script_Parse returned %d", rc);
        if (s.trace.ops || s.trace.nops || s.notes || s.nnotes || s.pool)
            return fuzz_fail("a refused script is not empty (%zu ops)", s.trace.nops);
        if (!fuzz_error_ok(err, sizeof err, true))
            return fuzz_fail("error is not \"fuzz:LINE:COL: reason\": %.200s",
                             memchr(err, '\0', sizeof err) ? err : "(not terminated)");
        return NULL;
    }
    if (err[0] != '\0')
        return fuzz_fail("accepted, yet the error says: %.200s", err);
    const char *bad = s.was_trace ? NULL : check_script(&s);
    if (!bad && !s.was_trace)
        bad = round_trip(&s);
    if (!bad)
        bad = fuzz_play_trace(&s.trace);
    Script_Free(&s);
    return bad;
}

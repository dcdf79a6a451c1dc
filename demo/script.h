/*
 * script.h - lecture scripts: the example on the board, in one line or a
 * file, with captions and pauses.  Parsed by a pure function; a script runs
 * as a trace (its operations are a Trace) plus notes at operation indices.
 *
 * The language.  Operations, one or more to a line, separated by blanks or
 * commas:
 *
 *   aSIZE    allocate SIZE bytes (1 or more; a K or M suffix is allowed).
 *            The n-th allocation of the script is id n, counting from 0.
 *   +SIZE    the same, as OSTEP's malloc.py -A writes it.
 *   fID      free allocation ID.
 *   fID+AT   free it through its byte AT (an interior pointer): AT < size.
 *   -ID      the same as fID (malloc.py -A).
 *   rID=SIZE reallocate ID to SIZE bytes; it keeps its id.
 *
 * Directives, each on a line of its own:
 *
 *   caption TEXT  from here on the caption bar shows TEXT (UTF-8, at most
 *                 SCRIPT_MAX_CAPTION bytes); "caption" alone clears it.
 *   pause         a running lecture stops here (before the next operation);
 *                 captions that follow it show once the lecture goes on.
 *   size SIZE     the arena's size, as a .rep header's first line suggests
 *                 one (a command-line --size wins).
 *
 * '#' starts a comment that runs to the end of the line (a caption's TEXT
 * is taken whole: it may hold '#').  Blank lines are ignored; lines end in
 * LF or CRLF.  Outside captions and comments only printable ASCII and tabs.
 *
 * Rules beyond the syntax: fID and rID name an allocation made earlier and
 * not yet freed; AT is inside it.  Errors name the line and the column:
 * "NAME:LINE:COL: reason", and a refused script leaves the output empty.
 *
 * A text whose first significant token is a number, or one of the letters
 * a, f, r standing alone ("a 0 512"), is a malloc-lab .rep trace instead
 * (Trace_Parse, with or without its four header lines): Script_Parse
 * accepts both, so every .rep keeps working wherever a script is taken.
 */
#ifndef SCRIPT_H
#define SCRIPT_H

#include "workload.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define SCRIPT_MAX_LINE 1024
#define SCRIPT_MAX_CAPTION 400

typedef enum ScriptNoteKind {
    NOTE_CAPTION,   /* text: the caption from here on ("" clears it) */
    NOTE_PAUSE      /* a running lecture stops here */
} ScriptNoteKind;

/* A note takes effect when `at` operations have been applied, before
 * operation `at` (0-based) runs. */
typedef struct ScriptNote {
    size_t at;
    ScriptNoteKind kind;
    size_t text;       /* CAPTION: offset of its NUL-terminated text in pool */
    size_t line;       /* where it was written (1-based) */
} ScriptNote;

typedef struct Script {
    Trace trace;        /* the operations; ids are allocation numbers.  For
                           a script, trace.heap_hint is its `size` (0 when
                           it has none) and trace.weight is 1. */
    ScriptNote *notes;  /* ascending `at`, in the order written */
    size_t nnotes;
    char *pool;         /* caption texts */
    size_t poollen;
    bool was_trace;     /* the text was a malloc-lab .rep */
} Script;

/* Parses text[0..len) (no NUL needed) as a script or a .rep (see above).
 * Returns 0, or -1 with "NAME:LINE:COL: reason" in err (for a .rep,
 * Trace_Parse's "NAME:LINE: reason"), and *out empty (Script_Free on it is
 * harmless).  Pure: keeps no state, reads nothing else, safe on any bytes.
 * Time and memory: O(len). */
int Script_Parse(const char *text, size_t len, const char *name, Script *out, char *err,
                 size_t errlen);
/* Reads and parses a file of at most 64 MiB. */
int Script_Load(const char *path, Script *out, char *err, size_t errlen);
void Script_Free(Script *s);

/* The caption in force once `at` operations have been applied: the text of
 * the last caption note at or before `at`, or NULL when there is none (or
 * it was cleared).  Unless past_pause, a pause at `at` holds back the
 * captions written after it there (so "pause" then "caption Next" keeps the
 * old caption while the lecture waits, and shows the new one when it goes
 * on).  Time: O(log notes + notes at `at`). */
const char *Script_Caption(const Script *s, size_t at, bool past_pause);
/* Whether a pause note stands at `at`.  Time: O(log notes). */
bool Script_PausesAt(const Script *s, size_t at);

/* Writes s in the script language: a comment line per line of `comment`
 * (may be NULL), the size directive, then its operations (at most eight a
 * line) with the notes where they stand.  The operations must follow the
 * rules above (ids numbered by allocation); a realloc or free of an id
 * that holds nothing is refused with -1 and EINVAL before anything is
 * written.  Returns 0 or -1 (errno).  Parsing the output gives s again. */
int Script_Write(const Script *s, const char *comment, FILE *f);

#endif

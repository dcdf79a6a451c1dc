/*
 * options.h - heapviz's command line, parsed by a pure function.
 *
 * Options_Parse reads only argv, writes only *o and err, keeps no state
 * between calls, never prints, never exits and never allocates: it can be
 * fuzzed (libFuzzer) and unit-tested directly.  Environment variables
 * (NO_COLOR, COLORFGBG, LINES, COLUMNS) and the locale are looked at by the
 * caller.
 */
#ifndef VIZ_OPTIONS_H
#define VIZ_OPTIONS_H

#include "mem.h"
#include "theme.h"
#include "workload.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Arena used when --size is not given (and no trace suggests one): small
 * enough that every block is a few cells wide on an 80x24 terminal. */
#define VIZ_DEFAULT_SIZE ((size_t)8192)
/* --size accepts VIZ_MIN_SIZE .. VIZ_MAX_SIZE bytes of arena: the smallest
 * is a lecture's board example (at 1 byte a cell, every header and every
 * boundary shows); the workloads fill about half of every heap, and compare
 * mode has up to six of them. */
#define VIZ_MIN_SIZE ((size_t)256)
#define VIZ_MAX_SIZE ((size_t)1 << 30)
#define VIZ_DEFAULT_SEED 1u
/* Operations per second when running (a human pace). */
#define VIZ_DEFAULT_SPEED 8u
#define VIZ_MAX_SPEED 10000u
#define VIZ_MAX_LANES MEM_POLICY_COUNT
/* How long the last operation's colours stay while running (ms); paused,
 * they stay until the next operation. */
#define VIZ_DEFAULT_FLASH_MS 400u
#define VIZ_MAX_FLASH_MS 60000u
/* Live mode: the program's arena when --size is not given, and --dump's
 * time between frames. */
#define VIZ_LIVE_SIZE ((size_t)1 << 30)
#define VIZ_LIVE_INTERVAL 100u

typedef struct Options {
    size_t size;             /* bytes of each heap's arena (the region adds
                                libmem's control structure) */
    bool size_given;
    MemPolicy policy;
    MemOrder order;          /* --order, for the list policies */
    MemCoalesce coalesce;    /* --coalesce, for the list policies */
    WorkloadKind workload;
    const char *trace;       /* --trace FILE, or NULL (points into argv) */
    uint64_t seed;
    unsigned speed;          /* operations per second */
    unsigned nlanes;         /* 0: single heap; else compare mode */
    MemPolicy lanes[VIZ_MAX_LANES];
    bool ascii;
    bool no_color;
    bool dump;
    bool guard;
    bool no_mouse;
    bool paused;             /* --paused: start paused */
    unsigned long frames;    /* 0: no limit */
    unsigned long skip;      /* operations applied before the first frame */
    const char *keys;        /* --keys: typed before the first frame (points into argv) */
    unsigned flash_ms;       /* --flash */
    ThemeId theme;           /* --theme; without it the caller asks COLORFGBG */
    bool theme_given;
    /* lectures (pointers into argv, or NULL) */
    const char *ops;         /* --ops TEXT: a lecture script on the command line */
    const char *script;      /* --script FILE: a lecture script (or a .rep) */
    const char *svg;         /* --svg FILE: write the frame as SVG and exit */
    const char *html;        /* --html FILE: the same as a standalone HTML page */
    bool handout;            /* --handout: --dump prints a bar and a line per op */
    bool predict;            /* --predict: ask before each operation */
    /* live mode (viz/live.h) */
    char **command;          /* after "--": the program to start and watch (argv) */
    long attach;             /* --attach PID, 0 for none */
    const char *output;      /* --output FILE: the program's stdout and stderr */
    unsigned long interval;  /* --interval MS: --dump's time between live frames */
} Options;

enum {
    OPT_RUN = 0,      /* run with *o */
    OPT_HELP = 1,     /* --help: print Options_Usage, exit 0 */
    OPT_VERSION = 2,  /* --version */
    OPT_ERROR = -1    /* err says what is wrong: print it (not the usage), exit 2 */
};

/* Sets the defaults, then applies argv[1..argc-1].  Returns an OPT_* value.
 * On OPT_ERROR err holds one line (no newline), truncated to errlen. */
int Options_Parse(int argc, char **argv, Options *o, char *err, size_t errlen);

/* Parses a byte count: digits with an optional K, M or G suffix (powers of
 * 1024; "KiB", "kb" and "K" alike).  Returns 0 and sets *out, or -1 on
 * anything else, including overflow. */
int Options_ParseSize(const char *s, size_t *out);

/* The usage text (--help), with the program's name. */
const char *Options_Usage(void);

#endif

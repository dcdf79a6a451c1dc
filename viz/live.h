/*
 * live.h - heapviz's live mode: the heap of a running program, read through
 * the shared mapping of lib/libmem-malloc.so (lib/mem_live.h), drawn with the
 * usual panels.
 *
 *   heapviz [options] -- CMD [ARGS...]   starts CMD with the replacement
 *                                        preloaded over a memfd it shares
 *   heapviz [options] --attach PID       a program started with MEM_SHARE=1
 *
 * heapviz maps the memfd read-only.  A frame re-opens the heap
 * (MemHeap_View) and walks it between two equal, even readings of the
 * writer's generation counter; when nothing changed since the last read,
 * the last one stays.  When a busy program keeps changing its heap, it is
 * parked (lib/mem_live.h: it waits at the end of an operation, its heap
 * whole, for at most 20 ms and 5 % of its time by its own clock) for one
 * walk (its blocks' headers and run tables: 1 to 2 ms for 10^5 blocks), no
 * sooner than LIVE_READ_COST times the last walk (frames in between show
 * the last consistent heap, and the events as they come).  Without write
 * access to the mapping, the program is stopped (SIGSTOP) for the walk
 * instead, within LIVE_STOP_SHARE of its time; one stopped inside an
 * operation is let run until the generation moves on, and stopped again.
 * heapviz runs SCHED_BATCH but for parks: its wakeups do not preempt the
 * program.
 * Events come through the ring; the ones the writer overwrote before they
 * were read are counted.  The program's stdout and stderr go to a file.
 */
#ifndef VIZ_LIVE_H
#define VIZ_LIVE_H

#include "app.h"
#include "mem_live.h"
#include "symbols.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Events logged a frame at most: the newest; older ones are counted. */
#define LIVE_LOG_PER_FRAME 32u
/* Reads tried before the program is stopped for one; the share of its time
 * the program may spend stopped for reads. */
#define LIVE_TRIES 4u
#define LIVE_QUIET_US 300 /* how long the generation must stand still */
#define LIVE_STOP_SHARE 0.05
#define LIVE_PARK_WAIT_NS 20000000LL /* how long a park request may go unanswered */
/* A running program's changed heap is read (parked, or while it is quiet)
 * again no sooner than LIVE_READ_COST times the last walk, within [LIVE_READ_GAP_MIN,
 * LIVE_READ_GAP_MAX].  The walk's time parked is the least of what a read
 * costs the program: heapviz's walk takes the lines of the heap's metadata
 * from its caches, which it must fetch back, and heapviz's CPU for the read
 * and the layout competes with it on a busy machine.  Measured (10^5
 * blocks, a walk parked about 1 ms, bench/ANALYSIS.md): a read every
 * frame cost the program 17 % of its CPU time, 4 a second 9.5 %, 1 a
 * second 3.5 %; the factor makes that about 2 a second, at most 5 %.  A
 * small heap's walk is short: read every frame. */
#define LIVE_READ_COST 500
#define LIVE_READ_GAP_MIN 50000000LL
#define LIVE_READ_GAP_MAX 1000000000LL
#define LIVE_WARM_NS 500000000LL /* a walk without stopping, at most this often */
/* Sites listed by the sites panel (s). */
#define LIVE_TOP_SITES 12u

/* An allocation site as the sites panel shows it. */
typedef struct LiveSiteRow {
    int64_t live_bytes;
    int64_t live_blocks;
    uint32_t site;            /* its index in the sites table */
    char name[SYMBOL_TEXT];   /* its innermost frame, symbolised */
} LiveSiteRow;

typedef struct Live {
    pid_t pid;
    bool child;               /* started here (--), not attached */
    bool exited;              /* the program has ended */
    int wstatus;              /* its wait status (child) */
    bool stopped;             /* paused by the user (SIGSTOP) */
    int fd;
    const unsigned char *map; /* the memfd, read-only */
    size_t size;
    bool ready;               /* the writer has published its header */
    void *rw_map;             /* the first page, read-write (or NULL): */
    size_t rw_len;
    LiveReader *rw;           /*   the reader's fields there (mem_live.h) */
    uint32_t park_req;        /* the last park request made */
    bool batch;               /* heapviz runs SCHED_BATCH but for parks */
    uint64_t parks;           /* reads with the program parked */
    uint64_t unrecorded_base; /* the writer's count when first read */
    uint64_t ovl[LIVE_OWNER_LOG]; /* the owners log over the table (live.c) */
    uint32_t novl;
    void *viewbuf[2];         /* MemHeap_ViewSize() bytes each: the view of
                                 the last consistent read, and the next try */
    unsigned cur;             /* which one the lane shows */
    Snapshot spare;           /* the lane's last good snapshot while reading */
    uint64_t last_gen;        /* the generation of the read the lane shows */
    int64_t *site_bytes;      /* LIVE_SITES each: the live bytes and blocks */
    int64_t *site_blocks;     /*   of each site in that read */
    uint64_t ev_next;         /* the next event to read */
    uint64_t ev_lost;         /* overwritten before they were read */
    uint64_t ev_unlogged;     /* read, but more than a frame logs */
    uint64_t unrecorded;      /* operations the program sent no events for */
    /* what reading cost (HEAPVIZ_LIVE_STATS=1 prints it at the end) */
    uint64_t frames, reads, fresh, unchanged, quiet, torn, stops, stop_rounds;
    long long stop_ns, stop_max_ns; /* the program's time stopped for reads */
    long long next_stop;      /* CLOCK_MONOTONIC ns: no stopping read before */
    long long next_read;      /*   no read of a changed heap before (read_gap) */
    long long walk_ns;        /* the last walk's time */
    long long warmed;         /* when the last walk without stopping was tried */
    size_t warm_bytes;        /*   and the bytes in use the lane showed then */
    bool manual_zoom;         /* z, Z, PgUp or PgDn: the view is the user's */
    bool zoom_split;          /* auto_zoom: the heap is two parts (live.c) */
    bool zoom_upper;          /*   and the map shows the upper one */
    size_t zoom_lo, zoom_hi;  /*   the part shown: [zoom_lo, zoom_hi) */
    int zoom_rows, zoom_cols; /*   on a map of this size */
    Symbols *syms;            /* names for the program's code addresses */
    bool show_sites;          /* s: the sites panel instead of the events */
    uint64_t sites_gen;       /* the read whose sites top[] counts */
    LiveSiteRow top[LIVE_TOP_SITES]; /* the sites holding the most live bytes */
    unsigned ntop;
    size_t sel_block;         /* the block sel_site is about (SIZE_MAX: none) */
    char sel_site[3][SYMBOL_TEXT]; /* where it was allocated: up to 3 frames */
    unsigned sel_frames;
    char title[96];           /* "python3 (pid 1234)" */
    char output[256];         /* where the program's output goes */
} Live;

/* Starts argv[0] with the replacement (so_path) preloaded over a new memfd
 * of LIVE_HEADER_BYTES + arena bytes; its stdout and stderr to `output`,
 * its stdin from /dev/null.  Returns 0, or -1 with a sentence in err. */
int Live_Start(Live *lv, char *const argv[], const char *so_path, const char *output,
               size_t arena, char *err, size_t errlen);

/* Maps the heap of process pid, started with MEM_SHARE=1.  0 or -1 (err). */
int Live_Attach(Live *lv, pid_t pid, char *err, size_t errlen);

/* The replacement next to this heapviz (its build tree or PREFIX/lib), or
 * $HEAPVIZ_MALLOC.  NULL when there is none. */
const char *Live_FindMalloc(char *buf, size_t len);

/* One tick: reaps the program, logs its new events, re-reads its heap into
 * the model's lane.  Returns reaction flags (R_REDRAW, R_FLASH). */
unsigned Live_Step(Ui *ui);

/* Live mode's own keys (Space pauses the program; keys that would change the
 * heap are refused; z, Z, PgUp and PgDn end the automatic zoom, which
 * otherwise keeps the map on the program's heap: live.c, auto_zoom).  True
 * when the key was handled, with *r its flags. */
bool Live_Key(Ui *ui, int key, unsigned *r);

/* Allocation sites (item of live.c): counted by Live_Step from the used
 * blocks of each copy and the owners table (live.h) into top[] and, for
 * the selected block, sel_site[]; the screen only reads those. */

/* The status line's text: running / paused / exit status, the output file,
 * lost events. */
void Live_Status(const Live *lv, char *buf, size_t len);

/* Ends live mode: a program started here and still running is terminated
 * (SIGTERM, then SIGKILL after a second); an attached one is continued if
 * it was paused, and left to run. */
void Live_Finish(Live *lv);

#endif

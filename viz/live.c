/*
 * live.c - heapviz's live mode (live.h): starting or attaching to a program
 * whose heap is a shared memfd, reading that heap consistently, its events,
 * pausing it, and what the status line says about it.  No curses here.
 */
#include "live.h"

#include "explain.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/futex.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void nap_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* heapviz's scheduling (LIVE_BATCH): SCHED_BATCH while it draws, so that
 * its wakeups (a frame, a nap) never preempt the program on a busy
 * machine; SCHED_OTHER while the program waits for it (a park). */
static void set_batch(Live *lv, bool batch)
{
    if (!lv->batch)
        return;
    struct sched_param sp = {0};
    sched_setscheduler(0, batch ? SCHED_BATCH : SCHED_OTHER, &sp);
}

/* ---- starting and attaching ---------------------------------------------------- */

const char *Live_FindMalloc(char *buf, size_t len)
{
    const char *env = getenv("HEAPVIZ_MALLOC");
    if (env && *env) {
        snprintf(buf, len, "%s", env);
        return access(buf, R_OK) == 0 ? buf : NULL;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    /* the build tree (./heapviz, ./lib/), then PREFIX/bin and PREFIX/lib */
    static const char *const rel[] = {"/lib/libmem-malloc.so", "/../lib/libmem-malloc.so"};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        snprintf(buf, len, "%s%s", exe, rel[i]);
        if (access(buf, R_OK) == 0) {
            char real[PATH_MAX];
            if (realpath(buf, real))
                snprintf(buf, len, "%s", real);
            return buf;
        }
    }
    return NULL;
}

/* Presence (mem_live.h): the program sends events while this is recent. */
static void live_seen(Live *lv)
{
    if (lv->rw)
        atomic_store_explicit(&lv->rw->seen, now_ns(), memory_order_relaxed);
}

static int map_memfd(Live *lv, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(lv->fd, &st) != 0 || st.st_size < (off_t)LIVE_HEADER_BYTES) {
        snprintf(err, errlen, "the shared heap is too small");
        return -1;
    }
    lv->size = (size_t)st.st_size;
    void *p = mmap(NULL, lv->size, PROT_READ, MAP_SHARED, lv->fd, 0);
    if (p == MAP_FAILED) {
        snprintf(err, errlen, "cannot map the shared heap: %s", strerror(errno));
        return -1;
    }
    lv->map = p;
    /* the reader's fields (mem_live.h), when the memfd may be written:
     * the first page only, read-write; without it, stops are SIGSTOPs */
    long page = sysconf(_SC_PAGESIZE);
    lv->rw_len = page > 0 ? (size_t)page : 4096u;
    if (lv->rw_len < LIVE_READER_OFFSET + sizeof(LiveReader) || lv->rw_len > lv->size)
        lv->rw_len = 0;
    void *w = lv->rw_len ? mmap(NULL, lv->rw_len, PROT_READ | PROT_WRITE, MAP_SHARED, lv->fd, 0)
                         : MAP_FAILED;
    if (w != MAP_FAILED) {
        lv->rw_map = w;
        lv->rw = (LiveReader *)(void *)((unsigned char *)w + LIVE_READER_OFFSET);
        lv->park_req = atomic_load_explicit(&lv->rw->park_req, memory_order_relaxed);
        live_seen(lv);
    }
    size_t vs = (MemHeap_ViewSize() + 63u) / 64u * 64u;
    lv->viewbuf[0] = aligned_alloc(64, vs);
    lv->viewbuf[1] = aligned_alloc(64, vs);
    lv->site_bytes = calloc(LIVE_SITES, sizeof *lv->site_bytes);
    lv->site_blocks = calloc(LIVE_SITES, sizeof *lv->site_blocks);
    if (!lv->viewbuf[0] || !lv->viewbuf[1] || !lv->site_bytes || !lv->site_blocks) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static void set_title(Live *lv, const char *cmd)
{
    const char *base = strrchr(cmd, '/');
    snprintf(lv->title, sizeof lv->title, "%.60s (pid %ld)", base ? base + 1 : cmd,
             (long)lv->pid);
}

int Live_Start(Live *lv, char *const argv[], const char *so_path, const char *output,
               size_t arena, char *err, size_t errlen)
{
    memset(lv, 0, sizeof *lv);
    lv->fd = -1;
    lv->child = true;
    snprintf(lv->output, sizeof lv->output, "%s", output);
    /* not close-on-exec: the program is handed it (MEM_SHARE_FD) */
    lv->fd = memfd_create(LIVE_MEMFD_NAME, 0);
    /* the replacement gives 4/5 of what follows the sites table to the heap,
     * the rest to the owners table (4 bytes a 16-byte granule) */
    size_t bytes = LIVE_SITES_END + arena + arena / 4u + 65536u;
    if (lv->fd < 0 || ftruncate(lv->fd, (off_t)bytes) != 0) {
        snprintf(err, errlen, "cannot make a shared heap of %zu bytes: %s", arena,
                 strerror(errno));
        return -1;
    }
    if (map_memfd(lv, err, errlen) != 0)
        return -1;
    int out = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        snprintf(err, errlen, "cannot write the program's output to %s: %s", output,
                 strerror(errno));
        return -1;
    }
    char fdnum[16], preload[PATH_MAX + 256];
    snprintf(fdnum, sizeof fdnum, "%d", lv->fd);
    const char *old = getenv("LD_PRELOAD");
    snprintf(preload, sizeof preload, "%s%s%s", so_path, old && *old ? ":" : "",
             old ? old : "");
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "cannot start %s: %s", argv[0], strerror(errno));
        close(out);
        return -1;
    }
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        if (in >= 0)
            dup2(in, STDIN_FILENO);
        dup2(out, STDOUT_FILENO);
        dup2(out, STDERR_FILENO);
        setenv("MEM_SHARE_FD", fdnum, 1);
        setenv("LD_PRELOAD", preload, 1);
        unsetenv("MEM_SHARE");
        execvp(argv[0], argv);
        fprintf(stderr, "heapviz: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(out);
    lv->pid = pid;
    set_title(lv, argv[0]);
    lv->batch = getenv("HEAPVIZ_NO_BATCH") == NULL;
    set_batch(lv, true);
    return 0;
}

int Live_Attach(Live *lv, pid_t pid, char *err, size_t errlen)
{
    memset(lv, 0, sizeof *lv);
    lv->fd = -1;
    lv->pid = pid;
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%ld/fd", (long)pid);
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "cannot look at process %ld: %s", (long)pid, strerror(errno));
        return -1;
    }
    struct dirent *e;
    while (lv->fd < 0 && (e = readdir(d)) != NULL) {
        char path[600], link[128];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n <= 0)
            continue;
        link[n] = '\0';
        if (strncmp(link, "/memfd:" LIVE_MEMFD_NAME, strlen("/memfd:" LIVE_MEMFD_NAME)) == 0) {
            /* read-write for the reader's page (parking), else read-only */
            lv->fd = open(path, O_RDWR | O_CLOEXEC);
            if (lv->fd < 0)
                lv->fd = open(path, O_RDONLY | O_CLOEXEC);
        }
    }
    closedir(d);
    if (lv->fd < 0) {
        snprintf(err, errlen, "process %ld shares no heap (start it with "
                              "LD_PRELOAD=.../libmem-malloc.so MEM_SHARE=1)", (long)pid);
        return -1;
    }
    if (map_memfd(lv, err, errlen) != 0)
        return -1;
    char comm[64] = "?", cpath[64];
    snprintf(cpath, sizeof cpath, "/proc/%ld/comm", (long)pid);
    FILE *f = fopen(cpath, "r");
    if (f) {
        if (fgets(comm, sizeof comm, f))
            comm[strcspn(comm, "\n")] = '\0';
        fclose(f);
    }
    set_title(lv, comm);
    snprintf(lv->output, sizeof lv->output, "its own");
    lv->batch = getenv("HEAPVIZ_NO_BATCH") == NULL;
    set_batch(lv, true);
    return 0;
}

/* ---- the header, the ring, the heap ----------------------------------------------- */

static const LiveHeader *header(Live *lv)
{
    const LiveHeader *h = (const LiveHeader *)(const void *)lv->map;
    if (!lv->ready) {
        if (memcmp(h->magic, LIVE_MAGIC, sizeof h->magic) != 0)
            return NULL;
        atomic_thread_fence(memory_order_acquire);
        if (h->version != LIVE_VERSION || h->ring_cap != LIVE_RING ||
            h->ring_offset < sizeof *h ||
            h->ring_offset + (uint64_t)LIVE_RING * sizeof(LiveEvent) > LIVE_HEADER_BYTES ||
            h->size > lv->size || h->heap_offset < LIVE_SITES_END ||
            h->heap_offset >= h->size || h->sites_offset != LIVE_HEADER_BYTES ||
            h->sites_cap != LIVE_SITES ||
            h->sites_offset + (uint64_t)LIVE_SITES * sizeof(LiveSite) > LIVE_SITES_END ||
            h->owners_offset != LIVE_SITES_END ||
            h->owners_count > (h->heap_offset - h->owners_offset) / 4u ||
            h->keys_offset != LIVE_KEYS_OFFSET || h->keys_len != MEM_KEYS_SIZE ||
            h->ring_offset + (uint64_t)LIVE_RING * sizeof(LiveEvent) > h->keys_offset ||
            h->ring_offset < LIVE_READER_OFFSET + sizeof(LiveReader) ||
            h->owner_log_offset != LIVE_OWNER_LOG_OFFSET ||
            h->ring_offset + (uint64_t)LIVE_RING * sizeof(LiveEvent) > h->owner_log_offset ||
            h->owner_log_offset + (uint64_t)LIVE_OWNER_LOG * 8u > h->keys_offset)
            return NULL;
        lv->unrecorded_base = atomic_load_explicit(&h->unrecorded, memory_order_relaxed);
        lv->ready = true;
    }
    return h;
}

static void to_event(const LiveEvent *s, MemEvent *e)
{
    memset(e, 0, sizeof *e);
    e->kind = s->kind <= MEM_EV_RESIZE ? (MemEventKind)s->kind : MEM_EV_ROVER;
    e->policy = s->policy < MEM_POLICY_COUNT ? (MemPolicy)s->policy : MEM_FAST;
    e->op = s->op;
    e->request = s->request;
    e->examined = s->examined;
    e->block = s->block;
    e->size = s->size;
    e->remainder = s->remainder;
    e->object = s->object;
    e->pointer = (ptrdiff_t)s->pointer;
    e->neighbours = s->neighbours & (MEM_LEFT | MEM_RIGHT);
    e->reason = s->reason <= MEM_REJECT_VIEW ? (MemReject)s->reason : MEM_REJECT_CORRUPT;
    e->free_total = s->free_total;
    e->largest_free = s->largest_free;
    e->previous = s->previous;
    e->run = (size_t)s->run;
    e->slot = (size_t)s->slot;
    e->count = s->count;
}

/* The events written since the last call: the newest LIVE_LOG_PER_FRAME
 * operations' into the log; the rest counted. */
static unsigned drain_events(Live *lv, const LiveHeader *h, Lane *l)
{
    const LiveEvent *ring = (const LiveEvent *)(const void *)(lv->map + h->ring_offset);
    uint64_t head = atomic_load_explicit(&h->events, memory_order_acquire);
    if (head < lv->ev_next) /* a hostile header: start again */
        lv->ev_next = head;
    if (head - lv->ev_next > LIVE_RING) {
        lv->ev_lost += head - LIVE_RING - lv->ev_next;
        lv->ev_next = head - LIVE_RING;
    }
    /* a frame logs the newest events only: a busy program makes thousands */
    uint64_t keep = LIVE_LOG_PER_FRAME * 4u;
    if (head - lv->ev_next > keep) {
        lv->ev_unlogged += head - keep - lv->ev_next;
        lv->ev_next = head - keep;
    }
    MemEvent group[PENDING_CAP];
    unsigned n = 0, ops = 0;
    uint64_t op = 0;
    for (; lv->ev_next < head; lv->ev_next++) {
        const LiveEvent *s = &ring[lv->ev_next & (LIVE_RING - 1u)];
        uint64_t s1 = atomic_load_explicit(&s->seq, memory_order_acquire);
        LiveEvent copy;
        memcpy(&copy, (const void *)s, sizeof copy);
        atomic_thread_fence(memory_order_acquire);
        uint64_t s2 = atomic_load_explicit(&s->seq, memory_order_relaxed);
        if (s1 != lv->ev_next + 1u || s2 != s1) {
            lv->ev_lost++;
            continue;
        }
        if (n && (copy.op != op || n == PENDING_CAP)) {
            Lane_Feed(l, group, n);
            ops++;
            n = 0;
        }
        op = copy.op;
        to_event(&copy, &group[n++]);
    }
    if (n) {
        Lane_Feed(l, group, n);
        ops++;
    }
    return ops;
}

static void swap_snap(Snapshot *a, Snapshot *b)
{
    Snapshot t = *a;
    *a = *b;
    *b = t;
}

/* One read of the heap into the lane, kept only if the writer's generation
 * was even and the same before and after; *gen gets the first reading.  A
 * walk costs as much as the heap has blocks, but touches only their headers
 * and run tables: for 10^5 blocks it is a few times quicker than a copy of
 * the pages they fill (bench/RESULTS.md), so the walk is what a stopped
 * program waits for. */
/* A walk while the program runs ends as soon as the generation moves: it
 * is torn, and the rest of it would cost heapviz and the program's caches
 * for nothing. */
typedef struct GenWatch {
    const LiveHeader *h;
    uint64_t gen;
} GenWatch;

static bool gen_unmoved(const void *arg)
{
    const GenWatch *w = arg;
    return atomic_load_explicit(&w->h->gen, memory_order_acquire) == w->gen;
}

static bool read_once(Live *lv, const LiveHeader *h, Lane *l, uint64_t *gen, bool whole)
{
    uint64_t g1 = atomic_load_explicit(&h->gen, memory_order_acquire);
    *gen = g1;
    if (g1 & 1u)
        return false; /* in the middle of an operation */
    unsigned next = lv->cur ^ 1u;
    MemHeap *v = MemHeap_View(lv->viewbuf[next], lv->map + h->heap_offset,
                              lv->size - h->heap_offset);
    if (!v)
        return false;
    /* the heap's keys, as untrusted as the rest: wrong ones make every
     * block fail its check, which the hooks refuse */
    unsigned char keys[MEM_KEYS_SIZE];
    memcpy(keys, lv->map + LIVE_KEYS_OFFSET, sizeof keys);
    if (MemHeap_ViewKeys(v, keys, sizeof keys) != 0)
        return false;
    MemHeap *last = l->heap;
    swap_snap(&l->snap, &lv->spare);
    GenWatch watch = {h, g1};
    l->walk_go_on = whole ? NULL : gen_unmoved;
    l->walk_arg = &watch;
    long long t0 = now_ns();
    Lane_Live(l, v);
    lv->walk_ns = now_ns() - t0;
    l->walk_go_on = NULL;
    atomic_thread_fence(memory_order_acquire);
    uint64_t g2 = atomic_load_explicit(&h->gen, memory_order_relaxed);
    if (g1 != g2) {
        /* torn: the last good snapshot and its view again */
        swap_snap(&l->snap, &lv->spare);
        l->heap = last;
        return false;
    }
    lv->cur = next;
    lv->last_gen = g1;
    return true;
}

static bool process_stopped(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return true; /* gone: nothing runs */
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return true;
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')');
    return paren && paren[1] == ' ' && (paren[2] == 'T' || paren[2] == 't' || paren[2] == 'Z');
}

/* Stops the program and waits until all its threads have stopped (a
 * child: waitpid reports the group stop; else /proc says so), at most
 * 50 ms; false when it could not be stopped or has ended. */
static bool stop_program(Live *lv)
{
    if (kill(lv->pid, SIGSTOP) != 0)
        return false;
    long long t0 = now_ns();
    for (unsigned i = 0;; i++) {
        if (lv->child) {
            int st;
            pid_t r = waitpid(lv->pid, &st, WUNTRACED | WNOHANG);
            if (r == lv->pid && WIFSTOPPED(st))
                return true;
            if (r == lv->pid) { /* it ended */
                lv->exited = true;
                lv->wstatus = st;
                return false;
            }
            if (r < 0)
                return false;
        } else if (process_stopped(lv->pid)) {
            return true;
        }
        if (now_ns() - t0 > 50000000LL)
            return true; /* the generation says whether it did */
        if (i < 20)
            sched_yield();
        else
            nap_us(20);
    }
}

/* After a read that found the program inside an operation: lets it run
 * until the generation moves on (it ends that operation), at most 5 ms. */
static void let_finish(const LiveHeader *h, uint64_t odd)
{
    long long t0 = now_ns();
    while (atomic_load_explicit(&h->gen, memory_order_acquire) == odd &&
           now_ns() - t0 < 5000000LL)
        sched_yield();
}

static void futex_wake_all(_Atomic uint32_t *w)
{
    syscall(SYS_futex, (void *)w, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

enum { PARK_READ, PARK_TORN, PARK_REFUSED, PARK_UNANSWERED };

/* A read with the program parked (mem_live.h): a new request, the
 * writer's answer at the end of its next operation (at most
 * LIVE_PARK_WAIT_NS: a program that makes none has a quiet generation, and
 * is read without parking), the walk, the release.  *parked: the walk's ns. */
static int park_read(Live *lv, const LiveHeader *h, Lane *l, long long *parked)
{
    set_batch(lv, false);
    uint32_t req = ++lv->park_req;
    if (req == 0)
        req = ++lv->park_req; /* 0 is the writer's "none yet" */
    atomic_store_explicit(&lv->rw->park_req, req, memory_order_release);
    _Atomic uint32_t *ack = (_Atomic uint32_t *)(void *)((unsigned char *)lv->rw_map +
                                                         offsetof(LiveHeader, park_ack));
    long long t0 = now_ns();
    int r = PARK_UNANSWERED;
    for (;;) {
        uint32_t a = atomic_load_explicit(ack, memory_order_acquire);
        if (a == req) {
            r = atomic_load_explicit(&h->park_state, memory_order_relaxed) == LIVE_PARKED
                    ? PARK_TORN
                    : PARK_REFUSED;
            break;
        }
        long long left = LIVE_PARK_WAIT_NS - (now_ns() - t0);
        if (left <= 0)
            break;
        if (left > 1000000LL)
            left = 1000000LL;
        struct timespec ts = {0, (long)left};
        syscall(SYS_futex, (void *)ack, FUTEX_WAIT, a, &ts, NULL, 0);
    }
    if (r == PARK_TORN) {
        long long p0 = now_ns();
        uint64_t g;
        if (read_once(lv, h, l, &g, true))
            r = PARK_READ;
        *parked = now_ns() - p0;
    }
    /* also a request not answered yet: the writer that finds it later
     * finds it released, and does not wait */
    atomic_store_explicit(&lv->rw->park_release, req, memory_order_release);
    futex_wake_all(&lv->rw->park_release);
    set_batch(lv, true);
    return r;
}

/* A consistent read of the heap, into the lane: none when nothing changed
 * since the last; else a few tries while the program runs (when it looks
 * quiet), then one with the program stopped for the walk (and, if it was
 * stopped inside an operation, continued until that ends and stopped
 * again). */
/* After a read (or a parked walk, torn or not) of a running program: the
 * next no sooner than its cost to the program allows (viz/live.h,
 * LIVE_READ_COST), parked or not: a walk while the program is preempted
 * takes the same lines from its caches. */
static void read_gap(Live *lv)
{
    long long gap = lv->walk_ns * LIVE_READ_COST;
    gap = gap < LIVE_READ_GAP_MIN ? LIVE_READ_GAP_MIN
          : gap > LIVE_READ_GAP_MAX ? LIVE_READ_GAP_MAX
                                    : gap;
    lv->next_read = now_ns() + gap;
}

static bool read_heap(Live *lv, const LiveHeader *h, Lane *l)
{
    uint64_t g0 = atomic_load_explicit(&h->gen, memory_order_acquire), g = 0;
    if (l->heap && g0 == lv->last_gen) {
        lv->unchanged++;
        return true;
    }
    /* a paused or ended program loses nothing to a read */
    if (l->heap && !lv->stopped && !lv->exited && now_ns() < lv->next_read) {
        lv->torn++;
        return false;
    }
    lv->reads++;
    /* A walk costs heapviz as much as the heap has blocks: try one without
     * stopping the program only when it looks quiet (the generation did not
     * move for a moment); a busy one would tear it anyway. */
    nap_us(LIVE_QUIET_US);
    for (unsigned i = 0; i < LIVE_TRIES; i++) {
        if (atomic_load_explicit(&h->gen, memory_order_acquire) != g0)
            break;
        if (read_once(lv, h, l, &g, false)) {
            lv->quiet++;
            lv->fresh++;
            read_gap(lv);
            return true;
        }
        lv->torn++;
        g0 = atomic_load_explicit(&h->gen, memory_order_acquire);
    }
    /* A walk maps the pages of the program's heap it reads into heapviz
     * (minor faults, some microseconds each): the first walk of 10^5 blocks
     * took 15 to 60 ms of faults.  A walk while the program runs, torn or
     * not, every LIVE_WARM_NS at most, maps the pages the heap has grown
     * into, so that a stopped walk finds them mapped: only while the heap
     * grows (its bytes in use an eighth above the last such walk's), as a
     * torn walk costs the program what a read does (its caches). */
    long long now = now_ns();
    size_t in_use = l->snap.stats.used_bytes;
    if (!lv->stopped && now - lv->warmed > LIVE_WARM_NS &&
        (!lv->warmed || in_use > lv->warm_bytes + lv->warm_bytes / 8u)) {
        lv->warmed = now;
        lv->warm_bytes = in_use;
        if (read_once(lv, h, l, &g, true)) {
            lv->quiet++;
            lv->fresh++;
            read_gap(lv);
            return true;
        }
        lv->torn++;
        now = now_ns();
    }
    if (lv->exited) {
        lv->torn++;
        return false; /* it died in the middle of an operation: keep the last */
    }
    /* Stopping costs the program the walk's time: at most LIVE_STOP_SHARE
     * of its time.  Between two such reads the frames show the last
     * consistent heap (and the events as they come). */
    if (!lv->stopped && l->heap && now < lv->next_stop) {
        lv->torn++;
        return false;
    }
    if (!lv->stopped && lv->rw && !lv->exited) {
        long long parked = 0;
        int r = park_read(lv, h, l, &parked);
        if (r == PARK_READ || r == PARK_TORN) {
            lv->walk_ns = parked;
            read_gap(lv);
        }
        if (r == PARK_READ) {
            lv->parks++;
            lv->fresh++;
            return true;
        }
        lv->torn++;
        return false;
    }
    bool ok = false;
    long long stopped = 0;
    for (unsigned round = 0; round < 20 && !ok; round++) {
        bool was_stopped = lv->stopped;
        if (!was_stopped && !stop_program(lv))
            break;
        long long t0 = now_ns();
        lv->stop_rounds++;
        ok = read_once(lv, h, l, &g, true);
        if (!was_stopped) {
            kill(lv->pid, SIGCONT);
            stopped += now_ns() - t0;
        }
        if (!ok && (g & 1u)) {
            /* stopped inside an operation: let it end that one */
            if (was_stopped)
                kill(lv->pid, SIGCONT);
            let_finish(h, g);
            if (was_stopped)
                stop_program(lv);
        }
    }
    if (stopped) {
        lv->stops++;
        lv->stop_ns += stopped;
        if (stopped > lv->stop_max_ns)
            lv->stop_max_ns = stopped;
        lv->next_stop = now_ns() + (long long)((double)stopped / LIVE_STOP_SHARE);
    }
    if (!ok) {
        lv->torn++;
    } else {
        lv->fresh++;
        read_gap(lv);
    }
    return ok;
}

static void reap(Live *lv)
{
    if (lv->exited)
        return;
    if (lv->child) {
        int st;
        pid_t r = waitpid(lv->pid, &st, WNOHANG);
        if (r == lv->pid) {
            lv->exited = true;
            lv->wstatus = st;
        }
    } else if (kill(lv->pid, 0) != 0 && errno == ESRCH) {
        lv->exited = true;
    }
}

/* The part of the arena the map shows by itself: the program's heap, not
 * the arena (1 GiB, mostly never touched).  The used extent is from the
 * first used block to the end of the last; when a free gap inside it takes
 * more than half of it (runs are cut from the top of the free block, larger
 * blocks from its bottom: a small heap sits at both ends of a large arena),
 * the extent is two parts and the map shows the one holding more used
 * bytes, and says where the other is (PgUp / PgDn reach it; z or Z end the
 * automatic zoom).  The scale is the smallest power of two that shows the
 * part with room to grow (an eighth), so that it does not jitter. */
static void auto_zoom(Ui *ui, Live *lv, const Lane *l)
{
    const Snapshot *s = &l->snap;
    size_t lo = SIZE_MAX, hi = 0, gs = 0, ge = 0, fs = 0, fe = 0;
    size_t used = 0, used_below = 0;
    bool in_free = false;
    for (size_t i = 0; i < s->nblocks; i++) {
        const SnapBlock *b = &s->blocks[i];
        size_t end = (size_t)b->offset + b->size;
        if (!b->used) {
            if (lo != SIZE_MAX && !in_free)
                fs = b->offset, in_free = true;
            fe = end;
            continue;
        }
        if (lo == SIZE_MAX)
            lo = b->offset;
        else if (in_free && fe - fs > ge - gs)
            gs = fs, ge = fe, used_below = used;
        in_free = false;
        hi = end;
        used += b->size;
    }
    ui->view_start = 0;
    if (lo == SIZE_MAX) {
        ui->zoom = 0; /* nothing used: the whole arena */
        return;
    }
    size_t vlo = lo, vhi = hi;
    bool split = ge - gs > (hi - lo) / 2u;
    if (split) {
        bool upper = used - used_below >= used_below;
        vlo = upper ? ge : lo;
        vhi = upper ? hi : gs;
        if (upper != lv->zoom_upper || !lv->zoom_split) {
            char b[32];
            size_t other = upper ? used_below : used - used_below;
            snprintf(ui->msg, sizeof ui->msg,
                     "map: the %s part of the heap; %s more in use at +0x%zx (PgUp PgDn, Z)",
                     upper ? "upper" : "lower", Explain_Bytes(other, b, sizeof b),
                     upper ? lo : ge);
            ui->msg_warn = false;
            ui->msg_op = ui->m->ops;
        }
        lv->zoom_upper = upper;
    }
    lv->zoom_split = split;
    lv->zoom_lo = vlo;
    lv->zoom_hi = vhi;
    const MapGeom *g = &ui->geom[0];
    size_t rows = g->valid ? (size_t)g->rows : 8u, cols = g->valid ? (size_t)g->cols : 32u;
    size_t want = vhi + (vhi - vlo) / 8u;
    size_t bpc = 16;
    for (;; bpc *= 2) {
        size_t row = cols * bpc, start = vlo / row * row;
        if (start + rows * row >= want || bpc >= ((size_t)1 << 40)) {
            ui->view_start = start;
            break;
        }
    }
    ui->zoom = bpc; /* the whole arena when that is no smaller (choose_view) */
}

/* ---- allocation sites ------------------------------------------------------------ */

/* A copy of site i, if it is one (its key before and after the copy). */
static bool site_copy(const LiveHeader *h, const unsigned char *map, uint32_t i, LiveSite *out)
{
    if (i >= LIVE_SITES)
        return false;
    const LiveSite *s = (const LiveSite *)(const void *)(map + h->sites_offset) + i;
    uint64_t k1 = atomic_load_explicit(&s->key, memory_order_acquire);
    if (!k1 && i != 0)
        return false;
    memcpy(out, (const void *)s, sizeof *out);
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&s->key, memory_order_relaxed) != k1)
        return false;
    if (out->nframes > LIVE_SITE_FRAMES)
        out->nframes = LIVE_SITE_FRAMES;
    return true;
}

static const char *site_name(Live *lv, const LiveSite *s, unsigned frame)
{
    if (!lv->syms)
        lv->syms = Symbols_Open((long)lv->pid);
    if (frame >= s->nframes)
        return NULL;
    return Symbols_Name(lv->syms, s->frames[frame]);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The owners log's entries not yet in the table (mem_live.h), newest per
 * granule, sorted by granule, into lv->ovl: entry e is granule e >> 16's
 * site + 1 in its low 16 bits.  A header that says more than the log holds
 * leaves the table alone. */
static void read_owner_log(Live *lv, const LiveHeader *h)
{
    lv->novl = 0;
    const _Atomic uint64_t *log =
        (const _Atomic uint64_t *)(const void *)(lv->map + LIVE_OWNER_LOG_OFFSET);
    uint64_t a1 = atomic_load_explicit(&h->owner_applied, memory_order_acquire);
    uint64_t head = atomic_load_explicit(&h->owner_head, memory_order_acquire);
    if (head < a1 || head - a1 > LIVE_OWNER_LOG)
        return;
    /* entry i, then its index: the sort keeps the order of entries */
    uint64_t tmp[LIVE_OWNER_LOG];
    uint32_t n = 0;
    for (uint64_t i = a1; i < head; i++)
        tmp[n++] = atomic_load_explicit(&log[i & (LIVE_OWNER_LOG - 1u)], memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    /* entries below the writer's applied count now may have been written
     * again; they are in the table */
    uint64_t a2 = atomic_load_explicit(&h->owner_applied, memory_order_relaxed);
    uint32_t skip = a2 > a1 ? (uint32_t)(a2 - a1 < n ? a2 - a1 : n) : 0u;
    for (uint32_t k = skip; k < n; k++) {
        uint64_t g = tmp[k] >> 16, site = tmp[k] & 0xffffu;
        if (g >= h->owners_count || g >= ((uint64_t)1 << 38))
            continue;
        /* granule, then the entry's order, then its site */
        lv->ovl[lv->novl++] = g << 26 | (uint64_t)k << 16 | site;
    }
    qsort(lv->ovl, lv->novl, sizeof lv->ovl[0], cmp_u64);
    /* the newest of each granule: the last of its run */
    uint32_t out = 0;
    for (uint32_t k = 0; k < lv->novl; k++) {
        if (out && lv->ovl[out - 1u] >> 26 == lv->ovl[k] >> 26)
            out--;
        lv->ovl[out++] = lv->ovl[k];
    }
    lv->novl = out;
}

/* The owners entry of granule g: the log's, else the table's. */
static uint32_t owner_of(const Live *lv, const LiveHeader *h, uint64_t g)
{
    uint32_t lo = 0, hi = lv->novl;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2u;
        uint64_t mg = lv->ovl[mid] >> 26;
        if (mg == g)
            return (uint32_t)(lv->ovl[mid] & 0xffffu);
        if (mg < g)
            lo = mid + 1u;
        else
            hi = mid;
    }
    const _Atomic uint32_t *owners =
        (const _Atomic uint32_t *)(const void *)(lv->map + h->owners_offset);
    return atomic_load_explicit(&owners[g], memory_order_relaxed);
}

/* The live bytes and blocks of each site in the read the lane shows: its
 * used blocks (a run's used slots) and the owners entry of each.  The
 * owners table is read as it is now: a block freed since the read and
 * allocated again elsewhere counts for its new site. */
static void count_sites(Live *lv, const LiveHeader *h, const Lane *l)
{
    memset(lv->site_bytes, 0, LIVE_SITES * sizeof *lv->site_bytes);
    memset(lv->site_blocks, 0, LIVE_SITES * sizeof *lv->site_blocks);
    read_owner_log(lv, h);
    for (size_t i = 0; i < l->snap.nblocks; i++) {
        const SnapBlock *b = &l->snap.blocks[i];
        if (!b->used || !b->object)
            continue;
        uint64_t obj = (uint64_t)b->offset + b->header; /* a slot's header is 0 */
        uint64_t g = obj / 16u - 1u;
        if (obj < 16u || g >= h->owners_count)
            continue;
        uint32_t o = owner_of(lv, h, g);
        if (o == 0 || o > LIVE_SITES)
            continue;
        lv->site_bytes[o - 1u] += b->object;
        lv->site_blocks[o - 1u]++;
    }
}

/* The sites holding the most live bytes, and where the selected block came
 * from, named now (the program may be gone by the next frame). */
static void read_sites(Live *lv, const LiveHeader *h, size_t sel)
{
    lv->ntop = 0;
    for (uint32_t i = 0; i < LIVE_SITES && lv->show_sites; i++) {
        int64_t bytes = lv->site_bytes[i];
        if (bytes <= 0)
            continue;
        unsigned at = lv->ntop < LIVE_TOP_SITES ? lv->ntop++ : LIVE_TOP_SITES;
        if (at == LIVE_TOP_SITES) {
            if (bytes <= lv->top[LIVE_TOP_SITES - 1u].live_bytes)
                continue;
            at = LIVE_TOP_SITES - 1u;
        }
        while (at > 0 && lv->top[at - 1u].live_bytes < bytes) {
            lv->top[at] = lv->top[at - 1u];
            at--;
        }
        lv->top[at].live_bytes = bytes;
        lv->top[at].live_blocks = lv->site_blocks[i];
        lv->top[at].name[0] = '\0';
        lv->top[at].site = i;
    }
    for (unsigned t = 0; t < lv->ntop; t++) {
        LiveSite s;
        uint32_t i = lv->top[t].site;
        const char *name = i == 0                        ? "(other sites: the table is full)"
                           : site_copy(h, lv->map, i, &s) ? site_name(lv, &s, 0)
                                                          : NULL;
        snprintf(lv->top[t].name, sizeof lv->top[t].name, "%s", name ? name : "?");
    }
    lv->sel_frames = 0;
    lv->sel_block = sel;
    if (sel == SIZE_MAX || sel < 8u)
        return;
    uint64_t g = (sel - 8u) / 16u;
    if (g >= h->owners_count)
        return;
    read_owner_log(lv, h);
    uint32_t o = owner_of(lv, h, g);
    LiveSite s;
    if (o == 0 || !site_copy(h, lv->map, o - 1u, &s))
        return;
    for (unsigned f = 0; f < s.nframes && f < 3u; f++) {
        const char *name = o == 1 ? "(other sites)" : site_name(lv, &s, f);
        snprintf(lv->sel_site[f], sizeof lv->sel_site[f], "%s", name ? name : "?");
        lv->sel_frames = f + 1u;
    }
}

unsigned Live_Step(Ui *ui)
{
    Live *lv = ui->live;
    Lane *l = &ui->m->lanes[0];
    ui->m->ops++; /* a frame is live mode's tick: messages last so many */
    bool was_exited = lv->exited;
    reap(lv);
    const LiveHeader *h = header(lv);
    if (!h)
        return was_exited != lv->exited ? R_REDRAW : R_NONE;
    uint64_t before = l->snap.stats.ops;
    bool first = l->heap == NULL;
    lv->frames++;
    if (l->heap) /* the events' statistics come from the last view */
        drain_events(lv, h, l);
    live_seen(lv);
    uint64_t unrec = atomic_load_explicit(&h->unrecorded, memory_order_relaxed);
    if (unrec < lv->unrecorded_base) /* a new image of the program, or hostile */
        lv->unrecorded_base = unrec;
    lv->unrecorded = unrec - lv->unrecorded_base;
    uint64_t shown = lv->last_gen;
    bool ok = read_heap(lv, h, l);
    if (first && ok)
        lv->ev_next = atomic_load_explicit(&h->events, memory_order_acquire) > LIVE_RING
                          ? atomic_load_explicit(&h->events, memory_order_acquire) - LIVE_RING
                          : 0;
    l->stale = false;
    if (!ok && first)
        return R_NONE;
    bool fresh = lv->last_gen != shown || first;
    const MapGeom *g = &ui->geom[0];
    int rows = g->valid ? g->rows : 0, cols = g->valid ? g->cols : 0;
    if (!lv->manual_zoom && (fresh || rows != lv->zoom_rows || cols != lv->zoom_cols)) {
        auto_zoom(ui, lv, l); /* a pass over the blocks: when they or the map change */
        lv->zoom_rows = rows;
        lv->zoom_cols = cols;
    }
    /* the sites panel only: the counts read the owners entry of every used
     * block, lines the program writes again (a walk touches far fewer) */
    if (lv->show_sites && (fresh || lv->sites_gen != lv->last_gen)) {
        count_sites(lv, h, l);
        lv->sites_gen = lv->last_gen;
    }
    read_sites(lv, h, ui->sel);
    unsigned r = R_REDRAW;
    if (l->snap.stats.ops != before)
        r |= R_FLASH;
    return r;
}

bool Live_Key(Ui *ui, int key, unsigned *r)
{
    Live *lv = ui->live;
    switch (key) {
    case ' ':
        if (lv->exited) {
            snprintf(ui->msg, sizeof ui->msg, "the program has ended: its last heap is shown");
        } else if (kill(lv->pid, lv->stopped ? SIGCONT : SIGSTOP) == 0) {
            lv->stopped = !lv->stopped;
            snprintf(ui->msg, sizeof ui->msg, "%s", lv->stopped ? "program paused (SIGSTOP)"
                                                                 : "program running (SIGCONT)");
        }
        ui->msg_warn = false;
        ui->msg_op = ui->m->ops;
        *r = R_REDRAW;
        return true;
    case 'z': case 'Z': case VK_PGUP: case VK_PGDN:
        lv->manual_zoom = true;
        return false;
    case 's':
        lv->show_sites = !lv->show_sites;
        if (lv->show_sites && ui->m->lanes[0].heap && header(lv)) {
            count_sites(lv, header(lv), &ui->m->lanes[0]);
            lv->sites_gen = lv->last_gen;
            read_sites(lv, header(lv), ui->sel);
        }
        snprintf(ui->msg, sizeof ui->msg, "%s", lv->show_sites
                     ? "sites holding the most live bytes (s: the events again)"
                     : "events (s: the allocation sites)");
        ui->msg_warn = false;
        ui->msg_op = ui->m->ops;
        *r = R_REDRAW;
        return true;
    case 'n': case '.': case 'a': case 'f': case 'i': case 'o': case 'p': case 'w': case 'r':
    case '+': case '=': case '-': case '_':
        snprintf(ui->msg, sizeof ui->msg, "live: the heap is the program's (Space pauses it)");
        ui->msg_warn = true;
        ui->msg_op = ui->m->ops;
        *r = R_REDRAW;
        return true;
    /* a lecture's keys: the program's past is not kept, and it does not wait */
    case 'b': case VK_BACKSPACE: case 127: case 8: case '[': case ']': case 'g': case 'P':
        snprintf(ui->msg, sizeof ui->msg, "live: %s", key == 'P'
                     ? "nothing to predict, the program does not wait for an answer"
                     : "no time travel, the program's past heaps are not kept");
        ui->msg_warn = true;
        ui->msg_op = ui->m->ops;
        *r = R_REDRAW;
        return true;
    default:
        return false;
    }
}

void Live_Status(const Live *lv, char *buf, size_t len)
{
    char state[64];
    if (!lv->exited)
        snprintf(state, sizeof state, "%s", lv->stopped ? "paused" : "running");
    else if (!lv->child)
        snprintf(state, sizeof state, "ended");
    else if (WIFEXITED(lv->wstatus))
        snprintf(state, sizeof state, "exited with status %d", WEXITSTATUS(lv->wstatus));
    else if (WIFSIGNALED(lv->wstatus))
        snprintf(state, sizeof state, "killed by signal %d", WTERMSIG(lv->wstatus));
    else
        snprintf(state, sizeof state, "ended");
    /* lost: overwritten in the ring before they were read, or never sent
     * (operations past the writer's budget: mem_live.h) */
    int n = snprintf(buf, len, "%s · output: %s", state, lv->output);
    if (n > 0 && (size_t)n < len && lv->ev_lost + lv->unrecorded)
        snprintf(buf + n, len - (size_t)n, " · %llu events lost",
                 (unsigned long long)(lv->ev_lost + lv->unrecorded));
}

void Live_Finish(Live *lv)
{
    const char *st = getenv("HEAPVIZ_LIVE_STATS");
    struct timespec cpu = {0, 0};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu); /* heapviz's own, not the program's */
    /* the program's waits for parked reads, as it counted them (its
     * header: only printed) */
    const LiveHeader *h = lv->map ? header(lv) : NULL;
    unsigned long long waits = h ? atomic_load(&h->parks) : 0;
    double wait_ms = h ? (double)atomic_load(&h->park_ns) / 1e6 : 0.0;
    double wait_max = h ? (double)atomic_load(&h->park_max_ns) / 1e6 : 0.0;
    double max_ms = (double)lv->stop_max_ns / 1e6;
    if (st && *st && strcmp(st, "0") != 0 && lv->frames)
        fprintf(stderr,
                "heapviz: live: %llu frames, %llu new heaps read (%llu while it ran, %llu "
                "parked, the rest with the program stopped), %llu frames with the heap "
                "unchanged, %llu reads torn or put off; %llu stops (%llu rounds) and %llu "
                "waits parked, %.3f ms stopped in all, at most %.3f ms; %llu events lost, "
                "%llu operations sent none; heapviz's CPU time %.3f s\n",
                (unsigned long long)lv->frames, (unsigned long long)lv->fresh,
                (unsigned long long)lv->quiet, (unsigned long long)lv->parks,
                (unsigned long long)lv->unchanged, (unsigned long long)lv->torn,
                (unsigned long long)lv->stops, (unsigned long long)lv->stop_rounds, waits,
                (double)lv->stop_ns / 1e6 + wait_ms, max_ms > wait_max ? max_ms : wait_max,
                (unsigned long long)lv->ev_lost, (unsigned long long)lv->unrecorded,
                (double)cpu.tv_sec + (double)cpu.tv_nsec / 1e9);
    if (lv->pid > 0 && !lv->exited) {
        if (lv->child) {
            kill(lv->pid, SIGTERM);
            kill(lv->pid, SIGCONT);
            for (int i = 0; i < 100 && waitpid(lv->pid, NULL, WNOHANG) == 0; i++)
                nap_us(10000);
            if (waitpid(lv->pid, NULL, WNOHANG) == 0) {
                kill(lv->pid, SIGKILL);
                waitpid(lv->pid, NULL, 0);
            }
        } else if (lv->stopped) {
            kill(lv->pid, SIGCONT);
        }
    }
    if (lv->map)
        munmap((void *)(uintptr_t)lv->map, lv->size);
    if (lv->rw_map)
        munmap(lv->rw_map, lv->rw_len);
    if (lv->fd >= 0)
        close(lv->fd);
    free(lv->viewbuf[0]);
    free(lv->viewbuf[1]);
    free(lv->spare.blocks);
    free(lv->site_bytes);
    free(lv->site_blocks);
    Symbols_Close(lv->syms);
    memset(lv, 0, sizeof *lv);
    lv->fd = -1;
}

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
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
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
    size_t vs = (MemHeap_ViewSize() + 63u) / 64u * 64u;
    lv->viewbuf[0] = aligned_alloc(64, vs);
    lv->viewbuf[1] = aligned_alloc(64, vs);
    if (!lv->viewbuf[0] || !lv->viewbuf[1]) {
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
        if (strncmp(link, "/memfd:" LIVE_MEMFD_NAME, strlen("/memfd:" LIVE_MEMFD_NAME)) == 0)
            lv->fd = open(path, O_RDONLY | O_CLOEXEC);
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
            h->ring_offset + (uint64_t)LIVE_RING * sizeof(LiveEvent) > h->keys_offset)
            return NULL;
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
 * was even and the same before and after. */
static bool read_once(Live *lv, const LiveHeader *h, Lane *l)
{
    uint64_t g1 = atomic_load_explicit(&h->gen, memory_order_acquire);
    if (g1 & 1u)
        return false;
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
    Lane_Live(l, v);
    atomic_thread_fence(memory_order_acquire);
    uint64_t g2 = atomic_load_explicit(&h->gen, memory_order_relaxed);
    if (g1 != g2) {
        /* torn: the last good snapshot and its view again */
        swap_snap(&l->snap, &lv->spare);
        l->heap = last;
        return false;
    }
    lv->cur = next;
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

/* Stops the program, waits until every thread has stopped (at most 50 ms). */
static bool stop_program(Live *lv)
{
    if (kill(lv->pid, SIGSTOP) != 0)
        return false;
    for (int i = 0; i < 500 && !process_stopped(lv->pid); i++)
        nap_us(100);
    return true;
}

/* A consistent read: a few tries while the program runs, then one with the
 * program stopped (and, if it was stopped in the middle of an operation,
 * continued a moment and stopped again). */
static bool read_heap(Live *lv, const LiveHeader *h, Lane *l)
{
    lv->reads++;
    /* A walk costs heapviz as much as the heap has blocks: try one without
     * stopping the program only when it looks quiet (the generation did not
     * move for a moment); a busy one would tear it anyway. */
    uint64_t g0 = atomic_load_explicit(&h->gen, memory_order_acquire);
    nap_us(LIVE_QUIET_US);
    for (unsigned i = 0; i < LIVE_TRIES; i++) {
        if (atomic_load_explicit(&h->gen, memory_order_acquire) != g0)
            break;
        if (read_once(lv, h, l))
            return true;
        lv->torn++;
        g0 = atomic_load_explicit(&h->gen, memory_order_acquire);
    }
    if (lv->exited)
        return false; /* it died in the middle of an operation: keep the last */
    /* Stopping costs the program the read's time: at most LIVE_STOP_SHARE
     * of its time.  Between two such reads the frames show the last
     * consistent heap (and the events as they come). */
    long long now = now_ns();
    if (!lv->stopped && l->heap && now < lv->next_stop)
        return false;
    bool ok = false;
    for (unsigned round = 0; round < 20 && !ok; round++) {
        bool was_stopped = lv->stopped;
        if (!was_stopped && !stop_program(lv))
            break;
        lv->stops++;
        ok = read_once(lv, h, l);
        if (!was_stopped || !ok)
            kill(lv->pid, SIGCONT);
        if (!ok) {
            nap_us(200); /* let the operation in progress finish */
            if (was_stopped)
                stop_program(lv);
        }
    }
    long long spent = now_ns() - now;
    lv->next_stop = now_ns() + (long long)((double)spent / LIVE_STOP_SHARE);
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

/* The map shows the arena up to a little past the end of the program's
 * highest object (a 1 GiB arena is mostly untouched), at a power-of-two
 * scale so that it does not jitter as the heap grows. */
static void auto_zoom(Ui *ui, const Lane *l)
{
    size_t extent = 0;
    for (size_t i = l->snap.nblocks; i-- > 0;) {
        if (l->snap.blocks[i].used) {
            extent = (size_t)l->snap.blocks[i].offset + l->snap.blocks[i].size;
            break;
        }
    }
    const MapGeom *g = &ui->geom[0];
    size_t cells = g->valid ? (size_t)g->rows * (size_t)g->cols : 256u;
    size_t want = extent + extent / 4u;
    size_t bpc = 16;
    while (bpc * cells < want)
        bpc *= 2;
    ui->zoom = bpc; /* the whole arena when that is no smaller (choose_view) */
    ui->view_start = 0;
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

/* The sites holding the most live bytes, and where the selected block came
 * from, named now (the program may be gone by the next frame). */
static void read_sites(Live *lv, const LiveHeader *h, size_t sel)
{
    lv->ntop = 0;
    for (uint32_t i = 0; i < LIVE_SITES; i++) {
        LiveSite s;
        if (!site_copy(h, lv->map, i, &s) || s.live_bytes <= 0)
            continue;
        unsigned at = lv->ntop < LIVE_TOP_SITES ? lv->ntop++ : LIVE_TOP_SITES;
        if (at == LIVE_TOP_SITES) {
            if (s.live_bytes <= lv->top[LIVE_TOP_SITES - 1u].live_bytes)
                continue;
            at = LIVE_TOP_SITES - 1u;
        }
        while (at > 0 && lv->top[at - 1u].live_bytes < s.live_bytes) {
            lv->top[at] = lv->top[at - 1u];
            at--;
        }
        lv->top[at].live_bytes = s.live_bytes;
        lv->top[at].live_blocks = s.live_blocks;
        const char *name = i == 0 ? "(other sites: the table is full)" : site_name(lv, &s, 0);
        snprintf(lv->top[at].name, sizeof lv->top[at].name, "%s", name ? name : "?");
    }
    lv->sel_frames = 0;
    lv->sel_block = sel;
    if (sel == SIZE_MAX || sel < 8u)
        return;
    uint64_t g = (sel - 8u) / 16u;
    if (g >= h->owners_count)
        return;
    const _Atomic uint32_t *owners =
        (const _Atomic uint32_t *)(const void *)(lv->map + h->owners_offset);
    uint32_t o = atomic_load_explicit(&owners[g], memory_order_relaxed);
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
    if (l->heap) /* the events' statistics come from the last view */
        drain_events(lv, h, l);
    bool ok = read_heap(lv, h, l);
    if (first && ok)
        lv->ev_next = atomic_load_explicit(&h->events, memory_order_acquire) > LIVE_RING
                          ? atomic_load_explicit(&h->events, memory_order_acquire) - LIVE_RING
                          : 0;
    l->stale = false;
    if (!ok && first)
        return R_NONE;
    if (!lv->manual_zoom)
        auto_zoom(ui, l);
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
    case 'z': case 'Z':
        lv->manual_zoom = true;
        return false;
    case 's':
        lv->show_sites = !lv->show_sites;
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
    int n = snprintf(buf, len, "%s · output: %s", state, lv->output);
    if (n > 0 && (size_t)n < len && lv->ev_lost)
        snprintf(buf + n, len - (size_t)n, " · %llu events lost",
                 (unsigned long long)lv->ev_lost);
}

void Live_Finish(Live *lv)
{
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
    if (lv->fd >= 0)
        close(lv->fd);
    free(lv->viewbuf[0]);
    free(lv->viewbuf[1]);
    free(lv->spare.blocks);
    Symbols_Close(lv->syms);
    memset(lv, 0, sizeof *lv);
    lv->fd = -1;
}

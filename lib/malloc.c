/*
 * malloc.c - libmem-malloc.so: the C allocator of any dynamically linked
 * program, replaced by one libmem heap.
 *
 *   LD_PRELOAD=lib/libmem-malloc.so some-program args...
 *
 * malloc, free, calloc, realloc, reallocarray, posix_memalign, aligned_alloc,
 * memalign, valloc, pvalloc and malloc_usable_size all work on ONE heap in
 * ONE mmap: a reservation of MEM_SIZE bytes (K, M or G suffix; default the
 * largest arena libmem manages, MEM_MAX_ARENA, 64 GiB) made with
 * MAP_NORESERVE, so only the pages the program touches cost memory.  C++'s
 * operator new and delete reach it through libstdc++.  glibc's own allocator
 * is never called.
 *
 * Environment (read once, at the first call):
 *   MEM_SIZE=64G          the reservation (at least 1M); without it, the
 *                         default, halved until the kernel grants it
 *   MEM_POLICY=fast       first, next, best, worst or fast, as for Mem_Init
 *                         (not buddy: a malloc must align beyond 16 bytes)
 *   MEM_INVALID_FREE=ignore   a free of a pointer that is not a live object
 *                         is counted and ignored instead of aborting
 *   LIBMEM_STATS=1        one summary line on stderr when the process calls
 *                         exit (through a close-on-exec copy of fd 2 made at
 *                         start, as programs may close stderr at exit; a
 *                         process that ends by _exit or a signal prints none)
 * A malformed value is an error: one line on stderr and exit status 127,
 * before the program runs any further.
 *
 * How it stays safe where an allocator is called from:
 *   - before constructors and from inside the dynamic loader: the heap is
 *     made at the first call, from nothing but getenv, mmap and the library
 *     (none of which allocates); the shim is linked -z now, so no lazy
 *     symbol binding runs inside it;
 *   - recursion: the heap is published before pthread_atfork is called,
 *     and that call (which may allocate) is served by the published heap;
 *     threads that race the first call wait for it;
 *   - threads: the heap's own lock (MemHeap_* are thread safe; the lock is
 *     skipped while the process has one thread, as glibc does);
 *   - fork: the library's fork gate (MemHeap_ForkPrepare, Parent, Child:
 *     no thread is inside any heap's lock across the fork), called from
 *     this shim's own handlers after the heap's lock is taken (fork_prepare),
 *     so a child forked from one thread while others are inside malloc
 *     never inherits a held lock or a half-changed heap;
 *   - exhaustion: NULL with errno ENOMEM, the program's own answer.
 *
 * Large frees give their pages back: before an object of at least 256 KiB is
 * freed, the whole pages inside it are dropped with MADV_DONTNEED (the
 * library's metadata lies at the edges of blocks, never in those pages).
 */
#include "runs.h"
#include "mem_live.h"

#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <pthread.h>
#include <sys/mman.h>
#include <linux/futex.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

#define DEFAULT_SIZE ((size_t)64 << 30)
#define LIVE_DEFAULT_SIZE ((size_t)1 << 30) /* MEM_SHARE=1 without MEM_SIZE */
#define MIN_SIZE ((size_t)1 << 20)
#define RETURN_PAGES ((size_t)256 << 10) /* frees this large drop their pages */

enum { ST_NONE, ST_READY, ST_FAILED };

static _Atomic(MemHeap *) g_heap;
static atomic_int g_state;
static atomic_flag g_init_lock = ATOMIC_FLAG_INIT;
static bool g_ignore_invalid, g_stats;
static size_t g_page = 4096;
static atomic_ullong g_refused; /* invalid frees and reallocs the shim refused */
static int g_stats_fd = STDERR_FILENO;
static unsigned char *g_base;   /* the arena (MemRegion.base) */
static size_t g_arena;          /* its bytes */
/* The frontier: the end of the highest object ever handed out, as an offset
 * from g_base (for a small object, the end of the largest run block that
 * could hold it).  Beyond it the arena has held no object and no run, only
 * the library's free-block metadata, and that within FRONTIER_DIRT bytes of it (a free
 * block's header, links and footer sit at its ends, and every free block
 * starts at an old block end) or in the arena's last 16 bytes (the last free
 * block's footer): calloc need not clear the rest of such memory, which is
 * still zero from mmap, and so never touches pages the program does not. */
static atomic_size_t g_frontier;
#define FRONTIER_DIRT 128u

/* ---- live mode: the heap in a shared memfd (live.h) ------------------------------ */

__attribute__((noreturn)) static void config_error(const char *var, const char *val,
                                                    const char *want);
static size_t parse_size(const char *s);

static LiveHeader *g_live;          /* the shared header, NULL when private */
static int g_live_fd = -1;
static unsigned char *g_region;     /* the whole mapping */
static size_t g_region_len;
static bool g_fork_live;            /* fork_prepare's live_begin took the heap's lock */
static bool g_fork_locked;          /* and its mem_lock (outside live mode) */
static void *g_fork_copy;           /* fork_prepare's private copy, for the child */
static LiveSite *g_sites;           /* live mode: the sites and owners tables */
static _Atomic uint32_t *g_owners;
static _Atomic uint64_t *g_owner_log;
static LiveReader *g_reader;        /* the reader's fields (mem_live.h) */
static size_t g_owners_count;
static unsigned g_site_frames = 1;  /* MEM_BACKTRACE */
static _Thread_local int t_unwinding;

/* The caller's return address(es), in live mode: at most g_site_frames. */
#define CALLER(frames, n)                                                                  \
    uint64_t frames[LIVE_SITE_FRAMES];                                                     \
    unsigned n = g_live ? caller_frames(frames, (uint64_t)(uintptr_t)__builtin_return_address(0)) : 0u

/* With MEM_BACKTRACE above 1, glibc's backtrace() (which may allocate the
 * first time: those calls record their caller only). */
static unsigned caller_frames_slow(uint64_t *frames);

static inline __attribute__((always_inline)) unsigned caller_frames(uint64_t *frames,
                                                                    uint64_t ra)
{
    frames[0] = ra;
    if (__builtin_expect(g_site_frames <= 1 || t_unwinding, 1))
        return 1;
    return caller_frames_slow(frames);
}

__attribute__((noinline)) static unsigned caller_frames_slow(uint64_t *frames)
{
    t_unwinding = 1;
    void *b[LIVE_SITE_FRAMES + 2];
    int k = backtrace(b, (int)g_site_frames + 2);
    t_unwinding = 0;
    /* b[0] is here, b[1] the exported function; from b[2] on, its callers */
    unsigned n = 1;
    for (int i = 2; i < k && n < g_site_frames; i++)
        frames[n++] = (uint64_t)(uintptr_t)b[i];
    return n;
}

/* The site of these frames (under the heap's lock: one writer). */
__attribute__((noinline)) static uint32_t site_of(const uint64_t *frames, unsigned n)
{
    uint64_t key = 0x9E3779B97F4A7C15u * (n + 1u);
    for (unsigned i = 0; i < n; i++)
        key = (key ^ frames[i]) * 0x100000001B3u;
    key |= 1u;
    uint32_t mask = LIVE_SITES - 1u;
    for (uint32_t i = (uint32_t)(key >> 32) & mask, probe = 0; probe < 64; probe++, i = (i + 1u) & mask) {
        if (i == 0)
            continue; /* site 0: the rest */
        LiveSite *s = &g_sites[i];
        uint64_t k = atomic_load_explicit(&s->key, memory_order_relaxed);
        if (k == key && s->nframes == n && memcmp(s->frames, frames, n * sizeof *frames) == 0)
            return i;
        if (k == 0) {
            s->nframes = n;
            memcpy(s->frames, frames, n * sizeof *frames);
            atomic_store_explicit(&s->key, key, memory_order_release);
            return i;
        }
    }
    return 0;
}

static size_t owner_index(const void *p)
{
    return (size_t)((const unsigned char *)p - g_base) / GRAN - 1u;
}

/* Under the heap's lock, after the heap changed: the owners entry of the
 * object's granule names its site.  Nothing else is counted here: heapviz
 * adds the live bytes of each site up from the used blocks it reads (a
 * freed block's entry is left as it is, as no used block starts there, and
 * the next object there overwrites it), so a free costs live mode nothing
 * but the generation steps. */
static uint64_t g_last_ra;          /* the last single-frame site, and its index */
static uint32_t g_last_site;

/* The oldest half of the owners log into the owners table (mem_live.h):
 * the stores are independent, so their page walks overlap. */
/* The writer's own counts (under the heap's lock); the header's copies are
 * for the reader, which may write that page: never read back. */
static uint64_t g_owner_head, g_owner_applied;

__attribute__((noinline)) static void owner_flush(void)
{
    const _Atomic uint64_t *log = g_owner_log;
    uint64_t applied = g_owner_applied;
    for (uint64_t i = applied; i < applied + LIVE_OWNER_LOG / 2u; i++) {
        uint64_t e = atomic_load_explicit(&log[i & (LIVE_OWNER_LOG - 1u)], memory_order_relaxed);
        if (e >> 16 < g_owners_count)
            __builtin_prefetch((const void *)&g_owners[e >> 16], 1, 0);
    }
    for (uint64_t i = applied; i < applied + LIVE_OWNER_LOG / 2u; i++) {
        uint64_t e = atomic_load_explicit(&log[i & (LIVE_OWNER_LOG - 1u)], memory_order_relaxed);
        if (e >> 16 < g_owners_count) /* the log is shared memory: bounded */
            atomic_store_explicit(&g_owners[e >> 16], (uint32_t)(e & 0xffffu),
                                  memory_order_relaxed);
    }
    g_owner_applied = applied + LIVE_OWNER_LOG / 2u;
    atomic_store_explicit(&g_live->owner_applied, g_owner_applied, memory_order_release);
}

static inline __attribute__((always_inline)) void owner_log(uint64_t e)
{
    uint64_t head = g_owner_head++;
    atomic_store_explicit(&g_owner_log[head & (LIVE_OWNER_LOG - 1u)], e, memory_order_relaxed);
    atomic_store_explicit(&g_live->owner_head, head + 1u, memory_order_release);
    /* head - applied < LIVE_OWNER_LOG after every entry: an entry is in
     * the table before its slot is written again */
    if (head + 1u - g_owner_applied >= LIVE_OWNER_LOG)
        owner_flush();
}

static inline __attribute__((always_inline)) void site_add(const void *p, const uint64_t *frames,
                                                         unsigned n)
{
    size_t g = owner_index(p);
    if (!g_sites || !n || g >= g_owners_count)
        return;
    uint32_t s;
    if (n == 1 && frames[0] == g_last_ra && g_last_site) {
        s = g_last_site; /* a loop allocating: no hash, no probe */
    } else {
        s = site_of(frames, n);
        g_last_ra = n == 1 ? frames[0] : 0u;
        g_last_site = s;
    }
    owner_log((uint64_t)g << 16 | (s + 1u));
}

/* The events' budget.  An operation that raises events costs the library
 * its slow path (its fast paths are for heaps nobody observes) and the
 * ring ~120 bytes an event, while heapviz logs a few dozen events a frame:
 * so at most LIVE_EVENT_BURST operations in every LIVE_EVENT_WINDOW send
 * their events.  Past that the observer is off until the window ends, and
 * those operations are counted (LiveHeader.unrecorded).  A program that
 * never makes more than LIVE_EVENT_BURST operations in a window loses no
 * event.  All under the heap's lock. */
#define LIVE_EVENT_BURST 1024u
#define LIVE_EVENT_WINDOW 50000000LL /* ns: 20,480 operations a second */
#define LIVE_EVENT_RECHECK 32u       /* operations between looks at the clock, when off */
static void live_observe(const MemEvent *e, void *arg);
static unsigned g_ev_ops;           /* operations since the last look at the clock */
static bool g_ev_off;               /* the observer is off for the rest of the window */
static long long g_ev_window;       /* when this window began (CLOCK_MONOTONIC_COARSE) */
static unsigned g_ev_recheck = LIVE_EVENT_RECHECK; /* when off: fewer looks with no reader */

__attribute__((noinline)) static void live_budget(MemHeap *h)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    long long now = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    if (g_ev_off)
        atomic_store_explicit(&g_live->unrecorded,
                              atomic_load_explicit(&g_live->unrecorded, memory_order_relaxed) +
                                  g_ev_ops,
                              memory_order_relaxed);
    g_ev_ops = 0;
    /* nobody reading (mem_live.h, presence): no events, the operations
     * counted; the coarse clock may lag the reader's by a tick */
    long long seen = atomic_load_explicit(&g_reader->seen, memory_order_relaxed);
    bool absent = now - seen > LIVE_READER_NS;
    g_ev_recheck = absent ? LIVE_EVENT_BURST : LIVE_EVENT_RECHECK;
    if (absent || now - g_ev_window < LIVE_EVENT_WINDOW) {
        if (!g_ev_off) {
            g_ev_off = true;
            MemHeap_SetObserver(h, NULL, NULL);
        }
        return;
    }
    g_ev_window = now;
    if (g_ev_off) {
        g_ev_off = false;
        MemHeap_SetObserver(h, live_observe, g_live);
    }
}

/* Every change of the heap happens between two steps of gen (odd while it
 * lasts), under the heap's own lock (taken here and again, recursively,
 * by the library's call inside; skipped while the process has one
 * thread), so that a reader's two equal even readings bracket no change at
 * all.  The lock makes this thread gen's only writer: plain loads and
 * stores, no locked instruction (a seqlock's writer side: the release fence
 * orders the odd value before every store of the change, the release store
 * of the even value after them). */
static inline __attribute__((always_inline)) bool live_enter(MemHeap *h)
{
    bool locked = mem_lock(h);
    uint64_t g = atomic_load_explicit(&g_live->gen, memory_order_relaxed);
    atomic_store_explicit(&g_live->gen, g + 1u, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    return locked;
}

/* Parking (mem_live.h): the heap is whole (gen even) and the heap's lock
 * held, so the reader's walk sees no change; the wait is bounded here, by
 * LIVE_PARK_MAX_NS and the LIVE_PARK_GAP budget, whatever the reader does. */
static uint32_t g_park_seen;        /* the last request answered */
static long long g_park_next;       /* no wait before (CLOCK_MONOTONIC ns) */

static long long mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void futex_wake_all(_Atomic uint32_t *w)
{
    syscall(SYS_futex, (void *)w, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

__attribute__((noinline)) static void live_park(uint32_t req)
{
    int saved = errno;
    g_park_seen = req;
    long long t0 = mono_ns();
    if (t0 < g_park_next) {
        atomic_store_explicit(&g_live->park_state, LIVE_REFUSED, memory_order_relaxed);
        atomic_store_explicit(&g_live->park_ack, req, memory_order_release);
        futex_wake_all(&g_live->park_ack);
        errno = saved;
        return;
    }
    atomic_store_explicit(&g_live->park_state, LIVE_PARKED, memory_order_relaxed);
    atomic_store_explicit(&g_live->park_ack, req, memory_order_release);
    futex_wake_all(&g_live->park_ack);
    for (;;) {
        /* the clock first: the reader, woken, may have run its walk
         * before this thread got here */
        long long now = mono_ns();
        uint32_t rel = atomic_load_explicit(&g_reader->park_release, memory_order_acquire);
        if (rel == req || now - t0 >= LIVE_PARK_MAX_NS)
            break;
        long long left = LIVE_PARK_MAX_NS - (now - t0);
        struct timespec ts = {(time_t)(left / 1000000000LL), (long)(left % 1000000000LL)};
        syscall(SYS_futex, (void *)&g_reader->park_release, FUTEX_WAIT, rel, &ts, NULL, 0);
    }
    long long now = mono_ns(), d = now - t0;
    g_park_next = now + d * (long long)LIVE_PARK_GAP;
    atomic_store_explicit(&g_live->park_state, LIVE_RESUMED, memory_order_release);
    atomic_store_explicit(&g_live->parks, atomic_load_explicit(&g_live->parks, memory_order_relaxed) + 1u,
                          memory_order_relaxed);
    atomic_store_explicit(&g_live->park_ns,
                          atomic_load_explicit(&g_live->park_ns, memory_order_relaxed) + (uint64_t)d,
                          memory_order_relaxed);
    if ((uint64_t)d > atomic_load_explicit(&g_live->park_max_ns, memory_order_relaxed))
        atomic_store_explicit(&g_live->park_max_ns, (uint64_t)d, memory_order_relaxed);
    errno = saved;
}

static inline __attribute__((always_inline)) void live_leave(MemHeap *h, bool locked)
{
    uint64_t g = atomic_load_explicit(&g_live->gen, memory_order_relaxed);
    atomic_store_explicit(&g_live->gen, g + 1u, memory_order_release);
    if (++g_ev_ops >= (g_ev_off ? g_ev_recheck : LIVE_EVENT_BURST))
        live_budget(h);
    uint32_t req = atomic_load_explicit(&g_reader->park_req, memory_order_relaxed);
    if (__builtin_expect(req != g_park_seen, 0))
        live_park(req);
    mem_unlock(h, locked);
}

static inline bool live_begin(MemHeap *h)
{
    if (__builtin_expect(g_live != NULL, 0))
        return live_enter(h);
    return false;
}

static inline void live_end(MemHeap *h, bool locked)
{
    if (__builtin_expect(g_live != NULL, 0))
        live_leave(h, locked);
}

/* The observer, in live mode: each event into the ring (never waits). */
static void live_observe(const MemEvent *e, void *arg)
{
    LiveHeader *hd = arg;
    LiveEvent *ring = (LiveEvent *)(void *)((unsigned char *)hd + hd->ring_offset);
    uint64_t i = atomic_load_explicit(&hd->events, memory_order_relaxed);
    LiveEvent *s = &ring[i & (LIVE_RING - 1u)];
    atomic_store_explicit(&s->seq, 0, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    s->op = e->op;
    s->kind = (uint32_t)e->kind;
    s->policy = (uint32_t)e->policy;
    s->reason = (uint32_t)e->reason;
    s->neighbours = e->neighbours;
    s->request = e->request;
    s->examined = e->examined;
    s->block = e->block;
    s->size = e->size;
    s->remainder = e->remainder;
    s->object = e->object;
    s->free_total = e->free_total;
    s->largest_free = e->largest_free;
    s->previous = e->previous;
    s->pointer = e->pointer;
    s->run = e->run;
    s->slot = e->slot;
    s->count = e->count;
    atomic_store_explicit(&s->seq, i + 1u, memory_order_release);
    atomic_store_explicit(&hd->events, i + 1u, memory_order_release);
}

static void live_exit(void)
{
    if (g_live)
        atomic_store_explicit(&g_live->state, LIVE_EXITED, memory_order_release);
}

/* MEM_SHARE_FD=n: the descriptor must be heapviz's memfd ("/memfd:libmem-heap"
 * in /proc/self/fd), so that a stale number inherited through exec, now
 * naming some other file, is never written to. */
static bool is_our_memfd(int fd)
{
    char link[64], path[64] = "/proc/self/fd/";
    size_t n = strlen(path);
    int v = fd, k = 0;
    char d[12];
    do {
        d[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (k)
        path[n++] = d[--k];
    path[n] = '\0';
    ssize_t len = readlink(path, link, sizeof link - 1);
    if (len <= 0)
        return false;
    link[len] = '\0';
    return strncmp(link, "/memfd:" LIVE_MEMFD_NAME, strlen("/memfd:" LIVE_MEMFD_NAME)) == 0;
}

/* Maps the memfd and claims it: its first process only.  Returns the
 * mapping's length, 0 when it cannot be used (then the heap is private). */
static size_t live_map(int fd, void **out)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < (off_t)(LIVE_HEADER_BYTES + MIN_SIZE))
        return 0;
    size_t len = (size_t)st.st_size / g_page * g_page;
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
    if (p == MAP_FAILED)
        return 0;
    LiveHeader *hd = p;
    int32_t none = 0, me = (int32_t)getpid();
    if (!atomic_compare_exchange_strong(&hd->owner, &none, me)) {
        if (none != me) {
            munmap(p, len);
            return 0;
        }
        /* This process exec'd (a wrapper script becoming its program): the
         * new image starts a new heap in the same memfd, zero again. */
        if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)LIVE_HEADER_BYTES,
                      (off_t)(len - LIVE_HEADER_BYTES)) != 0) {
            munmap(p, len);
            return 0;
        }
    }
    *out = p;
    return len;
}

/* The header, once the heap is made; the magic last, for the reader. */
static void live_publish(LiveHeader *hd, size_t len, size_t owners_count)
{
    hd->sites_offset = LIVE_HEADER_BYTES;
    hd->sites_cap = LIVE_SITES;
    hd->site_frames = g_site_frames;
    hd->owners_offset = LIVE_SITES_END;
    hd->owners_count = owners_count;
    hd->keys_offset = LIVE_KEYS_OFFSET;
    hd->keys_len = MEM_KEYS_SIZE;
    hd->version = LIVE_VERSION;
    hd->ring_cap = LIVE_RING;
    hd->ring_offset = LIVE_RING_OFFSET;
    hd->owner_log_offset = LIVE_OWNER_LOG_OFFSET;
    atomic_store(&hd->owner_head, 0);
    atomic_store(&hd->owner_applied, 0);
    atomic_store(&hd->parks, 0);
    atomic_store(&hd->park_ns, 0);
    atomic_store(&hd->park_max_ns, 0);
    hd->heap_offset = LIVE_SITES_END + (owners_count * 4u + g_page - 1u) / g_page * g_page;
    hd->size = len;
    atomic_store(&hd->state, LIVE_RUNNING);
    atomic_thread_fence(memory_order_release);
    memcpy(hd->magic, LIVE_MAGIC, sizeof hd->magic);
}

/* The region of a shared heap, or NULL for a private one.  *len gets its
 * bytes; *fd the memfd. */
static void *live_region(size_t *len, int *fd)
{
    const char *v = getenv("MEM_SHARE_FD");
    void *p = NULL;
    if (v && *v) {
        char *end;
        long n = strtol(v, &end, 10);
        if (*end || n < 0 || n > 1 << 20)
            config_error("MEM_SHARE_FD", v, "not a descriptor number");
        /* Kept open across exec, for this process's next image; its
         * children close it (fork_child), and one that inherits it all the
         * same (posix_spawn) finds another owner and keeps a private heap. */
        if (is_our_memfd((int)n) && (*len = live_map((int)n, &p)) != 0)
            *fd = (int)n;
        return p;
    }
    v = getenv("MEM_SHARE");
    if (!v || strcmp(v, "1") != 0)
        return NULL;
    const char *sz = getenv("MEM_SIZE");
    size_t size = LIVE_DEFAULT_SIZE;
    if (sz && *sz && (size = parse_size(sz)) < MIN_SIZE)
        config_error("MEM_SIZE", sz, "not a size of at least 1M (digits, then K, M or G)");
    int f = memfd_create(LIVE_MEMFD_NAME, MFD_CLOEXEC);
    if (f < 0 || ftruncate(f, (off_t)(LIVE_HEADER_BYTES + size)) != 0 ||
        (*len = live_map(f, &p)) == 0) {
        if (f >= 0)
            close(f);
        return NULL;
    }
    *fd = f;
    return p;
}

/* ---- messages, without the allocator or stdio -------------------------------- */

typedef struct Line {
    char buf[512];
    size_t n;
} Line;

static void put_str(Line *l, const char *s)
{
    while (*s && l->n + 1 < sizeof l->buf)
        l->buf[l->n++] = *s++;
}

static void put_num(Line *l, unsigned long long v, unsigned base)
{
    char d[24];
    int n = 0;
    do {
        unsigned x = (unsigned)(v % base);
        d[n++] = (char)(x < 10 ? '0' + x : 'a' + x - 10);
        v /= base;
    } while (v);
    if (base == 16)
        put_str(l, "0x");
    while (n && l->n + 1 < sizeof l->buf)
        l->buf[l->n++] = d[--n];
}

static void put_end_fd(Line *l, int fd)
{
    l->buf[l->n++] = '\n';
    for (size_t done = 0; done < l->n;) {
        ssize_t w = write(fd, l->buf + done, l->n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
}

static void put_end(Line *l)
{
    put_end_fd(l, STDERR_FILENO);
}

__attribute__((noreturn)) static void config_error(const char *var, const char *val,
                                                    const char *want)
{
    Line l = {.n = 0};
    put_str(&l, "libmem-malloc: ");
    put_str(&l, var);
    put_str(&l, "=");
    put_str(&l, val);
    put_str(&l, ": ");
    put_str(&l, want);
    put_end(&l);
    _exit(127);
}

/* "free(): invalid pointer 0x... (points into a free block ...)", then abort,
 * unless MEM_INVALID_FREE=ignore. */
/* why: MemHeap_FreeExact's refusal (which the heap counted), or MEM_OK for
 * a pointer that a lookup refused (counted here). */
static void invalid_pointer(MemHeap *h, const char *fn, const void *p, MemReject why)
{
    if (why == MEM_OK)
        atomic_fetch_add_explicit(&g_refused, 1, memory_order_relaxed);
    if (g_ignore_invalid)
        return;
    if (why == MEM_OK)
        why = MemHeap_Classify(h, p);
    Line l = {.n = 0};
    put_str(&l, "libmem-malloc: ");
    put_str(&l, fn);
    put_str(&l, "(): invalid pointer ");
    put_num(&l, (unsigned long long)(uintptr_t)p, 16);
    put_str(&l, " (it ");
    put_str(&l, why == MEM_OK ? MemReject_Describe(MEM_REJECT_INTERIOR)
                              : MemReject_Describe(why));
    put_str(&l, ")");
    put_end(&l);
    abort();
}

/* ---- the heap ------------------------------------------------------------------ */

/* "64G", "512M", "1024K", "1048576": bytes, or 0 when malformed. */
static size_t parse_size(const char *s)
{
    size_t v = 0;
    if (*s < '0' || *s > '9')
        return 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (SIZE_MAX - 9u) / 10u)
            return 0;
        v = v * 10u + (size_t)(*s - '0');
    }
    unsigned shift = 0;
    if (*s == 'K' || *s == 'k')
        shift = 10;
    else if (*s == 'M' || *s == 'm')
        shift = 20;
    else if (*s == 'G' || *s == 'g')
        shift = 30;
    if (shift)
        s++;
    if (*s || v > (SIZE_MAX >> shift))
        return 0;
    return v << shift;
}

/* Live mode: a private copy of the shared mapping's data (its holes stay
 * holes), made while nothing changes, for the child to go on with. */
static void *live_copy(void)
{
    void *c = mmap(NULL, g_region_len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (c == MAP_FAILED)
        return NULL;
    off_t off = 0, end = (off_t)g_region_len;
    while (off < end) {
        off_t data = lseek(g_live_fd, off, SEEK_DATA);
        if (data < 0 || data >= end)
            break;
        off_t hole = lseek(g_live_fd, data, SEEK_HOLE);
        if (hole < 0 || hole > end)
            hole = end;
        /* the keys' page is not this process's to read (PROT_NONE) */
        off_t kp = (off_t)LIVE_KEYS_OFFSET, ke = kp + (off_t)g_page;
        if (data < ke && hole > kp) {
            if (data < kp)
                memcpy((unsigned char *)c + data, g_region + data, (size_t)(kp - data));
            if (hole > ke)
                memcpy((unsigned char *)c + ke, g_region + ke, (size_t)(hole - ke));
        } else {
            memcpy((unsigned char *)c + data, g_region + data, (size_t)(hole - data));
        }
        off = hole;
    }
    return c;
}

/* The library's fork gate (lock.c, MemHeap_Fork*) makes every heap whole
 * at the fork; this shim builds it without the gate's own atfork handlers
 * (MEM_FORK_BY_CALLER) and calls it from its handlers, so that one order
 * holds: the heap's lock first (live mode's generation steps are taken
 * under it, and a thread spinning for it steps out of the gate when the
 * gate closes), then the gate; after the fork, the gate opens first, then
 * the lock is given back. */
static void fork_prepare(void)
{
    MemHeap *h = atomic_load_explicit(&g_heap, memory_order_acquire);
    g_fork_live = h && live_begin(h);
    g_fork_locked = h && mem_lock(h);
    MemHeap_ForkPrepare();
    g_fork_copy = g_live ? live_copy() : NULL;
}

/* The flags are read and cleared while the lock is still held: cleared
 * after the unlock, they could wipe the flags of another thread's fork
 * that took the lock in between, and its release would never unlock (8
 * threads forking on 2 CPUs met that: tests/programs/forks.c hung). */
static void fork_release(void)
{
    MemHeap *h = atomic_load_explicit(&g_heap, memory_order_acquire);
    bool locked = g_fork_locked, live = g_fork_live;
    g_fork_locked = false;
    g_fork_live = false;
    if (h && locked)
        mem_unlock(h, true);
    if (h)
        live_end(h, live);
}

static void fork_parent(void)
{
    if (g_fork_copy) {
        munmap(g_fork_copy, g_region_len);
        g_fork_copy = NULL;
        atomic_fetch_add(&g_live->forks, 1);
    }
    MemHeap_ForkParent();
    fork_release();
}

/* The child of a live process must not write its parent's heap: it goes on
 * with the private copy, put where the shared mapping was (pointers into
 * the heap stay valid), and nobody watches it. */
static void fork_child(void)
{
    MemHeap_ForkChild();
    if (g_live) {
        if (!g_fork_copy ||
            mremap(g_fork_copy, g_region_len, g_region_len, MREMAP_MAYMOVE | MREMAP_FIXED,
                   g_region) == MAP_FAILED) {
            static const char msg[] = "libmem-malloc: a child of a live process cannot copy "
                                      "its heap\n";
            ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
            (void)w;
            _exit(127);
        }
        g_fork_copy = NULL;
        close(g_live_fd);
        g_live_fd = -1;
        g_live = NULL;
        g_sites = NULL;
        MemHeap *h = atomic_load_explicit(&g_heap, memory_order_acquire);
        if (h)
            MemHeap_SetObserver(h, NULL, NULL);
        if (h && g_fork_locked)
            mem_unlock(h, true);
        g_fork_locked = false;
        /* and fork_prepare's live_begin (g_live is gone now) */
        if (h)
            mem_unlock(h, g_fork_live);
        g_fork_live = false;
        return;
    }
    fork_release();
}

static void print_stats(void);

/* Makes the heap: environment, one reservation, MemHeap_Create over it.
 * Called with g_init_lock held; nothing here allocates. */
static MemHeap *make_heap(void)
{
    long page = sysconf(_SC_PAGESIZE);
    if (page > 0)
        g_page = (size_t)page;
    MemPolicy policy = MEM_POLICY_DEFAULT;
    const char *v = getenv("MEM_POLICY");
    if (v && *v && (MemPolicy_Parse(v, &policy) != 0 || policy == MEM_BUDDY))
        config_error("MEM_POLICY", v,
                     policy == MEM_BUDDY
                         ? "buddy cannot align objects beyond 16 bytes, as a malloc must "
                           "(first, next, best, worst, fast)"
                         : "not a policy (first, next, best, worst, fast)");
    v = getenv("MEM_INVALID_FREE");
    if (v && *v) {
        if (strcmp(v, "ignore") == 0)
            g_ignore_invalid = true;
        else if (strcmp(v, "abort") != 0)
            config_error("MEM_INVALID_FREE", v, "not ignore or abort");
    }
    v = getenv("LIBMEM_STATS");
    g_stats = v && *v && strcmp(v, "0") != 0;
    if (g_stats) {
        /* A copy of stderr, high and close-on-exec: programs close their
         * stderr in atexit handlers of their own (coreutils does). */
        int fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 900);
        if (fd >= 0)
            g_stats_fd = fd;
    }

    size_t size = DEFAULT_SIZE;
    bool fixed = false;
    v = getenv("MEM_SIZE");
    if (v && *v) {
        size = parse_size(v);
        if (size < MIN_SIZE)
            config_error("MEM_SIZE", v, "not a size of at least 1M (digits, then K, M or G)");
        fixed = true;
    }
    size_t control = MemHeap_ControlSize();
    size_t len = 0;
    int fd = -1;
    void *shared = live_region(&len, &fd);
    if (shared) {
        /* [header, ring][sites][owners: 4 bytes a granule][the heap's region] */
        v = getenv("MEM_BACKTRACE");
        if (v && *v) {
            char *end;
            long nb = strtol(v, &end, 10);
            if (*end || nb < 1 || nb > (long)LIVE_SITE_FRAMES)
                config_error("MEM_BACKTRACE", v, "not 1 to 8 frames");
            g_site_frames = (unsigned)nb;
        }
        size_t rest = len - LIVE_SITES_END;
        size_t heap_len = rest / 5u * 4u / g_page * g_page;
        size_t owners = heap_len / GRAN;
        size_t heap_off = LIVE_SITES_END + (owners * 4u + g_page - 1u) / g_page * g_page;
        if (heap_off + heap_len > len)
            heap_len = len - heap_off;
        MemHeap *h = MemHeap_Create((unsigned char *)shared + heap_off, heap_len, policy,
                                    MEM_OPT_ZEROED);
        if (!h)
            return NULL;
        g_sites = (LiveSite *)(void *)((unsigned char *)shared + LIVE_HEADER_BYTES);
        g_owners = (_Atomic uint32_t *)(void *)((unsigned char *)shared + LIVE_SITES_END);
        g_owners_count = owners;
        g_owner_log = (_Atomic uint64_t *)(void *)((unsigned char *)shared + LIVE_OWNER_LOG_OFFSET);
        g_reader = (LiveReader *)(void *)((unsigned char *)shared + LIVE_READER_OFFSET);
        g_region = shared;
        g_region_len = len;
        g_live_fd = fd;
        g_base = MemHeap_Region(h).base;
        g_arena = MemHeap_Region(h).size;
        /* the keys for the reader, then out of this process's reach: no
         * overflow of an object can read or write them (mem_live.h) */
        unsigned char *keys = (unsigned char *)shared + LIVE_KEYS_OFFSET;
        if (MemHeap_ExportKeys(h, keys, MEM_KEYS_SIZE) != 0 ||
            mprotect(keys, g_page, PROT_NONE) != 0)
            return NULL;
        live_publish(shared, len, owners);
        MemHeap_SetObserver(h, live_observe, shared);
        g_live = shared;
        return h;
    }
    void *region = MAP_FAILED;
    for (;;) {
        if (size > MEM_MAX_ARENA)
            size = MEM_MAX_ARENA;
        len = (size + control + g_page - 1u) / g_page * g_page;
        region = mmap(NULL, len, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (region != MAP_FAILED || fixed || size / 2u < MIN_SIZE)
            break;
        size /= 2u; /* strict overcommit or a ulimit -v: ask for less */
    }
    if (region == MAP_FAILED) {
        if (fixed)
            config_error("MEM_SIZE", v, "the kernel refuses a reservation that large");
        return NULL;
    }
    MemHeap *h = MemHeap_Create(region, len, policy, MEM_OPT_ZEROED);
    if (h) {
        g_base = MemHeap_Region(h).base;
        g_arena = MemHeap_Region(h).size;
    }
    return h;
}

__attribute__((noinline)) static MemHeap *heap_init(void)
{
    for (;;) {
        MemHeap *h = atomic_load_explicit(&g_heap, memory_order_acquire);
        if (h)
            return h;
        if (atomic_load_explicit(&g_state, memory_order_acquire) == ST_FAILED)
            return NULL;
        if (!atomic_flag_test_and_set_explicit(&g_init_lock, memory_order_acquire))
            break;
        sched_yield(); /* another thread is making it */
    }
    MemHeap *h = atomic_load_explicit(&g_heap, memory_order_acquire);
    if (!h && atomic_load(&g_state) == ST_NONE) {
        h = make_heap();
        if (h) {
            atomic_store_explicit(&g_heap, h, memory_order_release);
            atomic_store(&g_state, ST_READY);
            /* may allocate: served by the heap just published */
            pthread_atfork(fork_prepare, fork_parent, fork_child);
            if (g_stats)
                atexit(print_stats);
            if (g_live)
                atexit(live_exit);
        } else {
            atomic_store(&g_state, ST_FAILED);
        }
    }
    atomic_flag_clear_explicit(&g_init_lock, memory_order_release);
    return h;
}

static inline MemHeap *heap(void)
{
    MemHeap *h = atomic_load_explicit(&g_heap, memory_order_acquire);
    return __builtin_expect(h != NULL, 1) ? h : heap_init();
}

/* The heap exists by the time the program's constructors run, even in a
 * program that never allocates, so a malformed setting is reported at once. */
__attribute__((constructor)) static void heap_early(void)
{
    (void)heap();
}

static void print_stats(void)
{
    MemHeap *h = atomic_load_explicit(&g_heap, memory_order_acquire);
    if (!h)
        return;
    MemStats s = MemHeap_Stats(h);
    Line l = {.n = 0};
    put_str(&l, "libmem-malloc: allocations ");
    put_num(&l, s.allocs, 10);
    put_str(&l, ", frees ");
    put_num(&l, s.frees, 10);
    put_str(&l, ", peak live bytes ");
    put_num(&l, s.peak_live_bytes, 10);
    put_str(&l, ", peak arena bytes in use ");
    put_num(&l, s.peak_used_bytes, 10);
    put_str(&l, ", failed allocations ");
    put_num(&l, s.failed_allocs, 10);
    put_str(&l, ", refused frees ");
    put_num(&l, s.rejected_frees + atomic_load(&g_refused), 10);
    put_str(&l, " (policy ");
    put_str(&l, MemPolicy_Name(s.policy));
    put_str(&l, ")");
    put_end_fd(&l, g_stats_fd);
}

/* ---- the allocator ---------------------------------------------------------------- */

/* Moves the frontier past an object just handed out (or grown).  A small
 * one may be a slot of a run (runs.h), whose block reaches past it and is
 * written at its end when it is given back: the frontier covers the largest
 * run block after it. */
static inline void note_end(const void *p, size_t size)
{
    if (size <= RUN_MAX_SIZE)
        size = (size_t)RUN_GRANS_MAX * GRAN;
    size_t end = (size_t)((const unsigned char *)p - g_base) + size;
    size_t f = atomic_load_explicit(&g_frontier, memory_order_relaxed);
    while (end > f && !atomic_compare_exchange_weak_explicit(&g_frontier, &f, end,
                                                             memory_order_relaxed,
                                                             memory_order_relaxed))
        ;
}

/* The library's changing calls, inside live mode's generation steps. */
static void *h_alloc(MemHeap *h, size_t n, const uint64_t *frames, unsigned nf)
{
    bool locked = live_begin(h);
    void *p = MemHeap_Alloc(h, n);
    if (p && nf)
        site_add(p, frames, nf);
    live_end(h, locked);
    return p;
}

static int h_free(MemHeap *h, void *p)
{
    if (!g_live)
        return MemHeap_FreeExact(h, p);
    bool locked = live_enter(h);
    int r = MemHeap_FreeExact(h, p);
    live_leave(h, locked);
    return r;
}

static void *fail_nomem(void)
{
    errno = ENOMEM;
    return NULL;
}

/* malloc's live mode: the caller's frames, the generation steps. */
__attribute__((noinline)) static void *malloc_live(MemHeap *h, size_t size, void *ra)
{
    uint64_t frames[LIVE_SITE_FRAMES];
    unsigned nf = g_live ? caller_frames(frames, (uint64_t)(uintptr_t)ra) : 0u;
    return h_alloc(h, size, frames, nf);
}

EXPORT void *malloc(size_t size)
{
    MemHeap *h = heap();
    void *p = NULL;
    if (__builtin_expect(h != NULL, 1))
        p = __builtin_expect(g_live == NULL, 1)
                ? MemHeap_Alloc(h, size ? size : 1u)
                : malloc_live(h, size ? size : 1u, __builtin_return_address(0));
    if (!p)
        return fail_nomem();
    note_end(p, size);
    return p;
}

/* The size of the live object that starts at p, or 0 (after the complaint)
 * when p is not one. */
static size_t object_at(MemHeap *h, void *p, const char *fn)
{
    size_t size = 0;
    if (MemHeap_Find(h, p, &size) != p) {
        invalid_pointer(h, fn, p, MEM_OK);
        return 0;
    }
    return size;
}

/* Drops the whole pages inside a large object that is about to be freed. */
static void return_pages(unsigned char *p, size_t size)
{
    uintptr_t lo = ((uintptr_t)p + g_page - 1u) & ~(uintptr_t)(g_page - 1u);
    uintptr_t hi = ((uintptr_t)p + size) & ~(uintptr_t)(g_page - 1u);
    if (hi > lo) {
        int saved = errno;
        /* a shared (live) heap's pages are a file's: punch them out */
        madvise((void *)lo, hi - lo, g_live ? MADV_REMOVE : MADV_DONTNEED);
        errno = saved;
    }
}

/* Whether p may be a large object: the header before it, if it carries its
 * tag (a run's slot has no header: the bytes before it fail the tag), read
 * as a hint only (p is not known to be an object yet; MemHeap_FreeExact
 * checks).  The arena is mapped whole, so the read cannot fault. */
static inline bool maybe_large(const MemHeap *h, const void *p)
{
    uintptr_t off = (uintptr_t)p - (uintptr_t)g_base;
    if (off < MEM_ALIGNMENT || off >= g_arena || off % MEM_ALIGNMENT)
        return false;
    uint32_t g = (uint32_t)(off / GRAN - 1u);
    const BlockHeader *b = mem_hdr(h, g);
    return (size_t)b->size * GRAN >= RETURN_PAGES && hdr_ok(h, g, b);
}

EXPORT void free(void *p)
{
    if (!p)
        return;
    MemHeap *h = heap();
    if (!h)
        return;
    if (__builtin_expect(maybe_large(h, p), 0)) {
        size_t size = object_at(h, p, "free");
        if (!size)
            return;
        if (size >= RETURN_PAGES)
            return_pages(p, size);
    }
    int why = __builtin_expect(g_live == NULL, 1) ? MemHeap_FreeExact(h, p) : h_free(h, p);
    if (why != MEM_OK)
        invalid_pointer(h, "free", p, (MemReject)why);
}

EXPORT void *calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return fail_nomem();
    size_t total = n * size;
    MemHeap *h = heap();
    CALLER(frames, nf);
    void *p = h ? h_alloc(h, total ? total : 1u, frames, nf) : NULL;
    if (!p)
        return fail_nomem();
    /* Every earlier object that ever lay here raised the frontier before it
     * was freed (and so before this allocation, which the heap's lock
     * orders after that free): past the frontier, only metadata to clear. */
    size_t at = (size_t)((unsigned char *)p - g_base);
    size_t dirty = atomic_load_explicit(&g_frontier, memory_order_relaxed) + FRONTIER_DIRT;
    dirty = dirty > at ? dirty - at : 0u;
    if (dirty + 16u < total) {
        memset(p, 0, dirty);
        memset((unsigned char *)p + total - 16u, 0, 16u);
    } else {
        memset(p, 0, total);
    }
    note_end(p, total);
    return p;
}

EXPORT void *realloc(void *old, size_t size)
{
    if (!old)
        return malloc(size);
    MemHeap *h = heap();
    if (!h)
        return fail_nomem();
    if (size == 0) { /* as glibc: free it, return NULL */
        free(old);
        return NULL;
    }
    size_t was = object_at(h, old, "realloc");
    if (!was)
        return NULL;
    CALLER(frames, nf);
    bool locked = live_begin(h);
    int resized = MemHeap_Resize(h, old, size);
    if (resized == 0 && nf)
        site_add(old, frames, nf);
    live_end(h, locked);
    if (resized == 0) {
        note_end(old, size);
        return old;
    }
    void *p = h_alloc(h, size, frames, nf);
    if (!p)
        return fail_nomem();
    note_end(p, size);
    memcpy(p, old, was < size ? was : size);
    if (was >= RETURN_PAGES)
        return_pages(old, was);
    h_free(h, old);
    return p;
}

EXPORT void *reallocarray(void *old, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return fail_nomem();
    return realloc(old, n * size);
}

/* align: a power of two (the callers check or round).  ra: the caller's. */
static void *aligned(size_t align, size_t size, void *ra)
{
    MemHeap *h = heap();
    void *p = NULL;
    uint64_t frames[LIVE_SITE_FRAMES];
    unsigned nf = g_live ? caller_frames(frames, (uint64_t)(uintptr_t)ra) : 0u;
    if (h) {
        bool locked = live_begin(h);
        p = MemHeap_AllocAligned(h, align, size ? size : 1u);
        if (p && nf)
            site_add(p, frames, nf);
        live_end(h, locked);
    }
    if (!p)
        return fail_nomem();
    note_end(p, size);
    return p;
}

EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
    if (align < sizeof(void *) || (align & (align - 1u)))
        return EINVAL;
    int saved = errno;
    void *p = aligned(align, size, __builtin_return_address(0));
    errno = saved;
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

EXPORT void *aligned_alloc(size_t align, size_t size)
{
    if (align == 0 || (align & (align - 1u))) {
        errno = EINVAL;
        return NULL;
    }
    return aligned(align, size, __builtin_return_address(0));
}

/* As glibc: an alignment that is not a power of two is rounded up to one. */
EXPORT void *memalign(size_t align, size_t size)
{
    if (align > SIZE_MAX / 2u + 1u) {
        errno = EINVAL;
        return NULL;
    }
    size_t a = 1;
    while (a < align)
        a <<= 1;
    return aligned(a, size, __builtin_return_address(0));
}

EXPORT void *valloc(size_t size)
{
    if (!heap())
        return fail_nomem();
    return aligned(g_page, size, __builtin_return_address(0));
}

EXPORT void *pvalloc(size_t size)
{
    if (!heap())
        return fail_nomem();
    if (size > SIZE_MAX - g_page)
        return fail_nomem();
    size_t rounded = size ? (size + g_page - 1u) / g_page * g_page : g_page;
    return aligned(g_page, rounded, __builtin_return_address(0));
}

/* The object's requested size: every byte of it is usable, and no byte after
 * it (that is padding the heap may check).  0 for NULL or a pointer that is
 * not the start of a live object. */
EXPORT size_t malloc_usable_size(void *p)
{
    MemHeap *h = p ? heap() : NULL;
    size_t size = 0;
    if (h && MemHeap_Find(h, p, &size) != p)
        size = 0;
    return size;
}

/*
 * record.c - an LD_PRELOAD library that records a program's allocations as
 * a malloc-lab .rep trace (the format of demo/workload.h).
 *
 *   LD_PRELOAD=tools/record.so RECORD_TRACE=out.rep  some command
 *
 * RECORD_TRACE names the output; "%p" in it becomes the process id, so a
 * command that starts other programs (cc runs cc1 and as) leaves one trace
 * per process.  Without "%p" only the first process image writes (children
 * of a fork stop recording; a program exec'd later overwrites the file).
 * An exec keeps the pid: the new image's trace replaces the old one's.  Each
 * trace names its process and its parent ("# pid P, parent Q"), from which
 * tools/record.sh tells the command's own process.
 * Without RECORD_TRACE the library only passes calls through.
 *
 * What is recorded
 *   malloc, calloc, valloc, pvalloc, memalign, aligned_alloc, posix_memalign
 *                           "a id size" (the alignment is not kept)
 *   realloc, reallocarray   "r id size"; from NULL: "a"; to size 0: "f"
 *   free                    "f id"
 * Failed calls are not recorded (the program saw nothing happen).  Frees and
 * reallocs of pointers the recorder never saw (allocated before it started,
 * or by the bootstrap arena below) are ignored.  Ids are given per live
 * pointer and reused after a free (lowest-numbered first is not promised; a
 * stack of free ids), so the header's id count is the peak number of live
 * objects.  The header's heap size is 1.5 x the peak live bytes + 64 KiB.
 *
 * How it stays out of the program's way
 *   - It never calls malloc: the pointer table and the id stack live in
 *     memory from mmap, and the trace is written as the program runs, into
 *     the file mapped shared (see "writing the trace as it goes" below): a
 *     process that ends by _exit, abort or a fatal signal leaves a whole
 *     trace, and one killed by SIGKILL its op lines (tools/record.sh then
 *     rebuilds the header).
 *   - The real functions come from dlsym(RTLD_NEXT).  dlsym itself may call
 *     calloc before they are known: those requests (and any made while the
 *     recorder itself is running, which a thread-local flag detects) are
 *     served by a small static bump arena whose frees are ignored.
 *   - Threads: every hooked call is serialised by one mutex held across the
 *     real call and its record, so the log is in an order that happened
 *     (a pointer freed by one thread and returned by malloc to another is
 *     logged free-then-alloc).  fork() takes the mutex first (pthread_atfork)
 *     so the child never inherits it locked.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

/* ---- the real functions -------------------------------------------------- */

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);
static void *(*real_valloc)(size_t);
static void *(*real_pvalloc)(size_t);

/* ---- the bootstrap arena ------------------------------------------------- */

/* Each bootstrap object is preceded by 16 bytes holding its size. */
static _Alignas(64) unsigned char boot[1 << 16];
static size_t boot_used;

static bool is_boot(const void *p)
{
    return (const unsigned char *)p >= boot && (const unsigned char *)p < boot + sizeof boot;
}

static void *boot_alloc(size_t size, size_t align)
{
    if (align < 16)
        align = 16;
    size_t start = (boot_used + 16 + align - 1) / align * align;
    if (size > sizeof boot || start + size > sizeof boot)
        return NULL;
    memcpy(boot + start - 16, &size, sizeof size);
    boot_used = start + size;
    return boot + start;
}

static size_t boot_size(const void *p)
{
    size_t size;
    memcpy(&size, (const unsigned char *)p - 16, sizeof size);
    return size;
}

/* ---- state --------------------------------------------------------------- */

enum { REC_A, REC_F, REC_R };

typedef struct Slot {
    uintptr_t key;      /* 0 = empty */
    uint32_t id;
    uint64_t size;
} Slot;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static __thread int busy __attribute__((tls_model("initial-exec")));
static _Atomic int initialised; /* 1 once the real functions are known */
static int recording;        /* 1 while this process logs */
static char out_pattern[1024];

static size_t log_n;         /* op lines written */
static Slot *table;          /* mmap'd open-addressing table, table_cap slots */
static size_t table_n, table_cap;
static uint32_t *free_ids;   /* mmap'd stack of reusable ids */
static size_t free_n, free_cap;
static uint32_t next_id;     /* ids handed out so far: the header's count */
static uint64_t live_bytes, peak_bytes;

#define MAX_OPS ((size_t)1 << 27)   /* the parser's TRACE_MAX_OPS */
#define MAX_IDS (1u << 22)          /* TRACE_MAX_IDS */
#define MAX_SIZE ((size_t)1 << 40)  /* TRACE_MAX_SIZE */

static void *map(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Grows an mmap'd array to hold at least `need` elements of `elem` bytes. */
static bool grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap * 2 : 4096;
    while (n < need)
        n *= 2;
    void *p = *arr ? mremap(*arr, *cap * elem, n * elem, MREMAP_MAYMOVE) : map(n * elem);
    if (p == MAP_FAILED || p == NULL)
        return false;
    *arr = p;
    *cap = n;
    return true;
}

/* ---- the pointer table: linear probing, deletion by backward shift ------- */

static size_t slot_of(uintptr_t key, size_t cap)
{
    uint64_t h = (uint64_t)(key >> 4) * 0x9E3779B97F4A7C15u;
    return (size_t)(h >> 32) & (cap - 1);
}

static bool table_grow(void)
{
    size_t cap = table_cap ? table_cap * 2 : 1 << 14;
    Slot *t = map(cap * sizeof *t);
    if (!t)
        return false;
    for (size_t i = 0; i < table_cap; i++) {
        if (!table[i].key)
            continue;
        size_t j = slot_of(table[i].key, cap);
        while (t[j].key)
            j = (j + 1) & (cap - 1);
        t[j] = table[i];
    }
    if (table)
        munmap(table, table_cap * sizeof *table);
    table = t;
    table_cap = cap;
    return true;
}

static Slot *table_find(uintptr_t key)
{
    if (!table_cap)
        return NULL;
    for (size_t j = slot_of(key, table_cap);; j = (j + 1) & (table_cap - 1)) {
        if (table[j].key == key)
            return &table[j];
        if (!table[j].key)
            return NULL;
    }
}

static bool table_put(uintptr_t key, uint32_t id, uint64_t size)
{
    if ((table_n + 1) * 2 > table_cap && !table_grow())
        return false;
    size_t j = slot_of(key, table_cap);
    while (table[j].key)
        j = (j + 1) & (table_cap - 1);
    table[j] = (Slot){key, id, size};
    table_n++;
    return true;
}

static void table_remove(Slot *s)
{
    size_t i = (size_t)(s - table), mask = table_cap - 1;
    for (size_t j = (i + 1) & mask; table[j].key; j = (j + 1) & mask) {
        size_t home = slot_of(table[j].key, table_cap);
        /* Move j back into the hole at i unless its home lies in (i, j]. */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            table[i] = table[j];
            i = j;
        }
    }
    table[i].key = 0;
    table_n--;
}

/* ---- logging (called with the lock held) ---------------------------------- */

static void stop(void) { recording = 0; }

static bool out_line(uint32_t kind, uint32_t id, uint64_t size);

static void log_op(uint32_t kind, uint32_t id, uint64_t size)
{
    if (log_n >= MAX_OPS || !out_line(kind, id, size)) {
        stop();
        return;
    }
    log_n++;
}

/* Binds object p to id: the table, the live and peak bytes, and the line. */
static void bind_id(void *p, uint32_t id, size_t size, uint32_t op)
{
    if (!table_put((uintptr_t)p, id, size)) {
        stop();
        return;
    }
    live_bytes += size;
    if (live_bytes > peak_bytes)
        peak_bytes = live_bytes;
    log_op(op, id, size);
}

static void note_alloc(void *p, size_t size)
{
    if (!recording || !p)
        return;
    if (size > MAX_SIZE)
        { stop(); return; }
    uint32_t id;
    if (free_n)
        id = free_ids[--free_n];
    else if (next_id < MAX_IDS)
        id = next_id++;
    else
        { stop(); return; }
    bind_id(p, id, size, REC_A);
}

/* Forgets p; returns its slot's id through *id, false if p is unknown. */
static bool note_gone(void *p, uint32_t *id, uint64_t *size)
{
    Slot *s = recording && p ? table_find((uintptr_t)p) : NULL;
    if (!s)
        return false;
    *id = s->id;
    *size = s->size;
    table_remove(s);
    live_bytes -= *size;
    return true;
}

static void note_free(void *p)
{
    uint32_t id;
    uint64_t size;
    if (!note_gone(p, &id, &size))
        return;
    if (!grow((void **)&free_ids, &free_cap, free_n + 1, sizeof *free_ids))
        { stop(); return; }
    free_ids[free_n++] = id;
    log_op(REC_F, id, 0);
}

static void note_realloc(void *old, void *p, size_t size)
{
    uint32_t id;
    uint64_t was;
    if (!recording)
        return;
    if (!note_gone(old, &id, &was)) {
        note_alloc(p, size);
        return;
    }
    if (size > MAX_SIZE)
        { stop(); return; }
    bind_id(p, id, size, REC_R);
}

/* ---- start-up ------------------------------------------------------------ */

#define RESOLVE(name) \
    do { void *sym_ = dlsym(RTLD_NEXT, #name); memcpy(&real_##name, &sym_, sizeof sym_); } while (0)

static void out_open(void);
static void out_fork_child(bool keep);
static void catch_fatal_signals(void);

static void prepare(void) { pthread_mutex_lock(&lock); }
static void parent(void) { pthread_mutex_unlock(&lock); }
static void child(void)
{
    /* Without %p the child would overwrite its parent's file: it stops.
     * With it, the child's trace is the parent's so far, then its own. */
    bool keep = recording && strstr(out_pattern, "%p") != NULL;
    out_fork_child(keep);
    if (!keep)
        recording = 0;
    pthread_mutex_unlock(&lock);
}

static void init_once(void)
{
    busy++;
    RESOLVE(malloc);
    RESOLVE(calloc);
    RESOLVE(realloc);
    RESOLVE(free);
    RESOLVE(posix_memalign);
    RESOLVE(aligned_alloc);
    RESOLVE(memalign);
    RESOLVE(valloc);
    RESOLVE(pvalloc);
    initialised = real_malloc && real_calloc && real_realloc && real_free;
    const char *out = getenv("RECORD_TRACE");
    if (initialised && out && *out && strlen(out) < sizeof out_pattern) {
        memcpy(out_pattern, out, strlen(out) + 1);
        out_open();
        if (recording) {
            pthread_atfork(prepare, parent, child);
            catch_fatal_signals();
        }
    }
    busy--;
}

/* Safe to call from several threads at once.  The calls dlsym makes into
 * the hooks meanwhile see `busy` and go to the bootstrap arena, so they
 * never come back here. */
static void init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_once);
}

__attribute__((constructor)) static void record_start(void) { init(); }

/* ---- the hooks ----------------------------------------------------------- */

/* Enter: returns false when the call must bypass the recorder (re-entry, or
 * before the real functions are known). */
static bool enter(void)
{
    if (busy)
        return false;
    if (!initialised) {
        init();
        if (!initialised)
            return false;
    }
    busy++;
    pthread_mutex_lock(&lock);
    return true;
}

static void leave(void)
{
    pthread_mutex_unlock(&lock);
    busy--;
}

EXPORT void *malloc(size_t size)
{
    if (!enter())
        return real_malloc ? real_malloc(size) : boot_alloc(size, 16);
    void *p = real_malloc(size);
    note_alloc(p, size);
    leave();
    return p;
}

EXPORT void *calloc(size_t n, size_t size)
{
    if (!enter()) {
        if (real_calloc)
            return real_calloc(n, size);
        if (size && n > SIZE_MAX / size)
            return NULL;
        return boot_alloc(n * size, 16); /* static memory is zeroed */
    }
    void *p = real_calloc(n, size);
    note_alloc(p, n * size);
    leave();
    return p;
}

EXPORT void free(void *p)
{
    if (!p || is_boot(p))
        return;
    if (!enter()) {
        if (real_free)
            real_free(p);
        return;
    }
    note_free(p);
    real_free(p);
    leave();
}

EXPORT void *realloc(void *old, size_t size)
{
    if (old && is_boot(old)) {
        /* Move a bootstrap object into the real heap: the new object is
         * logged as an allocation (the bootstrap one never was). */
        void *p = malloc(size);
        size_t keep = boot_size(old) < size ? boot_size(old) : size;
        if (p)
            memcpy(p, old, keep);
        return p;
    }
    if (!enter())
        return real_realloc ? real_realloc(old, size) : boot_alloc(size, 16);
    void *p = real_realloc(old, size);
    if (!old)
        note_alloc(p, size);
    else if (size == 0 && !p)
        note_free(old);
    else if (p)
        note_realloc(old, p, size);
    leave();
    return p;
}

EXPORT void *reallocarray(void *old, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(old, n * size);
}

EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
    if (!enter()) {
        if (real_posix_memalign)
            return real_posix_memalign(out, align, size);
        *out = boot_alloc(size, align);
        return *out ? 0 : ENOMEM;
    }
    int rc = real_posix_memalign(out, align, size);
    if (rc == 0)
        note_alloc(*out, size);
    leave();
    return rc;
}

/* The three below share one shape: fn(align, size) -> pointer. */
static void *aligned(void *(*fn)(size_t, size_t), size_t align, size_t size)
{
    if (!enter())
        return fn ? fn(align, size) : boot_alloc(size, align);
    void *p = fn ? fn(align, size) : NULL;
    note_alloc(p, size);
    leave();
    return p;
}

EXPORT void *aligned_alloc(size_t align, size_t size)
{
    if (!initialised)
        init();
    return aligned(real_aligned_alloc, align, size);
}

EXPORT void *memalign(size_t align, size_t size)
{
    if (!initialised)
        init();
    return aligned(real_memalign, align, size);
}

/* valloc and pvalloc: page-aligned, through the real one once enter() (which
 * may run init) has found it; a bootstrap block before that. */
static void *paged(void *(*const *real)(size_t), size_t size)
{
    if (!enter())
        return *real ? (*real)(size) : boot_alloc(size, 4096);
    void *p = *real ? (*real)(size) : NULL;
    note_alloc(p, size);
    leave();
    return p;
}

EXPORT void *valloc(size_t size)
{
    return paged(&real_valloc, size);
}

EXPORT void *pvalloc(size_t size)
{
    return paged(&real_pvalloc, size);
}

/* ---- writing the trace as it goes ------------------------------------------- */

/*
 * The file is mapped shared and written as the program runs: what is stored
 * in the mapping is in the file even if the process is killed the next
 * moment (the page cache keeps it).  Its layout:
 *
 *   # recorded by tools/record.so from: <command line>
 *   # pid <pid>, parent <parent's pid>
 *   <heap size>      the header: four fields of HDR_FIELD characters,
 *   <ids>            "?" until the trace is finished (the parser refuses a
 *   <ops>            trace that was never finished, and record.sh rebuilds
 *   1                its header from the op lines)
 *   a 0 10           op lines, appended under the lock
 *   ...
 *   \n\n\n...        the rest of the mapped size: blank lines
 *
 * An op line is stored from its second byte on, then its letter: a line cut
 * short by a kill still begins with the blank that was there, so it never
 * passes for a whole op.  Finishing writes the header and cuts the file at
 * the last line.  It runs at exit (a destructor), in _exit and _Exit (this
 * library's own, which program calls reach), and from a handler for every
 * fatal signal whose action is the default when recording starts (it then
 * re-raises the signal).  SIGKILL, a stack overflow (no stack for the
 * handler), a handler of the program's own that ends the process without
 * exit or _exit, and a statically linked exec cannot be caught: the op lines
 * are in the file all the same, and record.sh rebuilds the header.
 */

#define HDR_FIELD 20
#define OUT_CHUNK ((size_t)1 << 20)

static int out_fd = -1;
static pid_t out_pid;          /* the process the file belongs to */
static char *out_map;          /* the file, mapped shared, out_cap bytes */
static size_t out_cap;
static size_t out_pos;         /* bytes of whole lines */
static size_t out_hdr;         /* offset of the header's first field */
static volatile sig_atomic_t out_done;
/* a fork child's inherited trace: copied into its own file at its first
 * line or its end (a child that execs at once copies nothing) */
static char *inherit_map;
static size_t inherit_cap, inherit_off, inherit_len;

/* The file name: the pattern with "%p" replaced by the pid. */
static void out_path(char *path, size_t len)
{
    size_t j = 0;
    for (const char *s = out_pattern; *s && j + 1 < len; s++) {
        if (s[0] == '%' && s[1] == 'p') {
            char d[16];
            int n = 0;
            unsigned long pid = (unsigned long)getpid();
            do {
                d[n++] = (char)('0' + pid % 10);
                pid /= 10;
            } while (pid);
            while (n && j + 1 < len)
                path[j++] = d[--n];
            s++;
        } else {
            path[j++] = *s;
        }
    }
    path[j] = '\0';
}

/* Room for n more bytes: the file and its mapping grow by doubling, the new
 * part filled with newlines (blank lines to a reader). */
static bool out_room(size_t n)
{
    if (out_pos + n <= out_cap)
        return true;
    size_t cap = out_cap ? out_cap : OUT_CHUNK;
    while (cap < out_pos + n)
        cap *= 2;
    if (ftruncate(out_fd, (off_t)cap) != 0)
        return false;
    void *p = out_map ? mremap(out_map, out_cap, cap, MREMAP_MAYMOVE)
                      : mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_SHARED, out_fd, 0);
    if (p == MAP_FAILED)
        return false;
    memset((char *)p + out_cap, '\n', cap - out_cap);
    out_map = p;
    out_cap = cap;
    return true;
}

static void put_bytes(const char *s, size_t n)
{
    memcpy(out_map + out_pos, s, n);
    out_pos += n;
}

static void put_num(long v)
{
    char d[24];
    int k = 0;
    unsigned long u = v < 0 ? 0u : (unsigned long)v;
    do {
        d[k++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while (k)
        put_bytes(&d[--k], 1);
}

/* Right-aligned decimal in a field of HDR_FIELD characters (or "?"). */
static void put_field(char *at, uint64_t v, bool known)
{
    memset(at, ' ', HDR_FIELD);
    char *d = at + HDR_FIELD;
    if (!known) {
        d[-1] = '?';
        return;
    }
    do {
        *--d = (char)('0' + v % 10);
        v /= 10;
    } while (v && d > at);
}

/* Starts this process's file: the comment line and an unfinished header. */
static bool out_start(void)
{
    char path[1100];
    out_path(path, sizeof path);
    out_fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out_fd < 0)
        return false;
    out_pid = getpid();
    out_map = NULL;
    out_cap = out_pos = 0;
    char cmd[200];
    ssize_t n = 0;
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        n = read(fd, cmd, sizeof cmd);
        close(fd);
    }
    static const char lead[] = "# recorded by tools/record.so from: ";
    if (!out_room(sizeof lead + (size_t)(n > 0 ? n : 0) + 64 + 4 * (HDR_FIELD + 1)))
        return false;
    put_bytes(lead, sizeof lead - 1);
    for (ssize_t i = 0; i < n; i++) {
        char c = cmd[i];
        c = c == '\0' ? ' ' : (c < 0x20 || c > 0x7e) ? '?' : c;
        put_bytes(&c, 1);
    }
    put_bytes("\n", 1);
    /* record.sh tells the command's own process by its place in the tree */
    static const char pids[] = "# pid ";
    put_bytes(pids, sizeof pids - 1);
    put_num(getpid());
    static const char parent[] = ", parent ";
    put_bytes(parent, sizeof parent - 1);
    put_num(getppid());
    put_bytes("\n", 1);
    out_hdr = out_pos;
    for (int f = 0; f < 4; f++) {
        put_field(out_map + out_pos, 1, f == 3);
        out_pos += HDR_FIELD;
        put_bytes("\n", 1);
    }
    return true;
}

/* At start-up (init_once): recording starts only if the file can be made. */
static void out_open(void)
{
    recording = out_start();
}

/* Copies the trace a fork child inherited, once, into its own file. */
static bool out_take_inheritance(void)
{
    if (!inherit_map)
        return true;
    char *from = inherit_map;
    size_t cap = inherit_cap, len = inherit_len;
    inherit_map = NULL;
    bool ok = out_start() && out_room(len);
    if (ok)
        put_bytes(from + inherit_off, len);
    munmap(from, cap);
    return ok;
}

static bool out_line(uint32_t kind, uint32_t id, uint64_t size)
{
    if (out_done || !out_take_inheritance())
        return false;
    static const char letter[] = {'a', 'f', 'r'};
    char line[48];
    size_t n = 0;
    char d[24];
    line[n++] = letter[kind];
    for (int pass = 0; pass < (kind == REC_F ? 1 : 2); pass++) {
        uint64_t v = pass ? size : id;
        int k = 0;
        do {
            d[k++] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        line[n++] = ' ';
        while (k)
            line[n++] = d[--k];
    }
    line[n++] = '\n';
    if (!out_room(n))
        return false;
    memcpy(out_map + out_pos + 1, line + 1, n - 1);
    atomic_signal_fence(memory_order_seq_cst);
    out_map[out_pos] = line[0];
    out_pos += n;
    return true;
}

/* In the child of a fork: the parent's mapping stays the parent's.  keep:
 * the child's file starts as a copy of what the parent had written. */
static void out_fork_child(bool keep)
{
    if (out_fd < 0 || !out_map)
        return;
    close(out_fd);
    out_fd = -1;
    if (keep) {
        /* the op lines only: the child writes its own comment and header */
        inherit_map = out_map;
        inherit_cap = out_cap;
        inherit_off = out_hdr + 4 * (HDR_FIELD + 1);
        inherit_len = out_pos - inherit_off;
    } else {
        munmap(out_map, out_cap);
    }
    out_map = NULL;
    out_cap = out_pos = 0;
}

/* Fills in the header and, when the lock is held (no line is being
 * written), cuts the file at the last line.  Only async-signal-safe calls. */
static void out_finish(bool cut)
{
    if (out_done || getpid() != out_pid)
        return; /* done, or a vfork child sharing its parent's memory */
    out_done = 1;
    recording = 0;
    if (inherit_map && !out_take_inheritance())
        return;
    if (!out_map)
        return;
    put_field(out_map + out_hdr, peak_bytes + peak_bytes / 2 + 65536, true);
    put_field(out_map + out_hdr + (HDR_FIELD + 1), next_id, true);
    put_field(out_map + out_hdr + 2 * (HDR_FIELD + 1), log_n, true);
    if (cut && ftruncate(out_fd, (off_t)out_pos) == 0)
        out_cap = out_pos;
}

__attribute__((destructor)) static void record_finish(void)
{
    if (!initialised)
        return;
    busy++;
    pthread_mutex_lock(&lock);
    out_finish(true);
    pthread_mutex_unlock(&lock);
    busy--;
}

/* _exit and _Exit skip the destructors: finish here, then end the process
 * as they do. */
static void finish_anywhere(void)
{
    bool locked = pthread_mutex_trylock(&lock) == 0;
    out_finish(locked);
    if (locked)
        pthread_mutex_unlock(&lock);
}

EXPORT void _exit(int status)
{
    if (initialised)
        finish_anywhere();
    syscall(SYS_exit_group, status);
    __builtin_unreachable();
}

EXPORT void _Exit(int status)
{
    _exit(status);
}

static const int fatal_signals[] = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP,
                                    SIGSYS, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE,
                                    SIGALRM, SIGUSR1, SIGUSR2, SIGXCPU, SIGXFSZ};

static void on_fatal_signal(int sig)
{
    int saved = errno;
    finish_anywhere();
    errno = saved;
    raise(sig); /* the action is the default again (SA_RESETHAND) */
}

/* Only signals whose action is the default: a program's own handlers and
 * ignored signals stay as they are. */
static void catch_fatal_signals(void)
{
    for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++) {
        struct sigaction old;
        if (sigaction(fatal_signals[i], NULL, &old) != 0 || old.sa_handler != SIG_DFL ||
            (old.sa_flags & SA_SIGINFO))
            continue;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_fatal_signal;
        sa.sa_flags = (int)(SA_RESETHAND | SA_NODEFER);
        sigemptyset(&sa.sa_mask);
        sigaction(fatal_signals[i], &sa, NULL);
    }
}

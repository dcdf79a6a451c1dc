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
 *   - It never calls malloc: the pointer table, the op log and the id stack
 *     live in memory from mmap, and the file is written with write(2) from a
 *     static buffer, at exit (a destructor).
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
#include <sys/mman.h>
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

typedef struct Rec {
    uint64_t size;
    uint32_t id;
    uint32_t kind;
} Rec;

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

static Rec *log_ops;         /* mmap'd, log_cap entries */
static size_t log_n, log_cap;
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

static void log_op(uint32_t kind, uint32_t id, uint64_t size)
{
    if (log_n >= MAX_OPS || !grow((void **)&log_ops, &log_cap, log_n + 1, sizeof *log_ops)) {
        stop();
        return;
    }
    log_ops[log_n++] = (Rec){size, id, kind};
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

static void prepare(void) { pthread_mutex_lock(&lock); }
static void parent(void) { pthread_mutex_unlock(&lock); }
static void child(void)
{
    /* Without %p the child would overwrite its parent's file. */
    if (!strstr(out_pattern, "%p"))
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
        recording = 1;
        pthread_atfork(prepare, parent, child);
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

/* ---- writing the trace at exit ------------------------------------------- */

typedef struct Out {
    int fd;
    bool ok;
    size_t n;
    char buf[1 << 16];
} Out;

static Out out_buf;

static void out_flush(Out *o)
{
    size_t done = 0;
    while (o->ok && done < o->n) {
        ssize_t w = write(o->fd, o->buf + done, o->n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            o->ok = false;
        else
            done += (size_t)w;
    }
    o->n = 0;
}

static void out_char(Out *o, char c)
{
    if (o->n == sizeof o->buf)
        out_flush(o);
    o->buf[o->n++] = c;
}

static void out_str(Out *o, const char *s)
{
    while (*s)
        out_char(o, *s++);
}

static void out_num(Out *o, uint64_t v)
{
    char d[24];
    int n = 0;
    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        out_char(o, d[--n]);
}

/* "# recorded from: <command line>", printable and at most 200 bytes. */
static void out_cmdline(Out *o)
{
    char cmd[200];
    ssize_t n = 0;
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        n = read(fd, cmd, sizeof cmd);
        close(fd);
    }
    out_str(o, "# recorded by tools/record.so from: ");
    for (ssize_t i = 0; i < n; i++) {
        char c = cmd[i];
        out_char(o, c == '\0' ? ' ' : (c < 0x20 || c > 0x7e) ? '?' : c);
    }
    out_char(o, '\n');
}

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

__attribute__((destructor)) static void record_finish(void)
{
    if (!initialised)
        return;
    busy++;
    pthread_mutex_lock(&lock);
    if (recording) {
        recording = 0;
        char path[1100];
        out_path(path, sizeof path);
        Out *o = &out_buf;
        o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        o->ok = o->fd >= 0;
        o->n = 0;
        out_cmdline(o);
        out_num(o, peak_bytes + peak_bytes / 2 + 65536);
        out_char(o, '\n');
        out_num(o, next_id);
        out_char(o, '\n');
        out_num(o, log_n);
        out_str(o, "\n1\n");
        static const char letter[] = {'a', 'f', 'r'};
        for (size_t i = 0; i < log_n; i++) {
            const Rec *r = &log_ops[i];
            out_char(o, letter[r->kind]);
            out_char(o, ' ');
            out_num(o, r->id);
            if (r->kind != REC_F) {
                out_char(o, ' ');
                out_num(o, r->size);
            }
            out_char(o, '\n');
        }
        out_flush(o);
        if (o->fd >= 0)
            close(o->fd);
    }
    pthread_mutex_unlock(&lock);
    busy--;
}

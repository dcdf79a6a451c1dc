/*
 * model.c - heaps, players and the workload; snapshots through the hooks;
 * the observer's events turned into the log, touches and history.
 */
#include "model.h"

#include "explain.h"
#include "history.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#define VIZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VIZ_ASAN 1
#endif
#endif
#ifdef VIZ_ASAN
#include <sanitizer/asan_interface.h>
#endif

/* ---- snapshots ------------------------------------------------------------ */

_Static_assert(sizeof(SnapBlock) == 16, "a snapshot's block record stays compact");
_Static_assert(MEM_HEADER_SIZE <= UINT16_MAX, "SnapBlock.header holds a header's size");

/* The walk's visitor: one SnapBlock a block, into room made beforehand
 * (doubled when the heap has more blocks than its statistics said). */
static bool collect(const MemBlock *b, void *arg)
{
    Snapshot *s = arg;
    if (s->nblocks == s->cap_blocks) {
        size_t cap = s->cap_blocks ? s->cap_blocks * 2 : 256;
        SnapBlock *v = realloc(s->blocks, cap * sizeof *v);
        if (!v)
            return false;
        s->blocks = v;
        s->cap_blocks = cap;
    }
    if (b->offset + b->size > UINT32_MAX || b->header > UINT16_MAX)
        return false; /* not below VIZ_MODEL_MAX_REGION: cannot happen */
    s->blocks[s->nblocks++] = (SnapBlock){(uint32_t)b->offset, (uint32_t)b->size,
                                          (uint32_t)b->object, (uint16_t)b->header, b->used,
                                          b->overflowed};
    return true;
}

void Lane_Refresh(Lane *l)
{
    Snapshot *s = &l->snap;
    s->region = MemHeap_Region(l->heap);
    s->stats = MemHeap_Stats(l->heap);
    s->nblocks = 0;
    /* room for every block at once: the walk then only copies */
    size_t want = s->stats.used_blocks + s->stats.free_blocks;
    if (want > s->cap_blocks) {
        SnapBlock *v = realloc(s->blocks, want * sizeof *v);
        if (v) {
            s->blocks = v;
            s->cap_blocks = want;
        }
    }
    MemHeap_Walk(l->heap, collect, s);
    l->stale = false;
    l->rank.valid = false;
}

void Lane_Sync(Lane *l)
{
    if (l->stale && l->heap)
        Lane_Refresh(l);
}

void Model_Sync(Model *m)
{
    for (unsigned i = 0; i < m->nlanes; i++)
        Lane_Sync(&m->lanes[i]);
}

long Snapshot_BlockAt(const Snapshot *s, size_t offset)
{
    size_t lo = 0, hi = s->nblocks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const SnapBlock *b = &s->blocks[mid];
        if (offset < b->offset)
            hi = mid;
        else if (offset >= (size_t)b->offset + b->size)
            lo = mid + 1;
        else
            return (long)mid;
    }
    return -1;
}

MemBlock Snapshot_Block(const Snapshot *s, size_t i)
{
    const SnapBlock *b = &s->blocks[i];
    MemBlock m;
    memset(&m, 0, sizeof m);
    m.offset = b->offset;
    m.size = b->size;
    m.object = b->object;
    m.header = b->header;
    m.padding = b->used ? (size_t)b->size - b->header - b->object : 0;
    m.used = b->used;
    m.overflowed = b->overflowed;
    m.rank = i;
    return m;
}

/* A free walk that stops at a block: by offset (want) or by place (nth). */
typedef struct FreeSeek {
    size_t want, nth;
    long rank;
    size_t offset;
    unsigned list;
} FreeSeek;

static bool seek_free(const MemBlock *b, void *arg)
{
    FreeSeek *f = arg;
    if (b->offset != f->want && b->rank != f->nth)
        return true;
    f->rank = (long)b->rank;
    f->offset = b->offset;
    f->list = b->list;
    return false;
}

long Lane_FreeRank(Lane *l, size_t offset, unsigned *list)
{
    if (!l->rank.valid || l->rank.offset != offset) {
        FreeSeek f = {offset, SIZE_MAX, -1, SIZE_MAX, 0};
        MemHeap_WalkFree(l->heap, seek_free, &f);
        l->rank.valid = true;
        l->rank.offset = offset;
        l->rank.rank = f.rank;
        l->rank.list = f.list;
    }
    if (list)
        *list = l->rank.list;
    return l->rank.rank;
}

size_t Lane_FreeNth(const Lane *l, size_t rank)
{
    FreeSeek f = {SIZE_MAX, rank, -1, SIZE_MAX, 0};
    MemHeap_WalkFree(l->heap, seek_free, &f);
    return f.offset;
}

/* ---- log, history, touches -------------------------------------------------- */

static void log_add(Lane *l, uint64_t op, LogKind kind, const char *text)
{
    LogLine *ln = &l->log[l->log_head];
    ln->op = op;
    ln->kind = kind;
    snprintf(ln->text, sizeof ln->text, "%s", text);
    l->log_head = (l->log_head + 1) % LOG_CAP;
    if (l->log_count < LOG_CAP)
        l->log_count++;
    l->log_total++;
}

__attribute__((format(printf, 4, 5))) static void log_fmt(Lane *l, uint64_t op, LogKind kind,
                                                           const char *fmt, ...)
{
    char text[LOG_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    log_add(l, op, kind, text);
}

const LogLine *Lane_Log(const Lane *l, unsigned i)
{
    if (i >= l->log_count)
        return NULL;
    return &l->log[(l->log_head + LOG_CAP - 1 - i) % LOG_CAP];
}

const HistPoint *Lane_Hist(const Lane *l, size_t i)
{
    size_t have = l->hist_count < HIST_CAP ? l->hist_count : HIST_CAP;
    if (i >= have)
        return NULL;
    return &l->hist[(l->hist_count - 1 - i) % HIST_CAP];
}

static uint16_t per10k(double x)
{
    if (!(x > 0.0))
        return 0;
    if (x >= 1.0)
        return 10000;
    return (uint16_t)(x * 10000.0 + 0.5);
}

static void hist_add(Lane *l)
{
    HistPoint *p = &l->hist[l->hist_count % HIST_CAP];
    p->ext = per10k(l->snap.stats.external_frag);
    p->util = per10k(l->snap.stats.utilisation);
    l->hist_count++;
}

static void touch_add(Lane *l, TouchKind k, size_t off, size_t size)
{
    if (size == 0)
        return;
    if (l->ntouch == sizeof l->touch / sizeof l->touch[0])
        memmove(&l->touch[0], &l->touch[1], (l->ntouch - 1) * sizeof l->touch[0]), l->ntouch--;
    l->touch[l->ntouch++] = (Touch){k, off, size};
}

static void observe(const MemEvent *e, void *arg)
{
    Lane *l = arg;
    if (l->npending < PENDING_CAP)
        l->pending[l->npending++] = *e;
}

/* After an operation: the sentence, the touches, fresh statistics, a
 * sample; the walks go stale until someone looks. */
static void digest(Lane *l, const char *prefix)
{
    l->snap.stats = MemHeap_Stats(l->heap);
    l->stale = true;
    l->rank.valid = false;
    memcpy(l->events, l->pending, l->npending * sizeof l->pending[0]);
    l->nevents = l->npending;
    if (l->npending == 0)
        return;
    char text[LOG_LEN], said[LOG_LEN];
    LogKind kind = Explain_Events(l->pending, l->npending, said, sizeof said, l->last,
                                  sizeof l->last);
    snprintf(text, sizeof text, "%s%s", prefix ? prefix : "", said);
    log_add(l, l->pending[0].op, kind, text);
    l->ntouch = 0;
    l->touch_serial++;
    for (unsigned i = 0; i < l->npending; i++) {
        const MemEvent *e = &l->pending[i];
        switch (e->kind) {
        case MEM_EV_ALLOC:
            touch_add(l, TOUCH_ALLOC, e->block, e->size - e->remainder);
            touch_add(l, TOUCH_SPLIT, e->block + e->size - e->remainder, e->remainder);
            break;
        case MEM_EV_FREE:
            if (i + 1 < l->npending && l->pending[i + 1].kind == MEM_EV_COALESCE)
                touch_add(l, TOUCH_COALESCE, l->pending[i + 1].block, l->pending[i + 1].size);
            else
                touch_add(l, TOUCH_FREE, e->block, e->size);
            break;
        case MEM_EV_REJECT:
            touch_add(l, TOUCH_ALARM, e->block, e->size);
            break;
        case MEM_EV_FAIL:
            /* the event names the largest free block (size 0: none): it
             * was too small */
            touch_add(l, TOUCH_FAIL, e->block, e->size);
            break;
        case MEM_EV_OVERFLOW:
        case MEM_EV_COALESCE:
        case MEM_EV_ROVER:
            break;
        }
    }
    l->npending = 0;
    hist_add(l);
}

/* ---- heaps ------------------------------------------------------------------ */

int Lane_NewHeap(Lane *l)
{
    if (l->heap)
        MemHeap_Release(l->heap);
    l->heap = MemHeap_Create(l->region, l->region_size, l->policy, l->flags | MEM_OPT_NOLOCK);
    if (!l->heap)
        return -1;
    MemHeap_SetObserver(l->heap, observe, l);
    return 0;
}

static int lane_create(Lane *l, const ModelConfig *cfg, char *err, size_t errlen)
{
    if (Lane_NewHeap(l) != 0) {
        snprintf(err, errlen, "cannot create a heap of %zu bytes", l->region_size);
        return -1;
    }
    l->npending = 0;
    l->ntouch = 0;
    l->touch_serial++;
    l->hist_count = 0;
    l->last[0] = '\0';
    Lane_Refresh(l);
    hist_add(l);
    (void)cfg;
    return 0;
}

static int make_workload(Model *m, char *err, size_t errlen)
{
    if (m->wl)
        Workload_Destroy(m->wl);
    size_t capacity = m->lanes[0].snap.stats.capacity;
    m->wl = Workload_Create(m->cfg.workload, m->cfg.seed, capacity, m->cfg.trace);
    if (!m->wl) {
        snprintf(err, errlen, "cannot create the %s workload", Workload_Name(m->cfg.workload));
        return -1;
    }
    uint32_t ids = Workload_MaxIds(m->wl);
    for (unsigned i = 0; i < m->nlanes; i++) {
        Lane *l = &m->lanes[i];
        if (l->player)
            Player_Destroy(l->player);
        l->player = Player_Create(l->heap, ids ? ids : 1);
        if (!l->player) {
            snprintf(err, errlen, "out of memory for the player");
            return -1;
        }
    }
    m->steps = 0;
    m->ended = false;
    return 0;
}

static void announce(Model *m)
{
    for (unsigned i = 0; i < m->nlanes; i++) {
        Lane *l = &m->lanes[i];
        char cap[32];
        log_fmt(l, 0, LOG_INFO, "start: %s, %s workload, seed %llu, %s arena", Explain_Policy(l->policy),
                Workload_Name(m->cfg.workload), (unsigned long long)m->cfg.seed,
                Explain_Bytes(l->snap.stats.capacity, cap, sizeof cap));
    }
}

int Model_Init(Model *m, const ModelConfig *cfg, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    m->nlanes = cfg->nlanes ? cfg->nlanes : 1;
    if (m->nlanes > VIZ_LANES_MAX)
        m->nlanes = VIZ_LANES_MAX;
    if (cfg->region_size > VIZ_MODEL_MAX_REGION) {
        snprintf(err, errlen, "cannot show a region of %zu bytes: at most %zu", cfg->region_size,
                 VIZ_MODEL_MAX_REGION);
        return -1;
    }
    for (unsigned i = 0; i < m->nlanes; i++) {
        Lane *l = &m->lanes[i];
        l->policy = cfg->policies[i];
        l->flags = cfg->flags;
        l->region_size = cfg->region_size;
        void *p = mmap(NULL, l->region_size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) {
            snprintf(err, errlen, "cannot map %zu bytes: %s", l->region_size, strerror(errno));
            Model_Fini(m);
            return -1;
        }
        l->region = p;
        if (lane_create(l, cfg, err, errlen) != 0) {
            Model_Fini(m);
            return -1;
        }
    }
    if (make_workload(m, err, errlen) != 0) {
        Model_Fini(m);
        return -1;
    }
    announce(m);
    m->hist = History_Create();
    if (!m->hist || History_Reset(m->hist, m) != 0) {
        snprintf(err, errlen, "out of memory for the history");
        Model_Fini(m);
        return -1;
    }
    return 0;
}

void Model_Fini(Model *m)
{
    History_Destroy(m->hist);
    m->hist = NULL;
    if (m->wl)
        Workload_Destroy(m->wl);
    m->wl = NULL;
    for (unsigned i = 0; i < m->nlanes; i++) {
        Lane *l = &m->lanes[i];
        if (l->player)
            Player_Destroy(l->player);
        if (l->heap)
            MemHeap_Release(l->heap);
        if (l->region)
            munmap(l->region, l->region_size);
        free(l->snap.blocks);
        memset(l, 0, sizeof *l);
    }
    m->nlanes = 0;
}

int Model_Restart(Model *m, char *err, size_t errlen)
{
    for (unsigned i = 0; i < m->nlanes; i++) {
        if (lane_create(&m->lanes[i], &m->cfg, err, errlen) != 0)
            return -1;
    }
    if (make_workload(m, err, errlen) != 0)
        return -1;
    announce(m);
    if (m->hist && History_Reset(m->hist, m) != 0) {
        snprintf(err, errlen, "out of memory for the history");
        return -1;
    }
    return 0;
}

int Model_SetPolicy(Model *m, MemPolicy policy, char *err, size_t errlen)
{
    m->lanes[0].policy = policy;
    m->cfg.policies[0] = policy;
    return Model_Restart(m, err, errlen);
}

int Model_SetWorkload(Model *m, WorkloadKind kind, char *err, size_t errlen)
{
    if (kind == WL_TRACE && !m->cfg.trace) {
        snprintf(err, errlen, "no trace loaded (--trace FILE)");
        return -1;
    }
    m->cfg.workload = kind;
    return Model_Restart(m, err, errlen);
}

/* ---- operations --------------------------------------------------------------- */

static const char *op_name(OpKind k)
{
    return k == OP_ALLOC ? "alloc" : k == OP_FREE ? "free" : "realloc";
}

/* Records an operation just applied (nothing while the history replays). */
static void record(Model *m, HistKind kind, unsigned lane, uint64_t arg, uint32_t n,
                   const HistTyped *typed)
{
    HistEntry e;
    memset(&e, 0, sizeof e);
    e.kind = (uint8_t)kind;
    e.lane = (uint8_t)lane;
    e.arg = arg;
    e.n = n;
    History_Record(m->hist, m, e, typed);
}

static uint32_t offset_of(const Lane *l, const void *p)
{
    return p ? (uint32_t)((uintptr_t)p - (uintptr_t)l->snap.region.base) : UINT32_MAX;
}

bool Model_Step(Model *m)
{
    if (m->hist && History_Redo(m->hist, m))
        return true;
    if (m->ended || !m->wl)
        return false;
    Op op;
    uint64_t index = m->steps;
    if (!(m->hist ? History_WorkloadOp(m->hist, m->wl, index, &op) : Workload_Next(m->wl, &op))) {
        m->ended = true;
        for (unsigned i = 0; i < m->nlanes; i++)
            log_fmt(&m->lanes[i], 0, LOG_INFO, "the trace has ended after %llu operations",
                    (unsigned long long)m->steps);
        return false;
    }
    Model_ApplyOp(m, &op);
    record(m, H_STEP, H_ALL_LANES, index, 0, NULL);
    return true;
}

void Model_ApplyOp(Model *m, const Op *opp)
{
    Op op = *opp;
    m->steps++;
    for (unsigned i = 0; i < m->nlanes; i++) {
        Lane *l = &m->lanes[i];
        Step st;
        memset(&st, 0, sizeof st);
        l->npending = 0;
        StepResult r = Player_Apply(l->player, &op, &st);
        uint64_t next_op = l->snap.stats.ops + 1;
        /* a trace's realloc is an allocation, a copy and a free: one line */
        digest(l, op.kind == OP_REALLOC ? "realloc (alloc, copy, free): " : NULL);
        if (r == STEP_SKIPPED) {
            log_fmt(l, 0, LOG_INFO, "%s of id %u skipped: it holds no object (its allocation "
                                    "failed)", op_name(op.kind), op.id);
            snprintf(l->last, sizeof l->last, "%s id %u skipped", op_name(op.kind), op.id);
        } else if (r == STEP_CORRUPT) {
            log_fmt(l, next_op, LOG_ALARM, "the object of id %u had been overwritten before "
                                           "this %s", op.id, op_name(op.kind));
        }
    }
}

static void *alloc_in(Lane *l, size_t size)
{
    l->npending = 0;
    void *p = MemHeap_Alloc(l->heap, size);
    digest(l, NULL);
    return p;
}

void *Model_Alloc(Model *m, unsigned lane, size_t size)
{
    HistTyped t;
    memset(&t, 0xff, sizeof t);
    void *p = alloc_in(&m->lanes[lane], size);
    t.object[lane] = offset_of(&m->lanes[lane], p);
    record(m, H_ALLOC, lane, size, 0, &t);
    return p;
}

void Model_AllocAll(Model *m, size_t size, void **out)
{
    HistTyped t;
    memset(&t, 0xff, sizeof t);
    for (unsigned i = 0; i < m->nlanes; i++) {
        void *p = alloc_in(&m->lanes[i], size);
        t.object[i] = offset_of(&m->lanes[i], p);
        if (out)
            out[i] = p;
    }
    record(m, H_ALLOC, H_ALL_LANES, size, 0, &t);
}

int Model_FreeAt(Model *m, unsigned lane, size_t offset, size_t *object, size_t *size)
{
    Lane *l = &m->lanes[lane];
    void *ptr = (void *)((uintptr_t)l->snap.region.base + offset);
    size_t objsize = 0;
    void *obj = MemHeap_Find(l->heap, ptr, &objsize);
    l->npending = 0;
    HistTyped t;
    memset(&t, 0xff, sizeof t);
    int r = MemHeap_Free(l->heap, ptr);
    if (r == MEM_OK && obj) {
        t.object[lane] = offset_of(l, obj);
        if (!Player_IdOf(l->player, obj, &t.wid))
            t.wid = UINT32_MAX;
        Player_Forget(l->player, obj);
        if (object)
            *object = (size_t)((uintptr_t)obj - (uintptr_t)l->snap.region.base);
        if (size)
            *size = objsize;
    }
    digest(l, NULL);
    record(m, H_FREE, lane, offset, 0, &t);
    return r;
}

size_t Model_Overflow(Model *m, unsigned lane, size_t block_offset, size_t n)
{
    Lane *l = &m->lanes[lane];
    Lane_Sync(l);
    long bi = Snapshot_BlockAt(&l->snap, block_offset);
    if (bi < 0)
        return 0;
    MemBlock b = Snapshot_Block(&l->snap, (size_t)bi);
    if (!b.used || b.padding == 0)
        return 0;
    size_t objsize = 0;
    unsigned char *obj = MemHeap_Find(
        l->heap, (unsigned char *)l->snap.region.base + b.offset + b.header, &objsize);
    if (!obj)
        return 0;
    if (n > b.padding)
        n = b.padding;
    static const char mark[] = "OVERFLOW";
#ifdef VIZ_ASAN
    /* The library keeps padding poisoned; this overflow is deliberate. */
    __asan_unpoison_memory_region(obj + objsize, n);
#endif
    for (size_t i = 0; i < n; i++)
        obj[objsize + i] = (unsigned char)mark[i % (sizeof mark - 1)];
#ifdef VIZ_ASAN
    __asan_poison_memory_region(obj + objsize, n);
#endif
    Lane_Refresh(l);
    char s1[32], s2[32];
    bool guard = (l->flags & MEM_OPT_GUARD) != 0;
    log_fmt(l, 0, LOG_ALARM,
            "you wrote %s past the end of the %s object at +0x%zx, into its padding%s",
            Explain_Bytes(n, s1, sizeof s1), Explain_Bytes(objsize, s2, sizeof s2),
            b.offset + b.header,
            guard ? ": its guard is broken, and freeing it will say so"
                  : ": without --guard nothing notices");
    snprintf(l->last, sizeof l->last, "overflow +0x%zx by %zu B", b.offset + b.header, n);
    l->ntouch = 0;
    l->touch_serial++;
    touch_add(l, TOUCH_ALARM, b.offset, b.size);
    record(m, H_OVERFLOW, lane, block_offset, (uint32_t)n, NULL);
    return n;
}

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

/* Room for one more element in the array v (n in use, *cap allocated, of
 * `size` bytes each): v itself, or v doubled (from `first`) with *cap set;
 * NULL when out of memory, and then v and *cap are as they were. */
static void *grow(void *v, size_t n, size_t *cap, size_t size, size_t first)
{
    if (v && n < *cap)
        return v;
    size_t c = *cap ? *cap * 2 : first;
    void *p = realloc(v, c * size);
    if (p)
        *cap = c;
    return p;
}

static bool push_block(Snapshot *s, SnapBlock sb)
{
    SnapBlock *v = grow(s->blocks, s->nblocks, &s->cap_blocks, sizeof *v, 256);
    if (!v)
        return false;
    s->blocks = v;
    s->blocks[s->nblocks++] = sb;
    return true;
}

typedef struct Collect {
    Snapshot *s;
    const MemHeap *h;
    bool ok;
    const Lane *l;
    unsigned left; /* blocks before walk_go_on is asked again */
} Collect;

static bool slot_piece(const MemSlot *sl, void *arg)
{
    Collect *c = arg;
    c->ok = push_block(c->s, (SnapBlock){(uint32_t)sl->offset, (uint32_t)sl->size,
                                         (uint32_t)sl->object, 0, sl->live, false});
    return c->ok;
}

/* A run: its record, then its pieces (SnapRun); false when out of memory
 * or when its slots do not fill it as its walk record says. */
static bool collect_run(Collect *c, const MemBlock *b)
{
    Snapshot *s = c->s;
    size_t slots_end = b->slot_offset + b->slots * b->slot_size;
    if (b->slots == 0 || b->slot_offset <= b->offset || slots_end > b->offset + b->size)
        return push_block(s, (SnapBlock){(uint32_t)b->offset, (uint32_t)b->size, 0,
                                         (uint16_t)(b->size < UINT16_MAX ? b->size : 0), true,
                                         false}); /* damaged: one table piece */
    SnapRun *runs = grow(s->runs, s->nruns, &s->cap_runs, sizeof *runs, 64);
    if (!runs)
        return false;
    s->runs = runs;
    s->runs[s->nruns++] = (SnapRun){(uint32_t)b->offset, (uint32_t)b->size,
                                    (uint32_t)b->slot_offset, (uint32_t)b->slot_size,
                                    (uint32_t)b->slots, (uint32_t)b->live_slots, b->run_class};
    size_t head = b->slot_offset - b->offset;
    if (!push_block(s, (SnapBlock){(uint32_t)b->offset, (uint32_t)head, 0, (uint16_t)head, true,
                                   false}))
        return false;
    size_t before = s->nblocks;
    c->ok = true;
    MemHeap_WalkSlots(c->h, b->offset, slot_piece, c);
    if (!c->ok || s->nblocks - before != b->slots)
        return false;
    if (slots_end < b->offset + b->size)
        return push_block(s, (SnapBlock){(uint32_t)slots_end,
                                         (uint32_t)(b->offset + b->size - slots_end), 0, 0, true,
                                         false});
    return true;
}

/* The walk's visitor: one SnapBlock a block (a run: its pieces), into room
 * made beforehand (doubled when the heap has more blocks than its
 * statistics said). */
static bool collect(const MemBlock *b, void *arg)
{
    Collect *c = arg;
    Snapshot *s = c->s;
    if (b->offset + b->size > UINT32_MAX || b->header > UINT16_MAX)
        return false; /* not below VIZ_MODEL_MAX_REGION: cannot happen */
    if (c->l->walk_go_on && --c->left == 0) {
        c->left = LANE_WALK_CHECK;
        if (!c->l->walk_go_on(c->l->walk_arg))
            return false;
    }
    if (b->run)
        return collect_run(c, b);
    return push_block(s, (SnapBlock){(uint32_t)b->offset, (uint32_t)b->size,
                                     (uint32_t)b->object, (uint16_t)b->header, b->used,
                                     b->overflowed});
}

unsigned Free_Class(size_t size)
{
    unsigned k = 0;
    while (k + 1 < FREE_CLASSES && size >= ((size_t)MEM_MIN_BLOCK << (k + 1)))
        k++;
    return k;
}

/* The histogram and the tail-free fragmentation, from the blocks just walked. */
static void summarise(Lane *l)
{
    FreeSummary *f = &l->free;
    memset(f, 0, sizeof *f);
    const Snapshot *s = &l->snap;
    for (size_t i = 0; i < s->nblocks; i++) {
        const SnapBlock *b = &s->blocks[i];
        if (b->used || Snap_InRun(b))
            continue; /* a free slot is free only to its run's class */
        f->count[Free_Class(b->size)]++;
        size_t end = (size_t)b->offset + b->size;
        size_t below = end <= l->high_water ? b->size
                       : b->offset < l->high_water ? l->high_water - b->offset : 0;
        f->touched_free += below;
        if (below > f->touched_largest)
            f->touched_largest = below;
    }
    f->frag_no_tail = f->touched_free
                          ? 1.0 - (double)f->touched_largest / (double)f->touched_free
                          : 0.0;
}

void Lane_Refresh(Lane *l)
{
    Snapshot *s = &l->snap;
    s->region = MemHeap_Region(l->heap);
    s->stats = MemHeap_Stats(l->heap);
    s->nblocks = 0;
    s->nruns = 0;
    /* room for every block at once: the walk then only copies (a run is
     * its table, its slots and its tail) */
    size_t want = s->stats.used_blocks + s->stats.free_blocks + s->stats.run_free_slots +
                  2 * s->stats.runs;
    if (want > s->cap_blocks) {
        SnapBlock *v = realloc(s->blocks, want * sizeof *v);
        if (v) {
            s->blocks = v;
            s->cap_blocks = want;
        }
    }
    Collect c = {s, l->heap, true, l, LANE_WALK_CHECK};
    MemHeap_Walk(l->heap, collect, &c);
    static uint64_t walks; /* heapviz draws from one thread */
    s->serial = ++walks;
    summarise(l);
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
    const SnapRun *r = Snap_InRun(b) ? Snapshot_RunAt(s, b->offset) : NULL;
    if (r) {
        m.run = true;
        m.run_class = r->cls;
        m.slot_size = r->slot_size;
        m.slots = r->slots;
        m.live_slots = r->live;
        m.slot_offset = r->slot_offset;
    }
    return m;
}

const SnapRun *Snapshot_RunAt(const Snapshot *s, size_t offset)
{
    size_t lo = 0, hi = s->nruns;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const SnapRun *r = &s->runs[mid];
        if (offset < r->offset)
            hi = mid;
        else if (offset >= (size_t)r->offset + r->size)
            lo = mid + 1;
        else
            return r;
    }
    return NULL;
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
static void digest(Lane *l, const char *prefix, uint64_t op)
{
    l->snap.stats = MemHeap_Stats(l->heap);
    l->stale = true;
    l->rank.valid = false;
    memcpy(l->events, l->pending, l->npending * sizeof l->pending[0]);
    l->nevents = l->npending;
    if (l->npending == 0)
        return;
    char text[LOG_LEN], said[LOG_LEN];
    LogKind kind = Explain_Events(l->pending, l->npending, l->flags, l->coalesce, said, sizeof said, l->last,
                                  sizeof l->last);
    snprintf(text, sizeof text, "%s%s", prefix ? prefix : "", said);
    log_add(l, op, kind, text);
    l->ntouch = 0;
    l->touch_serial++;
    for (unsigned i = 0; i < l->npending; i++) {
        const MemEvent *e = &l->pending[i];
        switch (e->kind) {
        case MEM_EV_ALLOC:
            if (e->block + e->size - e->remainder > l->high_water)
                l->high_water = e->block + e->size - e->remainder;
            touch_add(l, TOUCH_ALLOC, e->block, e->size - e->remainder);
            touch_add(l, TOUCH_SPLIT, e->block + e->size - e->remainder, e->remainder);
            break;
        case MEM_EV_FREE:
            if (i + 1 < l->npending && (l->pending[i + 1].kind == MEM_EV_COALESCE ||
                                        l->pending[i + 1].kind == MEM_EV_MERGE))
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
        case MEM_EV_RUN_RELEASE:
            if (!(i + 1 < l->npending && l->pending[i + 1].kind == MEM_EV_COALESCE))
                touch_add(l, TOUCH_FREE, e->block, e->size);
            break;
        case MEM_EV_RESIZE:
            touch_add(l, TOUCH_ALLOC, e->block, e->size);
            touch_add(l, TOUCH_SPLIT, e->block + e->size, e->remainder);
            break;
        case MEM_EV_COALESCE:
            if (i > 0 && l->pending[i - 1].kind == MEM_EV_RUN_RELEASE)
                touch_add(l, TOUCH_COALESCE, e->block, e->size);
            break;
        case MEM_EV_OVERFLOW:
        case MEM_EV_RUN_NEW:
        case MEM_EV_ROVER:
        case MEM_EV_COALESCE_ALL:
            /* the largest free block the deferred coalesce left */
            if (e->block != SIZE_MAX)
                touch_add(l, TOUCH_COALESCE, e->block, e->size);
            break;
        case MEM_EV_SPLIT: /* its ALLOC touches the halves split off */
        case MEM_EV_MERGE:
            break;
        }
    }
    l->npending = 0;
    hist_add(l);
}

/* ---- heaps ------------------------------------------------------------------ */

int Lane_NewHeap(Lane *l, const ModelConfig *cfg)
{
    if (l->heap)
        MemHeap_Release(l->heap);
    /* the knobs are the list policies' (fast and buddy keep their own) */
    bool list = l->policy < MEM_FAST;
    MemOptions o = {l->policy, l->flags | MEM_OPT_NOLOCK,
                    list ? cfg->order : MEM_ORDER_ADDRESS,
                    list ? cfg->coalesce : MEM_COALESCE_NOW};
    l->heap = MemHeap_CreateEx(l->region, l->region_size, &o);
    if (!l->heap)
        return -1;
    l->coalesce = o.coalesce;
    MemHeap_SetObserver(l->heap, observe, l);
    return 0;
}

static int lane_create(Lane *l, const ModelConfig *cfg, char *err, size_t errlen)
{
    if (Lane_NewHeap(l, cfg) != 0) {
        snprintf(err, errlen, "cannot create a heap of %zu bytes", l->region_size);
        return -1;
    }
    l->npending = 0;
    l->nevents = 0;
    l->ntouch = 0;
    l->touch_serial++;
    l->hist_count = 0;
    l->high_water = 0;
    l->log_head = l->log_count = 0;
    l->last[0] = '\0';
    Lane_Refresh(l);
    hist_add(l);
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
        /* objects scale with the arena: at 1 GiB filling them whole would
         * touch most of it; what heapviz draws needs their ends only */
        Player_SetWindow(l->player, VIZ_PLAYER_WINDOW);
    }
    m->steps = 0;
    m->ops = 0;
    m->ended = false;
    m->have_next = false;
    m->next_typed = 0;
    for (size_t i = 0; i < (size_t)m->cap_obj * VIZ_LANES_MAX; i++)
        m->typed_obj[i] = SIZE_MAX;
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

void Lane_Live(Lane *l, MemHeap *view)
{
    l->heap = view;
    l->policy = MemHeap_Region(view).policy;
    Lane_Refresh(l);
}

void Lane_Feed(Lane *l, const MemEvent *ev, unsigned n)
{
    l->npending = 0;
    for (unsigned i = 0; i < n; i++)
        observe(&ev[i], l);
    digest(l, NULL, n ? ev[0].op : 0);
    l->stale = false; /* the caller re-took the snapshot, consistently */
}

int Model_Init(Model *m, const ModelConfig *cfg, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    if (cfg->live) {
        m->nlanes = 1;
        return 0;
    }
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
        if (l->heap && l->region)
            MemHeap_Release(l->heap);
        if (l->region)
            munmap(l->region, l->region_size);
        free(l->snap.blocks);
        free(l->snap.runs);
        memset(l, 0, sizeof *l);
    }
    m->nlanes = 0;
    free(m->typed);
    free(m->typed_obj);
    m->typed = NULL;
    m->typed_obj = NULL;
    m->ntyped = m->cap_typed = m->next_typed = 0;
    m->cap_obj = 0;
}

/* Fresh heaps and the workload from its seed: operation 0. */
static int restart(Model *m, char *err, size_t errlen)
{
    if (m->cfg.live) {
        snprintf(err, errlen, "live: the program's heap is not heapviz's to change");
        return -1;
    }
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

static const TypedOp *due(const Model *m);

int Model_Restart(Model *m, char *err, size_t errlen)
{
    if (restart(m, err, errlen) != 0)
        return -1;
    while (due(m))
        Model_Step(m);
    return 0;
}

int Model_Replay(Model *m, uint64_t ops, char *err, size_t errlen)
{
    if (restart(m, err, errlen) != 0)
        return -1;
    while (m->ops < ops && Model_Step(m))
        ;
    return 0;
}

char *Model_Knobs(const Model *m, char *buf, size_t len)
{
    bool listed = false;
    for (unsigned i = 0; i < m->nlanes; i++)
        listed |= m->lanes[i].policy < MEM_FAST;
    Explain_Knobs(m->cfg.order, m->cfg.coalesce, buf, len);
    if (!listed && len)
        buf[0] = '\0';
    return buf;
}

int Model_SetLanePolicy(Model *m, unsigned lane, MemPolicy policy, char *err, size_t errlen)
{
    if (lane >= m->nlanes || (unsigned)policy >= MEM_POLICY_COUNT) {
        snprintf(err, errlen, "no lane %u or no policy %d", lane, (int)policy);
        return -1;
    }
    m->lanes[lane].policy = policy;
    m->cfg.policies[lane] = policy;
    return Model_Restart(m, err, errlen);
}

int Model_SetPolicy(Model *m, MemPolicy policy, char *err, size_t errlen)
{
    return Model_SetLanePolicy(m, 0, policy, err, errlen);
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

/* What a typed operation did in one lane. */
typedef struct Outcome {
    int status;      /* ALLOC: 0 or -1 (failed); FREE: MEM_OK, a MemReject, or
                        -1 (skipped: the object it names is not there);
                        OVERFLOW: bytes written */
    size_t object;   /* the object concerned, SIZE_MAX: none */
    size_t size;     /* its requested size */
} Outcome;

/* ---- operations --------------------------------------------------------------- */

static const char *op_name(OpKind k)
{
    return k == OP_ALLOC ? "alloc" : k == OP_FREE ? "free" : "realloc";
}

static Outcome apply(Model *m, const TypedOp *op, unsigned lane);

/* The typed operation due now, or NULL. */
static const TypedOp *due(const Model *m)
{
    if (m->next_typed < m->ntyped && m->typed[m->next_typed].after <= m->steps)
        return &m->typed[m->next_typed];
    return NULL;
}

/* The workload's next operation, taken ahead; false at a trace's end. */
static bool peek_workload(Model *m)
{
    if (!m->have_next && !m->ended && m->wl)
        m->have_next = Workload_Next(m->wl, &m->next);
    return m->have_next;
}

bool Model_Peek(Model *m, const TypedOp **typed, Op *op)
{
    *typed = due(m);
    if (*typed)
        return true;
    if (!peek_workload(m))
        return false;
    *op = m->next;
    return true;
}

bool Model_Step(Model *m)
{
    if (due(m)) {
        apply(m, &m->typed[m->next_typed++], 0);
        History_Note(m->hist, m);
        return true;
    }
    if (m->ended || !m->wl)
        return false;
    if (!peek_workload(m)) {
        m->ended = true;
        for (unsigned i = 0; i < m->nlanes; i++)
            log_fmt(&m->lanes[i], 0, LOG_INFO, "the trace has ended after %llu operations",
                    (unsigned long long)m->steps);
        return false;
    }
    Op op = m->next;
    m->have_next = false;
    m->steps++;
    uint64_t no = ++m->ops;
    for (unsigned i = 0; i < m->nlanes; i++) {
        Lane *l = &m->lanes[i];
        Step st;
        memset(&st, 0, sizeof st);
        l->npending = 0;
        StepResult r = Player_Apply(l->player, &op, &st);
        /* a trace's realloc is an allocation, a copy and a free: one line */
        digest(l, op.kind == OP_REALLOC ? "realloc (alloc, copy, free): " : NULL, no);
        if (r == STEP_SKIPPED) {
            log_fmt(l, no, LOG_INFO, "%s of id %u skipped: it holds no object (its allocation "
                                     "failed, or you freed it)", op_name(op.kind), op.id);
            snprintf(l->last, sizeof l->last, "%s id %u skipped", op_name(op.kind), op.id);
        } else if (r == STEP_CORRUPT) {
            log_fmt(l, no, LOG_ALARM, "the object of id %u had been overwritten before "
                                      "this %s", op.id, op_name(op.kind));
        }
    }
    History_Note(m->hist, m);
    return true;
}

/* ---- the user's operations ----------------------------------------------------- */

const TypedOp *Model_TypedOps(const Model *m, size_t *n)
{
    *n = m->ntyped;
    return m->typed;
}

static void *at(const Lane *l, size_t offset)
{
    return (void *)((uintptr_t)l->snap.region.base + offset);
}

static size_t offset_of(const Lane *l, const void *p)
{
    return (size_t)((uintptr_t)p - (uintptr_t)l->snap.region.base);
}

static size_t *typed_slot(Model *m, uint32_t no, unsigned lane)
{
    return no < m->cap_obj ? &m->typed_obj[(size_t)no * VIZ_LANES_MAX + lane] : NULL;
}

/* Typed allocations whose object was `obj` in lane `lane` hold nothing now. */
static void typed_forget(Model *m, unsigned lane, size_t obj)
{
    for (uint32_t no = 0; no < m->cap_obj; no++) {
        size_t *s = typed_slot(m, no, lane);
        if (*s == obj)
            *s = SIZE_MAX;
    }
}

/* The byte of lane i that op goes through, or NULL when the object it
 * names is not there; *obj gets the offset of the live object holding that
 * byte (SIZE_MAX: none, as for a free the library will refuse). */
static void *target(Model *m, const TypedOp *op, unsigned i, size_t *obj)
{
    Lane *l = &m->lanes[i];
    void *o = NULL;
    *obj = SIZE_MAX;
    if (op->target == TARGET_OFFSET) {
        void *p = at(l, op->offset);
        o = MemHeap_Find(l->heap, p, NULL);
        if (o)
            *obj = offset_of(l, o);
        return p;
    }
    if (op->target == TARGET_TYPED) {
        size_t *s = typed_slot(m, op->id, i);
        if (s && *s != SIZE_MAX)
            o = at(l, *s);
    } else {
        o = Player_Object(l->player, op->id, NULL);
    }
    if (!o)
        return NULL;
    *obj = offset_of(l, o);
    return (unsigned char *)o + op->offset;
}

static const char *target_name(const TypedOp *op, char *buf, size_t len)
{
    if (op->target == TARGET_TYPED)
        snprintf(buf, len, "your allocation #%u", op->id + 1);
    else if (op->target == TARGET_WORKLOAD)
        snprintf(buf, len, "the workload's id %u", op->id);
    else
        snprintf(buf, len, "+0x%zx", op->offset);
    return buf;
}

/* Writes n bytes into the padding after the object of block bi of lane l. */
static size_t overflow_block(Lane *l, size_t bi, size_t n, uint64_t no)
{
    MemBlock b = Snapshot_Block(&l->snap, bi);
    if (!b.used || b.padding == 0)
        return 0;
    size_t objsize = 0;
    unsigned char *obj = MemHeap_Find(l->heap, at(l, b.offset + b.header), &objsize);
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
    char s1[32];
    bool guard = (l->flags & MEM_OPT_GUARD) != 0;
    log_fmt(l, no, LOG_ALARM,
            "you wrote %zu B past the end of the %s object at +0x%zx, into its padding%s", n,
            Explain_Exact(objsize, s1, sizeof s1), b.offset + b.header,
            guard ? ": its guard is broken, and freeing it will say so"
                  : ": without --guard nothing notices");
    snprintf(l->last, sizeof l->last, "overflow +0x%zx by %zu B", b.offset + b.header, n);
    l->ntouch = 0;
    l->touch_serial++;
    touch_add(l, TOUCH_ALARM, b.offset, b.size);
    return n;
}


static Outcome apply_lane(Model *m, const TypedOp *op, unsigned i, uint64_t no)
{
    Lane *l = &m->lanes[i];
    Outcome r = {-1, SIZE_MAX, 0};
    char who[48];
    l->npending = 0;
    if (op->kind == TYPED_ALLOC) {
        void *p = MemHeap_Alloc(l->heap, op->size);
        size_t *s = typed_slot(m, op->no, i);
        if (p) {
            r = (Outcome){0, offset_of(l, p), op->size};
            if (s)
                *s = r.object;
        }
        digest(l, NULL, no);
        return r;
    }
    size_t obj;
    unsigned char *p = target(m, op, i, &obj);
    if (!p) {
        log_fmt(l, no, LOG_INFO, "%s of %s skipped: it holds no object",
                op->kind == TYPED_FREE ? "free" : "overflow", target_name(op, who, sizeof who));
        snprintf(l->last, sizeof l->last, "%s skipped", target_name(op, who, sizeof who));
        return r;
    }
    if (op->kind == TYPED_OVERFLOW) {
        Lane_Sync(l);
        long bi = obj == SIZE_MAX ? -1 : Snapshot_BlockAt(&l->snap, obj);
        r.status = bi < 0 ? 0 : (int)overflow_block(l, (size_t)bi, op->size, no);
        r.object = obj;
        return r;
    }
    size_t size = 0;
    MemHeap_Find(l->heap, p, &size);
    r.status = MemHeap_Free(l->heap, p);
    if (r.status == MEM_OK && obj != SIZE_MAX) {
        Player_Forget(l->player, at(l, obj));
        typed_forget(m, i, obj);
        r.object = obj;
        r.size = size;
    }
    digest(l, NULL, no);
    return r;
}

/* Applies op as operation number ++ops: in every lane, or its own. */
static Outcome apply(Model *m, const TypedOp *op, unsigned lane)
{
    uint64_t no = ++m->ops;
    Outcome mine = {-1, SIZE_MAX, 0};
    for (unsigned i = 0; i < m->nlanes; i++) {
        if (op->target == TARGET_OFFSET && op->kind != TYPED_ALLOC && i != op->lane)
            continue;
        Outcome r = apply_lane(m, op, i, no);
        if (i == lane)
            mine = r;
    }
    return mine;
}

/* Keeps op (numbered) where it applies: after the typed operations already
 * applied in this run, before those still to come.  Returns the kept copy,
 * or NULL when out of memory (then it is applied but not kept). */
static const TypedOp *keep(Model *m, TypedOp op)
{
    /* typed in the past (after time travel): the positions after this one
     * are no longer what the history kept */
    History_Fork(m->hist, m);
    /* typed_obj has a row of VIZ_LANES_MAX offsets for each number */
    size_t rows = m->cap_obj, was = rows;
    TypedOp *t = grow(m->typed, m->ntyped, &m->cap_typed, sizeof *t, 16);
    if (!t)
        return NULL;
    m->typed = t;
    size_t *o = grow(m->typed_obj, m->ntyped, &rows, VIZ_LANES_MAX * sizeof *o, 16);
    if (!o)
        return NULL;
    for (size_t i = was * VIZ_LANES_MAX; i < rows * VIZ_LANES_MAX; i++)
        o[i] = SIZE_MAX;
    m->typed_obj = o;
    m->cap_obj = (uint32_t)rows;
    op.no = (uint32_t)m->ntyped;
    op.after = m->steps;
    TypedOp *slot = &m->typed[m->next_typed];
    memmove(slot + 1, slot, (m->ntyped - m->next_typed) * sizeof *slot);
    *slot = op;
    m->ntyped++;
    m->next_typed++;
    return slot;
}

static Outcome type_op(Model *m, TypedOp op, unsigned lane)
{
    const TypedOp *k = keep(m, op);
    if (!k)
        History_Lost(m->hist); /* a replay would miss it */
    Outcome r = apply(m, k ? k : &op, lane);
    History_Note(m->hist, m);
    return r;
}

void *Model_Alloc(Model *m, unsigned lane, size_t size)
{
    TypedOp op = {.kind = TYPED_ALLOC, .size = size, .lane = lane};
    Outcome r = type_op(m, op, lane);
    return r.status == 0 ? at(&m->lanes[lane], r.object) : NULL;
}

/* The operation that names the object holding byte `offset` of lane `lane`
 * by what it is (see TypedOp). */
static TypedOp name_target(Model *m, TypedKind kind, unsigned lane, size_t offset)
{
    Lane *l = &m->lanes[lane];
    TypedOp op = {.kind = kind, .target = TARGET_OFFSET, .offset = offset, .lane = lane};
    void *o = MemHeap_Find(l->heap, at(l, offset), NULL);
    if (!o)
        return op;
    size_t obj = offset_of(l, o), inside = offset - obj;
    for (uint32_t no = 0; no < m->cap_obj; no++)
        if (*typed_slot(m, no, lane) == obj) {
            op.target = TARGET_TYPED;
            op.id = no;
            op.offset = inside;
            return op;
        }
    uint32_t id;
    if (Player_IdOf(l->player, o, &id)) {
        op.target = TARGET_WORKLOAD;
        op.id = id;
        op.offset = inside;
    }
    return op;
}

int Model_FreeAt(Model *m, unsigned lane, size_t offset, size_t *object, size_t *size)
{
    Outcome r = type_op(m, name_target(m, TYPED_FREE, lane, offset), lane);
    if (r.status == MEM_OK) {
        if (object)
            *object = r.object;
        if (size)
            *size = r.size;
    }
    return r.status;
}

size_t Model_Overflow(Model *m, unsigned lane, size_t block_offset, size_t n)
{
    Lane *l = &m->lanes[lane];
    Lane_Sync(l);
    long bi = Snapshot_BlockAt(&l->snap, block_offset);
    if (bi < 0 || !l->snap.blocks[bi].used)
        return 0;
    MemBlock b = Snapshot_Block(&l->snap, (size_t)bi);
    if (b.padding == 0)
        return 0;
    TypedOp op = name_target(m, TYPED_OVERFLOW, lane, b.offset + b.header);
    op.size = n;
    Outcome r = type_op(m, op, lane);
    return r.status > 0 ? (size_t)r.status : 0;
}

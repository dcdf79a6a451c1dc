/*
 * history.c - the operation journal and its checkpoints (see history.h).
 *
 * Positions are absolute: entry i of the journal is operation first + i;
 * checkpoint positions are absolute too, ascending.  The checkpoint at
 * `first` is always kept (it is where every replay can start).  A
 * checkpoint's bytes, per lane in order:
 *
 *   [Lane record][player state][heap image]
 *
 * The Lane record is the whole struct; restoring it keeps the lane's own
 * resources (region, heap, player, snapshot buffer), which are the same
 * objects at every position.
 *
 * The checkpoint at position 0 holds no heap image and no player state: the
 * heaps are fresh there and the players empty, and a fresh heap over the
 * same region is made again on restore.
 * Other checkpoints are taken only while one stays below 1/MIN_CHECKPOINTS
 * of the budget; for larger heaps (above 8 MiB in all) every travel replays
 * from position 0, and memory stays what heapviz needs without travel.
 */
#include "history.h"

#include "heapimage.h"

#include <stdlib.h>
#include <string.h>

#define FIRST_EVERY 32u
#define MIN_CHECKPOINTS 8u

typedef struct Checkpoint {
    size_t pos;
    uint64_t steps;        /* the model's workload position */
    bool ended;
    bool fresh;            /* no heap images: the heaps were just created */
    unsigned char *data;
    size_t size;
} Checkpoint;

struct History {
    HistEntry *e;
    size_t len, cap;       /* entries: operations first .. first + len - 1 */
    size_t first;          /* the position of e[0] */
    size_t pos;            /* the position shown */
    HistTyped *typed;
    size_t ntyped, cap_typed;
    Op *wl;                /* the workload's operations wl_first .. */
    size_t nwl, cap_wl;
    uint64_t wl_first;
    Checkpoint *cp;
    size_t ncp, cap_cp;
    size_t every;          /* checkpoints at multiples of this (and `first`) */
    size_t bytes;          /* in all checkpoints */
    bool replaying;
    bool broken;           /* out of memory: no travel until the next reset */
    size_t view_sel;       /* the UI's selection now */
    unsigned view_lane;
    size_t last_sel;       /* the selection kept with the present position */
    unsigned last_lane;
};

History *History_Create(void)
{
    History *h = calloc(1, sizeof *h);
    if (h) {
        h->view_sel = h->last_sel = SIZE_MAX;
        h->every = FIRST_EVERY;
    }
    return h;
}

static void drop_checkpoints(History *h, size_t from)
{
    for (size_t i = from; i < h->ncp; i++) {
        h->bytes -= h->cp[i].size;
        free(h->cp[i].data);
    }
    if (from < h->ncp)
        h->ncp = from;
}

void History_Destroy(History *h)
{
    if (!h)
        return;
    drop_checkpoints(h, 0);
    free(h->cp);
    free(h->e);
    free(h->typed);
    free(h->wl);
    free(h);
}

/* ---- checkpoints ------------------------------------------------------ */

static size_t lane_bytes(const Lane *l, bool fresh)
{
    return sizeof(Lane) + (fresh ? 0 : Player_StateSize(l->player) + HeapImage_Size(l));
}

/* Takes a checkpoint of the present; 0 also when one is not worth taking
 * (too large), -1 when out of memory or when the first of a history that
 * does not start from fresh heaps would be too large. */
static int checkpoint(History *h, Model *m)
{
    bool fresh = h->pos == 0;
    size_t size = 0;
    for (unsigned i = 0; i < m->nlanes; i++)
        size += lane_bytes(&m->lanes[i], fresh);
    if (!fresh && size > HIST_BUDGET / MIN_CHECKPOINTS)
        return h->ncp ? 0 : -1;
    if (h->ncp == h->cap_cp) {
        size_t cap = h->cap_cp ? h->cap_cp * 2 : 64;
        Checkpoint *v = realloc(h->cp, cap * sizeof *v);
        if (!v)
            return -1;
        h->cp = v;
        h->cap_cp = cap;
    }
    unsigned char *d = malloc(size), *p = d;
    if (!d)
        return -1;
    for (unsigned i = 0; i < m->nlanes; i++) {
        const Lane *l = &m->lanes[i];
        memcpy(p, l, sizeof *l);
        p += sizeof *l;
        if (!fresh) {
            Player_SaveState(l->player, p);
            p += Player_StateSize(l->player);
            HeapImage_Save(l, p);
            p += HeapImage_Size(l);
        }
    }
    h->cp[h->ncp++] = (Checkpoint){h->pos, m->steps, m->ended, fresh, d, size};
    h->bytes += size;
    /* over budget: keep every other one (and the first), twice as far apart */
    while (h->bytes > HIST_BUDGET && h->ncp > MIN_CHECKPOINTS) {
        h->every *= 2;
        size_t k = 0;
        for (size_t i = 0; i < h->ncp; i++) {
            if (i == 0 || h->cp[i].pos % h->every == 0) {
                h->cp[k++] = h->cp[i];
            } else {
                h->bytes -= h->cp[i].size;
                free(h->cp[i].data);
            }
        }
        h->ncp = k;
    }
    return 0;
}

static void restore(Model *m, const Checkpoint *c)
{
    const unsigned char *p = c->data;
    for (unsigned i = 0; i < m->nlanes; i++) {
        Lane *l = &m->lanes[i];
        /* a fresh heap where the checkpoint has none (the region made one
         * before, so this cannot fail; if it did, the old heap stays) */
        if (c->fresh)
            Lane_NewHeap(l);
        Lane keep = *l; /* only its resources are kept: see the file comment */
        memcpy(l, p, sizeof *l);
        p += sizeof *l;
        l->region = keep.region;
        l->region_size = keep.region_size;
        l->heap = keep.heap;
        l->player = keep.player;
        l->snap.blocks = keep.snap.blocks;
        l->snap.cap_blocks = keep.snap.cap_blocks;
        if (c->fresh) {
            Player_Reset(l->player, l->heap); /* it held nothing then */
        } else {
            Player_LoadState(l->player, p);
            p += Player_StateSize(l->player);
            HeapImage_Load(l, p);
            p += HeapImage_Size(l);
        }
        l->npending = 0;
        /* the walk is re-taken when someone looks; the counters at once */
        l->snap.region = MemHeap_Region(l->heap);
        l->snap.stats = MemHeap_Stats(l->heap);
        l->snap.nblocks = 0;
        l->stale = true;
        l->rank.valid = false;
    }
    m->steps = c->steps;
    m->ended = c->ended;
}

/* The last checkpoint at or before pos. */
static const Checkpoint *checkpoint_before(const History *h, size_t pos)
{
    size_t lo = 0, hi = h->ncp;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->cp[mid].pos <= pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? &h->cp[lo - 1] : NULL;
}

/* ---- the journal --------------------------------------------------------- */

/* Starts the history again at the present state of the model. */
static void restart_at(History *h, Model *m, size_t pos)
{
    drop_checkpoints(h, 0);
    h->len = 0;
    h->ntyped = 0;
    h->first = h->pos = pos;
    h->every = FIRST_EVERY;
    /* the workload's operations before the present are no longer needed */
    uint64_t keep = m->steps > h->wl_first ? m->steps - h->wl_first : 0;
    if (keep > h->nwl)
        keep = h->nwl;
    if (keep) {
        memmove(h->wl, h->wl + keep, (h->nwl - (size_t)keep) * sizeof *h->wl);
        h->nwl -= (size_t)keep;
    }
    h->wl_first += keep;
    h->broken = checkpoint(h, m) != 0;
}

int History_Reset(History *h, Model *m)
{
    h->nwl = 0;
    h->wl_first = 0;
    h->last_sel = SIZE_MAX;
    h->last_lane = 0;
    restart_at(h, m, 0);
    return h->broken ? -1 : 0;
}

bool History_Replaying(const History *h) { return h && h->replaying; }

static int grow(void **v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 256;
    while (n < need)
        n *= 2;
    void *p = realloc(*v, n * elem);
    if (!p)
        return -1;
    *v = p;
    *cap = n;
    return 0;
}

void History_Record(History *h, Model *m, HistEntry e, const HistTyped *typed)
{
    if (!h || h->replaying)
        return;
    size_t at = h->pos - h->first;
    if (at < h->len) {
        /* a fork: the recorded future goes, with its checkpoints */
        h->len = at;
        const Checkpoint *c = checkpoint_before(h, h->pos);
        drop_checkpoints(h, c ? (size_t)(c - h->cp) + 1 : 0);
        size_t nt = 0;
        for (size_t i = 0; i < h->len; i++)
            if (h->e[i].typed != UINT32_MAX)
                nt = h->e[i].typed + 1u;
        h->ntyped = nt;
    }
    e.sel = h->view_sel < UINT32_MAX ? (uint32_t)h->view_sel : UINT32_MAX;
    e.sel_lane = (uint8_t)h->view_lane;
    e.typed = UINT32_MAX;
    bool ok = h->len < HIST_MAX_OPS &&
              grow((void **)&h->e, &h->cap, h->len + 1, sizeof *h->e) == 0;
    if (ok && typed) {
        ok = grow((void **)&h->typed, &h->cap_typed, h->ntyped + 1, sizeof *h->typed) == 0;
        if (ok) {
            e.typed = (uint32_t)h->ntyped;
            h->typed[h->ntyped++] = *typed;
        }
    }
    h->pos++;
    if (!ok) {
        restart_at(h, m, h->pos);
        return;
    }
    h->e[h->len++] = e;
    if (h->pos % h->every == 0 && checkpoint(h, m) != 0)
        restart_at(h, m, h->pos);
}

bool History_WorkloadOp(History *h, Workload *wl, uint64_t index, Op *op)
{
    if (index >= h->wl_first && index - h->wl_first < h->nwl) {
        *op = h->wl[index - h->wl_first];
        return true;
    }
    if (!Workload_Next(wl, op))
        return false;
    /* kept when it is the next in line (a reset starts the line again) */
    if (index == h->wl_first + h->nwl &&
        grow((void **)&h->wl, &h->cap_wl, h->nwl + 1, sizeof *h->wl) == 0)
        h->wl[h->nwl++] = *op;
    return true;
}

const Op *History_WorkloadAt(const History *h, uint64_t k)
{
    return k >= h->wl_first && k - h->wl_first < h->nwl ? &h->wl[k - h->wl_first] : NULL;
}

/* Applies e, as the model did when it was recorded. */
static void apply(History *h, Model *m, const HistEntry *e)
{
    h->replaying = true;
    switch ((HistKind)e->kind) {
    case H_STEP: {
        const Op *op = History_WorkloadAt(h, e->arg);
        if (op)
            Model_ApplyOp(m, op);
        break;
    }
    case H_ALLOC:
        if (e->lane == H_ALL_LANES)
            Model_AllocAll(m, (size_t)e->arg, NULL);
        else
            Model_Alloc(m, e->lane, (size_t)e->arg);
        break;
    case H_FREE: Model_FreeAt(m, e->lane, (size_t)e->arg, NULL, NULL); break;
    case H_OVERFLOW: Model_Overflow(m, e->lane, (size_t)e->arg, e->n); break;
    }
    h->replaying = false;
    h->pos++;
}

bool History_Redo(History *h, Model *m)
{
    if (!h || h->broken || h->pos - h->first >= h->len)
        return false;
    /* the selection of the position left stays with it */
    h->e[h->pos - h->first].sel = h->view_sel < UINT32_MAX ? (uint32_t)h->view_sel : UINT32_MAX;
    h->e[h->pos - h->first].sel_lane = (uint8_t)h->view_lane;
    apply(h, m, &h->e[h->pos - h->first]);
    return true;
}

/* ---- travel ----------------------------------------------------------------- */

size_t History_First(const History *h) { return h->first; }
size_t History_Last(const History *h) { return h->first + h->len; }
size_t History_Pos(const History *h) { return h->pos; }

void History_SetView(History *h, size_t sel, unsigned lane)
{
    if (!h)
        return;
    h->view_sel = sel;
    h->view_lane = lane;
}

void History_GetView(const History *h, size_t *sel, unsigned *lane)
{
    size_t at = h->pos - h->first;
    if (at < h->len) {
        *sel = h->e[at].sel == UINT32_MAX ? SIZE_MAX : h->e[at].sel;
        *lane = h->e[at].sel_lane;
    } else {
        *sel = h->last_sel;
        *lane = h->last_lane;
    }
}

int History_Goto(History *h, Model *m, size_t pos)
{
    if (!h || h->broken || pos < h->first || pos > h->first + h->len)
        return -1;
    /* the selection of the position left stays with it */
    size_t at = h->pos - h->first;
    if (at < h->len) {
        h->e[at].sel = h->view_sel < UINT32_MAX ? (uint32_t)h->view_sel : UINT32_MAX;
        h->e[at].sel_lane = (uint8_t)h->view_lane;
    } else {
        h->last_sel = h->view_sel;
        h->last_lane = h->view_lane;
    }
    if (pos == h->pos)
        return 0;
    const Checkpoint *c = checkpoint_before(h, pos);
    if (!c)
        return -1;
    if (pos < h->pos || c->pos > h->pos) {
        restore(m, c);
        h->pos = c->pos;
    }
    while (h->pos < pos)
        apply(h, m, &h->e[h->pos - h->first]);
    Model_Sync(m);
    History_GetView(h, &h->view_sel, &h->view_lane);
    return 0;
}

const HistEntry *History_Entry(const History *h, size_t i)
{
    return i >= h->first && i - h->first < h->len ? &h->e[i - h->first] : NULL;
}

const HistTyped *History_Typed(const History *h, const HistEntry *e)
{
    return e && e->typed < h->ntyped ? &h->typed[e->typed] : NULL;
}

HistoryFigures History_Figures(const History *h)
{
    return (HistoryFigures){h->ncp, h->bytes, h->every, h->len};
}

/*
 * history.c - checkpoints and the selections of the positions (see
 * history.h).
 *
 * Checkpoint positions ascend; the one at position 0 is always kept (every
 * replay can start there).  A checkpoint's bytes:
 *
 *   [Place][typed allocations' objects][workload state]
 *   then per lane: [Lane record][player state][heap image]
 *
 * The Lane record is the whole struct; restoring it keeps the lane's own
 * resources (region, heap, player, snapshot buffers), which are the same
 * objects at every position.  The checkpoint at position 0 holds no heap
 * image and no player state: the heaps are fresh there and the players
 * empty, and a fresh heap over the same region is made again on restore.
 * Other checkpoints are taken only while one stays below 1/MIN_CHECKPOINTS
 * of the budget.
 *
 * The thinned checkpoints can be `every` = thousands of operations apart,
 * and a step back from the middle of such a stretch replays them all.  So
 * a few near checkpoints, NEAR_EVERY operations apart, follow the user:
 * taken at the present as it moves on, and in the last stretch of every
 * long replay, the one farthest from the new one giving way.  Stepping
 * back again (b, [) then replays at most NEAR_EVERY operations until the
 * user has gone NEAR_MAX * NEAR_EVERY operations back; the budget holds
 * them too.
 *
 * Selections change far less often than positions do, so they are kept as
 * changes: (position, selection) in position order, each in force until
 * the next.
 */
#include "history.h"

#include "heapimage.h"

#include <stdlib.h>
#include <string.h>

#define FIRST_EVERY 32u
#define MIN_CHECKPOINTS 8u
/* Near checkpoints: NEAR_MAX more, NEAR_EVERY operations apart, around
 * where the user is (see the file comment). */
#define NEAR_EVERY 256u
#define NEAR_MAX 4u

/* The model's place in its operations. */
typedef struct Place {
    uint64_t steps, ops;
    size_t next_typed;
    size_t ntyped;         /* rows of typed_obj that follow */
    Op next;
    bool have_next, ended;
} Place;

typedef struct Checkpoint {
    uint64_t pos;          /* first: first_after reads it */
    bool fresh;            /* no heap images: the heaps were just created */
    unsigned char *data;
    size_t size;
} Checkpoint;

typedef struct View {
    uint64_t pos;          /* first: first_after reads it */
    size_t sel;
    unsigned lane;
} View;

struct History {
    Checkpoint *cp;
    size_t ncp, cap_cp;
    Checkpoint near[NEAR_MAX]; /* in no order; data NULL: none */
    size_t near_bytes;
    uint64_t target;       /* where a Goto's replay goes */
    size_t every;          /* checkpoints at multiples of this (and 0) */
    size_t bytes;          /* in all checkpoints */
    uint64_t pos;          /* the position the history last saw */
    uint64_t last;         /* the present */
    bool replaying;        /* Goto applies operations: no selection is kept */
    bool broken;           /* out of memory: no travel until the next reset */
    View *views;           /* selection changes, by position */
    size_t nviews, cap_views;
    size_t view_sel;       /* the UI's selection now */
    unsigned view_lane;
};

History *History_Create(void)
{
    History *h = calloc(1, sizeof *h);
    if (h) {
        h->view_sel = SIZE_MAX;
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

/* The near checkpoints after position `after` go (0: all of them, none is
 * at 0). */
static void drop_near(History *h, uint64_t after)
{
    for (unsigned i = 0; i < NEAR_MAX; i++)
        if (h->near[i].data && h->near[i].pos > after) {
            h->near_bytes -= h->near[i].size;
            free(h->near[i].data);
            h->near[i].data = NULL;
        }
}

void History_Destroy(History *h)
{
    if (!h)
        return;
    drop_near(h, 0);
    drop_checkpoints(h, 0);
    free(h->cp);
    free(h->views);
    free(h);
}

/* Room for `need` elements in *v (of `elem` bytes, *cap allocated). */
static int grow(void **v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *p = realloc(*v, n * elem);
    if (!p)
        return -1;
    *v = p;
    *cap = n;
    return 0;
}

/* ---- checkpoints ------------------------------------------------------ */

static size_t lane_bytes(const Lane *l, bool fresh)
{
    return sizeof(Lane) + (fresh ? 0 : Player_StateSize(l->player) + HeapImage_Size(l));
}

static size_t model_bytes(const Model *m)
{
    return sizeof(Place) + m->ntyped * VIZ_LANES_MAX * sizeof *m->typed_obj +
           Workload_StateSize(m->wl);
}

/* A checkpoint of the present into *c: 1, or 0 when one is not worth
 * taking (too large), -1 when out of memory. */
static int take(const Model *m, Checkpoint *c)
{
    bool fresh = m->ops == 0;
    size_t heaps = 0;
    for (unsigned i = 0; i < m->nlanes; i++)
        heaps += lane_bytes(&m->lanes[i], fresh);
    if (!fresh && heaps > HIST_BUDGET / MIN_CHECKPOINTS)
        return 0;
    size_t size = model_bytes(m) + heaps;
    unsigned char *d = malloc(size), *p = d;
    if (!d)
        return -1;
    Place pl = {m->steps, m->ops, m->next_typed, m->ntyped, m->next, m->have_next, m->ended};
    memcpy(p, &pl, sizeof pl);
    p += sizeof pl;
    size_t rows = m->ntyped * VIZ_LANES_MAX * sizeof *m->typed_obj;
    if (rows)
        memcpy(p, m->typed_obj, rows);
    p += rows;
    Workload_SaveState(m->wl, p);
    p += Workload_StateSize(m->wl);
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
    *c = (Checkpoint){m->ops, fresh, d, size};
    return 1;
}

static void near_put(History *h, Checkpoint c);

/* Takes a checkpoint of the present; 0 also when one is not worth taking
 * (too large), -1 when out of memory. */
static int checkpoint(History *h, Model *m)
{
    Checkpoint c;
    if (grow((void **)&h->cp, &h->cap_cp, h->ncp + 1, sizeof *h->cp) != 0)
        return -1;
    int r = take(m, &c);
    if (r <= 0)
        return r;
    h->cp[h->ncp++] = c;
    h->bytes += c.size;
    /* over budget: keep every other one (and the first), twice as far apart */
    while (h->bytes + h->near_bytes > HIST_BUDGET && h->ncp > MIN_CHECKPOINTS) {
        h->every *= 2;
        size_t k = 0;
        for (size_t i = 0; i < h->ncp; i++) {
            if (i == 0 || h->cp[i].pos % h->every == 0) {
                h->cp[k++] = h->cp[i];
                continue;
            }
            h->bytes -= h->cp[i].size;
            if (h->cp[i].pos == m->ops)
                near_put(h, h->cp[i]); /* the present's: near the user */
            else
                free(h->cp[i].data);
        }
        h->ncp = k;
    }
    return 0;
}

static void restore(Model *m, const Checkpoint *c)
{
    const unsigned char *p = c->data;
    Place pl;
    memcpy(&pl, p, sizeof pl);
    p += sizeof pl;
    m->steps = pl.steps;
    m->ops = pl.ops;
    m->next_typed = pl.next_typed;
    m->next = pl.next;
    m->have_next = pl.have_next;
    m->ended = pl.ended;
    /* typed allocations made since hold nothing here (the list only grows) */
    size_t rows = pl.ntyped * VIZ_LANES_MAX;
    if (rows)
        memcpy(m->typed_obj, p, rows * sizeof *m->typed_obj);
    for (size_t i = rows; i < (size_t)m->cap_obj * VIZ_LANES_MAX; i++)
        m->typed_obj[i] = SIZE_MAX;
    p += rows * sizeof *m->typed_obj;
    Workload_LoadState(m->wl, p);
    p += Workload_StateSize(m->wl);
    for (unsigned i = 0; i < m->nlanes; i++) {
        Lane *l = &m->lanes[i];
        /* a fresh heap where the checkpoint has none (the region made one
         * before, so this cannot fail; if it did, the old heap stays) */
        if (c->fresh)
            Lane_NewHeap(l, &m->cfg);
        Lane keep = *l; /* only its resources are kept: see the file comment */
        memcpy(l, p, sizeof *l);
        p += sizeof *l;
        l->region = keep.region;
        l->region_size = keep.region_size;
        l->heap = keep.heap;
        l->player = keep.player;
        l->snap.blocks = keep.snap.blocks;
        l->snap.cap_blocks = keep.snap.cap_blocks;
        l->snap.runs = keep.snap.runs;
        l->snap.cap_runs = keep.snap.cap_runs;
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
        l->snap.nruns = 0;
        l->stale = true;
        l->rank.valid = false;
    }
}

/* The index of the first of n records (of `stride` bytes, each starting
 * with its uint64_t position, ascending) after pos. */
static size_t first_after(const void *v, size_t n, size_t stride, uint64_t pos)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t at;
        memcpy(&at, (const unsigned char *)v + mid * stride, sizeof at);
        if (at <= pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The last checkpoint at or before pos, near ones included. */
static const Checkpoint *checkpoint_before(const History *h, uint64_t pos)
{
    size_t i = first_after(h->cp, h->ncp, sizeof *h->cp, pos);
    const Checkpoint *c = i ? &h->cp[i - 1] : NULL;
    for (unsigned k = 0; k < NEAR_MAX; k++) {
        const Checkpoint *n = &h->near[k];
        if (n->data && n->pos <= pos && (!c || n->pos > c->pos))
            c = n;
    }
    return c;
}

/* The near checkpoint at pos, or the place for one: an empty place, or the
 * one farthest from pos. */
static Checkpoint *near_place(History *h, uint64_t pos)
{
    unsigned k = 0;
    uint64_t far = 0;
    for (unsigned i = 0; i < NEAR_MAX; i++) {
        const Checkpoint *n = &h->near[i];
        if (n->data && n->pos == pos)
            return &h->near[i];
        uint64_t d = !n->data ? UINT64_MAX : n->pos > pos ? n->pos - pos : pos - n->pos;
        if (i == 0 || d > far)
            far = d, k = i;
    }
    return &h->near[k];
}

/* c becomes a near checkpoint (it is the history's now). */
static void near_put(History *h, Checkpoint c)
{
    Checkpoint *n = near_place(h, c.pos);
    if (n->data) {
        h->near_bytes -= n->size;
        free(n->data);
    }
    *n = c;
    h->near_bytes += c.size;
}

/* A near checkpoint of the present, unless there is one. */
static void take_near(History *h, Model *m)
{
    Checkpoint c, *n = near_place(h, m->ops);
    if (n->data && n->pos == m->ops)
        return;
    if (take(m, &c) > 0) /* too large, or no memory: they are only a help */
        near_put(h, c);
}

/* ---- selections ----------------------------------------------------------- */

/* The first change after pos. */
static size_t view_after(const History *h, uint64_t pos)
{
    return first_after(h->views, h->nviews, sizeof *h->views, pos);
}

static View view_at(const History *h, uint64_t pos)
{
    size_t i = view_after(h, pos);
    return i ? h->views[i - 1] : (View){0, SIZE_MAX, 0};
}

static bool same(View a, View b) { return a.sel == b.sel && a.lane == b.lane; }

/* Inserts v at index i (out of memory: the selection is not kept). */
static void view_insert(History *h, size_t i, View v)
{
    if (grow((void **)&h->views, &h->cap_views, h->nviews + 1, sizeof *h->views) != 0)
        return;
    memmove(&h->views[i + 1], &h->views[i], (h->nviews - i) * sizeof *h->views);
    h->views[i] = v;
    h->nviews++;
}

static void view_remove(History *h, size_t i)
{
    memmove(&h->views[i], &h->views[i + 1], (h->nviews - i - 1) * sizeof *h->views);
    h->nviews--;
}

/* Position pos shows the selection v; the positions after it keep theirs. */
static void view_put(History *h, uint64_t pos, size_t sel, unsigned lane)
{
    View v = {pos, sel, lane};
    if (same(view_at(h, pos), v))
        return;
    if (pos < h->last) {
        /* the next position keeps what it showed */
        View next = view_at(h, pos + 1);
        size_t j = view_after(h, pos);
        if (!(j < h->nviews && h->views[j].pos == pos + 1)) {
            next.pos = pos + 1;
            view_insert(h, j, next);
        }
    }
    size_t i = view_after(h, pos);
    if (i && h->views[i - 1].pos == pos)
        h->views[i - 1] = v;
    else
        view_insert(h, i, v), i++;
    /* no change that changes nothing */
    if (i < h->nviews && same(h->views[i], v))
        view_remove(h, i);
    if (i >= 2 && same(h->views[i - 2], v))
        view_remove(h, i - 1);
}

void History_SetView(History *h, size_t sel, unsigned lane)
{
    if (!h)
        return;
    h->view_sel = sel;
    h->view_lane = lane;
}

void History_GetView(const History *h, uint64_t pos, size_t *sel, unsigned *lane)
{
    View v = h ? view_at(h, pos) : (View){0, SIZE_MAX, 0};
    *sel = v.sel;
    *lane = v.lane;
}

/* ---- the present ------------------------------------------------------------ */

int History_Reset(History *h, Model *m)
{
    drop_near(h, 0);
    drop_checkpoints(h, 0);
    h->nviews = 0;
    h->every = FIRST_EVERY;
    h->pos = h->last = m->ops;
    h->replaying = false;
    h->broken = checkpoint(h, m) != 0;
    return h->broken ? -1 : 0;
}

void History_Note(History *h, Model *m)
{
    if (!h)
        return;
    if (!h->replaying)
        view_put(h, h->pos, h->view_sel, h->view_lane);
    h->pos = m->ops;
    if (m->ops > h->last)
        h->last = m->ops;
    if (h->broken)
        return;
    if (m->ops % h->every == 0) {
        if (!(h->ncp && h->cp[h->ncp - 1].pos >= m->ops) && checkpoint(h, m) != 0)
            h->broken = true;
        return;
    }
    /* near ones at the present, and in a replay's last stretch */
    if (m->ops % NEAR_EVERY == 0 &&
        (!h->replaying || h->target - m->ops < (uint64_t)NEAR_MAX * NEAR_EVERY))
        take_near(h, m);
}

void History_Fork(History *h, Model *m)
{
    if (!h || m->ops >= h->last)
        return;
    drop_checkpoints(h, first_after(h->cp, h->ncp, sizeof *h->cp, m->ops));
    drop_near(h, m->ops);
    h->nviews = view_after(h, m->ops);
    h->last = m->ops;
}

void History_Lost(History *h)
{
    if (h)
        h->broken = true;
}

/* ---- travel ----------------------------------------------------------------- */

uint64_t History_Last(const History *h) { return h ? h->last : 0; }

int History_Goto(History *h, Model *m, uint64_t pos)
{
    if (!h || h->broken)
        return -1;
    /* the selection of the position left stays with it */
    view_put(h, m->ops, h->view_sel, h->view_lane);
    if (pos != m->ops) {
        const Checkpoint *c = checkpoint_before(h, pos);
        if (!c)
            return -1;
        if (pos < m->ops || c->pos > m->ops)
            restore(m, c);
        h->replaying = true;
        h->target = pos;
        while (m->ops < pos && Model_Step(m))
            ;
        h->replaying = false;
    }
    h->pos = m->ops;
    Model_Sync(m);
    View v = view_at(h, m->ops);
    h->view_sel = v.sel;
    h->view_lane = v.lane;
    return 0;
}

_Static_assert(NEAR_MAX <= 4, "HistoryFigures.near_pos holds them");

HistoryFigures History_Figures(const History *h)
{
    HistoryFigures f = {h->ncp, h->bytes + h->near_bytes, h->every, 0, {0}, h->last};
    for (unsigned i = 0; i < NEAR_MAX; i++)
        if (h->near[i].data)
            f.near_pos[f.near++] = h->near[i].pos;
    return f;
}

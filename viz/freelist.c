/*
 * freelist.c - the free-list overlay (see freelist.h).
 *
 *   ╭ free list · first fit: address order ─────────╮
 *   │ 3 free blocks, 4.5 KiB                         │
 *   │ alloc 83 B took +0xdf8 (4560 B), place 3 of 3  │
 *   │ the library examined 3; split off 4.4 KiB      │
 *   │   place  offset          bytes                 │
 *   │ ▶ 1      +0x7a8             64                 │
 *   │   3      +0xe48           4464  ← split        │
 *   ╰────────────────────────────────────────────────╯
 *
 * The rows come from MemHeap_WalkFree at draw time, from the place of the
 * selected block (or the top) on, as many as fit.
 */
#include "freelist.h"

#include "app.h"
#include "explain.h"

#include <stdio.h>
#include <string.h>

unsigned FreeList_Toggle(Ui *ui, int key)
{
    (void)key;
    ui->freelist.on = !ui->freelist.on;
    ui->freelist.nbefore = 0;
    App_Say(ui, false, ui->freelist.on ? "free list: the policy's order (L hides it, Tab walks it)"
                                       : "free list hidden");
    return R_REDRAW;
}

static bool keep_before(const MemBlock *b, void *arg)
{
    FreeList *fl = arg;
    if (fl->nbefore < FREELIST_BEFORE)
        fl->before[fl->nbefore++] = (uint32_t)b->offset;
    return true;
}

void FreeList_Before(Ui *ui)
{
    FreeList *fl = &ui->freelist;
    if (!fl->on)
        return;
    Lane *l = &ui->m->lanes[ui->lane < ui->m->nlanes ? ui->lane : 0];
    fl->nbefore = 0;
    fl->before_total = MemHeap_Stats(l->heap).free_blocks;
    MemHeap_WalkFree(l->heap, keep_before, fl);
    fl->before_serial = l->touch_serial;
}

/* The plan is for the operation about to be stepped on the focused heap. */
static bool plan_current(const Ui *ui, const FreeList *fl)
{
    const Lane *l = &ui->m->lanes[fl->plan_lane];
    return fl->planned && fl->plan_lane == ui->lane && fl->plan_ops == ui->m->ops &&
           fl->plan_serial == l->touch_serial;
}

/* Asks the library for the next allocation's search (a dry run). */
static void plan(Ui *ui, FreeList *fl)
{
    Lane *l = &ui->m->lanes[ui->lane < ui->m->nlanes ? ui->lane : 0];
    const TypedOp *t;
    Op op;
    fl->planned = true;
    fl->plan_lane = ui->lane < ui->m->nlanes ? ui->lane : 0;
    fl->plan_ops = ui->m->ops;
    fl->plan_serial = l->touch_serial;
    fl->npath = fl->shown = 0;
    if (!Model_Peek(ui->m, &t, &op) || !(t ? t->kind == TYPED_ALLOC : op.kind == OP_ALLOC))
        return;
    size_t size = t ? t->size : op.size;
    if (MemHeap_PlanAlloc(l->heap, size, fl->path, FREELIST_BEFORE, &fl->plan) != 0 &&
        fl->plan.kind != MEM_PLAN_DAMAGED)
        return;
    /* a slot of a run that exists has no search to show */
    if (fl->plan.kind != MEM_PLAN_SLOT && fl->plan.kind != MEM_PLAN_SPARE_RUN)
        fl->npath = (unsigned)fl->plan.nsteps;
}

bool FreeList_Search(Ui *ui)
{
    FreeList *fl = &ui->freelist;
    if (!fl->on)
        return false;
    if (!plan_current(ui, fl))
        plan(ui, fl);
    if (fl->shown >= fl->npath)
        return false;
    const MemPlanStep *st = &fl->path[fl->shown++];
    const MemPlan *p = &fl->plan;
    char n1[32], b1[32], b2[32];
    Explain_Ordinal(fl->shown, n1, sizeof n1);
    bool last = fl->shown == fl->npath, taken = last && st->offset == p->chosen;
    const char *verdict = taken ? "taken" : st->fits ? "fits" : "too small";
    /* the last step says the outcome (best and worst fit take an earlier
     * block; a run takes the top of the block) */
    char end[64] = "";
    if (last && !taken && p->chosen != SIZE_MAX)
        snprintf(end, sizeof end, " · it takes +0x%zx", p->chosen);
    else if (last && p->kind == MEM_PLAN_FAIL)
        snprintf(end, sizeof end, " · none fits: it fails");
    App_Say(ui, false, "search: %s examined, +0x%zx (%s): %s for %s%s%s", n1, st->offset,
            Explain_Bytes(st->size, b1, sizeof b1), verdict, Explain_Bytes(p->need, b2, sizeof b2),
            end, last ? " · n applies it" : "");
    return true;
}

void FreeList_Skip(Ui *ui)
{
    FreeList *fl = &ui->freelist;
    if (!fl->on)
        return;
    if (!plan_current(ui, fl))
        plan(ui, fl);
    fl->shown = fl->npath;
}

int FreeList_Mark(const Ui *ui, unsigned lane, size_t offset)
{
    const FreeList *fl = &ui->freelist;
    if (!fl->on || !fl->shown || !plan_current(ui, fl) || lane != fl->plan_lane)
        return 0;
    if (fl->path[fl->shown - 1].offset == offset)
        return fl->path[fl->shown - 1].fits ? 3 : 2;
    for (unsigned i = 0; i + 1 < fl->shown; i++)
        if (fl->path[i].offset == offset)
            return 1;
    return 0;
}

/* Rows of the overlay: the free walk from place `from`, `max` of them. */
typedef struct Rows {
    Frame *f;
    int y, x, w;
    size_t from, shown, max;
    size_t sel, split;       /* offsets to mark */
    bool fast;
    const Ui *ui;            /* the search shown so far (FreeList_Mark) */
    unsigned lane;
} Rows;


static bool draw_row(const MemBlock *b, void *arg)
{
    Rows *r = arg;
    if (b->rank < r->from)
        return true;
    if (r->shown == r->max)
        return false;
    int y = r->y + (int)r->shown++;
    bool sel = b->offset == r->sel;
    int mark;
    Style st = sel ? S_MARK_SELECT : S_OVERLAY;
    char line[96];
    int n = snprintf(line, sizeof line, "%-5zu  +0x%-8zx %9zu", b->rank + 1, b->offset, b->size);
    if (r->fast && n > 0 && (size_t)n < sizeof line)
        n += snprintf(line + n, sizeof line - (size_t)n, "  %5u", b->list);
    Frame_Text(r->f, y, r->x, 2, S_MARK_SELECT, sel ? (r->f->utf8 ? "▶" : ">") : " ");
    int k = Frame_Text(r->f, y, r->x + 2, r->w - 2, st, line);
    if (b->offset == r->split)
        Frame_Text(r->f, y, r->x + 2 + k, r->w - 2 - k, S_LOG_ALLOC, "  ← split");
    else if ((mark = FreeList_Mark(r->ui, r->lane, b->offset)) != 0)
        Frame_Text(r->f, y, r->x + 2 + k, r->w - 2 - k, mark > 1 ? S_MARK_SELECT : S_KEY,
                   mark == 3 ? "  ← examining: fits" : mark == 2 ? "  ← examining" : "  ← examined");
    return true;
}

/* "place 3 of 7": where the block at off stood in the list before. */
static void place_before(const FreeList *fl, size_t off, char *buf, size_t len)
{
    for (unsigned k = 0; k < fl->nbefore; k++)
        if (fl->before[k] == off) {
            snprintf(buf, len, "place %u of %zu", k + 1, fl->before_total);
            return;
        }
    snprintf(buf, len, "past place %u", fl->nbefore);
}

/* The last operation's two lines, from the lane's events; false when
 * there is nothing to say. */
static bool last_search(const Ui *ui, const Lane *l, char *a, char *b, size_t len,
                        size_t *split)
{
    const FreeList *fl = &ui->freelist;
    *split = SIZE_MAX;
    if (fl->before_serial + 1 != l->touch_serial)
        return false; /* the events are not of the operation stepped with L on */
    const MemEvent *run_new = NULL;
    for (unsigned i = 0; i < l->nevents; i++) {
        const MemEvent *e = &l->events[i];
        char b1[32];
        if (e->kind == MEM_EV_RUN_NEW) {
            run_new = e; /* the block the new run took, then the ALLOC in it */
            continue;
        }
        if (e->kind == MEM_EV_ALLOC && e->run && !run_new) {
            snprintf(a, len, "alloc %zu B took slot %zu of the run at +0x%zx", e->request,
                     e->slot, e->run);
            snprintf(b, len, "a run's slot: no free-list search");
            return true;
        }
        if (e->kind == MEM_EV_ALLOC && run_new) {
            char where[48];
            /* the run is cut from the top of the free block: what is left
             * of that block stays where it was */
            size_t took = run_new->block - run_new->remainder;
            place_before(fl, took, where, sizeof where);
            snprintf(a, len, "new run at +0x%zx (%s), slot %zu", run_new->block, where, e->slot);
            if (run_new->remainder)
                *split = took;
            snprintf(b, len, "the library examined %zu; %s%s", run_new->examined,
                     run_new->remainder ? "split off " : "no split",
                     run_new->remainder ? Explain_Bytes(run_new->remainder, b1, sizeof b1) : "");
            return true;
        }
        if (e->kind == MEM_EV_ALLOC) {
            char where[48];
            place_before(fl, e->block, where, sizeof where);
            snprintf(a, len, "alloc %zu B took +0x%zx (%zu B), %s", e->request, e->block,
                     e->size, where);
            if (e->remainder)
                *split = e->block + e->size - e->remainder;
            snprintf(b, len, "the library examined %zu; %s%s", e->examined,
                     e->remainder ? "split off " : "no split",
                     e->remainder ? Explain_Bytes(e->remainder, b1, sizeof b1) : "");
            return true;
        }
        if (e->kind == MEM_EV_FAIL) {
            snprintf(a, len, "alloc %zu B failed", e->request);
            snprintf(b, len, "the library examined %zu: none fits", e->examined);
            return true;
        }
    }
    return false;
}

void FreeList_Draw(Ui *ui, Frame *f)
{
    if (!ui->freelist.on || f->cols < VIZ_MIN_COLS || f->rows < VIZ_MIN_ROWS)
        return;
    Lane *l = &ui->m->lanes[ui->lane < ui->m->nlanes ? ui->lane : 0];
    Lane_Sync(l);
    int w = f->cols / 2 < 56 ? f->cols / 2 : 56;
    if (w < 36)
        w = f->cols < 36 ? f->cols : 36;
    char a[160], b[160];
    size_t split;
    bool said = last_search(ui, l, a, b, sizeof a, &split);
    /* as tall as its rows, at most the screen but the title, legend and status */
    size_t nfree = l->snap.stats.free_blocks;
    size_t want = 4 + (said ? 2u : 0u) + (nfree ? nfree : 1);
    int h = want < (size_t)(f->rows - 3) ? (int)want : f->rows - 3, x0 = f->cols - w, y0 = 1;
    for (int r = 0; r < h; r++)
        Frame_Fill(f, y0 + r, x0, w, ' ', S_OVERLAY);
    bool fast = l->policy == MEM_FAST;
    char title[80];
    static const char *const orders[] = {"address order", "LIFO order", "FIFO order"};
    MemOrder order = MemHeap_Region(l->heap).order;
    snprintf(title, sizeof title, "free list · %s: %s", Explain_Policy(l->policy),
             fast                        ? "by size class"
             : l->policy == MEM_BUDDY    ? "by order"
             : (unsigned)order < 3u      ? orders[order]
                                         : "address order");
    Frame_Box(f, y0, x0, h, w, S_BOX, title);
    int x = x0 + 2, iw = w - 4, y = y0 + 1, end = y0 + h - 1;
    char b1[32];
    Frame_Printf(f, y++, x, iw, S_VALUE, "%zu free blocks, %s", l->snap.stats.free_blocks,
                 Explain_Bytes(l->snap.stats.free_bytes, b1, sizeof b1));
    if (said && y + 1 < end) {
        Frame_Text(f, y++, x, iw, S_LOG_ALLOC, a);
        Frame_Text(f, y++, x, iw, S_LOG_ALLOC, b);
    }
    if (y >= end)
        return;
    Frame_Text(f, y++, x + 2, iw - 2, S_LABEL, fast ? "place  offset          bytes  class"
                                                    : "place  offset          bytes");
    unsigned li = ui->lane < ui->m->nlanes ? ui->lane : 0;
    Rows r = {f, y, x, iw, 0, 0, (size_t)(end - y), ui->sel, split, fast, ui, li};
    /* the block the search examines stays in view, else the selected one */
    const FreeList *fl = &ui->freelist;
    size_t keep = FreeList_Mark(ui, li, fl->shown ? fl->path[fl->shown - 1].offset : SIZE_MAX)
                      ? fl->path[fl->shown - 1].offset
                      : ui->sel;
    long rank = keep != SIZE_MAX ? Lane_FreeRank(l, keep, NULL) : -1;
    if (rank >= 0 && (size_t)rank >= r.max)
        r.from = (size_t)rank - r.max / 2;
    if (l->snap.stats.free_blocks == 0)
        Frame_Text(f, y, x + 2, iw - 2, S_DIM, "none: the heap is full");
    else
        MemHeap_WalkFree(l->heap, draw_row, &r);
}

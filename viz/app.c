/*
 * app.c - the key table and its actions (see app.h).  Actions change the
 * UI state and the model and return reaction flags; they never draw.
 */
#include "app.h"

#include "explain.h"
#include "export.h"
#include "history.h"
#include "lecture.h"
#include "live.h"
#include "options.h"
#include "travel.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned (*Action)(Ui *ui, int key);

typedef struct Binding {
    int key;
    Action act;
} Binding;

void App_Say(Ui *ui, bool warn, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ui->msg, sizeof ui->msg, fmt, ap);
    va_end(ap);
    ui->msg_warn = warn;
    ui->msg_op = ui->m->ops;
}

const char *App_Message(const Ui *ui)
{
    if (!ui->msg[0])
        return NULL;
    uint64_t since = ui->m->ops - ui->msg_op;
    uint64_t hold = ui->paused ? 0 : (uint64_t)ui->speed * VIZ_MSG_SECONDS;
    return since <= hold ? ui->msg : NULL;
}

#define say App_Say

static Lane *focus(Ui *ui) { return &ui->m->lanes[ui->lane < ui->m->nlanes ? ui->lane : 0]; }

/* The selected block, copied into *b; NULL when there is none. */
static const MemBlock *selected(Ui *ui, MemBlock *b)
{
    if (ui->sel == SIZE_MAX)
        return NULL;
    const Snapshot *s = &focus(ui)->snap;
    long bi = Snapshot_BlockAt(s, ui->sel);
    if (bi < 0)
        return NULL;
    *b = Snapshot_Block(s, (size_t)bi);
    return b;
}

static void select_index(Ui *ui, long i)
{
    const Snapshot *s = &focus(ui)->snap;
    if (i < 0 || (size_t)i >= s->nblocks)
        return;
    ui->sel = s->blocks[i].offset;
}

void Ui_Init(Ui *ui, Model *m, GlyphMode g, unsigned speed, bool paused)
{
    memset(ui, 0, sizeof *ui);
    ui->m = m;
    ui->glyphs = g;
    ui->speed = speed ? speed : VIZ_DEFAULT_SPEED;
    ui->paused = paused;
    ui->sel = SIZE_MAX;
    ui->followed = SIZE_MAX;
}

static const unsigned ladder[] = {1, 2, 4, 8, 15, 30, 60, 120, 250, 500, 1000, 2000, 5000, 10000};
#define NLADDER (sizeof ladder / sizeof ladder[0])

unsigned App_Faster(unsigned speed)
{
    for (size_t i = 0; i < NLADDER; i++)
        if (ladder[i] > speed)
            return ladder[i];
    return ladder[NLADDER - 1];
}

unsigned App_Slower(unsigned speed)
{
    for (size_t i = NLADDER; i-- > 0;)
        if (ladder[i] < speed)
            return ladder[i];
    return ladder[0];
}

bool App_Running(const Ui *ui)
{
    return !ui->paused && !ui->m->ended && !ui->help && ui->prompt == PROMPT_NONE;
}

/* Whether an operation is left to apply after a trace's end (a typed one
 * may be due there). */
static bool more(Ui *ui)
{
    const TypedOp *t;
    Op op;
    return Model_Peek(ui->m, &t, &op);
}

unsigned App_Step(Ui *ui)
{
    if (ui->live)
        return Live_Step(ui);
    if (ui->help || ui->prompt != PROMPT_NONE)
        return R_NONE;
    History_SetView(ui->m->hist, ui->sel, ui->lane);
    if (Predict_Ask(ui))
        return R_REDRAW | R_TIMING; /* the operation waits for the answer */
    if (FreeList_Search(ui))
        return R_REDRAW; /* the search is shown block by block first */
    FreeList_Before(ui);
    bool redo = ui->m->ops < History_Last(ui->m->hist);
    if (ui->m->ended && !more(ui))
        return R_NONE;
    if (!Model_Step(ui->m)) {
        ui->paused = true;
        say(ui, false, "the trace has ended: r replays it");
        return R_REDRAW | R_TIMING;
    }
    if (redo)
        Travel_Arrive(ui); /* the selection that step had */
    if (Lecture_PauseHere(ui))
        return R_REDRAW | R_FLASH | R_TIMING;
    return R_REDRAW | R_FLASH;
}

/* ---- actions ------------------------------------------------------------------ */

static unsigned act_pause(Ui *ui, int key)
{
    (void)key;
    if (ui->m->ended) {
        say(ui, true, "the trace has ended: r replays it");
        return R_REDRAW;
    }
    ui->paused = !ui->paused;
    /* the status line says running or paused already */
    if (ui->paused)
        say(ui, false, "n steps, Space runs");
    else
        ui->msg[0] = '\0';
    return R_REDRAW | R_TIMING;
}

static unsigned act_step(Ui *ui, int key)
{
    (void)key;
    if (ui->m->ended && !more(ui)) {
        say(ui, true, "the trace has ended: r replays it");
        return R_REDRAW;
    }
    bool was = ui->paused;
    ui->paused = true;
    unsigned r = App_Step(ui);
    if (!was)
        say(ui, false, "paused for stepping: n steps again, Space runs");
    return r | R_TIMING;
}

static unsigned act_faster(Ui *ui, int key)
{
    (void)key;
    unsigned s = App_Faster(ui->speed);
    if (s == ui->speed)
        say(ui, true, "already at the fastest speed, %u op/s", s);
    else
        say(ui, false, "speed %u op/s", s);
    ui->speed = s;
    return R_REDRAW | R_TIMING;
}

static unsigned act_slower(Ui *ui, int key)
{
    (void)key;
    unsigned s = App_Slower(ui->speed);
    if (s == ui->speed)
        say(ui, true, "already at the slowest speed, %u op/s", s);
    else
        say(ui, false, "speed %u op/s", s);
    ui->speed = s;
    return R_REDRAW | R_TIMING;
}

static unsigned open_prompt(Ui *ui, PromptKind k)
{
    ui->prompt = k;
    ui->ninput = 0;
    ui->input[0] = '\0';
    return R_REDRAW | R_TIMING;
}

static unsigned act_alloc(Ui *ui, int key)
{
    (void)key;
    return open_prompt(ui, PROMPT_ALLOC);
}

static unsigned act_ifree(Ui *ui, int key)
{
    (void)key;
    if (ui->m->nlanes > 1) {
        say(ui, true, "i works on one heap: run without --compare");
        return R_REDRAW;
    }
    return open_prompt(ui, PROMPT_IFREE);
}

static unsigned act_free(Ui *ui, int key)
{
    (void)key;
    MemBlock sb;
    const MemBlock *b = selected(ui, &sb);
    if (!b) {
        say(ui, true, "f frees the selected block: select one first (arrows, Tab or a click)");
        return R_REDRAW;
    }
    if (!b->used) {
        say(ui, true, "the selected %s at +0x%zx is already free", b->run ? "slot" : "block",
            b->offset);
        return R_REDRAW;
    }
    if (b->object == 0) {
        say(ui, true, "that is a run's table or tail, no object: select one of its slots");
        return R_REDRAW;
    }
    size_t off = b->offset, obj = b->offset + b->header;
    int r = Model_FreeAt(ui->m, ui->lane, obj, NULL, NULL);
    ui->paused = true;
    if (r == MEM_OK)
        say(ui, false, "freed the object at +0x%zx (paused: Space runs)", obj);
    else
        say(ui, true, "free +0x%zx refused: it %s", obj, MemReject_Describe((MemReject)r));
    ui->sel = off;
    return R_REDRAW | R_FLASH | R_TIMING;
}

static unsigned act_overflow(Ui *ui, int key)
{
    (void)key;
    MemBlock sb;
    const MemBlock *b = selected(ui, &sb);
    if (!b || !b->used || b->object == 0) {
        say(ui, true, "o overflows the selected object: select a used block first");
        return R_REDRAW;
    }
    if (b->padding == 0) {
        say(ui, true, "this object has no padding: an overflow would hit the next header "
                      "(heapviz will not)");
        return R_REDRAW;
    }
    size_t n = Model_Overflow(ui->m, ui->lane, b->offset, 4);
    ui->paused = true;
    if (!(focus(ui)->flags & MEM_OPT_GUARD))
        say(ui, true, "wrote %zu B past the object: without --guard nothing notices", n);
    else
        say(ui, true, "wrote %zu B past the object: its guard is broken (f frees it)", n);
    return R_REDRAW | R_FLASH | R_TIMING;
}

static unsigned act_move(Ui *ui, int key)
{
    const Snapshot *s = &focus(ui)->snap;
    if (s->nblocks == 0)
        return R_NONE;
    long i = ui->sel == SIZE_MAX ? -1 : Snapshot_BlockAt(s, ui->sel);
    ui->msg[0] = '\0';
    switch (key) {
    case VK_LEFT:
    case 'h':
        if (i < 0)
            i = (long)s->nblocks;
        if (i == 0) {
            say(ui, true, "this is the first block");
            return R_REDRAW;
        }
        select_index(ui, i - 1);
        break;
    case VK_RIGHT:
    case 'l':
        if (i + 1 >= (long)s->nblocks) {
            say(ui, true, "this is the last block");
            return R_REDRAW;
        }
        select_index(ui, i + 1);
        break;
    case VK_HOME:
        select_index(ui, 0);
        break;
    case VK_END:
        select_index(ui, (long)s->nblocks - 1);
        break;
    default:
        break;
    }
    return R_REDRAW;
}

static unsigned act_vertical(Ui *ui, int key)
{
    bool up = key == VK_UP || key == 'k';
    if (ui->m->nlanes > 1) {
        if (up && ui->lane > 0)
            ui->lane--;
        else if (!up && ui->lane + 1 < ui->m->nlanes)
            ui->lane++;
        else {
            say(ui, true, up ? "this is the top heap" : "this is the bottom heap");
            return R_REDRAW;
        }
        ui->msg[0] = '\0';
        return R_REDRAW;
    }
    const MapGeom *g = &ui->geom[0];
    MemBlock sb;
    const MemBlock *b = selected(ui, &sb);
    if (!g->valid || !b) {
        if (!b)
            select_index(ui, 0);
        return R_REDRAW;
    }
    size_t row = (size_t)g->cols * g->bpc;
    size_t size = focus(ui)->snap.region.size;
    size_t target;
    if (up) {
        if (b->offset < row) {
            say(ui, true, "this is the top row");
            return R_REDRAW;
        }
        target = b->offset - row;
    } else {
        target = b->offset + row;
        if (target >= size) {
            say(ui, true, "this is the bottom row");
            return R_REDRAW;
        }
    }
    long i = Snapshot_BlockAt(&focus(ui)->snap, target);
    if (i < 0) {
        say(ui, true, "no block there (the heap's tables)");
        return R_REDRAW;
    }
    ui->msg[0] = '\0';
    select_index(ui, i);
    return R_REDRAW;
}

static unsigned act_tab(Ui *ui, int key)
{
    Lane *l = focus(ui);
    Lane_Sync(l); /* the selection and the free walks see the same heap */
    long n = (long)l->snap.stats.free_blocks;
    if (n == 0) {
        say(ui, true, "there is no free block");
        return R_REDRAW;
    }
    MemBlock sb;
    const MemBlock *b = selected(ui, &sb);
    long r = b && !b->used ? Lane_FreeRank(l, b->offset, NULL) : -1;
    if (r < 0)
        r = key == VK_BTAB ? n - 1 : 0;
    else
        r = key == VK_BTAB ? (r + n - 1) % n : (r + 1) % n;
    size_t off = Lane_FreeNth(l, (size_t)r);
    if (off == SIZE_MAX)
        return R_REDRAW;
    ui->sel = off;
    say(ui, false, "free list: block %ld of %ld", r + 1, n);
    return R_REDRAW;
}

/* Pages keep the selection where it is: the view follows a selection only
 * when the selection moves. */
static unsigned act_page(Ui *ui, int key)
{
    if (ui->zoom == 0) {
        say(ui, true, "the whole arena is shown: z zooms in first");
        return R_REDRAW;
    }
    const MapGeom *g = &ui->geom[ui->lane];
    if (!g->valid)
        return R_REDRAW;
    size_t span = (size_t)g->rows * (size_t)g->cols * g->bpc;
    ui->msg[0] = '\0';
    if (key == VK_PGUP) {
        if (g->start == 0) {
            say(ui, true, "this is the start of the arena");
            return R_REDRAW;
        }
        ui->view_start = g->start > span ? g->start - span : 0;
    } else {
        if (g->end >= focus(ui)->snap.region.size) {
            say(ui, true, "this is the end of the arena");
            return R_REDRAW;
        }
        ui->view_start = g->start + span; /* the screen stops at the last page */
    }
    return R_REDRAW;
}

/* "; the same 150 operations again (2 of them yours)" */
static void replayed(const Model *m, char *buf, size_t len)
{
    size_t n;
    Model_TypedOps(m, &n);
    if (n)
        snprintf(buf, len, "; the same %llu operations again (%zu of them yours)",
                 (unsigned long long)m->ops, n);
    else
        snprintf(buf, len, "; the same %llu operations again", (unsigned long long)m->ops);
}

/* "; your 2 operations come back where they were" */
static void typed_back(const Model *m, char *buf, size_t len)
{
    size_t n;
    Model_TypedOps(m, &n);
    buf[0] = '\0';
    if (n)
        snprintf(buf, len, "; your %zu operation%s come%s back where %s", n, n == 1 ? "" : "s",
                 n == 1 ? "s" : "", n == 1 ? "it was" : "they were");
}

/* p: the focused heap's next policy (in compare mode, the next one no other
 * heap shows), with the same operations up to where they were. */
static unsigned act_policy(Ui *ui, int key)
{
    (void)key;
    Model *m = ui->m;
    unsigned lane = ui->lane < m->nlanes ? ui->lane : 0;
    MemPolicy was = m->lanes[lane].policy, p = was;
    for (unsigned k = 0; k < MEM_POLICY_COUNT; k++) {
        p = (MemPolicy)((p + 1) % MEM_POLICY_COUNT);
        bool shown = false;
        for (unsigned j = 0; j < m->nlanes; j++)
            shown |= j != lane && m->lanes[j].policy == p;
        if (!shown)
            break;
    }
    if (p == was) {
        say(ui, true, "every policy is on the screen already");
        return R_REDRAW;
    }
    char err[160], tail[96];
    uint64_t ops = m->ops;
    if (Model_SetLanePolicy(m, lane, p, err, sizeof err) != 0 ||
        Model_Replay(m, ops, err, sizeof err) != 0) {
        say(ui, true, "%s", err);
        return R_REDRAW;
    }
    replayed(m, tail, sizeof tail);
    if (m->nlanes > 1)
        say(ui, false, "the %s heap is %s now%s", Explain_Policy(was), Explain_Policy(p), tail);
    else
        say(ui, false, "policy: %s%s", Explain_Policy(p), tail);
    return R_REDRAW | R_TIMING;
}

static unsigned act_workload(Ui *ui, int key)
{
    (void)key;
    WorkloadKind k = ui->m->cfg.workload;
    do {
        k = (WorkloadKind)((k + 1) % WL_COUNT);
    } while (k == WL_TRACE && !ui->m->cfg.trace);
    char err[160], tail[96];
    if (Model_SetWorkload(ui->m, k, err, sizeof err) != 0) {
        say(ui, true, "%s", err);
        return R_REDRAW;
    }
    typed_back(ui->m, tail, sizeof tail);
    say(ui, false, "workload: %s, %s%s", Workload_Name(k), Workload_Describe(k), tail);
    return R_REDRAW | R_TIMING;
}

static unsigned act_reset(Ui *ui, int key)
{
    (void)key;
    char err[160], tail[96];
    if (Model_Restart(ui->m, err, sizeof err) != 0) {
        say(ui, true, "%s", err);
        return R_REDRAW;
    }
    typed_back(ui->m, tail, sizeof tail);
    if (tail[0])
        say(ui, false, "reset: empty heaps%s", tail);
    else
        say(ui, false, "reset: empty heaps, the workload from its seed");
    return R_REDRAW | R_TIMING;
}

static unsigned act_zoom(Ui *ui, int key)
{
    const MapGeom *g = &ui->geom[ui->lane];
    if (!g->valid)
        return R_REDRAW;
    if (key == 'z') {
        if (g->bpc <= (g->cols % 16 ? 2u : 1u)) {
            say(ui, true, "already at %zu byte%s a cell", g->bpc, g->bpc == 1 ? "" : "s");
            return R_REDRAW;
        }
        ui->zoom = g->bpc / 2; /* a power of two, as the scale is */
        size_t span = (size_t)g->rows * (size_t)g->cols * ui->zoom;
        size_t centre = ui->sel != SIZE_MAX ? ui->sel : g->start + (g->end - g->start) / 2;
        ui->view_start = centre > span / 2 ? centre - span / 2 : 0;
        say(ui, false, "zoom: %zu B a cell (Z zooms out)", ui->zoom);
    } else {
        if (ui->zoom == 0) {
            say(ui, true, "already showing the whole arena");
            return R_REDRAW;
        }
        size_t span = (size_t)g->rows * (size_t)g->cols * ui->zoom;
        size_t centre = g->start + (g->end - g->start) / 2;
        ui->zoom *= 2;
        ui->view_start = centre > span ? centre - span : 0;
        say(ui, false, "zoom: %zu B a cell", ui->zoom);
    }
    return R_REDRAW;
}

/* #: the map numbers the free blocks in the order the policy keeps them. */
static unsigned act_numbers(Ui *ui, int key)
{
    (void)key;
    ui->numbers = !ui->numbers;
    if (ui->numbers)
        say(ui, false, "free blocks numbered in %s order (where the number fits; z makes room)",
            focus(ui)->policy == MEM_FAST ? "the size classes'" : "the free list's");
    else
        say(ui, false, "free blocks no longer numbered");
    return R_REDRAW;
}

static unsigned act_help(Ui *ui, int key)
{
    (void)key;
    ui->help = !ui->help;
    ui->help_top = 0;
    ui->msg[0] = '\0';
    return R_REDRAW | R_TIMING;
}

static unsigned act_suspend(Ui *ui, int key)
{
    (void)ui;
    (void)key;
    return R_SUSPEND | R_CLEAR | R_REDRAW;
}

static unsigned act_quit(Ui *ui, int key)
{
    (void)ui;
    (void)key;
    return R_QUIT;
}

static unsigned act_redraw(Ui *ui, int key)
{
    (void)ui;
    (void)key;
    return R_CLEAR | R_REDRAW;
}

bool App_MouseOffset(const Ui *ui, unsigned *lane, size_t *offset)
{
    for (unsigned i = 0; i < ui->m->nlanes; i++) {
        const MapGeom *g = &ui->geom[i];
        /* a bar row's lines: its level row (buddy) above, its marker row below */
        int above = g->stride - 2, dy = ui->mouse_y - g->y + above;
        if (!g->valid || dy < 0 || dy >= g->stride * g->rows || ui->mouse_x < g->x ||
            ui->mouse_x >= g->x + g->cols)
            continue;
        size_t cell = (size_t)(dy / g->stride) * (size_t)g->cols + (size_t)(ui->mouse_x - g->x);
        size_t off = g->start + cell * g->bpc;
        if (off >= g->end)
            return false;
        *lane = i;
        *offset = off;
        return true;
    }
    return false;
}

static unsigned act_click(Ui *ui, int key)
{
    (void)key;
    unsigned i;
    size_t off;
    if (App_MouseOffset(ui, &i, &off)) {
        long bi = Snapshot_BlockAt(&ui->m->lanes[i].snap, off);
        if (bi < 0) {
            say(ui, false, "+0x%zx is in the heap's own tables, not a block", off);
            return R_REDRAW;
        }
        ui->lane = i;
        ui->sel = ui->m->lanes[i].snap.blocks[bi].offset;
        ui->msg[0] = '\0';
        return R_REDRAW;
    }
    say(ui, false, "click on the map to select a block");
    return R_REDRAW;
}

static unsigned act_resize(Ui *ui, int key)
{
    (void)ui;
    (void)key;
    return R_CLEAR | R_REDRAW;
}

static const Binding bindings[] = {
    {' ', act_pause},      {'n', act_step},       {'.', act_step},       {'+', act_faster},
    {'=', act_faster},     {'-', act_slower},     {'_', act_slower},     {'a', act_alloc},
    {'f', act_free},       {'i', act_ifree},      {'o', act_overflow},   {VK_LEFT, act_move},
    {'h', act_move},       {VK_RIGHT, act_move},  {'l', act_move},       {VK_HOME, act_move},
    {VK_END, act_move},    {VK_UP, act_vertical}, {'k', act_vertical},   {VK_DOWN, act_vertical},
    {'j', act_vertical},   {'\t', act_tab},       {VK_BTAB, act_tab},    {VK_PGUP, act_page},
    {VK_PGDN, act_page},   {'p', act_policy},     {'w', act_workload},   {'r', act_reset},
    {'z', act_zoom},       {'Z', act_zoom},       {'?', act_help},       {VK_F1, act_help},
    {'H', act_help},       {'q', act_quit},       {'Q', act_quit},       {VK_CTRL('c'), act_quit},
    {VK_CTRL('l'), act_redraw}, {VK_MOUSE, act_click}, {VK_RESIZE, act_resize},
    {'b', Travel_Back},    {VK_BACKSPACE, Travel_Back}, {127, Travel_Back}, {8, Travel_Back},
    {'[', Travel_Ten},     {']', Travel_Ten},     {'g', Travel_Prompt},
    {'s', Lecture_SavePrompt}, {'e', Export_Key},  {'P', Predict_Toggle},
    {'L', FreeList_Toggle},    {'#', act_numbers},
    {VK_CTRL('z'), act_suspend},
};

static const KeyHelp key_help[] = {
    {"Space", "pause / run"},
    {"n .", "one step (pauses)"},
    {"+ -", "faster / slower"},
    {"a", "allocate (asks a size)"},
    {"f", "free the selected block"},
    {"i", "free at a typed offset"},
    {"o", "overflow selected object"},
    {"← → h l", "previous / next block"},
    {"↑ ↓ k j", "row above / below"},
    {"Tab S-Tab", "next / prev free block"},
    {"Home End", "first / last block"},
    {"z Z", "zoom in / out"},
    {"PgUp PgDn", "pan when zoomed"},
    {"p", "next policy, same ops"},
    {"w", "next workload"},
    {"r", "reset: start again"},
    {"b Bksp", "step back one operation"},
    {"[ ]", "ten steps back / forward"},
    {"g", "go to a step (asks which)"},
    {"s", "save as a script"},
    {"e", "export frame: SVG, HTML"},
    {"P", "predict mode on / off"},
    {"L", "free list; n: its search"},
    {"#", "number free blocks so"},
    {"click", "select a block"},
    {"? F1 H", "this help"},
    {"Ctrl-L", "repaint the screen"},
    {"Ctrl-Z", "suspend (fg resumes)"},
    {"q Ctrl-C", "quit"},
};

const KeyHelp *App_KeyHelp(size_t *n)
{
    *n = sizeof key_help / sizeof key_help[0];
    return key_help;
}

/* ---- prompts ------------------------------------------------------------------- */

int App_ParseOffset(const char *s, size_t *out)
{
    while (*s == ' ')
        s++;
    if (*s == '+')
        s++;
    size_t base = 16, len = strlen(s);
    while (len && s[len - 1] == ' ')
        len--;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2, len -= 2;
    } else if (s[0] == 'd' || s[0] == 'D') {
        base = 10, s++, len--;
    } else if (len && s[len - 1] == '.') {
        base = 10, len--;
    }
    if (len == 0)
        return -1;
    size_t v = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)s[i], d;
        if (isdigit(c))
            d = c - '0';
        else if (base == 16 && isxdigit(c))
            d = tolower(c) - 'a' + 10;
        else
            return -1;
        if (v > (SIZE_MAX - (size_t)d) / base)
            return -1;
        v = v * base + (size_t)d;
    }
    *out = v;
    return (int)base;
}

/* Selects the block (or run slot) that held or holds the object at arena
 * offset obj in the focused heap: a block's header comes before its
 * object, a slot has none. */
static void select_object(Ui *ui, size_t obj)
{
    Lane *l = focus(ui);
    Lane_Sync(l);
    long bi = Snapshot_BlockAt(&l->snap, obj);
    ui->sel = bi >= 0 ? l->snap.blocks[bi].offset : obj - MEM_HEADER_SIZE;
}

static unsigned run_prompt(Ui *ui)
{
    PromptKind k = ui->prompt;
    ui->prompt = PROMPT_NONE;
    if (k == PROMPT_ALLOC) {
        size_t size;
        if (Options_ParseSize(ui->input, &size) != 0 || size == 0) {
            say(ui, true, "'%s' is not a size: type bytes, like 120 or 2K", ui->input);
            return R_REDRAW;
        }
        void *p = Model_Alloc(ui->m, ui->lane, size);
        ui->paused = true;
        char b[32];
        Explain_Exact(size, b, sizeof b);
        if (p) {
            size_t off = (size_t)((uintptr_t)p - (uintptr_t)focus(ui)->snap.region.base);
            select_object(ui, off);
            say(ui, false, "allocated %s: the object is at +0x%zx (paused: Space runs)", b, off);
        } else {
            say(ui, true, "alloc %s failed: the events say why", b);
        }
        return R_REDRAW | R_FLASH | R_TIMING;
    }
    if (k == PROMPT_GOTO)
        return Travel_Run(ui);
    if (k == PROMPT_SAVE)
        return Lecture_RunSave(ui);
    if (k == PROMPT_IFREE) {
        size_t off;
        int base = App_ParseOffset(ui->input, &off);
        if (base < 0) {
            say(ui, true, "'%s' is not an offset: type hex like 1c4 (0x optional), or decimal "
                          "like d452", ui->input);
            return R_REDRAW;
        }
        size_t o = off, objsize = 0;
        int r = Model_FreeAt(ui->m, ui->lane, off, &o, &objsize);
        ui->paused = true;
        /* what was understood, when it was not hex */
        char dec[40] = "";
        if (base == 10)
            snprintf(dec, sizeof dec, "decimal %zu is +0x%zx; ", off, off);
        if (r == MEM_OK) {
            if (o == off)
                say(ui, false, "%sfreed the object at +0x%zx", dec, o);
            else
                say(ui, false, "%s+0x%zx is byte %zu of the %zu B object at +0x%zx: freed it",
                    dec, off, off - o, objsize, o);
            select_object(ui, o);
        } else {
            say(ui, true, "%sfree +0x%zx refused: it %s", dec, off,
                MemReject_Describe((MemReject)r));
        }
        return R_REDRAW | R_FLASH | R_TIMING;
    }
    return R_REDRAW;
}

static unsigned prompt_key(Ui *ui, int key)
{
    if (key == VK_ESC || key == VK_CTRL('g')) {
        ui->prompt = PROMPT_NONE;
        say(ui, false, "cancelled");
        return R_REDRAW | R_TIMING;
    }
    if (key == VK_CTRL('c'))
        return R_QUIT;
    if (key == VK_ENTER || key == '\n' || key == '\r')
        return run_prompt(ui);
    if (key == VK_BACKSPACE || key == 127 || key == 8) {
        if (ui->ninput)
            ui->input[--ui->ninput] = '\0';
        return R_REDRAW;
    }
    if (key == VK_RESIZE)
        return R_CLEAR | R_REDRAW;
    if (key > 0 && key < 127 && isprint(key) && ui->ninput + 1 < sizeof ui->input) {
        ui->input[ui->ninput++] = (char)key;
        ui->input[ui->ninput] = '\0';
    }
    return R_REDRAW;
}

static void key_name(int key, char *buf, size_t len)
{
    if (key > 32 && key < 127)
        snprintf(buf, len, "'%c'", key);
    else if (key > 0 && key < 32)
        snprintf(buf, len, "Ctrl-%c", key + '@');
    else
        snprintf(buf, len, "this key");
}

int App_NextKey(const char **s)
{
    static const struct {
        const char *name;
        int key;
    } names[] = {{"Up", VK_UP},       {"Down", VK_DOWN},   {"Left", VK_LEFT},   {"Right", VK_RIGHT},
                 {"Home", VK_HOME},   {"End", VK_END},     {"PgUp", VK_PGUP},   {"PgDn", VK_PGDN},
                 {"Tab", '\t'},       {"S-Tab", VK_BTAB},  {"Esc", VK_ESC},     {"Enter", VK_ENTER},
                 {"BS", VK_BACKSPACE}, {"Del", VK_DELETE}, {"F1", VK_F1},       {"lt", '<'}};
    const char *p = *s;
    if (!*p)
        return 0;
    if (*p == '<') {
        const char *close = strchr(p, '>');
        size_t n = close ? (size_t)(close - p - 1) : 0;
        for (size_t i = 0; close && i < sizeof names / sizeof names[0]; i++)
            if (strlen(names[i].name) == n && strncmp(p + 1, names[i].name, n) == 0) {
                *s = close + 1;
                return names[i].key;
            }
        if (close && n == 3 && p[1] == 'C' && p[2] == '-' && isalpha((unsigned char)p[3])) {
            *s = close + 1;
            return VK_CTRL(p[3]);
        }
    }
    *s = p + 1;
    if (*p == '\n' || *p == '\r')
        return VK_ENTER;
    return *p == 27 ? VK_ESC : (unsigned char)*p;
}

static unsigned dispatch(Ui *ui, int key);

/* Keys while the help is open: they scroll it or close it (q too, as its
 * box says); Ctrl-C still quits. */
static unsigned help_key(Ui *ui, int key)
{
    int page = ui->help_rows > 1 ? ui->help_rows - 1 : 1;
    switch (key) {
    case '?': case VK_F1: case 'H': case VK_ESC: case 'q': case 'Q':
        ui->help = false;
        ui->msg[0] = '\0';
        return R_REDRAW | R_TIMING;
    case VK_CTRL('c'):
        return R_QUIT;
    case VK_UP: case 'k': ui->help_top--; break;
    case VK_DOWN: case 'j': case VK_ENTER: ui->help_top++; break;
    case VK_PGUP: case 'b': ui->help_top -= page; break;
    case VK_PGDN: case ' ': ui->help_top += page; break;
    case VK_HOME: ui->help_top = 0; break;
    case VK_END: ui->help_top = 1 << 20; break; /* the screen clamps it */
    case VK_RESIZE: case VK_CTRL('l'): return R_CLEAR | R_REDRAW;
    case VK_CTRL('z'): return R_SUSPEND | R_CLEAR | R_REDRAW;
    case VK_MOUSE: return R_NONE;
    default:
        say(ui, true, "in the help: ↑ ↓ scroll, q closes");
        return R_REDRAW;
    }
    if (ui->help_top < 0)
        ui->help_top = 0;
    ui->msg[0] = '\0';
    return R_REDRAW;
}

unsigned App_Key(Ui *ui, int key)
{
    /* actions look at the walks: they see the heap as it is, and leave it so */
    Model_Sync(ui->m);
    History_SetView(ui->m->hist, ui->sel, ui->lane);
    unsigned r = dispatch(ui, key);
    Model_Sync(ui->m);
    return r;
}

static unsigned dispatch(Ui *ui, int key)
{
    if (ui->prompt == PROMPT_PREDICT)
        return Predict_Key(ui, key);
    if (ui->prompt != PROMPT_NONE)
        return prompt_key(ui, key);
    if (ui->help)
        return help_key(ui, key);
    if (key == VK_ESC) {
        ui->msg[0] = '\0';
        return R_REDRAW;
    }
    unsigned live_r;
    if (ui->live && Live_Key(ui, key, &live_r))
        return live_r;
    for (size_t i = 0; i < sizeof bindings / sizeof bindings[0]; i++)
        if (bindings[i].key == key)
            return bindings[i].act(ui, key);
    char name[24];
    key_name(key, name, sizeof name);
    say(ui, true, "%s does nothing here: ? shows the keys", name);
    return R_REDRAW;
}

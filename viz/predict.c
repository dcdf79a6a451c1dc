/*
 * predict.c - predict mode and the worksheet (see predict.h).
 *
 * The question is asked about the operation Model_Step applies next (the
 * workload's, a trace's or a script's; typed ones are the user's own and
 * are not asked about).  Choices are what the heap shows now: for an
 * allocation the free blocks in address order (and "it fails"), and when
 * the heap serves the request from a run (MemHeap_SlotSize: fast fit's
 * small objects) the free slots of the runs of its size class too; the
 * four ways a free can merge for a free.  The right answer is read
 * afterwards from the events the library reported for that operation: the
 * ALLOC event's chosen block (its offset before the split) or slot, the
 * RUN_NEW event's block when a new run was carved from a free block, a
 * FAIL event, and the COALESCE event's neighbours.  Nothing here knows how
 * a policy chooses.
 */
#include "predict.h"

#include "app.h"
#include "explain.h"
#include "handout.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- the operation asked about ------------------------------------------- */

/* The operation Model_Step applies next, when it is the workload's (a
 * typed one is the user's own: not asked about). */
static bool next_op(Model *m, Op *op)
{
    const TypedOp *t;
    return Model_Peek(m, &t, op) && !t;
}

/* The block (or run slot) of the object id holds in lane l, or SIZE_MAX. */
static size_t held_block(const Lane *l, uint32_t id)
{
    unsigned char *obj = Player_Object(l->player, id, NULL);
    if (!obj)
        return SIZE_MAX;
    long bi = Snapshot_BlockAt(&l->snap, (size_t)(obj - (unsigned char *)l->snap.region.base));
    return bi < 0 ? SIZE_MAX : l->snap.blocks[bi].offset;
}

/* Whether snapshot piece b can take an allocation served with slots of
 * `slot` bytes (0: a block): a free block (a new run is carved from one),
 * or a free slot of a run of that size. */
static bool is_choice(const Snapshot *s, const SnapBlock *b, size_t slot)
{
    if (b->used)
        return false;
    if (!Snap_InRun(b))
        return true;
    const SnapRun *r = slot && Snap_IsSlot(b) ? Snapshot_RunAt(s, b->offset) : NULL;
    return r && r->slot_size == slot;
}

/* "slot 3 of the run at +0x8" or "the free block at +0x1a0". */
static void choice_name(const Snapshot *s, size_t off, char *buf, size_t len)
{
    long bi = Snapshot_BlockAt(s, off);
    const SnapRun *r = bi >= 0 && Snap_IsSlot(&s->blocks[bi]) ? Snapshot_RunAt(s, off) : NULL;
    if (r)
        snprintf(buf, len, "slot %zu of the run at +0x%x", (off - r->slot_offset) / r->slot_size,
                 r->offset);
    else
        snprintf(buf, len, "the free block at +0x%zx", off);
}

/* The object of the block or slot at `block` in lane l, as an offset. */
static size_t object_at(const Lane *l, size_t block, size_t *size)
{
    long bi = Snapshot_BlockAt(&l->snap, block);
    MemBlock b = Snapshot_Block(&l->snap, bi >= 0 ? (size_t)bi : 0);
    *size = bi >= 0 ? b.object : 0;
    return bi >= 0 ? b.offset + b.header : block;
}

/* Sets up p for op; false when op is not one to ask about. */
static bool setup(Predict *p, Model *m, const Op *op)
{
    Model_Sync(m);
    bool any = false;
    p->is_free = op->kind == OP_FREE;
    p->request = op->size ? op->size : 1;
    for (unsigned i = 0; i < m->nlanes; i++) {
        const Lane *l = &m->lanes[i];
        p->block[i] = held_block(l, op->id);
        p->slot[i] = p->is_free ? 0 : MemHeap_SlotSize(l->heap, p->request);
        if (p->is_free || op->kind == OP_REALLOC) {
            any |= p->block[i] != SIZE_MAX;
        } else {
            any = true;
            p->block[i] = 0;
        }
        p->guess[i] = p->is_free ? 0 : PREDICT_FAILS;
        for (size_t b = 0; !p->is_free && b < l->snap.nblocks; b++)
            if (is_choice(&l->snap, &l->snap.blocks[b], p->slot[i])) {
                p->guess[i] = l->snap.blocks[b].offset;
                break;
            }
    }
    return any;
}

/* The answer lane l's events give: the chosen block or slot (for a new
 * run, the free block it was carved from; or PREDICT_FAILS), or the
 * neighbours that merged.  False when the operation did not reach the
 * heap (a skipped free). */
static bool answer(const Lane *l, bool is_free, size_t *out)
{
    for (unsigned i = 0; i < l->nevents; i++) {
        const MemEvent *e = &l->events[i];
        if (!is_free && e->kind == MEM_EV_RUN_NEW) {
            *out = e->block - e->remainder; /* a run is cut from its block's top */
            return true;
        }
        if (!is_free && e->kind == MEM_EV_ALLOC) {
            *out = e->block;
            return true;
        }
        if (!is_free && e->kind == MEM_EV_FAIL) {
            *out = PREDICT_FAILS;
            return true;
        }
        if (is_free && (e->kind == MEM_EV_FREE || e->kind == MEM_EV_REJECT)) {
            *out = 0;
            for (unsigned k = i + 1; k < l->nevents; k++)
                if (l->events[k].kind == MEM_EV_COALESCE)
                    *out = l->events[k].neighbours;
            return true;
        }
    }
    return false;
}

/* The neighbours that merge, in a sentence (or one word, for the key). */
static const char *merged(size_t n, bool word)
{
    static const char *const said[4][2] = {{"no neighbour", "none"},
                                           {"the left neighbour", "left"},
                                           {"the right neighbour", "right"},
                                           {"both neighbours", "both"}};
    return said[n & (MEM_LEFT | MEM_RIGHT)][word];
}

/* The answer in words, from lane l's events: where the object went, or
 * what merged (and what a slot does instead). */
static void answer_words(const Lane *l, bool is_free, size_t got, char *buf, size_t len)
{
    const MemEvent *run_new = NULL, *alloc = NULL, *freed = NULL;
    bool released = false;
    for (unsigned i = 0; i < l->nevents; i++) {
        const MemEvent *e = &l->events[i];
        if (e->kind == MEM_EV_RUN_NEW && !run_new)
            run_new = e;
        else if (e->kind == MEM_EV_ALLOC && !alloc)
            alloc = e;
        else if (e->kind == MEM_EV_FREE && !freed)
            freed = e;
        else if (e->kind == MEM_EV_RUN_RELEASE)
            released = true;
    }
    if (is_free && released)
        snprintf(buf, len, "its run emptied and went back to the free blocks, merging with %s",
                 merged(got, false));
    else if (is_free && freed && freed->run)
        snprintf(buf, len, "%s (a slot never merges)", merged(got, false));
    else if (is_free)
        snprintf(buf, len, "%s", merged(got, false));
    else if (got == PREDICT_FAILS)
        snprintf(buf, len, "it failed");
    else if (run_new)
        snprintf(buf, len, "a new run of %zu B slots, carved from the free block at +0x%zx",
                 run_new->request, run_new->block - run_new->remainder);
    else if (alloc && alloc->run)
        snprintf(buf, len, "slot %zu of the run at +0x%zx", alloc->slot, alloc->run);
    else
        snprintf(buf, len, "the free block at +0x%zx", got);
}

/* ---- the live question ------------------------------------------------------ */

static bool asked_in(const Predict *p, unsigned lane)
{
    return !p->is_free || p->block[lane] != SIZE_MAX;
}

static void show_choice(Ui *ui)
{
    Predict *p = &ui->predict;
    ui->lane = p->lane;
    if (p->is_free)
        ui->sel = p->block[p->lane];
    else
        ui->sel = p->guess[p->lane] == PREDICT_FAILS ? SIZE_MAX : p->guess[p->lane];
}

bool Predict_Ask(Ui *ui)
{
    Predict *p = &ui->predict;
    if (!p->on)
        return false;
    if (p->asking)
        return true;
    Op op;
    if (!next_op(ui->m, &op) || !setup(p, ui->m, &op))
        return false;
    p->asking = true;
    p->ninput = 0;
    p->input[0] = '\0';
    p->lane = 0;
    while (p->lane + 1 < ui->m->nlanes && !asked_in(p, p->lane))
        p->lane++;
    ui->paused = true;
    ui->prompt = PROMPT_PREDICT;
    ui->msg[0] = '\0';
    show_choice(ui);
    return true;
}

void Predict_Prompt(const Ui *ui, char *buf, size_t len)
{
    const Predict *p = &ui->predict;
    const Lane *l = &ui->m->lanes[p->lane];
    char who[48] = "";
    if (ui->m->nlanes > 1)
        snprintf(who, sizeof who, "%s: ", Explain_Policy(l->policy));
    if (p->is_free) {
        size_t b = p->block[p->lane], size;
        size_t obj = object_at(l, b, &size);
        long bi = Snapshot_BlockAt(&l->snap, b);
        bool slot = bi >= 0 && Snap_IsSlot(&l->snap.blocks[bi]);
        snprintf(buf, len, "predict %sfree %zu B at +0x%zx%s: which neighbours merge? [%s] "
                           "←→ or n l r b, Enter",
                 who, size, obj, slot ? " (a slot)" : "", merged(p->guess[p->lane], true));
        return;
    }
    char g[48], slot[40] = "";
    if (p->ninput)
        snprintf(g, sizeof g, "+%s", p->input);
    else if (p->guess[p->lane] == PREDICT_FAILS)
        snprintf(g, sizeof g, "it fails");
    else if (Snap_InRun(&l->snap.blocks[Snapshot_BlockAt(&l->snap, p->guess[p->lane])]))
        choice_name(&l->snap, p->guess[p->lane], g, sizeof g);
    else
        snprintf(g, sizeof g, "+0x%zx", p->guess[p->lane]);
    if (p->slot[p->lane])
        snprintf(slot, sizeof slot, " (a %zu B slot)", p->slot[p->lane]);
    snprintf(buf, len, "predict %salloc %zu B%s lands in which free block%s? [%s] ←→ click, an "
                       "offset, ! fails, Enter",
             who, p->request, slot, p->slot[p->lane] ? " or slot" : "", g);
}

/* Moves the guess to the next (dir 1) or previous free block, past the last
 * one to "it fails". */
static void move_guess(Ui *ui, int dir)
{
    Predict *p = &ui->predict;
    size_t *g = &p->guess[p->lane];
    if (p->is_free) {
        *g = (*g + (dir > 0 ? 1u : 3u)) % 4u;
        return;
    }
    const Snapshot *s = &ui->m->lanes[p->lane].snap;
    size_t n = s->nblocks, cur = n; /* n: "it fails" */
    for (size_t i = 0; *g != PREDICT_FAILS && i < n; i++)
        if (s->blocks[i].offset == *g)
            cur = i;
    for (size_t k = 0; k <= n; k++) {
        cur = dir > 0 ? (cur + 1) % (n + 1) : (cur + n) % (n + 1);
        if (cur == n || is_choice(s, &s->blocks[cur], p->slot[p->lane]))
            break;
    }
    *g = cur == n ? PREDICT_FAILS : s->blocks[cur].offset;
}

/* The choice (free block, or free slot of the request's class) holding
 * arena byte off in lane, or SIZE_MAX. */
static size_t free_block_at(const Ui *ui, unsigned lane, size_t off)
{
    const Snapshot *s = &ui->m->lanes[lane].snap;
    long bi = Snapshot_BlockAt(s, off);
    return bi >= 0 && is_choice(s, &s->blocks[bi], ui->predict.slot[lane]) ? s->blocks[bi].offset
                                                                            : SIZE_MAX;
}

static unsigned reveal(Ui *ui)
{
    Predict *p = &ui->predict;
    Model *m = ui->m;
    p->asking = false;
    ui->prompt = PROMPT_NONE;
    size_t guess[VIZ_LANES_MAX];
    memcpy(guess, p->guess, sizeof guess);
    bool is_free = p->is_free;
    p->on = false; /* App_Step must not ask again about the same operation */
    FreeList_Skip(ui); /* nor show its search first: the answer is now */
    unsigned r = App_Step(ui);
    p->on = true;
    char msg[sizeof ui->msg];
    int n = 0;
    for (unsigned i = 0; i < m->nlanes; i++) {
        size_t got;
        if (!asked_in(p, i) || !answer(&m->lanes[i], is_free, &got))
            continue;
        bool ok = got == guess[i];
        p->asked[i]++;
        p->right[i] += ok;
        char said[120];
        answer_words(&m->lanes[i], is_free, got, said, sizeof said);
        if (m->nlanes > 1)
            n += snprintf(msg + n, sizeof msg - (size_t)n, "%s%s %s %u/%u", n ? " · " : "",
                          MemPolicy_Name(m->lanes[i].policy), ok ? "right" : "wrong",
                          p->right[i], p->asked[i]);
        else
            n += snprintf(msg + n, sizeof msg - (size_t)n, "%s: %s%s · score %u/%u",
                          ok ? "right" : "wrong", is_free ? "it merged with " : "",
                          said, p->right[i], p->asked[i]);
        if (n < 0 || (size_t)n >= sizeof msg)
            break;
    }
    if (n > 0)
        App_Say(ui, false, "%s", msg);
    return r | R_REDRAW | R_TIMING;
}

/* Enter: this heap's guess stands; the next heap, or the reveal. */
static unsigned confirm(Ui *ui)
{
    Predict *p = &ui->predict;
    if (p->ninput) {
        char *end;
        const char *s = p->input;
        unsigned long long v = strtoull(s, &end, 16);
        size_t b = *end ? SIZE_MAX : free_block_at(ui, p->lane, (size_t)v);
        if (b == SIZE_MAX) {
            App_Say(ui, true, "+%s is not inside a free block: type another, or ← →", p->input);
            p->ninput = 0;
            p->input[0] = '\0';
            return R_REDRAW;
        }
        p->guess[p->lane] = b;
        p->ninput = 0;
        p->input[0] = '\0';
    }
    unsigned next = p->lane + 1;
    while (next < ui->m->nlanes && !asked_in(p, next))
        next++;
    if (next < ui->m->nlanes) {
        p->lane = next;
        show_choice(ui);
        return R_REDRAW;
    }
    return reveal(ui);
}

unsigned Predict_Key(Ui *ui, int key)
{
    Predict *p = &ui->predict;
    switch (key) {
    case VK_ENTER:
    case '\n':
    case '\r':
        return confirm(ui);
    case VK_ESC:
        /* no answer: the operation goes ahead unscored */
        p->asking = false;
        ui->prompt = PROMPT_NONE;
        p->on = false;
        FreeList_Skip(ui);
        App_Step(ui);
        p->on = true;
        App_Say(ui, false, "not predicted: the operation went ahead (P turns predict mode off)");
        return R_REDRAW | R_FLASH | R_TIMING;
    case 'P':
        return Predict_Toggle(ui, key);
    case VK_CTRL('c'):
        return R_QUIT;
    case VK_RESIZE:
        return R_CLEAR | R_REDRAW;
    case VK_LEFT:
    case VK_BTAB:
    case VK_RIGHT:
    case '\t':
        p->ninput = 0;
        p->input[0] = '\0';
        move_guess(ui, key == VK_LEFT || key == VK_BTAB ? -1 : 1);
        show_choice(ui);
        return R_REDRAW;
    case VK_MOUSE: {
        unsigned lane;
        size_t off, b;
        if (!p->is_free && App_MouseOffset(ui, &lane, &off) && lane == p->lane &&
            (b = free_block_at(ui, lane, off)) != SIZE_MAX) {
            p->guess[lane] = b;
            show_choice(ui);
        } else {
            App_Say(ui, true, "click on a free block of this heap");
        }
        return R_REDRAW;
    }
    case VK_BACKSPACE:
    case 127:
    case 8:
        if (p->ninput)
            p->input[--p->ninput] = '\0';
        return R_REDRAW;
    default:
        break;
    }
    if (p->is_free) {
        static const char keys[] = "nlrb";
        const char *k = key > 0 && key < 128 ? strchr(keys, key) : NULL;
        if (k && *k) {
            p->guess[p->lane] = (size_t)(k - keys);
            return R_REDRAW;
        }
    } else if (key == '!') {
        p->ninput = 0;
        p->input[0] = '\0';
        p->guess[p->lane] = PREDICT_FAILS;
        show_choice(ui);
        return R_REDRAW;
    } else if (key > 0 && key < 128 && (isxdigit(key) || key == 'x') &&
               p->ninput + 1 < sizeof p->input) {
        if (key == 'x' && !(p->ninput == 1 && p->input[0] == '0')) {
            App_Say(ui, true, "an offset is hex digits, like 1a0 or 0x1a0");
            return R_REDRAW;
        }
        p->input[p->ninput++] = (char)key;
        p->input[p->ninput] = '\0';
        return R_REDRAW;
    }
    App_Say(ui, true, p->is_free ? "predict: ← → or n l r b, then Enter (Esc: no answer)"
                                 : "predict: ← → or a click on a free block, an offset, or ! "
                                   "(it fails); Enter (Esc: no answer)");
    return R_REDRAW;
}

unsigned Predict_Toggle(Ui *ui, int key)
{
    (void)key;
    Predict *p = &ui->predict;
    if (p->on) {
        p->on = false;
        p->asking = false;
        if (ui->prompt == PROMPT_PREDICT)
            ui->prompt = PROMPT_NONE;
        App_Say(ui, false, "predict mode off");
        return R_REDRAW;
    }
    p->on = true;
    if (Predict_Ask(ui))
        return R_REDRAW | R_TIMING;
    App_Say(ui, false, "predict mode on: before each allocation and free, say what will happen");
    return R_REDRAW;
}

/* ---- the worksheet --------------------------------------------------------------- */

/* "A", "B", ... "Z", "a", ... "z", then numbers: the free block's label. */
static void label_of(size_t k, char *buf, size_t len)
{
    if (k < 26)
        snprintf(buf, len, "%c", (char)('A' + k));
    else if (k < 52)
        snprintf(buf, len, "%c", (char)('a' + k - 26));
    else
        snprintf(buf, len, "%zu", k + 1);
}

/* A place an allocation can land, with its worksheet label. */
typedef struct Choice {
    size_t off;
    char label[20];
} Choice;

/* Lane l's choices for an allocation served with `slot`-byte slots (0: a
 * block), in address order: the free blocks lettered A, B, ..., and the
 * free slots of the runs of that size as "R1 slot 3" (those runs numbered
 * from 1).  malloc'd; *n gets their number (0 and NULL when out of memory). */
static Choice *choices(const Lane *l, size_t slot, size_t *n)
{
    const Snapshot *s = &l->snap;
    Choice *v = malloc((s->nblocks + 1) * sizeof *v);
    size_t k = 0;
    unsigned runs = 0;
    uint32_t run_at = UINT32_MAX;
    *n = 0;
    for (size_t i = 0; v && i < s->nblocks; i++) {
        const SnapBlock *b = &s->blocks[i];
        if (!is_choice(s, b, slot))
            continue;
        Choice *c = &v[(*n)++];
        c->off = b->offset;
        const SnapRun *r = Snap_InRun(b) ? Snapshot_RunAt(s, b->offset) : NULL;
        if (!r) {
            label_of(k++, c->label, sizeof c->label);
            continue;
        }
        if (r->offset != run_at)
            runs++, run_at = r->offset;
        snprintf(c->label, sizeof c->label, "R%u slot %zu", runs,
                 (size_t)(b->offset - r->slot_offset) / r->slot_size);
    }
    return v;
}

/* The choices as the worksheet lists them: the free blocks, then (for a
 * request served from runs) the free slots, run by run. */
static void free_list(const Lane *l, const Choice *c, size_t nc, size_t slot, FILE *out, int cols,
                      bool utf8)
{
    char line[4096];
    int n = snprintf(line, sizeof line, "free blocks:");
    size_t k = 0;
    for (size_t i = 0; i < nc && n < (int)sizeof line - 64; i++) {
        long bi = Snapshot_BlockAt(&l->snap, c[i].off);
        if (bi < 0 || Snap_InRun(&l->snap.blocks[bi]))
            continue;
        n += snprintf(line + n, sizeof line - (size_t)n, "%s %s +0x%zx (%u B)", k++ ? "," : "",
                      c[i].label, c[i].off, l->snap.blocks[bi].size);
    }
    if (!k)
        snprintf(line + n, sizeof line - (size_t)n, " none");
    Handout_Wrap(out, line, cols, HANDOUT_GUTTER, utf8);
    if (!slot)
        return;
    n = snprintf(line, sizeof line, "free slots of the %zu B runs:", slot);
    uint32_t run_at = UINT32_MAX;
    k = 0;
    for (size_t i = 0; i < nc && n < (int)sizeof line - 64; i++) {
        const SnapRun *r = Snapshot_RunAt(&l->snap, c[i].off);
        long bi = Snapshot_BlockAt(&l->snap, c[i].off);
        if (!r || bi < 0 || !Snap_InRun(&l->snap.blocks[bi]))
            continue;
        const char *sp = strchr(c[i].label, ' ');
        if (r->offset != run_at) {
            n += snprintf(line + n, sizeof line - (size_t)n, "%s %.*s at +0x%x: slots",
                          k++ ? ";" : "", sp ? (int)(sp - c[i].label) : 0, c[i].label, r->offset);
            run_at = r->offset;
        }
        n += snprintf(line + n, sizeof line - (size_t)n, " %zu",
                      (size_t)(c[i].off - r->slot_offset) / r->slot_size);
    }
    if (!k)
        snprintf(line + n, sizeof line - (size_t)n, " none (a new run takes a free block)");
    Handout_Wrap(out, line, cols, HANDOUT_GUTTER, utf8);
}

/* "free the 50 B object at +0x10 (through its byte 30): ..." */
static void free_question(const Model *m, const Predict *p, const Op *op, char *line, size_t len)
{
    unsigned i = 0;
    while (i + 1 < m->nlanes && p->block[i] == SIZE_MAX)
        i++;
    size_t size = 0;
    Player_Object(m->lanes[i].player, op->id, &size);
    char at[48] = "";
    if (op->at && size)
        snprintf(at, sizeof at, " (through its byte %zu)", op->at % size);
    size_t osize;
    const Lane *l = &m->lanes[i];
    size_t obj = object_at(l, p->block[i], &osize);
    long bi = Snapshot_BlockAt(&l->snap, p->block[i]);
    const SnapRun *r = bi >= 0 && Snap_IsSlot(&l->snap.blocks[bi])
                           ? Snapshot_RunAt(&l->snap, p->block[i]) : NULL;
    char slot[64] = "";
    if (r)
        snprintf(slot, sizeof slot, " in slot %zu of the run at +0x%x",
                 (size_t)(p->block[i] - r->slot_offset) / r->slot_size, r->offset);
    snprintf(line, len, "free the %zu B object at +0x%zx%s%s: which neighbours merge with it?   "
                        "________",
             size, obj, slot, at);
}

/* The key: the answer, then the library's sentence for it. */
static void key_line(FILE *ans, const Lane *l, const char *who, bool is_free, size_t got,
                     const Choice *c, size_t nc, uint64_t before, int cols, bool utf8)
{
    char a[20];
    if (is_free)
        snprintf(a, sizeof a, "%s", merged(got, true));
    else if (got == PREDICT_FAILS)
        snprintf(a, sizeof a, "fails");
    else
        snprintf(a, sizeof a, "?");
    for (size_t k = 0; !is_free && got != PREDICT_FAILS && k < nc; k++)
        if (c[k].off == got)
            snprintf(a, sizeof a, "%s", c[k].label);
    const LogLine *ln = l->log_total > before ? Lane_Log(l, 0) : NULL;
    fprintf(ans, "%-*s%s\n", HANDOUT_GUTTER, who, a);
    if (ln)
        Handout_Wrap(ans, ln->text, cols, HANDOUT_GUTTER, utf8);
}

int Predict_Worksheet(Ui *ui, FILE *out, int cols, bool utf8, unsigned long max_ops)
{
    Model *m = ui->m;
    char *key = NULL;
    size_t keylen = 0;
    FILE *ans = open_memstream(&key, &keylen);
    if (!ans)
        return 1;
    Handout_Heading(ui, out, cols, utf8, "worksheet");
    bool runs = false;
    for (unsigned i = 0; i < m->nlanes; i++)
        runs |= MemHeap_SlotSize(m->lanes[i].heap, 1) > 0;
    Handout_Wrap(out, runs ? "Before each allocation: in which free block (its letter) or free "
                             "slot of a run (R1 slot 3) will the object land, or does it fail?  "
                             "Before each free: which neighbours merge with it (none, left, "
                             "right, both)?"
                           : "Before each allocation: in which free block (its letter) will the "
                             "object land, or does it fail?  Before each free: which neighbours "
                             "merge with it (none, left, right, both)?",
                 cols, 0, utf8);
    size_t note = 0;
    unsigned q = 0;
    for (unsigned long k = 0; k < max_ops; k++) {
        Handout_Notes(ui, out, &note, cols, utf8);
        Op op;
        Predict p;
        memset(&p, 0, sizeof p);
        if (!next_op(m, &op))
            break;
        bool ask = setup(&p, m, &op);
        char head[32], line[400];
        if (ask)
            snprintf(head, sizeof head, "Q%u", ++q);
        else
            snprintf(head, sizeof head, "#%zu", (size_t)m->ops + 1);
        if (m->nlanes > 1)
            fprintf(out, "%s\n", head);
        Choice *ch[VIZ_LANES_MAX] = {NULL};
        size_t nch[VIZ_LANES_MAX] = {0};
        uint64_t before[VIZ_LANES_MAX];
        for (unsigned i = 0; i < m->nlanes; i++) {
            const Lane *l = &m->lanes[i];
            Handout_Bar(ui, &m->lanes[i], out, cols, utf8,
                        m->nlanes > 1 ? MemPolicy_Name(l->policy) : head);
            ch[i] = choices(l, p.slot[i], &nch[i]);
            if (ask && !p.is_free)
                free_list(l, ch[i], nch[i], p.slot[i], out, cols, utf8);
            before[i] = l->log_total;
        }
        if (!ask)
            snprintf(line, sizeof line, "(a %s of id %u, which holds no object: nothing happens)",
                     op.kind == OP_FREE ? "free" : "realloc", op.id);
        else if (p.is_free)
            free_question(m, &p, &op, line, sizeof line);
        else
            snprintf(line, sizeof line, "%s %zu B: in which free block%s does it land?   ________",
                     op.kind == OP_REALLOC ? "realloc to" : "alloc", p.request,
                     p.slot[0] ? " or free slot" : "");
        Handout_Wrap(out, line, cols, HANDOUT_GUTTER, utf8);
        bool stepped = Model_Step(m);
        if (stepped && ask && m->nlanes > 1)
            fprintf(ans, "%s\n", head);
        for (unsigned i = 0; stepped && ask && i < m->nlanes; i++) {
            size_t got;
            const Lane *l = &m->lanes[i];
            if (asked_in(&p, i) && answer(l, p.is_free, &got))
                key_line(ans, l, m->nlanes > 1 ? MemPolicy_Name(l->policy) : head, p.is_free,
                         got, ch[i], nch[i], before[i], cols, utf8);
        }
        for (unsigned i = 0; i < m->nlanes; i++)
            free(ch[i]);
        if (!stepped)
            break;
    }
    fclose(ans);
    fprintf(out, "\f\nheapviz worksheet %s answer key (from the library's events)\n\n",
            utf8 ? "·" : "-");
    if (key)
        fwrite(key, 1, keylen, out);
    free(key);
    return fflush(out) == 0 && !ferror(out) ? 0 : 1;
}

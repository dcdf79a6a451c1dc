/*
 * lecture.c - captions and pauses of a lecture script (see lecture.h).
 *
 * A script's notes stand at workload positions (m->steps: operations of
 * the script applied so far), so the caption on screen and the place where
 * a running lecture stops follow the script itself, also when typed
 * operations come between and when the time travels back.
 */
#include "lecture.h"

#include "explain.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *Lecture_Caption(const Ui *ui)
{
    if (!ui->script || ui->m->cfg.workload != WL_TRACE)
        return NULL;
    /* while the lecture waits at a pause, the captions after it wait too */
    return Script_Caption(ui->script, (size_t)ui->m->steps, !ui->paused);
}

int Lecture_CaptionRows(const Ui *ui, const Frame *f)
{
    return Lecture_Caption(ui) && f->rows >= VIZ_MIN_ROWS + 2 ? 1 : 0;
}

void Lecture_DrawCaption(const Ui *ui, Frame *f, int y)
{
    const char *c = Lecture_Caption(ui);
    if (!c)
        return;
    Frame_Fill(f, y, 0, f->cols, ' ', S_STATUS);
    int x = Frame_Text(f, y, 1, f->cols - 2, S_STATUS_KEY, f->utf8 ? "▍" : "|");
    x += 1;
    int w = f->cols - 1 - x;
    if (Frame_TextWidth(f, c) > w && w > 1) {
        /* cut, and say so */
        Frame_Text(f, y, x, w - 1, S_STATUS_MSG, c);
        Frame_Text(f, y, f->cols - 2, 1, S_STATUS_MSG, f->utf8 ? "…" : ">");
    } else {
        Frame_Text(f, y, x, w, S_STATUS_MSG, c);
    }
}

void Lecture_Start(Ui *ui)
{
    if (ui->script && ui->m->cfg.workload == WL_TRACE && !ui->paused &&
        Script_PausesAt(ui->script, (size_t)ui->m->steps)) {
        ui->paused = true;
        App_Say(ui, false, "the script pauses here: Space goes on, n steps");
    }
}

bool Lecture_PauseHere(Ui *ui)
{
    bool was = ui->paused;
    Lecture_Start(ui);
    return ui->paused && !was;
}

/* ---- saving a session as a script ------------------------------------------ */

/* The session again, from its own data: the workload's operations (made
 * again from its kind, seed and capacity, or the trace) and the model's
 * typed operations (TypedOp), interleaved as Model_Step applies them.  A
 * typed operation names its object by what it is (a typed allocation's
 * number, a workload id), so the script's allocation numbers follow from
 * the operations alone.  Saver maps the workload's ids and the typed
 * allocations to those numbers while they are live. */
typedef struct Saver {
    Script s;
    size_t cap_ops, cap_notes;
    uint32_t *wid;            /* workload id -> allocation number + 1, 0: none */
    uint32_t nwid;
    uint32_t *typed;          /* typed allocation no -> allocation number + 1 */
    size_t ntyped;
    size_t *size;             /* allocation number -> bytes + 1 while live */
    size_t cap_size;
    unsigned skipped;         /* overflows, frees of the unknown or the dead */
    bool oom;
} Saver;

static void *grow_to(Saver *sv, void *v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return v;
    size_t n = *cap ? *cap * 2 : 64;
    while (n < need)
        n *= 2;
    void *p = realloc(v, n * elem);
    if (!p) {
        sv->oom = true;
        return v;
    }
    *cap = n;
    return p;
}

static void emit(Saver *sv, OpKind kind, uint32_t k, size_t size, size_t at)
{
    Trace *t = &sv->s.trace;
    t->ops = grow_to(sv, t->ops, &sv->cap_ops, t->nops + 1, sizeof *t->ops);
    sv->size = grow_to(sv, sv->size, &sv->cap_size, (size_t)t->nids + 1, sizeof *sv->size);
    if (sv->oom)
        return;
    if (kind == OP_ALLOC) {
        k = t->nids++;
        sv->size[k] = size + 1;
    } else if (kind == OP_REALLOC) {
        sv->size[k] = size + 1;
    } else {
        sv->size[k] = 0;
    }
    t->ops[t->nops++] = (Op){kind, k, size, at};
}

static bool live(const Saver *sv, uint32_t k) { return k < sv->s.trace.nids && sv->size[k]; }

/* The workload's operation op, as the session applied it. */
static void save_step(Saver *sv, const Op *op)
{
    if (op->id >= sv->nwid) {
        sv->skipped++;
        return;
    }
    uint32_t k = sv->wid[op->id] ? sv->wid[op->id] - 1 : UINT32_MAX;
    bool held = k != UINT32_MAX && live(sv, k);
    switch (op->kind) {
    case OP_ALLOC:
        if (held) /* the player frees what the id held first */
            emit(sv, OP_FREE, k, 0, 0);
        emit(sv, OP_ALLOC, 0, op->size ? op->size : 1, 0);
        sv->wid[op->id] = sv->s.trace.nids;
        break;
    case OP_FREE:
        if (held)
            emit(sv, OP_FREE, k, 0, op->at % (sv->size[k] - 1)); /* as the player takes it */
        sv->wid[op->id] = 0;
        break;
    case OP_REALLOC:
        if (held)
            emit(sv, OP_REALLOC, k, op->size ? op->size : 1, 0);
        break;
    }
}

/* A typed operation: allocations every lane made, and frees of an object
 * named by what it is.  Overflows, and frees of a bare offset (which
 * named no object when typed: refused), have no script operation. */
static void save_typed(Saver *sv, const TypedOp *t)
{
    if (t->kind == TYPED_ALLOC) {
        emit(sv, OP_ALLOC, 0, t->size, 0);
        if (t->no < sv->ntyped && !sv->oom)
            sv->typed[t->no] = sv->s.trace.nids;
        return;
    }
    uint32_t k = UINT32_MAX;
    if (t->kind == TYPED_FREE && t->target == TARGET_WORKLOAD && t->id < sv->nwid &&
        sv->wid[t->id]) {
        k = sv->wid[t->id] - 1;
        sv->wid[t->id] = 0; /* the workload's later free of it is skipped */
    } else if (t->kind == TYPED_FREE && t->target == TARGET_TYPED && t->id < sv->ntyped &&
               sv->typed[t->id]) {
        k = sv->typed[t->id] - 1;
    }
    if (k == UINT32_MAX || !live(sv, k)) {
        sv->skipped++;
        return;
    }
    emit(sv, OP_FREE, k, 0, t->offset < sv->size[k] - 1 ? t->offset : 0);
}

/* The source script's notes at workload position `steps`, once. */
static void save_notes(Saver *sv, const Script *src, size_t *next, uint64_t steps)
{
    for (; src && *next < src->nnotes && src->notes[*next].at <= steps; (*next)++) {
        const ScriptNote *n = &src->notes[*next];
        Script *s = &sv->s;
        s->notes = grow_to(sv, s->notes, &sv->cap_notes, s->nnotes + 1, sizeof *s->notes);
        if (sv->oom)
            return;
        s->notes[s->nnotes++] = (ScriptNote){s->trace.nops, n->kind, n->text, n->line};
    }
}

/* The operations up to the step shown, as Model_Step applied them. */
static void save_session(Saver *sv, const Model *m, const Script *src)
{
    Workload *wl = Workload_Create(m->cfg.workload, m->cfg.seed,
                                   m->lanes[0].snap.stats.capacity, m->cfg.trace);
    if (!wl) {
        sv->oom = true;
        return;
    }
    size_t n;
    const TypedOp *typed = Model_TypedOps(m, &n);
    size_t next = 0, t = 0;
    uint64_t steps = 0;
    for (uint64_t pos = 0; pos < m->ops && !sv->oom; pos++) {
        save_notes(sv, src, &next, steps);
        if (t < m->next_typed && typed[t].after <= steps) {
            save_typed(sv, &typed[t++]);
            continue;
        }
        Op op;
        if (!Workload_Next(wl, &op))
            break;
        save_step(sv, &op);
        steps++;
    }
    if (!sv->oom)
        save_notes(sv, src, &next, steps);
    Workload_Destroy(wl);
}

long Lecture_WriteScript(const Ui *ui, FILE *f, char *err, size_t errlen)
{
    const Model *m = ui->m;
    Saver sv;
    memset(&sv, 0, sizeof sv);
    sv.nwid = Workload_MaxIds(m->wl);
    sv.wid = calloc(sv.nwid ? sv.nwid : 1, sizeof *sv.wid);
    Model_TypedOps(m, &sv.ntyped);
    sv.typed = calloc(sv.ntyped ? sv.ntyped : 1, sizeof *sv.typed);
    sv.oom = !sv.wid || !sv.typed;
    const Script *src = ui->script && m->cfg.workload == WL_TRACE ? ui->script : NULL;
    if (src) {
        sv.s.pool = src->pool; /* borrowed: the notes point into it */
        sv.s.poollen = src->poollen;
    }
    if (!sv.oom)
        save_session(&sv, m, src);
    long written = -1;
    if (sv.oom) {
        snprintf(err, errlen, "out of memory");
    } else {
        const Lane *l = &m->lanes[0];
        char comment[400];
        int n = snprintf(comment, sizeof comment,
                         "saved by heapviz: %llu steps of a session (%s, %s%s%s)",
                         (unsigned long long)m->ops,
                         m->nlanes > 1 ? "compare mode" : Explain_Policy(l->policy),
                         m->cfg.workload == WL_TRACE ? "the operations of " : "the ",
                         m->cfg.workload == WL_TRACE ? (ui->trace_name ? ui->trace_name : "a trace")
                                                     : Workload_Name(m->cfg.workload),
                         m->cfg.workload == WL_TRACE ? "" : " workload");
        if (sv.skipped && n > 0 && (size_t)n < sizeof comment)
            snprintf(comment + n, sizeof comment - (size_t)n,
                     "\n%u operations are not in the script: overflows, refused frees, and frees "
                     "the script language cannot name", sv.skipped);
        sv.s.trace.heap_hint = l->snap.region.size;
        sv.s.trace.weight = 1;
        if (Script_Write(&sv.s, comment, f) != 0)
            snprintf(err, errlen, "cannot write the script: %s", strerror(errno));
        else
            written = (long)sv.s.trace.nops;
    }
    free(sv.s.trace.ops);
    free(sv.s.notes);
    free(sv.wid);
    free(sv.typed);
    free(sv.size);
    return written;
}

unsigned Lecture_SavePrompt(Ui *ui, int key)
{
    (void)key;
    ui->prompt = PROMPT_SAVE;
    /* offer a name that does not exist yet */
    for (unsigned i = 1; i < 1000; i++) {
        snprintf(ui->input, sizeof ui->input, "heapviz-%u.hvs", i);
        if (access(ui->input, F_OK) != 0)
            break;
    }
    ui->ninput = (unsigned)strlen(ui->input);
    return R_REDRAW;
}

unsigned Lecture_RunSave(Ui *ui)
{
    const char *path = ui->input;
    if (!*path) {
        App_Say(ui, true, "no file name: nothing saved");
        return R_REDRAW;
    }
    /* never over another file: a lecture's notes may be there */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) {
        App_Say(ui, true, "cannot save to %s: %s%s", path, strerror(errno),
                errno == EEXIST ? " (s again, another name)" : "");
        return R_REDRAW;
    }
    FILE *f = fdopen(fd, "w");
    char err[160];
    long n = f ? Lecture_WriteScript(ui, f, err, sizeof err) : -1;
    if (!f)
        snprintf(err, sizeof err, "%s", strerror(errno));
    if (f && fclose(f) != 0 && n >= 0) {
        snprintf(err, sizeof err, "%s", strerror(errno));
        n = -1;
    } else if (!f) {
        close(fd);
    }
    if (n < 0) {
        unlink(path);
        App_Say(ui, true, "cannot save to %s: %s", path, err);
        return R_REDRAW;
    }
    App_Say(ui, false, "saved %ld operations to %s: heapviz --script %s replays them", n, path,
            path);
    return R_REDRAW;
}

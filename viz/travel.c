/*
 * travel.c - the time-travel keys (see travel.h).  The positions are steps:
 * operations applied since the heaps were created, each one counted once
 * (a realloc too), whether the workload or the user made it.
 */
#include "travel.h"

#include "history.h"
#include "options.h"

#include <stdio.h>
#include <string.h>

/* Steps forward at most this many operations at once (g far ahead). */
#define TRAVEL_MAX_AHEAD 10000000u

void Travel_Arrive(Ui *ui)
{
    History_GetView(ui->m->hist, &ui->sel, &ui->lane);
    if (ui->lane >= ui->m->nlanes)
        ui->lane = 0;
}

static unsigned no_history(Ui *ui, size_t pos)
{
    App_Say(ui, true, "cannot go to step %zu: no history is kept now (out of memory, or heaps "
                      "too large to copy)", pos);
    return R_REDRAW | R_TIMING;
}

unsigned Travel_To(Ui *ui, size_t pos)
{
    History *h = ui->m->hist;
    size_t from = History_Pos(h), first = History_First(h), last = History_Last(h);
    ui->paused = true;
    if (pos < first) {
        App_Say(ui, true, "step %zu is no longer kept: the history starts at step %zu", pos,
                first);
        return R_REDRAW | R_TIMING;
    }
    if (pos <= last) {
        if (History_Goto(h, ui->m, pos) != 0)
            return no_history(ui, pos);
    } else {
        if (History_Goto(h, ui->m, last) != 0)
            return no_history(ui, pos);
        while (History_Pos(h) < pos && Model_Step(ui->m))
            ;
    }
    Travel_Arrive(ui);
    size_t now = History_Pos(h);
    last = History_Last(h);
    if (now < pos)
        App_Say(ui, true, "the operations end at step %zu", now);
    else if (now < last)
        App_Say(ui, false, "step %zu of %zu: b back, n or ] forward, g goes to a step; an "
                           "operation typed here starts a new history", now, last);
    else if (now != from)
        App_Say(ui, false, "step %zu, the latest: n goes on", now);
    else
        App_Say(ui, false, "already at step %zu", now);
    return R_REDRAW | R_TIMING | (now != from ? R_FLASH : 0);
}

unsigned Travel_Back(Ui *ui, int key)
{
    (void)key;
    size_t pos = History_Pos(ui->m->hist);
    if (pos == History_First(ui->m->hist)) {
        ui->paused = true;
        App_Say(ui, true, pos ? "step %zu is the first kept" : "this is the start: step %zu",
                pos);
        return R_REDRAW | R_TIMING;
    }
    return Travel_To(ui, pos - 1);
}

unsigned Travel_Ten(Ui *ui, int key)
{
    size_t pos = History_Pos(ui->m->hist), first = History_First(ui->m->hist);
    if (key == '[') {
        if (pos == first)
            return Travel_Back(ui, key);
        return Travel_To(ui, pos - first >= 10 ? pos - 10 : first);
    }
    return Travel_To(ui, pos + 10);
}

unsigned Travel_Prompt(Ui *ui, int key)
{
    (void)key;
    ui->prompt = PROMPT_GOTO;
    ui->ninput = 0;
    ui->input[0] = '\0';
    return R_REDRAW;
}

unsigned Travel_Run(Ui *ui)
{
    size_t pos;
    const char *s = ui->input;
    while (*s == ' ')
        s++;
    if (Options_ParseSize(s, &pos) != 0 || strpbrk(s, "kKmMgGbB")) {
        App_Say(ui, true, "'%s' is not a step number: type one like 40", ui->input);
        return R_REDRAW;
    }
    if (pos > History_Last(ui->m->hist) + TRAVEL_MAX_AHEAD) {
        App_Say(ui, true, "step %zu is too far ahead: at most %u steps beyond %zu", pos,
                TRAVEL_MAX_AHEAD, History_Last(ui->m->hist));
        return R_REDRAW;
    }
    return Travel_To(ui, pos);
}

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

/* Steps forward at most this many operations at once (g far ahead): the
 * replay holds the keys meanwhile, about 2 s for 10^6 on a small heap. */
#define TRAVEL_MAX_AHEAD 1000000u

void Travel_Arrive(Ui *ui)
{
    History_GetView(ui->m->hist, ui->m->ops, &ui->sel, &ui->lane);
    if (ui->lane >= ui->m->nlanes)
        ui->lane = 0;
}

static unsigned no_history(Ui *ui, size_t pos)
{
    App_Say(ui, true, "cannot go to step %zu: no history is kept now (out of memory; r starts "
                      "again)", pos);
    return R_REDRAW | R_TIMING;
}

unsigned Travel_To(Ui *ui, size_t pos)
{
    History *h = ui->m->hist;
    size_t from = (size_t)ui->m->ops;
    ui->paused = true;
    if (History_Goto(h, ui->m, pos) != 0)
        return no_history(ui, pos);
    Travel_Arrive(ui);
    size_t now = (size_t)ui->m->ops, last = (size_t)History_Last(h);
    if (now < pos)
        App_Say(ui, true, "the operations end at step %zu", now);
    else if (now < last)
        App_Say(ui, false, "step %zu of %zu: b back, n or ] forward, g goes to a step; an "
                           "operation typed here goes in here", now, last);
    else if (now != from)
        App_Say(ui, false, "step %zu, the latest: n goes on", now);
    else
        App_Say(ui, false, "already at step %zu", now);
    return R_REDRAW | R_TIMING | (now != from ? R_FLASH : 0);
}

unsigned Travel_Back(Ui *ui, int key)
{
    (void)key;
    size_t pos = (size_t)ui->m->ops;
    if (pos == 0) {
        ui->paused = true;
        App_Say(ui, true, "this is the start: step 0");
        return R_REDRAW | R_TIMING;
    }
    return Travel_To(ui, pos - 1);
}

unsigned Travel_Ten(Ui *ui, int key)
{
    size_t pos = (size_t)ui->m->ops;
    if (key == '[') {
        if (pos == 0)
            return Travel_Back(ui, key);
        return Travel_To(ui, pos >= 10 ? pos - 10 : 0);
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
    size_t last = (size_t)History_Last(ui->m->hist);
    if (pos > last + TRAVEL_MAX_AHEAD) {
        App_Say(ui, true, "step %zu is too far ahead: at most %u steps beyond %zu", pos,
                TRAVEL_MAX_AHEAD, last);
        return R_REDRAW;
    }
    return Travel_To(ui, pos);
}

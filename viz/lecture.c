/*
 * lecture.c - captions and pauses of a lecture script (see lecture.h).
 *
 * A script's notes stand at workload positions (m->steps: operations of
 * the script applied so far), so the caption on screen and the place where
 * a running lecture stops follow the script itself, also when typed
 * operations come between and when the time travels back.
 */
#include "lecture.h"

#include <stdio.h>
#include <string.h>

const char *Lecture_Caption(const Ui *ui)
{
    if (!ui->script || ui->m->cfg.workload != WL_TRACE)
        return NULL;
    return Script_Caption(ui->script, (size_t)ui->m->steps);
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
        snprintf(ui->msg, sizeof ui->msg, "the script pauses here: Space goes on, n steps");
    }
}

bool Lecture_PauseHere(Ui *ui)
{
    bool was = ui->paused;
    Lecture_Start(ui);
    return ui->paused && !was;
}

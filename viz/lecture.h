/*
 * lecture.h - what a lecture script adds to heapviz's screen and run: the
 * caption bar, the pauses, and saving a session's operations as a script.
 * No curses.
 */
#ifndef VIZ_LECTURE_H
#define VIZ_LECTURE_H

#include "app.h"

#include <stdio.h>

/* The caption in force now (the script's, at the workload's position; the
 * captions after a pause there show once the lecture runs on), or NULL. */
const char *Lecture_Caption(const Ui *ui);

/* Rows the caption bar takes on a screen of this size (0 or 1). */
int Lecture_CaptionRows(const Ui *ui, const Frame *f);
/* Draws the caption bar on row y. */
void Lecture_DrawCaption(const Ui *ui, Frame *f, int y);

/* When heapviz starts (after --skip): a script that pauses there starts
 * paused. */
void Lecture_Start(Ui *ui);

/* After an operation applied while running: whether the script pauses
 * here; if so ui is paused and the status line says so. */
bool Lecture_PauseHere(Ui *ui);

/* Key s: opens the prompt for a file name (a fresh heapviz-N.hvs is
 * offered). */
unsigned Lecture_SavePrompt(Ui *ui, int key);
/* Enter on that prompt. */
unsigned Lecture_RunSave(Ui *ui);

/* Writes the operations from the start to the step shown as a lecture
 * script: the workload's and the typed ones, in order, allocations
 * numbered as the script language numbers them, with the captions and
 * pauses of the script that ran (if any) where they stood.  Overflows and
 * refused frees are left out (said in the header comment).  Returns the
 * number of operations written, or -1 with a sentence in err (nothing is
 * written then). */
long Lecture_WriteScript(const Ui *ui, FILE *f, char *err, size_t errlen);

#endif

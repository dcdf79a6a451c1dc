/*
 * lecture.h - what a lecture script adds to heapviz's screen and run: the
 * caption bar, the pauses, and saving a session's operations as a script.
 * No curses.
 */
#ifndef VIZ_LECTURE_H
#define VIZ_LECTURE_H

#include "app.h"

#include <stdio.h>

/* The caption in force now (the script's, at the workload's position), or
 * NULL. */
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

#endif

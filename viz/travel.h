/*
 * travel.h - heapviz's time-travel keys: b and Backspace step back one
 * operation, [ and ] go ten back or forward, g asks for a step to go to.
 * Actions in the sense of app.h: they change the model and the UI state
 * and return reaction flags; they never draw.
 */
#ifndef VIZ_TRAVEL_H
#define VIZ_TRAVEL_H

#include "app.h"

unsigned Travel_Back(Ui *ui, int key);
unsigned Travel_Ten(Ui *ui, int key);     /* '[' back, ']' forward */
unsigned Travel_Prompt(Ui *ui, int key);  /* 'g': opens the prompt */
/* Enter on the g prompt: goes to the step typed. */
unsigned Travel_Run(Ui *ui);

/* Takes the selection kept with the step now shown. */
void Travel_Arrive(Ui *ui);

/* Goes to step pos: back through the history, or forward by applying
 * operations (the recorded ones, then new ones).  Returns R_* flags. */
unsigned Travel_To(Ui *ui, size_t pos);

#endif

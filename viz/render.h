/*
 * render.h - the live terminal: the only part of heapviz that uses curses.
 */
#ifndef VIZ_RENDER_H
#define VIZ_RENDER_H

#include "app.h"

#include <stdbool.h>

typedef struct RenderOptions {
    bool colour;          /* colours wanted (no --no-color, no NO_COLOR) */
    bool utf8;            /* UTF-8 glyphs wanted (locale, no --ascii) */
    bool mouse;
    unsigned long frames; /* stop after this many frames (0: never) */
    ThemeId theme;
    unsigned flash_ms;    /* the last operation's colours while running */
} RenderOptions;

/* Runs the interactive loop until q, Ctrl-C or a signal.  Returns the exit
 * status; a terminating signal is re-raised after the terminal is restored.
 * ui->glyphs is set from what the terminal can do. */
int Render_Run(Ui *ui, const RenderOptions *ro);

#endif

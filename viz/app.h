/*
 * app.h - heapviz's UI state, its key table and actions, and the screen
 * composer.  Keys map to actions; actions change the state (and the model)
 * and return reaction flags; they never draw.  Screen_Compose draws the
 * state into a Frame (no curses, no clock; see screen.c for what it reads).
 */
#ifndef VIZ_APP_H
#define VIZ_APP_H

#include "frame.h"
#include "freelist.h"
#include "model.h"
#include "predict.h"
#include "script.h"
#include "theme.h"

#include <stdbool.h>
#include <stddef.h>

struct Live;

/* Keys beyond Unicode, as render.c translates them from curses. */
enum {
    VK_UP = 0x110000, VK_DOWN, VK_LEFT, VK_RIGHT, VK_HOME, VK_END, VK_PGUP, VK_PGDN,
    VK_BTAB, VK_F1, VK_RESIZE, VK_MOUSE, VK_BACKSPACE, VK_ENTER, VK_ESC, VK_DELETE
};
#define VK_CTRL(c) ((c) & 0x1f)

/* Reaction flags returned by actions. */
enum {
    R_NONE = 0,
    R_REDRAW = 1,   /* compose and show the screen again */
    R_TIMING = 2,   /* running/paused or speed changed: recompute the timer */
    R_FLASH = 4,    /* an operation happened: start the flash */
    R_CLEAR = 8,    /* repaint the whole terminal (Ctrl-L, resize) */
    R_QUIT = 16,
    R_SUSPEND = 32  /* Ctrl-Z: give the terminal back and stop until fg */
};

typedef enum PromptKind {
    PROMPT_NONE, PROMPT_ALLOC, PROMPT_IFREE,
    PROMPT_GOTO,   /* g: a step to go to (travel.c) */
    PROMPT_SAVE,   /* s: the file to save the session in (lecture.c) */
    PROMPT_PREDICT /* predict mode's question (predict.c) */
} PromptKind;

/* Where a lane's map landed on the last composed screen. */
typedef struct MapGeom {
    bool valid;
    int y, x;        /* top-left bar cell */
    int rows, cols;  /* bar rows (each followed by a marker row), cells a row */
    int stride;      /* screen lines a bar row takes: 2, or 3 with buddy's
                        level row above it (map_stride) */
    size_t start, end, bpc;
} MapGeom;

#define VIZ_MSG_SECONDS 6
#define VIZ_MIN_COLS 40
#define VIZ_MIN_ROWS 10

typedef struct Ui {
    Model *m;
    GlyphMode glyphs;
    ThemeId theme;           /* the colours of the screen and of exports */
    bool paused;
    bool help;
    int help_top;            /* first help line shown (the screen clamps it) */
    int help_rows;           /* help lines the last screen showed at once */
    unsigned speed;          /* operations a second asked for */
    unsigned rate;           /* operations a second done over the last second
                                while running, as the live loop measures it;
                                0: not measured (paused, --dump) */
    unsigned lane;           /* focused lane (compare mode) */
    size_t sel;              /* offset of the selected block, SIZE_MAX: none */
    size_t zoom;             /* bytes a cell when zoomed in; 0: the whole arena */
    size_t view_start;       /* first byte of the zoomed view */
    size_t followed;         /* the selection the view last moved to show */
    bool numbers;            /* key #: free blocks numbered in list order */
    PromptKind prompt;
    char input[40];
    unsigned ninput;
    char msg[200];           /* status-line message, "" for none */
    bool msg_warn;
    uint64_t msg_op;         /* Model.ops when it was said: it goes stale with
                                the next step when paused, after VIZ_MSG_SECONDS
                                of operations when running (App_MessageShown) */
    bool flash;              /* the last operation's blocks are flashing */
    int mouse_y, mouse_x;    /* for VK_MOUSE */
    const char *trace_name;  /* --trace/--script FILE or "--ops", for the title */
    const Script *script;    /* the lecture script (or trace) that runs, or NULL:
                                its captions and pauses (lecture.c) */
    Predict predict;         /* predict mode (predict.c) */
    FreeList freelist;       /* the free-list overlay (freelist.c) */
    struct Live *live;       /* live mode (viz/live.h), else NULL */
    int rows, cols;          /* screen size of the last composition */
    MapGeom geom[VIZ_LANES_MAX];
} Ui;

void Ui_Init(Ui *ui, Model *m, GlyphMode g, unsigned speed, bool paused);

/* Dispatches one key through the key table (or the open prompt / help). */
unsigned App_Key(Ui *ui, int key);

/* The arena offset under the mouse (ui->mouse_y, mouse_x) on the last
 * composed screen, and its lane: false when the mouse is not on a map. */
bool App_MouseOffset(const Ui *ui, unsigned *lane, size_t *offset);

/* Sets the status-line message (warn: shown as a warning). */
__attribute__((format(printf, 3, 4))) void App_Say(Ui *ui, bool warn, const char *fmt, ...);

/* The next key of a --keys string, advancing *s; 0 at its end.  A newline is
 * Enter; <Name> names a key that has no character: Up Down Left Right Home
 * End PgUp PgDn Tab S-Tab Esc Enter BS Del F1 C-x (Ctrl-x), and <lt> is '<'.
 * A '<' that starts no known name is itself. */
int App_NextKey(const char **s);

/* The offset typed at the i prompt.  Every offset on screen is hex, so hex
 * is the default ("1c4", "0x1c4", "+0x1c4"); decimal takes a leading d
 * ("d452") or a trailing dot ("452.").  Returns the base understood (16 or
 * 10) and sets *out, or -1 for anything else (nothing set). */
int App_ParseOffset(const char *s, size_t *out);

/* One animation step when running: applies the workload's next operation.
 * Nothing while the help or a prompt is open: they hold the workload, so
 * the map stays what the user is reading (or typing an offset from). */
unsigned App_Step(Ui *ui);
/* Whether the workload moves on its own now: not paused, not ended, and
 * neither the help nor a prompt open. */
bool App_Running(const Ui *ui);

/* The status-line message, or NULL when there is none or it is stale. */
const char *App_Message(const Ui *ui);

/* The speed ladder (operations a second). */
unsigned App_Faster(unsigned speed);
unsigned App_Slower(unsigned speed);

/* Composes the whole screen for ui into f (f's size is the screen). */
void Screen_Compose(Ui *ui, Frame *f);
/* Lane l's history of external fragmentation (or utilisation) as a column
 * chart h rows high in [x, x + w), newest on the right, `per` samples a
 * column (the history panel's chart). */
void Screen_Chart(Frame *f, const Lane *l, bool util, int y, int x, int w, int h, size_t per);

/* For the help overlay and the man page: the key table. */
typedef struct KeyHelp {
    const char *keys;
    const char *what;
} KeyHelp;
const KeyHelp *App_KeyHelp(size_t *n);

#endif

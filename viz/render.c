/*
 * render.c - copies composed Frames to the terminal with ncursesw, reads
 * keys and the mouse, keeps time, and restores the terminal on every way
 * out: q, Ctrl-C, SIGTERM/SIGHUP/SIGQUIT, and crashes (then the signal is
 * re-raised through the handler that was there before, so sanitizers and
 * core dumps still see it).  While paused it blocks in the key read.
 */
#include "render.h"

#include "frame.h"
#include "theme.h"

#include <curses.h>
#include <term.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <termios.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#define FRAME_MS 33
#define MSG_MS 6000 /* a status message fades after this long */
#define MAX_WAIT_MS 500 /* the longest a key read blocks, even while paused */

static volatile sig_atomic_t got_signal;
static volatile sig_atomic_t curses_on;
#ifndef NSIG
#define NSIG 65
#endif
static struct sigaction old_crash[NSIG];

/* What a crash handler may do without re-entering curses or stdio: write
 * bytes worked out at start-up (attributes off, cursor on, mouse reports off,
 * leave the alternate screen) and put back the shell's terminal modes. */
static struct termios shell_modes;
static bool have_shell_modes;
static char crash_bytes[256];
static size_t crash_len;

static void crash_add(const char *s)
{
    if (!s || s == (const char *)-1)
        return;
    size_t n = strlen(s);
    if (crash_len + n < sizeof crash_bytes) {
        memcpy(crash_bytes + crash_len, s, n);
        crash_len += n;
    }
}

static void restore_terminal(void)
{
    if (curses_on) {
        curses_on = 0;
        mousemask(0, NULL);
        endwin();
    }
}

static void on_quit_signal(int sig) { got_signal = sig; }

/* Ctrl-Z: the terminal's SIGTSTP (or the key, where the terminal sends it
 * as one) asks to suspend; SIGCONT says a shell resumed us. */
static volatile sig_atomic_t got_stop, got_cont;
static void on_stop(int sig) { (void)sig; got_stop = 1; }
static void on_cont(int sig) { (void)sig; got_cont = 1; }

static void on_crash(int sig)
{
    if (curses_on) {
        curses_on = 0;
        ssize_t w = write(STDOUT_FILENO, crash_bytes, crash_len);
        (void)w;
        if (have_shell_modes)
            tcsetattr(STDIN_FILENO, TCSANOW, &shell_modes);
    }
    static const char msg[] = "heapviz: crashed (signal); the terminal was restored\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
    if (sig > 0 && sig < NSIG)
        sigaction(sig, &old_crash[sig], NULL);
    else
        signal(sig, SIG_DFL);
    raise(sig);
}

/* Every signal whose default action ends the process gets a handler, so
 * that none leaves the terminal in heapviz's modes.  Those a user or the
 * system sends end it the orderly way (the loop notices, curses restores
 * the terminal, the signal is raised again); faults, and signals that may
 * come from a fault, take the crash path: bytes worked out at start-up and
 * the shell's modes, from the handler itself.  Ctrl-C and the other keys
 * and hangups that mean "stop" always end heapviz; any other signal that
 * was ignored when heapviz started (nohup, a shell's trap) stays ignored. */
static void install_signals(void)
{
    static const int always[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    static const int orderly[] = {SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE, SIGVTALRM, SIGPROF, SIGIO,
#ifdef SIGPWR
                                  SIGPWR,
#endif
#ifdef SIGSTKFLT
                                  SIGSTKFLT,
#endif
    };
    static const int crash[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGSYS, SIGTRAP,
                                SIGXCPU, SIGXFSZ};
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_quit_signal; /* no SA_RESTART: the key read returns */
    for (size_t i = 0; i < sizeof always / sizeof always[0]; i++)
        sigaction(always[i], &sa, NULL);
    for (size_t i = 0; i < sizeof orderly / sizeof orderly[0]; i++)
        if (sigaction(orderly[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
            sigaction(orderly[i], &sa, NULL);
    for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
        if (sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
            sigaction(sig, &sa, NULL);
    sa.sa_handler = on_stop;
    sigaction(SIGTSTP, &sa, NULL);
    sa.sa_handler = on_cont;
    sigaction(SIGCONT, &sa, NULL);
    sa.sa_handler = on_crash;
    sa.sa_flags = (int)(SA_RESETHAND | SA_NODEFER);
    for (size_t i = 0; i < sizeof crash / sizeof crash[0]; i++)
        sigaction(crash[i], &sa, &old_crash[crash[i]]);
}

/* Gives the terminal back to the shell and stops the process group (as
 * the shell's own Ctrl-Z would), then takes the terminal again when
 * continued.  A group that no shell controls (started by `sh -c` in a
 * terminal, say) cannot be stopped: the kernel drops the stop, and heapviz
 * says so instead of leaving the user guessing.  Returns true when it was
 * stopped and resumed. */
static bool suspend_self(void)
{
    endwin();
    got_cont = 0;
    struct sigaction dfl, old;
    memset(&dfl, 0, sizeof dfl);
    sigemptyset(&dfl.sa_mask);
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGTSTP, &dfl, &old);
    kill(0, SIGTSTP);
    sigaction(SIGTSTP, &old, NULL);
    got_stop = 0;
    clearok(curscr, TRUE);
    refresh(); /* back in the program's terminal modes, redrawn */
    return got_cont != 0;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- colours ------------------------------------------------------------------- */

static bool use_colour;
static bool many_colours;
static short pair_fg[256], pair_bg[256];
static int npairs;

static int pair_for(int fg, int bg)
{
    /* Neighbouring cells mostly share their colours: try the last answer. */
    static int last_fg = -2, last_bg = -2, last_pair;
    if (fg == last_fg && bg == last_bg)
        return last_pair;
    for (int i = 0; i < npairs; i++)
        if (pair_fg[i] == fg && pair_bg[i] == bg) {
            last_fg = fg, last_bg = bg, last_pair = i + 1;
            return i + 1;
        }
    if (npairs + 1 >= COLOR_PAIRS || npairs >= 255)
        return 0;
    pair_fg[npairs] = (short)fg;
    pair_bg[npairs] = (short)bg;
    npairs++;
    init_pair((short)npairs, (short)fg, (short)bg);
    last_fg = fg, last_bg = bg, last_pair = npairs;
    return npairs;
}

static attr_t va_to_curses(unsigned a)
{
    attr_t r = A_NORMAL;
    if (a & VA_BOLD)
        r |= A_BOLD;
    if (a & VA_REVERSE)
        r |= A_REVERSE;
    if (a & VA_UNDERLINE)
        r |= A_UNDERLINE;
    if (a & VA_DIM)
        r |= A_DIM;
    return r;
}

static ThemeId theme;

static void draw_frame(const Frame *f)
{
    for (int y = 0; y < f->rows; y++) {
        for (int x = 0; x < f->cols; x++) {
            const FCell *c = &f->c[(size_t)y * (size_t)f->cols + (size_t)x];
            Style fs = (Style)c->fg;
            attr_t attr;
            int pair = 0;
            if (use_colour) {
                int fg, bg;
                unsigned va;
                Frame_CellColors(c, theme, many_colours, &fg, &bg, &va);
                pair = pair_for(fg, bg);
                attr = va_to_curses(va);
            } else {
                attr = va_to_curses(Theme_Styles[fs].mono_attr | (c->attr & ~(unsigned)VA_SPLIT));
            }
            wchar_t wc[2] = {(wchar_t)c->ch, 0};
            cchar_t cc;
            setcchar(&cc, wc, attr, (short)pair, NULL);
            /* the bottom-right corner would scroll some terminals */
            if (y == f->rows - 1 && x == f->cols - 1)
                mvins_wch(y, x, &cc);
            else
                mvadd_wch(y, x, &cc);
        }
    }
}

/* ---- keys ------------------------------------------------------------------------- */

static int translate(Ui *ui, int r, wint_t wc)
{
    if (r == KEY_CODE_YES) {
        switch (wc) {
        case KEY_UP: return VK_UP;
        case KEY_DOWN: return VK_DOWN;
        case KEY_LEFT: return VK_LEFT;
        case KEY_RIGHT: return VK_RIGHT;
        case KEY_HOME: return VK_HOME;
        case KEY_END: return VK_END;
        case KEY_PPAGE: return VK_PGUP;
        case KEY_NPAGE: return VK_PGDN;
        case KEY_BTAB: return VK_BTAB;
        case KEY_F(1): return VK_F1;
        case KEY_RESIZE: return VK_RESIZE;
        case KEY_BACKSPACE: return VK_BACKSPACE;
        case KEY_ENTER: return VK_ENTER;
        case KEY_DC: return VK_DELETE;
        case KEY_MOUSE: {
            MEVENT ev;
            if (getmouse(&ev) != OK)
                return -1;
            if (!(ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON1_RELEASED)))
                return -1;
            ui->mouse_y = ev.y;
            ui->mouse_x = ev.x;
            return VK_MOUSE;
        }
        default: return (int)wc + 0x200000;
        }
    }
    if (wc == 27)
        return VK_ESC;
    if (wc == '\n' || wc == '\r')
        return VK_ENTER;
    return (int)wc;
}

/* Why this terminal cannot show the live map, or NULL when it can: the
 * map is drawn by placing the cursor (terminfo's cup). */
static const char *unusable_terminal(void)
{
    int err = 0;
    if (setupterm(NULL, STDOUT_FILENO, &err) != OK)
        return "is not in the terminal database";
    const char *cup = tigetstr("cup");
    bool can = cup && cup != (const char *)-1;
    del_curterm(cur_term);
    return can ? NULL : "cannot place the cursor";
}

static int refuse_terminal(const char *why)
{
    const char *term = getenv("TERM");
    fprintf(stderr, "heapviz: this terminal (TERM=%s) %s, so it cannot show the live map.\n"
                    "Use --dump to print the frames as text instead (for example: heapviz "
                    "--dump --frames 3).\n",
            term ? term : "", why);
    return 1;
}

int Render_Run(Ui *ui, const RenderOptions *ro)
{
    const char *why = unusable_terminal();
    if (why)
        return refuse_terminal(why);
    install_signals();
    have_shell_modes = tcgetattr(STDIN_FILENO, &shell_modes) == 0;
    SCREEN *scr = newterm(NULL, stdout, stdin);
    if (!scr)
        return refuse_terminal("cannot be opened");
    curses_on = 1;
    atexit(restore_terminal);
    cbreak();
    noecho();
    nonl();
    /* Ctrl-S must not freeze the display (XON/XOFF flow control): a student
     * presses it by accident, and the map then looks hung.  Ctrl-C and
     * Ctrl-Z stay signals.  endwin() restores the shell's own mode. */
    struct termios tio;
    if (tcgetattr(STDIN_FILENO, &tio) == 0) {
        tio.c_iflag &= ~(tcflag_t)IXON;
        if (tcsetattr(STDIN_FILENO, TCSANOW, &tio) == 0)
            def_prog_mode();
    }
    keypad(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    theme = ro->theme;
    use_colour = ro->colour && has_colors();
    if (use_colour) {
        start_color();
        use_default_colors();
        many_colours = COLORS >= 256;
    }
    if (ro->mouse)
        mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED, NULL), mouseinterval(0);
    crash_add(tigetstr("sgr0"));
    crash_add(tigetstr("cnorm"));
    crash_add(tigetstr("rmkx")); /* keypad-transmit off */
    if (ro->mouse && tigetstr("kmous") && tigetstr("kmous") != (char *)-1)
        crash_add("\033[?1000l\033[?1006l"); /* xterm-style mouse reports off */
    crash_add(tigetstr("rmcup"));
    ui->glyphs.utf8 = ro->utf8;
    ui->glyphs.colour = use_colour;

    Frame f = {0, 0, ro->utf8, NULL};
    unsigned long frames = 0;
    long long next_tick = now_ms(), flash_until = 0, msg_until = 0;
    char shown_msg[sizeof ui->msg] = "";
    unsigned pending = R_REDRAW | R_CLEAR;
    int status = 0;
    /* the rate that runs: operations over the last second of running */
    long long rate_t0 = now_ms();
    uint64_t rate_ops0 = ui->m->ops;
    unsigned rate_speed = ui->speed;
    for (;;) {
        if (got_signal)
            break;
        long long t = now_ms();
        if (!App_Running(ui) || rate_speed != ui->speed) {
            rate_t0 = t, rate_ops0 = ui->m->ops, rate_speed = ui->speed;
            ui->rate = 0;
        } else if (t - rate_t0 >= 1000) {
            unsigned r = (unsigned)((ui->m->ops - rate_ops0) * 1000 / (uint64_t)(t - rate_t0));
            if (r != ui->rate)
                pending |= R_REDRAW;
            ui->rate = r;
            rate_t0 = t, rate_ops0 = ui->m->ops;
        }
        /* paused, the last operation keeps its colours until the next */
        if (ui->flash && !ui->paused && t >= flash_until) {
            ui->flash = false;
            pending |= R_REDRAW;
        }
        if (App_Running(ui) && t >= next_tick) {
            unsigned per = ui->speed > 1000 / FRAME_MS ? ui->speed / (1000 / FRAME_MS) : 1;
            /* at most a frame's time of work, so keys stay responsive; a
             * script's pause stops the run between two steps */
            for (unsigned i = 0; i < per && !ui->paused && (i == 0 || now_ms() - t < FRAME_MS);
                 i++)
                pending |= App_Step(ui);
            long long step = ui->speed > 1000 / FRAME_MS ? FRAME_MS : 1000 / (long long)ui->speed;
            next_tick += step;
            if (next_tick < t)
                next_tick = t + step;
        }
        if (pending & R_FLASH) {
            ui->flash = true;
            flash_until = now_ms() + ro->flash_ms;
        }
        if (pending & R_QUIT)
            break;
        if ((pending & R_SUSPEND) || got_stop) {
            bool resumed = suspend_self();
            if (!resumed)
                snprintf(ui->msg, sizeof ui->msg, "Ctrl-Z: no job control here to suspend heapviz");
            ui->msg_warn = !resumed;
            pending |= R_CLEAR | R_REDRAW | R_TIMING;
        }
        /* a message stays a while, then the status line shows the last op */
        if (strcmp(shown_msg, ui->msg) != 0) {
            snprintf(shown_msg, sizeof shown_msg, "%s", ui->msg);
            msg_until = now_ms() + MSG_MS;
        } else if (ui->msg[0] && now_ms() >= msg_until && ui->prompt == PROMPT_NONE) {
            ui->msg[0] = shown_msg[0] = '\0';
            pending |= R_REDRAW;
        }
        if (pending & R_TIMING)
            next_tick = now_ms() + (ui->speed ? 1000 / (long long)ui->speed : 1000);
        if (pending & (R_REDRAW | R_CLEAR)) {
            if (f.rows != LINES || f.cols != COLS || !f.c) {
                Frame_Free(&f);
                if (Frame_Init(&f, LINES, COLS, ro->utf8) != 0) {
                    status = 1;
                    break;
                }
            }
            Screen_Compose(ui, &f);
            if (pending & R_CLEAR)
                clearok(curscr, TRUE);
            draw_frame(&f);
            refresh();
            frames++;
            if (ro->frames && frames >= ro->frames)
                break;
        }
        pending = 0;

        /* how long to wait for a key: forever when nothing moves */
        long long wait = -1;
        t = now_ms();
        if (App_Running(ui))
            wait = next_tick > t ? next_tick - t : 0;
        if (ui->flash && !ui->paused) {
            long long fw = flash_until > t ? flash_until - t : 0;
            wait = wait < 0 || fw < wait ? fw : wait;
        }
        if (ui->msg[0]) {
            long long mw = msg_until > t ? msg_until - t : 0;
            wait = wait < 0 || mw < wait ? mw : wait;
        }
        /* A quit signal that came while the frame was drawn is seen now; one
         * that comes between this test and the read is seen within MAX_WAIT
         * (the read returns at the latest then, and the loop tests again). */
        if (got_signal)
            break;
        if (wait < 0 || wait > MAX_WAIT_MS)
            wait = MAX_WAIT_MS;
        timeout((int)wait);
        wint_t wc;
        int r = get_wch(&wc);
        if (r == ERR)
            continue; /* timeout, or a signal */
        int key = translate(ui, r, wc);
        if (key < 0)
            continue;
        pending |= App_Key(ui, key);
    }
    Frame_Free(&f);
    restore_terminal();
    delscreen(scr);
    if (got_signal) {
        int sig = got_signal;
        signal(sig, SIG_DFL);
        raise(sig);
        return 128 + sig;
    }
    return status;
}

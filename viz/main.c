/*
 * main.c - heapviz: options, the model, then either the live terminal
 * (render.c) or --dump, which prints the same composed frames as text.
 */
#include "app.h"
#include "export.h"
#include "frame.h"
#include "handout.h"
#include "lecture.h"
#include "live.h"
#include "model.h"
#include "options.h"
#include "render.h"
#include "script.h"

#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEAPVIZ_VERSION "1.0.0"

static int env_int(const char *name, int fallback, int lo, int hi)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return fallback;
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < lo || n > hi)
        return fallback;
    return (int)n;
}

/* Frames as text: the first before any operation, then one a step, until
 * --frames or the end of a trace. */
static int run_dump(Ui *ui, const Options *o, bool utf8)
{
    int rows = env_int("LINES", 24, 1, 1000), cols = env_int("COLUMNS", 80, 1, 1000);
    if (rows < VIZ_MIN_ROWS || cols < VIZ_MIN_COLS) {
        fprintf(stderr, "heapviz: --dump needs a screen of at least %dx%d; LINES=%d COLUMNS=%d "
                        "give %dx%d\n", VIZ_MIN_COLS, VIZ_MIN_ROWS, rows, cols, cols, rows);
        return 1;
    }
    Frame f;
    if (Frame_Init(&f, rows, cols, utf8) != 0) {
        fprintf(stderr, "heapviz: out of memory\n");
        return 1;
    }
    unsigned long frames = o->frames ? o->frames : 1;
    for (unsigned long i = 0; i < frames; i++) {
        bool last = false;
        if (ui->live) {
            /* a frame every --interval ms, the last one when the program
             * has ended (its last heap, its exit status) */
            App_Step(ui);
            last = ui->live->exited;
            if (!last && i + 1 < frames) {
                struct timespec ts = {(time_t)(o->interval / 1000),
                                      (long)(o->interval % 1000) * 1000000L};
                nanosleep(&ts, NULL);
            }
        } else if (i > 0) {
            App_Step(ui);
            if (ui->m->ended)
                break; /* the trace has no more operations */
        }
        Screen_Compose(ui, &f);
        if (i > 0)
            fputs("\f\n", stdout);
        Frame_Dump(&f, stdout);
        if (last)
            break;
    }
    Frame_Free(&f);
    return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    Options o;
    char err[256];
    int r = Options_Parse(argc, argv, &o, err, sizeof err);
    if (r == OPT_HELP) {
        fputs(Options_Usage(), stdout);
        return 0;
    }
    if (r == OPT_VERSION) {
        printf("heapviz %s (libmem %s)\n", HEAPVIZ_VERSION, MEM_VERSION);
        return 0;
    }
    if (r == OPT_ERROR) {
        /* one line that stays on the screen, and where the rest is */
        fprintf(stderr, "heapviz: %s\nheapviz --help lists the options.\n", err);
        return 2;
    }
    if (!o.dump && !o.svg && !o.html && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
        fprintf(stderr, "heapviz: standard input and output must be a terminal to draw the "
                        "live map.\nUse --dump to print the frames as text instead (for "
                        "example: heapviz --dump --frames 3).\n");
        return 1;
    }
    const char *nc = getenv("NO_COLOR");
    bool colour = !o.no_color && !(nc && *nc);
    const char *cs = nl_langinfo(CODESET);
    bool utf8 = !o.ascii && cs && strcmp(cs, "UTF-8") == 0;

    /* --trace, --script and --ops: one loader takes a script or a .rep */
    Script script;
    memset(&script, 0, sizeof script);
    const char *source = o.trace ? o.trace : o.script;
    size_t size = o.size;
    if (source || o.ops) {
        int rc = o.ops ? Script_Parse(o.ops, strlen(o.ops), "--ops", &script, err, sizeof err)
                       : Script_Load(source, &script, err, sizeof err);
        if (rc != 0) {
            fprintf(stderr, "heapviz: %s\n", err);
            return 1;
        }
        if (!o.size_given && script.trace.heap_hint) {
            /* the trace's suggested heap, or the script's size */
            size = script.trace.heap_hint;
            if (size < VIZ_MIN_SIZE)
                size = VIZ_MIN_SIZE;
            if (size > VIZ_MAX_SIZE)
                size = VIZ_MAX_SIZE;
        }
    }

    bool live_mode = o.command || o.attach;
    Live live;
    memset(&live, 0, sizeof live);
    live.fd = -1;
    if (live_mode) {
        char so[PATH_MAX], out[PATH_MAX];
        const char *tmpdir = getenv("TMPDIR");
        snprintf(out, sizeof out, "%s/heapviz.%ld.out", tmpdir && *tmpdir ? tmpdir : "/tmp",
                 (long)getpid());
        int lr;
        if (o.attach) {
            lr = Live_Attach(&live, (pid_t)o.attach, err, sizeof err);
        } else if (!Live_FindMalloc(so, sizeof so)) {
            snprintf(err, sizeof err, "cannot find libmem-malloc.so next to heapviz (build it "
                                      "with make, or set HEAPVIZ_MALLOC)");
            lr = -1;
        } else {
            lr = Live_Start(&live, o.command, so, o.output ? o.output : out, o.size, err,
                            sizeof err);
        }
        if (lr != 0) {
            fprintf(stderr, "heapviz: %s\n", err);
            Live_Finish(&live);
            Script_Free(&script);
            return 1;
        }
    }

    ModelConfig cfg;
    memset(&cfg, 0, sizeof cfg);
    /* --size is the arena: the region adds libmem's control structure */
    cfg.region_size = MemHeap_ControlSize() + size;
    cfg.flags = o.guard ? MEM_OPT_GUARD : 0;
    cfg.order = o.order;
    cfg.coalesce = o.coalesce;
    cfg.workload = o.workload;
    cfg.seed = o.seed;
    cfg.trace = source || o.ops ? &script.trace : NULL;
    cfg.live = live_mode;
    if (o.nlanes) {
        cfg.nlanes = o.nlanes;
        memcpy(cfg.policies, o.lanes, sizeof cfg.policies);
    } else {
        cfg.nlanes = 1;
        cfg.policies[0] = o.policy;
    }
    Model m;
    if (Model_Init(&m, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "heapviz: %s\n", err);
        Script_Free(&script);
        Live_Finish(&live);
        return 1;
    }
    Ui ui;
    GlyphMode g = {utf8, 0};
    /* live: a frame 20 times a second, each a fresh read of the program's heap */
    Ui_Init(&ui, &m, g, live_mode ? 20 : o.speed, live_mode ? false : o.paused);
    ui.theme = o.theme_given ? o.theme : Theme_FromColorFgBg(getenv("COLORFGBG"));
    if (live_mode) {
        /* the first frame (and --keys) once the program's heap is there:
         * at most 2 s, or until it ends */
        ui.live = &live;
        for (int k = 0; k < 200 && !m.lanes[0].heap && !live.exited; k++) {
            App_Step(&ui);
            if (!m.lanes[0].heap)
                nanosleep(&(struct timespec){0, 10000000L}, NULL);
        }
    }
    const char *slash = source ? strrchr(source, '/') : NULL;
    ui.trace_name = slash ? slash + 1 : o.ops ? "--ops" : source;
    ui.script = cfg.trace ? &script : NULL;
    for (unsigned long i = 0; i < o.skip && Model_Step(&m); i++)
        ;
    Lecture_Start(&ui);
    ui.predict.on = o.predict;
    /* --keys: typed one by one, each on the screen the last one left, so
     * that keys which depend on the layout (zoom, up/down) work as live */
    unsigned typed = R_NONE;
    if (o.keys && *o.keys) {
        Frame scratch;
        if (Frame_Init(&scratch, env_int("LINES", 24, 1, 1000), env_int("COLUMNS", 80, 1, 1000),
                       utf8) == 0) {
            const char *k = o.keys;
            for (int key; !(typed & R_QUIT) && (key = App_NextKey(&k)) != 0;) {
                Screen_Compose(&ui, &scratch);
                typed |= App_Key(&ui, key);
            }
            Frame_Free(&scratch);
        }
    }

    int status;
    /* --svg, --html: the frame as a file, no terminal needed */
    if (!(typed & R_QUIT) && (o.svg || o.html)) {
        int rows = env_int("LINES", 24, 1, 1000), cols = env_int("COLUMNS", 80, 1, 1000);
        if (Export_Screen(&ui, rows, cols, o.ascii, o.svg, o.html, true, err, sizeof err) != 0) {
            fprintf(stderr, "heapviz: %s\n", err);
            Model_Fini(&m);
            Script_Free(&script);
            return 1;
        }
        if (!o.dump) {
            Model_Fini(&m);
            Script_Free(&script);
            return 0;
        }
    }
    if (typed & R_QUIT) {
        status = 0;
    } else if (o.dump && o.predict) {
        unsigned long max = o.frames ? o.frames : o.workload == WL_TRACE ? ULONG_MAX : 20;
        status = Predict_Worksheet(&ui, stdout, env_int("COLUMNS", 80, 20, 1000), utf8, max);
    } else if (o.dump && o.handout) {
        /* a trace or script to its end; a generated workload --frames ops (20) */
        unsigned long max = o.frames ? o.frames : o.workload == WL_TRACE ? ULONG_MAX : 20;
        status = Handout_Print(&ui, stdout, env_int("COLUMNS", 80, 20, 1000), utf8, max);
    } else if (o.dump) {
        status = run_dump(&ui, &o, utf8);
    } else {
        RenderOptions ro = {colour, utf8, !o.no_mouse, o.frames, ui.theme, o.flash_ms};
        status = Render_Run(&ui, &ro);
    }
    Live_Finish(&live);
    Model_Fini(&m);
    Script_Free(&script);
    return status;
}

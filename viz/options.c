/*
 * options.c - the command line as a pure function (see options.h).
 *
 * Hand-written instead of getopt_long, whose global state (optind, opterr)
 * and stderr messages would make the parser neither pure nor fuzzable.
 */
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: heapviz [options]\n"
    "       heapviz [options] -- COMMAND [ARGS...]\n"
    "       heapviz [options] --attach PID\n"
    "Draws a libmem heap as a live map while a workload allocates and frees;\n"
    "or the heap of a running program, on lib/libmem-malloc.so (live mode).\n"
    "\n"
    "  -s, --size SIZE        bytes of each heap, K/M/G, 256 to 1G (default 8K)\n"
    "  -p, --policy NAME      first, next, best, worst, fast or buddy (default first)\n"
    "  -w, --workload NAME    random (default), stack, queue, fragmenter or phased\n"
    "  -t, --trace FILE       replay a malloc-lab .rep trace instead\n"
    "      --ops TEXT         a lecture script: \"a100 a200 f0 a50 f1+30\"\n"
    "      --script FILE      a lecture script file (captions, pauses) or a .rep\n"
    "      --predict          ask where each allocation lands before showing it\n"
    "      --seed N           seed of the workload (default 1): same seed, same run\n"
    "      --speed N          operations per second while running (default 8)\n"
    "  -c, --compare LIST     one heap per policy, in lockstep: first,best,worst,fast\n"
    "                         (\"all\" for the six)\n"
    "      --order ORDER      the free list of first, next, best and worst fit:\n"
    "                         addr (by address, default), lifo or fifo\n"
    "      --coalesce WHEN    their coalescing: now (default), deferred (until an\n"
    "                         allocation finds no block) or never.  Fixed whatever\n"
    "                         the knobs: 8-byte headers, 16-byte alignment, and\n"
    "                         fast's and buddy's own structures\n"
    "      --guard            guard bytes after every object: overflows are caught\n"
    "      --paused           start paused (Space runs, n steps)\n"
    "      --flash MS         the last operation's colours stay MS ms while running\n"
    "                         (default 400); paused, until the next operation\n"
    "      --ascii            ASCII glyphs only (also in a non-UTF-8 locale)\n"
    "  -C, --no-color         no colour (also when NO_COLOR is set): glyphs carry all\n"
    "      --theme NAME       dark, light or contrast (a projector); default from\n"
    "                         COLORFGBG: light on a light background, else dark\n"
    "      --no-mouse         do not take mouse clicks\n"
    "      --frames N         stop after N frames\n"
    "      --skip N           apply N operations before the first frame\n"
    "      --keys KEYS        type these keys first (a newline is Enter, <PgDn> PgDn)\n"
    "      --dump             print the frames as plain text, no terminal needed;\n"
    "                         the screen size comes from LINES and COLUMNS (80x24)\n"
    "      --handout          with --dump: one bar and one line per operation\n"
    "      --svg FILE         write the frame as SVG (no terminal needed)\n"
    "      --html FILE        write the frame as a standalone HTML page\n"
    "  -- COMMAND [ARGS...]   live: run COMMAND on libmem and draw its heap\n"
    "      --attach PID       live: a program started with MEM_SHARE=1\n"
    "      --output FILE      live: the program's stdout and stderr (default\n"
    "                         $TMPDIR/heapviz.PID.out, named on the status line)\n"
    "      --interval MS      live with --dump: time between frames (default 100)\n"
    "  -h, --help             this text\n"
    "  -V, --version          the version\n"
    "\n"
    "Keys: Space pause, n step, +/- speed, a allocate, f free, i interior free,\n"
    "arrows/hjkl/Tab select, z/Z zoom, p policy, w workload, r reset, ? help, q quit.\n"
    "See heapviz(1).\n";

const char *Options_Usage(void) { return usage; }

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
                                                       ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
        /* one line, whatever argv held: control characters become '?' */
        for (char *p = err; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = '?';
    }
    return OPT_ERROR;
}

/* Unsigned decimal (or 0x hex) that fits in *out and is <= max. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (!s || !*s)
        return -1;
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        if (!*s)
            return -1;
    }
    uint64_t v = 0;
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (base == 16 && isxdigit((unsigned char)*s))
            d = (unsigned)(tolower((unsigned char)*s) - 'a' + 10);
        else
            return -1;
        if (v > (UINT64_MAX - d) / base)
            return -1;
        v = v * base + d;
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

int Options_ParseSize(const char *s, size_t *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    uint64_t v = 0;
    while (isdigit((unsigned char)*s)) {
        unsigned d = (unsigned)(*s++ - '0');
        if (v > (UINT64_MAX - d) / 10u)
            return -1;
        v = v * 10u + d;
    }
    unsigned shift = 0;
    switch (toupper((unsigned char)*s)) {
    case 'K': shift = 10; s++; break;
    case 'M': shift = 20; s++; break;
    case 'G': shift = 30; s++; break;
    default: break;
    }
    /* an optional "iB" / "B" after the suffix, or "B" alone */
    if (shift && (*s == 'i' || *s == 'I') && (s[1] == 'B' || s[1] == 'b'))
        s += 2;
    else if (*s == 'B' || *s == 'b')
        s++;
    if (*s)
        return -1;
    if (shift && v > (UINT64_MAX >> shift))
        return -1;
    v <<= shift;
    if (v > SIZE_MAX)
        return -1;
    *out = (size_t)v;
    return 0;
}

static int parse_compare(const char *s, Options *o, char *err, size_t errlen)
{
    o->nlanes = 0;
    if (strcmp(s, "all") == 0) {
        for (unsigned i = 0; i < MEM_POLICY_COUNT; i++)
            o->lanes[o->nlanes++] = (MemPolicy)i;
        return OPT_RUN;
    }
    const char *p = s;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char name[16];
        if (n == 0 || n >= sizeof name)
            return fail(err, errlen, "--compare: '%.*s' is not a policy (first, next, best, "
                                     "worst, fast, buddy)", (int)(n < 40 ? n : 40), p);
        memcpy(name, p, n);
        name[n] = '\0';
        MemPolicy pol;
        if (MemPolicy_Parse(name, &pol) != 0)
            return fail(err, errlen,
                        "--compare: '%s' is not a policy (first, next, best, worst, fast, buddy)",
                        name);
        for (unsigned i = 0; i < o->nlanes; i++)
            if (o->lanes[i] == pol)
                return fail(err, errlen, "--compare: '%s' is listed twice", name);
        if (o->nlanes == VIZ_MAX_LANES)
            return fail(err, errlen, "--compare: at most %u policies", VIZ_MAX_LANES);
        o->lanes[o->nlanes++] = pol;
        if (!comma)
            break;
        p = comma + 1;
    }
    return OPT_RUN;
}

typedef enum {
    O_SIZE, O_POLICY, O_WORKLOAD, O_TRACE, O_SEED, O_SPEED, O_COMPARE, O_GUARD, O_PAUSED,
    O_ASCII, O_NOCOLOR, O_NOMOUSE, O_FRAMES, O_SKIP, O_KEYS, O_DUMP, O_HELP, O_VERSION,
    O_OPS, O_SCRIPT, O_SVG, O_HTML, O_HANDOUT, O_PREDICT, O_ORDER, O_COALESCE, O_THEME,
    O_FLASH, O_ATTACH, O_OUTPUT, O_INTERVAL
} OptId;

typedef struct {
    const char *name; /* long name, without "--" */
    char letter;      /* short name, or 0 */
    bool arg;
    OptId id;
} OptDef;

static const OptDef defs[] = {
    {"size", 's', true, O_SIZE},         {"policy", 'p', true, O_POLICY},
    {"workload", 'w', true, O_WORKLOAD}, {"trace", 't', true, O_TRACE},
    {"seed", 0, true, O_SEED},           {"speed", 0, true, O_SPEED},
    {"compare", 'c', true, O_COMPARE},   {"guard", 0, false, O_GUARD},
    {"paused", 0, false, O_PAUSED},      {"ascii", 0, false, O_ASCII},
    {"no-color", 'C', false, O_NOCOLOR}, {"no-colour", 0, false, O_NOCOLOR},
    {"no-mouse", 0, false, O_NOMOUSE},   {"frames", 0, true, O_FRAMES},
    {"skip", 0, true, O_SKIP},           {"keys", 0, true, O_KEYS},
    {"dump", 0, false, O_DUMP},          {"ops", 0, true, O_OPS},
    {"script", 0, true, O_SCRIPT},       {"svg", 0, true, O_SVG},
    {"html", 0, true, O_HTML},           {"handout", 0, false, O_HANDOUT},
    {"predict", 0, false, O_PREDICT},    {"theme", 0, true, O_THEME},
    {"flash", 0, true, O_FLASH},
    {"attach", 0, true, O_ATTACH},       {"output", 0, true, O_OUTPUT},
    {"interval", 0, true, O_INTERVAL},
    {"help", 'h', false, O_HELP},        {"version", 'V', false, O_VERSION},
    {"order", 0, true, O_ORDER},         {"coalesce", 0, true, O_COALESCE},
};

static int apply(const OptDef *d, const char *v, Options *o, char *err, size_t errlen)
{
    uint64_t n;
    switch (d->id) {
    case O_SIZE:
        if (Options_ParseSize(v, &o->size) != 0)
            return fail(err, errlen, "--size: '%.40s' is not a size (like 8K, 64K, 1M)", v);
        if (o->size < VIZ_MIN_SIZE || o->size > VIZ_MAX_SIZE)
            return fail(err, errlen, "--size: %.40s is out of range (256 to 1G)", v);
        o->size_given = true;
        return OPT_RUN;
    case O_POLICY:
        if (MemPolicy_Parse(v, &o->policy) != 0)
            return fail(err, errlen,
                        "--policy: '%.40s' is not a policy (first, next, best, worst, fast, "
                        "buddy)", v);
        return OPT_RUN;
    case O_WORKLOAD:
        if (Workload_Parse(v, &o->workload) != 0)
            return fail(err, errlen,
                        "--workload: '%.40s' is not a workload (random, stack, queue, "
                        "fragmenter, phased)", v);
        return OPT_RUN;
    case O_TRACE:
        if (!*v)
            return fail(err, errlen, "--trace: the file name is empty");
        o->trace = v;
        o->workload = WL_TRACE;
        return OPT_RUN;
    case O_SEED:
        if (parse_u64(v, UINT64_MAX, &o->seed) != 0)
            return fail(err, errlen, "--seed: '%.40s' is not a number", v);
        return OPT_RUN;
    case O_SPEED:
        if (parse_u64(v, VIZ_MAX_SPEED, &n) != 0 || n == 0)
            return fail(err, errlen, "--speed: '%.40s' is not 1 to %u operations a second", v,
                        VIZ_MAX_SPEED);
        o->speed = (unsigned)n;
        return OPT_RUN;
    case O_COMPARE:
        return parse_compare(v, o, err, errlen);
    case O_FRAMES:
        if (parse_u64(v, 1000000000u, &n) != 0 || n == 0)
            return fail(err, errlen, "--frames: '%.40s' is not a positive number", v);
        o->frames = (unsigned long)n;
        return OPT_RUN;
    case O_SKIP:
        if (parse_u64(v, 1000000000u, &n) != 0)
            return fail(err, errlen, "--skip: '%.40s' is not a number", v);
        o->skip = (unsigned long)n;
        return OPT_RUN;
    case O_KEYS:
        o->keys = v;
        return OPT_RUN;
    case O_OPS:
        o->ops = v;
        o->workload = WL_TRACE;
        return OPT_RUN;
    case O_SCRIPT:
    case O_SVG:
    case O_HTML:
        if (!*v)
            return fail(err, errlen, "--%s: the file name is empty", d->name);
        if (d->id == O_SCRIPT)
            o->script = v, o->workload = WL_TRACE;
        else if (d->id == O_SVG)
            o->svg = v;
        else
            o->html = v;
        return OPT_RUN;
    case O_HANDOUT: o->handout = true; return OPT_RUN;
    case O_PREDICT: o->predict = true; return OPT_RUN;
    case O_FLASH:
        if (parse_u64(v, VIZ_MAX_FLASH_MS, &n) != 0)
            return fail(err, errlen, "--flash: '%.40s' is not 0 to %u milliseconds", v,
                        VIZ_MAX_FLASH_MS);
        o->flash_ms = (unsigned)n;
        return OPT_RUN;
    case O_THEME:
        if (Theme_Parse(v, &o->theme) != 0)
            return fail(err, errlen, "--theme: '%.40s' is not a theme (dark, light, contrast)", v);
        o->theme_given = true;
        return OPT_RUN;
    case O_ATTACH:
        if (parse_u64(v, 0x7fffffff, &n) != 0 || n == 0)
            return fail(err, errlen, "--attach: '%.40s' is not a process id", v);
        o->attach = (long)n;
        return OPT_RUN;
    case O_OUTPUT:
        if (!*v)
            return fail(err, errlen, "--output: the file name is empty");
        o->output = v;
        return OPT_RUN;
    case O_INTERVAL:
        if (parse_u64(v, 3600000u, &n) != 0 || n == 0)
            return fail(err, errlen, "--interval: '%.40s' is not 1 to 3600000 ms", v);
        o->interval = (unsigned long)n;
        return OPT_RUN;
    case O_GUARD: o->guard = true; return OPT_RUN;
    case O_PAUSED: o->paused = true; return OPT_RUN;
    case O_ASCII: o->ascii = true; return OPT_RUN;
    case O_NOCOLOR: o->no_color = true; return OPT_RUN;
    case O_NOMOUSE: o->no_mouse = true; return OPT_RUN;
    case O_DUMP: o->dump = true; return OPT_RUN;
    case O_ORDER:
        /* "addr" for short; the library's own name too */
        if (strcmp(v, "addr") == 0)
            o->order = MEM_ORDER_ADDRESS;
        else if (MemOrder_Parse(v, &o->order) != 0)
            return fail(err, errlen, "--order: '%.40s' is not an order (addr, lifo, fifo)", v);
        return OPT_RUN;
    case O_COALESCE:
        if (MemCoalesce_Parse(v, &o->coalesce) != 0)
            return fail(err, errlen,
                        "--coalesce: '%.40s' is not a choice (now, deferred, never)", v);
        return OPT_RUN;
    case O_HELP: return OPT_HELP;
    case O_VERSION: return OPT_VERSION;
    }
    return fail(err, errlen, "internal error: option %d", (int)d->id);
}

int Options_Parse(int argc, char **argv, Options *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->size = VIZ_DEFAULT_SIZE;
    o->policy = MEM_FIRST_FIT;
    o->workload = WL_RANDOM;
    o->seed = VIZ_DEFAULT_SEED;
    o->speed = VIZ_DEFAULT_SPEED;
    o->flash_ms = VIZ_DEFAULT_FLASH_MS;
    if (err && errlen)
        err[0] = '\0';

    int result = OPT_RUN;
    bool workload_named = false, policy_named = false;
    WorkloadKind named = WL_RANDOM;
    for (int i = 1; i < argc && argv; i++) {
        const char *a = argv[i];
        if (!a)
            break;
        const OptDef *d = NULL;
        const char *value = NULL;
        if (a[0] == '-' && a[1] == '-' && a[2]) {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t n = eq ? (size_t)(eq - name) : strlen(name);
            for (size_t k = 0; k < sizeof defs / sizeof defs[0]; k++)
                if (strlen(defs[k].name) == n && strncmp(defs[k].name, name, n) == 0)
                    d = &defs[k];
            if (!d)
                return fail(err, errlen, "unknown option '--%.*s'", (int)(n < 40 ? n : 40), name);
            if (eq && !d->arg)
                return fail(err, errlen, "--%s takes no value", d->name);
            if (eq)
                value = eq + 1;
        } else if (a[0] == '-' && a[1] && a[1] != '-' && !a[2]) {
            for (size_t k = 0; k < sizeof defs / sizeof defs[0]; k++)
                if (defs[k].letter && defs[k].letter == a[1])
                    d = &defs[k];
            if (!d)
                return fail(err, errlen, "unknown option '-%c'",
                            isprint((unsigned char)a[1]) ? a[1] : '?');
        } else if (strcmp(a, "--") == 0) {
            if (i + 1 < argc && argv[i + 1] && argv[i + 1][0])
                o->command = &argv[i + 1];
            else if (i + 1 < argc)
                return fail(err, errlen, "--: the command is empty");
            break;
        } else {
            return fail(err, errlen, "unexpected argument '%.40s' (options start with --)", a);
        }
        if (d->arg && !value) {
            if (i + 1 >= argc || !argv[i + 1])
                return fail(err, errlen, "--%s needs a value", d->name);
            value = argv[++i];
        }
        int r = apply(d, value ? value : "", o, err, errlen);
        if (r == OPT_ERROR)
            return r;
        policy_named |= d->id == O_POLICY;
        if (d->id == O_WORKLOAD) {
            workload_named = true;
            named = o->workload;
        }
        if (r != OPT_RUN && result == OPT_RUN)
            result = r; /* --help/--version win, but later errors still count */
    }
    if (result != OPT_RUN)
        return result;
    /* one source of operations: a workload, a trace, a script or --ops */
    const char *source = o->trace ? "--trace" : NULL;
    if (o->script) {
        if (source)
            return fail(err, errlen, "--script and %s exclude each other", source);
        source = "--script";
    }
    if (o->ops) {
        if (source)
            return fail(err, errlen, "--ops and %s exclude each other", source);
        source = "--ops";
    }
    if (workload_named && named == WL_TRACE && !source)
        return fail(err, errlen, "--workload trace needs --trace FILE");
    if (source && workload_named && named != WL_TRACE)
        return fail(err, errlen, "%s and --workload %s exclude each other", source,
                    Workload_Name(named));
    if (policy_named && o->nlanes)
        return fail(err, errlen, "--policy and --compare exclude each other: --compare names "
                                 "the policies (p changes the selected heap's)");
    if (source)
        o->workload = WL_TRACE;
    if (o->handout && !o->dump)
        return fail(err, errlen, "--handout works with --dump");
    /* the knobs are the list policies': a single heap of another policy
     * cannot take them (compare mode gives them to its list policies) */
    if ((o->order != MEM_ORDER_ADDRESS || o->coalesce != MEM_COALESCE_NOW) && !o->nlanes &&
        o->policy >= MEM_FAST)
        return fail(err, errlen, "--order and --coalesce are for first, next, best and worst "
                                 "fit, not %s", MemPolicy_Name(o->policy));
    if (o->command && o->attach)
        return fail(err, errlen, "-- COMMAND and --attach exclude each other");
    bool live = o->command || o->attach;
    if (live && (source || workload_named || o->nlanes || o->guard || o->skip))
        return fail(err, errlen, "live mode draws the program's own heap: no --trace, --ops, "
                                 "--script, --workload, --compare, --guard or --skip");
    /* the program runs on without waiting: nothing to predict, no end for a
     * handout, and an export is e's (of the frame on screen) */
    if (live && (o->predict || o->handout || o->svg || o->html))
        return fail(err, errlen, "--%s is not for live mode: the program does not wait for "
                                 "an answer and has no last operation",
                    o->predict ? "predict" : o->handout ? "handout" : o->svg ? "svg" : "html");
    if (!live && (o->output || o->interval))
        return fail(err, errlen, "--%s is for live mode (-- COMMAND or --attach PID)",
                    o->output ? "output" : "interval");
    if (o->attach && o->output)
        return fail(err, errlen, "--output: an attached program keeps its own output");
    if (live && !o->size_given)
        o->size = VIZ_LIVE_SIZE;
    if (live && !o->interval)
        o->interval = VIZ_LIVE_INTERVAL;
    return OPT_RUN;
}

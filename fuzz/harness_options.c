/*
 * harness_options.c - heapviz's command line (viz/options.h).
 *
 * The input is split at NUL bytes into argv[1..] (argv[0] is "heapviz").
 * Options_Parse must return one of its four answers; an error must come
 * with a one-line message; a run must come with options in their documented
 * ranges; and parsing the same argv twice must give the same result (the
 * parser is pure).  Every argument, and the value after an '=', also goes
 * through Options_ParseSize, compared with an independent reading of the
 * grammar options.h documents: digits, then K, M or G (powers of 1024) with
 * an optional "iB" or "B", or a "B" alone; anything else, or a value past
 * SIZE_MAX, is refused.
 */
#include "harness.h"

#include "options.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 32



/* The documented size grammar, read independently: 0 and *out, or -1. */
static int reference_size(const char *s, size_t *out)
{
    size_t v = 0, i = 0;
    if (s[0] < '0' || s[0] > '9')
        return -1;
    for (; s[i] >= '0' && s[i] <= '9'; i++) {
        size_t d = (size_t)(s[i] - '0');
        if (v > SIZE_MAX / 10u || v * 10u > SIZE_MAX - d)
            return -1;
        v = v * 10u + d;
    }
    unsigned shift = 0;
    switch (s[i]) {
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    default: break;
    }
    if (shift) {
        i++;
        if ((s[i] == 'i' || s[i] == 'I') && (s[i + 1] == 'b' || s[i + 1] == 'B'))
            i += 2;
        else if (s[i] == 'b' || s[i] == 'B')
            i++;
    } else if (s[i] == 'b' || s[i] == 'B') {
        i++;
    }
    if (s[i] != '\0')
        return -1;
    if (v > (SIZE_MAX >> shift))
        return -1;
    *out = v << shift;
    return 0;
}

static const char *check_size(const char *s)
{
    size_t got = 77, want = 0;
    int rg = Options_ParseSize(s, &got);
    int rw = reference_size(s, &want);
    if (rg != rw)
        return fuzz_fail("Options_ParseSize(\"%.60s\") %s, the grammar %s", s,
                      rg == 0 ? "accepts" : "refuses", rw == 0 ? "accepts" : "refuses");
    if (rg == 0 && got != want)
        return fuzz_fail("Options_ParseSize(\"%.60s\") = %zu, expected %zu", s, got, want);
    if (rg != 0 && got != 77)
        return fuzz_fail("Options_ParseSize(\"%.60s\") refused but wrote %zu", s, got);
    return NULL;
}

static bool inside_argv(const char *p, int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if ((uintptr_t)p >= (uintptr_t)argv[i] &&
            (uintptr_t)p <= (uintptr_t)argv[i] + strlen(argv[i]))
            return true;
    return false;
}

static const char *check_run(const Options *o, int argc, char **argv)
{
    if (o->size < VIZ_MIN_SIZE || o->size > VIZ_MAX_SIZE)
        return fuzz_fail("size %zu out of range", o->size);
    if ((unsigned)o->policy >= MEM_POLICY_COUNT)
        return fuzz_fail("policy %d", (int)o->policy);
    if ((unsigned)o->workload >= WL_COUNT)
        return fuzz_fail("workload %d", (int)o->workload);
    if ((unsigned)o->order >= MEM_ORDER_COUNT || (unsigned)o->coalesce >= MEM_COALESCE_COUNT)
        return fuzz_fail("order %d, coalesce %d", (int)o->order, (int)o->coalesce);
    if ((o->order || o->coalesce) && !o->nlanes && o->policy >= MEM_FAST)
        return fuzz_fail("knobs accepted on %s", MemPolicy_Name(o->policy));
    if (o->speed < 1 || o->speed > VIZ_MAX_SPEED)
        return fuzz_fail("speed %u", o->speed);
    if (o->nlanes > VIZ_MAX_LANES)
        return fuzz_fail("%u lanes", o->nlanes);
    for (unsigned i = 0; i < o->nlanes; i++) {
        if ((unsigned)o->lanes[i] >= MEM_POLICY_COUNT)
            return fuzz_fail("lane %u policy %d", i, (int)o->lanes[i]);
        for (unsigned j = 0; j < i; j++)
            if (o->lanes[i] == o->lanes[j])
                return fuzz_fail("lanes %u and %u are both %s", j, i,
                              MemPolicy_Name(o->lanes[i]));
    }
    if (o->trace && (!*o->trace || !inside_argv(o->trace, argc, argv)))
        return fuzz_fail("trace name is empty or not from argv");
    if (o->trace && o->workload != WL_TRACE)
        return fuzz_fail("a trace with workload %d", (int)o->workload);
    if (o->script && (!*o->script || !inside_argv(o->script, argc, argv)))
        return fuzz_fail("script name is empty or not from argv");
    if (o->ops && !inside_argv(o->ops, argc, argv))
        return fuzz_fail("--ops text is not from argv");
    /* --trace, --script and --ops are the three sources a replay reads */
    if (!!o->trace + !!o->script + !!o->ops > 1)
        return fuzz_fail("two sources of operations accepted together");
    if ((o->script || o->ops) && o->workload != WL_TRACE)
        return fuzz_fail("a script or --ops with workload %d", (int)o->workload);
    if (!o->trace && !o->script && !o->ops && o->workload == WL_TRACE)
        return fuzz_fail("workload trace without a trace, script or --ops");
    if (o->frames > 1000000000ul || o->skip > 1000000000ul)
        return fuzz_fail("frames %lu skip %lu", o->frames, o->skip);
    return NULL;
}

const char *Fuzz_Options(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (!buf)
        return fuzz_fail("out of memory");
    memcpy(buf, data, size);
    buf[size] = '\0';
    char prog[] = "heapviz";
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = prog;
    for (size_t i = 0; i <= size && argc <= MAX_ARGS; argc++) {
        argv[argc] = buf + i;
        i += strlen(buf + i) + 1;
    }
    argv[argc] = NULL;

    const char *bad = NULL;
    Options o1, o2;
    char e1[128], e2[128];
    memset(e1, 'x', sizeof e1);
    int r1 = Options_Parse(argc, argv, &o1, e1, sizeof e1);
    int r2 = Options_Parse(argc, argv, &o2, e2, sizeof e2);
    if (r1 != OPT_RUN && r1 != OPT_HELP && r1 != OPT_VERSION && r1 != OPT_ERROR)
        bad = fuzz_fail("Options_Parse returned %d", r1);
    else if (r1 != r2 || memcmp(&o1, &o2, sizeof o1) != 0 ||
             (r1 == OPT_ERROR && strcmp(e1, e2) != 0))
        bad = fuzz_fail("the same argv parsed twice gave different results");
    else if (r1 == OPT_ERROR && (!memchr(e1, '\0', sizeof e1) || !e1[0]))
        bad = fuzz_fail("an error without a message");
    else if (r1 == OPT_ERROR && strchr(e1, '\n'))
        bad = fuzz_fail("the error message is not one line: \"%s\"", e1);
    else if (r1 == OPT_RUN)
        bad = check_run(&o1, argc, argv);
    for (int i = 1; !bad && i < argc; i++) {
        bad = check_size(argv[i]);
        const char *eq = strchr(argv[i], '=');
        if (!bad && eq)
            bad = check_size(eq + 1);
    }
    free(buf);
    return bad;
}

/* harness_common.c - what the fuzz harnesses share. */
#include "harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *fuzz_fail(const char *fmt, ...)
{
    static char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return why;
}

/* Digits at *p (at least one); moves past them. */
static bool digits(const char **p)
{
    const char *s = *p;
    while (**p >= '0' && **p <= '9')
        (*p)++;
    return *p > s;
}

bool fuzz_error_ok(const char *err, size_t cap, bool col)
{
    if (!memchr(err, '\0', cap) || strncmp(err, "fuzz:", 5) != 0)
        return false;
    const char *p = err + 5;
    if (!digits(&p))
        return false;
    if (col && p[0] == ':' && p[1] >= '0' && p[1] <= '9') {
        p++;
        digits(&p);
    }
    return p[0] == ':' && p[1] == ' ' && p[2] != '\0' && !strchr(err, '\n');
}

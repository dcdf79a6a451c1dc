/* harness_common.c - what the fuzz harnesses share. */
#include "harness.h"

#include <stdarg.h>
#include <stdio.h>

const char *fuzz_fail(const char *fmt, ...)
{
    static char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return why;
}

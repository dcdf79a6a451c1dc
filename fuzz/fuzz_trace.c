/* fuzz_trace.c - libFuzzer entry point for the trace-parser harness. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *why = Fuzz_Trace(data, size);
    if (why) {
        fprintf(stderr, "fuzz_trace: %s\n", why);
        abort();
    }
    return 0;
}

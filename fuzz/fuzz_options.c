/* fuzz_options.c - libFuzzer entry point for the command-line harness. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *why = Fuzz_Options(data, size);
    if (why) {
        fprintf(stderr, "fuzz_options: %s\n", why);
        abort();
    }
    return 0;
}

/* fuzz_script.c - libFuzzer entry point for the lecture-script harness. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *why = Fuzz_Script(data, size);
    if (why) {
        fprintf(stderr, "fuzz_script: %s\n", why);
        abort();
    }
    return 0;
}

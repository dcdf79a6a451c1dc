/* fuzz_ops.c - libFuzzer entry point for the operation-stream harness. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *why = Fuzz_Ops(data, size);
    if (why) {
        fprintf(stderr, "fuzz_ops: %s\n", why);
        abort();
    }
    return 0;
}

/* fuzz_ops.c - libFuzzer entry point for the operation-stream harness.
 * At exit it prints the operations checked per policy (fuzz/run.sh reports
 * that line). */
#include "harness.h"

#include "mem.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static void report(void)
{
    FuzzOpsTotals t = Fuzz_OpsTotals();
    fprintf(stderr, "fuzz_ops totals: %llu inputs, %llu heap checks, %llu stray pointers;",
            (unsigned long long)t.inputs, (unsigned long long)t.checks,
            (unsigned long long)t.probes);
    for (int p = 0; p < MEM_POLICY_COUNT; p++)
        fprintf(stderr, " %s %llu", MemPolicy_Name((MemPolicy)p), (unsigned long long)t.ops[p]);
    fprintf(stderr, " operations\n");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    atexit(report);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *why = Fuzz_Ops(data, size);
    if (why) {
        fprintf(stderr, "fuzz_ops: %s\n", why);
        abort();
    }
    return 0;
}

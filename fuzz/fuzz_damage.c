/* fuzz_damage.c - libFuzzer entry point for the damage harness (issue 9).
 * At exit it prints how much damage was done and survived. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static void report(void)
{
    FuzzDamageTotals t = Fuzz_DamageTotals();
    fprintf(stderr,
            "fuzz_damage totals: %llu inputs, %llu corruptions (%llu in run tables), %llu "
            "bit flips, %llu allocations (%llu refused), %llu frees (%llu refused), %llu "
            "rounds of hooks\n",
            (unsigned long long)t.inputs, (unsigned long long)t.corruptions,
            (unsigned long long)t.run_tables,
            (unsigned long long)t.flips, (unsigned long long)t.allocs,
            (unsigned long long)t.refused_allocs, (unsigned long long)t.frees,
            (unsigned long long)t.refused_frees, (unsigned long long)t.hooks);
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
    const char *why = Fuzz_Damage(data, size);
    if (why) {
        fprintf(stderr, "fuzz_damage: %s\n", why);
        abort();
    }
    return 0;
}

/*
 * test_fuzz_regress.c - the fuzz harnesses in an ordinary build.
 *
 * Every seed input (fuzz/corpus/<target>/) and every input that once made a
 * harness fail (fuzz/regress/<target>/, one file per finding, named after
 * it) is replayed through the same harness function the libFuzzer target
 * calls, and must pass every check.  A few hundred generated inputs per
 * target follow (SEED= changes them; TEST_SCALE=percent scales how many),
 * so the harnesses' checks also run in the gcc, valgrind and sanitizer
 * builds, which cannot link libFuzzer.
 *
 * The last tests pin contract bugs found while writing the harnesses.
 */
#include "harness.h"
#include "testlib.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef const char *(*Harness)(const uint8_t *, size_t);

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    uint8_t *buf = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (*len == cap) {
            cap = cap ? cap * 2 : 4096;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf);
        }
        size_t n = fread(buf + *len, 1, cap - *len, f);
        if (n == 0)
            break;
        *len += n;
    }
    fclose(f);
    return buf;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Replays every file in dir; returns how many there were. */
static size_t replay_dir(const char *dir, Harness h, const char *target)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, by_name);
    if (n < 0)
        return 0;
    size_t count = 0;
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            char path[512];
            snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
            size_t len;
            uint8_t *data = slurp(path, &len);
            const char *why = h(data, len);
            cr_assert_null(why, "%s: %s: %s", target, path, why);
            free(data);
            count++;
        }
        free(names[i]);
    }
    free(names);
    return count;
}

static void replay(const char *target, Harness h)
{
    char dir[256];
    snprintf(dir, sizeof dir, "fuzz/corpus/%s", target);
    size_t seeds = replay_dir(dir, h, target);
    cr_assert_gt(seeds, 0, "no seed inputs in %s (run from the top of the tree)", dir);
    snprintf(dir, sizeof dir, "fuzz/regress/%s", target);
    replay_dir(dir, h, target);
}

Test(regress, the_ops_corpus_and_findings_pass) { replay("ops", Fuzz_Ops); }
Test(regress, the_trace_corpus_and_findings_pass) { replay("trace", Fuzz_Trace); }
Test(regress, the_options_corpus_and_findings_pass) { replay("options", Fuzz_Options); }
Test(regress, the_damage_corpus_and_findings_pass) { replay("damage", Fuzz_Damage); }
Test(regress, the_script_corpus_and_findings_pass) { replay("script", Fuzz_Script); }

/* ---- generated inputs ------------------------------------------------------ */

/* n scaled by $TEST_SCALE percent (default 100; `make valgrind` runs 25). */
static unsigned scaled(unsigned n)
{
    const char *s = getenv("TEST_SCALE");
    long pct = s && *s ? strtol(s, NULL, 10) : 100;
    if (pct < 1)
        pct = 1;
    unsigned long v = (unsigned long)n * (unsigned long)pct / 100u;
    return v ? (unsigned)v : 1u;
}

static void random_inputs(Harness h, const char *target, unsigned count, size_t max_len,
                          const char *alphabet)
{
    uint64_t seed = th_seed(0xF0220u);
    ThRng rng = {seed};
    uint8_t *buf = malloc(max_len);
    cr_assert_not_null(buf);
    size_t alen = alphabet ? strlen(alphabet) : 0;
    for (unsigned i = 0; i < count; i++) {
        size_t len = (size_t)th_below(&rng, max_len + 1);
        for (size_t k = 0; k < len; k++) {
            uint64_t r = th_rand(&rng);
            buf[k] = alen ? (uint8_t)alphabet[r % alen] : (uint8_t)(r >> 24);
        }
        const char *why = h(buf, len);
        cr_assert_null(why, "%s: generated input %u of seed %#llx (%zu bytes): %s", target, i,
                       (unsigned long long)seed, len, why);
    }
    free(buf);
}

Test(generated, operation_streams_on_every_policy, .timeout = 300)
{
    FuzzOpsTotals before = Fuzz_OpsTotals();
    unsigned count = scaled(400);
    random_inputs(Fuzz_Ops, "ops", count, 3000, NULL);
    FuzzOpsTotals after = Fuzz_OpsTotals();
    for (int p = 0; p < MEM_POLICY_COUNT; p++)
        cr_assert_gt(after.ops[p], before.ops[p] + count * 2u, "%s: only %llu operations checked",
                     MemPolicy_Name((MemPolicy)p),
                     (unsigned long long)(after.ops[p] - before.ops[p]));
    cr_assert_gt(after.probes, before.probes, "no wild pointer was tried");
}

Test(generated, trace_texts)
{
    /* mostly trace-like text, so some of it parses */
    random_inputs(Fuzz_Trace, "trace", scaled(600), 200, "af r0123456789\n\n\n #-x\t");
}

Test(generated, script_texts)
{
    /* mostly script-like text, so much of it parses */
    random_inputs(Fuzz_Script, "script", scaled(600), 200, "afr+-=,0123456789\n\n #cKaption ");
}

Test(generated, command_lines)
{
    static const char alphabet[] = "--size\0--policy\0fast\0-s\0-c\0first,best\0--guard\0"
                                   "8K\0" "1M\0" "9999999999999999999G\0kKmMgGiIbB=,0123456789";
    /* Pieces of real options, glued with NULs into argv. */
    uint64_t seed = th_seed(0x0B7u);
    ThRng rng = {seed};
    uint8_t buf[160];
    for (unsigned i = 0, lines = scaled(2000); i < lines; i++) {
        size_t len = 0, want = (size_t)th_below(&rng, sizeof buf);
        while (len < want) {
            size_t at = (size_t)th_below(&rng, sizeof alphabet - 1);
            size_t n = 1 + (size_t)th_below(&rng, 9);
            for (size_t k = 0; k < n && len < want && at + k < sizeof alphabet - 1; k++)
                buf[len++] = (uint8_t)alphabet[at + k];
        }
        const char *why = Fuzz_Options(buf, len);
        cr_assert_null(why, "command line %u of seed %#llx: %s", i, (unsigned long long)seed,
                       why);
    }
}

/* ---- contract regressions ------------------------------------------------------ */

/* mem.h: an observer "may call the query functions of this header" while
 * the heap is locked.  With a non-re-entrant lock this hung (fixed in the
 * library by a re-entrant lock); the timeout turns a hang into a failure. */
typedef struct Nested {
    MemHeap *h;
    unsigned calls;
    size_t last_live;
} Nested;

static void querying_observer(const MemEvent *e, void *arg)
{
    Nested *n = arg;
    MemStats s = MemHeap_Stats(n->h);
    n->last_live = s.live_bytes;
    (void)MemHeap_Find(n->h, (void *)(uintptr_t)e->object, NULL);
    (void)MemHeap_Classify(n->h, NULL);
    n->calls += MemHeap_Check(n->h) == 0;
}

Test(contract, an_observer_may_query_the_heap, .timeout = 20)
{
    for (int pol = 0; pol < MEM_POLICY_COUNT; pol++) {
        MemHeap *h = th_heap((MemPolicy)pol, 1 << 14, 0);
        Nested n = {h, 0, 0};
        MemHeap_SetObserver(h, querying_observer, &n);
        void *p = MemHeap_Alloc(h, 100);
        cr_assert_not_null(p);
        cr_assert_eq(n.last_live, 100, "the observer sees the heap after the operation");
        cr_assert_eq(MemHeap_Free(h, p), 0);
        cr_assert_geq(n.calls, 2);
    }
}

static bool querying_visitor(const MemBlock *b, void *arg)
{
    MemHeap *h = arg;
    MemRegion r = MemHeap_Region(h);
    if (b->used)
        cr_assert_not_null(MemHeap_Find(h, (char *)r.base + b->offset + b->header, NULL));
    return MemHeap_Check(h) == 0;
}

Test(contract, a_walk_visitor_may_query_the_heap, .timeout = 20)
{
    MemHeap *h = th_heap(MEM_BEST_FIT, 1 << 14, 0);
    for (int i = 0; i < 10; i++)
        MemHeap_Alloc(h, (size_t)(10 + i));
    cr_assert_eq(MemHeap_Walk(h, querying_visitor, h), 11);
    cr_assert_eq(MemHeap_WalkFree(h, querying_visitor, h), 1);
}

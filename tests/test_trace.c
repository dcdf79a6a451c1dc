/* test_trace.c - the .rep parser and writer: every rejection with its exact
 * line, round trips, and robustness on cut and mutated input. */
#include "testlib.h"
#include "workload.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static char err[512];

/* Parses a NUL-terminated string as the file "t". */
static int parse(const char *text, Trace *t)
{
    return Trace_Parse(text, strlen(text), "t", t, err, sizeof err);
}

static void expect_error(const char *text, const char *message)
{
    Trace t;
    int rc = parse(text, &t);
    cr_assert_eq(rc, -1, "accepted:\n%s", text);
    cr_assert_str_eq(err, message, "for input:\n%s", text);
    cr_assert_eq(t.ops, NULL);
    cr_assert_eq(t.nops, 0);
}

#define HDR4 "1000\n3\n"

Test(trace_parse, accepts_a_small_trace)
{
    Trace t;
    cr_assert_eq(parse("20000\n2\n5\n1\na 0 512\na 1 128\nr 0 640\nf 1\nf 0 17\n", &t), 0, "%s",
                 err);
    cr_assert_eq(t.heap_hint, 20000);
    cr_assert_eq(t.nids, 2);
    cr_assert_eq(t.weight, 1);
    cr_assert_eq(t.nops, 5);
    cr_assert_eq(t.ops[0].kind, OP_ALLOC);
    cr_assert_eq(t.ops[0].size, 512);
    cr_assert_eq(t.ops[2].kind, OP_REALLOC);
    cr_assert_eq(t.ops[2].id, 0);
    cr_assert_eq(t.ops[2].size, 640);
    cr_assert_eq(t.ops[3].kind, OP_FREE);
    cr_assert_eq(t.ops[3].id, 1);
    cr_assert_eq(t.ops[3].at, 0);
    cr_assert_eq(t.ops[4].at, 17, "the interior-offset extension");
    Trace_Free(&t);
    cr_assert_eq(t.ops, NULL);
}

Test(trace_parse, comments_blank_lines_crlf_and_no_final_newline)
{
    Trace t;
    const char *text = "# made by hand\r\n\r\n  100 \r\n\t1\r\n# between\r\n2\r\n0\r\n"
                       "a 0 5\r\n   # indented comment\r\nf 0";
    cr_assert_eq(parse(text, &t), 0, "%s", err);
    cr_assert_eq(t.nops, 2);
    cr_assert_eq(t.weight, 0);
    Trace_Free(&t);
}

Test(trace_parse, an_id_may_be_allocated_again_after_its_free)
{
    Trace t;
    cr_assert_eq(parse("0\n1\n4\n1\na 0 5\nf 0\na 0 9\nf 0\n", &t), 0, "%s", err);
    cr_assert_eq(t.ops[2].size, 9);
    Trace_Free(&t);
}

Test(trace_parse, truncated_files)
{
    expect_error("", "t:1: truncated: the header has no heap size");
    expect_error("100\n", "t:2: truncated: the header has no number of ids");
    expect_error("100\n2\n", "t:3: truncated: the header has no number of ops");
    expect_error("100\n2\n3\n", "t:4: truncated: the header has no weight");
    expect_error("100\n2\n3", "t:4: truncated: the header has no weight");
    expect_error("100\n2\n3\n1\na 0 5\nf 0\n", "t:7: truncated: the header promises 3 ops, found 2");
    expect_error("# only a comment\n\n", "t:3: truncated: the header has no heap size");
}

Test(trace_parse, op_count_mismatch_names_the_first_extra_op)
{
    expect_error("100\n2\n1\n1\na 0 5\n\n# c\nf 0\n", "t:8: more ops than the 1 the header promises");
    expect_error("100\n2\n0\n1\na 0 5\n", "t:5: more ops than the 0 the header promises");
}

Test(trace_parse, bad_numbers)
{
    expect_error("1k\n", "t:1: heap size is not a number: '1k'");
    expect_error("100\n-2\n", "t:2: number of ids is negative: '-2'");
    expect_error("100\n2\n+3\n", "t:3: number of ops is not a number: '+3'");
    expect_error("100\n2\n3\n1 1\n", "t:4: unexpected text after the weight: '1'");
    expect_error(HDR4 "1\n1\na x 5\n", "t:5: id is not a number: 'x'");
    expect_error(HDR4 "1\n1\na 0 5.5\n", "t:5: size is not a number: '5.5'");
    expect_error(HDR4 "1\n1\na 0 -5\n", "t:5: size is negative: '-5'");
    expect_error(HDR4 "1\n1\na 0 -\n", "t:5: size is not a number: '-'");
    expect_error(HDR4 "1\n1\na -1 5\n", "t:5: id is negative: '-1'");
    expect_error(HDR4 "1\n1\na 0 1099511627777\n",
                 "t:5: size is too large: '1099511627777' (at most 1099511627776)");
    expect_error(HDR4 "1\n1\na 0 99999999999999999999999999\n",
                 "t:5: size is too large: '99999999999999999999' (at most 1099511627776)");
    expect_error("100\n4194305\n", "t:2: number of ids is too large: '4194305' (at most 4194304)");
    expect_error("100\n1\n134217729\n",
                 "t:3: number of ops is too large: '134217729' (at most 134217728)");
    expect_error("100\n1\n1\n4294967296\n",
                 "t:4: weight is too large: '4294967296' (at most 4294967295)");
}

Test(trace_parse, huge_sizes_at_the_limit_are_accepted)
{
    Trace t;
    cr_assert_eq(parse("0\n1\n1\n0\na 0 1099511627776\n", &t), 0, "%s", err);
    cr_assert_eq(t.ops[0].size, (size_t)1 << 40);
    Trace_Free(&t);
}

Test(trace_parse, ids_out_of_range)
{
    expect_error(HDR4 "1\n1\na 3 5\n", "t:5: id 3 is out of range (the header says 3 ids)");
    expect_error("100\n0\n1\n1\na 0 5\n", "t:5: id 0 is out of range (the header says 0 ids)");
    expect_error(HDR4 "1\n1\nf 4294967296\n", "t:5: id is too large: '4294967296' (at most 4294967295)");
}

Test(trace_parse, malformed_ops)
{
    expect_error(HDR4 "1\n1\nx 0 5\n", "t:5: unknown op 'x' (expected a, f or r)");
    expect_error(HDR4 "1\n1\nalloc 0 5\n", "t:5: unknown op 'alloc' (expected a, f or r)");
    expect_error(HDR4 "1\n1\na 0\n", "t:5: 'a' needs an id and a size");
    expect_error(HDR4 "1\n1\nr\n", "t:5: 'r' needs an id and a size");
    expect_error(HDR4 "1\n1\nf\n", "t:5: 'f' needs an id");
    expect_error(HDR4 "1\n1\na 0 5 6\n", "t:5: unexpected text after the op: '6'");
    expect_error(HDR4 "2\n1\na 0 5\nf 0 1 2\n", "t:6: unexpected text after the op: '2'");
}

Test(trace_parse, frees_and_reallocs_of_ids_holding_nothing)
{
    expect_error(HDR4 "1\n1\nf 1\n", "t:5: free of id 1, which was never allocated");
    expect_error(HDR4 "1\n1\nr 2 8\n", "t:5: realloc of id 2, which was never allocated");
    expect_error(HDR4 "3\n1\na 1 8\nf 1\nf 1\n",
                 "t:7: free of id 1, which is already free (double free)");
    expect_error(HDR4 "3\n1\na 1 8\nf 1\nr 1 9\n",
                 "t:7: realloc of id 1, which is already free (double free)");
    expect_error(HDR4 "2\n1\na 0 8\na 0 9\n",
                 "t:6: id 0 is allocated again while it holds an object");
}

Test(trace_parse, interior_offsets_must_fall_inside_the_object)
{
    expect_error(HDR4 "2\n1\na 0 8\nf 0 8\n",
                 "t:6: offset 8 is outside id 0's object of 8 bytes");
    expect_error(HDR4 "3\n1\na 0 8\nr 0 4\nf 0 6\n",
                 "t:7: offset 6 is outside id 0's object of 4 bytes");
    Trace t;
    cr_assert_eq(parse(HDR4 "2\n1\na 0 8\nf 0 7\n", &t), 0, "%s", err);
    Trace_Free(&t);
}

Test(trace_parse, binary_junk)
{
    const char nul[] = "100\n2\n1\n1\na 0\0 5\n";
    Trace t;
    cr_assert_eq(Trace_Parse(nul, sizeof nul - 1, "t", &t, err, sizeof err), -1);
    cr_assert_str_eq(err, "t:5: binary data (byte 0x00 at column 4)");
    expect_error("100\n\x7f\n", "t:2: binary data (byte 0x7f at column 1)");
    expect_error("100\n2\n1\n1\n# caf\xc3\xa9\n", "t:5: binary data (byte 0xc3 at column 6)");
    expect_error("\x1b[31m", "t:1: binary data (byte 0x1b at column 1)");
}

Test(trace_parse, overlong_lines)
{
    char text[600];
    memcpy(text, "100\n2\n", 6);
    memset(text + 6, '#', 257);
    strcpy(text + 6 + 257, "\n1\n1\na 0 1\n");
    expect_error(text, "t:3: line longer than 256 bytes");
    /* 256 bytes exactly is fine */
    memset(text + 6, '#', 256);
    strcpy(text + 6 + 256, "\n1\n1\na 0 1\n");
    Trace t;
    cr_assert_eq(parse(text, &t), 0, "%s", err);
    Trace_Free(&t);
}

Test(trace_parse, never_reads_past_len)
{
    /* The buffer has no terminator and is followed by an op that would be
     * an error if it were read. */
    const char full[] = "0\n1\n1\n1\na 0 5\nf 7\n";
    size_t len = strlen("0\n1\n1\n1\na 0 5\n");
    char *exact = malloc(len);
    cr_assert_not_null(exact);
    memcpy(exact, full, len);
    Trace t;
    cr_assert_eq(Trace_Parse(exact, len, "t", &t, err, sizeof err), 0, "%s", err);
    cr_assert_eq(t.nops, 1);
    Trace_Free(&t);
    free(exact);
}

Test(trace_parse, message_is_truncated_to_errlen_and_null_err_is_allowed)
{
    char small[8];
    Trace t;
    cr_assert_eq(Trace_Parse("x", 1, "name", &t, small, sizeof small), -1);
    cr_assert_str_eq(small, "name:1:");
    cr_assert_eq(Trace_Parse("x", 1, "name", &t, NULL, 0), -1);
    cr_assert_eq(Trace_Parse(NULL, 0, "name", &t, small, sizeof small), -1);
}

/* Every prefix of a valid trace, and many random mutations of it, either
 * parse into a consistent trace or fail with a "t:<line>: " message. */
static void consistent(const char *buf, size_t len, size_t *accepted)
{
    Trace t;
    if (Trace_Parse(buf, len, "t", &t, err, sizeof err) == 0) {
        (*accepted)++;
        for (size_t i = 0; i < t.nops; i++) {
            cr_assert_lt(t.ops[i].id, t.nids);
            cr_assert_leq(t.ops[i].size, TRACE_MAX_SIZE);
        }
        Trace_Free(&t);
        return;
    }
    unsigned line = 0;
    int used = 0;
    cr_assert_eq(sscanf(err, "t:%u: %n", &line, &used), 1, "bad message '%s'", err);
    cr_assert_gt(used, 0);
    cr_assert_geq(line, 1);
    cr_assert_eq(t.nops, 0);
}

Test(trace_parse, every_prefix_and_random_mutations)
{
    const char *base = "# x\n4096\n3\n6\n1\na 0 100\na 1 200\nr 0 50\nf 1 150\na 2 7\nf 0\n";
    size_t n = strlen(base), accepted = 0;
    for (size_t len = 0; len <= n; len++) {
        char *cut = malloc(len ? len : 1);
        memcpy(cut, base, len);
        consistent(cut, len, &accepted);
        free(cut);
    }
    cr_assert_geq(accepted, 1, "the whole text parses");
    ThRng r = {th_seed(42)};
    char buf[128];
    for (int i = 0; i < 20000; i++) {
        memcpy(buf, base, n);
        for (int k = 0, m = 1 + (int)th_below(&r, 4); k < m; k++)
            buf[th_below(&r, n)] = (char)th_below(&r, 256);
        consistent(buf, n, &accepted);
    }
}

/* ---- writing ------------------------------------------------------------ */

static Trace roundtrip(const Trace *in)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_not_null(f);
    cr_assert_eq(Trace_Write(in, f), 0);
    fclose(f);
    Trace out;
    cr_assert_eq(Trace_Parse(text, len, "w", &out, err, sizeof err), 0, "%s\n%s", err, text);
    free(text);
    return out;
}

static void same_trace(const Trace *a, const Trace *b)
{
    cr_assert_eq(a->heap_hint, b->heap_hint);
    cr_assert_eq(a->nids, b->nids);
    cr_assert_eq(a->weight, b->weight);
    cr_assert_eq(a->nops, b->nops);
    for (size_t i = 0; i < a->nops; i++) {
        cr_assert_eq(a->ops[i].kind, b->ops[i].kind, "op %zu", i);
        cr_assert_eq(a->ops[i].id, b->ops[i].id, "op %zu", i);
        cr_assert_eq(a->ops[i].at, b->ops[i].at, "op %zu", i);
        if (a->ops[i].kind != OP_FREE)
            cr_assert_eq(a->ops[i].size, b->ops[i].size, "op %zu", i);
    }
}

Test(trace_write, round_trips_a_parsed_trace)
{
    Trace t;
    cr_assert_eq(parse("123456\n3\n7\n9\na 0 1\na 1 4096\nr 1 5000\nf 0\na 2 0\nf 1 4999\nf 2\n",
                       &t), 0, "%s", err);
    Trace back = roundtrip(&t);
    same_trace(&t, &back);
    Trace_Free(&t);
    Trace_Free(&back);
}

Test(trace_write, round_trips_every_generated_workload)
{
    for (unsigned k = 0; k < WL_TRACE; k++) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        cr_assert_eq(Workload_WriteTrace((WorkloadKind)k, 7, 1 << 17, 3000, f), 0);
        fclose(f);
        Trace t;
        cr_assert_eq(Trace_Parse(text, len, Workload_Name((WorkloadKind)k), &t, err, sizeof err),
                     0, "%s", err);
        cr_assert_eq(t.nops, 3000);
        cr_assert_eq(t.heap_hint, 1 << 17);
        /* The file holds exactly the generator's ops. */
        Workload *w = Workload_Create((WorkloadKind)k, 7, 1 << 17, NULL);
        cr_assert_eq(t.nids, Workload_MaxIds(w));
        for (size_t i = 0; i < t.nops; i++) {
            Op op;
            cr_assert(Workload_Next(w, &op));
            cr_assert_eq(op.kind, t.ops[i].kind, "%s op %zu", Workload_Name((WorkloadKind)k), i);
            cr_assert_eq(op.id, t.ops[i].id);
            cr_assert_eq(op.at, t.ops[i].at);
            if (op.kind != OP_FREE)
                cr_assert_eq(op.size, t.ops[i].size);
        }
        Trace back = roundtrip(&t);
        same_trace(&t, &back);
        Workload_Destroy(w);
        Trace_Free(&t);
        Trace_Free(&back);
        free(text);
    }
}

Test(trace_write, rejects_bad_arguments)
{
    cr_assert_eq(Trace_Write(NULL, stdout), -1);
    cr_assert_eq(Workload_WriteTrace(WL_TRACE, 1, 4096, 10, stdout), -1);
}

/* ---- files -------------------------------------------------------------- */

Test(trace_load, fixtures_fail_with_the_message_they_expect)
{
    DIR *d = opendir("tests/data/traces");
    cr_assert_not_null(d, "run from the top of the tree");
    struct dirent *e;
    unsigned bad = 0, good = 0;
    while ((e = readdir(d))) {
        if (!strstr(e->d_name, ".rep"))
            continue;
        char path[512], expect[1024] = "";
        snprintf(path, sizeof path, "tests/data/traces/%s", e->d_name);
        FILE *f = fopen(path, "rb");
        cr_assert_not_null(f);
        char first[512] = "";
        if (fgets(first, sizeof first, f) && strncmp(first, "# expect: ", 10) == 0) {
            snprintf(expect, sizeof expect, "tests/data/traces/%s", first + 10);
            expect[strcspn(expect, "\n")] = '\0';
        }
        fclose(f);
        Trace t;
        int rc = Trace_Load(path, &t, err, sizeof err);
        if (strncmp(e->d_name, "bad_", 4) == 0) {
            cr_assert_eq(rc, -1, "%s was accepted", path);
            cr_assert_str_eq(err, expect);
            bad++;
        } else {
            cr_assert_eq(rc, 0, "%s", err);
            cr_assert_gt(t.nops, 0);
            Trace_Free(&t);
            good++;
        }
    }
    closedir(d);
    cr_assert_geq(bad, 10);
    cr_assert_geq(good, 1);
}

Test(trace_load, missing_file)
{
    Trace t;
    cr_assert_eq(Trace_Load("tests/data/traces/no-such-file.rep", &t, err, sizeof err), -1);
    cr_assert_str_eq(err, "tests/data/traces/no-such-file.rep: No such file or directory");
}

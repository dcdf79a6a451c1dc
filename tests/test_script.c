/* test_script.c - the lecture-script parser and writer (demo/script.h):
 * the language, every refusal with its line and column (and an empty
 * output), the notes, the .rep detection (a .rep without its header too),
 * round trips, and robustness on cut and mutated input. */
#include "testlib.h"
#include "script.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char err[512];

static int parse(const char *text, Script *s)
{
    return Script_Parse(text, strlen(text), "s", s, err, sizeof err);
}

static void expect_error(const char *text, const char *message)
{
    Script s;
    memset(&s, 0x5a, sizeof s);
    int rc = parse(text, &s);
    cr_assert_eq(rc, -1, "accepted:\n%s", text);
    cr_assert_str_eq(err, message, "for input:\n%s", text);
    cr_assert_eq(s.trace.ops, NULL, "a refused script is empty");
    cr_assert_eq(s.trace.nops, 0);
    cr_assert_eq(s.notes, NULL);
    cr_assert_eq(s.nnotes, 0);
    cr_assert_eq(s.pool, NULL);
}

static void expect_op(const Script *s, size_t i, OpKind k, uint32_t id, size_t size, size_t at)
{
    cr_assert_lt(i, s->trace.nops);
    const Op *op = &s->trace.ops[i];
    cr_assert_eq(op->kind, k, "op %zu kind", i);
    cr_assert_eq(op->id, id, "op %zu id", i);
    if (k != OP_FREE)
        cr_assert_eq(op->size, size, "op %zu size", i);
    else
        cr_assert_eq(op->at, at, "op %zu at", i);
}

Test(script, the_one_line_board_example)
{
    Script s;
    cr_assert_eq(parse("a100 a200 f0 a50 f1+30", &s), 0, "%s", err);
    cr_assert_eq(s.trace.nops, 5);
    cr_assert_eq(s.trace.nids, 3, "three allocations: ids 0, 1, 2");
    expect_op(&s, 0, OP_ALLOC, 0, 100, 0);
    expect_op(&s, 1, OP_ALLOC, 1, 200, 0);
    expect_op(&s, 2, OP_FREE, 0, 0, 0);
    expect_op(&s, 3, OP_ALLOC, 2, 50, 0);
    expect_op(&s, 4, OP_FREE, 1, 0, 30);
    cr_assert_eq(s.trace.heap_hint, 0);
    cr_assert_not(s.was_trace);
    cr_assert_eq(s.nnotes, 0);
    Script_Free(&s);
    cr_assert_eq(s.trace.ops, NULL);
}

Test(script, ostep_syntax_commas_suffixes_and_realloc)
{
    Script s;
    cr_assert_eq(parse("+10,+20,-0, a2K r1=3KiB -1\n", &s), 0, "%s", err);
    cr_assert_eq(s.trace.nops, 6);
    expect_op(&s, 0, OP_ALLOC, 0, 10, 0);
    expect_op(&s, 1, OP_ALLOC, 1, 20, 0);
    expect_op(&s, 2, OP_FREE, 0, 0, 0);
    expect_op(&s, 3, OP_ALLOC, 2, 2048, 0);
    expect_op(&s, 4, OP_REALLOC, 1, 3072, 0);
    expect_op(&s, 5, OP_FREE, 1, 0, 0);
    Script_Free(&s);
}

Test(script, a_file_with_comments_captions_pauses_and_size)
{
    const char *text = "# the board example\r\n"
                       "size 8K\n"
                       "\n"
                       "caption Splitting: the object takes the low end # not a comment\n"
                       "a100 a200   # two objects\n"
                       "pause\n"
                       "caption   Coalescing → one block  \n"
                       "f0 f1\n"
                       "caption\n"
                       "pause # the end\n"
                       "caption after the end\n";
    Script s;
    cr_assert_eq(parse(text, &s), 0, "%s", err);
    cr_assert_eq(s.trace.heap_hint, 8192);
    cr_assert_eq(s.trace.nops, 4);
    cr_assert_eq(s.nnotes, 6);
    cr_assert_eq(s.notes[0].at, 0);
    cr_assert_eq(s.notes[0].line, 4);
    cr_assert_eq(s.notes[1].kind, NOTE_PAUSE);
    cr_assert_eq(s.notes[1].at, 2);
    cr_assert_eq(s.notes[4].at, 4);
    cr_assert_str_eq(Script_Caption(&s, 0, false),
                     "Splitting: the object takes the low end # not a comment");
    cr_assert_str_eq(Script_Caption(&s, 1, false),
                     "Splitting: the object takes the low end # not a comment");
    cr_assert_str_eq(Script_Caption(&s, 2, false),
                     "Splitting: the object takes the low end # not a comment",
                     "the pause holds the next caption back");
    cr_assert_str_eq(Script_Caption(&s, 2, true), "Coalescing → one block",
                     "past the pause, the caption after it");
    cr_assert_str_eq(Script_Caption(&s, 3, false), "Coalescing → one block");
    cr_assert_str_eq(Script_Caption(&s, 3, true), "Coalescing → one block");
    cr_assert_null(Script_Caption(&s, 4, false), "cleared before the pause");
    cr_assert_str_eq(Script_Caption(&s, 4, true), "after the end");
    cr_assert_str_eq(Script_Caption(&s, 3, false), "Coalescing → one block", "trimmed, UTF-8 kept");
    cr_assert_str_eq(Script_Caption(&s, 99, false), "after the end", "past the pause");
    cr_assert_not(Script_PausesAt(&s, 0));
    cr_assert_not(Script_PausesAt(&s, 1));
    cr_assert(Script_PausesAt(&s, 2));
    cr_assert_not(Script_PausesAt(&s, 3));
    cr_assert(Script_PausesAt(&s, 4));
    Script_Free(&s);
    cr_assert_eq(parse("a1\ncaption\n", &s), 0, "%s", err);
    cr_assert_null(Script_Caption(&s, 1, false), "a bare caption clears it");
    Script_Free(&s);
}

Test(script, no_caption_before_the_first)
{
    Script s;
    cr_assert_eq(parse("a1 a2\ncaption later\na3\n", &s), 0, "%s", err);
    cr_assert_null(Script_Caption(&s, 0, false));
    cr_assert_null(Script_Caption(&s, 1, false));
    cr_assert_str_eq(Script_Caption(&s, 2, false), "later");
    cr_assert_null(Script_Caption(NULL, 2, false));
    cr_assert_not(Script_PausesAt(NULL, 0));
    Script_Free(&s);
}

Test(script, an_empty_script_is_accepted)
{
    Script s;
    cr_assert_eq(parse("", &s), 0, "%s", err);
    cr_assert_eq(s.trace.nops, 0);
    Script_Free(&s);
    cr_assert_eq(parse("# nothing\n\n   \n", &s), 0, "%s", err);
    cr_assert_eq(s.trace.nops, 0);
    Script_Free(&s);
}

Test(script, refusals_name_line_and_column)
{
    expect_error("a100 x5", "s:1:6: unknown operation 'x5' (aSIZE, fID, fID+AT, rID=SIZE, "
                            "+SIZE, -ID)");
    expect_error("f0", "s:1:1: 'f0': no allocation has been made yet");
    expect_error("a1 a2\n\n  f2", "s:3:3: 'f2': there is no allocation 2 (allocations so far: "
                                  "0 to 1)");
    expect_error("a1\nf0\nf0", "s:3:1: 'f0': allocation 0 is already free (freed on line 2)");
    expect_error("a1 f0 r0=5", "s:1:7: 'r0=5': allocation 0 is already free (freed on line 1)");
    expect_error("a100 f0+100", "s:1:9: 'f0+100': byte 100 is outside allocation 0 (100 bytes)");
    expect_error("a100 r0=10 f0+10",
                 "s:1:15: 'f0+10': byte 10 is outside allocation 0 (10 bytes)");
    expect_error("a0", "s:1:1: 'a0': an allocation needs at least 1 byte");
    expect_error("a", "s:1:2: a size expected here");
    expect_error("a1 r0", "s:1:6: 'r0': a realloc is rID=SIZE, like r0=300");
    expect_error("a1 r0=0", "s:1:4: 'r0=0': a realloc needs at least 1 byte");
    expect_error("a1 fx", "s:1:5: an allocation number expected here");
    expect_error("a1 f0+", "s:1:7: a byte offset expected here");
    expect_error("a12q", "s:1:4: unexpected 'q' after 'a12'");
    expect_error("a99999999999999999999", "s:1:2: a size is too large: '99999999999999999999' "
                                          "(at most 1099511627776)");
    expect_error("a2000000M", "s:1:2: size is too large: '2000000M' (at most 1099511627776 "
                              "bytes)");
    expect_error("a1\tb\n", "s:1:4: unknown operation 'b' (aSIZE, fID, fID+AT, rID=SIZE, +SIZE, "
                            "-ID)");
}

Test(script, directive_refusals)
{
    expect_error("pause now", "s:1:7: 'pause' stands alone on its line");
    expect_error("size", "s:1:1: 'size' needs a size, like size 8K");
    expect_error("size 8K\nsize 4K", "s:2:1: a second size (the first is on line 1)");
    expect_error("size 8Q", "s:1:7: unexpected 'Q' after the size");
    expect_error("size 0", "s:1:6: the size must be at least 1 byte");
    expect_error("sizes 8K", "s:1:1: unknown operation 'sizes' (aSIZE, fID, fID+AT, rID=SIZE, "
                             "+SIZE, -ID)");
}

Test(script, bytes_outside_text_are_refused)
{
    expect_error("a1 \x01", "s:1:4: control character 0x01");
    expect_error("a1 \xc3\xa9", "s:1:4: byte 0xc3 outside a caption or comment (operations are "
                                "ASCII)");
    expect_error("caption bad \xff byte", "s:1:13: not UTF-8 (byte 0xff)");
    expect_error("a1 # \xc0\xaf overlong", "s:1:6: not UTF-8 (byte 0xc0)");
    expect_error("caption \xed\xa0\x80", "s:1:9: not UTF-8 (byte 0xed)");
    char big[SCRIPT_MAX_CAPTION + 20];
    memcpy(big, "caption ", 8);
    memset(big + 8, 'x', SCRIPT_MAX_CAPTION + 1);
    big[8 + SCRIPT_MAX_CAPTION + 1] = '\0';
    expect_error(big, "s:1:9: a caption of 401 bytes: at most 400");
    char *line = malloc(SCRIPT_MAX_LINE + 10);
    memset(line, ' ', SCRIPT_MAX_LINE + 5);
    line[SCRIPT_MAX_LINE + 5] = '\0';
    expect_error(line, "s:1:1025: line longer than 1024 bytes");
    free(line);
}

Test(script, a_comment_may_hold_utf8_and_hashes)
{
    Script s;
    cr_assert_eq(parse("a1 # ‘quoted’ ## more\n#a2\n", &s), 0, "%s", err);
    cr_assert_eq(s.trace.nops, 1);
    Script_Free(&s);
}

Test(script, a_rep_trace_is_taken_as_one)
{
    Script s;
    cr_assert_eq(parse("# header first\n4096\n2\n3\n1\na 0 10\na 1 20\nf 0\n", &s), 0, "%s", err);
    cr_assert(s.was_trace);
    cr_assert_eq(s.trace.nops, 3);
    cr_assert_eq(s.trace.heap_hint, 4096);
    Script_Free(&s);
    /* and its errors are the .rep parser's */
    expect_error("4096\n2\n1\n1\nz 0 1\n", "s:5: unknown op 'z' (expected a, f or r)");
}

Test(script, a_rep_without_its_header_is_accepted)
{
    Script s;
    cr_assert_eq(parse("a 0 512\na 3 64\nf 0 10\nr 3 100\n", &s), 0, "%s", err);
    cr_assert(s.was_trace);
    cr_assert_eq(s.trace.nops, 4);
    cr_assert_eq(s.trace.nids, 4, "ids up to the largest seen");
    cr_assert_eq(s.trace.heap_hint, 0);
    cr_assert_eq(s.trace.weight, 1);
    cr_assert_eq(s.trace.ops[2].at, 10);
    Script_Free(&s);
    /* the same through the trace parser directly */
    Trace t;
    const char *text = "# no header\nf 0\n";
    cr_assert_eq(Trace_Parse(text, strlen(text), "t", &t, err, sizeof err), -1);
    cr_assert_str_eq(err, "t:2: free of id 0, which was never allocated");
    cr_assert_eq(t.ops, NULL);
    text = "a 0 1\nf 0\nf 0\n";
    cr_assert_eq(Trace_Parse(text, strlen(text), "t", &t, err, sizeof err), -1);
    cr_assert_str_eq(err, "t:3: free of id 0, which is already free (double free)");
    text = "a 0 5\n";
    cr_assert_eq(Trace_Parse(text, strlen(text), "t", &t, err, sizeof err), 0, "%s", err);
    cr_assert_eq(t.nids, 1);
    Trace_Free(&t);
}

/* Parses, writes, parses again: the same script. */
static void round_trip(const char *text)
{
    Script a, b;
    cr_assert_eq(parse(text, &a), 0, "%s", err);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(Script_Write(&a, "made by a test\nsecond line", f), 0);
    fclose(f);
    cr_assert_eq(Script_Parse(buf, len, "w", &b, err, sizeof err), 0, "%s\n%s", err, buf);
    cr_assert_eq(b.trace.nops, a.trace.nops, "%s", buf);
    cr_assert_eq(b.trace.nids, a.trace.nids);
    cr_assert_eq(b.trace.heap_hint, a.trace.heap_hint);
    for (size_t i = 0; i < a.trace.nops; i++)
        cr_assert_eq(memcmp(&a.trace.ops[i], &b.trace.ops[i], sizeof(Op)), 0, "op %zu\n%s", i,
                     buf);
    cr_assert_eq(b.nnotes, a.nnotes, "%s", buf);
    for (size_t i = 0; i < a.nnotes; i++) {
        cr_assert_eq(a.notes[i].at, b.notes[i].at);
        cr_assert_eq(a.notes[i].kind, b.notes[i].kind);
        if (a.notes[i].kind == NOTE_CAPTION)
            cr_assert_str_eq(a.pool + a.notes[i].text, b.pool + b.notes[i].text);
    }
    cr_assert(strncmp(buf, "# made by a test\n# second line\n", 31) == 0, "%s", buf);
    free(buf);
    Script_Free(&a);
    Script_Free(&b);
}

Test(script, write_then_parse_gives_the_same_script)
{
    round_trip("a100 a200 f0 a50 f1+30");
    round_trip("size 64K\ncaption one\npause\na1 a2 a3 a4 a5 a6 a7 a8 a9 a10 r3=77\n"
               "caption\nf0 f1+1 f2\npause\ncaption two → three\n");
    round_trip("");
}

Test(script, write_refuses_what_it_could_not_parse_back)
{
    Script s;
    cr_assert_eq(parse("a1 a2 f0", &s), 0, "%s", err);
    s.trace.ops[2].id = 5; /* a free of an allocation that was never made */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(Script_Write(&s, NULL, f), -1);
    fclose(f);
    cr_assert_eq(len, 0, "nothing written");
    free(buf);
    Script_Free(&s);
}

Test(script, load_reads_files_and_names_them)
{
    char path[] = "/tmp/test_script_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs("a10\nf1\n", f);
    fclose(f);
    Script s;
    cr_assert_eq(Script_Load(path, &s, err, sizeof err), -1);
    char want[300];
    snprintf(want, sizeof want, "%s:2:1: 'f1': there is no allocation 1 (allocations so far: 0 "
                                "to 0)", path);
    cr_assert_str_eq(err, want);
    unlink(path);
    cr_assert_eq(Script_Load(path, &s, err, sizeof err), -1);
    cr_assert(strstr(err, "No such file"), "%s", err);
    cr_assert_eq(s.trace.ops, NULL);
}

/* Any prefix and any one-byte change of a valid script either parses or is
 * refused with a well-formed message; nothing crashes or leaks. */
Test(script, cut_and_mutated_input)
{
    const char *text = "size 8K\ncaption A → B\na100 a200 f0 a50 f1+30 r2=70\npause\n+5 -3\n";
    size_t len = strlen(text);
    char *buf = malloc(len + 1);
    ThRng r = {th_seed(7)};
    for (size_t cut = 0; cut <= len; cut++) {
        Script s;
        memcpy(buf, text, len);
        if (Script_Parse(buf, cut, "m", &s, err, sizeof err) == 0)
            Script_Free(&s);
        else
            cr_assert(strncmp(err, "m:", 2) == 0, "%s", err);
    }
    for (int i = 0; i < 3000; i++) {
        Script s;
        memcpy(buf, text, len);
        buf[th_below(&r, len)] = (char)th_below(&r, 256);
        if (Script_Parse(buf, len, "m", &s, err, sizeof err) == 0) {
            cr_assert_leq(s.nnotes, 4);
            Script_Free(&s);
        } else {
            cr_assert(strncmp(err, "m:", 2) == 0 && !strchr(err, '\n'), "%s", err);
        }
    }
    free(buf);
}

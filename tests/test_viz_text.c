/* test_viz_text.c - heapviz's words and command line: event sentences
 * (the forms the issue asks for) and Options_Parse, sentence by sentence. */
#include "testlib.h"

#include "explain.h"
#include "options.h"

#include <criterion/criterion.h>
#include <string.h>

static char text[512], brief[128];

static LogKind say(const MemEvent *ev, unsigned n)
{
    return Explain_Events(ev, n, 0, MEM_COALESCE_NOW, text, sizeof text, brief, sizeof brief);
}

Test(explain, bytes_read_like_a_person_writes_them)
{
    char b[32];
    cr_assert_str_eq(Explain_Bytes(0, b, sizeof b), "0 B");
    cr_assert_str_eq(Explain_Bytes(1023, b, sizeof b), "1023 B");
    cr_assert_str_eq(Explain_Bytes(1024, b, sizeof b), "1 KiB", "whole units stay whole");
    cr_assert_str_eq(Explain_Bytes(2150, b, sizeof b), "2150 B", "exact below 10000");
    cr_assert_str_eq(Explain_Bytes(9318, b, sizeof b), "9318 B");
    cr_assert_str_eq(Explain_Bytes(10100, b, sizeof b), "9.9 KiB");
    cr_assert_str_eq(Explain_Bytes(3u << 20, b, sizeof b), "3 MiB");
    cr_assert_str_eq(Explain_Bytes(1048575, b, sizeof b), "1.0 MiB");
    cr_assert_str_eq(Explain_Exact(7968, b, sizeof b), "7968 B");
    cr_assert_str_eq(Explain_Exact(1024, b, sizeof b), "1024 B");
    cr_assert_str_eq(Explain_Exact(3145712, b, sizeof b), "3145712 B (3.0 MiB)");
}

Test(explain, a_split_is_told_in_exact_bytes)
{
    /* "chose 7.8 KiB at +0x98, split off 7.8 KiB" hid the 32 bytes taken */
    MemEvent e = {.kind = MEM_EV_ALLOC, .policy = MEM_FIRST_FIT, .op = 2, .request = 20,
                  .examined = 1, .block = 0x98, .size = 7968, .remainder = 7936, .object = 0xa0};
    say(&e, 1);
    cr_assert_str_eq(text, "alloc 20 B: first fit examined 1 free block, chose 7968 B at +0x98, "
                           "split off 7936 B");
    e.request = 1024;
    e.size = 3145728;
    e.remainder = 3145728 - 1040;
    say(&e, 1);
    cr_assert(strstr(text, "alloc 1024 B: "), "the request as the program wrote it: %s", text);
    cr_assert(strstr(text, "chose 3145728 B (3 MiB) at +0x98, split off 3144688 B (3.0 MiB)"),
              "%s", text);
    cr_assert_str_eq(brief, "alloc 1024 B → +0x98");
}

Test(explain, a_failure_says_what_the_request_needs)
{
    /* 27 B + the 8 B header, rounded up to 16 B, needs a 48 B block */
    MemEvent e = {.kind = MEM_EV_FAIL, .policy = MEM_FIRST_FIT, .op = 3, .request = 27,
                  .free_total = 32, .largest_free = 32};
    say(&e, 1);
    cr_assert_str_eq(text, "alloc 27 B failed: it needs a 48 B block (27 B + 8 B header, "
                           "rounded up to 16 B), and only 32 B are free in total");
    cr_assert(!strstr(text, "but the largest"), "not blamed on fragmentation: %s", text);
    /* in guard mode the guard takes 8 B more */
    Explain_Events(&e, 1, MEM_OPT_GUARD, MEM_COALESCE_NOW, text, sizeof text, brief, sizeof brief);
    cr_assert(strstr(text, "it needs a 48 B block (27 B + 8 B header + 8 B guard, rounded up "
                           "to 16 B)"), "%s", text);
    e.request = 40;
    Explain_Events(&e, 1, MEM_OPT_GUARD, MEM_COALESCE_NOW, text, sizeof text, brief, sizeof brief);
    cr_assert(strstr(text, "needs a 64 B block"), "%s", text);
    /* the smallest block is MEM_MIN_BLOCK */
    e.request = 1;
    e.free_total = e.largest_free = 16;
    say(&e, 1);
    cr_assert(strstr(text, "needs a 32 B block (the smallest block)"), "%s", text);
}

Test(explain, an_allocation_says_how_it_searched_and_split)
{
    MemEvent e = {.kind = MEM_EV_ALLOC, .policy = MEM_BEST_FIT, .op = 5, .request = 120,
                  .examined = 7, .block = 0x1a0, .size = 128, .remainder = 0, .object = 0x1a8};
    cr_assert_eq(say(&e, 1), LOG_ALLOC);
    cr_assert_str_eq(text, "alloc 120 B: best fit examined 7 free blocks, chose 128 B at "
                           "+0x1a0, split off 0 B");
    cr_assert_str_eq(brief, "alloc 120 B → +0x1a0");
    e.examined = 1;
    e.policy = MEM_NEXT_FIT;
    MemEvent two[2] = {e, {.kind = MEM_EV_ROVER, .op = 5, .block = 0x220}};
    say(two, 2);
    cr_assert_str_eq(text, "alloc 120 B: next fit examined 1 free block, chose 128 B at "
                           "+0x1a0, split off 0 B; next-fit rover → +0x220");
}

Test(explain, a_free_names_the_object_and_what_it_merged_with)
{
    MemEvent ev[2] = {
        {.kind = MEM_EV_FREE, .op = 9, .pointer = 0x1c4, .object = 0x1a0, .request = 120,
         .block = 0x198, .size = 128},
        {.kind = MEM_EV_COALESCE, .op = 9, .neighbours = MEM_RIGHT, .block = 0x198,
         .size = 2150},
    };
    cr_assert_eq(say(ev, 2), LOG_FREE);
    cr_assert_str_eq(text, "free +0x1c4 → object at +0x1a0 (120 B), coalesced with the right "
                           "neighbour → 2150 B free");
    cr_assert_str_eq(brief, "free +0x1c4");
    ev[1].neighbours = MEM_LEFT | MEM_RIGHT;
    say(ev, 2);
    cr_assert(strstr(text, "coalesced with both neighbours"));
    say(ev, 1);
    cr_assert_str_eq(text, "free +0x1c4 → object at +0x1a0 (120 B), no free neighbour → 128 B "
                           "free");
}

Test(explain, a_failure_separates_total_free_from_the_largest_block)
{
    MemEvent e = {.kind = MEM_EV_FAIL, .op = 3, .request = 4000, .free_total = 9318,
                  .largest_free = 2048};
    cr_assert_eq(say(&e, 1), LOG_FAIL);
    cr_assert_str_eq(text, "alloc 4000 B failed: it needs a 4016 B block (4000 B + 8 B header, "
                           "rounded up to 16 B); 9318 B are free in total, but the largest free "
                           "block is 2048 B");
    e.free_total = 1000;
    say(&e, 1);
    cr_assert_str_eq(text, "alloc 4000 B failed: it needs a 4016 B block (4000 B + 8 B header, "
                           "rounded up to 16 B), and only 1000 B are free in total");
}

Test(explain, a_fast_fit_miss_is_not_blamed_on_fragmentation)
{
    MemEvent e = {.kind = MEM_EV_FAIL, .op = 9, .request = 1032, .free_total = 42000,
                  .largest_free = 1072, .policy = MEM_FAST};
    cr_assert_eq(say(&e, 1), LOG_FAIL);
    cr_assert(strstr(text, "the largest free block (1072 B) could hold it"), "%s", text);
    cr_assert(strstr(text, "bounded search"), "%s", text);
}

Test(explain, buddy_says_how_it_halved_and_what_the_rounding_costs)
{
    MemEvent ev[2] = {
        {.kind = MEM_EV_SPLIT, .policy = MEM_BUDDY, .op = 1, .request = 100, .block = 8,
         .size = 1024, .count = 3, .remainder = 896},
        {.kind = MEM_EV_ALLOC, .policy = MEM_BUDDY, .op = 1, .request = 100, .examined = 1,
         .block = 8, .size = 1024, .remainder = 896, .object = 16},
    };
    cr_assert_eq(say(ev, 2), LOG_ALLOC);
    cr_assert_str_eq(text, "alloc 100 B → a 128 B block at +0x8 (20 B of padding): buddy halved "
                           "the free 1024 B 3 times, leaving 896 B as free buddies");
    cr_assert_str_eq(brief, "alloc 100 B → +0x8");
    ev[1].size = 128;
    ev[1].remainder = 0;
    say(&ev[1], 1);
    cr_assert_str_eq(text, "alloc 100 B → the free 128 B block at +0x8 (20 B of padding): buddy "
                           "rounds up to a power of two");
    MemEvent fr[2] = {
        {.kind = MEM_EV_FREE, .policy = MEM_BUDDY, .op = 2, .pointer = 0x90, .object = 0x90,
         .request = 100, .block = 0x88, .size = 128},
        {.kind = MEM_EV_MERGE, .policy = MEM_BUDDY, .op = 2, .block = 8, .size = 1024,
         .count = 3, .neighbours = MEM_LEFT | MEM_RIGHT},
    };
    cr_assert_eq(say(fr, 2), LOG_FREE);
    cr_assert_str_eq(text, "free +0x90 → object at +0x90 (100 B), merged with its buddy 3 times "
                           "→ 1024 B free at +0x8");
    say(fr, 1);
    cr_assert_str_eq(text, "free +0x90 → object at +0x90 (100 B), its buddy is not free → 128 B "
                           "free");
}

Test(explain, the_knobs_say_what_was_not_coalesced_and_when_it_was)
{
    MemEvent f = {.kind = MEM_EV_FREE, .policy = MEM_FIRST_FIT, .op = 4, .pointer = 0x50,
                  .object = 0x50, .request = 40, .block = 0x48, .size = 48,
                  .neighbours = MEM_LEFT};
    Explain_Events(&f, 1, 0, MEM_COALESCE_NEVER, text, sizeof text, brief, sizeof brief);
    cr_assert_str_eq(text, "free +0x50 → object at +0x50 (40 B), not coalesced with the left "
                           "neighbour (coalescing is off) → 48 B free");
    Explain_Events(&f, 1, 0, MEM_COALESCE_DEFERRED, text, sizeof text, brief, sizeof brief);
    cr_assert_str_eq(text, "free +0x50 → object at +0x50 (40 B), not coalesced with the left "
                           "neighbour (coalescing is deferred) → 48 B free");
    MemEvent c[2] = {{.kind = MEM_EV_COALESCE_ALL, .op = 7, .request = 100, .examined = 5,
                      .count = 2, .block = 0x48, .size = 128},
                     {.kind = MEM_EV_ALLOC, .policy = MEM_FIRST_FIT, .op = 7, .request = 100,
                      .examined = 3, .block = 0x48, .size = 128, .object = 0x50}};
    cr_assert_eq(say(c, 2), LOG_ALLOC);
    cr_assert(strstr(text, "no free block held 100 B, so the deferred coalescing ran: 2 of 5 "
                           "free blocks merged into the free block before them; the largest "
                           "is 128 B; alloc 100 B: first fit"), "%s", text);
    c[0].count = 0;
    say(c, 1);
    cr_assert(strstr(text, "no two of the 5 free blocks were neighbours"), "%s", text);
    char k[64];
    cr_assert_str_eq(Explain_Knobs(MEM_ORDER_LIFO, MEM_COALESCE_DEFERRED, k, sizeof k),
                     "LIFO list, deferred coalescing");
    cr_assert_str_eq(Explain_Knobs(MEM_ORDER_ADDRESS, MEM_COALESCE_NEVER, k, sizeof k),
                     "no coalescing");
    cr_assert_str_eq(Explain_Knobs(MEM_ORDER_ADDRESS, MEM_COALESCE_NOW, k, sizeof k), "");
}

Test(explain, refusals_and_overflows_use_the_library_words)
{
    MemEvent r = {.kind = MEM_EV_REJECT, .op = 4, .pointer = 0x1a4, .reason = MEM_REJECT_HEADER};
    cr_assert_eq(say(&r, 1), LOG_REJECT);
    cr_assert_str_eq(text, "free +0x1a4 refused: it points into a block header (metadata)");
    r.pointer = -16;
    r.reason = MEM_REJECT_OUTSIDE;
    say(&r, 1);
    cr_assert_str_eq(text, "free -0x10 refused: it points outside the heap");
    MemEvent o[2] = {{.kind = MEM_EV_OVERFLOW, .op = 6, .object = 0x1a0, .request = 120,
                      .block = 0x198, .size = 4},
                     {.kind = MEM_EV_FREE, .op = 6, .pointer = 0x1a0, .object = 0x1a0,
                      .request = 120, .block = 0x198, .size = 144}};
    cr_assert_eq(say(o, 2), LOG_ALARM);
    cr_assert(strstr(text, "OVERFLOW: 4 B of the guard after the 120 B object at +0x1a0 were "
                           "overwritten"), "%s", text);
    cr_assert(strstr(text, "; free +0x1a0 → object at +0x1a0 (120 B)"), "%s", text);
}

/* ---- the command line ------------------------------------------------------------ */

static Options o;
static char err[256];

static int parse(int argc, const char **argv)
{
    return Options_Parse(argc, (char **)(uintptr_t)argv, &o, err, sizeof err);
}

#define ARGS(...) (sizeof((const char *[]){"heapviz", __VA_ARGS__}) / sizeof(char *)), \
                  ((const char *[]){"heapviz", __VA_ARGS__})

Test(options, no_arguments_give_the_demo_defaults)
{
    const char *argv[] = {"heapviz", NULL};
    cr_assert_eq(parse(1, argv), OPT_RUN);
    cr_assert_eq(o.size, VIZ_DEFAULT_SIZE);
    cr_assert_eq(o.policy, MEM_FIRST_FIT);
    cr_assert_eq(o.workload, WL_RANDOM);
    cr_assert_eq(o.seed, VIZ_DEFAULT_SEED);
    cr_assert_eq(o.speed, VIZ_DEFAULT_SPEED);
    cr_assert_eq(o.nlanes, 0);
    cr_assert(!o.dump && !o.ascii && !o.no_color && !o.guard);
}

Test(options, sizes_take_k_m_g_suffixes)
{
    size_t n;
    cr_assert_eq(Options_ParseSize("4096", &n), 0);
    cr_assert_eq(n, 4096);
    cr_assert_eq(Options_ParseSize("8K", &n), 0);
    cr_assert_eq(n, 8192);
    cr_assert_eq(Options_ParseSize("64k", &n), 0);
    cr_assert_eq(n, 65536);
    cr_assert_eq(Options_ParseSize("2M", &n), 0);
    cr_assert_eq(n, 2u << 20);
    cr_assert_eq(Options_ParseSize("1G", &n), 0);
    cr_assert_eq(n, 1u << 30);
    cr_assert_eq(Options_ParseSize("16KiB", &n), 0);
    cr_assert_eq(n, 16384);
    cr_assert_eq(Options_ParseSize("100B", &n), 0);
    cr_assert_eq(n, 100);
    const char *bad[] = {"", "K", "-1", "8X", "8KK", "1.5M", " 8K", "8K ", "99999999999999999999",
                         "17179869184G"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(Options_ParseSize(bad[i], &n), -1, "'%s' accepted", bad[i]);
}

Test(options, every_option_in_both_spellings)
{
    cr_assert_eq(parse(ARGS("--size", "64K", "--policy=best", "-w", "fragmenter", "--seed",
                            "0x10", "--speed", "30", "--ascii", "--no-colour", "--dump",
                            "--frames", "5", "--skip=7", "--guard", "--paused", "--no-mouse")),
                 OPT_RUN, "%s", err);
    cr_assert_eq(o.size, 65536);
    cr_assert(o.size_given);
    cr_assert_eq(o.policy, MEM_BEST_FIT);
    cr_assert_eq(o.workload, WL_FRAGMENTER);
    cr_assert_eq(o.seed, 16);
    cr_assert_eq(o.speed, 30);
    cr_assert(o.ascii && o.no_color && o.dump && o.guard && o.paused && o.no_mouse);
    cr_assert_eq(o.frames, 5);
    cr_assert_eq(o.skip, 7);
    cr_assert_eq(parse(ARGS("-C", "-s", "1M", "-p", "next")), OPT_RUN);
    cr_assert(o.no_color);
    cr_assert_eq(o.size, 1u << 20);
    cr_assert_eq(o.policy, MEM_NEXT_FIT);
}

Test(options, the_knobs_of_the_list_policies)
{
    cr_assert_eq(parse(ARGS("--order", "lifo", "--coalesce=deferred")), OPT_RUN, "%s", err);
    cr_assert_eq(o.order, MEM_ORDER_LIFO);
    cr_assert_eq(o.coalesce, MEM_COALESCE_DEFERRED);
    cr_assert_eq(parse(ARGS("--order", "addr", "--coalesce", "never", "-p", "worst")), OPT_RUN);
    cr_assert_eq(o.order, MEM_ORDER_ADDRESS);
    cr_assert_eq(o.coalesce, MEM_COALESCE_NEVER);
    cr_assert_eq(parse(ARGS("--order=address", "--order", "fifo")), OPT_RUN, "the last wins");
    cr_assert_eq(o.order, MEM_ORDER_FIFO);
    cr_assert_eq(parse(ARGS()), OPT_RUN);
    cr_assert_eq(o.order, MEM_ORDER_ADDRESS, "the defaults");
    cr_assert_eq(o.coalesce, MEM_COALESCE_NOW);
    cr_assert_eq(parse(ARGS("--order", "random")), OPT_ERROR);
    cr_assert_str_eq(err, "--order: 'random' is not an order (addr, lifo, fifo)");
    cr_assert_eq(parse(ARGS("--coalesce", "later")), OPT_ERROR);
    cr_assert_str_eq(err, "--coalesce: 'later' is not a choice (now, deferred, never)");
    /* a single heap of fast or buddy cannot take them... */
    cr_assert_eq(parse(ARGS("--policy", "buddy", "--order", "lifo")), OPT_ERROR);
    cr_assert_str_eq(err, "--order and --coalesce are for first, next, best and worst fit, "
                          "not buddy");
    cr_assert_eq(parse(ARGS("--coalesce", "never", "-p", "fast")), OPT_ERROR);
    /* ...but the defaults are fine, and compare mode gives them to its list heaps */
    cr_assert_eq(parse(ARGS("--policy", "fast", "--order", "addr", "--coalesce", "now")), OPT_RUN);
    cr_assert_eq(parse(ARGS("--compare", "first,fast,buddy", "--order", "lifo")), OPT_RUN);
    const char *u = Options_Usage();
    cr_assert(strstr(u, "--order ORDER") && strstr(u, "--coalesce WHEN"), "%s", u);
    cr_assert(strstr(u, "8-byte headers, 16-byte alignment"), "the help says what stays fixed");
}

Test(options, compare_lists_policies_once_each)
{
    cr_assert_eq(parse(ARGS("--compare", "first,best,worst,fast")), OPT_RUN, "%s", err);
    cr_assert_eq(o.nlanes, 4);
    cr_assert_eq(o.lanes[0], MEM_FIRST_FIT);
    cr_assert_eq(o.lanes[3], MEM_FAST);
    cr_assert_eq(parse(ARGS("--compare=all")), OPT_RUN);
    cr_assert_eq(o.nlanes, MEM_POLICY_COUNT);
    cr_assert_eq(parse(ARGS("--compare", "first,first")), OPT_ERROR);
    cr_assert(strstr(err, "twice"), "%s", err);
    cr_assert_eq(parse(ARGS("--compare", "first,,best")), OPT_ERROR);
    cr_assert_eq(parse(ARGS("--compare", "first,bestest")), OPT_ERROR);
    cr_assert(strstr(err, "'bestest' is not a policy"), "%s", err);
    /* --policy would be ignored: it is refused instead, in either order */
    cr_assert_eq(parse(ARGS("--compare", "first,best", "--policy", "worst")), OPT_ERROR);
    cr_assert_str_eq(err, "--policy and --compare exclude each other: --compare names the "
                          "policies (p changes the selected heap's)");
    cr_assert_eq(parse(ARGS("-p", "best", "-c", "all")), OPT_ERROR);
}

Test(options, mistakes_are_errors_with_a_reason)
{
    cr_assert_eq(parse(ARGS("--bogus")), OPT_ERROR);
    cr_assert_str_eq(err, "unknown option '--bogus'");
    cr_assert_eq(parse(ARGS("-x")), OPT_ERROR);
    cr_assert_eq(parse(ARGS("stray")), OPT_ERROR);
    cr_assert_eq(parse(ARGS("--size")), OPT_ERROR);
    cr_assert_str_eq(err, "--size needs a value");
    cr_assert_eq(parse(ARGS("--size", "255")), OPT_ERROR, "below VIZ_MIN_SIZE");
    cr_assert_eq(parse(ARGS("--size", "256")), OPT_RUN, "a lecture's small heap");
    cr_assert_eq(parse(ARGS("--size", "2G")), OPT_ERROR, "above VIZ_MAX_SIZE");
    cr_assert(strstr(err, "out of range (256 to 1G)"), "%s", err);
    cr_assert_eq(parse(ARGS("--size", "1G")), OPT_RUN);
    cr_assert_eq(parse(ARGS("--size", "lots")), OPT_ERROR);
    cr_assert_eq(parse(ARGS("--policy", "good")), OPT_ERROR);
    cr_assert_eq(parse(ARGS("--workload", "chaos")), OPT_ERROR);
    cr_assert_eq(parse(ARGS("--speed", "0")), OPT_ERROR);
    cr_assert_eq(parse(ARGS("--frames", "-3")), OPT_ERROR);
    cr_assert_eq(parse(ARGS("--seed", "12a")), OPT_ERROR);
    cr_assert_eq(parse(ARGS("--dump=yes")), OPT_ERROR);
    cr_assert_str_eq(err, "--dump takes no value");
    cr_assert_eq(parse(ARGS("--workload", "trace")), OPT_ERROR);
    cr_assert_eq(parse(ARGS("--trace", "x.rep", "--workload", "stack")), OPT_ERROR);
    cr_assert_eq(parse(ARGS("--trace", "x.rep")), OPT_RUN);
    cr_assert_eq(o.workload, WL_TRACE);
    cr_assert_str_eq(o.trace, "x.rep");
}

Test(options, flash_is_a_time_in_milliseconds)
{
    cr_assert_eq(parse(ARGS("--paused")), OPT_RUN);
    cr_assert_eq(o.flash_ms, VIZ_DEFAULT_FLASH_MS);
    cr_assert_eq(parse(ARGS("--flash", "1500")), OPT_RUN, "%s", err);
    cr_assert_eq(o.flash_ms, 1500);
    cr_assert_eq(parse(ARGS("--flash=0")), OPT_RUN, "0: no flash while running");
    cr_assert_eq(o.flash_ms, 0);
    cr_assert_eq(parse(ARGS("--flash", "60001")), OPT_ERROR);
    cr_assert_str_eq(err, "--flash: '60001' is not 0 to 60000 milliseconds");
    cr_assert_eq(parse(ARGS("--flash", "soon")), OPT_ERROR);
}

Test(options, an_error_is_one_line_whatever_argv_holds)
{
    cr_assert_eq(parse(ARGS("--size", "8K", "--siz\ne")), OPT_ERROR);
    cr_assert_eq(strchr(err, '\n'), NULL, "%s", err);
    cr_assert_str_eq(err, "unknown option '--siz?e'");
    cr_assert_eq(parse(ARGS("--policy", "be\tst\r")), OPT_ERROR);
    cr_assert(strstr(err, "'be?st?'"), "%s", err);
}

Test(options, help_and_version_win_but_never_exit)
{
    cr_assert_eq(parse(ARGS("--help")), OPT_HELP);
    cr_assert_eq(parse(ARGS("--size", "8K", "-h")), OPT_HELP);
    cr_assert_eq(parse(ARGS("--version")), OPT_VERSION);
    cr_assert_eq(parse(ARGS("-V")), OPT_VERSION);
    cr_assert(strstr(Options_Usage(), "--compare"));
    cr_assert_eq(parse(ARGS("--help", "--bogus")), OPT_ERROR, "a later mistake still counts");
}

/* test_lecture.c - heapviz's lecture features without a terminal: a
 * session saved as a script (key s) replays to the same heap; captions and
 * pauses of a running script. */
#include "testlib.h"

#include "app.h"
#include "frame.h"
#include "history.h"
#include "lecture.h"
#include "model.h"
#include "script.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static Model model;
static Ui ui;
static Frame frame;
static Script script;

static void start_with(unsigned nlanes, WorkloadKind wl, const char *ops)
{
    ModelConfig cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.region_size = MemHeap_ControlSize() + 8192;
    cfg.nlanes = nlanes;
    for (unsigned i = 0; i < nlanes; i++)
        cfg.policies[i] = (MemPolicy)i;
    cfg.workload = wl;
    cfg.seed = 5;
    char err[256];
    if (ops) {
        cr_assert_eq(Script_Parse(ops, strlen(ops), "t", &script, err, sizeof err), 0, "%s",
                     err);
        cfg.trace = &script.trace;
    }
    cr_assert_eq(Model_Init(&model, &cfg, err, sizeof err), 0, "%s", err);
    Ui_Init(&ui, &model, (GlyphMode){1, 1}, 8, true);
    ui.script = ops ? &script : NULL;
    ui.trace_name = "t";
    cr_assert_eq(Frame_Init(&frame, 30, 100, true), 0);
    Screen_Compose(&ui, &frame);
}

static void stop(void)
{
    Frame_Free(&frame);
    Model_Fini(&model);
    Script_Free(&script);
}

static unsigned press(int key)
{
    Screen_Compose(&ui, &frame);
    return App_Key(&ui, key);
}

static void type(const char *s)
{
    for (; *s; s++)
        press(*s == '\n' ? VK_ENTER : *s);
}

static char *layout(const Lane *l)
{
    static char buf[1 << 16];
    size_t n = 0;
    for (size_t i = 0; i < l->snap.nblocks && n + 40 < sizeof buf; i++) {
        const SnapBlock *b = &l->snap.blocks[i];
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%c%u@%x/%u ", b->used ? 'U' : 'F',
                              b->size, b->offset, b->object);
    }
    return strdup(buf);
}

/* Saves the session, runs the script on a fresh model of the same policy
 * and returns the text; the last lane-0 layout of both must agree. */
static char *save_and_replay(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    char err[200];
    long n = Lecture_WriteScript(&ui, f, err, sizeof err);
    fclose(f);
    cr_assert_geq(n, 0, "%s", err);
    Model_Sync(&model);
    char *want = layout(&model.lanes[0]);
    MemPolicy pol = model.lanes[0].policy;

    Script s;
    cr_assert_eq(Script_Parse(text, len, "saved", &s, err, sizeof err), 0, "%s\n%s", err, text);
    cr_assert_eq((long)s.trace.nops, n);
    Model m2;
    ModelConfig cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.region_size = MemHeap_ControlSize() + s.trace.heap_hint;
    cfg.nlanes = 1;
    cfg.policies[0] = pol;
    cfg.workload = WL_TRACE;
    cfg.trace = &s.trace;
    cr_assert_eq(Model_Init(&m2, &cfg, err, sizeof err), 0, "%s", err);
    while (Model_Step(&m2))
        ;
    Model_Sync(&m2);
    char *got = layout(&m2.lanes[0]);
    cr_assert_str_eq(got, want, "the script replays to the same heap:\n%s", text);
    free(got);
    free(want);
    Model_Fini(&m2);
    Script_Free(&s);
    return text;
}

Test(save, a_workload_with_typed_operations_replays_to_the_same_heap)
{
    start_with(1, WL_RANDOM, NULL);
    for (int i = 0; i < 60; i++)
        Model_Step(&model);
    press('a');
    type("300\n");
    size_t typed_obj = ui.sel + MEM_HEADER_SIZE;
    for (int i = 0; i < 30; i++)
        Model_Step(&model);
    /* free a workload object through an interior byte, and the typed one */
    Model_Sync(&model);
    const Lane *l = &model.lanes[0];
    size_t victim = SIZE_MAX;
    for (size_t i = 0; i < l->snap.nblocks && victim == SIZE_MAX; i++)
        if (l->snap.blocks[i].used && l->snap.blocks[i].object > 4 &&
            l->snap.blocks[i].offset + MEM_HEADER_SIZE != typed_obj)
            victim = l->snap.blocks[i].offset + MEM_HEADER_SIZE + 3;
    char cmd[40];
    snprintf(cmd, sizeof cmd, "i0x%zx\n", victim);
    type(cmd);
    cr_assert(strstr(ui.msg, "is byte 3 of"), "%s", ui.msg);
    snprintf(cmd, sizeof cmd, "i0x%zx\n", typed_obj);
    type(cmd);
    cr_assert(strstr(ui.msg, "freed the object"), "%s", ui.msg);
    type("i0x0\n"); /* refused: not in the script */
    for (int i = 0; i < 30; i++)
        Model_Step(&model);
    char *text = save_and_replay();
    cr_assert(strstr(text, "# saved by heapviz: 124 steps of a session (first fit, the random "
                           "workload)"), "%s", text);
    cr_assert(strstr(text, "size 8192\n"), "%s", text);
    cr_assert(strstr(text, "+3"), "the interior free: %s", text);
    cr_assert(strstr(text, "1 operations are not in the script"), "%s", text);
    free(text);
    stop();
}

Test(save, a_script_keeps_its_captions_and_pauses_where_they_stood)
{
    start_with(1, WL_TRACE, "caption one\na100 a200\npause\ncaption two\nf0 a50\n");
    Model_Step(&model);
    Model_Step(&model);
    press('a');
    type("64\n");
    Model_Step(&model);
    Model_Step(&model);
    char *text = save_and_replay();
    /* typed at the pause: after it, where the lecturer stopped */
    cr_assert(strstr(text, "caption one\na100 a200\npause\ncaption two\na64 f0 a50\n"), "%s",
              text);
    free(text);
    /* stepped back, the script holds the operations up to the step shown */
    press('b');
    press('b');
    text = save_and_replay();
    cr_assert(strstr(text, "caption one\na100 a200\npause\ncaption two\na64\n"), "%s", text);
    cr_assert_null(strstr(text, "f0"), "%s", text);
    free(text);
    stop();
}

Test(save, the_key_writes_a_new_file_and_never_overwrites_one)
{
    char dir[] = "/tmp/test_lecture_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(chdir(dir), 0);
    start_with(1, WL_RANDOM, NULL);
    for (int i = 0; i < 20; i++)
        Model_Step(&model);
    press('s');
    cr_assert_eq(ui.prompt, PROMPT_SAVE);
    cr_assert_str_eq(ui.input, "heapviz-1.hvs", "a fresh name is offered");
    press(VK_ENTER);
    cr_assert(strstr(ui.msg, "saved 20 operations to heapviz-1.hvs"), "%s", ui.msg);
    cr_assert_eq(access("heapviz-1.hvs", R_OK), 0);
    press('s');
    cr_assert_str_eq(ui.input, "heapviz-2.hvs");
    for (int i = 0; i < 5; i++)
        press(VK_BACKSPACE);
    type("1.hvs\n");
    cr_assert(strstr(ui.msg, "cannot save to heapviz-1.hvs: File exists"), "%s", ui.msg);
    press('s');
    for (int i = 0; i < 20; i++)
        press(VK_BACKSPACE);
    type("no/such/dir.hvs\n");
    cr_assert(strstr(ui.msg, "cannot save to no/such/dir.hvs"), "%s", ui.msg);
    Script s;
    char err[200];
    cr_assert_eq(Script_Load("heapviz-1.hvs", &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.trace.nops, 20);
    Script_Free(&s);
    unlink("heapviz-1.hvs");
    rmdir(dir);
    stop();
}

Test(lecture, captions_follow_the_script_and_a_pause_stops_the_run)
{
    start_with(1, WL_TRACE, "caption first\na1 a2\npause\ncaption second\nf0\n");
    cr_assert_str_eq(Lecture_Caption(&ui), "first");
    ui.paused = false;
    App_Step(&ui);
    cr_assert_not(ui.paused);
    App_Step(&ui);
    cr_assert(ui.paused, "the pause after two operations");
    cr_assert(strstr(ui.msg, "the script pauses here"), "%s", ui.msg);
    cr_assert_str_eq(Lecture_Caption(&ui), "first", "the next caption waits");
    Screen_Compose(&ui, &frame);
    char row[200];
    Frame_RowText(&frame, 1, row, sizeof row);
    cr_assert(strstr(row, "first"), "the caption bar: %s", row);
    ui.paused = false;
    App_Step(&ui);
    cr_assert_str_eq(Lecture_Caption(&ui), "second");
    press('b');
    cr_assert_str_eq(Lecture_Caption(&ui), "first", "back in time, the caption of then");
    stop();
}

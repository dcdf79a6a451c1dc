/* test_export.c - frames as SVG and HTML (viz/export.h): the SVG is valid
 * XML (xmllint), renders (rsvg-convert) to a picture of the frame's size in
 * which the object and free colours of the map are found; the HTML parses;
 * text is escaped; a file that cannot be written is an error that leaves
 * nothing behind.  Needs libxml2-utils and librsvg2-bin (.ci/deps.sh). */
#include "testlib.h"

#include "app.h"
#include "export.h"
#include "frame.h"
#include "model.h"

#include <criterion/criterion.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static Model model;
static Ui ui;
static char dir[] = "/tmp/test_export_XXXXXX";

/* nlanes heaps of the first policies (policy >= 0: one heap of it). */
static void start_at(unsigned nlanes, int policy, size_t arena, int steps)
{
    cr_assert_not_null(mkdtemp(dir));
    ModelConfig cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.region_size = MemHeap_ControlSize() + arena;
    cfg.nlanes = nlanes;
    for (unsigned i = 0; i < nlanes; i++)
        cfg.policies[i] = policy >= 0 ? (MemPolicy)policy : (MemPolicy)i;
    cfg.workload = WL_RANDOM;
    cfg.seed = 2;
    char err[128];
    cr_assert_eq(Model_Init(&model, &cfg, err, sizeof err), 0, "%s", err);
    Ui_Init(&ui, &model, (GlyphMode){1, 0}, 8, true);
    for (int i = 0; i < steps; i++)
        Model_Step(&model);
}

static void start(unsigned nlanes) { start_at(nlanes, -1, 8192, 50); }

static void stop(void)
{
    Model_Fini(&model);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

/* Runs "tool ARGS A B" (quiet unless it fails). */
static int run(const char *tool, const char *a, const char *b)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s %s %s", tool, a, b);
    return system(cmd);
}

/* The PNG's size and whether it holds a pixel of each colour wanted. */
static void check_png(const char *path, unsigned w, unsigned h, const uint32_t *want,
                      size_t nwant, const char *const *what)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    cr_assert(png_image_begin_read_from_file(&img, path), "%s: %s", path, img.message);
    cr_assert_eq(img.width, w, "the picture is the frame's width");
    cr_assert_eq(img.height, h, "and its height");
    img.format = PNG_FORMAT_RGB;
    unsigned char *px = malloc(PNG_IMAGE_SIZE(img));
    cr_assert(png_image_finish_read(&img, NULL, px, 0, NULL), "%s", img.message);
    for (size_t k = 0; k < nwant; k++) {
        size_t hits = 0;
        for (size_t i = 0; i < (size_t)w * h; i++) {
            uint32_t c = (uint32_t)px[3 * i] << 16 | (uint32_t)px[3 * i + 1] << 8 | px[3 * i + 2];
            hits += c == want[k];
        }
        cr_assert_gt(hits, 50, "the %s colour #%06X is in the picture (%zu pixels)", what[k],
                     want[k], hits);
    }
    free(px);
}

/* Exports ui's screen at rows x cols as DIR/name.svg, checks it with
 * xmllint and renders it to DIR/name.png (its path into png). */
static void svg_to_png(const char *name, int rows, int cols, char *png, size_t len)
{
    char svg[128], err[200];
    snprintf(svg, sizeof svg, "%s/%s.svg", dir, name);
    snprintf(png, len, "%s/%s.png", dir, name);
    cr_assert_eq(Export_Screen(&ui, rows, cols, false, svg, NULL, false, err, sizeof err), 0, "%s",
                 err);
    cr_assert_eq(run("xmllint --noout", svg, ""), 0, "xmllint accepts the SVG");
    cr_assert_eq(run("rsvg-convert -o", png, svg), 0, "rsvg-convert renders it");
}

/* Exports ui's screen at 24 x 80 as the HTML page DIR/name.html into text. */
static void html_text(const char *name, char *text, size_t len)
{
    char html[128], err[200];
    snprintf(html, sizeof html, "%s/%s.html", dir, name);
    cr_assert_eq(Export_Screen(&ui, 24, 80, false, NULL, html, false, err, sizeof err), 0, "%s",
                 err);
    cr_assert_eq(run("xmllint --html --noout", html, ""), 0, "the page parses");
    FILE *f = fopen(html, "r");
    size_t n = fread(text, 1, len - 1, f);
    fclose(f);
    text[n] = '\0';
}

#define DARK(style) Export_StyleRgb(THEME_DARK, style, false)

Test(export, the_svg_is_valid_and_renders_in_the_map_colours)
{
    start(1);
    char png[128];
    svg_to_png("frame", 30, 100, png, sizeof png);
    uint32_t want[] = {DARK(S_OBJECT_A), DARK(S_OBJECT_B), DARK(S_FREE), DARK(S_HEADER),
                       DARK(S_TITLE)};
    const char *what[] = {"object", "next object", "free", "header", "title bar"};
    check_png(png, 100 * EXPORT_CELL_W, 30 * EXPORT_CELL_H, want, 5, what);
    stop();
}

Test(export, compare_mode_and_a_wide_frame_render_too)
{
    start(3);
    char png[128];
    svg_to_png("cmp", 50, 160, png, sizeof png);
    uint32_t want[] = {DARK(S_OBJECT_A), DARK(S_FREE)};
    const char *what[] = {"object", "free"};
    check_png(png, 160 * EXPORT_CELL_W, 50 * EXPORT_CELL_H, want, 2, what);
    stop();
}

Test(export, the_html_page_parses_and_carries_the_colours)
{
    start(1);
    static char text[1 << 20];
    html_text("frame", text, sizeof text);
    char colour[32];
    snprintf(colour, sizeof colour, "background:#%06X", DARK(S_OBJECT_A));
    cr_assert(strstr(text, colour), "object cells are filled with their colour");
    snprintf(colour, sizeof colour, "background:#%06X", DARK(S_FREE));
    cr_assert(strstr(text, colour), "and free cells with theirs");
    cr_assert(strstr(text, "first fit"), "the title bar's text");
    stop();
}

Test(export, runs_are_drawn_slot_by_slot_in_their_colours)
{
    /* fast fit serves small objects from runs: the table, the slots in
     * their two shades and the free slots have colours of their own */
    start_at(1, MEM_FAST, 65536, 300);
    cr_assert_gt(model.lanes[0].snap.stats.runs, 0, "the heap has runs");
    char png[128];
    svg_to_png("runs", 30, 100, png, sizeof png);
    uint32_t want[] = {DARK(S_SLOT_A), DARK(S_SLOT_FREE), DARK(S_RUN)};
    const char *what[] = {"slot", "free slot", "run table"};
    check_png(png, 100 * EXPORT_CELL_W, 30 * EXPORT_CELL_H, want, 3, what);
    stop();
}

Test(export, the_theme_of_the_screen_is_the_theme_of_the_picture)
{
    start(1);
    static char text[1 << 20];
    const ThemeId themes[] = {THEME_LIGHT, THEME_CONTRAST};
    for (size_t k = 0; k < 2; k++) {
        ui.theme = themes[k];
        html_text(Theme_Name(themes[k]), text, sizeof text);
        char want[64];
        snprintf(want, sizeof want, "body { background: #%06X;",
                 Export_Rgb(themes[k], themes[k] == THEME_CONTRAST ? 16 : -1, false));
        cr_assert(strstr(text, want), "%s: the page's paper (%s)", Theme_Name(themes[k]), want);
        snprintf(want, sizeof want, "background:#%06X",
                 Export_StyleRgb(themes[k], S_OBJECT_A, false));
        cr_assert(strstr(text, want), "%s: objects in the theme's object colour",
                  Theme_Name(themes[k]));
    }
    stop();
}

Test(export, text_is_escaped)
{
    Frame f;
    cr_assert_eq(Frame_Init(&f, 2, 20, true), 0);
    Frame_Text(&f, 0, 0, 20, S_NORMAL, "<a & \"b\"> →");
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    cr_assert_eq(Export_Svg(&f, THEME_DARK, "x < y & z", out), 0);
    fclose(out);
    cr_assert(strstr(buf, "&lt;a &amp; &quot;b&quot;&gt; →"), "%s", buf);
    cr_assert(strstr(buf, "<title>x &lt; y &amp; z</title>"), "%s", buf);
    free(buf);
    Frame_Free(&f);
}

Test(export, the_colour_table_is_xterms)
{
    cr_assert_eq(Export_Rgb(THEME_DARK, 0, false), 0x000000);
    cr_assert_eq(Export_Rgb(THEME_DARK, 196, false), 0xFF0000);
    cr_assert_eq(Export_Rgb(THEME_DARK, 25, false), 0x005FAF);
    cr_assert_eq(Export_Rgb(THEME_DARK, 231, false), 0xFFFFFF);
    cr_assert_eq(Export_Rgb(THEME_DARK, 232, false), 0x080808);
    cr_assert_eq(Export_Rgb(THEME_DARK, 255, false), 0xEEEEEE);
    cr_assert_neq(Export_Rgb(THEME_DARK, -1, true), Export_Rgb(THEME_DARK, -1, false), "default text shows on the background");
}

Test(export, a_file_that_cannot_be_written_is_an_error_and_leaves_nothing)
{
    start(1);
    char err[200], path[128];
    cr_assert_eq(Export_Screen(&ui, 24, 80, false, "/no/such/dir/x.svg", NULL, true, err,
                               sizeof err), -1);
    cr_assert_str_eq(err, "/no/such/dir/x.svg: No such file or directory");
    snprintf(path, sizeof path, "%s/keep.svg", dir);
    FILE *f = fopen(path, "w");
    fputs("mine", f);
    fclose(f);
    cr_assert_eq(Export_Screen(&ui, 24, 80, false, path, NULL, false, err, sizeof err), -1,
                 "no overwrite unless asked");
    cr_assert(strstr(err, "File exists"), "%s", err);
    f = fopen(path, "r");
    char got[8] = "";
    cr_assert_not_null(fgets(got, sizeof got, f));
    fclose(f);
    cr_assert_str_eq(got, "mine", "the file is untouched");
    if (access("/dev/full", W_OK) == 0) {
        cr_assert_eq(Export_Screen(&ui, 24, 80, false, "/dev/full", NULL, true, err, sizeof err),
                     -1, "a full disk is reported");
        cr_assert(strstr(err, "No space left"), "%s", err);
    }
    stop();
}

Test(export, the_key_writes_new_files_and_says_where)
{
    start(1);
    cr_assert_eq(chdir(dir), 0);
    ui.rows = 30;
    ui.cols = 100;
    unsigned r = App_Key(&ui, 'e');
    cr_assert(r & R_REDRAW);
    cr_assert_str_eq(ui.msg, "frame exported to heapviz-step50.svg and .html");
    cr_assert_eq(access("heapviz-step50.svg", R_OK), 0);
    cr_assert_eq(access("heapviz-step50.html", R_OK), 0);
    App_Key(&ui, 'e');
    cr_assert(strstr(ui.msg, "heapviz-step50-2.svg"), "a second export, new names: %s", ui.msg);
    stop();
}

Test(export, a_board_sized_buddy_heap_of_256_bytes_renders)
{
    /* the book's small heaps (--size 256) and buddy's level rows */
    start_at(1, MEM_BUDDY, 256, 6);
    cr_assert_eq(model.lanes[0].snap.region.size, 256u);
    char png[128];
    svg_to_png("buddy256", 30, 100, png, sizeof png);
    uint32_t want[] = {DARK(S_OBJECT_A), DARK(S_FREE), DARK(S_HEADER)};
    const char *what[] = {"object", "free", "header"};
    check_png(png, 100 * EXPORT_CELL_W, 30 * EXPORT_CELL_H, want, 3, what);
    stop();
}

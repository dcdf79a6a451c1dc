/* test_viz_theme.c - the themes (issue 12's projector display): every
 * style passes WCAG 2's contrast ratio in every theme, computed from the
 * 256-colour palette's RGB values, and so does every cell of composed
 * screens at 80x24, 100x30 and 250x60; COLORFGBG picks the default. */
#include "testlib.h"

#include "app.h"
#include "frame.h"
#include "model.h"
#include "options.h"
#include "theme.h"
#include "viz_fixture.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* WCAG 2: relative luminance of an sRGB colour, and the contrast ratio. */
static double luminance(uint32_t rgb)
{
    double c[3];
    for (int k = 0; k < 3; k++) {
        double v = (double)((rgb >> (16 - 8 * k)) & 0xff) / 255.0;
        c[k] = v <= 0.03928 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
    }
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}

static double contrast(int a, int b)
{
    double la = luminance(Theme_Rgb(a)), lb = luminance(Theme_Rgb(b));
    return la > lb ? (la + 0.05) / (lb + 0.05) : (lb + 0.05) / (la + 0.05);
}

/* What a style of this role must reach in theme t. */
static double needed(StyleRole role, ThemeId t)
{
    if (role == ROLE_TEXT)
        return t == THEME_CONTRAST ? 7.0 : 4.5;
    if (role == ROLE_GRAPHIC)
        return t == THEME_CONTRAST ? 4.5 : 3.0;
    return 0.0;
}

Test(theme, the_palette_and_the_ratio_are_wcags)
{
    cr_assert_eq(Theme_Rgb(16), 0x000000);
    cr_assert_eq(Theme_Rgb(231), 0xffffff);
    cr_assert_eq(Theme_Rgb(196), 0xff0000);
    cr_assert_eq(Theme_Rgb(67), 0x5f87af);
    cr_assert_eq(Theme_Rgb(244), 0x808080);
    cr_assert_eq(Theme_Rgb(9), 0xff0000);
    cr_assert_float_eq(contrast(16, 231), 21.0, 1e-9);
    cr_assert_float_eq(contrast(231, 231), 1.0, 1e-9);
    /* WCAG's own example: #767676 on white is 4.54:1 */
    cr_assert_float_eq(contrast(243, 231), 4.54, 0.01);
}

Test(theme, every_style_passes_in_every_theme_on_every_paper)
{
    int failures = 0;
    for (unsigned t = 0; t < THEME_COUNT; t++) {
        size_t np;
        const int *paper = Theme_Papers((ThemeId)t, &np);
        for (unsigned s = 0; s < S_COUNT; s++) {
            double need = needed(Theme_Styles[s].role, (ThemeId)t);
            if (need == 0.0)
                continue;
            int fg, bg;
            Theme_Colors((ThemeId)t, (Style)s, true, &fg, &bg);
            for (size_t p = 0; p < np; p++) {
                int f = fg < 0 ? (t == THEME_LIGHT ? 16 : 231) : fg; /* the terminal's text */
                int b = bg < 0 ? paper[p] : bg;
                double r = contrast(f, b);
                if (r < need) {
                    cr_log_error("%s theme: %s, %d on %d: %.2f:1, needs %.1f", Theme_Name(t),
                                 Theme_Styles[s].name, f, b, r, need);
                    failures++;
                }
            }
        }
    }
    cr_assert_eq(failures, 0, "%d style(s) below WCAG's ratio", failures);
}

Test(theme, the_light_theme_keeps_values_and_events_readable)
{
    /* the trial's defect 3: bold 231 (white) values on a light background */
    int fg, bg;
    static const Style text[] = {S_VALUE, S_LABEL, S_LOG_ALLOC, S_LOG_FREE, S_DIM, S_HEAD};
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++) {
        Theme_Colors(THEME_LIGHT, text[i], true, &fg, &bg);
        cr_assert_eq(bg, -1, "the light theme keeps the terminal's background");
        cr_assert_geq(contrast(fg, 231), 4.5, "%s on white", Theme_Styles[text[i]].name);
    }
    Theme_Colors(THEME_LIGHT, S_VALUE, false, &fg, &bg);
    cr_assert_eq(fg, 0, "eight colours: black, not white, on a light background");
    Theme_Colors(THEME_CONTRAST, S_LABEL, true, &fg, &bg);
    cr_assert_eq(bg, 16, "the contrast theme paints its own paper");
}

Test(theme, colorfgbg_chooses_the_default)
{
    cr_assert_eq(Theme_FromColorFgBg(NULL), THEME_DARK);
    cr_assert_eq(Theme_FromColorFgBg(""), THEME_DARK);
    cr_assert_eq(Theme_FromColorFgBg("15;0"), THEME_DARK);
    cr_assert_eq(Theme_FromColorFgBg("0;15"), THEME_LIGHT);
    cr_assert_eq(Theme_FromColorFgBg("0;7"), THEME_LIGHT);
    cr_assert_eq(Theme_FromColorFgBg("0;default;15"), THEME_LIGHT);
    cr_assert_eq(Theme_FromColorFgBg("15;default;0"), THEME_DARK);
    cr_assert_eq(Theme_FromColorFgBg("0;8"), THEME_DARK, "8 is dark grey");
    cr_assert_eq(Theme_FromColorFgBg("0;default"), THEME_DARK);
    cr_assert_eq(Theme_FromColorFgBg("0;15x"), THEME_DARK);
    ThemeId t = THEME_DARK;
    cr_assert_eq(Theme_Parse("contrast", &t), 0);
    cr_assert_eq(t, THEME_CONTRAST);
    cr_assert_eq(Theme_Parse("Light", &t), -1);
    Options o;
    char err[160];
    char a0[] = "heapviz", a1[] = "--theme", a2[] = "light", a3[] = "--theme=sepia";
    char *argv[] = {a0, a1, a2, NULL};
    cr_assert_eq(Options_Parse(3, argv, &o, err, sizeof err), OPT_RUN, "%s", err);
    cr_assert(o.theme_given);
    cr_assert_eq(o.theme, THEME_LIGHT);
    char *bad[] = {a0, a3, NULL};
    cr_assert_eq(Options_Parse(2, bad, &o, err, sizeof err), OPT_ERROR);
    cr_assert_str_eq(err, "--theme: 'sepia' is not a theme (dark, light, contrast)");
}

/* ---- composed screens: every visible cell, as the terminal gets it ------------------ */

static Model model;
static Ui ui;

static void start(unsigned nlanes, unsigned flags, MemPolicy policy)
{
    viz_start(&model, &ui, nlanes, policy, flags, WL_FRAGMENTER, 4, 130, (GlyphMode){1, 1});
}

/* Checks every cell with a glyph on it; returns the failures (logged). */
static int check_frame(const Frame *f, ThemeId t, const char *what)
{
    int failures = 0;
    size_t np;
    const int *paper = Theme_Papers(t, &np);
    for (int y = 0; y < f->rows; y++)
        for (int x = 0; x < f->cols; x++) {
            const FCell *c = &f->c[(size_t)y * (size_t)f->cols + (size_t)x];
            if (c->ch == ' ' || (c->attr & VA_SPLIT))
                continue; /* no glyph, or a boundary between two fills */
            double need = needed(Theme_Styles[c->fg].role, t);
            int fg, bg;
            unsigned attr;
            Frame_CellColors(c, t, true, &fg, &bg, &attr);
            for (size_t p = 0; p < np && need > 0.0; p++) {
                int fc = fg < 0 ? (t == THEME_LIGHT ? 16 : 231) : fg;
                int bc = bg < 0 ? paper[p] : bg;
                if (attr & VA_REVERSE) {
                    int tmp = fc;
                    fc = bc;
                    bc = tmp;
                }
                double r = contrast(fc, bc);
                if (r < need && failures++ < 10)
                    cr_log_error("%s, %s theme, %dx%d at row %d col %d ('%lc', %s): %d on %d is "
                                 "%.2f:1, needs %.1f", what, Theme_Name(t), f->cols, f->rows, y,
                                 x, (wint_t)c->ch, Theme_Styles[c->fg].name, fc, bc, r, need);
            }
        }
    return failures;
}

Test(theme, every_cell_of_every_screen_passes_at_80x24_100x30_and_250x60)
{
    static const int sizes[][2] = {{24, 80}, {30, 100}, {60, 250}};
    static const struct {
        unsigned nlanes, flags;
        MemPolicy policy;
        const char *keys;
        const char *what;
    } screens[] = {
        {1, 0, MEM_NEXT_FIT, "l", "next fit, a block selected"},
        {1, MEM_OPT_GUARD, MEM_FIRST_FIT, "a100\no", "guard, an overflow"},
        {1, 0, MEM_BEST_FIT, "?", "the help"},
        {1, 0, MEM_FAST, "i", "the offset prompt"},
        {MEM_POLICY_COUNT, 0, MEM_FIRST_FIT, "", "compare all"},
    };
    int failures = 0;
    for (size_t k = 0; k < sizeof screens / sizeof screens[0]; k++) {
        for (unsigned t = 0; t < THEME_COUNT; t++) {
            for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
                start(screens[k].nlanes, screens[k].flags, screens[k].policy);
                Frame f;
                cr_assert_eq(Frame_Init(&f, sizes[z][0], sizes[z][1], true), 0);
                const char *keys = screens[k].keys;
                for (int key; (key = App_NextKey(&keys)) != 0;) {
                    Screen_Compose(&ui, &f);
                    App_Key(&ui, key);
                }
                ui.flash = true; /* the last operation in its flash colours */
                Screen_Compose(&ui, &f);
                failures += check_frame(&f, (ThemeId)t, screens[k].what);
                Frame_Free(&f);
                Model_Fini(&model);
            }
        }
    }
    cr_assert_eq(failures, 0, "%d cell(s) below WCAG's ratio", failures);
}

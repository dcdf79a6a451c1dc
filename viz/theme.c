/*
 * theme.c - the style and kind tables expanded from theme.h, the themes,
 * and the contrast arithmetic the theme test uses.
 */
#include "theme.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define VIZ_STYLE_ROW(name, role, df, db, lf, lb, cf, cb, f8, b8, a, m) \
    {#name, ROLE_##role, {df, lf, cf}, {db, lb, cb}, f8, b8, a, m},
const StyleDef Theme_Styles[S_COUNT] = {VIZ_STYLES(VIZ_STYLE_ROW)};
#undef VIZ_STYLE_ROW

static const char *const theme_names[THEME_COUNT] = {"dark", "light", "contrast"};

const char *Theme_Name(ThemeId t) { return (unsigned)t < THEME_COUNT ? theme_names[t] : "?"; }

int Theme_Parse(const char *name, ThemeId *out)
{
    for (unsigned t = 0; name && t < THEME_COUNT; t++)
        if (strcmp(name, theme_names[t]) == 0) {
            *out = (ThemeId)t;
            return 0;
        }
    return -1;
}

ThemeId Theme_FromColorFgBg(const char *v)
{
    if (!v)
        return THEME_DARK;
    const char *last = strrchr(v, ';');
    last = last ? last + 1 : v;
    if (!isdigit((unsigned char)*last))
        return THEME_DARK;
    char *end;
    long bg = strtol(last, &end, 10);
    if (*end)
        return THEME_DARK;
    return bg == 7 || (bg >= 9 && bg <= 15) ? THEME_LIGHT : THEME_DARK;
}

void Theme_Colors(ThemeId t, Style s, bool many, int *fg, int *bg)
{
    if ((unsigned)t >= THEME_COUNT)
        t = THEME_DARK;
    const StyleDef *d = &Theme_Styles[(unsigned)s < S_COUNT ? s : S_NORMAL];
    if (many) {
        *fg = d->fg[t];
        *bg = d->bg[t];
        if (t == THEME_CONTRAST) {
            if (*bg < 0)
                *bg = Theme_Styles[S_NORMAL].bg[t];
            if (*fg < 0)
                *fg = Theme_Styles[S_NORMAL].fg[t];
        }
        return;
    }
    /* eight colours: the dark table; light text goes dark on a light
     * background, and the contrast theme paints black */
    *fg = d->fg8;
    *bg = d->bg8;
    if (t == THEME_LIGHT && *bg < 0 && *fg == 7)
        *fg = 0;
    if (t == THEME_CONTRAST && *bg < 0)
        *bg = 0;
}

const int *Theme_Papers(ThemeId t, size_t *n)
{
    static const int dark[] = {16, 235}, light[] = {231, 255}, contrast[] = {16};
    switch (t) {
    case THEME_LIGHT: *n = 2; return light;
    case THEME_CONTRAST: *n = 1; return contrast;
    default: *n = 2; return dark;
    }
}

uint32_t Theme_Rgb(int i)
{
    static const uint32_t sys[16] = {0x000000, 0xcd0000, 0x00cd00, 0xcdcd00, 0x0000ee, 0xcd00cd,
                                     0x00cdcd, 0xe5e5e5, 0x7f7f7f, 0xff0000, 0x00ff00, 0xffff00,
                                     0x5c5cff, 0xff00ff, 0x00ffff, 0xffffff};
    if (i < 0 || i > 255)
        return 0;
    if (i < 16)
        return sys[i];
    if (i < 232) {
        static const uint32_t level[6] = {0, 95, 135, 175, 215, 255};
        i -= 16;
        return level[i / 36] << 16 | level[(i / 6) % 6] << 8 | level[i % 6];
    }
    uint32_t g = 8 + 10 * (uint32_t)(i - 232);
    return g << 16 | g << 8 | g;
}


#define VIZ_KIND_ROW(name, style, a, u, c, label) {style, a, u, c, label},
const KindDef Theme_Kinds[K_COUNT] = {VIZ_KINDS(VIZ_KIND_ROW)};
#undef VIZ_KIND_ROW

uint32_t Theme_Glyph(Kind k, GlyphMode g)
{
    if ((unsigned)k >= K_COUNT)
        return ' ';
    if (g.colour)
        return g.utf8 || Theme_Kinds[k].colour < 0x80 ? Theme_Kinds[k].colour
                                                      : Theme_Kinds[k].ascii;
    return g.utf8 ? Theme_Kinds[k].utf8 : Theme_Kinds[k].ascii;
}

uint32_t Theme_MarkSelect(GlyphMode g) { return g.utf8 ? 0x2501 : '='; } /* ━ */
uint32_t Theme_MarkTouch(GlyphMode g) { return g.utf8 ? 0x254C : '-'; }  /* ╌ */
uint32_t Theme_MarkRover(GlyphMode g) { return g.utf8 ? 0x25B2 : '^'; }  /* ▲ */

/*
 * theme.c - the style and kind tables expanded from theme.h.
 */
#include "theme.h"

#define VIZ_STYLE_ROW(name, f, b, f8, b8, a, m) {#name, f, b, f8, b8, a, m},
const StyleDef Theme_Styles[S_COUNT] = {VIZ_STYLES(VIZ_STYLE_ROW)};
#undef VIZ_STYLE_ROW

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

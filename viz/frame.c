/*
 * frame.c - the cell grid every screen is composed into (see frame.h).
 */
#include "frame.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int Frame_Init(Frame *f, int rows, int cols, bool utf8)
{
    f->rows = rows > 0 ? rows : 0;
    f->cols = cols > 0 ? cols : 0;
    f->utf8 = utf8;
    size_t n = (size_t)f->rows * (size_t)f->cols;
    f->c = calloc(n ? n : 1, sizeof *f->c);
    if (!f->c)
        return -1;
    Frame_Clear(f);
    return 0;
}

void Frame_Free(Frame *f)
{
    free(f->c);
    f->c = NULL;
    f->rows = f->cols = 0;
}

void Frame_Clear(Frame *f)
{
    size_t n = (size_t)f->rows * (size_t)f->cols;
    for (size_t i = 0; i < n; i++)
        f->c[i] = (FCell){' ', S_NORMAL, S_NORMAL, 0};
}

FCell *Frame_At(Frame *f, int y, int x)
{
    if (y < 0 || x < 0 || y >= f->rows || x >= f->cols)
        return NULL;
    return &f->c[(size_t)y * (size_t)f->cols + (size_t)x];
}

void Frame_Put(Frame *f, int y, int x, uint32_t ch, Style s)
{
    FCell *c = Frame_At(f, y, x);
    if (c)
        *c = (FCell){ch, (uint8_t)s, (uint8_t)s, 0};
}

void Frame_Fill(Frame *f, int y, int x, int w, uint32_t ch, Style s)
{
    for (int i = 0; i < w; i++)
        Frame_Put(f, y, x + i, ch, s);
}

/* Decodes one UTF-8 sequence; returns its length (invalid bytes: 1, U+FFFD). */
static int decode(const unsigned char *p, uint32_t *cp)
{
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    int n = (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3 : (p[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0) {
        *cp = 0xFFFD;
        return 1;
    }
    uint32_t v = p[0] & (0x7Fu >> n);
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        v = v << 6 | (p[i] & 0x3Fu);
    }
    *cp = v;
    return n;
}

/* ASCII for the symbols heapviz writes in its own text. */
static const char *fold(uint32_t cp)
{
    switch (cp) {
    case 0x2192: return "->";   /* → */
    case 0x2190: return "<-";   /* ← */
    case 0x2191: return "^";    /* ↑ */
    case 0x2193: return "v";    /* ↓ */
    case 0x00B7: return ".";    /* · */
    case 0x2014: return "--";   /* — */
    case 0x2013: return "-";    /* – */
    case 0x2026: return "...";  /* … */
    case 0x00D7: return "x";    /* × */
    case 0x2500: case 0x2501: case 0x254C: return "-";
    case 0x2502: case 0x2503: return "|";
    case 0x250C: case 0x2510: case 0x2514: case 0x2518: case 0x253C: return "+";
    case 0x251C: case 0x2524: case 0x252C: case 0x2534: return "+";
    case 0x25B2: return "^";
    case 0x2588: case 0x2593: return "#";
    case 0x2591: return "~";
    case 0x2571: return "/";
    default: return "?";
    }
}

static int put_cp(Frame *f, int y, int x, int maxw, Style s, uint32_t cp)
{
    if (cp < 0x20 || cp == 0x7F)
        cp = '?';
    if (f->utf8 || cp < 0x80) {
        if (maxw < 1)
            return 0;
        Frame_Put(f, y, x, cp, s);
        return 1;
    }
    const char *a = fold(cp);
    int n = 0;
    for (; a[n] && n < maxw; n++)
        Frame_Put(f, y, x + n, (unsigned char)a[n], s);
    return n;
}

int Frame_Text(Frame *f, int y, int x, int maxw, Style s, const char *text)
{
    if (!text)
        return 0;
    if (maxw < 0 || x + maxw > f->cols)
        maxw = f->cols - x;
    if (maxw <= 0)
        return 0;
    /* text that does not fit is cut one column early and marked there */
    bool cut = Frame_TextWidth(f, text) > maxw;
    int room = cut ? maxw - 1 : maxw;
    int w = 0;
    const unsigned char *p = (const unsigned char *)text;
    while (*p && w < room) {
        uint32_t cp;
        p += decode(p, &cp);
        w += put_cp(f, y, x + w, room - w, s, cp);
    }
    if (cut) {
        Frame_Put(f, y, x + w, f->utf8 ? 0x2026 : '>', s); /* … */
        w++;
    }
    return w;
}

int Frame_Printf(Frame *f, int y, int x, int maxw, Style s, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return Frame_Text(f, y, x, maxw, s, buf);
}

int Frame_TextWidth(const Frame *f, const char *text)
{
    int w = 0;
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        uint32_t cp;
        p += decode(p, &cp);
        w += f->utf8 || cp < 0x80 ? 1 : (int)strlen(fold(cp));
    }
    return w;
}

void Frame_Box(Frame *f, int y, int x, int h, int w, Style s, const char *title)
{
    if (h < 2 || w < 2)
        return;
    uint32_t hz = f->utf8 ? 0x2500 : '-', vt = f->utf8 ? 0x2502 : '|';
    uint32_t tl = f->utf8 ? 0x256D : '+', tr = f->utf8 ? 0x256E : '+';
    uint32_t bl = f->utf8 ? 0x2570 : '+', br = f->utf8 ? 0x256F : '+';
    Frame_Put(f, y, x, tl, s);
    Frame_Fill(f, y, x + 1, w - 2, hz, s);
    Frame_Put(f, y, x + w - 1, tr, s);
    for (int i = 1; i < h - 1; i++) {
        Frame_Put(f, y + i, x, vt, s);
        Frame_Put(f, y + i, x + w - 1, vt, s);
    }
    Frame_Put(f, y + h - 1, x, bl, s);
    Frame_Fill(f, y + h - 1, x + 1, w - 2, hz, s);
    Frame_Put(f, y + h - 1, x + w - 1, br, s);
    if (title && *title) {
        Frame_Put(f, y, x + 1, ' ', s);
        int n = Frame_Text(f, y, x + 2, w - 4, S_HEAD, title);
        Frame_Put(f, y, x + 2 + n, ' ', s);
    }
}

void Frame_CellColors(const FCell *c, ThemeId t, bool many, int *fg, int *bg, unsigned *attr)
{
    int ff, fb, bf, bb;
    Theme_Colors(t, (Style)c->fg, many, &ff, &fb);
    Theme_Colors(t, (Style)c->bg, many, &bf, &bb);
    *fg = (c->attr & VA_SPLIT) ? fb : ff;
    *bg = bb;
    *attr = (Theme_Styles[c->fg < S_COUNT ? c->fg : S_NORMAL].attr | c->attr) & ~(unsigned)VA_SPLIT;
}

int Frame_EncodeUtf8(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

void Frame_RowText(const Frame *f, int y, char *buf, size_t len)
{
    if (!len)
        return;
    size_t used = 0, keep = 0;
    for (int x = 0; x < f->cols && y >= 0 && y < f->rows; x++) {
        uint32_t cp = f->c[(size_t)y * (size_t)f->cols + (size_t)x].ch;
        char u[4];
        int n = Frame_EncodeUtf8(cp, u);
        if (used + (size_t)n + 1 > len)
            break;
        memcpy(buf + used, u, (size_t)n);
        used += (size_t)n;
        if (cp != ' ')
            keep = used;
    }
    buf[keep] = '\0';
}

void Frame_Dump(const Frame *f, FILE *out)
{
    size_t cap = (size_t)f->cols * 4 + 1;
    char *line = malloc(cap);
    if (!line)
        return;
    for (int y = 0; y < f->rows; y++) {
        Frame_RowText(f, y, line, cap);
        fputs(line, out);
        fputc('\n', out);
    }
    free(line);
}

/*
 * export.c - frames as SVG and HTML (see export.h).
 *
 * Each cell is read the way render.c draws it: the glyph in the colour of
 * its fg style (a split cell: the fill of the fg style, up to its eighth),
 * on the fill of its bg style, with the style's attributes and the cell's.
 * Runs of cells with the same paint become one rectangle and one text run,
 * so a 100 x 30 frame is a few hundred elements; each text run is given
 * its exact width (textLength), so the columns line up whatever the font.
 */
#include "export.h"

#include "app.h"
#include "explain.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The terminal's own colours under each theme (where the table says -1):
 * a dark terminal's (xterm-256 234 and 252), a light one's (white and
 * black); the contrast theme paints its own everywhere. */
static uint32_t paper(ThemeId t)
{
    return t == THEME_LIGHT ? 0xFFFFFFu : t == THEME_CONTRAST ? 0x000000u : 0x1C1C1Cu;
}

static uint32_t ink(ThemeId t)
{
    return t == THEME_LIGHT ? 0x000000u : t == THEME_CONTRAST ? 0xFFFFFFu : 0xD0D0D0u;
}

uint32_t Export_Rgb(ThemeId t, int index, bool fg)
{
    if (index < 0 || index > 255)
        return fg ? ink(t) : paper(t);
    return Theme_Rgb(index);
}

uint32_t Export_StyleRgb(ThemeId t, Style s, bool fg)
{
    int f, b;
    Theme_Colors(t, (unsigned)s < S_COUNT ? s : S_NORMAL, true, &f, &b);
    return Export_Rgb(t, fg ? f : b, fg);
}

/* What one cell looks like. */
typedef struct Paint {
    uint32_t fg, bg;      /* glyph colour, fill colour */
    uint32_t left;        /* split cells: the fill of the left part */
    unsigned eighths;     /* split cells: 1..7 eighths are `left`; else 8 */
    bool bold, underline, dim;
    uint32_t ch;          /* the glyph; ' ' when the fills say it all */
} Paint;

/* The cell as render.c paints it with 256 colours (Frame_CellColors). */
static Paint paint(const FCell *c, ThemeId t)
{
    int fg, bg;
    unsigned attr;
    Frame_CellColors(c, t, true, &fg, &bg, &attr);
    Paint p = {Export_Rgb(t, fg, true), Export_Rgb(t, bg, false), 0, 8, (attr & VA_BOLD) != 0,
               (attr & VA_UNDERLINE) != 0, (attr & VA_DIM) != 0, c->ch};
    if ((c->attr & VA_SPLIT) && c->ch >= 0x2589 && c->ch <= 0x258F) {
        /* ▉..▏: the left part is the fg style's fill, to the eighth */
        p.left = p.fg;
        p.eighths = 0x2590u - c->ch;
        p.ch = ' ';
        p.fg = p.bg;
    } else if (c->ch == 0x2588) {
        /* █ is the glyph colour, all of the cell */
        p.bg = p.fg;
        p.ch = ' ';
    }
    if (attr & VA_REVERSE) {
        uint32_t x = p.fg;
        p.fg = p.bg;
        p.bg = x;
    }
    return p;
}

static const FCell *cell(const Frame *f, int y, int x)
{
    return &f->c[(size_t)y * (size_t)f->cols + (size_t)x];
}

/* Writes text escaped for XML and HTML. */
static void put_escaped(FILE *out, uint32_t ch)
{
    char u[4];
    switch (ch) {
    case '&': fputs("&amp;", out); return;
    case '<': fputs("&lt;", out); return;
    case '>': fputs("&gt;", out); return;
    case '"': fputs("&quot;", out); return;
    default: break;
    }
    if (ch < 0x20 || ch == 0x7F || (ch >= 0xD800 && ch <= 0xDFFF) || ch > 0x10FFFF)
        ch = '?';
    fwrite(u, 1, (size_t)Frame_EncodeUtf8(ch, u), out);
}

static void put_text(FILE *out, const char *s)
{
    for (; s && *s; s++)
        put_escaped(out, (unsigned char)*s < 0x80 ? (unsigned char)*s : '?');
}

static bool same_text_paint(const Paint *a, const Paint *b)
{
    return a->fg == b->fg && a->bold == b->bold && a->dim == b->dim;
}

int Export_Svg(const Frame *f, ThemeId t, const char *title, FILE *out)
{
    const int cw = EXPORT_CELL_W, ch = EXPORT_CELL_H;
    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\">\n<title>",
            f->cols * cw, f->rows * ch, f->cols * cw, f->rows * ch);
    put_text(out, title);
    fprintf(out, "</title>\n<rect width=\"100%%\" height=\"100%%\" fill=\"#%06X\"/>\n"
                 "<g font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\" "
                 "font-size=\"%d\" xml:space=\"preserve\">\n",
            paper(t), ch * 4 / 5);
    for (int y = 0; y < f->rows; y++) {
        /* fills: runs of one colour, then the left parts of split cells */
        for (int x = 0; x < f->cols;) {
            Paint p = paint(cell(f, y, x), t);
            int end = x + 1;
            while (end < f->cols) {
                Paint q = paint(cell(f, y, end), t);
                if (q.bg != p.bg || q.eighths != 8 || p.eighths != 8)
                    break;
                end++;
            }
            if (p.bg != paper(t))
                fprintf(out,
                        "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#%06X\"/>\n",
                        x * cw, y * ch, (end - x) * cw, ch, p.bg);
            if (p.eighths < 8)
                fprintf(out,
                        "<rect x=\"%d\" y=\"%d\" width=\"%g\" height=\"%d\" fill=\"#%06X\"/>\n",
                        x * cw, y * ch, (double)cw * p.eighths / 8.0, ch, p.left);
            x = end;
        }
        /* glyphs: runs of one paint, each stretched to its cells exactly */
        for (int x = 0; x < f->cols;) {
            Paint p = paint(cell(f, y, x), t);
            int end = x + 1;
            while (end < f->cols) {
                Paint q = paint(cell(f, y, end), t);
                if (!same_text_paint(&p, &q))
                    break;
                end++;
            }
            int last = end;
            while (last > x && paint(cell(f, y, last - 1), t).ch == ' ')
                last--;
            if (last > x) {
                fprintf(out, "<text x=\"%d\" y=\"%d\" textLength=\"%d\" "
                             "lengthAdjust=\"spacingAndGlyphs\" fill=\"#%06X\"%s%s>",
                        x * cw, y * ch + ch * 4 / 5 - 1, (last - x) * cw, p.fg,
                        p.bold ? " font-weight=\"bold\"" : "", p.dim ? " opacity=\"0.7\"" : "");
                for (int i = x; i < last; i++)
                    put_escaped(out, paint(cell(f, y, i), t).ch);
                fputs("</text>\n", out);
            }
            x = end;
        }
        for (int x = 0; x < f->cols; x++) {
            Paint p = paint(cell(f, y, x), t);
            if (p.underline)
                fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"2\" fill=\"#%06X\"/>\n",
                        x * cw, y * ch + ch - 2, cw, p.fg);
        }
    }
    fputs("</g>\n</svg>\n", out);
    return fflush(out) != 0 || ferror(out) ? -1 : 0;
}

int Export_Html(const Frame *f, ThemeId t, const char *title, FILE *out)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", out);
    put_text(out, title);
    fprintf(out, "</title>\n<style>\n"
                 "body { background: #%06X; margin: 1em; }\n"
                 "pre { font: 16px/1.25 \"DejaVu Sans Mono\", Menlo, Consolas, monospace; "
                 "color: #%06X; margin: 0; }\n"
                 "pre span { white-space: pre; }\n"
                 "</style>\n</head>\n<body>\n<pre>",
            paper(t), ink(t));
    for (int y = 0; y < f->rows; y++) {
        for (int x = 0; x < f->cols;) {
            Paint p = paint(cell(f, y, x), t);
            int end = x + 1;
            while (end < f->cols && p.eighths == 8) {
                Paint q = paint(cell(f, y, end), t);
                if (q.fg != p.fg || q.bg != p.bg || q.eighths != 8 || q.bold != p.bold ||
                    q.underline != p.underline || q.dim != p.dim)
                    break;
                end++;
            }
            fprintf(out, "<span style=\"color:#%06X;", p.fg);
            if (p.eighths < 8)
                fprintf(out, "background:linear-gradient(to right,#%06X %d%%,#%06X %d%%);",
                        p.left, p.eighths * 100 / 8, p.bg, p.eighths * 100 / 8);
            else if (p.bg != paper(t))
                fprintf(out, "background:#%06X;", p.bg);
            fprintf(out, "%s%s%s\">", p.bold ? "font-weight:bold;" : "",
                    p.underline ? "text-decoration:underline;" : "", p.dim ? "opacity:0.7;" : "");
            for (int i = x; i < end; i++)
                put_escaped(out, paint(cell(f, y, i), t).ch);
            fputs("</span>", out);
            x = end;
        }
        fputc('\n', out);
    }
    fputs("</pre>\n</body>\n</html>\n", out);
    return fflush(out) != 0 || ferror(out) ? -1 : 0;
}

/* ---- files ------------------------------------------------------------------ */

typedef int (*Writer)(const Frame *f, ThemeId t, const char *title, FILE *out);

static int write_file(const Frame *f, ThemeId t, const char *title, const char *path, Writer w,
                      bool replace, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | (replace ? 0 : O_EXCL), 0644);
    FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!out) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int rc = w(f, t, title, out);
    int e = errno;
    if (fclose(out) != 0 && rc == 0)
        rc = -1, e = errno;
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        unlink(path);
    }
    return rc;
}

int Export_Screen(Ui *ui, int rows, int cols, bool ascii, const char *svg, const char *html,
                  bool replace, char *err, size_t errlen)
{
    Frame f;
    if (Frame_Init(&f, rows, cols, !ascii) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* the picture is in colour, whatever the terminal could show */
    GlyphMode keep = ui->glyphs;
    ui->glyphs = (GlyphMode){!ascii, 1};
    Screen_Compose(ui, &f);
    ui->glyphs = keep;
    char title[200];
    snprintf(title, sizeof title, "heapviz: %s, step %zu",
             ui->m->nlanes > 1 ? "compare mode" : Explain_Policy(ui->m->lanes[0].policy),
             (size_t)ui->m->ops);
    int rc = 0;
    if (svg)
        rc = write_file(&f, ui->theme, title, svg, Export_Svg, replace, err, errlen);
    if (rc == 0 && html)
        rc = write_file(&f, ui->theme, title, html, Export_Html, replace, err, errlen);
    Frame_Free(&f);
    return rc;
}

unsigned Export_Key(Ui *ui, int key)
{
    (void)key;
    char base[48], svg[64], html[64], err[200];
    size_t step = (size_t)ui->m->ops;
    for (unsigned i = 1; i < 1000; i++) {
        if (i == 1)
            snprintf(base, sizeof base, "heapviz-step%zu", step);
        else
            snprintf(base, sizeof base, "heapviz-step%zu-%u", step, i);
        snprintf(svg, sizeof svg, "%s.svg", base);
        snprintf(html, sizeof html, "%s.html", base);
        if (access(svg, F_OK) != 0 && access(html, F_OK) != 0)
            break;
    }
    int rows = ui->rows >= VIZ_MIN_ROWS ? ui->rows : 30;
    int cols = ui->cols >= VIZ_MIN_COLS ? ui->cols : 100;
    if (Export_Screen(ui, rows, cols, !ui->glyphs.utf8, svg, html, false, err, sizeof err) != 0)
        App_Say(ui, true, "cannot export: %s", err);
    else
        App_Say(ui, false, "frame exported to %s and .html", svg);
    return R_REDRAW;
}

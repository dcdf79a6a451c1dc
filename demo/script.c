/*
 * script.c - the lecture-script language (see script.h): parse, look up
 * notes, write.
 *
 * Like the .rep parser, this is one pass over a byte buffer that it never
 * writes and never reads past len.  It keeps, per allocation made so far,
 * the object's size and whether it was freed (and on which line), so a free
 * of something that does not exist is refused with the line and column of
 * the token that names it:
 *
 *   ids[n].size   requested bytes of allocation n (its last realloc's)
 *   ids[n].freed  0 while live, else the line that freed it
 */
#include "script.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define SCRIPT_MAX_HINT ((uint64_t)1 << 48)

typedef struct IdState {
    uint64_t size;
    size_t freed;
} IdState;

typedef struct Parser {
    const char *name;
    char *err;
    size_t errlen;
    size_t line;           /* 1-based */
    Script s;
    size_t cap_ops, cap_notes, cap_pool;
    IdState *ids;          /* one per allocation so far: s.trace.nids of them */
    size_t cap_ids;
    size_t size_line;      /* the line of the size directive, 0: none yet */
    size_t base;           /* columns before the text that number() reads */
} Parser;

__attribute__((format(printf, 3, 4))) static int fail(Parser *p, size_t col, const char *fmt, ...)
{
    if (p->err && p->errlen) {
        int n = snprintf(p->err, p->errlen, "%s:%zu:%zu: ", p->name, p->line, col);
        if (n >= 0 && (size_t)n < p->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return -1;
}

/* At most 24 characters of a token, for messages. */
static int shown(size_t len) { return len > 24 ? 24 : (int)len; }

static bool blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }
static bool separator(char c) { return blank(c) || c == ','; }
static bool digit(char c) { return c >= '0' && c <= '9'; }

/* ---- growing the output ------------------------------------------------- */

static int grow(Parser *p, void **v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *m = realloc(*v, n * elem);
    if (!m)
        return fail(p, 1, "out of memory");
    *v = m;
    *cap = n;
    return 0;
}

static int push_op(Parser *p, const Op *op, size_t col)
{
    Trace *t = &p->s.trace;
    if (t->nops >= TRACE_MAX_OPS)
        return fail(p, col, "more than %zu operations", (size_t)TRACE_MAX_OPS);
    if (grow(p, (void **)&t->ops, &p->cap_ops, t->nops + 1, sizeof *t->ops) != 0)
        return -1;
    t->ops[t->nops++] = *op;
    return 0;
}

static int push_note(Parser *p, ScriptNoteKind kind, const char *text, size_t len)
{
    Script *s = &p->s;
    if (grow(p, (void **)&s->notes, &p->cap_notes, s->nnotes + 1, sizeof *s->notes) != 0)
        return -1;
    ScriptNote n = {s->trace.nops, kind, 0, p->line};
    if (kind == NOTE_CAPTION) {
        if (grow(p, (void **)&s->pool, &p->cap_pool, s->poollen + len + 1, 1) != 0)
            return -1;
        n.text = s->poollen;
        memcpy(s->pool + s->poollen, text, len);
        s->pool[s->poollen + len] = '\0';
        s->poollen += len + 1;
    }
    s->notes[s->nnotes++] = n;
    return 0;
}

/* ---- characters ---------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), else 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t k;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF)
        k = 2, cp = c & 0x1Fu;
    else if (c >= 0xE0 && c <= 0xEF)
        k = 3, cp = c & 0x0Fu;
    else if (c >= 0xF0 && c <= 0xF4)
        k = 4, cp = c & 0x07u;
    else
        return 0;
    if (k > n)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3Fu);
    }
    /* no overlong forms, no surrogates, nothing past U+10FFFF */
    if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return k;
}

/* Checks bytes [from, to) of the line: text (captions, comments) may hold
 * UTF-8; code only printable ASCII.  Tabs and CR are allowed in both. */
static int check_bytes(Parser *p, const char *s, size_t from, size_t to, bool text)
{
    for (size_t i = from; i < to;) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\t' || c == '\r' || (c >= 0x20 && c < 0x7f)) {
            i++;
            continue;
        }
        if (text && c >= 0x80) {
            size_t k = utf8_len((const unsigned char *)s + i, to - i);
            if (k) {
                i += k;
                continue;
            }
            return fail(p, i + 1, "not UTF-8 (byte 0x%02x)", c);
        }
        if (c >= 0x80)
            return fail(p, i + 1, "byte 0x%02x outside a caption or comment (operations are ASCII)",
                        c);
        return fail(p, i + 1, "control character 0x%02x", c);
    }
    return 0;
}

/* ---- numbers -------------------------------------------------------------- */

/* Digits at s[*i..n), at most max; *i moves past them. */
static int number(Parser *p, const char *s, size_t *i, size_t n, uint64_t max, const char *what,
                  uint64_t *out)
{
    size_t start = *i;
    uint64_t v = 0;
    bool big = false;
    while (*i < n && digit(s[*i])) {
        unsigned d = (unsigned)(s[*i] - '0');
        if (v > (max - d) / 10)
            big = true;
        else
            v = v * 10 + d;
        (*i)++;
    }
    if (*i == start)
        return fail(p, p->base + start + 1, "%s expected here", what);
    if (big)
        return fail(p, p->base + start + 1, "%s is too large: '%.*s' (at most %llu)", what,
                    shown(*i - start), s + start, (unsigned long long)max);
    *out = v;
    return 0;
}

/* SIZE: digits with an optional K or M (KiB, MiB: powers of 1024). */
static int size_arg(Parser *p, const char *s, size_t *i, size_t n, uint64_t max, uint64_t *out)
{
    size_t start = *i;
    uint64_t v;
    if (number(p, s, i, n, max, "a size", &v) != 0)
        return -1;
    unsigned shift = 0;
    if (*i < n && (s[*i] == 'K' || s[*i] == 'k'))
        shift = 10, (*i)++;
    else if (*i < n && (s[*i] == 'M' || s[*i] == 'm'))
        shift = 20, (*i)++;
    if (shift && *i + 1 < n && s[*i] == 'i' && s[*i + 1] == 'B')
        *i += 2;
    if (shift && v > (max >> shift))
        return fail(p, p->base + start + 1, "size is too large: '%.*s' (at most %llu bytes)",
                    shown(*i - start), s + start, (unsigned long long)max);
    *out = v << shift;
    return 0;
}

/* ---- operations ------------------------------------------------------------- */

/* The allocation an fID / rID names, live; col is the token's. */
static int live_id(Parser *p, uint64_t id, size_t col, const char *tok, size_t len)
{
    size_t made = p->s.trace.nids;
    if (id >= made) {
        if (made == 0)
            return fail(p, col, "'%.*s': no allocation has been made yet", shown(len), tok);
        return fail(p, col, "'%.*s': there is no allocation %llu (allocations so far: 0 to %zu)",
                    shown(len), tok, (unsigned long long)id, made - 1);
    }
    if (p->ids[id].freed)
        return fail(p, col, "'%.*s': allocation %llu is already free (freed on line %zu)",
                    shown(len), tok, (unsigned long long)id, p->ids[id].freed);
    return 0;
}

/* One operation token s[0..n), starting at column col. */
static int op_token(Parser *p, const char *s, size_t n, size_t col)
{
    char c = s[0];
    size_t i = 1;
    uint64_t v, id;
    Op op = {OP_ALLOC, 0, 0, 0};
    p->base = col - 1;
    switch (c) {
    case 'a':
    case '+':
        if (size_arg(p, s, &i, n, TRACE_MAX_SIZE, &v) != 0)
            return -1;
        if (v == 0)
            return fail(p, col, "'%.*s': an allocation needs at least 1 byte", shown(n), s);
        if (p->s.trace.nids >= TRACE_MAX_IDS)
            return fail(p, col, "more than %u allocations", TRACE_MAX_IDS);
        op.kind = OP_ALLOC;
        op.id = p->s.trace.nids;
        op.size = (size_t)v;
        break;
    case 'f':
    case '-':
    case 'r':
        if (number(p, s, &i, n, UINT32_MAX, "an allocation number", &id) != 0)
            return -1;
        if (live_id(p, id, col, s, n) != 0)
            return -1;
        op.id = (uint32_t)id;
        if (c == 'r') {
            if (i >= n || s[i] != '=')
                return fail(p, col + i, "'%.*s': a realloc is rID=SIZE, like r0=300", shown(n),
                            s);
            i++;
            if (size_arg(p, s, &i, n, TRACE_MAX_SIZE, &v) != 0)
                return -1;
            if (v == 0)
                return fail(p, col, "'%.*s': a realloc needs at least 1 byte", shown(n), s);
            op.kind = OP_REALLOC;
            op.size = (size_t)v;
        } else {
            op.kind = OP_FREE;
            if (i < n && s[i] == '+') {
                size_t at_col = col + i + 1;
                i++;
                if (number(p, s, &i, n, TRACE_MAX_SIZE, "a byte offset", &v) != 0)
                    return -1;
                if (v > 0 && v >= p->ids[id].size)
                    return fail(p, at_col,
                                "'%.*s': byte %llu is outside allocation %llu (%llu bytes)",
                                shown(n), s, (unsigned long long)v, (unsigned long long)id,
                                (unsigned long long)p->ids[id].size);
                op.at = (size_t)v;
            }
        }
        break;
    default:
        return fail(p, col, "unknown operation '%.*s' (aSIZE, fID, fID+AT, rID=SIZE, +SIZE, -ID)",
                    shown(n), s);
    }
    if (i < n)
        return fail(p, col + i, "unexpected '%.*s' after '%.*s'", shown(n - i), s + i, (int)i, s);
    if (op.kind == OP_ALLOC) {
        if (grow(p, (void **)&p->ids, &p->cap_ids, p->s.trace.nids + 1u, sizeof *p->ids) != 0)
            return -1;
        p->ids[p->s.trace.nids++] = (IdState){op.size, 0};
    } else if (op.kind == OP_REALLOC) {
        p->ids[op.id].size = op.size;
    } else {
        p->ids[op.id].freed = p->line;
    }
    return push_op(p, &op, col);
}

/* ---- lines -------------------------------------------------------------------- */

static bool word_at(const char *s, size_t i, size_t n, const char *w)
{
    size_t k = strlen(w);
    return n - i >= k && memcmp(s + i, w, k) == 0 && (i + k == n || blank(s[i + k]));
}

/* Where the comment of a code line begins (its '#'), or n. */
static size_t comment_at(const char *s, size_t n)
{
    const char *h = memchr(s, '#', n);
    return h ? (size_t)(h - s) : n;
}

static int directive(Parser *p, const char *s, size_t i, size_t n)
{
    if (word_at(s, i, n, "caption")) {
        size_t a = i + 7;
        if (check_bytes(p, s, a, n, true) != 0)
            return -1;
        while (a < n && blank(s[a]))
            a++;
        size_t b = n;
        while (b > a && blank(s[b - 1]))
            b--;
        if (b - a > SCRIPT_MAX_CAPTION)
            return fail(p, a + 1, "a caption of %zu bytes: at most %d", b - a,
                        SCRIPT_MAX_CAPTION);
        return push_note(p, NOTE_CAPTION, s + a, b - a);
    }
    size_t end = comment_at(s, n);
    if (check_bytes(p, s, 0, end, false) != 0 || check_bytes(p, s, end, n, true) != 0)
        return -1;
    while (end > i && blank(s[end - 1]))
        end--;
    if (word_at(s, i, n, "pause")) {
        size_t k = i + 5;
        while (k < end && blank(s[k]))
            k++;
        if (k < end)
            return fail(p, k + 1, "'pause' stands alone on its line");
        return push_note(p, NOTE_PAUSE, NULL, 0);
    }
    /* size SIZE */
    size_t a = i + 4;
    while (a < end && blank(s[a]))
        a++;
    if (a == end)
        return fail(p, i + 1, "'size' needs a size, like size 8K");
    if (p->size_line)
        return fail(p, i + 1, "a second size (the first is on line %zu)", p->size_line);
    uint64_t v;
    size_t k = a;
    p->base = 0;
    if (size_arg(p, s, &k, end, SCRIPT_MAX_HINT, &v) != 0)
        return -1;
    if (k < end)
        return fail(p, k + 1, "unexpected '%.*s' after the size", shown(end - k), s + k);
    if (v == 0)
        return fail(p, a + 1, "the size must be at least 1 byte");
    p->s.trace.heap_hint = (size_t)v;
    p->size_line = p->line;
    return 0;
}

static int code_line(Parser *p, const char *s, size_t n)
{
    size_t end = comment_at(s, n);
    if (check_bytes(p, s, 0, end, false) != 0 || check_bytes(p, s, end, n, true) != 0)
        return -1;
    size_t i = 0;
    for (;;) {
        while (i < end && separator(s[i]))
            i++;
        if (i == end)
            return 0;
        size_t start = i;
        while (i < end && !separator(s[i]))
            i++;
        if (op_token(p, s + start, i - start, start + 1) != 0)
            return -1;
    }
}

static int line(Parser *p, const char *s, size_t n)
{
    if (n > SCRIPT_MAX_LINE)
        return fail(p, SCRIPT_MAX_LINE + 1, "line longer than %d bytes", SCRIPT_MAX_LINE);
    size_t i = 0;
    while (i < n && blank(s[i]))
        i++;
    if (word_at(s, i, n, "caption") || word_at(s, i, n, "pause") || word_at(s, i, n, "size"))
        return directive(p, s, i, n);
    return code_line(p, s, n);
}

/* Whether the text is a .rep: its first significant token is a number, or
 * a lone a, f or r. */
static bool looks_like_trace(const char *text, size_t len)
{
    size_t pos = 0;
    while (pos < len) {
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + 1;
        size_t i = 0;
        while (i < n && blank(s[i]))
            i++;
        if (i == n || s[i] == '#')
            continue;
        if (digit(s[i]))
            return true;
        return (s[i] == 'a' || s[i] == 'f' || s[i] == 'r') && i + 1 < n && blank(s[i + 1]);
    }
    return false;
}

static int parse(Parser *p, const char *text, size_t len)
{
    size_t pos = 0;
    while (pos < len) {
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl ? 1 : 0);
        p->line++;
        if (line(p, s, n) != 0)
            return -1;
    }
    return 0;
}

int Script_Parse(const char *text, size_t len, const char *name, Script *out, char *err,
                 size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!out)
        return -1;
    memset(out, 0, sizeof *out);
    Parser p = {.name = name ? name : "<script>", .err = err, .errlen = errlen};
    if (!text)
        return fail(&p, 0, "no text");
    if (looks_like_trace(text, len)) {
        if (Trace_Parse(text, len, p.name, &out->trace, err, errlen) != 0)
            return -1;
        out->was_trace = true;
        return 0;
    }
    p.s.trace.weight = 1;
    int rc = parse(&p, text, len);
    free(p.ids);
    if (rc != 0) {
        Script_Free(&p.s);
        return -1;
    }
    *out = p.s;
    return 0;
}

int Script_Load(const char *path, Script *out, char *err, size_t errlen)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!path || !out) {
        if (err && errlen)
            snprintf(err, errlen, "no file");
        return -1;
    }
    char *buf;
    size_t len;
    if (Demo_ReadFile(path, &buf, &len, err, errlen) != 0)
        return -1;
    int rc = Script_Parse(buf, len, path, out, err, errlen);
    free(buf);
    return rc;
}

void Script_Free(Script *s)
{
    if (!s)
        return;
    Trace_Free(&s->trace);
    free(s->notes);
    free(s->pool);
    memset(s, 0, sizeof *s);
}

/* ---- notes ------------------------------------------------------------------------ */

/* How many notes stand at or before `at` (they are in ascending order). */
static size_t notes_upto(const Script *s, size_t at)
{
    size_t lo = 0, hi = s->nnotes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->notes[mid].at <= at)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const char *Script_Caption(const Script *s, size_t at, bool past_pause)
{
    if (!s)
        return NULL;
    size_t end = notes_upto(s, at);
    /* a pause at `at` holds back the captions written after it */
    for (size_t i = end; !past_pause && i-- > 0 && s->notes[i].at == at;)
        if (s->notes[i].kind == NOTE_PAUSE)
            end = i;
    for (size_t i = end; i-- > 0;)
        if (s->notes[i].kind == NOTE_CAPTION)
            return s->pool[s->notes[i].text] ? s->pool + s->notes[i].text : NULL;
    return NULL;
}

bool Script_PausesAt(const Script *s, size_t at)
{
    if (!s)
        return false;
    for (size_t i = notes_upto(s, at); i-- > 0 && s->notes[i].at == at;)
        if (s->notes[i].kind == NOTE_PAUSE)
            return true;
    return false;
}

/* ---- writing ----------------------------------------------------------------------- */

/* The rules of script.h hold for s's operations. */
static bool writable(const Script *s)
{
    const Trace *t = &s->trace;
    unsigned char *live = calloc(t->nids ? t->nids : 1, 1);
    if (!live)
        return false;
    uint32_t made = 0;
    bool ok = true;
    for (size_t i = 0; ok && i < t->nops; i++) {
        const Op *op = &t->ops[i];
        if (op->kind == OP_ALLOC) {
            ok = op->id == made && op->id < t->nids && op->size > 0;
            if (ok)
                live[made++] = 1;
        } else {
            ok = op->id < made && live[op->id] && (op->kind == OP_FREE || op->size > 0);
            if (ok && op->kind == OP_FREE)
                live[op->id] = 0;
        }
    }
    for (size_t i = 0; ok && i < s->nnotes; i++)
        ok = s->notes[i].at <= t->nops && (i == 0 || s->notes[i - 1].at <= s->notes[i].at) &&
             (s->notes[i].kind != NOTE_CAPTION || s->notes[i].text < s->poollen);
    free(live);
    return ok;
}

int Script_Write(const Script *s, const char *comment, FILE *f)
{
    if (!s || !f || !writable(s)) {
        errno = EINVAL;
        return -1;
    }
    for (const char *c = comment; c && *c;) {
        const char *nl = strchr(c, '\n');
        int n = nl ? (int)(nl - c) : (int)strlen(c);
        fprintf(f, "# %.*s\n", n, c);
        c += n + (nl ? 1 : 0);
    }
    if (s->trace.heap_hint)
        fprintf(f, "size %zu\n", s->trace.heap_hint);
    size_t note = 0, on_line = 0;
    for (size_t i = 0; i <= s->trace.nops; i++) {
        for (; note < s->nnotes && s->notes[note].at == i; note++) {
            if (on_line)
                fputc('\n', f), on_line = 0;
            const ScriptNote *n = &s->notes[note];
            if (n->kind == NOTE_PAUSE)
                fputs("pause\n", f);
            else if (s->pool[n->text])
                fprintf(f, "caption %s\n", s->pool + n->text);
            else
                fputs("caption\n", f);
        }
        if (i == s->trace.nops)
            break;
        const Op *op = &s->trace.ops[i];
        fputs(on_line ? " " : "", f);
        switch (op->kind) {
        case OP_ALLOC: fprintf(f, "a%zu", op->size); break;
        case OP_REALLOC: fprintf(f, "r%u=%zu", op->id, op->size); break;
        case OP_FREE:
            if (op->at)
                fprintf(f, "f%u+%zu", op->id, op->at);
            else
                fprintf(f, "f%u", op->id);
            break;
        }
        if (++on_line == 8)
            fputc('\n', f), on_line = 0;
    }
    if (on_line)
        fputc('\n', f);
    return fflush(f) != 0 || ferror(f) ? -1 : 0;
}

/*
 * trace.c - the malloc-lab .rep format: parse, load, write.
 *
 * The parser is a single pass over a byte buffer that it never writes and
 * never reads past len (no NUL terminator is assumed), so it can be fuzzed
 * directly.  It keeps everything it needs in one Parser on the stack.
 *
 * To reject a free of an id that holds nothing, and an interior offset past
 * the object, it tracks each id's state in `ids[]`, grown on demand up to the
 * largest id seen (bounded by the header's number of ids):
 *
 *   0           the id was never allocated
 *   ID_FREED    it was allocated and has been freed
 *   size + 1    it holds an object of `size` bytes
 */
#include "workload.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define ID_FREED UINT64_MAX
#define TRACE_MAX_FILE ((size_t)64 << 20)
#define TRACE_MAX_HINT ((uint64_t)1 << 48)

typedef struct Parser {
    const char *name;
    char *err;
    size_t errlen;
    size_t line;          /* 1-based number of the current line */
    Trace t;
    size_t cap;           /* of t.ops */
    uint64_t *ids;        /* see the file comment */
    size_t nids_cap;
    bool headerless;      /* no header: ids and ops are counted, not promised */
    uint32_t max_id;      /* headerless: the largest id seen */
} Parser;

/* A line cut into at most 4 tokens (the longest valid line has 3). */
typedef struct Tokens {
    const char *s[4];
    size_t len[4];
    unsigned n;
} Tokens;

__attribute__((format(printf, 3, 4))) static int fail(Parser *p, size_t line, const char *fmt, ...)
{
    if (p->err && p->errlen) {
        int n = snprintf(p->err, p->errlen, "%s:%zu: ", p->name, line);
        if (n >= 0 && (size_t)n < p->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return -1;
}

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static void tokenize(const char *s, size_t len, Tokens *tk)
{
    size_t i = 0;
    tk->n = 0;
    while (i < len && tk->n < 4) {
        while (i < len && is_blank(s[i]))
            i++;
        if (i == len)
            break;
        size_t start = i;
        while (i < len && !is_blank(s[i]))
            i++;
        tk->s[tk->n] = s + start;
        tk->len[tk->n] = i - start;
        tk->n++;
    }
}

/* Shows a token in a message: at most 20 characters of it. */
static int shown(size_t len) { return len > 20 ? 20 : (int)len; }

/* Parses a decimal number no larger than max into *out. */
static int number(Parser *p, const char *s, size_t len, uint64_t max, const char *what,
                  uint64_t *out)
{
    if (len > 0 && s[0] == '-') {
        bool digits = len > 1;
        for (size_t i = 1; i < len; i++)
            digits = digits && s[i] >= '0' && s[i] <= '9';
        if (digits)
            return fail(p, p->line, "%s is negative: '%.*s'", what, shown(len), s);
    }
    uint64_t v = 0;
    bool big = false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return fail(p, p->line, "%s is not a number: '%.*s'", what, shown(len), s);
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (max - d) / 10)
            big = true;
        else
            v = v * 10 + d;
    }
    if (len == 0)
        return fail(p, p->line, "%s is missing", what);
    if (big)
        return fail(p, p->line, "%s is too large: '%.*s' (at most %llu)", what, shown(len), s,
                    (unsigned long long)max);
    *out = v;
    return 0;
}

static int header_field(Parser *p, unsigned field, const Tokens *tk)
{
    static const char *const what[4] = {"heap size", "number of ids", "number of ops", "weight"};
    static const uint64_t max[4] = {TRACE_MAX_HINT, TRACE_MAX_IDS, TRACE_MAX_OPS, UINT32_MAX};
    if (tk->n > 1)
        return fail(p, p->line, "unexpected text after the %s: '%.*s'", what[field],
                    shown(tk->len[1]), tk->s[1]);
    uint64_t v;
    if (number(p, tk->s[0], tk->len[0], max[field], what[field], &v) != 0)
        return -1;
    switch (field) {
    case 0: p->t.heap_hint = (size_t)v; break;
    case 1: p->t.nids = (uint32_t)v; break;
    case 2: p->t.nops = (size_t)v; break;
    default: p->t.weight = (unsigned)v; break;
    }
    return 0;
}

/* The state slot of id (< nids), growing the table to reach it. */
static uint64_t *id_slot(Parser *p, uint32_t id)
{
    if (id >= p->nids_cap) {
        size_t cap = p->nids_cap ? p->nids_cap : 64;
        while (cap <= id)
            cap *= 2;
        if (cap > p->t.nids)
            cap = p->t.nids;
        uint64_t *n = realloc(p->ids, cap * sizeof *n);
        if (!n)
            return NULL;
        memset(n + p->nids_cap, 0, (cap - p->nids_cap) * sizeof *n);
        p->ids = n;
        p->nids_cap = cap;
    }
    return &p->ids[id];
}

static int push(Parser *p, const Op *op, size_t expected)
{
    if (p->t.nops >= expected)
        return fail(p, p->line, "more ops than the %zu the header promises", expected);
    if (p->t.nops == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        if (cap > expected)
            cap = expected;
        Op *n = realloc(p->t.ops, cap * sizeof *n);
        if (!n)
            return fail(p, p->line, "out of memory");
        p->t.ops = n;
        p->cap = cap;
    }
    p->t.ops[p->t.nops++] = *op;
    return 0;
}

static int op_line(Parser *p, const Tokens *tk, size_t expected)
{
    Op op = {OP_ALLOC, 0, 0, 0};
    char c = tk->len[0] == 1 ? tk->s[0][0] : '?';
    unsigned want; /* tokens after the letter; f takes 1 or 2 */
    switch (c) {
    case 'a': op.kind = OP_ALLOC; want = 2; break;
    case 'r': op.kind = OP_REALLOC; want = 2; break;
    case 'f': op.kind = OP_FREE; want = tk->n >= 3 ? 2 : 1; break;
    default:
        return fail(p, p->line, "unknown op '%.*s' (expected a, f or r)", shown(tk->len[0]),
                    tk->s[0]);
    }
    if (tk->n < want + 1)
        return fail(p, p->line, "'%c' needs %s", c,
                    c == 'f' ? "an id" : "an id and a size");
    if (tk->n > want + 1)
        return fail(p, p->line, "unexpected text after the op: '%.*s'", shown(tk->len[want + 1]),
                    tk->s[want + 1]);
    uint64_t v;
    if (number(p, tk->s[1], tk->len[1], UINT32_MAX, "id", &v) != 0)
        return -1;
    if (v >= p->t.nids)
        return fail(p, p->line, "id %llu is out of range (%s %u ids)", (unsigned long long)v,
                    p->headerless ? "at most" : "the header says", p->t.nids);
    op.id = (uint32_t)v;
    if (op.id > p->max_id)
        p->max_id = op.id;
    if (want == 2) {
        const char *what = op.kind == OP_FREE ? "offset" : "size";
        if (number(p, tk->s[2], tk->len[2], TRACE_MAX_SIZE, what, &v) != 0)
            return -1;
        if (op.kind == OP_FREE)
            op.at = (size_t)v;
        else
            op.size = (size_t)v;
    }
    uint64_t *st = id_slot(p, op.id);
    if (!st)
        return fail(p, p->line, "out of memory");
    if (op.kind == OP_ALLOC) {
        if (*st != 0 && *st != ID_FREED)
            return fail(p, p->line, "id %u is allocated again while it holds an object", op.id);
        *st = (uint64_t)op.size + 1;
    } else {
        const char *verb = op.kind == OP_FREE ? "free" : "realloc";
        if (*st == 0)
            return fail(p, p->line, "%s of id %u, which was never allocated", verb, op.id);
        if (*st == ID_FREED)
            return fail(p, p->line, "%s of id %u, which is already free (double free)", verb,
                        op.id);
        if (op.kind == OP_FREE) {
            uint64_t size = *st - 1;
            if (op.at > 0 && op.at >= size)
                return fail(p, p->line, "offset %zu is outside id %u's object of %llu bytes",
                            op.at, op.id, (unsigned long long)size);
            *st = ID_FREED;
        } else {
            *st = (uint64_t)op.size + 1;
        }
    }
    return push(p, &op, expected);
}

/* Checks that a line is text: printable ASCII, tab, or CR. */
static int text_line(Parser *p, const char *s, size_t len)
{
    size_t n = len > TRACE_MAX_LINE ? TRACE_MAX_LINE + 1 : len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t' && c != '\r') || c > 0x7e)
            return fail(p, p->line, "binary data (byte 0x%02x at column %zu)", c, i + 1);
    }
    if (len > TRACE_MAX_LINE)
        return fail(p, p->line, "line longer than %d bytes", TRACE_MAX_LINE);
    return 0;
}

static int parse(Parser *p, const char *text, size_t len)
{
    static const char *const missing[4] = {"heap size", "number of ids", "number of ops",
                                            "weight"};
    unsigned field = 0;   /* header fields read so far */
    size_t expected = 0;  /* ops promised by the header */
    size_t pos = 0;
    p->line = 0;
    while (pos < len) {
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl ? 1 : 0);
        p->line++;
        if (text_line(p, s, n) != 0)
            return -1;
        Tokens tk;
        tokenize(s, n, &tk);
        if (tk.n == 0 || tk.s[0][0] == '#')
            continue;
        if (field == 0 && tk.len[0] == 1 && strchr("afr", tk.s[0][0])) {
            /* the first line is an op: a trace without its header */
            p->headerless = true;
            p->t.nids = TRACE_MAX_IDS;
            p->t.weight = 1;
            expected = TRACE_MAX_OPS;
            field = 4;
        }
        if (field < 4) {
            if (header_field(p, field, &tk) != 0)
                return -1;
            if (++field == 4)
                expected = p->t.nops, p->t.nops = 0;
            continue;
        }
        if (op_line(p, &tk, expected) != 0)
            return -1;
    }
    if (p->headerless) {
        p->t.nids = p->t.nops ? p->max_id + 1u : 0u;
        return 0;
    }
    if (field < 4)
        return fail(p, p->line + 1, "truncated: the header has no %s", missing[field]);
    if (p->t.nops != expected)
        return fail(p, p->line + 1, "truncated: the header promises %zu ops, found %zu",
                    expected, p->t.nops);
    return 0;
}

int Trace_Parse(const char *text, size_t len, const char *name, Trace *out, char *err,
                size_t errlen)
{
    Parser p = {.name = name ? name : "<trace>", .err = err, .errlen = errlen};
    if (err && errlen)
        err[0] = '\0';
    if (!out)
        return -1;
    memset(out, 0, sizeof *out);
    int rc = text ? parse(&p, text, len) : fail(&p, 0, "no text");
    free(p.ids);
    if (rc != 0) {
        free(p.t.ops);
        return -1;
    }
    *out = p.t;
    return 0;
}

int Demo_ReadFile(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
    *text = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (err && errlen)
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    int rc = -1;
    const char *why = NULL;
    while (buf) {
        if (n == cap) {
            if (cap >= TRACE_MAX_FILE) {
                if (fgetc(f) == EOF && !ferror(f))
                    rc = 0;
                else
                    why = "larger than 64 MiB";
                break;
            }
            char *m = realloc(buf, cap * 2);
            if (!m) {
                why = "out of memory";
                break;
            }
            buf = m;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                why = strerror(errno);
            else
                rc = 0;
            break;
        }
    }
    if (!buf)
        why = "out of memory";
    fclose(f);
    if (rc != 0) {
        if (err && errlen)
            snprintf(err, errlen, "%s: %s", path, why ? why : "read error");
        free(buf);
        return -1;
    }
    *text = buf;
    *len = n;
    return 0;
}

int Trace_Load(const char *path, Trace *out, char *err, size_t errlen)
{
    if (out)
        memset(out, 0, sizeof *out);
    char *buf;
    size_t len;
    if (Demo_ReadFile(path, &buf, &len, err, errlen) != 0)
        return -1;
    int rc = Trace_Parse(buf, len, path, out, err, errlen);
    free(buf);
    return rc;
}

int Trace_Write(const Trace *t, FILE *f)
{
    if (!t || !f) {
        errno = EINVAL;
        return -1;
    }
    fprintf(f, "%zu\n%u\n%zu\n%u\n", t->heap_hint, t->nids, t->nops, t->weight);
    for (size_t i = 0; i < t->nops; i++) {
        const Op *op = &t->ops[i];
        switch (op->kind) {
        case OP_ALLOC: fprintf(f, "a %u %zu\n", op->id, op->size); break;
        case OP_REALLOC: fprintf(f, "r %u %zu\n", op->id, op->size); break;
        case OP_FREE:
            if (op->at)
                fprintf(f, "f %u %zu\n", op->id, op->at);
            else
                fprintf(f, "f %u\n", op->id);
            break;
        }
    }
    if (fflush(f) != 0 || ferror(f))
        return -1;
    return 0;
}

void Trace_Free(Trace *t)
{
    if (!t)
        return;
    free(t->ops);
    memset(t, 0, sizeof *t);
}

/*
 * explain.c - sentences from MemEvents (see explain.h).
 */
#include "explain.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

char *Explain_Bytes(size_t bytes, char *buf, size_t len)
{
    static const char *const unit[] = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 10000 && bytes % 1024 != 0) {
        snprintf(buf, len, "%zu B", bytes);
        return buf;
    }
    if (bytes == 0) {
        snprintf(buf, len, "0 B");
        return buf;
    }
    unsigned u = 0;
    size_t whole = bytes / 1024;
    bool exact = bytes % 1024 == 0;
    while (exact && whole % 1024 == 0 && u + 1 < sizeof unit / sizeof unit[0])
        whole /= 1024, u++;
    if (exact) {
        snprintf(buf, len, "%zu %s", whole, unit[u]);
        return buf;
    }
    double v = (double)bytes / 1024.0;
    u = 0;
    while (v >= 1023.95 && u + 1 < sizeof unit / sizeof unit[0]) {
        v /= 1024.0;
        u++;
    }
    snprintf(buf, len, "%.1f %s", v, unit[u]);
    return buf;
}

char *Explain_Exact(size_t bytes, char *buf, size_t len)
{
    if (bytes < 10000) {
        snprintf(buf, len, "%zu B", bytes);
    } else {
        char r[24];
        snprintf(buf, len, "%zu B (%s)", bytes, Explain_Bytes(bytes, r, sizeof r));
    }
    return buf;
}

char *Explain_Ordinal(size_t n, char *buf, size_t len)
{
    const char *suf = "th";
    if (n % 100 < 11 || n % 100 > 13) {
        if (n % 10 == 1)
            suf = "st";
        else if (n % 10 == 2)
            suf = "nd";
        else if (n % 10 == 3)
            suf = "rd";
    }
    snprintf(buf, len, "%zu%s", n, suf);
    return buf;
}

const char *Explain_Policy(MemPolicy p)
{
    switch (p) {
    case MEM_FIRST_FIT: return "first fit";
    case MEM_NEXT_FIT: return "next fit";
    case MEM_BEST_FIT: return "best fit";
    case MEM_WORST_FIT: return "worst fit";
    case MEM_FAST: return "fast fit";
    case MEM_BUDDY: return "buddy";
    case MEM_POLICY_COUNT: break;
    }
    return "?";
}

char *Explain_Knobs(MemOrder order, MemCoalesce coalesce, char *buf, size_t len)
{
    static const char *const orders[] = {"", "LIFO list", "FIFO list"};
    static const char *const co[] = {"", "deferred coalescing", "no coalescing"};
    const char *a = (unsigned)order < 3 ? orders[order] : "";
    const char *b = (unsigned)coalesce < 3 ? co[coalesce] : "";
    snprintf(buf, len, "%s%s%s", a, *a && *b ? ", " : "", b);
    return buf;
}

size_t Explain_BlockFor(size_t request, unsigned flags)
{
    size_t extra = MEM_HEADER_SIZE + ((flags & MEM_OPT_GUARD) ? 8u : 0u);
    if (request > SIZE_MAX - extra - MEM_ALIGNMENT)
        return SIZE_MAX;
    size_t need = (request + extra + MEM_ALIGNMENT - 1) / MEM_ALIGNMENT * MEM_ALIGNMENT;
    return need < MEM_MIN_BLOCK ? MEM_MIN_BLOCK : need;
}


typedef struct Out {
    char *buf;
    size_t len, used;
} Out;

#define request_text Explain_Exact

__attribute__((format(printf, 2, 3))) static void put(Out *o, const char *fmt, ...)
{
    if (!o->buf || o->len == 0 || o->used + 1 >= o->len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->used, o->len - o->used, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    o->used += (size_t)n;
    if (o->used >= o->len)
        o->used = o->len - 1;
}

/* "it needs a 48 B block (27 B + 8 B header, rounded up to 16 B)" */
static void put_need(Out *o, size_t request, unsigned flags, size_t need, bool buddy)
{
    char r[32], nb[32];
    put(o, "it needs a %s block", Explain_Exact(need, nb, sizeof nb));
    if (need == MEM_MIN_BLOCK && request + MEM_HEADER_SIZE < MEM_MIN_BLOCK)
        put(o, " (the smallest block)");
    else
        put(o, " (%s + %d B header%s, rounded up to %s)", Explain_Exact(request, r, sizeof r),
            MEM_HEADER_SIZE, (flags & MEM_OPT_GUARD) ? " + 8 B guard" : "",
            buddy ? "a power of two" : "16 B");
}

static const char *ptr_text(ptrdiff_t p, char *buf, size_t len)
{
    if (p < 0)
        snprintf(buf, len, "-0x%zx", (size_t)0 - (size_t)p);
    else
        snprintf(buf, len, "+0x%zx", (size_t)p);
    return buf;
}

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static const char *neighbours(unsigned n)
{
    switch (n & (MEM_LEFT | MEM_RIGHT)) {
    case MEM_LEFT: return "the left neighbour";
    case MEM_RIGHT: return "the right neighbour";
    case MEM_LEFT | MEM_RIGHT: return "both neighbours";
    default: return "nothing";
    }
}

static LogKind worse(LogKind a, LogKind b)
{
    static const int rank[] = {[LOG_INFO] = 0, [LOG_ALLOC] = 1, [LOG_FREE] = 1,
                               [LOG_REJECT] = 2, [LOG_FAIL] = 3, [LOG_ALARM] = 4};
    return rank[b] > rank[a] ? b : a;
}

LogKind Explain_Events(const MemEvent *ev, unsigned n, unsigned flags, MemCoalesce coalesce,
                       char *buf, size_t len, char *brief, size_t brieflen)
{
    Out o = {buf, len, 0};
    Out b = {brief, brieflen, 0};
    if (buf && len)
        buf[0] = '\0';
    if (brief && brieflen)
        brief[0] = '\0';
    LogKind kind = LOG_INFO;
    char s1[32], s2[32], s3[32], s4[32], p1[32];
    for (unsigned i = 0; i < n; i++) {
        const MemEvent *e = &ev[i];
        const char *sep = o.used ? "; " : "";
        const char *bsep = b.used ? "; " : "";
        switch (e->kind) {
        case MEM_EV_SPLIT:
            if (i + 1 < n && ev[i + 1].kind == MEM_EV_ALLOC && ev[i + 1].op == e->op) {
                const MemEvent *a = &ev[++i];
                size_t blk = e->size >> e->count;
                put(&o, "%salloc %s → a %s block at +0x%zx (%s of padding): buddy halved the "
                        "free %s %u %s, leaving %s as free buddies",
                    sep, request_text(a->request, s1, sizeof s1),
                    Explain_Exact(blk, s2, sizeof s2), a->block,
                    Explain_Exact(blk - MEM_HEADER_SIZE - a->request, s3, sizeof s3),
                    Explain_Exact(e->size, p1, sizeof p1), e->count,
                    plural(e->count, "time", "times"), Explain_Exact(e->remainder, s4, sizeof s4));
                put(&b, "%salloc %s → +0x%zx", bsep, s1, a->block);
                kind = worse(kind, LOG_ALLOC);
            } else {
                put(&o, "%sbuddy halved the %s block at +0x%zx %u %s", sep,
                    Explain_Exact(e->size, s1, sizeof s1), e->block, e->count,
                    plural(e->count, "time", "times"));
            }
            break;
        case MEM_EV_ALLOC:
            if (e->run) {
                put(&o, "%salloc %s: %s took slot %zu of the run of %s slots at +0x%zx → +0x%zx", sep,
                    request_text(e->request, s1, sizeof s1), Explain_Policy(e->policy), e->slot,
                    Explain_Bytes(e->size, s2, sizeof s2), e->run, e->object);
                put(&b, "%salloc %s → +0x%zx", bsep, s1, e->object);
                kind = worse(kind, LOG_ALLOC);
                break;
            }
            if (e->policy == MEM_BUDDY) {
                put(&o, "%salloc %s → the free %s block at +0x%zx (%s of padding): buddy "
                        "rounds up to a power of two",
                    sep, request_text(e->request, s1, sizeof s1),
                    Explain_Exact(e->size, s2, sizeof s2), e->block,
                    Explain_Exact(e->size - MEM_HEADER_SIZE - e->request, s3, sizeof s3));
                put(&b, "%salloc %s → +0x%zx", bsep, s1, e->block);
                kind = worse(kind, LOG_ALLOC);
                break;
            }
            put(&o, "%salloc %s: %s examined %zu free %s, chose %s at +0x%zx, split off %s",
                sep, request_text(e->request, s1, sizeof s1), Explain_Policy(e->policy),
                e->examined, plural(e->examined, "block", "blocks"),
                Explain_Exact(e->size, s2, sizeof s2), e->block,
                Explain_Exact(e->remainder, s3, sizeof s3));
            put(&b, "%salloc %s → +0x%zx", bsep, s1, e->block);
            kind = worse(kind, LOG_ALLOC);
            break;
        case MEM_EV_FAIL: {
            size_t need = Explain_BlockFor(e->request, flags);
            request_text(e->request, s1, sizeof s1);
            Explain_Exact(e->free_total, s2, sizeof s2);
            Explain_Exact(e->largest_free, s3, sizeof s3);
            if (e->policy == MEM_BUDDY && need != SIZE_MAX) /* a power of two */
                while (need & (need - 1u))
                    need += need & -need;
            put(&o, "%salloc %s failed: ", sep, s1);
            if (e->largest_free >= need) {
                /* MEM_FAST's good fit is bounded: it can miss a block that fits */
                put(&o, "the largest free block (%s) could hold it, but fast fit's bounded "
                        "search did not reach it", s3);
            } else {
                put_need(&o, e->request, flags, need, e->policy == MEM_BUDDY);
                if (e->free_total >= need)
                    put(&o, "; %s are free in total, but the largest free block is %s", s2, s3);
                else
                    put(&o, ", and only %s %s free in total", s2, e->free_total == 1 ? "is" : "are");
            }
            if (e->examined)
                put(&o, " (%s examined %zu)", Explain_Policy(e->policy), e->examined);
            put(&b, "%salloc %s failed", bsep, s1);
            kind = worse(kind, LOG_FAIL);
            break;
        }
        case MEM_EV_FREE: {
            const MemEvent *c = NULL;
            if (e->run) {
                put(&o, "%sfree %s → object at +0x%zx (%s), slot %zu of the run of %s slots at "
                        "+0x%zx is free (slots do not coalesce)",
                    sep, ptr_text(e->pointer, p1, sizeof p1), e->object,
                    request_text(e->request, s1, sizeof s1), e->slot,
                    Explain_Bytes(e->size, s2, sizeof s2), e->run);
                put(&b, "%sfree %s", bsep, p1);
                kind = worse(kind, LOG_FREE);
                break;
            }
            if (i + 1 < n && (ev[i + 1].kind == MEM_EV_COALESCE || ev[i + 1].kind == MEM_EV_MERGE) &&
                ev[i + 1].op == e->op)
                c = &ev[++i];
            put(&o, "%sfree %s → object at +0x%zx (%s), ", sep,
                ptr_text(e->pointer, p1, sizeof p1), e->object,
                request_text(e->request, s1, sizeof s1));
            if (c && c->kind == MEM_EV_MERGE)
                put(&o, "merged with its buddy %u %s → %s free at +0x%zx", c->count,
                    plural(c->count, "time", "times"), Explain_Exact(c->size, s2, sizeof s2),
                    c->block);
            else if (e->policy == MEM_BUDDY)
                put(&o, "its buddy is not free → %s free", Explain_Exact(e->size, s2, sizeof s2));
            else if (e->neighbours)
                put(&o, "not coalesced with %s (%s) → %s free", neighbours(e->neighbours),
                    coalesce == MEM_COALESCE_NEVER ? "coalescing is off"
                    : coalesce == MEM_COALESCE_DEFERRED
                        ? "coalescing is deferred"
                        : "coalescing is deferred or off",
                    Explain_Exact(e->size, s2, sizeof s2));
            else if (c)
                put(&o, "coalesced with %s → %s free", neighbours(c->neighbours),
                    Explain_Exact(c->size, s2, sizeof s2));
            else
                put(&o, "no free neighbour → %s free", Explain_Exact(e->size, s2, sizeof s2));
            put(&b, "%sfree %s", bsep, p1);
            kind = worse(kind, LOG_FREE);
            break;
        }
        case MEM_EV_COALESCE_ALL:
            put(&o, "%sno free block held %s, so the deferred coalescing ran: ", sep,
                request_text(e->request, s1, sizeof s1));
            if (e->count)
                put(&o, "%u of %zu free blocks merged into the free block before them", e->count,
                    e->examined);
            else
                put(&o, "no two of the %zu free blocks were neighbours", e->examined);
            if (e->size)
                put(&o, "; the largest is %s", Explain_Exact(e->size, s2, sizeof s2));
            put(&b, "%sdeferred coalesce", bsep);
            break;
        case MEM_EV_MERGE:
            /* only reached when it does not follow its FREE */
            put(&o, "%smerged with buddies %u %s → %s free at +0x%zx", sep, e->count,
                plural(e->count, "time", "times"), Explain_Exact(e->size, s1, sizeof s1),
                e->block);
            break;
        case MEM_EV_COALESCE:
            /* only reached when it does not follow its FREE */
            put(&o, "%scoalesced with %s → %s free at +0x%zx", sep, neighbours(e->neighbours),
                Explain_Exact(e->size, s1, sizeof s1), e->block);
            break;
        case MEM_EV_REJECT:
            put(&o, "%sfree %s refused: it %s", sep, ptr_text(e->pointer, p1, sizeof p1),
                MemReject_Describe(e->reason));
            put(&b, "%sfree %s refused", bsep, p1);
            kind = worse(kind, LOG_REJECT);
            break;
        case MEM_EV_OVERFLOW:
            put(&o, "%sOVERFLOW: %s of the guard after the %s object at +0x%zx were "
                    "overwritten (a buffer overflow)",
                sep, Explain_Exact(e->size, s1, sizeof s1),
                request_text(e->request, s2, sizeof s2), e->object);
            put(&b, "%soverflow at +0x%zx", bsep, e->object);
            kind = worse(kind, LOG_ALARM);
            break;
        case MEM_EV_RUN_NEW:
            put(&o, "%snew run of %s slots at +0x%zx (%s, split off %s)", sep,
                Explain_Bytes(e->request, s1, sizeof s1), e->block,
                Explain_Bytes(e->size, s2, sizeof s2), Explain_Bytes(e->remainder, s3, sizeof s3));
            break;
        case MEM_EV_RUN_RELEASE:
            put(&o, "%sthe empty run at +0x%zx (%s) goes back to the free blocks", sep, e->block,
                Explain_Bytes(e->size, s1, sizeof s1));
            break;
        case MEM_EV_RESIZE:
            put(&o, "%sresize in place: object at +0x%zx from %s to %s, block now %s", sep,
                e->object, request_text(e->previous, s1, sizeof s1),
                request_text(e->request, s2, sizeof s2), Explain_Bytes(e->size, s3, sizeof s3));
            if (e->neighbours & MEM_RIGHT)
                put(&o, e->request > e->previous ? ", taken from the free block after it"
                                                 : ", merged into the free block after it");
            if (e->remainder)
                put(&o, " (%s free after it)", Explain_Bytes(e->remainder, s1, sizeof s1));
            put(&b, "%sresize +0x%zx → %s", bsep, e->object, s2);
            kind = worse(kind, e->request > e->previous ? LOG_ALLOC : LOG_FREE);
            break;
        case MEM_EV_ROVER:
            if (e->block == SIZE_MAX)
                put(&o, "%snext-fit rover: no free block left", sep);
            else
                put(&o, "%snext-fit rover → +0x%zx", sep, e->block);
            break;
        }
    }
    return kind;
}

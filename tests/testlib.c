#include "testlib.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>


unsigned th_mmap_calls;
unsigned th_mmap_fail;

void th_record(const MemEvent *e, void *arg)
{
    ThLog *l = arg;
    if (l->n < sizeof l->ev / sizeof l->ev[0])
        l->ev[l->n++] = *e;
}

void th_expose(const MemHeap *heap)
{
    MemRegion r = MemHeap_Region(heap);
#if TEST_ASAN
    ASAN_UNPOISON_MEMORY_REGION(r.base, r.size);
#else
    (void)r;
#endif
}

void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    th_mmap_calls++;
    if (th_mmap_fail) {
        th_mmap_fail--;
        errno = ENOMEM;
        return MAP_FAILED;
    }
    return __real_mmap(addr, len, prot, flags, fd, off);
}

MemHeap *th_heap_ex(const MemOptions *o, size_t arena)
{
    size_t len = arena + 4096;
    void *p = __real_mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    return MemHeap_CreateEx(p, len, o);
}

MemHeap *th_heap(MemPolicy policy, size_t arena, unsigned flags)
{
    MemOptions o = {policy, flags, MEM_ORDER_ADDRESS, MEM_COALESCE_NOW};
    return th_heap_ex(&o, arena);
}

typedef struct {
    char *buf;
    size_t len, used;
} Sink;

__attribute__((format(printf, 2, 3))) static void put(Sink *s, const char *fmt, ...)
{
    if (s->used && s->used + 1 < s->len)
        s->buf[s->used++] = ' ';
    if (s->used >= s->len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(s->buf + s->used, s->len - s->used, fmt, ap);
    va_end(ap);
    if (n > 0)
        s->used += (size_t)n;
}

static bool layout_visit(const MemBlock *b, void *arg)
{
    Sink *s = arg;
    if (b->run)
        put(s, "R%zu:%zu/%zu", b->size, b->live_slots, b->slots);
    else
        put(s, "%c%zu", b->used ? 'U' : 'F', b->size);
    return true;
}

static bool order_visit(const MemBlock *b, void *arg)
{
    put(arg, "+%#zx:%zu", b->offset, b->size);
    return true;
}

static char layout_buf[1 << 16];

const char *th_layout(const MemHeap *h)
{
    Sink s = {layout_buf, sizeof layout_buf, 0};
    layout_buf[0] = '\0';
    MemHeap_Walk(h, layout_visit, &s);
    return layout_buf;
}

const char *th_free_order(const MemHeap *h)
{
    Sink s = {layout_buf, sizeof layout_buf, 0};
    layout_buf[0] = '\0';
    MemHeap_WalkFree(h, order_visit, &s);
    return layout_buf;
}

static bool first_free(const MemBlock *b, void *arg)
{
    if (b->used)
        return true;
    *(size_t *)arg = b->size;
    return false;
}

size_t th_first_free(const MemHeap *h)
{
    size_t n = 0;
    MemHeap_Walk(h, first_free, &n);
    return n;
}

uint64_t th_rand(ThRng *r)
{
    uint64_t x = r->s ? r->s : 0x9E3779B97F4A7C15u;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545F4914F6CDD1Du;
}

uint64_t th_below(ThRng *r, uint64_t n)
{
    return n ? th_rand(r) % n : 0;
}

size_t th_scaled(size_t n)
{
    const char *s = getenv("TEST_SCALE");
    unsigned long pct = s && *s ? strtoul(s, NULL, 10) : 100;
    if (pct == 0 || pct > 100000)
        pct = 100;
    size_t k = n / 100 * pct + n % 100 * pct / 100;
    return k ? k : 1;
}

uint64_t th_seed(uint64_t fallback)
{
    const char *s = getenv("SEED");
    return s && *s ? strtoull(s, NULL, 0) : fallback;
}

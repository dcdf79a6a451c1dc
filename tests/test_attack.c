/*
 * test_attack.c - issue 9: a program that attacks its heap on purpose.
 *
 * The attacker knows the block format as block.h and mem.h describe it
 * (16-byte granules; an 8-byte header, the size in granules then the flags,
 * the slack and a 24-bit tag; a free block's links after its header and its
 * size in its last 4 bytes) and the tag's formula as the source published it
 * before issue 9, but not the heap's secret.  It reads and writes past its
 * own objects.  Whatever it does, BAD_INPUT.md's section H holds: no
 * allocation overlaps a live object, no byte outside the region changes, and
 * no live object changes but by the attacker's own writes.  A refused
 * operation is fine.
 *
 * Each test names the break of issue 9 that it reproduces; before the fix
 * each of them failed (or crashed, or hung into its timeout).
 */
#include "harness.h"
#include "testlib.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define ID(x) x

/* ---- what the attacker knows of the format ------------------------------------ */

#define GRAN 16u
#define HDR 8u
#define F_USED 1u
#define F_PREV_USED 2u

/* The integrity tag as the source published it before issue 9: an unkeyed
 * hash of the granule index, the size and the flags but PREV_USED.  Without
 * the secret, this is the best forgery an attacker can compute. */
static uint32_t public_tag(uint32_t g, uint32_t size, uint32_t low)
{
    low &= ~F_PREV_USED;
    uint32_t x = (g ^ low << 24) + size * 0x9E3779B1u;
    return (x ^ x >> 15) & 0xFFFFFFu;
}

/* Granules of the block that holds an object of n bytes. */
static uint32_t grans(size_t n)
{
    size_t g = (n + HDR + GRAN - 1u) / GRAN;
    return g < 2 ? 2u : (uint32_t)g;
}

/* ---- the world: a heap in a region with watched bytes around it ------------------ */

#define PAD 4096u
#define MAX_LIVE 256u
#define PAD_BYTE 0xA5u

typedef struct Obj {
    unsigned char *p;
    size_t n;
    unsigned seed;
} Obj;

typedef struct World {
    unsigned char *map; /* [PAD][region][PAD] */
    size_t maplen;
    unsigned char *region;
    size_t len;
    MemHeap *h;
    MemRegion r;
    MemPolicy policy;
    MemOptions opt;
    char name[48];
    Obj live[MAX_LIVE];
    size_t nlive;
    unsigned seeds;
    const unsigned char *own_lo, *own_hi; /* what the attacker wrote itself */
} World;

static unsigned char pat(const Obj *o, size_t i) { return (unsigned char)(o->seed * 131u + i * 7u + 1u); }

/* A heap of configuration o (flags ORed in) in a watched region. */
static void world_open_opt(World *w, const MemOptions *o, unsigned flags, size_t len)
{
    memset(w, 0, sizeof *w);
    w->maplen = len + 2 * PAD;
    w->map = mmap(NULL, w->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(w->map, MAP_FAILED);
#if TEST_ASAN
    /* a heap left unreleased at this address before kept its poison */
    ASAN_UNPOISON_MEMORY_REGION(w->map, w->maplen);
#endif
    memset(w->map, PAD_BYTE, w->maplen);
    w->region = w->map + PAD;
    w->len = len;
    w->policy = o->policy;
    w->opt = *o;
    w->opt.flags |= flags;
    snprintf(w->name, sizeof w->name, "%s/%s/%s", MemPolicy_Name(o->policy),
             MemOrder_Name(o->order), MemCoalesce_Name(o->coalesce));
    w->h = MemHeap_CreateEx(w->region, len, &w->opt);
    cr_assert_not_null(w->h, "%s", w->name);
    w->r = MemHeap_Region(w->h);
}

static void world_open(World *w, MemPolicy p, unsigned flags, size_t len)
{
    MemOptions o = {p, 0, MEM_ORDER_ADDRESS, MEM_COALESCE_NOW};
    world_open_opt(w, &o, flags, len);
}

/* Every policy as MemHeap_Create makes it, then the list policies with
 * OSTEP's knobs: LIFO and FIFO lists, deferred and no coalescing (each
 * list policy with each knob). */
#define N_CONFIGS (MEM_POLICY_COUNT + 4 * 4)
static MemOptions config(int i)
{
    MemOptions o = {(MemPolicy)i, 0, MEM_ORDER_ADDRESS, MEM_COALESCE_NOW};
    if (i >= MEM_POLICY_COUNT) {
        int j = i - MEM_POLICY_COUNT;
        o.policy = (MemPolicy)(j / 4);
        switch (j % 4) {
        case 0: o.order = MEM_ORDER_LIFO; break;
        case 1: o.order = MEM_ORDER_FIFO; break;
        case 2: o.coalesce = MEM_COALESCE_DEFERRED; break;
        default: o.coalesce = MEM_COALESCE_NEVER; break;
        }
    }
    return o;
}

static void world_close(World *w)
{
    MemHeap_Release(w->h);
    munmap(w->map, w->maplen);
}

static const char *pname(const World *w) { return w->name; }

static size_t off(const World *w, const void *p)
{
    return (size_t)((const unsigned char *)p - (const unsigned char *)w->r.base);
}

static bool overlaps(const unsigned char *p, size_t n, const unsigned char *q, size_t m)
{
    return (uintptr_t)p < (uintptr_t)q + m && (uintptr_t)q < (uintptr_t)p + n;
}

static void fill(Obj *o)
{
    for (size_t i = 0; i < o->n; i++)
        o->p[i] = pat(o, i);
}

/* Nothing outside the region changed; every live object holds what the
 * program wrote, but for the bytes the attacker wrote itself. */
static void intact(const World *w, const char *when)
{
    for (size_t i = 0; i < PAD; i++) {
        cr_assert_eq(w->map[i], PAD_BYTE, "%s, %s: the byte %zu before the region changed",
                     pname(w), when, PAD - i);
        cr_assert_eq(w->region[w->len + i], PAD_BYTE,
                     "%s, %s: the byte %zu after the region changed", pname(w), when, i);
    }
    for (size_t k = 0; k < w->nlive; k++) {
        const Obj *o = &w->live[k];
        for (size_t i = 0; i < o->n; i++) {
            const unsigned char *b = o->p + i;
            if (b >= w->own_lo && b < w->own_hi)
                continue;
            cr_assert_eq(*b, pat(o, i),
                         "%s, %s: live object at +%#zx (%zu bytes): byte %zu was changed",
                         pname(w), when, off(w, o->p), o->n, i);
        }
    }
}

/* An allocation, checked: inside the block area, aligned, over no live
 * object.  NULL (a refusal) is fine. */
static unsigned char *w_adopt(World *w, unsigned char *p, size_t n)
{
    if (!p)
        return NULL;
    uintptr_t lo = (uintptr_t)w->r.base + w->r.heap_begin;
    uintptr_t hi = (uintptr_t)w->r.base + w->r.heap_end;
    cr_assert((uintptr_t)p >= lo && (uintptr_t)p + n <= hi,
              "%s: an allocation of %zu bytes at %p is outside the block area", pname(w), n,
              (void *)p);
    cr_assert_eq((uintptr_t)p % 16u, 0);
    for (size_t k = 0; k < w->nlive; k++)
        cr_assert(!overlaps(p, n, w->live[k].p, w->live[k].n),
                  "%s: an allocation of %zu bytes at +%#zx overlaps the live object at +%#zx "
                  "(%zu bytes)",
                  pname(w), n, off(w, p), off(w, w->live[k].p), w->live[k].n);
    cr_assert_lt(w->nlive, MAX_LIVE);
    Obj *o = &w->live[w->nlive++];
    o->p = p;
    o->n = n;
    o->seed = ++w->seeds;
    fill(o);
    return p;
}

static unsigned char *w_alloc(World *w, size_t n)
{
    return w_adopt(w, MemHeap_Alloc(w->h, n), n);
}

/* An aligned allocation, checked as any, and aligned. */
static unsigned char *w_alloc_aligned(World *w, size_t align, size_t n)
{
    unsigned char *p = w_adopt(w, MemHeap_AllocAligned(w->h, align, n), n);
    if (p)
        cr_assert_eq((uintptr_t)p % align, 0, "%s: misaligned", pname(w));
    return p;
}

/* Live object k resized in place to n bytes, if the heap agrees: then it
 * overlaps no other live object and keeps its bytes; the new ones are the
 * program's. */
static void w_resize(World *w, size_t k, size_t n)
{
    Obj *o = &w->live[k];
    if (MemHeap_Resize(w->h, o->p, n) != 0)
        return;
    uintptr_t hi = (uintptr_t)w->r.base + w->r.heap_end;
    cr_assert((uintptr_t)o->p + n <= hi, "%s: a resize reaches past the block area", pname(w));
    for (size_t j = 0; j < w->nlive; j++)
        cr_assert(j == k || !overlaps(o->p, n, w->live[j].p, w->live[j].n),
                  "%s: a resize to %zu bytes at +%#zx overlaps the live object at +%#zx "
                  "(%zu bytes)",
                  pname(w), n, off(w, o->p), off(w, w->live[j].p), w->live[j].n);
    size_t old = o->n;
    o->n = n;
    for (size_t i = old; i < n; i++)
        o->p[i] = pat(o, i);
}

static size_t w_index(const World *w, const unsigned char *p)
{
    for (size_t k = 0; k < w->nlive; k++)
        if (w->live[k].p == p)
            return k;
    cr_assert_fail("%p is not a live object", (const void *)p);
    return 0;
}

/* Frees through an interior byte; an object whose free is refused stays
 * live (the program still holds it). */
static int w_free(World *w, const unsigned char *p)
{
    size_t k = w_index(w, p);
    int rc = MemHeap_Free(w->h, w->live[k].p + w->live[k].n / 2);
    if (rc == MEM_OK)
        w->live[k] = w->live[--w->nlive];
    return rc;
}

static bool count_visit(const MemBlock *b, void *arg)
{
    (void)b;
    ++*(size_t *)arg;
    return true;
}

/* What a program does after the attack: allocations of assorted sizes,
 * frees, every query; checked after each step. */
static void aftermath(World *w, const char *what)
{
    static const size_t sizes[] = {24, 40, 56, 100, 200, 24, 500, 40, 1000, 56, 170, 24, 3000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        w_alloc(w, sizes[i]);
        intact(w, what);
    }
    for (int round = 0; round < 4 && w->nlive > 2; round++) {
        w_free(w, w->live[w->nlive - 2].p);
        intact(w, what);
        w_alloc(w, 40 + (size_t)round * 60);
        intact(w, what);
    }
    /* every object grown in place and shrunk back, and aligned allocations
     * (resize.c takes and gives back its neighbours' space) */
    for (size_t k = 0; k < w->nlive; k++) {
        size_t n = w->live[k].n;
        w_resize(w, k, n + 100);
        intact(w, what);
        w_resize(w, k, n);
        intact(w, what);
    }
    w_alloc_aligned(w, 64, 40);
    intact(w, what);
    w_alloc_aligned(w, 256, 300);
    intact(w, what);
    size_t n = 0;
    MemHeap_Walk(w->h, count_visit, &n);
    MemHeap_WalkFree(w->h, count_visit, &n);
    (void)MemHeap_Stats(w->h);
    (void)MemHeap_Check(w->h);
    intact(w, what);
}

/* The attacker's stores into metadata (which ASan keeps poisoned). */
static void attacker_may_touch(const World *w) { th_expose(w->h); }

static void put32(unsigned char *at, uint32_t v) { memcpy(at, &v, sizeof v); }
static uint32_t get32(const unsigned char *at)
{
    uint32_t v;
    memcpy(&v, at, sizeof v);
    return v;
}

static uint32_t gran_of(const World *w, const unsigned char *header)
{
    return (uint32_t)((off(w, header) - HDR) / GRAN);
}

static void forge_header(const World *w, unsigned char *at, uint32_t size, uint32_t low)
{
    put32(at, size);
    put32(at + 4, low | public_tag(gran_of(w, at), size, low) << 8);
}

/* ---- 1: fork ------------------------------------------------------------------------ */

#define FORK_THREADS 4
#define FORKS 200

typedef struct Churn {
    MemHeap *h; /* NULL: the default heap */
    atomic_bool stop;
    atomic_long ops;
} Churn;

typedef struct ChurnArg {
    Churn *c;
    uint64_t seed;
} ChurnArg;

static void *churn(void *arg)
{
    ChurnArg *a = arg;
    ThRng rng = {a->seed};
    void *mine[32] = {0};
    while (!atomic_load(&a->c->stop)) {
        size_t k = (size_t)th_below(&rng, 32);
        MemHeap *h = a->c->h;
        if (mine[k]) {
            if (h)
                MemHeap_Free(h, mine[k]);
            else
                Mem_Free(mine[k]);
            mine[k] = NULL;
        } else {
            size_t n = 1 + (size_t)th_below(&rng, 600);
            mine[k] = h ? MemHeap_Alloc(h, n) : Mem_Alloc((int)n);
            if (mine[k])
                memset(mine[k], 0x5c, n);
        }
        atomic_fetch_add(&a->c->ops, 1);
    }
    for (int k = 0; k < 32; k++)
        if (mine[k])
            a->c->h ? (void)MemHeap_Free(a->c->h, mine[k]) : (void)Mem_Free(mine[k]);
    return NULL;
}

/* The child: allocate, free, check both heaps; a hang ends by SIGALRM. */
static void child(MemHeap *h)
{
    alarm(3);
    int bad = 0;
    for (int i = 0; i < 20; i++) {
        void *p = Mem_Alloc(100 + i);
        void *q = MemHeap_Alloc(h, 200 + (size_t)i);
        bad |= !p || !q;
        bad |= Mem_Free(p) != 0;
        bad |= MemHeap_Free(h, q) != MEM_OK;
    }
    bad |= Mem_Check() != 0;
    bad |= MemHeap_Check(h) != 0;
    _exit(bad ? 1 : 0);
}

/* Issue 9, break 1: a child forked while threads hold the heap's lock. */
Test(fork, two_hundred_children_of_a_threaded_process_all_get_a_usable_heap, .timeout = 300)
{
    cr_assert_eq(Mem_Init(4 << 20), 0);
    MemHeap *h = th_heap(MEM_FAST, 4 << 20, 0);
    Churn onheap = {h, false, 0}, ondefault = {NULL, false, 0};
    pthread_t t[FORK_THREADS];
    ChurnArg args[FORK_THREADS];
    for (int i = 0; i < FORK_THREADS; i++) {
        args[i] = (ChurnArg){i % 2 ? &onheap : &ondefault, 0x51u + (uint64_t)i * 7919u};
        cr_assert_eq(pthread_create(&t[i], NULL, churn, &args[i]), 0);
    }
    int ok = 0, hung = 0, broken = 0;
    for (int i = 0; i < FORKS; i++) {
        while (atomic_load(&onheap.ops) + atomic_load(&ondefault.ops) < (long)i * 50)
            sched_yield(); /* the threads are busy at every fork */
        pid_t pid = fork();
        cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
        if (pid == 0)
            child(h);
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            ok++;
        else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
            hung++;
        else
            broken++;
        if (hung + broken >= 5)
            break; /* enough to fail: each hang costs the alarm's seconds */
    }
    atomic_store(&onheap.stop, true);
    atomic_store(&ondefault.stop, true);
    for (int i = 0; i < FORK_THREADS; i++)
        pthread_join(t[i], NULL);
    cr_log_info("forks: %d children ok, %d hung, %d broken", ok, hung, broken);
    cr_assert_eq(hung, 0, ID("H1") ": %d of %d children hung (%d broken)", hung, FORKS, broken);
    cr_assert_eq(broken, 0, ID("H1") ": %d of %d children broken", broken, FORKS);
    cr_assert_eq(Mem_Check(), 0);
    cr_assert_eq(MemHeap_Check(h), 0);
}

/* ---- 2: crafted overflows ------------------------------------------------------------- */

/* Issue 9, break 2a: a 16-byte overflow rewrites the next free block's
 * header so that it covers the live objects after it. */
Test(overflow, a_forged_free_block_yields_no_memory_inside_live_objects)
{
    for (int p = 0; p < N_CONFIGS; p++) {
        World w;
        MemOptions o = config(p);
        world_open_opt(&w, &o, 0, 64u << 10);
        unsigned char *a = w_alloc(&w, 24); /* 2 granules: a + 24 is the next header */
        unsigned char *f = w_alloc(&w, 56); /* 4 granules */
        unsigned char *l[4];
        for (int i = 0; i < 4; i++)
            l[i] = w_alloc(&w, 100); /* 7 granules each */
        cr_assert(a && f && l[3]);
        cr_assert_eq(w_free(&w, f), MEM_OK);
        unsigned char *fh = a + 24;
        attacker_may_touch(&w);
        unsigned char links[8];
        memcpy(links, fh + HDR, sizeof links); /* read past the object... */
        forge_header(&w, fh, grans(56) + 4u * grans(100), F_PREV_USED);
        memcpy(fh + HDR, links, sizeof links); /* ...and written back */
        w.own_lo = fh;
        w.own_hi = fh + 16;
        intact(&w, "the overflow");
        /* the attacker's own object grown into the forged block */
        w_resize(&w, w_index(&w, a), 24 + 400);
        intact(&w, ID("H2") " a resize into a forged free block");
        aftermath(&w, ID("H2") " a forged free block");
        world_close(&w);
    }
}

/* Issue 9, break 2b: the classic unlink.  The overflow keeps the free
 * block's header as it was (the program read it) and aims its links at a
 * live object: taking the block off its list would write there. */
Test(overflow, an_unlink_through_forged_links_writes_nothing_into_live_objects)
{
    for (int p = 0; p < N_CONFIGS; p++) {
        World w;
        MemOptions o = config(p);
        world_open_opt(&w, &o, 0, 64u << 10);
        unsigned char *a = w_alloc(&w, 24);
        unsigned char *f1 = w_alloc(&w, 56);
        unsigned char *v = w_alloc(&w, 100);
        unsigned char *f2 = w_alloc(&w, 56);
        unsigned char *x = w_alloc(&w, 100);
        cr_assert(a && f1 && v && f2 && x);
        cr_assert_eq(w_free(&w, f1), MEM_OK);
        cr_assert_eq(w_free(&w, f2), MEM_OK);
        unsigned char *fh = a + 24;
        attacker_may_touch(&w);
        unsigned char header[8];
        memcpy(header, fh, sizeof header);
        memcpy(fh, header, sizeof header);
        put32(fh + HDR, gran_of(&w, v - HDR) + 2u);   /* next: inside v */
        put32(fh + HDR + 4, gran_of(&w, x - HDR)); /* prev: x's header */
        w.own_lo = fh;
        w.own_hi = fh + 16;
        /* growing the attacker's object takes the block off its list */
        w_resize(&w, w_index(&w, a), 24 + 40);
        intact(&w, ID("H3") " a resize through forged links");
        aftermath(&w, ID("H3") " an unlink through forged links");
        world_close(&w);
    }
}

/* Issue 9, break 2c: "house of einherjar".  A fake free chunk inside the
 * attacker's object, its size in the object's last bytes where a footer
 * would be, and a 5-byte overflow that clears the next header's PREV_USED:
 * freeing the next object would merge it with the fake chunk. */
Test(overflow, a_cleared_prev_used_and_a_fake_chunk_give_no_overlap)
{
    for (int p = 0; p < N_CONFIGS; p++) {
        World w;
        MemOptions o = config(p);
        world_open_opt(&w, &o, 0, 64u << 10);
        unsigned char *a = w_alloc(&w, 200); /* 13 granules, no padding: a + 200 is b's header */
        unsigned char *b = w_alloc(&w, 100);
        unsigned char *c = w_alloc(&w, 100);
        cr_assert(a && b && c);
        unsigned char *fake = a + 24; /* a header position inside a */
        uint32_t fsize = (uint32_t)((size_t)(b - HDR - fake) / GRAN);
        attacker_may_touch(&w);
        forge_header(&w, fake, fsize, F_PREV_USED);
        put32(fake + HDR, UINT32_MAX); /* links: none */
        put32(fake + HDR + 4, UINT32_MAX);
        put32(b - HDR - 4, fsize); /* the "footer": a's last 4 bytes */
        unsigned char *bh = b - HDR;
        uint32_t slack = grans(100) * GRAN - HDR - 100u;
        put32(bh, grans(100)); /* the overflow: b's size as it was... */
        bh[4] = (unsigned char)(F_USED | slack << 2); /* ...and its flags without PREV_USED */
        w.own_lo = fake;
        w.own_hi = bh + 5;
        w_free(&w, b);
        intact(&w, "the free of the next object");
        aftermath(&w, ID("H4") " a cleared PREV_USED with a fake chunk");
        world_close(&w);
    }
}

/* MEM_FAST's small objects live in runs, whose table (counts, live bitmap,
 * sizes) lies just before slot 0: an underflow from the object in slot 0
 * that clears the live bitmap would have the run hand out its live slots
 * again. */
static bool first_run(const MemBlock *b, void *arg)
{
    if (!b->run || !b->live_slots)
        return true;
    *(MemBlock *)arg = *b;
    return false;
}

Test(overflow, an_underflow_from_a_slot_through_its_runs_table_gives_no_overlap)
{
    World w;
    world_open(&w, MEM_FAST, 0, 256u << 10);
    for (int i = 0; i < 40; i++)
        cr_assert_not_null(w_alloc(&w, 24));
    MemBlock run;
    memset(&run, 0, sizeof run);
    MemHeap_Walk(w.h, first_run, &run);
    cr_assert(run.run && run.slot_offset, "small objects are in runs");
    unsigned char *slot0 = (unsigned char *)w.r.base + run.slot_offset;
    cr_assert_eq(w_index(&w, slot0), w_index(&w, slot0), "slot 0 holds a live object");
    /* The live bitmap: a word whose low bits are the live slots (the
     * program knows which slots it holds); cleared, as a store reaching
     * back from slot 0 would. */
    uint64_t pattern = run.live_slots >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << run.live_slots) - 1;
    if (run.slots < 64) /* the bits past the last slot are set */
        pattern |= ~(uint64_t)0 << run.slots;
    unsigned char *table = (unsigned char *)w.r.base + run.offset + HDR, *word = NULL;
    attacker_may_touch(&w);
    for (unsigned char *q = table; q + 8 <= slot0; q += 8) {
        uint64_t v;
        memcpy(&v, q, sizeof v);
        if (v == pattern)
            word = q;
    }
    cr_assert_not_null(word, "the attacker finds the live bitmap");
    memset(word, 0, 8);
    w.own_lo = word;
    w.own_hi = word + 8;
    for (int i = 0; i < 60; i++) {
        w_alloc(&w, 24);
        intact(&w, ID("H14") " an underflow into a run's table");
    }
    w_free(&w, slot0);
    aftermath(&w, ID("H14") " an underflow into a run's table");
    world_close(&w);
}

/* ---- 3: use after free ----------------------------------------------------------------- */

/* Issue 9, break 3: one bit of a freed block flips (a stale pointer's
 * store), 10,000 times, in headers, links, footers and free bytes alike. */
Test(use_after_free, ten_thousand_single_bit_flips_in_freed_memory, .timeout = 600)
{
    unsigned rounds = (unsigned)th_scaled(10000);
    uint64_t seed = th_seed(0xF11Bu);
    ThRng rng = {seed};
    unsigned refused = 0;
    for (unsigned round = 0; round < rounds; round++) {
        World w;
        MemOptions o = config((int)(round % N_CONFIGS));
        world_open_opt(&w, &o, round % 7 == 0 ? MEM_OPT_GUARD : 0, 16u << 10);
        unsigned char *objs[24];
        size_t sizes[24];
        for (int i = 0; i < 24; i++) {
            sizes[i] = 8 + (size_t)th_below(&rng, 200);
            objs[i] = w_alloc(&w, sizes[i]);
        }
        /* free every other one: free blocks between live ones */
        unsigned char *freed[12];
        size_t nfreed = 0;
        for (int i = 1; i < 24; i += 2)
            if (objs[i] && w_free(&w, objs[i]) == MEM_OK)
                freed[nfreed++] = objs[i] - HDR;
        cr_assert_gt(nfreed, 0);
        /* a bit anywhere in a freed block: header, links, footer, free bytes */
        unsigned char *blk = freed[th_below(&rng, nfreed)];
        attacker_may_touch(&w);
        uint32_t size = get32(blk);
        size_t bytes = size >= 2 && size < 64 ? (size_t)size * GRAN : 32u;
        unsigned char *bit_at = blk + th_below(&rng, bytes);
        *bit_at ^= (unsigned char)(1u << th_below(&rng, 8));
        w.own_lo = bit_at;
        w.own_hi = bit_at + 1;
        for (int i = 0; i < 16; i++) {
            if (!w_alloc(&w, 8 + (size_t)th_below(&rng, 300)))
                refused++;
            intact(&w, ID("H5") " a bit flip in freed memory");
            if (w.nlive > 4 && th_below(&rng, 3) == 0) {
                w_free(&w, w.live[th_below(&rng, w.nlive)].p);
                intact(&w, ID("H5") " a free after a bit flip");
            }
            if (w.nlive && th_below(&rng, 4) == 0) {
                size_t k = (size_t)th_below(&rng, w.nlive);
                w_resize(&w, k, 8 + (size_t)th_below(&rng, 300));
                intact(&w, ID("H5") " a resize after a bit flip");
            }
        }
        (void)MemHeap_Check(w.h);
        world_close(&w);
    }
    cr_log_info("%u bit flips (seed %#llx): %u allocations refused", rounds,
                (unsigned long long)seed, refused);
}

/* 20,000 random corruptions anywhere in the arena (and 5,000 more bit
 * flips in freed memory), then every hook and allocation function: the
 * damage harness that fuzz/fuzz_damage.c drives (fuzz/harness_damage.c). */
Test(damage, twenty_thousand_random_corruptions_anywhere_in_the_arena, .timeout = 900)
{
    uint64_t seed = th_seed(0xDA3A6Eu);
    ThRng rng = {seed};
    FuzzDamageTotals before = Fuzz_DamageTotals();
    uint64_t want = th_scaled(20000), want_flips = th_scaled(5000);
    uint8_t buf[1024];
    unsigned inputs = 0;
    for (;;) {
        FuzzDamageTotals now = Fuzz_DamageTotals();
        if (now.corruptions - before.corruptions >= want &&
            now.flips - before.flips >= want_flips)
            break;
        for (size_t k = 0; k < sizeof buf; k++)
            buf[k] = (uint8_t)(th_rand(&rng) >> 24);
        const char *why = Fuzz_Damage(buf, sizeof buf);
        cr_assert_null(why, ID("H6") ": input %u of seed %#llx: %s", inputs,
                       (unsigned long long)seed, why);
        inputs++;
    }
    FuzzDamageTotals t = Fuzz_DamageTotals();
    cr_log_info("damage: %u inputs, %llu corruptions (%llu in run tables), %llu bit flips in "
                "freed memory, %llu allocations (%llu refused), %llu frees (%llu refused), "
                "%llu hook calls",
                inputs, (unsigned long long)(t.corruptions - before.corruptions),
                (unsigned long long)(t.run_tables - before.run_tables),
                (unsigned long long)(t.flips - before.flips),
                (unsigned long long)(t.allocs - before.allocs),
                (unsigned long long)(t.refused_allocs - before.refused_allocs),
                (unsigned long long)(t.frees - before.frees),
                (unsigned long long)(t.refused_frees - before.refused_frees),
                (unsigned long long)(t.hooks - before.hooks));
}

/* The same, on MEM_FAST heaps of 64 KiB without guard mode, where small
 * objects live in runs: 5,000 corruptions of runs' headers and tables (links,
 * counts, the live bitmap and its hashes, sizes) among the rest. */
Test(damage, five_thousand_corruptions_of_run_tables, .timeout = 900)
{
    uint64_t seed = th_seed(0x5105u);
    ThRng rng = {seed};
    FuzzDamageTotals before = Fuzz_DamageTotals();
    uint64_t want = th_scaled(5000);
    uint8_t buf[2048];
    unsigned inputs = 0;
    while (Fuzz_DamageTotals().run_tables - before.run_tables < want) {
        for (size_t k = 0; k < sizeof buf; k++)
            buf[k] = (uint8_t)(th_rand(&rng) >> 24);
        buf[0] = MEM_FAST;         /* no guard mode */
        buf[1] = (uint8_t)(3u | (buf[1] & 0x3cu)); /* 64 KiB */
        const char *why = Fuzz_Damage(buf, sizeof buf);
        cr_assert_null(why, ID("H14") ": run tables: input %u of seed %#llx: %s", inputs,
                       (unsigned long long)seed, why);
        inputs++;
        cr_assert_lt(inputs, 100000u, "the inputs make no runs");
    }
    FuzzDamageTotals t = Fuzz_DamageTotals();
    cr_log_info("damage on runs: %u inputs, %llu corruptions (%llu in run tables), %llu "
                "allocations (%llu refused)",
                inputs, (unsigned long long)(t.corruptions - before.corruptions),
                (unsigned long long)(t.run_tables - before.run_tables),
                (unsigned long long)(t.allocs - before.allocs),
                (unsigned long long)(t.refused_allocs - before.refused_allocs));
}

/* ---- 4: the control structure --------------------------------------------------------- */

static atomic_int evil_calls;
static void evil(const MemEvent *e, void *arg)
{
    (void)e;
    (void)arg;
    atomic_fetch_add(&evil_calls, 1);
}

static void legit(const MemEvent *e, void *arg)
{
    (void)e;
    ++*(int *)arg;
}

/* Issue 9, break 4: 41 to 48 bytes before the first object of a
 * MemHeap_Create heap lay the observer's function pointer. */
Test(control, an_observer_pointer_overwritten_from_the_first_object_is_never_called)
{
    for (int p = 0; p < MEM_POLICY_COUNT; p++) {
        World w;
        world_open(&w, (MemPolicy)p, 0, 64u << 10);
        int calls = 0;
        MemHeap_SetObserver(w.h, legit, &calls);
        /* the arena's first object (not a run's slot: runs are cut from
         * the top of the free space; under buddy only the block at 0 is
         * large enough) */
        unsigned char *o = w_alloc(&w, 20000);
        cr_assert_eq(o, (unsigned char *)w.r.base + GRAN, "%s: the first object", pname(&w));
        void (*fp)(const MemEvent *, void *) = evil;
        memcpy(o - 48, &fp, sizeof fp);
        w_alloc(&w, 40);
        w_free(&w, o);
        w_alloc(&w, 1u << 20); /* a failure event too */
        cr_assert_eq(atomic_load(&evil_calls), 0, ID("H7") ": %s: the overwritten observer "
                     "was called", pname(&w));
        world_close(&w);
    }
}

/* A linear underflow from the first object through the whole control
 * structure, with the attacker's function pointer everywhere. */
Test(control, a_linear_underflow_through_the_control_structure_is_caught, .timeout = 60)
{
    for (int p = 0; p < MEM_POLICY_COUNT; p++) {
        for (size_t reach = 16; reach <= MemHeap_ControlSize() + 16u; reach += 40) {
            World w;
            world_open(&w, (MemPolicy)p, 0, 64u << 10);
            int calls = 0;
            MemHeap_SetObserver(w.h, legit, &calls);
            unsigned char *o = w_alloc(&w, 20000); /* the arena's first object */
            cr_assert_eq(o, (unsigned char *)w.r.base + GRAN, "%s: the first object",
                         pname(&w));
            void (*fp)(const MemEvent *, void *) = evil;
            attacker_may_touch(&w);
            for (size_t k = 8; k <= reach; k += 8)
                memcpy(o - k, &fp, sizeof fp);
            w.own_lo = o - reach;
            w.own_hi = o;
            aftermath(&w, ID("H7") " a linear underflow into the control structure");
            w_free(&w, o);
            cr_assert_eq(atomic_load(&evil_calls), 0,
                         ID("H7") ": %s: underflow of %zu bytes: the attacker's function "
                         "was called", pname(&w), reach);
            munmap(w.map, w.maplen); /* no Release: the heap may be refused */
        }
    }
}

/* ---- 5, 6: hooks on a damaged heap ----------------------------------------------------- */

/* Issue 9, break 5: in guard mode an overflow into a free block's header
 * made WalkFree read at a garbage object size. */
Test(hooks, walkfree_survives_an_overflow_into_a_free_header)
{
    for (int p = 0; p < MEM_POLICY_COUNT; p++) {
        World w;
        world_open(&w, (MemPolicy)p, MEM_OPT_GUARD, 64u << 10);
        unsigned char *a = w_alloc(&w, 16); /* 2 granules with its guard */
        unsigned char *f = w_alloc(&w, 40);
        unsigned char *l = w_alloc(&w, 40);
        cr_assert(a && f && l);
        cr_assert_eq(w_free(&w, f), MEM_OK);
        attacker_may_touch(&w);
        memset(a + 16, 0x41, 8 + 16 + 8); /* guard, then the free header and links */
        size_t n = 0;
        MemHeap_WalkFree(w.h, count_visit, &n);
        MemHeap_Walk(w.h, count_visit, &n);
        cr_assert_eq(MemHeap_Check(w.h), -1, ID("H8") ": %s", pname(&w));
        world_close(&w);
    }
}

/* Issue 9, break 6: a used block whose header says 63 bytes of padding in
 * a 32-byte block: the checker computed the object's end with a wrapped
 * size and read the guard up to 39 bytes before the object.  Here those
 * bytes are a page the program has made inaccessible. */
Test(hooks, no_hook_reads_outside_a_block_whose_header_is_damaged)
{
    /* (buddy's blocks are powers of two: the layout below is the others') */
    for (int p = 0; p < MEM_POLICY_COUNT; p++) {
        if (p == MEM_BUDDY)
            continue;
        World w;
        world_open(&w, (MemPolicy)p, MEM_OPT_GUARD, 64u << 10);
        /* The first block fills the arena up to a page boundary P: the next
         * header is at P + 8, its object at P + 16. */
        uintptr_t base = (uintptr_t)w.r.base;
        uintptr_t page = (base + 8192u + 4095u) & ~(uintptr_t)4095u;
        size_t first = (size_t)(page - base) - HDR - 8u; /* object + 8 bytes of guard */
        unsigned char *big = w_alloc(&w, first);
        unsigned char *d = w_alloc(&w, 16); /* 2 granules: 16 bytes and its guard */
        unsigned char *e = w_alloc(&w, 16);
        cr_assert(big && d && e);
        cr_assert_eq((uintptr_t)d, page + 16);
        cr_assert_eq(w_free(&w, big), MEM_OK); /* a free block: header before P - 4096 */
        attacker_may_touch(&w);
        unsigned char *dh = d - HDR;
        put32(dh + 4, (get32(dh + 4) & ~0xFFu) | F_USED | 63u << 2);
        cr_assert_eq(mprotect((void *)(page - 4096u), 4096, PROT_NONE), 0);
        size_t n = 0;
        char why[200];
        cr_assert_gt(MemHeap_Diagnose(w.h, why, sizeof why), 0, ID("H9") ": %s", pname(&w));
        MemHeap_Walk(w.h, count_visit, &n);
        MemHeap_WalkFree(w.h, count_visit, &n);
        (void)MemHeap_Stats(w.h);
        (void)MemHeap_Find(w.h, d + 3, NULL);
        cr_assert_neq(MemHeap_Free(w.h, d), MEM_OK);
        cr_assert_eq(mprotect((void *)(page - 4096u), 4096, PROT_READ | PROT_WRITE), 0);
        world_close(&w);
    }
}

/* ---- 8: the cost of the statistics --------------------------------------------------- */

/* Issue 9, break 8: under MEM_FAST, MemHeap_Stats (documented O(1)) and a
 * failed allocation with an observer walked the whole top size class.  Here
 * the free blocks of that class lie in pages the program has made
 * inaccessible: neither may read them. */
Test(complexity, fast_stats_and_a_failed_allocation_read_no_free_block)
{
    World w;
    world_open(&w, MEM_FAST, MEM_OPT_NORUNS, 4u << 20); /* blocks, not runs */
    /* 600-byte free blocks (a class of several sizes) between live ones */
    enum { N = 2000 };
    static unsigned char *o[N];
    for (int i = 0; i < N; i++)
        o[i] = MemHeap_Alloc(w.h, i % 2 ? 24 : 600 + (size_t)(i % 5) * 8);
    void *rest = MemHeap_Alloc(w.h, MemHeap_Stats(w.h).largest_request);
    cr_assert_not_null(rest, "the rest of the heap is taken: no larger free block");
    for (int i = 0; i < N; i += 2)
        cr_assert_eq(MemHeap_Free(w.h, o[i]), MEM_OK);
    MemStats before = MemHeap_Stats(w.h);
    cr_assert_eq(before.free_blocks, N / 2);
    int events = 0;
    MemHeap_SetObserver(w.h, legit, &events);
    uintptr_t lo = ((uintptr_t)o[0] + 4095u) & ~(uintptr_t)4095u;
    uintptr_t hi = ((uintptr_t)o[N - 1]) & ~(uintptr_t)4095u;
    cr_assert_eq(mprotect((void *)lo, hi - lo, PROT_NONE), 0);
    MemStats s = MemHeap_Stats(w.h);
    void *fail = MemHeap_Alloc(w.h, 100000); /* larger than any free block */
    cr_assert_eq(mprotect((void *)lo, hi - lo, PROT_READ | PROT_WRITE), 0);
    cr_assert_null(fail);
    cr_assert_eq(s.largest_free, before.largest_free, ID("H10"));
    cr_assert_eq(s.largest_free, grans(600 + 32) * GRAN);
    cr_assert_eq(events, 1, "the failure was reported");
    th_check(w.h);
    world_close(&w);
}

/* ---- 9: life cycle ------------------------------------------------------------------------ */

/* Issue 9, break 9a: after a failed mmap Mem_Init answered EBUSY forever. */
Test(lifecycle, a_failed_mmap_leaves_mem_init_retryable)
{
    th_mmap_fail = 1;
    errno = 0;
    cr_assert_eq(Mem_Init(1 << 16), -1);
    cr_assert_eq(errno, ENOMEM, ID("H11") ": mmap's errno");
    cr_assert_null(Mem_DefaultHeap());
    cr_assert_eq(Mem_Init(1 << 16), 0, ID("H11") ": a retry succeeds");
    cr_assert_eq(th_mmap_calls, 2);
    void *p = Mem_Alloc(100);
    cr_assert_not_null(p);
    cr_assert_eq(Mem_Free(p), 0);
    cr_assert_eq(Mem_Init(1 << 16), -1);
    cr_assert_eq(errno, EBUSY);
}

/* Issue 9, break 9b: a released heap went on working (its magic was not
 * checked). */
Test(lifecycle, every_function_fails_cleanly_on_a_released_heap)
{
    for (int p = 0; p < MEM_POLICY_COUNT; p++) {
        World w;
        world_open(&w, (MemPolicy)p, 0, 64u << 10);
        unsigned char *a = MemHeap_Alloc(w.h, 100);
        cr_assert_not_null(a);
        int calls = 0;
        MemHeap_SetObserver(w.h, legit, &calls);
        MemHeap_Release(w.h);
        unsigned char snapshot[64u << 10];
        memcpy(snapshot, w.region, sizeof snapshot);
        cr_assert_null(MemHeap_Alloc(w.h, 100), ID("H12") ": %s", pname(&w));
        cr_assert_eq(MemHeap_Free(w.h, a), MEM_REJECT_NULL_HEAP, ID("H12"));
        cr_assert_null(MemHeap_Find(w.h, a, NULL));
        cr_assert_eq(MemHeap_Classify(w.h, a), MEM_REJECT_NULL_HEAP);
        size_t n = 0;
        cr_assert_eq(MemHeap_Walk(w.h, count_visit, &n), 0);
        cr_assert_eq(MemHeap_WalkFree(w.h, count_visit, &n), 0);
        cr_assert_eq(MemHeap_Stats(w.h).allocs, 0, "a zeroed struct");
        cr_assert_null(MemHeap_Region(w.h).base);
        cr_assert_eq(MemHeap_Check(w.h), -1);
        MemHeap_SetObserver(w.h, evil, NULL);
        MemHeap_Release(w.h);
        cr_assert_eq(calls, 0, "no event after the release");
        cr_assert_eq(memcmp(snapshot, w.region, sizeof snapshot), 0, "nothing was written");
        munmap(w.map, w.maplen);
    }
}

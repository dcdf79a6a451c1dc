/*
 * chaos_hook.c - linked into the heapviz used by tests/e2e_chaos.sh, with
 * -Wl,--wrap=MemHeap_Create,--wrap=MemHeap_CreateEx,--wrap=MemHeap_Release,
 * --wrap=munmap, so that
 * every heap heapviz makes is checked (MemHeap_Diagnose) when it ends: when
 * it is released or re-created, when its memory is unmapped, and at exit.
 * heapviz itself is not changed.
 *
 * heapviz's 'o' key overflows an object on purpose; in guard mode the
 * checker then reports that object.  A heap whose only problems are such
 * overflows (as many problems as blocks the walk flags overflowed, and the
 * first one an "overflowed" sentence) is counted apart, not as broken.
 *
 * The results go to the file named by HEAPVIZ_CHAOS_REPORT, one line per
 * heap checked and a last line "checked N heaps: B broken"; heapviz then
 * exits with status 70 if any heap was broken.
 */
#include "mem.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

MemHeap *__real_MemHeap_Create(void *region, size_t size, MemPolicy policy, unsigned flags);
MemHeap *__wrap_MemHeap_Create(void *region, size_t size, MemPolicy policy, unsigned flags);
MemHeap *__real_MemHeap_CreateEx(void *region, size_t size, const MemOptions *options);
MemHeap *__wrap_MemHeap_CreateEx(void *region, size_t size, const MemOptions *options);
void __real_MemHeap_Release(MemHeap *heap);
void __wrap_MemHeap_Release(MemHeap *heap);
int __real_munmap(void *addr, size_t len);
int __wrap_munmap(void *addr, size_t len);

#define MAX_HEAPS 16

static struct {
    MemHeap *h;
    unsigned char *region;
    size_t size;
} heaps[MAX_HEAPS];
static unsigned checked, broken, overflowed_ok;
static bool registered;

static void note(const char *line)
{
    const char *path = getenv("HEAPVIZ_CHAOS_REPORT");
    FILE *f = path && *path ? fopen(path, "a") : NULL;
    if (!f)
        return;
    fprintf(f, "%s\n", line);
    fclose(f);
}

static bool count_overflowed(const MemBlock *b, void *arg)
{
    *(size_t *)arg += b->overflowed;
    return true;
}

static void check(unsigned i, const char *when)
{
    MemHeap *h = heaps[i].h;
    char why[256];
    int problems = MemHeap_Diagnose(h, why, sizeof why);
    size_t over = 0;
    MemHeap_Walk(h, count_overflowed, &over);
    checked++;
    const char *policy = MemPolicy_Name(MemHeap_Region(h).policy);
    char line[400];
    if (problems == 0) {
        snprintf(line, sizeof line, "ok %s heap at %s", policy, when);
    } else if ((size_t)problems == over && strstr(why, "overflowed")) {
        overflowed_ok++;
        snprintf(line, sizeof line, "ok %s heap at %s: only %zu deliberate overflows ('o')",
                 policy, when, over);
    } else {
        broken++;
        snprintf(line, sizeof line, "BROKEN %s heap at %s: %s", policy, when, why);
    }
    note(line);
    heaps[i].h = NULL;
}

static void at_exit(void)
{
    for (unsigned i = 0; i < MAX_HEAPS; i++)
        if (heaps[i].h)
            check(i, "exit");
    char line[96];
    snprintf(line, sizeof line, "checked %u heaps: %u broken, %u with deliberate overflows",
             checked, broken, overflowed_ok);
    note(line);
    if (broken)
        _exit(70);
}

/* Before a heap is made over region: the one there before is checked. */
static void before_create(const void *region)
{
    if (!registered) {
        registered = true;
        atexit(at_exit);
    }
    for (unsigned i = 0; i < MAX_HEAPS; i++)
        if (heaps[i].h && heaps[i].region == region)
            check(i, "re-creation");
}

static MemHeap *track(MemHeap *h, void *region, size_t size)
{
    for (unsigned i = 0; h && i < MAX_HEAPS; i++) {
        if (!heaps[i].h) {
            heaps[i].h = h;
            heaps[i].region = region;
            heaps[i].size = size;
            break;
        }
    }
    return h;
}

MemHeap *__wrap_MemHeap_Create(void *region, size_t size, MemPolicy policy, unsigned flags)
{
    before_create(region);
    return track(__real_MemHeap_Create(region, size, policy, flags), region, size);
}

MemHeap *__wrap_MemHeap_CreateEx(void *region, size_t size, const MemOptions *options)
{
    before_create(region);
    return track(__real_MemHeap_CreateEx(region, size, options), region, size);
}

void __wrap_MemHeap_Release(MemHeap *heap)
{
    for (unsigned i = 0; i < MAX_HEAPS; i++)
        if (heaps[i].h && heaps[i].h == heap)
            check(i, "release");
    __real_MemHeap_Release(heap);
}

int __wrap_munmap(void *addr, size_t len)
{
    uintptr_t a = (uintptr_t)addr;
    for (unsigned i = 0; i < MAX_HEAPS; i++)
        if (heaps[i].h && (uintptr_t)heaps[i].region >= a &&
            (uintptr_t)heaps[i].region - a < len)
            check(i, "unmap");
    return __real_munmap(addr, len);
}

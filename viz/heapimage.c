/*
 * heapimage.c - a heap's region as bytes (see heapimage.h).
 */
#include "heapimage.h"

#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define IMAGE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IMAGE_ASAN 1
#endif
#endif
#ifdef IMAGE_ASAN
#include <sanitizer/asan_interface.h>

/* The library keeps its arena poisoned but for the live objects (a run's
 * live slots included): the copies look at every byte, so the arena is
 * opened for them, then closed again the way the library keeps it. */
static void open_arena(const Lane *l)
{
    MemRegion r = MemHeap_Region(l->heap);
    __asan_unpoison_memory_region(r.base, r.size);
}

typedef struct Open {
    const MemHeap *heap;
    unsigned char *base;
} Open;

static bool unpoison_slot(const MemSlot *sl, void *arg)
{
    Open *o = arg;
    if (sl->live && sl->object)
        __asan_unpoison_memory_region(o->base + sl->offset, sl->object);
    return true;
}

/* A live object (in a run: each live slot's). */
static bool unpoison_object(const MemBlock *b, void *arg)
{
    Open *o = arg;
    if (b->run)
        MemHeap_WalkSlots(o->heap, b->offset, unpoison_slot, o);
    else if (b->used && b->object)
        __asan_unpoison_memory_region(o->base + b->offset + b->header, b->object);
    return true;
}

static void close_arena(const Lane *l)
{
    MemRegion r = MemHeap_Region(l->heap);
    __asan_poison_memory_region(r.base, r.size);
    Open o = {l->heap, r.base};
    MemHeap_Walk(l->heap, unpoison_object, &o);
}
#else
static void open_arena(const Lane *l) { (void)l; }
static void close_arena(const Lane *l) { (void)l; }
#endif

size_t HeapImage_Size(const Lane *l) { return l->region_size; }

void HeapImage_Save(const Lane *l, void *dst)
{
    open_arena(l);
    memcpy(dst, l->region, l->region_size);
    close_arena(l);
}

void HeapImage_Load(Lane *l, const void *src)
{
    open_arena(l);
    memcpy(l->region, src, l->region_size);
    close_arena(l);
}

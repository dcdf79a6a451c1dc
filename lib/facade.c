/*
 * facade.c - the classic Mem_* API over one default heap.
 *
 * The default heap's control structure is static storage, so the whole
 * mmap()ed region is arena: a one-page heap keeps 4056 of its 4096 bytes for
 * an object.  Mem_Init is the only place in the library that calls mmap;
 * once it has succeeded it never calls it again, and a failed mmap leaves it
 * as if it had not been called (a later call may try again).
 */
#include "mem_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

enum { INIT_NONE, INIT_BUSY, INIT_DONE, INIT_SPENT };

static MemHeap default_control;
static _Atomic(MemHeap *) default_heap;
static atomic_int init_state = INIT_NONE;

int Mem_Init(int sizeOfRegion)
{
    if (sizeOfRegion <= 0) {
        errno = EINVAL;
        return -1;
    }
    MemPolicy policy = MEM_POLICY_DEFAULT;
    const char *env = getenv("MEM_POLICY");
    if (env && MemPolicy_Parse(env, &policy) != 0) {
        errno = EINVAL;
        return -1;
    }
    long page = sysconf(_SC_PAGESIZE);
    size_t psz = page > 0 ? (size_t)page : 4096u;
    size_t len = ((size_t)sizeOfRegion + psz - 1u) / psz * psz;

    int expected = INIT_NONE;
    if (!atomic_compare_exchange_strong(&init_state, &expected, INIT_BUSY)) {
        errno = EBUSY;
        return -1;
    }
    void *region = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED) {
        atomic_store(&init_state, INIT_NONE); /* nothing was taken: a retry may follow */
        return -1;
    }
    MemOptions o = {policy, 0, MEM_ORDER_ADDRESS, MEM_COALESCE_NOW};
    MemHeap *h = mem_heap_init(&default_control, region, len, &o, 0);
    if (!h) { /* cannot happen for a whole page, but never publish a bad heap */
        atomic_store(&init_state, INIT_SPENT);
        errno = EINVAL;
        return -1;
    }
    atomic_store(&default_heap, h);
    atomic_store(&init_state, INIT_DONE);
    return 0;
}

MemHeap *Mem_DefaultHeap(void)
{
    return atomic_load_explicit(&default_heap, memory_order_acquire);
}

void *Mem_Alloc(int size)
{
    if (size <= 0)
        return NULL;
    return MemHeap_Alloc(Mem_DefaultHeap(), (size_t)size);
}

int Mem_Free(void *ptr)
{
    if (!ptr)
        return 0;
    return MemHeap_Free(Mem_DefaultHeap(), ptr) == MEM_OK ? 0 : -1;
}

int Mem_IsValid(void *ptr)
{
    return MemHeap_Find(Mem_DefaultHeap(), ptr, NULL) != NULL;
}

int Mem_GetSize(void *ptr)
{
    size_t size;
    if (!MemHeap_Find(Mem_DefaultHeap(), ptr, &size) || size > INT_MAX)
        return -1;
    return (int)size;
}

int Mem_Check(void)
{
    return MemHeap_Check(Mem_DefaultHeap());
}

/*
 * lock.c - the heap's lock: a spin-then-yield lock that its owner may take
 * again, so an observer or a walk visitor can query the heap it is called
 * from.  A thread is identified by the address of a thread-local byte.  The
 * lock is the one mutable part of a const heap.  (mem_lock, inline in
 * mem_internal.h, skips it altogether while the process has one thread.)
 */
#include "mem_internal.h"

#include <sched.h>

static _Thread_local char thread_token;

MEM_NO_ASAN bool mem_lock_slow(const MemHeap *heap)
{
    MemHeap *h = (MemHeap *)(uintptr_t)heap;
    uintptr_t me = (uintptr_t)&thread_token;
    if (atomic_load_explicit(&h->lock_owner, memory_order_relaxed) == me) {
        h->lock_depth++;
        return true;
    }
    unsigned spins = 0;
    for (;;) {
        uintptr_t free_token = 0;
        if (atomic_compare_exchange_weak_explicit(&h->lock_owner, &free_token, me,
                                                  memory_order_acquire, memory_order_relaxed))
            break;
        if (++spins >= 64) {
            spins = 0;
            sched_yield();
        }
    }
    h->lock_depth = 1;
    return true;
}

MEM_NO_ASAN void mem_unlock_slow(const MemHeap *heap)
{
    MemHeap *h = (MemHeap *)(uintptr_t)heap;
    if (--h->lock_depth == 0)
        atomic_store_explicit(&h->lock_owner, 0, memory_order_release);
}

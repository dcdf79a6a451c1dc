/*
 * lock.c - the heap's lock: a spin-then-yield lock that its owner may take
 * again, so an observer or a walk visitor can query the heap it is called
 * from.  A thread is identified by the address of a thread-local byte.  The
 * lock is the one mutable part of a const heap.  (mem_lock, inline in
 * mem_internal.h, skips it altogether while the process has one thread.)
 *
 * fork
 * ----
 * A child of a threaded process has one thread: any heap lock held at the
 * fork by another thread would stay held forever, over a heap that thread
 * left half-changed.  Heaps live in the caller's memory and the library
 * keeps no list of them, so instead every taking of a heap lock passes a
 * gate: a count of the threads inside a locked operation, spread over
 * cache-line shards so that threads on different heaps do not contend.
 * Before fork (pthread_atfork's prepare, registered when the library is
 * loaded, or MemHeap_ForkPrepare) the forking thread closes the gate and
 * waits until no other thread is inside: every heap is then unlocked and
 * consistent, and stays so until the fork returns and the gate reopens in
 * the parent and the child.  The child's heaps are whole and usable, their
 * locks free (but those the forking thread itself held, which it still
 * holds).  A thread waiting for a heap lock while the gate closes steps out
 * and waits for it to reopen, so the forker never waits for a waiter.
 *
 * Heaps made with MEM_OPT_NOLOCK take no lock and so pass no gate: a child
 * forked by another thread must not use them (mem.h).
 */
#include "mem_internal.h"

#include <pthread.h>
#include <sched.h>

static _Thread_local char thread_token;

#define GATE_SHARDS 16u

typedef struct Shard {
    _Alignas(64) atomic_uint inside; /* threads of this shard inside the gate */
} Shard;

static Shard gate[GATE_SHARDS];
static atomic_bool gate_closed;
static atomic_uintptr_t fork_owner;  /* the forking thread's token, 0 if none */
static unsigned fork_nesting;        /* the owner's prepares not yet undone */
static _Thread_local unsigned held;  /* gate entries of this thread (heap locks) */

static uintptr_t me(void) { return (uintptr_t)&thread_token; }

static atomic_uint *my_shard(void)
{
    uintptr_t t = me() >> 6;
    return &gate[(t ^ t >> 4 ^ t >> 8 ^ t >> 12) % GATE_SHARDS].inside;
}

/* A thread that holds no heap lock waits while a fork is being prepared;
 * one that holds some (an observer on another heap) passes, since the
 * forker waits for it. */
MEM_NO_ASAN static void gate_enter(void)
{
    atomic_uint *s = my_shard();
    if (held == 0) {
        for (;;) {
            while (atomic_load(&gate_closed) && atomic_load(&fork_owner) != me())
                sched_yield();
            atomic_fetch_add(s, 1);
            if (!atomic_load(&gate_closed) || atomic_load(&fork_owner) == me())
                break;
            atomic_fetch_sub(s, 1);
        }
    } else {
        atomic_fetch_add(s, 1);
    }
    held++;
}

MEM_NO_ASAN static void gate_leave(void)
{
    held--;
    atomic_fetch_sub(my_shard(), 1);
}

MEM_NO_ASAN bool mem_lock_slow(const MemHeap *heap)
{
    MemHeap *h = (MemHeap *)(uintptr_t)heap;
    uintptr_t token = me();
    if (atomic_load_explicit(&h->lock_owner, memory_order_relaxed) == token) {
        h->lock_depth++;
        return true;
    }
    for (;;) {
        gate_enter();
        unsigned spins = 0;
        for (;;) {
            uintptr_t free_token = 0;
            if (atomic_compare_exchange_weak_explicit(&h->lock_owner, &free_token, token,
                                                      memory_order_acquire,
                                                      memory_order_relaxed)) {
                h->lock_depth = 1;
                return true;
            }
            if (++spins >= 64) {
                spins = 0;
                if (held == 1 && atomic_load(&gate_closed) && atomic_load(&fork_owner) != token)
                    break; /* step out: the forker waits for the gate to empty */
                sched_yield();
            }
        }
        gate_leave();
    }
}

MEM_NO_ASAN void mem_unlock_slow(const MemHeap *heap)
{
    MemHeap *h = (MemHeap *)(uintptr_t)heap;
    if (--h->lock_depth == 0) {
        atomic_store_explicit(&h->lock_owner, 0, memory_order_release);
        gate_leave();
    }
}

/* ---- fork ------------------------------------------------------------------------ */

MEM_NO_ASAN void MemHeap_ForkPrepare(void)
{
    uintptr_t token = me();
    if (atomic_load(&fork_owner) == token) {
        fork_nesting++; /* the automatic handler and the caller's both */
        return;
    }
    for (;;) {
        uintptr_t none = 0;
        if (atomic_compare_exchange_weak(&fork_owner, &none, token))
            break;
        sched_yield(); /* another thread is forking */
    }
    fork_nesting = 1;
    atomic_store(&gate_closed, true);
    for (;;) {
        unsigned inside = 0;
        for (unsigned i = 0; i < GATE_SHARDS; i++)
            inside += atomic_load(&gate[i].inside);
        if (inside == held)
            return;
        sched_yield();
    }
}

MEM_NO_ASAN void MemHeap_ForkParent(void)
{
    if (atomic_load(&fork_owner) != me() || --fork_nesting)
        return;
    atomic_store(&gate_closed, false);
    atomic_store(&fork_owner, 0);
}

MEM_NO_ASAN void MemHeap_ForkChild(void)
{
    if (atomic_load(&fork_owner) != me() || --fork_nesting)
        return;
    /* The other threads are gone, and none was inside: the gate holds only
     * this thread's entries. */
    for (unsigned i = 0; i < GATE_SHARDS; i++)
        atomic_store(&gate[i].inside, 0);
    atomic_store(my_shard(), held);
    atomic_store(&gate_closed, false);
    atomic_store(&fork_owner, 0);
}

/* libmem-malloc.so builds the library with MEM_FORK_BY_CALLER and calls
 * the three from its own handlers, in the order its other lock needs. */
#ifndef MEM_FORK_BY_CALLER
__attribute__((constructor)) static void fork_handlers_at_load(void)
{
    pthread_atfork(MemHeap_ForkPrepare, MemHeap_ForkParent, MemHeap_ForkChild);
}
#endif

/*
 * lock.c - the heap's lock: a lock that its owner may take again, so an
 * observer or a walk visitor can query the heap it is called from.  A
 * thread is identified by the address of a thread-local byte.  The lock is
 * the one mutable part of a const heap.  (mem_lock, inline in
 * mem_internal.h, skips it altogether while the process has one thread.)
 *
 * lock_word is the lock itself: 0 free, 1 held, 2 held and someone may be
 * asleep on it (Drepper's "Futexes Are Tricky", mutex 2).  A thread that
 * finds it held spins for a short while (the heap's critical sections are
 * a few hundred instructions: the owner is usually about to let go), then
 * marks it 2 and sleeps in the kernel (futex) until the owner's unlock
 * wakes one sleeper.  The earlier lock yielded (sched_yield) in a loop
 * instead: with more threads than CPUs (8 on 2, bench/programs.sh) the
 * waiters took turns on the CPUs that the owner needed to finish.
 * lock_owner says who holds it, for re-entry: only the owner ever finds
 * its own token there.
 */
#include "mem_internal.h"

#include <sched.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

static _Thread_local char thread_token;

/* Tries before sleeping: about a microsecond of pauses, longer than a
 * critical section, far shorter than a time slice. */
#define LOCK_SPINS 100u

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Sleeps while *w is 2 (returns at once when it is not: no lost wake-up);
 * wakes one sleeper.  The heap's lock is taken by one process only (a
 * forked child has its own copy, heapviz never locks): private futexes. */
static void lock_sleep(atomic_uint *w)
{
#if defined(__linux__)
    syscall(SYS_futex, (unsigned *)(void *)w, FUTEX_WAIT_PRIVATE, 2u, NULL, NULL, 0);
#else
    (void)w;
    sched_yield();
#endif
}

static void lock_wake(atomic_uint *w)
{
#if defined(__linux__)
    syscall(SYS_futex, (unsigned *)(void *)w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
#else
    (void)w;
#endif
}

MEM_NO_ASAN bool mem_lock_slow(const MemHeap *heap)
{
    MemHeap *h = (MemHeap *)(uintptr_t)heap;
    uintptr_t me = (uintptr_t)&thread_token;
    if (atomic_load_explicit(&h->lock_owner, memory_order_relaxed) == me) {
        h->lock_depth++;
        return true;
    }
    unsigned c = 0;
    if (!atomic_compare_exchange_strong_explicit(&h->lock_word, &c, 1u, memory_order_acquire,
                                                 memory_order_relaxed)) {
        for (unsigned n = 0; n < LOCK_SPINS && c != 2u; n++) {
            cpu_relax();
            c = atomic_load_explicit(&h->lock_word, memory_order_relaxed);
            if (c == 0u && atomic_compare_exchange_weak_explicit(
                               &h->lock_word, &c, 1u, memory_order_acquire, memory_order_relaxed))
                goto held;
        }
        /* asleep from here: whoever takes it now marks it 2, so that its
         * unlock wakes the next sleeper */
        while ((c = atomic_exchange_explicit(&h->lock_word, 2u, memory_order_acquire)) != 0u)
            lock_sleep(&h->lock_word);
    }
held:
    atomic_store_explicit(&h->lock_owner, me, memory_order_relaxed);
    h->lock_depth = 1;
    return true;
}

MEM_NO_ASAN void mem_unlock_slow(const MemHeap *heap)
{
    MemHeap *h = (MemHeap *)(uintptr_t)heap;
    if (--h->lock_depth != 0)
        return;
    atomic_store_explicit(&h->lock_owner, 0, memory_order_relaxed);
    if (atomic_exchange_explicit(&h->lock_word, 0u, memory_order_release) == 2u)
        lock_wake(&h->lock_word);
}

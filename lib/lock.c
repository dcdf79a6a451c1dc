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
 * A waiter asleep in the kernel would not see the gate close (the lock it
 * sleeps on may be one the forker holds, as libmem-malloc's handlers do),
 * so a sleeper first writes the address it sleeps on into a slot of a
 * small table (sleepers), then looks at the gate; the forker closes the
 * gate, then wakes every address in the table, again on each round of its
 * wait until the gate is empty (a sleeper between its look and its sleep
 * is woken by a later round).  A sleeper that finds no slot free sleeps at
 * most a millisecond at a time.
 *
 * Heaps made with MEM_OPT_NOLOCK take no lock and so pass no gate: a child
 * forked by another thread must not use them (mem.h).
 */
#include "mem_internal.h"

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#endif

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

/* The lock words that threads sleep on (0: a free slot). */
#define SLEEP_SLOTS 64u
static atomic_uintptr_t sleepers[SLEEP_SLOTS];

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

/* A waiter whose only gate entry is for the lock it waits on steps out
 * while another thread prepares a fork. */
MEM_NO_ASAN static bool step_out(uintptr_t token)
{
    return held == 1 && atomic_load(&gate_closed) && atomic_load(&fork_owner) != token;
}

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

/* Sleeps while *w is 2 (returns at once when it is not: no lost wake-up
 * from the unlock), unless the caller is to step out of the gate (looked
 * at after the address is in the table); woken by the owner's unlock or by
 * a closing gate (see the file comment).  A waiter that holds another heap
 * lock does not step out: it sleeps, gate closed or not, until the owner's
 * unlock.  The heap's lock is taken by one process only (a forked child
 * has its own copy, heapviz never locks): private futexes. */
MEM_NO_ASAN static void lock_sleep(atomic_uint *w, uintptr_t token)
{
#if defined(__linux__)
    uintptr_t a = (uintptr_t)w;
    unsigned s = (unsigned)(me() >> 6) % SLEEP_SLOTS, n;
    for (n = 0; n < SLEEP_SLOTS; n++, s = (s + 1u) % SLEEP_SLOTS) {
        uintptr_t none = 0;
        if (atomic_compare_exchange_strong(&sleepers[s], &none, a))
            break;
    }
    if (!step_out(token)) {
        static const struct timespec ms = {0, 1000000};
        syscall(SYS_futex, (unsigned *)(void *)w, FUTEX_WAIT_PRIVATE, 2u,
                n < SLEEP_SLOTS ? NULL : &ms, NULL, 0);
    }
    if (n < SLEEP_SLOTS)
        atomic_store(&sleepers[s], 0);
#else
    (void)w;
    (void)token;
    sched_yield();
#endif
}

static void lock_wake(atomic_uint *w, int n)
{
#if defined(__linux__)
    syscall(SYS_futex, (unsigned *)(void *)w, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
#else
    (void)w;
    (void)n;
#endif
}

/* Every sleeper wakes up and looks at the gate. */
static void wake_sleepers(void)
{
    for (unsigned s = 0; s < SLEEP_SLOTS; s++) {
        uintptr_t a = atomic_load(&sleepers[s]);
        if (a)
            lock_wake((atomic_uint *)a, INT_MAX);
    }
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
        unsigned c = 0;
        if (atomic_compare_exchange_strong_explicit(&h->lock_word, &c, 1u, memory_order_acquire,
                                                    memory_order_relaxed))
            goto held;
        for (unsigned n = 0; n < LOCK_SPINS && c != 2u; n++) {
            cpu_relax();
            c = atomic_load_explicit(&h->lock_word, memory_order_relaxed);
            if (c == 0u && atomic_compare_exchange_weak_explicit(
                               &h->lock_word, &c, 1u, memory_order_acquire, memory_order_relaxed))
                goto held;
        }
        /* asleep from here: whoever takes it now marks it 2, so that its
         * unlock wakes the next sleeper (one that stepped out leaves a 2
         * behind: one wake-up for nobody) */
        while (atomic_exchange_explicit(&h->lock_word, 2u, memory_order_acquire) != 0u) {
            if (step_out(token))
                goto out;
            lock_sleep(&h->lock_word, token);
        }
        goto held;
    out:
        gate_leave(); /* the forker waits for the gate to empty */
    }
held:
    atomic_store_explicit(&h->lock_owner, token, memory_order_relaxed);
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
        lock_wake(&h->lock_word, 1);
    gate_leave();
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
        wake_sleepers(); /* those inside, asleep on a lock, step out */
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
    for (unsigned s = 0; s < SLEEP_SLOTS; s++)
        atomic_store(&sleepers[s], 0); /* the sleepers were other threads */
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

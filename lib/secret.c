/*
 * secret.c - the secrets that key a heap's metadata (issue 9).
 *
 * Two levels.  The process's secret, mem_secret, lives in the library's
 * static storage, in no region: an object's overflow cannot reach it.  It is
 * drawn once, before the first heap, from getrandom(); where that fails
 * (an old kernel, a seccomp filter), from the kernel's AT_RANDOM bytes mixed
 * with the clock and addresses.  Each heap draws its own secret at creation
 * (MEM_KEYS words, getrandom again): the control structure keeps it XOR-ed
 * with the first MEM_KEYS words of the process's secret, so the bytes of a
 * control structure that an overflow could read reveal nothing, and bytes it
 * could write change the key: every header then fails its tag and the heap
 * refuses everything, which is caught, not trusted.  The next words of the
 * process's secret key the heaps' seals (mem_internal.h).
 *
 * A child of fork() keeps its parent's secrets; the metadata stays valid.
 */
#include "mem_internal.h"

#include <sched.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <time.h>

unsigned long long mem_secret[MEM_SECRETS];
/* Static TLS (initial-exec): one load from the thread pointer on the fast
 * paths.  A library loaded by dlopen takes it from glibc's reserve of
 * static TLS, which these 16 bytes fit. */
_Thread_local MemHot mem_hot __attribute__((tls_model("initial-exec")));
static atomic_int secret_state; /* 0: not drawn, 1: being drawn, 2: ready */

/* splitmix64's finaliser: spreads what little entropy a fallback has. */
static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* Fills v[0, n) from the OS; where getrandom fails, from AT_RANDOM, the
 * clock, an address of this process and a counter, mixed with what is
 * already there (the process's secret, once drawn). */
MEM_NO_ASAN static void draw(unsigned long long *v, size_t n, uint64_t salt)
{
    size_t bytes = n * sizeof *v, got = 0;
    while (got < bytes) {
        ssize_t r = getrandom((unsigned char *)v + got, bytes - got, GRND_NONBLOCK);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (got == bytes)
        return;
    static atomic_uint_least64_t counter;
    const unsigned char *at_random = (const unsigned char *)getauxval(AT_RANDOM);
    uint64_t seed[2] = {0, 0};
    if (at_random)
        for (size_t i = 0; i < 16; i++)
            seed[i / 8] |= (uint64_t)at_random[i] << (8 * (i % 8));
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t z = seed[0] ^ mix(seed[1] ^ (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 32) ^
                 mix(salt ^ atomic_fetch_add(&counter, 1));
    for (size_t i = 0; i < n; i++)
        v[i] ^= mix(z += 0x9E3779B97F4A7C15u) ^ mem_secret[i % MEM_SECRETS];
}

MEM_NO_ASAN void mem_secret_init(void)
{
    if (atomic_load_explicit(&secret_state, memory_order_acquire) == 2)
        return;
    int expected = 0;
    if (atomic_compare_exchange_strong(&secret_state, &expected, 1)) {
        unsigned long long s[MEM_SECRETS] = {0};
        draw(s, MEM_SECRETS, (uintptr_t)&secret_state);
        for (unsigned i = 0; i < MEM_SECRETS; i++)
            mem_secret[i] = s[i];
        mem_secret[MEM_KEYS + 1u] |= 1u; /* the seal's multiplier is odd */
        atomic_store_explicit(&secret_state, 2, memory_order_release);
        return;
    }
    while (atomic_load_explicit(&secret_state, memory_order_acquire) != 2)
        sched_yield();
}

/* Drawn when the library is loaded, so that no heap's creation waits for it
 * (mem_heap_init calls mem_secret_init too, for heaps created by other
 * constructors that run first). */
__attribute__((constructor)) static void secret_at_load(void) { mem_secret_init(); }

MEM_NO_ASAN void mem_key_draw(MemHeap *h)
{
    unsigned long long k[MEM_KEYS] = {0};
    draw(k, MEM_KEYS, (uintptr_t)h);
    k[K_TAG1] |= 1u; /* the multipliers are odd: no bit of the input is lost */
    k[K_LINK1] |= 1u;
    k[K_RUN1] |= 1u;
    for (unsigned i = 0; i < MEM_KEYS; i++)
        h->key[i] = k[i] ^ mem_secret[i];
}

/* The observer's keyed copy: a hash of the heap's address, the function and
 * its argument under the heap's key.  Stored beside them; a store that
 * changes either pointer without the key is caught before the call. */
MEM_NO_ASAN uint64_t mem_observer_seal(const MemHeap *h, MemObserver observer, const void *arg)
{
    uint64_t k = mem_key(h, K_OBSERVER);
    uint64_t fn;
    _Static_assert(sizeof observer <= sizeof fn, "a function pointer fits 64 bits");
    fn = 0;
    memcpy(&fn, &observer, sizeof observer);
    uint64_t x = (fn ^ k) * (k | 1u);
    x = (x ^ x >> 29 ^ (uintptr_t)arg) * 0x9E3779B97F4A7C15u;
    return (x ^ x >> 32 ^ (uintptr_t)h) * (k >> 1 | 1u);
}

/*
 * threads.c - 8 threads allocate, hand objects to each other and free what
 * others allocated, through a shared mailbox.  Every object carries its
 * maker and sequence number in its bytes; whoever frees it checks them.
 * The output depends on no interleaving: the counts and a checksum over
 * what was made.  Used by tests/e2e_malloc.sh (under glibc and libmem).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 8
#define PER_THREAD 40000
#define SLOTS 1024

static void *_Atomic mailbox[SLOTS];
static _Atomic unsigned long bad, freed_by_other, made_total;
static _Atomic unsigned long long checksum;

typedef struct Hdr {
    uint32_t maker, seq, size, pad;
} Hdr;

static size_t size_of(unsigned maker, unsigned seq)
{
    uint32_t x = maker * 2654435761u ^ seq * 40503u;
    x ^= x >> 13;
    return sizeof(Hdr) + x % (seq % 97 == 0 ? 20000u : 300u);
}

static void check_and_free(void *p, unsigned me)
{
    Hdr h;
    memcpy(&h, p, sizeof h);
    const unsigned char *b = (const unsigned char *)p + sizeof h;
    for (size_t i = 0; i + sizeof h < h.size; i++)
        if (b[i] != (unsigned char)(h.maker + h.seq + i)) {
            bad++;
            break;
        }
    if (h.maker != me)
        freed_by_other++;
    free(p);
}

static void *work(void *arg)
{
    unsigned me = (unsigned)(uintptr_t)arg;
    unsigned long long sum = 0;
    for (unsigned seq = 0; seq < PER_THREAD; seq++) {
        size_t size = size_of(me, seq);
        unsigned char *p = seq % 5 == 0 ? calloc(1, size) : malloc(size);
        if (!p) {
            bad++;
            continue;
        }
        if (seq % 7 == 0) { /* grow and shrink through realloc */
            unsigned char *q = realloc(p, size * 2);
            if (q)
                p = q;
            q = realloc(p, size);
            if (q)
                p = q;
        }
        Hdr h = {me, seq, (uint32_t)size, 0};
        memcpy(p, &h, sizeof h);
        for (size_t i = 0; i + sizeof h < size; i++)
            p[sizeof h + i] = (unsigned char)(me + seq + i);
        sum += size;
        unsigned slot = (me * 7919u + seq * 104729u) % SLOTS;
        void *old = atomic_exchange(&mailbox[slot], p);
        if (old)
            check_and_free(old, me);
    }
    checksum += sum;
    made_total += PER_THREAD;
    return NULL;
}

int main(void)
{
    pthread_t t[THREADS];
    for (unsigned i = 0; i < THREADS; i++)
        if (pthread_create(&t[i], NULL, work, (void *)(uintptr_t)(i + 1))) {
            puts("pthread_create failed");
            return 1;
        }
    for (unsigned i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (unsigned i = 0; i < SLOTS; i++)
        if (mailbox[i])
            check_and_free(mailbox[i], 0);
    printf("threads %d, objects %lu, bytes %llu, damaged %lu, freed by another thread: %s\n",
           THREADS, (unsigned long)made_total, (unsigned long long)checksum,
           (unsigned long)bad, freed_by_other > 1000 ? "many" : "few");
    return bad != 0;
}

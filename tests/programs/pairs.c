/*
 * pairs.c - the cost of one malloc and free: N pairs of small objects (16 to
 * 79 bytes, the sizes C++ temporaries and strings have), each freed at once,
 * so the heap never holds more than one; and the same with 64 objects held
 * (a short queue).  Prints the checksum of what was written, which depends
 * on no allocator.  bench/programs.sh times it under each allocator.
 *
 *   pairs [N]    (default 10^7)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 10000000L;
    unsigned long long sum = 0;
    for (long i = 0; i < n; i++) {
        size_t size = 16u + (size_t)(i & 63);
        unsigned char *p = malloc(size);
        if (!p)
            return 1;
        p[0] = (unsigned char)i;
        p[size - 1] = (unsigned char)(i >> 8);
        sum += p[0] + p[size - 1];
        free(p);
    }
    void *q[64] = {0};
    for (long i = 0; i < n; i++) {
        unsigned k = (unsigned)i & 63u;
        free(q[k]);
        size_t size = 16u + (size_t)((i * 7) & 127);
        unsigned char *p = malloc(size);
        if (!p)
            return 1;
        memset(p, (int)(i & 255), size);
        sum += p[size / 2];
        q[k] = p;
    }
    for (unsigned k = 0; k < 64; k++)
        free(q[k]);
    printf("pairs %ld checksum %llu\n", n, sum);
    return 0;
}

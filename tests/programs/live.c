/*
 * live.c - a program for heapviz's live mode (tests/e2e_live.sh): holds
 * `n` objects of 100 bytes, waits, frees all but 10, waits, and exits with
 * status 3; with "churn [COUNT]" it frees and allocates COUNT times (0 or
 * none: until killed), then prints the seconds that took (wall and CPU) and
 * exits 0.
 * Prints what it did, so that its output file can be checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
    long wait = argc > 2 ? atol(argv[2]) : 400;
    int churn = argc > 3 && strcmp(argv[3], "churn") == 0;
    unsigned long count = argc > 4 ? strtoul(argv[4], NULL, 10) : 0;
    char **keep = calloc(n, sizeof *keep);
    if (!keep)
        return 1;
    for (size_t i = 0; i < n; i++) {
        keep[i] = malloc(100);
        if (!keep[i])
            return 1;
        memset(keep[i], (int)i, 100);
    }
    printf("holding %zu objects\n", n);
    fflush(stdout);
    unsigned s = 1;
    struct timespec t0, t1, c0, c1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    for (unsigned long done = 0; churn && (!count || done < count); done++) {
        s = s * 1103515245u + 12345u;
        size_t k = (s >> 8) % n;
        free(keep[k]);
        keep[k] = malloc(1 + (s >> 16) % 300);
        if (!keep[k])
            return 1;
    }
    if (churn) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
        printf("churn %lu: %.3f s wall, %.3f s cpu\n", count,
               (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
               (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9);
        return 0;
    }
    nap_ms(wait);
    for (size_t i = 10; i < n; i++)
        free(keep[i]);
    printf("freed %zu\n", n - 10);
    fflush(stdout);
    nap_ms(wait);
    return 3;
}

/*
 * bench.h - what the benchmark harness (bench.c) and its malloc runners
 * (mallocrun.c) share: the prepared operations of a trace, the file that
 * carries them to a runner, the scaling measure's sizes, and the runners'
 * commands.
 *
 * Each malloc the harness compares with (glibc, jemalloc, mimalloc,
 * tcmalloc) runs in a runner process of its own: the same mallocrun.c
 * linked against that allocator, so that its malloc and free are the ones a
 * program linked with it gets.  (Loading them with dlopen would not: a
 * library opened that way does not replace malloc, only jemalloc and
 * mimalloc export their functions under other names, and their
 * initial-exec thread-local storage cannot always be opened late.)  The
 * harness times libmem in its own process and asks the runners for their
 * timings in turn, so a slow spell of the shared machine hits all alike.
 *
 * Commands, one line each on the runner's standard input; one line back:
 *   T trace times    replays trace (index in the ops file) `times` times,
 *                    each from an empty heap: "<seconds>" (the sum)
 *   S n seed         the scaling measure (see bench.c) with about n live
 *                    objects: "<alloc ns> <free ns> <usable_size ns>"
 *   Q                quit
 * and, in a fresh runner each (so its heap holds nothing else):
 *   mallocrun --peak FILE TRACE   glibc: the high-water mark of the heap
 *   mallocrun --capacity          glibc: 16-byte objects in 1 MiB of heap
 */
#ifndef BENCH_H
#define BENCH_H

#include <stddef.h>
#include <stdint.h>

typedef struct BOp {
    uint32_t id;
    uint32_t kind;      /* OpKind */
    size_t size;        /* ALLOC/REALLOC: bytes (0 made as 1) */
    size_t at;          /* FREE: random byte inside the object */
} BOp;

/* The ops file: uint64 ntraces, then per trace uint64 nops, uint64 nids,
 * and nops BOps. */
typedef struct BTrace {
    const BOp *ops;
    size_t nops;
    uint32_t nids;
} BTrace;

/* The sizes of the scaling measure: 16..128 bytes from a 64-bit generator
 * (splitmix64) seeded by the harness. */
static inline uint64_t bench_rnd(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

#define SCALE_MIN 16u
#define SCALE_SPAN 113u

/* The throughput samples are timed in the calling thread's CPU time, so
 * the time the shared machine's other jobs hold the CPU is not counted
 * (wall-clock samples of 20 ms varied by 3x on a load of 10; the scaling
 * rounds, a few microseconds each, keep the wall clock: a CPU-clock read
 * is a system call). */
#include <time.h>
static inline double bench_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif

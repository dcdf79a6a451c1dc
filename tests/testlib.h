/* testlib.h - helpers shared by the Criterion suites. */
#ifndef TESTLIB_H
#define TESTLIB_H

#include "mem.h"

#include <stddef.h>
#include <stdint.h>

/* TEST_ASAN is 1 in builds with AddressSanitizer (gcc or clang). */
#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifndef TEST_ASAN
#define TEST_ASAN 0
#endif
#if TEST_ASAN
#include <sanitizer/asan_interface.h>
#endif

/* A heap over a fresh private mapping of about `size` bytes of arena. */
MemHeap *th_heap(MemPolicy policy, size_t arena, unsigned flags);
/* The same with MemHeap_CreateEx's options. */
MemHeap *th_heap_ex(const MemOptions *options, size_t arena);

/* The heap as a string of blocks in address order, "U32 F96 U64": U for used,
 * F for free, then the block's size in bytes; a run is R, its size, and its
 * live and total slots: "R1088:3/64".  Returns a static buffer. */
const char *th_layout(const MemHeap *heap);

/* The free blocks in the policy's order, "+0x8:32 +0x48:96". */
const char *th_free_order(const MemHeap *heap);

/* Bytes of the first free block (the one a fresh heap starts with). */
size_t th_first_free(const MemHeap *heap);

/* Lets a test write into the heap's metadata on purpose: under
 * AddressSanitizer the library keeps everything but live objects poisoned. */
void th_expose(const MemHeap *heap);

/* An observer that keeps the first 64 events: MemHeap_SetObserver(h,
 * th_record, &log) with a zeroed ThLog. */
typedef struct ThLog {
    MemEvent ev[64];
    size_t n;
} ThLog;
void th_record(const MemEvent *event, void *log);

/* How many times the library called mmap (counted through --wrap=mmap). */
extern unsigned th_mmap_calls;

/* The next th_mmap_fail calls of mmap by the library fail with ENOMEM. */
extern unsigned th_mmap_fail;

/* A small deterministic generator (xorshift64*). */
typedef struct { uint64_t s; } ThRng;
uint64_t th_rand(ThRng *r);
uint64_t th_below(ThRng *r, uint64_t n);

/* n scaled by $TEST_SCALE percent (default 100; at least 1), so slow runs
 * (valgrind) can take a share of a random test's operations. */
size_t th_scaled(size_t n);

/* The seed for random tests: $SEED if set, else `fallback`. */
uint64_t th_seed(uint64_t fallback);

/* Asserts MemHeap_Check with the checker's sentence in the message. */
#define th_check(h, ...)                                                                   \
    do {                                                                                   \
        char why_[256];                                                                    \
        int n_ = MemHeap_Diagnose((h), why_, sizeof why_);                                 \
        cr_assert_eq(n_, 0, "invariant broken: %s", why_);                                 \
    } while (0)

#endif

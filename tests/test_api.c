/* test_api.c - the classic Mem_* API, sentence by sentence of its contract. */
#include "testlib.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static int global_object;

Test(init, rejects_zero_and_negative_sizes_then_allows_a_corrected_call)
{
    errno = 0;
    cr_assert_eq(Mem_Init(0), -1);
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_eq(Mem_Init(-4096), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(Mem_Init(INT_MIN), -1);
    cr_assert_eq(th_mmap_calls, 0, "no mmap for a rejected size");
    cr_assert_eq(Mem_Init(4096), 0);
}

Test(init, second_call_fails_with_ebusy)
{
    cr_assert_eq(Mem_Init(8192), 0);
    errno = 0;
    cr_assert_eq(Mem_Init(8192), -1);
    cr_assert_eq(errno, EBUSY);
    cr_assert_eq(Mem_Init(1), -1);
    cr_assert_eq(th_mmap_calls, 1);
}

Test(init, calls_mmap_exactly_once_for_the_life_of_the_process)
{
    cr_assert_eq(Mem_Init(1 << 20), 0);
    void *p[256];
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 256; i++)
            p[i] = Mem_Alloc(1 + (i * 37 + round) % 3000);
        for (int i = 0; i < 256; i++)
            Mem_Free(p[i]);
    }
    Mem_Init(1 << 20);
    cr_assert_eq(th_mmap_calls, 1, "mmap was called %u times", th_mmap_calls);
}

Test(init, rounds_the_region_up_to_the_page_size)
{
    cr_assert_eq(Mem_Init(1), 0);
    MemRegion r = MemHeap_Region(Mem_DefaultHeap());
    cr_assert_eq(r.size, 4096);
    cr_assert_eq((uintptr_t)r.base % 4096, 0);
    cr_assert_eq(r.control, 0, "the default heap keeps its control structure outside");
}

Test(init, unknown_policy_in_the_environment_fails)
{
    setenv("MEM_POLICY", "fastest", 1);
    errno = 0;
    cr_assert_eq(Mem_Init(4096), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(th_mmap_calls, 0);
    setenv("MEM_POLICY", "best", 1);
    cr_assert_eq(Mem_Init(4096), 0);
    cr_assert_eq(MemHeap_Stats(Mem_DefaultHeap()).policy, MEM_BEST_FIT);
}

Test(init, every_policy_name_is_accepted)
{
    for (int i = 0; i < MEM_POLICY_COUNT; i++) {
        MemPolicy p;
        cr_assert_eq(MemPolicy_Parse(MemPolicy_Name((MemPolicy)i), &p), 0);
        cr_assert_eq(p, (MemPolicy)i);
    }
    MemPolicy p = MEM_FIRST_FIT;
    cr_assert_eq(MemPolicy_Parse("FIRST", &p), -1);
    cr_assert_eq(MemPolicy_Parse("", &p), -1);
    cr_assert_eq(MemPolicy_Parse(NULL, &p), -1);
    cr_assert_eq(p, MEM_FIRST_FIT);
    cr_assert_str_eq(MemPolicy_Name((MemPolicy)99), "?");
}

Test(init, default_policy_is_fast)
{
    unsetenv("MEM_POLICY");
    cr_assert_eq(Mem_Init(4096), 0);
    cr_assert_eq(MemHeap_Stats(Mem_DefaultHeap()).policy, MEM_FAST);
}

Test(overhead, one_page_heap_holds_a_4048_byte_object)
{
    cr_assert_eq(Mem_Init(4096), 0);
    char *p = Mem_Alloc(4048);
    cr_assert_not_null(p, "a one-page heap must lose at most 48 bytes to metadata");
    memset(p, 0x5a, 4048);
    cr_assert_eq(Mem_GetSize(p), 4048);
    cr_assert_eq(Mem_Check(), 0);
    cr_assert_null(Mem_Alloc(1), "the page is full");
    cr_assert_eq(Mem_Free(p + 4047), 0);
    cr_assert_null(Mem_Alloc(4057), "the one block holds 4056 bytes at most");
    cr_assert_not_null(Mem_Alloc(4056));
}

Test(overhead, sixteen_bytes_of_metadata_per_block_at_most)
{
    /* Fill a 1 MiB heap with the smallest objects: every block costs its
     * 8-byte header plus its share of the bitmap, under 16 bytes. */
    cr_assert_eq(Mem_Init(1 << 20), 0);
    size_t n = 0;
    while (Mem_Alloc(24))
        n++;
    MemStats s = MemHeap_Stats(Mem_DefaultHeap());
    cr_assert_eq(s.used_blocks, n);
    double per_block = (double)s.metadata_bytes / (double)n;
    cr_assert_leq(per_block, 16.0, "metadata per block %.2f", per_block);
    /* They are slots of runs: a run's header and table, not 8 bytes each. */
    cr_assert_gt(s.runs, 0);
    cr_assert_lt(s.header_bytes, 2 * n, "run tables: %zu bytes for %zu objects", s.header_bytes,
                 n);
    cr_assert_eq(s.used_bytes, s.live_bytes + s.header_bytes + s.padding_bytes + s.run_free_bytes);
}

Test(overhead, a_mebibyte_holds_sixty_thousand_sixteen_byte_objects)
{
    /* Runs keep a 16-byte object in 16 bytes plus a share of its run's
     * table (a byte of size, a bit of bitmap); a block would take 32. */
    cr_assert_eq(Mem_Init(1 << 20), 0);
    size_t n = 0;
    while (Mem_Alloc(16))
        n++;
    cr_assert_geq(n, 60000, "a 1 MiB heap holds %zu objects of 16 bytes", n);
    cr_assert_eq(Mem_Check(), 0);
}

Test(alloc, fails_before_init_and_for_bad_sizes)
{
    cr_assert_null(Mem_Alloc(16));
    cr_assert_eq(Mem_Free(&global_object), -1);
    cr_assert_eq(Mem_IsValid(&global_object), 0);
    cr_assert_eq(Mem_GetSize(&global_object), -1);
    cr_assert_eq(Mem_Check(), -1);
    cr_assert_eq(Mem_Init(4096), 0);
    cr_assert_null(Mem_Alloc(0));
    cr_assert_null(Mem_Alloc(-1));
    cr_assert_null(Mem_Alloc(INT_MIN));
    MemStats s = MemHeap_Stats(Mem_DefaultHeap());
    cr_assert_eq(s.allocs + s.failed_allocs, 0, "invalid sizes are not operations");
}

Test(alloc, every_object_is_aligned_to_16_bytes)
{
    cr_assert_eq(Mem_Init(1 << 20), 0);
    for (int size = 1; size <= 600; size++) {
        char *p = Mem_Alloc(size);
        cr_assert_not_null(p);
        cr_assert_eq((uintptr_t)p % MEM_ALIGNMENT, 0, "size %d gave %p", size, (void *)p);
        memset(p, 0xee, (size_t)size);
        if (size % 3 == 0)
            Mem_Free(p);
    }
    cr_assert_eq(Mem_Check(), 0);
}

Test(alloc, no_fit_returns_null_and_leaves_the_heap_exactly_as_before)
{
    cr_assert_eq(Mem_Init(16384), 0);
    void *a = Mem_Alloc(5000), *b = Mem_Alloc(5000);
    cr_assert_not_null(a);
    cr_assert_not_null(b);
    Mem_Free(a);
    char before[512];
    snprintf(before, sizeof before, "%s", th_layout(Mem_DefaultHeap()));
    MemStats s0 = MemHeap_Stats(Mem_DefaultHeap());
    cr_assert_null(Mem_Alloc(9000));
    cr_assert_str_eq(th_layout(Mem_DefaultHeap()), before);
    MemStats s1 = MemHeap_Stats(Mem_DefaultHeap());
    cr_assert_eq(s1.failed_allocs, s0.failed_allocs + 1);
    cr_assert_eq(s1.free_bytes, s0.free_bytes);
    cr_assert_eq(s1.live_bytes, s0.live_bytes);
    cr_assert_eq(Mem_Check(), 0);
}

Test(free, the_specification_example_frees_through_p_plus_30)
{
    cr_assert_eq(Mem_Init(4096), 0);
    int *p = Mem_Alloc(50 * sizeof(int));
    cr_assert_not_null(p);
    cr_assert_eq(Mem_GetSize(p + 30), (int)(50 * sizeof(int)));
    cr_assert_eq(Mem_Free(p + 30), 0);
    cr_assert_eq(Mem_IsValid(p), 0);
    cr_assert_eq(Mem_Free(p), -1, "already freed");
    cr_assert_eq(MemHeap_Stats(Mem_DefaultHeap()).used_blocks, 0);
}

Test(free, any_byte_of_the_object_frees_it)
{
    cr_assert_eq(Mem_Init(65536), 0);
    for (int size = 1; size < 200; size += 7) {
        for (int at = 0; at < size; at += 5) {
            char *p = Mem_Alloc(size);
            cr_assert_not_null(p);
            cr_assert_eq(Mem_Free(p + at), 0, "size %d, byte %d", size, at);
            cr_assert_eq(Mem_Check(), 0);
        }
    }
    cr_assert_eq(MemHeap_Stats(Mem_DefaultHeap()).used_blocks, 0);
}

Test(free, null_does_nothing_and_returns_zero)
{
    cr_assert_eq(Mem_Free(NULL), 0);
    cr_assert_eq(Mem_Init(4096), 0);
    cr_assert_eq(Mem_Free(NULL), 0);
    MemStats s = MemHeap_Stats(Mem_DefaultHeap());
    cr_assert_eq(s.ops, 0);
}

/* Every pointer that is not inside a live object is refused, and the heap
 * does not change. */
static void expect_rejected(void *ptr, const char *what)
{
    char before[4096];
    snprintf(before, sizeof before, "%s", th_layout(Mem_DefaultHeap()));
    MemStats s0 = MemHeap_Stats(Mem_DefaultHeap());
    cr_assert_eq(Mem_Free(ptr), -1, "free of %s", what);
    cr_assert_eq(Mem_IsValid(ptr), 0, "valid: %s", what);
    cr_assert_eq(Mem_GetSize(ptr), -1, "size: %s", what);
    cr_assert_str_eq(th_layout(Mem_DefaultHeap()), before, "%s changed the heap", what);
    MemStats s1 = MemHeap_Stats(Mem_DefaultHeap());
    cr_assert_eq(s1.rejected_frees, s0.rejected_frees + 1);
    cr_assert_eq(s1.live_bytes, s0.live_bytes);
    cr_assert_eq(Mem_Check(), 0);
}

Test(free, rejects_every_pointer_outside_a_live_object)
{
    cr_assert_eq(Mem_Init(8192), 0);
    char *a = Mem_Alloc(100); /* block of 112: object 100, padding 4 */
    char *b = Mem_Alloc(40);
    char *c = Mem_Alloc(1);
    cr_assert(a && b && c);
    Mem_Free(b);
    MemRegion r = MemHeap_Region(Mem_DefaultHeap());
    int local = 0;
    void *other = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    expect_rejected(&local, "a stack address");
    expect_rejected(&global_object, "a global");
    expect_rejected(other, "another mapping");
    expect_rejected((char *)r.base - 1, "the byte before the region");
    expect_rejected((char *)r.base + r.size, "the byte after the region");
    expect_rejected((char *)r.base + r.size - 1, "the region's last byte (bitmap)");
    expect_rejected(r.base, "the region's first byte (bitmap)");
    expect_rejected(a - 1, "the last byte of a header");
    expect_rejected(a - 8, "the first byte of a header");
    expect_rejected(a + 100, "the padding just past an object");
    expect_rejected(a + 103, "the last byte of padding");
    expect_rejected(b, "a freed object");
    expect_rejected(b + 20, "inside a freed object");
    expect_rejected(c + 1, "one past a 1-byte object");
    expect_rejected((void *)1, "address 1");
    expect_rejected((void *)UINTPTR_MAX, "the highest address");
    expect_rejected(c + 4000, "the free space at the end");
    munmap(other, 4096);

    cr_assert_eq(Mem_Free(a + 99), 0);
    cr_assert_eq(Mem_Free(c), 0);
    cr_assert_eq(Mem_Free(c), -1, "double free");
}

Test(valid, answers_for_any_pointer_value)
{
    cr_assert_eq(Mem_Init(4096), 0);
    char *p = Mem_Alloc(33);
    cr_assert_eq(Mem_IsValid(NULL), 0);
    cr_assert_eq(Mem_IsValid(p), 1);
    cr_assert_eq(Mem_IsValid(p + 32), 1);
    cr_assert_eq(Mem_IsValid(p + 33), 0);
    cr_assert_eq(Mem_IsValid(p + 1), 1, "unaligned interior pointers are inside");
    for (uintptr_t v = 1; v; v <<= 1)
        cr_assert_eq(Mem_IsValid((void *)v), 0);
    cr_assert_eq(Mem_GetSize(p + 17), 33);
    cr_assert_eq(Mem_GetSize(NULL), -1);
}

Test(check, holds_after_mixed_operations)
{
    cr_assert_eq(Mem_Init(1 << 16), 0);
    void *keep[64] = {0};
    for (int i = 0; i < 2000; i++) {
        int k = (i * 7919) % 64;
        if (keep[k]) {
            cr_assert_eq(Mem_Free((char *)keep[k] + (i % 3)), 0);
            keep[k] = NULL;
        } else {
            keep[k] = Mem_Alloc(3 + (i * 31) % 700);
        }
        th_check(Mem_DefaultHeap());
    }
}

Test(large, a_one_gib_region_works)
{
    cr_assert_eq(Mem_Init(1 << 30), 0);
    MemStats s = MemHeap_Stats(Mem_DefaultHeap());
    cr_assert_eq(s.capacity, (size_t)1 << 30);
    cr_assert_lt(s.table_bytes, (size_t)9 << 20, "bitmap ~1/128 of the region");
    int big = (int)(s.largest_request);
    char *p = Mem_Alloc(big);
    cr_assert_not_null(p);
    p[0] = 1;
    p[big - 1] = 2;
    cr_assert_eq(Mem_GetSize(p + big / 2), big);
    cr_assert_eq(Mem_Free(p + big - 1), 0);
    void *q[1000];
    for (int i = 0; i < 1000; i++)
        cr_assert_not_null(q[i] = Mem_Alloc(1 << 19));
    for (int i = 0; i < 1000; i += 2)
        cr_assert_eq(Mem_Free((char *)q[i] + 12345), 0);
    cr_assert_eq(Mem_Check(), 0);
    for (int i = 1; i < 1000; i += 2)
        cr_assert_eq(Mem_Free(q[i]), 0);
    cr_assert_not_null(Mem_Alloc(big), "after freeing everything the region is whole");
}

Test(library, imports_no_malloc_family_sbrk_or_brk)
{
    const char *out = getenv("OUT");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "nm -D --undefined-only %s/lib/libmem.so", out ? out : ".");
    FILE *f = popen(cmd, "r");
    cr_assert_not_null(f);
    char line[256];
    int imports = 0;
    static const char *const banned[] = {"malloc", "calloc", "realloc", "free", "sbrk", "brk",
                                         "posix_memalign", "aligned_alloc", "memalign",
                                         "valloc", "pvalloc", "reallocarray"};
    while (fgets(line, sizeof line, f)) {
        char sym[200];
        if (sscanf(line, " U %199[^@\n]", sym) != 1)
            continue;
        imports++;
        for (size_t i = 0; i < sizeof banned / sizeof banned[0]; i++)
            cr_assert_str_neq(sym, banned[i], "libmem.so imports %s", sym);
        cr_assert_str_neq(sym, "mmap64", "only mmap");
    }
    cr_assert_eq(pclose(f), 0, "nm failed: %s", cmd);
    cr_assert_gt(imports, 0, "nm listed no imports at all");
}

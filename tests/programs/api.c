/*
 * api.c - the allocator's contract, checked from inside a program run with
 * lib/libmem-malloc.so preloaded (tests/e2e_malloc.sh).  Prints one line
 * per check, "ok ..." or "FAIL ...", and exits 1 if any failed.
 *   api            the checks below
 *   api badfree    frees a pointer into the middle of an object
 *   api doublefree frees an object twice
 *   api huge       malloc(SIZE_MAX / 2) and a request past MEM_SIZE
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failed;

static void check(int cond, const char *what)
{
    printf("%s %s\n", cond ? "ok" : "FAIL", what);
    failed |= !cond;
}

static int aligned_to(const void *p, size_t a) { return p && (uintptr_t)p % a == 0; }

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "badfree") == 0) {
        char *p = malloc(64);
        free(p + 16);
        puts("survived");
        return 0;
    }
    if (strcmp(mode, "doublefree") == 0) {
        char *p = malloc(64);
        free(p);
        free(p);
        puts("survived");
        return 0;
    }
    if (strcmp(mode, "huge") == 0) {
        errno = 0;
        void *p = malloc(SIZE_MAX / 2);
        check(p == NULL && errno == ENOMEM, "malloc(SIZE_MAX / 2) is NULL with ENOMEM");
        errno = 0;
        p = malloc((size_t)64 << 20);
        check(p == NULL && errno == ENOMEM, "malloc(64 MiB) past MEM_SIZE is NULL with ENOMEM");
        errno = 0;
        p = calloc(SIZE_MAX / 8, 16);
        check(p == NULL && errno == ENOMEM, "calloc overflow is NULL with ENOMEM");
        char *q = malloc(100);
        check(q != NULL, "the heap still works after failures");
        errno = 0;
        check(realloc(q, (size_t)64 << 20) == NULL && errno == ENOMEM,
              "realloc past MEM_SIZE is NULL with ENOMEM, the old object kept");
        q[99] = 1;
        free(q);
        return failed;
    }

    /* first, while the heap's end is one free block: b is right after a
     * (objects above 1 KiB: blocks, not slots of runs) */
    char *a = malloc(2000), *b = malloc(2000);
    for (size_t al = 32; al <= ((size_t)1 << 20); al *= 4) {
        void *p = NULL;
        char what[80];
        snprintf(what, sizeof what, "posix_memalign(%zu)", al);
        check(posix_memalign(&p, al, 100) == 0 && aligned_to(p, al), what);
        memset(p, 1, 100);
        free(p);
    }
    void *p = NULL;
    check(posix_memalign(&p, 24, 8) == EINVAL, "posix_memalign(24) is EINVAL");
    p = aligned_alloc(4096, 5000);
    check(aligned_to(p, 4096), "aligned_alloc(4096)");
    free(p);
    p = memalign(48, 10); /* rounded up to 64, as glibc does */
    check(aligned_to(p, 64), "memalign(48) aligns to 64");
    free(p);
    long page = sysconf(_SC_PAGESIZE);
    p = valloc(10);
    check(aligned_to(p, (size_t)page), "valloc is page aligned");
    free(p);
    p = pvalloc(10);
    check(aligned_to(p, (size_t)page) && malloc_usable_size(p) >= (size_t)page,
          "pvalloc rounds up to a page");
    free(p);

    check(malloc_usable_size(a) >= 2000, "malloc_usable_size >= the request");
    check(malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL) is 0");
    memset(a, 7, 2000);
    free(b); /* before a's realloc: the free block after a is b's and more */
    char *c = realloc(a, 3000);
    check(c == a, "realloc grows in place into a free neighbour");
    check(c[0] == 7 && c[1999] == 7, "realloc keeps the bytes");
    char *d = realloc(c, 1500);
    check(d == c, "realloc shrinks in place");
    char *s = malloc(100), *s2 = realloc(s, 110);
    check(s2 == s, "realloc of a small object within its run slot's class stays");
    char *e = malloc(0);
    check(e != NULL, "malloc(0) is a unique pointer");
    free(e);
    check(realloc(d, 0) == NULL, "realloc(p, 0) frees and returns NULL");
    int *z = calloc(1000, sizeof *z);
    int zero = 1;
    for (int i = 0; i < 1000; i++)
        zero &= z[i] == 0;
    check(zero, "calloc zeroes");
    free(z);
    check(reallocarray(NULL, SIZE_MAX / 2, 4) == NULL && errno == ENOMEM,
          "reallocarray overflow is ENOMEM");
    void *big = malloc((size_t)8 << 20);
    memset(big, 3, (size_t)8 << 20);
    free(big);
    void *big2 = calloc(1, (size_t)8 << 20);
    check(big2 && ((char *)big2)[4 << 20] == 0, "calloc after a large free is zero");
    free(big2);
    free(NULL);
    return failed;
}

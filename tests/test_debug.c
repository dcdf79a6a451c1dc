/* test_debug.c - linked against a library built with MEM_DEBUG=2, which runs
 * the invariant checker at the entry and exit of every operation. */
#include "testlib.h"
#include "mem_internal.h"

#include <criterion/criterion.h>
#include <signal.h>

static _Alignas(16) unsigned char region[1 << 14];

Test(debug, operations_on_a_sound_heap_pass_every_check)
{
    MemHeap *h = MemHeap_Create(region, sizeof region, MEM_BEST_FIT, 0);
    void *o[20];
    for (int i = 0; i < 20; i++)
        cr_assert_not_null(o[i] = MemHeap_Alloc(h, (size_t)(10 + i * 9)));
    for (int i = 0; i < 20; i += 2)
        cr_assert_eq(MemHeap_Free(h, o[i]), 0);
    cr_assert_eq(MemHeap_Check(h), 0);
}

Test(debug, a_corrupted_heap_stops_the_next_operation, .signal = SIGABRT)
{
    MemHeap *h = MemHeap_Create(region, sizeof region, MEM_FAST, 0);
    char *a = MemHeap_Alloc(h, 100);
    MemHeap_Alloc(h, 100);
    th_expose(h);
    ((BlockHeader *)(void *)(a - 8))->size += 2; /* a stray store over a header */
    MemHeap_Alloc(h, 10); /* the entry check aborts */
}

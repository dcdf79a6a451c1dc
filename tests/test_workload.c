/* test_workload.c - generated workloads (determinism and shape) and the
 * player's semantics, then every workload on every policy with the checker
 * after each operation. */
#include "testlib.h"
#include "workload.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define NGEN WL_TRACE /* the generated kinds come first */

/* th_check needs a message argument under -Wpedantic; this one does not. */
#define heap_ok(h)                                                                         \
    do {                                                                                   \
        char why_[256];                                                                    \
        int n_ = MemHeap_Diagnose((h), why_, sizeof why_);                                 \
        cr_assert_eq(n_, 0, "invariant broken: %s", why_);                                 \
    } while (0)

static const char *kname(unsigned k) { return Workload_Name((WorkloadKind)k); }

static Workload *make(unsigned k, uint64_t seed, size_t cap)
{
    Workload *w = Workload_Create((WorkloadKind)k, seed, cap, NULL);
    cr_assert_not_null(w, "%s", kname(k));
    return w;
}

static bool same_op(const Op *a, const Op *b)
{
    return a->kind == b->kind && a->id == b->id && a->size == b->size && a->at == b->at;
}

/* The generator's own view, rebuilt from its ops: ids live, oldest first. */
typedef struct Mirror {
    uint32_t order[1024];
    size_t size[1024];
    uint32_t n;
} Mirror;

static void mirror_apply(Mirror *m, const Op *op, uint32_t max_ids)
{
    cr_assert_lt(op->id, max_ids);
    uint32_t k = 0;
    while (k < m->n && m->order[k] != op->id)
        k++;
    if (op->kind == OP_ALLOC) {
        cr_assert_eq(k, m->n, "id %u allocated while live", op->id);
        cr_assert_gt(op->size, 0);
        m->order[m->n++] = op->id;
        m->size[op->id] = op->size;
        return;
    }
    cr_assert_lt(k, m->n, "id %u is not live", op->id);
    if (op->kind == OP_REALLOC) {
        m->size[op->id] = op->size;
        return;
    }
    cr_assert_lt(op->at, m->size[op->id], "interior offset past the object");
    memmove(&m->order[k], &m->order[k + 1], (m->n - k - 1) * sizeof m->order[0]);
    m->n--;
}

/* ---- names --------------------------------------------------------------- */

Test(workload, names_parse_back_and_have_descriptions)
{
    for (unsigned k = 0; k < WL_COUNT; k++) {
        WorkloadKind out = WL_COUNT;
        cr_assert_eq(Workload_Parse(Workload_Name((WorkloadKind)k), &out), 0);
        cr_assert_eq(out, k);
        cr_assert_gt(strlen(Workload_Describe((WorkloadKind)k)), 10);
    }
    WorkloadKind out = WL_STACK;
    cr_assert_eq(Workload_Parse("Random", &out), -1);
    cr_assert_eq(Workload_Parse(NULL, &out), -1);
    cr_assert_eq(out, WL_STACK);
    cr_assert_str_eq(Workload_Name(WL_COUNT), "?");
    cr_assert_null(Workload_Create(WL_TRACE, 1, 1 << 16, NULL));
    cr_assert_null(Workload_Create(WL_COUNT, 1, 1 << 16, NULL));
}

/* ---- determinism --------------------------------------------------------- */

Test(workload, same_seed_same_ops_other_seed_other_ops)
{
    for (unsigned k = 0; k < NGEN; k++) {
        Workload *a = make(k, 1234, 1 << 18), *b = make(k, 1234, 1 << 18);
        Workload *c = make(k, 1235, 1 << 18);
        size_t differ = 0;
        for (int i = 0; i < 5000; i++) {
            Op x, y, z;
            cr_assert(Workload_Next(a, &x));
            cr_assert(Workload_Next(b, &y));
            cr_assert(Workload_Next(c, &z));
            cr_assert(same_op(&x, &y), "%s diverged at op %d", kname(k), i);
            differ += !same_op(&x, &z);
        }
        cr_assert_gt(differ, 100, "%s: seeds 1234 and 1235 differ in %zu ops", kname(k), differ);
        Workload_Destroy(a);
        Workload_Destroy(b);
        Workload_Destroy(c);
    }
}

Test(workload, sizes_scale_with_the_capacity)
{
    for (unsigned k = 0; k < NGEN; k++) {
        double mean[2] = {0, 0};
        size_t cap[2] = {1 << 16, 1 << 20};
        for (int j = 0; j < 2; j++) {
            Workload *w = make(k, 99, cap[j]);
            size_t n = 0, sum = 0;
            for (int i = 0; i < 4000; i++) {
                Op op;
                Workload_Next(w, &op);
                if (op.kind == OP_FREE)
                    continue;
                cr_assert_leq(op.size, cap[j] / 4, "%s: %zu bytes", kname(k), op.size);
                cr_assert_geq(op.size, 16);
                sum += op.size, n++;
            }
            mean[j] = (double)sum / (double)n;
            /* Visible on a 100-column bar: a typical object spans a
             * noticeable part of a column, not a pixel. */
            cr_assert_gt(mean[j], (double)cap[j] / 1000, "%s: mean %.0f", kname(k), mean[j]);
            Workload_Destroy(w);
        }
        double ratio = mean[1] / mean[0];
        cr_assert(ratio > 8 && ratio < 32, "%s: 16x capacity gives %.1fx sizes", kname(k), ratio);
    }
}

/* ---- shapes -------------------------------------------------------------- */

Test(workload, ops_are_consistent_cycles_end_empty_and_some_frees_are_interior)
{
    for (unsigned k = 0; k < NGEN; k++) {
        Workload *w = make(k, 5, 1 << 16);
        uint32_t max = Workload_MaxIds(w);
        Mirror *m = calloc(1, sizeof *m);
        size_t frees = 0, interior = 0, empties = 0;
        for (int i = 0; i < 20000; i++) {
            Op op;
            cr_assert(Workload_Next(w, &op), "generated workloads never end");
            mirror_apply(m, &op, max);
            if (op.kind == OP_FREE) {
                frees++;
                interior += op.at > 0;
                empties += m->n == 0;
            }
        }
        cr_assert_geq(empties, 5, "%s: only %zu cycles emptied the heap", kname(k), empties);
        cr_assert_gt(interior * 10, frees, "%s: %zu of %zu frees interior", kname(k), interior,
                     frees);
        cr_assert_lt(interior * 2, frees);
        free(m);
        Workload_Destroy(w);
    }
}

Test(workload, stack_frees_the_most_recent_object)
{
    Workload *w = make(WL_STACK, 11, 1 << 16);
    Mirror *m = calloc(1, sizeof *m);
    size_t frees = 0, max_depth = 0;
    for (int i = 0; i < 5000; i++) {
        Op op;
        Workload_Next(w, &op);
        cr_assert_neq(op.kind, OP_REALLOC);
        if (op.kind == OP_FREE) {
            cr_assert_eq(op.id, m->order[m->n - 1], "op %d frees %u, not the newest", i, op.id);
            frees++;
        }
        mirror_apply(m, &op, Workload_MaxIds(w));
        if (m->n > max_depth)
            max_depth = m->n;
    }
    cr_assert_gt(frees, 1500);
    cr_assert_gt(max_depth, 10);
    free(m);
    Workload_Destroy(w);
}

Test(workload, queue_frees_the_oldest_object)
{
    Workload *w = make(WL_QUEUE, 12, 1 << 16);
    Mirror *m = calloc(1, sizeof *m);
    size_t frees = 0, max_len = 0;
    for (int i = 0; i < 5000; i++) {
        Op op;
        Workload_Next(w, &op);
        cr_assert_neq(op.kind, OP_REALLOC);
        if (op.kind == OP_FREE) {
            cr_assert_eq(op.id, m->order[0], "op %d frees %u, not the oldest", i, op.id);
            frees++;
        }
        mirror_apply(m, &op, Workload_MaxIds(w));
        if (m->n > max_len)
            max_len = m->n;
    }
    cr_assert_gt(frees, 1500);
    cr_assert_gt(max_len, 10);
    free(m);
    Workload_Destroy(w);
}

Test(workload, phased_grows_churns_then_shrinks_to_empty)
{
    Workload *w = make(WL_PHASED, 13, 1 << 18);
    Mirror *m = calloc(1, sizeof *m);
    int i = 0, first_free = -1;
    Op op;
    /* grow: allocations only */
    for (; i < 5000; i++) {
        Workload_Next(w, &op);
        mirror_apply(m, &op, Workload_MaxIds(w));
        if (op.kind != OP_ALLOC) {
            first_free = i;
            break;
        }
    }
    cr_assert_gt(first_free, 30, "grow phase of %d allocations", first_free);
    uint32_t peak = m->n + 1;
    /* then, within the cycle, the heap empties by frees only at the end */
    int last_alloc = -1, empty_at = -1;
    for (; i < 5000 && empty_at < 0; i++) {
        Workload_Next(w, &op);
        mirror_apply(m, &op, Workload_MaxIds(w));
        if (op.kind != OP_FREE)
            last_alloc = i;
        if (m->n == 0)
            empty_at = i;
    }
    cr_assert_gt(empty_at, 0, "the cycle never ended");
    cr_assert_geq((uint32_t)(empty_at - last_alloc), peak / 2,
                  "the shrink phase frees at least half the peak in a row");
    /* and the next cycle grows again */
    Workload_Next(w, &op);
    cr_assert_eq(op.kind, OP_ALLOC);
    free(m);
    Workload_Destroy(w);
}

/* Runs the fragmenter on a fresh heap until its first failure; the failure
 * is a large request that exceeds every hole although the free bytes add up
 * to more than it.  Later in the cycle the same size succeeds on the
 * emptied heap. */
Test(workload, fragmenter_fails_large_requests_while_enough_is_free)
{
    /* not buddy: its power-of-two padding fills the heap before the fill
     * phase thinks it is full, so small requests fail first there */
    for (unsigned pol = 0; pol < MEM_BUDDY; pol++) {
        MemHeap *h = th_heap((MemPolicy)pol, 1 << 18, 0);
        cr_assert_not_null(h);
        size_t cap = MemHeap_Stats(h).capacity;
        Workload *w = make(WL_FRAGMENTER, 3, cap);
        Player *p = Player_Create(h, Workload_MaxIds(w));
        int i, failed_at = -1, proof_at = -1;
        for (i = 0; i < 2000 && proof_at < 0; i++) {
            Op op;
            Step st;
            Workload_Next(w, &op);
            MemStats before = MemHeap_Stats(h);
            StepResult r = Player_Apply(p, &op, &st);
            cr_assert(r == STEP_OK || r == STEP_FAILED || r == STEP_SKIPPED,
                      "%s op %d: result %d", MemPolicy_Name((MemPolicy)pol), i, r);
            if (r == STEP_FAILED && failed_at < 0) {
                failed_at = i;
                cr_assert_geq(op.size, cap / 8, "a small request failed first");
                cr_assert_gt(before.free_bytes, op.size + op.size / 2,
                             "%s: %zu free for %zu", MemPolicy_Name((MemPolicy)pol),
                             before.free_bytes, op.size);
                cr_assert_lt(before.largest_free, op.size);
                cr_assert_gt(before.external_frag, 0.5);
            }
            if (r == STEP_OK && op.kind == OP_ALLOC && op.size >= cap / 8) {
                cr_assert_gt(failed_at, 0, "a large request fit before the holes were made");
                proof_at = i;
            }
            heap_ok(h);
        }
        cr_assert_gt(failed_at, 0, "%s: no failure", MemPolicy_Name((MemPolicy)pol));
        cr_assert_lt(failed_at, 400, "fragmentation within a few hundred ops");
        cr_assert_gt(proof_at, failed_at);
        Player_Destroy(p);
        Workload_Destroy(w);
    }
}

Test(workload, random_churn_fragments_the_heap_within_a_few_hundred_ops)
{
    MemHeap *h = th_heap(MEM_FIRST_FIT, 1 << 16, 0);
    size_t cap = MemHeap_Stats(h).capacity;
    Workload *w = make(WL_RANDOM, 8, cap);
    Player *p = Player_Create(h, Workload_MaxIds(w));
    size_t reallocs = 0;
    for (int i = 0; i < 300; i++) {
        Op op;
        Workload_Next(w, &op);
        reallocs += op.kind == OP_REALLOC;
        Player_Apply(p, &op, NULL);
    }
    MemStats s = MemHeap_Stats(h);
    cr_assert_geq(s.free_blocks, 5, "%zu holes", s.free_blocks);
    cr_assert_gt(s.external_frag, 0.2, "external fragmentation %.2f", s.external_frag);
    cr_assert_gt(s.utilisation, 0.2);
    cr_assert_gt(reallocs, 5);
    Player_Destroy(p);
    Workload_Destroy(w);
}

Test(workload, trace_workload_replays_then_ends)
{
    Op ops[3] = {{OP_ALLOC, 0, 10, 0}, {OP_REALLOC, 0, 20, 0}, {OP_FREE, 0, 0, 3}};
    Trace t = {ops, 3, 1, 0, 1};
    Workload *w = Workload_Create(WL_TRACE, 0, 1 << 16, &t);
    cr_assert_eq(Workload_MaxIds(w), 1);
    Op op;
    for (int i = 0; i < 3; i++) {
        cr_assert(Workload_Next(w, &op));
        cr_assert(same_op(&op, &ops[i]));
    }
    cr_assert_not(Workload_Next(w, &op));
    cr_assert_not(Workload_Next(w, &op));
    Workload_Destroy(w);
}

/* ---- the player ------------------------------------------------------------ */

static MemHeap *heap;
static Player *player;

static void player_setup(void)
{
    heap = th_heap(MEM_FIRST_FIT, 1 << 16, 0);
    player = Player_Create(heap, 8);
}

static void player_teardown(void) { Player_Destroy(player); }

static StepResult apply(OpKind kind, uint32_t id, size_t size, size_t at, Step *st)
{
    Op op = {kind, id, size, at};
    return Player_Apply(player, &op, st);
}

Test(player, alloc_fills_and_free_verifies, .init = player_setup, .fini = player_teardown)
{
    Step st;
    cr_assert_eq(apply(OP_ALLOC, 1, 100, 0, &st), STEP_OK);
    cr_assert_not_null(st.ptr);
    size_t size = 0;
    cr_assert_eq(MemHeap_Find(heap, st.ptr, &size), st.ptr);
    cr_assert_eq(size, 100);
    cr_assert_eq(Player_Live(player), 1);
    unsigned char *obj = st.ptr;
    cr_assert(obj[0] != obj[1] || obj[1] != obj[2], "the object is filled with a pattern");
    cr_assert_eq(apply(OP_FREE, 1, 0, 0, &st), STEP_OK);
    cr_assert_eq(st.ptr, obj);
    cr_assert_null(MemHeap_Find(heap, obj, NULL));
    cr_assert_eq(Player_Live(player), 0);
    heap_ok(heap);
}

Test(player, frees_through_an_interior_pointer, .init = player_setup, .fini = player_teardown)
{
    Step st;
    apply(OP_ALLOC, 2, 64, 0, &st);
    unsigned char *obj = st.ptr;
    cr_assert_eq(apply(OP_FREE, 2, 0, 37, &st), STEP_OK);
    cr_assert_eq(st.ptr, obj + 37);
    cr_assert_eq(MemHeap_Stats(heap).frees, 1);
    /* an offset past the object is taken modulo its size */
    apply(OP_ALLOC, 2, 10, 0, &st);
    obj = st.ptr;
    cr_assert_eq(apply(OP_FREE, 2, 0, 23, &st), STEP_OK);
    cr_assert_eq(st.ptr, obj + 3);
}

Test(player, failed_allocation_leaves_the_id_empty, .init = player_setup,
     .fini = player_teardown)
{
    Step st;
    MemStats before = MemHeap_Stats(heap);
    cr_assert_eq(apply(OP_ALLOC, 3, 1 << 20, 0, &st), STEP_FAILED);
    cr_assert_null(st.ptr);
    cr_assert_eq(Player_Live(player), 0);
    cr_assert_eq(MemHeap_Stats(heap).failed_allocs, before.failed_allocs + 1);
    cr_assert_eq(apply(OP_REALLOC, 3, 10, 0, &st), STEP_SKIPPED);
    cr_assert_eq(apply(OP_FREE, 3, 0, 0, &st), STEP_SKIPPED);
    cr_assert_eq(MemHeap_Stats(heap).frees, 0);
    cr_assert_eq(MemHeap_Stats(heap).rejected_frees, 0, "a skipped free never reaches the heap");
}

Test(player, realloc_allocates_copies_and_frees, .init = player_setup, .fini = player_teardown)
{
    Step st;
    apply(OP_ALLOC, 4, 300, 0, &st);
    unsigned char *old = st.ptr;
    unsigned char copy[300];
    memcpy(copy, old, 300);
    apply(OP_ALLOC, 5, 16, 0, NULL); /* pins the block after it: no growth in place */
    cr_assert_eq(apply(OP_REALLOC, 4, 1000, 0, &st), STEP_OK);
    unsigned char *grown = st.ptr;
    cr_assert_neq(grown, old);
    cr_assert_null(MemHeap_Find(heap, old, NULL), "the old object was freed");
    size_t size = 0;
    MemHeap_Find(heap, grown, &size);
    cr_assert_eq(size, 1000);
    cr_assert_arr_eq(grown, copy, 300, "the prefix was copied");
    cr_assert_eq(apply(OP_REALLOC, 4, 50, 0, &st), STEP_OK, "shrinking keeps the pattern");
    cr_assert_arr_eq(st.ptr, copy, 50);
    cr_assert_eq(apply(OP_FREE, 4, 0, 49, NULL), STEP_OK, "the pattern verifies");
    cr_assert_eq(Player_Live(player), 1);
    heap_ok(heap);
}

Test(player, failed_realloc_keeps_the_old_object, .init = player_setup,
     .fini = player_teardown)
{
    Step st;
    apply(OP_ALLOC, 0, 128, 0, &st);
    void *obj = st.ptr;
    cr_assert_eq(apply(OP_REALLOC, 0, 1 << 20, 0, &st), STEP_FAILED);
    cr_assert_null(st.ptr);
    cr_assert_eq(MemHeap_Find(heap, obj, NULL), obj);
    cr_assert_eq(apply(OP_FREE, 0, 0, 0, &st), STEP_OK);
    cr_assert_eq(st.ptr, obj);
}

Test(player, a_damaged_object_is_reported_and_still_freed, .init = player_setup,
     .fini = player_teardown)
{
    Step st;
    apply(OP_ALLOC, 6, 200, 0, &st);
    unsigned char *obj = st.ptr;
    obj[150] ^= 0x40;
    cr_assert_eq(apply(OP_FREE, 6, 0, 0, &st), STEP_CORRUPT);
    cr_assert_null(MemHeap_Find(heap, obj, NULL));
    cr_assert_eq(Player_Live(player), 0);

    apply(OP_ALLOC, 7, 40, 0, &st);
    ((unsigned char *)st.ptr)[0] ^= 1;
    cr_assert_eq(apply(OP_REALLOC, 7, 80, 0, &st), STEP_CORRUPT);
    cr_assert_not_null(st.ptr, "the realloc was still done");
    cr_assert_eq(apply(OP_FREE, 7, 0, 0, NULL), STEP_OK, "with a fresh pattern");
}

Test(player, objects_of_different_ids_have_different_patterns, .init = player_setup,
     .fini = player_teardown)
{
    Step a, b;
    apply(OP_ALLOC, 0, 64, 0, &a);
    apply(OP_ALLOC, 1, 64, 0, &b);
    cr_assert_arr_neq(a.ptr, b.ptr, 64);
    /* swapping the contents is detected */
    unsigned char tmp[64];
    memcpy(tmp, a.ptr, 64);
    memcpy(a.ptr, b.ptr, 64);
    memcpy(b.ptr, tmp, 64);
    cr_assert_eq(apply(OP_FREE, 0, 0, 0, NULL), STEP_CORRUPT);
    cr_assert_eq(apply(OP_FREE, 1, 0, 0, NULL), STEP_CORRUPT);
}

Test(player, forget_after_a_hand_free_and_rejection_without_it, .init = player_setup,
     .fini = player_teardown)
{
    Step st;
    apply(OP_ALLOC, 2, 500, 0, &st);
    unsigned char *obj = st.ptr;
    apply(OP_ALLOC, 3, 500, 0, &st);
    unsigned char *other = st.ptr;
    /* the user frees id 2 by hand in heapviz, at an interior byte */
    cr_assert_eq(MemHeap_Free(heap, obj + 200), 0);
    Player_Forget(player, obj + 200);
    cr_assert_eq(Player_Live(player), 1);
    cr_assert_eq(apply(OP_FREE, 2, 0, 0, NULL), STEP_SKIPPED);
    /* a hand free the player was not told about: the heap rejects its free */
    cr_assert_eq(MemHeap_Free(heap, other), 0);
    cr_assert_eq(apply(OP_FREE, 3, 0, 0, NULL), STEP_REJECTED);
    cr_assert_eq(MemHeap_Stats(heap).rejected_frees, 1);
    cr_assert_eq(Player_Live(player), 1, "the id keeps what the heap refused");
    Player_Forget(player, other + 499);
    cr_assert_eq(Player_Live(player), 0);
    Player_Forget(player, other); /* nothing holds it now: no effect */
    cr_assert_eq(Player_Live(player), 0);
}

Test(player, a_window_fills_and_checks_only_the_ends_of_large_objects, .init = player_setup,
     .fini = player_teardown)
{
    Player_SetWindow(player, 64);
    Step st;
    cr_assert_eq(apply(OP_ALLOC, 1, 1000, 0, &st), STEP_OK);
    unsigned char *a = st.ptr;
    unsigned char *copy = malloc(1000);
    cr_assert_not_null(copy);
    memcpy(copy, a, 1000);
    /* the middle is left as the heap gave it: a byte there changes nothing */
    a[500] ^= 0xff;
    cr_assert_eq(apply(OP_REALLOC, 1, 900, 0, &st), STEP_OK, "the middle is not checked");
    unsigned char *b = st.ptr;
    /* shrunk to 900: its new tail window was never filled in the old object,
     * so it is filled afresh, not copied from what the middle held */
    cr_assert_eq(memcmp(b, copy, 64), 0, "the head window is copied");
    cr_assert_eq(apply(OP_FREE, 1, 0, 0, &st), STEP_OK, "the new tail window holds the pattern");
    /* a byte in a window is checked */
    cr_assert_eq(apply(OP_ALLOC, 4, 1000, 0, &st), STEP_OK);
    ((unsigned char *)st.ptr)[999 - 63] ^= 0xff;
    cr_assert_eq(apply(OP_FREE, 4, 0, 0, &st), STEP_CORRUPT);
    /* an object smaller than two windows is filled whole */
    cr_assert_eq(apply(OP_ALLOC, 2, 100, 0, &st), STEP_OK);
    ((unsigned char *)st.ptr)[64] ^= 0xff;
    cr_assert_eq(apply(OP_FREE, 2, 0, 0, &st), STEP_CORRUPT);
    /* 0: every byte again */
    Player_SetWindow(player, 0);
    cr_assert_eq(apply(OP_ALLOC, 3, 1000, 0, &st), STEP_OK);
    ((unsigned char *)st.ptr)[500] ^= 0xff;
    cr_assert_eq(apply(OP_FREE, 3, 0, 0, &st), STEP_CORRUPT);
    free(copy);
}

Test(player, names_the_id_an_object_belongs_to, .init = player_setup,
     .fini = player_teardown)
{
    Step st;
    apply(OP_ALLOC, 4, 300, 0, &st);
    unsigned char *obj = st.ptr;
    uint32_t id = 99;
    cr_assert(Player_IdOf(player, obj + 299, &id), "any byte of it");
    cr_assert_eq(id, 4);
    cr_assert(!Player_IdOf(player, obj + 300, &id), "not past its end");
    size_t size = 0;
    cr_assert_eq(Player_Object(player, 4, &size), obj);
    cr_assert_eq(size, 300);
    cr_assert_null(Player_Object(player, 5, NULL), "an empty id");
    cr_assert_null(Player_Object(player, 1000, NULL), "an id out of range");
    apply(OP_FREE, 4, 0, 0, NULL);
    cr_assert(!Player_IdOf(player, obj, &id));
    cr_assert_null(Player_Object(player, 4, NULL));
}

Test(player, edge_cases, .init = player_setup, .fini = player_teardown)
{
    Step st;
    cr_assert_eq(apply(OP_ALLOC, 8, 10, 0, &st), STEP_SKIPPED, "id out of range");
    cr_assert_eq(apply(OP_ALLOC, 0, 0, 0, &st), STEP_OK, "malloc(0) gives an object");
    size_t size = 9;
    cr_assert_eq(MemHeap_Find(heap, st.ptr, &size), st.ptr);
    cr_assert_eq(size, 1);
    cr_assert_eq(apply(OP_ALLOC, 0, 20, 0, &st), STEP_OK, "reusing a live id frees it first");
    MemStats s = MemHeap_Stats(heap);
    cr_assert_eq(s.frees, 1);
    cr_assert_eq(s.used_blocks, 1);
    cr_assert_eq(s.live_bytes, 20);
    cr_assert_eq(Player_Live(player), 1);
    cr_assert_eq(Player_Apply(NULL, NULL, NULL), STEP_SKIPPED);
    MemHeap *other = th_heap(MEM_FAST, 1 << 16, 0);
    Player_Reset(player, other);
    cr_assert_eq(Player_Live(player), 0);
    cr_assert_eq(apply(OP_FREE, 0, 0, 0, NULL), STEP_SKIPPED);
    cr_assert_eq(apply(OP_ALLOC, 0, 20, 0, &st), STEP_OK);
    cr_assert_eq(MemHeap_Find(other, st.ptr, NULL), st.ptr);
}

/* ---- every workload, every policy, the checker after every op ------------ */

static void stress(unsigned flags)
{
    uint64_t seed = th_seed(2024);
    for (unsigned pol = 0; pol < MEM_POLICY_COUNT; pol++)
        for (unsigned k = 0; k < NGEN; k++) {
            MemHeap *h = th_heap((MemPolicy)pol, 1 << 17, flags);
            Workload *w = make(k, seed + k, MemHeap_Stats(h).capacity);
            Player *p = Player_Create(h, Workload_MaxIds(w));
            size_t ok = 0;
            for (int i = 0; i < 3000; i++) {
                Op op;
                Workload_Next(w, &op);
                StepResult r = Player_Apply(p, &op, NULL);
                cr_assert(r == STEP_OK || r == STEP_FAILED || r == STEP_SKIPPED,
                          "%s/%s seed %llu op %d: %d", MemPolicy_Name((MemPolicy)pol), kname(k),
                          (unsigned long long)seed, i, r);
                ok += r == STEP_OK;
                heap_ok(h);
            }
            MemStats s = MemHeap_Stats(h);
            cr_assert_eq(s.used_blocks, Player_Live(p));
            cr_assert_gt(ok, 2000, "%s/%s: %zu ops ok", MemPolicy_Name((MemPolicy)pol),
                         kname(k), ok);
            Player_Destroy(p);
            Workload_Destroy(w);
            MemHeap_Release(h);
        }
}

Test(stress, every_workload_on_every_policy) { stress(0); }

Test(stress, every_workload_on_every_policy_in_guard_mode) { stress(MEM_OPT_GUARD); }

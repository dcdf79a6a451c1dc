/*
 * harness_play.c - playing a parsed trace on a heap, for the trace and the
 * script harnesses (see harness_play.h).
 */
#include "harness.h"
#include "harness_play.h"

#include "mem.h"

#define PLAY_MAX_OPS 2000u
#define PLAY_MAX_IDS (1u << 16)
#define PLAY_REGION (1u << 18)

static _Alignas(16) unsigned char region[PLAY_REGION];
static unsigned rounds;

const char *fuzz_play_trace(const Trace *t)
{
    if (t->nids > PLAY_MAX_IDS)
        return NULL;
    MemPolicy pol = (MemPolicy)(rounds++ % MEM_POLICY_COUNT);
    MemHeap *h = MemHeap_Create(region, sizeof region, pol, rounds % 2 ? MEM_OPT_GUARD : 0u);
    Player *p = h ? Player_Create(h, t->nids) : NULL;
    if (!p)
        return fuzz_fail("cannot create the heap or the player");
    const char *bad = NULL;
    for (size_t i = 0; !bad && i < t->nops && i < PLAY_MAX_OPS; i++) {
        Step st;
        StepResult r = Player_Apply(p, &t->ops[i], &st);
        if (r == STEP_CORRUPT || r == STEP_REJECTED)
            bad = fuzz_fail("%s: step %zu (op %d id %u) gave %s", MemPolicy_Name(pol), i,
                         (int)t->ops[i].kind, t->ops[i].id,
                         r == STEP_CORRUPT ? "a corrupted object" : "a refused free");
        char diag[200];
        if (!bad && MemHeap_Diagnose(h, diag, sizeof diag) != 0)
            bad = fuzz_fail("%s: step %zu: %s", MemPolicy_Name(pol), i, diag);
    }
    Player_Destroy(p);
    MemHeap_Release(h);
    return bad;
}

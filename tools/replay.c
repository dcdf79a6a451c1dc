/*
 * replay.c - replays .rep traces through the player on a fresh heap and
 * says whether every operation went through.
 *
 *   replay [-p policy] [-s bytes] [-c] trace.rep...
 *
 * -p   placement policy (first, next, best, worst, fast, buddy; default fast)
 * -s   region size in bytes (default: 4 x the trace's peak live bytes
 *      + 1 MiB, "big enough" for any policy)
 * -c   run MemHeap_Check after every operation (slow)
 *
 * Prints one line per trace.  Exit status 0 iff every trace parsed, no
 * allocation failed, no object was corrupt, no free was rejected, and the
 * heap's invariants held at the end.
 */
#include "workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* The largest sum of live requested bytes at any point of the trace. */
static size_t peak_live(const Trace *t)
{
    size_t *size = calloc(t->nids ? t->nids : 1, sizeof *size);
    size_t live = 0, peak = 0;
    if (!size)
        return 0;
    for (size_t i = 0; i < t->nops; i++) {
        const Op *op = &t->ops[i];
        if (op->kind == OP_FREE) {
            live -= size[op->id];
            size[op->id] = 0;
            continue;
        }
        live = live - size[op->id] + op->size;
        size[op->id] = op->size;
        if (live > peak)
            peak = live;
    }
    free(size);
    return peak;
}

static int replay(const char *path, MemPolicy policy, size_t region, bool check_each)
{
    char err[512];
    Trace t;
    if (Trace_Load(path, &t, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    size_t peak = peak_live(&t);
    size_t len = region ? region : 4 * peak + (1u << 20);
    void *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    MemHeap *h = mem == MAP_FAILED ? NULL : MemHeap_Create(mem, len, policy, MEM_OPT_NOLOCK);
    Player *p = h ? Player_Create(h, t.nids) : NULL;
    if (!p) {
        fprintf(stderr, "%s: cannot make a heap of %zu bytes\n", path, len);
        Trace_Free(&t);
        return 1;
    }
    size_t count[STEP_REJECTED + 1] = {0};
    int bad_check = 0;
    for (size_t i = 0; i < t.nops; i++) {
        count[Player_Apply(p, &t.ops[i], NULL)]++;
        if (check_each && MemHeap_Check(h) != 0 && !bad_check++)
            fprintf(stderr, "%s: invariant broken after op %zu\n", path, i + 1);
    }
    char why[256] = "";
    int problems = MemHeap_Diagnose(h, why, sizeof why);
    printf("%s: %s, %zu ops: %zu ok, %zu failed, %zu skipped, %zu corrupt, %zu rejected; "
           "peak live %zu bytes, region %zu bytes; check %s%s\n",
           path, MemPolicy_Name(policy), t.nops, count[STEP_OK], count[STEP_FAILED],
           count[STEP_SKIPPED], count[STEP_CORRUPT], count[STEP_REJECTED], peak, len,
           problems ? "FAILED: " : "ok", why);
    Player_Destroy(p);
    munmap(mem, len);
    Trace_Free(&t);
    return count[STEP_FAILED] || count[STEP_CORRUPT] || count[STEP_REJECTED] || problems ||
           bad_check;
}

int main(int argc, char **argv)
{
    MemPolicy policy = MEM_FAST;
    size_t region = 0;
    bool check_each = false;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-p") == 0 && i + 1 < argc) {
            if (MemPolicy_Parse(argv[++i], &policy) != 0) {
                fprintf(stderr, "replay: unknown policy '%s'\n", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) {
            region = (size_t)strtoull(argv[++i], NULL, 0);
        } else if (strcmp(argv[i], "-c") == 0) {
            check_each = true;
        } else {
            break;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "usage: replay [-p policy] [-s bytes] [-c] trace.rep...\n");
        return 2;
    }
    int bad = 0;
    for (; i < argc; i++)
        bad |= replay(argv[i], policy, region, check_each);
    return bad ? 1 : 0;
}

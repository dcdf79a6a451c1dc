/* harness_play.h - what the trace and script harnesses share: playing an
 * accepted trace on a heap (harness_trace.c). */
#ifndef FUZZ_HARNESS_PLAY_H
#define FUZZ_HARNESS_PLAY_H

#include "workload.h"

/* Plays t (its first 2000 operations; nothing when it has more than 65536
 * ids) on a heap of the next policy in turn, guard mode every other time,
 * with MemHeap_Diagnose after every step.  NULL when every step was sound
 * (no corrupted object, no refused free), else the failure's sentence. */
const char *fuzz_play_trace(const Trace *t);

#endif

#!/usr/bin/env bash
# e2e_record.sh - the allocation recorder (tools/record.so) end to end.
# Prints TAP lines.  Needs the products built (make test builds them) and a
# C compiler (for the small programs whose calls are known exactly).
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-.}
SO=$(realpath "$OUT/tools/record.so" 2>/dev/null || true)
REPLAY=$OUT/tools/replay
CC=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
check() {
    local what=$1; shift
    if "$@" >"$tmp/check.log" 2>&1; then ok "$what"; else not_ok "$what" "command: $*" "$(cat "$tmp/check.log")"; fi
}

if [ ! -f "$SO" ] || [ ! -x "$REPLAY" ]; then
    not_ok "the recorder and replay tool are built" "missing $OUT/tools/record.so or $REPLAY"
    exit 1
fi
ok "the recorder and replay tool are built"

# The op lines of a trace (header and comments dropped).
body() { awk '!/^[[:space:]]*(#|$)/ { if (++n > 4) print }' "$1"; }
header() { awk -v k="$2" '!/^[[:space:]]*(#|$)/ { if (++n == k) { print $1; exit } }' "$1"; }

# 1. A program whose calls are known: the trace holds exactly them.
cat > "$tmp/known.c" <<'EOF'
#include <stdlib.h>
#include <malloc.h>
int main(void)
{
    char *p = malloc(10);           /* a 0 10 */
    void *q = calloc(3, 8);         /* a 1 24 */
    p = realloc(p, 100);            /* r 0 100 */
    void *r = NULL;
    if (posix_memalign(&r, 64, 40)) /* a 2 40 */
        return 1;
    void *s = aligned_alloc(32, 64); /* a 3 64 */
    free(q);                        /* f 1 */
    p = realloc(p, 0);              /* f 0 (glibc frees and returns NULL) */
    free(r);                        /* f 2 */
    free(NULL);                     /* nothing */
    void *t = malloc(7);            /* a 2 7: the last freed id comes back first */
    void *u = memalign(16, 5);      /* a 0 5 */
    free(s);                        /* f 3 */
    free(t);                        /* f 2 */
    free(u);                        /* f 0 */
    return p != NULL;
}
EOF
if $CC -O0 -fno-builtin -o "$tmp/known" "$tmp/known.c" 2>"$tmp/cc.err"; then
    LD_PRELOAD=$SO RECORD_TRACE=$tmp/known.rep "$tmp/known"
    check "a known program runs under the recorder and writes a trace" test -s "$tmp/known.rep"
    printf 'a 0 10\na 1 24\nr 0 100\na 2 40\na 3 64\nf 1\nf 0\nf 2\na 2 7\na 0 5\nf 3\nf 2\nf 0\n' > "$tmp/want"
    if body "$tmp/known.rep" | diff -u "$tmp/want" - > "$tmp/diff"; then
        ok "its trace holds exactly its calls, realloc as r, realloc(p, 0) as f"
    else
        not_ok "its trace holds exactly its calls, realloc as r, realloc(p, 0) as f" "$(cat "$tmp/diff")"
    fi
    ids=$(header "$tmp/known.rep" 2) ops=$(header "$tmp/known.rep" 3)
    if [ "$ids" = 4 ] && [ "$ops" = 13 ]; then
        ok "the header counts 4 ids (the peak live) and 13 ops"
    else
        not_ok "the header counts 4 ids (the peak live) and 13 ops" "ids=$ids ops=$ops"
    fi
    check "the trace replays with no failure" "$REPLAY" -c "$tmp/known.rep"
else
    not_ok "the known program compiles" "$(cat "$tmp/cc.err")"
fi

# 2. Threads: calls from several threads are serialised into one valid trace.
cat > "$tmp/threads.c" <<'EOF'
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
static void *work(void *arg)
{
    unsigned seed = (unsigned)(size_t)arg;
    void *keep[64] = {0};
    for (int i = 0; i < 20000; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned k = (seed >> 8) % 64;
        if (keep[k] && (seed >> 20) % 3 == 0) {
            keep[k] = realloc(keep[k], 1 + (seed >> 4) % 300);
        } else {
            free(keep[k]);
            keep[k] = malloc(1 + (seed >> 12) % 500);
            if (keep[k])
                memset(keep[k], 1, 1);
        }
    }
    for (int k = 0; k < 64; k++)
        free(keep[k]);
    return NULL;
}
int main(void)
{
    pthread_t t[4];
    for (size_t i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, work, (void *)(i + 1));
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    return 0;
}
EOF
if $CC -O1 -pthread -o "$tmp/threads" "$tmp/threads.c" 2>"$tmp/cc.err"; then
    LD_PRELOAD=$SO RECORD_TRACE=$tmp/threads.rep "$tmp/threads"
    check "a program of 4 threads runs under the recorder" test -s "$tmp/threads.rep"
    ops=$(header "$tmp/threads.rep" 3)
    if [ "${ops:-0}" -ge 80000 ]; then
        ok "all threads' calls are recorded ($ops ops)"
    else
        not_ok "all threads' calls are recorded" "ops=$ops, expected >= 80000"
    fi
    check "the threaded trace parses and replays with no failure" "$REPLAY" "$tmp/threads.rep"
else
    not_ok "the threaded program compiles" "$(cat "$tmp/cc.err")"
fi

# 3. Real commands, through make record's script.
awk 'BEGIN { for (i = 1; i <= 30000; i++) print (i * 7919) % 30011 }' > "$tmp/nums.txt"
sort -n "$tmp/nums.txt" > "$tmp/plain.out"
CMD="sort -n --parallel=2 -S 200K $tmp/nums.txt > $tmp/rec.out" \
    tools/record.sh "$SO" "$tmp/sort.rep" 2>"$tmp/rec.err"
check "make record's script records sort (threaded) and keeps a trace" test -s "$tmp/sort.rep"
check "the recorded program's output is unchanged" cmp -s "$tmp/plain.out" "$tmp/rec.out"
check "the sort trace replays with no failure on fast" "$REPLAY" -p fast "$tmp/sort.rep"
check "the sort trace replays with no failure on first" "$REPLAY" -p first "$tmp/sort.rep"

CMD="sh -c 'tar cf - -C $PWD lib demo | tar tf - | sort | tail -n 3' >/dev/null" \
    tools/record.sh "$SO" "$tmp/pipe.rep" 2>"$tmp/rec.err"
procs=$(grep -c '^record: pid' "$tmp/rec.err")
if [ "$procs" -ge 3 ]; then
    ok "a pipeline leaves one trace per process ($procs) and the largest is kept"
else
    not_ok "a pipeline leaves one trace per process and the largest is kept" "$(cat "$tmp/rec.err")"
fi
check "the kept pipeline trace replays with no failure" "$REPLAY" "$tmp/pipe.rep"

# 4. Without RECORD_TRACE the library only passes calls through.
(cd "$tmp" && LD_PRELOAD=$SO sort -n nums.txt > quiet.out)
if cmp -s "$tmp/plain.out" "$tmp/quiet.out" && [ -z "$(ls "$tmp"/*.rep 2>/dev/null | grep -v -e known -e threads -e sort -e pipe)" ]; then
    ok "without RECORD_TRACE nothing is written and the program works"
else
    not_ok "without RECORD_TRACE nothing is written and the program works"
fi

echo "1..$n"

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

# 4. A process that ends without exit() still leaves its trace: _exit, abort
# and fatal signals through the recorder's own _exit and signal handler;
# SIGKILL (which nothing can catch) with its op lines, whose header
# record.sh rebuilds.
cat > "$tmp/dies.c" <<'EOF'
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv)
{
    char *p = malloc(10);           /* a 0 10 */
    char *q = malloc(20);           /* a 1 20 */
    free(p);                        /* f 0 */
    q[0] = 1;
    const char *how = argc > 1 ? argv[1] : "";
    if (strcmp(how, "_exit") == 0)
        _exit(3);
    if (strcmp(how, "abort") == 0)
        abort();
    if (strcmp(how, "segv") == 0)
        *(volatile int *)16 = 1;
    if (strcmp(how, "term") == 0)
        kill(getpid(), SIGTERM);
    if (strcmp(how, "kill") == 0)
        kill(getpid(), SIGKILL);
    return 0;
}
EOF
if $CC -O0 -fno-builtin -o "$tmp/dies" "$tmp/dies.c" 2>"$tmp/cc.err"; then
    printf 'a 0 10\na 1 20\nf 0\n' > "$tmp/want3"
    for how in _exit abort segv term; do
        rm -f "$tmp/dies.rep"
        (LD_PRELOAD=$SO RECORD_TRACE=$tmp/dies.rep "$tmp/dies" $how) 2>/dev/null
        rc=$?
        what="a process ending by $how (exit status $rc) leaves its whole trace"
        if [ -s "$tmp/dies.rep" ] && body "$tmp/dies.rep" | cmp -s "$tmp/want3" - &&
           [ "$(header "$tmp/dies.rep" 3)" = 3 ] && "$REPLAY" "$tmp/dies.rep" > /dev/null 2>&1; then
            ok "$what"
        else
            not_ok "$what" "$(cat "$tmp/dies.rep" 2>&1)"
        fi
    done
    rm -f "$tmp/dies.rep"
    (LD_PRELOAD=$SO RECORD_TRACE=$tmp/dies.rep "$tmp/dies" kill) 2>/dev/null
    if [ "$(header "$tmp/dies.rep" 3)" = "?" ] && body "$tmp/dies.rep" | cmp -s "$tmp/want3" -; then
        ok "a process killed by SIGKILL leaves its op lines under an unfinished header"
    else
        not_ok "a process killed by SIGKILL leaves its op lines under an unfinished header" "$(head -c 400 "$tmp/dies.rep")"
    fi
    CMD="$tmp/dies kill" tools/record.sh "$SO" "$tmp/killed.rep" 2>"$tmp/rec.err"
    rc=$?
    if [ $rc -eq 137 ] && body "$tmp/killed.rep" | cmp -s "$tmp/want3" - &&
       grep -q 'unfinished: header rebuilt' "$tmp/rec.err" && "$REPLAY" "$tmp/killed.rep" > /dev/null 2>&1; then
        ok "make record's script rebuilds a killed process's header; the trace replays; exit status 137"
    else
        not_ok "make record's script rebuilds a killed process's header" "exit $rc" "$(cat "$tmp/rec.err")" "$(cat "$tmp/killed.rep")"
    fi
else
    not_ok "the dying program compiles" "$(cat "$tmp/cc.err")"
fi

# 5. The command's own process is kept, not the busiest: a wrapper script
# (as a version manager's shim) runs busy helpers, then execs the program.
cat > "$tmp/wrapper.sh" <<EOF
#!/bin/sh
for i in 1 2 3; do sort -n "$tmp/nums.txt" > /dev/null; done
exec "$tmp/known"
EOF
chmod +x "$tmp/wrapper.sh"
CMD="$tmp/wrapper.sh" tools/record.sh "$SO" "$tmp/wrapped.rep" 2>"$tmp/rec.err"
busiest=$(sed -n 's/^record: pid [0-9]*: *\([0-9]*\) ops:.*/\1/p' "$tmp/rec.err" | sort -n | tail -n 1)
if body "$tmp/wrapped.rep" | cmp -s "$tmp/want" - && [ "${busiest:-0}" -gt 13 ] &&
   grep -q "the command's own process" "$tmp/rec.err"; then
    ok "through a wrapper script that execs it, the program's own trace is kept (13 ops, not the helpers' $busiest)"
else
    not_ok "through a wrapper script that execs it, the program's own trace is kept" "$(cat "$tmp/rec.err")"
fi
CMD="$tmp/known" tools/record.sh "$SO" "$tmp/direct.rep" 2>"$tmp/rec.err"
if body "$tmp/direct.rep" | cmp -s "$tmp/want" -; then
    ok "a plain command's own trace is kept"
else
    not_ok "a plain command's own trace is kept" "$(cat "$tmp/rec.err")"
fi

# 6. Without RECORD_TRACE the library only passes calls through.
(cd "$tmp" && LD_PRELOAD=$SO sort -n nums.txt > quiet.out)
if cmp -s "$tmp/plain.out" "$tmp/quiet.out" && [ -z "$(ls "$tmp"/*.rep 2>/dev/null | grep -v -e known -e threads -e sort -e pipe -e dies -e killed -e wrapped -e direct)" ]; then
    ok "without RECORD_TRACE nothing is written and the program works"
else
    not_ok "without RECORD_TRACE nothing is written and the program works"
fi

echo "1..$n"

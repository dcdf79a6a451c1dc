#!/usr/bin/env bash
# e2e_malloc.sh - lib/libmem-malloc.so under real programs.  Prints TAP.
#
# Each program runs twice in the same directory, laid out afresh: once with
# glibc's allocator and once with the replacement preloaded (into the shell
# that starts it and everything that shell starts).  Its stdout, stderr,
# exit status and the files it writes under out/ must be identical byte for
# byte.  The libmem run also sets LIBMEM_STATS=1: its summary lines (one per
# process) are taken out of stderr before the comparison and counted, which
# proves the replacement was really in use.
#
# Every program runs under the default policy (fast); a share of them under
# each list policy (first, next, best, worst: O(free blocks) per call, so
# with smaller inputs).  A program the machine lacks is skipped with a
# passing "SKIP" line.  Then the allocator's own contract (tests/programs/
# api.c) and the project's Criterion suites with the replacement preloaded.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-.}
B=${B:-build}
SO=$(realpath "$OUT/lib/libmem-malloc.so" 2>/dev/null || true)
CC=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - SKIP $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

if [ ! -f "$SO" ]; then
    not_ok "lib/libmem-malloc.so is built" "missing $OUT/lib/libmem-malloc.so"
    echo "1..$n"
    exit 1
fi
ok "lib/libmem-malloc.so is built"

export LC_ALL=C TZ=UTC PYTHONHASHSEED=0
WORK=$tmp/work
PROGS=$tmp/progs
mkdir -p "$PROGS"

# The test programs in C and C++, built once (with glibc's headers, as any
# program; -fno-builtin so that the compiler keeps every call).
build_c() {
    "$CC" -O2 -fno-builtin -w -pthread -o "$PROGS/$1" "tests/programs/$1.c" 2>"$tmp/cc.err"
}
build_c threads || not_ok "tests/programs/threads.c compiles" "$(cat "$tmp/cc.err")"
build_c forks || not_ok "tests/programs/forks.c compiles" "$(cat "$tmp/cc.err")"
build_c fork200 || not_ok "tests/programs/fork200.c compiles" "$(cat "$tmp/cc.err")"
build_c api || not_ok "tests/programs/api.c compiles" "$(cat "$tmp/cc.err")"
if command -v g++ >/dev/null 2>&1; then
    g++ -O2 -o "$PROGS/cxx" tests/programs/cxx.cc 2>"$tmp/cc.err" ||
        not_ok "tests/programs/cxx.cc compiles" "$(cat "$tmp/cc.err")"
fi

# setup_NAME lays out $WORK before each run (without the replacement).
setup_none() { :; }
setup_lines() {
    awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++) printf "%d line %x\n", (i * 7919) % n, i * 2654435761 % 4294967296 }' > lines
}
setup_src() { mkdir -p src && cp -r "$ROOT/lib" "$ROOT/demo" src/; }
setup_project() {
    (cd "$ROOT" && git ls-files -z | xargs -0 tar cf - 2>/dev/null) | tar xf -
    mkdir -p out
}

# run WHICH SETUP CMD: one run in a fresh $WORK; results in $tmp/WHICH.*
run() {
    local which=$1 setup=$2 cmd=$3
    rm -rf "$WORK"
    mkdir -p "$WORK/out"
    (cd "$WORK" && eval "$setup")
    if [ "$which" = glibc ]; then
        (cd "$WORK" && env -u LD_PRELOAD bash -c "$cmd" >"$tmp/$which.out" 2>"$tmp/$which.err")
    else
        (cd "$WORK" && env LD_PRELOAD="$SO" MEM_POLICY="$policy" LIBMEM_STATS=1 \
            bash -c "$cmd" >"$tmp/$which.out" 2>"$tmp/$which.raw")
    fi
    echo $? > "$tmp/$which.rc"
    rm -rf "$tmp/$which.files"
    mv "$WORK/out" "$tmp/$which.files"
}

# same NAME POLICY SETUP CMD
same() {
    local name=$1 setup=$3 cmd=$4
    policy=$2
    local t0=$SECONDS
    run glibc "$setup" "$cmd"
    run libmem "$setup" "$cmd"
    local procs
    procs=$(grep -c '^libmem-malloc: allocations ' "$tmp/libmem.raw")
    grep -v '^libmem-malloc: allocations ' "$tmp/libmem.raw" > "$tmp/libmem.err"
    local what="$name under $policy: identical output ($procs processes on libmem, $((SECONDS - t0)) s)"
    local why=()
    cmp -s "$tmp/glibc.out" "$tmp/libmem.out" ||
        why+=("stdout differs:" "$(diff "$tmp/glibc.out" "$tmp/libmem.out" | head -n 10)")
    cmp -s "$tmp/glibc.err" "$tmp/libmem.err" ||
        why+=("stderr differs:" "$(diff "$tmp/glibc.err" "$tmp/libmem.err" | head -n 10)")
    cmp -s "$tmp/glibc.rc" "$tmp/libmem.rc" ||
        why+=("exit status $(cat "$tmp/glibc.rc") under glibc, $(cat "$tmp/libmem.rc") under libmem")
    diff -r "$tmp/glibc.files" "$tmp/libmem.files" > "$tmp/files.diff" 2>&1 ||
        why+=("files differ:" "$(head -n 10 "$tmp/files.diff")")
    [ "$(cat "$tmp/glibc.rc")" = 0 ] || why+=("the program failed under glibc too:" "$(head -n 5 "$tmp/glibc.err")")
    [ "$procs" -ge 1 ] || why+=("no libmem summary line: was the replacement loaded?")
    if [ ${#why[@]} -eq 0 ]; then ok "$what"; else not_ok "$what" "${why[@]}"; fi
}

# have NAME PROGRAM: false (after a SKIP line) when the machine lacks it.
have() {
    command -v "$2" >/dev/null 2>&1 && return 0
    skip "$1: $2 is not installed"
    return 1
}

PY=$(command -v python3 2>/dev/null || true)
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
GITENV='export HOME=$PWD GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=Ada GIT_AUTHOR_EMAIL=ada@example.org GIT_COMMITTER_NAME=Ada GIT_COMMITTER_EMAIL=ada@example.org GIT_AUTHOR_DATE="2001-02-03T04:05:06Z" GIT_COMMITTER_DATE="2001-02-03T04:05:06Z"'
GITCMD="$GITENV; git init -q -b main repo && cp -r src/* repo/ && cd repo && git add . && git commit -q -m 'first' && sed -i 's/a/b/g' lib/heap.c && git commit -q -am 'second' && git log --stat && git rev-parse HEAD && git diff HEAD~1 --stat && git gc -q && git count-objects -v | grep -v size"
TARCMD="tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf out/a.tar src && tar -tvf out/a.tar && mkdir x && tar -xf out/a.tar -C x && diff -r src x/src && gzip -9n < out/a.tar > out/a.tar.gz && gzip -dc out/a.tar.gz | cmp - out/a.tar"

# ---- every program under the default policy ------------------------------------
if [ -n "$PY" ]; then
    same "python3 (dicts, lists, strings: json and pickle)" fast setup_none "$PY $ROOT/tests/programs/work.py 60000"
else
    have "python3" python3
fi
have perl perl && same "perl (hashes, regexes, sort)" fast setup_none "perl $ROOT/tests/programs/work.pl 200000"
have "sort of 10^6 lines" sort &&
    same "sort of 10^6 lines" fast "setup_lines 1000000" "sort lines > out/sorted && sort -n -k1,1 -k3 lines | md5sum && sort -u -t' ' -k3 lines | wc -l"
have "gcc compiling a C file" gcc &&
    same "gcc compiling lib/heap.c and lib/check.c" fast setup_src "gcc -O2 -g0 -Wall -Wextra -D_GNU_SOURCE -Isrc/lib -c src/lib/heap.c -o out/heap.o && gcc -O1 -S -Isrc/lib src/lib/check.c -o out/check.s && echo 'int f(int x) { int y; return x + y; }' > w.c && gcc -O2 -Wall -Wextra -c w.c -o out/w.o"
have git git && same "git (init, add, commit, log, gc)" fast setup_src "$GITCMD"
have tar tar && same "tar (create, list, extract, gzip)" fast setup_src "$TARCMD"
same "bash scripts (arrays, strings, subshells, pipes)" fast setup_none "bash $ROOT/tests/programs/work.sh 3000"
have "make building this project" make &&
    same "make building this project's library" fast setup_project "make --no-print-directory -j1 OUT=out out/lib/libmem.a out/lib/libmem.so"
[ -x "$PROGS/threads" ] && same "8 threads allocating and freeing across threads" fast setup_none "$PROGS/threads"
[ -x "$PROGS/forks" ] && same "forks from 4 allocating threads" fast setup_none "$PROGS/forks"
[ -x "$PROGS/fork200" ] &&
    same "200 forks while 4 threads allocate (issue 9: every child allocates, checks, frees)" fast setup_none "$PROGS/fork200"
[ -x "$PROGS/fork200" ] &&
    same "200 forks in live mode (MEM_SHARE=1: each child goes on with a private copy)" fast setup_none "MEM_SHARE=1 $PROGS/fork200"

# Live mode: the heap's keys lie in a page of the memfd that the program
# itself cannot read or write (mem_live.h); the rest of it is shared.
maps=$(env LD_PRELOAD="$SO" MEM_SHARE=1 bash -c 'cat /proc/$$/maps' 2>&1)
if grep -q -- '---s .*memfd:libmem-heap' <<<"$maps" && grep -q 'rw-s .*memfd:libmem-heap' <<<"$maps"; then
    ok "live mode: the keys' page of the memfd is inaccessible to the program (---s), the rest shared (rw-s)"
else
    not_ok "live mode: the keys' page of the memfd is inaccessible to the program" \
        "$(grep libmem-heap <<<"$maps" | head -n 5)"
fi
if [ -x "$PROGS/cxx" ]; then
    same "C++ (new and delete through libstdc++)" fast setup_none "$PROGS/cxx"
else
    skip "C++ (new and delete): g++ is not installed"
fi

# ---- a share under every policy (smaller inputs) -------------------------------
for policy_name in first next best worst; do
    have perl perl && same "perl" "$policy_name" setup_none "perl $ROOT/tests/programs/work.pl 20000"
    same "bash scripts" "$policy_name" setup_none "bash $ROOT/tests/programs/work.sh 300"
    [ -n "$PY" ] && same "python3" "$policy_name" setup_none "$PY $ROOT/tests/programs/work.py 5000"
done
same "sort of 10^5 lines" first "setup_lines 100000" "sort lines > out/sorted"
[ -x "$PROGS/threads" ] && same "8 threads across threads" best setup_none "$PROGS/threads"
[ -x "$PROGS/forks" ] && same "forks from threads" next setup_none "$PROGS/forks"
have git git && same "git" worst setup_src "$GITCMD"

# ---- the allocator's contract ------------------------------------------------
if [ -x "$PROGS/api" ]; then
    for policy in fast first; do
        if MEM_POLICY=$policy LD_PRELOAD=$SO "$PROGS/api" > "$tmp/api.out" 2>&1; then
            ok "the allocator's contract under $policy ($(grep -c '^ok' "$tmp/api.out") checks: alignment, realloc in place, calloc, ENOMEM ...)"
        else
            not_ok "the allocator's contract under $policy" "$(grep -v '^ok' "$tmp/api.out")"
        fi
    done
    if MEM_SIZE=32M LD_PRELOAD=$SO "$PROGS/api" huge > "$tmp/api.out" 2>&1; then
        ok "exhaustion (MEM_SIZE=32M) is NULL with ENOMEM and the heap goes on"
    else
        not_ok "exhaustion (MEM_SIZE=32M) is NULL with ENOMEM and the heap goes on" "$(cat "$tmp/api.out")"
    fi
    for bad in badfree doublefree; do
        LD_PRELOAD=$SO "$PROGS/api" $bad > "$tmp/bad.out" 2> "$tmp/bad.err"
        rc=$?
        if [ $rc -eq 134 ] && [ "$(wc -l < "$tmp/bad.err")" -eq 1 ] &&
           grep -q '^libmem-malloc: free(): invalid pointer 0x[0-9a-f]* (it ' "$tmp/bad.err" &&
           ! grep -q survived "$tmp/bad.out"; then
            ok "$bad aborts with one line naming the pointer: $(cat "$tmp/bad.err")"
        else
            not_ok "$bad aborts with one line naming the pointer" "exit $rc" "$(cat "$tmp/bad.err")"
        fi
        MEM_INVALID_FREE=ignore LIBMEM_STATS=1 LD_PRELOAD=$SO "$PROGS/api" $bad > "$tmp/bad.out" 2> "$tmp/bad.err"
        rc=$?
        if [ $rc -eq 0 ] && grep -q survived "$tmp/bad.out" && grep -q 'refused frees 1 ' "$tmp/bad.err"; then
            ok "$bad with MEM_INVALID_FREE=ignore is counted and the program goes on"
        else
            not_ok "$bad with MEM_INVALID_FREE=ignore is counted and the program goes on" "exit $rc" "$(cat "$tmp/bad.err")"
        fi
    done
fi
LIBMEM_STATS=1 LD_PRELOAD=$SO /bin/echo > /dev/null 2> "$tmp/stats.err"
if [ "$(wc -l < "$tmp/stats.err")" -eq 1 ] &&
   grep -Eq '^libmem-malloc: allocations [0-9]+, frees [0-9]+, peak live bytes [0-9]+, peak arena bytes in use [0-9]+, failed allocations 0, refused frees 0 \(policy fast\)$' "$tmp/stats.err"; then
    ok "LIBMEM_STATS=1 prints one summary line at exit"
else
    not_ok "LIBMEM_STATS=1 prints one summary line at exit" "$(cat "$tmp/stats.err")"
fi
for bad in "MEM_POLICY=quick" "MEM_POLICY=buddy" "MEM_SIZE=12Q" "MEM_SIZE=100K" "MEM_INVALID_FREE=maybe"; do
    env "$bad" LD_PRELOAD="$SO" /bin/true 2> "$tmp/cfg.err"
    rc=$?
    if [ $rc -eq 127 ] && grep -q "^libmem-malloc: ${bad}: " "$tmp/cfg.err"; then
        ok "$bad is refused with exit status 127: $(cat "$tmp/cfg.err")"
    else
        not_ok "$bad is refused with exit status 127" "exit $rc" "$(cat "$tmp/cfg.err")"
    fi
done
MEM_SHARE=1 MEM_BACKTRACE=9 LD_PRELOAD="$SO" /bin/true 2> "$tmp/cfg.err"
rc=$?
if [ $rc -eq 127 ] && grep -q '^libmem-malloc: MEM_BACKTRACE=9: not 1 to 8 frames$' "$tmp/cfg.err"; then
    ok "MEM_BACKTRACE=9 (live mode) is refused with exit status 127"
else
    not_ok "MEM_BACKTRACE=9 is refused" "exit $rc" "$(cat "$tmp/cfg.err")"
fi
# a descriptor that is not heapviz's memfd is never mapped: the heap is private
if [ "$(MEM_SHARE_FD=1 LD_PRELOAD="$SO" sh -c 'echo fine' 2>&1)" = fine ] &&
   MEM_SHARE_FD=0 LD_PRELOAD="$SO" sort -n "$0" > /dev/null < /dev/null; then
    ok "MEM_SHARE_FD naming stdout or stdin, not a libmem-heap memfd, is ignored (private heap)"
else
    not_ok "MEM_SHARE_FD naming another file is ignored"
fi
if MEM_SIZE=256M LD_PRELOAD=$SO sort -n "$0" > /dev/null; then
    ok "MEM_SIZE=256M is taken"
else
    not_ok "MEM_SIZE=256M is taken"
fi

# ---- the project's own Criterion suites, preloaded ---------------------------
# test_random (a minute of random operations under every policy) is left to
# the plain run: the others cover the same paths in seconds.
for bin in "$B"/tests/test_*; do
    case $bin in *.o | *.d) continue ;; esac
    name=$(basename "$bin")
    [ "$name" = test_random ] && continue
    LD_PRELOAD=$SO "$bin" --jobs 2 > "$tmp/crit.log" 2>&1
    rc=$?
    line=$(grep -a 'Synthesis:' "$tmp/crit.log" | tail -n 1)
    if [ $rc -eq 0 ] && grep -q 'Failing: 0 | Crashing: 0' <<<"$line"; then
        ok "$name passes with the replacement preloaded (${line#*Synthesis: })"
    else
        not_ok "$name passes with the replacement preloaded" "exit $rc" "$line"
    fi
done

echo "1..$n"

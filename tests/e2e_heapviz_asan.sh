#!/usr/bin/env bash
# e2e_heapviz_asan.sh - heapviz built with AddressSanitizer and
# UndefinedBehaviorSanitizer (its own build tree), then run headless with
# --dump --frames over every mode: policies, compare, guard with a
# deliberate overflow, a trace, zoom, prompts and the help overlay.
# Prints TAP lines.  SKIP when the compiler cannot build with sanitizers.
set -u
cd "$(dirname "$0")/.."
SB=${B:-build}/asan
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; shift; for l in "$@"; do echo "#   $l"; done; }

SAN="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
if ! echo 'int main(void){return 0;}' | ${CC:-cc} $SAN -x c - -o "${TMPDIR:-/tmp}/heapviz-asan-probe-$$" 2>/dev/null; then
    echo "ok 1 - # SKIP the compiler cannot build with -fsanitize=address,undefined"
    exit 0
fi
rm -f "${TMPDIR:-/tmp}/heapviz-asan-probe-$$"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
unset MAKEFLAGS MFLAGS MAKELEVEL
if make -s -j2 B="$SB" OUT="$SB" CFLAGS="$SAN" "$SB/heapviz" >"$log" 2>&1; then
    ok "heapviz builds with ASan and UBSan"
else
    not_ok "heapviz builds with ASan and UBSan" "$(tail -n 20 "$log")"
    exit 1
fi

# The library's own poisoning stays on (ASan's default): libmem keeps its
# free blocks, headers and paddings poisoned, so a stray access by heapviz
# (or the demo's player) into the arena is reported as well as one into
# their own memory.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run() { # run NAME ARGS...
    local name=$1
    shift
    env LINES="${L:-30}" COLUMNS="${C:-100}" NO_COLOR=1 LC_ALL=C.UTF-8 \
        "$SB/heapviz" --dump "$@" >/dev/null 2>"$log" </dev/null
    local rc=$?
    if [ "$rc" -eq 0 ] && ! grep -qE 'ERROR: AddressSanitizer|runtime error|LeakSanitizer' "$log"; then
        ok "sanitized: $name"
    else
        not_ok "sanitized: $name (exit $rc)" "$(grep -m 12 -E 'ERROR|runtime error|#[0-9] ' "$log")"
    fi
}

for p in first next best worst fast buddy; do
    run "--policy $p, 400 frames" --policy "$p" --frames 400 --workload fragmenter
done
run "compare all, 300 frames" --compare all --frames 300 --seed 9
L=12 C=40 run "40x12, phased, 300 frames" --workload phased --frames 300
L=60 C=200 run "200x60, 64K heap" --size 64K --frames 200 --skip 500
run "guard, an overflow freed" --guard --skip 50 --keys $'a100\nof' --frames 20
run "trace replay" --trace tests/golden/lecture.rep --frames 20
run "time travel: b, [, ], g, a fork, guard overflows" --guard --skip 120 \
    --keys $'a100\nobbbb[[[]g7\nnna64\ng200\nb' --frames 30
run "time travel in compare mode" --compare all --skip 300 --keys $'bbb[[g100\nn' --frames 10
run "time travel over runs (fast), numbered free blocks" --policy fast --size 64K --skip 400 \
    --keys $'bbbbb[[[g150\nnnn#a24\nb]' --frames 10
run "a worksheet with runs" --predict --policy fast --size 16K --ops "a24 a24 a40 f0 a300 f1 f2"
run "a script with captions and pauses" --script tests/golden/board.hvs --frames 12
run "predict mode, the free list, compare details" --compare first,best,fast --skip 60 \
    --keys $'LPn\n\t\n!\nx\x1bPlllL' --frames 5
run "a handout and a worksheet" --handout --script tests/golden/board.hvs
run "a worksheet in compare mode" --predict --compare all --ops "a300 a100 a500 f0 f2 a250"
svgtmp=$(mktemp -d)
run "SVG and HTML export" --skip 40 --keys lll --svg "$svgtmp/f.svg" --html "$svgtmp/f.html"
rm -rf "$svgtmp"
run "prompts, zoom, help, refused frees" --skip 80 \
    --keys $'lllzzZa64\ni0x1\ni99999999\nTab\tf?' --frames 10
L=10 C=40 run "the smallest screen" --frames 3
# every key, in a jumble, on a guarded heap and in compare mode
jumble=$'lhjkzZz\tHl?\e?a0\na99999999\nfio\nafoo\x1b\tjjjjkkkk+-+-pwr.n nq'
run "a jumble of keys, guarded" --guard --skip 150 --keys "${jumble%q}" --frames 5
L=40 C=120 run "a jumble of keys, compare" --compare all --skip 150 --keys "${jumble%q}" --frames 5
[ "$failed" -eq 0 ]

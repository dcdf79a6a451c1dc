#!/usr/bin/env bash
# Runs every test suite and prints one summary line at the end:
#   tests: N passed, N failed
# Criterion binaries report "Synthesis: Tested: T | Passing: P | Failing: F |
# Crashing: C"; shell suites print TAP ("ok N - ..." / "not ok N - ...").
# Each suite's line gives its counts and its wall time in seconds.
# Arguments, if any, are substrings of the suite names to run.
set -u
cd "$(dirname "$0")/.."
B=${B:-build}
OUT=${OUT:-.}
export B OUT
passed=0
failed=0
failed_suites=()

# seconds since $1 (date +%s%N), one decimal: which suites make CI long
secs() { local ms=$(( ($(date +%s%N) - $1) / 1000000 )); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }

want() {
    [ $# -eq 1 ] && return 0
    local name=$1; shift
    for pat in "$@"; do [[ $name == *"$pat"* ]] && return 0; done
    return 1
}

# One binary per tests/test_*.c; stale binaries of removed suites are ignored.
for src in tests/test_*.c; do
    name=$(basename "$src" .c)
    want "$name" "$@" || continue
    bin=$B/tests/$name
    if [ ! -x "$bin" ]; then
        echo "$name: not built"
        failed=$((failed + 1)); failed_suites+=("$name")
        continue
    fi
    log=$(mktemp) t0=$(date +%s%N)
    "$bin" --jobs "${TEST_JOBS:-2}" --short-filename >"$log" 2>&1
    rc=$?
    line=$(grep -a 'Synthesis:' "$log" | tail -n 1)
    t=$(sed -n 's/.*Tested: \([0-9]*\).*/\1/p' <<<"$line")
    p=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$line")
    if [ -z "$t" ]; then t=1; p=0; fi
    f=$((t - p))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" -ne 0 ]; then
        failed_suites+=("$name")
        grep -a -v '^\[----\] *$' "$log" | grep -a -E 'FAIL|CRASH|Assertion|\[----\]|Warning|Synthesis|error' | head -n 60
    fi
    printf '%-28s %4d passed, %d failed %6s s\n' "$name" "$p" "$f" "$(secs "$t0")"
    rm -f "$log"
done

for sh in tests/e2e_*.sh; do
    [ -f "$sh" ] || continue
    name=$(basename "$sh" .sh)
    want "$name" "$@" || continue
    log=$(mktemp) t0=$(date +%s%N)
    bash "$sh" >"$log" 2>&1
    rc=$?
    p=$(grep -a -c '^ok ' "$log")
    f=$(grep -a -c '^not ok ' "$log")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "$name exited $rc"; fi
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" -ne 0 ]; then
        failed_suites+=("$name")
        grep -a -A8 '^not ok ' "$log" | head -n 80
        tail -n 5 "$log"
    fi
    printf '%-28s %4d passed, %d failed %6s s\n' "$name" "$p" "$f" "$(secs "$t0")"
    rm -f "$log"
done

[ ${#failed_suites[@]} -eq 0 ] || echo "failing suites: ${failed_suites[*]}"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

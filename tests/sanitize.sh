#!/usr/bin/env bash
# Helpers for tests/sanitize.mk.
#
#   tests/sanitize.sh valgrind DIR   memcheck over every test binary in DIR/tests
#                                    (but those named in $VALGRIND_EXCLUDE)
#   tests/sanitize.sh heapviz DIR    heapviz --dump on every policy, if DIR/heapviz exists
#
# valgrind: Criterion runs each test in a child process that it starts by
# exec'ing the test binary again, so memcheck must follow children
# (--trace-children=yes).  System tools the tests start (nm, sh) are not
# ours and carry known glibc false positives: they are skipped.  Every
# process's log is read; the run fails on any error in any of them, on a
# failing test, or when fewer test processes ran under memcheck than the
# binary has tests (then tests escaped the tool and the run proves nothing).
# Suites of ours with random runs read TEST_SCALE (percent of their default
# iterations); memcheck is ~50x slower, so it runs them at 25%.
set -u
cd "$(dirname "$0")/.."

cmd=${1:-}
dir=${2:-build}

run_valgrind() {
    local logs="$dir/valgrind-logs" total_err=0 total_tests=0 total_procs=0 bad=0
    rm -rf "$logs"
    mkdir -p "$logs"
    for bin in "$dir"/tests/test_*; do
        [ -x "$bin" ] && [ -f "$bin" ] || continue
        case $bin in *.o|*.d) continue ;; esac
        local name ntests out rc t0
        name=$(basename "$bin")
        if [[ " ${VALGRIND_EXCLUDE:-} " == *" $name "* ]]; then
            echo "$name: left out (VALGRIND_EXCLUDE)"
            continue
        fi
        t0=$(date +%s)
        ntests=$("$bin" --list 2>/dev/null | grep -c '^[├└]')
        mkdir -p "$logs/$name"
        # test_random checks 5 million operations in full: 2% of them under
        # memcheck takes about a minute.
        local scale=${TEST_SCALE:-25}
        [ "$name" = test_random ] && scale=${VALGRIND_RANDOM_SCALE:-2}
        out=$(OUT=$dir TEST_SCALE=$scale valgrind --tool=memcheck --trace-children=yes \
                  --trace-children-skip='/usr/*,/bin/*,/sbin/*' \
                  --error-exitcode=97 --leak-check=full --errors-for-leak-kinds=definite \
                  --suppressions=tests/valgrind.supp \
                  --log-file="$logs/$name/%p.log" \
                  "$bin" --jobs "${TEST_JOBS:-2}" --short-filename 2>&1)
        rc=$?
        local errs procs
        errs=$(cat "$logs/$name"/*.log | sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' |
               awk '{s += $1} END {print s + 0}')
        procs=$(grep -l "Command: .*$name" "$logs/$name"/*.log | wc -l)
        # The parent process is one of them; every test is another.
        procs=$((procs - 1))
        local line
        line=$(grep -a 'Synthesis:' <<<"$out" | tail -n 1)
        printf '%-24s %3d tests, %3d processes under memcheck, %d errors, %3ds  %s\n' \
            "$name" "$ntests" "$procs" "$errs" $(($(date +%s) - t0)) "${line#*Synthesis: }"
        if [ "$rc" -ne 0 ] || [ "$errs" -ne 0 ] || [ "$procs" -lt "$ntests" ]; then
            bad=$((bad + 1))
            grep -a -E 'FAIL|CRASH' <<<"$out" | head -n 20
            grep -l -E 'ERROR SUMMARY: [1-9]' "$logs/$name"/*.log | head -n 3 | xargs -r head -n 60
        fi
        total_err=$((total_err + errs))
        total_tests=$((total_tests + ntests))
        total_procs=$((total_procs + procs))
    done
    echo "valgrind: $total_tests tests in $total_procs processes, $total_err errors, $bad failing binaries (logs in $logs)"
    [ "$bad" -eq 0 ] && [ "$total_tests" -gt 0 ]
}

run_heapviz() {
    local hv="$dir/heapviz"
    if [ ! -x "$hv" ]; then
        echo "heapviz: not built in $dir yet, nothing to run"
        return 0
    fi
    local bad=0 runs=0 args
    for args in "--policy first" "--policy next" "--policy best" "--policy worst" \
                "--policy fast" "--policy buddy" "--compare all" \
                "--compare all --guard --workload fragmenter" "--policy buddy --size 256" \
                "--policy fast --size 1M --workload phased"; do
        runs=$((runs + 1))
        # shellcheck disable=SC2086
        if ! LANG=C.UTF-8 "$hv" --dump --frames 40 --skip 300 $args >"$dir/heapviz-$runs.txt" 2>&1; then
            echo "heapviz --dump --frames 40 --skip 300 $args failed:"
            tail -n 40 "$dir/heapviz-$runs.txt"
            bad=$((bad + 1))
        fi
    done
    echo "heapviz: $runs runs of --dump (every policy, compare, guard), $bad failed"
    [ "$bad" -eq 0 ]
}

case $cmd in
valgrind) run_valgrind ;;
heapviz) run_heapviz ;;
*) echo "usage: $0 valgrind|heapviz DIR" >&2; exit 2 ;;
esac

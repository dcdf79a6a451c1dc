#!/usr/bin/env bash
# Runs each libFuzzer target for SECONDS from its committed seed corpus and
# prints one line of figures per target, then a summary line.
#   fuzz/run.sh DIR SECONDS TARGET...
# Seeds are copied into DIR/corpus/<t> (the committed corpus is only read);
# new inputs, crashes (DIR/artifacts/<t>/) and logs (DIR/<t>.log) stay in DIR.
set -u
cd "$(dirname "$0")/.."
dir=$1 secs=$2
shift 2
failed=0 total=0
for t in "$@"; do
    bin=$dir/fuzz/fuzz_$t
    [ -x "$bin" ] || { echo "fuzz_$t: not built"; failed=$((failed + 1)); continue; }
    mkdir -p "$dir/corpus/$t" "$dir/artifacts/$t"
    [ -d "fuzz/corpus/$t" ] && cp -n fuzz/corpus/"$t"/* "$dir/corpus/$t/" 2>/dev/null
    dict=()
    [ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")
    "$bin" "$dir/corpus/$t" "${dict[@]}" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 \
        -max_len="${FUZZ_MAX_LEN:-4096}" -print_final_stats=1 \
        -artifact_prefix="$dir/artifacts/$t/" >"$dir/$t.log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/$t.log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$dir/$t.log" | tail -n 1)
    corpus=$(ls "$dir/corpus/$t" | wc -l)
    total=$((total + ${runs:-0}))
    if [ "$rc" -ne 0 ]; then
        failed=$((failed + 1))
        echo "fuzz_$t: FAILED after ${runs:-?} executions (exit $rc); the input is in $dir/artifacts/$t/:"
        grep -a -E '^fuzz_|ERROR:|SUMMARY:|#[0-9] ' "$dir/$t.log" | head -n 20
    else
        echo "fuzz_$t: ${runs:-0} executions in ${secs}s, ${cov:-cov: ?}, corpus $corpus inputs, no failure"
        grep -a "^fuzz_$t totals:" "$dir/$t.log" | tail -n 1
    fi
done
echo "fuzz: $total executions, $failed targets failed"
[ "$failed" -eq 0 ]

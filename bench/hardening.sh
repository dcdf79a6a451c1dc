#!/usr/bin/env bash
# bench/hardening.sh [BASE] - what issue 9's hardening costs: the benchmark
# harness built twice, from this tree and from BASE (a commit without the
# hardening; default main), each replaying every trace of bench/traces on
# fast and fast-nolock (bench --profile: CPU time, ns per operation, frees
# through an interior byte), the two builds taking turns, ROUNDS rounds
# (default 5) of SECS seconds (default 0.3) each; the median per trace.
# Prints a markdown table: ns/op of each build and their ratio, and the
# geometric mean of the ratios.  Run from the top of the tree after `make`.
set -eu
cd "$(dirname "$0")/.."
base=${1:-main}
rounds=${ROUNDS:-5}
secs=${SECS:-0.3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/base"
git archive "$base" | tar -x -C "$tmp/base"
make --no-print-directory -s -C "$tmp/base" -j2 all >/dev/null
make --no-print-directory -s -j2 all >/dev/null
ours=bench/bench
theirs=$tmp/base/bench/bench
[ -x "$ours" ] && [ -x "$theirs" ] || { echo "hardening.sh: a harness was not built" >&2; exit 1; }

# ns/op of one run: "fast on NAME: N runs, X ns/op, F failed"
nsop() { "$1" --profile "$2" "$3" "$secs" | sed -n 's/.*runs, \([0-9.]*\) ns\/op.*/\1/p'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "| trace | allocator | $(git rev-parse --short "$base") ns/op | hardened ns/op | hardened / base |"
echo "|---|---|--:|--:|--:|"
logsum=0
count=0
for who in fast fast-nolock; do
    for tr in bench/traces/*.rep; do
        : > "$tmp/a"
        : > "$tmp/b"
        for _ in $(seq "$rounds"); do
            nsop "$theirs" "$who" "$tr" >> "$tmp/a"
            nsop "$ours" "$who" "$tr" >> "$tmp/b"
        done
        a=$(median < "$tmp/a")
        b=$(median < "$tmp/b")
        [ -n "$a" ] && [ -n "$b" ] || { echo "hardening.sh: no timing for $tr" >&2; exit 1; }
        r=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }')
        logsum=$(awk -v s="$logsum" -v r="$r" 'BEGIN { print s + log(r) }')
        count=$((count + 1))
        echo "| $(basename "$tr" .rep) | $who | $a | $b | $r |"
    done
done
awk -v s="$logsum" -v n="$count" 'BEGIN { printf "| **geometric mean** | | | | **%.3f** |\n", exp(s / n) }'

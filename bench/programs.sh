#!/usr/bin/env bash
# programs.sh - real programs on five allocators: glibc's own, and jemalloc,
# mimalloc, tcmalloc and libmem (lib/libmem-malloc.so), each by LD_PRELOAD.
#
#   bench/programs.sh [--runs N] [--out FILE] [--live-only | --only REGEX]
#
# For each program and allocator: wall time, CPU time and peak RSS (the largest
# resident set of any process of the command, from wait4's rusage through
# GNU time), the median of N runs (5).  The allocators take turns within each
# round, so a change of load on the shared machine falls on all of them.
# The table gives glibc's figures and every other allocator's as a ratio to
# glibc's in the same run.  With --out, the tables replace the section of
# FILE that begins with the marker line below (bench/bench.c writes the rest
# of bench/RESULTS.md; `make bench` runs it first).  Last, live mode: the frame
# rate of heapviz -- CMD on 10^5 blocks and how much it slows the program
# (--live-only: that alone; with --out it replaces the live section only).
# Sections after ours that begin with a line "<!-- hand-added" are kept.
# --only keeps the programs whose name matches REGEX (grep -E) and skips
# live mode: a quick look while working, printed, not for --out.
# An allocator that is not
# installed is left out with a note (.ci/deps.sh bench installs them).
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-.}
runs=5
out=
only=
live_only=0
while [ $# -gt 0 ]; do
    case $1 in
    --runs) runs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --live-only) live_only=1; shift ;;
    *) echo "usage: bench/programs.sh [--runs N] [--out FILE] [--live-only | --only REGEX]" >&2; exit 2 ;;
    esac
done
MARK='<!-- bench/programs.sh: real programs (everything below is rewritten by it) -->'

[ -n "$only" ] && [ -n "$out" ] && { echo "programs.sh: --only prints; it does not write --out" >&2; exit 2; }
SO=$(realpath "$OUT/lib/libmem-malloc.so" 2>/dev/null || true)
[ -f "$SO" ] || { echo "programs.sh: build lib/libmem-malloc.so first (make)" >&2; exit 1; }
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "programs.sh: needs GNU time (Debian package time)" >&2; exit 1; }

libdir() { ldconfig -p | awk -v n="$1" '$1 == n { print $NF; exit }'; }
names=(glibc) preload=("")
notes=()
for pair in jemalloc:libjemalloc.so.2 mimalloc:libmimalloc.so.2 tcmalloc:libtcmalloc_minimal.so.4; do
    lib=$(libdir "${pair#*:}")
    if [ -n "$lib" ]; then
        names+=("${pair%%:*}") preload+=("$lib")
    else
        notes+=("${pair%%:*} is not installed (${pair#*:}): left out")
    fi
done
names+=(libmem) preload+=("$SO")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C PYTHONHASHSEED=0
PY=$(command -v python3 || true)
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
awk 'BEGIN { for (i = 1; i <= 1000000; i++) printf "%d line %x\n", (i * 7919) % 1000000, i * 2654435761 % 4294967296 }' > "$tmp/lines"
cc -O2 -pthread -w -o "$tmp/threads" tests/programs/threads.c
cc -O2 -w -o "$tmp/pairs" tests/programs/pairs.c
PAIRS=10000000
have_cxx=0
command -v g++ > /dev/null && g++ -O2 -o "$tmp/cxx" tests/programs/cxx.cc && have_cxx=1

progs=() cmds=()
add() { [ -z "$only" ] || printf '%s\n' "$1" | grep -Eq -- "$only" && progs+=("$1") cmds+=("$2"); }
[ -n "$PY" ] && add "python3 work.py (json, pickle)" "$PY $ROOT/tests/programs/work.py 60000"
command -v perl > /dev/null && add "perl work.pl (hashes, sort)" "perl $ROOT/tests/programs/work.pl 200000"
add "sort of 10^6 lines" "sort $tmp/lines -o $tmp/sorted"
command -v gcc > /dev/null && add "gcc -O2 -c lib/heap.c" "gcc -O2 -D_GNU_SOURCE -I$ROOT/lib -c $ROOT/lib/heap.c -o $tmp/heap.o"
add "8 threads (tests/programs/threads.c)" "$tmp/threads"
[ $have_cxx = 1 ] && add "C++ map and strings (cxx.cc)" "$tmp/cxx"
add "malloc/free pairs (pairs.c, 2x10^7 pairs)" "$tmp/pairs $PAIRS"

# one P A: appends "wall_seconds max_rss_kib cpu_seconds" to $tmp/P.A
one() {
    local p=$1 a=$2 t0 t1
    local env=(env)
    [ -n "${preload[$a]}" ] && env+=(LD_PRELOAD="${preload[$a]}")
    t0=$EPOCHREALTIME
    "$TIME" -f '%M %U %S' -o "$tmp/rss" "${env[@]}" bash -c "${cmds[$p]}" > /dev/null 2> "$tmp/err" ||
        { echo "programs.sh: ${progs[$p]} failed under ${names[$a]}:" >&2; cat "$tmp/err" >&2; }
    t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" 'END { printf "%.4f %d %.2f\n", b - a, $1, $2 + $3 }' "$tmp/rss" >> "$tmp/$p.$a"
}

for ((r = 1; r <= runs && !live_only; r++)); do
    echo "programs.sh: round $r of $runs" >&2
    for p in "${!progs[@]}"; do
        for a in "${!names[@]}"; do one "$p" "$a"; done
    done
done

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ---- live mode: heapviz -- CMD -------------------------------------------------
# Frame rate: heapviz --dump on a program holding 10^5 blocks that never stops
# changing them, 101 frames against 1 at --interval 1: each frame drains the
# events, re-reads the heap when the writer's generation moved (a walk of
# 10^5 blocks, with the program parked when it is busy, no sooner than
# LIVE_READ_COST times the last walk: viz/live.h), counts the sites and
# composes 80x24.  HEAPVIZ_LIVE_STATS=1 makes heapviz say how many of those
# frames showed a newly read heap and how long the program waited for it.
# Slowdown, against the same program on the replacement without heapviz:
#  - that program, 2,000,000 frees and allocations (its own wall and CPU
#    time): the worst case, a program that does nothing but allocate;
#  - the same program started with MEM_SHARE=1 and nobody reading: what
#    live mode's writer costs by itself;
#  - perl work.pl 200000 (wall and CPU time of the command; heapviz --dump
#    stops with the program's last frame).
# heapviz draws at 20 frames a second (--interval 50); medians of $runs.
# The load average (1 minute) is taken before each measurement: the
# machine may be shared, and CPU time is the steadier figure.
HEAPVIZ=$(realpath "$OUT/heapviz" 2>/dev/null || true)
# work.pl run by do, its CPU time (user + system, perl's times) on stderr at
# the end: heapviz -- CMD must start perl itself (a wrapper that forks, as
# GNU time does, would leave perl with a private heap)
perl_cpu='use Time::HiRes; my $t0 = Time::HiRes::time(); my $f = shift; END { my @t = times; printf STDERR "cpu %.3f wall %.3f\n", $t[0] + $t[1], Time::HiRes::time() - $t0 } do $f or die($@ || $!)'
load1() { cut -d' ' -f1 /proc/loadavg; }
# stat FIELD FILE: a figure of heapviz's HEAPVIZ_LIVE_STATS line
stat() { sed -n 's/^heapviz: live: //p' "$2" | awk -v f="$1" '{
    if (f == "frames") print $1; else if (f == "fresh") print $3;
    else if (f == "stopped") { for (i = 1; i <= NF; i++) if ($i == "stopped" && $(i+1) == "in") print $(i-2) }
    else if (f == "cpu") print $(NF - 1) }'; }
live_section() {
    [ -x "$HEAPVIZ" ] || { echo; echo "(live mode not measured: ./heapviz is not built)"; return; }
    cc -O2 -w -o "$tmp/live" tests/programs/live.c
    local f1=() f101=() c1=() c101=() fr=() pw=() pc=() sw=() sc=() ww=() wc=() wst=() wfr=() perl_plain=()
    local perl_watched=() perl_pc=() perl_wc=() lfps=() lplain=() lwatch=() lperl=()
    local wcf=() wcs=() wnh=()
    for ((r = 1; r <= runs; r++)); do
        echo "programs.sh: live mode, round $r of $runs" >&2
        local t0 t1 fresh
        lfps+=("$(load1)")
        for frames in 1 101; do
            t0=$EPOCHREALTIME
            HEAPVIZ_LIVE_STATS=1 LINES=24 COLUMNS=80 "$HEAPVIZ" --dump --frames $frames --interval 1 \
                --output "$tmp/live.out" -- "$tmp/live" 100000 0 churn 0 > "$tmp/frames" 2> "$tmp/stats"
            t1=$EPOCHREALTIME
            if [ $frames = 1 ]; then
                f1+=("$(elapsed "$t0" "$t1")")
                c1+=("$(stat cpu "$tmp/stats")")
            else
                f101+=("$(elapsed "$t0" "$t1")")
                c101+=("$(stat cpu "$tmp/stats")")
                fresh=$(stat fresh "$tmp/stats")
                fr+=("$(awk -v n="$fresh" -v a="${f1[-1]}" -v b="${f101[-1]}" 'BEGIN { printf "%.1f", (n - 1) / (b - a) }')")
            fi
        done
        lplain+=("$(load1)")
        LD_PRELOAD=$SO "$tmp/live" 100000 0 churn 2000000 > "$tmp/plain.out"
        pw+=("$(awk '/^churn/ { print $3 }' "$tmp/plain.out")")
        pc+=("$(awk '/^churn/ { print $6 }' "$tmp/plain.out")")
        MEM_SHARE=1 LD_PRELOAD=$SO "$tmp/live" 100000 0 churn 2000000 > "$tmp/shared.out"
        sw+=("$(awk '/^churn/ { print $3 }' "$tmp/shared.out")")
        sc+=("$(awk '/^churn/ { print $6 }' "$tmp/shared.out")")
        lwatch+=("$(load1)")
        t0=$EPOCHREALTIME
        HEAPVIZ_LIVE_STATS=1 LINES=24 COLUMNS=80 "$HEAPVIZ" --dump --frames 1000000 --interval 50 \
            --output "$tmp/watched.out" -- "$tmp/live" 100000 0 churn 2000000 > /dev/null 2> "$tmp/stats"
        t1=$EPOCHREALTIME
        ww+=("$(awk '/^churn/ { print $3 }' "$tmp/watched.out")")
        wc+=("$(awk '/^churn/ { print $6 }' "$tmp/watched.out")")
        wst+=("$(awk -v ms="$(stat stopped "$tmp/stats")" -v w="${ww[-1]}" 'BEGIN { printf "%.2f", (w > 0) ? ms / 10 / w : 0 }')")
        wfr+=("$(awk -v n="$(stat frames "$tmp/stats")" -v t="$(elapsed "$t0" "$t1")" 'BEGIN { printf "%.1f", n / t }')")
        wnh+=("$(awk -v n="$(stat fresh "$tmp/stats")" -v t="$(elapsed "$t0" "$t1")" 'BEGIN { printf "%.1f", (t > 0) ? n / t : 0 }')")
        wcf+=("$(awk -v n="$(stat frames "$tmp/stats")" -v c="$(stat cpu "$tmp/stats")" 'BEGIN { printf "%.2f", (n > 0) ? c * 1000 / n : 0 }')")
        wcs+=("$(awk -v c="$(stat cpu "$tmp/stats")" -v t="$(elapsed "$t0" "$t1")" 'BEGIN { printf "%.1f", (t > 0) ? c * 100 / t : 0 }')")
        if command -v perl > /dev/null; then
            lperl+=("$(load1)")
            LD_PRELOAD=$SO perl -e "$perl_cpu" "$ROOT/tests/programs/work.pl" 200000 > /dev/null 2> "$tmp/cpu"
            perl_plain+=("$(awk '/^cpu/ { print $4 }' "$tmp/cpu")")
            perl_pc+=("$(awk '/^cpu/ { print $2 }' "$tmp/cpu")")
            LINES=24 COLUMNS=80 "$HEAPVIZ" --dump --frames 1000000 --interval 50 \
                --output "$tmp/perl.out" -- perl -e "$perl_cpu" "$ROOT/tests/programs/work.pl" 200000 > /dev/null
            perl_watched+=("$(awk '/^cpu/ { print $4 }' "$tmp/perl.out")")
            perl_wc+=("$(awk '/^cpu/ { print $2 }' "$tmp/perl.out")")
        fi
    done
    local m1 m101
    m1=$(printf '%s\n' "${f1[@]}" | median)
    m101=$(printf '%s\n' "${f101[@]}" | median)
    loads() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%s to %s", v[1], v[NR] }'; }
    echo
    echo "### live mode (heapviz -- CMD)"
    echo
    echo "Written by bench/programs.sh on $(date -u '+%Y-%m-%d %H:%M') UTC; $runs runs, medians; the load average (1 minute, before each measurement) is given with each row, as the machine may be shared: CPU time is the steadier figure.  The program without heapviz runs on libmem-malloc.so alone.  It holds 10^5 objects of 1 to 300 bytes and frees and allocates without pause (tests/programs/live.c): the worst case, where every operation pays for live mode's generation counter and site table, and the heap is never still."
    echo
    echo "| measure | without heapviz | under heapviz | ratio | load average |"
    echo "|---|--:|--:|--:|--:|"
    awk -v a="$m1" -v b="$m101" -v l="$(loads "${lfps[@]}")" 'BEGIN { printf "| frames a second, 10^5 live blocks changing (80x24, --interval 1) | | %.1f | | %s |\n", 100 / (b - a), l }'
    awk -v a="$(printf '%s\n' "${c1[@]}" | median)" -v b="$(printf '%s\n' "${c101[@]}" | median)" 'BEGIN { printf "| the same by heapviz'"'"'s CPU time: frames a second of one CPU | | %.1f | | |\n", (b > a) ? 100 / (b - a) : 0 }'
    printf '| of which frames showing a newly read heap, a second | | %s | | |\n' "$(printf '%s\n' "${fr[@]}" | median)"
    printf '| frames a second at --interval 50 (--dump sleeps 50 ms after each frame; the run below) | | %s | | %s |\n' "$(printf '%s\n' "${wfr[@]}" | median)" "$(loads "${lwatch[@]}")"
    printf '| of which frames showing a newly read heap, a second (the run below) | | %s | | |\n' "$(printf '%s\n' "${wnh[@]}" | median)"
    printf '| heapviz'"'"'s CPU time a frame, the run below (new heaps read and drawn included) | | %s ms | | |\n' "$(printf '%s\n' "${wcf[@]}" | median)"
    printf '| heapviz'"'"'s CPU time, %% of the run'"'"'s wall time | | %s %% | | |\n' "$(printf '%s\n' "${wcs[@]}" | median)"
    printf '| the program'"'"'s time stopped or parked for reads, %% of its wall time | | %s %% | | |\n' "$(printf '%s\n' "${wst[@]}" | median)"
    row "10^5 objects, 2,000,000 frees and allocations: CPU time of the program" "$(printf '%s\n' "${pc[@]}" | median)" "$(printf '%s\n' "${wc[@]}" | median)" "$(loads "${lplain[@]}")"
    row "the same: wall" "$(printf '%s\n' "${pw[@]}" | median)" "$(printf '%s\n' "${ww[@]}" | median)" ""
    row "the same with MEM_SHARE=1 and no reader (the writer alone): CPU time" "$(printf '%s\n' "${pc[@]}" | median)" "$(printf '%s\n' "${sc[@]}" | median)" ""
    row "the same with MEM_SHARE=1 and no reader: wall" "$(printf '%s\n' "${pw[@]}" | median)" "$(printf '%s\n' "${sw[@]}" | median)" ""
    if [ ${#perl_plain[@]} -gt 0 ]; then
        row "perl work.pl 200000: CPU time" "$(printf '%s\n' "${perl_pc[@]}" | median)" "$(printf '%s\n' "${perl_wc[@]}" | median)" "$(loads "${lperl[@]}")"
        row "perl work.pl 200000: wall (perl's own, from its start to its END)" "$(printf '%s\n' "${perl_plain[@]}" | median)" "$(printf '%s\n' "${perl_watched[@]}" | median)" ""
    fi
}
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", b - a }'; }
row() { awk -v n="$1" -v p="$2" -v w="$3" -v l="$4" 'BEGIN { printf "| %s | %.3f s | %.3f s | %.2f× | %s |\n", n, p, w, (p > 0) ? w / p : 0, l }'; }

if [ $live_only = 1 ]; then
    live_section > "$tmp/live.md"
    cat "$tmp/live.md"
    if [ -n "$out" ] && [ -f "$out" ]; then
        awk '/^### live mode/ { exit } { print }' "$out" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' > "$tmp/head.md"
        awk 'index($0, "<!-- hand-added") == 1 { keep = 1 } keep { print }' "$out" > "$tmp/tail.md"
        { cat "$tmp/head.md" "$tmp/live.md"; [ -s "$tmp/tail.md" ] && echo; cat "$tmp/tail.md"; } > "$out"
        echo "programs.sh: wrote the live section of $out" >&2
    fi
    exit 0
fi

{
    echo "$MARK"
    echo
    echo "## Real programs"
    echo
    echo "Written by \`make bench\` (bench/programs.sh) on $(date -u '+%Y-%m-%d %H:%M') UTC; load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo "Each program runs with each allocator preloaded (\`LD_PRELOAD\`; glibc: none), the allocators taking turns, $runs rounds; the median of the $runs runs."
    echo "Wall time is the command's; CPU time its user + system time, all its processes included, which the other jobs of a shared machine disturb less; peak RSS the largest resident set of any of its processes (GNU time, from wait4)."
    echo "glibc's figure is given; the others are ratios to it (below 1 is better).  libmem is lib/libmem-malloc.so on its default policy (fast)."
    for note in ${notes[@]+"${notes[@]}"}; do echo "- $note"; done
    for measure in "wall time" "CPU time" "peak RSS"; do
        col=1 unit=s
        [ "$measure" = "peak RSS" ] && col=2 unit=MiB
        [ "$measure" = "CPU time" ] && col=3
        echo
        echo "### $measure"
        echo
        printf '| program | glibc |'
        for a in "${!names[@]}"; do [ "$a" -gt 0 ] && printf ' %s |' "${names[$a]}"; done
        echo
        printf '|---|--:|'
        for a in "${!names[@]}"; do [ "$a" -gt 0 ] && printf -- '--:|'; done
        echo
        for p in "${!progs[@]}"; do
            base=$(cut -d' ' -f$col "$tmp/$p.0" | median)
            if [ $col = 2 ]; then
                printf '| %s | %s %s |' "${progs[$p]}" "$(awk -v v="$base" 'BEGIN { printf "%.1f", v / 1024 }')" "$unit"
            else
                printf '| %s | %s %s |' "${progs[$p]}" "$(awk -v v="$base" 'BEGIN { printf "%.3f", v }')" "$unit"
            fi
            for a in "${!names[@]}"; do
                [ "$a" -gt 0 ] || continue
                m=$(cut -d' ' -f$col "$tmp/$p.$a" | median)
                printf ' %s× |' "$(awk -v m="$m" -v b="$base" 'BEGIN { printf "%.2f", (b > 0) ? m / b : 0 }')"
            done
            echo
        done
    done
    for p in "${!progs[@]}"; do
        case ${progs[$p]} in malloc/free\ pairs*) ;; *) continue ;; esac
        echo
        printf 'One malloc/free pair (pairs.c: its CPU time over its 2x10^7 pairs, the loop included), ns:'
        for a in "${!names[@]}"; do
            printf ' %s %s;' "${names[$a]}" "$(cut -d' ' -f3 "$tmp/$p.$a" | median | awk -v n=$PAIRS '{ printf "%.1f", $1 / (2 * n) * 1e9 }')"
        done
        echo
    done
    [ -n "$only" ] || live_section
} > "$tmp/section.md"

cat "$tmp/section.md"
if [ -n "$out" ]; then
    if [ -f "$out" ]; then
        awk -v m="$MARK" '$0 == m { exit } { print }' "$out" > "$tmp/head.md"
        # sections written by hand after ours (a line "<!-- hand-added ...")
        # stay: bench/hardening.sh's figures need a build of another commit
        awk 'index($0, "<!-- hand-added") == 1 { keep = 1 } keep { print }' "$out" > "$tmp/tail.md"
    else
        : > "$tmp/head.md"
        : > "$tmp/tail.md"
    fi
    # one blank line between the harness's tables and this section
    sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$tmp/head.md" > "$out"
    [ -s "$out" ] && echo >> "$out"
    cat "$tmp/section.md" >> "$out"
    if [ -s "$tmp/tail.md" ]; then
        echo >> "$out"
        cat "$tmp/tail.md" >> "$out"
    fi
    echo "programs.sh: wrote the real programs' section of $out" >&2
fi

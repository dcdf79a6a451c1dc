#!/usr/bin/env bash
# e2e_heapviz_dump.sh - heapviz without a terminal: golden --dump screens
# (LINES, COLUMNS, NO_COLOR, the locale and the seed pinned), determinism,
# and the command line's exits.  Prints TAP lines.
#
# UPDATE_GOLDEN=1 bash tests/e2e_heapviz_dump.sh rewrites tests/golden/*.txt
# from the current build: read the diff before committing it.
set -u
cd "$(dirname "$0")/.."
BIN=${OUT:-.}/heapviz
GOLD=tests/golden
n=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1)); failed=1
    echo "not ok $n - $1"
    shift
    for line in "$@"; do echo "#   $line"; done
}

if [ ! -x "$BIN" ]; then
    echo "not ok 1 - $BIN is not built"
    exit 1
fi

# dump NAME LINES COLUMNS LOCALE -- ARGS...: one golden screen file
golden() {
    local name=$1 lines=$2 cols=$3 loc=$4
    shift 5
    local out="$tmp/$name.txt"
    env -i PATH="$PATH" LINES="$lines" COLUMNS="$cols" NO_COLOR=1 LC_ALL="$loc" \
        "$BIN" --dump "$@" >"$out" 2>"$tmp/$name.err" </dev/null
    local rc=$?
    if [ "$rc" -ne 0 ]; then
        not_ok "golden $name: heapviz exited $rc" "$(head -c 300 "$tmp/$name.err")"
        return
    fi
    if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
        mkdir -p "$GOLD"
        cp "$out" "$GOLD/$name.txt"
        ok "golden $name (rewritten)"
    elif [ ! -f "$GOLD/$name.txt" ]; then
        not_ok "golden $name: $GOLD/$name.txt is missing (UPDATE_GOLDEN=1 makes it)"
    elif cmp -s "$out" "$GOLD/$name.txt"; then
        local args="$*"
        ok "golden $name ($lines x $cols, $loc: ${args//$'\n'/\\n})"
    else
        not_ok "golden $name differs from $GOLD/$name.txt" \
            "$(diff "$GOLD/$name.txt" "$out" | head -n 20)"
    fi
}

U=C.UTF-8
golden default_80x24     24  80 $U -- --frames 3 --skip 120
golden ascii_fragmenter  24  80 $U -- --ascii --workload fragmenter --seed 7 --skip 200
golden c_locale_next     30 100 C  -- --policy next --skip 90
golden compare_120x40    40 120 $U -- --compare first,best,worst,fast --seed 3 --skip 150
golden small_40x12       12  40 $U -- --frames 2 --skip 50
golden wide_200x60       60 200 $U -- --workload phased --size 32K --skip 300
golden help_100x40       40 100 $U -- --skip 10 --keys '?'
golden guard_overflow    30 100 $U -- --guard --skip 40 --keys $'a100\no'
golden guard_freed       30 100 $U -- --guard --skip 40 --keys $'a100\nof'
golden selected_zoom     30 100 $U -- --skip 60 --keys 'lllllzz'
golden interior_free     30 100 $U -- --skip 20 --keys $'a300\ni4e4\n'
golden trace_replay      30 100 $U -- --trace "$GOLD/lecture.rep" --frames 2 --skip 12
golden fragmenter_fail   30 100 $U -- --workload fragmenter --skip 123
golden script_ops        30 100 $U -- --ops "a100 a200 f0 a50 f1+30" --skip 5
golden script_caption    24  80 $U -- --script "$GOLD/board.hvs" --frames 3 --skip 3
golden script_ostep      24  80 C  -- --ops "+10,+20,-0,+5,-1" --size 4K --skip 5
golden handout_board     24  80 $U -- --handout --script "$GOLD/board.hvs"
golden handout_compare   24 100 $U -- --handout --compare first,best,worst --ops "a300 a100 a500 a100 f0 f2 a250 a90"
golden handout_ascii     24  80 C  -- --handout --frames 6 --seed 2 --policy next
golden compare_selected  40 120 $U -- --compare first,best,worst,fast --seed 3 --skip 150 --keys lllll
golden ostep_embedded    24  80 $U -- --handout --script demo/lectures/ostep-embedded-list.hvs
golden ostep_buddy       24  80 $U -- --handout --policy buddy --script demo/lectures/ostep-buddy.hvs
golden ostep_strategies  24 120 $U -- --predict --compare first,best,worst --script demo/lectures/ostep-basic-strategies.hvs
golden worksheet_board   24  80 $U -- --predict --script "$GOLD/board.hvs"
golden worksheet_compare 24 100 $U -- --predict --compare first,best,worst --ops "a300 a100 a500 a100 f0 f2 a250 a90"
golden worksheet_ostep   24  80 C  -- --predict --ops "+3,-0,+5,+8,-1,+4" --size 4K --policy best
# runs in the lecture's outputs: the worksheet asks for slots (R1 slot 2), the handout draws them
golden worksheet_runs    24  80 $U -- --predict --policy fast --size 64K --ops "a24 a24 a40 a300 a24 f0 f1 f4 a500 a30"
golden handout_runs      24  80 $U -- --handout --policy fast --size 64K --ops "a24 a24 a40 a300 a24 f0 f1 f4 a500 a30"
# key #: the free blocks numbered in the free list's order, in both layouts
golden free_numbers      30 100 $U -- --skip 150 --keys '#'
golden free_numbers_fast 24  80 C  -- --policy fast --skip 150 --keys '#'
# L and n: an allocation's search, block by block (× passed over, ◆ examined)
golden search_first_fit  30 100 $U -- --paused --ops a100,a50,a200,a50,a300,f0,f2,a250 --skip 7 --keys Lnn
golden search_best_fit   30 100 C  -- --paused --policy best --ops a100,a50,a200,a50,a300,f0,f2,a150 --skip 7 --keys Lnnn
golden search_buddy      30 100 $U -- --paused --policy buddy --size 2K --ops a100,a50,a200,f0,a40 --skip 4 --keys Ln
# the book's small heaps: a script on 256 bytes, a handout and a buddy worksheet
golden handout_256       24  80 $U -- --handout --size 256 --ops "a20 a30 f0 a10"
golden worksheet_buddy   24  80 $U -- --predict --size 256 --policy buddy --ops "a20 a30 f0 a10"
golden knobs_ops_lifo    24  80 $U -- --handout --size 512 --order lifo --coalesce never --ops "a40 a40 a40 f0 f2 a30 a30"
golden small_256_first   30  80 $U -- --size 256 --skip 8
golden buddy_256         30 100 $U -- --policy buddy --size 256 --skip 6 --keys $'\t'
golden buddy_ascii_4k    30  80 $U -- --ascii --policy buddy --size 4K --skip 40
golden compare_buddy     40 120 $U -- --compare first,fast,buddy --size 4K --seed 5 --skip 60
golden knobs_never       30 100 $U -- --coalesce never --order lifo --size 2K --skip 60
golden knobs_deferred    40 120 $U -- --coalesce deferred --workload fragmenter --size 2K --skip 213
# an operation number of six digits or more widens the line's prefix: its
# text wraps in the columns left (it lost a character a row and showed "…")
golden wide_op_numbers   40  80 $U -- --size 64K --policy fast --skip 120000
golden knobs_compare     40 120 $U -- --compare first,best,buddy --order fifo --coalesce deferred --size 4K --skip 80
# runs (fast): slots drawn one by one, the selected slot's run in the panel
# (tar's small objects, from a recorded trace)
TAR=bench/traces/tar-include.rep
golden runs_selected     30 100 $U -- --policy fast --trace "$TAR" --skip 3000 --keys 'llll'
golden runs_ascii        24  80 $U -- --ascii --policy fast --trace "$TAR" --skip 2000 --keys 'lll'
golden runs_compare      40 120 $U -- --compare fast,best --trace "$TAR" --skip 2500

# the same seed gives the same frames; another seed other frames
a=$(LINES=24 COLUMNS=80 NO_COLOR=1 "$BIN" --dump --frames 5 --seed 11 --skip 40 </dev/null)
b=$(LINES=24 COLUMNS=80 NO_COLOR=1 "$BIN" --dump --frames 5 --seed 11 --skip 40 </dev/null)
c=$(LINES=24 COLUMNS=80 NO_COLOR=1 "$BIN" --dump --frames 5 --seed 12 --skip 40 </dev/null)
if [ -n "$a" ] && [ "$a" = "$b" ]; then ok "same seed, same frames"; else not_ok "same seed, same frames"; fi
if [ "$a" != "$c" ]; then ok "another seed, other frames"; else not_ok "another seed, other frames"; fi

# --frames N prints N frames of LINES lines, separated by form feeds
out=$(LINES=10 COLUMNS=50 "$BIN" --dump --frames 4 </dev/null)
ff=$(printf '%s\n' "$out" | grep -c $'^\f$')
lines=$(printf '%s\n' "$out" | wc -l)
if [ "$ff" -eq 3 ] && [ "$lines" -eq 43 ]; then ok "--frames 4 gives four frames"
else not_ok "--frames 4 gives four frames" "form feeds $ff, lines $lines"; fi

# each frame is one operation further
ops=$(printf '%s\n' "$out" | grep -o 'op [0-9]*$' | tr '\n' ' ')
if [ "$ops" = "op 0 op 1 op 2 op 3 " ]; then ok "one operation a frame"
else not_ok "one operation a frame" "title counters: $ops"; fi

# a trace ends: --dump stops at its last operation, whatever --frames says
out=$(LINES=24 COLUMNS=80 "$BIN" --dump --trace "$GOLD/lecture.rep" --frames 100 </dev/null)
frames=$(( $(printf '%s\n' "$out" | grep -c $'^\f$') + 1 ))
last=$(printf '%s\n' "$out" | grep -o 'op [0-9]*$' | tail -n 1)
if [ "$frames" -eq 15 ] && [ "$last" = "op 14" ]; then ok "--dump stops with the trace: 15 frames for 14 operations"
else not_ok "--dump stops with the trace" "$frames frames, the last at '$last'"; fi

# --skip N shows op N, whatever the library counted (a realloc is one
# operation, a failed allocation too), and the events are numbered alike
for w in random fragmenter; do
    t=$(LINES=24 COLUMNS=80 "$BIN" --dump --workload $w --skip 200 </dev/null | head -n 1 | grep -o 'op [0-9]*$')
    if [ "$t" = "op 200" ]; then ok "--skip 200 --workload $w: the title says op 200"
    else not_ok "--skip 200 --workload $w: the title says op 200" "it says '$t'"; fi
done
nums=$(LINES=60 COLUMNS=120 "$BIN" --dump --trace "$GOLD/lecture.rep" --skip 14 </dev/null \
       | grep -oE '^ #[0-9]+' | tr -d ' #' | tr '\n' ' ')
if [ "$nums" = "$(seq -s ' ' 1 14) " ] || [ "$nums" = "$(seq -s ' ' $(( 15 - $(echo "$nums" | wc -w) )) 14) " ]
then ok "a trace's events are numbered one by one, its realloc once ($nums)"
else not_ok "a trace's events are numbered one by one, its realloc once" "numbers: $nums"; fi

# a 1 GiB arena costs what is drawn, not the arena: the player fills the
# ends of the large objects only (it filled all of them: 6.9 s and 846 MB)
# (an ASan build is not measured: its shadow memory and quarantine are
# the sanitizer's, and make asan runs this suite too)
if grep -qa __asan_init "$BIN" 2>/dev/null; then
    ok "# SKIP the 1 GiB bounds: $BIN is an ASan build"
elif [ -x /usr/bin/time ]; then
    for args in "--skip 1000" "--workload phased --skip 3000" "--compare all --skip 1000"; do
        # shellcheck disable=SC2086
        m=$( { LINES=24 COLUMNS=80 /usr/bin/time -f '%e %M' "$BIN" --size 1G $args --dump >/dev/null; } 2>&1 | tail -n 1)
        secs=${m% *}; kb=${m#* }
        if [ "${kb:-999999}" -le 100000 ] && awk -v s="$secs" 'BEGIN { exit !(s < 2.0) }'; then
            ok "--size 1G $args --dump: $secs s, $((kb / 1024)) MB"
        else not_ok "--size 1G $args --dump: at most 2 s and 100 MB" "$secs s, $kb KB"; fi
    done
else
    ok "# SKIP /usr/bin/time is not installed (Debian: time)"
fi

# a screen too small for --dump is an error, not a frame that asks to enlarge it
out=$(LINES=5 COLUMNS=30 "$BIN" --dump 2>"$tmp/small.err" </dev/null)
rc=$?
if [ "$rc" -eq 1 ] && [ -z "$out" ] && grep -q 'at least 40x10' "$tmp/small.err" \
    && grep -q 'LINES=5 COLUMNS=30' "$tmp/small.err"; then ok "--dump at 30x5: an error on stderr, exit 1"
else not_ok "--dump at 30x5: an error on stderr, exit 1" "rc=$rc out=$out" "$(cat "$tmp/small.err")"; fi

# without a terminal and without --dump: explain, exit non-zero
err=$("$BIN" </dev/null 2>&1 >/dev/null)
rc=$?
if [ "$rc" -ne 0 ] && grep -q -- '--dump' <<<"$err"; then ok "no terminal: explains and exits $rc"
else not_ok "no terminal: explains and exits non-zero" "rc=$rc: $err"; fi

# a mistake on the command line: the error and one line pointing at --help
# (the whole usage would scroll the error away at 80x24), exit 2
err=$("$BIN" --frobnicate 2>&1 >/dev/null)
rc=$?
if [ "$rc" -eq 2 ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 2 ] \
    && grep -q "^heapviz: unknown option '--frobnicate'$" <<<"$err" && grep -q -- '--help' <<<"$err"
then ok "unknown option: the error and a pointer at --help, exit 2"
else not_ok "unknown option: the error and a pointer at --help, exit 2" "rc=$rc" "$err"; fi
wide=$("$BIN" --help | LC_ALL=C.UTF-8 awk 'length($0) > 80')
if [ -z "$wide" ]; then ok "every line of --help fits 80 columns"
else not_ok "every line of --help fits 80 columns" "$wide"; fi

out=$("$BIN" --help)
rc=$?
if [ "$rc" -eq 0 ] && grep -q -- '--compare LIST' <<<"$out"; then ok "--help exits 0 with the options"
else not_ok "--help" "rc=$rc"; fi
out=$("$BIN" --version)
if grep -q '^heapviz [0-9]' <<<"$out"; then ok "--version: $out"; else not_ok "--version" "$out"; fi

# a script with a mistake is refused with its line and column, and nothing runs
err=$("$BIN" --dump --ops "a100 a200 f0 f0" 2>&1 >/dev/null)
rc=$?
if [ "$rc" -eq 1 ] && [ "$err" = "heapviz: --ops:1:14: 'f0': allocation 0 is already free (freed on line 1)" ]
then ok "--ops with a double free: refused at line and column"
else not_ok "--ops with a double free: refused at line and column" "rc=$rc: $err"; fi
printf 'a10\ncaption fine\nf0+10\n' >"$tmp/bad.hvs"
err=$("$BIN" --dump --script "$tmp/bad.hvs" 2>&1 >/dev/null)
rc=$?
if [ "$rc" -eq 1 ] && grep -q "bad.hvs:3:4: 'f0+10': byte 10 is outside allocation 0 (10 bytes)" <<<"$err"
then ok "--script: an offset outside its object is refused at line 3, column 4"
else not_ok "--script: an offset outside its object is refused" "rc=$rc: $err"; fi
err=$("$BIN" --dump --ops a1 --trace "$GOLD/lecture.rep" 2>&1 >/dev/null)
rc=$?
if [ "$rc" -eq 2 ] && grep -q "exclude each other" <<<"$err"; then ok "--ops and --trace exclude each other"
else not_ok "--ops and --trace exclude each other" "rc=$rc: $err"; fi
# a .rep without its four header lines runs as one with them
printf 'a 0 200\na 1 300\nf 0\n' >"$tmp/nohdr.rep"
a=$(LINES=24 COLUMNS=80 NO_COLOR=1 "$BIN" --dump --trace "$tmp/nohdr.rep" --skip 3 </dev/null | sed 1d)
printf '4096\n2\n3\n1\na 0 200\na 1 300\nf 0\n' >"$tmp/hdr.rep"
b=$(LINES=24 COLUMNS=80 NO_COLOR=1 "$BIN" --dump --trace "$tmp/hdr.rep" --skip 3 --size 8K </dev/null | sed 1d)
if [ -n "$a" ] && [ "$a" = "$b" ]; then ok "a .rep without a header is accepted"
else not_ok "a .rep without a header is accepted" "$(diff <(echo "$a") <(echo "$b") | head -5)"; fi

# --svg and --html write the frame and exit without a terminal; a path that
# cannot be written is an error
if env LINES=30 COLUMNS=100 "$BIN" --skip 40 --svg "$tmp/f.svg" --html "$tmp/f.html" </dev/null &&
   grep -q '<svg xmlns' "$tmp/f.svg" && grep -q '<pre>' "$tmp/f.html"
then ok "--svg and --html write the frame"
else not_ok "--svg and --html write the frame"; fi
if command -v xmllint >/dev/null && xmllint --noout "$tmp/f.svg" 2>"$tmp/x.err"; then ok "the SVG is well-formed XML (xmllint)"
else not_ok "the SVG is well-formed XML (xmllint)" "$(head -3 "$tmp/x.err" 2>/dev/null)"; fi
err=$("$BIN" --svg /no/such/dir/f.svg </dev/null 2>&1)
rc=$?
if [ "$rc" -eq 1 ] && [ "$err" = "heapviz: /no/such/dir/f.svg: No such file or directory" ]
then ok "--svg into a missing directory: exit 1 with the reason"
else not_ok "--svg into a missing directory: exit 1 with the reason" "rc=$rc: $err"; fi
err=$("$BIN" --handout 2>&1 >/dev/null)
if [ $? -eq 2 ] && grep -q -- '--handout works with --dump' <<<"$err"; then ok "--handout without --dump is refused"
else not_ok "--handout without --dump is refused" "$err"; fi
# a handout stops at the end of its script: one bar for the start, one per operation
lines=$(COLUMNS=80 "$BIN" --dump --handout --ops "a1 a2 f0" | grep -cE '^(start|#[0-9]+) ')
if [ "$lines" -eq 4 ]; then ok "a handout of three operations has four bars"
else not_ok "a handout of three operations has four bars" "$lines"; fi

# a malformed trace is refused with its line number
printf '1000\n2\n2\n1\na 0 10\nz 1 2\n' >"$tmp/bad.rep"
err=$("$BIN" --dump --trace "$tmp/bad.rep" 2>&1 >/dev/null)
rc=$?
if [ "$rc" -ne 0 ] && grep -q 'bad.rep:6' <<<"$err"; then ok "malformed trace: refused at its line ($err)"
else not_ok "malformed trace refused with its line" "rc=$rc: $err"; fi

[ "$failed" -eq 0 ]

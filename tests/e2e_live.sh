#!/usr/bin/env bash
# e2e_live.sh - heapviz's live mode end to end: `heapviz --dump -- CMD`
# frames of a running program's heap, its exit status and output file, a
# busy program read while it changes its heap (torn reads must never crash
# heapviz), the writer's presence and parking protocol, forks of a live program, --attach to a MEM_SHARE=1 program, and
# the terminal: Space stops and continues the program, q ends it.  TAP.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-.}
BIN=$(realpath "$OUT/heapviz" 2>/dev/null || true)
SO=$(realpath "$OUT/lib/libmem-malloc.so" 2>/dev/null || true)
CC=${CC:-cc}
tmp=$(mktemp -d)
n=0
pids=()
cleanup() {
    for p in ${pids[@]+"${pids[@]}"}; do kill -9 "$p" 2>/dev/null; done
    tmux -L "live-e2e-$$" kill-server >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

if [ ! -x "$BIN" ] || [ ! -f "$SO" ]; then
    not_ok "heapviz and lib/libmem-malloc.so are built"
    echo "1..$n"
    exit 1
fi
for p in live threads forks; do
    if ! "$CC" -O2 -fno-builtin -w -pthread -o "$tmp/$p" "tests/programs/$p.c" 2>"$tmp/cc.err"; then
        not_ok "tests/programs/$p.c compiles" "$(cat "$tmp/cc.err")"
        echo "1..$n"
        exit 1
    fi
done
export LC_ALL=C.UTF-8 LINES=24 COLUMNS=80

# 1. A program that holds 1000 objects, frees most, exits with 3: frames.
"$BIN" --dump --frames 12 --interval 100 --output "$tmp/live.out" -- "$tmp/live" 1000 400 \
    > "$tmp/frames" 2> "$tmp/err"
rc=$?
last=$(awk 'BEGIN { RS = "\f\n" } { f = $0 } END { print f }' "$tmp/frames")
if [ $rc -eq 0 ] && grep -q "live: live (pid [0-9]*)" "$tmp/frames" &&
   grep -q "running · output: $tmp/live.out" "$tmp/frames"; then
    ok "heapviz --dump -- CMD draws the program's heap, titled with its name and pid"
else
    not_ok "heapviz --dump -- CMD draws the program's heap" "exit $rc" "$(cat "$tmp/err")" "$(head -n 24 "$tmp/frames")"
fi
if grep -q "exited with status 3 · output: $tmp/live.out" <<<"$last" &&
   grep -Eq 'live objects +[0-9.]+ (B|KiB)' <<<"$last" && grep -q '█\|▓' <<<"$last"; then
    ok "after the program exits its last heap is kept and the status says 'exited with status 3'"
else
    not_ok "after the program exits its last heap is kept" "$last"
fi
# The ring's events carry the run and slot (mem_live.h version 4): a small
# object's allocation is told as a slot of a run, as on heapviz's own heaps;
# before, it read "examined 1 free block, chose 112 B ... split off 0 B".
if grep -Eq '^ #[0-9]+ +alloc [0-9]+ B: fast fit took slot [0-9]+ of the run of [0-9]+ B slots' \
        "$tmp/frames" &&
   ! grep -Eq 'alloc ([0-9]|[1-9][0-9]) B: fast fit examined' "$tmp/frames"; then
    ok "live events say which run and slot a small object took"
else
    not_ok "live events say which run and slot a small object took" "$(grep -E '^ #' "$tmp/frames" | head)"
fi
if printf 'holding 1000 objects\nfreed 990\n' | cmp -s - "$tmp/live.out"; then
    ok "the program's stdout and stderr went to --output, not over the frames"
else
    not_ok "the program's output went to --output" "$(cat "$tmp/live.out")"
fi
holding=$(grep -m1 -Eo 'live objects +[0-9.]+ KiB' "$tmp/frames" | grep -Eo '[0-9.]+ KiB')
if grep -Eq '#[0-9]+ +(alloc|free)' "$tmp/frames" && [ -n "$holding" ]; then
    ok "its events are logged and its statistics shown (live objects $holding while holding)"
else
    not_ok "its events are logged" "$(head -n 24 "$tmp/frames")"
fi
# the title counts the program's operations (its heap's count), not frames:
# at the end at least its 1000 allocations and 990 frees, and no event
# shown is numbered beyond it
op=$(head -n 1 <<<"$last" | grep -Eo 'op [0-9]+ *$' | grep -Eo '[0-9]+')
top=$(grep -Eo '^ #[0-9]+' <<<"$last" | tr -d ' #' | sort -n | tail -n 1)
if [ -n "$op" ] && [ "$op" -ge 1990 ] && [ "${top:-0}" -le "$op" ]; then
    ok "the title's op counts the program's operations (op $op, last event #${top:-none})"
else
    not_ok "the title's op counts the program's operations" "title: $(head -n 1 <<<"$last")" "last event #$top"
fi

# 1b. Where the blocks came from: the sites panel (s) and the selected block
# name the allocating function and its file:line through libdw (libdw1);
# without it (HEAPVIZ_NO_LIBDW=1) the module and offset.
gcc_g() { "$CC" -O1 -g -fno-builtin -w -o "$tmp/live_g" tests/programs/live.c; }
if gcc_g 2>"$tmp/cc.err"; then
    LINES=30 COLUMNS=110 "$BIN" --dump --frames 1 --keys 'sl' --output "$tmp/sites.out" -- \
        "$tmp/live_g" 1000 1000 > "$tmp/frames" 2> "$tmp/err"
    line=$(grep -E '^ +[0-9.]+ KiB +1000× ' "$tmp/frames")
    if ldconfig -p | grep -q 'libdw.so.1 '; then
        if grep -q 'main (live.c:[0-9]*)' <<<"$line" && grep -q 'from main (live.c:[0-9]*)' "$tmp/frames"; then
            ok "the sites panel puts the 1000 objects at main (live.c:N), as the selected block says (libdw)"
        else
            not_ok "the sites panel names main (live.c:N) through libdw" "$(sed -n 18,30p "$tmp/frames")"
        fi
    else
        ok "SKIP symbolisation through libdw: libdw.so.1 is not installed"
    fi
    HEAPVIZ_NO_LIBDW=1 LINES=30 COLUMNS=110 "$BIN" --dump --frames 1 --keys 's' --output "$tmp/sites.out" -- \
        "$tmp/live_g" 1000 1000 > "$tmp/frames" 2> "$tmp/err"
    if grep -Eq '^ +[0-9.]+ KiB +1000× live_g\+0x[0-9a-f]+$' "$tmp/frames"; then
        ok "without libdw a site is its module and offset (live_g+0x...)"
    else
        not_ok "without libdw a site is its module and offset" "$(sed -n 18,30p "$tmp/frames")"
    fi
else
    not_ok "tests/programs/live.c compiles with -g" "$(cat "$tmp/cc.err")"
fi
MEM_BACKTRACE=9 "$BIN" --dump --frames 1 --output "$tmp/bt.out" -- "$tmp/live" 10 10 > /dev/null 2>&1
if grep -q '^libmem-malloc: MEM_BACKTRACE=9: not 1 to 8 frames$' "$tmp/bt.out"; then
    ok "MEM_BACKTRACE=9 is refused (1 to 8 frames)"
else
    not_ok "MEM_BACKTRACE=9 is refused" "$(cat "$tmp/bt.out")"
fi

# 2. A busy program (8 threads) read while it changes its heap: every frame
# is drawn, heapviz ends cleanly, and the program's output is what it is
# without heapviz.  (It runs under nice: its 8 threads would otherwise take
# both cores of a small machine from heapviz and end in a frame or two.)
"$tmp/threads" > "$tmp/threads.plain"
"$BIN" --dump --frames 1500 --interval 10 --output "$tmp/threads.out" -- nice -n 10 "$tmp/threads" \
    > "$tmp/frames" 2> "$tmp/err"
rc=$?
frames=$(( $(grep -c $'^\f$' "$tmp/frames") + 1 ))
if [ $rc -eq 0 ] && [ "$frames" -ge 2 ] && grep -q "exited with status 0" "$tmp/frames" && cmp -s "$tmp/threads.plain" "$tmp/threads.out"; then
    ok "8 busy threads, read every 10 ms while they change the heap ($frames frames until they end), identical output"
else
    not_ok "8 busy threads read while they change the heap" "exit $rc, $frames frames" \
        "$(cat "$tmp/err")" "$(diff "$tmp/threads.plain" "$tmp/threads.out")"
fi
"$BIN" --dump --frames 10 --interval 30 --output "$tmp/churn.out" -- "$tmp/live" 100000 0 churn \
    > "$tmp/frames" 2> "$tmp/err"
rc=$?
frames=$(( $(grep -c $'^\f$' "$tmp/frames") + 1 ))
if [ $rc -eq 0 ] && [ "$frames" -eq 10 ] && grep -q "live objects" "$tmp/frames" &&
   ! pgrep -f "$tmp/live 100000" > /dev/null; then
    ok "a program that never stops changing 10^5 objects is drawn, and ended when heapviz ends"
else
    not_ok "a program churning 10^5 objects is drawn and ended" "exit $rc, $frames frames" "$(cat "$tmp/err")"
fi

# 2b. The map shows the program's heap, not the arena: 10^5 objects of 100
# bytes (runs of them at the arena's top, the array that holds them at its
# bottom) in a 1 GiB arena.  The automatic zoom shows the part of the heap
# holding more (the runs: some MiB, then the arena's tables), says where the
# rest is, and most of the map's cells hold objects (at the arena's scale,
# two cells would).  A running program's heap is read again no sooner than
# 500 times the last walk (at most 1 s later): the last frame comes 2.1 s
# in, after the program has held its objects still for more than that.
COLUMNS=160 "$BIN" --dump --frames 8 --interval 300 --output "$tmp/zoom.out" -- "$tmp/live" 100000 4000 \
    > "$tmp/frames" 2> "$tmp/err"
last=$(awk 'BEGIN { RS = "\f\n" } { f = $0 } END { print f }' "$tmp/frames")
zoom=$(grep -o 'zoom +0x[0-9a-f]*–+0x[0-9a-f]*' <<<"$last" | head -n 1)
zlo=$(sed 's/zoom +0x\([0-9a-f]*\)–.*/\1/' <<<"$zoom")
zhi=$(sed 's/.*–+0x\([0-9a-f]*\)/\1/' <<<"$zoom")
span=0
[ -n "$zlo" ] && [ -n "$zhi" ] && span=$(( 16#$zhi - 16#$zlo ))
cells=$(grep -E '^\+0x[0-9a-f]+ ' <<<"$last" | sed -E 's/^\+0x[0-9a-f]+ //' | tr -d '\n' | wc -m)
objects=$(grep -E '^\+0x[0-9a-f]+ ' <<<"$last" | sed -E 's/^\+0x[0-9a-f]+ //' | grep -o '[■▪█▓]' | wc -l)
if [ -n "$zoom" ] && [ "$span" -gt 0 ] && [ "$span" -le $((64 << 20)) ] && [ "$cells" -gt 0 ] &&
   [ $((objects * 2)) -ge "$cells" ] &&
   grep -q "map: the upper part of the heap; [0-9.]* [KM]iB more in use at +0x" "$tmp/frames"; then
    ok "the live map zooms on the program's heap ($zoom: $((span >> 20)) MiB of the 1 GiB arena, $objects of $cells cells objects) and says where the rest is"
else
    not_ok "the live map zooms on the program's heap" "zoom '$zoom' span $span, $objects of $cells cells objects" "$last"
fi

# 2c. The writer's side of the reader's page (lib/mem_live.h), checked by a
# reader of its own (tests/programs/livecheck.c) on a program that never
# stops allocating: no events while no reader is seen, events again when
# one is; a park answered at an even generation that stays put until the
# release; a park never released ends by the writer's own bound
# (LIVE_PARK_MAX_NS, 20 ms by its clock; the test allows the scheduler
# 200 ms more on a loaded machine); a reader asking all the time gets at
# most 5 % of the program's time (plus the last wait).
if "$CC" -O2 -w -D_GNU_SOURCE -Ilib -o "$tmp/livecheck" tests/programs/livecheck.c 2>"$tmp/cc.err"; then
    val() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
    "$tmp/livecheck" "$SO" absent "$tmp/live" 100000 0 churn > "$tmp/lc.absent" 2>&1
    if [ "$(val events_absent "$tmp/lc.absent")" = 0 ] && [ "$(val unrecorded_absent "$tmp/lc.absent")" -gt 0 ] &&
       [ "$(val events_present "$tmp/lc.absent")" -gt 0 ]; then
        ok "no reader seen: the writer sends no events and counts its operations ($(val unrecorded_absent "$tmp/lc.absent") in a second); a reader seen: events again ($(val events_present "$tmp/lc.absent"))"
    else
        not_ok "the writer sends events only while a reader is seen" "$(cat "$tmp/lc.absent")"
    fi
    "$tmp/livecheck" "$SO" park "$tmp/live" 100000 0 churn > "$tmp/lc.park" 2>&1
    max=$(val max_ms "$tmp/lc.park")
    if [ "$(val parked "$tmp/lc.park")" = 1 ] && [ "$(val still "$tmp/lc.park")" = 1 ] &&
       [ "$(val resumed "$tmp/lc.park")" = 1 ] && [ "$(val alone "$tmp/lc.park")" = 1 ] &&
       awk -v m="$max" 'BEGIN { exit !(m >= 19 && m < 220) }'; then
        ok "a park: answered at an even generation that stays put until the release; never released, the writer goes on by itself (its longest wait $max ms, bound 20 ms)"
    else
        not_ok "a park is answered, held, released, and bounded by the writer" "$(cat "$tmp/lc.park")"
    fi
    "$tmp/livecheck" "$SO" budget "$tmp/live" 100000 0 churn > "$tmp/lc.budget" 2>&1
    pm=$(val park_ms "$tmp/lc.budget") wm=$(val wall_ms "$tmp/lc.budget")
    if [ "$(val parks "$tmp/lc.budget")" -gt 0 ] && [ "$(val refused "$tmp/lc.budget")" -gt 0 ] &&
       awk -v p="$pm" -v w="$wm" 'BEGIN { exit !(w > 0 && p <= 0.05 * w + 25) }'; then
        ok "a reader asking all the time: $(val parks "$tmp/lc.budget") parks, $(val refused "$tmp/lc.budget") refused, $pm ms parked in $wm ms (at most 5 % and one wait)"
    else
        not_ok "the writer keeps parks within 5 % of its time" "$(cat "$tmp/lc.budget")"
    fi
else
    not_ok "tests/programs/livecheck.c compiles" "$(cat "$tmp/cc.err")"
fi

# 2d. heapviz draws as SCHED_BATCH (its wakeups do not preempt the program);
# the program keeps the usual policy (field 41 of /proc/PID/stat: 3 is
# SCHED_BATCH, 0 SCHED_OTHER).
policy() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $39 }'; }
"$BIN" --dump --frames 40 --interval 50 --output "$tmp/batch.out" -- "$tmp/live" 1000 3000 \
    > /dev/null 2>&1 &
hpid=$!
pids+=("$hpid")
cpid=
for _ in $(seq 50); do
    cpid=$(pgrep -P "$hpid" | head -n 1)
    [ -n "$cpid" ] && grep -q holding "$tmp/batch.out" 2>/dev/null && break
    sleep 0.1
done
hp=$(policy "$hpid") cp=$(policy "$cpid")
if [ "$hp" = 3 ] && [ "$cp" = 0 ]; then
    ok "heapviz draws as SCHED_BATCH, the program it started keeps SCHED_OTHER"
else
    not_ok "heapviz draws as SCHED_BATCH, the program keeps SCHED_OTHER" "heapviz $hpid: '$hp', program $cpid: '$cp'"
fi
wait "$hpid" 2>/dev/null

# 3. Forks: each child goes on with a private copy of the heap.
"$BIN" --dump --frames 600 --interval 100 --output "$tmp/forks.out" -- "$tmp/forks" \
    > "$tmp/frames" 2> "$tmp/err"
if grep -q '^children: 100 succeeded, 0 failed$' "$tmp/forks.out"; then
    ok "a live program forking from 4 threads: its 100 children all succeed"
else
    not_ok "a live program forking from threads" "$(cat "$tmp/forks.out")"
fi

# 4. --attach to a program started with MEM_SHARE=1.
MEM_SHARE=1 LD_PRELOAD=$SO "$tmp/live" 500 3000 > "$tmp/attach.out" &
apid=$!
pids+=("$apid")
for _ in $(seq 50); do grep -q holding "$tmp/attach.out" 2>/dev/null && break; sleep 0.1; done
"$BIN" --dump --frames 2 --interval 50 --attach "$apid" > "$tmp/frames" 2> "$tmp/err"
rc=$?
if [ $rc -eq 0 ] && grep -q "live: live (pid $apid)" "$tmp/frames" &&
   grep -q "running · output: its own" "$tmp/frames" && kill -0 "$apid" 2>/dev/null; then
    ok "--attach PID draws a MEM_SHARE=1 program's heap and leaves it running"
else
    not_ok "--attach PID draws a MEM_SHARE=1 program's heap" "exit $rc" "$(cat "$tmp/err")" "$(head -n 5 "$tmp/frames")"
fi
kill "$apid" 2>/dev/null
"$BIN" --dump --attach "$$" > /dev/null 2> "$tmp/err"
if [ $? -eq 1 ] && grep -q "shares no heap" "$tmp/err"; then
    ok "--attach to a process that shares no heap says so (exit 1)"
else
    not_ok "--attach to a process that shares no heap" "$(cat "$tmp/err")"
fi

# e exports the frame on the screen in live mode too (into the current directory)
mkdir "$tmp/export"
(cd "$tmp/export" && "$BIN" --dump --keys e -- "$tmp/live" 100 300 > "$tmp/export.frames" 2>&1)
svg=$(ls "$tmp/export"/heapviz-step*.svg 2>/dev/null | head -n 1)
if [ -n "$svg" ] && grep -q 'frame exported' "$tmp/export.frames" &&
   grep -q '<svg' "$svg" && grep -q 'live: live (pid [0-9]' "$svg"; then
    ok "e exports a live frame (SVG and HTML, titled with the program)"
else
    not_ok "e exports a live frame" "$(ls "$tmp/export")" "$(tail -n 2 "$tmp/export.frames")"
fi

# 5. The terminal: Space stops and continues the program; q ends it.
if command -v tmux > /dev/null 2>&1; then
    t() { tmux -L "live-e2e-$$" -f /dev/null "$@"; }
    cap() { t capture-pane -p -t live 2>/dev/null; }
    wait_for() { for _ in $(seq 100); do cap | grep -q -- "$1" && return 0; sleep 0.05; done; return 1; }
    t new-session -d -s live -x 150 -y 30 \
        "env TERM=xterm-256color $BIN --output $tmp/tui.out -- $tmp/live 2000 600000"
    if wait_for "live: live (pid"; then
        ok "in a terminal: the live map of the program, with its name and pid"
    else
        not_ok "in a terminal: the live map of the program" "$(cap)"
    fi
    lpid=$(cap | grep -o 'live: live (pid [0-9]*' | grep -o '[0-9]*$' | head -n 1)
    t send-keys -t live ' '
    state=
    for _ in $(seq 50); do
        state=$(awk '{ print $3 }' "/proc/$lpid/stat" 2>/dev/null)
        [ "$state" = T ] && break
        sleep 0.05
    done
    if [ "$state" = T ] && wait_for "paused · output: $tmp/tui.out"; then
        ok "Space stops the program (state T) and the status line says paused"
    else
        not_ok "Space stops the program" "state '$state'" "$(cap)"
    fi
    t send-keys -t live ' '
    for _ in $(seq 50); do
        state=$(awk '{ print $3 }' "/proc/$lpid/stat" 2>/dev/null)
        [ "$state" != T ] && break
        sleep 0.05
    done
    if [ "$state" != T ] && wait_for "running · output"; then
        ok "Space again continues it"
    else
        not_ok "Space again continues it" "state '$state'" "$(cap)"
    fi
    t send-keys -t live 'a'
    if wait_for "│ live: the"; then
        ok "keys that would change the heap are refused, with a reason"
    else
        not_ok "keys that would change the heap are refused" "$(cap)"
    fi
    # a lecture's keys: no past is kept, and the program does not wait
    t send-keys -t live 'b'
    if wait_for "│ live: no t"; then  # (80 columns: the message is cut)
        ok "b (time travel) is refused in live mode, with a reason"
    else
        not_ok "b is refused in live mode" "$(cap)"
    fi
    t send-keys -t live 'P'
    if wait_for "│ live: not"; then
        ok "P (predict) is refused in live mode, with a reason"
    else
        not_ok "P is refused in live mode" "$(cap)"
    fi
    t send-keys -t live 'q'
    for _ in $(seq 60); do kill -0 "$lpid" 2>/dev/null || break; sleep 0.05; done
    if ! kill -0 "$lpid" 2>/dev/null; then
        ok "q leaves heapviz and ends the program it started"
    else
        not_ok "q ends the program" "pid $lpid still runs"
        kill -9 "$lpid" 2>/dev/null
    fi
else
    ok "SKIP the terminal checks: tmux is not installed"
fi

echo "1..$n"

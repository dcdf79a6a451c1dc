#!/usr/bin/env bash
# e2e_heapviz_tmux.sh - heapviz in a real terminal: tmux on a private socket
# runs it, send-keys types, capture-pane reads the screen.  Every check
# polls the screen with a timeout instead of sleeping a fixed time.
# Prints TAP lines; skips (as one passing line) when tmux is missing.
set -u
cd "$(dirname "$0")/.."
. tests/tmux_lib.sh

# A left click at column $1, row $2 (1-based) as this terminal reports it:
# SGR 1006 when its kmous says so, else the X10 bytes.
click() {
    if infocmp -1x "$TERM_E2E" 2>/dev/null | grep -q 'kmous=\\E\[<'; then
        keys -l $'\e[<0;'"$1;$2"'M'$'\e[<0;'"$1;$2"'m'
    else
        local x y
        x=$(printf "\\$(printf '%03o' $((32 + $1)))")
        y=$(printf "\\$(printf '%03o' $((32 + $2)))")
        keys -l $'\e[M '"$x$y"$'\e[M#'"$x$y"
    fi
}

# ---- starts, draws the bar, pause and step ------------------------------------
start 100 30 --paused --seed 5
check "starts and draws title, ruler and bar" 5 '^\+0x0000 .*[│·█▓|.#]'
if cap | grep -q 'heapviz' && cap | grep -q '? help' && cap | grep -qE '(objects|header).*free'; then
    ok "title, legend and status line are there"
else
    not_ok "title, legend and status line are there"
fi
check "starts paused with --paused" 3 'paused'
before=$(op_count)
keys n
until_match 3 'op 1 *$' && keys n && until_match 3 'op 2 *$' && keys n
if until_match 3 'op 3 *$'; then ok "n steps one operation at a time ($before → 3)"
else not_ok "n steps one operation at a time" "before=$before now=$(op_count)"; fi
if cap | grep -qE '#3 +(alloc|free)'; then ok "each step is explained in the events"
else not_ok "each step is explained in the events"; fi
keys Space
sleep 0.6
until_match 3 'running' >/dev/null
a=$(op_count)
i=0
while [ "$(op_count)" = "$a" ] && [ $i -lt 60 ]; do sleep 0.05; i=$((i + 1)); done
b=$(op_count)
if [ "${b:-0}" -gt "${a:-0}" ]; then ok "Space runs: the count goes on ($a → $b)"
else not_ok "Space runs: the count goes on" "$a → $b"; fi
keys Space
until_match 3 'paused' >/dev/null
c=$(op_count)
sleep 0.8
d=$(op_count)
if [ -n "$c" ] && [ "$c" = "$d" ]; then ok "Space pauses: the count stays at $c"
else not_ok "Space pauses: the count stays" "$c then $d"; fi
# Ctrl-S is XOFF to a terminal with flow control on: the display would freeze.
keys C-s
keys n
if until_match 3 "op $((d + 1)) *\$"; then ok "Ctrl-S does not freeze the display (a step still shows)"
else not_ok "Ctrl-S does not freeze the display" "op count $(op_count), wanted $((d + 1))"; fi

# ---- a mouse click, as the terminal reports it (tmux's own mouse is off) -------------
click 30 3
check "a mouse click on the map selects a block" 3 '\+0x[0-9a-f]+ (used|free) · [0-9.]+ (B|KiB) block'

# ---- allocating through the prompt, freeing the selected block -----------------
keys a
check "a asks for a size" 3 'allocate how many bytes'
keys 7 7 7 Enter
check "the allocation is reported and explained" 3 'alloc 777 B: first fit examined'
if cap | grep -qE 'allocated 777 B: the object is at \+0x[0-9a-f]+'; then ok "status says where the object went"
else not_ok "status says where the object went"; fi
if cap | grep -qE '━'; then ok "the new block is selected (marked under the bar)"
else not_ok "the new block is selected"; fi
keys f
check "f frees the selected block" 3 'freed the object at \+0x'
check "the free is explained in the events" 3 'free \+0x[0-9a-f]+ → object at \+0x[0-9a-f]+ \(777 B\)'
keys f
check "f on a free block says so" 3 'already free'

# ---- an interior free at a typed offset -----------------------------------------
keys a 3 0 0 Enter
until_match 3 'allocated 300 B' >/dev/null
obj=$(cap | grep -oE 'allocated 300 B: the object is at \+0x[0-9a-f]+' | grep -oE '0x[0-9a-f]+$')
inner=$(printf '0x%x' $((obj + 100)))
keys i
check "i asks for an offset" 3 'free at which offset'
keys -l "$inner"
keys Enter
check "interior free: byte 100 frees the 300 B object" 3 "\+$inner is byte 100 of the 300 B object at \+$obj"
check "interior free is explained with both addresses" 3 "free \+$inner → object at \+$obj \(300 B\)"
keys i
keys -l "$inner"
keys Enter
check "freeing it again is refused with the library's reason" 3 "refused: it points into a free block"

# ---- a key that makes no sense, the help overlay -----------------------------------
keys x
check "an unknown key says so" 3 "'x' does nothing here"
keys '?'
check "? opens the help" 3 'heapviz help'
if cap | grep -q 'padding: unused bytes after an object'; then ok "the help has the legend"
else not_ok "the help has the legend"; fi
keys End
check "End scrolls the help to the keys" 3 'zoom in / out'
keys Home
keys Escape
if until_gone 3 'heapviz help'; then ok "Esc closes the help"; else not_ok "Esc closes the help"; fi
keys F1
check "F1 opens the help" 3 'heapviz help'
keys '?'
until_gone 3 'heapviz help' >/dev/null

# ---- selection, zoom, policy ----------------------------------------------------------
keys Home
check "Home selects the first block (+0x8)" 3 '\+0x8 (used|free) · '
keys Right Right Tab
check "Tab walks the free list" 3 'free list: block 1 of'
keys z
check "z zooms in, the title says where" 3 'zoom \+0x'
keys Z Z Z Z
check "Z zooms back out to the whole arena" 3 'already showing the whole arena'
keys p
check "p cycles the policy (first → next)" 3 'heapviz · next fit'
check "p replays the same operations under the next policy" 3 'policy: next fit; the same [0-9]+ operations again'
keys p
check "p again: best fit" 3 'heapviz · best fit'
keys w
check "w cycles the workload" 3 'workload: stack'

# ---- resizing ---------------------------------------------------------------------------
t resize-window -t 0 -x 40 -y 12
check "resized to 40x12: it re-lays out" 3 '^\+0x0000 '
if cap | head -n 1 | grep -q 'heapviz' && [ "$(cap | head -n 1 | wc -c)" -le 44 ]; then ok "40x12 keeps its title within 40 columns"
else not_ok "40x12 keeps its title within 40 columns"; fi
t resize-window -t 0 -x 200 -y 60
check "resized to 200x60: panels side by side" 3 'stats .*selected block .*history'
t resize-window -t 0 -x 30 -y 8
check "below the minimum it says the terminal is too small" 3 'terminal too small: 30x8'
t resize-window -t 0 -x 100 -y 30
check "and recovers when enlarged" 3 '^\+0x0000 '

# ---- q restores the terminal ---------------------------------------------------------------
keys q
check "q quits with status 0" 3 'HEAPVIZ-EXIT=0'
if ! cap | grep -q '+0x0000'; then ok "q leaves the alternate screen"
else not_ok "q leaves the alternate screen"; fi

# ---- compare mode -----------------------------------------------------------------------------
start 120 40 --compare first,best,worst,fast --seed 3
check "compare mode stacks a bar per policy" 5 'fast fit +ext'
if cap | grep -q '▶ first fit' && cap | grep -qE 'best fit +ext' && cap | grep -qE 'worst fit +ext'; then
    ok "each policy has its own stats line"
else not_ok "each policy has its own stats line"; fi
if [ "$(cap | grep -c '^+0x0000 ')" -eq 4 ]; then ok "four bars on one scale"
else not_ok "four bars on one scale"; fi
keys Down
check "Down moves to the next heap" 3 '▶ best fit'
keys p
check "p in compare mode changes the selected heap's policy" 3 'the best fit heap is buddy now'
check "the heap's line names its new policy" 3 '▶ buddy +ext'
keys a 6 4 Enter
check "a allocates in every heap in lockstep" 3 'allocated 64 B'
keys q
check "q quits compare mode" 3 'HEAPVIZ-EXIT=0'

# ---- guard mode: the overflow key, and what free then says ------------------------------------
start 100 30 --guard --paused --seed 2
until_match 5 '^\+0x0000 ' >/dev/null
keys a 1 0 0 Enter
until_match 3 'allocated 100 B' >/dev/null
keys o
check "o overflows the selected object, into its padding" 3 'wrote 4 B past the object: its guard is broken'
check "the broken guard is drawn under the bar" 3 '^ +[^+]*!+'
check "the log says what was written" 3 'you wrote 4 B past the end of the 100 B object'
keys f
check "freeing it reports the overflow in words" 3 'OVERFLOW: 4 B of the guard after the 100 B object'
# ---- speed, the other movement keys, H help, reset --------------------------------------------
keys +
check "+ runs faster" 3 'speed 15 op/s'
keys - -
check "- runs slower" 3 'speed 4 op/s'
keys a 5 0 Enter
until_match 3 'allocated 50 B' >/dev/null
keys a 6 0 Enter
until_match 3 'allocated 60 B' >/dev/null
keys Home
until_match 3 '\+0x8 (used|free) · ' >/dev/null
keys l l
if until_match 3 '\+0x[0-9a-f]+ (used|free) · ' && ! cap | grep -qE '\+0x8 (used|free) · '; then
    ok "l moves right, off the first block"
else not_ok "l moves right, off the first block"; fi
sel() { cap | grep -oE '\+0x[0-9a-f]+ (used|free) · ' | head -n 1; }
# moved KEY NAME EDGE: the key changes the selection, or says it is at EDGE
moved() {
    local before after i=0
    before=$(sel)
    keys "$1"
    while [ $i -lt 60 ]; do
        after=$(sel)
        if [ "$after" != "$before" ] || cap | grep -q "$3"; then ok "$2 ($before→$after)"; return; fi
        sleep 0.05
        i=$((i + 1))
    done
    not_ok "$2" "selection stayed at $before"
}
moved h "h moves left" 'this is the first block'
moved j "j moves a row down" 'this is the bottom row'
moved k "k moves a row up" 'this is the top row'
keys z PgDn
if ! cap | grep -q 'z zooms in first'; then ok "PgDn pans a zoomed view"; else not_ok "PgDn pans a zoomed view"; fi
keys Z Z Z Z H
check "H opens the help as well" 3 'heapviz help'
keys Escape r
check "r resets: empty heap, the workload from its seed" 3 'reset: empty heaps'
check "r keeps what was typed: it comes back where it was" 3 'your 5 operations come back'
check "the operation count starts again, with the typed operations at op 0" 3 'op 5 *$'
keys q
check "q quits guard mode" 3 'HEAPVIZ-EXIT=0'

# ---- the terminal is sane after q and SIGTERM ---------------------------------------------------
sane() { # the shell printed the three modes, none of them turned off
    local line
    line=$(cap | grep -E '^(-?(icanon|echo|isig) ?){3}$' | tail -n 1)
    [ -n "$line" ] && ! grep -q -- '-' <<<"$line"
}
fresh
t new-session -d -x 100 -y 30 "env TERM=$TERM_E2E LANG=$LOC LC_ALL=$LOC PS1='$ ' bash --norc --noprofile"
until_match 3 '\$ ' >/dev/null
keys -l "$BIN --paused; echo EXIT=\$?; stty -a | tr ' ;' '\n\n' | grep -xE -- '-?(icanon|echo|isig)' | tr '\n' ' '; echo"
keys Enter
until_match 5 '^\+0x0000 ' >/dev/null
keys q
if until_match 5 'EXIT=0' && until_match 3 '^(-?(icanon|echo|isig) ?){3}$' && sane; then ok "after q the terminal is sane (icanon echo isig)"
else not_ok "after q the terminal is sane"; fi
keys -l "clear; $BIN"
keys Enter
until_match 5 '^\+0x0000 ' >/dev/null
keys C-c
# bash drops the rest of a command line killed by SIGINT: ask afterwards
until_gone 5 '^\+0x0000 ' >/dev/null
keys -l "echo EXIT=\$?; stty -a | tr ' ;' '\n\n' | grep -xE -- '-?(icanon|echo|isig)' | tr '\n' ' '; echo"
keys Enter
if until_match 5 'EXIT=130' && until_match 3 '^(-?(icanon|echo|isig) ?){3}$' && sane; then ok "Ctrl-C restores the terminal; SIGINT is re-raised (130)"
else not_ok "Ctrl-C restores the terminal; SIGINT is re-raised"; fi
keys -l "clear; sh -c 'echo \$\$ > $PIDFILE; exec $BIN'; echo EXIT=\$?; stty -a | tr ' ;' '\n\n' | grep -xE -- '-?(icanon|echo|isig)' | tr '\n' ' '; echo"
keys Enter
until_match 5 '^\+0x0000 ' >/dev/null
pid=$(cat "$PIDFILE")
[ -n "$pid" ] && kill -TERM "$pid"
if until_match 8 'EXIT=143' && until_match 3 '^(-?(icanon|echo|isig) ?){3}$' && sane; then ok "SIGTERM restores the terminal and is re-raised (143)"
else not_ok "SIGTERM restores the terminal and is re-raised"; fi

# ---- a crash restores the terminal too, and the signal is re-raised --------------------------------
keys -l "clear; sh -c 'echo \$\$ > $PIDFILE; exec $BIN --paused'; echo EXIT=\$?; stty -a | tr ' ;' '\n\n' | grep -xE -- '-?(icanon|echo|isig)' | tr '\n' ' '; echo"
keys Enter
until_match 5 '^\+0x0000 ' >/dev/null
pid=$(cat "$PIDFILE")
# ---- while paused it uses no CPU: it blocks in the key read ----
cpu() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null; }
if [ -n "$pid" ] && [ -r "/proc/$pid/stat" ]; then
    c1=$(cpu "$pid"); sleep 2; c2=$(cpu "$pid")
    if [ $((c2 - c1)) -le 1 ]; then ok "paused, it uses no CPU ($((c2 - c1)) ticks in 2 s)"
    else not_ok "paused, it uses no CPU" "$((c2 - c1)) clock ticks in 2 s"; fi
else
    ok "# SKIP no /proc to measure CPU time"
fi
[ -n "$pid" ] && kill -SEGV "$pid"
if until_match 8 'EXIT=139' && cap | grep -q 'heapviz: crashed' && until_match 3 '^(-?(icanon|echo|isig) ?){3}$' && sane
then ok "a crash (SIGSEGV) restores the terminal and re-raises the signal (139)"
else not_ok "a crash (SIGSEGV) restores the terminal and re-raises the signal"; fi

[ "$failed" -eq 0 ]

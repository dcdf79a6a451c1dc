#!/usr/bin/env bash
# e2e_lecture.sh - heapviz's lecture keys in a real terminal: tmux on a
# private socket runs it, send-keys types, capture-pane reads the screen
# (every check polls with a timeout).  Time travel (b, Backspace, [, ], g),
# script captions and pauses, saving a script (s), export (e), predict
# mode (P), the free-list overlay (L), an allocation's search shown block by block
# (L, n) and the numbered free blocks (#).  Prints TAP lines; skips (as one
# passing line) when tmux is missing.
set -u
cd "$(dirname "$0")/.."
TOP=$(pwd)
. tests/tmux_lib.sh
# heapviz runs in a scratch directory: s saves and e exports into it
WORK=$(mktemp -d)
trap 'cleanup; rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1

# the screen without its status line, once it has settled
screen() { sleep 0.3; cap | head -n -1; }

# ---- time travel ---------------------------------------------------------------
start 100 30 --paused --seed 4 --skip 30
until_match 5 '^\+0x0000 ' >/dev/null
at30=$(screen)
keys n
until_match 3 'op 31 *$' >/dev/null
keys b
check "b steps back one operation" 3 'step 30 of 31: b back'
if [ "$(screen)" = "$at30" ]; then ok "after b the screen is step 30's again (map, panels, events)"
else not_ok "after b the screen is step 30's again" "$(diff <(echo "$at30") <(screen) | head -8)"; fi
keys n
until_match 3 'op 31 *$' >/dev/null
keys BSpace
check "Backspace steps back as b does" 3 'step 30 of 31'
keys '['
check "[ goes ten steps back" 3 'step 20 of 31'
keys '['  '[' '['
check "[ stops at the start" 3 'this is the start: step 0'
keys ']'
check "] goes ten steps forward" 3 'step 10 of 31'
keys g
check "g asks for a step, saying the range" 3 'go to which step \(0 to 31, or later\)\?'
keys 2 5 Enter
check "g 25 goes to step 25" 3 'step 25 of 31'
keys g x Enter
check "g with a bad number says so and stays" 3 "'x' is not a step number"
keys g 4 0 Enter
check "g beyond the present applies new operations" 3 'step 40, the latest'
keys b b a 6 4 Enter
check "an allocation typed in the past goes in there" 3 'allocated 64 B'
keys g 9 9 Enter
until_match 3 'step 99, the latest' >/dev/null
keys g 3 9 Enter
check "the new history has the typed operation at step 38" 3 'step 39 of 99'
keys q
check "q quits" 3 'HEAPVIZ-EXIT=0'

# ---- travel in compare mode -------------------------------------------------------
start 120 40 --compare first,best,fast --paused --seed 3 --skip 20
until_match 5 'fast fit +ext' >/dev/null
at20=$(screen)
keys n n n b b b
check "compare mode: three steps back" 3 'step 20 of 23'
if [ "$(screen)" = "$at20" ]; then ok "compare mode: every heap is as it was"
else not_ok "compare mode: every heap is as it was" "$(diff <(echo "$at20") <(screen) | head -8)"; fi
keys q

# ---- a script: its caption bar, and a running lecture stops at each pause -----------
start 100 30 --script "$TOP/tests/golden/board.hvs" --speed 60
check "the script's caption is shown" 5 '▍Splitting: each request takes the low end'
check "the lecture stops at the first pause" 5 'the script pauses here'
if cap | grep -q 'op 3 *$'; then ok "it stopped after the three allocations (op 3)"
else not_ok "it stopped after the three allocations (op 3)"; fi
keys Space
check "Space goes on: the next caption" 5 '▍Freeing the middle object leaves a hole'
check "and it stops at the second pause" 5 'op 4 *$'
keys b
check "b in a script goes back, with the caption of that step" 3 '▍Splitting: each request'
keys q

# ---- s saves the session as a script, which replays to the same heap ---------------------
start 100 30 --paused --seed 6 --skip 25
until_match 5 '^\+0x0000 ' >/dev/null
keys a 5 0 0 Enter
until_match 3 'allocated 500 B' >/dev/null
keys n n n Home Tab
keys s
check "s asks where to save, offering a new file" 3 'save the session as a script in: heapviz-1.hvs'
keys Enter
check "s saves the operations and says where" 3 'saved 29 operations to heapviz-1.hvs'
map_now=$(cap | grep -E '^\+0x')
keys q
until_match 3 'HEAPVIZ-EXIT' >/dev/null
if [ -f "$WORK/heapviz-1.hvs" ] && grep -q '^a500' "$WORK/heapviz-1.hvs" ||
   grep -q ' a500' "$WORK/heapviz-1.hvs" 2>/dev/null; then ok "the script holds the typed a500"
else not_ok "the script holds the typed a500" "$(cat "$WORK/heapviz-1.hvs" 2>&1 | head -5)"; fi
start 100 30 --paused --script "$WORK/heapviz-1.hvs" --skip 29
until_match 5 '^\+0x0000 ' >/dev/null
keys Home Tab
sleep 0.3
map_replay=$(cap | grep -E '^\+0x')
keys q
if [ -n "$map_now" ] && [ "$map_now" = "$map_replay" ]; then ok "the saved script replays to the same map"
else not_ok "the saved script replays to the same map" "$(diff <(echo "$map_now") <(echo "$map_replay") | head -6)"; fi

# ---- e exports the frame while it runs, and says where --------------------------------------
start 100 30 --seed 8 --speed 4
until_match 5 '^\+0x0000 ' >/dev/null
keys e
check "e exports the frame and says where" 3 'frame exported to heapviz-step[0-9]+\.svg and \.html'
file=$(cap | grep -oE 'heapviz-step[0-9]+\.svg' | head -n 1)
if [ -n "$file" ] && [ -s "$WORK/$file" ] && xmllint --noout "$WORK/$file" 2>/dev/null; then
    ok "the exported $file is there and is well-formed"
else not_ok "the exported SVG is there and is well-formed" "file=$file"; fi
if cap | grep -q 'running'; then ok "exporting does not pause the run"
else not_ok "exporting does not pause the run"; fi
keys q

# ---- P: predict mode asks before each operation, reveals and scores -----------------------------
start 100 30 --paused --ops a100,a200,f0,a50,f1
until_match 5 '^\+0x0000 ' >/dev/null
keys P
check "P asks where the allocation will land" 3 'predict alloc 100 B lands in which free block\? \[\+0x8\]'
keys Enter
check "Enter reveals and scores" 3 'right: the free block at \+0x8 · score 1/1'
keys n Enter n
check "a free asks which neighbours merge" 3 'predict free 100 B at \+0x10: which neighbours merge\? \[none\]'
keys r Enter
check "a wrong answer is marked wrong" 3 'wrong: it merged with no neighbour · score 2/3'
keys n Right
check "→ moves the guess to the next free block" 3 'lands in which free block\? \[\+0x148\]'
keys '!'
check "! predicts a failure" 3 '\[it fails\]'
keys Escape
check "Esc lets the operation go ahead unscored" 3 'not predicted'
keys P
check "P turns predict mode off" 3 'predict mode off'
keys q

# ---- L: the free list in the policy's order ----------------------------------------------------
start 100 30 --paused --ops a100,a200,a300,f1,a50 --skip 4 --policy fast
until_match 5 '^\+0x0000 ' >/dev/null
keys L
check "L shows the free list by size class under fast" 3 'free list · fast fit: by size class'
check "its rows: place, offset, bytes, class" 3 'place +offset +bytes +class'
keys n
check "n first shows the allocation's search (the block fast fit examines)" 3 'search: 1st examined, \+0x[0-9a-f]+ '
keys n
check "a stepped allocation says which block the library took" 3 'took \+0x[0-9a-f]+ \([0-9]+ B\), place [0-9]+ of [0-9]+'
keys Tab
check "Tab marks the selected free block's row" 3 '▶ 1 '
keys L
if until_match 3 'free list hidden' && ! cap | grep -q 'free list ·'; then ok "L hides it again"
else not_ok "L hides it again"; fi
keys q

# ---- L and n: an allocation's search, block by block, on the map and in the list -------------
start 100 30 --paused --ops a100,a50,a200,a50,a300,f0,f2,a250 --skip 7
until_match 5 '^\+0x0000 ' >/dev/null
keys L n
check "n shows the first block first fit examines" 3 'search: 1st examined, \+0x8 \(112 B\): too small for 272 B'
check "the list marks it" 3 '1 +\+0x8 +112  ← examining'
if cap | grep -A1 '^+0x0000 ' | tail -n 1 | grep -q '◆◆◆◆◆◆◆'; then ok "the map marks it (◆ under its cells)"
else not_ok "the map marks it (◆ under its cells)" "$(cap | head -n 5)"; fi
keys n
check "n shows the next one" 3 'search: 2nd examined, \+0xb8 \(208 B\): too small'
if cap | grep -A1 '^+0x0000 ' | tail -n 1 | grep -q '××××××××   ◆'; then ok "the block passed over is marked ×, the next ◆"
else not_ok "the block passed over is marked ×" "$(cap | head -n 5)"; fi
keys n
check "the block that fits is taken" 3 'search: 3rd examined, \+0x308 \(7360 B\): taken for 272 B · n applies it'
check "op 7 still: nothing has changed yet" 3 'op 7 *$'
keys n
check "n then applies the allocation where the search ended" 3 'last: alloc 250 B → \+0x308'
check "and the list says where the library took it" 3 'took \+0x308 \(7360 B\), place 3 of 3'
keys q

# ---- #: the free blocks numbered on the map, in the free list's order --------------------------
start 100 30 --paused --seed 4 --skip 150
until_match 5 '^\+0x0000 ' >/dev/null
keys '#'
check "# numbers the free blocks" 3 "free blocks numbered in the free list's order"
if cap | grep -E '^\+0x[0-9a-f]+ ' | grep -qE '·1|1·'; then ok "the map shows block 1's number"
else not_ok "the map shows block 1's number" "$(cap | head -n 8)"; fi
keys '#'
check "# again hides them" 3 'free blocks no longer numbered'
if ! cap | grep -E '^\+0x[0-9a-f]+ ' | grep -qE '·[1-9]'; then ok "and the map has no numbers"
else not_ok "and the map has no numbers" "$(cap | head -n 8)"; fi
keys q

[ "$failed" -eq 0 ]

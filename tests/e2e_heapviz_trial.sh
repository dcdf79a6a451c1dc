#!/usr/bin/env bash
# e2e_heapviz_trial.sh - the lecturer's trial of issue 12, replayed in a
# real terminal (tmux, tests/tmux_lib.sh): each defect the trial found is
# driven with the keys and terminal sizes that showed it.  TAP lines.
set -u
cd "$(dirname "$0")/.."
. tests/tmux_lib.sh

zoom_at() { cap | head -n 1 | grep -oE 'zoom \+0x[0-9a-f]+' | grep -oE '0x[0-9a-f]+'; }
zoom_end() { cap | head -n 1 | grep -oE 'zoom \+0x[0-9a-f]+–\+0x[0-9a-f]+' | grep -oE '[0-9a-fx]+$'; }
# wait_zoom_change OLD [END]: the zoom start differs from OLD, or heapviz
# says END (the view is at that end), or 60 polls pass
wait_zoom_change() {
    local i=0
    while [ "$(zoom_at)" = "$1" ] && ! { [ -n "${2:-}" ] && cap | grep -q "$2"; } && [ $i -lt 60 ]
    do sleep 0.05; i=$((i + 1)); done
}
# pages KEY: presses KEY until the view stops moving (12 at most); prints
# the view's starts, the first included
pages() {
    local list before i
    list="$(zoom_at)"
    for i in $(seq 1 12); do
        before=$(zoom_at)
        keys "$1"
        if [ "$1" = PgDn ]; then wait_zoom_change "$before" 'end of the arena'
        else wait_zoom_change "$before" 'start of the arena'; fi
        [ "$(zoom_at)" = "$before" ] && break
        list="$list $(zoom_at)"
    done
    echo "$list"
}

# ---- 1: PgUp/PgDn pan a zoomed view one page a press, to both ends ----------------
start 160 48 --paused --skip 11
until_match 5 '^\+0x0000 ' >/dev/null
keys Home z z
until_match 3 'zoom \+0x0–' >/dev/null
seen="$(zoom_at)"
moved=yes
for i in 1 2 3; do
    before=$(zoom_at)
    keys PgDn
    wait_zoom_change "$before" 'end of the arena'
    if [ "$(zoom_at)" = "$before" ] && ! { [ "$(zoom_end)" = 0x2000 ] && cap | grep -q 'end of the arena'; }
    then moved=no; fi
    seen="$seen $(zoom_at)"
done
if [ "$moved" = yes ]; then ok "1: PgDn moves the zoomed view every press, up to the end ($seen)"
else not_ok "1: PgDn moves the zoomed view every press" "starts: $seen"; fi

start 160 48 --paused --skip 200
until_match 5 '^\+0x0000 ' >/dev/null
keys Home z z
until_match 3 'zoom \+0x0–' >/dev/null
seen=$(pages PgDn)
if [ "$(zoom_end)" = 0x2000 ] && cap | grep -q 'end of the arena'; then
    ok "1: PgDn reaches the arena's end, and says so there ($seen)"
else not_ok "1: PgDn reaches the arena's end" "starts: $seen, end $(zoom_end)"; fi
back=$(pages PgUp)
if [ "$(zoom_at)" = 0x0 ] && [ "$(echo "$back" | wc -w)" -eq "$(echo "$seen" | wc -w)" ]; then
    ok "1: PgUp comes back page by page to the start ($back)"
else not_ok "1: PgUp comes back page by page to the start" "starts: $back"; fi

# ---- 2: a terminal that cannot place the cursor is refused, pointing at --dump ----
ENV_E2E=TERM=dumb start 80 24
if until_match 5 'HEAPVIZ-EXIT=1' && cap | grep -q 'TERM=dumb' && cap | grep -q -- '--dump' \
    && ! cap | grep -q '? help'; then
    ok "2: TERM=dumb is refused with a pointer at --dump, and leaves no status line"
else not_ok "2: TERM=dumb is refused with a pointer at --dump"; fi
ENV_E2E=TERM=no-such-terminal start 80 24
if until_match 5 'HEAPVIZ-EXIT=1' && cap | grep -q 'TERM=no-such-terminal' && cap | grep -q -- '--dump'; then
    ok "2: an unknown terminal is refused the same way"
else not_ok "2: an unknown terminal is refused the same way"; fi

# ---- 4, 5, 6: the help at 80x24 scrolls to every key, holds the workload, and q
# closes it -----------------------------------------------------------------------------
start 80 24 --speed 30
until_match 5 'running 30 op/s' >/dev/null
keys '?'
until_match 3 'heapviz help' >/dev/null
a=$(op_count); sleep 1; b=$(op_count)
if [ -n "$a" ] && [ "$a" = "$b" ] && cap | grep -q 'held (help)'; then
    ok "5: the help holds the workload (op $a, a second later op $b)"
else not_ok "5: the help holds the workload" "op $a, then $b"; fi
if cap | grep -q 'more ▼'; then ok "4: the help says there is more below"
else not_ok "4: the help says there is more below"; fi
keys End
if until_match 3 '← → h l' && cap | grep -q '↑ ↓ k j' && cap | grep -q 'Tab S-Tab' \
    && cap | grep -q '? F1 H' && cap | grep -q 'q Ctrl-C'; then
    ok "4: scrolled to its end, the help shows ← → h l, ↑ ↓ k j, Tab, ? F1 H and q"
else not_ok "4: scrolled, the help shows every key"; fi
keys x
if until_match 3 'in the help: ↑ ↓ scroll, q closes' && cap | grep -q 'heapviz help'; then
    ok "4: another key leaves the help open and says how to scroll and close it"
else not_ok "4: another key leaves the help open"; fi
keys q
if until_gone 3 'heapviz help' && ! cap | grep -q 'HEAPVIZ-EXIT'; then ok "6: q closes the help and heapviz runs on"
else not_ok "6: q closes the help and heapviz runs on"; fi
a=$(op_count); sleep 0.5; b=$(op_count)
if [ "${b:-0}" -gt "${a:-0}" ]; then ok "5: closed, the workload runs again ($a → $b)"
else not_ok "5: closed, the workload runs again" "$a → $b"; fi
keys i
until_match 3 'free at which offset' >/dev/null
a=$(op_count); sleep 1; b=$(op_count)
if [ -n "$a" ] && [ "$a" = "$b" ]; then ok "5: the offset prompt holds the workload (op $a)"
else not_ok "5: the offset prompt holds the workload" "op $a, then $b"; fi
keys Escape
keys a
until_match 3 'allocate how many bytes' >/dev/null
a=$(op_count); sleep 1; b=$(op_count)
if [ -n "$a" ] && [ "$a" = "$b" ]; then ok "5: the size prompt holds the workload (op $a)"
else not_ok "5: the size prompt holds the workload" "op $a, then $b"; fi
keys Escape q
check "q quits outside the help" 3 'HEAPVIZ-EXIT=0'

# ---- 21: Ctrl-Z suspends and gives the terminal back; fg resumes --------------------
modes() { t display -p -t 0 '#{alternate_on} #{cursor_flag} #{keypad_flag}'; }
shell 80 24
keys -l "$BIN --paused"
keys Enter
until_match 5 '^\+0x0000 ' >/dev/null
keys C-z
if until_match 3 'Stopped' && [ "$(modes)" = "0 1 0" ]; then
    ok "21: Ctrl-Z stops heapviz with the terminal restored (normal screen, cursor, keypad off)"
else not_ok "21: Ctrl-Z stops heapviz with the terminal restored" "modes: $(modes)"; fi
keys -l fg
keys Enter
if until_match 3 '^\+0x0000 ' && [ "$(modes)" = "1 0 1" ]; then ok "21: fg brings it back, redrawn"
else not_ok "21: fg brings it back, redrawn" "modes: $(modes)"; fi
keys n
check "21: and it takes keys again" 3 'op 1 *$'
keys q
until_gone 3 '^\+0x0000 ' >/dev/null
keys -l 'echo HEAPVIZ-EXIT=$?'
keys Enter
check "21: q after a suspension exits 0" 3 'HEAPVIZ-EXIT=0'
# started where no shell controls jobs (sh -c in the pane), a stop is dropped
# by the kernel: heapviz says so instead of ignoring the key
start 80 24 --paused
until_match 5 '^\+0x0000 ' >/dev/null
keys C-z
check "21: without job control Ctrl-Z says it cannot suspend" 3 'no job control here'
keys q
check "21: and heapviz runs on (q exits 0)" 3 'HEAPVIZ-EXIT=0'

# ---- 21: the last operation keeps its colours while paused; --flash sets how long
# they stay while running -----------------------------------------------------------
flashing() { t capture-pane -e -p -t 0 2>/dev/null | grep -qE $'48;5;(40|51|209|226)m'; }
start 100 30 --paused --theme dark
until_match 5 '^\+0x0000 ' >/dev/null
keys n
until_match 3 'op 1 *$' >/dev/null
sleep 1.5
if flashing; then ok "21: paused, the last operation keeps its colours (1.5 s later)"
else not_ok "21: paused, the last operation keeps its colours"; fi
# running at 1 op/s: 0.6 s after an operation its colours are gone with
# --flash 100 and still there with --flash 3000
for ms in 100 3000; do
    start 100 30 --speed 1 --flash $ms --theme dark
    until_match 5 'op [1-9][0-9]* *$' >/dev/null
    a=$(op_count)
    i=0; while [ "$(op_count)" = "$a" ] && [ $i -lt 60 ]; do sleep 0.05; i=$((i + 1)); done
    sleep 0.6
    if [ $ms = 100 ]; then
        if ! flashing; then ok "21: --flash 100: gone 0.6 s after the operation"
        else not_ok "21: --flash 100: gone 0.6 s after the operation"; fi
    else
        if flashing; then ok "21: --flash 3000: still there 0.6 s after the operation"
        else not_ok "21: --flash 3000: still there 0.6 s after the operation"; fi
    fi
done

# ---- 20: the rate shown is the rate that runs, at 1 GiB too --------------------------
for args in "--size 1G" "--size 1G --compare all"; do
    start 120 40 $args --speed 10000
    until_match 5 'running' >/dev/null
    sleep 2.5 # a measured second or two first
    a=$(op_count); sleep 3; b=$(op_count)
    shown=$(cap | tail -n 1 | grep -oE 'running [0-9]+' | grep -oE '[0-9]+')
    real=$(( (b - a) / 3 ))
    if [ -n "$shown" ] && [ "$real" -gt 0 ] && [ $((shown * 10)) -le $((real * 13)) ] \
        && [ $((shown * 10)) -ge $((real * 7)) ]; then
        ok "20: $args: the status says $shown op/s, $real ran"
    else not_ok "20: $args: the status says the rate that runs" "shown '$shown', ran $real op/s"; fi
done

# ---- 22: every signal that ends heapviz gives the terminal back ----------------------
# tmux knows the modes heapviz set: after the signal the alternate screen,
# the hidden cursor, keypad-transmit and mouse reporting must all be off,
# and the status must say the signal (128 + its number)
term_modes() { t display -p -t 0 '#{alternate_on} #{cursor_flag} #{keypad_flag} #{mouse_any_flag}'; }
for sig in SEGV ABRT BUS FPE ILL USR1 USR2 ALRM PIPE VTALRM XCPU TERM HUP; do
    num=$(kill -l "$sig")
    fresh
    t new-session -d -x 80 -y 24 "env TERM=$TERM_E2E LANG=$LOC LC_ALL=$LOC sh -c 'echo \$\$ > $PIDFILE; exec $BIN --paused'; echo HEAPVIZ-EXIT=\$?; sleep 60"
    until_match 5 '^\+0x0000 ' >/dev/null
    pid=$(cat "$PIDFILE")
    [ -n "$pid" ] && kill -s "$sig" "$pid"
    if until_match 5 "HEAPVIZ-EXIT=$((128 + num))" && [ "$(term_modes)" = "0 1 0 0" ]; then
        ok "22: SIG$sig ends heapviz ($((128 + num))) with the terminal restored"
    else not_ok "22: SIG$sig ends heapviz with the terminal restored" \
        "modes (alternate cursor keypad mouse): $(term_modes), want 0 1 0 0"; fi
done

# ---- 3 and the projector: --theme, COLORFGBG, at 80x24, 100x30 and 250x60 -----------
# capture-pane -e keeps the colours: a statistic's value ("2.9 %") is drawn
# in the theme's VALUE colour, bold
capc() { t capture-pane -e -p -t 0 2>/dev/null; }
value_in() { capc | grep -qE $'\e\\[38;5;'"$1"$'m *(\e\\[1m)?[0-9.]+ %'; }
for size in "80 24" "100 30" "250 60"; do
    set -- $size
    ENV_E2E="COLORFGBG='0;15'" start "$1" "$2" --paused --skip 50
    until_match 5 'frag. no tail' >/dev/null
    if value_in 16 && ! value_in 231; then ok "3: COLORFGBG says light: values are black, not white ($1x$2)"
    else not_ok "3: COLORFGBG says light: values are black ($1x$2)" "$(capc | grep -o $'38;5;[0-9]*m[0-9.]* %' | head -3)"; fi
    ENV_E2E="COLORFGBG='15;0'" start "$1" "$2" --paused --skip 50
    until_match 5 'frag. no tail' >/dev/null
    if value_in 231; then ok "3: COLORFGBG says dark: values are white ($1x$2)"
    else not_ok "3: COLORFGBG says dark: values are white ($1x$2)"; fi
    ENV_E2E="COLORFGBG='15;0'" start "$1" "$2" --paused --skip 50 --theme light
    until_match 5 'frag. no tail' >/dev/null
    if value_in 16; then ok "--theme light wins over COLORFGBG ($1x$2)"
    else not_ok "--theme light wins over COLORFGBG ($1x$2)"; fi
    start "$1" "$2" --paused --skip 50 --theme contrast
    until_match 5 'frag. no tail' >/dev/null
    if value_in 231 && capc | grep -q $'48;5;16m'; then ok "--theme contrast paints its own black paper ($1x$2)"
    else not_ok "--theme contrast paints its own black paper ($1x$2)"; fi
done

[ "$failed" -eq 0 ]

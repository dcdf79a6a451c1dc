#!/usr/bin/env bash
# e2e_heapviz_trial.sh - the lecturer's trial of issue 12, replayed in a
# real terminal (tmux, tests/tmux_lib.sh): each defect the trial found is
# driven with the keys and terminal sizes that showed it.  TAP lines.
set -u
cd "$(dirname "$0")/.."
. tests/tmux_lib.sh

zoom_at() { cap | head -n 1 | grep -oE 'zoom \+0x[0-9a-f]+' | grep -oE '0x[0-9a-f]+'; }
zoom_end() { cap | head -n 1 | grep -oE 'zoom \+0x[0-9a-f]+–\+0x[0-9a-f]+' | grep -oE '[0-9a-fx]+$'; }
# wait_title_change OLD: the zoom start differs from OLD (or 3 s pass)
wait_zoom_change() {
    local i=0
    while [ "$(zoom_at)" = "$1" ] && [ $i -lt 60 ]; do sleep 0.05; i=$((i + 1)); done
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
    wait_zoom_change "$before"
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
seen="$(zoom_at)"
for i in $(seq 1 12); do
    before=$(zoom_at)
    keys PgDn
    wait_zoom_change "$before"
    [ "$(zoom_at)" = "$before" ] && break
    seen="$seen $(zoom_at)"
done
if [ "$(zoom_end)" = 0x2000 ] && cap | grep -q 'end of the arena'; then
    ok "1: PgDn reaches the arena's end, and says so there ($seen)"
else not_ok "1: PgDn reaches the arena's end" "starts: $seen, end $(zoom_end)"; fi
back="$(zoom_at)"
for i in $(seq 1 12); do
    before=$(zoom_at)
    keys PgUp
    wait_zoom_change "$before"
    [ "$(zoom_at)" = "$before" ] && break
    back="$back $(zoom_at)"
done
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

[ "$failed" -eq 0 ]

# tmux_lib.sh - sourced by the tmux end-to-end suites (e2e_heapviz_*.sh):
# heapviz in a real terminal, tmux on a private socket, send-keys to type,
# capture-pane to read.  Every check polls the screen with a timeout
# instead of sleeping a fixed time.  TAP output; HEAPVIZ=path runs another
# build (an older one, to see a test fail before its fix).
# shellcheck shell=bash
BIN=${HEAPVIZ:-$(cd "$(dirname "${OUT:-.}/heapviz")" && pwd)/heapviz}
SOCK="heapviz-e2e-$$-0"
sessions=0
PIDFILE=$(mktemp)
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1)); failed=1
    echo "not ok $n - $1"
    shift
    for line in "$@"; do echo "#   $line"; done
    echo "#   screen:"
    cap | sed 's/^/#   | /'
}

if ! command -v tmux >/dev/null 2>&1; then
    echo "ok 1 - # SKIP tmux is not installed"
    exit 0
fi
if [ ! -x "$BIN" ]; then
    echo "not ok 1 - $BIN is not built"
    exit 1
fi

# Inside tmux the terminal is tmux: its keys (Home is ESC [ 1 ~) match the
# tmux/screen descriptions, not xterm's.  The first whose terminfo exists
# here, preferring 256 colours; xterm-256color as the last resort.
TERM_E2E=dumb
for t in tmux-256color screen-256color screen xterm-256color xterm; do
    if infocmp "$t" >/dev/null 2>&1; then TERM_E2E=$t; break; fi
done
LOC=C.UTF-8
locale -a 2>/dev/null | grep -qi '^c\.utf-\?8$' || LOC=C

t() { tmux -L "$SOCK" -f /dev/null "$@"; }
cleanup() { t kill-server >/dev/null 2>&1; rm -f "$PIDFILE"; }
# every session gets its own server (socket), so no kill races a start
fresh() {
    t kill-server >/dev/null 2>&1
    sessions=$((sessions + 1))
    SOCK="heapviz-e2e-$$-$sessions"
}
trap cleanup EXIT

# start COLS ROWS ARGS...: heapviz in a fresh session; the pane stays
# after it exits and says how it ended.  ENV_E2E adds environment.
start() {
    local cols=$1 rows=$2
    shift 2
    fresh
    t new-session -d -x "$cols" -y "$rows" \
        "env TERM=$TERM_E2E LANG=$LOC LC_ALL=$LOC NO_COLOR= ${ENV_E2E:-} $BIN $*; echo HEAPVIZ-EXIT=\$?; sleep 60"
}
# shell COLS ROWS: an interactive bash (job control, its own prompt '$ ')
shell() {
    fresh
    t new-session -d -x "$1" -y "$2" \
        "env TERM=$TERM_E2E LANG=$LOC LC_ALL=$LOC PS1='$ ' bash --norc --noprofile"
    until_match 3 '\$ ' >/dev/null
}
cap() { t capture-pane -p -t 0 2>/dev/null; }
keys() { t send-keys -t 0 "$@"; }

# until_match TIMEOUT PATTERN: waits for the screen to match (grep -E)
until_match() {
    local timeout=$1 pat=$2 i=0
    local limit=$((timeout * 20))
    while [ $i -lt $limit ]; do
        cap | grep -qE -- "$pat" && return 0
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}
until_gone() {
    local timeout=$1 pat=$2 i=0
    local limit=$((timeout * 20))
    while [ $i -lt $limit ]; do
        cap | grep -qE -- "$pat" || return 0
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}
check() { # check NAME TIMEOUT PATTERN
    if until_match "$2" "$3"; then ok "$1"; else not_ok "$1" "waited ${2}s for /$3/"; fi
}
op_count() { cap | head -n 1 | grep -oE 'op [0-9]+ *$' | grep -oE '[0-9]+'; }

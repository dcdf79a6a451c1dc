#!/usr/bin/env bash
# Terminal chaos: heapviz under tmux gets random bytes on its terminal
# (printable keys, control keys, escape sequences whole and broken, mouse
# reports, UTF-8 and invalid UTF-8, pasted text, bracketed paste) and random
# resizes down to 1x1, on every policy, in compare mode and in guard mode.
# For each configuration (one TAP line):
#   - heapviz is still running after the last key (it never crashed or quit),
#   - it exits with status 0 on q,
#   - every heap passes MemHeap_Diagnose when it ends (fuzz/chaos_hook.c,
#     linked into $B/fuzz/heapviz-chaos, writes the verdicts),
#   - the terminal is restored: tmux says the alternate screen is off, the
#     cursor is visible and no mouse mode is left on,
#   - nothing was printed to stderr (so no sanitizer report either).
#
# CHAOS=full: 10000 keystrokes and 50 resizes per configuration (make soak);
# otherwise 2000 and 20.  CHAOS_KEYS / CHAOS_RESIZES override; SEED fixes
# the random stream (it is printed); CHAOS_ONLY=n runs configuration n
# alone, with the same keys as in the whole run.  The q, Q and the signal keys Ctrl-C,
# Ctrl-Z, Ctrl-\ are left out of the random bytes: they end or stop the
# program by design.  Ctrl-S (XOFF) stays in: heapviz turns the tty's flow
# control off, so it must not freeze the display (fuzz/FINDINGS.md 6).
# Before q, two Escapes leave whatever prompt the random keys opened.  A last test quits with Ctrl-C instead (the shell around heapviz in
# the pane ignores it): the terminal must be restored and the status be 130.
set -u
cd "$(dirname "$0")/.."
B=${B:-build}
bin=$B/fuzz/heapviz-chaos
if [ "${CHAOS:-}" = full ]; then keys=10000 resizes=50; else keys=2000 resizes=20; fi
keys=${CHAOS_KEYS:-$keys}
resizes=${CHAOS_RESIZES:-$resizes}
seed=${SEED:-1}

configs=("--policy first" "--policy next" "--policy best" "--policy worst" "--policy fast"
         "--policy buddy --size 256" "--policy best --order lifo --coalesce deferred"
         "--compare all" "--compare first,next,fast --guard")
echo "1..$((${#configs[@]} + 1))"
echo "# seed $seed, $keys keystrokes and $resizes resizes per configuration"
if ! command -v tmux >/dev/null; then
    for i in "${!configs[@]}"; do echo "not ok $((i + 1)) - tmux is not installed"; done
    exit 1
fi
if [ ! -x "$bin" ]; then
    for i in "${!configs[@]}"; do echo "not ok $((i + 1)) - $bin is not built"; done
    exit 1
fi

work=$(mktemp -d)
# heapviz runs in $work: random keys export frames (e) and save scripts (s
# then Enter) into its working directory, which must not be the tree
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
# each configuration gets a server (socket) of its own, killed at its end:
# a session killed on a shared server ends that server when it was the
# last, and the next configuration's new-session could race that exit
sock="chaos-$$"
T() { tmux -L "$sock" -f /dev/null "$@"; }
cleanup() { T kill-server 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# Escape sequences a terminal sends, and some it never would.  None holds a
# q or Q: when a sequence is split (a broken one before it, the escape
# delay), its bytes arrive as keys, and ESC O Q (F2) once quit heapviz so.
seqs=($'\e[A' $'\e[B' $'\e[C' $'\e[D' $'\eOA' $'\eOD' $'\e[H' $'\e[F' $'\e[1~' $'\e[4~'
      $'\e[5~' $'\e[6~' $'\e[3~' $'\e[2~' $'\e[Z' $'\eOP' $'\eOR' $'\e[15~' $'\e[24~'
      $'\e[1;5C' $'\e[1;2A' $'\e[<0;5;3M' $'\e[<0;5;3m' $'\e[<64;1;1M' $'\e[M !!' $'\e[M#\x7f\x7f'
      $'\e[' $'\e[999999999999;' $'\e[<' $'\e' $'\e\e' $'\ex' $'\e[?1049h' $'\eO'
      $'\e[200~pasted\e[201~' $'\xc3\xa9' $'\xe2\x82\xac' $'\xf0\x9f\x92\xa5' $'\xff' $'\xc3'
      $'\r' $'\n' $'\t' $'\x7f' $'\b')

# Appends the hex of a string's bytes to the array `out` (byte by byte:
# the C locale, or UTF-8 characters would come out as code points).
hexof() {
    local LC_ALL=C
    local s=$1 i c
    for ((i = 0; i < ${#s}; i++)); do
        printf -v c '%02x' "'${s:i:1}"
        out+=("${c: -2}")
    done
}

# One random keystroke (or sequence, or paste) as hex bytes into `out`.
random_key() {
    local r=$((RANDOM % 100)) b n k
    if [ $r -lt 55 ]; then        # printable ASCII
        b=$((32 + RANDOM % 95))
        [ $b -eq 113 ] || [ $b -eq 81 ] && b=46
        printf -v b '%02x' $b; out+=("$b")
    elif [ $r -lt 70 ]; then      # control bytes, minus the signal keys
        b=$((RANDOM % 32))
        case $b in 3|26|28) b=12 ;; esac
        printf -v b '%02x' $b; out+=("$b")
    elif [ $r -lt 97 ]; then      # escape sequences
        hexof "${seqs[RANDOM % ${#seqs[@]}]}"
    else                          # a paste: a burst of text
        n=$((20 + RANDOM % 200))
        for ((k = 0; k < n; k++)); do
            b=$((32 + RANDOM % 95))
            [ $b -eq 113 ] || [ $b -eq 81 ] && b=32
            printf -v b '%02x' $b; out+=("$b")
        done
    fi
}

alive() { [ ! -s "$1" ] && [ "$(T list-panes -t s -F '#{pane_dead}' 2>/dev/null)" = 0 ]; }

total_keys=0 total_resizes=0 failed=0
for i in "${!configs[@]}"; do
    n=$((i + 1)) args=${configs[i]}
    if [ -n "${CHAOS_ONLY:-}" ] && [ "$CHAOS_ONLY" != "$n" ]; then
        echo "ok $n - $args # SKIP CHAOS_ONLY=$CHAOS_ONLY"
        continue
    fi
    RANDOM=$((seed * 1000 + n))   # each configuration replays on its own
    sock="chaos-$$-$n"
    st=$work/status.$n err=$work/err.$n rep=$work/report.$n
    : >"$st"
    T new-session -d -s s -x 80 -y 24 -c "$work" \
        "trap '' INT; env TERM=xterm-256color LANG=C.UTF-8 HEAPVIZ_CHAOS_REPORT=$rep \
         $bin $args --speed 2000 2>$err; echo \$? >$st; sleep 600"
    # wait for the first frame
    for _ in $(seq 50); do
        T capture-pane -p -t s 2>/dev/null | grep -q '[^[:space:]]' && break
        sleep 0.1
    done
    why="" sent=0 resized=0 every=$(( keys / (resizes + 1) + 1 ))
    while [ $sent -lt "$keys" ]; do
        out=()
        for ((k = 0; k < 16 && sent < keys; k++, sent++)); do random_key; done
        T send-keys -t s -H "${out[@]}" 2>/dev/null
        if [ $((sent / every)) -gt $resized ] && [ $resized -lt "$resizes" ]; then
            if [ $resized -eq 0 ] || [ $((RANDOM % 4)) -eq 0 ]; then
                w=$((1 + RANDOM % 3)) h=$((1 + RANDOM % 3))   # tiny, 1x1 first
                [ $resized -eq 0 ] && w=1 h=1
            else
                w=$((1 + RANDOM % 200)) h=$((1 + RANDOM % 60))
            fi
            T resize-window -t s -x $w -y $h 2>/dev/null
            resized=$((resized + 1))
            sleep 0.05
        fi
        if ! alive "$st"; then
            why="heapviz ended after $sent keys and $resized resizes (status $(cat "$st"))"
            break
        fi
        sleep 0.01
    done
    total_keys=$((total_keys + sent)) total_resizes=$((total_resizes + resized))
    T resize-window -t s -x 80 -y 24 2>/dev/null
    if [ -z "$why" ]; then
        # leave a prompt or the help screen, then quit
        T send-keys -t s Escape; sleep 0.3; T send-keys -t s Escape; sleep 0.3
        T send-keys -t s q
        for _ in $(seq 100); do [ -s "$st" ] && break; sleep 0.1; done
        code=$(cat "$st")
        flags=$(T display -p -t s '#{alternate_on} #{cursor_flag} #{mouse_any_flag} #{mouse_button_flag} #{mouse_standard_flag} #{mouse_sgr_flag}')
        if [ -z "$code" ]; then
            why="heapviz did not exit on q"
        elif [ "$code" != 0 ]; then
            why="heapviz exited with status $code"
        elif [ "$flags" != "0 1 0 0 0 0" ]; then
            why="terminal not restored: alternate/cursor/mouse flags '$flags', expected '0 1 0 0 0 0'"
        elif ! grep -q '^checked [1-9][0-9]* heaps: 0 broken' "$rep" 2>/dev/null; then
            why="heap check at exit: $(grep -v '^ok' "$rep" 2>/dev/null | head -n 3 | tr '\n' ' ')"
        elif [ -s "$err" ]; then
            why="heapviz wrote to stderr: $(head -c 300 "$err")"
        fi
    fi
    if [ -z "$why" ]; then
        echo "ok $n - $args: $sent keys, $resized resizes, $(tail -n 1 "$rep")"
    else
        failed=$((failed + 1))
        echo "not ok $n - $args: $why"
        [ -s "$err" ] && head -n 20 "$err" | sed 's/^/# /'
        [ -s "$rep" ] && sed 's/^/# /' "$rep" | tail -n 5
        T capture-pane -p -t s 2>/dev/null | head -n 10 | sed 's/^/# screen: /'
    fi
    T kill-server 2>/dev/null
done
# Ctrl-C while a prompt is open.
n=$((${#configs[@]} + 1)) st=$work/status.c err=$work/err.c sock="chaos-$$-c"
if [ -z "${CHAOS_ONLY:-}" ] || [ "$CHAOS_ONLY" = "$n" ]; then
    : >"$st"
    T new-session -d -s s -x 80 -y 24 -c "$work" \
        "trap '' INT; env TERM=xterm-256color LANG=C.UTF-8 $bin --compare all 2>$err; \
         echo \$? >$st; sleep 600"
    sleep 0.5
    T send-keys -t s a 1 2; sleep 0.2; T send-keys -t s C-c
    for _ in $(seq 50); do [ -s "$st" ] && break; sleep 0.1; done
    flags=$(T display -p -t s '#{alternate_on} #{cursor_flag} #{mouse_any_flag} #{mouse_button_flag} #{mouse_standard_flag} #{mouse_sgr_flag}')
    if [ "$(cat "$st")" = 130 ] && [ "$flags" = "0 1 0 0 0 0" ] && [ ! -s "$err" ]; then
        echo "ok $n - Ctrl-C in a prompt: status 130, terminal restored"
    else
        failed=$((failed + 1))
        echo "not ok $n - Ctrl-C in a prompt: status '$(cat "$st")', flags '$flags', stderr '$(head -c 200 "$err")'"
    fi
    T kill-server 2>/dev/null
fi
echo "# chaos: $total_keys keystrokes and $total_resizes resizes over ${#configs[@]} configurations, $failed failed"
[ "$failed" -eq 0 ]

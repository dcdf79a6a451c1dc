#!/usr/bin/env bash
# record.sh - runs $CMD with the recorder preloaded; keeps one trace.
#
#   CMD='sort words.txt' tools/record.sh path/to/record.so out.rep
#
# Every process the command starts writes its own trace (RECORD_TRACE with
# %p).  The one kept as out.rep is the command's own process: the process
# the command started as, followed across exec (a wrapper script that execs
# the real program, as version managers' shims do, hands its pid on to it,
# so the program's trace is kept, not that of the busier helpers the wrapper
# ran first).  The command line runs in `sh -c`: when that shell forks the
# command rather than exec it, the command is the shell's one child (each
# trace names its pid and its parent's).  When the command is a pipeline or
# a list (the shell forked several), the trace with the most operations is
# kept.  Every trace is listed.
#
# A trace whose process could not finish it (killed by SIGKILL, see
# tools/record.c) still holds its op lines; its header is rebuilt here from
# them, and a line cut short is dropped.  The exit status is the command's.
set -u
so=$(realpath "$1")
out=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The outer shell notes its pid, then becomes the command's shell (exec):
# that pid is the command's own process.
LD_PRELOAD="$so" RECORD_TRACE="$tmp/%p.rep" \
    sh -c 'echo $$ > "$1"; exec sh -c "$2"' record.sh "$tmp/top.pid" "$CMD"
rc=$?
top=$(cat "$tmp/top.pid" 2>/dev/null)

# Rebuilds the header of an unfinished trace from its op lines.
repair() {
    awk '
        /^# recorded by/ && !done_comment { print; done_comment = 1; next }
        /^[afr] [0-9]+( [0-9]+)?$/ {
            op[++n] = $0
            id = $2 + 0
            if (id + 1 > ids) ids = id + 1
            if ($1 == "a") { live += $3; size[id] = $3 }
            else if ($1 == "r") { live += $3 - size[id]; size[id] = $3 }
            else { live -= size[id]; size[id] = 0 }
            if (live > peak) peak = live
        }
        END {
            printf "# unfinished (the process was killed): header rebuilt by record.sh\n"
            printf "%d\n%d\n%d\n1\n", peak + int(peak / 2) + 65536, ids, n
            for (i = 1; i <= n; i++) print op[i]
        }' "$1" > "$1.fixed" && mv "$1.fixed" "$1"
}

# The number of ops in a trace's header (its third field).
ops_of() { awk '!/^[[:space:]]*(#|$)/ { if (++n == 3) { print $1; exit } }' "$1"; }

best= best_ops=-1 kept_top= top_is_shell= children=()
for f in "$tmp"/*.rep; do
    [ -f "$f" ] || continue
    ops=$(ops_of "$f")
    note=
    if [ "$ops" = "?" ]; then
        repair "$f"
        ops=$(ops_of "$f")
        note=" (unfinished: header rebuilt)"
    fi
    pid=$(basename "$f" .rep)
    cmd=$(sed -n 's/^# recorded by tools\/record.so from: //p' "$f" | head -n 1)
    printf 'record: pid %s: %8s ops:%s%s\n' "$pid" "$ops" "$cmd" "$note" >&2
    parent=$(sed -n 's/^# pid [0-9]*, parent \([0-9]*\)$/\1/p' "$f" | head -n 1)
    if [ "$pid" = "$top" ]; then
        # the shell that ran the command line is not the command
        case $cmd in "sh -c "*) top_is_shell=1 ;; *) kept_top=$f ;; esac
    else
        [ "$parent" = "$top" ] && children+=("$f")
        if [ "${ops:-0}" -gt "$best_ops" ]; then best=$f best_ops=$ops; fi
    fi
done
if [ -z "$kept_top" ] && [ -n "$top_is_shell" ] && [ ${#children[@]} -eq 1 ]; then
    kept_top=${children[0]} # the shell forked the one program it ran
fi
if [ -n "$kept_top" ]; then
    best=$kept_top
    why="the command's own process"
elif [ -n "$best" ]; then
    why="the busiest of the command's processes (the command is a pipeline or a list)"
else
    echo "record: no trace was written (is the command dynamically linked?)" >&2
    exit 1
fi
cp "$best" "$out"
echo "record: $out: pid $(basename "$best" .rep), $(ops_of "$best") ops, $why (command exit status $rc)" >&2
exit "$rc"

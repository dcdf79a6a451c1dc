#!/usr/bin/env bash
# record.sh - runs $CMD with the recorder preloaded; keeps one trace.
#
#   CMD='sort words.txt' tools/record.sh path/to/record.so out.rep
#
# Every process the command starts writes its own trace (RECORD_TRACE with
# %p); the one with the most operations is kept as out.rep (for `cc -c` that
# is cc1, the compiler proper), and the others are listed.  The exit status
# is the command's.
set -u
so=$(realpath "$1")
out=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

LD_PRELOAD="$so" RECORD_TRACE="$tmp/%p.rep" sh -c "$CMD"
rc=$?

best= best_ops=-1
for f in "$tmp"/*.rep; do
    [ -f "$f" ] || continue
    # The op count is the third line that is neither blank nor a comment.
    ops=$(awk '!/^[[:space:]]*(#|$)/ { if (++n == 3) { print $1; exit } }' "$f")
    cmd=$(sed -n 's/^# recorded by tools\/record.so from: //p' "$f" | head -n 1)
    printf 'record: pid %s: %8s ops:%s\n' "$(basename "$f" .rep)" "$ops" "$cmd" >&2
    if [ "${ops:-0}" -gt "$best_ops" ]; then best=$f best_ops=$ops; fi
done
if [ -z "$best" ]; then
    echo "record: no trace was written (is the command dynamically linked?)" >&2
    exit 1
fi
cp "$best" "$out"
echo "record: $out: $best_ops ops (command exit status $rc)" >&2
exit "$rc"

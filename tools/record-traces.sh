#!/usr/bin/env bash
# record-traces.sh - re-records the real-program traces in bench/traces/.
#
#   tools/record-traces.sh [record.so]
#
# Each trace is one `make record` of a program found on a Debian machine
# (build-essential, perl, python3, git, tar, coreutils).  Their inputs are
# made here, so the runs are repeatable (the traces are not byte-identical
# between versions of those programs, and need not be).
set -eu
cd "$(dirname "$0")/.."
so=${1:-tools/record.so}
dir=bench/traces
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# a small C file for the compiler
cat > "$work/hello.c" <<'C'
#include <stdio.h>
struct point { int x, y; };
static int dot(struct point a, struct point b) { return a.x * b.x + a.y * b.y; }
int main(void)
{
    struct point p = {1, 2}, q = {3, 4};
    printf("%d\n", dot(p, q));
    return 0;
}
C
# 20000 numbers in a fixed scrambled order
awk 'BEGIN { for (i = 1; i <= 20000; i++) print (i * 7919) % 20011 }' > "$work/nums.txt"

rec() {
    local name=$1; shift
    CMD="$*" tools/record.sh "$so" "$dir/$name.rep" 2>&1 | tail -n 1
}

# cc1 itself (make record keeps the command's own process: the driver, for cc)
rec cc1-hello    "$(cc -print-prog-name=cc1) -quiet -O2 $work/hello.c -o $work/hello.s"
rec python-start "/usr/bin/python3 -c pass"
rec perl-hash    "perl -e 'my %h; \$h{\$_} = \$_ x 3 for 1 .. 1500; my @k = sort keys %h; print scalar(@k), qq(\n)' >/dev/null"
rec bash-loop    "bash -c 'for i in \$(seq 1 100); do x=\"\$x\$i\"; a[\$i]=\$x; done; echo \${#x}' >/dev/null"
rec tar-include  "tar cf $work/x.tar -C /usr/include linux"
rec git-status   "git status --short >/dev/null"
rec sort-nums    "sort -n $work/nums.txt >/dev/null"

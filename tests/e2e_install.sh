#!/usr/bin/env bash
# make install honours PREFIX and DESTDIR, and a program builds against the
# installed header, libraries and pkg-config file.
set -u
cd "$(dirname "$0")/.."
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
no() { n=$((n + 1)); echo "not ok $n - $*"; }
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
if make --no-print-directory -s install DESTDIR="$t/root" PREFIX=/opt/mem >"$t/log" 2>&1; then
    ok "make install DESTDIR=... PREFIX=/opt/mem"
else
    no "make install"; cat "$t/log"
fi
for f in include/mem.h lib/libmem.a lib/libmem.so lib/libmem.so.1 lib/pkgconfig/mem.pc share/man/man3/mem.3; do
    if [ -e "$t/root/opt/mem/$f" ]; then ok "installed $f"; else no "missing $f"; fi
done
pc="$t/root/opt/mem/lib/pkgconfig/mem.pc"
if grep -q '^prefix=/opt/mem$' "$pc" 2>/dev/null; then ok "mem.pc names the prefix"; else no "mem.pc prefix"; fi
cat >"$t/p.c" <<'C'
#include <mem.h>
#include <stdio.h>
int main(void)
{
    if (Mem_Init(4096) != 0) return 1;
    int *p = Mem_Alloc(50 * sizeof(int));
    if (!p || Mem_Free(p + 30) != 0 || Mem_IsValid(p)) return 2;
    puts("ok");
    return Mem_Check() == 0 ? 0 : 3;
}
C
# Resolve the pkg-config file against the staged tree, as a packager would.
sed "s|^prefix=.*|prefix=$t/root/opt/mem|" "$pc" >"$t/mem.pc"
flags=$(PKG_CONFIG_PATH="$t" pkg-config --cflags --libs mem)
if ${CC:-cc} -o "$t/p" "$t/p.c" $flags -Wl,-rpath,"$t/root/opt/mem/lib" 2>"$t/cc.log" && [ "$("$t/p")" = ok ]; then
    ok "a program builds with pkg-config mem and runs against libmem.so"
else
    no "build against the installed library"; cat "$t/cc.log"
fi
if ${CC:-cc} -static -o "$t/ps" "$t/p.c" -I"$t/root/opt/mem/include" "$t/root/opt/mem/lib/libmem.a" 2>/dev/null && [ "$("$t/ps")" = ok ]; then
    ok "a program links libmem.a statically"
else
    no "static link"
fi
so=$t/root/opt/mem/lib/libmem-malloc.so
if [ -e "$so" ] && [ "$(LIBMEM_STATS=1 LD_PRELOAD=$so sort -n <<<$'3\n1\n2' 2>"$t/stats" | tr '\n' ' ')" = "1 2 3 " ] &&
   grep -q '^libmem-malloc: allocations [1-9]' "$t/stats"; then
    ok "the installed libmem-malloc.so replaces a program's malloc"
else
    no "installed libmem-malloc.so: $(cat "$t/stats" 2>/dev/null)"
fi

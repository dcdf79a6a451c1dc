#!/usr/bin/env bash
# Installs the Debian packages a job needs, if any are missing, and says so.
#   .ci/deps.sh build   what `make` and `make run` need
#   .ci/deps.sh test    what `make test` needs as well
#   .ci/deps.sh bench   what `make bench` needs as well (other allocators)
# Idempotent: when everything is present it does nothing and prints nothing.
# As root it runs apt-get; otherwise it uses sudo when there is one, and
# else prints the command to run.
set -euo pipefail
job=${1:-build}
packages=(make gcc pkg-config libncurses-dev ncurses-term locales)
if [ "$job" = test ]; then
    # clang's sanitizer and libFuzzer runtimes are in libclang-rt-dev, which
    # clang only recommends; test_export checks heapviz's SVG with xmllint
    # (libxml2-utils), renders it with rsvg-convert (librsvg2-bin) and reads
    # the PNG back with libpng; the allocators `make bench` compares with
    # (not needed by `make test`, but installed with it so that a test
    # machine can run the bench)
    packages+=(libcriterion-dev tmux binutils clang libclang-rt-dev valgrind time
               libxml2-utils librsvg2-bin libpng-dev
               libjemalloc-dev libmimalloc-dev libgoogle-perftools-dev)
    # the real programs that tests/e2e_malloc.sh runs on the malloc replacement
    packages+=(python3 perl git g++ tar gzip)
    # heapviz names allocation sites through elfutils' libdw (opened at run time)
    packages+=(libdw1)
fi
if [ "$job" = bench ]; then
    # bench/programs.sh preloads the allocators' runtime libraries
    packages+=(python3 perl g++ time libjemalloc2 libmimalloc2.0 libtcmalloc-minimal4)
fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
else
    echo "deps: missing packages; as root run: apt-get install -y ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q >&2
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2

#!/usr/bin/env bash
# build.sh [OUT_DIR] [CUDA_SOURCE_DIR]: builds the host CUDA emulator, OUT_DIR/cuda_emulator, from the kernel sources
# (default gpu/src/main/cuda; a mutated copy for negative controls) into OUT_DIR (default gpu/target/cuda-emulator).
# rewrite.py rewrites each <family>.cu into OUT_DIR/src (the originals are only read); every family is its own
# translation unit. Only what changed is recompiled. The last line printed is the binary's path.
#   EMU_ASAN=1   AddressSanitizer build (kernel accesses outside an allocation are reported on stderr)
#   CXX          the compiler (default g++; needs C++20: g++ 11 or newer)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
gpu=$(cd "$here/../../../.." && pwd)
out=${1:-$gpu/target/cuda-emulator}
src=${2:-$gpu/src/main/cuda}
mkdir -p "$out"
out=$(cd "$out" && pwd)
src=$(cd "$src" && pwd)
cxx=${CXX:-g++}

# -fstack-clash-protection: a large frame probes its pages, so a CUDA thread's stack overflow always hits the guard
# below its fiber stack; -fcf-protection=none: the fiber switch (runtime.cpp) is not shadow-stack aware, so the
# binary must not ask for a shadow stack (compilers that default to -fcf-protection=full would)
flags=(-std=c++20 -O2 -ffp-contract=off -fno-strict-aliasing -fstack-clash-protection -fcf-protection=none -pthread
       -I"$here" -I"$here/inc")
if [ "${EMU_ASAN:-0}" = 1 ]; then
    flags+=(-fsanitize=address -fno-omit-frame-pointer -g)
fi

# one build at a time per output folder (parallel test JVMs)
if command -v flock >/dev/null; then
    exec 9>"$out/.lock"
    flock 9
fi

# the compiler and flags are part of every object: a change rebuilds everything
stamp="$out/flags.txt"
want="$("$cxx" --version | head -1) ${flags[*]}"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    rm -rf "$out/obj"
    printf '%s\n' "$want" >"$stamp"
fi
mkdir -p "$out/obj" "$out/src"
rm -f "$out"/obj/*.failed

families=$(python3 "$here/rewrite.py" --device "$here" --source "$src" --out "$out/src" --cxx "$cxx")

headers=("$here"/*.h "$here"/inc/*.h "$stamp")
stale() {   # stale OBJECT SOURCE...: the object is missing or older than a source or a header
    local obj=$1
    shift
    [ -f "$obj" ] || return 0
    local f
    for f in "$@" "${headers[@]}"; do
        if [ "$f" -nt "$obj" ]; then return 0; fi
    done
    return 1
}

jobs_max=$(nproc 2>/dev/null || echo 2)
objects=()
compile() {   # compile SOURCE OBJECT [EXTRA_DEPENDENCY...]
    local source=$1 obj=$2
    shift 2
    objects+=("$obj")
    if stale "$obj" "$source" "$@"; then
        while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
        echo "compiling $(basename "$source")"
        (if "$cxx" "${flags[@]}" -c "$source" -o "$obj.tmp" 2>"$obj.log"; then mv "$obj.tmp" "$obj"; else touch "$obj.failed"; fi) &
    fi
}

for f in emulator runtime registry memory; do
    compile "$here/$f.cpp" "$out/obj/$f.o"
done
for family in $families; do
    compile "$out/src/$family.cu.cpp" "$out/obj/family_$family.o" "$out/src/$family.kernels.inc"
done
wait

failed=0
for obj in "${objects[@]}"; do
    if [ -f "$obj.failed" ]; then
        echo "build.sh: compiling for $(basename "$obj") failed:"
        cat "$obj.log"
        failed=1
    elif [ -s "$obj.log" ]; then
        cat "$obj.log"   # warnings
        : >"$obj.log"
    fi
done
if [ "$failed" = 1 ]; then exit 1; fi

bin="$out/cuda_emulator"
relink=0
if [ ! -x "$bin" ]; then relink=1; fi
for obj in "${objects[@]}"; do
    if [ "$obj" -nt "$bin" ]; then relink=1; fi
done
if [ "$relink" = 1 ]; then
    echo "linking cuda_emulator"
    "$cxx" "${flags[@]}" -o "$bin.tmp" "${objects[@]}"
    mv "$bin.tmp" "$bin"
fi

# the registration runs at start-up: a kernel whose parameters or name do not check out fails the build here
if ! "$bin" --list >"$out/kernels.txt"; then
    echo "build.sh: $bin --list failed (see above)"
    exit 1
fi
echo "$bin"

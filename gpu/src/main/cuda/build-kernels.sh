#!/usr/bin/env bash
# Compiles every kernel family (src/main/cuda/<family>.cu) into a fatbin resource
# (src/main/resources/io/inflow/gpu/kernels/<family>.fatbin) with machine code for sm_80 and sm_90 plus
# compute_90 PTX, and rewrites kernels.sha256 (the SHA-256 of every source and every fatbin) beside them.
#
#   gpu/src/main/cuda/build-kernels.sh           rebuild only when a source differs from the manifest
#   gpu/src/main/cuda/build-kernels.sh --force   rebuild everything
#   gpu/src/main/cuda/build-kernels.sh --check   change nothing; fail when a source differs from the manifest
#
# Maven runs it in generate-resources (profile cuda-kernels, active where /usr/local/bin/nvcc exists) with --maven:
# a rebuild, or a --check where the CI environment variable is set, so that CI fails on committed fatbins that are
# stale instead of quietly rebuilding them. Where no nvcc is found it changes nothing: the committed fatbins are
# used, and KernelManifestTest fails if a source was edited without rebuilding them.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
gpu="$(cd "$here/../../.." && pwd)"
out="$gpu/src/main/resources/io/inflow/gpu/kernels"
manifest="$out/kernels.sha256"
FLAGS=(-O3 -std=c++17 --fatbin
       -gencode arch=compute_80,code=sm_80
       -gencode arch=compute_90,code=sm_90
       -gencode arch=compute_90,code=compute_90)

mode="${1:-}"
if [[ "$mode" == "--maven" ]]; then
  if [[ -n "${CI:-}" ]]; then mode="--check"; else mode=""; fi
fi

nvcc="${NVCC:-}"
if [[ -z "$nvcc" ]]; then
  for candidate in "$(command -v nvcc || true)" "${CUDA_HOME:-/nonexistent}/bin/nvcc" /usr/local/bin/nvcc /usr/local/cuda/bin/nvcc; do
    if [[ -n "$candidate" && -x "$candidate" ]]; then nvcc="$candidate"; break; fi
  done
fi
cd "$here"
sources=$(ls *.cu *.cuh | LC_ALL=C sort)
current=$(sha256sum $sources)
recorded=""
if [[ -f "$manifest" ]]; then
  recorded=$(grep -v '^#' "$manifest" | grep -v ' fatbin/' || true)
fi
if [[ "$mode" == "--check" ]]; then
  if [[ "$current" != "$recorded" ]]; then
    echo "build-kernels: the committed fatbins are stale (a CUDA source differs from kernels.sha256):" >&2
    diff <(echo "$recorded") <(echo "$current") >&2 || true
    echo "build-kernels: run gpu/src/main/cuda/build-kernels.sh and commit the fatbins and kernels.sha256" >&2
    exit 1
  fi
  exit 0
fi
if [[ "$mode" != "--force" && "$current" == "$recorded" ]]; then
  exit 0   # up to date
fi
if [[ -z "$nvcc" ]]; then
  echo "build-kernels: no nvcc found (NVCC, PATH, CUDA_HOME): keeping the committed fatbins"
  exit 0
fi

mkdir -p "$out"
for cu in $(ls *.cu | LC_ALL=C sort); do
  name="${cu%.cu}"
  echo "build-kernels: $cu -> $name.fatbin"
  "$nvcc" "${FLAGS[@]}" -o "$out/$name.fatbin" "$cu"
done

version=$("$nvcc" --version | grep -o 'release [0-9.]*, V[0-9.]*' || echo unknown)
{
  echo "# Inflow CUDA kernels: SHA-256 of every source the committed fatbins were built from, then of the fatbins."
  echo "# Written by gpu/src/main/cuda/build-kernels.sh; checked by KernelManifestTest. Do not edit by hand."
  echo "# nvcc $version; flags: ${FLAGS[*]}"
  echo "$current"
  (cd "$out" && sha256sum $(ls *.fatbin | LC_ALL=C sort) | sed 's#  #  fatbin/#')
} > "$manifest"
echo "build-kernels: wrote $(ls "$out"/*.fatbin | wc -l) fatbins, $(du -cb "$out"/*.fatbin | tail -1 | cut -f1) bytes"

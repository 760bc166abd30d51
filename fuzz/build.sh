#!/usr/bin/env bash
# Configures and builds the fuzz targets with clang into <build-dir>.
# Usage: build.sh <build-dir> [clang] [clang++]
# MYST_FUZZ_SANITIZERS (default address,undefined) picks the -fsanitize= list
# when <build-dir> is configured.
set -euo pipefail
build=$1
cc=${2:-clang}
cxx=${3:-clang++}
source_dir=$(cd "$(dirname "$0")" && pwd)
if [ ! -f "$build/build.ninja" ]; then
    cmake -S "$source_dir" -B "$build" -G Ninja -DCMAKE_C_COMPILER="$cc" \
        -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_ASM_COMPILER="$cc" \
        -DMYST_FUZZ_SANITIZERS="${MYST_FUZZ_SANITIZERS:-address,undefined}" \
        > "$build.configure.log" 2>&1 ||
        { cat "$build.configure.log"; exit 1; }
fi
cmake --build "$build" -j"${MYST_FUZZ_JOBS:-2}"

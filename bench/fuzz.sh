#!/usr/bin/env bash
# The fuzz targets (fuzz/) for longer than CTest runs them, their corpora
# kept in build/fuzz-runs/<target> so that runs add up. Prints executions,
# rate, corpus size and crashes per target; crashing inputs stay in
# build/fuzz-runs/<target>/artifacts.
#
# usage: bench/fuzz.sh [SECONDS] [TARGET...]
#   Each target for SECONDS (default 120) under ASan + UBSan, as CTest does.
# usage: RUNS=N [LANES=K] bench/fuzz.sh [TARGET...]
#   Each target for N executions (the issue's goal is 10^7), K targets at a
#   time (default 1). These long runs use the UBSan-only build
#   (build/fuzz-ubsan): ASan's allocator maps fresh pages for every large
#   allocation, which makes the image targets several times slower. Every
#   input the run kept (its whole corpus) is then replayed once under
#   ASan + UBSan, so a memory error the fast build passed over still fails.
# build/myst must be built (it makes the seeds).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=120
if [ -z "${RUNS:-}" ] && [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then
    seconds=$1
    shift
fi
targets=("$@")
if [ ${#targets[@]} = 0 ]; then
    targets=(verity ext2 elf app_config cpio luks1 mount_options fssig)
fi
bash fuzz/build.sh build/fuzz > /dev/null
bash fuzz/make_seeds.sh build/myst build/tests/apps/bin build/fuzz-seeds

if [ -z "${RUNS:-}" ]; then
    failed=0
    for target in "${targets[@]}"; do
        bash fuzz/run_fuzzer.sh "build/fuzz/fuzz_$target" "$seconds" "build/fuzz-seeds/$target" \
            "build/fuzz-runs/$target" || failed=1
    done
    exit $failed
fi

MYST_FUZZ_SANITIZERS=undefined bash fuzz/build.sh build/fuzz-ubsan > /dev/null
# One target: RUNS executions with the fast build, then the corpus under ASan.
long_run() {
    local target=$1 work=build/fuzz-runs/$1
    # The image targets copy, mount and walk the whole input on every
    # execution: left alone, libFuzzer grows inputs to the largest seed
    # (256 KiB) and the rate falls by half or more. 144 KiB keeps the 1 and
    # 2 KiB-block seeds whole (the 4 KiB one is cut after its metadata).
    # cpio parses every entry's header and copies its data: inputs grown
    # to the 70 KiB tree seed ran at a sixth of the rate of small ones;
    # 16 KiB holds dozens of entries and the seeds' headers.
    local options=(-runs="$RUNS")
    case $target in
        ext2 | verity) options+=(-max_len=147456) ;;
        cpio) options+=(-max_len=16384) ;;
    esac
    bash fuzz/run_fuzzer.sh "build/fuzz-ubsan/fuzz_$target" 0 "build/fuzz-seeds/$target" \
        "$work" "${options[@]}" || return 1
    local replay=$work/asan-replay.txt
    local inputs
    inputs=$(find "$work/corpus" -type f | wc -l)
    if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "build/fuzz/fuzz_$target" -runs=0 -timeout=60 -artifact_prefix="$work/artifacts/" \
        "$work/corpus" > "$replay" 2>&1; then
        echo "fuzz_$target: corpus of $inputs inputs replayed under ASan + UBSan: no finding"
    else
        echo "fuzz_$target: FAILED under ASan + UBSan replaying the corpus; see $replay"
        grep -A40 -m1 -E "^==[0-9]+==ERROR|runtime error|deadly signal" "$replay"
        return 1
    fi
}
lanes=${LANES:-1}
failed=0
running=0
mkdir -p build/fuzz-runs
for target in "${targets[@]}"; do
    if [ "$running" -ge "$lanes" ]; then
        wait -n || failed=1
        running=$((running - 1))
    fi
    long_run "$target" > "build/fuzz-runs/$target.summary" 2>&1 &
    running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
    wait -n || failed=1
    running=$((running - 1))
done
for target in "${targets[@]}"; do cat "build/fuzz-runs/$target.summary"; done
exit $failed

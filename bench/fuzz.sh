#!/usr/bin/env bash
# The fuzz targets (fuzz/) for longer than CTest runs them: each target in
# turn for SECONDS (default 120), its corpus kept in build/fuzz-runs/<target>
# so that runs add up. Prints executions, rate, corpus size and crashes per
# target; the crashing inputs stay in build/fuzz-runs/<target>/artifacts.
# usage: bench/fuzz.sh [SECONDS] [TARGET...]   (build/myst built: it makes the seeds)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-120}
shift || true
targets=("$@")
if [ ${#targets[@]} = 0 ]; then
    targets=(cpio ext2 verity fssig luks1 elf app_config mount_options)
fi
bash fuzz/build.sh build/fuzz > /dev/null
bash fuzz/make_seeds.sh build/myst build/tests/apps/bin build/fuzz-seeds
failed=0
for target in "${targets[@]}"; do
    bash fuzz/run_fuzzer.sh "build/fuzz/fuzz_$target" "$seconds" "build/fuzz-seeds/$target" \
        "build/fuzz-runs/$target" || failed=1
done
exit $failed

#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time and says what it did.
# Usage: run_fuzzer.sh <fuzzer> <seconds> <seed-dir> <work-dir> [libFuzzer option...]
# (seconds 0: no time limit, e.g. with -runs=N among the options)
# The corpus grows in <work-dir>/corpus (kept between runs); a crash, a hang
# (a minute on one input), a leak or a sanitizer report leaves its input in
# <work-dir>/artifacts and fails the run with the report. Prints one line:
#   <name>: <executions> executions in <seconds> s (<rate>/s), corpus <n>, crashes <k>
set -uo pipefail
fuzzer=$1
seconds=$2
seeds=$3
work=$4
shift 4
name=$(basename "$fuzzer")
# The artifacts of an earlier run were reported then; this run's are its own.
rm -rf "$work/artifacts"
mkdir -p "$work/corpus" "$work/artifacts"
log=$work/log.txt

# Halt on the first UBSan report too, with a stack; libFuzzer turns any of
# these into a crash with the input saved.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
start=$(date +%s)
"$fuzzer" -max_total_time="$seconds" -timeout=60 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$@" "$work/corpus" "$seeds" > "$log" 2>&1
status=$?
elapsed=$(($(date +%s) - start))

executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
corpus=$(find "$work/corpus" -type f | wc -l)
crashes=$(find "$work/artifacts" -type f | wc -l)
rate=$((${executions:-0} / (elapsed > 0 ? elapsed : 1)))
echo "$name: ${executions:-0} executions in $elapsed s ($rate/s), corpus $corpus, crashes $crashes"
if [ "$status" != 0 ] || [ "$crashes" != 0 ]; then
    echo "$name: FAILED (exit $status); inputs kept in $work/artifacts:"
    ls -l "$work/artifacts"
    grep -A40 -m1 -E "^==[0-9]+==ERROR|runtime error|ALARM|deadly signal|out-of-memory" "$log"
    exit 1
fi

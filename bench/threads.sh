#!/usr/bin/env bash
# Threads and futexes under myst exec-linux against native runs of the same
# program (bench/apps/thread_cost.c, glibc static-pie), in one run:
#   1. pthread_create + pthread_join of a thread that returns at once (µs each);
#   2. FUTEX_WAKE on a word nobody waits on (ns per call: one trapped syscall);
#   3. two threads handing a turn back and forth on two futex words, each
#      sleeping in FUTEX_WAIT until woken (round trips per second).
# Each figure is the median of RUNS runs (default 5). Where the CPU has
# FSGSBASE, myst runs on both syscall entries.
# usage: bench/threads.sh      (needs gcc; build/myst built)
set -euo pipefail
cd "$(dirname "$0")/.."
MYST=$(readlink -f "${MYST:-build/myst}")
RUNS=${RUNS:-5}
OUT=bench/out/threads
rm -rf "$OUT" && mkdir -p "$OUT/rootfs/bin"
gcc -O2 -Wall -static-pie -fPIE -o "$OUT/rootfs/bin/thread_cost" bench/apps/thread_cost.c
"$MYST" mkcpio "$OUT/rootfs" "$OUT/rootfs.cpio"

# median <command...>: runs the command RUNS times, prints the median figure.
median() {
    for _ in $(seq "$RUNS"); do "$@"; done | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'
}
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.1f}x')" "$1" "$2"; }
native() { "$OUT/rootfs/bin/thread_cost" "$@"; }
entries=("MYST_NO_FSGSBASE=1:arch_prctl entry")
if grep -qw fsgsbase /proc/cpuinfo; then
    entries=("MYST_NO_FSGSBASE=0:FSGSBASE entry" "${entries[@]}")
else
    echo "(this CPU has no FSGSBASE: myst runs on the arch_prctl entry only)"
fi

# what, unit, higher-is-better?, arguments
report() {
    local what=$1 unit=$2 higher=$3
    shift 3
    local n m setting
    n=$(median native "$@")
    for entry in "${entries[@]}"; do
        setting=${entry%%:*}
        m=$(median env "$setting" "$MYST" exec-linux "$OUT/rootfs.cpio" /bin/thread_cost "$@")
        if [ "$higher" = yes ]; then
            echo "$what, ${entry#*:}: myst $m $unit, native $n $unit, native/myst $(ratio "$n" "$m")"
        else
            echo "$what, ${entry#*:}: myst $m $unit, native $n $unit, ratio $(ratio "$m" "$n")"
        fi
    done
}
report "thread create+join" "µs" no create 2000
report "FUTEX_WAKE, no waiter" "ns" no wake 200000
report "futex ping-pong, two threads" "round trips/s" yes pingpong 20000

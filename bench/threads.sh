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
PROGRAM=thread_cost
# shellcheck source=compare_lib.sh
source bench/compare_lib.sh
report "thread create+join" "µs" no create 2000
report "FUTEX_WAKE, no waiter" "ns" no wake 200000
report "futex ping-pong, two threads" "round trips/s" yes pingpong 20000

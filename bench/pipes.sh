#!/usr/bin/env bash
# Pipes under myst exec-linux against native runs of the same program
# (bench/apps/pipe_cost.c, glibc static-pie), in one run:
#   1. two threads bouncing one byte over two pipes, each sleeping in a
#      blocking read until the other writes (round trips per second);
#   2. 256 MiB through one pipe in 64 KiB writes, one thread writing and
#      another reading (MB/s).
# Each figure is the median of RUNS runs (default 5). Where the CPU has
# FSGSBASE, myst runs on both syscall entries.
# usage: bench/pipes.sh      (needs gcc; build/myst built)
set -euo pipefail
cd "$(dirname "$0")/.."
PROGRAM=pipe_cost
# shellcheck source=compare_lib.sh
source bench/compare_lib.sh
report "pipe ping-pong, two threads, 1 byte" "round trips/s" yes pingpong 20000
report "pipe throughput, 256 MiB in 64 KiB writes" "MB/s" yes stream 256

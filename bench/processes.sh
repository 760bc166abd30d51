#!/usr/bin/env bash
# Processes under myst exec-linux against native runs of the same program
# (bench/apps/process_cost.c, glibc static-pie), in one run:
#   1. fork + _exit + waitpid (µs per round);
#   2. fork + execve of a static program that exits at once + waitpid;
#   3. posix_spawn of the same + waitpid;
#   4. one byte bounced between two processes over two pipes (round trips/s);
#   5. 1 GiB from a child process through a pipe in 64 KiB writes (MB/s);
#   6. as 4, with a child of fork that does not exec (under myst the two
#      take turns on the pages at every byte: ForkMode pseudo).
# Each figure is the median of RUNS runs (default 5). Where the CPU has
# FSGSBASE, myst runs on both syscall entries.
# usage: bench/processes.sh      (needs gcc; build/myst built)
set -euo pipefail
cd "$(dirname "$0")/.."
PROGRAM=process_cost
# shellcheck source=compare_lib.sh
source bench/compare_lib.sh
report "fork + exit + wait" "µs" no fork 200
report "fork + exec of a static program + wait" "µs" no forkexec 100
report "posix_spawn of a static program + wait" "µs" no spawn 100
report "pipe ping-pong between two processes, 1 byte" "round trips/s" yes pingpong 20000
report "1 GiB from a child process through a pipe" "MB/s" yes stream 1024
report "pipe ping-pong with a forked (not exec'd) child, 1 byte" "round trips/s" yes forkpingpong 2000

#!/usr/bin/env bash
# TCP sockets over 127.0.0.1 and AF_UNIX stream sockets under myst
# exec-linux against native runs of the same program
# (bench/apps/socket_cost.c, glibc static-pie), in one run:
#   1. a client and an echoing server thread bouncing one byte
#      (TCP_NODELAY), each sleeping in a blocking recv (round trips/s);
#   2. 1 GiB over one connection in 64 KiB sends (MB/s);
#   3. and 4. the same over an AF_UNIX socketpair (the kernel's own
#      sockets under myst, no host socket).
# Each figure is the median of RUNS runs (default 5). Where the CPU has
# FSGSBASE, myst runs on both syscall entries.
# usage: bench/sockets.sh      (needs gcc; build/myst built)
set -euo pipefail
cd "$(dirname "$0")/.."
PROGRAM=socket_cost
# shellcheck source=compare_lib.sh
source bench/compare_lib.sh
report "TCP ping-pong over 127.0.0.1, 1 byte" "round trips/s" yes pingpong 20000
report "TCP bulk over 127.0.0.1, 1 GiB in 64 KiB sends" "MB/s" yes stream 1024
report "AF_UNIX stream ping-pong (socketpair), 1 byte" "round trips/s" yes unix-pingpong 20000
report "AF_UNIX stream bulk (socketpair), 1 GiB in 64 KiB sends" "MB/s" yes unix-stream 1024

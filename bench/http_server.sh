#!/usr/bin/env bash
# Debian's `python3 -m http.server` under myst exec-linux (from an ext2
# image of tests/rootfs/debian_python.sh's tree) against the host's python3
# (the same Debian package) serving the same files natively, in one run:
# requests/s and p99 latency of tests/tools/http_load.py from the host,
# REQUESTS GETs (default 2000) from THREADS threads (default 8), each on a
# new connection, for files of 0 B, 1 KiB, 64 KiB and 1 MiB in turn; and
# the same for a small file only (1 KiB), where the server's per-request
# work dominates. Each figure is the median of RUNS runs (default 3).
# usage: bench/http_server.sh      (build/myst built; python3 on the host)
set -euo pipefail
cd "$(dirname "$0")/.."
MYST=$(readlink -f "${MYST:-build/myst}")
RUNS=${RUNS:-3} REQUESTS=${REQUESTS:-2000} THREADS=${THREADS:-8}
OUT=bench/out/http_server
rm -rf "$OUT" && mkdir -p "$OUT"
OUT=$(readlink -f "$OUT")
tests/rootfs/debian_python.sh "$(dirname "$MYST")/tests/rootfs-cache/python3" >/dev/null
cp -a "$(dirname "$MYST")/tests/rootfs-cache/python3/root" "$OUT/rootfs"
mkdir -p "$OUT/rootfs/srv/mixed" "$OUT/rootfs/srv/small"
: >"$OUT/rootfs/srv/mixed/empty"
head -c 1024 /dev/urandom >"$OUT/rootfs/srv/mixed/1k"
head -c 65536 /dev/urandom >"$OUT/rootfs/srv/mixed/64k"
head -c 1048576 /dev/urandom >"$OUT/rootfs/srv/mixed/1m"
cp "$OUT/rootfs/srv/mixed/1k" "$OUT/rootfs/srv/small/1k"
"$MYST" mkext2 -q "$OUT/rootfs" "$OUT/http.ext2"

# load <set> <server command...>: starts the server on an ephemeral port,
# runs the client once, prints "req/s p99-ms".
load() {
    local set=$1 server port
    shift
    "$@" -u -m http.server --bind 127.0.0.1 --directory "/srv/$set" 0 >"$OUT/server.out" \
        2>/dev/null &
    server=$!
    for _ in $(seq 300); do
        port=$(sed -n 's/^Serving HTTP on 127.0.0.1 port \([0-9]*\) .*/\1/p' "$OUT/server.out")
        [ -n "$port" ] && break
        sleep 0.2
    done
    python3 tests/tools/http_load.py "$port" "$OUT/rootfs/srv/$set" "$REQUESTS" "$THREADS" |
        awk '{print $8, $10}'
    kill "$server"
    wait "$server" 2>/dev/null || true
}
# median <column> <lines>: the median of one column.
median() { sort -g -k"$1" | awk -v c="$1" '{a[NR] = $c} END {print a[int((NR + 1) / 2)]}'; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.1f}x')" "$1" "$2"; }
# A host path /srv/<set> for the native server: the tree's srv.
native_python() { (cd "$OUT/rootfs" && exec /usr/bin/python3 "${@/\/srv/$OUT/rootfs/srv}"); }
for set in mixed small; do
    native=$(for _ in $(seq "$RUNS"); do load "$set" native_python; done)
    under_myst=$(for _ in $(seq "$RUNS"); do
        load "$set" "$MYST" exec-linux --memory-size 1g "$OUT/http.ext2" /usr/bin/python3
    done)
    n=$(median 1 <<<"$native") m=$(median 1 <<<"$under_myst")
    np=$(median 2 <<<"$native") mp=$(median 2 <<<"$under_myst")
    echo "http.server, $set files, $REQUESTS requests, $THREADS client threads:" \
        "myst $m req/s (p99 $mp ms), native $n req/s (p99 $np ms), native/myst $(ratio "$n" "$m")"
done

#!/usr/bin/env bash
# Debian's `python3 -m http.server`, unmodified, as a service under myst: it
# serves a directory of files of 0 B, 1 KiB, 64 KiB and 1 MiB from an ext2
# image of Debian 12's packages (tests/rootfs/debian_python.sh) on
# 127.0.0.1, and a host client (tests/tools/http_load.py, the host's
# python3) makes 2000 GET requests from 8 threads, each on a new
# connection. Every request must succeed with a body byte-identical to the
# file, and the server must have logged each one.
source "$(dirname "$0")/lib.sh"
require python3 timeout
REPO=$(readlink -f "$(dirname "${BASH_SOURCE[0]}")/../..")
readonly REQUESTS=2000 THREADS=8
debian_tree rootfs
mkdir -p rootfs/srv
: >rootfs/srv/empty
head -c 1024 /dev/urandom >rootfs/srv/1k
head -c 65536 /dev/urandom >rootfs/srv/64k
head -c 1048576 /dev/urandom >rootfs/srv/1m
"$MYST" mkext2 -q rootfs http.ext2

# Port 0: the server takes an ephemeral port and names it ("Serving HTTP on
# 127.0.0.1 port N"; -u so the line is not held in a buffer).
timeout 300 "$MYST" exec-linux --memory-size 1g http.ext2 /usr/bin/python3 -u -m http.server \
    --bind 127.0.0.1 --directory /srv 0 >server.out 2>server.err &
server=$!
if ! port=$(wait_for_text server.out 's/^Serving HTTP on 127.0.0.1 port \([0-9]*\) .*/\1/p' 60 "$server"); then
    fail "http.server under myst does not say it is serving"
    stop_server "$server"
    cat server.out server.err
    finish
fi
pass "http.server under myst listens on 127.0.0.1 port $port"

start=$EPOCHREALTIME
if timeout 240 python3 "$REPO/tests/tools/http_load.py" "$port" rootfs/srv "$REQUESTS" "$THREADS" \
    >client.out 2>client.err; then
    pass "$REQUESTS GET requests, 0 errors, bodies byte-identical to the files: $(cat client.out)"
else
    fail "the host client's requests (exit status $?): $(cat client.out)"
    head -n 20 client.err
fi
seconds=$(awk "BEGIN {printf \"%.1f\", $EPOCHREALTIME - $start}")
if kill -0 "$server" 2>/dev/null; then
    pass "the server is still running after the load (${seconds} s)"
else
    fail "the server ended during the load"
fi
stop_server "$server"
logged=$(grep -c '"GET /[a-z0-9]* HTTP/1.1" 200 ' server.err || true)
if [ "$logged" -eq "$REQUESTS" ]; then
    pass "the server logged $logged requests with status 200"
else
    fail "the server logged $logged requests with status 200, not $REQUESTS"
    grep -v '"GET /[a-z0-9]* HTTP/1.1" 200 ' server.err | head -n 20
fi
finish

#!/usr/bin/env bash
# Debian's busybox (dynamic PIE, from the tree of tests/rootfs/debian_python.sh)
# as services under myst, each against a host client on 127.0.0.1:
#   httpd -f: 500 GET requests (tests/tools/http_load.py, 4 threads) for
#     files of 0 B, 1 KiB and 256 KiB; busybox forks a child per
#     connection, so this is also fork under load. 0 errors, bodies equal.
#   nc -l: receives 1 MiB from the host and writes it to stdout; the
#     bytes must be the ones sent.
source "$(dirname "$0")/lib.sh"
require python3 timeout cmp
REPO=$(readlink -f "$(dirname "${BASH_SOURCE[0]}")/../..")
readonly REQUESTS=500 THREADS=4
debian_tree rootfs
for applet in httpd nc; do
    [ -L "rootfs/bin/$applet" ] || { echo "FAIL: Debian's busybox has no $applet applet"; exit 1; }
done
mkdir -p rootfs/srv
: >rootfs/srv/empty
head -c 1024 /dev/urandom >rootfs/srv/1k
head -c 262144 /dev/urandom >rootfs/srv/256k
"$MYST" mkext2 -q rootfs busybox.ext2

# httpd names no port: take a free one (and try again if another program
# took it in between).
for attempt in 1 2 3; do
    port=$(free_port)
    timeout 300 "$MYST" exec-linux busybox.ext2 /bin/busybox httpd -f -p "127.0.0.1:$port" -h /srv \
        >httpd.out 2>httpd.err &
    server=$!
    wait_for_port "$port" 60 "$server" && break
    stop_server "$server"
    server=""
done
if [ -z "$server" ]; then
    fail "busybox httpd under myst does not listen"
    cat httpd.out httpd.err
else
    pass "busybox httpd under myst listens on 127.0.0.1 port $port"
    if timeout 240 python3 "$REPO/tests/tools/http_load.py" "$port" rootfs/srv "$REQUESTS" \
        "$THREADS" >client.out 2>client.err; then
        pass "httpd: $REQUESTS GET requests, 0 errors, bodies byte-identical: $(cat client.out)"
    else
        fail "httpd: the host client's requests: $(cat client.out)"
        head -n 20 client.err
    fi
    kill -0 "$server" 2>/dev/null && pass "httpd is still running after the load" ||
        fail "httpd ended during the load"
    stop_server "$server"
fi

head -c 1048576 /dev/urandom >sent.bin
for attempt in 1 2 3; do
    port=$(free_port)
    timeout 120 "$MYST" exec-linux busybox.ext2 /bin/busybox nc -l -p "$port" >received.bin \
        2>nc.err &
    server=$!
    # nc -l takes one connection: the readiness probe must not be it, so
    # wait for its listening socket by trying to bind the port instead.
    for _ in $(seq 1 300); do
        python3 -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1', $port))" \
            2>/dev/null || break
        kill -0 "$server" 2>/dev/null || break
        sleep 0.2
    done
    kill -0 "$server" 2>/dev/null && break
    server=""
done
python3 - "$port" sent.bin <<'PY' && sent=yes || sent=no
import socket, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60) as connection:
    connection.sendall(open(sys.argv[2], "rb").read())
PY
[ -n "$server" ] && { wait "$server" && status=0 || status=$?; } || status=none
if [ "$sent" = yes ] && [ "$status" = 0 ] && cmp -s sent.bin received.bin; then
    pass "nc -l received 1 MiB from the host, byte for byte, and exited 0"
else
    fail "nc -l (sent: $sent, exit status $status, received $(stat -c %s received.bin) bytes)"
    cat nc.err
fi
finish

#!/usr/bin/env bash
# A musl-static C echo server on epoll (tests/apps/epoll_server.c: one
# thread, edge-triggered, non-blocking sockets) under myst, loaded by the
# same program's client run natively on the host: first a client that
# resets its connection mid-request (the server must carry on), then 64
# connections open at once, each echoing 300 rounds of 4 KiB. The server's
# report must equal a native run's, and the client must get every byte back.
source "$(dirname "$0")/lib.sh"
require timeout cmp
REPO=$(readlink -f "$(dirname "${BASH_SOURCE[0]}")/../..")
APPS=$(dirname "$MYST")/tests/apps/bin
readonly CONNECTIONS=64 ROUNDS=300 SIZE=4096
for program in epoll_server-musl-static epoll_server-glibc; do
    [ -x "$APPS/$program" ] || { echo "FAIL: $APPS/$program is not built (target myst_test_apps)"; exit 1; }
done
bash "$REPO/tests/apps/make_rootfs.sh" --myst "$MYST" --cpio server.cpio rootfs \
    "$APPS/epoll_server-musl-static" >make_rootfs.log 2>&1 ||
    { echo "FAIL: make_rootfs.sh"; cat make_rootfs.log; exit 1; }

# serve <name> <server command...>: runs the server in the background,
# loads it with the native client, and leaves <name>.out (the server's
# report), <name>.status and <name>.client.
serve() {
    local name=$1 server port
    shift
    timeout 120 "$@" server "$CONNECTIONS" >"$name.out" 2>"$name.err" &
    server=$!
    if ! port=$(wait_for_text "$name.err" 's/^listening on port \([0-9]*\)$/\1/p' 60 "$server"); then
        fail "$name: the server does not listen"
        stop_server "$server"
        cat "$name.err"
        return
    fi
    timeout 120 "$APPS/epoll_server-glibc" client "$port" "$CONNECTIONS" "$ROUNDS" "$SIZE" \
        >"$name.client" 2>"$name.client.err" || fail "$name: the client failed: $(cat "$name.client.err")"
    wait "$server" && echo 0 >"$name.status" || echo $? >"$name.status"
}
serve native "$APPS/epoll_server-musl-static"
[ "$(cat native.status 2>/dev/null)" = 0 ] ||
    { echo "FAIL: the server fails natively"; cat native.out native.err; exit 1; }
start=$EPOCHREALTIME
serve myst "$MYST" exec-linux server.cpio /bin/epoll_server-musl-static
seconds=$(awk "BEGIN {printf \"%.1f\", $EPOCHREALTIME - $start}")
if [ "$(cat myst.status 2>/dev/null)" = 0 ] && cmp -s native.out myst.out; then
    pass "the server under myst reports what it reports natively (${seconds} s; $(grep 'round trips' myst.client.err))"
else
    fail "the server under myst (exit status $(cat myst.status 2>/dev/null), 124 is a timeout)"
    diff native.out myst.out
    cat myst.err
fi
expected="client: $CONNECTIONS connections, $ROUNDS rounds of $SIZE bytes, $((CONNECTIONS * ROUNDS * SIZE)) bytes back, 0 mismatches"
[ "$(cat myst.client 2>/dev/null)" = "$expected" ] && pass "the host client got every byte back" ||
    fail "the host client: $(cat myst.client 2>/dev/null) (expected: $expected)"
finish

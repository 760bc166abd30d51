#!/usr/bin/env bash
# `myst exec-linux --loopback-only`: tests/apps/loopback_only.c (glibc and
# musl-static) binds, listens, connects and sends under the restriction.
# Wildcard binds and implicit binds land on the loopback, an address off
# it is EADDRNOTAVAIL to bind and ENETUNREACH to reach (nothing leaves the
# host: the far addresses are documentation ones, and myst refuses them
# before the host sees them), and TCP and UDP over 127.0.0.1 still work.
source "$(dirname "$0")/lib.sh"
require timeout cmp
REPO=$(readlink -f "$(dirname "${BASH_SOURCE[0]}")/../..")
APPS=$(dirname "$MYST")/tests/apps/bin
readonly VARIANTS=(glibc musl-static)
programs=()
for v in "${VARIANTS[@]}"; do
    [ -x "$APPS/loopback_only-$v" ] ||
        { echo "FAIL: $APPS/loopback_only-$v is not built (target myst_test_apps)"; exit 1; }
    programs+=("$APPS/loopback_only-$v")
done
bash "$REPO/tests/apps/make_rootfs.sh" --myst "$MYST" --cpio loopback.cpio rootfs "${programs[@]}" \
    >make_rootfs.log 2>&1 || { echo "FAIL: make_rootfs.sh"; cat make_rootfs.log; exit 1; }
cat >expected.out <<'OUT'
bind 0.0.0.0: ok
bind 0.0.0.0: local address 127.0.0.1
bind ::: ok
bind ::: local address ::1
bind 192.0.2.1: EADDRNOTAVAIL
listen unbound: ok
listen unbound: local address 127.0.0.1
connect 192.0.2.1:80: ENETUNREACH
connect [2001:db8::1]:80: ENETUNREACH
sendto 192.0.2.1:9: ENETUNREACH
after sendto 192.0.2.1:9: local address 0.0.0.0
UDP sender after sendto 127.0.0.1: local address 127.0.0.1
UDP over 127.0.0.1: ok
TCP client after connect 127.0.0.1: local address 127.0.0.1
TCP over 127.0.0.1: ok
OUT
for v in "${VARIANTS[@]}"; do
    timeout 120 "$MYST" exec-linux --loopback-only loopback.cpio "/bin/loopback_only-$v" \
        >"$v.out" 2>"$v.err" && status=0 || status=$?
    if [ "$status" = 0 ] && cmp -s expected.out "$v.out"; then
        pass "loopback_only-$v under --loopback-only: $(wc -l <"$v.out") results as expected"
    else
        fail "loopback_only-$v under --loopback-only (exit status $status)"
        diff expected.out "$v.out" || true
        cat "$v.err"
    fi
done
# The config key LoopbackOnly does what the flag does.
printf '{"ApplicationPath": "/bin/loopback_only-musl-static", "LoopbackOnly": true}\n' >config.json
timeout 120 "$MYST" exec-linux --app-config-path config.json loopback.cpio \
    >config.out 2>config.err && status=0 || status=$?
if [ "$status" = 0 ] && cmp -s expected.out config.out; then
    pass "config \"LoopbackOnly\": true keeps sockets on the loopback"
else
    fail "config LoopbackOnly (exit status $status)"
    diff expected.out config.out || true
    cat config.err
fi
printf '{"ApplicationPath": "/bin/loopback_only-musl-static", "LoopbackOnly": "yes"}\n' >bad.json
if "$MYST" exec-linux --app-config-path bad.json loopback.cpio >bad.out 2>bad.err; then
    fail "a LoopbackOnly that is not a boolean was accepted"
elif grep -q "bad.json" bad.err && grep -q "LoopbackOnly" bad.err; then
    pass "a LoopbackOnly that is not a boolean: $(head -1 bad.err)"
else
    fail "no clear error for a bad LoopbackOnly: $(cat bad.err)"
fi
finish

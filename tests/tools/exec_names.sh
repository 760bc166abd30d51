#!/usr/bin/env bash
# Names under myst: tests/apps/names.c (all four builds, glibc and musl)
# resolves names from the image's /etc/hosts (one that the host does not
# have), and gethostname, uname and /proc/sys/kernel/hostname all give the
# config's Hostname, or "myst" without a config. The image is assembled by
# tests/apps/make_rootfs.sh, whose /etc/hosts, nsswitch.conf and
# resolv.conf are replaced here by ones naming the test's own host.
source "$(dirname "$0")/lib.sh"
REPO=$(readlink -f "$(dirname "${BASH_SOURCE[0]}")/../..")
APPS=$(dirname "$MYST")/tests/apps/bin
readonly VARIANTS=(glibc glibc-static musl musl-static)
readonly HOST=myst-names-test
for v in "${VARIANTS[@]}"; do
    [ -x "$APPS/names-$v" ] || { echo "FAIL: $APPS/names-$v is not built (target myst_test_apps)"; exit 1; }
done
if grep -qw image-only-name /etc/hosts; then
    echo "FAIL: the host's /etc/hosts names image-only-name: the test could not tell them apart"
    exit 1
fi

mkdir -p fixtures/etc
printf '127.0.0.1\tlocalhost\n127.0.0.7\t%s image-only-name\n::1\tlocalhost ip6-localhost\n' \
    "$HOST" >fixtures/etc/hosts
printf 'hosts: files\n' >fixtures/etc/nsswitch.conf
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >fixtures/etc/resolv.conf
programs=()
for v in "${VARIANTS[@]}"; do programs+=("$APPS/names-$v"); done
bash "$REPO/tests/apps/make_rootfs.sh" --extra fixtures --myst "$MYST" --cpio names.cpio rootfs \
    "${programs[@]}" >make_rootfs.log 2>&1 || { echo "FAIL: make_rootfs.sh"; cat make_rootfs.log; exit 1; }

# expected <hostname>: what names prints for the names below.
expected() {
    printf '%s\n' "localhost 127.0.0.1 port 0" "image-only-name 127.0.0.7 port 0" \
        "$HOST 127.0.0.7 port 0" "gethostname $1" "uname nodename $1" \
        "/proc/sys/kernel/hostname $1"
}
expected "$HOST" >with-config.expected
expected myst >default.expected
for v in "${VARIANTS[@]}"; do
    cat >"names-$v.json" <<JSON
{
    "version": "0.1",
    "ApplicationPath": "/bin/names-$v",
    "HostApplicationParameters": true,
    "Hostname": "$HOST"
}
JSON
    timeout 120 "$MYST" exec-linux --app-config-path "names-$v.json" names.cpio "/bin/names-$v" \
        localhost image-only-name "$HOST" >"$v.out" 2>"$v.err" && status=0 || status=$?
    if [ "$status" = 0 ] && cmp -s with-config.expected "$v.out"; then
        pass "names-$v: /etc/hosts from the image, Hostname $HOST from the config everywhere"
    else
        fail "names-$v with a config (exit status $status)"
        diff with-config.expected "$v.out" || true
        cat "$v.err"
    fi
    timeout 120 "$MYST" exec-linux names.cpio "/bin/names-$v" localhost image-only-name "$HOST" \
        >"$v-default.out" 2>"$v-default.err" && status=0 || status=$?
    if [ "$status" = 0 ] && cmp -s default.expected "$v-default.out"; then
        pass "names-$v without a config: the host name is myst everywhere"
    else
        fail "names-$v without a config (exit status $status)"
        diff default.expected "$v-default.out" || true
        cat "$v-default.err"
    fi
done
finish

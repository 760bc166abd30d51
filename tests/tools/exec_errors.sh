#!/usr/bin/env bash
# myst exec-linux refuses bad configuration cleanly (a one-line error that
# names the file or option and the reason, a non-zero exit, no crash) and
# takes the forms of a good one.
source "$(dirname "$0")/lib.sh"
APPS=$(dirname "$MYST")/tests/apps/bin
[ -x "$APPS/hello-musl-static" ] || { echo "FAIL: $APPS/hello-musl-static is not built"; exit 1; }
mkdir -p rootfs/bin rootfs/data
cp "$APPS/hello-musl-static" rootfs/bin/hello
"$MYST" mkcpio rootfs rootfs.cpio

check "hello runs from the test image" bash -c "'$MYST' exec-linux rootfs.cpio /bin/hello | grep -qx 'Hello World!'"
printf '{"ApplicationPath": "/bin/hello",' >broken.json
check_fails "malformed config JSON" "broken.json" "$MYST" exec-linux --app-config-path broken.json rootfs.cpio /bin/hello
printf '{"MemorySize": true}' >wrongtype.json
check_fails "config key of the wrong type" "MemorySize" "$MYST" exec-linux --app-config-path wrongtype.json rootfs.cpio /bin/hello
check_fails "missing config file" "nope.json" "$MYST" exec-linux --app-config-path nope.json rootfs.cpio /bin/hello
check_fails "bad --memory-size" "--memory-size" "$MYST" exec-linux --memory-size 12q rootfs.cpio /bin/hello
check_fails "--memory-size too small" "memory size" "$MYST" exec-linux --memory-size 4k rootfs.cpio /bin/hello
check_fails "bad --block-cache-size" "--block-cache-size" "$MYST" exec-linux --block-cache-size 12q rootfs.cpio /bin/hello
check_fails "--mount without =" "--mount" "$MYST" exec-linux --mount /tmp rootfs.cpio /bin/hello
check_fails "--mount of a missing host directory" "no-such-dir" "$MYST" exec-linux --mount "$SCRATCH/no-such-dir=/data" rootfs.cpio /bin/hello
check_fails "a directory as the program" "/bin" "$MYST" exec-linux rootfs.cpio /bin
check "a relative host directory works as the root (hostfs)" \
    bash -c "'$MYST' exec-linux rootfs /bin/hello | grep -qx 'Hello World!'"
printf '{"ApplicationPath": "/bin/hello"}' >app.json
check "ApplicationPath from the config runs without a program argument" \
    bash -c "'$MYST' exec-linux --app-config-path app.json rootfs.cpio | grep -qx 'Hello World!'"
"$MYST" exec-linux --app-config-path app.json rootfs.cpio /bin/hello one two >ignored.out 2>ignored.err
check "arguments a config does not allow are ignored (the program still runs)" \
    grep -qx 'Hello World!' ignored.out
check "... and stderr says how many and which key allows them" \
    grep -q "ignoring 2 command-line arguments.*HostApplicationParameters" ignored.err
check_fails "MYST_NO_FSGSBASE with a bad value" "MYST_NO_FSGSBASE" \
    env MYST_NO_FSGSBASE=yes "$MYST" exec-linux rootfs.cpio /bin/hello
check "MYST_NO_FSGSBASE=1 runs on the arch_prctl entry" \
    bash -c "MYST_NO_FSGSBASE=1 '$MYST' exec-linux rootfs.cpio /bin/hello | grep -qx 'Hello World!'"
check "MYST_NO_FSGSBASE=0 lets the CPU decide" \
    bash -c "MYST_NO_FSGSBASE=0 '$MYST' exec-linux rootfs.cpio /bin/hello | grep -qx 'Hello World!'"
check "exec-linux --help names the requirements" \
    bash -c "'$MYST' exec-linux --help | grep -q 'Linux 5.11'"
finish

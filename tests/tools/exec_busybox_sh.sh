#!/usr/bin/env bash
# Debian's busybox sh, unmodified, under myst: tests/apps/shell/pipelines.sh
# (pipelines, $(...), redirections, && and ||, background jobs and wait,
# read from a pipe, traps, signals to jobs) runs from an ext2 image of
# Debian 12's busybox (dynamic PIE, its applets linked in /bin) and must
# print what the same busybox prints running natively with the same applets.
source "$(dirname "$0")/lib.sh"
REPO=$(readlink -f "$(dirname "${BASH_SOURCE[0]}")/../..")
debian_tree rootfs
mkdir -p rootfs/test
cp "$REPO/tests/apps/shell/pipelines.sh" rootfs/test/pipelines.sh
"$MYST" mkext2 -q rootfs shell.ext2

# Natively: the tree's busybox, with PATH leading to its applets only.
env -i PATH="$PWD/rootfs/bin" "$PWD/rootfs/bin/sh" rootfs/test/pipelines.sh >native.out 2>native.err ||
    { echo "FAIL: the script fails natively"; cat native.err; exit 1; }
same_as_native "busybox sh pipelines.sh" shell.ext2 /bin/sh /test/pipelines.sh
diff native.err myst.err >err.diff && pass "the same stderr as natively" ||
    { fail "stderr differs from the native run"; cat err.diff; }
finish

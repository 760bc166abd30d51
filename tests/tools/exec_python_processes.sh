#!/usr/bin/env bash
# Debian's python3, unmodified, starting processes under myst:
# tests/apps/python/processes.py (subprocess, os.fork, pipes with select and
# epoll, posix_spawn, signals) runs from an ext2 image of Debian 12's python3
# and busybox (whose applets are the image's /bin/sh, /bin/echo, ...) and must
# print what the host's python3 prints. Debian's python3 is a fixed-address
# program: python3 starting python3 (subprocess's vfork, os.fork + execv,
# os.execv, a busy parent beside a busy child: tests/apps/python/
# second_python.py) takes turns on that range and must print what the
# host's python3 prints.
source "$(dirname "$0")/lib.sh"
REPO=$(readlink -f "$(dirname "${BASH_SOURCE[0]}")/../..")
HOST_PYTHON=/usr/bin/python3
[ -x "$HOST_PYTHON" ] || { echo "FAIL: $HOST_PYTHON is missing (run ./setup.sh)"; exit 1; }
debian_tree rootfs
mkdir -p rootfs/test
cp "$REPO/tests/apps/python/processes.py" rootfs/test/processes.py
"$MYST" mkext2 -q rootfs python.ext2

(cd rootfs/test && env -i "$HOST_PYTHON" processes.py) >native.out 2>native.err ||
    { echo "FAIL: the script fails natively"; cat native.err; exit 1; }
same_as_native processes.py python.ext2 /usr/bin/python3 /test/processes.py
check "processes.py writes nothing to stderr under myst" bash -c "! [ -s myst.err ] || { cat myst.err; false; }"
cp "$REPO/tests/apps/python/second_python.py" rootfs/test/second_python.py
"$MYST" mkext2 -q --force rootfs python.ext2
(cd rootfs/test && env -i "$HOST_PYTHON" second_python.py) >native.out 2>native.err ||
    { echo "FAIL: second_python.py fails natively"; cat native.err; exit 1; }
same_as_native second_python.py python.ext2 /usr/bin/python3 /test/second_python.py
check "second_python.py writes nothing to stderr under myst" \
    bash -c "! [ -s myst.err ] || { cat myst.err; false; }"
finish

#!/usr/bin/env bash
# Debian's python3, unmodified, starting processes under myst:
# tests/apps/python/processes.py (subprocess, os.fork, pipes with select and
# epoll, posix_spawn, signals) runs from an ext2 image of Debian 12's python3
# and busybox (whose applets are the image's /bin/sh, /bin/echo, ...) and must
# print what the host's python3 prints. Debian's python3 is a fixed-address
# program, so python3 starting a second python3 (multiprocessing's spawn) must
# fail with ENOMEM and one line saying why, not crash or hang.
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
cat >rootfs/test/second_python.py <<'EOF'
import subprocess, sys
try:
    subprocess.run([sys.executable, '-c', 'pass'])
except OSError as e:
    print("second python3:", e.strerror)
EOF
"$MYST" mkext2 -q --force rootfs python.ext2
timeout 120 "$MYST" exec-linux --memory-size 1g python.ext2 /usr/bin/python3 /test/second_python.py \
    >second.out 2>second.err || true
check "a second fixed-address python3 gets ENOMEM" grep -qx "second python3: Cannot allocate memory" second.out
check "and myst says why on stderr" \
    grep -q "myst: execve: /usr/bin/python3.*fixed-address executable needs memory at 0x400000" second.err
finish

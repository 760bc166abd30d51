#!/usr/bin/env bash
# Debian's python3, unmodified, using sockets under myst (a threaded TCP
# echo over 127.0.0.1, AF_UNIX, selectors): a root tree made of Debian 12's
# packages (tests/rootfs/debian_python.sh, cached in the build tree) is
# packed with myst mkext2, and tests/apps/python/sockets.py runs from
# it under myst exec-linux. Its output must equal the host's python3 (the
# same Debian release and upstream version) running the same script.
source "$(dirname "$0")/lib.sh"
require apt-get dpkg flock
REPO=$(readlink -f "$(dirname "${BASH_SOURCE[0]}")/../..")
CACHE=$(dirname "$MYST")/tests/rootfs-cache/python3
HOST_PYTHON=/usr/bin/python3
[ -x "$HOST_PYTHON" ] || { echo "FAIL: $HOST_PYTHON is missing (run ./setup.sh)"; exit 1; }

if ! "$REPO/tests/rootfs/debian_python.sh" "$CACHE" >rootfs.log 2>&1; then
    echo "FAIL: could not build the Debian python3 tree in $CACHE"
    cat rootfs.log
    exit 1
fi
image_version=$(awk '$1 == "python3.11-minimal" {print $2}' "$CACHE/versions")
host_version=$("$HOST_PYTHON" -c 'import platform; print(platform.python_version())')
case $image_version in
"$host_version"-*) pass "the image's python3.11 $image_version is the host's upstream $host_version" ;;
*)
    echo "FAIL: the image holds python3.11 $image_version but the host's python3 is $host_version"
    exit 1
    ;;
esac

cp -a "$CACHE/root" rootfs
mkdir -p rootfs/test
cp "$REPO/tests/apps/python/sockets.py" rootfs/test/sockets.py
"$MYST" mkext2 -q rootfs python.ext2

# Natively with nothing from the caller's environment, as under myst.
(cd rootfs/test && env -i "$HOST_PYTHON" sockets.py) >native.out 2>native.err ||
    { echo "FAIL: the script fails natively"; cat native.err; exit 1; }
start=$EPOCHREALTIME
timeout 300 "$MYST" exec-linux --memory-size 1g python.ext2 /usr/bin/python3 /test/sockets.py \
    >myst.out 2>myst.err && status=0 || status=$?
seconds=$(awk "BEGIN {printf \"%.1f\", $EPOCHREALTIME - $start}")
diff native.out myst.out >diff.out && same=yes || same=no
if [ "$status" -eq 0 ] && [ "$same" = yes ]; then
    pass "sockets.py under myst prints what it prints natively ($(wc -l <myst.out) lines, ${seconds} s)"
else
    fail "sockets.py under myst (exit status $status, 124 is a timeout; output equal: $same)"
    cat diff.out myst.err
fi
check "sockets.py writes nothing to stderr under myst" bash -c "! [ -s myst.err ] || { cat myst.err; false; }"
finish

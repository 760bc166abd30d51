#!/usr/bin/env bash
# Debian's python3, unmodified, running threads under myst: a root tree made
# of Debian 12's packages (tests/rootfs/debian_python.sh, cached in the build
# tree) is packed with myst mkext2, and tests/apps/python/threads.py runs from
# it under myst exec-linux. Its output must equal the host's python3 (the
# same Debian release and upstream version) running the same script.
source "$(dirname "$0")/lib.sh"
REPO=$(readlink -f "$(dirname "${BASH_SOURCE[0]}")/../..")
HOST_PYTHON=/usr/bin/python3
[ -x "$HOST_PYTHON" ] || { echo "FAIL: $HOST_PYTHON is missing (run ./setup.sh)"; exit 1; }
debian_tree rootfs
image_version=$(awk '$1 == "python3.11-minimal" {print $2}' "$(dirname "$MYST")/tests/rootfs-cache/python3/versions")
host_version=$("$HOST_PYTHON" -c 'import platform; print(platform.python_version())')
case $image_version in
"$host_version"-*) pass "the image's python3.11 $image_version is the host's upstream $host_version" ;;
*)
    echo "FAIL: the image holds python3.11 $image_version but the host's python3 is $host_version"
    exit 1
    ;;
esac

mkdir -p rootfs/test
cp "$REPO/tests/apps/python/threads.py" rootfs/test/threads.py
"$MYST" mkext2 -q rootfs python.ext2

# Natively with nothing from the caller's environment, as under myst.
(cd rootfs/test && env -i "$HOST_PYTHON" threads.py) >native.out 2>native.err ||
    { echo "FAIL: the script fails natively"; cat native.err; exit 1; }
same_as_native threads.py python.ext2 /usr/bin/python3 /test/threads.py
check "threads.py writes nothing to stderr under myst" bash -c "! [ -s myst.err ] || { cat myst.err; false; }"
finish

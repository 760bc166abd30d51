#!/usr/bin/env bash
# Debian's python3, unmodified, as one packaged executable: the Debian 12
# root tree (tests/rootfs/debian_python.sh, cached in the build tree) as a
# myst mkext2 image, packaged with myst package; `./python3-package -c ...`
# runs the host's arguments (HostApplicationParameters) and prints what the
# host's python3 prints for the same script.
source "$(dirname "$0")/lib.sh"
require apt-get dpkg flock openssl
REPO=$(readlink -f "$(dirname "${BASH_SOURCE[0]}")/../..")
CACHE=$(dirname "$MYST")/tests/rootfs-cache/python3
if ! "$REPO/tests/rootfs/debian_python.sh" "$CACHE" >rootfs.log 2>&1; then
    echo "FAIL: could not build the Debian python3 tree in $CACHE"
    cat rootfs.log
    exit 1
fi
"$MYST" mkext2 -q "$CACHE/root" python.ext2
openssl genrsa -out private.pem -3 3072 2>/dev/null
cat >config.json <<'JSON'
{
    "ApplicationPath": "/usr/bin/python3",
    "ApplicationParameters": ["-c", "print('no host arguments')"],
    "HostApplicationParameters": true,
    "MemorySize": "256m",
    "ProductID": 2,
    "SecurityVersion": 1
}
JSON
check "package python3 from an ext2 image" "$MYST" package python.ext2 private.pem config.json -o python3-package
script='import hashlib, json, sys; print(json.dumps({"v": sys.version_info[:2], "h": hashlib.sha256(b"myst").hexdigest()}))'
/usr/bin/python3 -c "$script" >native.out
check "the packaged python3 -c prints what the host's python3 prints" \
    bash -c "./python3-package -c '$script' >package.out && cmp native.out package.out"
check "without arguments it runs the config's ApplicationParameters" \
    bash -c "./python3-package | grep -qx 'no host arguments'"
finish

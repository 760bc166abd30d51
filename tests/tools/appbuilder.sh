#!/usr/bin/env bash
# myst appbuilder: container images this test writes itself (two layers: a
# gzip one from a busybox + test-program rootfs, a plain one with whiteouts,
# an opaque directory, hard links, a symlink and an xattr), as an OCI layout,
# an OCI-layout tarball (gzip) and a `docker save` tarball, become an appdir,
# a CPIO archive and an ext2 image that `myst exec-linux` runs from the
# generated config.json. Bad inputs (.. names, absolute names, escaping
# symlinks and hard links, a missing blob, a digest mismatch, a manifest that
# is not one) fail with one line and leave nothing behind. skopeo and umoci
# (Debian) make images of their own from it that appbuilder must read too.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
require python3 e2fsck cpio tar skopeo umoci
OCI="python3 $HERE/oci_image.py"
APPS=$(dirname "$MYST")/tests/apps/bin
[ -x "$APPS/args_env-musl-static" ] || { echo "FAIL: $APPS/args_env-musl-static is not built"; exit 1; }
BUSYBOX=$(command -v busybox)

mkdir -p rootfs/bin rootfs/etc rootfs/opq/sub rootfs/data
cp "$BUSYBOX" rootfs/bin/busybox
ln -s busybox rootfs/bin/sh
cp "$APPS/hello-musl-static" rootfs/bin/hello
cp "$APPS/args_env-musl-static" rootfs/bin/args_env
echo keep >rootfs/etc/keep
echo gone >rootfs/etc/gone
echo old >rootfs/opq/old
echo old2 >rootfs/opq/sub/old2
echo data >rootfs/data/file
ln rootfs/data/file rootfs/data/file-link
$OCI layer-dir rootfs lower.tar.gz --gzip
$OCI layer-upper upper.tar
cat >config.in <<'EOF2'
{"Entrypoint": ["args_env"], "Cmd": ["one", "two words"],
 "Env": ["PATH=/usr/bin:/bin", "MYST_TEST_GREETING=hi"], "WorkingDir": "/data"}
EOF2
$OCI oci image config.in lower.tar.gz upper.tar
$OCI docker docker.tar config.in lower.tar.gz upper.tar
tar -C image -czf oci-archive.tar.gz .
mkdir -p out ext2 cpio tarball docker
check_fails "an output in a missing directory" "nowhere: no such directory" \
    "$MYST" appbuilder -i image -o nowhere/appdir

check "OCI layout -> appdir" bash -c "'$MYST' appbuilder -i image -o out/appdir 2>notes.txt"
A=out/appdir
check "the lower layer's files are there" test -x $A/bin/busybox -a -f $A/etc/keep -a -f $A/bin/hello
check "a whiteout removes a lower file" test ! -e $A/etc/gone
check "an opaque directory hides the lower entries" test ! -e $A/opq/old -a ! -e $A/opq/sub -a -f $A/opq/new
check "hard links share an inode (in a layer and across layers)" \
    bash -c "[ \$(stat -c %i $A/data/file) = \$(stat -c %i $A/data/file-link) ] && [ \$(stat -c %i $A/data/file) = \$(stat -c %i $A/data/link2) ] && [ \$(stat -c %h $A/data/file) = 3 ]"
check "symlinks are kept" bash -c "[ \$(readlink $A/bin/sh) = busybox ] && [ \$(readlink $A/data/sym) = file ]"
check "modes and mtimes are kept" bash -c "[ \$(stat -c %a $A/data/mode750) = 750 ] && [ \$(stat -c %Y $A/data/mode750) = 1234567890 ]"
check "no whiteout file is left" bash -c "! find $A -name '.wh.*' | grep -q ."
check "the xattr is dropped with one note" bash -c "[ \$(grep -c 'extended attribute' notes.txt) = 1 ] && grep -q user.test notes.txt"
check "config.json is written beside the output" python3 - out/config.json <<'EOF2'
import json, sys
c = json.load(open(sys.argv[1]))
assert c["ApplicationPath"] == "/bin/args_env", c
assert c["ApplicationParameters"] == ["one", "two words"], c
assert "MYST_TEST_GREETING=hi" in c["EnvironmentVariables"], c
assert c["CurrentWorkingDirectory"] == "/data", c
assert c["MemorySize"] == "512m", c
EOF2
check "the appdir runs its entrypoint from the config" \
    bash -c "'$MYST' exec-linux --app-config-path out/config.json $A >run.out && grep -qx 'argv\[1\]: \[one\]' run.out && grep -qx 'argv\[2\]: \[two words\]' run.out && grep -qx 'env: MYST_TEST_GREETING=hi' run.out"

check "OCI layout -> ext2" "$MYST" appbuilder -q -i image -f ext2 -o ext2/app.ext2
check "e2fsck -fn accepts the ext2 image" e2fsck -fn ext2/app.ext2
check "exec-linux runs the entrypoint from the ext2 image" \
    bash -c "'$MYST' exec-linux --app-config-path ext2/config.json ext2/app.ext2 >ext2.out && grep -qx 'argv\[2\]: \[two words\]' ext2.out"
check "and other programs of the image" \
    bash -c "'$MYST' exec-linux ext2/app.ext2 /bin/hello | grep -qx 'Hello World!'"
check "busybox from the image runs through its symlink" \
    bash -c "'$MYST' exec-linux ext2/app.ext2 /bin/sh -c 'read line </opq/new; echo \$line' | grep -qx new"

check "OCI layout -> cpio" "$MYST" appbuilder -q -i image -f cpio -o cpio/app.cpio
check "cpio -t lists the merged tree" \
    bash -c "cpio -it <cpio/app.cpio >list.txt 2>/dev/null && grep -qx bin/args_env list.txt && grep -qx opq/new list.txt && ! grep -q etc/gone list.txt && ! grep -q opq/old list.txt"
check "OCI-layout tarball (gzip) -> the same cpio" \
    bash -c "'$MYST' appbuilder -q -i oci-archive.tar.gz -f cpio -o tarball/app.cpio && cmp tarball/app.cpio cpio/app.cpio"
check "docker save tarball -> the same appdir" \
    bash -c "'$MYST' appbuilder -q -i docker.tar -o docker/appdir && diff -r --no-dereference docker/appdir $A && cmp docker/config.json out/config.json"
# Images written by Debian's own tools: skopeo's docker-archive (layer.tar
# symlinks to the blobs) and a umoci repack (its own whiteouts).
mkdir -p skopeo umoci
check "skopeo copy to a docker-archive tarball" skopeo copy --quiet oci:image:latest docker-archive:skopeo.tar:test:latest
check "... -> the same appdir" \
    bash -c "'$MYST' appbuilder -q -i skopeo.tar -o skopeo/appdir && diff -r --no-dereference skopeo/appdir $A"
check "umoci unpack, change, repack" bash -c "skopeo copy --quiet oci:image:latest oci:repacked:latest &&
    umoci unpack --image repacked:latest bundle >/dev/null && rm bundle/rootfs/etc/keep && rm -r bundle/rootfs/opq &&
    echo added >bundle/rootfs/etc/added && umoci repack --image repacked:latest bundle"
check "... -> umoci's whiteouts applied" \
    bash -c "'$MYST' appbuilder -q -i repacked -o umoci/appdir && test ! -e umoci/appdir/etc/keep -a ! -e umoci/appdir/opq -a -f umoci/appdir/etc/added -a -x umoci/appdir/bin/args_env"
check_fails "an existing output is kept without --force" "already exists" \
    "$MYST" appbuilder -q -i image -o out/appdir
check "--force replaces it" "$MYST" appbuilder -q -i image -o out/appdir --force

# Bad inputs: one-line error, exit != 0, no output, no temporary left.
nothing_left() {  # nothing_left DIR: the output directory holds nothing
    [ -z "$(ls -A "$1" 2>/dev/null)" ] && [ ! -e "$SCRATCH/../appbuilder-escape" ] && [ ! -e /tmp/appbuilder-escape ]
}
bad_layer() {  # bad_layer KIND "expected message"
    $OCI layer-bad "$1" bad-$1.tar
    $OCI oci bad-$1 config.in lower.tar.gz bad-$1.tar
    mkdir -p badout-$1
    check_fails "a layer with a bad entry ($1)" "$2" "$MYST" appbuilder -i bad-$1 -f ext2 -o badout-$1/app.ext2
    check "... nothing is written ($1)" nothing_left badout-$1
}
bad_layer dotdot "../appbuilder-escape: '..' in the name"
bad_layer absolute "/tmp/appbuilder-escape: absolute name"
bad_layer symlink "a/b/escape: symlink to '../../../../etc' leads outside"
bad_layer hardlink "escape: hard link to '../../etc/passwd' leads outside"
bad_layer through-symlink "passes through the symlink etc"

bad_image() {  # bad_image NAME "expected message": image bad-NAME already made
    mkdir -p badout-$1
    check_fails "$1" "$2" "$MYST" appbuilder -i bad-$1 -o badout-$1/appdir
    check "... nothing is written ($1)" nothing_left badout-$1
}
blob_of() {  # blob_of IMAGE N: the path of the Nth layer blob (0 = config)
    python3 -c 'import json, sys
d = sys.argv[1]
m = json.load(open(d + "/index.json"))["manifests"][0]["digest"].split(":")[1]
m = json.load(open(d + "/blobs/sha256/" + m))
n = int(sys.argv[2])
print(d + "/blobs/sha256/" + (m["config"] if n == 0 else m["layers"][n - 1])["digest"].split(":")[1])' "$@"
}
cp -r image bad-missing && rm "$(blob_of bad-missing 2)"
bad_image missing "missing blob"
cp -r image bad-digest && python3 -c 'import sys
p = sys.argv[1]; d = bytearray(open(p, "rb").read()); d[700] ^= 1; open(p, "wb").write(d)' "$(blob_of bad-digest 2)"
bad_image digest "digest mismatch"
cp -r image bad-config && echo ' ' >>"$(blob_of bad-config 0)"
bad_image config "digest mismatch"
cp -r image bad-manifest && python3 - bad-manifest <<'EOF2'
import hashlib, json, sys
d = sys.argv[1]
data = b'{"schemaVersion": 2, "hello": "not a manifest"}'
h = hashlib.sha256(data).hexdigest()
open(d + "/blobs/sha256/" + h, "wb").write(data)
index = json.load(open(d + "/index.json"))
index["manifests"][0].update(digest="sha256:" + h, size=len(data))
json.dump(index, open(d + "/index.json", "w"))
EOF2
bad_image manifest "not an image manifest"
mkdir -p bad-empty
bad_image empty "neither index.json nor manifest.json"
cp docker.tar bad-docker.tar && python3 -c 'import sys
p = sys.argv[1]; d = bytearray(open(p, "rb").read()); i = d.rfind(b"MYST_TEST_GREETING"); d[i] ^= 1; open(p, "wb").write(d)' bad-docker.tar
mkdir -p badout-docker
check_fails "docker save: a config that does not match its name" "digest mismatch" \
    "$MYST" appbuilder -i bad-docker.tar -o badout-docker/appdir
check "... nothing is written (docker)" nothing_left badout-docker
finish

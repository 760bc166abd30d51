#!/usr/bin/env bash
# ext2 images at run time: the root from a myst mkext2 image, trusted by
# --pubkey or --roothash, an encrypted image mounted with its key file from
# the config, and a tampered block read as EIO, never as wrong data. A test
# program walks, checksums and changes a tree under each kind of mount; its
# output must equal a native run on the source directory.
source "$(dirname "$0")/lib.sh"
require openssl python3
APPS=$(dirname "$MYST")/tests/apps/bin
[ -x "$APPS/hello-musl-static" ] || { echo "FAIL: $APPS/hello-musl-static is not built"; exit 1; }
mkdir -p rootfs/bin rootfs/data rootfs/tmp secret
cp "$APPS/hello-musl-static" rootfs/bin/hello
cp "$APPS/file_io-musl-static" rootfs/bin/file_io
cp /bin/busybox rootfs/bin/busybox
cp "$APPS/tree_walk-glibc-static" rootfs/bin/tree_walk
cp "$APPS/shared_memory-musl-static" rootfs/bin/shared_memory
make_test_tree rootfs/tree
head -c 300000 /dev/urandom >rootfs/data/blob
printf 'top secret\n' >secret/note.txt
cp -a rootfs/tree secret/tree
openssl genrsa -out priv.pem 2048 2>/dev/null
openssl rsa -in priv.pem -pubout -out pub.pem 2>/dev/null
openssl genrsa -out other.pem 2048 2>/dev/null
openssl rsa -in other.pem -pubout -out otherpub.pem 2>/dev/null
head -c 64 /dev/urandom >keyfile
head -c 64 /dev/urandom >wrongkey
"$MYST" mkext2 -q rootfs root.ext2
"$MYST" mkext2 -q --sign=pub.pem:priv.pem rootfs signed.ext2
"$MYST" mkext2 -q --encrypt=keyfile secret secret.ext2
want_hash=$(sha256sum rootfs/data/blob | cut -d' ' -f1)
hello_ok() { "$MYST" exec-linux "$@" /bin/hello | grep -qx 'Hello World!'; }

check "hello from an ext2 root (the image's own fssig)" hello_ok root.ext2
check "a file read from the ext2 root has the right bytes" bash -c \
    "'$MYST' exec-linux root.ext2 /bin/busybox sha256sum /data/blob | grep -q '^$want_hash '"
# file_io creates, writes, reads back, renames and removes files in /data.
"$APPS/file_io-musl-static" "$SCRATCH/rootfs/tmp" >file_io.native || true
check "file work on the ext2 root gives the same verdicts as natively" bash -c \
    "'$MYST' exec-linux root.ext2 /bin/file_io /data >file_io.myst && diff file_io.native file_io.myst"
# MAP_SHARED mappings of an ext2 file: shared with each other, with
# read/write, through fork and exec, and written back to the file.
"$APPS/shared_memory-musl-static" files "$SCRATCH/rootfs/tmp" >shared_files.native || true
check "MAP_SHARED on the ext2 root gives the same verdicts as natively" bash -c \
    "'$MYST' exec-linux root.ext2 /bin/shared_memory files /data >shared_files.myst && diff shared_files.native shared_files.myst"
check "the same bytes with no verified cache (--block-cache-size 0)" bash -c \
    "'$MYST' exec-linux --block-cache-size 0 root.ext2 /bin/busybox sha256sum /data/blob | grep -q '^$want_hash '"
check "the host image is unchanged by the run" \
    bash -c "'$MYST' fssig --verify root.ext2 >/dev/null"
# What a program writes on an ext2 root is kept in memory: it comes out of
# --memory-size, and past it a write is ENOSPC (not a myst that grows);
# statfs shows the budget's room as what may be written.
"$MYST" mkext2 -q --size 160m rootfs roomy.ext2
"$MYST" exec-linux --memory-size 32m roomy.ext2 /bin/busybox dd if=/dev/zero of=/data/fill \
    bs=1M count=100 >fill.out 2>fill.err && status=0 || status=$?
records=$(sed -n 's/^\([0-9]*\)+[0-9]* records out$/\1/p' fill.err)
check "writes on an ext2 root stop with ENOSPC within --memory-size 32m (${records:-?} MiB)" \
    test "$status" -ne 0 -a "${records:-999}" -lt 32 -a "$(grep -c 'No space left' fill.err)" = 1
"$MYST" exec-linux --memory-size 32m roomy.ext2 /bin/busybox df -k / /tmp >df.out 2>&1 || true
check "df shows the budget's room on the ext2 root and on /tmp" \
    awk '$6 == "/" || $6 == "/tmp" { n++; if ($4 > 32768 || $4 < 1024) bad = 1 }
         END { exit !(n == 2 && !bad) }' df.out
check "signed root with the signer's --pubkey" hello_ok --pubkey=pub.pem signed.ext2
check_fails "signed root with another --pubkey" "signed" "$MYST" exec-linux --pubkey=otherpub.pem signed.ext2 /bin/hello
check_fails "unsigned root when a --pubkey is required" "signed" "$MYST" exec-linux --pubkey=pub.pem root.ext2 /bin/hello
root_hash=$("$MYST" fssig --roothash root.ext2)
check "root with its --roothash" hello_ok --roothash="$root_hash" root.ext2
check_fails "root with a wrong --roothash" "root hash" "$MYST" exec-linux \
    --roothash=$(printf '%064x' 1) root.ext2 /bin/hello
check_fails "an encrypted image as the root" "encrypted" "$MYST" exec-linux secret.ext2 /bin/hello

cat >config.json <<JSON
{"HostApplicationParameters": true,
 "Mount": [{"Target": "/secret", "Type": "ext2", "KeyFile": "$SCRATCH/keyfile"}]}
JSON
check "an encrypted ext2 mount with its KeyFile from the config" bash -c \
    "'$MYST' exec-linux --app-config-path config.json --mount secret.ext2=/secret root.ext2 \
        /bin/busybox cat /secret/note.txt | grep -qx 'top secret'"
cat >wrong.json <<JSON
{"Mount": [{"Target": "/secret", "Type": "ext2", "KeyFile": "$SCRATCH/wrongkey"}]}
JSON
check_fails "an encrypted ext2 mount with the wrong key" "key" "$MYST" exec-linux \
    --app-config-path wrong.json --mount secret.ext2=/secret root.ext2 /bin/hello

# The same walk (and the same changes) natively on copies of the source tree
# and under myst on: the ext2 root, a signed root, an encrypted config mount
# and a hostfs mount.
walk_native() { # name, change?
    rm -rf "native-$1" && cp -a rootfs/tree "native-$1"
    "$APPS/tree_walk-glibc-static" "native-$1" $2 >"walk-$1.native"
}
walk_same() { # description, name, myst arguments...
    local what=$1 name=$2
    shift 2
    if "$MYST" exec-linux "$@" >"walk-$name.myst" 2>"walk-$name.err" &&
        diff "walk-$name.native" "walk-$name.myst" >"walk-$name.diff"; then
        pass "$what ($(wc -l <"walk-$name.myst") lines equal to native)"
    else
        fail "$what"
        head -20 "walk-$name.diff" "walk-$name.err"
    fi
}
walk_native read ""
walk_native change change
walk_same "walk and checksum the tree on the ext2 root" read root.ext2 /bin/tree_walk /tree
walk_same "change and walk the tree on the ext2 root" change root.ext2 /bin/tree_walk /tree change
walk_same "walk the tree on a signed root (--pubkey)" read --pubkey=pub.pem signed.ext2 \
    /bin/tree_walk /tree
walk_same "walk the tree on an encrypted config mount" read --app-config-path config.json \
    --mount secret.ext2=/secret root.ext2 /bin/tree_walk /secret/tree
walk_same "change and walk the tree on an encrypted config mount" change \
    --app-config-path config.json --mount secret.ext2=/secret root.ext2 /bin/tree_walk \
    /secret/tree change
rm -rf host-tree && cp -a rootfs/tree host-tree
walk_same "walk the tree on a hostfs mount" read --mount "$SCRATCH/host-tree=/host" root.ext2 \
    /bin/tree_walk /host
walk_same "change and walk the tree on a hostfs mount" change \
    --mount "$SCRATCH/host-tree=/host" root.ext2 /bin/tree_walk /host change
check "the hostfs changes reached the host directory" diff -r --no-dereference native-change host-tree

# Flip one byte inside the blob's data: reading it must fail with EIO and a
# diagnostic naming the block; the rest of the image still works.
cp root.ext2 tampered.ext2
offset=$(python3 - rootfs/data/blob tampered.ext2 <<'PY'
import sys
blob, image = open(sys.argv[1], 'rb').read(), open(sys.argv[2], 'rb').read()
print(image.find(blob[8192:8192 + 4096]) + 100)
PY
)
printf '\x5a' | dd of=tampered.ext2 bs=1 seek="$offset" conv=notrunc status=none
"$MYST" exec-linux tampered.ext2 /bin/busybox cat /data/blob >tampered.out 2>tampered.err && status=0 || status=$?
if [ "$status" -ne 0 ] && grep -qi "verif" tampered.err && grep -q "Input/output error" tampered.err; then
    pass "a tampered block is EIO to the program plus a verification message"
else
    fail "tampered image (status $status)"
    cat tampered.err
fi
check "an untouched file in the tampered image still reads" hello_ok tampered.ext2
finish

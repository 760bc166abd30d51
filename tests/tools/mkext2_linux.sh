#!/usr/bin/env bash
# myst mkext2 against Linux's own tools: e2fsck, debugfs, mount -o loop,
# veritysetup, cryptsetup and OpenSSL (through python3-cryptography).
source "$(dirname "$0")/lib.sh"
require e2fsck debugfs veritysetup cryptsetup openssl python3 mount losetup setpriv xxd

make_test_tree appdir

hash_offset() { "$MYST" fssig --json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["hash_offset"])'; }
root_hash() { "$MYST" fssig --roothash "$1"; }

# --- plain image: ext2 passes fsck, every file reads back, verity verifies ---
check "mkext2 builds an image" "$MYST" mkext2 -q appdir plain.img
check "e2fsck -fn reports a clean file system" e2fsck -fn plain.img
offset=$(hash_offset plain.img)
check "veritysetup verify accepts the hash tree" \
    veritysetup verify --hash-offset="$offset" plain.img plain.img "$(root_hash plain.img)"
check "image size is hash_offset + tree + 4096-byte fssig" \
    test $(( $(stat -c %s plain.img) - offset )) -gt 4096
check "debugfs cat returns the file's bytes" \
    bash -c "debugfs -R 'cat /etc/motd' plain.img 2>/dev/null | cmp - appdir/etc/motd"
check "debugfs dump of a large file matches" \
    bash -c "debugfs -R 'dump /large large.out' plain.img 2>/dev/null && cmp large.out appdir/large"
check "sparse file reads back" \
    bash -c "debugfs -R 'dump /sparse sparse.out' plain.img 2>/dev/null && cmp sparse.out appdir/sparse"

# The mounted tree is the source tree: contents, modes, owners, links, mtimes.
# Directory sizes are the file system's own business, so they are left out.
listing() {
    (cd "$1" && find . -path ./lost+found -prune -o -printf '%p %y %m %U %G %n %s %T@ %l\n' |
        awk '$2 == "d" { $7 = "-" } { print }' | LC_ALL=C sort)
}
mkdir -p mnt
if mount -o loop,ro plain.img mnt 2>mount.err; then
    check "mounted tree has the same files and bytes" \
        diff -r --no-dereference --exclude=lost+found appdir mnt
    check "mounted tree has the same modes, owners, links and times" \
        diff <(listing appdir | grep -v '^\. ') <(listing mnt | grep -v '^\. ')
    umount mnt
else
    fail "mount -o loop,ro failed: $(cat mount.err)"
fi

# A flipped data byte is caught by veritysetup.
cp plain.img tampered.img
printf '\xff' | dd of=tampered.img bs=1 seek=$((offset - 4096 * 3 + 100)) conv=notrunc status=none
if veritysetup verify --hash-offset="$offset" tampered.img tampered.img "$(root_hash plain.img)" >/dev/null 2>&1; then
    fail "veritysetup verify accepted a tampered image"
else
    pass "veritysetup verify rejects a flipped data byte"
fi

# --- reproducible tree, explicit size and salt ---
salt=$(printf '%064x' 7)
check "mkext2 --size --salt" "$MYST" mkext2 -q --size=64m --salt="$salt" appdir sized.img
check "hash_offset equals --size" test "$(hash_offset sized.img)" = $((64 * 1024 * 1024))
check "salt is the one given" bash -c "'$MYST' fssig --json sized.img | grep -q '\"salt\": *\"$salt\"'"

# --- signed image ---
openssl genrsa -out priv.pem 3072 2>/dev/null
openssl rsa -in priv.pem -pubout -out pub.pem 2>/dev/null
check "mkext2 --sign" "$MYST" mkext2 -q --sign=pub.pem:priv.pem appdir signed.img
check "fssig verifies the signature with the public key" \
    bash -c "'$MYST' fssig --json --pubkey=pub.pem signed.img | grep -q '\"signature_valid\": *true'"
python3 - signed.img <<'PY' >sig.bin
import struct, sys
data = open(sys.argv[1], 'rb').read()[-4096:]
size = struct.unpack_from('<Q', data, 1112)[0]
open('root.bin', 'wb').write(data[24:56])
sys.stdout.buffer.write(data[88:88 + size])
PY
check "openssl pkeyutl verifies the fssig signature over the root hash" \
    openssl pkeyutl -verify -pubin -inkey pub.pem -pkeyopt digest:sha256 -in root.bin -sigfile sig.bin
check "signer is sha256 of the modulus" bash -c "
    want=\$(openssl rsa -pubin -in pub.pem -noout -modulus | cut -d= -f2 | xxd -r -p | sha256sum | cut -d' ' -f1)
    '$MYST' fssig --json signed.img | grep -q \"\\\"signer\\\": *\\\"\$want\\\"\""

# --- encrypted image: LUKS1 header, ext2 inside, verity over the ciphertext ---
head -c 64 /dev/urandom >keyfile
check "mkext2 --encrypt --passphrase" \
    "$MYST" mkext2 -q --encrypt=keyfile --passphrase=correct-horse-battery appdir enc.img
check "cryptsetup luksDump reads the header" \
    bash -c "cryptsetup luksDump enc.img | grep -q 'xts-plain64'"
printf 'correct-horse-battery' >pass.txt
check "cryptsetup accepts the passphrase" cryptsetup open --test-passphrase --key-file=pass.txt enc.img
check "cryptsetup reveals our volume key" bash -c "
    cryptsetup luksDump --dump-volume-key --key-file=pass.txt -q enc.img | tr -d ' \t\n' |
    grep -qi \"\$(xxd -p keyfile | tr -d '\n')\""
enc_offset=$(hash_offset enc.img)
check "veritysetup verify accepts the tree over the encrypted bytes" \
    veritysetup verify --hash-offset="$enc_offset" enc.img enc.img "$(root_hash enc.img)"
python3 - enc.img keyfile "$enc_offset" <<'PY'
import sys
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
image, key, end = open(sys.argv[1], 'rb'), open(sys.argv[2], 'rb').read(), int(sys.argv[3])
payload = 4096 * 512
image.seek(payload)
with open('decrypted.img', 'wb') as out:
    sector = 0
    while payload + sector * 512 < end:
        block = image.read(512 * 256)
        for i in range(0, len(block), 512):
            d = Cipher(algorithms.AES(key), modes.XTS((sector).to_bytes(16, 'little'))).decryptor()
            out.write(d.update(block[i:i + 512]) + d.finalize())
            sector += 1
PY
check "decrypted sector by sector with AES-256-XTS, the ext2 passes e2fsck" e2fsck -fn decrypted.img
check "decrypted ext2 holds the files" \
    bash -c "debugfs -R 'cat /etc/motd' decrypted.img 2>/dev/null | cmp - appdir/etc/motd"
check "fssig reports the image as encrypted" \
    bash -c "'$MYST' fssig --json enc.img | grep -q '\"encrypted\": *true'"

# --- bad input: one-line error, non-zero exit, no partial output ---
check_fails "missing appdir" "no-such-dir" "$MYST" mkext2 no-such-dir out1.img
check "no output left for a missing appdir" test ! -e out1.img
check_fails "existing output without --force" "already exists" "$MYST" mkext2 appdir plain.img
check "--force overwrites" "$MYST" mkext2 -q --force appdir plain.img
head -c 32 /dev/urandom >short.key
check_fails "key file of 32 bytes" "must be exactly 64 bytes" "$MYST" mkext2 --encrypt=short.key appdir out2.img
check_fails "short passphrase" "at least 14" "$MYST" mkext2 --encrypt=keyfile --passphrase=short appdir out3.img
echo "not a pem" >bad.pem
check_fails "bad PEM" "bad.pem" "$MYST" mkext2 --sign=pub.pem:bad.pem appdir out4.img
check_fails "--sign without a colon" "expected <pubkey.pem>:<privkey.pem>" "$MYST" mkext2 --sign=pub.pem appdir out5.img
check_fails "appdir too big for --size" "needs an ext2 image of at least" "$MYST" mkext2 --size=8m appdir out6.img
check_fails "--size not a multiple of 4096" "multiple of 4096" "$MYST" mkext2 --size=10000 appdir out7.img
mkdir -p unreadable && echo secret >unreadable/file && chmod 000 unreadable/file
if [ "$(id -u)" = 0 ]; then
    # root reads mode-000 files: run this one case as nobody.
    chmod 0777 . unreadable
    check_fails "unreadable file" "unreadable/file" \
        setpriv --reuid=nobody --regid=nogroup --clear-groups "$MYST" mkext2 unreadable out8.img
else
    check_fails "unreadable file" "unreadable/file" "$MYST" mkext2 unreadable out8.img
fi
check "no partial outputs left behind" bash -c "! ls out*.img *.partial-* 2>/dev/null | grep -q ."
finish

#!/usr/bin/env bash
# `myst fssig` on images made the way Mystikos makes them, with Linux's own
# tools: mke2fs for the file system, veritysetup for the hash tree, a small
# Python script (independent of our C++) for the fssig trailer, and openssl
# for the signature. Usage: fssig_mystikos_image.sh <myst> <scratch-dir>
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh" "$@"
require mke2fs veritysetup python3 openssl truncate

# append_fssig IMAGE HASH_OFFSET ROOT_HEX [SIGNER_HEX SIGNATURE_FILE]: writes
# Mystikos's myst_fssig_t (4096 bytes, little-endian) at the end of IMAGE.
append_fssig() {
    python3 - "$@" <<'EOF'
import struct, sys
path, hash_offset, root = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3])
signer, signature = bytes(32), b""
if len(sys.argv) > 4:
    signer = bytes.fromhex(sys.argv[4])
    signature = open(sys.argv[5], "rb").read()
trailer = struct.pack("<QQQ32s32s1024sQ", 0xF55198A153624D38, 1, hash_offset, root, signer,
                      signature, len(signature))
trailer += bytes(4096 - len(trailer))
with open(path, "ab") as f:
    f.write(trailer)
EOF
}

# json_field FILE KEY: prints one field of a JSON object as Python sees it.
json_field() {
    python3 -c 'import json, sys; v = json.load(open(sys.argv[1]))[sys.argv[2]]; print(json.dumps(v) if isinstance(v, (bool, type(None))) else v)' "$1" "$2"
}

# --- an unsigned image -------------------------------------------------------
mkdir -p tree/etc tree/bin
echo hello >tree/etc/motd
head -c 300000 /dev/urandom >tree/bin/blob
truncate -s 8M fs.img
mke2fs -q -F -t ext2 -b 4096 -d tree fs.img
size=$(stat -c %s fs.img)
veritysetup format --hash-offset="$size" fs.img fs.img >verity.out
root=$(awk '/^Root hash:/ {print $3}' verity.out)
salt=$(awk '/^Salt:/ {print $2}' verity.out)
blocks=$(awk '/^Data blocks:/ {print $3}' verity.out)
[ ${#root} -eq 64 ] || { echo "FAIL: no root hash in veritysetup's output"; cat verity.out; exit 1; }
append_fssig fs.img "$size" "$root"

if [ "$("$MYST" fssig --roothash fs.img)" = "$root" ]; then
    pass "--roothash prints veritysetup's root hash"
else
    fail "--roothash prints veritysetup's root hash"
fi

"$MYST" fssig --json fs.img >info.json
expect_json() {
    local key=$1 expected=$2 got
    got=$(json_field info.json "$key")
    if [ "$got" = "$expected" ]; then pass "json $key = $expected"; else fail "json $key: '$got', expected '$expected'"; fi
}
expect_json hash_offset "$size"
expect_json data_blocks "$blocks"
expect_json salt "$salt"
expect_json root_hash "$root"
expect_json version 1
expect_json signed false
expect_json signature_valid false
expect_json encrypted false
expect_json signer null

"$MYST" fssig fs.img >info.txt
check "text output has root_hash=" grep -qx "root_hash=$root" info.txt
check "text output has hash_offset=" grep -qx "hash_offset=$size" info.txt
check "text output has signed=false" grep -qx "signed=false" info.txt
check "--verify accepts veritysetup's tree" "$MYST" fssig --verify fs.img
check "veritysetup verify agrees" veritysetup verify --hash-offset="$size" fs.img fs.img "$root"

# One flipped data byte (inside the 1 MiB blob's region or not, verity covers
# every block of the file system).
cp fs.img bad.img
printf '\x5a' | dd of=bad.img bs=1 seek=$((1024 * 1024 + 7)) conv=notrunc status=none
if cmp -s fs.img bad.img; then printf '\xa5' | dd of=bad.img bs=1 seek=$((1024 * 1024 + 7)) conv=notrunc status=none; fi
set +e
"$MYST" fssig --verify bad.img >verify.out 2>verify.err
status=$?
set -e
if [ $status -eq 1 ] && grep -q "data block 256" verify.err && [ "$(wc -l <verify.err)" -eq 1 ]; then
    pass "--verify finds the flipped byte in data block 256"
else
    fail "--verify on a corrupt image: exit $status"
    cat verify.out verify.err
fi
check "--roothash still reads a corrupt image" "$MYST" fssig --roothash bad.img

# --- a signed image ----------------------------------------------------------
openssl genrsa -out key.pem 2048 2>/dev/null
openssl rsa -in key.pem -pubout -out pub.pem 2>/dev/null
openssl genrsa -out other.pem 2048 2>/dev/null
openssl rsa -in other.pem -pubout -out other-pub.pem 2>/dev/null
truncate -s "$size" fs.img  # drop the unsigned trailer and the tree
veritysetup format --hash-offset="$size" fs.img fs.img >verity.out
root=$(awk '/^Root hash:/ {print $3}' verity.out)
python3 -c 'import sys; open("root.bin", "wb").write(bytes.fromhex(sys.argv[1]))' "$root"
openssl pkeyutl -sign -inkey key.pem -pkeyopt digest:sha256 -in root.bin -out sig.bin
modulus=$(openssl rsa -pubin -in pub.pem -noout -modulus | sed 's/^Modulus=//')
signer=$(python3 -c 'import hashlib, sys; print(hashlib.sha256(bytes.fromhex(sys.argv[1])).hexdigest())' "$modulus")
append_fssig fs.img "$size" "$root" "$signer" sig.bin

"$MYST" fssig fs.img >signed.txt
check "unsigned check is reported" grep -qx "signature not checked: give --pubkey" signed.txt
check "signer is the modulus hash" grep -qx "signer=$signer" signed.txt
"$MYST" fssig --json --pubkey pub.pem fs.img >info.json
expect_json signed true
expect_json signature_checked true
expect_json signature_valid true
expect_json signer "$signer"
expect_json signature_size 256
set +e
"$MYST" fssig --json --pubkey other-pub.pem fs.img >info.json 2>other.err
status=$?
set -e
if [ $status -eq 1 ] && grep -q "signed by another key" other.err && [ "$(wc -l <other.err)" -eq 1 ]; then
    pass "another key's signature is refused"
else
    fail "another key's signature is refused: exit $status"
    cat other.err
fi
expect_json signature_checked true
expect_json signature_valid false
check "--verify on the signed image" "$MYST" fssig --verify --pubkey pub.pem fs.img

# --- bad input ---------------------------------------------------------------
head -c 8192 /dev/urandom >random.bin
check_fails "a random file is not an fssig image" "myst fssig: random.bin: no fssig trailer" \
    "$MYST" fssig random.bin
check_fails "a missing file" "myst fssig: missing.img:" "$MYST" fssig missing.img
head -c 100 /dev/urandom >tiny.bin
check_fails "a file shorter than the trailer" "myst fssig: tiny.bin:" "$MYST" fssig tiny.bin
echo "not a key" >garbage.pem
check_fails "a garbage public key" "myst fssig: garbage.pem:" \
    "$MYST" fssig --pubkey garbage.pem fs.img

finish

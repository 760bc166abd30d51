#!/usr/bin/env bash
# myst package: one executable that checks itself and runs its application.
# A packaged program runs after being renamed and moved, takes host
# arguments and environment only as its config allows (Mystikos's
# HostApplicationParameters and HostEnvironmentVariables), runs from a CPIO
# or an ext2 root; a byte flipped in any part of the file (runtime, padding,
# root fs, config, signature block, trailer) is a one-line error naming the
# part; a package-sgx package refuses to run without SGX.
source "$(dirname "$0")/lib.sh"
require openssl python3 readelf
APPS=$(dirname "$MYST")/tests/apps/bin
[ -x "$APPS/args_env-musl-static" ] || { echo "FAIL: $APPS/args_env-musl-static is not built"; exit 1; }
mkdir -p appdir/bin
cp "$APPS/hello-musl-static" appdir/bin/hello
cp "$APPS/args_env-musl-static" appdir/bin/args_env
cp "$APPS/exit_status-musl-static" appdir/bin/exit_status
openssl genrsa -out private.pem -3 3072 2>/dev/null
cat >hello.json <<'EOF'
{"ProductID": 1, "SecurityVersion": 1, "Debug": 1, "ApplicationPath": "/bin/hello"}
EOF
cat >host-args.json <<'EOF'
{
    "ApplicationPath": "/bin/args_env",
    "ApplicationParameters": ["Enclave-red", "Enclave-blue"],
    "HostApplicationParameters": true,
    "EnvironmentVariables": ["MYST_TEST_ENCLAVE=inside"],
    "HostEnvironmentVariables": ["MYST_TEST_HOST"]
}
EOF
sed 's/"HostApplicationParameters": true/"HostApplicationParameters": false/' host-args.json >config-args.json
flip() {  # flip FILE OFFSET: inverts one byte
    python3 -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2])); b = f.read(1)
f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0xff]))' "$1" "$2"
}

check "package the hello appdir (default output myst/bin/hello)" "$MYST" package appdir private.pem hello.json
check "the package is executable" test -x myst/bin/hello
check "it prints its output" bash -c "./myst/bin/hello | grep -qx 'Hello World!'"
mkdir -p elsewhere/deeper
mv myst/bin/hello elsewhere/deeper/renamed
check "renamed and moved, it still runs" bash -c "elsewhere/deeper/renamed | grep -qx 'Hello World!'"
check "it runs from its own directory by a relative path" \
    bash -c "cd elsewhere/deeper && ./renamed | grep -qx 'Hello World!'"
check "dump reads a package" bash -c "'$MYST' dump elsewhere/deeper/renamed | grep -qx ProductID=1"

check "package with -o" "$MYST" package appdir private.pem host-args.json -o args-host
MYST_TEST_HOST=from-host MYST_TEST_OTHER=nope ./args-host one "two words" >host.out 2>host.err
check "HostApplicationParameters true: the host's arguments" \
    bash -c "grep -qx 'argv\[1\]: \[one\]' host.out && grep -qx 'argv\[2\]: \[two words\]' host.out && grep -qx 'argc: 3' host.out"
check "... argv[0] is the ApplicationPath" grep -qx 'argv\[0\] basename: args_env' host.out
check "HostEnvironmentVariables: the named host variable gets in" grep -qx 'env: MYST_TEST_HOST=from-host' host.out
check "... and no other" bash -c "! grep -q MYST_TEST_OTHER host.out"
check "EnvironmentVariables from the config" grep -qx 'env: MYST_TEST_ENCLAVE=inside' host.out
./args-host >noargs.out 2>&1
check "no host arguments: the config's ApplicationParameters" \
    bash -c "grep -qx 'argv\[1\]: \[Enclave-red\]' noargs.out && grep -qx 'argc: 3' noargs.out"
check "package with HostApplicationParameters false" "$MYST" package appdir private.pem config-args.json -o args-config
./args-config one two >config.out 2>config.err
check "HostApplicationParameters false: the config's arguments" \
    bash -c "grep -qx 'argv\[1\]: \[Enclave-red\]' config.out && grep -qx 'argv\[2\]: \[Enclave-blue\]' config.out && grep -qx 'argc: 3' config.out"
check "... and stderr says the host's were ignored" grep -q "ignoring 2 command-line arguments" config.err
check "arguments myst would parse reach the program" \
    bash -c "./args-host --help exec-linux | grep -qx 'argv\[1\]: \[--help\]'"

printf '{"ApplicationPath": "/bin/exit_status", "HostApplicationParameters": true}' >exit.json
"$MYST" package appdir private.pem exit.json -o exit-pkg
status=0
./exit-pkg 42 >/dev/null 2>&1 || status=$?
check "the program's exit status is the package's" test "$status" = 42

"$MYST" mkext2 -q appdir root.ext2
check "package an ext2 image" "$MYST" package root.ext2 private.pem hello.json -o hello-ext2
check "the ext2 package runs" bash -c "./hello-ext2 | grep -qx 'Hello World!'"
check "dump: its root is ext2" bash -c "'$MYST' dump hello-ext2 | grep -qx rootfs=ext2"
"$MYST" mkcpio appdir root.cpio
check "package a CPIO archive" "$MYST" package root.cpio private.pem hello.json -o hello-cpio
check "the CPIO package runs" bash -c "./hello-cpio | grep -qx 'Hello World!'"

# Tampering: one byte of each part. The trailer is the last 64 bytes; its
# fields lead to the others.
pkg=hello-cpio
size=$(stat -c %s $pkg)
field() { python3 -c 'import struct, sys
d = open(sys.argv[1], "rb").read()[-64:]
print(struct.unpack_from("<Q", d, int(sys.argv[2]))[0])' $pkg "$1"; }
runtime_size=$(field 16)
rootfs_offset=$(field 24)
rootfs_size=$(field 32)
config_size=$(field 40)
signature_size=$(field 48)
config_offset=$((rootfs_offset + rootfs_size))
signature_offset=$((config_offset + config_size))
check "the layout adds up to the file size" test $((signature_offset + signature_size + 64)) = "$size"
check "the runtime part is myst's loaded image" cmp -n 40 "$MYST" $pkg
# A byte the runtime never uses before the check (its build id), so the check itself runs.
build_id=$(readelf -n "$MYST" | sed -n 's/.*Build ID: *//p')
build_id_at=$(python3 -c 'import sys
print(open(sys.argv[1], "rb").read().find(bytes.fromhex(sys.argv[2])))' $pkg "$build_id")
tamper() {  # tamper "part" offset "expected message"
    cp $pkg tampered
    flip tampered "$2"
    check_fails "a flipped byte in the $1" "$3" ./tampered
}
tamper "runtime (build id)" $((build_id_at + 2)) "runtime check failed: the myst runtime does not match"
tamper "padding after the runtime" $((runtime_size + 1)) "runtime check failed: the padding"
tamper "root file system" $((rootfs_offset + 300)) "root file system check failed"
tamper "config" $((config_offset + 5)) "config check failed"
tamper "signature block magic" $((signature_offset + 1)) "signature check failed"
tamper "measurement record" $((signature_offset + 40)) "signature check failed"
tamper "signer's public key" $((signature_offset + signature_size - 420)) "signature check failed"
tamper "signature" $((signature_offset + signature_size - 10)) "signature check failed"
for at in 0 7 8 12 13 14 16 24 32 40 48 56 63; do
    tamper "trailer (byte $at)" $((size - 64 + at)) "trailer check failed"
done
cp $pkg truncated && truncate -s $((size - 1)) truncated
check_fails "a truncated package" "check failed" ./truncated
cp hello-ext2 tampered-ext2
ext2_rootfs_end=$(($(python3 -c 'import struct, sys
d = open(sys.argv[1], "rb").read()[-64:]
print(sum(struct.unpack_from("<QQ", d, 24)))' hello-ext2)))
flip tampered-ext2 $((ext2_rootfs_end - 4096 + 30))  # the image's fssig root hash
check_fails "a flipped byte in the ext2 image's root hash" "root file system check failed" ./tampered-ext2

check "package-sgx makes a package" "$MYST" package-sgx appdir private.pem hello.json -o hello-sgx
check_fails "which refuses to run without SGX, naming myst package" "make it with 'myst package'" ./hello-sgx
check "dump: its target is sgx" bash -c "'$MYST' dump hello-sgx | grep -qx target=sgx"
check_fails "package: a bad config names the file" "missing.json" \
    bash -c "printf '{\"ApplicationPath\": \"/bin/nope\"}' >missing.json && '$MYST' package appdir private.pem missing.json -o never"
check "no partial package is left" bash -c "! ls never never.* 2>/dev/null | grep -q ."
finish

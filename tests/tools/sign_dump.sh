#!/usr/bin/env bash
# myst sign and myst dump: the signed output of an appdir, a CPIO archive and
# an ext2 image, with Mystikos's 3072-bit exponent-3 key and an ordinary
# 65537 key. openssl checks the signature over the measurement record and
# sha256sum each measured part, so the format is proven with Linux tools;
# bad keys, configs and tampered files are one-line errors leaving nothing.
source "$(dirname "$0")/lib.sh"
require openssl sha256sum xxd
APPS=$(dirname "$MYST")/tests/apps/bin
[ -x "$APPS/hello-musl-static" ] || { echo "FAIL: $APPS/hello-musl-static is not built"; exit 1; }
mkdir -p appdir/bin
cp "$APPS/hello-musl-static" appdir/bin/hello
ln -s hello appdir/bin/hello-link
openssl genrsa -out exp3.pem -3 3072 2>/dev/null
openssl genrsa -out exp65537.pem 2048 2>/dev/null
openssl genrsa -out small.pem 1024 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out ec.pem 2>/dev/null
cat >config.json <<'EOF'
{
    "version": "0.1",
    "Debug": 1,
    "ProductID": 7,
    "SecurityVersion": 3,
    "MemorySize": "40m",
    "ApplicationPath": "/bin/hello"
}
EOF
# The same settings, spaced and ordered otherwise.
printf '{"ApplicationPath":"/bin/hello","SecurityVersion":3,"MemorySize":"40m","ProductID":7,"Debug":1,"version":"0.1"}' >reordered.json

record_value() { sed -n "s/^$2=//p" "$1/measurement"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
signer_of() { openssl rsa -in "$1" -noout -modulus 2>/dev/null | sed 's/^Modulus=//' | xxd -r -p | sha256sum | cut -d' ' -f1; }

for key in exp3 exp65537; do
    check "sign an appdir with the $key key" "$MYST" sign appdir "$key.pem" config.json --outdir "out-$key"
    openssl rsa -in "$key.pem" -pubout -out "$key.pub" 2>/dev/null
    check "openssl verifies the signature over the record ($key)" \
        openssl dgst -sha256 -verify "$key.pub" -signature "out-$key/signature" "out-$key/measurement"
    check "the embedded public key is the signer's ($key)" cmp "$key.pub" "out-$key/public.pem"
    "$MYST" dump "out-$key" >"dump-$key.txt" 2>&1 || { fail "dump out-$key"; cat "dump-$key.txt"; }
    check "dump: measurement is sha256 of the record ($key)" \
        grep -qx "measurement=$(sha "out-$key/measurement")" "dump-$key.txt"
    check "dump: signer is sha256 of the modulus ($key)" \
        grep -qx "signer=$(signer_of "$key.pem")" "dump-$key.txt"
    check "dump: ProductID, SecurityVersion, Debug ($key)" \
        bash -c "grep -qx ProductID=7 dump-$key.txt && grep -qx SecurityVersion=3 dump-$key.txt && grep -qx Debug=1 dump-$key.txt"
done
out=out-exp3
# The runtime is myst as the loader maps it (no debug information).
check "the signed runtime is myst and runs" \
    bash -c "test \"\$('$out/bin/myst' --version)\" = \"\$('$MYST' --version)\""
check "... with myst's program headers" \
    cmp <(readelf -lW "$MYST" | grep -E '^ +(LOAD|NOTE|TLS|GNU_)') <(readelf -lW "$out/bin/myst" | grep -E '^ +(LOAD|NOTE|TLS|GNU_)')
check "... and myst's loaded bytes" cmp -n 40 "$MYST" "$out/bin/myst"
check "record: runtime-sha256 is sha256sum of the runtime" test "$(record_value $out runtime-sha256)" = "$(sha "$out/bin/myst")"
check "record: runtime-size is its size" test "$(record_value $out runtime-size)" = "$(stat -c %s "$out/bin/myst")"
"$MYST" mkcpio appdir mkcpio.cpio
check "the appdir is packed as myst mkcpio packs it" cmp mkcpio.cpio "$out/rootfs"
check "record: rootfs-sha256 is sha256sum of the archive" test "$(record_value $out rootfs-sha256)" = "$(sha "$out/rootfs")"
check "record: config-sha256 is sha256sum of config.json" test "$(record_value $out config-sha256)" = "$(sha "$out/config.json")"
check "the config is canonical JSON (sorted keys, compact)" \
    grep -qx '{"ApplicationPath":"/bin/hello","Debug":1,"MemorySize":"40m","ProductID":7,"SecurityVersion":3,"version":"0.1"}' "$out/config.json"
check "the signed output runs with exec-linux" \
    bash -c "'$out/bin/myst' exec-linux --app-config-path '$out/config.json' '$out/rootfs' | grep -qx 'Hello World!'"
check "sign the CPIO archive" "$MYST" sign mkcpio.cpio exp3.pem reordered.json --outdir out-cpio
check "key order and spacing do not change the measurement" \
    cmp <(grep -v '^measurement=' dump-exp3.txt) <("$MYST" dump out-cpio | grep -v '^measurement=')
check "... nor the record" cmp "$out/measurement" out-cpio/measurement
check "signing again replaces the output" "$MYST" sign appdir exp3.pem config.json --outdir "$out"

"$MYST" mkext2 -q appdir root.ext2
check "sign an ext2 image" "$MYST" sign root.ext2 exp65537.pem config.json --outdir out-ext2
check "record: the ext2 image is measured by its verity root hash" \
    test "$(record_value out-ext2 rootfs-verity-root-hash)" = "$("$MYST" fssig --roothash root.ext2)"
check "dump: an ext2 root" bash -c "'$MYST' dump out-ext2 | grep -qx rootfs=ext2"
check "sign follows an ApplicationPath symlink" \
    bash -c "sed 's|/bin/hello\"|/bin/hello-link\"|' config.json >link.json && '$MYST' sign appdir exp3.pem link.json --outdir out-link"

# Tampering with a signed output is caught by dump, naming the file.
cp -a "$out" tampered-config && sed -i 's/"ProductID":7/"ProductID":8/' tampered-config/config.json
check_fails "dump: a changed config" "config.json: config check failed" "$MYST" dump tampered-config
# (One byte flipped: writing a fixed byte changes nothing where it is already that byte.)
flip_byte() {
    local byte
    byte=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf "\\$(printf %03o $((byte ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
cp -a "$out" tampered-rootfs && flip_byte tampered-rootfs/rootfs 200
check_fails "dump: a changed root file system" "rootfs: root file system check failed" "$MYST" dump tampered-rootfs
cp -a "$out" tampered-runtime && flip_byte tampered-runtime/bin/myst 1000
check_fails "dump: a changed runtime" "bin/myst: runtime check failed" "$MYST" dump tampered-runtime
cp -a "$out" tampered-signature && printf '\x00' | dd of=tampered-signature/signature bs=1 seek=10 conv=notrunc 2>/dev/null
check_fails "dump: a changed signature" "signature check failed" "$MYST" dump tampered-signature
cp -a "$out" tampered-record && sed -i 's/^target=linux/target=sgx/' tampered-record/measurement
check_fails "dump: a changed record" "signature check failed" "$MYST" dump tampered-record
cp -a out-ext2 tampered-ext2 && printf 'X' | dd of=tampered-ext2/rootfs bs=1 seek=5000 conv=notrunc 2>/dev/null
check_fails "dump: a changed ext2 block" "rootfs" "$MYST" dump tampered-ext2

# Bad input: one line naming the file and the reason, no output left behind.
check_fails "a 1024-bit key" "small.pem: a 1024-bit RSA key; signing needs at least 2048 bits" \
    "$MYST" sign appdir small.pem config.json --outdir bad
check_fails "an EC key" "ec.pem: .*only RSA keys are supported" "$MYST" sign appdir ec.pem config.json --outdir bad
check_fails "a missing key file" "nokey.pem" "$MYST" sign appdir nokey.pem config.json --outdir bad
check_fails "a key file that is not PEM" "config.json: not a PEM private key" "$MYST" sign appdir config.json config.json --outdir bad
printf '{"ApplicationPath": "/bin/hello",' >broken.json
check_fails "a config that does not parse" "broken.json: malformed JSON" "$MYST" sign appdir exp3.pem broken.json --outdir bad
printf '{"ProductID": 1}' >noapp.json
check_fails "a config without ApplicationPath" "noapp.json: ApplicationPath: missing" "$MYST" sign appdir exp3.pem noapp.json --outdir bad
printf '{"ApplicationPath": "/bin/nope"}' >missing.json
check_fails "an ApplicationPath not in the root fs" "missing.json: ApplicationPath: /bin/nope is not in appdir" \
    "$MYST" sign appdir exp3.pem missing.json --outdir bad
printf '{"ApplicationPath": "/bin"}' >dir.json
check_fails "an ApplicationPath that is a directory" "is not a regular file" "$MYST" sign appdir exp3.pem dir.json --outdir bad
check_fails "an ApplicationPath missing from an ext2 image" "/bin/nope is not in root.ext2" \
    "$MYST" sign root.ext2 exp3.pem missing.json --outdir bad
printf '{"ApplicationPath": "/bin/hello", "ProductID": 70000}' >bigid.json
check_fails "a ProductID beyond 16 bits" "bigid.json: ProductID" "$MYST" sign appdir exp3.pem bigid.json --outdir bad
check_fails "a missing config" "nope.json" "$MYST" sign appdir exp3.pem nope.json --outdir bad
check_fails "a missing root fs" "noappdir" "$MYST" sign noappdir exp3.pem config.json --outdir bad
check_fails "a root fs of neither kind" "config.json: neither an appdir, a CPIO archive nor an ext2 image" \
    "$MYST" sign config.json exp3.pem config.json --outdir bad
mkdir -p notsigned && touch notsigned/keep
check_fails "an --outdir that is not a sign output" "notsigned: exists and is not the output of myst sign" \
    "$MYST" sign appdir exp3.pem config.json --outdir notsigned
check "... which is left as it was" test -f notsigned/keep
check "no output and no partial files after failures" \
    bash -c "! ls -d bad bad.* *.partial-* 2>/dev/null | grep -q ."
check_fails "dump of something unsigned" "not a package" "$MYST" dump config.json
check_fails "dump of a directory without a signature" "measurement" "$MYST" dump appdir

check_fails "sign-sgx names the command to use" "use 'myst sign'" "$MYST" sign-sgx appdir exp3.pem config.json
check_fails "dump-sgx names the command to use" "use 'myst dump'" "$MYST" dump-sgx "$out"
for command in sign dump sign-sgx dump-sgx package package-sgx; do
    check "$command --help" bash -c "'$MYST' $command --help | grep -q Usage"
done
finish

#!/usr/bin/env bash
# The TEE-aware API on the linux target (doc/tee-aware.md): Mystikos's
# guide example (tests/apps/tee_creds.c: gen_creds, verify_cert with a
# verifier checking ProductID and SecurityVersion, free_creds, and bad
# input) under exec-linux without a config (zero identity), with an
# unsigned config (its ProductID and SecurityVersion), and as a package
# (the signed measurement and signer, as `myst dump` shows them).
# MYST_WANT_TEE_CREDENTIALS writes /tmp/myst.crt, /tmp/myst.key and the
# report at start; OpenSSL reads them: a self-signed certificate marked
# SIMULATED for the PEM key, whose report names the key's SHA-256 and is
# signed with the development key doc/tee-aware.md names.
source "$(dirname "$0")/lib.sh"
require openssl python3 sha256sum xxd
APPS=$(dirname "$MYST")/tests/apps/bin
[ -x "$APPS/tee_creds-musl-static" ] || { echo "FAIL: $APPS/tee_creds-musl-static is not built"; exit 1; }
[ -f /bin/busybox ] || { echo "FAIL: /bin/busybox is missing (install busybox-static)"; exit 1; }
mkdir -p appdir/bin appdir/tmp
cp "$APPS/tee_creds-musl-static" appdir/bin/tee_creds
cp "$APPS/tee_creds-glibc" appdir/bin/tee_creds_glibc
cp /bin/busybox appdir/bin/busybox
# The dynamic glibc variant needs its loader and libc from the image.
for lib in $(ldd "$APPS/tee_creds-glibc" | grep -o '/[^ ]*'); do
    mkdir -p "appdir$(dirname "$lib")"
    cp -L "$lib" "appdir$lib"
done
"$MYST" mkcpio appdir root.cpio
notice="TEE credentials are SIMULATED"

# passed <exit status> <output file>: the program ended with 0 and every
# one of its checks passed.
passed() { [ "$1" = 0 ] && grep -q '^PASS' "$2" && ! grep -q '^FAIL' "$2"; }

for program in tee_creds tee_creds_glibc; do
    "$MYST" exec-linux root.cpio /bin/$program 0 0 >plain.out 2>plain.err && status=0 || status=$?
    check "$program without a config: every check passes (zero identity)" passed $status plain.out
    [ "$status" = 0 ] || cat plain.out plain.err
done
check "MYST_TARGET=linux is in the program's environment" grep -qx 'MYST_TARGET=linux' plain.out
check "... its unique_id and signer_id are zero" \
    bash -c "grep -qx 'unique_id: 0\{64\}' plain.out && grep -qx 'signer_id: 0\{64\}' plain.out"
check "... and the attributes say simulated" \
    grep -qx 'identity: id_version 0, security_version 0, attributes 0x8000000000000000' plain.out
check "stderr announces the simulated report once" \
    bash -c "[ \$(grep -c '$notice' plain.err) = 1 ]"
"$MYST" exec-linux root.cpio /bin/tee_creds 1 1 >wrong.out 2>&1 || true
check "a verifier expecting ProductID 1 refuses the zero identity" \
    grep -q '^FAIL: verify_cert with a verifier checking ProductID 1' wrong.out

cat >unsigned.json <<'EOF'
{"ProductID": 3, "SecurityVersion": 5, "Debug": 1, "ApplicationPath": "/bin/tee_creds",
 "ApplicationParameters": ["3", "5", "files"],
 "EnvironmentVariables": ["MYST_WANT_TEE_CREDENTIALS=CERT_PEMKEY"]}
EOF
"$MYST" exec-linux --app-config-path unsigned.json root.cpio >config.out 2>config.err &&
    status=0 || status=$?
check "with an unsigned config: its ProductID 3 and SecurityVersion 5 reach the verifier" \
    passed $status config.out
[ "$status" = 0 ] || cat config.out config.err
check "... Debug sets the debug attribute" \
    grep -qx 'identity: id_version 0, security_version 5, attributes 0x8000000000000001' config.out
check "... CERT_PEMKEY wrote the certificate and key, and no report" \
    bash -c "grep -q '^PASS: MYST_WANT_TEE_CREDENTIALS wrote a PEM key' config.out &&
             grep -q '^PASS: CERT_PEMKEY wrote no report' config.out"
check "... the notice is printed once although credentials were made several times" \
    bash -c "[ \$(grep -c '$notice' config.err) = 1 ]"

# The package: the identity is the signed one.
openssl genrsa -out private.pem 3072 2>/dev/null
cat >package.json <<'EOF'
{"ProductID": 1, "SecurityVersion": 1, "ApplicationPath": "/bin/tee_creds",
 "ApplicationParameters": ["1", "1", "files"],
 "EnvironmentVariables": ["MYST_WANT_TEE_CREDENTIALS=CERT_PEMKEY_REPORT"]}
EOF
check "package the guide's example" "$MYST" package appdir private.pem package.json -o tee-package
./tee-package >package.out 2>package.err && status=0 || status=$?
check "the packaged example: the guide's verifier accepts ProductID 1, SecurityVersion 1" \
    passed $status package.out
[ "$status" = 0 ] || cat package.out package.err
"$MYST" dump tee-package >dump.out
measurement=$(sed -n 's/^measurement=//p' dump.out)
signer=$(sed -n 's/^signer=//p' dump.out)
check "... its unique_id is the package's measurement" grep -qx "unique_id: $measurement" package.out
check "... its signer_id is the package's signer" grep -qx "signer_id: $signer" package.out
check "... its product_id is ProductID 1 (16 bytes, little-endian)" \
    grep -qx 'product_id: 01000000000000000000000000000000' package.out
check "... CERT_PEMKEY_REPORT wrote the report" grep -q '^PASS: CERT_PEMKEY_REPORT wrote' package.out

# The written files, read back out of the kernel's /tmp with busybox cat.
cat >files.json <<'EOF'
{"ProductID": 2, "SecurityVersion": 9, "ApplicationPath": "/bin/busybox",
 "HostApplicationParameters": true,
 "EnvironmentVariables": ["MYST_WANT_TEE_CREDENTIALS=CERT_PEMKEY_REPORT"]}
EOF
# One run, so that the three files belong together.
"$MYST" exec-linux --app-config-path files.json root.cpio /bin/busybox \
    tar -c -f - -C /tmp myst.crt myst.key myst.report >files.tar 2>tar.err || cat tar.err
check "the three files, read out of one run" tar -xf files.tar myst.crt myst.key myst.report
check "openssl reads /tmp/myst.crt as DER" \
    openssl x509 -inform DER -in myst.crt -out myst.pem
openssl x509 -in myst.pem -noout -text >cert.txt 2>&1 || true
check "... its subject says SIMULATED" grep -q 'Subject:.*SIMULATED' cert.txt
check "... it carries the report extension (not critical)" \
    bash -c "grep -q '2.25.226251131194418216530391627045576641111:' cert.txt &&
             ! grep -q '2.25.226251131194418216530391627045576641111: critical' cert.txt"
check "... it is self-signed with an Ed25519 key" \
    bash -c "grep -q 'Signature Algorithm: ED25519' cert.txt && openssl verify -CAfile myst.pem myst.pem"
check "/tmp/myst.key is the certificate's private key (PEM)" \
    bash -c "key=\$(openssl pkey -in myst.key -pubout) && [ -n \"\$key\" ] &&
             [ \"\$key\" = \"\$(openssl x509 -in myst.pem -noout -pubkey)\" ]"
key_hash=$(openssl x509 -in myst.pem -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64)
check "/tmp/myst.report is 208 bytes with the simulated magic" \
    bash -c "[ \$(stat -c %s myst.report) = 208 ] && [ \"\$(head -c 8 myst.report)\" = MYSTSIMR ]"
check "... it names the certificate key's SHA-256" \
    bash -c "[ \"\$(xxd -p -s 112 -l 32 myst.report | tr -d '\n')\" = $key_hash ]"
check "... and ProductID 2, SecurityVersion 9 from the config" \
    bash -c "[ \"\$(xxd -p -s 20 -l 4 myst.report)\" = 09000000 ] &&
             [ \"\$(xxd -p -s 96 -l 2 myst.report)\" = 0200 ]"
# The development key: an Ed25519 key whose seed is the SHA-256 of a
# public phrase (doc/tee-aware.md); PKCS#8 DER = fixed prefix + seed.
phrase="myst simulated attestation development key, version 1 (public: proves nothing)"
{ printf '302e020100300506032b657004220420' && printf '%s' "$phrase" | sha256sum | cut -c1-64; } |
    xxd -r -p >development.der
openssl pkey -inform DER -in development.der -pubout -out development.pub 2>/dev/null
head -c 144 myst.report >report.body
tail -c 64 myst.report >report.sig
check "... and it is signed with the development key (openssl pkeyutl checks it)" \
    openssl pkeyutl -verify -pubin -inkey development.pub -rawin -in report.body -sigfile report.sig

printf '{"ApplicationPath": "/bin/tee_creds", "EnvironmentVariables": ["MYST_WANT_TEE_CREDENTIALS=BOGUS"]}' >bogus.json
check_fails "an unknown MYST_WANT_TEE_CREDENTIALS value is a one-line error" \
    "MYST_WANT_TEE_CREDENTIALS is 'BOGUS'" "$MYST" exec-linux --app-config-path bogus.json root.cpio
finish

#!/usr/bin/env bash
# myst package --oci: an OCI image layout whose single layer holds the
# packaged executable as the entrypoint. Debian's skopeo reads it, umoci
# unpacks it to a tree whose entrypoint runs, and myst appbuilder reads it
# back; an existing layout is never overwritten and a failure leaves nothing.
source "$(dirname "$0")/lib.sh"
require openssl python3 skopeo umoci tar
APPS=$(dirname "$MYST")/tests/apps/bin
[ -x "$APPS/hello-musl-static" ] || { echo "FAIL: $APPS/hello-musl-static is not built"; exit 1; }
mkdir -p appdir/bin
cp "$APPS/hello-musl-static" appdir/bin/hello
openssl genrsa -out private.pem -3 3072 2>/dev/null
printf '{"ProductID": 1, "SecurityVersion": 1, "ApplicationPath": "/bin/hello"}' >hello.json

check "package --oci writes a layout" "$MYST" package appdir private.pem hello.json --oci oci-hello
check "no loose package file without -o" test ! -e myst/bin/hello
check "it has oci-layout, index.json and blobs" \
    test -f oci-hello/oci-layout -a -f oci-hello/index.json -a -d oci-hello/blobs/sha256
check "skopeo inspect reads it" bash -c "skopeo inspect oci:oci-hello >inspect.json"
check "... one layer, linux/amd64" python3 - inspect.json <<'EOF2'
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["Layers"]) == 1, d
assert d["Os"] == "linux" and d["Architecture"] == "amd64", d
EOF2
check "skopeo: the entrypoint is the package" \
    bash -c "skopeo inspect --config oci:oci-hello | python3 -c 'import json, sys; assert json.load(sys.stdin)[\"config\"][\"Entrypoint\"] == [\"/myst/bin/hello\"]'"
check "tar -t of the layer lists the executable only" \
    bash -c "layer=\$(python3 -c 'import json; i = json.load(open(\"oci-hello/index.json\")); m = json.load(open(\"oci-hello/blobs/sha256/\" + i[\"manifests\"][0][\"digest\"][7:])); print(m[\"layers\"][0][\"digest\"][7:])') && tar -tzf oci-hello/blobs/sha256/\$layer >layer.txt && [ \"\$(cat layer.txt | tr '\n' ' ')\" = 'myst/ myst/bin/ myst/bin/hello ' ]"
check "skopeo copies it (every digest checked)" skopeo copy --quiet oci:oci-hello oci:copy:latest
check "umoci unpacks it" umoci unpack --image oci-hello:latest bundle
check "the unpacked entrypoint runs" bash -c "bundle/rootfs/myst/bin/hello | grep -qx 'Hello World!'"
check "the runtime spec's args are the entrypoint" \
    bash -c "python3 -c 'import json; assert json.load(open(\"bundle/config.json\"))[\"process\"][\"args\"] == [\"/myst/bin/hello\"]'"
mkdir -p back
check "myst appbuilder reads it back" "$MYST" appbuilder -q -i oci-hello -o back/appdir
check "... and its entrypoint runs" bash -c "back/appdir/myst/bin/hello | grep -qx 'Hello World!'"
check "... with the config naming it" grep -q '"ApplicationPath": "/myst/bin/hello"' back/config.json
check "with -o the loose file is kept too" \
    bash -c "'$MYST' package appdir private.pem hello.json -o hello-pkg --oci oci-2 && ./hello-pkg | grep -qx 'Hello World!' && test -d oci-2"
check_fails "an existing layout is not overwritten" "already exists" \
    "$MYST" package appdir private.pem hello.json --oci oci-hello
printf '{"ApplicationPath": "/bin/nope"}' >bad.json
check_fails "a bad config fails before any layout is made" "bad.json" \
    "$MYST" package appdir private.pem bad.json --oci oci-bad
check "no partial layout is left" bash -c "! ls -d oci-bad* 2>/dev/null | grep -q ."
finish

#!/usr/bin/env bash
# Sequential read of one file inside a program under myst exec-linux, from
# ramfs (CPIO), ext2+verity and ext2+crypt+verity, beside `openssl speed`
# for SHA-256 and AES-256-XTS (512-byte units) on the same machine, which
# bound the verity and crypt paths. Prints MB/s and the ratios.
# usage: bench/ext2_read.sh [SIZE_MIB]     (default 256)
set -euo pipefail
cd "$(dirname "$0")/.."
MYST=$(readlink -f "${MYST:-build/myst}")
SIZE_MIB=${1:-256}
OUT=bench/out/ext2_read
rm -rf "$OUT" && mkdir -p "$OUT/rootfs/bin" "$OUT/rootfs/data"
gcc -O2 -static-pie -fPIE -o "$OUT/rootfs/bin/read_speed" bench/apps/read_speed.c
head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom >"$OUT/rootfs/data/file"
head -c 64 /dev/urandom >"$OUT/keyfile"
"$MYST" mkcpio "$OUT/rootfs" "$OUT/root.cpio"
"$MYST" mkext2 -q "$OUT/rootfs" "$OUT/root.ext2"
mkdir -p "$OUT/data"
cp "$OUT/rootfs/data/file" "$OUT/data/file"
"$MYST" mkext2 -q --encrypt="$OUT/keyfile" "$OUT/data" "$OUT/data.ext2"
cat >"$OUT/config.json" <<JSON
{"HostApplicationParameters": true,
 "Mount": [{"Target": "/secret", "Type": "ext2", "KeyFile": "$(readlink -f "$OUT/keyfile")"}]}
JSON
memory=$((SIZE_MIB * 3 + 256))m
ramfs=$("$MYST" exec-linux --memory-size "$memory" "$OUT/root.cpio" /bin/read_speed /data/file)
verity=$("$MYST" exec-linux "$OUT/root.ext2" /bin/read_speed /data/file)
crypt=$("$MYST" exec-linux --app-config-path "$OUT/config.json" --mount "$OUT/data.ext2=/secret" \
    "$OUT/root.ext2" /bin/read_speed /secret/file)
sha=$(openssl speed -evp sha256 -bytes 4096 -seconds 2 2>/dev/null | awk '/^sha256/ {print $2}')
xts=$(openssl speed -evp aes-256-xts -bytes 512 -seconds 2 2>/dev/null | awk 'toupper($1) ~ /AES-256-XTS/ {print $2}')
python3 - "$SIZE_MIB" "$ramfs" "$verity" "$crypt" "$sha" "$xts" <<'PY'
import sys
size, ramfs, verity, crypt = sys.argv[1], *map(float, sys.argv[2:5])
sha, xts = (float(v.rstrip("k")) * 1000 / 1e6 for v in sys.argv[5:7])
slower = min(sha, xts)
print(f"sequential read of {size} MiB inside the program (MB/s):")
print(f"  ramfs (CPIO)         {ramfs:8.0f}")
print(f"  ext2 + verity        {verity:8.0f}   {verity / sha:.0%} of openssl sha256 ({sha:.0f} MB/s; target >= 70%)")
print(f"  ext2 + crypt + verity{crypt:8.0f}   {crypt / slower:.0%} of the slower of sha256 and aes-256-xts/512 ({slower:.0f} MB/s; target >= 60%)")
PY

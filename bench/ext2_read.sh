#!/usr/bin/env bash
# Sequential read of one file inside a program under myst exec-linux, from
# ramfs (CPIO), ext2+verity and ext2+crypt+verity, beside `openssl speed`
# for SHA-256 and AES-256-XTS (512-byte units) on the same machine, which
# bound the verity and crypt paths. Prints MB/s and the ratios.
# First reads are shown with the default 64 MiB verified cache (every
# block read is also copied into it, into memory the host has to fault in)
# and with --block-cache-size 0 (verification alone). The cached re-read
# reads the same file twice in one program with a cache that holds it
# (--block-cache-size) and reports the second pass: no hashing or
# decryption, only the copy out of the cache through ext2 and read().
# Each figure is the median of 5 runs; the images are synced to the host
# disk first so that write-back does not compete with the reads.
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
cp "$OUT/rootfs/data/file" "$OUT/data/"
"$MYST" mkext2 -q --encrypt="$OUT/keyfile" "$OUT/data" "$OUT/data.ext2"
cat >"$OUT/config.json" <<JSON
{"HostApplicationParameters": true,
 "Mount": [{"Target": "/secret", "Type": "ext2", "KeyFile": "$(readlink -f "$OUT/keyfile")"}]}
JSON
memory=$((SIZE_MIB * 3 + 256))m
secret=(--app-config-path "$OUT/config.json" --mount "$OUT/data.ext2=/secret")
cache=(--block-cache-size $(((SIZE_MIB + 64)))m)
median() { # command...: the median of 5 runs' output, a field per pass
    for _ in 1 2 3 4 5; do "$@"; done | sort -n -k"${FIELD:-1}" | sed -n 3p | awk -v f="${FIELD:-1}" '{print $f}'
}
sync
ramfs=$(median "$MYST" exec-linux --memory-size "$memory" "$OUT/root.cpio" /bin/read_speed /data/file)
verity=$(median "$MYST" exec-linux "$OUT/root.ext2" /bin/read_speed /data/file)
verity_nocache=$(median "$MYST" exec-linux --block-cache-size 0 "$OUT/root.ext2" /bin/read_speed /data/file)
crypt=$(median "$MYST" exec-linux "${secret[@]}" "$OUT/root.ext2" /bin/read_speed /secret/file)
crypt_nocache=$(median "$MYST" exec-linux --block-cache-size 0 "${secret[@]}" "$OUT/root.ext2" \
    /bin/read_speed /secret/file)
verity_again=$(FIELD=2 median "$MYST" exec-linux "${cache[@]}" "$OUT/root.ext2" /bin/read_speed /data/file 2)
crypt_again=$(FIELD=2 median "$MYST" exec-linux "${cache[@]}" "${secret[@]}" "$OUT/root.ext2" \
    /bin/read_speed /secret/file 2)
sha=$(openssl speed -evp sha256 -bytes 4096 -seconds 2 2>/dev/null | awk '/^sha256/ {print $2}')
xts=$(openssl speed -evp aes-256-xts -bytes 512 -seconds 2 2>/dev/null | awk 'toupper($1) ~ /AES-256-XTS/ {print $2}')
python3 - "$SIZE_MIB" "$ramfs" "$verity" "$verity_nocache" "$crypt" "$crypt_nocache" \
    "$verity_again" "$crypt_again" "$sha" "$xts" <<'PY'
import sys
size = sys.argv[1]
ramfs, verity, verity0, crypt, crypt0, verity_again, crypt_again = map(float, sys.argv[2:9])
sha, xts = (float(v.rstrip("k")) * 1000 / 1e6 for v in sys.argv[9:11])
slower = min(sha, xts)
print(f"sequential read of {size} MiB inside the program (MB/s, median of 5):")
print(f"  ramfs (CPIO)                        {ramfs:8.0f}")
for name, value, limit, what, target in (
        ("ext2 + verity", verity, sha, "openssl sha256", 70),
        ("ext2 + verity, no verified cache", verity0, sha, "openssl sha256", 70),
        ("ext2 + crypt + verity", crypt, slower, "the slower of sha256 and aes-256-xts/512", 60),
        ("ext2 + crypt + verity, no cache", crypt0, slower, "the slower of sha256 and aes-256-xts/512", 60)):
    print(f"  {name:34s}{value:8.0f}   {value / limit:.0%} of {what} ({limit:.0f} MB/s; target >= {target}%)")
print(f"cached re-read of the same {size} MiB file, second pass (MB/s):")
print(f"  ext2 + verity                       {verity_again:8.0f}   target >= 2000 MB/s")
print(f"  ext2 + crypt + verity               {crypt_again:8.0f}   target >= 2000 MB/s")
PY

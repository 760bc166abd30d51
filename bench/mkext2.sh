#!/usr/bin/env bash
# myst mkext2 against the Linux tools Mystikos uses (mke2fs -d + veritysetup
# format), on the same directory and image size, plus our SHA-256 and
# AES-XTS throughput against `openssl speed`. Prints each pair and the ratio.
#
# usage: bench/mkext2.sh [SOURCE_DIR]
#   SOURCE_DIR defaults to a Debian root file system made with
#   `mmdebstrap --variant=essential --include=python3-minimal bookworm`
#   (cached in bench/out/rootfs), or /usr/lib when mmdebstrap cannot run.
set -euo pipefail
cd "$(dirname "$0")/.."
MYST=${MYST:-build/myst}
OUT=bench/out
mkdir -p "$OUT"

source_dir=${1:-}
if [ -z "$source_dir" ]; then
    source_dir=$OUT/rootfs
    if [ ! -d "$source_dir/usr" ]; then
        if ! mmdebstrap --quiet --variant=essential --include=python3-minimal bookworm "$source_dir" 2>"$OUT/mmdebstrap.log"; then
            echo "mmdebstrap failed (see $OUT/mmdebstrap.log); using /usr/lib" >&2
            rm -rf "$source_dir"
            source_dir=/usr/lib
        fi
    fi
fi
echo "source: $source_dir ($(du -sh --apparent-size "$source_dir" | cut -f1), $(find "$source_dir" | wc -l) entries)"

# One size for both: what myst picks by default for this tree.
"$MYST" mkext2 -q --force "$source_dir" "$OUT/myst.img"
size=$("$MYST" fssig --json "$OUT/myst.img" | python3 -c 'import json,sys; print(json.load(sys.stdin)["hash_offset"])')
echo "image size before the hash tree: $size bytes"

hyperfine --style basic --warmup 1 --runs 5 --export-json "$OUT/mkext2.json" \
    -n myst "$MYST mkext2 -q --force --size=$size $source_dir $OUT/myst.img" \
    -n linux "rm -f $OUT/linux.img && truncate -s $size $OUT/linux.img && mke2fs -q -t ext2 -b 4096 -d $source_dir $OUT/linux.img && veritysetup format --hash-offset=$size $OUT/linux.img $OUT/linux.img >/dev/null"
python3 - "$OUT/mkext2.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
m, l = r["myst"]["median"], r["linux"]["median"]
print(f"mkext2: myst {m:.3f} s, mke2fs+veritysetup {l:.3f} s (medians of 5), ratio myst/linux = {m / l:.2f}x")
PY

# Crypto throughput: ours (as verity and LUKS use it) against openssl speed.
ours=$(build/myst_crypto_bench)
openssl_sha=$(openssl speed -evp sha256 -bytes 4096 -seconds 2 2>/dev/null | awk '/^sha256/ {print $2}')
openssl_xts=$(openssl speed -evp aes-256-xts -bytes 1048576 -seconds 2 2>/dev/null | awk '/^AES-256-XTS|^aes-256-xts/ {print $2}')
python3 - "$ours" "$openssl_sha" "$openssl_xts" <<'PY'
import sys
ours = dict(line.split() for line in sys.argv[1].splitlines())
def kbytes(v): return float(v.rstrip("k")) * 1000 / 1e6  # openssl speed prints 1000s of bytes/s
sha, xts = float(ours["sha256-verity-4k"]), float(ours["aes-256-xts-1m"])
osha, oxts = kbytes(sys.argv[2]), kbytes(sys.argv[3])
print(f"sha256 (4 KiB blocks): myst {sha:.0f} MB/s, openssl speed {osha:.0f} MB/s, ratio {sha / osha:.2f}")
print(f"aes-256-xts (1 MiB):   myst {xts:.0f} MB/s, openssl speed {oxts:.0f} MB/s, ratio {xts / oxts:.2f}")
PY

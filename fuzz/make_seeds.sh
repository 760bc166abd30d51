#!/usr/bin/env bash
# Seed corpora for the fuzz targets, made by myst's own tools and Linux's
# (mke2fs, veritysetup) from small trees, and from the test programs the
# main build compiles; nothing is downloaded. Usage: make_seeds.sh <myst> <apps-bin-dir> <out-dir>
# Writes <out-dir>/<target>/ for each target in fuzz/CMakeLists.txt.
set -euo pipefail
myst=$1
apps=$2
out=$3
rm -rf "$out"
mkdir -p "$out"/{cpio,ext2,verity,fssig,luks1,elf,app_config,mount_options}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A tree with each kind of entry the readers handle: nested directories, an
# empty file, a file of BIG bytes (indirect blocks on 1 KiB ext2 blocks), a
# long name, symlinks short and long (fast and slow on ext2).
make_tree() { # directory, BIG
    local tree=$1
    mkdir -p "$tree/bin" "$tree/etc/deep/er/still" "$tree/empty_dir"
    printf 'hello\n' > "$tree/etc/hello.txt"
    : > "$tree/etc/empty"
    head -c "$2" /dev/zero | tr '\0' 'x' > "$tree/bin/big"
    printf 'deep\n' > "$tree/etc/deep/er/still/file_with_a_rather_long_name_for_the_directory_block"
    ln -s ../etc/hello.txt "$tree/bin/short_link"
    ln -s "/$(printf 'a%.0s' $(seq 1 100))/target" "$tree/bin/long_link"
    chmod 0700 "$tree/empty_dir"
}
tree=$work/tree
make_tree "$tree" 70000

"$myst" mkcpio "$tree" "$out/cpio/tree.cpio" > /dev/null
mkdir -p "$work/one"
printf 'x' > "$work/one/x"
"$myst" mkcpio "$work/one" "$out/cpio/one.cpio" > /dev/null

# A plain image: [EXT2 | HASH TREE | FSSIG]; the fssig target gets its
# trailer.
"$myst" mkext2 --quiet --size 400k "$tree" "$work/plain.ext2"
tail -c 4096 "$work/plain.ext2" > "$out/fssig/plain.fssig"

# The ext2 and verity targets get small images: each execution copies,
# mounts and walks the whole input, so a 64 KiB seed runs several times
# faster than the 300-400 KiB images myst mkext2 makes at the least. Linux's
# own tools make them (mke2fs, veritysetup), with 1, 2 and 4 KiB blocks, a
# smaller big file (14 blocks of 1 KiB still need an indirect block)
# and with and without the resize inode and directory index.
small=$work/small
make_tree "$small" 14000
make_small_ext2() { # name, block size, KiB, extra mke2fs options...
    local name=$1 block=$2 kib=$3
    shift 3
    truncate -s "${kib}k" "$work/$name.ext2"
    mke2fs -q -F -t ext2 -b "$block" -N 32 -m 0 "$@" -d "$small" "$work/$name.ext2"
    cp "$work/$name.ext2" "$out/ext2/$name.ext2"
    # [EXT2 | HASH TREE | FSSIG], as myst mkext2 lays it out; the verity
    # harness puts the root hash in the trailer itself.
    veritysetup format "$work/$name.ext2" "$work/$name.hash" > /dev/null
    python3 - "$work/$name.ext2" "$work/$name.hash" "$out/verity/$name.img" <<'PY'
import struct, sys
data, tree = open(sys.argv[1], 'rb').read(), open(sys.argv[2], 'rb').read()
trailer = struct.pack('<QQQ', 0xf55198a153624d38, 1, len(data))
open(sys.argv[3], 'wb').write(data + tree + trailer + bytes(4096 - len(trailer)))
PY
}
make_small_ext2 small1k 1024 64
make_small_ext2 small2k 2048 128 -O ^resize_inode,^dir_index
make_small_ext2 small4k 4096 256 -O ^resize_inode

# An encrypted one: the LUKS1 target gets its header sector; the key is the
# one luks1_fuzzer.cpp uses (bytes 0..63).
printf "$(printf '\\%03o' $(seq 0 63))" > "$work/key"
"$myst" mkext2 --quiet --size 2336k --encrypt="$work/key" "$work/one" "$work/crypt.ext2"
head -c 4096 "$work/crypt.ext2" > "$out/luks1/header"
"$myst" mkext2 --quiet --size 2336k --encrypt="$work/key" --passphrase="a passphrase for fuzzing" \
    "$work/one" "$work/crypt2.ext2"
head -c 4096 "$work/crypt2.ext2" > "$out/luks1/header_with_slot"
tail -c 4096 "$work/crypt.ext2" > "$out/fssig/crypt.fssig"

# The test programs: dynamic glibc and musl PIEs and a static musl PIE.
for variant in glibc musl musl-static; do
    cp "$apps/hello-$variant" "$out/elf/hello-$variant"
done

# A config.json with every key myst reads, as the tests write them.
cat > "$out/app_config/full.json" <<'JSON'
{
    "Debug": 1,
    "ProductID": 1,
    "SecurityVersion": 1,
    "UserMemSize": "40m",
    "MemorySize": "64m",
    "ApplicationPath": "/bin/hello",
    "ApplicationParameters": ["a", "b c"],
    "HostApplicationParameters": true,
    "EnvironmentVariables": ["A=1", "B="],
    "HostEnvironmentVariables": ["HOME"],
    "CurrentWorkingDirectory": "/tmp",
    "Hostname": "fuzz",
    "ForkMode": "pseudo_wait_for_exit_exec",
    "MountablePaths": ["/srv"],
    "Mount": [
        {"Target": "/data", "Type": "ext2", "Flags": ["ro"], "PublicKey": "pub.pem",
         "Roothash": "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
         "Source": "/srv/data.ext2", "KeyFile": "/srv/key"},
        {"Target": "/host", "Type": "hostfs", "Source": "/srv"},
        {"Target": "/tmp", "Type": "ramfs"}
    ]
}
JSON
printf '{"ApplicationPath": "/bin/sh", "ApplicationParameters": "-c"}' > "$out/app_config/small.json"

# mount(2) data strings of the kinds tests/apps/mount_calls.c passes; the
# first byte picks the type (0 ext2, 1 hostfs, 2 ramfs).
printf '\0key=%s' "$(printf '0f%.0s' $(seq 1 64))" > "$out/mount_options/ext2_key"
printf '\0roothash=%s,ro' "$(printf 'a%.0s' $(seq 1 64))" > "$out/mount_options/ext2_roothash"
printf '\0key=abc' > "$out/mount_options/ext2_bad_key"
printf '\1nonsense' > "$out/mount_options/hostfs_unknown"
printf '\2mode=0700,size=1m' > "$out/mount_options/tmpfs"
printf '\2mode=1777,nr_inodes=100,,rw' > "$out/mount_options/ramfs"

#!/usr/bin/env bash
# mount(2) and umount2(2) from inside a program: ext2 images (plain, read-only,
# encrypted with key=<hex>, a wrong key, a root hash it does not have), a
# host directory, tmpfs/ramfs, busy and detached mounts, and bad calls; only
# host paths the operator allowed (--allow-mount-source, config
# MountablePaths) may be mounted.
source "$(dirname "$0")/lib.sh"
require xxd
APPS=$(dirname "$MYST")/tests/apps/bin
for v in musl-static glibc; do
    [ -x "$APPS/mount_calls-$v" ] || { echo "FAIL: $APPS/mount_calls-$v is not built"; exit 1; }
done
mkdir -p rootfs/bin rootfs/etc rootfs/tmp plain/etc secret host
cp "$APPS"/mount_calls-musl-static rootfs/bin/
printf 'Hello World!\n' >plain/etc/motd
printf 'top secret\n' >secret/note.txt
printf 'from the host\n' >host/hello.txt
ln -s / host/to_root
head -c 64 /dev/urandom >keyfile
key_hex=$(xxd -p -c 64 keyfile)
"$MYST" mkext2 -q rootfs root.ext2
"$MYST" mkext2 -q plain plain.ext2
"$MYST" mkext2 -q --encrypt=keyfile secret secret.ext2

"$MYST" exec-linux --allow-mount-source "$SCRATCH" root.ext2 /bin/mount_calls-musl-static \
    "$SCRATCH/plain.ext2" \
    "$SCRATCH/secret.ext2" "$key_hex" "$SCRATCH/host" >calls.out 2>calls.err && status=0 || status=$?
cat calls.out
if [ "$status" -eq 0 ] && ! grep -q '^FAIL' calls.out && [ "$(grep -c '^PASS' calls.out)" -ge 40 ]; then
    pass "every mount/umount2 check passed ($(grep -c '^PASS' calls.out) checks)"
else
    fail "mount_calls exited $status"
    cat calls.err
fi
check "the program's write reached the host directory" grep -qx 'from myst' host/written.txt
check "a failed mount names the image and the reason on stderr" \
    grep -q "mount on /mnt/s: $SCRATCH/secret.ext2: .*key" calls.err
check "a refused mount is one line naming the path" grep -qx \
    "myst: mount: /etc/passwd is not a host path the operator allowed to mount (--mount, --allow-mount-source, \"MountablePaths\")" \
    calls.err
check "... and nothing else on stderr names it (no size, no contents)" \
    test "$(grep -c 'mount: /etc/passwd' calls.err)" = 1 -a \
    "$(grep -c -e "$(stat -c %s /etc/passwd)" -e "$(head -c 8 /etc/passwd)" calls.err)" = 0
check "the host images are unchanged" bash -c \
    "'$MYST' fssig --verify plain.ext2 >/dev/null && '$MYST' fssig --verify root.ext2 >/dev/null"

# Without the allow-list, nothing of the host may be mounted.
"$MYST" exec-linux root.ext2 /bin/mount_calls-musl-static "$SCRATCH/plain.ext2" \
    "$SCRATCH/secret.ext2" "$key_hex" "$SCRATCH/host" >unlisted.out 2>unlisted.err || true
check "without --allow-mount-source, mount(2) of a host image is refused" \
    grep -qx 'FAIL: mount an ext2 image' unlisted.out
check "... and of a host directory" grep -qx 'FAIL: mount a host directory' unlisted.out
check "... with EPERM and a line naming the path" \
    grep -q "^myst: mount: $SCRATCH/plain.ext2 is not a host path the operator allowed" unlisted.err

# A program mounting tmpfs in a loop meets Linux's default mount-max.
"$MYST" exec-linux root.ext2 /bin/mount_calls-musl-static mount-max >max.out 2>max.err &&
    status=0 || status=$?
cat max.out
check "tmpfs mounts in a loop stop with ENOSPC at mount-max ($status)" \
    test "$status" = 0 -a "$(grep -c '^PASS' max.out)" = 3

# --roothash on the command line is the trust for images the program mounts:
# an image it does not name is refused. (The config's MountablePaths allows
# the images here.)
printf '{"HostApplicationParameters": true, "MountablePaths": ["%s"]}\n' "$SCRATCH" >config.json
"$MYST" exec-linux --app-config-path config.json \
    --roothash="$("$MYST" fssig --roothash root.ext2)" root.ext2 \
    /bin/mount_calls-musl-static "$SCRATCH/plain.ext2" "$SCRATCH/secret.ext2" "$key_hex" \
    "$SCRATCH/host" >trusted.out 2>trusted.err || true
check "with --roothash, mount(2) of an image with another root hash is EACCES" \
    grep -q '^FAIL: mount an ext2 image' trusted.out
check "... and says why" grep -q "root hash mismatch" trusted.err
finish

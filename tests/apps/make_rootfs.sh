#!/usr/bin/env bash
# Assembles the root file system the test programs run from under myst, and
# optionally packs it with `myst mkcpio`.
#
# Usage: make_rootfs.sh [--busybox] [--extra DIR] [--myst MYST --cpio OUT.cpio]
#                       ROOTFS_DIR PROGRAM...
#
# ROOTFS_DIR must not exist yet. It gets:
#   /bin/<file name>   every PROGRAM, under its own file name. The test programs
#                      are built as <app>-<variant>, variant one of
#                        glibc         gcc, dynamic PIE
#                        glibc-static  gcc -static-pie
#                        musl          musl-gcc, dynamic PIE
#                        musl-static   musl-gcc objects linked static-pie
#                      e.g. /bin/hello-glibc, /bin/hello-musl-static.
#   the loader and shared libraries of each dynamic PROGRAM, copied from the host
#                      at the same paths the loader names them (symlinks
#                      resolved to the real file, the soname path kept), e.g.
#                      /lib64/ld-linux-x86-64.so.2, /lib/x86_64-linux-gnu/libc.so.6,
#                      /lib/ld-musl-x86_64.so.1 (musl's loader is also its libc)
#   /bin/busybox       with --busybox: Debian's busybox-static (static, not PIE)
#   /etc/motd          the line "Welcome to the myst test image."
#   /etc/myst-image-only.txt   a file that exists only in the image
#   /etc/hosts, /etc/nsswitch.conf, /etc/resolv.conf   name resolution as a
#                      Debian system has it (localhost from the files; DNS
#                      to a loopback server that fails fast), since libcs
#                      read them from the image, never from the host
#   /tmp (mode 1777), and empty /proc and /dev to mount the kernel's file systems on
#   the contents of DIR, with --extra DIR (copied last, so it may add fixtures)
# With --myst and --cpio, ROOTFS_DIR is then packed into OUT.cpio.
set -euo pipefail

readonly MOTD_LINE="Welcome to the myst test image."
readonly IMAGE_ONLY_LINE="This file exists only in the image."

die() {
    echo "make_rootfs.sh: $*" >&2
    exit 1
}

busybox=0
extra=""
myst=""
cpio=""
while [ $# -gt 0 ]; do
    case $1 in
    --busybox) busybox=1 ;;
    --extra) extra=${2:?--extra needs a directory}; shift ;;
    --myst) myst=${2:?--myst needs a path}; shift ;;
    --cpio) cpio=${2:?--cpio needs a path}; shift ;;
    --) shift; break ;;
    -*) die "unknown option $1" ;;
    *) break ;;
    esac
    shift
done
[ $# -ge 1 ] || die "usage: make_rootfs.sh [--busybox] [--extra DIR]" \
    "[--myst MYST --cpio OUT.cpio] ROOTFS_DIR PROGRAM..."
if { [ -n "$myst" ] && [ -z "$cpio" ]; } || { [ -z "$myst" ] && [ -n "$cpio" ]; }; then
    die "--myst and --cpio go together"
fi
rootfs=$1
shift
[ ! -e "$rootfs" ] || die "$rootfs already exists"
command -v readelf >/dev/null || die "readelf is missing (install binutils)"

# The PT_INTERP path of an ELF file, or nothing for a static one.
interpreter_of() {
    readelf -lW "$1" | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]/\1/p'
}

# Copies a host file into the rootfs at the same absolute path, following
# symlinks so the image holds the real bytes under the name the loader uses.
copy_host_file() {
    local path=$1
    [ -e "$path" ] || die "$path (needed by a program) does not exist on the host"
    mkdir -p "$rootfs$(dirname "$path")"
    cp -L --preserve=mode "$path" "$rootfs$path"
}

# The loader and the libraries a dynamic program needs, as its own loader
# resolves them on the host ("--list" maps them without running the program).
copy_runtime_of() {
    local program=$1 interp
    interp=$(interpreter_of "$program")
    [ -n "$interp" ] || return 0
    [ -x "$interp" ] || die "$program: its loader $interp is not on the host"
    copy_host_file "$interp"
    local listing
    listing=$("$interp" --list "$program") || die "$program: '$interp --list' failed"
    # Lines are "name => /path (0x...)" or "/path (0x...)" for the loader.
    local path
    while read -r path; do
        [ -n "$path" ] && copy_host_file "$path"
    done < <(printf '%s\n' "$listing" | sed -n -e 's/.*=> \(\/[^ ]*\) (0x.*/\1/p' \
        -e 's/^[[:space:]]*\(\/[^ ]*\) (0x.*/\1/p' | sort -u)
}

mkdir -p "$rootfs"/{bin,etc,tmp,proc,dev}
chmod 1777 "$rootfs/tmp"
echo "$MOTD_LINE" >"$rootfs/etc/motd"
echo "$IMAGE_ONLY_LINE" >"$rootfs/etc/myst-image-only.txt"
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$rootfs/etc/hosts"
printf 'hosts:\t\tfiles dns\nnetworks:\tfiles\npasswd:\t\tfiles\ngroup:\t\tfiles\n' \
    >"$rootfs/etc/nsswitch.conf"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$rootfs/etc/resolv.conf"

for program in "$@"; do
    [ -f "$program" ] || die "$program does not exist"
    install -m 0755 "$program" "$rootfs/bin/$(basename "$program")"
    copy_runtime_of "$program"
done

if [ "$busybox" = 1 ]; then
    [ -f /bin/busybox ] || die "/bin/busybox is missing (install busybox-static)"
    [ -z "$(interpreter_of /bin/busybox)" ] ||
        die "/bin/busybox is dynamically linked: install Debian's busybox-static"
    install -m 0755 /bin/busybox "$rootfs/bin/busybox"
fi

if [ -n "$extra" ]; then
    [ -d "$extra" ] || die "$extra is not a directory"
    cp -a "$extra/." "$rootfs/"
fi

if [ -n "$cpio" ]; then
    rm -f "$cpio"
    "$myst" mkcpio "$rootfs" "$cpio"
fi

#!/usr/bin/env bash
# Builds a root file system tree holding Debian 12's python3, sqlite3 and
# busybox from Debian's own packages: `apt-get download` of the .deb files below, `dpkg -x`
# of each into the tree, plus /usr/bin/python3, busybox's applets as links in
# /bin (sh, echo, sleep, ... for subprocess and the shell tests), /tmp, a
# minimal /etc/passwd and /etc/group, and /etc/hosts, nsswitch.conf and
# resolv.conf as a Debian system has them (programs resolve names from the
# image). No maintainer scripts run and nothing is installed on the host.
#
# usage: tests/rootfs/debian_python.sh <out-dir>
#   Leaves the tree in <out-dir>/root. The result is cached: a later run whose
#   package list and script are unchanged does nothing (no download). Runs
#   sharing <out-dir> at once are serialised with a lock.
#
# The package set is the smallest that runs tests/apps/python/threads.py as
# Debian's python runs it (found by trial in a chroot): the interpreter and
# its standard library (queue and concurrent.futures are in -stdlib), glibc,
# the two libraries the interpreter links (zlib, expat), and OpenSSL, which
# libpython3.11-minimal depends on and hashlib uses (without it hashlib falls
# back to its built-in hashes). The other dependencies of -stdlib (ncurses,
# readline, sqlite, bz2, lzma, ffi, db5.3, ...) serve modules the tests do
# not import. sqlite3 (the CLI), its library and the two libraries the CLI
# links (readline, tinfo) serve tests/tools/exec_sqlite3.sh. For comparison,
# `mmdebstrap --variant=essential --include=python3 bookworm DIR` took 153 s
# and 192 MB on the project VM; this takes ~10 s and 44 MB.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 <out-dir>" >&2; exit 2; }
packages=(
    python3.11-minimal libpython3.11-minimal libpython3.11-stdlib
    libc6 zlib1g libexpat1 libssl3 busybox
    sqlite3 libsqlite3-0 libreadline8 libtinfo6
)
for tool in apt-get apt-cache dpkg flock sha256sum; do
    command -v "$tool" >/dev/null || { echo "$0: required tool '$tool' is missing (run ./setup.sh)" >&2; exit 1; }
done
out=$1
mkdir -p "$out"
out=$(readlink -f "$out")
# The key: the package list and this script (which decides the tree's shape).
key=$( { printf '%s\n' "${packages[@]}"; cat "$0"; } | sha256sum | cut -d' ' -f1)

exec 9>"$out/.lock"
flock 9
if [ -f "$out/key" ] && [ "$(cat "$out/key")" = "$key" ] && [ -x "$out/root/usr/bin/python3" ]; then
    exit 0
fi
rm -rf "$out/root" "$out/key" "$out/new"
mkdir -p "$out/new/debs" "$out/new/root"

# Package lists are needed to download; fetch them once if this host has none.
if ! apt-cache show --no-all-versions "${packages[0]}" >/dev/null 2>&1; then
    apt-get update -q >/dev/null
fi
# As root apt downloads as the _apt user, which cannot write to the build
# tree; download as the caller instead.
(cd "$out/new/debs" && apt-get download -q -o APT::Sandbox::User="$(id -un)" "${packages[@]}" >/dev/null)
for deb in "$out/new/debs"/*.deb; do
    dpkg -x "$deb" "$out/new/root"
done
root=$out/new/root
ln -s python3.11 "$root/usr/bin/python3"
# busybox --install would need to run in the tree; its list of applets does
# not (the binary runs on this Debian host as well).
for applet in $("$root/bin/busybox" --list); do
    [ -e "$root/bin/$applet" ] || [ -e "$root/usr/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
mkdir -p "$root/tmp" "$root/root"
chmod 1777 "$root/tmp"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
printf 'passwd:\t\tfiles\ngroup:\t\tfiles\nhosts:\t\tfiles dns\nnetworks:\tfiles\n' \
    >"$root/etc/nsswitch.conf"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$root/etc/resolv.conf"
# Which version of each package went in, for the test's messages.
for deb in "$out/new/debs"/*.deb; do
    dpkg-deb --show --showformat '${Package} ${Version}\n' "$deb"
done >"$out/new/versions"
[ -x "$root/usr/bin/python3" ] || { echo "$0: no /usr/bin/python3 in the tree" >&2; exit 1; }
[ -x "$root/bin/sh" ] || { echo "$0: no /bin/sh (busybox) in the tree" >&2; exit 1; }
[ -x "$root/usr/bin/sqlite3" ] || { echo "$0: no /usr/bin/sqlite3 in the tree" >&2; exit 1; }
mv "$out/new/root" "$out/root"
mv "$out/new/versions" "$out/versions"
rm -rf "$out/new"
echo "$key" >"$out/key"

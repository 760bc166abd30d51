#!/usr/bin/env bash
# Cross-checks `myst mkcpio` and `myst excpio` against GNU cpio: the archive
# lists and extracts with cpio exactly like the source tree, excpio gives the
# same tree back, and bad input (missing or unreadable files, corrupt or
# hostile archives) fails cleanly with nothing written where it should not be.
# Usage: cpio_linux.sh <path-to-myst> <scratch-dir>
source "$(dirname "$0")/lib.sh" "$@"
SCRATCH=$(realpath "$SCRATCH")
export LC_ALL=C TZ=UTC
require cpio python3 diff find cmp

# check_exit1 <description> <command...>: the command must fail with exit
# status 1; its stderr is kept in $SCRATCH/stderr for the checks that follow.
check_exit1() {
    local what=$1 status=0
    shift
    "$@" 2>"$SCRATCH/stderr" || status=$?
    if [ "$status" -eq 1 ]; then
        pass "$what ($(head -n1 "$SCRATCH/stderr"))"
    else
        fail "$what: exit status $status, expected 1"
        cat "$SCRATCH/stderr"
    fi
}
# "path mode type mtime symlink-target" for every entry of a tree.
listing() { (cd "$1" && find . -printf '%P %m %y %T@ %l\n' | sort); }
# GNU cpio -m restores the mtimes of files only, not of directories and
# symlinks: for its tree those are left out.
file_mtimes_listing() {
    (cd "$1" && find . \( -type d -o -type l \) -printf '%P %m %y - %l\n' \
        -o -printf '%P %m %y %T@ %l\n' | sort)
}
same_listing() {
    local lister=${3:-listing}
    if diff <("$lister" "$1") <("$lister" "$2") >"$SCRATCH/listing.diff"; then return 0; fi
    head -n 20 "$SCRATCH/listing.diff"
    return 1
}
# diff cannot compare fifos (it reports them as different): the listing
# checks their type and mode instead.
same_tree() {
    diff -r --no-dereference -x fifo "$1" "$2" >"$SCRATCH/tree.diff" 2>&1 || {
        head -n 20 "$SCRATCH/tree.diff"
        return 1
    }
    same_listing "$@"
}

# ---- the source tree ----
src=$SCRATCH/src
mkdir -p "$src/dir/nested/deeper/deepest" "$src/many" "$src/links" "$src/sticky"
echo "deep" >"$src/dir/nested/deeper/deepest/file"
: >"$src/empty"
head -c $((1024 * 1024 + 3)) /dev/urandom >"$src/binary"
head -c 4096 /dev/urandom >"$src/page"
echo "spaces" >"$src/with space name.txt"
printf '#!/bin/sh\necho hi\n' >"$src/setuid"
ln "$src/page" "$src/page.hardlink"
ln -s ../page "$src/links/relative"
ln -s /etc/passwd "$src/links/absolute"
ln -s does-not-exist "$src/links/dangling"
ln -s ../dir/nested "$src/links/to-dir"
mkfifo "$src/fifo"
for i in $(seq -w 0 1999); do echo "$i" >"$src/many/f$i"; done
chmod 0751 "$src/dir"
chmod 04755 "$src/setuid"
chmod 01777 "$src/sticky"
chmod 0600 "$src/empty"
find "$src" -depth -exec touch -h -d '2021-03-04 05:06:07 UTC' {} +

img=$SCRATCH/app.cpio
check "mkcpio writes an archive" "$MYST" mkcpio "$src" "$img"

# ---- GNU cpio lists every entry with the source's mode ----
expected_modes() { (cd "$src" && find . -printf '%M %P\n' | sed 's/^\([^ ]*\) $/\1 ./' | sort); }
listed_modes() { paste -d' ' <(cpio -itv <"$img" 2>/dev/null | awk '{print $1}') \
    <(cpio -it <"$img" 2>/dev/null) | sort; }
if diff <(expected_modes) <(listed_modes) >"$SCRATCH/modes.diff"; then
    pass "cpio -itv lists all $(expected_modes | wc -l) entries with their modes"
else
    fail "cpio -itv listing differs from the source tree"
    head -n 20 "$SCRATCH/modes.diff"
fi
check "cpio -itv shows every entry's mtime (2021-03-04)" \
    test "$(cpio -itv <"$img" 2>/dev/null | grep -cv ' Mar  4  2021 ')" -eq 0
check "cpio -itv shows the symlink targets" \
    grep -q -- 'links/absolute -> /etc/passwd$' <(cpio -itv <"$img" 2>/dev/null)

# ---- GNU cpio extracts the source tree ----
mkdir "$SCRATCH/by-cpio"
(cd "$SCRATCH/by-cpio" && cpio -idm --no-absolute-filenames --quiet <"$img")
check "cpio -idm extracts the same tree" same_tree "$src" "$SCRATCH/by-cpio" file_mtimes_listing

# ---- myst excpio extracts the source tree ----
check "myst excpio extracts the same tree" "$MYST" excpio "$img" "$SCRATCH/by-myst"
check "myst excpio tree matches (diff -r, modes, types, mtimes, targets)" \
    same_tree "$src" "$SCRATCH/by-myst"
check "the fifo is a fifo" test -p "$SCRATCH/by-myst/fifo"
check "the binary file has 1 MiB + 3 bytes" \
    test "$(stat -c %s "$SCRATCH/by-myst/binary")" -eq $((1024 * 1024 + 3))
check_exit1 "excpio refuses a non-empty directory" "$MYST" excpio "$img" "$SCRATCH/by-myst"
check "excpio --force extracts into a non-empty directory" \
    "$MYST" excpio --force "$img" "$SCRATCH/by-myst"
check "tree after --force matches" same_tree "$src" "$SCRATCH/by-myst"

# ---- myst excpio reads what GNU cpio writes ----
# "./"-prefixed names, hard links (the data comes with the last link), the
# 070702 format with checksums, and padding after the trailer.
(cd "$src" && find . | cpio -o -H newc --quiet) >"$SCRATCH/gnu.cpio"
check "myst excpio extracts a GNU cpio newc archive" \
    "$MYST" excpio "$SCRATCH/gnu.cpio" "$SCRATCH/from-gnu"
check "the GNU archive's tree matches" same_tree "$src" "$SCRATCH/from-gnu"
check "hard links stay hard links" test "$(stat -c %i "$SCRATCH/from-gnu/page")" = \
    "$(stat -c %i "$SCRATCH/from-gnu/page.hardlink")"
(cd "$src" && find . | cpio -o -H crc --quiet) >"$SCRATCH/gnu-crc.cpio"
check "myst excpio extracts a GNU cpio crc (070702) archive" \
    "$MYST" excpio "$SCRATCH/gnu-crc.cpio" "$SCRATCH/from-gnu-crc"
check "the crc archive's tree matches" same_tree "$src" "$SCRATCH/from-gnu-crc"
mkdir -p "$SCRATCH/crc-src"
printf 'a%.0s' $(seq 1000) >"$SCRATCH/crc-src/file"
(cd "$SCRATCH/crc-src" && find . | cpio -o -H crc --quiet) >"$SCRATCH/damaged-crc.cpio"
python3 -c 'import sys; p = sys.argv[1]; b = open(p, "rb").read()
open(p, "wb").write(b.replace(b"aaaa", b"aaab", 1))' "$SCRATCH/damaged-crc.cpio"
check_exit1 "excpio detects damaged data in a crc archive" \
    "$MYST" excpio "$SCRATCH/damaged-crc.cpio" "$SCRATCH/out-damaged-crc"
check "the error says checksum" grep -q "checksum" "$SCRATCH/stderr"

# ---- reproducible; an existing archive is replaced, as Mystikos's mkcpio does ----
"$MYST" mkcpio "$src" "$SCRATCH/again.cpio"
check "mkcpio twice gives identical bytes" cmp "$img" "$SCRATCH/again.cpio"
cp "$img" "$SCRATCH/app.cpio.before"
echo "stale" >"$SCRATCH/existing.cpio"
check "mkcpio overwrites an existing output" "$MYST" mkcpio "$src" "$SCRATCH/existing.cpio"
check "the overwritten output is the archive" cmp "$img" "$SCRATCH/existing.cpio"
echo "stale" >"$SCRATCH/existing.cpio"
check "mkcpio --force is accepted and overwrites" "$MYST" mkcpio --force "$src" "$SCRATCH/existing.cpio"
check "the forced output is the archive" cmp "$img" "$SCRATCH/existing.cpio"
echo "stale" >"$SCRATCH/existing.cpio"
check_exit1 "mkcpio of a missing appdir fails" "$MYST" mkcpio "$SCRATCH/no-such-appdir" "$SCRATCH/existing.cpio"
check "a failed mkcpio keeps the existing output" test "$(cat "$SCRATCH/existing.cpio")" = stale

# ---- bad input: one error line, exit 1, no output ----
no_output() { [ ! -e "$1" ] && ! ls "$(dirname "$1")" | grep -q partial; }
check_exit1 "missing appdir fails" "$MYST" mkcpio "$SCRATCH/no-such-dir" "$SCRATCH/missing.cpio"
check "missing appdir leaves no output" no_output "$SCRATCH/missing.cpio"
check "the error names the directory" grep -q "^myst mkcpio: $SCRATCH/no-such-dir: " \
    "$SCRATCH/stderr"
check_exit1 "appdir that is a file fails" "$MYST" mkcpio "$src/page" "$SCRATCH/file.cpio"
check "appdir that is a file leaves no output" no_output "$SCRATCH/file.cpio"

# An unreadable file: root reads everything, so as root the check runs as
# user nobody (through setpriv); without setpriv it is skipped with a note.
perm=$SCRATCH/perm
mkdir -p "$perm/tree/sub" "$perm/out"
echo "secret" >"$perm/tree/sub/locked"
chmod 000 "$perm/tree/sub/locked"
chmod 0777 "$perm/out"
runner=()
if [ "$(id -u)" -eq 0 ]; then
    if command -v setpriv >/dev/null &&
        setpriv --reuid=65534 --regid=65534 --clear-groups "$MYST" --version >/dev/null 2>&1; then
        runner=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    else
        runner=(skip)
    fi
fi
if [ "${runner[0]:-}" = skip ]; then
    echo "NOTE: running as root without setpriv: the unreadable-file check is skipped"
else
    check_exit1 "unreadable file fails" ${runner[@]+"${runner[@]}"} "$MYST" mkcpio \
        "$perm/tree" "$perm/out/locked.cpio"
    check "the error names the unreadable file" \
        grep -q "^myst mkcpio: $perm/tree/sub/locked: Permission denied" "$SCRATCH/stderr"
    check "unreadable file leaves no output" no_output "$perm/out/locked.cpio"
fi

# ---- corrupt archives ----
size=$(stat -c %s "$img")
head -c $((size / 2)) "$img" >"$SCRATCH/truncated.cpio"
check_exit1 "excpio of a truncated archive fails" \
    "$MYST" excpio "$SCRATCH/truncated.cpio" "$SCRATCH/out-truncated"
check "the error says corrupt" grep -q "corrupt cpio archive at offset" "$SCRATCH/stderr"
check "nothing extracted from the truncated archive" test ! -e "$SCRATCH/out-truncated"
cp "$img" "$SCRATCH/badmagic.cpio"
printf 'XXXXXX' | dd of="$SCRATCH/badmagic.cpio" bs=1 seek=0 conv=notrunc status=none
check_exit1 "excpio of an archive with a bad magic fails" \
    "$MYST" excpio "$SCRATCH/badmagic.cpio" "$SCRATCH/out-badmagic"
check "the error gives offset 0" grep -q "at offset 0: bad magic" "$SCRATCH/stderr"
check_exit1 "excpio of a missing archive fails" \
    "$MYST" excpio "$SCRATCH/no-such.cpio" "$SCRATCH/out-missing"

# ---- hostile archives, written by an independent newc writer ----
# make_archive <file> <name>:<kind>:<payload> ...  (kind: file, dir, link)
make_archive() {
    python3 - "$@" <<'EOF'
import sys
def entry(name, mode, data=b"", ino=0):
    raw = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, 1, 1614834367, len(data), 0, 0, 0, 0, len(raw), 0]
    out = b"070701" + b"".join(b"%08X" % v for v in fields) + raw
    out += b"\0" * (-len(out) % 4)
    return out + data + b"\0" * (-len(data) % 4)
modes = {"file": 0o100644, "dir": 0o40755, "link": 0o120777}
archive = entry(".", 0o40755, ino=1)
for ino, spec in enumerate(sys.argv[2:], start=2):
    name, kind, payload = spec.split(":", 2)
    archive += entry(name, modes[kind], payload.encode(), ino)
archive += entry("TRAILER!!!", 0)
open(sys.argv[1], "wb").write(archive)
EOF
}
victim=$SCRATCH/victim
mkdir -p "$victim"
hostile() {
    local what=$1 escaped=$2
    shift 2
    make_archive "$SCRATCH/hostile.cpio" "$@"
    rm -rf "$victim/inside"
    check_exit1 "excpio rejects $what" "$MYST" excpio "$SCRATCH/hostile.cpio" "$victim/inside"
    check "nothing written outside for $what" test ! -e "$escaped"
}
hostile "a ../evil entry" "$victim/evil" "ok:file:fine" "../evil:file:pwned"
hostile "a nested a/../../evil entry" "$victim/evil" "a:dir:" "a/../../evil:file:pwned"
hostile "an absolute name" "$victim/absolute-evil" "$victim/absolute-evil:file:pwned"
hostile "a path through an absolute symlink" "$victim/escaped" \
    "out:link:$victim" "out/escaped:file:pwned"
hostile "a path through a ../ symlink" "$victim/escaped" "up:link:.." "up/escaped:file:pwned"
check "the ../evil archive wrote nothing at all" test ! -e "$victim/inside/ok"
check "GNU cpio also sees the ../evil entry" \
    grep -qx '../evil' <(make_archive "$SCRATCH/h2.cpio" "../evil:file:x" &&
        cpio -it <"$SCRATCH/h2.cpio" 2>/dev/null)

# A symlink that stays inside the directory may be gone through.
make_archive "$SCRATCH/inside.cpio" "real:dir:" "alias:link:real" "alias/f:file:inside"
check "excpio follows a symlink that stays inside" \
    "$MYST" excpio "$SCRATCH/inside.cpio" "$SCRATCH/out-inside"
check "the file landed in the real directory" \
    test "$(cat "$SCRATCH/out-inside/real/f")" = inside

finish

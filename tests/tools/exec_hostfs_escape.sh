#!/usr/bin/env bash
# The hostfs escape by rename + symlink (hardening issue): a program running
# as uid 1000 renames a directory it holds open and plants a symlink to /etc
# or to a host directory outside the mount at the old name. Nothing may be
# read from, or made in, anything outside the mounted directory; both ways
# the target opens host files are tested (openat2, and the walk for hosts
# without it: MYST_NO_OPENAT2=1).
source "$(dirname "$0")/lib.sh"
APPS=$(dirname "$MYST")/tests/apps/bin
for v in musl-static glibc-static; do
    [ -x "$APPS/hostfs_escape-$v" ] || { echo "FAIL: $APPS/hostfs_escape-$v is not built"; exit 1; }
done
mkdir -p rootfs/bin rootfs/etc
cp "$APPS"/hostfs_escape-musl-static "$APPS"/hostfs_escape-glibc-static rootfs/bin/
"$MYST" mkcpio rootfs root.cpio >/dev/null

# Names, modes, owners and times of a directory and its entries (not "..").
listing() { ls -la --time-style=full-iso "$1" | grep -v ' \.\.$'; }

for mode in openat2 walk; do
    for v in musl-static glibc-static; do
        run=$mode-$v
        rm -rf "$run"
        mkdir -p "$run/host" "$run/outside"
        printf 'host secret\n' >"$run/outside/secret.txt"
        chmod 0666 "$run/outside/secret.txt"
        chmod 0777 "$run/host" "$run/outside"
        touch -d '2001-01-01' "$run/outside/secret.txt"
        listing "$run/outside" >"$run.before"
        env_mode=()
        [ "$mode" = walk ] && env_mode=(env MYST_NO_OPENAT2=1)
        "${env_mode[@]}" "$MYST" exec-linux --mount "$SCRATCH/$run/host=/data" root.cpio \
            "/bin/hostfs_escape-$v" "$SCRATCH/$run/outside" >"$run.out" 2>"$run.err" &&
            status=0 || status=$?
        if [ "$status" -eq 0 ] && ! grep -q '^FAIL' "$run.out" &&
            [ "$(grep -c '^PASS' "$run.out")" -ge 40 ]; then
            pass "$run: every check of the program passed ($(grep -c '^PASS' "$run.out"))"
        else
            fail "$run: hostfs_escape exited $status"
            grep '^FAIL' "$run.out" || true
            cat "$run.err"
        fi
        listing "$run/outside" >"$run.after"
        check "$run: the outside directory is untouched (names, modes, times)" \
            cmp "$run.before" "$run.after"
        check "$run: the outside secret is unchanged" grep -qx 'host secret' "$run/outside/secret.txt"
        check "$run: what the program made is in the renamed directories" \
            test -f "$run/host/d4/renamed" -a -f "$run/host/d4/from-cwd" -a -f "$run/host/d4/sub/deep"
        check "$run: the planted links are links in the mounted directory" \
            test -L "$run/host/d" -a -L "$run/host/d2" -a -L "$run/host/d3"
    done
done
finish

#!/usr/bin/env bash
# myst confines itself once start-up is done (hardening issue, item 4): a
# program that escapes the kernel (tests/apps/confinement_escape.c: the
# always-allowed syscall instruction, or its own dispatch selector set to
# ALLOW) still makes host calls, but cannot read host files outside the
# grants or /etc/shadow, make an AF_UNIX socket, or exec /bin/sh. With
# --no-confine the same escapes read the outside file and run /bin/sh,
# which shows that the escapes are real.
source "$(dirname "$0")/lib.sh"
require nm mkfifo awk
trap '' PIPE  # a myst that died early must not end the script
APPS=$(dirname "$MYST")/tests/apps/bin
VARIANTS=(musl-static glibc-static)
for v in "${VARIANTS[@]}"; do
    [ -x "$APPS/confinement_escape-$v" ] || { echo "FAIL: $APPS/confinement_escape-$v is not built"; exit 1; }
done
mkdir -p rootfs/bin host outside
for v in "${VARIANTS[@]}"; do cp "$APPS/confinement_escape-$v" rootfs/bin/; done
"$MYST" mkcpio rootfs root.cpio >/dev/null
printf 'granted\n' >host/granted.txt
printf 'host secret\n' >outside/secret.txt
trampoline=$(nm "$MYST" | awk '$3 == "myst_sigreturn_trampoline" { print $1 }')
[ -n "$trampoline" ] || { echo "FAIL: no myst_sigreturn_trampoline in $MYST"; exit 1; }

# run <name> <mode> <variant> [myst options...]: runs the escape, handing it
# the addresses once it is ready; sets $status.
run() {
    local name=$1 mode=$2 v=$3
    shift 3
    rm -f "$name.fifo" "$name.marker"
    mkfifo "$name.fifo"
    "$MYST" exec-linux "$@" --mount "$SCRATCH/host=/data" root.cpio \
        "/bin/confinement_escape-$v" "$mode" "$SCRATCH/host/granted.txt" \
        "$SCRATCH/outside/secret.txt" "$SCRATCH/$name.marker" <"$name.fifo" >"$name.out" \
        2>"$name.err" &
    local pid=$!
    exec 3>"$name.fifo"
    for _ in $(seq 300); do
        grep -q '^ready$' "$name.out" 2>/dev/null && break
        sleep 0.1
    done
    # The load base is the start of myst's first mapping (static-pie: the
    # symbol values are offsets from it); the EntryState of the program's
    # first thread is in the [heap] (the main thread's malloc arena).
    local base heap
    base=$(awk -v exe="$MYST" '$6 == exe && $3 == "00000000" { split($1, r, "-"); print r[1]; exit }' \
        "/proc/$pid/maps" 2>/dev/null || true)
    heap=$(awk '$6 == "[heap]" { print $1; exit }' "/proc/$pid/maps" 2>/dev/null || true)
    if [ -n "$base" ] && [ -n "$heap" ]; then
        printf '%x %x %x %d\n' $((0x$base + 0x$trampoline)) $((0x${heap%-*})) $((0x${heap#*-})) \
            "$pid" >&3 || true
    fi
    exec 3>&-
    wait "$pid" && status=0 || status=$?
}

for v in "${VARIANTS[@]}"; do
    name=confined-$v
    run "$name" confined "$v"
    passes=$(grep -c '^PASS' "$name.out" || true)
    if [ "$status" -eq 0 ] && ! grep -q '^FAIL' "$name.out" && [ "$passes" -ge 14 ]; then
        pass "$name: both escapes reach the host and are refused files, sockets and exec ($passes)"
    else
        fail "$name: exited $status with $passes checks passed"
        cat "$name.out" "$name.err"
    fi
    check "$name: no shell ran" test ! -e "$name.marker"
    check "$name: nothing on stderr" test ! -s "$name.err"

    name=unconfined-$v
    run "$name" unconfined "$v" --no-confine
    if [ "$status" -eq 0 ] && ! grep -q '^FAIL' "$name.out" &&
        [ "$(grep -c '^PASS' "$name.out")" -ge 8 ]; then
        pass "$name: without confinement the escapes read the outside file"
    else
        fail "$name: exited $status"
        cat "$name.out" "$name.err"
    fi
    check "$name: without confinement the escape ran /bin/sh" grep -qx escaped "$name.marker"
done
finish

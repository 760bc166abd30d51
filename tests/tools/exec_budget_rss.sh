#!/usr/bin/env bash
# Whatever the program does, myst's host memory stays below --memory-size plus
# a fixed overhead (README "Memory budget"): tests/apps/budget_hog.c takes
# anonymous memory, files on a CPIO root, on an ext2 root and in /tmp,
# directory entries, full pipes, threads, descriptors and mounts, and holds
# them all at once, or mounts one image many times and reads it through
# each; the peak RSS of the myst process is measured by its parent
# (getrusage RUSAGE_CHILDREN).
source "$(dirname "$0")/lib.sh"
require python3
APPS=$(dirname "$MYST")/tests/apps/bin
[ -x "$APPS/budget_hog-musl-static" ] || { echo "FAIL: $APPS/budget_hog-musl-static is not built"; exit 1; }
# The documented bound: what myst itself, the pipe buffers (64 MiB, their
# own limit) and the kernel objects a program can multiply may add.
readonly OVERHEAD_MIB=128
mkdir -p root/bin root/tmp root/data
cp "$APPS/budget_hog-musl-static" root/bin/hog
"$MYST" mkcpio root root.cpio >/dev/null
"$MYST" mkext2 -q --size 256m root root.ext2
# An image the program mounts 24 times: without a shared allowance each
# mount's caches would keep its 32 MiB file (768 MiB in all).
mkdir -p image
head -c $((32 << 20)) /dev/urandom >image/big
"$MYST" mkext2 -q image image.ext2

peak_rss_mib() { # output file, myst arguments...: runs myst, prints its peak RSS in MiB
    local out=$1
    shift
    python3 - "$MYST" "$@" >"$out" 2>"$out.err" <<'PY'
import resource, subprocess, sys
status = subprocess.run(sys.argv[1:], stdout=sys.stdout, timeout=600).returncode
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
print(f"exit {status}, peak RSS {peak} MiB")
PY
}
hog_stays_bounded() { # description, budget MiB, myst arguments...
    local what=$1 budget=$2 name
    shift 2
    name=$(echo "$what" | tr -c 'a-z0-9\n' '_')
    peak_rss_mib "$name.out" exec-linux --memory-size "${budget}m" "$@"
    local result peak
    result=$(tail -1 "$name.out")
    peak=$(sed -n 's/^exit 0, peak RSS \([0-9]*\) MiB$/\1/p' <<<"$result")
    if grep -qx 'holding everything: done' "$name.out" && [ -n "$peak" ] &&
        [ "$peak" -le $((budget + OVERHEAD_MIB)) ]; then
        pass "$what: $result, within ${budget} + ${OVERHEAD_MIB} MiB"
    else
        fail "$what: ${result:-no result} (bound ${budget} + ${OVERHEAD_MIB} MiB)"
        cat "$name.out" "$name.out.err"
    fi
    sed 's/^/    /' "$name.out"
}

hog_stays_bounded "anonymous memory first, CPIO root" 64 root.cpio /bin/hog anonymous /tmp /
hog_stays_bounded "files in /tmp and the CPIO root" 64 root.cpio /bin/hog files /tmp / /dev/shm
hog_stays_bounded "files on an ext2 root larger than the budget" 64 root.ext2 /bin/hog files /data /tmp
hog_stays_bounded "threads, pipes, descriptors and mounts" 64 root.cpio /bin/hog objects
hog_stays_bounded "one image mounted and read 24 times" 64 \
    --allow-mount-source "$PWD/image.ext2" root.cpio /bin/hog images "$PWD/image.ext2" 24
check "each way, the budget's files stopped with ENOSPC" \
    grep -q 'file in /data: [0-9]* MiB, stopped by No space left on device' \
    files_on_an_ext2_root_larger_than_the_budget.out
check "the stacked mounts stopped at the limit with ENOSPC" \
    grep -q 'stacked tmpfs mounts: [0-9]* made, stopped by No space left on device' \
    threads__pipes__descriptors_and_mounts.out
finish

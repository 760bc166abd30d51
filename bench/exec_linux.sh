#!/usr/bin/env bash
# myst exec-linux against native runs of the same programs, in one run:
#   1. wall time of hello (glibc static-pie and dynamic) under myst vs native;
#   2. ns per getppid() in a loop, through each syscall entry the host has
#      (FSGSBASE where the CPU offers it; the arch_prctl entry always);
#   3. ns per 4 KiB pread() of a file (ramfs from a CPIO image under myst,
#      the host's page cache natively).
# usage: bench/exec_linux.sh      (needs hyperfine, gcc; build/myst built)
set -euo pipefail
cd "$(dirname "$0")/.."
MYST=$(readlink -f "${MYST:-build/myst}")
OUT=bench/out/exec_linux
rm -rf "$OUT" && mkdir -p "$OUT/rootfs/bin" "$OUT/rootfs/data"
gcc -O2 -static-pie -fPIE -o "$OUT/rootfs/bin/hello-static" bench/apps/hello.c
gcc -O2 -fPIE -pie -o "$OUT/rootfs/bin/hello" bench/apps/hello.c
gcc -O2 -static-pie -fPIE -o "$OUT/rootfs/bin/syscall_cost" bench/apps/syscall_cost.c
for lib in $(ldd "$OUT/rootfs/bin/hello" | grep -o '/[^ ]*'); do
    mkdir -p "$OUT/rootfs$(dirname "$lib")"
    cp -L "$lib" "$OUT/rootfs$lib"
done
head -c $((1024 * 1024)) /dev/urandom >"$OUT/rootfs/data/file"
"$MYST" mkcpio "$OUT/rootfs" "$OUT/rootfs.cpio"
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.1f}x')" "$1" "$2"; }

for program in hello-static hello; do
    hyperfine --style basic -N --warmup 20 --runs 200 --export-json "$OUT/$program.json" \
        -n native "$OUT/rootfs/bin/$program" \
        -n myst "$MYST exec-linux $OUT/rootfs.cpio /bin/$program" >/dev/null
    python3 - "$OUT/$program.json" "$program" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
n, m = r["native"]["mean"] * 1e3, r["myst"]["mean"] * 1e3
print(f"{sys.argv[2]:>13} wall time: myst {m:.2f} ms, native {n:.2f} ms, ratio {m / n:.1f}x (mean of 200)")
PY
done

native=$("$OUT/rootfs/bin/syscall_cost" getppid 1000000)
portable=$(MYST_NO_FSGSBASE=1 "$MYST" exec-linux "$OUT/rootfs.cpio" /bin/syscall_cost getppid 1000000)
if grep -qw fsgsbase /proc/cpuinfo; then
    fast=$(MYST_NO_FSGSBASE=0 "$MYST" exec-linux "$OUT/rootfs.cpio" /bin/syscall_cost getppid 1000000)
    echo "getppid(), FSGSBASE entry: myst $fast ns, native $native ns, ratio $(ratio "$fast" "$native")"
    echo "getppid(), arch_prctl entry: myst $portable ns, native $native ns, ratio $(ratio "$portable" "$native"), $(ratio "$portable" "$fast") of the FSGSBASE entry"
else
    echo "getppid(), arch_prctl entry (this CPU has no FSGSBASE): myst $portable ns, native $native ns, ratio $(ratio "$portable" "$native")"
fi
native=$("$OUT/rootfs/bin/syscall_cost" read4k "$OUT/rootfs/data/file" 200000)
myst=$("$MYST" exec-linux "$OUT/rootfs.cpio" /bin/syscall_cost read4k /data/file 200000)
echo "4 KiB pread(): myst $myst ns, native $native ns, ratio $(ratio "$myst" "$native")"

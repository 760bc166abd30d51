#!/usr/bin/env bash
# What myst's self-confinement (seccomp + Landlock, doc/confinement.md) costs,
# in one run: myst confined (the default) beside myst --no-confine and native
#   1. ns per getppid() in a loop: the trap path (SIGSYS, kernel, sigreturn
#      through the filter), for each syscall entry the CPU allows;
#   2. wall time of hello (glibc static-pie): start-up plus installing the
#      filter and the Landlock ruleset.
# The issue's bound: the trap path no more than 5% slower with the filter.
# usage: bench/confinement.sh    (needs hyperfine, gcc; build/myst built;
#                                 RUNS=n for the getppid medians, default 9)
set -euo pipefail
cd "$(dirname "$0")/.."
MYST=$(readlink -f "${MYST:-build/myst}")
RUNS=${RUNS:-9}
OUT=bench/out/confinement
rm -rf "$OUT" && mkdir -p "$OUT/rootfs/bin"
gcc -O2 -static-pie -fPIE -o "$OUT/rootfs/bin/hello" bench/apps/hello.c
gcc -O2 -static-pie -fPIE -o "$OUT/rootfs/bin/syscall_cost" bench/apps/syscall_cost.c
"$MYST" mkcpio "$OUT/rootfs" "$OUT/rootfs.cpio" >/dev/null
percent() { python3 -c "import sys; print(f'{(float(sys.argv[1]) / float(sys.argv[2]) - 1) * 100:+.1f}%')" "$1" "$2"; }
# median <command...>: the median of RUNS runs, alternating nothing else.
median() {
    for _ in $(seq "$RUNS"); do "$@"; done | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'
}
entries=("MYST_NO_FSGSBASE=1:arch_prctl entry")
if grep -qw fsgsbase /proc/cpuinfo; then
    entries=("MYST_NO_FSGSBASE=0:FSGSBASE entry" "${entries[@]}")
else
    echo "(this CPU has no FSGSBASE: myst runs on the arch_prctl entry only)"
fi

native=$(median "$OUT/rootfs/bin/syscall_cost" getppid 1000000)
for entry in "${entries[@]}"; do
    setting=${entry%%:*}
    # Interleaved, so that a busy machine slows both alike.
    for _ in $(seq "$RUNS"); do
        env "$setting" "$MYST" exec-linux "$OUT/rootfs.cpio" /bin/syscall_cost getppid 1000000 >>"$OUT/confined"
        env "$setting" "$MYST" exec-linux --no-confine "$OUT/rootfs.cpio" /bin/syscall_cost getppid \
            1000000 >>"$OUT/unconfined"
    done
    confined=$(sort -g "$OUT/confined" | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
    unconfined=$(sort -g "$OUT/unconfined" | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
    rm -f "$OUT/confined" "$OUT/unconfined"
    echo "getppid(), ${entry#*:}: confined $confined ns, --no-confine $unconfined ns" \
        "($(percent "$confined" "$unconfined")), native $native ns (median of $RUNS)"
done

hyperfine --style basic -N --warmup 20 --runs 200 --export-json "$OUT/hello.json" \
    -n native "$OUT/rootfs/bin/hello" \
    -n unconfined "$MYST exec-linux --no-confine $OUT/rootfs.cpio /bin/hello" \
    -n confined "$MYST exec-linux $OUT/rootfs.cpio /bin/hello" >/dev/null
python3 - "$OUT/hello.json" <<'PY'
import json, sys
r = {x["command"]: x["mean"] * 1e3 for x in json.load(open(sys.argv[1]))["results"]}
c, u, n = r["confined"], r["unconfined"], r["native"]
print(f"hello static-pie wall time: confined {c:.2f} ms, --no-confine {u:.2f} ms "
      f"({(c / u - 1) * 100:+.1f}%), native {n:.2f} ms (mean of 200)")
PY

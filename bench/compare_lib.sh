# Shared by the benchmarks that run one program (bench/apps/<PROGRAM>.c,
# built into $OUT/rootfs/bin) natively and under myst exec-linux in the
# same run: the CPIO image, medians, ratios, and one line per figure for
# each syscall entry the CPU allows. Set PROGRAM, then source this file
# from the repository root (MYST and RUNS may come from the environment).
set -euo pipefail
MYST=$(readlink -f "${MYST:-build/myst}")
RUNS=${RUNS:-5}
OUT=bench/out/$PROGRAM
rm -rf "$OUT" && mkdir -p "$OUT/rootfs/bin"
gcc -O2 -Wall -static-pie -fPIE -o "$OUT/rootfs/bin/$PROGRAM" "bench/apps/$PROGRAM.c"
"$MYST" mkcpio "$OUT/rootfs" "$OUT/rootfs.cpio"

# median <command...>: runs the command RUNS times, prints the median figure.
median() {
    for _ in $(seq "$RUNS"); do "$@"; done | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'
}
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.1f}x')" "$1" "$2"; }
native() { "$OUT/rootfs/bin/$PROGRAM" "$@"; }
entries=("MYST_NO_FSGSBASE=1:arch_prctl entry")
if grep -qw fsgsbase /proc/cpuinfo; then
    entries=("MYST_NO_FSGSBASE=0:FSGSBASE entry" "${entries[@]}")
else
    echo "(this CPU has no FSGSBASE: myst runs on the arch_prctl entry only)"
fi

# what, unit, higher-is-better?, arguments
report() {
    local what=$1 unit=$2 higher=$3
    shift 3
    local n m setting
    n=$(median native "$@")
    for entry in "${entries[@]}"; do
        setting=${entry%%:*}
        m=$(median env "$setting" "$MYST" exec-linux "$OUT/rootfs.cpio" /bin/$PROGRAM "$@")
        if [ "$higher" = yes ]; then
            echo "$what, ${entry#*:}: myst $m $unit, native $n $unit, native/myst $(ratio "$n" "$m")"
        else
            echo "$what, ${entry#*:}: myst $m $unit, native $n $unit, ratio $(ratio "$m" "$n")"
        fi
    done
}

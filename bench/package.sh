#!/usr/bin/env bash
# Start-up of a packaged program (myst package) against the same program
# under myst exec-linux and natively, in one run: wall time of hello
# (glibc static-pie) from start to exit. The package checks its signature
# and hashes its runtime, config and CPIO root before it runs, so the
# difference to exec-linux is the price of that check.
# usage: bench/package.sh      (hyperfine if installed, else a timing loop; build/myst built)
set -euo pipefail
cd "$(dirname "$0")/.."
MYST=$(readlink -f "${MYST:-build/myst}")
OUT=bench/out/package
RUNS=${RUNS:-200}
rm -rf "$OUT" && mkdir -p "$OUT/appdir/bin"
gcc -O2 -static-pie -fPIE -o "$OUT/appdir/bin/hello" bench/apps/hello.c
printf '{"ApplicationPath": "/bin/hello", "ProductID": 1, "SecurityVersion": 1}\n' >"$OUT/config.json"
openssl genrsa -out "$OUT/private.pem" -3 3072 2>/dev/null
"$MYST" mkcpio "$OUT/appdir" "$OUT/rootfs.cpio"
"$MYST" package "$OUT/rootfs.cpio" "$OUT/private.pem" "$OUT/config.json" -o "$OUT/hello-package"
echo "package: $(stat -c %s "$OUT/hello-package") bytes (runtime $(stat -c %s "$MYST"), rootfs $(stat -c %s "$OUT/rootfs.cpio"))"

native="$OUT/appdir/bin/hello"
exec_linux="$MYST exec-linux --app-config-path $OUT/config.json $OUT/rootfs.cpio"
packaged="$OUT/hello-package"
if command -v hyperfine >/dev/null; then
    hyperfine --style basic -N --warmup 20 --runs "$RUNS" --export-json "$OUT/startup.json" \
        -n native "$native" -n exec-linux "$exec_linux" -n package "$packaged" >/dev/null
    means=$(python3 -c 'import json, sys
r = {x["command"]: x["mean"] * 1e3 for x in json.load(open(sys.argv[1]))["results"]}
print(r["native"], r["exec-linux"], r["package"])' "$OUT/startup.json")
    how="hyperfine, mean of $RUNS"
else
    mean_ms() {  # mean wall time of $RUNS runs of a command, in ms
        local start end
        start=$(date +%s%N)
        for _ in $(seq "$RUNS"); do $1 >/dev/null; done
        end=$(date +%s%N)
        python3 -c "import sys; print((int(sys.argv[2]) - int(sys.argv[1])) / 1e6 / int(sys.argv[3]))" "$start" "$end" "$RUNS"
    }
    means="$(mean_ms "$native") $(mean_ms "$exec_linux") $(mean_ms "$packaged")"
    how="timing loop, mean of $RUNS"
fi
python3 - $means "$how" <<'PY'
import sys
n, e, p = (float(x) for x in sys.argv[1:4])
print(f"hello start-up ({sys.argv[4]}): native {n:.2f} ms, exec-linux {e:.2f} ms, package {p:.2f} ms")
print(f"ratios: package/exec-linux {p / e:.2f}x, package/native {p / n:.1f}x, exec-linux/native {e / n:.1f}x")
PY

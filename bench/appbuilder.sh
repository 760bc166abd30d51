#!/usr/bin/env bash
# myst appbuilder on a larger image against plain `tar -x` of its layers, in
# one run: the image (written here, nothing downloaded) has two gzip layers
# made of the host's /usr/lib/x86_64-linux-gnu and /usr/share (about
# ${SIZE_MB:-150} MB uncompressed in all), as an OCI layout. appbuilder
# decompresses, hashes every blob and the uncompressed layers, applies them
# and writes an appdir; `tar -xzf` of the two layers only decompresses and
# writes (no digests, no whiteouts, no checks of names); `umoci unpack`
# (Debian) does what appbuilder does and also writes a runtime spec.
# usage: bench/appbuilder.sh      (build/myst built; RUNS=3, SIZE_MB=150 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
MYST=$(readlink -f "${MYST:-build/myst}")
OUT=bench/out/appbuilder
RUNS=${RUNS:-3}
SIZE_MB=${SIZE_MB:-150}
rm -rf "$OUT" && mkdir -p "$OUT/lower" "$OUT/upper"
# Fill two layer directories with host files up to SIZE_MB in all.
python3 - "$OUT" "$SIZE_MB" <<'EOF2'
import os, shutil, sys
out, limit = sys.argv[1], int(sys.argv[2]) << 20
total = 0
for src, dst in (("/usr/lib/x86_64-linux-gnu", "lower"), ("/usr/share", "upper")):
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            if os.path.islink(path) or not os.path.isfile(path) or total >= limit * (1 if dst == "upper" else 0.6):
                continue
            target = os.path.join(out, dst, os.path.relpath(path, "/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(path, target)
            total += os.path.getsize(path)
print(f"layers: {total >> 20} MiB of files")
EOF2
mkdir -p "$OUT/lower/bin" && cp "$(command -v busybox)" "$OUT/lower/bin/app"
python3 tests/tools/oci_image.py layer-dir "$OUT/lower" "$OUT/lower.tar.gz" --gzip
python3 tests/tools/oci_image.py layer-dir "$OUT/upper" "$OUT/upper.tar.gz" --gzip
echo '{"Cmd": ["/bin/app"]}' >"$OUT/config.in"
python3 tests/tools/oci_image.py oci "$OUT/image" "$OUT/config.in" "$OUT/lower.tar.gz" "$OUT/upper.tar.gz"
echo "image: $(du -sm "$OUT/image" | cut -f1) MiB compressed"

# Best wall time and best CPU time (user + sys, children included) of $RUNS
# runs each, in seconds: CPU time is the steadier figure on a busy machine.
measure() {
    python3 - "$OUT" "$RUNS" "$@" <<'EOF2'
import os, resource, shutil, subprocess, sys, time
out, runs, command = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
walls, cpus = [], []
for _ in range(runs):
    shutil.rmtree(out + "/x", ignore_errors=True)
    os.makedirs(out + "/x")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    walls.append(time.monotonic() - start)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
print(f"{min(walls):.3f} {min(cpus):.3f}")
EOF2
}
read -r a_wall a_cpu < <(measure "$MYST" appbuilder -q -i "$OUT/image" -o "$OUT/x/appdir" -c "$OUT/x/config.json")
read -r t_wall t_cpu < <(measure bash -c "tar -C '$OUT/x' -xzf '$OUT/lower.tar.gz' && tar -C '$OUT/x' -xzf '$OUT/upper.tar.gz'")
echo "appbuilder:          wall ${a_wall} s, cpu ${a_cpu} s"
echo "tar -xzf (2 layers): wall ${t_wall} s, cpu ${t_cpu} s"
python3 -c "import sys; a, b, c, d = map(float, sys.argv[1:]); print(f'ratio appbuilder / tar: wall {a / c:.2f}x, cpu {b / d:.2f}x')" "$a_wall" "$a_cpu" "$t_wall" "$t_cpu"
if command -v umoci >/dev/null; then
    read -r u_wall u_cpu < <(measure umoci unpack --image "$OUT/image:latest" "$OUT/x/bundle")
    echo "umoci unpack:        wall ${u_wall} s, cpu ${u_cpu} s"
    python3 -c "import sys; a, b, c, d = map(float, sys.argv[1:]); print(f'ratio appbuilder / umoci: wall {a / c:.2f}x, cpu {b / d:.2f}x')" "$a_wall" "$a_cpu" "$u_wall" "$u_cpu"
fi

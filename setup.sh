#!/usr/bin/env bash
# Installs what myst needs on Debian 12 (build tools, libraries, and the Linux
# tools the tests use as independent checkers), then configures and builds.
set -euo pipefail
cd "$(dirname "$0")"

packages=(
    # build
    cmake ninja-build g++ pkg-config binutils
    libssl-dev nlohmann-json3-dev libcli11-dev libgtest-dev zlib1g-dev
    # fuzz targets (fuzz/): clang with libFuzzer and the sanitizer runtimes
    clang libclang-rt-14-dev
    # test checkers and test-program compilers
    e2fsprogs cryptsetup-bin cpio openssl python3 python3-cryptography xxd mount util-linux
    musl-tools busybox-static skopeo umoci
    # benchmarks
    hyperfine mmdebstrap
)
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
if [ -z "${MYST_SKIP_APT:-}" ]; then
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${packages[@]}"
fi

# The native runs of tests/apps/names.c resolve "localhost" through the
# host's /etc/hosts, as every Debian installation has it; a bare chroot or
# container may lack the line.
if ! grep -qsE '^127\.0\.0\.1[[:space:]](.*[[:space:]])?localhost([[:space:]]|$)' /etc/hosts; then
    echo "setup.sh: adding '127.0.0.1 localhost' to /etc/hosts (the name tests resolve it natively)"
    printf '127.0.0.1\tlocalhost\n' | $SUDO tee -a /etc/hosts >/dev/null
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
echo "setup.sh: built build/myst"

# Shared helpers for the tool tests: sourced, not run (CTest runs *.sh files
# other than this one). Each test gets $MYST and a fresh scratch directory.
set -euo pipefail
MYST=$(readlink -f "$1")
SCRATCH=$2
rm -rf "$SCRATCH"
mkdir -p "$SCRATCH"
cd "$SCRATCH"
failures=0

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# check "description" command...: passes when the command exits 0.
check() {
    local what=$1
    shift
    if "$@" >check.out 2>&1; then pass "$what"; else fail "$what"; cat check.out; fi
}
# check_fails "description" "expected message part" command...: the command
# must exit non-zero with a one-line error containing the expected text.
check_fails() {
    local what=$1 expected=$2
    shift 2
    if "$@" >check.out 2>&1; then
        fail "$what (exit 0)"
    elif ! grep -q -- "$expected" check.out; then
        fail "$what (message lacks '$expected')"
        cat check.out
    elif [ "$(wc -l <check.out)" -ne 1 ]; then
        fail "$what (error is not one line)"
        cat check.out
    else
        pass "$what"
    fi
}
require() {
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { echo "FAIL: required tool '$tool' is missing (run ./setup.sh)"; exit 1; }
    done
}
finish() {
    if [ "$failures" -ne 0 ]; then
        echo "$failures check(s) failed"
        exit 1
    fi
    echo "all checks passed"
}
# A tree with the cases images must keep: nested dirs, empty and binary files,
# a file of exactly one block, odd names, symlinks, modes, a big directory.
make_test_tree() {
    local d=$1
    mkdir -p "$d/bin" "$d/etc/deep/a/b/c/d/e/f" "$d/many" "$d/empty-dir"
    printf 'Hello World!\n' >"$d/etc/motd"
    : >"$d/empty-file"
    head -c $((1024 * 1024 + 3)) /dev/urandom >"$d/bin/binary"
    head -c 4096 /dev/urandom >"$d/exactly-one-block"
    head -c 6000000 /dev/urandom >"$d/large"  # double-indirect blocks
    printf 'spaces\n' >"$d/name with spaces"
    echo deep >"$d/etc/deep/a/b/c/d/e/f/file"
    ln -s ../etc/motd "$d/bin/relative-link"
    ln -s /etc/motd "$d/absolute-link"
    ln -s "$(printf 'x%.0s' $(seq 1 200))" "$d/long-link"
    ln "$d/etc/motd" "$d/hard-link"
    for i in $(seq 1 2000); do : >"$d/many/entry-$i"; done
    chmod 0751 "$d/bin"
    chmod 04755 "$d/bin/binary"
    chmod 01777 "$d/empty-dir"
    truncate -s 10M "$d/sparse"
    printf 'end' >>"$d/sparse"
    touch -h -d '2021-02-03 04:05:06' "$d/etc/motd" "$d/absolute-link"
}

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
# debian_tree <dest>: copies the root tree of Debian 12's python3 and busybox
# (tests/rootfs/debian_python.sh, cached in the build tree beside myst) to
# <dest>; the test fails when the tree cannot be built.
debian_tree() {
    local repo cache
    repo=$(readlink -f "$(dirname "${BASH_SOURCE[0]}")/../..")
    cache=$(dirname "$MYST")/tests/rootfs-cache/python3
    require apt-get dpkg flock
    if ! "$repo/tests/rootfs/debian_python.sh" "$cache" >rootfs.log 2>&1; then
        echo "FAIL: could not build the Debian python3 tree in $cache"
        cat rootfs.log
        exit 1
    fi
    cp -a "$cache/root" "$1"
}
# same_as_native <what> <image> <program> [args...]: runs the program from the
# image under myst exec-linux (5 minutes at most, 1 GiB budget) and passes
# when its stdout equals native.out, which the caller wrote from a native run.
same_as_native() {
    local what=$1 image=$2 start seconds status same
    shift 2
    start=$EPOCHREALTIME
    timeout 300 "$MYST" exec-linux --memory-size 1g "$image" "$@" >myst.out 2>myst.err &&
        status=0 || status=$?
    seconds=$(awk "BEGIN {printf \"%.1f\", $EPOCHREALTIME - $start}")
    diff native.out myst.out >diff.out && same=yes || same=no
    if [ "$status" -eq 0 ] && [ "$same" = yes ]; then
        pass "$what under myst prints what it prints natively ($(wc -l <myst.out) lines, ${seconds} s)"
    else
        fail "$what under myst (exit status $status, 124 is a timeout; output equal: $same)"
        cat diff.out myst.err
    fi
}
# wait_for_text <file> <sed -n expression> <seconds> <pid>: prints what the
# expression prints from the file once it prints something (a server's
# "listening on port N" line); fails when <pid> ends first or time runs out.
wait_for_text() {
    local file=$1 expression=$2 seconds=$3 pid=$4 found deadline
    deadline=$((SECONDS + seconds))
    while [ "$SECONDS" -lt "$deadline" ]; do
        found=$(sed -n "$expression" "$file" 2>/dev/null | head -n1)
        [ -n "$found" ] && { echo "$found"; return 0; }
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.2
    done
    return 1
}
# free_port: a TCP port on 127.0.0.1 that nothing listens on just now, for
# servers that cannot be told to take an ephemeral one and name it.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# stop_server <pid>: ends a server the test started in the background (myst
# dies of SIGTERM with its program) and reaps it.
stop_server() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
# wait_for_port <port> <seconds> <pid>: waits until something accepts
# connections on 127.0.0.1:<port>; fails when <pid> ends first or time runs out.
wait_for_port() {
    local port=$1 seconds=$2 pid=$3 deadline
    deadline=$((SECONDS + seconds))
    while [ "$SECONDS" -lt "$deadline" ]; do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.2
    done
    return 1
}

#!/usr/bin/env bash
# Runs every test program in every variant natively and under
# `myst exec-linux`, and checks that both runs print the same stdout and end
# with the same exit status; then the checks that only make sense under myst:
# busybox from the image, the memory budget, our own pids, exit-status
# propagation, the environment a config lets through, --strace, the hostfs
# form, and clean one-line errors for every bad input.
#
# Usage: exec_apps.sh <path-to-myst> <scratch-dir> [<apps-bin-dir>]
#   apps-bin-dir: where the build put <app>-<variant> (tests/apps/CMakeLists.txt);
#   defaults to $MYST_APPS_DIR, else <dir of myst>/tests/apps/bin.
#   MYST_APPS_NATIVE_ONLY=1 stops after the native half (the programs, the
#   rootfs and the CPIO are checked; myst exec-linux is not run).
#
# The myst command line this expects (Mystikos's):
#   myst exec-linux [--memory-size SIZE] [--app-config-path CONFIG.json] [--strace]
#                   <rootfs.cpio | rootfs-dir> </path/in/image> [args...]
#   - arguments after the program go to the program unchanged, even "--x";
#   - myst's exit status is the program's; death by signal N gives 128+N;
#   - a program missing in the image gives 127; every error is one line on stderr.
#   - with a config, the program's environment is exactly EnvironmentVariables,
#     the host's values of HostEnvironmentVariables, and MYST_TARGET=linux.
#   - myst exec-sgx on a machine without SGX fails with a message naming exec-linux.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
apps_arg=${3:-${MYST_APPS_DIR:-}}
[ -z "$apps_arg" ] || apps_arg=$(realpath "$apps_arg")
# shellcheck source=../tools/lib.sh
source "$here/../tools/lib.sh"
SCRATCH=$(pwd)
APPS=${apps_arg:-$(dirname "$MYST")/tests/apps/bin}
MAKE_ROOTFS=$here/make_rootfs.sh
[ -f "$MAKE_ROOTFS" ] || MAKE_ROOTFS=$here/../apps/make_rootfs.sh
export LC_ALL=C
ulimit -c 0  # abort() must not leave core files

readonly VARIANTS=(glibc glibc-static musl musl-static)
readonly APP_NAMES=(hello exit_status args_env file_io image_only getpid memory_budget mmap_test
    proc_self dev_files misc_syscalls unknown_syscall signals threads credentials hardening_mman
    thread_signals timers processes pipes_poll event_fds process_control syscall_restart
    stdin_wait shared_memory sockets unix_sockets names core_syscalls file_calls file_locks
    sysv_ipc posix_mq signal_spinning fork_turns)
# Programs run without arguments, natively and under myst, same output.
readonly PLAIN_APPS=(proc_self dev_files misc_syscalls unknown_syscall signals threads credentials
    thread_signals timers processes pipes_poll event_fds process_control syscall_restart
    shared_memory sockets unix_sockets names core_syscalls file_calls file_locks sysv_ipc posix_mq
    signal_spinning fork_turns)
readonly MOTD="Welcome to the myst test image."
readonly NATIVE_TIMEOUT=60 MYST_TIMEOUT=120

require readelf cmp diff dd head timeout realpath sort
[ -f /bin/busybox ] || { echo "FAIL: /bin/busybox is missing (install busybox-static)"; exit 1; }

# ---- running and comparing ----

# judge <pass-message> <fail-message> command...: PASS when the command succeeds.
judge() {
    local good=$1 bad=$2
    shift 2
    if "$@"; then pass "$good"; else fail "$bad"; fi
}

# run <name> <timeout> command...: runs with stdin closed; stdout, stderr and
# the exit status go to out/<name>.{out,err,status}.
mkdir -p out native
run() {
    local name=$1 limit=$2 status=0
    shift 2
    # The subshell keeps bash's "Aborted" notice for a signalled child quiet.
    (timeout "$limit" "$@" >"out/$name.out" 2>"out/$name.err" </dev/null; exit $?) 2>/dev/null ||
        status=$?
    echo "$status" >"out/$name.status"
}
status_of() { cat "out/$1.status"; }
show_run() {
    echo "  --- $1: exit status $(status_of "$1"), stdout:"
    sed 's/^/  | /' "out/$1.out" | head -n 40
    echo "  --- stderr:"
    sed 's/^/  | /' "out/$1.err" | head -n 20
}
# same_run <what> <native-run> <myst-run>: equal stdout and exit status.
same_run() {
    local what=$1 a=$2 b=$3
    if [ "$(status_of "$b")" = 124 ]; then
        fail "$what (timed out under myst)"
        show_run "$b"
    elif cmp -s "out/$a.out" "out/$b.out" && [ "$(status_of "$a")" = "$(status_of "$b")" ]; then
        pass "$what"
    else
        fail "$what (native and myst runs differ)"
        show_run "$a"
        show_run "$b"
        diff "out/$a.out" "out/$b.out" | head -n 20 || true
    fi
}
# expect_run <what> <run> <status> <expected-stdout-file>
expect_run() {
    local what=$1 name=$2 status=$3 expected=$4
    if [ "$(status_of "$name")" = "$status" ] && cmp -s "$expected" "out/$name.out"; then
        pass "$what"
    else
        fail "$what (expected exit status $status and:)"
        sed 's/^/  > /' "$expected"
        show_run "$name"
    fi
}
# expect_error <what> <run> <status|any> <text>: a failed run with a one-line
# error naming <text>, and no crash: a status below 128 (not a signal death).
expect_error() {
    local what=$1 name=$2 want=$3 text=$4 status
    status=$(status_of "$name")
    if [ "$status" = 0 ]; then
        fail "$what (exit status 0)"
    elif [ "$want" != any ] && [ "$status" != "$want" ]; then
        fail "$what (exit status $status, expected $want)"
    elif [ "$status" -ge 128 ] || [ "$status" = 124 ]; then
        fail "$what (exit status $status: timed out or crashed)"
    elif ! grep -qF -- "$text" "out/$name.err"; then
        fail "$what (the error does not name '$text')"
    elif [ "$(wc -l <"out/$name.err")" -ne 1 ]; then
        fail "$what (the error is not one line)"
    elif [ -s "out/$name.out" ]; then
        fail "$what (printed to stdout)"
    else
        pass "$what: $(cat "out/$name.err")"
        return
    fi
    show_run "$name"
}

# ---- the built programs ----

missing=0
for app in "${APP_NAMES[@]}"; do
    for variant in "${VARIANTS[@]}"; do
        [ -x "$APPS/$app-$variant" ] || { echo "missing: $APPS/$app-$variant"; missing=1; }
    done
done
if [ "$missing" = 1 ]; then
    fail "test programs are not built (cmake --build <build> --target myst_test_apps)"
    finish
fi
pass "all ${#APP_NAMES[@]} programs are built in ${#VARIANTS[@]} variants"

# Each variant is the kind of ELF its name says: PIE (ET_DYN) everywhere;
# an interpreter exactly for the dynamic ones.
elf_kind() {
    local type interp
    type=$(readelf -hW "$1" | sed -n 's/^ *Type: *\([A-Z]*\).*/\1/p')
    interp=$(readelf -lW "$1" | sed -n 's/.*interpreter: \(.*\)\]/\1/p')
    echo "$type ${interp:-static}"
}
for variant in "${VARIANTS[@]}"; do
    case $variant in
    glibc) want="DYN /lib64/ld-linux-x86-64.so.2" ;;
    musl) want="DYN /lib/ld-musl-x86_64.so.1" ;;
    *) want="DYN static" ;;
    esac
    got=$(elf_kind "$APPS/hello-$variant")
    judge "$variant programs are '$want'" "$variant programs are '$got', expected '$want'" \
        [ "$got" = "$want" ]
done

# ---- the rootfs ----

# Fixtures the loader must refuse: text marked executable, a 32-bit ELF (no
# multilib here: a 64-bit one with e_ident[EI_CLASS] set to ELFCLASS32), and
# an ELF cut off inside its program headers.
mkdir -p fixtures/bin
printf 'this is not an ELF file\n' >fixtures/bin/not-elf
cp "$APPS/hello-glibc-static" fixtures/bin/elf32
printf '\001' | dd of=fixtures/bin/elf32 bs=1 seek=4 conv=notrunc status=none
head -c 200 "$APPS/hello-glibc" >fixtures/bin/truncated
chmod 0755 fixtures/bin/*

programs=()
for app in "${APP_NAMES[@]}"; do
    for variant in "${VARIANTS[@]}"; do programs+=("$APPS/$app-$variant"); done
done
ROOTFS=$SCRATCH/rootfs
check "make_rootfs.sh assembles the rootfs" \
    bash "$MAKE_ROOTFS" --busybox --extra fixtures "$ROOTFS" "${programs[@]}"
[ -d "$ROOTFS/bin" ] || finish
for f in /lib64/ld-linux-x86-64.so.2 /lib/x86_64-linux-gnu/libc.so.6 /lib/ld-musl-x86_64.so.1 \
    /bin/busybox /etc/motd /etc/myst-image-only.txt; do
    judge "rootfs has $f" "rootfs lacks $f (as a real file)" test -f "$ROOTFS$f" -a ! -L "$ROOTFS$f"
done
# The copied loaders run the programs with the copied libraries only.
run rootfs-glibc "$NATIVE_TIMEOUT" "$ROOTFS/lib64/ld-linux-x86-64.so.2" --inhibit-cache \
    --library-path "$ROOTFS/lib/x86_64-linux-gnu" "$ROOTFS/bin/hello-glibc"
run rootfs-musl "$NATIVE_TIMEOUT" "$ROOTFS/lib/ld-musl-x86_64.so.1" "$ROOTFS/bin/hello-musl"
echo "Hello World!" >hello.expected
expect_run "the rootfs's glibc loader and libc run hello-glibc" rootfs-glibc 0 hello.expected
expect_run "the rootfs's musl loader runs hello-musl" rootfs-musl 0 hello.expected

check "myst mkcpio packs the rootfs" "$MYST" mkcpio "$ROOTFS" rootfs.cpio
CPIO=$SCRATCH/rootfs.cpio

# ---- native runs (the expected results) ----

# args_env's environment: what the config below lets through.
native_env=(env -i MYST_TEST_CONFIG_A=alpha "MYST_TEST_CONFIG_B=b=c" MYST_TEST_HOST=from-host)
args=(one "two words" "" --dash-arg -x)
echo "$MOTD" >motd.expected
echo "only-on-the-host" >"$SCRATCH/host-only.txt"

app_path() { echo "$APPS/$1-$v"; }  # uses the caller's $v
native_runs() {
    local v=$1
    run "native.hello-$v" "$NATIVE_TIMEOUT" "$(app_path hello)"
    run "native.exit0-$v" "$NATIVE_TIMEOUT" "$(app_path exit_status)" 0
    run "native.exit42-$v" "$NATIVE_TIMEOUT" "$(app_path exit_status)" 42
    run "native.abort-$v" "$NATIVE_TIMEOUT" "$(app_path exit_status)" signal
    run "native.args_env-$v" "$NATIVE_TIMEOUT" "${native_env[@]}" "$(app_path args_env)" \
        "${args[@]}"
    mkdir -p "native/file_io-$v" "native/mmap-$v" "native/hardening-$v"
    run "native.file_io-$v" "$NATIVE_TIMEOUT" "$(app_path file_io)" "$SCRATCH/native/file_io-$v"
    run "native.image_only-$v" "$NATIVE_TIMEOUT" "$(app_path image_only)" \
        "$ROOTFS/etc/myst-image-only.txt" "$SCRATCH/does-not-exist"
    run "native.getpid-$v" "$NATIVE_TIMEOUT" "$(app_path getpid)"
    run "native.memory_budget-$v" "$NATIVE_TIMEOUT" "$(app_path memory_budget)"
    run "native.mmap_test-$v" "$NATIVE_TIMEOUT" "$(app_path mmap_test)" "$SCRATCH/native/mmap-$v"
    run "native.hardening_mman-$v" "$NATIVE_TIMEOUT" "$(app_path hardening_mman)" \
        "$SCRATCH/native/hardening-$v"
    local app
    for app in "${PLAIN_APPS[@]}"; do
        run "native.$app-$v" "$NATIVE_TIMEOUT" "$(app_path "$app")"
    done
}

for v in "${VARIANTS[@]}"; do
    native_runs "$v"
    expect_run "native hello-$v" "native.hello-$v" 0 hello.expected
    for name in exit0 exit42 abort; do
        want=0
        [ "$name" = exit42 ] && want=42
        [ "$name" = abort ] && want=134
        got=$(status_of "native.$name-$v")
        judge "native exit_status-$v $name: $want" \
            "native exit_status-$v $name: $got, expected $want" [ "$got" = "$want" ]
    done
    for app in args_env file_io image_only memory_budget mmap_test hardening_mman \
        "${PLAIN_APPS[@]}"; do
        name="native.$app-$v"
        if [ "$(status_of "$name")" = 0 ] && ! grep -q '^FAIL' "out/$name.out"; then
            pass "native $app-$v"
        else
            fail "native $app-$v"
            show_run "$name"
        fi
    done
    # getpid's pid_is_small verdict holds under myst only; the rest everywhere.
    if ! grep -q '^FAIL' "out/native.getpid-$v.out" &&
        grep -q '^pid_is_small: ' "out/native.getpid-$v.out"; then
        pass "native getpid-$v (pid checks other than pid_is_small)"
    else
        fail "native getpid-$v"
        show_run "native.getpid-$v"
    fi
done
# The variants agree with each other too (same source, same verdicts).
for app in hello args_env file_io image_only memory_budget mmap_test hardening_mman \
    "${PLAIN_APPS[@]}"; do
    same=1
    for v in "${VARIANTS[@]}"; do
        # argv[0] is the one line that names the variant.
        cmp -s <(grep -v '^argv\[0\] basename: ' "out/native.$app-glibc.out") \
            <(grep -v '^argv\[0\] basename: ' "out/native.$app-$v.out") || same=0
    done
    judge "native $app: all variants print the same" "native $app: variants differ" [ "$same" = 1 ]
done

if [ "${MYST_APPS_NATIVE_ONLY:-0}" = 1 ]; then
    finish
    exit 0
fi

# ---- under myst ----

# (`myst exec-linux --help` alone proves nothing: CLI11 answers --help before
# it notices an unknown subcommand.)
# (Captured first: grep -q exits at the first match, and under pipefail the
# SIGPIPE myst then gets would count as a failure.)
myst_help=$("$MYST" --help 2>/dev/null || true)
if ! grep -qw exec-linux <<<"$myst_help"; then
    fail "myst has no exec-linux command"
    finish
fi

# The config for args_env and busybox env: two variables of its own, one from
# the host, one listed host variable that is not set (must stay absent).
write_config() {
    cat >"$1" <<EOF
{
    "version": "0.1",
    "ApplicationPath": "$2",
    "HostApplicationParameters": true,
    "EnvironmentVariables": ["MYST_TEST_CONFIG_A=alpha", "MYST_TEST_CONFIG_B=b=c"],
    "HostEnvironmentVariables": ["MYST_TEST_HOST", "MYST_TEST_UNSET"]
}
EOF
}
# myst runs with a host environment that has more than the config lets in.
myst_exec=(env -u MYST_TEST_UNSET MYST_TEST_HOST=from-host MYST_TEST_LEAK=leaked
    "$MYST" exec-linux)

for v in "${VARIANTS[@]}"; do
    run "myst.hello-$v" "$MYST_TIMEOUT" "${myst_exec[@]}" "$CPIO" "/bin/hello-$v"
    same_run "myst hello-$v" "native.hello-$v" "myst.hello-$v"

    run "myst.exit0-$v" "$MYST_TIMEOUT" "${myst_exec[@]}" "$CPIO" "/bin/exit_status-$v" 0
    run "myst.exit42-$v" "$MYST_TIMEOUT" "${myst_exec[@]}" "$CPIO" "/bin/exit_status-$v" 42
    run "myst.abort-$v" "$MYST_TIMEOUT" "${myst_exec[@]}" "$CPIO" "/bin/exit_status-$v" signal
    same_run "myst exit_status-$v 0" "native.exit0-$v" "myst.exit0-$v"
    same_run "myst exit_status-$v 42 (exit status 42)" "native.exit42-$v" "myst.exit42-$v"
    same_run "myst exit_status-$v signal (abort: exit status 134)" "native.abort-$v" "myst.abort-$v"

    write_config "args_env-$v.json" "/bin/args_env-$v"
    run "myst.args_env-$v" "$MYST_TIMEOUT" \
        "${myst_exec[@]}" --app-config-path "args_env-$v.json" "$CPIO" "/bin/args_env-$v" \
        "${args[@]}"
    same_run "myst args_env-$v (arguments; exactly the configured environment)" \
        "native.args_env-$v" "myst.args_env-$v"
    # Without a config the arguments arrive just the same.
    run "myst.args_noconfig-$v" "$MYST_TIMEOUT" "${myst_exec[@]}" "$CPIO" "/bin/args_env-$v" \
        "${args[@]}"
    grep -v -e '^env: ' -e '^MYST_TEST_ variables: ' "out/native.args_env-$v.out" \
        >"args-$v.expected"
    grep -v -e '^env: ' -e '^MYST_TEST_ variables: ' "out/myst.args_noconfig-$v.out" \
        >"out/myst.args_only-$v.out" || true
    cp "out/myst.args_noconfig-$v.status" "out/myst.args_only-$v.status"
    cp "out/myst.args_noconfig-$v.err" "out/myst.args_only-$v.err"
    expect_run "myst args_env-$v without a config (arguments)" "myst.args_only-$v" 0 \
        "args-$v.expected"

    run "myst.file_io-$v" "$MYST_TIMEOUT" "${myst_exec[@]}" "$CPIO" "/bin/file_io-$v" /tmp
    same_run "myst file_io-$v" "native.file_io-$v" "myst.file_io-$v"

    run "myst.image_only-$v" "$MYST_TIMEOUT" "${myst_exec[@]}" "$CPIO" "/bin/image_only-$v" \
        /etc/myst-image-only.txt "$SCRATCH/host-only.txt"
    same_run "myst image_only-$v (image files only; host paths are ENOENT)" \
        "native.image_only-$v" "myst.image_only-$v"

    # getpid: the native output with the verdict only myst can give.
    sed 's/^pid_is_small: .*/pid_is_small: yes/' "out/native.getpid-$v.out" >"getpid-$v.expected"
    run "myst.getpid-$v" "$MYST_TIMEOUT" "${myst_exec[@]}" "$CPIO" "/bin/getpid-$v"
    expect_run "myst getpid-$v (the kernel's own small pids)" "myst.getpid-$v" 0 \
        "getpid-$v.expected"

    run "myst.memory_budget-$v" "$MYST_TIMEOUT" "${myst_exec[@]}" "$CPIO" "/bin/memory_budget-$v"
    same_run "myst memory_budget-$v" "native.memory_budget-$v" "myst.memory_budget-$v"
    sed 's/^allocation stopped cleanly$/&\nstopped_below_budget: yes/' \
        "out/native.memory_budget-$v.out" >"budget-$v.expected"
    run "myst.budget64-$v" "$MYST_TIMEOUT" \
        "${myst_exec[@]}" --memory-size 64m "$CPIO" "/bin/memory_budget-$v" 64
    expect_run "myst --memory-size 64m memory_budget-$v stops below 64 MiB" "myst.budget64-$v" 0 \
        "budget-$v.expected"

    # Shared memory (SysV, MAP_SHARED, /dev/shm), the files of /tmp and of
    # the CPIO root, and their directory entries are part of the budget too.
    printf 'PASS: %s\n' "shmget past the memory budget fails with ENOMEM" \
        "anonymous MAP_SHARED past the budget fails with ENOMEM" \
        "/dev/shm stops with ENOSPC within the budget" \
        "a small segment fits after the file is gone" \
        "/tmp stops with ENOSPC within the budget" \
        "a small segment fits after the /tmp file is gone" \
        "the CPIO root stops with ENOSPC within the budget" \
        "a small segment fits after the root's file is gone" \
        "empty files in /tmp stop with ENOSPC within the budget" \
        "empty files in the CPIO root stop with ENOSPC within the budget" \
        "a small segment fits after the files are gone" >shm-budget.expected
    run "myst.shm_budget64-$v" "$MYST_TIMEOUT" \
        "${myst_exec[@]}" --memory-size 64m "$CPIO" "/bin/shared_memory-$v" budget 64
    expect_run "myst --memory-size 64m shared_memory-$v budget" "myst.shm_budget64-$v" 0 \
        shm-budget.expected

    run "myst.mmap_test-$v" "$MYST_TIMEOUT" "${myst_exec[@]}" "$CPIO" "/bin/mmap_test-$v" /tmp
    same_run "myst mmap_test-$v" "native.mmap_test-$v" "myst.mmap_test-$v"

    for app in "${PLAIN_APPS[@]}"; do
        run "myst.$app-$v" "$MYST_TIMEOUT" "${myst_exec[@]}" "$CPIO" "/bin/$app-$v"
        same_run "myst $app-$v" "native.$app-$v" "myst.$app-$v"
    done

    # The other fork modes: the parent waiting in fork until its child execs
    # or exits runs the processes checks alike; none refuses fork.
    run "myst.processes-wait-$v" "$MYST_TIMEOUT" "${myst_exec[@]}" \
        --fork-mode pseudo_wait_for_exit_exec "$CPIO" "/bin/processes-$v"
    same_run "myst processes-$v (ForkMode pseudo_wait_for_exit_exec)" "native.processes-$v" \
        "myst.processes-wait-$v"

    # A thread waiting for a line on the host's stdin (a pipe that stays
    # silent for 5 seconds) leaves the kernel to the others.
    for how in native myst; do
        command=("$(app_path stdin_wait)")
        [ "$how" = myst ] && command=("${myst_exec[@]}" "$CPIO" "/bin/stdin_wait-$v")
        { (sleep 5; echo line) | timeout "$MYST_TIMEOUT" "${command[@]}" >"out/$how.stdin-$v.out" \
            2>"out/$how.stdin-$v.err"; echo "$?" >"out/$how.stdin-$v.status"; } || true
    done
    same_run "myst stdin_wait-$v (a thread blocked on stdin)" "native.stdin-$v" "myst.stdin-$v"

    run "myst.hardening_mman-$v" "$MYST_TIMEOUT" "${myst_exec[@]}" "$CPIO" \
        "/bin/hardening_mman-$v" /tmp
    same_run "myst hardening_mman-$v" "native.hardening_mman-$v" "myst.hardening_mman-$v"

    # A write to a stdout pipe whose reader is gone: EPIPE and SIGPIPE by the
    # program's disposition, as natively (myst itself must not die of it).
    for mode in sigpipe-ignore sigpipe-handler sigpipe-default; do
        for how in native myst; do
            if [ "$how" = native ]; then
                command=("$(app_path hardening_mman)")
            else
                command=("${myst_exec[@]}" "$CPIO" "/bin/hardening_mman-$v")
            fi
            status=0
            statuses=$(
                set +o pipefail
                timeout "$MYST_TIMEOUT" "${command[@]}" "$mode" 2>"out/$how.$mode-$v.err" |
                    head -c1 >/dev/null
                echo "${PIPESTATUS[0]}"
            ) || status=$?
            echo "${statuses:-$status}" >"out/$how.$mode-$v.status"
            : >"out/$how.$mode-$v.out"
        done
        if [ "$(status_of "native.$mode-$v")" = "$(status_of "myst.$mode-$v")" ] &&
            cmp -s "out/native.$mode-$v.err" "out/myst.$mode-$v.err"; then
            pass "myst hardening_mman-$v $mode | head -c1: status $(status_of "myst.$mode-$v")"
        else
            fail "myst hardening_mman-$v $mode | head -c1 (native and myst differ)"
            show_run "native.$mode-$v"
            show_run "myst.$mode-$v"
        fi
    done
done

# busybox: a static, fixed-address (not PIE) program from Debian.
run myst.busybox-ls "$MYST_TIMEOUT" "${myst_exec[@]}" "$CPIO" /bin/busybox ls -l /
if [ "$(status_of myst.busybox-ls)" = 0 ]; then
    listed=1
    for entry in "$ROOTFS"/*; do
        name=$(basename "$entry")
        if ! grep -qE " $name( -> .*)?\$" out/myst.busybox-ls.out; then
            listed=0
            echo "  not listed: $name"
        fi
    done
    if [ "$listed" = 1 ]; then
        pass "myst busybox ls -l / lists the rootfs's entries"
    else
        fail "myst busybox ls -l / does not list the rootfs's entries"
        show_run myst.busybox-ls
    fi
else
    fail "myst busybox ls -l / (exit status $(status_of myst.busybox-ls))"
    show_run myst.busybox-ls
fi
run myst.busybox-cat "$MYST_TIMEOUT" "${myst_exec[@]}" "$CPIO" /bin/busybox cat /etc/motd
expect_run "myst busybox cat /etc/motd" myst.busybox-cat 0 motd.expected
write_config busybox-env.json /bin/busybox
run myst.busybox-env "$MYST_TIMEOUT" "${myst_exec[@]}" --app-config-path busybox-env.json "$CPIO" \
    /bin/busybox env
sort out/myst.busybox-env.out >out/myst.busybox-env-sorted.out
cp out/myst.busybox-env.status out/myst.busybox-env-sorted.status
cp out/myst.busybox-env.err out/myst.busybox-env-sorted.err
printf '%s\n' MYST_TARGET=linux MYST_TEST_CONFIG_A=alpha MYST_TEST_CONFIG_B=b=c \
    MYST_TEST_HOST=from-host | sort >env.expected
expect_run "myst busybox env: exactly the config's variables, the listed host one and MYST_TARGET" \
    myst.busybox-env-sorted 0 env.expected

# The hostfs form: the rootfs is a host directory.
run myst.hostfs-glibc "$MYST_TIMEOUT" "${myst_exec[@]}" "$ROOTFS" /bin/hello-glibc
expect_run "myst exec-linux <rootfs-dir> /bin/hello-glibc" myst.hostfs-glibc 0 hello.expected
run myst.hostfs-musl "$MYST_TIMEOUT" "${myst_exec[@]}" "$ROOTFS" /bin/hello-musl
expect_run "myst exec-linux <rootfs-dir> /bin/hello-musl" myst.hostfs-musl 0 hello.expected

# --strace names the program's system calls on stderr; stdout stays the program's.
run myst.strace "$MYST_TIMEOUT" "${myst_exec[@]}" --strace "$CPIO" /bin/hello-glibc
if [ "$(status_of myst.strace)" = 0 ] && cmp -s hello.expected out/myst.strace.out &&
    grep -qw write out/myst.strace.err && grep -qw exit_group out/myst.strace.err &&
    grep -qw mmap out/myst.strace.err; then
    pass "myst --strace prints write, mmap and exit_group on stderr"
else
    fail "myst --strace"
    show_run myst.strace
fi

# Bad input: one clear line, a non-zero status, no crash.
run myst.nope "$MYST_TIMEOUT" "${myst_exec[@]}" "$CPIO" /bin/nope
expect_error "a program missing in the image" myst.nope 127 /bin/nope
run myst.bad-fork-mode "$MYST_TIMEOUT" "${myst_exec[@]}" --fork-mode sometimes "$CPIO" \
    /bin/hello-glibc
expect_error "an unknown --fork-mode" myst.bad-fork-mode any "unknown ForkMode \"sometimes\""
run myst.no-rootfs "$MYST_TIMEOUT" "${myst_exec[@]}" "$SCRATCH/no-such-rootfs.cpio" /bin/hello-glibc
expect_error "a missing rootfs" myst.no-rootfs any no-such-rootfs.cpio
for bad in not-elf elf32 truncated; do
    run "myst.$bad" "$MYST_TIMEOUT" "${myst_exec[@]}" "$CPIO" "/bin/$bad"
    expect_error "refuses /bin/$bad" "myst.$bad" any "/bin/$bad"
done

printf 'this is not a cpio archive\n' >garbage.cpio
head -c $(($(stat -c %s "$CPIO") / 2)) "$CPIO" >truncated.cpio
cp "$CPIO" badmagic.cpio
printf 'XXXXXX' | dd of=badmagic.cpio bs=1 seek=0 conv=notrunc status=none
for bad in garbage truncated badmagic; do
    run "myst.cpio-$bad" "$MYST_TIMEOUT" "${myst_exec[@]}" "$SCRATCH/$bad.cpio" /bin/hello-glibc
    expect_error "refuses a corrupt CPIO ($bad)" "myst.cpio-$bad" any "$bad.cpio"
done

run myst.exec-sgx "$MYST_TIMEOUT" "$MYST" exec-sgx "$CPIO" /bin/hello-glibc
if [ "$(status_of myst.exec-sgx)" != 0 ] && [ "$(status_of myst.exec-sgx)" -lt 124 ] &&
    grep -q exec-linux out/myst.exec-sgx.err; then
    pass "myst exec-sgx without SGX points to exec-linux: $(head -n1 out/myst.exec-sgx.err)"
else
    fail "myst exec-sgx without SGX"
    show_run myst.exec-sgx
fi

finish

// seccomp for the linux target: after start-up the process may make only the
// host system calls the target (and the C++ runtime under it) makes. The list
// below is the one place that names them.
//
// Denied calls fail with EPERM rather than killing the process: a call myst
// itself needs but the list forgot then shows up as one clear error line
// ("mmap: Operation not permitted") instead of a silent death, and the
// escaped program gains nothing from the errno. Calls from another ABI (the
// i386 `int $0x80` numbers or x32) have no use here at all and end the
// process. SECCOMP_RET_TRAP is never used: its SIGSYS would reach the
// Syscall User Dispatch handler, which owns that signal.
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <initializer_list>

#include "target/linux_confinement.h"

namespace myst {

namespace {

#ifndef PR_SET_SYSCALL_USER_DISPATCH
constexpr unsigned PR_SET_SYSCALL_USER_DISPATCH = 59;
#endif
constexpr unsigned pr_set_vma = 0x53564d41;  // glibc names thread stacks with it (2.39+)
constexpr unsigned x32_syscall_bit = 0x40000000;
constexpr int sys_fchmodat2 = 452;  // Linux 6.6; glibc 2.39's fchmodat uses it

// Host calls any argument of which is fine: they touch only myst's own
// memory, threads and already-open descriptors, or (files) what Landlock
// lets through. Ordered roughly by how often they run.
constexpr int allowed_calls[] = {
    // The entry: the sigreturn that ends every trap, the FS switch without
    // FSGSBASE, and each program thread's signal stack and handlers.
    SYS_rt_sigreturn, SYS_arch_prctl, SYS_sigaltstack, SYS_rt_sigaction, SYS_rt_sigprocmask,
    SYS_restart_syscall,
    // Threads and waiting: host futexes on program memory, the timed and
    // interruptible waits, thread start-up and exit under glibc.
    SYS_futex, SYS_ppoll, SYS_poll, SYS_clock_nanosleep, SYS_nanosleep, SYS_sched_yield,
    SYS_sched_getaffinity, SYS_getcpu, SYS_set_robust_list, SYS_rseq, SYS_set_tid_address,
    SYS_gettid, SYS_getpid, SYS_membarrier, SYS_exit, SYS_exit_group,
    // Memory: the budget's reservation and commits, shared memory (memfd),
    // malloc in myst itself.
    SYS_mmap, SYS_munmap, SYS_mprotect, SYS_madvise, SYS_mincore, SYS_mremap, SYS_brk,
    SYS_memfd_create,
    // Time and randomness (the vDSO serves most time calls without a
    // syscall; its fallbacks land here).
    SYS_clock_gettime, SYS_clock_getres, SYS_gettimeofday, SYS_getrandom,
    // I/O on descriptors myst holds: images, hostfs files, the standard
    // streams, wake eventfds, sockets.
    SYS_read, SYS_write, SYS_pread64, SYS_pwrite64, SYS_readv, SYS_writev, SYS_lseek, SYS_close,
    SYS_fstat, SYS_newfstatat, SYS_statx, SYS_ftruncate, SYS_fsync, SYS_fdatasync, SYS_fcntl,
    SYS_eventfd2,
    // hostfs: opening and changing host files beneath a mount's root; what
    // may be reached is Landlock's business, not this list's.
    SYS_openat, SYS_openat2, SYS_getdents64, SYS_readlink, SYS_readlinkat, SYS_mkdirat,
    SYS_symlinkat, SYS_linkat, SYS_unlinkat, SYS_renameat, SYS_renameat2, SYS_fchmodat,
    sys_fchmodat2, SYS_fchmod, SYS_fchownat, SYS_utimensat, SYS_getcwd,
    // Host sockets (AF_INET and AF_INET6 only: socket() is checked below).
    SYS_bind, SYS_listen, SYS_accept4, SYS_connect, SYS_sendmsg, SYS_recvmsg, SYS_shutdown,
    SYS_getsockname, SYS_getpeername, SYS_getsockopt, SYS_setsockopt};

// Builds the classic BPF program. Every test is a short block that ends in
// returns, so no jump needs to reach further than its own block.
class FilterBuilder {
public:
    void statement(uint16_t code, uint32_t k) { m_code.push_back(BPF_STMT(code, k)); }
    void jump(uint16_t code, uint32_t k, uint8_t if_true, uint8_t if_false) {
        m_code.push_back(BPF_JUMP(code, k, if_true, if_false));
    }
    void load_number() { statement(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)); }
    // The low 32 bits of an argument: every argument checked here is an int
    // (or an unsigned int) to the host kernel, which ignores the high half.
    void load_argument(int index) {
        statement(BPF_LD | BPF_W | BPF_ABS,
                  static_cast<uint32_t>(offsetof(seccomp_data, args) + 8 * index));
    }
    void give(uint32_t action) { statement(BPF_RET | BPF_K, action); }

    // nr == number: allow. Expects the number in A.
    void allow(int number) {
        jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(number), 0, 1);
        give(SECCOMP_RET_ALLOW);
    }
    // nr == number: the action. Expects the number in A.
    void answer(int number, uint32_t action) {
        jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(number), 0, 1);
        give(action);
    }
    // nr == number: allowed when the argument is one of `values`, else EPERM.
    // Expects the number in A; leaves it there when nr differs.
    void allow_when(int number, int argument, std::initializer_list<uint32_t> values) {
        auto count = static_cast<uint8_t>(values.size());
        jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(number), 0,
             static_cast<uint8_t>(count + 3));
        load_argument(argument);
        uint8_t left = count;
        for (uint32_t value : values)
            jump(BPF_JMP | BPF_JEQ | BPF_K, value, left--, 0);
        give(SECCOMP_RET_ERRNO | EPERM);
        give(SECCOMP_RET_ALLOW);
    }
    // nr == number: allowed when every bit of `bits` is set in the argument.
    void allow_with_bits(int number, int argument, uint32_t bits) {
        jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(number), 0, 5);
        load_argument(argument);
        statement(BPF_ALU | BPF_AND | BPF_K, bits);
        jump(BPF_JMP | BPF_JEQ | BPF_K, bits, 1, 0);
        give(SECCOMP_RET_ERRNO | EPERM);
        give(SECCOMP_RET_ALLOW);
    }

    std::vector<struct sock_filter> take() { return std::move(m_code); }

private:
    std::vector<struct sock_filter> m_code;
};

}  // namespace

std::vector<struct sock_filter> host_syscall_filter(pid_t process_id) {
    FilterBuilder filter;
    // Another ABI's numbers mean other calls: only x86-64's are judged.
    filter.statement(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch));
    filter.jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
    filter.give(SECCOMP_RET_KILL_PROCESS);
    filter.load_number();
    filter.jump(BPF_JMP | BPF_JGE | BPF_K, x32_syscall_bit, 0, 1);
    filter.give(SECCOMP_RET_KILL_PROCESS);

    for (int number : allowed_calls)
        filter.allow(number);
    // Threads only (pthread_create): a host process made by fork would be a
    // second copy of myst outside the kernel's control.
    filter.allow_with_bits(SYS_clone, 0, CLONE_THREAD | CLONE_VM);
    // clone3's flags sit in memory the filter cannot read: ENOSYS makes
    // glibc fall back to clone, whose flags it can.
    filter.answer(SYS_clone3, SECCOMP_RET_ERRNO | ENOSYS);
    // Signals only to this process's own threads (the kernel's interrupts).
    filter.allow_when(SYS_tgkill, 0, {static_cast<uint32_t>(process_id)});
    // The only host sockets the target makes (linux_target_sockets.cpp).
    filter.allow_when(SYS_socket, 0, {AF_INET, AF_INET6});
    // The requests the target passes on: terminal size and mode of the
    // standard streams, bytes readable on a socket. Not TIOCSTI (typing into
    // the host's terminal) nor any other.
    filter.allow_when(SYS_ioctl, 1, {TCGETS, TIOCGWINSZ, TIOCGPGRP, FIONREAD});
    // Syscall User Dispatch per program thread; thread names from glibc.
    filter.allow_when(SYS_prctl, 0,
                      {PR_SET_SYSCALL_USER_DISPATCH, PR_SET_NAME, PR_GET_NAME, pr_set_vma});
    // glibc reads its own limits (pid 0); other processes' are not ours.
    filter.allow_when(SYS_prlimit64, 0, {0});
    // Everything else: execve, execveat, fork, ptrace, process_vm_*, kill,
    // mount, open_by_handle_at, bpf, io_uring, unshare, setns, kexec ...
    filter.give(SECCOMP_RET_ERRNO | EPERM);
    return filter.take();
}

Result<void> confine_host_syscalls() {
    std::vector<struct sock_filter> code = host_syscall_filter(::getpid());
    struct sock_fprog program {
        static_cast<unsigned short>(code.size()), code.data()
    };
    // Without CAP_SYS_ADMIN a filter needs no_new_privs; myst never execs,
    // so setting it costs nothing.
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return Error::from_errno(errno, "no_new_privs");
    // SPEC_ALLOW: a filter would otherwise force the host's speculation
    // mitigations (SSBD, STIBP) on myst, which slow all of its code and the
    // program's, to keep secrets of this process from code inside it; but
    // the program already reads myst's memory directly, so they protect
    // nothing here.
    long result = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                            SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_SPEC_ALLOW, &program);
    if (result < 0)
        return Error::from_errno(errno, "seccomp");
    // TSYNC names a thread that could not take the filter (one with a
    // filter of its own): nothing was installed anywhere.
    if (result > 0)
        return Error(EBUSY,
                     "seccomp: host thread " + std::to_string(result) + " cannot take the filter");
    return {};
}

}  // namespace myst

// Process and user identity: pids are the kernel's own numbering; the
// program runs as root inside its image unless it changes its ids.
#include <unistd.h>

#include "kernel/process.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

// Getpid implements Linux syscall getpid(2).
Result<long> sys_getpid(Thread& thread, const SyscallArgs&) {
    return thread.process().pid();
}

// Getppid implements Linux syscall getppid(2).
Result<long> sys_getppid(Thread& thread, const SyscallArgs&) {
    return thread.process().parent_pid();
}

// Gettid implements Linux syscall gettid(2).
Result<long> sys_gettid(Thread& thread, const SyscallArgs&) {
    return thread.tid();
}

// Getpgrp implements Linux syscall getpgrp(2): each process leads its group.
Result<long> sys_getpgrp(Thread& thread, const SyscallArgs&) {
    return thread.process().pid();
}

// Getpgid implements Linux syscall getpgid(2).
Result<long> sys_getpgid(Thread& thread, const SyscallArgs& args) {
    pid_t pid = args.integer(0);
    if (pid != 0 && pid != thread.process().pid())
        return Error(ESRCH, "no such process");
    return thread.process().pid();
}

// Setpgid implements Linux syscall setpgid(2) for the calling process as its own group.
Result<long> sys_setpgid(Thread& thread, const SyscallArgs& args) {
    pid_t pid = args.integer(0), group = args.integer(1);
    pid_t self = thread.process().pid();
    if ((pid != 0 && pid != self) || (group != 0 && group != self))
        return Error(EPERM, "process groups other than the process's own are not supported");
    return 0;
}

// Getsid implements Linux syscall getsid(2).
Result<long> sys_getsid(Thread& thread, const SyscallArgs& args) {
    return sys_getpgid(thread, args);
}

// Setsid implements Linux syscall setsid(2): a group leader cannot start a
// session, which every process here is.
Result<long> sys_setsid(Thread&, const SyscallArgs&) {
    return Error(EPERM, "already a group leader");
}

// Getuid implements Linux syscall getuid(2).
Result<long> sys_getuid(Thread& thread, const SyscallArgs&) {
    return thread.process().credentials().uid;
}

// Geteuid implements Linux syscall geteuid(2).
Result<long> sys_geteuid(Thread& thread, const SyscallArgs&) {
    return thread.process().credentials().euid;
}

// Getgid implements Linux syscall getgid(2).
Result<long> sys_getgid(Thread& thread, const SyscallArgs&) {
    return thread.process().credentials().gid;
}

// Getegid implements Linux syscall getegid(2).
Result<long> sys_getegid(Thread& thread, const SyscallArgs&) {
    return thread.process().credentials().egid;
}

// Getresuid implements Linux syscall getresuid(2).
Result<long> sys_getresuid(Thread& thread, const SyscallArgs& args) {
    const Credentials& c = thread.process().credentials();
    TRY(write_user<uint32_t>(thread, args.address(0), c.uid));
    TRY(write_user<uint32_t>(thread, args.address(1), c.euid));
    TRY(write_user<uint32_t>(thread, args.address(2), c.suid));
    return 0;
}

// Getresgid implements Linux syscall getresgid(2).
Result<long> sys_getresgid(Thread& thread, const SyscallArgs& args) {
    const Credentials& c = thread.process().credentials();
    TRY(write_user<uint32_t>(thread, args.address(0), c.gid));
    TRY(write_user<uint32_t>(thread, args.address(1), c.egid));
    TRY(write_user<uint32_t>(thread, args.address(2), c.sgid));
    return 0;
}

}  // namespace myst::kernel

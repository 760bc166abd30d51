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

// Personality implements Linux syscall personality(2): 0xffffffff only
// queries; any other value (PER_LINUX with flags such as
// ADDR_NO_RANDOMIZE) becomes the process's persona, as on x86-64 Linux,
// which accepts every value. The old persona is returned.
Result<long> sys_personality(Thread& thread, const SyscallArgs& args) {
    uint32_t persona = static_cast<uint32_t>(args.raw[0]);
    uint32_t old = thread.process().personality;
    if (persona != 0xffffffffu)
        thread.process().personality = persona;
    return old;
}

}  // namespace myst::kernel

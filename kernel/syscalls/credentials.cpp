// Changing a process's ids with Linux's permission rules (credentials(7),
// setresuid(2), setreuid(2), setfsuid(2)): a process with effective uid 0
// may set any id; another may only move ids among its real, effective and
// saved ones. The kernel keeps these ids itself; nothing reaches the host.
#include <limits.h>

#include "kernel/process.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

constexpr uint32_t unchanged = static_cast<uint32_t>(-1);

bool privileged(const Credentials& c) {
    return c.euid == 0;
}

// One of the ids a process without privilege may take.
bool one_of(uint32_t id, uint32_t a, uint32_t b, uint32_t c) {
    return id == a || id == b || id == c;
}

// setresuid/setresgid: each of real, effective, saved may be any id with
// privilege, else one of the current three; -1 keeps it.
Result<void> set_three(bool privilege, uint32_t& real, uint32_t& effective, uint32_t& saved,
                       uint32_t& fs, uint32_t new_real, uint32_t new_effective,
                       uint32_t new_saved) {
    for (uint32_t id : {new_real, new_effective, new_saved})
        if (id != unchanged && !privilege && !one_of(id, real, effective, saved))
            return Error(EPERM, "not one of the process's ids");
    if (new_real != unchanged)
        real = new_real;
    if (new_effective != unchanged)
        effective = new_effective;
    if (new_saved != unchanged)
        saved = new_saved;
    fs = effective;
    return {};
}

// setreuid/setregid: the real id may become the effective one (or stay);
// the effective one any of the three; with privilege anything. The saved id
// follows the effective one when the real id is set or the effective one
// moves away from the real id.
Result<void> set_two(bool privilege, uint32_t& real, uint32_t& effective, uint32_t& saved,
                     uint32_t& fs, uint32_t new_real, uint32_t new_effective) {
    if (!privilege) {
        if (new_real != unchanged && new_real != real && new_real != effective)
            return Error(EPERM, "real id may only become the effective id");
        if (new_effective != unchanged && !one_of(new_effective, real, effective, saved))
            return Error(EPERM, "not one of the process's ids");
    }
    uint32_t old_real = real;
    if (new_real != unchanged)
        real = new_real;
    if (new_effective != unchanged)
        effective = new_effective;
    if (new_real != unchanged || (new_effective != unchanged && new_effective != old_real))
        saved = effective;
    fs = effective;
    return {};
}

// setuid/setgid: with privilege all ids; else the effective id may become
// the real or saved one.
Result<void> set_one(bool privilege, uint32_t& real, uint32_t& effective, uint32_t& saved,
                     uint32_t& fs, uint32_t id) {
    if (id == unchanged)
        return Error(EINVAL, "invalid id");
    if (privilege)
        real = saved = id;
    else if (id != real && id != saved)
        return Error(EPERM, "only root may change ids");
    effective = fs = id;
    return {};
}

// setfsuid/setfsgid: always return the old value; the change happens only
// when allowed (one of the four ids, or privilege).
long set_fs(bool privilege, uint32_t real, uint32_t effective, uint32_t saved, uint32_t& fs,
            uint32_t id) {
    uint32_t old = fs;
    if (id != unchanged && (privilege || one_of(id, real, effective, saved) || id == fs))
        fs = id;
    return old;
}

}  // namespace

// Setuid implements Linux syscall setuid(2).
Result<long> sys_setuid(Thread& thread, const SyscallArgs& args) {
    Credentials& c = thread.process().credentials();
    TRY(set_one(privileged(c), c.uid, c.euid, c.suid, c.fsuid, static_cast<uint32_t>(args.raw[0])));
    return 0;
}

// Setgid implements Linux syscall setgid(2).
Result<long> sys_setgid(Thread& thread, const SyscallArgs& args) {
    Credentials& c = thread.process().credentials();
    TRY(set_one(privileged(c), c.gid, c.egid, c.sgid, c.fsgid, static_cast<uint32_t>(args.raw[0])));
    return 0;
}

// Setreuid implements Linux syscall setreuid(2).
Result<long> sys_setreuid(Thread& thread, const SyscallArgs& args) {
    Credentials& c = thread.process().credentials();
    TRY(set_two(privileged(c), c.uid, c.euid, c.suid, c.fsuid, static_cast<uint32_t>(args.raw[0]),
                static_cast<uint32_t>(args.raw[1])));
    return 0;
}

// Setregid implements Linux syscall setregid(2).
Result<long> sys_setregid(Thread& thread, const SyscallArgs& args) {
    Credentials& c = thread.process().credentials();
    TRY(set_two(privileged(c), c.gid, c.egid, c.sgid, c.fsgid, static_cast<uint32_t>(args.raw[0]),
                static_cast<uint32_t>(args.raw[1])));
    return 0;
}

// Setresuid implements Linux syscall setresuid(2).
Result<long> sys_setresuid(Thread& thread, const SyscallArgs& args) {
    Credentials& c = thread.process().credentials();
    TRY(set_three(privileged(c), c.uid, c.euid, c.suid, c.fsuid, static_cast<uint32_t>(args.raw[0]),
                  static_cast<uint32_t>(args.raw[1]), static_cast<uint32_t>(args.raw[2])));
    return 0;
}

// Setresgid implements Linux syscall setresgid(2).
Result<long> sys_setresgid(Thread& thread, const SyscallArgs& args) {
    Credentials& c = thread.process().credentials();
    TRY(set_three(privileged(c), c.gid, c.egid, c.sgid, c.fsgid, static_cast<uint32_t>(args.raw[0]),
                  static_cast<uint32_t>(args.raw[1]), static_cast<uint32_t>(args.raw[2])));
    return 0;
}

// Setfsuid implements Linux syscall setfsuid(2).
Result<long> sys_setfsuid(Thread& thread, const SyscallArgs& args) {
    Credentials& c = thread.process().credentials();
    return set_fs(privileged(c), c.uid, c.euid, c.suid, c.fsuid,
                  static_cast<uint32_t>(args.raw[0]));
}

// Setfsgid implements Linux syscall setfsgid(2).
Result<long> sys_setfsgid(Thread& thread, const SyscallArgs& args) {
    Credentials& c = thread.process().credentials();
    return set_fs(privileged(c), c.gid, c.egid, c.sgid, c.fsgid,
                  static_cast<uint32_t>(args.raw[0]));
}

// Getgroups implements Linux syscall getgroups(2).
Result<long> sys_getgroups(Thread& thread, const SyscallArgs& args) {
    const std::vector<gid_t>& groups = thread.process().credentials().groups;
    int size = args.integer(0);
    if (size < 0)
        return Error(EINVAL, "negative size");
    if (size == 0)
        return static_cast<long>(groups.size());
    if (static_cast<size_t>(size) < groups.size())
        return Error(EINVAL, "list too small");
    if (!groups.empty())
        TRY(copy_to_user(thread, args.address(1), groups.data(), groups.size() * sizeof(gid_t)));
    return static_cast<long>(groups.size());
}

// Setgroups implements Linux syscall setgroups(2) (root only, up to NGROUPS_MAX).
Result<long> sys_setgroups(Thread& thread, const SyscallArgs& args) {
    Credentials& c = thread.process().credentials();
    if (!privileged(c))
        return Error(EPERM, "only root may set groups");
    if (args.size(0) > NGROUPS_MAX)
        return Error(EINVAL, "too many groups");
    std::vector<gid_t> groups(args.size(0));
    if (!groups.empty())
        TRY(copy_from_user(thread, groups.data(), args.address(1), groups.size() * sizeof(gid_t)));
    c.groups = std::move(groups);
    return 0;
}

}  // namespace myst::kernel

// Changing a process's ids with Linux's permission rules (credentials(7),
// setresuid(2), setreuid(2), setfsuid(2)): a process with effective uid 0
// may set any id; another may only move ids among its real, effective and
// saved ones. The kernel keeps these ids itself; nothing reaches the host.
// The privilege is CAP_SETUID/CAP_SETGID (root has them until it gives them
// up), and the capability sets follow the uids (kernel/capabilities.h).
#include <limits.h>
#include <linux/capability.h>

#include "kernel/capabilities.h"
#include "kernel/kernel.h"
#include "kernel/process.h"
#include "kernel/process_table.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

constexpr uint32_t unchanged = static_cast<uint32_t>(-1);

bool may_set_uids(const Credentials& c) {
    return capable(c, CAP_SETUID);
}

bool may_set_gids(const Credentials& c) {
    return capable(c, CAP_SETGID);
}

// Runs a change of the uids, then moves the capabilities as Linux does.
template <typename Change>
Result<long> change_uids(Thread& thread, Change change) {
    Credentials& c = thread.process().credentials();
    const Credentials old = c;
    TRY(change(c));
    fix_capabilities_after_setuid(c, old);
    return 0;
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

// capget/capset's version check: the number of 32-bit words of each set
// the version carries; an unknown version is EINVAL after writing the
// preferred one back (how libcap learns it).
Result<int> capability_words(Thread& thread, uint64_t header) {
    uint32_t version = TRY(read_user<uint32_t>(thread, header));
    switch (version) {
        case _LINUX_CAPABILITY_VERSION_1:
            return _LINUX_CAPABILITY_U32S_1;
        case _LINUX_CAPABILITY_VERSION_2:
        case _LINUX_CAPABILITY_VERSION_3:
            return _LINUX_CAPABILITY_U32S_3;
        default:
            TRY(write_user<uint32_t>(thread, header, _LINUX_CAPABILITY_VERSION_3));
            return Error(EINVAL, "unknown capability version");
    }
}

bool subset(uint64_t set, uint64_t of) {
    return (set & ~of) == 0;
}

}  // namespace

// Setuid implements Linux syscall setuid(2).
Result<long> sys_setuid(Thread& thread, const SyscallArgs& args) {
    return change_uids(thread, [&](Credentials& c) {
        return set_one(may_set_uids(c), c.uid, c.euid, c.suid, c.fsuid,
                       static_cast<uint32_t>(args.raw[0]));
    });
}

// Setgid implements Linux syscall setgid(2).
Result<long> sys_setgid(Thread& thread, const SyscallArgs& args) {
    Credentials& c = thread.process().credentials();
    TRY(set_one(may_set_gids(c), c.gid, c.egid, c.sgid, c.fsgid,
                static_cast<uint32_t>(args.raw[0])));
    return 0;
}

// Setreuid implements Linux syscall setreuid(2).
Result<long> sys_setreuid(Thread& thread, const SyscallArgs& args) {
    return change_uids(thread, [&](Credentials& c) {
        return set_two(may_set_uids(c), c.uid, c.euid, c.suid, c.fsuid,
                       static_cast<uint32_t>(args.raw[0]), static_cast<uint32_t>(args.raw[1]));
    });
}

// Setregid implements Linux syscall setregid(2).
Result<long> sys_setregid(Thread& thread, const SyscallArgs& args) {
    Credentials& c = thread.process().credentials();
    TRY(set_two(may_set_gids(c), c.gid, c.egid, c.sgid, c.fsgid, static_cast<uint32_t>(args.raw[0]),
                static_cast<uint32_t>(args.raw[1])));
    return 0;
}

// Setresuid implements Linux syscall setresuid(2).
Result<long> sys_setresuid(Thread& thread, const SyscallArgs& args) {
    return change_uids(thread, [&](Credentials& c) {
        return set_three(may_set_uids(c), c.uid, c.euid, c.suid, c.fsuid,
                         static_cast<uint32_t>(args.raw[0]), static_cast<uint32_t>(args.raw[1]),
                         static_cast<uint32_t>(args.raw[2]));
    });
}

// Setresgid implements Linux syscall setresgid(2).
Result<long> sys_setresgid(Thread& thread, const SyscallArgs& args) {
    Credentials& c = thread.process().credentials();
    TRY(set_three(may_set_gids(c), c.gid, c.egid, c.sgid, c.fsgid,
                  static_cast<uint32_t>(args.raw[0]), static_cast<uint32_t>(args.raw[1]),
                  static_cast<uint32_t>(args.raw[2])));
    return 0;
}

// Setfsuid implements Linux syscall setfsuid(2).
Result<long> sys_setfsuid(Thread& thread, const SyscallArgs& args) {
    Credentials& c = thread.process().credentials();
    const Credentials old = c;
    long result =
        set_fs(may_set_uids(c), c.uid, c.euid, c.suid, c.fsuid, static_cast<uint32_t>(args.raw[0]));
    fix_capabilities_after_setfsuid(c, old);
    return result;
}

// Setfsgid implements Linux syscall setfsgid(2).
Result<long> sys_setfsgid(Thread& thread, const SyscallArgs& args) {
    Credentials& c = thread.process().credentials();
    return set_fs(may_set_gids(c), c.gid, c.egid, c.sgid, c.fsgid,
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
    if (!may_set_gids(c))
        return Error(EPERM, "only root may set groups");
    if (args.size(0) > NGROUPS_MAX)
        return Error(EINVAL, "too many groups");
    std::vector<gid_t> groups(args.size(0));
    if (!groups.empty())
        TRY(copy_from_user(thread, groups.data(), args.address(1), groups.size() * sizeof(gid_t)));
    c.groups = std::move(groups);
    return 0;
}

// Capget implements Linux syscall capget(2): a null data pointer only
// checks (and negotiates) the version.
Result<long> sys_capget(Thread& thread, const SyscallArgs& args) {
    auto words = capability_words(thread, args.address(0));
    if (args.address(1) == 0) {
        if (words.is_error() && words.error().code() != EINVAL)
            return words.release_error();
        return 0;
    }
    if (words.is_error())
        return words.release_error();
    pid_t pid = TRY(read_user<int32_t>(thread, args.address(0) + sizeof(uint32_t)));
    if (pid < 0)
        return Error(EINVAL, "negative pid");
    Process* process = &thread.process();
    if (pid != 0 && pid != process->pid()) {
        process = thread.kernel().processes().find(pid);
        if (!process || process->ended)
            return Error(ESRCH, "no such process");
    }
    const Credentials& c = process->credentials();
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    for (int word = 0; word < words.value(); ++word) {
        data[word].effective = static_cast<uint32_t>(c.cap_effective >> (32 * word));
        data[word].permitted = static_cast<uint32_t>(c.cap_permitted >> (32 * word));
        data[word].inheritable = static_cast<uint32_t>(c.cap_inheritable >> (32 * word));
    }
    TRY(copy_to_user(thread, args.address(1), data, words.value() * sizeof(data[0])));
    return 0;
}

// Capset implements Linux syscall capset(2) for the calling process: the
// new permitted set within the old one, the effective within the new
// permitted, and the inheritable within the old inheritable and permitted
// sets (unless CAP_SETPCAP is effective).
Result<long> sys_capset(Thread& thread, const SyscallArgs& args) {
    int words = TRY(capability_words(thread, args.address(0)));
    pid_t pid = TRY(read_user<int32_t>(thread, args.address(0) + sizeof(uint32_t)));
    if (pid != 0 && pid != thread.process().pid())
        return Error(EPERM, "capset only changes the calling process");
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    TRY(copy_from_user(thread, data, args.address(1), words * sizeof(data[0])));
    auto set_of = [&](uint32_t __user_cap_data_struct::*field) {
        return (data[0].*field | static_cast<uint64_t>(data[1].*field) << 32) & kAllCapabilities;
    };
    uint64_t effective = set_of(&__user_cap_data_struct::effective);
    uint64_t permitted = set_of(&__user_cap_data_struct::permitted);
    uint64_t inheritable = set_of(&__user_cap_data_struct::inheritable);
    Credentials& c = thread.process().credentials();
    if (!capable(c, CAP_SETPCAP) && !subset(inheritable, c.cap_inheritable | c.cap_permitted))
        return Error(EPERM, "inheritable capabilities beyond the permitted set");
    if (!subset(permitted, c.cap_permitted))
        return Error(EPERM, "permitted capabilities can only be dropped");
    if (!subset(effective, permitted))
        return Error(EPERM, "effective capabilities beyond the permitted set");
    c.cap_effective = effective;
    c.cap_permitted = permitted;
    c.cap_inheritable = inheritable;
    return 0;
}

}  // namespace myst::kernel

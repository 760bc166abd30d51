// Per-thread state the C libraries set up at start: the TLS base
// (arch_prctl), the clear-on-exit tid address and the robust futex list,
// plus futexes and prctl.
#include <asm/prctl.h>
#include <sys/prctl.h>

#include "entry/entry.h"
#include "kernel/kernel.h"
#include "kernel/process.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

// ArchPrctl implements Linux syscall arch_prctl(2). FS is the program's TLS
// base: the entry code loads it when it returns to the program.
Result<long> sys_arch_prctl(Thread& thread, const SyscallArgs& args) {
    entry::EntryState& state = entry::current_entry_state();
    switch (args.integer(0)) {
        case ARCH_SET_FS:
            if (args.address(1) >= (1ull << 47))
                return Error(EPERM, "non-canonical FS base");
            state.program_fs = args.address(1);
            return 0;
        case ARCH_GET_FS:
            TRY(write_user(thread, args.address(1), state.program_fs));
            return 0;
        case ARCH_SET_GS:
        case ARCH_GET_GS:
            // GS holds the kernel's per-thread entry state.
            return Error(EPERM, "GS is reserved by the kernel");
        default:
            return Error(EINVAL, "unsupported arch_prctl code");
    }
}

// SetTidAddress implements Linux syscall set_tid_address(2).
Result<long> sys_set_tid_address(Thread& thread, const SyscallArgs& args) {
    thread.clear_child_tid = args.address(0);
    return thread.tid();
}

// SetRobustList implements Linux syscall set_robust_list(2).
Result<long> sys_set_robust_list(Thread& thread, const SyscallArgs& args) {
    if (args.size(1) != 24)  // sizeof(struct robust_list_head)
        return Error(EINVAL, "bad robust list size");
    thread.robust_list = args.address(0);
    thread.robust_list_size = args.size(1);
    return 0;
}

// GetRobustList implements Linux syscall get_robust_list(2) for the caller.
Result<long> sys_get_robust_list(Thread& thread, const SyscallArgs& args) {
    if (args.integer(0) != 0 && args.integer(0) != thread.tid())
        return Error(ESRCH, "no such thread");
    TRY(write_user(thread, args.address(1), thread.robust_list));
    TRY(write_user(thread, args.address(2), thread.robust_list_size));
    return 0;
}

namespace {

// The arguments a prctl option does not use must be 0, as Linux checks.
Result<void> check_unused(const SyscallArgs& args, int first_unused) {
    for (int i = first_unused; i < 5; ++i)
        if (args.address(i) != 0)
            return Error(EINVAL, "prctl argument must be 0");
    return {};
}

}  // namespace

// Prctl implements Linux syscall prctl(2) for the names and flags libcs,
// runtimes and process supervisors use; the rest is EINVAL as on a kernel
// without them. The parent-death signal is the process's (Linux keeps it
// per thread and fires it when the parent thread ends; here the parent
// process's end fires it).
Result<long> sys_prctl(Thread& thread, const SyscallArgs& args) {
    Process& process = thread.process();
    switch (args.integer(0)) {
        case PR_SET_NAME: {
            // Linux takes at most 15 bytes, terminated or not.
            auto given = copy_string_from_user(thread, args.address(1), 15);
            if (given.is_error() && given.error().code() == ENAMETOOLONG) {
                char name[15];
                TRY(copy_from_user(thread, name, args.address(1), sizeof name));
                given = std::string(name, sizeof name);
            }
            thread.name = TRY(std::move(given));
            return 0;
        }
        case PR_GET_NAME: {
            char name[16] = {};
            thread.name.copy(name, 15);
            TRY(copy_to_user(thread, args.address(1), name, sizeof name));
            return 0;
        }
        case PR_SET_PDEATHSIG: {
            uint64_t signal = args.address(1);
            if (signal >= signal_count)
                return Error(EINVAL, "bad signal number");
            process.parent_death_signal = static_cast<int>(signal);
            return 0;
        }
        case PR_GET_PDEATHSIG:
            TRY(write_user(thread, args.address(1), process.parent_death_signal));
            return 0;
        case PR_GET_DUMPABLE:
            return process.dumpable ? 1 : 0;
        case PR_SET_DUMPABLE:
            if (args.address(1) > 1)
                return Error(EINVAL, "dumpable must be 0 or 1");
            process.dumpable = args.address(1) == 1;
            return 0;
        case PR_SET_NO_NEW_PRIVS:
            if (args.address(1) != 1)
                return Error(EINVAL, "no_new_privs can only be set to 1");
            TRY(check_unused(args, 2));
            process.no_new_privs = true;
            return 0;
        case PR_GET_NO_NEW_PRIVS:
            TRY(check_unused(args, 1));
            return process.no_new_privs ? 1 : 0;
        default:
            return Error(EINVAL, "unsupported prctl option");
    }
}

}  // namespace myst::kernel

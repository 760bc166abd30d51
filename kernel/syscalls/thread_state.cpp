// Per-thread state the C libraries set up at start: the TLS base
// (arch_prctl), the clear-on-exit tid address and the robust futex list,
// plus futexes and prctl.
#include <asm/prctl.h>
#include <sys/prctl.h>

#include "entry/entry.h"
#include "kernel/kernel.h"
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

// Prctl implements Linux syscall prctl(2) for the names and flags libcs and
// runtimes query; the rest is EINVAL as on a kernel without them.
Result<long> sys_prctl(Thread& thread, const SyscallArgs& args) {
    switch (args.integer(0)) {
        case PR_SET_NAME: {
            std::string name = TRY(copy_string_from_user(thread, args.address(1), 4096));
            thread.name = name.substr(0, 15);
            return 0;
        }
        case PR_GET_NAME: {
            char name[16] = {};
            thread.name.copy(name, 15);
            TRY(copy_to_user(thread, args.address(1), name, sizeof name));
            return 0;
        }
        case PR_GET_DUMPABLE:
            return 0;
        case PR_SET_DUMPABLE:
        case PR_SET_PDEATHSIG:
        case PR_SET_NO_NEW_PRIVS:
            return 0;
        case PR_GET_NO_NEW_PRIVS:
            return 0;
        default:
            return Error(EINVAL, "unsupported prctl option");
    }
}

}  // namespace myst::kernel

// Signal dispositions, masks and the return from a handler
// (kernel/signal_delivery.h runs the handlers).
#include <signal.h>

#include "kernel/process.h"
#include "kernel/process_lifecycle.h"
#include "kernel/signal_delivery.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/thread_lifecycle.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

constexpr uint64_t unblockable = (1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1));

}  // namespace

// RtSigaction implements Linux syscall rt_sigaction(2).
Result<long> sys_rt_sigaction(Thread& thread, const SyscallArgs& args) {
    int signal = args.integer(0);
    if (signal < 1 || signal >= signal_count || args.size(3) != sizeof(uint64_t))
        return Error(EINVAL, "bad signal or sigset size");
    SignalAction& action = thread.process().signal_actions()[signal];
    if (args.address(2))
        TRY(write_user(thread, args.address(2), action));
    if (args.address(1)) {
        if (signal == SIGKILL || signal == SIGSTOP)
            return Error(EINVAL, "SIGKILL and SIGSTOP cannot be caught");
        action = TRY(read_user<SignalAction>(thread, args.address(1)));
    }
    return 0;
}

// RtSigprocmask implements Linux syscall rt_sigprocmask(2).
Result<long> sys_rt_sigprocmask(Thread& thread, const SyscallArgs& args) {
    if (args.size(3) != sizeof(uint64_t))
        return Error(EINVAL, "bad sigset size");
    uint64_t old_mask = thread.signal_mask;
    if (args.address(1)) {
        uint64_t set = TRY(read_user<uint64_t>(thread, args.address(1)));
        switch (args.integer(0)) {
            case SIG_BLOCK:
                thread.signal_mask |= set;
                break;
            case SIG_UNBLOCK:
                thread.signal_mask &= ~set;
                break;
            case SIG_SETMASK:
                thread.signal_mask = set;
                break;
            default:
                return Error(EINVAL, "bad sigprocmask operation");
        }
        thread.signal_mask &= ~unblockable;
    }
    if (args.address(2))
        TRY(write_user(thread, args.address(2), old_mask));
    if (thread.context)
        thread.context->uc_mcontext.gregs[REG_RAX] = 0;
    TRY(deliver_pending_signals(thread));
    return 0;
}

// RtSigreturn implements Linux syscall rt_sigreturn(2).
Result<long> sys_rt_sigreturn(Thread& thread, const SyscallArgs&) {
    if (!thread.context)
        return Error(EINVAL, "no signal frame");
    auto restored = return_from_signal(thread);
    if (restored.is_error())  // a corrupt frame: Linux kills with SIGSEGV
        terminate_process(thread, signaled_status(SIGSEGV));
    return restored;
}

// Sigaltstack implements Linux syscall sigaltstack(2): the program's signal
// stack is recorded (the host's is the kernel's own entry stack).
Result<long> sys_sigaltstack(Thread& thread, const SyscallArgs& args) {
    uint64_t stack_pointer =
        thread.context ? static_cast<uint64_t>(thread.context->uc_mcontext.gregs[REG_RSP]) : 0;
    stack_t old = current_signal_stack(thread, stack_pointer);
    if (args.address(0)) {
        stack_t requested = TRY(read_user<stack_t>(thread, args.address(0)));
        TRY(set_signal_stack(thread, requested, stack_pointer));
    }
    if (args.address(1))
        TRY(write_user(thread, args.address(1), old));
    return 0;
}

// RtSigpending implements Linux syscall rt_sigpending(2): the signals
// pending for the thread or its process that its mask holds back (an
// unblocked one would already have been delivered). As Linux, a set size
// up to 8 bytes copies that many bytes; a larger one is EINVAL.
Result<long> sys_rt_sigpending(Thread& thread, const SyscallArgs& args) {
    uint64_t size = args.size(1);
    if (size > sizeof(uint64_t))
        return Error(EINVAL, "bad sigset size");
    uint64_t pending =
        (thread.pending_signals | thread.process().pending_signals) & thread.signal_mask;
    TRY(copy_to_user(thread, args.address(0), &pending, size));
    return 0;
}

// RestartSyscall implements Linux syscall restart_syscall(2): it resumes a
// call a signal stopped with ERESTART_RESTARTBLOCK. The kernel never stops
// a call that way (interrupted sleeps return EINTR or restart in place,
// kernel/syscall_restart.h), so, as Linux's do_no_restart_syscall, there
// is nothing to resume: EINTR.
Result<long> sys_restart_syscall(Thread&, const SyscallArgs&) {
    return Error(EINTR, "no system call to restart");
}

}  // namespace myst::kernel

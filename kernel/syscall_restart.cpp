#include "kernel/syscall_restart.h"

#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <ucontext.h>

#include "kernel/process.h"
#include "kernel/signal_delivery.h"
#include "kernel/thread.h"

namespace myst::kernel {

namespace {

constexpr greg_t syscall_instruction_size = 2;  // 0f 05

bool is_untimed_futex_wait(const SyscallArgs& args) {
    int command = args.integer(1) & FUTEX_CMD_MASK;
    bool waits = command == FUTEX_WAIT || command == FUTEX_WAIT_BITSET;
    return waits && args.address(3) == 0;
}

// signal(7): "Interruption of system calls and library functions by
// signal handlers", the calls restarted under SA_RESTART.
bool restarts_under_sa_restart(long number, const SyscallArgs& args) {
    switch (number) {
        case SYS_read:
        case SYS_readv:
        case SYS_write:
        case SYS_writev:
        case SYS_pread64:
        case SYS_pwrite64:
        case SYS_preadv:
        case SYS_pwritev:
        case SYS_preadv2:
        case SYS_pwritev2:
        case SYS_ioctl:
        case SYS_open:
        case SYS_openat:
        case SYS_openat2:
        case SYS_creat:
        case SYS_wait4:
        case SYS_waitid:
        case SYS_accept:
        case SYS_accept4:
        case SYS_connect:
        case SYS_recvfrom:
        case SYS_recvmsg:
        case SYS_recvmmsg:
        case SYS_sendto:
        case SYS_sendmsg:
        case SYS_sendmmsg:
        case SYS_flock:
        case SYS_fcntl:
        case SYS_getrandom:
        case SYS_sendfile:
        case SYS_splice:
        case SYS_tee:
        case SYS_mq_timedsend:
        case SYS_mq_timedreceive:
            return true;
        case SYS_futex:
            return is_untimed_futex_wait(args);
        default:
            return false;
    }
}

// Whether the signal delivered next (see deliver_pending_signals) runs a
// handler that asked for SA_RESTART, runs one that did not, or runs none.
enum class NextHandler { none, restarting, interrupting };

NextHandler next_handler(Thread& thread) {
    uint64_t ready = pending_signals_of(thread) & ~thread.signal_mask;
    if (!ready)
        return NextHandler::none;
    int signal = __builtin_ctzll(ready) + 1;
    const SignalAction& action = thread.process().signal_actions()[signal];
    if (action.handler == reinterpret_cast<uint64_t>(SIG_DFL) ||
        action.handler == reinterpret_cast<uint64_t>(SIG_IGN))
        return NextHandler::none;
    return (action.flags & SA_RESTART) ? NextHandler::restarting : NextHandler::interrupting;
}

}  // namespace

long restart_if_interrupted(Thread& thread, long number, const SyscallArgs& args, long result) {
    if (result != -EINTR || !thread.context || !restarts_under_sa_restart(number, args))
        return result;
    if (next_handler(thread) == NextHandler::interrupting)
        return result;
    thread.context->uc_mcontext.gregs[REG_RIP] -= syscall_instruction_size;
    return number;
}

}  // namespace myst::kernel

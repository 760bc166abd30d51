// Waiting for signals: pause, rt_sigsuspend and rt_sigtimedwait. The wait
// is a host sleep that the interrupt of kernel/signal_delivery.h ends.
#include <signal.h>

#include "kernel/kernel.h"
#include "kernel/signal_delivery.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

constexpr uint64_t unblockable = signal_bit(SIGKILL) | signal_bit(SIGSTOP);

Result<uint64_t> read_signal_set(Thread& thread, uint64_t address, size_t size) {
    if (size != sizeof(uint64_t))
        return Error(EINVAL, "bad sigset size");
    return TRY(read_user<uint64_t>(thread, address)) & ~unblockable;
}

// Waits under `mask` until a handler is due, runs it with `mask` in force
// and makes its return restore the mask the thread had: EINTR, as Linux.
Result<long> suspend_with_mask(Thread& thread, uint64_t mask) {
    const uint64_t old_mask = swap_signal_mask(thread, mask);
    auto waited = wait_for_signal(thread, nullptr);
    Result<long> result = Error(EINTR, "interrupted by a signal");
    if (waited.is_error() && waited.error().code() != EINTR)
        result = waited.release_error();
    return end_signal_mask_swap(thread, old_mask, std::move(result));
}

}  // namespace

// Pause implements Linux syscall pause(2).
Result<long> sys_pause(Thread& thread, const SyscallArgs&) {
    return suspend_with_mask(thread, thread.signal_mask);
}

// RtSigsuspend implements Linux syscall rt_sigsuspend(2).
Result<long> sys_rt_sigsuspend(Thread& thread, const SyscallArgs& args) {
    uint64_t mask = TRY(read_signal_set(thread, args.address(0), args.size(1)));
    return suspend_with_mask(thread, mask);
}

// RtSigtimedwait implements Linux syscall rt_sigtimedwait(2): takes a
// pending signal of the set without running its handler; EAGAIN after the
// timeout; EINTR when another signal's handler is due.
Result<long> sys_rt_sigtimedwait(Thread& thread, const SyscallArgs& args) {
    uint64_t set = TRY(read_signal_set(thread, args.address(0), args.size(3)));
    struct timespec timeout {};
    bool has_timeout = args.address(2) != 0;
    if (has_timeout) {
        timeout = TRY(read_user<struct timespec>(thread, args.address(2)));
        if (timeout.tv_sec < 0 || timeout.tv_nsec < 0 || timeout.tv_nsec >= 1000000000)
            return Error(EINVAL, "bad timeout");
    }
    while (true) {
        uint64_t ready = pending_signals_of(thread) & set;
        if (ready) {
            int signal = __builtin_ctzll(ready) + 1;
            siginfo_t info = take_pending_signal(thread, signal);
            if (args.address(1))
                TRY(write_user(thread, args.address(1), info));
            return signal;
        }
        if (has_timeout && timeout.tv_sec == 0 && timeout.tv_nsec == 0)
            return Error(EAGAIN, "no signal of the set is pending");
        thread.waiting_for = set;
        auto waited = wait_for_signal(thread, has_timeout ? &timeout : nullptr);
        thread.waiting_for = 0;
        if (waited.is_error() && waited.error().code() != EINTR)
            return waited.error();
        if (!(pending_signals_of(thread) & set))
            return Error(EINTR, "interrupted by a signal");
    }
}

}  // namespace myst::kernel

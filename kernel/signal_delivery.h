// Running the program's signal handlers. A signal is delivered by writing a
// Linux rt_sigframe (return address, ucontext with the interrupted
// registers and FPU state, siginfo) on the program's stack and pointing the
// interrupted context at the handler; the handler's return runs the
// program's restorer, whose rt_sigreturn puts the saved registers back.
#pragma once

#include <signal.h>
#include <time.h>
#include <ucontext.h>

#include "base/result.h"

namespace myst::kernel {

class Process;
class Thread;

constexpr uint64_t signal_bit(int signal) {
    return 1ull << (signal - 1);
}

// The signals pending for `thread`: its own and its process's.
uint64_t pending_signals_of(Thread& thread);

// The size of the host's FPU/extended state in an interrupted frame (0
// when it has none).
size_t fpu_state_size(const ucontext_t& context);

// SS_AUTODISARM (Linux 4.7), which glibc's headers do not define.
constexpr int ss_autodisarm = static_cast<int>(1u << 31);

// sigaltstack(2): whether `stack_pointer` is on the thread's alternate
// signal stack, the stack as sigaltstack reports it there (SS_ONSTACK,
// SS_DISABLE), and setting it with Linux's checks (EPERM while on it,
// EINVAL, ENOMEM below MINSIGSTKSZ; SS_AUTODISARM kept).
bool on_signal_stack(const Thread& thread, uint64_t stack_pointer);
stack_t current_signal_stack(const Thread& thread, uint64_t stack_pointer);
Result<void> set_signal_stack(Thread& thread, const stack_t& requested, uint64_t stack_pointer);

// Takes pending `signal` (the thread's own first, else the process's) and
// returns what it was sent with.
siginfo_t take_pending_signal(Thread& thread, int signal);

// A process-directed signal that every thread blocks: pending on the
// process; a thread waiting for it in rt_sigtimedwait is interrupted.
void post_process_signal(Process& process, int signal, const siginfo_t& info);

// Acts on `signal` for the calling thread, whose interrupted context is
// thread.context: runs the program's handler, ignores it, or ends the
// process (128+signal) as the disposition says. A blocked signal stays
// pending, except a fault, which cannot wait and ends the process.
Result<void> raise_signal(Thread& thread, int signal, const siginfo_t& info, bool is_fault);

// raise_signal for a signal a syscall (kill, tgkill...) sends to the caller:
// the interrupted context is the syscall's return with result 0.
Result<void> raise_signal_from_syscall(Thread& thread, int signal, const siginfo_t& info);

// A signal for a thread other than the calling one (tgkill, a timer):
// ignored, ending the process (a fatal default action), or pending on
// `target`, which is interrupted so that it runs its handler soon.
Result<void> post_signal(Thread& target, int signal, const siginfo_t& info);

// Where a process-directed signal goes (Linux's complete_signal()): the
// first thread when it does not block it, else `caller` (may be null), else
// any thread that does not; null when all block it.
Thread* thread_for_process_signal(Process& process, Thread* caller, int signal);

// A signal the kernel itself sends (a timer): to `target`, or to the
// process when null.
void post_signal_from_kernel(Process& process, Thread* target, int signal, const siginfo_t& info);

// Called under the kernel lock before a host wait that a signal must end
// (futex, sleep): fails with EINTR when a signal is already deliverable,
// else returns the flag the wait watches (EntryState::interrupted, cleared
// here, set by the interrupt another thread sends from now on).
Result<const uint8_t*> begin_interruptible_wait(Thread& thread);
// Whether a kernel wait must end now: a signal is due that the thread does
// not block (or waits for), or the thread is asked to end (exit_group, a
// fatal signal or exec in another thread).
bool wait_must_end(Thread& thread);

// Linux's rule for writes to a pipe or socket with no reader: a syscall
// that failed with EPIPE sends SIGPIPE to the caller, acted on at once (its
// handler's frame saves -EPIPE as the result; the default action ends the
// process). Other results pass through unchanged.
Result<long> signal_broken_pipe(Thread& thread, Result<long> result);

// Waits (without the kernel lock) until a signal the thread does not block,
// or one of thread.waiting_for, is pending: EINTR then; EAGAIN when
// `timeout` (relative, may be null for none) passes first.
Result<void> wait_for_signal(Thread& thread, const struct timespec* timeout);

// ppoll, pselect6 and epoll_pwait run their wait with the program's mask
// in force (swap_signal_mask returns the old one); this ends it as Linux
// does: when the wait ended with EINTR, the handler that ended it runs
// with the wait's mask and its return restores `old_mask` (as
// sigsuspend); otherwise `old_mask` is back at once.
uint64_t swap_signal_mask(Thread& thread, uint64_t mask);
Result<long> end_signal_mask_swap(Thread& thread, uint64_t old_mask, Result<long> result);

// Delivers the lowest pending signal the mask no longer blocks, if any.
Result<void> deliver_pending_signals(Thread& thread);

// rt_sigreturn(2): restores the context saved by the delivery whose frame
// is at the program's stack pointer; returns the restored RAX.
Result<long> return_from_signal(Thread& thread);

}  // namespace myst::kernel

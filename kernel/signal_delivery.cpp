#include "kernel/signal_delivery.h"

#include <cstring>
#include <vector>

#include "entry/entry.h"
#include "kernel/event_files.h"
#include "kernel/kernel.h"
#include "kernel/process.h"
#include "kernel/process_lifecycle.h"
#include "kernel/thread.h"
#include "kernel/thread_lifecycle.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

constexpr uint32_t fp_xstate_magic1 = 0x46505853;  // the host's FPU frame is XSAVE-extended
constexpr size_t legacy_fpu_size = 512;
constexpr size_t red_zone = 128;
constexpr uint64_t unblockable = signal_bit(SIGKILL) | signal_bit(SIGSTOP);
// EFLAGS bits a program's sigreturn may change (as Linux's FIX_EFLAGS).
constexpr uint64_t user_eflags = 0x40dd5;
constexpr uint64_t eflags_trap = 0x100;
constexpr uint64_t eflags_direction = 0x400;
constexpr uint64_t eflags_resume = 0x10000;

// The frame Linux's x86-64 signal delivery writes; pretcode is where the
// handler returns to (the program's restorer).
struct SignalFrame {
    uint64_t pretcode;
    ucontext_t context;
    siginfo_t info;
};

bool terminates_by_default(int signal) {
    return signal != SIGCHLD && signal != SIGCONT && signal != SIGURG && signal != SIGWINCH;
}

Result<void> run_handler(Thread& thread, int signal, const siginfo_t& info,
                         const SignalAction& action) {
    ucontext_t& interrupted = *thread.context;
    greg_t* registers = interrupted.uc_mcontext.gregs;
    uint64_t stack = static_cast<uint64_t>(registers[REG_RSP]) - red_zone;
    const stack_t alternate = thread.signal_stack;
    const auto interrupted_sp = static_cast<uint64_t>(registers[REG_RSP]);
    bool switches_stack = (action.flags & SA_ONSTACK) && !(alternate.ss_flags & SS_DISABLE) &&
                          !on_signal_stack(thread, interrupted_sp);
    if (switches_stack)
        stack = reinterpret_cast<uint64_t>(alternate.ss_sp) + alternate.ss_size;
    size_t fpu_size = fpu_state_size(interrupted);
    uint64_t fpu_copy = (stack - fpu_size) & ~uint64_t(63);
    uint64_t frame_address = ((fpu_copy - sizeof(SignalFrame)) & ~uint64_t(15)) - 8;
    if (!thread.kernel().memory_accessible(frame_address, stack - frame_address))
        return Error(EFAULT, "no room for the signal frame on the program's stack");

    SignalFrame frame{};
    frame.pretcode = action.restorer;
    frame.info = info;
    frame.context.uc_mcontext = interrupted.uc_mcontext;
    frame.context.uc_mcontext.fpregs = fpu_size ? reinterpret_cast<fpregset_t>(fpu_copy) : nullptr;
    frame.context.uc_stack = current_signal_stack(thread, interrupted_sp);
    uint64_t saved_mask = thread.signal_mask;
    if (thread.restore_mask_after_handler) {  // rt_sigsuspend's handler returns to the old mask
        saved_mask = thread.mask_after_handler;
        thread.restore_mask_after_handler = false;
    }
    std::memcpy(&frame.context.uc_sigmask, &saved_mask, sizeof saved_mask);
    if (fpu_size)
        std::memcpy(reinterpret_cast<void*>(fpu_copy), interrupted.uc_mcontext.fpregs, fpu_size);
    std::memcpy(reinterpret_cast<void*>(frame_address), &frame, sizeof frame);

    auto* placed = reinterpret_cast<SignalFrame*>(frame_address);
    registers[REG_RIP] = static_cast<greg_t>(action.handler);
    registers[REG_RDI] = signal;
    registers[REG_RSI] = reinterpret_cast<greg_t>(&placed->info);
    registers[REG_RDX] = reinterpret_cast<greg_t>(&placed->context);
    registers[REG_RAX] = 0;
    registers[REG_RSP] = static_cast<greg_t>(frame_address);
    // As Linux: the direction flag clear (the ABI), and TF and RF clear so
    // that a single-stepping program's SIGTRAP handler is not stepped
    // itself; the frame keeps TF, and rt_sigreturn brings it back.
    registers[REG_EFL] &= ~greg_t(eflags_direction | eflags_trap | eflags_resume);

    // SS_AUTODISARM: the handler runs with no alternate stack (so it may
    // set one up and jump away); rt_sigreturn restores it from uc_stack.
    if (switches_stack && (alternate.ss_flags & ss_autodisarm))
        thread.signal_stack = stack_t{nullptr, SS_DISABLE, 0};
    thread.signal_mask |= action.mask | ((action.flags & SA_NODEFER) ? 0 : signal_bit(signal));
    thread.signal_mask &= ~unblockable;
    if (action.flags & SA_RESETHAND)
        thread.process().signal_actions()[signal] = SignalAction{};
    return {};
}

}  // namespace

// The size of the host's FPU/extended state in the interrupted frame.
size_t fpu_state_size(const ucontext_t& context) {
    if (!context.uc_mcontext.fpregs)
        return 0;
    const auto* bytes = reinterpret_cast<const uint8_t*>(context.uc_mcontext.fpregs);
    uint32_t magic = 0, extended = 0;
    std::memcpy(&magic, bytes + 464, 4);
    std::memcpy(&extended, bytes + 468, 4);
    return magic == fp_xstate_magic1 && extended > legacy_fpu_size ? extended : legacy_fpu_size;
}

bool on_signal_stack(const Thread& thread, uint64_t stack_pointer) {
    const stack_t& alternate = thread.signal_stack;
    if (alternate.ss_flags & (SS_DISABLE | ss_autodisarm))
        return false;  // as Linux: an auto-disarmed stack is never "current"
    auto base = reinterpret_cast<uint64_t>(alternate.ss_sp);
    return stack_pointer > base && stack_pointer - base <= alternate.ss_size;
}

stack_t current_signal_stack(const Thread& thread, uint64_t stack_pointer) {
    stack_t reported = thread.signal_stack;
    if (on_signal_stack(thread, stack_pointer))
        reported.ss_flags = SS_ONSTACK;
    else if (reported.ss_size == 0)
        reported.ss_flags = SS_DISABLE;
    return reported;
}

Result<void> set_signal_stack(Thread& thread, const stack_t& requested, uint64_t stack_pointer) {
    if (on_signal_stack(thread, stack_pointer))
        return Error(EPERM, "cannot change the signal stack while running on it");
    const int mode = requested.ss_flags & ~ss_autodisarm;
    if (mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK)
        return Error(EINVAL, "bad sigaltstack flags");
    if (mode == SS_DISABLE) {
        thread.signal_stack = stack_t{nullptr, SS_DISABLE, 0};
        return {};
    }
    if (requested.ss_size < static_cast<size_t>(MINSIGSTKSZ))
        return Error(ENOMEM, "signal stack too small");
    thread.signal_stack = requested;
    thread.signal_stack.ss_flags = requested.ss_flags & ss_autodisarm;
    return {};
}

uint64_t pending_signals_of(Thread& thread) {
    return thread.pending_signals | thread.process().pending_signals;
}

siginfo_t take_pending_signal(Thread& thread, int signal) {
    uint64_t bit = signal_bit(signal);
    if (thread.pending_signals & bit) {
        thread.pending_signals &= ~bit;
        notify_signal_files(thread.process());
        return thread.pending_info[signal];
    }
    Process& process = thread.process();
    process.pending_signals &= ~bit;
    notify_signal_files(process);
    return process.pending_info[signal];
}

void post_process_signal(Process& process, int signal, const siginfo_t& info) {
    process.pending_signals |= signal_bit(signal);
    process.pending_info[signal] = info;
    notify_signal_files(process);
    for (auto& [tid, thread] : process.threads())
        if ((thread->waiting_for & signal_bit(signal)) && thread->host_tid != 0)
            (void)thread->kernel().target().thread_interrupt(thread->host_tid,
                                                             entry::interrupt_signal);
}

namespace {

bool takes(const Thread& thread, int signal) {
    return !thread.exit_started && !(thread.signal_mask & signal_bit(signal));
}

}  // namespace

Thread* thread_for_process_signal(Process& process, Thread* caller, int signal) {
    Thread* leader = process.find_thread(process.pid());
    if (leader && takes(*leader, signal))
        return leader;
    if (caller && takes(*caller, signal))
        return caller;
    for (auto& [tid, thread] : process.threads())
        if (takes(*thread, signal))
            return thread.get();
    return nullptr;
}

void post_signal_from_kernel(Process& process, Thread* target, int signal, const siginfo_t& info) {
    if (!target)
        target = thread_for_process_signal(process, nullptr, signal);
    if (target)
        (void)post_signal(*target, signal, info);
    else
        post_process_signal(process, signal, info);
}

Result<void> raise_signal(Thread& thread, int signal, const siginfo_t& info, bool is_fault) {
    SignalAction& action = thread.process().signal_actions()[signal];
    bool blocked = thread.signal_mask & signal_bit(signal);
    bool ignored = action.handler == reinterpret_cast<uint64_t>(SIG_IGN);
    bool default_action = action.handler == reinterpret_cast<uint64_t>(SIG_DFL);
    // A fault cannot be ignored or wait: the faulting instruction would repeat.
    if (is_fault && (blocked || ignored))
        terminate_process(thread, signaled_status(signal));
    if (blocked) {
        thread.pending_signals |= signal_bit(signal);
        thread.pending_info[signal] = info;
        notify_signal_files(thread.process());
        return {};
    }
    if (ignored || (default_action && !terminates_by_default(signal)))
        return {};
    if (default_action)
        terminate_process(thread, signaled_status(signal));
    if (!thread.context)
        return Error(EINVAL, "no interrupted context to deliver a signal to");
    auto delivered = run_handler(thread, signal, info, action);
    if (delivered.is_error())  // as Linux: no room for the frame kills with SIGSEGV
        terminate_process(thread, signaled_status(SIGSEGV));
    return {};
}

Result<void> post_signal(Thread& target, int signal, const siginfo_t& info) {
    SignalAction& action = target.process().signal_actions()[signal];
    bool blocked = target.signal_mask & signal_bit(signal);
    bool ignored = action.handler == reinterpret_cast<uint64_t>(SIG_IGN);
    bool default_action = action.handler == reinterpret_cast<uint64_t>(SIG_DFL);
    if (ignored || (default_action && !terminates_by_default(signal)))
        return {};
    // The signal ends the target's process (the sender runs in another
    // thread, another process or the timer thread).
    if (default_action && !blocked) {
        end_process_threads(target.kernel(), target.process(), signaled_status(signal));
        return {};
    }
    target.pending_signals |= signal_bit(signal);
    target.pending_info[signal] = info;
    notify_signal_files(target.process());
    bool awaited = target.waiting_for & signal_bit(signal);
    if ((!blocked || awaited) && target.host_tid != 0)
        (void)target.kernel().target().thread_interrupt(target.host_tid, entry::interrupt_signal);
    return {};
}

bool wait_must_end(Thread& thread) {
    return thread.exit_requested ||
           (pending_signals_of(thread) & (~thread.signal_mask | thread.waiting_for));
}

Result<const uint8_t*> begin_interruptible_wait(Thread& thread) {
    entry::EntryState& state = entry::current_entry_state();
    __atomic_store_n(&state.interrupted, 0, __ATOMIC_SEQ_CST);
    if (wait_must_end(thread))
        return Error(EINTR, "a signal is pending");
    return &state.interrupted;
}

Result<void> wait_for_signal(Thread& thread, const struct timespec* timeout) {
    // A day at a time when there is no timeout: the interrupt ends it.
    struct timespec left = timeout ? *timeout : timespec{86400, 0};
    while (true) {
        const uint8_t* interrupted = TRY(begin_interruptible_wait(thread));
        struct timespec remaining = left;
        auto slept = [&] {
            BlockingScope waiting(thread);
            return thread.kernel().target().sleep(CLOCK_MONOTONIC, false, left, &remaining,
                                                  interrupted);
        }();
        if (slept.is_error() && slept.error().code() != EINTR)
            return slept.error();
        if (wait_must_end(thread))
            return Error(EINTR, "a signal arrived");
        if (!slept.is_error() && timeout)
            return Error(EAGAIN, "timed out");
        if (slept.is_error())
            left = remaining;
        else
            left = timespec{86400, 0};
    }
}

Result<void> deliver_pending_signals(Thread& thread) {
    uint64_t ready = pending_signals_of(thread) & ~thread.signal_mask;
    if (!ready)
        return {};
    int signal = __builtin_ctzll(ready) + 1;
    siginfo_t info = take_pending_signal(thread, signal);
    return raise_signal(thread, signal, info, false);
}

uint64_t swap_signal_mask(Thread& thread, uint64_t mask) {
    uint64_t old_mask = thread.signal_mask;
    thread.signal_mask = mask & ~unblockable;
    return old_mask;
}

Result<long> end_signal_mask_swap(Thread& thread, uint64_t old_mask, Result<long> result) {
    if (!result.is_error() || result.error().code() != EINTR) {
        thread.signal_mask = old_mask;
        return result;
    }
    thread.restore_mask_after_handler = true;
    thread.mask_after_handler = old_mask;
    if (thread.context)
        thread.context->uc_mcontext.gregs[REG_RAX] = -EINTR;
    TRY(deliver_pending_signals(thread));
    if (thread.restore_mask_after_handler) {  // no handler ran
        thread.restore_mask_after_handler = false;
        thread.signal_mask = old_mask;
    }
    return result;
}

Result<long> return_from_signal(Thread& thread) {
    ucontext_t& interrupted = *thread.context;
    greg_t* registers = interrupted.uc_mcontext.gregs;
    // The handler's `ret` popped pretcode: the ucontext is at the stack pointer.
    uint64_t frame_context = static_cast<uint64_t>(registers[REG_RSP]);
    auto saved = TRY(read_user<ucontext_t>(thread, frame_context));
    greg_t segments = registers[REG_CSGSFS];
    greg_t flags = registers[REG_EFL];
    std::memcpy(registers, saved.uc_mcontext.gregs, sizeof(gregset_t));
    registers[REG_CSGSFS] = segments;
    registers[REG_EFL] =
        (flags & ~greg_t(user_eflags)) | (saved.uc_mcontext.gregs[REG_EFL] & greg_t(user_eflags));
    size_t fpu_size = fpu_state_size(interrupted);
    auto saved_fpu = reinterpret_cast<uint64_t>(saved.uc_mcontext.fpregs);
    if (fpu_size && saved_fpu) {
        std::vector<uint8_t> fpu(fpu_size);
        TRY(copy_from_user(thread, fpu.data(), saved_fpu, fpu_size));
        std::memcpy(interrupted.uc_mcontext.fpregs, fpu.data(), fpu_size);
    }
    std::memcpy(&thread.signal_mask, &saved.uc_sigmask, sizeof thread.signal_mask);
    thread.signal_mask &= ~unblockable;
    // As Linux's restore_altstack(); a frame's stack that cannot be set
    // (the program changed it) leaves the current one.
    (void)set_signal_stack(thread, saved.uc_stack, static_cast<uint64_t>(registers[REG_RSP]));
    TRY(deliver_pending_signals(thread));
    // The dispatcher stores this in RAX: the restored value, or 0 when a
    // pending handler now runs instead.
    return registers[REG_RAX];
}

Result<long> signal_broken_pipe(Thread& thread, Result<long> result) {
    if (!result.is_error() || result.error().code() != EPIPE)
        return result;
    siginfo_t info{};
    info.si_signo = SIGPIPE;
    info.si_code = SI_USER;
    info.si_pid = thread.process().pid();
    info.si_uid = thread.process().credentials().uid;
    if (thread.context)
        thread.context->uc_mcontext.gregs[REG_RAX] = -EPIPE;
    TRY(raise_signal(thread, SIGPIPE, info, false));
    return result;
}

Result<void> raise_signal_from_syscall(Thread& thread, int signal, const siginfo_t& info) {
    // The handler's frame must show the syscall as having returned 0.
    if (thread.context)
        thread.context->uc_mcontext.gregs[REG_RAX] = 0;
    return raise_signal(thread, signal, info, false);
}

}  // namespace myst::kernel

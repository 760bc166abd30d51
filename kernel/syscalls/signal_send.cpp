// Sending signals within the process: kill, tkill, tgkill and the queueing
// forms. A signal for the calling thread is acted on at once; one for
// another thread is made pending there and that thread interrupted; one for
// the process goes to a thread that does not block it, as Linux picks.
#include <signal.h>

#include "kernel/process.h"
#include "kernel/signal_delivery.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

Result<void> check_signal_number(int signal) {
    if (signal < 0 || signal >= signal_count)
        return Error(EINVAL, "bad signal number");
    return {};
}

siginfo_t sent_by(Thread& sender, int signal, int code) {
    siginfo_t info{};
    info.si_signo = signal;
    info.si_code = code;
    info.si_pid = sender.process().pid();
    info.si_uid = sender.process().credentials().uid;
    return info;
}

Result<long> send_to_thread(Thread& sender, Thread& target, int signal, const siginfo_t& info) {
    if (signal == 0)
        return 0;
    if (&target == &sender)
        TRY(raise_signal_from_syscall(sender, signal, info));
    else
        TRY(post_signal(target, signal, info));
    return 0;
}

Result<Thread*> live_thread(Thread& sender, pid_t tid) {
    if (tid <= 0)
        return Error(EINVAL, "bad thread id");
    Thread* target = sender.process().find_thread(tid);
    if (!target || target->exit_started)
        return Error(ESRCH, "no such thread");
    return target;
}

// A process-directed signal: see thread_for_process_signal().
Result<long> send_to_process(Thread& sender, pid_t pid, int signal, const siginfo_t& info) {
    Process& process = sender.process();
    if (pid != process.pid() && pid != 0 && pid != -1)
        return Error(ESRCH, "no such process");
    if (signal == 0)
        return 0;
    if (Thread* target = thread_for_process_signal(process, &sender, signal))
        return send_to_thread(sender, *target, signal, info);
    post_process_signal(process, signal, info);
    return 0;
}

// The siginfo a program queues with rt_sigqueueinfo: Linux lets a process
// claim only negative codes (or SI_QUEUE) for signals to others.
Result<siginfo_t> queued_info(Thread& sender, int signal, uint64_t address, bool to_self) {
    siginfo_t info = TRY(read_user<siginfo_t>(sender, address));
    if (!to_self && (info.si_code >= 0 || info.si_code == SI_TKILL))
        return Error(EPERM, "only negative si_code values may be queued to another");
    info.si_signo = signal;
    return info;
}

}  // namespace

// Kill implements Linux syscall kill(2) for the calling process.
Result<long> sys_kill(Thread& thread, const SyscallArgs& args) {
    int signal = args.integer(1);
    TRY(check_signal_number(signal));
    return send_to_process(thread, args.integer(0), signal, sent_by(thread, signal, SI_USER));
}

// Tkill implements Linux syscall tkill(2) for the threads of the caller's process.
Result<long> sys_tkill(Thread& thread, const SyscallArgs& args) {
    int signal = args.integer(1);
    TRY(check_signal_number(signal));
    Thread* target = TRY(live_thread(thread, args.integer(0)));
    return send_to_thread(thread, *target, signal, sent_by(thread, signal, SI_TKILL));
}

// Tgkill implements Linux syscall tgkill(2) for the threads of the caller's process.
Result<long> sys_tgkill(Thread& thread, const SyscallArgs& args) {
    int signal = args.integer(2);
    if (args.integer(0) <= 0)
        return Error(EINVAL, "bad process id");
    TRY(check_signal_number(signal));
    Thread* target = TRY(live_thread(thread, args.integer(1)));
    if (args.integer(0) != thread.process().pid())
        return Error(ESRCH, "no such process");
    return send_to_thread(thread, *target, signal, sent_by(thread, signal, SI_TKILL));
}

// RtSigqueueinfo implements Linux syscall rt_sigqueueinfo(2).
Result<long> sys_rt_sigqueueinfo(Thread& thread, const SyscallArgs& args) {
    int signal = args.integer(1);
    TRY(check_signal_number(signal));
    pid_t pid = args.integer(0);
    siginfo_t info =
        TRY(queued_info(thread, signal, args.address(2), pid == thread.process().pid()));
    return send_to_process(thread, pid, signal, info);
}

// RtTgsigqueueinfo implements Linux syscall rt_tgsigqueueinfo(2).
Result<long> sys_rt_tgsigqueueinfo(Thread& thread, const SyscallArgs& args) {
    int signal = args.integer(2);
    TRY(check_signal_number(signal));
    if (args.integer(0) != thread.process().pid())
        return Error(ESRCH, "no such process");
    Thread* target = TRY(live_thread(thread, args.integer(1)));
    siginfo_t info = TRY(queued_info(thread, signal, args.address(3), target == &thread));
    return send_to_thread(thread, *target, signal, info);
}

}  // namespace myst::kernel

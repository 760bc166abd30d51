// Sending signals: kill (to a process, a group or all), tkill, tgkill and the
// queueing forms. A signal for the calling thread is acted on at once; one
// for another thread (of any process) is made pending there and that thread
// interrupted; one for a process goes to a thread that does not block it, as
// Linux picks.
#include <signal.h>

#include <algorithm>
#include <climits>
#include <vector>

#include "kernel/kernel.h"
#include "kernel/pid_file.h"
#include "kernel/process.h"
#include "kernel/process_lifecycle.h"
#include "kernel/process_table.h"
#include "kernel/signal_delivery.h"
#include "kernel/syscalls/file_common.h"
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

// A thread anywhere in the kernel's pid space (tkill), or of one process (tgkill).
Result<Thread*> live_thread(Thread& sender, pid_t tid, pid_t process_id = 0) {
    if (tid <= 0)
        return Error(EINVAL, "bad thread id");
    Kernel& kernel = sender.kernel();
    Thread* target = nullptr;
    if (process_id > 0) {
        if (Process* process = kernel.processes().find(process_id))
            target = process->find_thread(tid);
    } else {
        for (Process* process : kernel.processes().all())
            if ((target = process->find_thread(tid)))
                break;
    }
    if (!target || target->exit_started)
        return Error(ESRCH, "no such thread");
    return target;
}

// Linux's kill_ok_by_cred(): the sender's real or effective uid matches the
// target's real or saved uid, or the sender is privileged; SIGCONT also
// reaches any process of the sender's session.
bool may_signal(Process& sender, Process& target, int signal) {
    const Credentials& from = sender.credentials();
    const Credentials& to = target.credentials();
    if (&sender == &target || from.euid == 0)
        return true;
    if (from.euid == to.uid || from.euid == to.suid || from.uid == to.uid || from.uid == to.suid)
        return true;
    return signal == SIGCONT && sender.session_id == target.session_id;
}

// One process-directed signal: see thread_for_process_signal(). A zombie
// takes (and ignores) it, as Linux's.
Result<long> signal_process(Thread& sender, Process& target, int signal, const siginfo_t& info) {
    if (!may_signal(sender.process(), target, signal))
        return Error(EPERM, "not permitted to signal that process");
    if (signal == 0 || target.ended || target.dying)
        return 0;
    if (&target != &sender.process()) {
        post_signal_from_kernel(target, nullptr, signal, info);
        return 0;
    }
    if (Thread* receiver = thread_for_process_signal(target, &sender, signal))
        return send_to_thread(sender, *receiver, signal, info);
    post_process_signal(target, signal, info);
    return 0;
}

// kill(2)'s targets: pid > 0 one process, 0 the caller's group, < -1 the
// group -pid, -1 every process but init and the caller.
std::vector<Process*> kill_targets(Thread& sender, pid_t pid) {
    Kernel& kernel = sender.kernel();
    if (pid > 0) {
        Process* process = kernel.processes().find(pid);
        return process ? std::vector<Process*>{process} : std::vector<Process*>{};
    }
    std::vector<Process*> targets;
    pid_t group = pid == 0 ? sender.process().group_id : -pid;
    for (Process* process : kernel.processes().all()) {
        bool chosen = pid == -1 ? process != &sender.process() && process->pid() > init_pid
                                : process->group_id == group;
        if (chosen && !process->ended)
            targets.push_back(process);
    }
    return targets;
}

// Signals every target; as Linux, success when any was signalled, else the
// last error (ESRCH when there was no target).
Result<long> send_to_process(Thread& sender, pid_t pid, int signal, const siginfo_t& info) {
    if (pid == INT32_MIN)
        return Error(ESRCH, "no such process");
    // The caller's own process last: a fatal signal to it does not return.
    std::vector<Process*> targets = kill_targets(sender, pid);
    std::stable_partition(targets.begin(), targets.end(),
                          [&](Process* p) { return p != &sender.process(); });
    Result<long> outcome = Error(ESRCH, "no such process");
    bool any_sent = false;
    for (Process* target : targets) {
        outcome = signal_process(sender, *target, signal, info);
        any_sent |= !outcome.is_error();
    }
    return any_sent ? Result<long>(0) : outcome;
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
    if (!may_signal(thread.process(), target->process(), signal))
        return Error(EPERM, "not permitted to signal that process");
    return send_to_thread(thread, *target, signal, sent_by(thread, signal, SI_TKILL));
}

// Tgkill implements Linux syscall tgkill(2) for the threads of the caller's process.
Result<long> sys_tgkill(Thread& thread, const SyscallArgs& args) {
    int signal = args.integer(2);
    if (args.integer(0) <= 0)
        return Error(EINVAL, "bad process id");
    TRY(check_signal_number(signal));
    Thread* target = TRY(live_thread(thread, args.integer(1), args.integer(0)));
    if (!may_signal(thread.process(), target->process(), signal))
        return Error(EPERM, "not permitted to signal that process");
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
    if (args.integer(0) <= 0 || args.integer(1) <= 0)
        return Error(EINVAL, "bad process or thread id");
    Thread* target = TRY(live_thread(thread, args.integer(1), args.integer(0)));
    if (!may_signal(thread.process(), target->process(), signal))
        return Error(EPERM, "not permitted to signal that process");
    siginfo_t info = TRY(queued_info(thread, signal, args.address(3), target == &thread));
    return send_to_thread(thread, *target, signal, info);
}

// PidfdSendSignal implements Linux syscall pidfd_send_signal(2): kill(2)
// to the process a pidfd names (EBADF for another descriptor, ESRCH once
// the process is reaped), with an optional siginfo as rt_sigqueueinfo's.
Result<long> sys_pidfd_send_signal(Thread& thread, const SyscallArgs& args) {
    int signal = args.integer(1);
    if (args.flags(3) != 0)
        return Error(EINVAL, "unknown pidfd_send_signal flags");
    auto pid_file = std::dynamic_pointer_cast<PidFile>(TRY(file_of(thread, args.fd(0))));
    if (!pid_file)
        return Error(EBADF, "not a pidfd");
    TRY(check_signal_number(signal));
    Process* target = thread.kernel().processes().find(pid_file->pid());
    if (!target)
        return Error(ESRCH, "the process is gone");
    siginfo_t info = sent_by(thread, signal, SI_USER);
    if (args.address(2)) {
        info = TRY(queued_info(thread, signal, args.address(2), target == &thread.process()));
        siginfo_t given = TRY(read_user<siginfo_t>(thread, args.address(2)));
        if (given.si_signo != signal)
            return Error(EINVAL, "siginfo is for another signal");
    }
    return signal_process(thread, *target, signal, info);
}

}  // namespace myst::kernel

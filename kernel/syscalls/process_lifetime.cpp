// Ending a process: exit, exit_group, and the signals a program sends itself
// (abort() raises SIGABRT): the program's handler runs, or the default
// action ends the process with 128+signal, as a shell reports it.
#include <signal.h>

#include "kernel/kernel.h"
#include "kernel/process.h"
#include "kernel/signal_delivery.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/thread_lifecycle.h"

namespace myst::kernel {

namespace {

Result<long> deliver_to_self(Thread& thread, int signal, int code) {
    if (signal < 0 || signal >= signal_count)
        return Error(EINVAL, "bad signal number");
    if (signal == 0)
        return 0;
    siginfo_t info{};
    info.si_signo = signal;
    info.si_code = code;
    info.si_pid = thread.process().pid();
    info.si_uid = thread.process().credentials().uid;
    TRY(raise_signal_from_syscall(thread, signal, info));
    return 0;
}

// A signal from the caller to one thread of its process: the caller itself
// acts on it now; another thread gets it pending and is interrupted.
Result<long> send_to_thread(Thread& thread, pid_t tid, int signal) {
    if (tid <= 0)
        return Error(EINVAL, "bad thread id");
    Thread* target = thread.process().find_thread(tid);
    if (!target || target->exit_started)
        return Error(ESRCH, "no such thread");
    if (target == &thread)
        return deliver_to_self(thread, signal, SI_TKILL);
    if (signal < 0 || signal >= signal_count)
        return Error(EINVAL, "bad signal number");
    if (signal == 0)
        return 0;
    siginfo_t info{};
    info.si_signo = signal;
    info.si_code = SI_TKILL;
    info.si_pid = thread.process().pid();
    info.si_uid = thread.process().credentials().uid;
    TRY(post_signal(thread, *target, signal, info));
    return 0;
}

}  // namespace

// Exit implements Linux syscall exit(2): the calling thread ends; the
// process ends with its last thread.
Result<long> sys_exit(Thread& thread, const SyscallArgs& args) {
    exit_thread(thread, args.integer(0) & 0xff);
}

// ExitGroup implements Linux syscall exit_group(2): every thread ends.
Result<long> sys_exit_group(Thread& thread, const SyscallArgs& args) {
    terminate_process(thread, args.integer(0) & 0xff);
}

// Kill implements Linux syscall kill(2) for the calling process only.
Result<long> sys_kill(Thread& thread, const SyscallArgs& args) {
    pid_t pid = args.integer(0);
    if (pid != thread.process().pid() && pid != 0 && pid != -1)
        return Error(ESRCH, "no such process");
    return deliver_to_self(thread, args.integer(1), SI_USER);
}

// Tkill implements Linux syscall tkill(2) for the threads of the caller's process.
Result<long> sys_tkill(Thread& thread, const SyscallArgs& args) {
    return send_to_thread(thread, args.integer(0), args.integer(1));
}

// Tgkill implements Linux syscall tgkill(2) for the threads of the caller's process.
Result<long> sys_tgkill(Thread& thread, const SyscallArgs& args) {
    if (args.integer(0) <= 0 || args.integer(1) <= 0)
        return Error(EINVAL, "bad thread id");
    if (args.integer(0) != thread.process().pid())
        return Error(ESRCH, "no such process");
    return send_to_thread(thread, args.integer(1), args.integer(2));
}

// Wait4 implements Linux syscall wait4(2): without child processes yet, ECHILD.
Result<long> sys_wait4(Thread&, const SyscallArgs&) {
    return Error(ECHILD, "no child processes");
}

}  // namespace myst::kernel

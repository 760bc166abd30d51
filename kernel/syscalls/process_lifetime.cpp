// Ending a process: exit, exit_group, and the signals a program sends itself
// (abort() raises SIGABRT): the program's handler runs, or the default
// action ends the process with 128+signal, as a shell reports it.
#include <signal.h>

#include "entry/entry.h"
#include "kernel/kernel.h"
#include "kernel/process.h"
#include "kernel/signal_delivery.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"

namespace myst::kernel {

namespace {

[[noreturn]] void terminate_process(int status) {
    entry::leave_program(status);
}

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

}  // namespace

// Exit implements Linux syscall exit(2). With one thread per process it ends the process.
Result<long> sys_exit(Thread&, const SyscallArgs& args) {
    terminate_process(args.integer(0) & 0xff);
}

// ExitGroup implements Linux syscall exit_group(2).
Result<long> sys_exit_group(Thread&, const SyscallArgs& args) {
    terminate_process(args.integer(0) & 0xff);
}

// Kill implements Linux syscall kill(2) for the calling process only.
Result<long> sys_kill(Thread& thread, const SyscallArgs& args) {
    pid_t pid = args.integer(0);
    if (pid != thread.process().pid() && pid != 0 && pid != -1)
        return Error(ESRCH, "no such process");
    return deliver_to_self(thread, args.integer(1), SI_USER);
}

// Tkill implements Linux syscall tkill(2) for the calling thread.
Result<long> sys_tkill(Thread& thread, const SyscallArgs& args) {
    if (args.integer(0) != thread.tid())
        return Error(ESRCH, "no such thread");
    return deliver_to_self(thread, args.integer(1), SI_TKILL);
}

// Tgkill implements Linux syscall tgkill(2) for the calling thread.
Result<long> sys_tgkill(Thread& thread, const SyscallArgs& args) {
    if (args.integer(0) != thread.process().pid() || args.integer(1) != thread.tid())
        return Error(ESRCH, "no such thread");
    return deliver_to_self(thread, args.integer(2), SI_TKILL);
}

// Wait4 implements Linux syscall wait4(2): without child processes yet, ECHILD.
Result<long> sys_wait4(Thread&, const SyscallArgs&) {
    return Error(ECHILD, "no child processes");
}

}  // namespace myst::kernel

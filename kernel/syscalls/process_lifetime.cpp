// Ending threads and processes: exit, exit_group, and waiting for children.
#include <signal.h>

#include "kernel/kernel.h"
#include "kernel/process.h"
#include "kernel/signal_delivery.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/thread_lifecycle.h"

namespace myst::kernel {

// Exit implements Linux syscall exit(2): the calling thread ends; the
// process ends with its last thread.
Result<long> sys_exit(Thread& thread, const SyscallArgs& args) {
    exit_thread(thread, args.integer(0) & 0xff);
}

// ExitGroup implements Linux syscall exit_group(2): every thread ends.
Result<long> sys_exit_group(Thread& thread, const SyscallArgs& args) {
    terminate_process(thread, args.integer(0) & 0xff);
}

// Wait4 implements Linux syscall wait4(2): without child processes yet, ECHILD.
Result<long> sys_wait4(Thread&, const SyscallArgs&) {
    return Error(ECHILD, "no child processes");
}

}  // namespace myst::kernel

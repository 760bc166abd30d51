// Ending threads and processes: exit and exit_group.
#include <signal.h>

#include "kernel/kernel.h"
#include "kernel/process.h"
#include "kernel/process_lifecycle.h"
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
    terminate_process(thread, exited_status(args.integer(0)));
}

}  // namespace myst::kernel

// Scheduling queries and memory barriers. Program threads are host threads
// scheduled by the host with the default policy, so the kernel reports
// SCHED_OTHER at priority 0 and lets only that be set.
#include <linux/membarrier.h>
#include <sched.h>

#include "kernel/kernel.h"
#include "kernel/process.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

// 0 names the caller; otherwise a thread of its process.
Result<void> check_scheduling_target(Thread& thread, pid_t pid) {
    if (pid < 0)
        return Error(EINVAL, "negative pid");
    if (pid != 0 && pid != thread.process().pid() && !thread.process().find_thread(pid))
        return Error(ESRCH, "no such thread");
    return {};
}

}  // namespace

// SchedGetscheduler implements Linux syscall sched_getscheduler(2).
Result<long> sys_sched_getscheduler(Thread& thread, const SyscallArgs& args) {
    TRY(check_scheduling_target(thread, args.integer(0)));
    return SCHED_OTHER;
}

// SchedGetparam implements Linux syscall sched_getparam(2).
Result<long> sys_sched_getparam(Thread& thread, const SyscallArgs& args) {
    TRY(check_scheduling_target(thread, args.integer(0)));
    if (args.address(1) == 0)
        return Error(EINVAL, "no sched_param");
    TRY(write_user(thread, args.address(1), sched_param{0}));
    return 0;
}

// SchedSetscheduler implements Linux syscall sched_setscheduler(2): only
// SCHED_OTHER (and SCHED_BATCH/IDLE, which change nothing visible) at 0.
Result<long> sys_sched_setscheduler(Thread& thread, const SyscallArgs& args) {
    TRY(check_scheduling_target(thread, args.integer(0)));
    auto param = TRY(read_user<sched_param>(thread, args.address(2)));
    int policy = args.integer(1) & ~SCHED_RESET_ON_FORK;
    if (policy == SCHED_FIFO || policy == SCHED_RR)
        return Error(EPERM, "real-time scheduling is not served");
    if ((policy != SCHED_OTHER && policy != SCHED_BATCH && policy != SCHED_IDLE) ||
        param.sched_priority != 0)
        return Error(EINVAL, "bad policy or priority");
    return 0;
}

// SchedGetPriorityMax implements Linux syscall sched_get_priority_max(2).
Result<long> sys_sched_get_priority_max(Thread&, const SyscallArgs& args) {
    int policy = args.integer(0);
    if (policy == SCHED_FIFO || policy == SCHED_RR)
        return 99;
    if (policy == SCHED_OTHER || policy == SCHED_BATCH || policy == SCHED_IDLE)
        return 0;
    return Error(EINVAL, "unknown policy");
}

// SchedGetPriorityMin implements Linux syscall sched_get_priority_min(2).
Result<long> sys_sched_get_priority_min(Thread& thread, const SyscallArgs& args) {
    long max = TRY(sys_sched_get_priority_max(thread, args));
    return max > 0 ? 1 : 0;
}

// Membarrier implements Linux syscall membarrier(2): QUERY and the
// private-expedited commands. Every program thread is a host thread of
// this process, so the host's own membarrier serves them.
Result<long> sys_membarrier(Thread& thread, const SyscallArgs& args) {
    constexpr long served =
        MEMBARRIER_CMD_PRIVATE_EXPEDITED | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED;
    if (args.integer(1) != 0)
        return Error(EINVAL, "unknown flags");
    switch (args.integer(0)) {
        case MEMBARRIER_CMD_QUERY:
            return served;
        case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED:
            thread.process().membarrier_registered = true;
            return 0;
        case MEMBARRIER_CMD_PRIVATE_EXPEDITED:
            if (!thread.process().membarrier_registered)
                return Error(EPERM, "not registered for private expedited membarrier");
            TRY(thread.kernel().target().memory_barrier_all_threads());
            return 0;
        default:
            return Error(EINVAL, "membarrier command not served");
    }
}

}  // namespace myst::kernel

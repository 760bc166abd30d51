// Scheduling: policies, nice values and memory barriers. Program threads
// are host threads scheduled by the host with its default policy; the
// kernel keeps what the program set (a fair policy, a nice value per
// process) with Linux's checks, and reports it back. Real-time and
// deadline policies are refused as for a process without CAP_SYS_NICE.
#include <linux/capability.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>

#include "kernel/capabilities.h"
#include "kernel/kernel.h"
#include "kernel/process.h"
#include "kernel/process_table.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

constexpr int min_nice = -20, max_nice = 19;
constexpr int sched_deadline = 6;
// sched_attr's sched_flags (linux/sched.h).
constexpr uint64_t flag_reset_on_fork = 0x01, flag_keep_policy = 0x08, flag_keep_params = 0x10,
                   flag_util_clamp = 0x20 | 0x40, flags_all = 0x7f;

// sched_setattr(2)'s struct sched_attr, as the program passes it.
struct SchedAttr {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime, sched_deadline, sched_period;
    uint32_t sched_util_min, sched_util_max;
};
constexpr uint32_t sched_attr_size_ver0 = 48;

bool fair_policy(int policy) {
    return policy == SCHED_OTHER || policy == SCHED_BATCH || policy == SCHED_IDLE;
}

// The process `pid` names (0: the caller's); a thread id names the
// process the thread belongs to, since the kernel keeps scheduling state
// per process.
Result<Process*> scheduling_target(Thread& thread, pid_t pid) {
    if (pid < 0)
        return Error(EINVAL, "negative pid");
    if (pid == 0 || pid == thread.process().pid())
        return &thread.process();
    for (Process* process : thread.kernel().processes().all())
        if (!process->ended && (process->pid() == pid || process->find_thread(pid)))
            return process;
    return Error(ESRCH, "no such process");
}

// Linux's can_nice: a nice value as low as `nice` is within RLIMIT_NICE
// (which counts 20 - nice) or needs CAP_SYS_NICE.
bool can_nice(Thread& thread, Process& target, int nice) {
    return static_cast<rlim_t>(20 - nice) <= target.limits()[RLIMIT_NICE].rlim_cur ||
           capable(thread.process().credentials(), CAP_SYS_NICE);
}

// Linux's check_same_owner: the caller's effective uid owns the target.
bool same_owner(Thread& thread, Process& target) {
    const Credentials& own = thread.process().credentials();
    const Credentials& other = target.credentials();
    return own.euid == other.euid || own.euid == other.uid;
}

// setpriority(2) on one process: EPERM when the caller may not touch it,
// EACCES when lowering its nice value needs privilege.
Result<void> set_nice(Thread& thread, Process& target, int nice) {
    const Credentials& own = thread.process().credentials();
    const Credentials& other = target.credentials();
    if (other.uid != own.euid && other.euid != own.euid && !capable(own, CAP_SYS_NICE))
        return Error(EPERM, "not the owner of the process");
    if (nice < target.nice && !can_nice(thread, target, nice))
        return Error(EACCES, "lowering the nice value needs CAP_SYS_NICE");
    target.nice = nice;
    return {};
}

// The processes getpriority/setpriority's (which, who) names.
Result<std::vector<Process*>> priority_targets(Thread& thread, int which, int who) {
    std::vector<Process*> targets;
    switch (which) {
        case PRIO_PROCESS: {
            auto found = scheduling_target(thread, who);
            if (!found.is_error())
                targets.push_back(found.value());
            return targets;
        }
        case PRIO_PGRP: {
            pid_t group = who ? who : thread.process().group_id;
            for (Process* process : thread.kernel().processes().all())
                if (!process->ended && process->group_id == group)
                    targets.push_back(process);
            return targets;
        }
        case PRIO_USER: {
            uid_t uid = who ? static_cast<uid_t>(who) : thread.process().credentials().uid;
            for (Process* process : thread.kernel().processes().all())
                if (!process->ended && process->credentials().uid == uid)
                    targets.push_back(process);
            return targets;
        }
        default:
            return Error(EINVAL, "bad priority target kind");
    }
}

// Linux's __sched_setscheduler for the policies the kernel keeps:
// `policy` -1 keeps the current one (sched_setparam), `nice` is applied to
// fair policies unless `keep_nice`.
Result<void> set_scheduling(Thread& thread, Process& target, int policy, uint64_t flags,
                            uint32_t priority, int nice, bool keep_nice) {
    bool reset_on_fork = flags & flag_reset_on_fork;
    if (policy < 0) {
        policy = target.sched_policy;
        reset_on_fork = target.sched_reset_on_fork;
    } else if (!fair_policy(policy) && policy != SCHED_FIFO && policy != SCHED_RR &&
               policy != sched_deadline) {
        return Error(EINVAL, "unknown policy");
    }
    if (flags & ~flags_all)
        return Error(EINVAL, "unknown scheduling flags");
    bool real_time = policy == SCHED_FIFO || policy == SCHED_RR;
    if (priority > 99 || real_time != (priority != 0))
        return Error(EINVAL, "priority does not fit the policy");
    // Real-time and deadline scheduling would need host privilege the
    // kernel does not use: refused as for a caller without CAP_SYS_NICE.
    if (real_time || policy == sched_deadline)
        return Error(EPERM, "real-time scheduling is not served");
    if (keep_nice)
        nice = target.nice;
    if (!capable(thread.process().credentials(), CAP_SYS_NICE)) {
        if ((nice < target.nice && !can_nice(thread, target, nice)) ||
            (target.sched_policy == SCHED_IDLE && policy != SCHED_IDLE &&
             !can_nice(thread, target, target.nice)) ||
            !same_owner(thread, target) || (target.sched_reset_on_fork && !reset_on_fork))
            return Error(EPERM, "changing the scheduling needs CAP_SYS_NICE");
    }
    // Without util clamping (CONFIG_UCLAMP_TASK), as a kernel built without it.
    if (flags & flag_util_clamp)
        return Error(EOPNOTSUPP, "utilization clamping is not served");
    target.sched_policy = policy;
    target.sched_reset_on_fork = reset_on_fork;
    target.nice = nice;
    return {};
}

// Reads a struct sched_attr of the program's size (0: the first version's
// 48 bytes); bytes past the kernel's struct must be zero. A bad size is
// E2BIG with the kernel's size written back, as Linux.
Result<SchedAttr> read_sched_attr(Thread& thread, uint64_t address) {
    SchedAttr attr{};
    uint32_t size = TRY(read_user<uint32_t>(thread, address));
    if (size == 0)
        size = sched_attr_size_ver0;
    bool fits = size >= sched_attr_size_ver0 && size <= 4096;
    if (fits && size > sizeof(SchedAttr)) {
        std::vector<uint8_t> rest(size - sizeof(SchedAttr));
        TRY(copy_from_user(thread, rest.data(), address + sizeof(SchedAttr), rest.size()));
        fits = std::all_of(rest.begin(), rest.end(), [](uint8_t byte) { return byte == 0; });
    }
    if (!fits) {
        TRY(write_user<uint32_t>(thread, address, sizeof(SchedAttr)));
        return Error(E2BIG, "bad sched_attr size");
    }
    TRY(copy_from_user(thread, &attr, address, std::min<size_t>(size, sizeof attr)));
    if ((attr.sched_flags & flag_util_clamp) && size < sizeof(SchedAttr))
        return Error(EINVAL, "util clamping needs the second sched_attr version");
    attr.sched_nice = std::clamp(attr.sched_nice, min_nice, max_nice);
    return attr;
}

// The thread `tid` names (0: the caller), in any process.
Result<Thread*> affinity_target(Thread& thread, pid_t tid) {
    if (tid == 0)
        return &thread;
    if (tid > 0)
        for (Process* process : thread.kernel().processes().all())
            if (Thread* found = process->ended ? nullptr : process->find_thread(tid))
                return found;
    return Error(ESRCH, "no such thread");
}

// The bytes of a CPU mask as Linux's cpumask_size() counts them: the
// host's, within cpu_set_t.
uint64_t cpu_mask_bytes(Thread& thread) {
    return std::min<uint64_t>(thread.kernel().target().cpu_mask_bytes(), sizeof(cpu_set_t));
}

cpu_set_t every_cpu(unsigned cpus) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (unsigned cpu = 0; cpu < cpus; ++cpu)
        CPU_SET(cpu, &set);
    return set;
}

unsigned cpu_total(Thread& thread) {
    return std::min<unsigned>(thread.kernel().target().cpu_count(), CPU_SETSIZE);
}

}  // namespace

// SchedGetaffinity implements Linux syscall sched_getaffinity(2): the mask
// sched_setaffinity gave the thread, else every CPU the host gives the
// kernel; returns the bytes written, as the raw call does.
Result<long> sys_sched_getaffinity(Thread& thread, const SyscallArgs& args) {
    uint64_t size = args.size(1);
    unsigned cpus = cpu_total(thread);
    if (size * 8 < cpus || size % sizeof(uint64_t) != 0)
        return Error(EINVAL, "cpu set size too small or not whole longs");
    Thread* target = TRY(affinity_target(thread, args.integer(0)));
    cpu_set_t set = target->cpu_affinity.value_or(every_cpu(cpus));
    uint64_t bytes = std::min(size, cpu_mask_bytes(thread));
    TRY(copy_to_user(thread, args.address(2), &set, bytes));
    return static_cast<long>(bytes);
}

// SchedSetaffinity implements Linux syscall sched_setaffinity(2): the mask
// is kept for sched_getaffinity (within the CPUs there are; none of them
// is EINVAL), with Linux's owner-or-CAP_SYS_NICE rule; the host places the
// threads.
Result<long> sys_sched_setaffinity(Thread& thread, const SyscallArgs& args) {
    unsigned cpus = cpu_total(thread);
    cpu_set_t wanted;
    CPU_ZERO(&wanted);
    uint64_t bytes = std::min<uint64_t>(args.size(1), cpu_mask_bytes(thread));
    TRY(copy_from_user(thread, &wanted, args.address(2), bytes));
    Thread* target = TRY(affinity_target(thread, args.integer(0)));
    if (!same_owner(thread, target->process()) &&
        !capable(thread.process().credentials(), CAP_SYS_NICE))
        return Error(EPERM, "not the owner of the thread");
    cpu_set_t online = every_cpu(cpus);
    CPU_AND(&wanted, &wanted, &online);
    if (CPU_COUNT(&wanted) == 0)
        return Error(EINVAL, "no CPU of the mask is there");
    target->cpu_affinity = wanted;
    return 0;
}

// Getpriority implements Linux syscall getpriority(2): the raw call
// returns 20 - nice (1..40) of the highest-priority process named.
Result<long> sys_getpriority(Thread& thread, const SyscallArgs& args) {
    auto targets = TRY(priority_targets(thread, args.integer(0), args.integer(1)));
    if (targets.empty())
        return Error(ESRCH, "no process matches");
    int lowest = max_nice;
    for (Process* process : targets)
        lowest = std::min(lowest, process->nice);
    return 20 - lowest;
}

// Setpriority implements Linux syscall setpriority(2): the value is
// clamped to -20..19; the error of the last process that refused is
// returned, unless none matched (ESRCH).
Result<long> sys_setpriority(Thread& thread, const SyscallArgs& args) {
    auto targets = TRY(priority_targets(thread, args.integer(0), args.integer(1)));
    int nice = std::clamp(args.integer(2), min_nice, max_nice);
    Result<long> result = Error(ESRCH, "no process matches");
    for (Process* process : targets) {
        auto set = set_nice(thread, *process, nice);
        if (set.is_error())
            result = set.release_error();
        else if (result.is_error() && result.error().code() == ESRCH)
            result = 0;
    }
    return result;
}

// SchedGetscheduler implements Linux syscall sched_getscheduler(2).
Result<long> sys_sched_getscheduler(Thread& thread, const SyscallArgs& args) {
    Process* target = TRY(scheduling_target(thread, args.integer(0)));
    return target->sched_policy | (target->sched_reset_on_fork ? SCHED_RESET_ON_FORK : 0);
}

// SchedGetparam implements Linux syscall sched_getparam(2): fair policies
// have priority 0.
Result<long> sys_sched_getparam(Thread& thread, const SyscallArgs& args) {
    if (args.address(1) == 0 || args.integer(0) < 0)
        return Error(EINVAL, "no sched_param");
    TRY(scheduling_target(thread, args.integer(0)));
    TRY(write_user(thread, args.address(1), sched_param{0}));
    return 0;
}

// SchedSetparam implements Linux syscall sched_setparam(2): the policy
// stays; a fair one only takes priority 0 (EINVAL otherwise).
Result<long> sys_sched_setparam(Thread& thread, const SyscallArgs& args) {
    if (args.address(1) == 0 || args.integer(0) < 0)
        return Error(EINVAL, "no sched_param");
    auto param = TRY(read_user<sched_param>(thread, args.address(1)));
    Process* target = TRY(scheduling_target(thread, args.integer(0)));
    TRY(set_scheduling(thread, *target, -1, 0, static_cast<uint32_t>(param.sched_priority), 0,
                       true));
    return 0;
}

// SchedSetscheduler implements Linux syscall sched_setscheduler(2): the
// fair policies, at priority 0, keeping the nice value.
Result<long> sys_sched_setscheduler(Thread& thread, const SyscallArgs& args) {
    if (args.address(2) == 0 || args.integer(0) < 0)
        return Error(EINVAL, "no sched_param");
    auto param = TRY(read_user<sched_param>(thread, args.address(2)));
    Process* target = TRY(scheduling_target(thread, args.integer(0)));
    int policy = args.integer(1);
    if (policy < 0)
        return Error(EINVAL, "bad policy");
    uint64_t flags = (policy & SCHED_RESET_ON_FORK) ? flag_reset_on_fork : 0;
    TRY(set_scheduling(thread, *target, policy & ~SCHED_RESET_ON_FORK, flags,
                       static_cast<uint32_t>(param.sched_priority), 0, true));
    return 0;
}

// SchedSetattr implements Linux syscall sched_setattr(2) for the fair
// policies and their nice value.
Result<long> sys_sched_setattr(Thread& thread, const SyscallArgs& args) {
    if (args.address(1) == 0 || args.integer(0) < 0 || args.flags(2) != 0)
        return Error(EINVAL, "bad sched_setattr arguments");
    SchedAttr attr = TRY(read_sched_attr(thread, args.address(1)));
    if (static_cast<int>(attr.sched_policy) < 0)
        return Error(EINVAL, "bad policy");
    int policy = (attr.sched_flags & flag_keep_policy) ? -1 : static_cast<int>(attr.sched_policy);
    Process* target = TRY(scheduling_target(thread, args.integer(0)));
    TRY(set_scheduling(thread, *target, policy, attr.sched_flags, attr.sched_priority,
                       attr.sched_nice, attr.sched_flags & flag_keep_params));
    return 0;
}

// SchedGetattr implements Linux syscall sched_getattr(2): as much of the
// kernel's struct as the program's size holds, its size set to that.
Result<long> sys_sched_getattr(Thread& thread, const SyscallArgs& args) {
    uint64_t size = args.size(2);
    if (args.address(1) == 0 || args.integer(0) < 0 || size > 4096 || size < sched_attr_size_ver0 ||
        args.flags(3) != 0)
        return Error(EINVAL, "bad sched_getattr arguments");
    Process* target = TRY(scheduling_target(thread, args.integer(0)));
    SchedAttr attr{};
    attr.size = static_cast<uint32_t>(std::min<uint64_t>(size, sizeof attr));
    attr.sched_policy = static_cast<uint32_t>(target->sched_policy);
    attr.sched_flags = target->sched_reset_on_fork ? flag_reset_on_fork : 0;
    attr.sched_nice = target->nice;
    TRY(copy_to_user(thread, args.address(1), &attr, attr.size));
    return 0;
}

// SchedRrGetInterval implements Linux syscall sched_rr_get_interval(2):
// the fair policies have no fixed time slice the kernel could promise (the
// host schedules its threads), which Linux reports as 0.
Result<long> sys_sched_rr_get_interval(Thread& thread, const SyscallArgs& args) {
    TRY(scheduling_target(thread, args.integer(0)));
    TRY(write_user(thread, args.address(1), timespec{0, 0}));
    return 0;
}

// SchedGetPriorityMax implements Linux syscall sched_get_priority_max(2).
Result<long> sys_sched_get_priority_max(Thread&, const SyscallArgs& args) {
    int policy = args.integer(0);
    if (policy == SCHED_FIFO || policy == SCHED_RR)
        return 99;
    if (fair_policy(policy) || policy == sched_deadline)
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

// Resource limits, usage and scheduling queries.
#include <sched.h>
#include <sys/resource.h>
#include <sys/times.h>

#include <algorithm>

#include "kernel/fd_table.h"
#include "kernel/fs_context.h"
#include "kernel/kernel.h"
#include "kernel/process.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

Result<struct rlimit*> limit_of(Thread& thread, pid_t pid, int resource) {
    if (pid != 0 && pid != thread.process().pid())
        return Error(ESRCH, "no such process");
    if (resource < 0 || resource >= RLIM_NLIMITS)
        return Error(EINVAL, "unknown resource");
    return &thread.process().limits()[resource];
}

Result<void> set_limit(Thread& thread, int resource, struct rlimit& limit,
                       const struct rlimit& wanted) {
    if (wanted.rlim_cur > wanted.rlim_max)
        return Error(EINVAL, "soft limit above hard limit");
    if (wanted.rlim_max > limit.rlim_max && thread.process().credentials().euid != 0)
        return Error(EPERM, "raising a hard limit needs root");
    // As Linux's fs.nr_open: no descriptor limit past the table's ceiling.
    if (resource == RLIMIT_NOFILE && wanted.rlim_max > FdTable::kMaxLimit)
        return Error(EPERM, "RLIMIT_NOFILE above the descriptor ceiling");
    limit = wanted;
    // The descriptor table enforces the soft limit; descriptors already open
    // past a lowered one stay open, as on Linux.
    if (resource == RLIMIT_NOFILE)
        thread.process().fs().fds.set_limit(static_cast<int>(wanted.rlim_cur));
    return {};
}

// CPU time as getrusage(2) and times(2) report it. The program's threads
// are host threads of one host process, so the process's own time is that
// process's CPU clock, all of it user time; the kernel keeps no account of
// its children's time, which reads as zero for both calls alike.
struct CpuUsage {
    struct timespec user {};
    struct timespec system {};
};

CpuUsage cpu_usage(Thread& thread, bool children) {
    CpuUsage usage;
    if (!children) {
        auto cpu = thread.kernel().target().clock_time(CLOCK_PROCESS_CPUTIME_ID);
        if (!cpu.is_error())
            usage.user = cpu.value();
    }
    return usage;
}

// Clock ticks (USER_HZ) in a time.
clock_t ticks(const struct timespec& time) {
    constexpr long hz = 100;
    return static_cast<clock_t>(time.tv_sec * hz + time.tv_nsec / (1000000000 / hz));
}

}  // namespace

// Prlimit64 implements Linux syscall prlimit64(2) for the calling process.
Result<long> sys_prlimit64(Thread& thread, const SyscallArgs& args) {
    struct rlimit* limit = TRY(limit_of(thread, args.integer(0), args.integer(1)));
    struct rlimit old = *limit;
    if (args.address(2)) {
        auto wanted = TRY(read_user<struct rlimit>(thread, args.address(2)));
        TRY(set_limit(thread, args.integer(1), *limit, wanted));
    }
    if (args.address(3))
        TRY(write_user(thread, args.address(3), old));
    return 0;
}

// Getrlimit implements Linux syscall getrlimit(2).
Result<long> sys_getrlimit(Thread& thread, const SyscallArgs& args) {
    struct rlimit* limit = TRY(limit_of(thread, 0, args.integer(0)));
    TRY(write_user(thread, args.address(1), *limit));
    return 0;
}

// Setrlimit implements Linux syscall setrlimit(2).
Result<long> sys_setrlimit(Thread& thread, const SyscallArgs& args) {
    struct rlimit* limit = TRY(limit_of(thread, 0, args.integer(0)));
    auto wanted = TRY(read_user<struct rlimit>(thread, args.address(1)));
    TRY(set_limit(thread, args.integer(0), *limit, wanted));
    return 0;
}

// Getrusage implements Linux syscall getrusage(2) with CPU times from the
// host's clocks and zero for the counters the kernel does not keep.
Result<long> sys_getrusage(Thread& thread, const SyscallArgs& args) {
    int who = args.integer(0);
    if (who != RUSAGE_SELF && who != RUSAGE_THREAD && who != RUSAGE_CHILDREN)
        return Error(EINVAL, "bad getrusage target");
    struct rusage usage {};
    CpuUsage cpu = cpu_usage(thread, who == RUSAGE_CHILDREN);
    usage.ru_utime = {cpu.user.tv_sec, cpu.user.tv_nsec / 1000};
    usage.ru_stime = {cpu.system.tv_sec, cpu.system.tv_nsec / 1000};
    TRY(write_user(thread, args.address(1), usage));
    return 0;
}

// Times implements Linux syscall times(2): the CPU times getrusage(2)
// reports, in clock ticks (USER_HZ, 100 a second), and the ticks since
// the host booted (an arbitrary but monotonic point, as Linux's jiffies).
Result<long> sys_times(Thread& thread, const SyscallArgs& args) {
    if (args.address(0)) {
        CpuUsage self = cpu_usage(thread, false);
        CpuUsage children = cpu_usage(thread, true);
        struct tms times {
            .tms_utime = ticks(self.user), .tms_stime = ticks(self.system),
            .tms_cutime = ticks(children.user), .tms_cstime = ticks(children.system),
        };
        TRY(write_user(thread, args.address(0), times));
    }
    struct timespec now = TRY(thread.kernel().target().clock_time(CLOCK_BOOTTIME));
    return ticks(now);
}

// SchedYield implements Linux syscall sched_yield(2).
Result<long> sys_sched_yield(Thread& thread, const SyscallArgs&) {
    thread.kernel().target().yield();
    return 0;
}

// Getcpu implements Linux syscall getcpu(2): the host places the threads,
// so the lowest CPU the thread's affinity allows.
Result<long> sys_getcpu(Thread& thread, const SyscallArgs& args) {
    unsigned cpu = 0;
    if (thread.cpu_affinity)
        while (cpu + 1 < CPU_SETSIZE && !CPU_ISSET(cpu, &*thread.cpu_affinity))
            ++cpu;
    if (args.address(0))
        TRY(write_user(thread, args.address(0), cpu));
    if (args.address(1))
        TRY(write_user(thread, args.address(1), 0u));
    return 0;
}

}  // namespace myst::kernel

// Clocks and sleeping. Programs normally read clocks through the host vDSO
// (AT_SYSINFO_EHDR) without entering the kernel; these serve the fallbacks.
#include <sys/time.h>
#include <time.h>

#include "kernel/kernel.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

Result<struct timespec> read_clock(Thread& thread, clockid_t clock) {
    switch (clock) {
        case CLOCK_REALTIME:
        case CLOCK_MONOTONIC:
        case CLOCK_MONOTONIC_RAW:
        case CLOCK_REALTIME_COARSE:
        case CLOCK_MONOTONIC_COARSE:
        case CLOCK_BOOTTIME:
        case CLOCK_PROCESS_CPUTIME_ID:
        case CLOCK_THREAD_CPUTIME_ID:
            return thread.kernel().target().clock_time(clock);
        default:
            return Error(EINVAL, "unknown clock");
    }
}

Result<struct timespec> read_duration(Thread& thread, uint64_t address) {
    auto duration = TRY(read_user<struct timespec>(thread, address));
    if (duration.tv_sec < 0 || duration.tv_nsec < 0 || duration.tv_nsec >= 1000000000)
        return Error(EINVAL, "bad timespec");
    return duration;
}

}  // namespace

// ClockGettime implements Linux syscall clock_gettime(2).
Result<long> sys_clock_gettime(Thread& thread, const SyscallArgs& args) {
    struct timespec now = TRY(read_clock(thread, args.integer(0)));
    TRY(write_user(thread, args.address(1), now));
    return 0;
}

// ClockGetres implements Linux syscall clock_getres(2).
Result<long> sys_clock_getres(Thread& thread, const SyscallArgs& args) {
    TRY(read_clock(thread, args.integer(0)));
    if (args.address(1))
        TRY(write_user(thread, args.address(1), timespec{0, 1}));
    return 0;
}

// Gettimeofday implements Linux syscall gettimeofday(2).
Result<long> sys_gettimeofday(Thread& thread, const SyscallArgs& args) {
    if (args.address(0)) {
        struct timespec now = TRY(read_clock(thread, CLOCK_REALTIME));
        TRY(write_user(thread, args.address(0), timeval{now.tv_sec, now.tv_nsec / 1000}));
    }
    if (args.address(1)) {
        struct timezone zone {};  // UTC: the kernel keeps no local time zone
        TRY(write_user(thread, args.address(1), zone));
    }
    return 0;
}

// Time implements Linux syscall time(2).
Result<long> sys_time(Thread& thread, const SyscallArgs& args) {
    struct timespec now = TRY(read_clock(thread, CLOCK_REALTIME));
    if (args.address(0))
        TRY(write_user<time_t>(thread, args.address(0), now.tv_sec));
    return now.tv_sec;
}

// Nanosleep implements Linux syscall nanosleep(2).
Result<long> sys_nanosleep(Thread& thread, const SyscallArgs& args) {
    struct timespec duration = TRY(read_duration(thread, args.address(0)));
    TRY(thread.kernel().target().sleep(duration));
    return 0;
}

// ClockNanosleep implements Linux syscall clock_nanosleep(2), relative or TIMER_ABSTIME.
Result<long> sys_clock_nanosleep(Thread& thread, const SyscallArgs& args) {
    clockid_t clock = args.integer(0);
    struct timespec request = TRY(read_duration(thread, args.address(2)));
    if (args.integer(1) & TIMER_ABSTIME) {
        struct timespec now = TRY(read_clock(thread, clock));
        int64_t left = (request.tv_sec - now.tv_sec) * 1000000000 + (request.tv_nsec - now.tv_nsec);
        if (left <= 0)
            return 0;
        request = {left / 1000000000, left % 1000000000};
    } else {
        TRY(read_clock(thread, clock));
    }
    TRY(thread.kernel().target().sleep(request));
    return 0;
}

}  // namespace myst::kernel

// Clocks and sleeping. Programs normally read clocks through the host vDSO
// (AT_SYSINFO_EHDR) without entering the kernel; these serve the fallbacks.
#include <sys/time.h>
#include <time.h>

#include "kernel/kernel.h"
#include "kernel/signal_delivery.h"
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

// A sleep that a signal with a handler ends with EINTR, the time left
// written to `remaining_address` (relative sleeps), as Linux's nanosleep.
// An interrupt for no deliverable signal sleeps on.
Result<long> sleep_interruptibly(Thread& thread, clockid_t clock, bool absolute,
                                 struct timespec request, uint64_t remaining_address) {
    while (true) {
        const uint8_t* interrupted = TRY(begin_interruptible_wait(thread));
        struct timespec remaining = request;
        auto slept = [&] {
            BlockingScope waiting(thread);
            return thread.kernel().target().sleep(clock, absolute, request, &remaining,
                                                  interrupted);
        }();
        if (!slept.is_error())
            return 0;
        if (slept.error().code() != EINTR)
            return slept.error();
        if (!absolute)
            request = remaining;
        if (wait_must_end(thread)) {
            if (remaining_address)
                TRY(write_user(thread, remaining_address, remaining));
            return Error(EINTR, "interrupted by a signal");
        }
    }
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
    return sleep_interruptibly(thread, CLOCK_MONOTONIC, false, duration, args.address(1));
}

// ClockNanosleep implements Linux syscall clock_nanosleep(2), relative or TIMER_ABSTIME.
Result<long> sys_clock_nanosleep(Thread& thread, const SyscallArgs& args) {
    clockid_t clock = args.integer(0);
    if (clock == CLOCK_THREAD_CPUTIME_ID)
        return Error(EINVAL, "cannot sleep on a thread's CPU clock");
    TRY(read_clock(thread, clock));
    struct timespec request = TRY(read_duration(thread, args.address(2)));
    bool absolute = args.integer(1) & TIMER_ABSTIME;
    return sleep_interruptibly(thread, clock, absolute, request, absolute ? 0 : args.address(3));
}

}  // namespace myst::kernel

// Timers that send signals: alarm, setitimer/getitimer and the POSIX timers
// (timer_create...). kernel/process_timers.h keeps them and fires them.
#include <signal.h>
#include <sys/time.h>
#include <time.h>

#include "kernel/kernel.h"
#include "kernel/process.h"
#include "kernel/process_timers.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

using Duration = ProcessTimers::Clock::duration;

ProcessTimers& timers_of(Thread& thread) {
    return thread.process().timers(thread.kernel());
}

Result<int> interval_timer_id(int which) {
    switch (which) {
        case ITIMER_REAL:
            return ProcessTimers::itimer_real;
        case ITIMER_VIRTUAL:
            return ProcessTimers::itimer_virtual;
        case ITIMER_PROF:
            return ProcessTimers::itimer_prof;
        default:
            return Error(EINVAL, "unknown interval timer");
    }
}

struct itimerval to_itimerval(const struct itimerspec& value) {
    return {{value.it_interval.tv_sec, value.it_interval.tv_nsec / 1000},
            {value.it_value.tv_sec, value.it_value.tv_nsec / 1000}};
}

Result<Duration> checked(const struct timespec& value) {
    if (value.tv_sec < 0 || value.tv_nsec < 0 || value.tv_nsec >= 1000000000)
        return Error(EINVAL, "bad time value");
    return to_duration(value);
}

// A timer_settime value: relative, or absolute on the timer's clock.
Result<Duration> relative_value(Thread& thread, const ProcessTimers::Timer& timer,
                                const struct timespec& value, bool absolute) {
    Duration wanted = TRY(checked(value));
    if (!absolute || wanted == Duration::zero())
        return wanted;
    struct timespec now = TRY(thread.kernel().target().clock_time(timer.clock));
    Duration left = wanted - to_duration(now);
    return left > Duration::zero() ? left : Duration(1);  // past: fire now
}

}  // namespace

// Alarm implements Linux syscall alarm(2).
Result<long> sys_alarm(Thread& thread, const SyscallArgs& args) {
    auto seconds = static_cast<unsigned>(args.raw[0]);
    struct itimerspec old =
        TRY(timers_of(thread).arm(ProcessTimers::itimer_real, std::chrono::seconds(seconds), {}));
    // Linux rounds the time left to the nearest second, and never to 0.
    long left = old.it_value.tv_sec + (old.it_value.tv_nsec >= 500000000);
    if (left == 0 && old.it_value.tv_nsec > 0)
        left = 1;
    return left;
}

// Setitimer implements Linux syscall setitimer(2) (VIRTUAL/PROF count wall time).
Result<long> sys_setitimer(Thread& thread, const SyscallArgs& args) {
    int id = TRY(interval_timer_id(args.integer(0)));
    struct itimerval wanted {};
    if (args.address(1))
        wanted = TRY(read_user<struct itimerval>(thread, args.address(1)));
    for (const struct timeval& part : {wanted.it_value, wanted.it_interval})
        if (part.tv_sec < 0 || part.tv_usec < 0 || part.tv_usec >= 1000000)
            return Error(EINVAL, "bad timeval");
    auto value = std::chrono::seconds(wanted.it_value.tv_sec) +
                 std::chrono::microseconds(wanted.it_value.tv_usec);
    auto interval = std::chrono::seconds(wanted.it_interval.tv_sec) +
                    std::chrono::microseconds(wanted.it_interval.tv_usec);
    struct itimerspec old = TRY(timers_of(thread).arm(id, value, interval));
    if (args.address(2))
        TRY(write_user(thread, args.address(2), to_itimerval(old)));
    return 0;
}

// Getitimer implements Linux syscall getitimer(2).
Result<long> sys_getitimer(Thread& thread, const SyscallArgs& args) {
    int id = TRY(interval_timer_id(args.integer(0)));
    ProcessTimers& timers = timers_of(thread);
    TRY(write_user(thread, args.address(1), to_itimerval(timers.current(*TRY(timers.find(id))))));
    return 0;
}

// TimerCreate implements Linux syscall timer_create(2) for the wall clocks,
// with SIGEV_SIGNAL, SIGEV_NONE and SIGEV_THREAD_ID (glibc's SIGEV_THREAD
// is built on SIGEV_THREAD_ID).
Result<long> sys_timer_create(Thread& thread, const SyscallArgs& args) {
    ProcessTimers::Timer timer;
    timer.clock = args.integer(0);
    if (timer.clock != CLOCK_REALTIME && timer.clock != CLOCK_MONOTONIC &&
        timer.clock != CLOCK_BOOTTIME)
        return Error(EINVAL, "timers on this clock are not served");
    bool default_event = args.address(1) == 0;
    if (!default_event) {
        auto event = TRY(read_user<struct sigevent>(thread, args.address(1)));
        timer.notify = event.sigev_notify;
        timer.signal = event.sigev_signo;
        timer.value = event.sigev_value;
        if (timer.notify == SIGEV_THREAD_ID) {
            timer.thread_id = event._sigev_un._tid;
            Thread* target = thread.process().find_thread(timer.thread_id);
            if (!target || target->exit_started)
                return Error(EINVAL, "no such thread");
        } else if (timer.notify != SIGEV_SIGNAL && timer.notify != SIGEV_NONE) {
            return Error(EINVAL, "unsupported notification");
        }
        if (timer.notify != SIGEV_NONE && (timer.signal < 1 || timer.signal >= signal_count))
            return Error(EINVAL, "bad signal");
    }
    int id = TRY(timers_of(thread).create(timer));
    if (default_event)
        TRY(timers_of(thread).find(id))->value.sival_int = id;
    auto written = write_user<int32_t>(thread, args.address(2), id);
    if (written.is_error()) {
        (void)timers_of(thread).remove(id);
        return written.error();
    }
    return 0;
}

// TimerSettime implements Linux syscall timer_settime(2).
Result<long> sys_timer_settime(Thread& thread, const SyscallArgs& args) {
    ProcessTimers& timers = timers_of(thread);
    int id = args.integer(0);
    if (id < 0)
        return Error(EINVAL, "no such timer");
    ProcessTimers::Timer& timer = *TRY(timers.find(id));
    auto wanted = TRY(read_user<struct itimerspec>(thread, args.address(2)));
    Duration value =
        TRY(relative_value(thread, timer, wanted.it_value, args.integer(1) & TIMER_ABSTIME));
    Duration interval = TRY(checked(wanted.it_interval));
    struct itimerspec old = TRY(timers.arm(id, value, interval));
    if (args.address(3))
        TRY(write_user(thread, args.address(3), old));
    return 0;
}

// TimerGettime implements Linux syscall timer_gettime(2).
Result<long> sys_timer_gettime(Thread& thread, const SyscallArgs& args) {
    ProcessTimers& timers = timers_of(thread);
    if (args.integer(0) < 0)
        return Error(EINVAL, "no such timer");
    TRY(write_user(thread, args.address(1), timers.current(*TRY(timers.find(args.integer(0))))));
    return 0;
}

// TimerGetoverrun implements Linux syscall timer_getoverrun(2).
Result<long> sys_timer_getoverrun(Thread& thread, const SyscallArgs& args) {
    if (args.integer(0) < 0)
        return Error(EINVAL, "no such timer");
    return TRY(timers_of(thread).find(args.integer(0)))->overrun;
}

// TimerDelete implements Linux syscall timer_delete(2).
Result<long> sys_timer_delete(Thread& thread, const SyscallArgs& args) {
    TRY(timers_of(thread).remove(args.integer(0)));
    return 0;
}

}  // namespace myst::kernel

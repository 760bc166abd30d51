// A process's timers: ITIMER_REAL/VIRTUAL/PROF (alarm, setitimer) and the
// POSIX timers of timer_create. One host thread per process that has an
// armed timer sleeps until the next expiry and posts the signal, as the
// host kernel's hrtimers would. Guarded by the kernel lock (its mutex is
// the one the timer thread waits with).
//
// NOTE: ITIMER_VIRTUAL and ITIMER_PROF count wall-clock time here, not CPU
// time (an approximation: the kernel does not account CPU time per
// process). Timers on CPU-time clocks are EINVAL.
#pragma once

#include <signal.h>
#include <time.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <optional>

#include "base/result.h"

namespace myst::kernel {

class Kernel;
class Process;

class ProcessTimers {
public:
    using Clock = std::chrono::steady_clock;

    struct Timer {
        clockid_t clock = CLOCK_MONOTONIC;
        std::optional<Clock::time_point> deadline;  // empty: disarmed
        Clock::duration interval{};
        int signal = SIGALRM;
        int notify = SIGEV_SIGNAL;  // SIGEV_SIGNAL, SIGEV_NONE or SIGEV_THREAD_ID
        pid_t thread_id = 0;        // SIGEV_THREAD_ID's target
        union sigval value {};
        int si_code = SI_TIMER;
        int overrun = 0;  // expiries missed before the last signal was taken
    };

    // The ids of the three interval timers in the table (POSIX timers are >= 0).
    static constexpr int itimer_real = -1, itimer_virtual = -2, itimer_prof = -3;

    ProcessTimers(Kernel& kernel, Process& process) : m_kernel(kernel), m_process(process) {}
    ~ProcessTimers();

    // timer_create: a new disarmed timer's id, or EAGAIN past the limit.
    Result<int> create(const Timer& timer);
    Result<void> remove(int id);
    // execve(2): the POSIX timers go; the interval timers stay armed.
    void remove_posix_timers();
    Result<Timer*> find(int id);
    // Arms (value 0: disarms) timer `id`; `value` is relative to now.
    // Returns the setting it had.
    Result<struct itimerspec> arm(int id, Clock::duration value, Clock::duration interval);
    struct itimerspec current(const Timer& timer) const;

private:
    void run();
    void fire(int id, Timer& timer);
    Result<void> ensure_thread();

    Kernel& m_kernel;
    Process& m_process;
    std::map<int, Timer> m_timers;
    int m_next_id = 0;
    std::condition_variable m_changed;
    bool m_thread_started = false;
    bool m_stopping = false;
    bool m_thread_done = false;
};

struct timespec to_timespec(ProcessTimers::Clock::duration duration);
ProcessTimers::Clock::duration to_duration(const struct timespec& value);

}  // namespace myst::kernel

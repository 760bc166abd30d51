#include "kernel/process_timers.h"

#include <mutex>

#include "kernel/kernel.h"
#include "kernel/process.h"
#include "kernel/signal_delivery.h"
#include "kernel/thread.h"

namespace myst::kernel {

namespace {

constexpr size_t max_timers = 1024;  // per process, beside the interval timers

}  // namespace

struct timespec to_timespec(ProcessTimers::Clock::duration duration) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count();
    if (ns < 0)
        ns = 0;
    return {static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
}

ProcessTimers::Clock::duration to_duration(const struct timespec& value) {
    return std::chrono::seconds(value.tv_sec) + std::chrono::nanoseconds(value.tv_nsec);
}

ProcessTimers::~ProcessTimers() {
    std::unique_lock held(m_kernel.lock().mutex());
    m_stopping = true;
    m_changed.notify_all();
    m_changed.wait(held, [&] { return !m_thread_started || m_thread_done; });
}

Result<int> ProcessTimers::create(const Timer& timer) {
    if (m_timers.size() >= max_timers)
        return Error(EAGAIN, "too many timers");
    int id = m_next_id++;
    m_timers[id] = timer;
    return id;
}

Result<void> ProcessTimers::remove(int id) {
    if (id < 0 || m_timers.erase(id) == 0)
        return Error(EINVAL, "no such timer");
    m_changed.notify_all();
    return {};
}

void ProcessTimers::remove_posix_timers() {
    std::erase_if(m_timers, [](const auto& entry) { return entry.first >= 0; });
    m_changed.notify_all();
}

Result<ProcessTimers::Timer*> ProcessTimers::find(int id) {
    auto found = m_timers.find(id);
    if (found == m_timers.end()) {
        if (id >= 0)
            return Error(EINVAL, "no such timer");
        // The interval timers exist from the start, disarmed.
        Timer timer;
        timer.signal = id == itimer_real ? SIGALRM : id == itimer_virtual ? SIGVTALRM : SIGPROF;
        timer.si_code = SI_KERNEL;
        found = m_timers.emplace(id, timer).first;
    }
    return &found->second;
}

struct itimerspec ProcessTimers::current(const Timer& timer) const {
    struct itimerspec setting {};
    setting.it_interval = to_timespec(timer.interval);
    if (timer.deadline) {
        setting.it_value = to_timespec(*timer.deadline - Clock::now());
        if (setting.it_value.tv_sec == 0 && setting.it_value.tv_nsec == 0)
            setting.it_value.tv_nsec = 1;  // armed: never report 0
    }
    return setting;
}

Result<struct itimerspec> ProcessTimers::arm(int id, Clock::duration value,
                                             Clock::duration interval) {
    Timer& timer = *TRY(find(id));
    struct itimerspec old = current(timer);
    timer.overrun = 0;
    timer.interval = interval;
    if (value <= Clock::duration::zero()) {
        timer.deadline.reset();
        timer.interval = {};
    } else {
        timer.deadline = Clock::now() + value;
        TRY(ensure_thread());
    }
    m_changed.notify_all();
    return old;
}

Result<void> ProcessTimers::ensure_thread() {
    if (m_thread_started)
        return {};
    auto started = m_kernel.target().thread_start([this] { run(); });
    if (started.is_error())
        return Error(EAGAIN, "cannot start the timer thread");
    m_thread_started = true;
    return {};
}

void ProcessTimers::run() {
    std::unique_lock held(m_kernel.lock().mutex());
    while (!m_stopping) {
        auto now = Clock::now();
        std::optional<Clock::time_point> next;
        for (auto& [id, timer] : m_timers) {
            if (timer.deadline && *timer.deadline <= now)
                fire(id, timer);
            if (timer.deadline && (!next || *timer.deadline < *next))
                next = timer.deadline;
        }
        if (next)
            m_changed.wait_until(held, *next);
        else
            m_changed.wait(held);
    }
    m_thread_done = true;
    m_changed.notify_all();
}

// One expiry: the signal goes out (a periodic timer whose signal is still
// pending counts an overrun instead), and a periodic timer is re-armed.
void ProcessTimers::fire(int id, Timer& timer) {
    if (timer.interval > Clock::duration::zero()) {
        auto late = Clock::now() - *timer.deadline;
        auto missed = late / timer.interval;
        timer.overrun += static_cast<int>(missed);
        *timer.deadline += timer.interval * (missed + 1);
    } else {
        timer.deadline.reset();
    }
    if (timer.notify == SIGEV_NONE)
        return;
    siginfo_t info{};
    info.si_signo = timer.signal;
    info.si_code = timer.si_code;
    if (id >= 0) {
        info.si_timerid = id;
        info.si_overrun = timer.overrun;
        info.si_value = timer.value;
    }
    Thread* target =
        timer.notify == SIGEV_THREAD_ID ? m_process.find_thread(timer.thread_id) : nullptr;
    if (timer.notify == SIGEV_THREAD_ID && (!target || target->exit_started))
        return;
    post_signal_from_kernel(m_process, target, timer.signal, info);
    timer.overrun = 0;
}

}  // namespace myst::kernel

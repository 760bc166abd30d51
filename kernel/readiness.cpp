#include "kernel/readiness.h"

#include <algorithm>

#include "kernel/kernel.h"
#include "kernel/signal_delivery.h"
#include "kernel/thread.h"

namespace myst::kernel {

namespace {

constexpr long kNanosecondsPerSecond = 1000000000;
// How long a wait lasts while some wake fd is left out (see wait_until).
constexpr struct timespec kRecheckInterval = {0, 5000000};

struct timespec add_times(const struct timespec& a, const struct timespec& b) {
    struct timespec sum {
        a.tv_sec + b.tv_sec, a.tv_nsec + b.tv_nsec
    };
    if (sum.tv_nsec >= kNanosecondsPerSecond) {
        sum.tv_sec += 1;
        sum.tv_nsec -= kNanosecondsPerSecond;
    }
    return sum;
}

}  // namespace

struct timespec monotonic_now(Thread& thread) {
    auto now = thread.kernel().target().clock_time(CLOCK_MONOTONIC);
    return now.is_error() ? timespec{0, 0} : now.value();
}

struct timespec monotonic_after(Thread& thread, const struct timespec& relative) {
    return add_times(monotonic_now(thread), relative);
}

bool time_before(const struct timespec& a, const struct timespec& b) {
    return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

struct timespec time_until(const struct timespec& a, const struct timespec& b) {
    if (!time_before(b, a))
        return {0, 0};
    struct timespec left {
        a.tv_sec - b.tv_sec, a.tv_nsec - b.tv_nsec
    };
    if (left.tv_nsec < 0) {
        left.tv_sec -= 1;
        left.tv_nsec += kNanosecondsPerSecond;
    }
    return left;
}

Result<std::vector<int>> wait_once(Thread& thread, fs::WaitSources& sources,
                                   const std::optional<struct timespec>& deadline,
                                   const std::vector<int>& ignored) {
    std::optional<struct timespec> until = deadline;
    if (sources.deadline && (!until || time_before(*sources.deadline, *until)))
        until = sources.deadline;
    std::vector<struct pollfd> fds;
    fds.reserve(sources.host_fds.size());
    for (const struct pollfd& entry : sources.host_fds)
        if (std::find(ignored.begin(), ignored.end(), entry.fd) == ignored.end())
            fds.push_back(entry);
    std::optional<struct timespec> timeout;
    if (until)
        timeout = time_until(*until, monotonic_now(thread));
    if (!ignored.empty() && (!timeout || time_before(kRecheckInterval, *timeout)))
        timeout = kRecheckInterval;

    const uint8_t* interrupted = TRY(begin_interruptible_wait(thread));
    auto waited = [&] {
        BlockingScope waiting(thread);
        return thread.kernel().target().wait_for_readiness(fds, timeout ? &*timeout : nullptr,
                                                           interrupted);
    }();
    if (waited.is_error()) {
        if (waited.error().code() != EINTR)
            return waited.release_error();
        if (wait_must_end(thread))
            return Error(EINTR, "interrupted by a signal");
        return std::vector<int>{};
    }
    std::vector<int> fired;
    for (const struct pollfd& entry : fds)
        if (entry.revents)
            fired.push_back(entry.fd);
    return fired;
}

Result<void> wait_for_events(Thread& thread, fs::OpenFile& file, uint32_t events) {
    const uint32_t wanted = events | POLLHUP | POLLERR;
    TRY(wait_until(
        thread, [&]() -> Result<bool> { return (file.poll_events() & wanted) != 0; },
        [&](fs::WaitSources& sources) { return file.add_wake_sources(sources, events); },
        std::nullopt));
    return {};
}

}  // namespace myst::kernel

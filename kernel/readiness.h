// Waiting for readiness: the one loop behind blocking reads and writes of
// pollable files, poll, select and epoll (DESIGN.md decisions 6 and 7).
// The condition is checked under the kernel lock; when it does not hold,
// the thread waits in one host ppoll over the wake fds the files name,
// without the kernel lock and interruptibly (kernel/signal_delivery.h),
// then checks again: a wake fd only says that something may have changed.
#pragma once

#include <time.h>

#include <optional>
#include <vector>

#include "base/result.h"
#include "fs/vfs/open_file.h"

namespace myst::kernel {

class Thread;

// CLOCK_MONOTONIC now, and `relative` from now.
struct timespec monotonic_now(Thread& thread);
struct timespec monotonic_after(Thread& thread, const struct timespec& relative);
// a - b, or zero when b is later.
struct timespec time_until(const struct timespec& a, const struct timespec& b);
bool time_before(const struct timespec& a, const struct timespec& b);

// One wait, without the kernel lock, for `sources` or the earlier of
// `deadline` and the sources' own deadline (CLOCK_MONOTONIC, absolute;
// none: no end). Host fds listed in `ignored` are left out (see
// wait_until). EINTR when a signal the thread must act on arrives;
// otherwise returns the host fds that fired (none: a deadline passed or an
// interrupt came for nothing).
Result<std::vector<int>> wait_once(Thread& thread, fs::WaitSources& sources,
                                   const std::optional<struct timespec>& deadline,
                                   const std::vector<int>& ignored);

// Waits until `ready()` (run under the kernel lock) returns true: true
// then; false when `deadline` passes first; EINTR on a signal. `collect`
// names what to wait on between checks. A wake fd that fired without
// making the wait ready (it mirrors more than the waiter asks: a pipe read
// end polled only for POLLOUT, an edge-triggered epoll item) is left out
// of the next waits, which then last at most a few milliseconds each, so a
// level that stays up costs rechecks, not a spinning thread.
template <typename Ready, typename Collect>
Result<bool> wait_until(Thread& thread, Ready ready, Collect collect,
                        const std::optional<struct timespec>& deadline) {
    std::vector<int> ignored;
    for (;;) {
        if (TRY(ready()))
            return true;
        if (deadline && !time_before(monotonic_now(thread), *deadline))
            return false;
        fs::WaitSources sources;
        TRY(collect(sources));
        std::vector<int> fired = TRY(wait_once(thread, sources, deadline, ignored));
        if (fired.empty())
            ignored.clear();  // a recheck: every wake fd counts again
        else
            ignored.insert(ignored.end(), fired.begin(), fired.end());
    }
}

// A read or write that may block: `attempt()` until it does not fail with
// EAGAIN, waiting for `events` on `file` between tries, unless the file is
// O_NONBLOCK or never blocks (not pollable).
Result<void> wait_for_events(Thread& thread, fs::OpenFile& file, uint32_t events);

template <typename Attempt>
auto retry_until_ready(Thread& thread, fs::OpenFile& file, uint32_t events, Attempt attempt)
    -> decltype(attempt()) {
    for (;;) {
        auto result = attempt();
        if (!result.is_error() || result.error().code() != EAGAIN || !file.is_pollable() ||
            (file.flags() & O_NONBLOCK))
            return result;
        TRY(wait_for_events(thread, file, events));
    }
}

}  // namespace myst::kernel

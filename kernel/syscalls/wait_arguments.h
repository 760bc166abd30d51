// Arguments shared by the calls that wait on many descriptors (poll,
// select, epoll and their signal-mask forms).
#pragma once

#include <time.h>

#include <cstdint>
#include <optional>

#include "base/result.h"
#include "kernel/signal_delivery.h"

namespace myst::kernel {

class Thread;

// A timespec timeout: EINVAL when negative or nanoseconds past a second.
Result<struct timespec> read_timeout(Thread& thread, uint64_t address);
// poll/epoll_wait milliseconds: negative means no timeout.
std::optional<struct timespec> milliseconds_timeout(int milliseconds);
// The (mask, size) pair of ppoll, pselect6 and epoll_pwait: none when the
// address is null, EINVAL when the size is not a sigset_t's.
Result<std::optional<uint64_t>> read_signal_mask(Thread& thread, uint64_t address, size_t size);

// Runs `wait` with the program's temporary signal mask, if one is given
// (see swap_signal_mask).
template <typename Wait>
Result<long> with_signal_mask(Thread& thread, const std::optional<uint64_t>& mask, Wait wait) {
    if (!mask)
        return wait();
    uint64_t old_mask = swap_signal_mask(thread, *mask);
    return end_signal_mask_swap(thread, old_mask, wait());
}

}  // namespace myst::kernel

// Shared pieces of the socket calls (socket.cpp, socket_messages.cpp):
// finding the socket behind a descriptor, addresses in and out of program
// memory, and the wait of a blocking socket call.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "base/result.h"
#include "kernel/readiness.h"
#include "kernel/socket.h"

namespace myst::kernel {

class Thread;

// The socket behind `fd`: EBADF when it is not open, ENOTSOCK when it is
// not a socket.
Result<std::shared_ptr<Socket>> socket_of(Thread& thread, int fd);

// An address the program passes (`size` bytes at `address`): EINVAL when
// the size is negative or past kMaxSocketAddress, EFAULT on a bad pointer.
Result<std::vector<uint8_t>> read_socket_address(Thread& thread, uint64_t address, int64_t size);

// An address handed back through (address, size_address), as Linux's
// move_addr_to_user: the int at `size_address` says the room, at most that
// much is copied, and the address's full size is written back. Nothing
// happens when `address` is null.
Result<void> write_socket_address(Thread& thread, uint64_t address, uint64_t size_address,
                                  const std::vector<uint8_t>& value);

// Whether a call on `socket` with `message_flags` must not wait.
bool socket_call_nonblocking(const Socket& socket, int message_flags);

// Waits for `events` on `socket` (or an error or hang-up) until `timeout`
// (relative; none: forever): true when ready, false when the timeout
// passed, EINTR on a signal.
Result<bool> wait_for_socket(Thread& thread, Socket& socket, uint32_t events,
                             const std::optional<struct timespec>& timeout);

// One wait between two attempts of a blocking call: for `events` on
// `socket` (or an error or hang-up) or a signal (EINTR), without the
// kernel lock; EAGAIN when `deadline` (CLOCK_MONOTONIC, absolute) has
// passed. Its wake sources are level-triggered and mirror the socket, so
// the next attempt is the check: readiness is asked once before the wait
// (returning at once when it holds), never after it.
Result<void> wait_between_attempts(Thread& thread, Socket& socket, uint32_t events,
                                   const std::optional<struct timespec>& deadline);

// Runs `attempt` until it stops failing with EAGAIN, waiting for `events`
// between tries unless `nonblocking`; EAGAIN once `timeout` (relative,
// from the first wait; none: forever) has passed.
template <typename Attempt>
auto retry_socket_call(Thread& thread, Socket& socket, uint32_t events, bool nonblocking,
                       const std::optional<struct timespec>& timeout, Attempt attempt)
    -> decltype(attempt()) {
    std::optional<struct timespec> deadline;
    for (;;) {
        auto result = attempt();
        if (!result.is_error() || result.error().code() != EAGAIN || nonblocking)
            return result;
        if (timeout && !deadline)
            deadline = monotonic_after(thread, *timeout);
        TRY(wait_between_attempts(thread, socket, events, deadline));
    }
}

}  // namespace myst::kernel

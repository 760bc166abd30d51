#include "kernel/syscalls/socket_common.h"

#include <poll.h>

#include "kernel/readiness.h"
#include "kernel/syscalls/file_common.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

Result<std::shared_ptr<Socket>> socket_of(Thread& thread, int fd) {
    std::shared_ptr<fs::OpenFile> file = TRY(io_file_of(thread, fd));
    auto socket = std::dynamic_pointer_cast<Socket>(file);
    if (!socket)
        return Error(ENOTSOCK, "descriptor is not a socket");
    return socket;
}

Result<std::vector<uint8_t>> read_socket_address(Thread& thread, uint64_t address, int64_t size) {
    if (size < 0 || static_cast<uint64_t>(size) > kMaxSocketAddress)
        return Error(EINVAL, "invalid address length");
    std::vector<uint8_t> value(static_cast<size_t>(size));
    TRY(copy_from_user(thread, value.data(), address, value.size()));
    return value;
}

Result<void> write_socket_address(Thread& thread, uint64_t address, uint64_t size_address,
                                  const std::vector<uint8_t>& value) {
    if (!address)
        return {};
    const int room = TRY(read_user<int>(thread, size_address));
    if (room < 0)
        return Error(EINVAL, "negative address length");
    const size_t copied = std::min(value.size(), static_cast<size_t>(room));
    TRY(copy_to_user(thread, address, value.data(), copied));
    return write_user<int>(thread, size_address, static_cast<int>(value.size()));
}

bool socket_call_nonblocking(const Socket& socket, int message_flags) {
    return (socket.flags() & O_NONBLOCK) || (message_flags & MSG_DONTWAIT);
}

Result<bool> wait_for_socket(Thread& thread, Socket& socket, uint32_t events,
                             const std::optional<struct timespec>& timeout) {
    const uint32_t wanted = events | POLLHUP | POLLERR;
    std::optional<struct timespec> deadline;
    if (timeout)
        deadline = monotonic_after(thread, *timeout);
    return wait_until(
        thread, [&]() -> Result<bool> { return (socket.poll_events() & wanted) != 0; },
        [&](fs::WaitSources& sources) { return socket.add_wake_sources(sources, events); },
        deadline);
}

Result<void> wait_between_attempts(Thread& thread, Socket& socket, uint32_t events,
                                   const std::optional<struct timespec>& deadline) {
    if (deadline && !time_before(monotonic_now(thread), *deadline))
        return Error(EAGAIN, "socket timeout passed");
    // What the other side does often lands between the attempt and here
    // (an echo's reply): one look that does not wait then saves a sleep
    // and a wake-up, which cost far more.
    if (socket.poll_events() & (events | POLLHUP | POLLERR))
        return {};
    fs::WaitSources sources;
    TRY(socket.add_wake_sources(sources, events));
    TRY(wait_once(thread, sources, deadline, {}));
    return {};
}

}  // namespace myst::kernel

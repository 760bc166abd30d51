// Readiness services of the linux target: host eventfds as the wake fds of
// kernel objects, and one interruptible ppoll over many host fds.
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "target/linux_target.h"

extern "C" long myst_interruptible_syscall(long number, const long arguments[6],
                                           const uint8_t* interrupted);

namespace myst {

Result<int> LinuxTarget::wake_fd_create() {
    int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0)
        return Error(errno, "eventfd");
    return fd;
}

Result<void> LinuxTarget::wake_fd_set(int fd) {
    uint64_t one = 1;
    // EAGAIN means the count is at its maximum: readable already.
    if (::write(fd, &one, sizeof one) < 0 && errno != EAGAIN)
        return Error(errno, "eventfd write");
    return {};
}

Result<void> LinuxTarget::wake_fd_clear(int fd) {
    uint64_t count = 0;
    // EAGAIN means the count is 0 already.
    if (::read(fd, &count, sizeof count) < 0 && errno != EAGAIN)
        return Error(errno, "eventfd read");
    return {};
}

Result<int> LinuxTarget::wait_for_readiness(std::span<struct pollfd> fds,
                                            const struct timespec* timeout,
                                            const uint8_t* interrupted) {
    // The host's ppoll changes the timeout it is given: hand it a copy.
    struct timespec left {};
    if (timeout)
        left = *timeout;
    const long arguments[6] = {reinterpret_cast<long>(fds.data()),
                               static_cast<long>(fds.size()),
                               timeout ? reinterpret_cast<long>(&left) : 0,
                               0,
                               0,
                               0};
    long result = myst_interruptible_syscall(SYS_ppoll, arguments, interrupted);
    if (result < 0)
        return Error(static_cast<int>(-result), "ppoll");
    return static_cast<int>(result);
}

}  // namespace myst

#include "kernel/syscalls/wait_arguments.h"

#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

Result<struct timespec> read_timeout(Thread& thread, uint64_t address) {
    auto value = TRY(read_user<struct timespec>(thread, address));
    if (value.tv_sec < 0 || value.tv_nsec < 0 || value.tv_nsec >= 1000000000)
        return Error(EINVAL, "invalid timeout");
    return value;
}

std::optional<struct timespec> milliseconds_timeout(int milliseconds) {
    if (milliseconds < 0)
        return std::nullopt;
    return timespec{milliseconds / 1000, (milliseconds % 1000) * 1000000L};
}

Result<std::optional<uint64_t>> read_signal_mask(Thread& thread, uint64_t address, size_t size) {
    if (!address)
        return std::optional<uint64_t>();
    if (size != sizeof(uint64_t))
        return Error(EINVAL, "bad sigset size");
    return std::optional<uint64_t>(TRY(read_user<uint64_t>(thread, address)));
}

}  // namespace myst::kernel

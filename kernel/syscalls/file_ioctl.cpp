// ioctl(2): the descriptor-level requests here, the rest passed to the file
// with a kernel copy of an argument whose size the request defines.
#include <sys/ioctl.h>
#include <termios.h>

#include <array>

#include "kernel/syscalls/file_common.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

// Requests that return a value through the argument, with its size in
// the kernel's ABI (struct termios is 36 bytes there, not glibc's 60).
struct OutputRequest {
    unsigned long request;
    size_t size;
};

constexpr OutputRequest kOutputRequests[] = {
    {TCGETS, 36},
    {TIOCGWINSZ, sizeof(struct winsize)},
    {TIOCGPGRP, sizeof(pid_t)},
    {FIONREAD, sizeof(int)},
};

Result<long> toggle_status_flag(Thread& thread, fs::OpenFile& file, uint64_t address, int flag) {
    int enable = TRY(read_user<int>(thread, address));
    int flags = file.flags();
    file.set_status_flags(enable ? (flags | flag) : (flags & ~flag));
    return 0;
}

}  // namespace

// Ioctl implements Linux syscall ioctl(2): FIOCLEX, FIONCLEX, FIONBIO,
// FIOASYNC, FIONREAD, and terminal queries on the host's streams; anything
// else is ENOTTY.
Result<long> sys_ioctl(Thread& thread, const SyscallArgs& args) {
    const int fd = args.fd(0);
    const unsigned long request = args.raw[1];
    const uint64_t address = args.address(2);
    std::shared_ptr<fs::OpenFile> file = TRY(io_file_of(thread, fd));
    switch (request) {
        case FIOCLEX:
        case FIONCLEX:
            TRY(fs_context_of(thread).fds.set_close_on_exec(fd, request == FIOCLEX));
            return 0;
        case FIONBIO:
            return toggle_status_flag(thread, *file, address, O_NONBLOCK);
        case FIOASYNC:
            return toggle_status_flag(thread, *file, address, O_ASYNC);
        default:
            break;
    }
    for (const OutputRequest& known : kOutputRequests) {
        if (known.request != request)
            continue;
        std::array<uint8_t, 64> argument{};
        long result = TRY(file->ioctl(request, std::span(argument).first(known.size)));
        TRY(copy_to_user(thread, address, argument.data(), known.size));
        return result;
    }
    return file->ioctl(request, {});
}

}  // namespace myst::kernel

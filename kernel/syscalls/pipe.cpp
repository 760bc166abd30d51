// Pipes: pipe(2), pipe2(2), and fcntl's pipe requests (F_GETPIPE_SZ,
// F_SETPIPE_SZ). The pipe object is kernel/pipe.h.
#include <fcntl.h>

#include "kernel/kernel.h"
#include "kernel/pipe.h"
#include "kernel/process.h"
#include "kernel/readiness.h"
#include "kernel/syscalls/file_common.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/syscalls/pipe_control.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

// O_NOTIFICATION_PIPE (O_EXCL) asks for a kernel notification queue,
// which is not served: EINVAL, as a kernel built without watch queues.
// O_DIRECT is packet mode (kernel/pipe.h): each write of the end is a packet.
constexpr int kPipeFlags = O_CLOEXEC | O_NONBLOCK | O_DIRECT;

Result<long> make_pipe_fds(Thread& thread, uint64_t address, int flags) {
    if (flags & ~kPipeFlags)
        return Error(EINVAL, "invalid pipe2 flags");
    const Credentials& credentials = thread.process().credentials();
    PipeEnds ends = TRY(make_pipe(thread.kernel().pipes(), thread.kernel().target(),
                                  {credentials.fsuid, credentials.fsgid}, flags));
    FdTable& fds = fs_context_of(thread).fds;
    const bool close_on_exec = flags & O_CLOEXEC;
    const int read_fd = TRY(fds.allocate(std::move(ends.read_end), close_on_exec));
    auto write_fd = fds.allocate(std::move(ends.write_end), close_on_exec);
    if (write_fd.is_error()) {
        (void)fds.remove(read_fd);
        return write_fd.release_error();
    }
    const int pair[2] = {read_fd, write_fd.value()};
    auto written = copy_to_user(thread, address, pair, sizeof pair);
    if (written.is_error()) {
        // As Linux: a bad array leaves no descriptor behind.
        (void)fds.remove(pair[0]);
        (void)fds.remove(pair[1]);
        return written.release_error();
    }
    return 0;
}

}  // namespace

// Pipe implements Linux syscall pipe(2).
Result<long> sys_pipe(Thread& thread, const SyscallArgs& args) {
    return make_pipe_fds(thread, args.address(0), 0);
}

// Pipe2 implements Linux syscall pipe2(2): O_CLOEXEC, O_NONBLOCK, O_DIRECT.
Result<long> sys_pipe2(Thread& thread, const SyscallArgs& args) {
    return make_pipe_fds(thread, args.address(0), args.integer(1));
}

Result<void> wait_for_fifo_peer(Thread& thread, fs::OpenFile& file) {
    if (!fifo_needs_peer(file))
        return {};
    auto& end = static_cast<PipeEnd&>(file);
    TRY(wait_until(
        thread, [&]() -> Result<bool> { return end.peer_arrived(); },
        [&](fs::WaitSources& sources) -> Result<void> {
            sources.add_fd(TRY(end.pipe().connected_wake_fd()), POLLIN);
            return {};
        },
        std::nullopt));
    return {};
}

Result<long> pipe_fcntl(Thread& thread, fs::OpenFile& file, int command, uint64_t argument) {
    auto* end = dynamic_cast<PipeEnd*>(&file);
    if (!end)
        return Error(EBADF, "not a pipe");
    if (command == F_GETPIPE_SZ)
        return static_cast<long>(end->pipe().capacity());
    // CAP_SYS_RESOURCE: root may pass pipe-max-size.
    const bool privileged = thread.process().credentials().euid == 0;
    return static_cast<long>(TRY(end->pipe().set_capacity(argument, privileged)));
}

}  // namespace myst::kernel

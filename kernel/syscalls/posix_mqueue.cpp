// POSIX message queues: mq_open, mq_unlink, mq_timedsend,
// mq_timedreceive, mq_notify and mq_getsetattr over the kernel's queues
// (kernel/posix_mqueue.h). A send to a full queue and a receive from an
// empty one wait for the queue's wake fds without the kernel lock, until
// the absolute CLOCK_REALTIME timeout (ETIMEDOUT); a signal ends the wait
// with EINTR (restarted under SA_RESTART, kernel/syscall_restart.cpp).
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/resource.h>

#include <climits>

#include "kernel/fs_context.h"
#include "kernel/ipc_namespace.h"
#include "kernel/kernel.h"
#include "kernel/process.h"
#include "kernel/process_table.h"
#include "kernel/readiness.h"
#include "kernel/signal_delivery.h"
#include "kernel/syscalls/file_common.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

constexpr size_t notify_cookie_size = 32;  // NOTIFY_COOKIE_LEN

PosixQueueRegistry& posix_queues(Thread& thread) {
    return thread.kernel().ipc().posix_queues;
}

// The queue behind an mqd: EBADF for any other descriptor.
Result<std::shared_ptr<PosixQueueFile>> queue_file_of(Thread& thread, int fd) {
    std::shared_ptr<fs::OpenFile> file = TRY(file_of(thread, fd));
    auto queue = std::dynamic_pointer_cast<PosixQueueFile>(file);
    if (!queue)
        return Error(EBADF, "not a message queue descriptor");
    return queue;
}

// Linux's prepare_timeout(): an absolute CLOCK_REALTIME time, checked
// before anything else, as the CLOCK_MONOTONIC deadline the wait uses.
Result<std::optional<struct timespec>> timeout_argument(Thread& thread, uint64_t address) {
    if (address == 0)
        return std::optional<struct timespec>{};
    auto timeout = TRY(read_user<struct timespec>(thread, address));
    if (timeout.tv_sec < 0 || timeout.tv_nsec < 0 || timeout.tv_nsec >= 1000000000)
        return Error(EINVAL, "bad mq timeout");
    auto now = TRY(thread.kernel().target().clock_time(CLOCK_REALTIME));
    return std::optional<struct timespec>{monotonic_after(thread, time_until(timeout, now))};
}

// Tries `attempt` until it does not fail with EAGAIN, waiting for `events`
// on the queue between tries, unless the mqd is O_NONBLOCK.
template <typename Attempt>
auto wait_for_queue(Thread& thread, PosixQueueFile& file, uint32_t events,
                    const std::optional<struct timespec>& deadline, Attempt attempt)
    -> decltype(attempt()) {
    auto result = attempt();
    if (!result.is_error() || result.error().code() != EAGAIN || (file.flags() & O_NONBLOCK))
        return result;
    bool ready = TRY(wait_until(
        thread,
        [&]() -> Result<bool> {
            result = attempt();
            return !result.is_error() || result.error().code() != EAGAIN;
        },
        [&](fs::WaitSources& sources) { return file.add_wake_sources(sources, events); },
        deadline));
    if (!ready)
        return Error(ETIMEDOUT, "the mq timeout passed");
    return result;
}

void send_notification(Thread& thread, const MqNotification& notification) {
    if (notification.event.sigev_notify != SIGEV_SIGNAL || notification.event.sigev_signo == 0)
        return;
    Process* owner = thread.kernel().processes().find(notification.pid);
    if (!owner || owner->ended)
        return;
    siginfo_t info{};
    info.si_signo = notification.event.sigev_signo;
    info.si_code = SI_MESGQ;
    info.si_value = notification.event.sigev_value;
    info.si_pid = thread.process().pid();
    info.si_uid = thread.process().credentials().uid;
    post_signal_from_kernel(*owner, nullptr, notification.event.sigev_signo, info);
}

}  // namespace

// MqOpen implements Linux syscall mq_open(2) (the raw call: the name comes
// without the leading '/', which the libcs strip). The descriptor is
// close-on-exec, as Linux makes it.
Result<long> sys_mq_open(Thread& thread, const SyscallArgs& args) {
    // The attributes are read first whenever given (EFAULT), used only to
    // create.
    std::optional<struct mq_attr> attributes;
    if (args.address(3))
        attributes = TRY(read_user<struct mq_attr>(thread, args.address(3)));
    std::string name = TRY(copy_path_from_user(thread, args.address(0)));
    int flags = args.integer(1);
    auto mode = static_cast<mode_t>(args.raw[2]);
    mode &= ~fs_context_of(thread).umask();
    uint64_t byte_limit = thread.process().limits()[RLIMIT_MSGQUEUE].rlim_cur;
    std::shared_ptr<PosixQueueFile> file = TRY(posix_queues(thread).open(
        name, flags, mode, attributes ? &*attributes : nullptr, ipc_caller(thread), byte_limit));
    return TRY(fs_context_of(thread).fds.allocate(std::move(file), true));
}

// MqUnlink implements Linux syscall mq_unlink(2).
Result<long> sys_mq_unlink(Thread& thread, const SyscallArgs& args) {
    std::string name = TRY(copy_path_from_user(thread, args.address(0)));
    TRY(posix_queues(thread).unlink(name, ipc_caller(thread)));
    return 0;
}

// MqTimedsend implements Linux syscall mq_timedsend(2): messages of one
// priority in order, higher priorities first.
Result<long> sys_mq_timedsend(Thread& thread, const SyscallArgs& args) {
    size_t size = args.size(2);
    auto priority = static_cast<unsigned>(args.raw[3]);
    if (priority >= mq_priorities)
        return Error(EINVAL, "priority past MQ_PRIO_MAX");
    auto deadline = TRY(timeout_argument(thread, args.address(4)));
    std::shared_ptr<PosixQueueFile> file = TRY(queue_file_of(thread, args.fd(0)));
    if (!file->can_write())
        return Error(EBADF, "the mqd is not open for writing");
    PosixQueue& queue = file->queue();
    if (size > static_cast<size_t>(queue.message_size()))
        return Error(EMSGSIZE, "message longer than mq_msgsize");
    std::vector<uint8_t> text(size);
    TRY(copy_from_user(thread, text.data(), args.address(1), size));
    auto due = TRY(wait_for_queue(thread, *file, POLLOUT, deadline,
                                  [&] { return queue.send(text, priority); }));
    if (due)
        send_notification(thread, *due);
    return 0;
}

// MqTimedreceive implements Linux syscall mq_timedreceive(2).
Result<long> sys_mq_timedreceive(Thread& thread, const SyscallArgs& args) {
    size_t size = args.size(2);
    auto deadline = TRY(timeout_argument(thread, args.address(4)));
    std::shared_ptr<PosixQueueFile> file = TRY(queue_file_of(thread, args.fd(0)));
    if (!file->can_read())
        return Error(EBADF, "the mqd is not open for reading");
    PosixQueue& queue = file->queue();
    if (size < static_cast<size_t>(queue.message_size()))
        return Error(EMSGSIZE, "buffer shorter than mq_msgsize");
    ++queue.receivers_waiting;
    auto message = wait_for_queue(thread, *file, POLLIN, deadline, [&] { return queue.receive(); });
    --queue.receivers_waiting;
    auto [text, priority] = TRY(std::move(message));
    TRY(copy_to_user(thread, args.address(1), text.data(), text.size()));
    if (args.address(3))
        TRY(write_user(thread, args.address(3), priority));
    return static_cast<long>(text.size());
}

// MqNotify implements Linux syscall mq_notify(2) for SIGEV_NONE and
// SIGEV_SIGNAL. SIGEV_THREAD needs a netlink socket to carry the cookie,
// and myst has none: the socket is checked as Linux does (EBADF, ENOTSOCK,
// EINVAL for a socket that is not netlink). The libcs make the netlink
// socket first and fail there (glibc reports ENOSYS, musl the socket's
// EAFNOSUPPORT), so SIGEV_THREAD fails cleanly.
Result<long> sys_mq_notify(Thread& thread, const SyscallArgs& args) {
    std::optional<struct sigevent> event;
    if (args.address(1)) {
        event = TRY(read_user<struct sigevent>(thread, args.address(1)));
        int how = event->sigev_notify;
        if (how != SIGEV_NONE && how != SIGEV_SIGNAL && how != SIGEV_THREAD)
            return Error(EINVAL, "unknown sigev_notify");
        if (how == SIGEV_SIGNAL && (event->sigev_signo < 0 || event->sigev_signo >= signal_count))
            return Error(EINVAL, "bad sigev_signo");
        if (how == SIGEV_THREAD) {
            uint8_t cookie[notify_cookie_size];
            TRY(copy_from_user(thread, cookie,
                               reinterpret_cast<uint64_t>(event->sigev_value.sival_ptr),
                               sizeof cookie));
            std::shared_ptr<fs::OpenFile> socket = TRY(file_of(thread, event->sigev_signo));
            struct stat st = TRY(socket->stat());
            if (!S_ISSOCK(st.st_mode))
                return Error(ENOTSOCK, "sigev_signo is not a socket");
            return Error(EINVAL, "not a netlink socket (myst has none)");
        }
    }
    std::shared_ptr<PosixQueueFile> file = TRY(queue_file_of(thread, args.fd(0)));
    PosixQueue& queue = file->queue();
    // An owner that ended closed its mqds, which dropped its registration
    // on Linux; here it goes when someone asks.
    if (const auto& registered = queue.notification()) {
        Process* owner = thread.kernel().processes().find(registered->pid);
        if (!owner || owner->ended)
            queue.closed_by(registered->pid);
    }
    TRY(queue.notify(thread.process().pid(), event ? &*event : nullptr));
    return 0;
}

// MqGetsetattr implements Linux syscall mq_getsetattr(2): only O_NONBLOCK
// of mq_flags changes (on the descriptor).
Result<long> sys_mq_getsetattr(Thread& thread, const SyscallArgs& args) {
    std::optional<struct mq_attr> wanted;
    if (args.address(1)) {
        wanted = TRY(read_user<struct mq_attr>(thread, args.address(1)));
        if (wanted->mq_flags & ~O_NONBLOCK)
            return Error(EINVAL, "mq_flags other than O_NONBLOCK");
    }
    std::shared_ptr<PosixQueueFile> file = TRY(queue_file_of(thread, args.fd(0)));
    PosixQueue& queue = file->queue();
    struct mq_attr old {};
    old.mq_flags = file->flags() & O_NONBLOCK;
    old.mq_maxmsg = queue.max_messages();
    old.mq_msgsize = queue.message_size();
    old.mq_curmsgs = queue.current_messages();
    if (wanted)
        file->set_status_flags((file->flags() & ~O_NONBLOCK) | (wanted->mq_flags & O_NONBLOCK));
    if (args.address(2))
        TRY(write_user(thread, args.address(2), old));
    return 0;
}

}  // namespace myst::kernel

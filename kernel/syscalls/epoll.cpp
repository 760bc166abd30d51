// epoll: epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait
// and epoll_pwait2. The instance is kernel/epoll.h; the wait is the
// readiness loop of kernel/readiness.h over every watched file.
#include <sys/epoll.h>

#include <climits>

#include "kernel/epoll.h"
#include "kernel/memory_manager.h"
#include "kernel/readiness.h"
#include "kernel/signal_delivery.h"
#include "kernel/syscalls/file_common.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/syscalls/wait_arguments.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

// Linux's EP_MAX_EVENTS.
constexpr long kMaxEvents = INT_MAX / sizeof(EpollEvent);
// The event bits EPOLLEXCLUSIVE may come with (Linux's EPOLLEXCLUSIVE_OK_BITS).
constexpr uint32_t kExclusiveBits =
    EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;

Result<long> create_instance(Thread& thread, int flags) {
    if (flags & ~EPOLL_CLOEXEC)
        return Error(EINVAL, "invalid epoll_create1 flags");
    return TRY(
        fs_context_of(thread).fds.allocate(std::make_shared<EpollFile>(), flags & EPOLL_CLOEXEC));
}

Result<EpollFile*> epoll_of(fs::OpenFile& file) {
    auto* epoll = dynamic_cast<EpollFile*>(&file);
    if (!epoll)
        return Error(EINVAL, "not an epoll descriptor");
    return epoll;
}

// The wait of epoll_wait, epoll_pwait and epoll_pwait2, in Linux's order
// of checks.
Result<long> wait_for_events(Thread& thread, int epfd, uint64_t address, int limit,
                             const std::optional<struct timespec>& timeout,
                             const std::optional<uint64_t>& mask) {
    if (limit <= 0 || limit > kMaxEvents)
        return Error(EINVAL, "invalid maxevents");
    // access_ok(): the array must lie below the top of user memory; that
    // it is mapped is checked when events are copied out.
    const uint64_t size = static_cast<uint64_t>(limit) * sizeof(EpollEvent);
    if (address > user_address_end || size > user_address_end - address)
        return Error(EFAULT, "events array past the top of user memory");
    std::shared_ptr<fs::OpenFile> file = TRY(file_of(thread, epfd));
    EpollFile& epoll = *TRY(epoll_of(*file));
    std::optional<struct timespec> deadline;
    if (timeout)
        deadline = monotonic_after(thread, *timeout);
    std::vector<EpollEvent> ready;
    auto wait = [&]() -> Result<long> {
        TRY(wait_until(
            thread,
            [&]() -> Result<bool> {
                ready = epoll.take_ready(static_cast<size_t>(limit));
                return !ready.empty();
            },
            [&](fs::WaitSources& sources) { return epoll.add_wake_sources(sources, 0); },
            deadline));
        return 0;
    };
    TRY(with_signal_mask(thread, mask, wait));
    if (!ready.empty())
        TRY(copy_to_user(thread, address, ready.data(), ready.size() * sizeof(EpollEvent)));
    return static_cast<long>(ready.size());
}

}  // namespace

// EpollCreate implements Linux syscall epoll_create(2): the size hint must be positive.
Result<long> sys_epoll_create(Thread& thread, const SyscallArgs& args) {
    if (args.integer(0) <= 0)
        return Error(EINVAL, "epoll_create size must be positive");
    return create_instance(thread, 0);
}

// EpollCreate1 implements Linux syscall epoll_create1(2).
Result<long> sys_epoll_create1(Thread& thread, const SyscallArgs& args) {
    return create_instance(thread, args.integer(0));
}

// EpollCtl implements Linux syscall epoll_ctl(2), with Linux's order of
// checks: the event, both descriptors, whether the target can be polled
// (EPERM for regular files), then the operation's own rules.
Result<long> sys_epoll_ctl(Thread& thread, const SyscallArgs& args) {
    const int epfd = args.fd(0), op = args.integer(1), fd = args.fd(2);
    EpollEvent event{};
    const bool has_event = op != EPOLL_CTL_DEL;
    if (has_event)
        event = TRY(read_user<EpollEvent>(thread, args.address(3)));
    std::shared_ptr<fs::OpenFile> file = TRY(file_of(thread, epfd));
    std::shared_ptr<fs::OpenFile> target = TRY(file_of(thread, fd));
    if (!target->is_pollable())
        return Error(EPERM, "the file cannot be watched");
    if (file == target)
        return Error(EINVAL, "an epoll instance cannot watch itself");
    EpollFile& epoll = *TRY(epoll_of(*file));
    // EPOLLWAKEUP needs CAP_BLOCK_SUSPEND; there is no suspend to block.
    event.events &= ~EPOLLWAKEUP;
    if (has_event && (event.events & EPOLLEXCLUSIVE)) {
        if (op == EPOLL_CTL_MOD)
            return Error(EINVAL, "EPOLLEXCLUSIVE with EPOLL_CTL_MOD");
        if (op == EPOLL_CTL_ADD &&
            (dynamic_cast<EpollFile*>(target.get()) || (event.events & ~kExclusiveBits)))
            return Error(EINVAL, "EPOLLEXCLUSIVE with other flags or on an epoll instance");
    }
    switch (op) {
        case EPOLL_CTL_ADD:
            TRY(epoll.add(fd, target, event));
            return 0;
        case EPOLL_CTL_MOD:
            TRY(epoll.modify(fd, *target, event));
            return 0;
        case EPOLL_CTL_DEL:
            TRY(epoll.remove(fd, *target));
            return 0;
        default:
            return Error(EINVAL, "invalid epoll_ctl operation");
    }
}

// EpollWait implements Linux syscall epoll_wait(2).
Result<long> sys_epoll_wait(Thread& thread, const SyscallArgs& args) {
    return wait_for_events(thread, args.fd(0), args.address(1), args.integer(2),
                           milliseconds_timeout(args.integer(3)), std::nullopt);
}

// EpollPwait implements Linux syscall epoll_pwait(2).
Result<long> sys_epoll_pwait(Thread& thread, const SyscallArgs& args) {
    auto mask = TRY(read_signal_mask(thread, args.address(4), args.size(5)));
    return wait_for_events(thread, args.fd(0), args.address(1), args.integer(2),
                           milliseconds_timeout(args.integer(3)), mask);
}

// EpollPwait2 implements Linux syscall epoll_pwait2(2): a timespec timeout.
Result<long> sys_epoll_pwait2(Thread& thread, const SyscallArgs& args) {
    std::optional<struct timespec> timeout;
    if (args.address(3))
        timeout = TRY(read_timeout(thread, args.address(3)));
    auto mask = TRY(read_signal_mask(thread, args.address(4), args.size(5)));
    return wait_for_events(thread, args.fd(0), args.address(1), args.integer(2), timeout, mask);
}

}  // namespace myst::kernel

// Event descriptors: eventfd, eventfd2, timerfd_create, timerfd_settime,
// timerfd_gettime, signalfd and signalfd4. The objects are
// kernel/event_files.h.
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

#include "kernel/event_files.h"
#include "kernel/kernel.h"
#include "kernel/pid_file.h"
#include "kernel/process.h"
#include "kernel/process_table.h"
#include "kernel/signal_delivery.h"
#include "kernel/syscalls/file_common.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

constexpr uint64_t kUnblockable = signal_bit(SIGKILL) | signal_bit(SIGSTOP);

Result<long> install(Thread& thread, std::shared_ptr<fs::OpenFile> file, bool close_on_exec) {
    return TRY(fs_context_of(thread).fds.allocate(std::move(file), close_on_exec));
}

Result<long> create_event(Thread& thread, uint64_t initial, int flags) {
    if (flags & ~(EFD_SEMAPHORE | EFD_CLOEXEC | EFD_NONBLOCK))
        return Error(EINVAL, "invalid eventfd flags");
    auto file = std::make_shared<EventFile>(thread.kernel().target(), initial,
                                            flags & EFD_SEMAPHORE, flags & EFD_NONBLOCK);
    return install(thread, std::move(file), flags & EFD_CLOEXEC);
}

// The file behind `fd` as the kind `T` the call needs (EINVAL otherwise).
template <typename T>
Result<std::shared_ptr<T>> file_as(Thread& thread, int fd) {
    std::shared_ptr<fs::OpenFile> file = TRY(file_of(thread, fd));
    auto typed = std::dynamic_pointer_cast<T>(file);
    if (!typed)
        return Error(EINVAL, "descriptor is of another kind");
    return typed;
}

Result<struct itimerspec> read_timer_setting(Thread& thread, uint64_t address) {
    auto value = TRY(read_user<struct itimerspec>(thread, address));
    for (const struct timespec& part : {value.it_value, value.it_interval})
        if (part.tv_sec < 0 || part.tv_nsec < 0 || part.tv_nsec >= 1000000000)
            return Error(EINVAL, "invalid timer setting");
    return value;
}

}  // namespace

// Eventfd implements Linux syscall eventfd(2).
Result<long> sys_eventfd(Thread& thread, const SyscallArgs& args) {
    return create_event(thread, args.flags(0), 0);
}

// Eventfd2 implements Linux syscall eventfd2(2): EFD_SEMAPHORE,
// EFD_NONBLOCK, EFD_CLOEXEC.
Result<long> sys_eventfd2(Thread& thread, const SyscallArgs& args) {
    return create_event(thread, args.flags(0), args.integer(1));
}

// TimerfdCreate implements Linux syscall timerfd_create(2). The alarm
// clocks behave as the clocks they are based on (nothing here suspends).
Result<long> sys_timerfd_create(Thread& thread, const SyscallArgs& args) {
    clockid_t clock = args.integer(0);
    const int flags = args.integer(1);
    if (flags & ~(TFD_CLOEXEC | TFD_NONBLOCK))
        return Error(EINVAL, "invalid timerfd flags");
    switch (clock) {
        case CLOCK_REALTIME:
        case CLOCK_MONOTONIC:
        case CLOCK_BOOTTIME:
            break;
        case CLOCK_REALTIME_ALARM:
            clock = CLOCK_REALTIME;
            break;
        case CLOCK_BOOTTIME_ALARM:
            clock = CLOCK_BOOTTIME;
            break;
        default:
            return Error(EINVAL, "clock not served by timerfd");
    }
    auto file = std::make_shared<TimerFile>(thread.kernel().target(), clock, flags & TFD_NONBLOCK);
    return install(thread, std::move(file), flags & TFD_CLOEXEC);
}

// TimerfdSettime implements Linux syscall timerfd_settime(2):
// TFD_TIMER_ABSTIME; TFD_TIMER_CANCEL_ON_SET is accepted, but a change of
// the realtime clock cancels nothing.
Result<long> sys_timerfd_settime(Thread& thread, const SyscallArgs& args) {
    const int flags = args.integer(1);
    struct itimerspec value = TRY(read_timer_setting(thread, args.address(2)));
    if (flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET))
        return Error(EINVAL, "invalid timerfd_settime flags");
    auto timer = TRY(file_as<TimerFile>(thread, args.fd(0)));
    struct itimerspec old = TRY(timer->set(value, flags & TFD_TIMER_ABSTIME));
    if (args.address(3))
        TRY(write_user(thread, args.address(3), old));
    return 0;
}

// TimerfdGettime implements Linux syscall timerfd_gettime(2).
Result<long> sys_timerfd_gettime(Thread& thread, const SyscallArgs& args) {
    auto timer = TRY(file_as<TimerFile>(thread, args.fd(0)));
    TRY(write_user(thread, args.address(1), timer->get()));
    return 0;
}

// Signalfd4 implements Linux syscall signalfd4(2): a new signalfd (fd -1)
// or a new mask for an existing one. SIGKILL and SIGSTOP are never read.
Result<long> sys_signalfd4(Thread& thread, const SyscallArgs& args) {
    const int fd = args.fd(0);
    const int flags = args.integer(3);
    if (flags & ~(SFD_CLOEXEC | SFD_NONBLOCK))
        return Error(EINVAL, "invalid signalfd flags");
    if (args.size(2) != sizeof(uint64_t))
        return Error(EINVAL, "bad sigset size");
    const uint64_t mask = TRY(read_user<uint64_t>(thread, args.address(1))) & ~kUnblockable;
    if (fd != -1) {
        auto existing = TRY(file_as<SignalFile>(thread, fd));
        existing->set_mask(mask);
        return fd;
    }
    Process& process = thread.process();
    auto file =
        std::make_shared<SignalFile>(thread.kernel().target(), process, mask, flags & SFD_NONBLOCK);
    process.signal_files.push_back(file);
    notify_signal_files(process);
    return install(thread, std::move(file), flags & SFD_CLOEXEC);
}

// Signalfd implements Linux syscall signalfd(2): signalfd4 without flags.
Result<long> sys_signalfd(Thread& thread, const SyscallArgs& args) {
    SyscallArgs with_flags = args;
    with_flags.raw[3] = 0;
    return sys_signalfd4(thread, with_flags);
}

// PidfdOpen implements Linux syscall pidfd_open(2): a close-on-exec
// descriptor for a process (a thread group's leader; EINVAL for another
// thread, ESRCH for no process) that polls readable once it has ended.
Result<long> sys_pidfd_open(Thread& thread, const SyscallArgs& args) {
    pid_t pid = args.integer(0);
    unsigned flags = args.flags(1);
    if ((flags & ~O_NONBLOCK) || pid <= 0)  // PIDFD_NONBLOCK is O_NONBLOCK
        return Error(EINVAL, "bad pidfd_open arguments");
    Process* process = thread.kernel().processes().find(pid);
    if (!process) {
        for (Process* other : thread.kernel().processes().all())
            if (other->find_thread(pid))
                return Error(EINVAL, "not a thread group leader");
        return Error(ESRCH, "no such process");
    }
    auto file = std::make_shared<PidFile>(thread.kernel().target(), pid, flags & O_NONBLOCK);
    if (process->ended)
        file->process_ended();
    else
        process->pid_files.push_back(file);
    return install(thread, std::move(file), true);
}

}  // namespace myst::kernel

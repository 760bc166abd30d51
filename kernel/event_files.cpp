#include "kernel/event_files.h"

#include <sys/signalfd.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "entry/entry.h"
#include "kernel/process.h"
#include "kernel/signal_delivery.h"
#include "kernel/thread.h"

namespace myst::kernel {

namespace {

constexpr uint64_t kEventMax = std::numeric_limits<uint64_t>::max() - 1;
constexpr int64_t kNanosecondsPerSecond = 1000000000;

int64_t to_nanoseconds(const struct timespec& time) {
    return time.tv_sec * kNanosecondsPerSecond + time.tv_nsec;
}

struct timespec to_timespec(int64_t nanoseconds) {
    return {nanoseconds / kNanosecondsPerSecond, nanoseconds % kNanosecondsPerSecond};
}

Result<size_t> put_u64(std::span<uint8_t> buffer, uint64_t value) {
    std::memcpy(buffer.data(), &value, sizeof value);
    return sizeof value;
}

}  // namespace

// --- eventfd ---

EventFile::EventFile(Target& target, uint64_t initial, bool semaphore, int flags)
    : AnonymousFile(O_RDWR | flags, "eventfd"),
      m_count(initial),
      m_semaphore(semaphore),
      m_readable(target),
      m_writable(target) {
    update_signals();
}

Result<size_t> EventFile::read(std::span<uint8_t> buffer) {
    if (buffer.size() < sizeof(uint64_t))
        return Error(EINVAL, "eventfd reads 8 bytes");
    if (m_count == 0)
        return Error(EAGAIN, "eventfd counter is 0");
    const uint64_t value = m_semaphore ? 1 : m_count;
    m_count -= value;
    ++m_generation;
    update_signals();
    return put_u64(buffer, value);
}

Result<size_t> EventFile::write(std::span<const uint8_t> data) {
    if (data.size() < sizeof(uint64_t))
        return Error(EINVAL, "eventfd writes 8 bytes");
    uint64_t value;
    std::memcpy(&value, data.data(), sizeof value);
    if (value == std::numeric_limits<uint64_t>::max())
        return Error(EINVAL, "eventfd cannot add 2^64-1");
    if (value > kEventMax - m_count)
        return Error(EAGAIN, "eventfd counter would overflow");
    m_count += value;
    ++m_generation;
    update_signals();
    return sizeof value;
}

uint32_t EventFile::poll_events() {
    uint32_t events = 0;
    if (m_count > 0)
        events |= POLLIN | POLLRDNORM;
    if (m_count < kEventMax)
        events |= POLLOUT | POLLWRNORM;
    return events;
}

Result<void> EventFile::add_wake_sources(fs::WaitSources& sources, uint32_t events) {
    if (events & POLLIN)
        sources.add_fd(TRY(m_readable.fd()), POLLIN);
    if (events & POLLOUT)
        sources.add_fd(TRY(m_writable.fd()), POLLIN);
    return {};
}

void EventFile::update_signals() {
    m_readable.set(m_count > 0);
    m_writable.set(m_count < kEventMax);
}

// --- timerfd ---

TimerFile::TimerFile(Target& target, clockid_t clock, int flags)
    : AnonymousFile(O_RDWR | flags, "timerfd"), m_target(target), m_clock(clock) {}

int64_t TimerFile::now() {
    auto time = m_target.clock_time(m_clock);
    return time.is_error() ? 0 : to_nanoseconds(time.value());
}

void TimerFile::update() {
    if (m_next == 0)
        return;
    const int64_t current = now();
    if (current < m_next)
        return;
    uint64_t count = 1;
    if (m_interval > 0) {
        count += static_cast<uint64_t>((current - m_next) / m_interval);
        m_next += static_cast<int64_t>(count) * m_interval;
    } else {
        m_next = 0;
    }
    m_ticks += count;
    m_expirations += count;
}

Result<struct itimerspec> TimerFile::set(const struct itimerspec& value, bool absolute) {
    struct itimerspec old = get();
    m_ticks = 0;
    m_interval = to_nanoseconds(value.it_interval);
    const int64_t start = to_nanoseconds(value.it_value);
    if (start == 0)
        m_next = 0;
    else
        m_next = absolute ? start : now() + start;
    // An absolute time already past expires at once; 0 would mean disarmed.
    if (m_next <= 0 && start != 0)
        m_next = 1;
    ++m_expirations;  // a new setting is news for edge-triggered epoll
    return old;
}

struct itimerspec TimerFile::get() {
    update();
    struct itimerspec value {};
    value.it_interval = to_timespec(m_interval);
    if (m_next != 0)
        value.it_value = to_timespec(std::max<int64_t>(m_next - now(), 1));
    return value;
}

Result<size_t> TimerFile::read(std::span<uint8_t> buffer) {
    if (buffer.size() < sizeof(uint64_t))
        return Error(EINVAL, "timerfd reads 8 bytes");
    update();
    if (m_ticks == 0)
        return Error(EAGAIN, "timer has not expired");
    const uint64_t ticks = m_ticks;
    m_ticks = 0;
    return put_u64(buffer, ticks);
}

uint32_t TimerFile::poll_events() {
    update();
    return m_ticks > 0 ? POLLIN | POLLRDNORM : 0;
}

Result<void> TimerFile::add_wake_sources(fs::WaitSources& sources, uint32_t) {
    update();
    if (m_next == 0)
        return {};
    // The wait runs on CLOCK_MONOTONIC: the expiry moves there by what is
    // left of it now (a later change of the realtime clock is not seen).
    auto monotonic = m_target.clock_time(CLOCK_MONOTONIC);
    if (monotonic.is_error())
        return monotonic.release_error();
    const int64_t left = std::max<int64_t>(m_next - now(), 0);
    sources.add_deadline(to_timespec(to_nanoseconds(monotonic.value()) + left));
    return {};
}

// --- signalfd ---

SignalFile::SignalFile(Target& target, Process& process, uint64_t mask, int flags)
    : AnonymousFile(O_RDWR | flags, "signalfd"),
      m_process(process),
      m_mask(mask),
      m_readable(target) {}

void SignalFile::set_mask(uint64_t mask) {
    m_mask = mask;
    notify_signal_files(m_process);
}

void SignalFile::update(uint64_t pending) {
    if (pending & m_mask)
        ++m_generation;
    m_readable.set((pending & m_mask) != 0);
}

uint64_t SignalFile::ready_signals() {
    auto* thread = static_cast<Thread*>(entry::current_entry_state().thread);
    uint64_t pending = m_process.pending_signals;
    if (thread && &thread->process() == &m_process)
        pending |= thread->pending_signals;
    return pending & m_mask;
}

Result<size_t> SignalFile::read(std::span<uint8_t> buffer) {
    constexpr size_t kRecord = sizeof(struct signalfd_siginfo);
    if (buffer.size() < kRecord)
        return Error(EINVAL, "signalfd reads whole records");
    auto* thread = static_cast<Thread*>(entry::current_entry_state().thread);
    if (!thread)
        return Error(EAGAIN, "no reading thread");
    size_t done = 0;
    while (buffer.size() - done >= kRecord) {
        const uint64_t ready = ready_signals();
        if (!ready)
            break;
        const int signal = __builtin_ctzll(ready) + 1;
        const siginfo_t info = take_pending_signal(*thread, signal);
        struct signalfd_siginfo record {};
        record.ssi_signo = static_cast<uint32_t>(signal);
        record.ssi_errno = info.si_errno;
        record.ssi_code = info.si_code;
        record.ssi_pid = static_cast<uint32_t>(info.si_pid);
        record.ssi_uid = info.si_uid;
        if (info.si_code == SI_TIMER) {
            record.ssi_tid = static_cast<uint32_t>(info.si_timerid);
            record.ssi_overrun = static_cast<uint32_t>(info.si_overrun);
        }
        record.ssi_int = info.si_value.sival_int;
        record.ssi_ptr = reinterpret_cast<uint64_t>(info.si_value.sival_ptr);
        std::memcpy(buffer.data() + done, &record, kRecord);
        done += kRecord;
    }
    if (done == 0)
        return Error(EAGAIN, "no signal of the mask is pending");
    return done;
}

uint32_t SignalFile::poll_events() {
    return ready_signals() ? POLLIN | POLLRDNORM : 0;
}

Result<void> SignalFile::add_wake_sources(fs::WaitSources& sources, uint32_t) {
    sources.add_fd(TRY(m_readable.fd()), POLLIN);
    return {};
}

void notify_signal_files(Process& process) {
    if (process.signal_files.empty())
        return;
    uint64_t pending = process.pending_signals;
    for (auto& [tid, thread] : process.threads())
        pending |= thread->pending_signals;
    std::erase_if(process.signal_files, [&](const std::weak_ptr<SignalFile>& weak) {
        std::shared_ptr<SignalFile> file = weak.lock();
        if (file)
            file->update(pending);
        return !file;
    });
}

}  // namespace myst::kernel

// The kernel's event descriptors: eventfd(2), timerfd_create(2) and
// signalfd(2) objects as open files. Like pipes, their read and write fail
// with EAGAIN where Linux would block, and the kernel waits for their
// readiness (kernel/readiness.h) unless they are O_NONBLOCK.
//
// Wake sources: an eventfd keeps one wake fd per direction; a signalfd
// keeps one, raised whenever a signal of its mask is pending in its
// process (notify_signal_files); a timerfd needs no host fd: its wake
// source is its next expiry, as a deadline of the wait.
//
// All three are guarded by the kernel lock (every call comes from a
// syscall holding it).
#pragma once

#include <sys/stat.h>
#include <time.h>

#include <cstdint>
#include <memory>

#include "base/result.h"
#include "fs/vfs/open_file.h"
#include "kernel/anonymous_file.h"
#include "kernel/wake_signal.h"
#include "target/target.h"

namespace myst::kernel {

class Process;
class Thread;

// eventfd(2): a 64-bit counter.
class EventFile final : public AnonymousFile {
public:
    EventFile(Target& target, uint64_t initial, bool semaphore, int flags);

    // 8 bytes: the counter (then 0), or 1 in semaphore mode (then one less).
    Result<size_t> read(std::span<uint8_t> buffer) override;
    // 8 bytes added to the counter; EAGAIN where it would pass 2^64-2.
    Result<size_t> write(std::span<const uint8_t> data) override;
    uint32_t poll_events() override;
    Result<void> add_wake_sources(fs::WaitSources& sources, uint32_t events) override;
    uint64_t readiness_generation() const override { return m_generation; }

private:
    void update_signals();

    uint64_t m_count;
    const bool m_semaphore;
    uint64_t m_generation = 0;
    WakeSignal m_readable;
    WakeSignal m_writable;
};

// timerfd_create(2): a timer whose expirations are counted and read.
class TimerFile final : public AnonymousFile {
public:
    TimerFile(Target& target, clockid_t clock, int flags);

    // timerfd_settime(2): returns the setting it replaces.
    Result<struct itimerspec> set(const struct itimerspec& value, bool absolute);
    // timerfd_gettime(2): the time to the next expiry and the interval.
    struct itimerspec get();

    // 8 bytes: the expirations since the last read.
    Result<size_t> read(std::span<uint8_t> buffer) override;
    uint32_t poll_events() override;
    Result<void> add_wake_sources(fs::WaitSources& sources, uint32_t events) override;
    uint64_t readiness_generation() const override { return m_expirations; }

private:
    int64_t now();
    // Counts the expirations up to now.
    void update();

    Target& m_target;
    const clockid_t m_clock;
    int64_t m_next = 0;      // nanoseconds on m_clock; 0: disarmed
    int64_t m_interval = 0;  // nanoseconds; 0: one-shot
    uint64_t m_ticks = 0;    // unread expirations
    uint64_t m_expirations = 0;
};

// signalfd(2): reads the pending signals of its mask as signalfd_siginfo,
// taking them from the reading thread's and its process's pending sets.
class SignalFile final : public AnonymousFile {
public:
    SignalFile(Target& target, Process& process, uint64_t mask, int flags);

    void set_mask(uint64_t mask);
    // Raises the wake fd while a signal of the mask is pending in the process.
    void update(uint64_t pending);

    Result<size_t> read(std::span<uint8_t> buffer) override;
    uint32_t poll_events() override;
    Result<void> add_wake_sources(fs::WaitSources& sources, uint32_t events) override;
    uint64_t readiness_generation() const override { return m_generation; }

private:
    // The signals of the mask pending for the calling thread.
    uint64_t ready_signals();

    Process& m_process;
    uint64_t m_mask;
    uint64_t m_generation = 0;
    WakeSignal m_readable;
};

// Called when the process's pending signals change: each signalfd of the
// process raises or lowers its wake fd.
void notify_signal_files(Process& process);

}  // namespace myst::kernel

// pidfd_open(2)'s descriptor: a process by reference, readable once the
// process has ended (its wake fd is raised by end_process through
// notify_pid_files). Guarded by the kernel lock.
#pragma once

#include <sys/types.h>

#include "kernel/anonymous_file.h"
#include "kernel/wake_signal.h"
#include "target/target.h"

namespace myst::kernel {

class Process;

class PidFile final : public AnonymousFile {
public:
    PidFile(Target& target, pid_t pid, int flags);

    pid_t pid() const { return m_pid; }
    // The process ended: the descriptor polls readable from now on.
    void process_ended() { m_ended.set(true); }

    // A pidfd has no data: EINVAL, as Linux.
    Result<size_t> read(std::span<uint8_t> buffer) override;
    uint32_t poll_events() override;
    Result<void> add_wake_sources(fs::WaitSources& sources, uint32_t events) override;
    uint64_t readiness_generation() const override { return m_ended.is_set(); }

private:
    const pid_t m_pid;
    WakeSignal m_ended;
};

// Tells the process's pidfds that it has ended.
void notify_pid_files(Process& process);

}  // namespace myst::kernel

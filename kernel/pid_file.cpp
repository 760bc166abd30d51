#include "kernel/pid_file.h"

#include <fcntl.h>
#include <poll.h>

#include "kernel/process.h"

namespace myst::kernel {

PidFile::PidFile(Target& target, pid_t pid, int flags)
    : AnonymousFile(O_RDWR | flags, "pidfd"), m_pid(pid), m_ended(target) {}

Result<size_t> PidFile::read(std::span<uint8_t>) {
    return Error(EINVAL, "a pidfd is not read");
}

uint32_t PidFile::poll_events() {
    return m_ended.is_set() ? POLLIN | POLLRDNORM : 0;
}

Result<void> PidFile::add_wake_sources(fs::WaitSources& sources, uint32_t events) {
    if (events & POLLIN)
        sources.add_fd(TRY(m_ended.fd()), POLLIN);
    return {};
}

void notify_pid_files(Process& process) {
    for (const std::weak_ptr<PidFile>& weak : process.pid_files)
        if (auto file = weak.lock())
            file->process_ended();
    process.pid_files.clear();
}

}  // namespace myst::kernel

#include "fs/hostfs/host_stream_file.h"

#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <termios.h>

namespace myst::fs {

namespace {

// The usual /dev name of a host terminal or memory device, for
// /proc/<pid>/fd (the host does not tell us the path it opened).
std::string character_device_name(dev_t device) {
    const unsigned major_number = major(device), minor_number = minor(device);
    if (major_number >= 136 && major_number <= 143)
        return "/dev/pts/" + std::to_string((major_number - 136) * 256 + minor_number);
    if (major_number == 1 && minor_number == 3)
        return "/dev/null";
    if (major_number == 1 && minor_number == 5)
        return "/dev/zero";
    if (major_number == 4)
        return "/dev/tty" + std::to_string(minor_number);
    if (major_number == 5 && minor_number == 1)
        return "/dev/console";
    return "/dev/tty";
}

}  // namespace

HostStreamFile::HostStreamFile(Target& target, int host_fd, int flags)
    : OpenFile(flags), m_target(target), m_host_fd(host_fd) {}

// A read or write the host would block on is EAGAIN: the kernel then waits
// for the host fd's readiness without holding its lock (or returns EAGAIN
// to an O_NONBLOCK program), instead of the whole kernel waiting for a
// line on a terminal or room in a full pipe.
Result<size_t> HostStreamFile::read(std::span<uint8_t> buffer) {
    if (!buffer.empty() && !(poll_events() & (POLLIN | POLLHUP | POLLERR)))
        return Error(EAGAIN, "the host stream has nothing to read yet");
    return m_target.file_read(m_host_fd, buffer);
}

Result<size_t> HostStreamFile::write(std::span<const uint8_t> data) {
    if (!data.empty() && !(poll_events() & (POLLOUT | POLLHUP | POLLERR)))
        return Error(EAGAIN, "the host stream has no room yet");
    return m_target.file_write(m_host_fd, data);
}

Result<struct stat> HostStreamFile::stat() {
    return m_target.file_stat(m_host_fd);
}

Result<void> HostStreamFile::sync() {
    return m_target.file_sync(m_host_fd);
}

Result<long> HostStreamFile::ioctl(unsigned long request, std::span<uint8_t> argument) {
    // Only requests whose argument size is known reach the host, with a
    // kernel buffer of that size.
    size_t needed = 0;
    switch (request) {
        case TCGETS:
            needed = 36;  // the kernel's struct termios (glibc's is larger)
            break;
        case TIOCGWINSZ:
            needed = sizeof(struct winsize);
            break;
        case TIOCGPGRP:
            needed = sizeof(pid_t);
            break;
        default:
            return Error(ENOTTY, "inappropriate ioctl for this stream");
    }
    if (argument.size() < needed)
        return Error(EINVAL, "ioctl argument too small");
    return m_target.file_ioctl(m_host_fd, request, argument.data());
}

Result<std::shared_ptr<OpenFile>> HostStreamFile::reopen(int flags) {
    return std::shared_ptr<OpenFile>(std::make_shared<HostStreamFile>(m_target, m_host_fd, flags));
}

uint32_t HostStreamFile::poll_events() {
    struct pollfd probe {
        m_host_fd, POLLIN | POLLOUT | POLLPRI | POLLRDHUP, 0
    };
    struct timespec now {};
    if (m_target.wait_for_readiness({&probe, 1}, &now, nullptr).is_error())
        return POLLERR;
    uint32_t events = static_cast<uint16_t>(probe.revents);
    if (events & POLLIN)
        events |= POLLRDNORM;
    if (events & POLLOUT)
        events |= POLLWRNORM;
    return events;
}

Result<void> HostStreamFile::add_wake_sources(WaitSources& sources, uint32_t events) {
    sources.add_fd(m_host_fd,
                   static_cast<short>(events & (POLLIN | POLLOUT | POLLPRI | POLLRDHUP)));
    return {};
}

std::string HostStreamFile::describe() const {
    auto st = m_target.file_stat(m_host_fd);
    if (st.is_error())
        return "host:[" + std::to_string(m_host_fd) + "]";
    const auto ino = std::to_string(st.value().st_ino);
    switch (st.value().st_mode & S_IFMT) {
        case S_IFIFO:
            return "pipe:[" + ino + "]";
        case S_IFSOCK:
            return "socket:[" + ino + "]";
        case S_IFCHR:
            return character_device_name(st.value().st_rdev);
        default:
            return "host:[" + std::to_string(m_host_fd) + "]";
    }
}

}  // namespace myst::fs

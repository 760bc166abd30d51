// Host file services of the linux target.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>

#include "target/linux_target.h"

namespace myst {

namespace {

// Host calls report errors through errno; the target turns them into values.
Result<void> check(int result) {
    if (result < 0)
        return Error(errno, "host call failed");
    return {};
}

Result<size_t> check_size(ssize_t result) {
    if (result < 0)
        return Error(errno, "host call failed");
    return static_cast<size_t>(result);
}

}  // namespace

Result<int> LinuxTarget::file_open(const std::string& path, int flags, mode_t mode) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd < 0)
        return Error(errno, "open " + path);
    return fd;
}

Result<void> LinuxTarget::file_close(int fd) {
    return check(::close(fd));
}

Result<size_t> LinuxTarget::file_read(int fd, std::span<uint8_t> buffer) {
    return check_size(::read(fd, buffer.data(), buffer.size()));
}

Result<size_t> LinuxTarget::file_write(int fd, std::span<const uint8_t> data) {
    return check_size(::write(fd, data.data(), data.size()));
}

Result<size_t> LinuxTarget::file_pread(int fd, std::span<uint8_t> buffer, uint64_t offset) {
    return check_size(::pread(fd, buffer.data(), buffer.size(), static_cast<off_t>(offset)));
}

Result<size_t> LinuxTarget::file_pwrite(int fd, std::span<const uint8_t> data, uint64_t offset) {
    return check_size(::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset)));
}

Result<struct stat> LinuxTarget::file_stat(int fd) {
    struct stat st {};
    TRY(check(::fstat(fd, &st)));
    return st;
}

Result<void> LinuxTarget::file_truncate(int fd, uint64_t size) {
    return check(::ftruncate(fd, static_cast<off_t>(size)));
}

Result<void> LinuxTarget::file_sync(int fd) {
    return check(::fsync(fd));
}

Result<long> LinuxTarget::file_ioctl(int fd, unsigned long request, void* argument) {
    // Only terminal queries reach the host; anything else could hand the
    // host's kernel a pointer it should not see.
    switch (request) {
        case TCGETS:
        case TIOCGWINSZ:
        case TIOCGPGRP:
            break;
        default:
            return Error(ENOTTY, "ioctl not passed to the host");
    }
    int result = ::ioctl(fd, request, argument);
    if (result < 0)
        return Error(errno, "ioctl");
    return result;
}

}  // namespace myst

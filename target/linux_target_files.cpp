// Host file services of the linux target.
#include <dirent.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

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

Result<struct stat> LinuxTarget::path_stat(const std::string& path, bool follow_symlinks) {
    struct stat st {};
    int result = follow_symlinks ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st);
    TRY(check(result));
    return st;
}

Result<std::vector<HostDirectoryEntry>> LinuxTarget::path_list_directory(const std::string& path) {
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(path.c_str()), ::closedir);
    if (!dir)
        return Error(errno, "opendir " + path);
    std::vector<HostDirectoryEntry> entries;
    errno = 0;
    while (struct dirent* entry = ::readdir(dir.get())) {
        entries.push_back({entry->d_name, entry->d_ino, entry->d_type});
        errno = 0;
    }
    if (errno != 0)
        return Error(errno, "readdir " + path);
    return entries;
}

Result<std::string> LinuxTarget::path_read_link(const std::string& path) {
    std::string target(4096, '\0');
    ssize_t length = ::readlink(path.c_str(), target.data(), target.size());
    if (length < 0)
        return Error(errno, "readlink " + path);
    target.resize(static_cast<size_t>(length));
    return target;
}

Result<void> LinuxTarget::path_make_directory(const std::string& path, mode_t mode) {
    return check(::mkdir(path.c_str(), mode));
}

Result<void> LinuxTarget::path_remove_directory(const std::string& path) {
    return check(::rmdir(path.c_str()));
}

Result<void> LinuxTarget::path_unlink(const std::string& path) {
    return check(::unlink(path.c_str()));
}

Result<void> LinuxTarget::path_rename(const std::string& from, const std::string& to) {
    return check(::rename(from.c_str(), to.c_str()));
}

Result<void> LinuxTarget::path_symlink(const std::string& target, const std::string& path) {
    return check(::symlink(target.c_str(), path.c_str()));
}

Result<void> LinuxTarget::path_link(const std::string& existing, const std::string& path) {
    return check(::link(existing.c_str(), path.c_str()));
}

Result<void> LinuxTarget::path_chmod(const std::string& path, mode_t mode) {
    return check(::chmod(path.c_str(), mode));
}

Result<void> LinuxTarget::path_chown(const std::string& path, uid_t uid, gid_t gid) {
    return check(::lchown(path.c_str(), uid, gid));
}

Result<void> LinuxTarget::path_set_times(const std::string& path, const struct timespec times[2]) {
    return check(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW));
}

}  // namespace myst

// Host directory nodes of the linux target (hostfs). Every call works on
// an O_PATH descriptor, or on a directory descriptor and one checked name,
// never on a host path resolved from the top again: a hostfs inode stays
// the object it was looked up as when it is renamed, and a symlink planted
// where it used to be is never followed. Where a call has no form that
// takes a descriptor alone (chmod, link, reopening with another mode), it
// names the descriptor through /proc/self/fd/N, which the host resolves to
// that very object and nothing else.
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <memory>

#include "target/linux_target.h"

namespace myst {

namespace {

Result<void> check(int result, const char* what) {
    if (result < 0)
        return Error(errno, what);
    return {};
}

// One component: the only kind of name a node call takes.
Result<void> check_name(const std::string& name) {
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos)
        return Error(EINVAL, "not a single file name: '" + name + "'");
    return {};
}

std::string descriptor_path(int fd) {
    return "/proc/self/fd/" + std::to_string(fd);
}

// Closes a descriptor the walk below opened.
class OwnedFd {
public:
    explicit OwnedFd(int fd) : m_fd(fd) {}
    ~OwnedFd() {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    OwnedFd(OwnedFd&& other) noexcept : m_fd(other.m_fd) { other.m_fd = -1; }
    OwnedFd(const OwnedFd&) = delete;
    OwnedFd& operator=(const OwnedFd&) = delete;
    OwnedFd& operator=(OwnedFd&&) = delete;
    int get() const { return m_fd; }
    int release() {
        int fd = m_fd;
        m_fd = -1;
        return fd;
    }

private:
    int m_fd;
};

Result<int> open_with_openat2(int directory, const std::string& relative, int flags, mode_t mode) {
    struct open_how how {};
    how.flags = static_cast<uint64_t>(flags | O_NOFOLLOW | O_CLOEXEC);
    // (O_TMPFILE holds O_DIRECTORY's bit: compare it whole.)
    const bool creates = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
    how.mode = creates ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    long fd = ::syscall(SYS_openat2, directory, relative.c_str(), &how, sizeof how);
    if (fd < 0)
        return Error(errno, "openat2 " + relative);
    return static_cast<int>(fd);
}

// openat2's rules, one component at a time with O_NOFOLLOW: the
// directories walked stay open, so ".." goes back to the one we came from
// and never above the start, whatever is renamed meanwhile.
Result<int> open_by_walk(int directory, const std::string& relative, int flags, mode_t mode) {
    if (relative.empty())
        return Error(ENOENT, "empty path");
    if (relative.front() == '/')
        return Error(EXDEV, "absolute path beneath a directory: " + relative);
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= relative.size()) {
        size_t slash = relative.find('/', start);
        if (slash == std::string::npos)
            slash = relative.size();
        std::string part = relative.substr(start, slash - start);
        if (!part.empty() && part != ".")
            parts.push_back(std::move(part));
        start = slash + 1;
    }
    std::vector<OwnedFd> walked;
    auto current = [&] { return walked.empty() ? directory : walked.back().get(); };
    for (size_t i = 0; i < parts.size(); i++) {
        const bool last = i + 1 == parts.size();
        if (parts[i] == "..") {
            if (walked.empty())
                return Error(EXDEV, ".. leads above the directory: " + relative);
            walked.pop_back();
            if (last)
                break;
            continue;
        }
        if (last) {
            int fd = ::openat(current(), parts[i].c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode);
            if (fd < 0)
                return Error(errno, "open " + relative);
            return fd;
        }
        int fd =
            ::openat(current(), parts[i].c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            int error = errno;
            struct stat st {};
            if (error == ENOTDIR &&
                ::fstatat(current(), parts[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISLNK(st.st_mode))
                error = ELOOP;  // as RESOLVE_NO_SYMLINKS says
            return Error(error, "open " + relative);
        }
        walked.emplace_back(fd);
    }
    // The path named a directory already walked ("a/..", ".").
    int fd = ::openat(current(), ".", flags | O_CLOEXEC, mode);
    if (fd < 0)
        return Error(errno, "open " + relative);
    return fd;
}

}  // namespace

Result<int> LinuxTarget::node_open_directory(const std::string& path) {
    int fd = ::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return Error(errno, "open " + path);
    return fd;
}

Result<int> LinuxTarget::node_open_beneath(int directory, const std::string& relative, int flags,
                                           mode_t mode) {
    if (m_use_openat2.load(std::memory_order_relaxed)) {
        auto opened = open_with_openat2(directory, relative, flags, mode);
        if (!opened.is_error() || opened.error().code() != ENOSYS)
            return opened;
        m_use_openat2.store(false, std::memory_order_relaxed);  // an old host or a filter
    }
    return open_by_walk(directory, relative, flags, mode);
}

Result<int> LinuxTarget::node_reopen(int node, int flags) {
    struct stat st {};
    TRY(check(::fstat(node, &st), "fstat"));
    if (S_ISDIR(st.st_mode)) {
        int fd = ::openat(node, ".", flags | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return Error(errno, "reopen directory");
        return fd;
    }
    if (!S_ISREG(st.st_mode))
        return Error(ENXIO, "only regular files and directories are reopened");
    // (The magic link itself must be followed: no O_NOFOLLOW here.)
    OwnedFd opened(::open(descriptor_path(node).c_str(), flags | O_NOCTTY | O_CLOEXEC));
    if (opened.get() < 0)
        return Error(errno, "reopen file");
    // /proc/self/fd/N names the node's object; make sure it did.
    struct stat reopened {};
    TRY(check(::fstat(opened.get(), &reopened), "fstat"));
    if (reopened.st_dev != st.st_dev || reopened.st_ino != st.st_ino)
        return Error(EIO, "reopening a host file gave another file");
    return opened.release();
}

Result<std::vector<HostDirectoryEntry>> LinuxTarget::node_list_directory(int directory) {
    int fd = ::openat(directory, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return Error(errno, "open directory");
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(fd), ::closedir);
    if (!dir) {
        int error = errno;
        ::close(fd);
        return Error(error, "fdopendir");
    }
    std::vector<HostDirectoryEntry> entries;
    errno = 0;
    while (struct dirent* entry = ::readdir(dir.get())) {
        entries.push_back({entry->d_name, entry->d_ino, entry->d_type});
        errno = 0;
    }
    if (errno != 0)
        return Error(errno, "readdir");
    return entries;
}

Result<std::string> LinuxTarget::node_read_link(int node) {
    std::string target(PATH_MAX, '\0');
    ssize_t length = ::readlinkat(node, "", target.data(), target.size());
    if (length < 0)
        return Error(errno, "readlink");
    target.resize(static_cast<size_t>(length));
    return target;
}

Result<void> LinuxTarget::node_make_directory(int directory, const std::string& name, mode_t mode) {
    TRY(check_name(name));
    return check(::mkdirat(directory, name.c_str(), mode), "mkdir");
}

Result<void> LinuxTarget::node_make_symlink(int directory, const std::string& name,
                                            const std::string& target) {
    TRY(check_name(name));
    return check(::symlinkat(target.c_str(), directory, name.c_str()), "symlink");
}

Result<void> LinuxTarget::node_link(int node, int directory, const std::string& name) {
    TRY(check_name(name));
    // linkat(AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH; the magic link does
    // not, and leads to the node's object even when it is a symlink.
    return check(::linkat(AT_FDCWD, descriptor_path(node).c_str(), directory, name.c_str(),
                          AT_SYMLINK_FOLLOW),
                 "link");
}

Result<void> LinuxTarget::node_unlink(int directory, const std::string& name, bool is_directory) {
    TRY(check_name(name));
    return check(::unlinkat(directory, name.c_str(), is_directory ? AT_REMOVEDIR : 0), "unlink");
}

Result<void> LinuxTarget::node_rename(int from_directory, const std::string& from_name,
                                      int to_directory, const std::string& to_name) {
    TRY(check_name(from_name));
    TRY(check_name(to_name));
    return check(::renameat(from_directory, from_name.c_str(), to_directory, to_name.c_str()),
                 "rename");
}

Result<void> LinuxTarget::node_chmod(int node, mode_t mode) {
    struct stat st {};
    TRY(check(::fstat(node, &st), "fstat"));
    if (S_ISLNK(st.st_mode))
        return Error(EOPNOTSUPP, "cannot change the mode of a symbolic link");
    // fchmod(2) refuses O_PATH descriptors, fchmodat(AT_EMPTY_PATH) is
    // Linux 6.6's fchmodat2: the magic link serves every host.
    return check(::fchmodat(AT_FDCWD, descriptor_path(node).c_str(), mode, 0), "chmod");
}

Result<void> LinuxTarget::node_chown(int node, uid_t uid, gid_t gid) {
    return check(::fchownat(node, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW), "chown");
}

Result<void> LinuxTarget::node_set_times(int node, const struct timespec times[2]) {
    if (::utimensat(node, "", times, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0)
        return {};
    if (errno != EINVAL)
        return Error(errno, "utimensat");
    // Hosts before utimensat(AT_EMPTY_PATH): the magic link leads to the
    // node's object (a symlink itself, not what it names).
    return check(::utimensat(AT_FDCWD, descriptor_path(node).c_str(), times, 0), "utimensat");
}

Result<std::string> LinuxTarget::path_canonical(const std::string& path) {
    std::unique_ptr<char, void (*)(void*)> resolved(::realpath(path.c_str(), nullptr), ::free);
    if (!resolved)
        return Error(errno, "realpath " + path);
    return std::string(resolved.get());
}

}  // namespace myst

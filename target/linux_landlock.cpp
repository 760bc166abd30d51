// Landlock for the linux target: after start-up, host files only beneath the
// operator's grants. Raw system calls (glibc has no wrappers), and constants
// spelled out here so that older kernel headers build the same code.
#include <dirent.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <memory>

#include "target/linux_confinement.h"

namespace myst {

namespace {

#ifndef SYS_landlock_create_ruleset
constexpr long SYS_landlock_create_ruleset = 444;
constexpr long SYS_landlock_add_rule = 445;
constexpr long SYS_landlock_restrict_self = 446;
#endif

constexpr uint32_t create_ruleset_version = 1U << 0;
constexpr int rule_path_beneath = 1;

// Access rights on files (ABI 1 unless noted).
constexpr uint64_t access_execute = 1ULL << 0;
constexpr uint64_t access_write_file = 1ULL << 1;
constexpr uint64_t access_read_file = 1ULL << 2;
constexpr uint64_t access_read_dir = 1ULL << 3;
constexpr uint64_t access_remove_dir = 1ULL << 4;
constexpr uint64_t access_remove_file = 1ULL << 5;
constexpr uint64_t access_make_char = 1ULL << 6;
constexpr uint64_t access_make_dir = 1ULL << 7;
constexpr uint64_t access_make_reg = 1ULL << 8;
constexpr uint64_t access_make_sock = 1ULL << 9;
constexpr uint64_t access_make_fifo = 1ULL << 10;
constexpr uint64_t access_make_block = 1ULL << 11;
constexpr uint64_t access_make_sym = 1ULL << 12;
constexpr uint64_t access_refer = 1ULL << 13;      // ABI 2: link/rename across directories
constexpr uint64_t access_truncate = 1ULL << 14;   // ABI 3
constexpr uint64_t access_ioctl_dev = 1ULL << 15;  // ABI 5
// Scopes (ABI 6): no signals to, and no abstract unix sockets of, processes
// outside the domain.
constexpr uint64_t scope_abstract_unix_socket = 1ULL << 0;
constexpr uint64_t scope_signal = 1ULL << 1;

// struct landlock_ruleset_attr as of ABI 6; older kernels get a prefix of it.
struct RulesetAttributes {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

struct __attribute__((packed)) PathBeneath {
    uint64_t allowed_access;
    int32_t parent_fd;
};

// Every file right this ABI knows is handled, so that anything not granted
// is denied: execute included (the kernel loads programs by reading them).
uint64_t handled_file_access(int abi) {
    uint64_t access = access_execute | access_write_file | access_read_file | access_read_dir |
                      access_remove_dir | access_remove_file | access_make_char | access_make_dir |
                      access_make_reg | access_make_sock | access_make_fifo | access_make_block |
                      access_make_sym;
    if (abi >= 2)
        access |= access_refer;
    if (abi >= 3)
        access |= access_truncate;
    if (abi >= 5)
        access |= access_ioctl_dev;
    return access;
}

// What hostfs does with a granted directory: read it, and where the mount is
// writable make and remove files, directories and symlinks in it. Never
// devices, sockets or fifos (hostfs makes none), never execute.
uint64_t directory_access(bool writable, uint64_t handled) {
    uint64_t access = access_read_file | access_read_dir;
    if (writable)
        access |= access_write_file | access_remove_dir | access_remove_file | access_make_dir |
                  access_make_reg | access_make_sym | access_refer | access_truncate;
    return access & handled;
}

// A rule on a file may name only rights that apply to files.
uint64_t file_access(bool writable, uint64_t handled) {
    uint64_t access = access_read_file;
    if (writable)
        access |= access_write_file | access_truncate;
    return access & handled;
}

class OwnedFd {
public:
    explicit OwnedFd(int fd) : m_fd(fd) {}
    ~OwnedFd() {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    OwnedFd(const OwnedFd&) = delete;
    OwnedFd& operator=(const OwnedFd&) = delete;
    int get() const { return m_fd; }

private:
    int m_fd;
};

// Threads that already run would keep their access: Landlock restricts the
// calling thread and what it starts later, nothing else.
Result<void> require_single_thread() {
    std::unique_ptr<DIR, int (*)(DIR*)> tasks(::opendir("/proc/self/task"), ::closedir);
    if (!tasks)
        return Error::from_errno(errno, "/proc/self/task");
    int count = 0;
    while (struct dirent* entry = ::readdir(tasks.get()))
        if (entry->d_name[0] != '.')
            count++;
    if (count != 1)
        return Error(EBUSY, "Landlock must be applied before myst starts a second thread (" +
                                std::to_string(count) + " threads run)");
    return {};
}

Result<void> add_grant(int ruleset, const HostGrant& grant, uint64_t handled) {
    OwnedFd path(::open(grant.path.c_str(), O_PATH | O_CLOEXEC));
    if (path.get() < 0)
        return Error::from_errno(errno, "cannot grant " + grant.path);
    struct stat st {};
    if (::fstat(path.get(), &st) != 0)
        return Error::from_errno(errno, "cannot grant " + grant.path);
    PathBeneath rule{S_ISDIR(st.st_mode) ? directory_access(grant.writable, handled)
                                         : file_access(grant.writable, handled),
                     path.get()};
    if (::syscall(SYS_landlock_add_rule, ruleset, rule_path_beneath, &rule, 0) != 0)
        return Error::from_errno(errno, "Landlock rule for " + grant.path);
    return {};
}

}  // namespace

int landlock_abi_version() {
    long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, create_ruleset_version);
    return abi < 0 ? 0 : static_cast<int>(abi);
}

Result<FileConfinement> confine_host_files(std::span<const HostGrant> grants) {
    int abi = landlock_abi_version();
    if (abi <= 0) {
        if (errno == ENOSYS || errno == EOPNOTSUPP)
            return FileConfinement::unavailable;
        return Error::from_errno(errno, "Landlock");
    }
    TRY(require_single_thread());
    RulesetAttributes attributes{handled_file_access(abi), 0, 0};
    size_t size = sizeof(uint64_t);  // ABI 1-3: handled_access_fs only
    if (abi >= 6) {
        attributes.scoped = scope_abstract_unix_socket | scope_signal;
        size = sizeof attributes;
    }
    OwnedFd ruleset(static_cast<int>(::syscall(SYS_landlock_create_ruleset, &attributes, size, 0)));
    if (ruleset.get() < 0)
        return Error::from_errno(errno, "Landlock ruleset");
    for (const HostGrant& grant : grants)
        TRY(add_grant(ruleset.get(), grant, attributes.handled_access_fs));
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return Error::from_errno(errno, "no_new_privs");
    if (::syscall(SYS_landlock_restrict_self, ruleset.get(), 0) != 0)
        return Error::from_errno(errno, "Landlock");
    return FileConfinement::enforced;
}

}  // namespace myst

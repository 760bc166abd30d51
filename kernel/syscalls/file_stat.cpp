// File status: the stat family, statx, statfs and access.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <array>

#include "base/endian.h"
#include "kernel/syscalls/file_common.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

struct Status {
    struct stat st;
    uint64_t mount_id = 0;  // 0 when unknown (pipes, host streams)
};

// The status of what (dirfd, path) names under the AT_* `flags`.
Result<Status> status_at(Thread& thread, int dirfd, uint64_t path_address, int flags) {
    std::string path = TRY(path_argument(thread, path_address, flags & AT_EMPTY_PATH));
    if (path.empty() && dirfd != AT_FDCWD) {
        // The descriptor itself, which may have no path (a pipe).
        std::shared_ptr<fs::OpenFile> file = TRY(file_of(thread, dirfd));
        fs::PathRef node = file->path();
        return Status{TRY(file->stat()), node ? node->mount()->id : 0};
    }
    fs::PathRef node;
    if (path.empty()) {
        node = fs_context_of(thread).cwd();
    } else {
        fs::Lookup at = TRY(lookup_at(thread, dirfd, path));
        node = TRY(vfs_of(thread).resolve(at, path, !(flags & AT_SYMLINK_NOFOLLOW)));
    }
    return Status{TRY(node->inode()->stat()), node->mount()->id};
}

Result<long> write_stat(Thread& thread, uint64_t address, const struct stat& st) {
    TRY(write_user(thread, address, st));
    return 0;
}

// struct statx, field by field (include/uapi/linux/stat.h).
std::array<uint8_t, 256> encode_statx(const Status& status) {
    const struct stat& st = status.st;
    std::array<uint8_t, 256> out{};
    uint8_t* p = out.data();
    uint32_t mask = STATX_BASIC_STATS;
    if (status.mount_id)
        mask |= STATX_MNT_ID;
    store_le<uint32_t>(p + 0, mask);
    store_le<uint32_t>(p + 4, static_cast<uint32_t>(st.st_blksize));
    store_le<uint64_t>(p + 8, 0);  // stx_attributes
    store_le<uint32_t>(p + 16, static_cast<uint32_t>(st.st_nlink));
    store_le<uint32_t>(p + 20, st.st_uid);
    store_le<uint32_t>(p + 24, st.st_gid);
    store_le<uint16_t>(p + 28, static_cast<uint16_t>(st.st_mode));
    store_le<uint64_t>(p + 32, st.st_ino);
    store_le<uint64_t>(p + 40, static_cast<uint64_t>(st.st_size));
    store_le<uint64_t>(p + 48, static_cast<uint64_t>(st.st_blocks));
    store_le<uint64_t>(p + 56, 0);  // stx_attributes_mask
    auto time = [&](size_t at, const struct timespec& ts) {
        store_le<int64_t>(p + at, ts.tv_sec);
        store_le<uint32_t>(p + at + 8, static_cast<uint32_t>(ts.tv_nsec));
    };
    time(64, st.st_atim);
    // stx_btime (80) stays 0: no birth times (STATX_BTIME is not in the mask).
    time(96, st.st_ctim);
    time(112, st.st_mtim);
    store_le<uint32_t>(p + 128, major(st.st_rdev));
    store_le<uint32_t>(p + 132, minor(st.st_rdev));
    store_le<uint32_t>(p + 136, major(st.st_dev));
    store_le<uint32_t>(p + 140, minor(st.st_dev));
    store_le<uint64_t>(p + 144, status.mount_id);
    return out;
}

Result<long> access_at(Thread& thread, int dirfd, uint64_t path_address, int mode, int flags) {
    if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return Error(EINVAL, "invalid faccessat flags");
    if (mode & ~(R_OK | W_OK | X_OK))
        return Error(EINVAL, "invalid access mode");
    // access(2) checks with the real ids unless AT_EACCESS asks otherwise.
    fs::Identity who = (flags & AT_EACCESS) ? effective_identity(thread) : real_identity(thread);
    fs::PathRef node = TRY(resolve_at(thread, dirfd, path_address, flags, who));
    TRY(vfs_of(thread).check_access(node, mode, who));
    return 0;
}

Result<long> write_statfs(Thread& thread, uint64_t address, const struct statfs& st) {
    TRY(write_user(thread, address, st));
    return 0;
}

}  // namespace

// Stat implements Linux syscall stat(2).
Result<long> sys_stat(Thread& thread, const SyscallArgs& args) {
    Status status = TRY(status_at(thread, AT_FDCWD, args.address(0), 0));
    return write_stat(thread, args.address(1), status.st);
}

// Fstat implements Linux syscall fstat(2).
Result<long> sys_fstat(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<fs::OpenFile> file = TRY(file_of(thread, args.fd(0)));
    return write_stat(thread, args.address(1), TRY(file->stat()));
}

// Lstat implements Linux syscall lstat(2).
Result<long> sys_lstat(Thread& thread, const SyscallArgs& args) {
    Status status = TRY(status_at(thread, AT_FDCWD, args.address(0), AT_SYMLINK_NOFOLLOW));
    return write_stat(thread, args.address(1), status.st);
}

// Newfstatat implements Linux syscall newfstatat(2) (fstatat(2)).
Result<long> sys_newfstatat(Thread& thread, const SyscallArgs& args) {
    const int flags = args.integer(3);
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
        return Error(EINVAL, "invalid fstatat flags");
    Status status = TRY(status_at(thread, args.fd(0), args.address(1), flags));
    return write_stat(thread, args.address(2), status.st);
}

// Statx implements Linux syscall statx(2) (no birth time).
Result<long> sys_statx(Thread& thread, const SyscallArgs& args) {
    const int flags = args.integer(2);
    const unsigned mask = args.flags(3);
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE))
        return Error(EINVAL, "invalid statx flags");
    if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE)
        return Error(EINVAL, "invalid statx sync type");
    if (mask & STATX__RESERVED)
        return Error(EINVAL, "reserved statx mask bit");
    Status status = TRY(status_at(thread, args.fd(0), args.address(1), flags));
    std::array<uint8_t, 256> record = encode_statx(status);
    TRY(copy_to_user(thread, args.address(4), record.data(), record.size()));
    return 0;
}

// Statfs implements Linux syscall statfs(2).
Result<long> sys_statfs(Thread& thread, const SyscallArgs& args) {
    fs::PathRef node =
        TRY(resolve_at(thread, AT_FDCWD, args.address(0), 0, effective_identity(thread)));
    return write_statfs(thread, args.address(1), TRY(node->inode()->file_system().statfs()));
}

// Fstatfs implements Linux syscall fstatfs(2).
Result<long> sys_fstatfs(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<fs::OpenFile> file = TRY(file_of(thread, args.fd(0)));
    return write_statfs(thread, args.address(1), TRY(file->statfs()));
}

// Access implements Linux syscall access(2).
Result<long> sys_access(Thread& thread, const SyscallArgs& args) {
    return access_at(thread, AT_FDCWD, args.address(0), args.integer(1), 0);
}

// Faccessat implements Linux syscall faccessat(2) (the kernel's, without flags).
Result<long> sys_faccessat(Thread& thread, const SyscallArgs& args) {
    return access_at(thread, args.fd(0), args.address(1), args.integer(2), 0);
}

// Faccessat2 implements Linux syscall faccessat2(2).
Result<long> sys_faccessat2(Thread& thread, const SyscallArgs& args) {
    return access_at(thread, args.fd(0), args.address(1), args.integer(2), args.integer(3));
}

}  // namespace myst::kernel

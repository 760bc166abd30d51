// Attributes: modes, owners, times, sizes and the umask.
#include <fcntl.h>
#include <sys/time.h>
#include <utime.h>

#include "kernel/syscalls/file_common.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

// The node an fd-based attribute call changes.
Result<fs::PathRef> node_of_descriptor(Thread& thread, int fd) {
    std::shared_ptr<fs::OpenFile> file = TRY(io_file_of(thread, fd));
    fs::PathRef node = file->path();
    if (!node)
        return Error(EPERM, "descriptor has no file-system node");
    return node;
}

Result<long> change_mode(Thread& thread, const fs::PathRef& node, uint64_t mode) {
    TRY(vfs_of(thread).chmod(node, static_cast<mode_t>(mode), effective_identity(thread)));
    return 0;
}

Result<long> change_owner(Thread& thread, const fs::PathRef& node, uint64_t uid, uint64_t gid) {
    TRY(vfs_of(thread).chown(node, static_cast<uid_t>(uid), static_cast<gid_t>(gid),
                             effective_identity(thread)));
    return 0;
}

Result<fs::PathRef> resolve_path(Thread& thread, uint64_t path_address, int at_flags) {
    return resolve_at(thread, AT_FDCWD, path_address, at_flags, effective_identity(thread));
}

}  // namespace

// Chmod implements Linux syscall chmod(2).
Result<long> sys_chmod(Thread& thread, const SyscallArgs& args) {
    return change_mode(thread, TRY(resolve_path(thread, args.address(0), 0)), args.raw[1]);
}

// Fchmod implements Linux syscall fchmod(2).
Result<long> sys_fchmod(Thread& thread, const SyscallArgs& args) {
    return change_mode(thread, TRY(node_of_descriptor(thread, args.fd(0))), args.raw[1]);
}

// Fchmodat implements Linux syscall fchmodat(2) (the kernel's: no flags,
// symlinks followed).
Result<long> sys_fchmodat(Thread& thread, const SyscallArgs& args) {
    fs::PathRef node =
        TRY(resolve_at(thread, args.fd(0), args.address(1), 0, effective_identity(thread)));
    return change_mode(thread, node, args.raw[2]);
}

// Chown implements Linux syscall chown(2).
Result<long> sys_chown(Thread& thread, const SyscallArgs& args) {
    return change_owner(thread, TRY(resolve_path(thread, args.address(0), 0)), args.raw[1],
                        args.raw[2]);
}

// Fchown implements Linux syscall fchown(2).
Result<long> sys_fchown(Thread& thread, const SyscallArgs& args) {
    return change_owner(thread, TRY(node_of_descriptor(thread, args.fd(0))), args.raw[1],
                        args.raw[2]);
}

// Lchown implements Linux syscall lchown(2).
Result<long> sys_lchown(Thread& thread, const SyscallArgs& args) {
    return change_owner(thread, TRY(resolve_path(thread, args.address(0), AT_SYMLINK_NOFOLLOW)),
                        args.raw[1], args.raw[2]);
}

// Fchownat implements Linux syscall fchownat(2).
Result<long> sys_fchownat(Thread& thread, const SyscallArgs& args) {
    const int flags = args.integer(4);
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return Error(EINVAL, "invalid fchownat flags");
    fs::PathRef node =
        TRY(resolve_at(thread, args.fd(0), args.address(1), flags, effective_identity(thread)));
    return change_owner(thread, node, args.raw[2], args.raw[3]);
}

namespace {

// Sets the times of what (dirfd, path) names, or of dirfd itself for a
// null path (futimens, futimesat with a null path): null `times` is both
// now, which the owner or anyone who may write may do (else EACCES);
// other times need the owner (else EPERM).
Result<long> set_times_at(Thread& thread, int dirfd, uint64_t path_address,
                          const struct timespec* times, int flags) {
    fs::PathRef node;
    if (path_address == 0) {
        if (dirfd == AT_FDCWD)
            return Error(EFAULT, "null path");
        node = TRY(node_of_descriptor(thread, dirfd));
    } else {
        node = TRY(resolve_at(thread, dirfd, path_address, flags, effective_identity(thread)));
    }
    TRY(vfs_of(thread).set_times(node, times, effective_identity(thread)));
    return 0;
}

// utimes(2) and futimesat(2): struct timeval pairs, whose microseconds
// must lie in [0, 1000000) (EINVAL).
Result<long> set_times_from_timevals(Thread& thread, int dirfd, uint64_t path_address,
                                     uint64_t times_address) {
    if (times_address == 0)
        return set_times_at(thread, dirfd, path_address, nullptr, 0);
    struct timeval given[2];
    TRY(copy_from_user(thread, given, times_address, sizeof(given)));
    struct timespec times[2];
    for (int i = 0; i < 2; ++i) {
        if (given[i].tv_usec < 0 || given[i].tv_usec >= 1000000)
            return Error(EINVAL, "invalid microseconds");
        times[i] = {given[i].tv_sec, given[i].tv_usec * 1000};
    }
    return set_times_at(thread, dirfd, path_address, times, 0);
}

}  // namespace

// Utimensat implements Linux syscall utimensat(2) (and futimens: a null path).
Result<long> sys_utimensat(Thread& thread, const SyscallArgs& args) {
    const int flags = args.integer(3);
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return Error(EINVAL, "invalid utimensat flags");
    struct timespec times[2];
    const bool given = args.address(2) != 0;
    if (given)
        TRY(copy_from_user(thread, times, args.address(2), sizeof(times)));
    return set_times_at(thread, args.fd(0), args.address(1), given ? times : nullptr, flags);
}

// Utime implements Linux syscall utime(2): whole seconds, or now for a
// null struct utimbuf.
Result<long> sys_utime(Thread& thread, const SyscallArgs& args) {
    if (args.address(1) == 0)
        return set_times_at(thread, AT_FDCWD, args.address(0), nullptr, 0);
    struct utimbuf given = TRY(read_user<struct utimbuf>(thread, args.address(1)));
    struct timespec times[2] = {{given.actime, 0}, {given.modtime, 0}};
    return set_times_at(thread, AT_FDCWD, args.address(0), times, 0);
}

// Utimes implements Linux syscall utimes(2).
Result<long> sys_utimes(Thread& thread, const SyscallArgs& args) {
    return set_times_from_timevals(thread, AT_FDCWD, args.address(0), args.address(1));
}

// Futimesat implements Linux syscall futimesat(2): utimes(2) relative to
// a directory descriptor; a null path changes the descriptor's file.
Result<long> sys_futimesat(Thread& thread, const SyscallArgs& args) {
    return set_times_from_timevals(thread, args.fd(0), args.address(1), args.address(2));
}

// Truncate implements Linux syscall truncate(2).
Result<long> sys_truncate(Thread& thread, const SyscallArgs& args) {
    if (args.offset(1) < 0)
        return Error(EINVAL, "negative length");
    fs::PathRef node = TRY(resolve_path(thread, args.address(0), 0));
    TRY(vfs_of(thread).truncate(node, static_cast<uint64_t>(args.offset(1)),
                                effective_identity(thread)));
    return 0;
}

// Ftruncate implements Linux syscall ftruncate(2).
Result<long> sys_ftruncate(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<fs::OpenFile> file = TRY(io_file_of(thread, args.fd(0)));
    if (args.offset(1) < 0)
        return Error(EINVAL, "negative length");
    if (!file->can_write())
        return Error(EINVAL, "descriptor not open for writing");
    std::shared_ptr<fs::Inode> inode = file->inode();
    if (!inode || !inode->is_regular())
        return Error(EINVAL, "not a regular file");
    TRY(file->truncate(static_cast<uint64_t>(args.offset(1))));
    return 0;
}

// Umask implements Linux syscall umask(2).
Result<long> sys_umask(Thread& thread, const SyscallArgs& args) {
    return fs_context_of(thread).exchange_umask(static_cast<mode_t>(args.raw[0]));
}

// Extended attributes: no file system here stores them. Lookups check the
// path or descriptor first, then find nothing: listing gives an empty list,
// anything else EOPNOTSUPP (as a ramfs without xattr support on Linux).

namespace {

Result<long> xattr_of_path(Thread& thread, uint64_t path_address, int at_flags, bool listing) {
    TRY(resolve_path(thread, path_address, at_flags));
    if (listing)
        return 0;
    return Error(EOPNOTSUPP, "extended attributes are not supported");
}

Result<long> xattr_of_descriptor(Thread& thread, int fd, bool listing) {
    TRY(io_file_of(thread, fd));
    if (listing)
        return 0;
    return Error(EOPNOTSUPP, "extended attributes are not supported");
}

}  // namespace

// Getxattr implements Linux syscall getxattr(2): EOPNOTSUPP.
Result<long> sys_getxattr(Thread& thread, const SyscallArgs& args) {
    return xattr_of_path(thread, args.address(0), 0, false);
}

// Lgetxattr implements Linux syscall lgetxattr(2): EOPNOTSUPP.
Result<long> sys_lgetxattr(Thread& thread, const SyscallArgs& args) {
    return xattr_of_path(thread, args.address(0), AT_SYMLINK_NOFOLLOW, false);
}

// Fgetxattr implements Linux syscall fgetxattr(2): EOPNOTSUPP.
Result<long> sys_fgetxattr(Thread& thread, const SyscallArgs& args) {
    return xattr_of_descriptor(thread, args.fd(0), false);
}

// Listxattr implements Linux syscall listxattr(2): an empty list.
Result<long> sys_listxattr(Thread& thread, const SyscallArgs& args) {
    return xattr_of_path(thread, args.address(0), 0, true);
}

// Llistxattr implements Linux syscall llistxattr(2): an empty list.
Result<long> sys_llistxattr(Thread& thread, const SyscallArgs& args) {
    return xattr_of_path(thread, args.address(0), AT_SYMLINK_NOFOLLOW, true);
}

// Flistxattr implements Linux syscall flistxattr(2): an empty list.
Result<long> sys_flistxattr(Thread& thread, const SyscallArgs& args) {
    return xattr_of_descriptor(thread, args.fd(0), true);
}

// Setxattr implements Linux syscall setxattr(2): EOPNOTSUPP.
Result<long> sys_setxattr(Thread& thread, const SyscallArgs& args) {
    return xattr_of_path(thread, args.address(0), 0, false);
}

// Lsetxattr implements Linux syscall lsetxattr(2): EOPNOTSUPP.
Result<long> sys_lsetxattr(Thread& thread, const SyscallArgs& args) {
    return xattr_of_path(thread, args.address(0), AT_SYMLINK_NOFOLLOW, false);
}

// Fsetxattr implements Linux syscall fsetxattr(2): EOPNOTSUPP.
Result<long> sys_fsetxattr(Thread& thread, const SyscallArgs& args) {
    return xattr_of_descriptor(thread, args.fd(0), false);
}

// Removexattr implements Linux syscall removexattr(2): EOPNOTSUPP.
Result<long> sys_removexattr(Thread& thread, const SyscallArgs& args) {
    return xattr_of_path(thread, args.address(0), 0, false);
}

// Lremovexattr implements Linux syscall lremovexattr(2): EOPNOTSUPP.
Result<long> sys_lremovexattr(Thread& thread, const SyscallArgs& args) {
    return xattr_of_path(thread, args.address(0), AT_SYMLINK_NOFOLLOW, false);
}

// Fremovexattr implements Linux syscall fremovexattr(2): EOPNOTSUPP.
Result<long> sys_fremovexattr(Thread& thread, const SyscallArgs& args) {
    return xattr_of_descriptor(thread, args.fd(0), false);
}

}  // namespace myst::kernel

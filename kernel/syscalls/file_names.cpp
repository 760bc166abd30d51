// Names: unlink, rename, symlink, readlink, link and mknod.
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>  // RENAME_NOREPLACE

#include <algorithm>

#include "kernel/syscalls/file_common.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

Result<long> unlink_at(Thread& thread, int dirfd, uint64_t path_address, int flags) {
    if (flags & ~AT_REMOVEDIR)
        return Error(EINVAL, "invalid unlinkat flags");
    std::string path = TRY(path_argument(thread, path_address));
    fs::Lookup at = TRY(lookup_at(thread, dirfd, path));
    if (flags & AT_REMOVEDIR)
        TRY(vfs_of(thread).remove_directory(at, path));
    else
        TRY(vfs_of(thread).unlink(at, path));
    return 0;
}

Result<long> rename_at(Thread& thread, int old_dirfd, uint64_t old_address, int new_dirfd,
                       uint64_t new_address, unsigned flags) {
    // RENAME_EXCHANGE and RENAME_WHITEOUT are not supported.
    if (flags & ~static_cast<unsigned>(RENAME_NOREPLACE))
        return Error(EINVAL, "unsupported renameat2 flags");
    std::string old_path = TRY(path_argument(thread, old_address));
    std::string new_path = TRY(path_argument(thread, new_address));
    fs::Lookup old_at = TRY(lookup_at(thread, old_dirfd, old_path));
    fs::Lookup new_at = TRY(lookup_at(thread, new_dirfd, new_path));
    TRY(vfs_of(thread).rename(old_at, old_path, new_at, new_path, flags));
    return 0;
}

Result<long> symlink_at(Thread& thread, uint64_t target_address, int dirfd, uint64_t path_address) {
    // The target is any text (a symlink may dangle), but not empty.
    std::string target = TRY(copy_string_from_user(thread, target_address, PATH_MAX));
    if (target.empty())
        return Error(ENOENT, "empty symbolic link target");
    std::string path = TRY(path_argument(thread, path_address));
    fs::Lookup at = TRY(lookup_at(thread, dirfd, path));
    TRY(vfs_of(thread).make_symlink(target, at, path));
    return 0;
}

Result<long> read_link_at(Thread& thread, int dirfd, uint64_t path_address, uint64_t buffer,
                          int64_t size) {
    if (size <= 0)
        return Error(EINVAL, "invalid buffer size");
    std::string path = TRY(path_argument(thread, path_address, true));
    std::string target;
    if (path.empty()) {
        // readlinkat(fd, "") reads the link an O_PATH|O_NOFOLLOW descriptor names.
        if (dirfd == AT_FDCWD)
            return Error(ENOENT, "empty path");
        std::shared_ptr<fs::OpenFile> file = TRY(file_of(thread, dirfd));
        std::shared_ptr<fs::Inode> inode = file->inode();
        if (!inode)
            return Error(EINVAL, "not a symbolic link");
        target = TRY(inode->read_link());
    } else {
        fs::Lookup at = TRY(lookup_at(thread, dirfd, path));
        target = TRY(vfs_of(thread).read_link(at, path));
    }
    // Truncated silently, without a NUL, as readlink(2) does.
    size_t count = std::min<uint64_t>(target.size(), static_cast<uint64_t>(size));
    TRY(copy_to_user(thread, buffer, target.data(), count));
    return static_cast<long>(count);
}

Result<long> link_at(Thread& thread, int old_dirfd, uint64_t old_address, int new_dirfd,
                     uint64_t new_address, int flags) {
    if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
        return Error(EINVAL, "invalid linkat flags");
    fs::Identity who = effective_identity(thread);
    fs::PathRef existing = TRY(resolve_at(thread, old_dirfd, old_address, flags, who, false));
    std::string path = TRY(path_argument(thread, new_address));
    fs::Lookup at = TRY(lookup_at(thread, new_dirfd, path, who));
    TRY(vfs_of(thread).make_link(existing, at, path));
    return 0;
}

Result<long> make_node_at(Thread& thread, int dirfd, uint64_t path_address, mode_t mode,
                          uint64_t device) {
    std::string path = TRY(path_argument(thread, path_address));
    fs::Lookup at = TRY(lookup_at(thread, dirfd, path));
    mode = (mode & S_IFMT) | (mode & 07777 & ~fs_context_of(thread).umask());
    TRY(vfs_of(thread).make_node(at, path, mode, static_cast<dev_t>(device)));
    return 0;
}

}  // namespace

// Unlink implements Linux syscall unlink(2).
Result<long> sys_unlink(Thread& thread, const SyscallArgs& args) {
    return unlink_at(thread, AT_FDCWD, args.address(0), 0);
}

// Unlinkat implements Linux syscall unlinkat(2).
Result<long> sys_unlinkat(Thread& thread, const SyscallArgs& args) {
    return unlink_at(thread, args.fd(0), args.address(1), args.integer(2));
}

// Rename implements Linux syscall rename(2).
Result<long> sys_rename(Thread& thread, const SyscallArgs& args) {
    return rename_at(thread, AT_FDCWD, args.address(0), AT_FDCWD, args.address(1), 0);
}

// Renameat implements Linux syscall renameat(2).
Result<long> sys_renameat(Thread& thread, const SyscallArgs& args) {
    return rename_at(thread, args.fd(0), args.address(1), args.fd(2), args.address(3), 0);
}

// Renameat2 implements Linux syscall renameat2(2) with flags 0 and RENAME_NOREPLACE.
Result<long> sys_renameat2(Thread& thread, const SyscallArgs& args) {
    return rename_at(thread, args.fd(0), args.address(1), args.fd(2), args.address(3),
                     args.flags(4));
}

// Symlink implements Linux syscall symlink(2).
Result<long> sys_symlink(Thread& thread, const SyscallArgs& args) {
    return symlink_at(thread, args.address(0), AT_FDCWD, args.address(1));
}

// Symlinkat implements Linux syscall symlinkat(2).
Result<long> sys_symlinkat(Thread& thread, const SyscallArgs& args) {
    return symlink_at(thread, args.address(0), args.fd(1), args.address(2));
}

// Readlink implements Linux syscall readlink(2).
Result<long> sys_readlink(Thread& thread, const SyscallArgs& args) {
    return read_link_at(thread, AT_FDCWD, args.address(0), args.address(1), args.offset(2));
}

// Readlinkat implements Linux syscall readlinkat(2).
Result<long> sys_readlinkat(Thread& thread, const SyscallArgs& args) {
    return read_link_at(thread, args.fd(0), args.address(1), args.address(2), args.offset(3));
}

// Link implements Linux syscall link(2).
Result<long> sys_link(Thread& thread, const SyscallArgs& args) {
    return link_at(thread, AT_FDCWD, args.address(0), AT_FDCWD, args.address(1), 0);
}

// Linkat implements Linux syscall linkat(2).
Result<long> sys_linkat(Thread& thread, const SyscallArgs& args) {
    return link_at(thread, args.fd(0), args.address(1), args.fd(2), args.address(3),
                   args.integer(4));
}

// Mknod implements Linux syscall mknod(2): regular files, fifos, sockets
// and device nodes are created (fifos open as the kernel's pipes, see
// kernel/pipe.h; devices in images cannot be opened yet).
Result<long> sys_mknod(Thread& thread, const SyscallArgs& args) {
    return make_node_at(thread, AT_FDCWD, args.address(0), static_cast<mode_t>(args.raw[1]),
                        args.raw[2]);
}

// Mknodat implements Linux syscall mknodat(2), as mknod.
Result<long> sys_mknodat(Thread& thread, const SyscallArgs& args) {
    return make_node_at(thread, args.fd(0), args.address(1), static_cast<mode_t>(args.raw[2]),
                        args.raw[3]);
}

}  // namespace myst::kernel

// Directories: listing, the working directory, mkdir and rmdir.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "kernel/process.h"
#include "kernel/syscalls/file_common.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

constexpr size_t kMaxDirectoryBuffer = 1 << 20;

Result<long> read_entries(Thread& thread, const SyscallArgs& args, fs::DirentFormat format) {
    std::shared_ptr<fs::OpenFile> file = TRY(io_file_of(thread, args.fd(0)));
    TransferBuffer buffer(std::min<uint64_t>(args.size(2), kMaxDirectoryBuffer));
    std::span<uint8_t> records = buffer.first(buffer.size());
    size_t used = TRY(file->read_directory(records, format));
    TRY(copy_to_user(thread, args.address(1), records.data(), used));
    return static_cast<long>(used);
}

// Makes `node` the working directory: a directory the caller may search.
Result<long> change_directory(Thread& thread, const fs::PathRef& node) {
    if (!node->inode()->is_directory())
        return Error(ENOTDIR, "not a directory");
    TRY(vfs_of(thread).check_access(node, X_OK, effective_identity(thread)));
    fs_context_of(thread).set_cwd(node);
    return 0;
}

Result<long> make_directory_at(Thread& thread, int dirfd, uint64_t path_address, mode_t mode) {
    std::string path = TRY(path_argument(thread, path_address));
    fs::Lookup at = TRY(lookup_at(thread, dirfd, path));
    mode &= ~fs_context_of(thread).umask();
    TRY(vfs_of(thread).make_directory(at, path, mode & 01777));
    return 0;
}

}  // namespace

// Getdents64 implements Linux syscall getdents64(2).
Result<long> sys_getdents64(Thread& thread, const SyscallArgs& args) {
    return read_entries(thread, args, fs::DirentFormat::linux_dirent64);
}

// Getdents implements Linux syscall getdents(2).
Result<long> sys_getdents(Thread& thread, const SyscallArgs& args) {
    return read_entries(thread, args, fs::DirentFormat::linux_dirent);
}

// Getcwd implements Linux syscall getcwd(2): it returns the length
// including the NUL.
Result<long> sys_getcwd(Thread& thread, const SyscallArgs& args) {
    FsContext& context = fs_context_of(thread);
    fs::PathRef cwd = context.cwd();
    fs::PathRef root = context.root();
    struct stat st = TRY(cwd->inode()->stat());
    if (st.st_nlink == 0)
        return Error(ENOENT, "the working directory was removed");
    std::string path = cwd->to_string(root.get());
    if (args.size(1) < path.size() + 1)
        return Error(ERANGE, "buffer too small for the working directory");
    TRY(copy_to_user(thread, args.address(0), path.c_str(), path.size() + 1));
    return static_cast<long>(path.size() + 1);
}

// Chdir implements Linux syscall chdir(2).
Result<long> sys_chdir(Thread& thread, const SyscallArgs& args) {
    fs::PathRef node =
        TRY(resolve_at(thread, AT_FDCWD, args.address(0), 0, effective_identity(thread)));
    return change_directory(thread, node);
}

// Fchdir implements Linux syscall fchdir(2).
Result<long> sys_fchdir(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<fs::OpenFile> file = TRY(file_of(thread, args.fd(0)));
    fs::PathRef node = file->path();
    if (!node)
        return Error(ENOTDIR, "not a directory");
    return change_directory(thread, node);
}

// Chroot implements Linux syscall chroot(2): the directory becomes the
// process's root, where absolute paths start and ".." stops; the working
// directory stays where it is, as on Linux. Lookup errors (ENOENT, ENOTDIR)
// and a missing search permission (EACCES) come before the privilege check
// (EPERM without CAP_SYS_CHROOT, which only euid 0 has here), in Linux's order.
Result<long> sys_chroot(Thread& thread, const SyscallArgs& args) {
    fs::PathRef node =
        TRY(resolve_at(thread, AT_FDCWD, args.address(0), 0, effective_identity(thread)));
    if (!node->inode()->is_directory())
        return Error(ENOTDIR, "not a directory");
    TRY(vfs_of(thread).check_access(node, X_OK, effective_identity(thread)));
    if (thread.process().credentials().euid != 0)
        return Error(EPERM, "chroot needs CAP_SYS_CHROOT");
    fs_context_of(thread).set_root(std::move(node));
    return 0;
}

// Mkdir implements Linux syscall mkdir(2).
Result<long> sys_mkdir(Thread& thread, const SyscallArgs& args) {
    return make_directory_at(thread, AT_FDCWD, args.address(0), static_cast<mode_t>(args.raw[1]));
}

// Mkdirat implements Linux syscall mkdirat(2).
Result<long> sys_mkdirat(Thread& thread, const SyscallArgs& args) {
    return make_directory_at(thread, args.fd(0), args.address(1), static_cast<mode_t>(args.raw[2]));
}

// Rmdir implements Linux syscall rmdir(2).
Result<long> sys_rmdir(Thread& thread, const SyscallArgs& args) {
    std::string path = TRY(path_argument(thread, args.address(0)));
    fs::Lookup at = TRY(lookup_at(thread, AT_FDCWD, path));
    TRY(vfs_of(thread).remove_directory(at, path));
    return 0;
}

}  // namespace myst::kernel

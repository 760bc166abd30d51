// Opening, closing and duplicating descriptors, and fcntl(2).
#include <fcntl.h>
#include <linux/futex.h>
#include <sys/file.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "kernel/kernel.h"
#include "kernel/process.h"
#include "kernel/signal_delivery.h"
#include "kernel/syscalls/file_common.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/syscalls/pipe_control.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

constexpr unsigned kResolveCached = 0x20;  // RESOLVE_CACHED

// Opens `path` from `at` and gives it a descriptor.
Result<long> open_from(Thread& thread, const fs::Lookup& at, std::string_view path, int flags,
                       mode_t mode) {
    FsContext& context = fs_context_of(thread);
    if (flags & O_CREAT)
        mode &= ~context.umask();
    std::shared_ptr<fs::OpenFile> file = TRY(vfs_of(thread).open(at, path, flags, mode & 07777));
    TRY(wait_for_fifo_peer(thread, *file));
    return TRY(context.fds.allocate(std::move(file), flags & O_CLOEXEC));
}

Result<long> open_at(Thread& thread, int dirfd, uint64_t path_address, int flags, mode_t mode) {
    std::string path = TRY(path_argument(thread, path_address));
    fs::Lookup at = TRY(lookup_at(thread, dirfd, path));
    return open_from(thread, at, path, flags, mode);
}

// openat2(2)'s struct open_how (OPEN_HOW_SIZE_VER0: 24 bytes).
struct OpenHow {
    uint64_t flags;
    uint64_t mode;
    uint64_t resolve;
};

// The program's struct open_how of `size` bytes: EINVAL below the first
// version, E2BIG above a page or when bytes past the fields this kernel
// knows are not zero (copy_struct_from_user).
Result<OpenHow> read_open_how(Thread& thread, uint64_t address, uint64_t size) {
    if (size < sizeof(OpenHow))
        return Error(EINVAL, "struct open_how too small");
    if (size > 4096)
        return Error(E2BIG, "struct open_how larger than a page");
    OpenHow how = TRY(read_user<OpenHow>(thread, address));
    if (size > sizeof(OpenHow)) {
        std::vector<uint8_t> rest(size - sizeof(OpenHow));
        TRY(copy_from_user(thread, rest.data(), address + sizeof(OpenHow), rest.size()));
        if (std::any_of(rest.begin(), rest.end(), [](uint8_t byte) { return byte != 0; }))
            return Error(E2BIG, "unknown struct open_how fields are set");
    }
    return how;
}

// Linux's build_open_flags() checks for openat2(2), which unlike open(2)
// refuses what it does not know.
Result<void> check_open_how(const OpenHow& how) {
    constexpr uint64_t kLargeFile = 0100000;  // the kernel's O_LARGEFILE (glibc's is 0)
    constexpr uint64_t kTmpFile = 020000000;  // __O_TMPFILE
    constexpr uint64_t kValidFlags = O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND |
                                     O_NONBLOCK | O_DSYNC | FASYNC | O_DIRECT | kLargeFile |
                                     O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_SYNC |
                                     O_PATH | kTmpFile;
    constexpr uint64_t kValidResolve = fs::resolve_no_xdev | fs::resolve_no_magiclinks |
                                       fs::resolve_no_symlinks | fs::resolve_beneath |
                                       fs::resolve_in_root | kResolveCached;
    if (how.flags & ~kValidFlags)
        return Error(EINVAL, "unknown open flags");
    if (how.resolve & ~kValidResolve)
        return Error(EINVAL, "unknown RESOLVE_ flags");
    if ((how.resolve & fs::resolve_beneath) && (how.resolve & fs::resolve_in_root))
        return Error(EINVAL, "RESOLVE_BENEATH with RESOLVE_IN_ROOT");
    if (how.flags & (O_CREAT | kTmpFile)) {
        if (how.mode & ~static_cast<uint64_t>(07777))
            return Error(EINVAL, "mode has bits beyond 07777");
    } else if (how.mode != 0) {
        return Error(EINVAL, "mode without O_CREAT or O_TMPFILE");
    }
    if (how.flags & kTmpFile) {
        if ((how.flags & O_TMPFILE) != static_cast<uint64_t>(O_TMPFILE))
            return Error(EINVAL, "O_TMPFILE without O_DIRECTORY");
        if ((how.flags & O_ACCMODE) == O_RDONLY)
            return Error(EINVAL, "O_TMPFILE needs write access");
    }
    if ((how.flags & O_PATH) &&
        (how.flags & ~static_cast<uint64_t>(O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)))
        return Error(EINVAL, "O_PATH with other flags");
    // RESOLVE_CACHED promises not to block on I/O, so Linux refuses what
    // would write; lookups here never leave memory, so the rest is served.
    if ((how.resolve & kResolveCached) && (how.flags & (O_TRUNC | O_CREAT | kTmpFile)))
        return Error(EAGAIN, "RESOLVE_CACHED with O_CREAT, O_TRUNC or O_TMPFILE");
    return {};
}

// The byte range a struct flock names, relative to its l_whence.
Result<fs::RecordLock> lock_range(fs::OpenFile& file, const struct flock& request) {
    int64_t base = 0;
    switch (request.l_whence) {
        case SEEK_SET:
            break;
        case SEEK_CUR:
            base = static_cast<int64_t>(TRY(file.seek(0, SEEK_CUR)));
            break;
        case SEEK_END:
            base = TRY(file.stat()).st_size;
            break;
        default:
            return Error(EINVAL, "invalid l_whence");
    }
    int64_t start = base + request.l_start;
    int64_t length = request.l_len;
    if (length < 0) {
        start += length;
        length = -length;
    }
    if (start < 0)
        return Error(EINVAL, "lock starts before the file");
    fs::RecordLock lock;
    lock.type = request.l_type;
    lock.start = static_cast<uint64_t>(start);
    lock.end = length == 0 ? UINT64_MAX : lock.start + static_cast<uint64_t>(length);
    return lock;
}

// Sleeps (interruptibly, without the kernel lock) until some file lock
// goes or shrinks after the caller read `seen` from FileLocks::changes():
// a blocked F_SETLKW or flock(2) then tries again. EINTR when a signal
// must be handled (the call restarts under SA_RESTART, see
// kernel/syscall_restart.cpp).
Result<void> wait_for_lock_change(Thread& thread, uint32_t seen) {
    const uint8_t* interrupted = TRY(begin_interruptible_wait(thread));
    BlockingScope waiting(thread);
    auto woken = thread.kernel().target().futex(vfs_of(thread).locks().changes_word(), FUTEX_WAIT,
                                                seen, nullptr, nullptr, 0, interrupted);
    if (woken.is_error() && woken.error().code() == EINTR)
        return Error(EINTR, "a signal arrived");
    return {};
}

// F_GETLK, F_SETLK and F_SETLKW.
Result<long> record_lock(Thread& thread, fs::OpenFile& file, int command, uint64_t address) {
    if (file.is_path_only())
        return Error(EBADF, "descriptor opened with O_PATH");
    std::shared_ptr<fs::Inode> inode = file.inode();
    if (!inode)
        return Error(EINVAL, "file cannot be locked");
    struct flock request = TRY(read_user<struct flock>(thread, address));
    if (request.l_type != F_RDLCK && request.l_type != F_WRLCK && request.l_type != F_UNLCK)
        return Error(EINVAL, "invalid lock type");
    fs::RecordLock lock = TRY(lock_range(file, request));
    lock.owner = thread.process().pid();
    fs::FileLocks& locks = vfs_of(thread).locks();
    if (command == F_GETLK) {
        if (request.l_type == F_UNLCK)
            return Error(EINVAL, "F_GETLK with F_UNLCK");
        auto conflict = locks.find_conflict(*inode, lock);
        if (!conflict) {
            request.l_type = F_UNLCK;
        } else {
            request.l_type = conflict->type;
            request.l_whence = SEEK_SET;
            request.l_start = static_cast<off_t>(conflict->start);
            request.l_len = conflict->end == UINT64_MAX
                                ? 0
                                : static_cast<off_t>(conflict->end - conflict->start);
            request.l_pid = conflict->owner;
        }
        TRY(write_user(thread, address, request));
        return 0;
    }
    if (request.l_type == F_RDLCK && !file.can_read())
        return Error(EBADF, "read lock needs a readable descriptor");
    if (request.l_type == F_WRLCK && !file.can_write())
        return Error(EBADF, "write lock needs a writable descriptor");
    for (;;) {
        const uint32_t seen = locks.changes();
        auto set = locks.set(*inode, lock);
        if (!set.is_error() || set.error().code() != EAGAIN || command != F_SETLKW)
            return set.is_error() ? Result<long>(set.release_error()) : Result<long>(0);
        TRY(wait_for_lock_change(thread, seen));
    }
}

// What flock(2) locks on `file` are keyed by: its inode, or for files
// outside the VFS (pipes, sockets) the identity their stat reports.
Result<fs::LockKey> flock_key(fs::OpenFile& file) {
    if (std::shared_ptr<fs::Inode> inode = file.inode())
        return fs::FileLocks::key_of(*inode);
    struct stat st = TRY(file.stat());
    return fs::LockKey{nullptr, st.st_dev, st.st_ino};
}

}  // namespace

// Flock implements Linux syscall flock(2): whole-file locks of open file
// descriptions, kept in the kernel (processes under myst see each other's
// locks; the host sees none). A blocked LOCK_EX or LOCK_SH sleeps without
// the kernel lock until some lock goes, and a signal ends the wait (EINTR,
// or a restart under SA_RESTART).
Result<long> sys_flock(Thread& thread, const SyscallArgs& args) {
    const unsigned command = args.flags(1);
    // LOCK_MAND never worked; Linux accepts and ignores it.
    constexpr unsigned kLockMand = 32;
    if (command & kLockMand)
        return 0;
    const unsigned operation = command & ~static_cast<unsigned>(LOCK_NB);
    if (operation != LOCK_SH && operation != LOCK_EX && operation != LOCK_UN)
        return Error(EINVAL, "invalid flock operation");
    std::shared_ptr<fs::OpenFile> file = TRY(io_file_of(thread, args.fd(0)));
    const fs::LockKey key = TRY(flock_key(*file));
    fs::FileLocks& locks = vfs_of(thread).locks();
    if (operation == LOCK_UN) {
        locks.flock_unlock(key, *file);
        return 0;
    }
    for (;;) {
        const uint32_t seen = locks.changes();
        auto locked = locks.flock_lock(key, *file, operation == LOCK_EX);
        if (!locked.is_error())
            return 0;
        if (locked.error().code() != EWOULDBLOCK || (command & LOCK_NB))
            return locked.release_error();
        TRY(wait_for_lock_change(thread, seen));
    }
}

// Open implements Linux syscall open(2).
Result<long> sys_open(Thread& thread, const SyscallArgs& args) {
    return open_at(thread, AT_FDCWD, args.address(0), args.integer(1),
                   static_cast<mode_t>(args.raw[2]));
}

// Openat2 implements Linux syscall openat2(2): openat with its flags
// checked and the path walk restricted as open_how.resolve asks
// (fs::ResolveFlags). RESOLVE_IN_ROOT resolves as if dirfd were the root;
// RESOLVE_BENEATH refuses to leave dirfd.
Result<long> sys_openat2(Thread& thread, const SyscallArgs& args) {
    const OpenHow how = TRY(read_open_how(thread, args.address(2), args.raw[3]));
    TRY(check_open_how(how));
    const int dirfd = args.fd(0);
    std::string path = TRY(path_argument(thread, args.address(1)));
    const unsigned resolve = static_cast<unsigned>(how.resolve) & ~kResolveCached;
    const bool in_root = resolve & fs::resolve_in_root;
    // A scoped walk starts at dirfd even for an absolute path (which
    // RESOLVE_BENEATH then refuses).
    const bool scoped = in_root || (resolve & fs::resolve_beneath);
    fs::Lookup at = TRY(lookup_at(thread, dirfd, scoped ? std::string_view(".") : path));
    if (in_root)
        at.root = at.start;
    at.resolve = resolve;
    return open_from(thread, at, path, static_cast<int>(how.flags), static_cast<mode_t>(how.mode));
}

// Openat implements Linux syscall openat(2).
Result<long> sys_openat(Thread& thread, const SyscallArgs& args) {
    return open_at(thread, args.fd(0), args.address(1), args.integer(2),
                   static_cast<mode_t>(args.raw[3]));
}

// Creat implements Linux syscall creat(2).
Result<long> sys_creat(Thread& thread, const SyscallArgs& args) {
    return open_at(thread, AT_FDCWD, args.address(0), O_CREAT | O_WRONLY | O_TRUNC,
                   static_cast<mode_t>(args.raw[1]));
}

// Close implements Linux syscall close(2).
Result<long> sys_close(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<fs::OpenFile> file = TRY(fs_context_of(thread).fds.remove(args.fd(0)));
    release_record_locks(thread, *file);
    return 0;
}

// Dup implements Linux syscall dup(2).
Result<long> sys_dup(Thread& thread, const SyscallArgs& args) {
    return TRY(fs_context_of(thread).fds.duplicate(args.fd(0), 0, false));
}

// Dup2 implements Linux syscall dup2(2).
Result<long> sys_dup2(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<fs::OpenFile> replaced;
    int fd = TRY(fs_context_of(thread).fds.duplicate_to(args.fd(0), args.fd(1), false, &replaced));
    if (replaced)
        release_record_locks(thread, *replaced);
    return fd;
}

// Dup3 implements Linux syscall dup3(2).
Result<long> sys_dup3(Thread& thread, const SyscallArgs& args) {
    const int flags = args.integer(2);
    if (flags & ~O_CLOEXEC)
        return Error(EINVAL, "invalid dup3 flags");
    if (args.fd(0) == args.fd(1))
        return Error(EINVAL, "dup3 to the same descriptor");
    std::shared_ptr<fs::OpenFile> replaced;
    int fd = TRY(fs_context_of(thread).fds.duplicate_to(args.fd(0), args.fd(1), flags & O_CLOEXEC,
                                                        &replaced));
    if (replaced)
        release_record_locks(thread, *replaced);
    return fd;
}

// CloseRange implements Linux syscall close_range(2): CLOSE_RANGE_CLOEXEC
// marks instead of closing; CLOSE_RANGE_UNSHARE changes nothing, as
// descriptor tables are never shared between processes here.
Result<long> sys_close_range(Thread& thread, const SyscallArgs& args) {
    constexpr unsigned kUnshare = 2, kCloseOnExec = 4;  // CLOSE_RANGE_*
    const unsigned first = args.flags(0), last = args.flags(1), flags = args.flags(2);
    if ((flags & ~(kUnshare | kCloseOnExec)) || first > last)
        return Error(EINVAL, "invalid close_range arguments");
    FdTable& fds = fs_context_of(thread).fds;
    for (int fd : fds.open_fds()) {
        if (static_cast<unsigned>(fd) < first || static_cast<unsigned>(fd) > last)
            continue;
        if (flags & kCloseOnExec) {
            (void)fds.set_close_on_exec(fd, true);
            continue;
        }
        auto file = fds.remove(fd);
        if (!file.is_error())
            release_record_locks(thread, *file.value());
    }
    return 0;
}

// Fcntl implements Linux syscall fcntl(2): descriptor flags, status flags,
// duplication and POSIX record locks (no OFD locks, leases or signals).
Result<long> sys_fcntl(Thread& thread, const SyscallArgs& args) {
    const int fd = args.fd(0);
    const int command = args.integer(1);
    FdTable& fds = fs_context_of(thread).fds;
    std::shared_ptr<fs::OpenFile> file = TRY(fds.get(fd));
    switch (command) {
        case F_DUPFD:
        case F_DUPFD_CLOEXEC: {
            const uint64_t lowest = args.raw[2];
            if (lowest > static_cast<uint64_t>(std::numeric_limits<int>::max()))
                return Error(EINVAL, "descriptor out of range");
            return TRY(fds.duplicate(fd, static_cast<int>(lowest), command == F_DUPFD_CLOEXEC));
        }
        case F_GETFD:
            return TRY(fds.close_on_exec(fd)) ? FD_CLOEXEC : 0;
        case F_SETFD:
            TRY(fds.set_close_on_exec(fd, args.integer(2) & FD_CLOEXEC));
            return 0;
        case F_GETFL:
            return file->flags();
        case F_SETFL:
            if (file->is_path_only())
                return Error(EBADF, "descriptor opened with O_PATH");
            file->set_status_flags(args.integer(2));
            return 0;
        case F_GETLK:
        case F_SETLK:
        case F_SETLKW:
            return record_lock(thread, *file, command, args.address(2));
        case F_GETPIPE_SZ:
        case F_SETPIPE_SZ:
            return pipe_fcntl(thread, *file, command, args.raw[2]);
        default:
            return Error(EINVAL, "unsupported fcntl command " + std::to_string(command));
    }
}

}  // namespace myst::kernel

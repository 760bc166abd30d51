// Data transfer: read/write and their vector and positional forms, lseek,
// sendfile, copy_file_range, and the sync and allocation calls.
#include <fcntl.h>
#include <limits.h>
#include <sys/uio.h>

#include <algorithm>
#include <vector>

#include "base/endian.h"
#include "kernel/readiness.h"
#include "kernel/signal_delivery.h"
#include "kernel/syscalls/file_common.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

constexpr size_t kCopyChunk = 1 << 20;

// One vectored transfer: the vectors in order, until one comes up short.
Result<long> transfer_vectors(Thread& thread, fs::OpenFile& file,
                              const std::vector<IoVector>& vectors, std::optional<uint64_t> offset,
                              bool writing) {
    uint64_t total = 0;
    for (const IoVector& vector : vectors) {
        if (vector.length == 0)
            continue;
        std::optional<uint64_t> at;
        if (offset)
            at = *offset + total;
        auto moved = writing ? write_from_user(thread, file, vector.base, vector.length, at)
                             : read_to_user(thread, file, vector.base, vector.length, at);
        if (moved.is_error()) {
            if (total > 0)
                break;
            return moved.release_error();
        }
        total += moved.value();
        if (moved.value() < vector.length)
            break;
    }
    return static_cast<long>(total);
}

Result<std::shared_ptr<fs::OpenFile>> readable_file(Thread& thread, int fd) {
    std::shared_ptr<fs::OpenFile> file = TRY(io_file_of(thread, fd));
    if (!file->can_read())
        return Error(EBADF, "descriptor not open for reading");
    return file;
}

Result<std::shared_ptr<fs::OpenFile>> writable_file(Thread& thread, int fd) {
    std::shared_ptr<fs::OpenFile> file = TRY(io_file_of(thread, fd));
    if (!file->can_write())
        return Error(EBADF, "descriptor not open for writing");
    return file;
}

Result<std::optional<uint64_t>> position_argument(int64_t offset) {
    if (offset < 0)
        return Error(EINVAL, "negative offset");
    return std::optional<uint64_t>(static_cast<uint64_t>(offset));
}

// preadv2/pwritev2: offset -1 means the file offset; the RWF_* hints that
// change nothing here are accepted.
Result<std::optional<uint64_t>> position_argument_v2(int64_t offset, uint64_t flags) {
    constexpr uint64_t kHarmless = 0x1 | 0x2 | 0x4;  // RWF_HIPRI, RWF_DSYNC, RWF_SYNC
    if (flags & ~kHarmless)
        return Error(EOPNOTSUPP, "unsupported RWF_ flags");
    if (offset == -1)
        return std::optional<uint64_t>();
    return position_argument(offset);
}

// Writes all of `data` (short writes only end it on error or no progress).
Result<size_t> write_fully(fs::OpenFile& file, std::span<const uint8_t> data,
                           std::optional<uint64_t> offset) {
    size_t done = 0;
    while (done < data.size()) {
        auto rest = data.subspan(done);
        size_t wrote = offset ? TRY(file.pwrite(rest, *offset + done)) : TRY(file.write(rest));
        if (wrote == 0)
            break;
        done += wrote;
    }
    return done;
}

// Writes all of `data` at the file offset, waiting for room in a blocking
// socket or pipe as write(2) does; an error after some bytes went ends it
// with those.
Result<size_t> write_fully_waiting(Thread& thread, fs::OpenFile& file,
                                   std::span<const uint8_t> data) {
    size_t done = 0;
    while (done < data.size()) {
        auto rest = data.subspan(done);
        auto wrote = retry_until_ready(thread, file, POLLOUT, [&] { return file.write(rest); });
        if (wrote.is_error()) {
            if (done > 0)
                break;
            return wrote.release_error();
        }
        if (wrote.value() == 0)
            break;
        done += wrote.value();
    }
    return done;
}

}  // namespace

// Read implements Linux syscall read(2).
Result<long> sys_read(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<fs::OpenFile> file = TRY(readable_file(thread, args.fd(0)));
    return static_cast<long>(
        TRY(read_to_user(thread, *file, args.address(1), args.size(2), std::nullopt)));
}

// Write implements Linux syscall write(2).
Result<long> sys_write(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<fs::OpenFile> file = TRY(writable_file(thread, args.fd(0)));
    auto wrote = write_from_user(thread, *file, args.address(1), args.size(2), std::nullopt);
    if (wrote.is_error())
        return signal_broken_pipe(thread, wrote.release_error());
    return static_cast<long>(wrote.value());
}

// Readv implements Linux syscall readv(2).
Result<long> sys_readv(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<fs::OpenFile> file = TRY(readable_file(thread, args.fd(0)));
    auto vectors = TRY(read_io_vectors(thread, args.address(1), args.integer(2)));
    return transfer_vectors(thread, *file, vectors, std::nullopt, false);
}

// Writev implements Linux syscall writev(2).
Result<long> sys_writev(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<fs::OpenFile> file = TRY(writable_file(thread, args.fd(0)));
    auto vectors = TRY(read_io_vectors(thread, args.address(1), args.integer(2)));
    return signal_broken_pipe(thread, transfer_vectors(thread, *file, vectors, std::nullopt, true));
}

// Pread64 implements Linux syscall pread64(2).
Result<long> sys_pread64(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<fs::OpenFile> file = TRY(readable_file(thread, args.fd(0)));
    auto offset = TRY(position_argument(args.offset(3)));
    return static_cast<long>(
        TRY(read_to_user(thread, *file, args.address(1), args.size(2), offset)));
}

// Pwrite64 implements Linux syscall pwrite64(2).
Result<long> sys_pwrite64(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<fs::OpenFile> file = TRY(writable_file(thread, args.fd(0)));
    auto offset = TRY(position_argument(args.offset(3)));
    auto wrote = write_from_user(thread, *file, args.address(1), args.size(2), offset);
    if (wrote.is_error())
        return signal_broken_pipe(thread, wrote.release_error());
    return static_cast<long>(wrote.value());
}

// Preadv implements Linux syscall preadv(2).
Result<long> sys_preadv(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<fs::OpenFile> file = TRY(readable_file(thread, args.fd(0)));
    auto offset = TRY(position_argument(args.offset(3)));
    auto vectors = TRY(read_io_vectors(thread, args.address(1), args.integer(2)));
    return transfer_vectors(thread, *file, vectors, offset, false);
}

// Pwritev implements Linux syscall pwritev(2).
Result<long> sys_pwritev(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<fs::OpenFile> file = TRY(writable_file(thread, args.fd(0)));
    auto offset = TRY(position_argument(args.offset(3)));
    auto vectors = TRY(read_io_vectors(thread, args.address(1), args.integer(2)));
    return signal_broken_pipe(thread, transfer_vectors(thread, *file, vectors, offset, true));
}

// Preadv2 implements Linux syscall preadv2(2) (no RWF_NOWAIT or RWF_APPEND).
Result<long> sys_preadv2(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<fs::OpenFile> file = TRY(readable_file(thread, args.fd(0)));
    auto offset = TRY(position_argument_v2(args.offset(3), args.raw[5]));
    auto vectors = TRY(read_io_vectors(thread, args.address(1), args.integer(2)));
    return transfer_vectors(thread, *file, vectors, offset, false);
}

// Pwritev2 implements Linux syscall pwritev2(2) (no RWF_NOWAIT or RWF_APPEND).
Result<long> sys_pwritev2(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<fs::OpenFile> file = TRY(writable_file(thread, args.fd(0)));
    auto offset = TRY(position_argument_v2(args.offset(3), args.raw[5]));
    auto vectors = TRY(read_io_vectors(thread, args.address(1), args.integer(2)));
    return signal_broken_pipe(thread, transfer_vectors(thread, *file, vectors, offset, true));
}

// Lseek implements Linux syscall lseek(2).
Result<long> sys_lseek(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<fs::OpenFile> file = TRY(io_file_of(thread, args.fd(0)));
    return static_cast<long>(TRY(file->seek(args.offset(1), args.integer(2))));
}

// Sendfile implements Linux syscall sendfile(2).
Result<long> sys_sendfile(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<fs::OpenFile> out = TRY(writable_file(thread, args.fd(0)));
    std::shared_ptr<fs::OpenFile> in = TRY(readable_file(thread, args.fd(1)));
    if (out->flags() & O_APPEND)
        return Error(EINVAL, "sendfile to an O_APPEND file");
    const uint64_t offset_address = args.address(2);
    std::optional<uint64_t> offset;
    if (offset_address)
        offset = TRY(position_argument(TRY(read_user<int64_t>(thread, offset_address))));
    const size_t count = std::min<uint64_t>(args.size(3), kMaxTransfer);
    TransferBuffer buffer(std::min(count, kCopyChunk));
    size_t total = 0;
    while (total < count) {
        std::span<uint8_t> chunk = buffer.first(count - total);
        auto got = offset ? in->pread(chunk, *offset + total) : in->read(chunk);
        if (got.is_error()) {
            if (total > 0)
                break;
            return got.release_error();
        }
        if (got.value() == 0)
            break;
        auto wrote = write_fully_waiting(thread, *out, chunk.first(got.value()));
        if (wrote.is_error()) {
            if (total > 0)
                break;
            return signal_broken_pipe(thread, wrote.release_error());
        }
        total += wrote.value();
        if (wrote.value() < got.value() || got.value() < chunk.size() || in->is_stream())
            break;
    }
    if (offset_address)
        TRY(write_user<int64_t>(thread, offset_address, static_cast<int64_t>(*offset + total)));
    return static_cast<long>(total);
}

// CopyFileRange implements Linux syscall copy_file_range(2).
Result<long> sys_copy_file_range(Thread& thread, const SyscallArgs& args) {
    if (args.raw[5] != 0)
        return Error(EINVAL, "copy_file_range flags must be 0");
    std::shared_ptr<fs::OpenFile> in = TRY(readable_file(thread, args.fd(0)));
    std::shared_ptr<fs::OpenFile> out = TRY(writable_file(thread, args.fd(2)));
    if (out->flags() & O_APPEND)
        return Error(EBADF, "copy_file_range to an O_APPEND file");
    std::shared_ptr<fs::Inode> in_inode = in->inode();
    std::shared_ptr<fs::Inode> out_inode = out->inode();
    if (!in_inode || !out_inode)
        return Error(EINVAL, "copy_file_range needs regular files");
    if (in_inode->is_directory() || out_inode->is_directory())
        return Error(EISDIR, "is a directory");
    if (!in_inode->is_regular() || !out_inode->is_regular())
        return Error(EINVAL, "copy_file_range needs regular files");

    std::optional<uint64_t> in_offset, out_offset;
    if (args.address(1))
        in_offset = TRY(position_argument(TRY(read_user<int64_t>(thread, args.address(1)))));
    if (args.address(3))
        out_offset = TRY(position_argument(TRY(read_user<int64_t>(thread, args.address(3)))));
    const size_t count = std::min<uint64_t>(args.size(4), kMaxTransfer);
    if (in_inode->same_as(*out_inode)) {
        // Overlapping ranges of one file are EINVAL.
        uint64_t from = in_offset ? *in_offset : TRY(in->seek(0, SEEK_CUR));
        uint64_t to = out_offset ? *out_offset : TRY(out->seek(0, SEEK_CUR));
        if (from < to + count && to < from + count)
            return Error(EINVAL, "overlapping ranges of one file");
    }
    TransferBuffer buffer(std::min(count, kCopyChunk));
    size_t total = 0;
    while (total < count) {
        std::span<uint8_t> chunk = buffer.first(count - total);
        size_t got = in_offset ? TRY(in->pread(chunk, *in_offset + total)) : TRY(in->read(chunk));
        if (got == 0)
            break;
        std::optional<uint64_t> at;
        if (out_offset)
            at = *out_offset + total;
        size_t wrote = TRY(write_fully(*out, chunk.first(got), at));
        total += wrote;
        if (wrote < got || got < chunk.size())
            break;
    }
    if (in_offset)
        TRY(write_user<int64_t>(thread, args.address(1), static_cast<int64_t>(*in_offset + total)));
    if (out_offset)
        TRY(write_user<int64_t>(thread, args.address(3),
                                static_cast<int64_t>(*out_offset + total)));
    return static_cast<long>(total);
}

// Fsync implements Linux syscall fsync(2).
Result<long> sys_fsync(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<fs::OpenFile> file = TRY(io_file_of(thread, args.fd(0)));
    TRY(file->sync());
    return 0;
}

// Fdatasync implements Linux syscall fdatasync(2).
Result<long> sys_fdatasync(Thread& thread, const SyscallArgs& args) {
    return sys_fsync(thread, args);
}

// Sync implements Linux syscall sync(2): file systems here keep no dirty
// state a sync would push anywhere.
Result<long> sys_sync(Thread&, const SyscallArgs&) {
    return 0;
}

// Syncfs implements Linux syscall syncfs(2).
Result<long> sys_syncfs(Thread& thread, const SyscallArgs& args) {
    TRY(file_of(thread, args.fd(0)));
    return 0;
}

// Fadvise64 implements Linux syscall fadvise64(2): the advice is checked
// and, being advice, needs no action.
Result<long> sys_fadvise64(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<fs::OpenFile> file = TRY(io_file_of(thread, args.fd(0)));
    struct stat st = TRY(file->stat());
    if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))
        return Error(ESPIPE, "advice on a pipe");
    const int advice = args.integer(3);
    if (args.offset(2) < 0 || advice < POSIX_FADV_NORMAL || advice > POSIX_FADV_NOREUSE)
        return Error(EINVAL, "invalid advice");
    return 0;
}

// Readahead implements Linux syscall readahead(2): files here are in
// memory or read through the block stack's own read-ahead cache, so once
// the descriptor is checked (EBADF unless open for reading, EINVAL unless a
// regular file) there is nothing to load ahead.
Result<long> sys_readahead(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<fs::OpenFile> file = TRY(readable_file(thread, args.fd(0)));
    std::shared_ptr<fs::Inode> inode = file->inode();
    if (!inode || !inode->is_regular())
        return Error(EINVAL, "readahead needs a regular file");
    if (args.offset(2) < 0)
        return Error(EINVAL, "count past the largest file offset");
    return 0;
}

// SyncFileRange implements Linux syscall sync_file_range(2): the range and
// flags are checked as Linux does (EINVAL, then ESPIPE for anything but
// regular files, directories, symlinks and block devices); a write of a
// regular file's range pushes the whole file as fsync does (hostfs), the
// only write-back the file systems here have.
Result<long> sys_sync_file_range(Thread& thread, const SyscallArgs& args) {
    constexpr uint64_t kValidFlags =
        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;
    std::shared_ptr<fs::OpenFile> file = TRY(io_file_of(thread, args.fd(0)));
    const int64_t offset = args.offset(1);
    const int64_t count = args.offset(2);
    if ((args.raw[3] & ~kValidFlags) || offset < 0 || count < 0 || offset > INT64_MAX - count)
        return Error(EINVAL, "invalid sync_file_range arguments");
    struct stat st = TRY(file->stat());
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode) && !S_ISDIR(st.st_mode) &&
        !S_ISLNK(st.st_mode))
        return Error(ESPIPE, "sync_file_range on a pipe, socket or device");
    if (S_ISREG(st.st_mode) && (args.raw[3] & SYNC_FILE_RANGE_WRITE))
        TRY(file->sync());
    return 0;
}

// Fallocate implements Linux syscall fallocate(2): mode 0 (extend) and
// FALLOC_FL_KEEP_SIZE; files are sparse in memory, so no space is reserved.
Result<long> sys_fallocate(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<fs::OpenFile> file = TRY(writable_file(thread, args.fd(0)));
    const int mode = args.integer(1);
    const int64_t offset = args.offset(2);
    const int64_t length = args.offset(3);
    if (offset < 0 || length <= 0 || offset > INT64_MAX - length)
        return Error(EINVAL, "invalid range");
    std::shared_ptr<fs::Inode> inode = file->inode();
    if (inode && inode->is_directory())
        return Error(EISDIR, "is a directory");
    if (!inode || !inode->is_regular())
        return Error(ENODEV, "not a regular file");
    if (mode == FALLOC_FL_KEEP_SIZE)
        return 0;
    if (mode != 0)
        return Error(EOPNOTSUPP, "unsupported fallocate mode");
    struct stat st = TRY(file->stat());
    if (offset + length > st.st_size)
        TRY(file->truncate(static_cast<uint64_t>(offset + length)));
    return 0;
}

}  // namespace myst::kernel

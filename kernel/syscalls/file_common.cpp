#include "kernel/syscalls/file_common.h"

#include <fcntl.h>
#include <limits.h>

#include <algorithm>
#include <vector>

#include "base/endian.h"
#include "kernel/kernel.h"
#include "kernel/memory_manager.h"
#include "kernel/posix_mqueue.h"
#include "kernel/process.h"
#include "kernel/readiness.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

// The kernel buffer one step of a transfer goes through.
constexpr size_t kTransferChunk = 1 << 20;

// What one step of a transfer moved, and whether the transfer ends there
// even though the whole chunk moved.
struct TransferStep {
    size_t bytes;
    bool last = false;
};

// An error after some bytes moved ends the transfer with those bytes (a
// short read or write); before any, it is the call's error.
Result<TransferStep> stop_or_fail(Error error, size_t done) {
    if (done > 0)
        return TransferStep{0, true};
    return error;
}

// Moves up to `count` bytes (at most kMaxTransfer) in chunks: through one
// bounded kernel buffer, or, when `direct` is given, through the program's
// memory there itself. `step(chunk, done)` moves a chunk at byte `done`. A
// step that moves less than its chunk ends the transfer; its errors return
// as they are.
template <typename Step>
Result<size_t> transfer_in_chunks(size_t count, Step step, uint8_t* direct = nullptr) {
    count = std::min(count, kMaxTransfer);
    std::optional<TransferBuffer> buffer;
    if (!direct)
        buffer.emplace(std::min(count, kTransferChunk));
    size_t total = 0;
    while (total < count) {
        std::span<uint8_t> chunk =
            direct ? std::span<uint8_t>(direct + total, std::min(count - total, kTransferChunk))
                   : buffer->first(count - total);
        TransferStep moved = TRY(step(chunk, total));
        total += moved.bytes;
        if (moved.last || moved.bytes < chunk.size())
            break;
    }
    return total;
}

// One chunk of a write at the file offset. A full pipe makes the thread
// wait for room unless it is O_NONBLOCK; a blocking write to a pipe goes on
// until all of it is in (pipe(7)), and a signal or an error on the way ends
// it with what was written, as a short write.
Result<TransferStep> write_waiting(Thread& thread, fs::OpenFile& file,
                                   std::span<const uint8_t> chunk, size_t done) {
    const bool complete = file.completes_blocking_writes() && !(file.flags() & O_NONBLOCK);
    size_t written = 0;
    do {
        auto wrote = retry_until_ready(thread, file, POLLOUT,
                                       [&] { return file.write(chunk.subspan(written)); });
        if (wrote.is_error()) {
            if (written > 0)
                return TransferStep{written, true};
            return stop_or_fail(wrote.release_error(), done);
        }
        written += wrote.value();
    } while (complete && written < chunk.size());
    return TransferStep{written};
}

// Linux's access_ok() before a read or write: the whole buffer must lie
// below the top of user memory, before the count is capped or anything moves.
Result<void> check_user_range(uint64_t address, size_t count) {
    if (count > user_address_end || address > user_address_end - count)
        return Error(EFAULT, "buffer past the top of user memory");
    return {};
}

}  // namespace

FsContext& fs_context_of(Thread& thread) {
    return thread.process().fs();
}

fs::Vfs& vfs_of(Thread& thread) {
    return thread.kernel().vfs();
}

fs::Identity effective_identity(Thread& thread) {
    const Credentials& credentials = thread.process().credentials();
    return {credentials.fsuid, credentials.fsgid};
}

fs::Identity real_identity(Thread& thread) {
    const Credentials& credentials = thread.process().credentials();
    return {credentials.uid, credentials.gid};
}

Result<std::shared_ptr<fs::OpenFile>> file_of(Thread& thread, int fd) {
    return fs_context_of(thread).fds.get(fd);
}

Result<std::shared_ptr<fs::OpenFile>> io_file_of(Thread& thread, int fd) {
    std::shared_ptr<fs::OpenFile> file = TRY(file_of(thread, fd));
    if (file->is_path_only())
        return Error(EBADF, "descriptor opened with O_PATH");
    return file;
}

Result<std::vector<IoVector>> read_io_vectors(Thread& thread, uint64_t address, int count) {
    if (count < 0 || count > IOV_MAX)
        return Error(EINVAL, "invalid iovec count");
    std::vector<uint8_t> raw(static_cast<size_t>(count) * 16);
    TRY(copy_from_user(thread, raw.data(), address, raw.size()));
    std::vector<IoVector> vectors;
    uint64_t total = 0;
    for (int i = 0; i < count; ++i) {
        IoVector vector{load_le<uint64_t>(&raw[i * 16]), load_le<uint64_t>(&raw[i * 16 + 8])};
        if (vector.length > static_cast<uint64_t>(SSIZE_MAX) - total)
            return Error(EINVAL, "iovec lengths overflow");
        total += vector.length;
        vectors.push_back(vector);
    }
    return vectors;
}

Result<fs::Lookup> lookup_at(Thread& thread, int dirfd, std::string_view path,
                             const fs::Identity& who) {
    FsContext& context = fs_context_of(thread);
    fs::PathRef root = context.root();
    if (!path.empty() && path.front() == '/')
        return fs::Lookup{root, root, who};
    if (dirfd == AT_FDCWD)
        return fs::Lookup{std::move(root), context.cwd(), who};
    std::shared_ptr<fs::OpenFile> file = TRY(file_of(thread, dirfd));
    fs::PathRef start = file->path();
    if (!start || (!path.empty() && !start->inode()->is_directory()))
        return Error(ENOTDIR, "dirfd is not a directory");
    return fs::Lookup{std::move(root), std::move(start), who};
}

Result<fs::Lookup> lookup_at(Thread& thread, int dirfd, std::string_view path) {
    return lookup_at(thread, dirfd, path, effective_identity(thread));
}

Result<std::string> path_argument(Thread& thread, uint64_t address, bool allow_empty) {
    if (!allow_empty)
        return copy_path_from_user(thread, address);
    return copy_string_from_user(thread, address, PATH_MAX);
}

Result<fs::PathRef> resolve_at(Thread& thread, int dirfd, uint64_t path_address, int at_flags,
                               const fs::Identity& who, bool follow_by_default) {
    const bool allow_empty = at_flags & AT_EMPTY_PATH;
    std::string path = TRY(path_argument(thread, path_address, allow_empty));
    if (path.empty()) {
        if (dirfd == AT_FDCWD)
            return fs_context_of(thread).cwd();
        std::shared_ptr<fs::OpenFile> file = TRY(file_of(thread, dirfd));
        fs::PathRef node = file->path();
        if (!node)
            return Error(ENOENT, "descriptor has no path");
        return node;
    }
    fs::Lookup at = TRY(lookup_at(thread, dirfd, path, who));
    bool follow =
        follow_by_default ? !(at_flags & AT_SYMLINK_NOFOLLOW) : (at_flags & AT_SYMLINK_FOLLOW) != 0;
    return vfs_of(thread).resolve(at, path, follow);
}

Result<size_t> read_to_user(Thread& thread, fs::OpenFile& file, uint64_t address, size_t count,
                            std::optional<uint64_t> offset) {
    TRY(check_user_range(address, count));
    // A file that cannot block reads straight into the program's memory
    // once all of it is known to be mapped writable (what copy_to_user
    // checks): the copy through the kernel buffer cost up to a tenth of a
    // large read.
    uint8_t* direct = nullptr;
    if (!file.is_stream() &&
        thread.kernel().memory().is_accessible(address, std::min(count, kMaxTransfer), true))
        direct = reinterpret_cast<uint8_t*>(address);
    MemoryManager& memory = thread.kernel().memory();
    return transfer_in_chunks(
        count,
        [&](std::span<uint8_t> chunk, size_t done) -> Result<TransferStep> {
            // Only as much is read as can be copied out: Linux's copy stops
            // at the first bad page, and the file offset moves by what was
            // copied, never past it.
            if (!direct) {
                chunk = chunk.first(memory.accessible_length(address + done, chunk.size(), true));
                if (chunk.empty())
                    return stop_or_fail(Error(EFAULT, "bad address"), done);
            }
            // A pipe or eventfd with nothing to read makes the thread wait
            // (without the kernel lock) unless it is O_NONBLOCK.
            auto got =
                offset ? file.pread(chunk, *offset + done)
                       : retry_until_ready(thread, file, POLLIN, [&] { return file.read(chunk); });
            if (got.is_error())
                return stop_or_fail(got.release_error(), done);
            size_t size = got.value();
            if (size == 0)
                return TransferStep{0, true};
            if (!direct)
                TRY(copy_to_user(thread, address + done, chunk.data(), size));
            // A stream may block on the next read: hand over what came.
            return TransferStep{size, file.is_stream()};
        },
        direct);
}

Result<size_t> write_from_user(Thread& thread, fs::OpenFile& file, uint64_t address, size_t count,
                               std::optional<uint64_t> offset) {
    TRY(check_user_range(address, count));
    return transfer_in_chunks(
        count, [&](std::span<uint8_t> chunk, size_t done) -> Result<TransferStep> {
            // What can be read of the program's buffer is written, as Linux's
            // copy that stops at the first bad page.
            chunk = chunk.first(
                thread.kernel().memory().accessible_length(address + done, chunk.size(), false));
            if (chunk.empty())
                return stop_or_fail(Error(EFAULT, "bad address"), done);
            auto copied = copy_from_user(thread, chunk.data(), address + done, chunk.size());
            if (copied.is_error())
                return stop_or_fail(copied.release_error(), done);
            if (offset) {
                auto wrote = file.pwrite(chunk, *offset + done);
                if (wrote.is_error())
                    return stop_or_fail(wrote.release_error(), done);
                return TransferStep{wrote.value()};
            }
            return write_waiting(thread, file, chunk, done);
        });
}

void release_record_locks(Thread& thread, const fs::OpenFile& file) {
    if (std::shared_ptr<fs::Inode> inode = file.inode())
        vfs_of(thread).locks().release(*inode, thread.process().pid());
    if (const auto* queue = dynamic_cast<const PosixQueueFile*>(&file))
        queue->queue().closed_by(thread.process().pid());
}

}  // namespace myst::kernel

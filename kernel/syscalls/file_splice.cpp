// Moving data through pipes without a trip through the program: splice,
// tee and vmsplice. Pipes here are ring buffers in kernel memory, so the
// bytes are copied through a bounded kernel buffer rather than moved as
// pages; what each call moves, when it waits and what it fails with follow
// Linux's fs/splice.c.
#include <fcntl.h>
#include <poll.h>

#include <algorithm>
#include <optional>

#include "kernel/pipe.h"
#include "kernel/readiness.h"
#include "kernel/signal_delivery.h"
#include "kernel/syscalls/file_common.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

// SPLICE_F_MOVE, SPLICE_F_NONBLOCK, SPLICE_F_MORE, SPLICE_F_GIFT: MOVE,
// MORE and GIFT are hints, NONBLOCK is honoured.
constexpr unsigned kSpliceNonblock = 0x02;
constexpr unsigned kSpliceAllFlags = 0x0f;

// The kernel buffer one step goes through.
constexpr size_t kSpliceChunk = 1 << 20;

// The pipe behind `file`, if it is a pipe or FIFO end.
Pipe* pipe_of(fs::OpenFile& file) {
    auto* end = dynamic_cast<PipeEnd*>(&file);
    return end ? &end->pipe() : nullptr;
}

// Waits (without the kernel lock) until `ready()` holds, `events` on
// `file` being what may change it; EAGAIN at once with `nonblock`.
template <typename Ready>
Result<void> wait_pipe(Thread& thread, fs::OpenFile& file, uint32_t events, bool nonblock,
                       Ready ready) {
    while (!ready()) {
        if (nonblock)
            return Error(EAGAIN, "the pipe is not ready");
        TRY(wait_for_events(thread, file, events));
    }
    return {};
}

// Waits until `pipe` holds data; false when it is empty for good (no
// writer), the end of file.
Result<bool> wait_for_data(Thread& thread, fs::OpenFile& file, Pipe& pipe, bool nonblock) {
    TRY(wait_pipe(thread, file, POLLIN, nonblock,
                  [&] { return pipe.bytes_available() > 0 || pipe.writers() == 0; }));
    return pipe.bytes_available() > 0;
}

// Waits until `pipe` has room; EPIPE (the caller raises SIGPIPE) when it
// has no reader.
Result<size_t> wait_for_room(Thread& thread, fs::OpenFile& file, Pipe& pipe, bool nonblock) {
    TRY(wait_pipe(thread, file, POLLOUT, nonblock,
                  [&] { return pipe.free_space() > 0 || pipe.readers() == 0; }));
    if (pipe.readers() == 0)
        return Error(EPIPE, "the pipe has no reader");
    return pipe.free_space();
}

// An offset argument (null: the file offset), read from the program.
Result<std::optional<uint64_t>> offset_argument(Thread& thread, uint64_t address) {
    if (!address)
        return std::optional<uint64_t>();
    int64_t offset = TRY(read_user<int64_t>(thread, address));
    if (offset < 0)
        return Error(EINVAL, "negative offset");
    return std::optional<uint64_t>(static_cast<uint64_t>(offset));
}

// A file end of a splice with an offset must be seekable (EINVAL).
Result<void> check_positional(fs::OpenFile& file, const std::optional<uint64_t>& offset) {
    if (offset && file.is_stream())
        return Error(EINVAL, "offset for a file that cannot seek");
    return {};
}

// Writes `data` to the (non-pipe) destination of a splice, at `offset` or
// the file offset, waiting for room in a socket as a blocking write does.
Result<size_t> write_out(Thread& thread, fs::OpenFile& out, std::span<const uint8_t> data,
                         std::optional<uint64_t> offset) {
    if (offset)
        return out.pwrite(data, *offset);
    return retry_until_ready(thread, out, POLLOUT, [&] { return out.write(data); });
}

// Pipe to pipe: as much as the input holds and the output has room for.
Result<long> splice_pipes(Thread& thread, fs::OpenFile& in, Pipe& in_pipe, fs::OpenFile& out,
                          Pipe& out_pipe, size_t count, bool nonblock) {
    if (!TRY(wait_for_data(thread, in, in_pipe, nonblock)))
        return 0;
    size_t room = TRY(wait_for_room(thread, out, out_pipe, nonblock));
    TransferBuffer buffer(std::min({count, room, kSpliceChunk}));
    std::span<uint8_t> chunk = buffer.first(buffer.size());
    size_t got = TRY(in_pipe.read(chunk));
    return static_cast<long>(TRY(out_pipe.write(chunk.first(got))));
}

// Pipe to a file or socket: what the pipe holds, up to `count`; bytes
// leave the pipe only once written.
Result<long> splice_from_pipe(Thread& thread, fs::OpenFile& in, Pipe& pipe, fs::OpenFile& out,
                              std::optional<uint64_t> offset, size_t count, bool nonblock) {
    size_t total = 0;
    TransferBuffer buffer(std::min(count, kSpliceChunk));
    while (total < count) {
        if (pipe.bytes_available() == 0 && total > 0)
            break;
        if (!TRY(wait_for_data(thread, in, pipe, nonblock)))
            break;
        std::span<uint8_t> chunk = buffer.first(count - total);
        size_t got = TRY(pipe.peek(chunk));
        std::optional<uint64_t> at;
        if (offset)
            at = *offset + total;
        auto wrote = write_out(thread, out, chunk.first(got), at);
        if (wrote.is_error()) {
            if (total > 0)
                break;
            return wrote.release_error();
        }
        TRY(pipe.read(buffer.first(wrote.value())));  // drops what went out
        total += wrote.value();
        if (wrote.value() < got)
            break;
    }
    return static_cast<long>(total);
}

// A file or socket to a pipe: one read of at most the pipe's free room.
Result<long> splice_to_pipe(Thread& thread, fs::OpenFile& in, std::optional<uint64_t> offset,
                            fs::OpenFile& out, Pipe& pipe, size_t count, bool nonblock) {
    size_t room = TRY(wait_for_room(thread, out, pipe, nonblock));
    TransferBuffer buffer(std::min({count, room, kSpliceChunk}));
    std::span<uint8_t> chunk = buffer.first(buffer.size());
    size_t got = offset
                     ? TRY(in.pread(chunk, *offset))
                     : TRY(retry_until_ready(thread, in, POLLIN, [&] { return in.read(chunk); }));
    if (got == 0)
        return 0;
    return static_cast<long>(TRY(pipe.write(chunk.first(got))));
}

Result<long> splice(Thread& thread, const SyscallArgs& args) {
    const size_t count = std::min<uint64_t>(args.size(4), kMaxTransfer);
    const unsigned flags = args.flags(5);
    if (count == 0)
        return 0;
    if (flags & ~kSpliceAllFlags)
        return Error(EINVAL, "unknown splice flags");
    std::shared_ptr<fs::OpenFile> in = TRY(io_file_of(thread, args.fd(0)));
    std::shared_ptr<fs::OpenFile> out = TRY(io_file_of(thread, args.fd(2)));
    Pipe* in_pipe = pipe_of(*in);
    Pipe* out_pipe = pipe_of(*out);
    const uint64_t in_offset_address = args.address(1), out_offset_address = args.address(3);
    if ((in_pipe && in_offset_address) || (out_pipe && out_offset_address))
        return Error(ESPIPE, "offset for a pipe");
    std::optional<uint64_t> in_offset = TRY(offset_argument(thread, in_offset_address));
    std::optional<uint64_t> out_offset = TRY(offset_argument(thread, out_offset_address));
    if (!in->can_read() || !out->can_write())
        return Error(EBADF, "splice needs a readable input and a writable output");
    bool nonblock = flags & kSpliceNonblock;
    if (in_pipe && out_pipe) {
        if (in_pipe == out_pipe)
            return Error(EINVAL, "splice of a pipe to itself");
        nonblock = nonblock || ((in->flags() | out->flags()) & O_NONBLOCK);
        return splice_pipes(thread, *in, *in_pipe, *out, *out_pipe, count, nonblock);
    }
    if (in_pipe) {
        TRY(check_positional(*out, out_offset));
        if (out->flags() & O_APPEND)
            return Error(EINVAL, "splice to an O_APPEND file");
        nonblock = nonblock || (in->flags() & O_NONBLOCK);
        long moved =
            TRY(splice_from_pipe(thread, *in, *in_pipe, *out, out_offset, count, nonblock));
        if (out_offset)
            TRY(write_user<int64_t>(thread, out_offset_address,
                                    static_cast<int64_t>(*out_offset + moved)));
        return moved;
    }
    if (out_pipe) {
        TRY(check_positional(*in, in_offset));
        nonblock = nonblock || (out->flags() & O_NONBLOCK);
        long moved = TRY(splice_to_pipe(thread, *in, in_offset, *out, *out_pipe, count, nonblock));
        if (in_offset)
            TRY(write_user<int64_t>(thread, in_offset_address,
                                    static_cast<int64_t>(*in_offset + moved)));
        return moved;
    }
    return Error(EINVAL, "splice needs a pipe at one end");
}

// vmsplice of program memory into a pipe: as much as there is room for.
Result<long> vmsplice_to_pipe(Thread& thread, fs::OpenFile& file, Pipe& pipe,
                              const std::vector<IoVector>& vectors, bool nonblock) {
    size_t room = TRY(wait_for_room(thread, file, pipe, nonblock));
    size_t total = 0;
    for (const IoVector& vector : vectors) {
        size_t size = std::min<uint64_t>(vector.length, room - total);
        if (size == 0)
            continue;
        TransferBuffer buffer(size);
        std::span<uint8_t> chunk = buffer.first(size);
        auto copied = copy_from_user(thread, chunk.data(), vector.base, size);
        if (copied.is_error()) {
            if (total > 0)
                break;
            return copied.release_error();
        }
        total += TRY(pipe.write(chunk));
        if (total == room)
            break;
    }
    return static_cast<long>(total);
}

// vmsplice of a pipe's data into program memory, as readv does.
Result<long> vmsplice_from_pipe(Thread& thread, fs::OpenFile& file, Pipe& pipe,
                                const std::vector<IoVector>& vectors, bool nonblock) {
    if (!TRY(wait_for_data(thread, file, pipe, nonblock)))
        return 0;
    size_t total = 0;
    for (const IoVector& vector : vectors) {
        if (vector.length == 0)
            continue;
        if (pipe.bytes_available() == 0)
            break;
        auto got = read_to_user(thread, file, vector.base, vector.length, std::nullopt);
        if (got.is_error()) {
            if (total > 0)
                break;
            return got.release_error();
        }
        total += got.value();
        if (got.value() < vector.length)
            break;
    }
    return static_cast<long>(total);
}

}  // namespace

// Splice implements Linux syscall splice(2): between a pipe and a file,
// socket or another pipe, with offsets for the ends that are not pipes.
Result<long> sys_splice(Thread& thread, const SyscallArgs& args) {
    return signal_broken_pipe(thread, splice(thread, args));
}

// Tee implements Linux syscall tee(2): copies up to `len` bytes from one
// pipe to another, leaving them in the first.
Result<long> sys_tee(Thread& thread, const SyscallArgs& args) {
    const unsigned flags = args.flags(3);
    if (flags & ~kSpliceAllFlags)
        return Error(EINVAL, "unknown tee flags");
    const size_t count = std::min<uint64_t>(args.size(2), kMaxTransfer);
    if (count == 0)
        return 0;
    std::shared_ptr<fs::OpenFile> in = TRY(io_file_of(thread, args.fd(0)));
    std::shared_ptr<fs::OpenFile> out = TRY(io_file_of(thread, args.fd(1)));
    if (!in->can_read() || !out->can_write())
        return Error(EBADF, "tee needs a readable input and a writable output");
    Pipe* in_pipe = pipe_of(*in);
    Pipe* out_pipe = pipe_of(*out);
    if (!in_pipe || !out_pipe || in_pipe == out_pipe)
        return Error(EINVAL, "tee needs two different pipes");
    const bool nonblock = (flags & kSpliceNonblock) || ((in->flags() | out->flags()) & O_NONBLOCK);
    auto copied = [&]() -> Result<long> {
        if (!TRY(wait_for_data(thread, *in, *in_pipe, nonblock)))
            return 0;
        size_t room = TRY(wait_for_room(thread, *out, *out_pipe, nonblock));
        TransferBuffer buffer(std::min({count, room, kSpliceChunk}));
        std::span<uint8_t> chunk = buffer.first(buffer.size());
        size_t got = TRY(in_pipe->peek(chunk));
        return static_cast<long>(TRY(out_pipe->write(chunk.first(got))));
    }();
    return signal_broken_pipe(thread, std::move(copied));
}

// Vmsplice implements Linux syscall vmsplice(2): the program's buffers
// are copied into the pipe (a write end), or the pipe's data into them (a
// read end); no pages are shared, which SPLICE_F_GIFT only suggests.
Result<long> sys_vmsplice(Thread& thread, const SyscallArgs& args) {
    const unsigned flags = args.flags(3);
    if (flags & ~kSpliceAllFlags)
        return Error(EINVAL, "unknown vmsplice flags");
    std::shared_ptr<fs::OpenFile> file = TRY(io_file_of(thread, args.fd(0)));
    const bool writing = file->can_write();
    if (!writing && !file->can_read())
        return Error(EBADF, "descriptor neither readable nor writable");
    if (args.raw[2] > static_cast<uint64_t>(IOV_MAX))
        return Error(EINVAL, "too many iovecs");
    std::vector<IoVector> vectors =
        TRY(read_io_vectors(thread, args.address(1), static_cast<int>(args.raw[2])));
    bool empty = std::all_of(vectors.begin(), vectors.end(),
                             [](const IoVector& vector) { return vector.length == 0; });
    if (empty)
        return 0;
    Pipe* pipe = pipe_of(*file);
    if (!pipe)
        return Error(EBADF, "vmsplice needs a pipe");
    const bool nonblock = (flags & kSpliceNonblock) || (file->flags() & O_NONBLOCK);
    if (writing)
        return signal_broken_pipe(thread,
                                  vmsplice_to_pipe(thread, *file, *pipe, vectors, nonblock));
    return vmsplice_from_pipe(thread, *file, *pipe, vectors, nonblock);
}

}  // namespace myst::kernel

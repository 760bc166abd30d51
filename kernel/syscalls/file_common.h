// Shared pieces of the file system calls: descriptors, dirfd-relative
// lookups, and copying data between files and program memory in bounded
// kernel buffers.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "fs/vfs/vfs.h"
#include "kernel/fs_context.h"

namespace myst::kernel {

class Thread;

FsContext& fs_context_of(Thread& thread);
fs::Vfs& vfs_of(Thread& thread);
// The ids file access is checked with (the effective ids), and the real
// ones for access(2).
fs::Identity effective_identity(Thread& thread);
fs::Identity real_identity(Thread& thread);

// The open file behind `fd` (EBADF).
Result<std::shared_ptr<fs::OpenFile>> file_of(Thread& thread, int fd);
// The same, for calls that do I/O or change the file: an O_PATH descriptor
// only names a file, so it is EBADF there.
Result<std::shared_ptr<fs::OpenFile>> io_file_of(Thread& thread, int fd);

// Where `path` starts: the root for absolute paths, else the cwd
// (AT_FDCWD) or the directory open as `dirfd` (EBADF, ENOTDIR).
Result<fs::Lookup> lookup_at(Thread& thread, int dirfd, std::string_view path,
                             const fs::Identity& who);
Result<fs::Lookup> lookup_at(Thread& thread, int dirfd, std::string_view path);

// One struct iovec of the program.
struct IoVector {
    uint64_t base;
    uint64_t length;
};
// The program's struct iovec array: at most IOV_MAX entries whose lengths
// add up to no more than SSIZE_MAX (else EINVAL).
Result<std::vector<IoVector>> read_io_vectors(Thread& thread, uint64_t address, int count);

// A path argument; the empty path is ENOENT unless `allow_empty`.
Result<std::string> path_argument(Thread& thread, uint64_t address, bool allow_empty = false);

// The node the *at calls name with (dirfd, path, AT_* flags): an empty
// path with AT_EMPTY_PATH is dirfd itself; AT_SYMLINK_NOFOLLOW keeps a
// final symlink (`follow_by_default` false: only AT_SYMLINK_FOLLOW follows,
// as for linkat).
Result<fs::PathRef> resolve_at(Thread& thread, int dirfd, uint64_t path_address, int at_flags,
                               const fs::Identity& who, bool follow_by_default = true);

// Reads up to `count` bytes from `file` (at `offset`, or the file offset)
// into program memory; stops at a short read and, for streams, after the
// first read that returned data.
Result<size_t> read_to_user(Thread& thread, fs::OpenFile& file, uint64_t address, size_t count,
                            std::optional<uint64_t> offset);
// Writes up to `count` bytes of program memory to `file`; stops at a
// short write.
Result<size_t> write_from_user(Thread& thread, fs::OpenFile& file, uint64_t address, size_t count,
                               std::optional<uint64_t> offset);

// A kernel buffer for one step of a transfer. It is not zero-filled: only
// bytes a file wrote into it are ever handed on.
class TransferBuffer {
public:
    explicit TransferBuffer(size_t size)
        : m_bytes(std::make_unique_for_overwrite<uint8_t[]>(size)), m_size(size) {}
    size_t size() const { return m_size; }
    // The first `count` bytes (at most the whole buffer).
    std::span<uint8_t> first(size_t count) { return {m_bytes.get(), std::min(count, m_size)}; }

private:
    std::unique_ptr<uint8_t[]> m_bytes;
    size_t m_size;
};

// Linux caps one read or write at this many bytes (MAX_RW_COUNT).
constexpr size_t kMaxTransfer = 0x7ffff000;

// Drops the calling process's record locks on the file's inode, as every
// close(2) of a descriptor of it must (and, for an mqd, the process's
// mq_notify registration, as Linux's mqueue flush does).
void release_record_locks(Thread& thread, const fs::OpenFile& file);

}  // namespace myst::kernel

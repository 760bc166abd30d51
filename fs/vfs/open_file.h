// Open file descriptions (Linux's struct file): what a file descriptor
// refers to. Descriptors hold counted references (shared_ptr), so dup'ed
// descriptors share the offset and status flags, and the description lives
// until its last descriptor is closed. Pipes, sockets and the host's
// standard streams are OpenFiles too, without an inode.
//
// Lock order: OpenFile offset lock -> file system lock.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <time.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fs/vfs/path.h"

namespace myst::fs {

class FlockHold;  // fs/vfs/file_locks.h

enum class DirentFormat {
    linux_dirent64,  // getdents64(2)
    linux_dirent,    // getdents(2): d_type in the record's last byte
};

// Encodes one directory record; returns its size, or 0 when it does not fit
// into `buffer`.
size_t encode_dirent(std::span<uint8_t> buffer, DirentFormat format, const DirectoryEntry& entry,
                     uint64_t next_offset);

// What a wait for a file's readiness watches (DESIGN.md decision 7): host
// fds (wake fds of kernel objects, host streams) and the time at which the
// readiness changes by itself (a timerfd). A wait ends when either fires;
// the waiter then asks the files again (poll_events), as a wake fd only
// says that something may have changed.
struct WaitSources {
    std::vector<struct pollfd> host_fds;
    std::optional<struct timespec> deadline;  // CLOCK_MONOTONIC, absolute

    void add_fd(int fd, short events) { host_fds.push_back({fd, events, 0}); }
    void add_deadline(const struct timespec& when);
};

class OpenFile {
public:
    // `flags` as open(2) got them; only the access mode and the status flags
    // F_GETFL reports are kept.
    explicit OpenFile(int flags);
    virtual ~OpenFile();
    OpenFile(const OpenFile&) = delete;
    OpenFile& operator=(const OpenFile&) = delete;

    // The access mode and status flags, as F_GETFL reports them.
    int flags() const { return m_flags.load(); }
    // F_SETFL: changes only O_APPEND, O_NONBLOCK, O_ASYNC, O_DIRECT, O_NOATIME.
    void set_status_flags(int flags);
    bool can_read() const;
    bool can_write() const;
    bool is_path_only() const { return (flags() & O_PATH) != 0; }

    // read(2)/write(2) at the file offset (or where the file kind says).
    virtual Result<size_t> read(std::span<uint8_t> buffer);
    virtual Result<size_t> write(std::span<const uint8_t> data);
    // pread64(2)/pwrite64(2); ESPIPE unless seekable.
    virtual Result<size_t> pread(std::span<uint8_t> buffer, uint64_t offset);
    virtual Result<size_t> pwrite(std::span<const uint8_t> data, uint64_t offset);
    // lseek(2); returns the new offset.
    virtual Result<uint64_t> seek(int64_t offset, int whence);
    // getdents64(2)/getdents(2): fills buffer with records; 0 at the end.
    virtual Result<size_t> read_directory(std::span<uint8_t> buffer, DirentFormat format);
    virtual Result<struct stat> stat() = 0;
    virtual Result<void> truncate(uint64_t size);
    virtual Result<void> sync();
    // A request the ioctl handler decoded; `argument` is a kernel copy of the
    // request's argument (filled in for "get" requests).
    virtual Result<long> ioctl(unsigned long request, std::span<uint8_t> argument);
    virtual Result<struct statfs> statfs();

    // True when a read may return less than asked without being at the end
    // (pipes, terminals): callers must not loop on short reads.
    virtual bool is_stream() const { return true; }
    // What /proc/<pid>/fd/N shows: the path, or e.g. "pipe:[1234]".
    virtual std::string describe() const = 0;
    // A new description of the same object, for opening /proc/<pid>/fd/N
    // when the file has no path (pipes, sockets, host streams); ENXIO when
    // the object cannot be opened again.
    virtual Result<std::shared_ptr<OpenFile>> reopen(int flags);
    // --- Readiness (poll, select, epoll and blocking reads and writes). ---
    // The POLL* events (POLLIN, POLLOUT, POLLHUP, POLLERR, POLLRDHUP...)
    // that hold now; never blocks. Files that never block (regular files,
    // directories, devices) are always ready, as Linux's DEFAULT_POLLMASK.
    virtual uint32_t poll_events();
    // Whether the file has a readiness of its own: epoll refuses the others
    // (EPERM), and only these make a blocking read or write wait for it.
    // Their read and write fail with EAGAIN where they would block, and the
    // kernel waits (or not, with O_NONBLOCK).
    virtual bool is_pollable() const { return false; }
    // Adds to `sources` what a wait for `events` on this file watches.
    virtual Result<void> add_wake_sources(WaitSources& sources, uint32_t events);
    // Counts the events that may make the file ready (a pipe's writes for
    // its read end): edge-triggered epoll reports a file again only after
    // it moved.
    virtual uint64_t readiness_generation() const { return 0; }
    // True when a blocking write must write all of its data, waiting for
    // room as often as needed (pipes); else one successful write is all.
    virtual bool completes_blocking_writes() const { return false; }

    // The path it was opened by (null for pipes and sockets).
    virtual PathRef path() const { return nullptr; }
    std::shared_ptr<Inode> inode() const;

    // flock(2): the lock this description holds goes with it (FileLocks).
    bool holds_flock() const { return m_flock_hold != nullptr; }
    void hold_flock(std::unique_ptr<FlockHold> hold);

private:
    std::atomic<int> m_flags;
    std::unique_ptr<FlockHold> m_flock_hold;
};

// An open inode: regular files, directories, devices and symlinks (O_PATH).
class InodeFile : public OpenFile {
public:
    InodeFile(PathRef path, int flags);

    Result<size_t> read(std::span<uint8_t> buffer) override;
    Result<size_t> write(std::span<const uint8_t> data) override;
    Result<size_t> pread(std::span<uint8_t> buffer, uint64_t offset) override;
    Result<size_t> pwrite(std::span<const uint8_t> data, uint64_t offset) override;
    Result<uint64_t> seek(int64_t offset, int whence) override;
    Result<size_t> read_directory(std::span<uint8_t> buffer, DirentFormat format) override;
    Result<struct stat> stat() override;
    Result<void> truncate(uint64_t size) override;
    Result<void> sync() override;
    Result<long> ioctl(unsigned long request, std::span<uint8_t> argument) override;
    Result<struct statfs> statfs() override;
    bool is_stream() const override;
    std::string describe() const override;
    PathRef path() const override { return m_path; }

protected:
    // Writes at the end of file in one step (O_APPEND); returns the new size.
    virtual Result<uint64_t> append(std::span<const uint8_t> data);
    // The size SEEK_END and FIONREAD see.
    virtual Result<uint64_t> size();

private:
    PathRef m_path;
    std::mutex m_offset_lock;
    uint64_t m_offset = 0;  // bytes, or the directory cookie
};

// A read-only file whose bytes were produced when it was opened (procfs):
// a reader sees one consistent snapshot however it splits its reads.
class SnapshotFile final : public InodeFile {
public:
    SnapshotFile(PathRef path, int flags, std::string content);

    Result<size_t> pread(std::span<uint8_t> buffer, uint64_t offset) override;
    Result<size_t> pwrite(std::span<const uint8_t> data, uint64_t offset) override;
    Result<void> truncate(uint64_t size) override;

protected:
    Result<uint64_t> append(std::span<const uint8_t> data) override;
    Result<uint64_t> size() override { return m_content.size(); }

private:
    std::string m_content;
};

}  // namespace myst::fs

// Pipes and FIFOs (pipe(7)): a ring buffer in kernel memory between two
// kinds of open file descriptions, read ends and write ends. The writer
// and reader counts are the numbers of live descriptions of each kind, so
// the last close of a write end (the description's destructor) is the
// readers' end of file, and the last close of a read end makes writes fail
// with EPIPE.
//
// Reads and writes never block here: where Linux would sleep they fail
// with EAGAIN, and the kernel waits for the end's wake fd (readable while
// the end is ready, see kernel/wake_signal.h) without the kernel lock,
// unless the description is O_NONBLOCK.
//
// Memory (DESIGN.md decision 5): a pipe's buffer is charged to the
// kernel-wide PipeRegistry at its capacity (64 KiB by default) when the
// pipe is made or resized, and allocated at the first write. Past
// KernelConfig::pipe_buffer_limit (64 MiB by default, Linux's per-user
// soft limit pipe-user-pages-soft) a new pipe gets one page, as Linux does
// past the soft limit; when not even a page is left, pipe(2) fails with
// ENFILE and F_SETPIPE_SZ with EPERM, as past Linux's hard limit.
//
// Lock order: kernel lock -> Pipe::m_lock.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <span>

#include "base/result.h"
#include "fs/vfs/open_file.h"
#include "kernel/wake_signal.h"
#include "target/target.h"

namespace myst::kernel {

// PIPE_BUF: writes up to this size are atomic.
constexpr size_t kPipeAtomicSize = 4096;
constexpr size_t kPipeDefaultCapacity = 65536;
// /proc/sys/fs/pipe-max-size: the most an unprivileged F_SETPIPE_SZ may ask.
constexpr size_t kPipeMaxSize = 1 << 20;
// The most a privileged (root) F_SETPIPE_SZ may ask. Linux allows up to
// 2 GiB; here a pipe may not take more than this of the pipe budget.
constexpr size_t kPipeMaxPrivilegedSize = 16 << 20;

class Pipe;

// Kernel-wide pipe state: the buffer budget, the pipefs inode numbers and
// the pipe of each FIFO that is open.
class PipeRegistry {
public:
    explicit PipeRegistry(uint64_t limit) : m_limit(limit) {}

    // The pipe every opening of the FIFO `inode` connects to: made on the
    // first opening, gone with the last description.
    Result<std::shared_ptr<Pipe>> fifo_pipe(const fs::Inode& inode, Target& target);

    // Takes `bytes` of the budget; false when they are not left.
    bool charge(uint64_t bytes);
    void release(uint64_t bytes);
    uint64_t next_inode() { return m_next_inode++; }

private:
    std::mutex m_lock;
    uint64_t m_limit;
    uint64_t m_used = 0;
    uint64_t m_next_inode = 4026531840 + 1000;  // pipefs numbers, as Linux's
    std::mutex m_fifo_lock;                     // taken before m_lock (making a pipe charges it)
    std::map<const fs::Inode*, std::weak_ptr<Pipe>> m_fifos;
};

class Pipe {
    struct Private {};  // only create() makes pipes

public:
    struct Owner {
        uid_t uid = 0;
        gid_t gid = 0;
    };
    Pipe(Private, PipeRegistry& registry, Target& target, Owner owner, size_t capacity);
    // A pipe with no ends yet (open_end adds them).
    static Result<std::shared_ptr<Pipe>> create(PipeRegistry& registry, Target& target,
                                                Owner owner);
    ~Pipe();
    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;

    // Counts a new description of the pipe (a FIFO opened O_RDWR is both).
    void open_end(bool reads, bool writes);
    void close_end(bool reads, bool writes);
    unsigned readers() { return read_locked(m_readers); }
    unsigned writers() { return read_locked(m_writers); }
    // Bumped by every opening of a write end: a FIFO reader that opened
    // before any writer sees no hang-up until a writer came and went.
    uint64_t writers_opened() { return read_locked(m_writers_opened); }

    // Up to buffer.size() bytes; 0 at end of file (empty, no writer);
    // EAGAIN when empty while a writer remains.
    Result<size_t> read(std::span<uint8_t> buffer);
    // EPIPE without a reader. Up to PIPE_BUF bytes go in at once or not at
    // all; more may go in part. EAGAIN when nothing could go in. `packets`
    // (a write end in O_DIRECT packet mode): the data goes in as packets of
    // at most PIPE_BUF bytes, and a read returns at most one packet.
    Result<size_t> write(std::span<const uint8_t> data, bool packets = false);
    size_t bytes_available() { return read_locked(m_size); }
    // Copies up to buffer.size() of the oldest bytes without taking them
    // (tee(2)); 0 at end of file, EAGAIN when empty while a writer remains.
    Result<size_t> peek(std::span<uint8_t> buffer);
    // The bytes a write may put in now (splice(2) moves no more).
    size_t free_space() {
        std::lock_guard guard(m_lock);
        return free_space_locked();
    }

    size_t capacity() { return read_locked(m_capacity); }
    // F_SETPIPE_SZ: Linux's rounding (a power-of-two number of pages),
    // EPERM past pipe-max-size unless `privileged`, EBUSY below the bytes
    // held. Returns the new capacity.
    Result<size_t> set_capacity(uint64_t requested, bool privileged);

    // poll(2) events of a read end (POLLIN, POLLHUP) and a write end
    // (POLLOUT, POLLERR). `hangup_after` hides POLLHUP from a FIFO reader
    // that has seen no writer yet (writers_opened() when it opened).
    uint32_t read_end_events(uint64_t hangup_after);
    uint32_t write_end_events();
    // The wake fds of the ends: readable while the end is ready (or hung up).
    Result<int> read_end_wake_fd() { return wake_fd(m_readable); }
    Result<int> write_end_wake_fd() { return wake_fd(m_writable); }
    // Readable while the pipe has a reader and has had a writer (what a
    // blocking open of a FIFO waits for).
    Result<int> connected_wake_fd() { return wake_fd(m_connected); }
    // What moves each end's readiness: writes and writer closes for the read
    // end, reads and reader closes for the write end.
    uint64_t read_end_generation() { return read_locked(m_read_end_generation); }
    uint64_t write_end_generation() { return read_locked(m_write_end_generation); }

    uint64_t inode_number() const { return m_inode; }
    Owner owner() const { return m_owner; }

private:
    template <typename T>
    T read_locked(const T& field) {
        std::lock_guard guard(m_lock);
        return field;
    }
    Result<int> wake_fd(WakeSignal& signal) {
        std::lock_guard guard(m_lock);
        return signal.fd();
    }
    void update_signals_locked();
    size_t free_space_locked() const { return m_capacity - m_size; }
    // Moves `count` bytes from the ring to `destination` (null: drops them).
    void copy_out_locked(uint8_t* destination, size_t count);
    size_t read_segments_locked(std::span<uint8_t> buffer);
    void append_locked(std::span<const uint8_t> data, bool packets);

    // The bytes held, as runs of stream bytes and packets, oldest first.
    struct Segment {
        size_t size = 0;
        bool packet = false;
    };

    PipeRegistry& m_registry;
    const uint64_t m_inode;
    const Owner m_owner;
    std::mutex m_lock;
    size_t m_capacity;
    std::unique_ptr<uint8_t[]> m_buffer;  // m_capacity bytes, from the first write
    size_t m_head = 0;                    // where the oldest byte is
    size_t m_size = 0;                    // bytes held
    std::deque<Segment> m_segments;       // m_size bytes in all
    unsigned m_readers = 0;
    unsigned m_writers = 0;
    uint64_t m_writers_opened = 0;
    uint64_t m_read_end_generation = 0;
    uint64_t m_write_end_generation = 0;
    WakeSignal m_readable;
    WakeSignal m_writable;
    WakeSignal m_connected;
};

// One open file description of a pipe or FIFO: a read end (O_RDONLY), a
// write end (O_WRONLY), or both (a FIFO opened O_RDWR).
class PipeEnd final : public fs::OpenFile {
public:
    // `fifo` is the FIFO's path (null for pipe(2)). Counts itself as a
    // reader and/or writer of `pipe` until it is destroyed.
    PipeEnd(std::shared_ptr<Pipe> pipe, int flags, fs::PathRef fifo = nullptr);
    ~PipeEnd() override;

    Result<size_t> read(std::span<uint8_t> buffer) override;
    Result<size_t> write(std::span<const uint8_t> data) override;
    Result<struct stat> stat() override;
    Result<long> ioctl(unsigned long request, std::span<uint8_t> argument) override;
    std::string describe() const override;
    Result<std::shared_ptr<OpenFile>> reopen(int flags) override;
    fs::PathRef path() const override { return m_fifo; }

    uint32_t poll_events() override;
    bool is_pollable() const override { return true; }
    Result<void> add_wake_sources(fs::WaitSources& sources, uint32_t events) override;
    uint64_t readiness_generation() const override;
    bool completes_blocking_writes() const override { return true; }

    Pipe& pipe() { return *m_pipe; }
    bool is_fifo() const { return m_fifo != nullptr; }
    // Whether the other side a blocking FIFO open waits for has come.
    bool peer_arrived();

private:
    std::shared_ptr<Pipe> m_pipe;
    fs::PathRef m_fifo;
    const bool m_reads;
    const bool m_writes;
    const uint64_t m_writers_seen;
};

// pipe(2)'s two ends, as descriptions with `flags` (O_NONBLOCK, O_DIRECT).
struct PipeEnds {
    std::shared_ptr<PipeEnd> read_end;
    std::shared_ptr<PipeEnd> write_end;
};
Result<PipeEnds> make_pipe(PipeRegistry& registry, Target& target, Pipe::Owner owner, int flags);

// open(2) of the FIFO at `node`, without waiting: ENXIO for a write-only
// non-blocking open while no reader has it open. A blocking open then
// waits for the other side (fifo_needs_peer).
Result<std::shared_ptr<fs::OpenFile>> open_fifo(PipeRegistry& registry, Target& target,
                                                const fs::PathRef& node, int flags);
// Whether the just opened `file` is a FIFO end whose blocking open must
// still wait for a writer (O_RDONLY) or a reader (O_WRONLY).
bool fifo_needs_peer(fs::OpenFile& file);

}  // namespace myst::kernel

#include "kernel/pipe.h"

#include <sys/ioctl.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <string>

namespace myst::kernel {

namespace {

constexpr size_t kPage = 4096;

// Linux's round_pipe_size(): at least a page, a power of two; 0 past 2 GiB.
uint64_t round_pipe_size(uint64_t size) {
    if (size > (1ull << 31))
        return 0;
    if (size < kPage)
        return kPage;
    return std::bit_ceil(size);
}

}  // namespace

bool PipeRegistry::charge(uint64_t bytes) {
    std::lock_guard guard(m_lock);
    if (bytes > m_limit - m_used)
        return false;
    m_used += bytes;
    return true;
}

void PipeRegistry::release(uint64_t bytes) {
    std::lock_guard guard(m_lock);
    m_used -= std::min(bytes, m_used);
}

Result<std::shared_ptr<Pipe>> PipeRegistry::fifo_pipe(const fs::Inode& inode, Target& target) {
    std::lock_guard guard(m_fifo_lock);
    std::erase_if(m_fifos, [](const auto& entry) { return entry.second.expired(); });
    if (std::shared_ptr<Pipe> pipe = m_fifos[&inode].lock())
        return pipe;
    std::shared_ptr<Pipe> pipe = TRY(Pipe::create(*this, target, {}));
    m_fifos[&inode] = pipe;
    return pipe;
}

Pipe::Pipe(Private, PipeRegistry& registry, Target& target, Owner owner, size_t capacity)
    : m_registry(registry),
      m_inode(registry.next_inode()),
      m_owner(owner),
      m_capacity(capacity),
      m_readable(target),
      m_writable(target),
      m_connected(target) {
    update_signals_locked();
}

Result<std::shared_ptr<Pipe>> Pipe::create(PipeRegistry& registry, Target& target, Owner owner) {
    // Past the soft limit a pipe gets one page, as Linux's
    // pipe-user-pages-soft; not even that is Linux's hard limit: ENFILE.
    size_t capacity = kPipeDefaultCapacity;
    if (!registry.charge(capacity)) {
        capacity = kPage;
        if (!registry.charge(capacity))
            return Error(ENFILE, "the kernel's pipe buffer budget is used up");
    }
    return std::make_shared<Pipe>(Private{}, registry, target, owner, capacity);
}

Pipe::~Pipe() {
    m_registry.release(m_capacity);
}

void Pipe::open_end(bool reads, bool writes) {
    std::lock_guard guard(m_lock);
    if (reads)
        ++m_readers;
    if (writes) {
        ++m_writers;
        ++m_writers_opened;
    }
    update_signals_locked();
}

void Pipe::close_end(bool reads, bool writes) {
    std::lock_guard guard(m_lock);
    if (reads && m_readers > 0 && --m_readers == 0)
        ++m_write_end_generation;
    if (writes && m_writers > 0 && --m_writers == 0)
        ++m_read_end_generation;
    update_signals_locked();
}

void Pipe::copy_out_locked(uint8_t* destination, size_t count) {
    const size_t first = std::min(count, m_capacity - m_head);
    if (destination) {
        std::memcpy(destination, &m_buffer[m_head], first);
        std::memcpy(destination + first, &m_buffer[0], count - first);
    }
    m_head = (m_head + count) % m_capacity;
    m_size -= count;
    if (m_size == 0)
        m_head = 0;  // the next writes need not wrap
}

size_t Pipe::read_segments_locked(std::span<uint8_t> buffer) {
    size_t count = 0;
    while (count < buffer.size() && !m_segments.empty()) {
        Segment& segment = m_segments.front();
        if (segment.packet) {
            // A packet is a read of its own; what the buffer cannot hold
            // of it is dropped, as Linux's packet mode does.
            if (count > 0)
                break;
            const size_t taken = std::min(segment.size, buffer.size());
            copy_out_locked(buffer.data(), taken);
            copy_out_locked(nullptr, segment.size - taken);
            m_segments.pop_front();
            return taken;
        }
        const size_t taken = std::min(segment.size, buffer.size() - count);
        copy_out_locked(buffer.data() + count, taken);
        count += taken;
        if ((segment.size -= taken) == 0)
            m_segments.pop_front();
    }
    return count;
}

Result<size_t> Pipe::read(std::span<uint8_t> buffer) {
    std::lock_guard guard(m_lock);
    if (buffer.empty())
        return 0;
    if (m_size == 0) {
        if (m_writers == 0)
            return 0;
        return Error(EAGAIN, "pipe is empty");
    }
    const size_t count = read_segments_locked(buffer);
    ++m_write_end_generation;
    update_signals_locked();
    return count;
}

Result<size_t> Pipe::peek(std::span<uint8_t> buffer) {
    std::lock_guard guard(m_lock);
    if (buffer.empty())
        return 0;
    if (m_size == 0) {
        if (m_writers == 0)
            return 0;
        return Error(EAGAIN, "pipe is empty");
    }
    const size_t count = std::min(buffer.size(), m_size);
    const size_t first = std::min(count, m_capacity - m_head);
    std::memcpy(buffer.data(), &m_buffer[m_head], first);
    std::memcpy(buffer.data() + first, &m_buffer[0], count - first);
    return count;
}

void Pipe::append_locked(std::span<const uint8_t> data, bool packets) {
    const size_t tail = (m_head + m_size) % m_capacity;
    const size_t first = std::min(data.size(), m_capacity - tail);
    std::memcpy(&m_buffer[tail], data.data(), first);
    std::memcpy(&m_buffer[0], data.data() + first, data.size() - first);
    m_size += data.size();
    if (!packets) {
        if (m_segments.empty() || m_segments.back().packet)
            m_segments.push_back({0, false});
        m_segments.back().size += data.size();
        return;
    }
    // Packet mode: a write longer than PIPE_BUF is several packets.
    for (size_t done = 0; done < data.size(); done += kPipeAtomicSize)
        m_segments.push_back({std::min(kPipeAtomicSize, data.size() - done), true});
}

Result<size_t> Pipe::write(std::span<const uint8_t> data, bool packets) {
    std::lock_guard guard(m_lock);
    if (m_readers == 0)
        return Error(EPIPE, "pipe has no reader");
    if (data.empty())
        return 0;
    const size_t room = free_space_locked();
    if (room == 0 || (data.size() <= kPipeAtomicSize && room < data.size()))
        return Error(EAGAIN, "pipe is full");
    if (!m_buffer)
        m_buffer = std::make_unique_for_overwrite<uint8_t[]>(m_capacity);
    const size_t count = std::min(data.size(), room);
    append_locked(data.first(count), packets);
    ++m_read_end_generation;
    update_signals_locked();
    return count;
}

Result<size_t> Pipe::set_capacity(uint64_t requested, bool privileged) {
    // Linux takes the argument as an unsigned int.
    const uint64_t size = round_pipe_size(static_cast<uint32_t>(requested));
    if (size == 0)
        return Error(EINVAL, "pipe size too large");
    if (size > (privileged ? kPipeMaxPrivilegedSize : kPipeMaxSize))
        return Error(EPERM, "pipe size past pipe-max-size");
    std::lock_guard guard(m_lock);
    if (size < m_size)
        return Error(EBUSY, "pipe holds more than the new size");
    if (size == m_capacity)
        return size;
    if (size > m_capacity && !m_registry.charge(size - m_capacity))
        return Error(EPERM, "the kernel's pipe buffer budget is used up");
    if (size < m_capacity)
        m_registry.release(m_capacity - size);
    std::unique_ptr<uint8_t[]> buffer;
    if (m_buffer) {
        // The held bytes move to the start of the new buffer.
        buffer = std::make_unique_for_overwrite<uint8_t[]>(size);
        const size_t first = std::min(m_size, m_capacity - m_head);
        std::memcpy(&buffer[0], &m_buffer[m_head], first);
        std::memcpy(&buffer[first], &m_buffer[0], m_size - first);
    }
    m_buffer = std::move(buffer);
    m_capacity = size;
    m_head = 0;
    ++m_write_end_generation;
    update_signals_locked();
    return size;
}

uint32_t Pipe::read_end_events(uint64_t hangup_after) {
    std::lock_guard guard(m_lock);
    uint32_t events = 0;
    if (m_size > 0)
        events |= POLLIN | POLLRDNORM;
    if (m_writers == 0 && m_writers_opened != hangup_after)
        events |= POLLHUP;
    return events;
}

uint32_t Pipe::write_end_events() {
    std::lock_guard guard(m_lock);
    uint32_t events = 0;
    // As Linux: writable while a page (PIPE_BUF) is free, so that any
    // atomic write goes in.
    if (free_space_locked() >= std::min(kPipeAtomicSize, m_capacity))
        events |= POLLOUT | POLLWRNORM;
    if (m_readers == 0)
        events |= POLLERR;
    return events;
}

void Pipe::update_signals_locked() {
    // A reader waits for data or the end of file; a writer for room or the
    // loss of every reader (EPIPE).
    m_readable.set(m_size > 0 || m_writers == 0);
    m_writable.set(free_space_locked() >= std::min(kPipeAtomicSize, m_capacity) || m_readers == 0);
    // A blocking FIFO open waits for this. It stays up once a writer came,
    // so that a reader cannot miss a writer that opened and closed at once.
    m_connected.set(m_readers > 0 && m_writers_opened > 0);
}

PipeEnd::PipeEnd(std::shared_ptr<Pipe> pipe, int flags, fs::PathRef fifo)
    : OpenFile(flags),
      m_pipe(std::move(pipe)),
      m_fifo(std::move(fifo)),
      m_reads(can_read()),
      m_writes(can_write()),
      m_writers_seen(m_pipe->writers_opened()) {
    m_pipe->open_end(m_reads, m_writes);
}

PipeEnd::~PipeEnd() {
    m_pipe->close_end(m_reads, m_writes);
}

Result<size_t> PipeEnd::read(std::span<uint8_t> buffer) {
    return m_pipe->read(buffer);
}

Result<size_t> PipeEnd::write(std::span<const uint8_t> data) {
    return m_pipe->write(data, flags() & O_DIRECT);
}

Result<struct stat> PipeEnd::stat() {
    if (m_fifo)
        return m_fifo->inode()->stat();
    struct stat st {};
    st.st_dev = 0xd;  // pipefs: an anonymous device, as Linux's
    st.st_ino = m_pipe->inode_number();
    st.st_mode = S_IFIFO | 0600;
    st.st_nlink = 1;
    st.st_uid = m_pipe->owner().uid;
    st.st_gid = m_pipe->owner().gid;
    st.st_blksize = kPage;
    return st;
}

Result<long> PipeEnd::ioctl(unsigned long request, std::span<uint8_t> argument) {
    if (request != FIONREAD || argument.size() < sizeof(int))
        return Error(ENOTTY, "inappropriate ioctl for a pipe");
    int available = static_cast<int>(m_pipe->bytes_available());
    std::memcpy(argument.data(), &available, sizeof available);
    return 0;
}

std::string PipeEnd::describe() const {
    if (m_fifo)
        return m_fifo->to_string();
    return "pipe:[" + std::to_string(m_pipe->inode_number()) + "]";
}

Result<std::shared_ptr<fs::OpenFile>> PipeEnd::reopen(int flags) {
    // Opening /proc/<pid>/fd/N of a pipe opens the pipe again, as a FIFO.
    return std::shared_ptr<fs::OpenFile>(std::make_shared<PipeEnd>(m_pipe, flags, m_fifo));
}

uint32_t PipeEnd::poll_events() {
    uint32_t events = 0;
    if (m_reads)
        events |= m_pipe->read_end_events(m_writers_seen);
    if (m_writes)
        events |= m_pipe->write_end_events();
    return events;
}

Result<void> PipeEnd::add_wake_sources(fs::WaitSources& sources, uint32_t) {
    // Hang-ups and errors are reported whatever was asked: both ends'
    // signals cover them.
    if (m_reads)
        sources.add_fd(TRY(m_pipe->read_end_wake_fd()), POLLIN);
    if (m_writes)
        sources.add_fd(TRY(m_pipe->write_end_wake_fd()), POLLIN);
    return {};
}

uint64_t PipeEnd::readiness_generation() const {
    uint64_t generation = 0;
    if (m_reads)
        generation += m_pipe->read_end_generation();
    if (m_writes)
        generation += m_pipe->write_end_generation();
    return generation;
}

bool PipeEnd::peer_arrived() {
    if (m_reads && m_writes)
        return true;
    // A reader goes on once a writer came, even if it has gone again.
    if (m_reads)
        return m_pipe->writers() > 0 || m_pipe->writers_opened() != m_writers_seen;
    return m_pipe->readers() > 0;
}

Result<PipeEnds> make_pipe(PipeRegistry& registry, Target& target, Pipe::Owner owner, int flags) {
    std::shared_ptr<Pipe> pipe = TRY(Pipe::create(registry, target, owner));
    const int status = flags & (O_NONBLOCK | O_DIRECT);
    // The read end first: it has seen no writer, so it reports the hang-up
    // once the write end is gone.
    auto read_end = std::make_shared<PipeEnd>(pipe, O_RDONLY | status);
    auto write_end = std::make_shared<PipeEnd>(pipe, O_WRONLY | status);
    return PipeEnds{std::move(read_end), std::move(write_end)};
}

Result<std::shared_ptr<fs::OpenFile>> open_fifo(PipeRegistry& registry, Target& target,
                                                const fs::PathRef& node, int flags) {
    std::shared_ptr<Pipe> pipe = TRY(registry.fifo_pipe(*node->inode(), target));
    if ((flags & O_ACCMODE) == O_WRONLY && (flags & O_NONBLOCK) && pipe->readers() == 0)
        return Error(ENXIO, "FIFO has no reader");
    constexpr int kLargeFile = 0100000;  // Linux sets O_LARGEFILE on every open
    return std::shared_ptr<fs::OpenFile>(
        std::make_shared<PipeEnd>(std::move(pipe), flags | kLargeFile, node));
}

bool fifo_needs_peer(fs::OpenFile& file) {
    auto* end = dynamic_cast<PipeEnd*>(&file);
    return end && end->is_fifo() && !(file.flags() & O_NONBLOCK) && !end->peer_arrived();
}

}  // namespace myst::kernel

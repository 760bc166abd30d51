#include "fs/vfs/open_file.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "base/endian.h"
#include "fs/vfs/file_locks.h"

namespace myst::fs {

namespace {

// Linux's O_LARGEFILE (glibc defines it as 0 on x86-64, but the kernel sets
// it on every open file and F_GETFL reports it).
constexpr int kKernelLargeFile = 0100000;

constexpr int kSettableStatusFlags = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;
constexpr int kKeptFlags = O_ACCMODE | kSettableStatusFlags | O_SYNC | O_DSYNC | kKernelLargeFile;

size_t align8(size_t value) {
    return (value + 7) & ~size_t{7};
}

// "." and ".." take directory offsets 0 and 1; the file system's cookies
// follow, shifted by this much.
constexpr uint64_t kDotEntries = 2;

}  // namespace

size_t encode_dirent(std::span<uint8_t> buffer, DirentFormat format, const DirectoryEntry& entry,
                     uint64_t next_offset) {
    const size_t name_size = entry.name.size();
    const size_t header = format == DirentFormat::linux_dirent64 ? 19 : 18;
    // The name's NUL, and for getdents(2) the trailing d_type byte.
    const size_t record =
        align8(header + name_size + (format == DirentFormat::linux_dirent64 ? 1 : 2));
    if (record > buffer.size())
        return 0;
    uint8_t* out = buffer.data();
    std::memset(out, 0, record);
    store_le<uint64_t>(out, entry.ino);
    store_le<uint64_t>(out + 8, next_offset);
    store_le<uint16_t>(out + 16, static_cast<uint16_t>(record));
    if (format == DirentFormat::linux_dirent64)
        out[18] = entry.type;
    else
        out[record - 1] = entry.type;
    std::memcpy(out + header, entry.name.data(), name_size);
    return record;
}

OpenFile::OpenFile(int flags) : m_flags((flags & O_PATH) ? O_PATH : (flags & kKeptFlags)) {}

OpenFile::~OpenFile() = default;

void OpenFile::hold_flock(std::unique_ptr<FlockHold> hold) {
    m_flock_hold = std::move(hold);
}

void OpenFile::set_status_flags(int flags) {
    int old = m_flags.load();
    while (!m_flags.compare_exchange_weak(
        old, (old & ~kSettableStatusFlags) | (flags & kSettableStatusFlags))) {
    }
}

bool OpenFile::can_read() const {
    int current = flags();
    int mode = current & O_ACCMODE;
    return !(current & O_PATH) && (mode == O_RDONLY || mode == O_RDWR);
}

bool OpenFile::can_write() const {
    int current = flags();
    int mode = current & O_ACCMODE;
    return !(current & O_PATH) && (mode == O_WRONLY || mode == O_RDWR);
}

void WaitSources::add_deadline(const struct timespec& when) {
    if (!deadline || when.tv_sec < deadline->tv_sec ||
        (when.tv_sec == deadline->tv_sec && when.tv_nsec < deadline->tv_nsec))
        deadline = when;
}

uint32_t OpenFile::poll_events() {
    return POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
}

Result<void> OpenFile::add_wake_sources(WaitSources&, uint32_t) {
    return {};  // always ready: nothing to wait for
}

std::shared_ptr<Inode> OpenFile::inode() const {
    PathRef where = path();
    return where ? where->inode() : nullptr;
}

Result<size_t> OpenFile::read(std::span<uint8_t>) {
    return Error(EINVAL, "cannot read");
}

Result<size_t> OpenFile::write(std::span<const uint8_t>) {
    return Error(EINVAL, "cannot write");
}

Result<size_t> OpenFile::pread(std::span<uint8_t>, uint64_t) {
    return Error(ESPIPE, "not seekable");
}

Result<size_t> OpenFile::pwrite(std::span<const uint8_t>, uint64_t) {
    return Error(ESPIPE, "not seekable");
}

Result<uint64_t> OpenFile::seek(int64_t, int) {
    return Error(ESPIPE, "not seekable");
}

Result<size_t> OpenFile::read_directory(std::span<uint8_t>, DirentFormat) {
    return Error(ENOTDIR, "not a directory");
}

Result<void> OpenFile::truncate(uint64_t) {
    return Error(EINVAL, "cannot truncate");
}

Result<void> OpenFile::sync() {
    return Error(EINVAL, "cannot sync");
}

Result<long> OpenFile::ioctl(unsigned long, std::span<uint8_t>) {
    return Error(ENOTTY, "inappropriate ioctl");
}

Result<std::shared_ptr<OpenFile>> OpenFile::reopen(int) {
    return Error(ENXIO, "file cannot be opened again");
}

Result<struct statfs> OpenFile::statfs() {
    struct statfs st {};
    st.f_type = 0x50495045;  // PIPEFS_MAGIC, as Linux reports for pipes
    st.f_bsize = 4096;
    st.f_frsize = 4096;
    st.f_namelen = 255;
    return st;
}

InodeFile::InodeFile(PathRef path, int flags)
    : OpenFile(flags | kKernelLargeFile), m_path(std::move(path)) {}

Result<size_t> InodeFile::read(std::span<uint8_t> buffer) {
    std::lock_guard guard(m_offset_lock);
    size_t count = TRY(pread(buffer, m_offset));
    m_offset += count;
    return count;
}

Result<size_t> InodeFile::write(std::span<const uint8_t> data) {
    std::lock_guard guard(m_offset_lock);
    if ((flags() & O_APPEND) && m_path->inode()->is_regular()) {
        m_offset = TRY(append(data));
        return data.size();
    }
    size_t count = TRY(pwrite(data, m_offset));
    m_offset += count;
    return count;
}

Result<size_t> InodeFile::pread(std::span<uint8_t> buffer, uint64_t offset) {
    // A mapped file's current bytes are its shared pages (fs/vfs/inode.h).
    if (auto pages = m_path->inode()->mapped_pages()) {
        uint64_t file_size = TRY(size());
        if (offset >= file_size)
            return 0;
        return pages->read(offset,
                           buffer.first(std::min<uint64_t>(buffer.size(), file_size - offset)));
    }
    return m_path->inode()->read_at(offset, buffer);
}

Result<size_t> InodeFile::pwrite(std::span<const uint8_t> data, uint64_t offset) {
    // Linux appends even for pwrite(2) when the file has O_APPEND.
    if ((flags() & O_APPEND) && m_path->inode()->is_regular()) {
        TRY(append(data));
        return data.size();
    }
    size_t count = TRY(m_path->inode()->write_at(offset, data));
    if (auto pages = m_path->inode()->mapped_pages())
        TRY(pages->write(offset, data.first(count)));
    return count;
}

Result<uint64_t> InodeFile::append(std::span<const uint8_t> data) {
    uint64_t new_size = TRY(m_path->inode()->append(data));
    if (auto pages = m_path->inode()->mapped_pages())
        TRY(pages->write(new_size - data.size(), data));
    return new_size;
}

Result<uint64_t> InodeFile::size() {
    struct stat st = TRY(m_path->inode()->stat());
    return static_cast<uint64_t>(st.st_size);
}

Result<uint64_t> InodeFile::seek(int64_t offset, int whence) {
    std::lock_guard guard(m_offset_lock);
    const auto max = std::numeric_limits<int64_t>::max();
    if (m_path->inode()->is_directory()) {
        // Directory offsets are cookies: only positions told before are valid.
        if (whence == SEEK_SET && offset >= 0)
            m_offset = static_cast<uint64_t>(offset);
        else if (!(whence == SEEK_CUR && offset == 0))
            return Error(EINVAL, "invalid directory seek");
        return m_offset;
    }
    int64_t base = 0;
    switch (whence) {
        case SEEK_SET:
            break;
        case SEEK_CUR:
            base = static_cast<int64_t>(m_offset);
            break;
        case SEEK_END:
            base = static_cast<int64_t>(TRY(size()));
            break;
        case SEEK_DATA:
        case SEEK_HOLE: {
            // No holes are tracked: all data up to the end, one hole after it.
            uint64_t end = TRY(size());
            if (offset < 0 || static_cast<uint64_t>(offset) >= end)
                return Error(ENXIO, "offset past the end of file");
            m_offset = whence == SEEK_DATA ? static_cast<uint64_t>(offset) : end;
            return m_offset;
        }
        default:
            return Error(EINVAL, "invalid whence");
    }
    if ((offset > 0 && base > max - offset) || base + offset < 0)
        return Error(EINVAL, "invalid offset");
    m_offset = static_cast<uint64_t>(base + offset);
    return m_offset;
}

Result<size_t> InodeFile::read_directory(std::span<uint8_t> buffer, DirentFormat format) {
    const std::shared_ptr<Inode>& inode = m_path->inode();
    if (!inode->is_directory())
        return Error(ENOTDIR, "not a directory");
    std::lock_guard guard(m_offset_lock);
    size_t used = 0;
    bool full = false;
    auto emit = [&](const DirectoryEntry& entry, uint64_t next) {
        size_t size = encode_dirent(buffer.subspan(used), format, entry, next);
        if (size == 0) {
            full = true;
            return false;
        }
        used += size;
        m_offset = next;
        return true;
    };
    if (m_offset == 0)
        emit({".", inode->ino(), DT_DIR, 1}, 1);
    if (!full && m_offset == 1) {
        const PathRef& parent = m_path->parent() ? m_path->parent() : m_path;
        emit({"..", parent->inode()->ino(), DT_DIR, 2}, 2);
    }
    if (!full && m_offset >= kDotEntries) {
        TRY(inode->read_directory(m_offset - kDotEntries, [&](const DirectoryEntry& entry) {
            return emit(entry, entry.next_cookie + kDotEntries);
        }));
    }
    if (used == 0 && full)
        return Error(EINVAL, "buffer too small for a directory entry");
    return used;
}

Result<struct stat> InodeFile::stat() {
    return m_path->inode()->stat();
}

Result<void> InodeFile::truncate(uint64_t size) {
    TRY(m_path->inode()->truncate(size));
    if (auto pages = m_path->inode()->mapped_pages())
        TRY(pages->resize(size));
    return {};
}

Result<void> InodeFile::sync() {
    return m_path->inode()->sync();
}

Result<long> InodeFile::ioctl(unsigned long request, std::span<uint8_t> argument) {
    if (request == FIONREAD && m_path->inode()->is_regular() && argument.size() >= sizeof(int)) {
        uint64_t end = TRY(size());
        uint64_t offset;
        {
            std::lock_guard guard(m_offset_lock);
            offset = m_offset;
        }
        // As Linux: the size minus the offset, negative past the end.
        int value = static_cast<int>(static_cast<int64_t>(end) - static_cast<int64_t>(offset));
        std::memcpy(argument.data(), &value, sizeof(value));
        return 0;
    }
    return Error(ENOTTY, "inappropriate ioctl for this file");
}

Result<struct statfs> InodeFile::statfs() {
    return m_path->inode()->file_system().statfs();
}

bool InodeFile::is_stream() const {
    const std::shared_ptr<Inode>& inode = m_path->inode();
    return !inode->is_regular() && !inode->is_directory();
}

std::string InodeFile::describe() const {
    std::string text = m_path->to_string();
    const std::shared_ptr<Inode>& inode = m_path->inode();
    if (!inode->is_directory()) {
        auto st = inode->stat();
        if (!st.is_error() && st.value().st_nlink == 0)
            text += " (deleted)";
    }
    return text;
}

SnapshotFile::SnapshotFile(PathRef path, int flags, std::string content)
    : InodeFile(std::move(path), flags), m_content(std::move(content)) {}

Result<size_t> SnapshotFile::pread(std::span<uint8_t> buffer, uint64_t offset) {
    if (offset >= m_content.size())
        return size_t{0};
    size_t count = std::min<uint64_t>(buffer.size(), m_content.size() - offset);
    std::memcpy(buffer.data(), m_content.data() + offset, count);
    return count;
}

Result<size_t> SnapshotFile::pwrite(std::span<const uint8_t>, uint64_t) {
    return Error(EINVAL, "file cannot be written");
}

Result<void> SnapshotFile::truncate(uint64_t) {
    return Error(EINVAL, "file cannot be truncated");
}

Result<uint64_t> SnapshotFile::append(std::span<const uint8_t>) {
    return Error(EINVAL, "file cannot be written");
}

}  // namespace myst::fs

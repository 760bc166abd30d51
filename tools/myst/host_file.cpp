#include "tools/myst/host_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace myst::tools {

static Result<std::unique_ptr<HostFile>> open_with_flags(const std::string& path, int flags) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0)
        return Error::from_errno(errno, path);
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        ::close(fd);
        return Error(EISDIR, path + ": is a directory");
    }
    return HostFile::adopt(fd, path);
}

Result<std::unique_ptr<HostFile>> HostFile::open_read(const std::string& path) {
    return open_with_flags(path, O_RDONLY);
}

Result<std::unique_ptr<HostFile>> HostFile::open_read_write(const std::string& path) {
    return open_with_flags(path, O_RDWR);
}

std::unique_ptr<HostFile> HostFile::adopt(int fd, std::string path) {
    return std::unique_ptr<HostFile>(new HostFile(fd, std::move(path)));
}

HostFile::~HostFile() {
    ::close(m_fd);
}

Result<void> HostFile::read_at(uint64_t offset, std::span<uint8_t> buffer) {
    size_t done = 0;
    while (done < buffer.size()) {
        ssize_t n = ::pread(m_fd, buffer.data() + done, buffer.size() - done, offset + done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return Error::from_errno(errno, m_path);
        if (n == 0)
            return Error(EIO, m_path + ": unexpected end of file (file shrank while being read?)");
        done += static_cast<size_t>(n);
    }
    return {};
}

Result<void> HostFile::write_at(uint64_t offset, std::span<const uint8_t> data) {
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::pwrite(m_fd, data.data() + done, data.size() - done, offset + done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return Error::from_errno(errno, m_path);
        done += static_cast<size_t>(n);
    }
    return {};
}

Result<uint64_t> HostFile::size() {
    struct stat st {};
    if (::fstat(m_fd, &st) != 0)
        return Error::from_errno(errno, m_path);
    return static_cast<uint64_t>(st.st_size);
}

Result<void> HostFile::truncate(uint64_t size) {
    if (::ftruncate(m_fd, static_cast<off_t>(size)) != 0)
        return Error::from_errno(errno, m_path);
    return {};
}

Result<std::unique_ptr<PendingOutput>> PendingOutput::create(const std::string& destination,
                                                             bool overwrite) {
    struct stat st {};
    if (!overwrite && ::lstat(destination.c_str(), &st) == 0)
        return Error(EEXIST, destination + ": already exists (use --force to overwrite)");
    std::string temporary = destination + ".partial-XXXXXX";
    int fd = ::mkostemp(temporary.data(), O_CLOEXEC);
    if (fd < 0)
        return Error::from_errno(errno, destination);
    ::fchmod(fd, 0644);
    auto file = HostFile::adopt(fd, destination);
    return std::unique_ptr<PendingOutput>(
        new PendingOutput(destination, std::move(temporary), std::move(file)));
}

PendingOutput::~PendingOutput() {
    if (!m_committed)
        ::unlink(m_temporary.c_str());
}

Result<void> PendingOutput::commit() {
    if (::rename(m_temporary.c_str(), m_destination.c_str()) != 0)
        return Error::from_errno(errno, m_destination);
    m_committed = true;
    return {};
}

Result<std::vector<uint8_t>> read_whole_file(const std::string& path) {
    auto file = TRY(HostFile::open_read(path));
    uint64_t size = TRY(file->size());
    std::vector<uint8_t> bytes(size);
    TRY(file->read_at(0, bytes));
    return bytes;
}

}  // namespace myst::tools

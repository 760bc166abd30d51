#include "image/io.h"

#include <cstring>

namespace myst::image {

Result<void> MemoryFile::read_at(uint64_t offset, std::span<uint8_t> buffer) {
    if (offset > m_bytes.size() || buffer.size() > m_bytes.size() - offset)
        return Error(EIO, "read past the end of the file");
    std::memcpy(buffer.data(), m_bytes.data() + offset, buffer.size());
    return {};
}

Result<void> MemoryFile::write_at(uint64_t offset, std::span<const uint8_t> data) {
    if (offset + data.size() > m_bytes.size())
        m_bytes.resize(offset + data.size());
    std::memcpy(m_bytes.data() + offset, data.data(), data.size());
    return {};
}

Result<void> MemoryFile::truncate(uint64_t size) {
    m_bytes.resize(size);
    return {};
}

Result<void> FileWindow::read_at(uint64_t offset, std::span<uint8_t> buffer) {
    if (offset > m_length || buffer.size() > m_length - offset)
        return Error(EIO, "read past the end of the window");
    return m_file->read_at(m_offset + offset, buffer);
}

Result<void> FileWindow::write_at(uint64_t, std::span<const uint8_t>) {
    return Error(EROFS, "a file window is read-only");
}

Result<void> FileWindow::truncate(uint64_t) {
    return Error(EROFS, "a file window is read-only");
}

}  // namespace myst::image

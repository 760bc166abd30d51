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

}  // namespace myst::image

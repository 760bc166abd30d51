#include "image/xts_volume.h"

#include <algorithm>

namespace myst::image {

namespace {

constexpr uint64_t fill_block = 4096;

Result<void> check_alignment(uint64_t offset, uint64_t length) {
    if (offset % luks1_sector_size != 0 || length % luks1_sector_size != 0)
        return Error(EINVAL, "encrypted volume access not aligned to 512-byte sectors");
    return {};
}

}  // namespace

Result<void> XtsVolumeFile::read_at(uint64_t offset, std::span<uint8_t> buffer) {
    TRY(check_alignment(offset, buffer.size()));
    TRY(m_lower.read_at(m_payload_offset + offset, buffer));
    return m_cipher.decrypt(offset / luks1_sector_size, buffer);
}

Result<void> XtsVolumeFile::write_at(uint64_t offset, std::span<const uint8_t> data) {
    TRY(check_alignment(offset, data.size()));
    std::vector<uint8_t> sealed(data.begin(), data.end());
    TRY(m_cipher.encrypt(offset / luks1_sector_size, sealed));
    TRY(m_lower.write_at(m_payload_offset + offset, sealed));
    mark_written(offset, data.size());
    return {};
}

Result<uint64_t> XtsVolumeFile::size() {
    uint64_t lower = TRY(m_lower.size());
    return lower > m_payload_offset ? lower - m_payload_offset : 0;
}

Result<void> XtsVolumeFile::truncate(uint64_t size) {
    return m_lower.truncate(m_payload_offset + size);
}

void XtsVolumeFile::mark_written(uint64_t offset, uint64_t length) {
    uint64_t first = (offset + fill_block - 1) / fill_block;
    uint64_t end = (offset + length) / fill_block;
    if (m_written.size() < end)
        m_written.resize(end, false);
    for (uint64_t block = first; block < end; ++block)
        m_written[block] = true;
}

Result<void> XtsVolumeFile::fill_unwritten(uint64_t size) {
    constexpr uint64_t run_limit = 256;  // blocks per write
    std::vector<uint8_t> zeros;
    uint64_t blocks = size / fill_block;
    uint64_t block = 0;
    while (block < blocks) {
        if (block < m_written.size() && m_written[block]) {
            ++block;
            continue;
        }
        uint64_t run = 1;
        while (block + run < blocks && run < run_limit &&
               !(block + run < m_written.size() && m_written[block + run]))
            ++run;
        zeros.assign(run * fill_block, 0);
        TRY(write_at(block * fill_block, zeros));
        block += run;
    }
    return {};
}

}  // namespace myst::image

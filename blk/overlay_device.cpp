#include "blk/overlay_device.h"

#include <cstring>
#include <vector>

namespace myst::blk {

Result<void> OverlayDevice::read_blocks(uint64_t first, std::span<uint8_t> buffer) {
    TRY(check_block_range(*this, first, buffer.size()));
    const uint64_t size = block_size();
    const uint64_t end = first + buffer.size() / size;
    // Runs [start, stop) of blocks not in the overlay, read after the lock is
    // dropped so that readers do not wait on each other's lower reads.
    std::vector<std::pair<uint64_t, uint64_t>> gaps;
    {
        std::lock_guard lock(m_mutex);
        uint64_t next = first;
        for (auto it = m_written.lower_bound(first); it != m_written.end() && it->first < end;
             ++it) {
            if (it->first > next)
                gaps.emplace_back(next, it->first);
            std::memcpy(buffer.data() + (it->first - first) * size, it->second.get(), size);
            next = it->first + 1;
        }
        if (next < end)
            gaps.emplace_back(next, end);
    }
    for (auto [start, stop] : gaps)
        TRY(m_lower->read_blocks(start,
                                 buffer.subspan((start - first) * size, (stop - start) * size)));
    return {};
}

Result<void> OverlayDevice::write_blocks(uint64_t first, std::span<const uint8_t> data) {
    TRY(check_block_range(*this, first, data.size()));
    const uint64_t size = block_size();
    const uint64_t count = data.size() / size;
    std::lock_guard lock(m_mutex);
    for (uint64_t i = 0; i < count; ++i) {
        auto& slot = m_written[first + i];
        if (!slot)
            slot = std::make_unique_for_overwrite<uint8_t[]>(size);
        std::memcpy(slot.get(), data.data() + i * size, size);
    }
    return {};
}

size_t OverlayDevice::written_blocks() const {
    std::lock_guard lock(m_mutex);
    return m_written.size();
}

}  // namespace myst::blk

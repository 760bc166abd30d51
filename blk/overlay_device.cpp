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
    // The new blocks are paid for first, so that a write past the budget
    // changes nothing.
    uint64_t new_blocks = 0;
    for (uint64_t i = 0; i < count; ++i)
        new_blocks += !m_written.contains(first + i);
    if (m_charge && new_blocks > 0) {
        if (!m_charge->take(new_blocks * size))
            return Error(ENOSPC, "no room for the written blocks (the memory budget)");
        m_charged += new_blocks * size;
    }
    for (uint64_t i = 0; i < count; ++i) {
        auto& slot = m_written[first + i];
        if (!slot)
            slot = std::make_unique_for_overwrite<uint8_t[]>(size);
        std::memcpy(slot.get(), data.data() + i * size, size);
    }
    return {};
}

bool OverlayDevice::charge_writes_to(std::shared_ptr<MemoryCharge> charge) {
    std::lock_guard lock(m_mutex);
    if (m_charge)
        m_charge->give_back(m_charged);
    m_charged = 0;
    m_charge = std::move(charge);
    return true;
}

uint64_t OverlayDevice::writable_blocks() const {
    std::lock_guard lock(m_mutex);
    return m_charge ? m_charge->available() / block_size() : UINT64_MAX;
}

OverlayDevice::~OverlayDevice() {
    if (m_charge)
        m_charge->give_back(m_charged);
}

size_t OverlayDevice::written_blocks() const {
    std::lock_guard lock(m_mutex);
    return m_written.size();
}

}  // namespace myst::blk

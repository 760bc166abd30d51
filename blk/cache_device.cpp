#include "blk/cache_device.h"

#include <cstring>
#include <vector>

namespace myst::blk {

namespace {

struct Run {
    uint64_t start;  // index into the request
    uint64_t count;
};

}  // namespace

Result<void> CacheDevice::read_blocks(uint64_t first, std::span<uint8_t> buffer) {
    TRY(check_block_range(*this, first, buffer.size()));
    const uint64_t size = block_size();
    const uint64_t count = buffer.size() / size;
    std::vector<Run> missing;
    bool sequential;
    {
        std::lock_guard lock(m_mutex);
        sequential = first == m_next_sequential;
        m_next_sequential = first + count;
        for (uint64_t i = 0; i < count; ++i) {
            if (const uint8_t* cached = m_lru.find(first + i)) {
                std::memcpy(buffer.data() + i * size, cached, size);
                ++m_stats.hits;
                continue;
            }
            ++m_stats.misses;
            if (!missing.empty() && missing.back().start + missing.back().count == i)
                ++missing.back().count;
            else
                missing.push_back({i, 1});
        }
    }
    for (const Run& run : missing) {
        uint64_t lower_first = first + run.start;
        auto bytes = buffer.subspan(run.start * size, run.count * size);
        bool at_end = run.start + run.count == count;
        if (sequential && at_end && run.count < m_readahead_blocks) {
            uint64_t after = lower_first + run.count;
            uint64_t extra = std::min(m_readahead_blocks - run.count, block_count() - after);
            if (extra > 0) {
                TRY(read_ahead(lower_first, extra, bytes));
                continue;
            }
        }
        TRY(m_lower->read_blocks(lower_first, bytes));
        if (m_bulk_blocks == 0 || run.count < m_bulk_blocks)
            keep(lower_first, bytes);
    }
    return {};
}

// The run `buffer` asks for plus `extra` blocks after it, in one lower call;
// all of it is kept.
Result<void> CacheDevice::read_ahead(uint64_t first, uint64_t extra, std::span<uint8_t> buffer) {
    std::vector<uint8_t> bytes(buffer.size() + extra * block_size());
    TRY(m_lower->read_blocks(first, bytes));
    std::memcpy(buffer.data(), bytes.data(), buffer.size());
    keep(first, bytes);
    std::lock_guard lock(m_mutex);
    m_stats.read_ahead += extra;
    return {};
}

void CacheDevice::keep(uint64_t first, std::span<const uint8_t> bytes) {
    const uint64_t size = block_size();
    const uint64_t count = bytes.size() / size;
    // Of a run longer than the cache only its tail would survive the run's
    // own insertions; copy just that.
    uint64_t skip = count > m_lru.capacity() ? count - m_lru.capacity() : 0;
    std::lock_guard lock(m_mutex);
    for (uint64_t i = skip; i < count; ++i)
        m_lru.insert(first + i, bytes.subspan(i * size, size));
}

CacheDevice::Stats CacheDevice::stats() const {
    std::lock_guard lock(m_mutex);
    return m_stats;
}

size_t CacheDevice::cached_blocks() const {
    std::lock_guard lock(m_mutex);
    return m_lru.size();
}

}  // namespace myst::blk

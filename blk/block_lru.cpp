#include "blk/block_lru.h"

#include <algorithm>
#include <cstring>

namespace myst::blk {

BlockLru::BlockLru(size_t capacity, uint32_t block_size, Target* host,
                   std::shared_ptr<MemoryCharge> charge)
    : m_capacity(std::min<size_t>(capacity, none - 1)),
      m_block_size(block_size),
      m_host(host),
      m_charge(std::move(charge)) {
    m_index.reserve(std::min<size_t>(m_capacity, 1 << 16));
}

BlockLru::~BlockLru() {
    if (m_charge)
        m_charge->give_back(m_charged);
}

bool BlockLru::add_chunk(size_t bytes) {
    if (m_charge) {
        if (!m_charge->take(bytes))
            return false;
        m_charged += bytes;
    }
    bool huge = bytes == size_t(chunk_alignment);
    std::align_val_t alignment = huge ? chunk_alignment : std::align_val_t{64};
    m_chunks.emplace_back(static_cast<uint8_t*>(::operator new[](bytes, alignment)),
                          ChunkDelete{alignment});
    if (m_host && huge)
        m_host->memory_prefer_huge_pages(m_chunks.back().get(), bytes);
    return true;
}

bool BlockLru::grow() {
    size_t slot = m_slots.size();
    if (slot % chunk_slots != 0)
        return true;  // the piece holding this slot is there
    return add_chunk(std::min<size_t>(chunk_slots, m_capacity - slot) * m_block_size);
}

uint8_t* BlockLru::bytes_of(uint32_t slot) const {
    return m_chunks[slot / chunk_slots].get() + size_t(slot % chunk_slots) * m_block_size;
}

void BlockLru::unlink(uint32_t slot) {
    Slot& s = m_slots[slot];
    if (s.newer != none)
        m_slots[s.newer].older = s.older;
    else
        m_newest = s.older;
    if (s.older != none)
        m_slots[s.older].newer = s.newer;
    else
        m_oldest = s.newer;
    s.newer = s.older = none;
}

void BlockLru::make_newest(uint32_t slot) {
    Slot& s = m_slots[slot];
    s.newer = none;
    s.older = m_newest;
    if (m_newest != none)
        m_slots[m_newest].newer = slot;
    m_newest = slot;
    if (m_oldest == none)
        m_oldest = slot;
}

uint8_t* BlockLru::find(uint64_t key) {
    auto found = m_index.find(key);
    if (found == m_index.end())
        return nullptr;
    uint32_t slot = found->second;
    if (slot != m_newest) {
        unlink(slot);
        make_newest(slot);
    }
    return bytes_of(slot);
}

uint8_t* BlockLru::insert(uint64_t key, std::span<const uint8_t> bytes) {
    if (m_capacity == 0)
        return nullptr;
    uint32_t slot;
    if (auto found = m_index.find(key); found != m_index.end()) {
        slot = found->second;
        unlink(slot);
    } else if (m_slots.size() < m_capacity && grow()) {
        slot = static_cast<uint32_t>(m_slots.size());
        m_slots.emplace_back();
        m_index.emplace(key, slot);
    } else if (m_slots.empty()) {
        return nullptr;  // the charge refuses the first piece
    } else {
        slot = m_oldest;
        unlink(slot);
        // The evicted entry's node is reused: no allocation per block.
        auto node = m_index.extract(m_slots[slot].key);
        node.key() = key;
        m_index.insert(std::move(node));
    }
    m_slots[slot].key = key;
    make_newest(slot);
    uint8_t* target = bytes_of(slot);
    std::memcpy(target, bytes.data(), std::min<size_t>(bytes.size(), m_block_size));
    return target;
}

}  // namespace myst::blk

// A fixed number of block-sized slots with least-recently-used replacement,
// keyed by a 64-bit number: the storage of the block cache and of verity's
// verified hash blocks. Not locked; its owner holds a lock around every call.
#pragma once

#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <unordered_map>
#include <vector>

#include "base/memory_charge.h"
#include "target/target.h"

namespace myst::blk {

class BlockLru {
public:
    // With a `host`, the slot memory is offered to it for huge pages (a big
    // cache filled on a first read); without, it is plain heap memory. With
    // a `charge`, each piece of slot memory is taken from it as the cache
    // grows; while it refuses, the cache replaces within the slots it has
    // (none: nothing is kept) and asks again at the next insertion. Given
    // back on destruction.
    BlockLru(size_t capacity, uint32_t block_size, Target* host = nullptr,
             std::shared_ptr<MemoryCharge> charge = nullptr);
    ~BlockLru();
    BlockLru(const BlockLru&) = delete;
    BlockLru& operator=(const BlockLru&) = delete;

    // The cached bytes of `key`, now the most recently used; null when absent.
    // The pointer stays valid until the next insert.
    uint8_t* find(uint64_t key);
    // Stores a copy of `bytes` (one block) under `key`, replacing what was
    // there or the least recently used slot; returns the stored bytes (null
    // when the capacity is 0).
    uint8_t* insert(uint64_t key, std::span<const uint8_t> bytes);

    size_t size() const { return m_index.size(); }
    size_t capacity() const { return m_capacity; }

private:
    static constexpr uint32_t none = UINT32_MAX;
    // Slot memory comes in pieces of 512 slots (2 MiB of 4 KiB blocks),
    // aligned to 2 MiB so that a host with transparent huge pages backs a
    // full piece with one huge page: one fault instead of 512, which on a
    // first read cost about as much as hashing the blocks put there.
    // A smaller last piece (a cache smaller than 2 MiB: a small image) is
    // plain heap memory: aligning it would map 2 MiB more than it holds.
    static constexpr uint32_t chunk_slots = 512;
    static constexpr std::align_val_t chunk_alignment{size_t(2) << 20};
    struct ChunkDelete {
        std::align_val_t alignment;
        void operator()(uint8_t* bytes) const { ::operator delete[](bytes, alignment); }
    };

    struct Slot {
        uint64_t key = 0;
        uint32_t newer = none;
        uint32_t older = none;
    };

    // False, with nothing added, when the charge refuses the bytes.
    bool add_chunk(size_t bytes);
    // Whether a next slot has memory: adds the piece it starts unless the
    // charge refuses it.
    bool grow();
    uint8_t* bytes_of(uint32_t slot) const;
    void unlink(uint32_t slot);
    void make_newest(uint32_t slot);

    size_t m_capacity;
    uint32_t m_block_size;
    Target* m_host;
    std::shared_ptr<MemoryCharge> m_charge;
    uint64_t m_charged = 0;     // bytes taken from m_charge
    std::vector<Slot> m_slots;  // grows up to m_capacity
    std::vector<std::unique_ptr<uint8_t[], ChunkDelete>> m_chunks;
    std::unordered_map<uint64_t, uint32_t> m_index;
    uint32_t m_newest = none;
    uint32_t m_oldest = none;
};

}  // namespace myst::blk

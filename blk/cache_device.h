// An LRU cache of whole blocks over a read-only lower device. An opened
// image (blk/image_device.h) has two:
//  - above verity (and crypt), the verified cache: blocks that passed
//    verification (and were decrypted) are served from memory, so a re-read
//    costs a copy instead of a host read, SHA-256 and AES. It holds only what
//    the lower device returned without error: a block that fails
//    verification is never kept and is EIO each time it is read.
//  - below verity, a small raw cache that only reads ahead: short sequential
//    reads become one host call per read-ahead window. What it holds is
//    checked again by verity when it is used.
#pragma once

#include <memory>
#include <mutex>

#include "blk/block_device.h"
#include "blk/block_lru.h"

namespace myst::blk {

struct CacheOptions {
    // 0: nothing is kept (every read goes down).
    size_t capacity_blocks = 4096;
    // Runs of at least this many missing blocks are read but not kept: a
    // bulk read costs one lower call anyway, and copying it in would push
    // out the small hot blocks. 0: every run is kept (the verified cache,
    // where a bulk re-read saves the hashing); 1: only read-ahead is kept.
    uint64_t bulk_blocks = 32;
    // A short read that misses and starts where the previous read ended
    // fetches this many blocks in one lower call and keeps the rest for the
    // reads that follow (a program reading a file 4 KiB at a time). 0: off.
    // Below verity only: above it a bad block ahead would fail the read.
    uint64_t readahead_blocks = 32;
    // Where the slot memory may ask for huge pages (null: plain heap).
    Target* host = nullptr;
    // Where the slot memory is charged as the cache grows (null: nowhere).
    std::shared_ptr<MemoryCharge> charge;
};

class CacheDevice final : public BlockDevice {
public:
    CacheDevice(std::unique_ptr<BlockDevice> lower, const CacheOptions& options)
        : m_lower(std::move(lower)),
          m_lru(options.capacity_blocks, m_lower->block_size(), options.host, options.charge),
          m_bulk_blocks(options.bulk_blocks),
          m_readahead_blocks(options.capacity_blocks ? options.readahead_blocks : 0) {}

    uint32_t block_size() const override { return m_lower->block_size(); }
    uint64_t block_count() const override { return m_lower->block_count(); }
    // Cached blocks are copied; each run of missing blocks is one lower read
    // (straight into `buffer` unless read ahead), then kept unless it is a
    // bulk run. Safe from several threads; the lock is not held during
    // lower reads.
    Result<void> read_blocks(uint64_t first, std::span<uint8_t> buffer) override;

    struct Stats {
        uint64_t hits = 0;        // blocks served from the cache
        uint64_t misses = 0;      // blocks asked for that were not cached
        uint64_t read_ahead = 0;  // blocks read beyond what was asked
    };
    Stats stats() const;
    // Blocks held now (at most capacity_blocks).
    size_t cached_blocks() const;

private:
    Result<void> read_ahead(uint64_t first, uint64_t extra, std::span<uint8_t> buffer);
    void keep(uint64_t first, std::span<const uint8_t> bytes);

    std::unique_ptr<BlockDevice> m_lower;
    mutable std::mutex m_mutex;  // guards the members below
    BlockLru m_lru;
    const uint64_t m_bulk_blocks;
    const uint64_t m_readahead_blocks;
    uint64_t m_next_sequential = UINT64_MAX;  // where the last read ended
    Stats m_stats;
};

}  // namespace myst::blk

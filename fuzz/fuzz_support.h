// What the fuzz targets share: an in-memory block device, and a walk over a
// mounted file system that touches every directory entry, inode, symlink
// and file byte with bounded work, so that one input cannot take seconds.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "blk/block_device.h"
#include "fs/vfs/inode.h"

namespace myst::fuzz {

// Fixed-size blocks over the input (not copied: the device lives for one
// input, and libFuzzer's buffer has exact bounds), read as if zero-padded to
// `min_bytes` and to whole blocks (the padding is never allocated, so a
// 2 MiB device costs nothing per input); writes are EROFS (the overlay
// above takes them, as in the kernel's stack).
class MemoryBlockDevice final : public blk::BlockDevice {
public:
    MemoryBlockDevice(std::span<const uint8_t> bytes, uint32_t block_size, uint64_t min_bytes = 0);

    uint32_t block_size() const override { return m_block_size; }
    uint64_t block_count() const override { return m_block_count; }
    Result<void> read_blocks(uint64_t first, std::span<uint8_t> buffer) override;

private:
    std::span<const uint8_t> m_bytes;
    uint32_t m_block_size;
    uint64_t m_block_count;
};

// How much one walk may do before it stops (not a failure: a big tree is
// fine, it is just not walked to the end).
struct WalkBudget {
    uint64_t entries = 128;               // directory entries looked up
    uint64_t bytes = uint64_t(2) << 20;   // file bytes read, in all
    uint64_t bytes_per_file = 256 << 10;  // read from the start of each file
    unsigned depth = 32;
};

// Lists each directory, looks up and stats every entry, reads every regular
// file from its start in 64 KiB pieces, then one block in the middle and at
// the end (where a mutated size puts it in the double and triple indirect
// blocks), and every symlink's target. Errors (a corrupt
// image's EUCLEAN, EIO) are expected and skipped: only a crash, a leak or a
// hang is a finding.
void walk_file_system(fs::FileSystem& file_system, WalkBudget budget = {});

}  // namespace myst::fuzz

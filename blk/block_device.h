// Block devices under the ext2 file system: the stack
//   host file (through the target) -> read-ahead cache -> verity -> [crypt]
//     -> verified cache -> overlay -> ext2   (see blk/image_device.h)
// Each layer is one BlockDevice that owns the one below it (decorators).
// Block numbers and sizes are in units of block_size() bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "base/memory_charge.h"
#include "base/result.h"

namespace myst::blk {

class BlockDevice {
public:
    virtual ~BlockDevice() = default;

    virtual uint32_t block_size() const = 0;
    virtual uint64_t block_count() const = 0;

    // Reads buffer.size() / block_size() whole blocks starting at `first`.
    // A block that fails verification is EIO (never wrong data).
    virtual Result<void> read_blocks(uint64_t first, std::span<uint8_t> buffer) = 0;
    // Writes whole blocks; EROFS on a read-only device.
    virtual Result<void> write_blocks(uint64_t first, std::span<const uint8_t> data) {
        (void)first;
        (void)data;
        return Error(EROFS, "read-only block device");
    }
    // Makes the memory the device takes for writes from now on come out of
    // `charge` (ENOSPC past it); false when its writes take no memory.
    virtual bool charge_writes_to(std::shared_ptr<MemoryCharge> charge) {
        (void)charge;
        return false;
    }
    // How many more blocks the charge lets the device keep; UINT64_MAX when
    // memory does not limit its writes.
    virtual uint64_t writable_blocks() const { return UINT64_MAX; }
};

// Byte-granular reads on top of whole blocks (ext2 reads its 1 KiB
// superblock at byte 1024, whatever the device's block size).
Result<void> read_bytes(BlockDevice& device, uint64_t offset, std::span<uint8_t> buffer);
Result<void> write_bytes(BlockDevice& device, uint64_t offset, std::span<const uint8_t> data);

// The argument check every read_blocks/write_blocks starts with: EINVAL when
// `bytes` is not whole blocks, EIO when the blocks run past the end.
Result<void> check_block_range(const BlockDevice& device, uint64_t first, size_t bytes);

}  // namespace myst::blk

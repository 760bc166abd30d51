// Copy-on-write in memory above a read-only device: what ext2 writes is kept
// here, block by block, and read back from here; the device below (and so the
// host image) is never written. The writes are lost when the device goes, at
// the end of the program, as the seed's ext2 mounts behave. Once charged
// (charge_writes_to), each block it keeps comes out of the memory budget,
// and a write past it is ENOSPC.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "blk/block_device.h"

namespace myst::blk {

class OverlayDevice final : public BlockDevice {
public:
    explicit OverlayDevice(std::unique_ptr<BlockDevice> lower) : m_lower(std::move(lower)) {}

    uint32_t block_size() const override { return m_lower->block_size(); }
    uint64_t block_count() const override { return m_lower->block_count(); }
    // Written blocks come from memory; the others from the lower device, one
    // lower read per run between written blocks. Safe from several threads.
    Result<void> read_blocks(uint64_t first, std::span<uint8_t> buffer) override;
    Result<void> write_blocks(uint64_t first, std::span<const uint8_t> data) override;

    bool charge_writes_to(std::shared_ptr<MemoryCharge> charge) override;
    uint64_t writable_blocks() const override;
    ~OverlayDevice() override;

    // Blocks held in memory (each block_size() bytes).
    size_t written_blocks() const;

private:
    std::unique_ptr<BlockDevice> m_lower;
    mutable std::mutex m_mutex;
    std::map<uint64_t, std::unique_ptr<uint8_t[]>> m_written;
    std::shared_ptr<MemoryCharge> m_charge;  // null: blocks cost nothing
    uint64_t m_charged = 0;                  // bytes taken from m_charge
};

}  // namespace myst::blk

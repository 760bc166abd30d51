// The plaintext payload of a LUKS1 container (aes-xts-plain64, as
// `myst mkext2 --encrypt` and cryptsetup write it). Block 0 is the first
// payload block; sector numbers for the cipher count from the payload start,
// as dm-crypt numbers them. Read-only (writes stay in the overlay above).
#pragma once

#include <memory>
#include <string>

#include "blk/block_device.h"
#include "image/luks1.h"

namespace myst::blk {

class CryptDevice final : public BlockDevice {
public:
    // Blocks per lower read of a long read (256 KiB of 4 KiB blocks: fits
    // the L2 cache with room to spare).
    static constexpr uint64_t kPieceBlocks = 64;

    // `lower` covers the whole container, header included. Parses the header
    // and checks `key` (the 64-byte volume key) against its master-key digest
    // before anything else: a wrong key is EKEYREJECTED, an unsupported
    // header EINVAL/ENOTSUP; `name` (the image) leads each message.
    static Result<std::unique_ptr<CryptDevice>> open(std::unique_ptr<BlockDevice> lower,
                                                     std::span<const uint8_t> key,
                                                     const std::string& name);

    CryptDevice(std::unique_ptr<BlockDevice> lower, uint64_t payload_block,
                image::XtsSectorCipher cipher)
        : m_lower(std::move(lower)), m_payload_block(payload_block), m_cipher(std::move(cipher)) {}

    uint32_t block_size() const override { return m_lower->block_size(); }
    uint64_t block_count() const override { return m_lower->block_count() - m_payload_block; }
    // One lower read for the run, decrypted in place. Safe from several threads.
    Result<void> read_blocks(uint64_t first, std::span<uint8_t> buffer) override;

private:
    std::unique_ptr<BlockDevice> m_lower;
    uint64_t m_payload_block;  // in lower blocks
    image::XtsSectorCipher m_cipher;
};

}  // namespace myst::blk

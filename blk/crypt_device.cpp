#include "blk/crypt_device.h"

#include <vector>

namespace myst::blk {

namespace {

constexpr size_t luks1_header_bytes = 592;

}  // namespace

Result<std::unique_ptr<CryptDevice>> CryptDevice::open(std::unique_ptr<BlockDevice> lower,
                                                       std::span<const uint8_t> key,
                                                       const std::string& name) {
    const uint32_t block_size = lower->block_size();
    if (block_size % image::luks1_sector_size != 0)
        return Error(EINVAL, name + ": block size " + std::to_string(block_size) +
                                 " is not whole 512-byte sectors");
    std::vector<uint8_t> bytes(luks1_header_bytes);
    auto read = read_bytes(*lower, 0, bytes);
    if (read.is_error())
        return read.release_error().with_context(name + ": reading the LUKS1 header");
    auto header = image::Luks1Header::parse(bytes);
    if (header.is_error())
        return header.release_error().with_context(name);
    auto checked = image::check_luks1_master_key(header.value(), key);
    if (checked.is_error())
        return checked.release_error().with_context(name);

    const uint64_t sectors_per_block = block_size / image::luks1_sector_size;
    const uint64_t payload_sectors = header.value().payload_offset;
    if (payload_sectors % sectors_per_block != 0)
        return Error(ENOTSUP, name + ": LUKS1 payload offset of " +
                                  std::to_string(payload_sectors) +
                                  " sectors is not a multiple of the " +
                                  std::to_string(block_size) + "-byte block");
    const uint64_t payload_block = payload_sectors / sectors_per_block;
    if (payload_block >= lower->block_count())
        return Error(EINVAL, name + ": the LUKS1 payload starts at block " +
                                 std::to_string(payload_block) + " but the container has only " +
                                 std::to_string(lower->block_count()) + " blocks");
    auto cipher = image::XtsSectorCipher::create(key);
    if (cipher.is_error())
        return cipher.release_error().with_context(name);
    return std::make_unique<CryptDevice>(std::move(lower), payload_block, cipher.release_value());
}

Result<void> CryptDevice::read_blocks(uint64_t first, std::span<uint8_t> buffer) {
    TRY(check_block_range(*this, first, buffer.size()));
    // A long read goes down in pieces, each decrypted right after verity
    // hashed it, while it is still in the CPU's cache.
    const uint64_t piece = uint64_t(block_size()) * kPieceBlocks;
    const uint64_t sectors_per_block = block_size() / image::luks1_sector_size;
    for (uint64_t done = 0; done < buffer.size(); done += piece) {
        std::span<uint8_t> part =
            buffer.subspan(done, std::min<uint64_t>(piece, buffer.size() - done));
        uint64_t block = first + done / block_size();
        TRY(m_lower->read_blocks(m_payload_block + block, part));
        TRY(m_cipher.decrypt(block * sectors_per_block, part));
    }
    return {};
}

}  // namespace myst::blk

#include "blk/block_device.h"

#include <cstring>
#include <string>
#include <vector>

namespace myst::blk {

namespace {

Result<void> check_byte_range(const BlockDevice& device, uint64_t offset, size_t length) {
    uint64_t size = device.block_count() * device.block_size();
    if (offset > size || length > size - offset)
        return Error(EIO, "byte range " + std::to_string(offset) + "+" + std::to_string(length) +
                              " lies past the end of the " + std::to_string(size) + "-byte device");
    return {};
}

}  // namespace

Result<void> check_block_range(const BlockDevice& device, uint64_t first, size_t bytes) {
    uint32_t block_size = device.block_size();
    if (bytes % block_size != 0)
        return Error(EINVAL, std::to_string(bytes) + " bytes are not whole " +
                                 std::to_string(block_size) + "-byte blocks");
    uint64_t count = bytes / block_size;
    uint64_t total = device.block_count();
    if (first > total || count > total - first)
        return Error(EIO, "blocks " + std::to_string(first) + "+" + std::to_string(count) +
                              " lie past the end of the device (" + std::to_string(total) +
                              " blocks)");
    return {};
}

Result<void> read_bytes(BlockDevice& device, uint64_t offset, std::span<uint8_t> buffer) {
    TRY(check_byte_range(device, offset, buffer.size()));
    const uint64_t block_size = device.block_size();
    std::vector<uint8_t> scratch;
    while (!buffer.empty()) {
        uint64_t block = offset / block_size;
        uint64_t within = offset % block_size;
        if (within == 0 && buffer.size() >= block_size) {
            // The aligned middle: straight into the caller's buffer, in one call.
            size_t bytes = buffer.size() / block_size * block_size;
            TRY(device.read_blocks(block, buffer.first(bytes)));
            buffer = buffer.subspan(bytes);
            offset += bytes;
            continue;
        }
        scratch.resize(block_size);
        TRY(device.read_blocks(block, scratch));
        size_t bytes = std::min<uint64_t>(block_size - within, buffer.size());
        std::memcpy(buffer.data(), scratch.data() + within, bytes);
        buffer = buffer.subspan(bytes);
        offset += bytes;
    }
    return {};
}

Result<void> write_bytes(BlockDevice& device, uint64_t offset, std::span<const uint8_t> data) {
    TRY(check_byte_range(device, offset, data.size()));
    const uint64_t block_size = device.block_size();
    std::vector<uint8_t> scratch;
    while (!data.empty()) {
        uint64_t block = offset / block_size;
        uint64_t within = offset % block_size;
        if (within == 0 && data.size() >= block_size) {
            size_t bytes = data.size() / block_size * block_size;
            TRY(device.write_blocks(block, data.first(bytes)));
            data = data.subspan(bytes);
            offset += bytes;
            continue;
        }
        // A partial block: read, modify, write back.
        scratch.resize(block_size);
        TRY(device.read_blocks(block, scratch));
        size_t bytes = std::min<uint64_t>(block_size - within, data.size());
        std::memcpy(scratch.data() + within, data.data(), bytes);
        TRY(device.write_blocks(block, scratch));
        data = data.subspan(bytes);
        offset += bytes;
    }
    return {};
}

}  // namespace myst::blk

#include "image/ext2_inode_encoding.h"

#include <algorithm>
#include <cstring>

#include "base/endian.h"

namespace myst::image::ext2 {

namespace {

void store_time(uint8_t* raw, uint32_t seconds_field, uint32_t extra_field, Timestamp time) {
    ExtraTime encoded = encode_extra_time(time.seconds, time.nanoseconds);
    store_le<uint32_t>(raw + seconds_field, encoded.seconds);
    store_le<uint32_t>(raw + extra_field, encoded.extra);
}

}  // namespace

void InodeFields::set_from(const TreeNode& node) {
    mode = node.mode();
    uid = node.uid;
    gid = node.gid;
    atime = node.atime;
    mtime = node.mtime;
    ctime = node.ctime;
}

void InodeFields::set_fast_symlink(std::string_view target) {
    inline_target.fill(0);
    std::copy(target.begin(), target.end(), inline_target.begin());
    has_inline_target = true;
}

void InodeFields::set_device(uint32_t major, uint32_t minor) {
    DeviceBlocks encoded = encode_device(major, minor);
    block[0] = encoded.block0;
    block[1] = encoded.block1;
}

void encode_inode(const InodeFields& fields, uint8_t* raw) {
    std::memset(raw, 0, inode_size);
    store_le<uint16_t>(raw + in::mode, static_cast<uint16_t>(fields.mode));
    store_le<uint16_t>(raw + in::uid, static_cast<uint16_t>(fields.uid));
    store_le<uint16_t>(raw + in::uid_high, static_cast<uint16_t>(fields.uid >> 16));
    store_le<uint16_t>(raw + in::gid, static_cast<uint16_t>(fields.gid));
    store_le<uint16_t>(raw + in::gid_high, static_cast<uint16_t>(fields.gid >> 16));
    store_le<uint32_t>(raw + in::size, static_cast<uint32_t>(fields.size));
    store_le<uint32_t>(raw + in::size_high, static_cast<uint32_t>(fields.size >> 32));
    store_le<uint16_t>(raw + in::links_count, static_cast<uint16_t>(fields.links));
    store_le<uint32_t>(raw + in::blocks, static_cast<uint32_t>(fields.blocks_512));
    if (fields.has_inline_target) {
        std::memcpy(raw + in::block, fields.inline_target.data(), fields.inline_target.size());
    } else {
        for (size_t i = 0; i < fields.block.size(); ++i)
            store_le<uint32_t>(raw + in::block + 4 * i, fields.block[i]);
    }
    store_le<uint16_t>(raw + in::extra_isize, extra_isize);
    store_time(raw, in::atime, in::atime_extra, fields.atime);
    store_time(raw, in::mtime, in::mtime_extra, fields.mtime);
    store_time(raw, in::ctime, in::ctime_extra, fields.ctime);
    store_time(raw, in::crtime, in::crtime_extra, fields.ctime);
}

void encode_directory_block(const std::vector<DirectoryEntry>& entries, size_t first, size_t end,
                            uint8_t* block) {
    std::memset(block, 0, block_size);
    if (first == end) {
        store_le<uint16_t>(block + 4, static_cast<uint16_t>(block_size));
        return;
    }
    uint32_t offset = 0;
    for (size_t i = first; i < end; ++i) {
        const DirectoryEntry& entry = entries[i];
        uint32_t length = dirent_size(static_cast<uint32_t>(entry.name.size()));
        uint32_t record = i + 1 == end ? block_size - offset : length;
        uint8_t* at = block + offset;
        store_le<uint32_t>(at, entry.inode);
        store_le<uint16_t>(at + 4, static_cast<uint16_t>(record));
        at[6] = static_cast<uint8_t>(entry.name.size());
        at[7] = static_cast<uint8_t>(entry.type);
        std::memcpy(at + dirent_header_size, entry.name.data(), entry.name.size());
        offset += length;
    }
}

}  // namespace myst::image::ext2

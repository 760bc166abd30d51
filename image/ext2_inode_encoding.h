// Encoding of ext2 inodes and directory blocks into their on-disk bytes.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "image/ext2_format.h"
#include "image/ext2_plan.h"
#include "image/fs_tree.h"

namespace myst::image::ext2 {

struct InodeFields {
    uint32_t mode = 0;
    uint32_t uid = 0;
    uint32_t gid = 0;
    uint64_t size = 0;
    uint32_t links = 1;
    uint64_t blocks_512 = 0;  // i_blocks: 512-byte units of data and mapping blocks
    Timestamp atime, mtime, ctime;
    std::array<uint32_t, 15> block{};
    // Fast symlinks keep their target in i_block's 60 bytes instead of pointers.
    std::array<uint8_t, 60> inline_target{};
    bool has_inline_target = false;

    void set_from(const TreeNode& node);
    void set_times(Timestamp time) { atime = mtime = ctime = time; }
    void set_fast_symlink(std::string_view target);
    // Linux's encoding (ext2::encode_device).
    void set_device(uint32_t major, uint32_t minor);
    bool is_directory() const { return (mode & 0170000) == 0040000; }
};

// Writes one 256-byte inode (i_extra_isize = 32, nanosecond times).
void encode_inode(const InodeFields& fields, uint8_t* raw);

// Writes entries [first, end) into one block; the last entry's rec_len runs to
// the end of the block. With first == end the block holds one empty entry.
void encode_directory_block(const std::vector<DirectoryEntry>& entries, size_t first, size_t end,
                            uint8_t* block);

}  // namespace myst::image::ext2

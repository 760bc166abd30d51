// EXT2 on-disk format (revision 1, "dynamic"): constants and the byte offsets
// of the fields this project reads and writes. All fields are little-endian.
// Field names follow Linux's fs/ext2/ext2.h.
#pragma once

#include <cstdint>

namespace myst::image::ext2 {

constexpr uint32_t block_size = 4096;
constexpr uint32_t log_block_size = 2;  // block_size == 1024 << 2
constexpr uint32_t superblock_offset = 1024;
constexpr uint32_t superblock_size = 1024;
constexpr uint32_t blocks_per_group = block_size * 8;
constexpr uint32_t max_inodes_per_group = block_size * 8;
constexpr uint32_t inode_size = 256;
constexpr uint32_t inodes_per_block = block_size / inode_size;
constexpr uint16_t extra_isize = 32;  // the fields up to i_projid
constexpr uint32_t group_descriptor_size = 32;
constexpr uint32_t pointers_per_block = block_size / 4;
constexpr uint32_t direct_blocks = 12;
constexpr uint32_t fast_symlink_max = 59;  // targets shorter than i_block (60 bytes)
constexpr uint32_t max_name_length = 255;
constexpr uint16_t magic = 0xEF53;

constexpr uint32_t bad_blocks_inode = 1;
constexpr uint32_t root_inode = 2;
constexpr uint32_t first_regular_inode = 11;  // s_first_ino; lost+found takes it

constexpr uint32_t feature_incompat_filetype = 0x0002;
constexpr uint32_t feature_ro_compat_sparse_super = 0x0001;
constexpr uint32_t feature_ro_compat_large_file = 0x0002;

// Superblock field offsets (from the superblock's start).
namespace sb {
constexpr uint32_t inodes_count = 0, blocks_count = 4, r_blocks_count = 8, free_blocks_count = 12,
                   free_inodes_count = 16, first_data_block = 20, log_block_size = 24,
                   log_frag_size = 28, blocks_per_group = 32, frags_per_group = 36,
                   inodes_per_group = 40, mtime = 44, wtime = 48, mnt_count = 52,
                   max_mnt_count = 54, magic = 56, state = 58, errors = 60, minor_rev_level = 62,
                   lastcheck = 64, checkinterval = 68, creator_os = 72, rev_level = 76,
                   def_resuid = 80, def_resgid = 82, first_ino = 84, inode_size = 88,
                   block_group_nr = 90, feature_compat = 92, feature_incompat = 96,
                   feature_ro_compat = 100, uuid = 104, volume_name = 120, hash_seed = 236,
                   def_hash_version = 252, mkfs_time = 264, min_extra_isize = 348,
                   want_extra_isize = 350, flags = 352;
}  // namespace sb

// Group descriptor field offsets.
namespace gd {
constexpr uint32_t block_bitmap = 0, inode_bitmap = 4, inode_table = 8, free_blocks_count = 12,
                   free_inodes_count = 14, used_dirs_count = 16;
}

// Inode field offsets.
namespace in {
constexpr uint32_t mode = 0, uid = 2, size = 4, atime = 8, ctime = 12, mtime = 16, dtime = 20,
                   gid = 24, links_count = 26, blocks = 28, flags = 32, block = 40,
                   generation = 100, file_acl = 104, size_high = 108, uid_high = 120,
                   gid_high = 122, extra_isize = 128, ctime_extra = 132, mtime_extra = 136,
                   atime_extra = 140, crtime = 144, crtime_extra = 148;
}

// Directory entry: inode u32, rec_len u16, name_len u8, file_type u8, name.
constexpr uint32_t dirent_header_size = 8;
enum class DirentType : uint8_t {
    unknown = 0,
    regular = 1,
    directory = 2,
    char_device = 3,
    block_device = 4,
    fifo = 5,
    socket = 6,
    symlink = 7
};

// Bytes one directory entry with a name of this length occupies (4-aligned).
constexpr uint32_t dirent_size(uint32_t name_length) {
    return (dirent_header_size + name_length + 3) & ~3u;
}

// Group g holds a superblock backup under sparse_super: 0, 1 and powers of 3, 5, 7.
constexpr bool group_has_superblock(uint32_t group) {
    if (group <= 1)
        return true;
    for (uint32_t base : {3u, 5u, 7u}) {
        uint64_t power = base;
        while (power < group)
            power *= base;
        if (power == group)
            return true;
    }
    return false;
}

}  // namespace myst::image::ext2

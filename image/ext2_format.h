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

// Revision 0 ("good old") file systems have fixed inode sizes and first inodes.
constexpr uint32_t good_old_rev = 0;
constexpr uint32_t dynamic_rev = 1;
constexpr uint32_t good_old_inode_size = 128;
constexpr uint32_t good_old_first_ino = 11;
constexpr uint32_t link_max = 32000;  // EXT2_LINK_MAX

// Feature flags. compat: safe to ignore; ro_compat: readable, but a driver
// that does not know one must not write; incompat: must be understood.
constexpr uint32_t feature_compat_dir_prealloc = 0x0001;
constexpr uint32_t feature_compat_imagic_inodes = 0x0002;
constexpr uint32_t feature_compat_has_journal = 0x0004;
constexpr uint32_t feature_compat_ext_attr = 0x0008;
constexpr uint32_t feature_compat_resize_inode = 0x0010;
constexpr uint32_t feature_compat_dir_index = 0x0020;

constexpr uint32_t feature_incompat_compression = 0x0001;
constexpr uint32_t feature_incompat_filetype = 0x0002;
constexpr uint32_t feature_incompat_recover = 0x0004;
constexpr uint32_t feature_incompat_journal_dev = 0x0008;
constexpr uint32_t feature_incompat_meta_bg = 0x0010;
constexpr uint32_t feature_incompat_extents = 0x0040;
constexpr uint32_t feature_incompat_64bit = 0x0080;
constexpr uint32_t feature_incompat_mmp = 0x0100;
constexpr uint32_t feature_incompat_flex_bg = 0x0200;
constexpr uint32_t feature_incompat_ea_inode = 0x0400;
constexpr uint32_t feature_incompat_dirdata = 0x1000;
constexpr uint32_t feature_incompat_csum_seed = 0x2000;
constexpr uint32_t feature_incompat_largedir = 0x4000;
constexpr uint32_t feature_incompat_inline_data = 0x8000;
constexpr uint32_t feature_incompat_encrypt = 0x10000;
constexpr uint32_t feature_incompat_casefold = 0x20000;

constexpr uint32_t feature_ro_compat_sparse_super = 0x0001;
constexpr uint32_t feature_ro_compat_large_file = 0x0002;
constexpr uint32_t feature_ro_compat_btree_dir = 0x0004;
constexpr uint32_t feature_ro_compat_huge_file = 0x0008;
constexpr uint32_t feature_ro_compat_gdt_csum = 0x0010;
constexpr uint32_t feature_ro_compat_dir_nlink = 0x0020;
constexpr uint32_t feature_ro_compat_extra_isize = 0x0040;
constexpr uint32_t feature_ro_compat_quota = 0x0100;
constexpr uint32_t feature_ro_compat_bigalloc = 0x0200;
constexpr uint32_t feature_ro_compat_metadata_csum = 0x0400;
constexpr uint32_t feature_ro_compat_readonly = 0x1000;
constexpr uint32_t feature_ro_compat_project = 0x2000;
constexpr uint32_t feature_ro_compat_verity = 0x8000;
constexpr uint32_t feature_ro_compat_orphan_present = 0x10000;

// i_flags bits.
constexpr uint32_t inode_flag_index = 0x1000;  // EXT2_INDEX_FL: htree directory
constexpr uint32_t inode_flag_huge_file = 0x40000;
constexpr uint32_t inode_flag_extents = 0x80000;
constexpr uint32_t inode_flag_inline_data = 0x10000000;

// The header of an extended-attribute block (i_file_acl).
constexpr uint32_t xattr_magic = 0xEA020000;
constexpr uint32_t xattr_refcount_offset = 4;

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
                   reserved_gdt_blocks = 206, want_extra_isize = 350, flags = 352;
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
                   generation = 100, file_acl = 104, size_high = 108, blocks_high = 116,
                   uid_high = 120, gid_high = 122, extra_isize = 128, ctime_extra = 132,
                   mtime_extra = 136, atime_extra = 140, crtime = 144, crtime_extra = 148;
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

// A time as the 32-bit seconds field plus the "extra" field of large inodes:
// nanoseconds << 2 and two epoch bits extending the range past 2038 (Linux's
// encoding; seconds outside [-2^31, 3 * 2^32 + 2^31) are clamped).
struct ExtraTime {
    uint32_t seconds = 0;
    uint32_t extra = 0;
};

constexpr ExtraTime encode_extra_time(int64_t seconds, uint32_t nanoseconds) {
    constexpr int64_t earliest = INT32_MIN;
    constexpr int64_t latest = (int64_t(3) << 32) + INT32_MAX;
    seconds = seconds < earliest ? earliest : seconds > latest ? latest : seconds;
    uint32_t epoch = static_cast<uint32_t>(((seconds - static_cast<int32_t>(seconds)) >> 32) & 3);
    uint32_t nanos = nanoseconds < 1000000000 ? nanoseconds : 0;
    return {static_cast<uint32_t>(seconds), (nanos << 2) | epoch};
}

// Seconds since the epoch of a seconds field with (has_extra) or without its extra field.
constexpr int64_t decode_extra_seconds(uint32_t seconds, uint32_t extra, bool has_extra) {
    int64_t value = static_cast<int32_t>(seconds);
    if (has_extra)
        value += int64_t(extra & 3) << 32;
    return value;
}

// A device number in i_block[0] and i_block[1], as Linux encodes it: the old
// 8:8 form in i_block[0] when both fit, else the new 12:20 form in i_block[1].
struct DeviceBlocks {
    uint32_t block0 = 0;
    uint32_t block1 = 0;
};

constexpr DeviceBlocks encode_device(uint32_t major, uint32_t minor) {
    if (major < 256 && minor < 256)
        return {(major << 8) | minor, 0};
    return {0, (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12)};
}

struct DeviceNumber {
    uint32_t major = 0;
    uint32_t minor = 0;
};

constexpr DeviceNumber decode_device(uint32_t block0, uint32_t block1) {
    if (block0 != 0)
        return {(block0 >> 8) & 0xff, block0 & 0xff};
    return {(block1 & 0xfff00) >> 8, (block1 & 0xff) | ((block1 >> 12) & 0xfff00)};
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

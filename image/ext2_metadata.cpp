#include "image/ext2_metadata.h"

#include <openssl/rand.h>

#include <bit>
#include <ctime>

#include "base/endian.h"

namespace myst::image::ext2 {

namespace {

void set_bit(uint8_t* bitmap, uint32_t bit) {
    bitmap[bit / 8] |= static_cast<uint8_t>(1u << (bit % 8));
}

uint32_t count_clear_bits(const uint8_t* bitmap, uint32_t bits) {
    uint32_t set = 0;
    for (uint32_t i = 0; i < bits / 8; ++i)
        set += static_cast<uint32_t>(std::popcount(bitmap[i]));
    for (uint32_t i = bits / 8 * 8; i < bits; ++i)
        set += (bitmap[i / 8] >> (i % 8)) & 1;
    return bits - set;
}

struct GroupCounts {
    uint32_t free_blocks = 0;
    uint32_t free_inodes = 0;
};

struct SuperblockValues {
    uint32_t free_blocks = 0;
    uint32_t free_inodes = 0;
    uint32_t time = 0;
    std::array<uint8_t, 16> uuid{};
    std::array<uint8_t, 16> hash_seed{};
};

void encode_superblock(const Geometry& g, const SuperblockValues& v, uint32_t group, uint8_t* sb) {
    std::memset(sb, 0, superblock_size);
    store_le<uint32_t>(sb + sb::inodes_count, g.inodes_count());
    store_le<uint32_t>(sb + sb::blocks_count, g.blocks_count);
    store_le<uint32_t>(sb + sb::free_blocks_count, v.free_blocks);
    store_le<uint32_t>(sb + sb::free_inodes_count, v.free_inodes);
    store_le<uint32_t>(sb + sb::first_data_block, 0);
    store_le<uint32_t>(sb + sb::log_block_size, log_block_size);
    store_le<uint32_t>(sb + sb::log_frag_size, log_block_size);
    store_le<uint32_t>(sb + sb::blocks_per_group, blocks_per_group);
    store_le<uint32_t>(sb + sb::frags_per_group, blocks_per_group);
    store_le<uint32_t>(sb + sb::inodes_per_group, g.inodes_per_group);
    store_le<uint32_t>(sb + sb::wtime, v.time);
    store_le<uint16_t>(sb + sb::max_mnt_count, 0xFFFF);  // -1: no forced checks
    store_le<uint16_t>(sb + sb::magic, magic);
    store_le<uint16_t>(sb + sb::state, 1);   // cleanly unmounted
    store_le<uint16_t>(sb + sb::errors, 1);  // continue
    store_le<uint32_t>(sb + sb::lastcheck, v.time);
    store_le<uint32_t>(sb + sb::rev_level, 1);
    store_le<uint32_t>(sb + sb::first_ino, first_regular_inode);
    store_le<uint16_t>(sb + sb::inode_size, inode_size);
    store_le<uint16_t>(sb + sb::block_group_nr, static_cast<uint16_t>(group));
    store_le<uint32_t>(sb + sb::feature_incompat, feature_incompat_filetype);
    store_le<uint32_t>(sb + sb::feature_ro_compat,
                       feature_ro_compat_sparse_super | feature_ro_compat_large_file);
    std::memcpy(sb + sb::uuid, v.uuid.data(), v.uuid.size());
    std::memcpy(sb + sb::hash_seed, v.hash_seed.data(), v.hash_seed.size());
    sb[sb::def_hash_version] = 1;  // half_md4, as mke2fs
    store_le<uint32_t>(sb + sb::mkfs_time, v.time);
    store_le<uint16_t>(sb + sb::min_extra_isize, extra_isize);
    store_le<uint16_t>(sb + sb::want_extra_isize, extra_isize);
    store_le<uint32_t>(sb + sb::flags, 1);  // signed directory hash, as on x86
}

// Sets the bits past the end of each bitmap (e2fsck checks this padding) and
// marks the reserved and used inodes; returns each group's free counts.
std::vector<GroupCounts> finish_bitmaps(const FilledTables& t, std::vector<uint8_t>& inode_bitmap) {
    const Geometry& g = t.geometry;
    std::vector<GroupCounts> counts(g.group_count);
    inode_bitmap.assign(size_t(g.group_count) * block_size, 0);
    for (uint32_t group = 0; group < g.group_count; ++group) {
        uint8_t* blocks = &t.block_bitmap[size_t(group) * block_size];
        uint32_t group_blocks = g.group_block_count(group);
        counts[group].free_blocks = count_clear_bits(blocks, group_blocks);
        for (uint32_t bit = group_blocks; bit < blocks_per_group; ++bit)
            set_bit(blocks, bit);
        uint8_t* inodes = &inode_bitmap[size_t(group) * block_size];
        uint32_t first = group * g.inodes_per_group + 1;
        for (uint32_t i = 0; i < g.inodes_per_group; ++i)
            if (first + i <= t.highest_inode)
                set_bit(inodes, i);
        counts[group].free_inodes = count_clear_bits(inodes, g.inodes_per_group);
        for (uint32_t bit = g.inodes_per_group; bit < block_size * 8; ++bit)
            set_bit(inodes, bit);
    }
    return counts;
}

std::vector<uint8_t> encode_group_descriptors(const Geometry& g, const FilledTables& t,
                                              const std::vector<GroupCounts>& counts) {
    std::vector<uint8_t> table(size_t(g.gdt_blocks) * block_size, 0);
    for (uint32_t group = 0; group < g.group_count; ++group) {
        uint8_t* d = &table[size_t(group) * group_descriptor_size];
        store_le<uint32_t>(d + gd::block_bitmap, g.block_bitmap_block(group));
        store_le<uint32_t>(d + gd::inode_bitmap, g.inode_bitmap_block(group));
        store_le<uint32_t>(d + gd::inode_table, g.inode_table_block(group));
        store_le<uint16_t>(d + gd::free_blocks_count,
                           static_cast<uint16_t>(counts[group].free_blocks));
        store_le<uint16_t>(d + gd::free_inodes_count,
                           static_cast<uint16_t>(counts[group].free_inodes));
        store_le<uint16_t>(d + gd::used_dirs_count, static_cast<uint16_t>(t.used_dirs[group]));
    }
    return table;
}

}  // namespace

Result<Ext2Summary> write_metadata(RandomAccessFile& out, const FilledTables& t,
                                   const Ext2BuildOptions& options) {
    const Geometry& g = t.geometry;
    std::vector<uint8_t> inode_bitmap;
    std::vector<GroupCounts> counts = finish_bitmaps(t, inode_bitmap);
    std::vector<uint8_t> descriptors = encode_group_descriptors(g, t, counts);

    SuperblockValues values;
    for (const GroupCounts& c : counts) {
        values.free_blocks += c.free_blocks;
        values.free_inodes += c.free_inodes;
    }
    values.time =
        static_cast<uint32_t>(options.creation_time ? options.creation_time : std::time(nullptr));
    values.uuid = options.uuid;
    if (is_all_zero(values.uuid) && RAND_bytes(values.uuid.data(), 16) != 1)
        return Error(EIO, "OpenSSL: no random bytes for the file-system uuid");
    values.uuid[6] = static_cast<uint8_t>((values.uuid[6] & 0x0f) | 0x40);  // RFC 4122 v4
    values.uuid[8] = static_cast<uint8_t>((values.uuid[8] & 0x3f) | 0x80);
    if (RAND_bytes(values.hash_seed.data(), 16) != 1)
        return Error(EIO, "OpenSSL: no random bytes for the directory hash seed");

    std::vector<uint8_t> block(block_size);
    for (uint32_t group = 0; group < g.group_count; ++group) {
        uint64_t first = g.group_first_block(group);
        if (group_has_superblock(group)) {
            std::fill(block.begin(), block.end(), 0);
            encode_superblock(g, values, group,
                              block.data() + (group == 0 ? superblock_offset : 0));
            TRY(out.write_at(first * block_size, block));
            TRY(out.write_at((first + 1) * block_size, descriptors));
        }
        TRY(out.write_at(
            uint64_t(g.block_bitmap_block(group)) * block_size,
            std::span(t.block_bitmap).subspan(size_t(group) * block_size, block_size)));
        TRY(out.write_at(uint64_t(g.inode_bitmap_block(group)) * block_size,
                         std::span(inode_bitmap).subspan(size_t(group) * block_size, block_size)));
        size_t table_bytes = size_t(g.inodes_per_group) * inode_size;
        TRY(out.write_at(uint64_t(g.inode_table_block(group)) * block_size,
                         std::span(t.inode_table).subspan(group * table_bytes, table_bytes)));
    }
    return Ext2Summary{uint64_t(g.blocks_count) * block_size, g.blocks_count, values.free_blocks,
                       g.inodes_count(), values.free_inodes};
}

}  // namespace myst::image::ext2

// Where an ext2 file system of a given size keeps its metadata: the block
// groups, their superblock backups, bitmaps and inode tables.
#pragma once

#include <cstdint>

#include "base/result.h"
#include "image/ext2_format.h"

namespace myst::image::ext2 {

struct Geometry {
    uint32_t blocks_count = 0;
    uint32_t group_count = 0;
    uint32_t inodes_per_group = 0;
    uint32_t gdt_blocks = 0;          // group descriptor table, per copy
    uint32_t inode_table_blocks = 0;  // per group

    // Lays out `blocks` blocks with room for at least `inodes` inodes. A last
    // group too small to hold its own metadata is dropped, as mke2fs does, so
    // blocks_count may come out smaller than asked.
    static Result<Geometry> compute(uint64_t blocks, uint64_t inodes);

    uint32_t inodes_count() const { return group_count * inodes_per_group; }
    uint32_t group_first_block(uint32_t group) const { return group * blocks_per_group; }
    uint32_t group_block_count(uint32_t group) const;
    uint32_t superblock_area_blocks(uint32_t group) const {
        return group_has_superblock(group) ? 1 + gdt_blocks : 0;
    }
    uint32_t block_bitmap_block(uint32_t group) const {
        return group_first_block(group) + superblock_area_blocks(group);
    }
    uint32_t inode_bitmap_block(uint32_t group) const { return block_bitmap_block(group) + 1; }
    uint32_t inode_table_block(uint32_t group) const { return block_bitmap_block(group) + 2; }
    // First block of the group that is not metadata.
    uint32_t first_data_block(uint32_t group) const {
        return inode_table_block(group) + inode_table_blocks;
    }
    uint32_t metadata_blocks(uint32_t group) const {
        return first_data_block(group) - group_first_block(group);
    }
    uint64_t total_metadata_blocks() const;
    uint64_t data_capacity_blocks() const { return blocks_count - total_metadata_blocks(); }
};

}  // namespace myst::image::ext2

#include "image/ext2_geometry.h"

#include <string>

namespace myst::image::ext2 {

namespace {

// mke2fs drops a last group with fewer blocks than its metadata plus this.
constexpr uint32_t min_last_group_data_blocks = 50;

uint64_t divide_round_up(uint64_t value, uint64_t divisor) {
    return (value + divisor - 1) / divisor;
}

Result<Geometry> layout(uint64_t blocks, uint64_t inodes) {
    Geometry geometry;
    geometry.blocks_count = static_cast<uint32_t>(blocks);
    geometry.group_count = static_cast<uint32_t>(divide_round_up(blocks, blocks_per_group));
    uint64_t per_group = divide_round_up(inodes, geometry.group_count);
    per_group = divide_round_up(per_group, inodes_per_block) * inodes_per_block;
    if (per_group < inodes_per_block)
        per_group = inodes_per_block;
    if (per_group > max_inodes_per_group)
        return Error(EFBIG, "too many files for an ext2 image of this size (" +
                                std::to_string(inodes) + " inodes)");
    geometry.inodes_per_group = static_cast<uint32_t>(per_group);
    geometry.inode_table_blocks = geometry.inodes_per_group / inodes_per_block;
    geometry.gdt_blocks = static_cast<uint32_t>(
        divide_round_up(uint64_t(geometry.group_count) * group_descriptor_size, block_size));
    return geometry;
}

}  // namespace

uint32_t Geometry::group_block_count(uint32_t group) const {
    if (group + 1 < group_count)
        return blocks_per_group;
    return blocks_count - group_first_block(group);
}

uint64_t Geometry::total_metadata_blocks() const {
    uint64_t total = 0;
    for (uint32_t group = 0; group < group_count; ++group)
        total += metadata_blocks(group);
    return total;
}

Result<Geometry> Geometry::compute(uint64_t blocks, uint64_t inodes) {
    // Block numbers are 32-bit in ext2; stay below 2^32 blocks (16 TiB).
    if (blocks >= (uint64_t(1) << 32))
        return Error(EFBIG, "ext2 image larger than 16 TiB");
    Geometry geometry = TRY(layout(blocks, inodes));
    uint32_t last = geometry.group_count - 1;
    if (geometry.group_block_count(last) <
        geometry.metadata_blocks(last) + min_last_group_data_blocks) {
        if (last == 0)
            return Error(ENOSPC, "ext2 image of " + std::to_string(blocks) +
                                     " blocks is too small for its own metadata");
        geometry = TRY(layout(uint64_t(last) * blocks_per_group, inodes));
    }
    return geometry;
}

}  // namespace myst::image::ext2

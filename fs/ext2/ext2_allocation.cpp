// Block and inode allocation from the bitmaps. Each change writes the
// bitmap block, the group descriptor and the superblock counters, so the
// device is consistent after every call.
#include <algorithm>

#include "fs/ext2/ext2_file_system.h"

namespace myst::fs::ext2 {

namespace {

bool bit_is_set(const std::vector<uint8_t>& bitmap, uint32_t bit) {
    return (bitmap[bit / 8] >> (bit % 8)) & 1;
}

void set_bit(std::vector<uint8_t>& bitmap, uint32_t bit) {
    bitmap[bit / 8] |= static_cast<uint8_t>(1u << (bit % 8));
}

void clear_bit(std::vector<uint8_t>& bitmap, uint32_t bit) {
    bitmap[bit / 8] &= static_cast<uint8_t>(~(1u << (bit % 8)));
}

// The first clear bit in [from, end), or `end`; skips full bytes quickly.
uint32_t find_clear_bit(const std::vector<uint8_t>& bitmap, uint32_t from, uint32_t end) {
    uint32_t bit = from;
    while (bit < end) {
        if (bit % 8 == 0 && bitmap[bit / 8] == 0xff) {
            bit += 8;
            continue;
        }
        if (!bit_is_set(bitmap, bit))
            return bit;
        ++bit;
    }
    return end;
}

}  // namespace

Result<std::vector<uint8_t>> Ext2FileSystem::read_bitmap_locked(uint32_t block) {
    std::vector<uint8_t> bitmap(m_sb.block_size);
    TRY(read_blocks_locked(block, bitmap));
    return bitmap;
}

Result<Ext2FileSystem::BlockRun> Ext2FileSystem::allocate_in_group_locked(uint32_t group,
                                                                          uint32_t start,
                                                                          uint32_t max_count) {
    GroupDescriptor& d = m_groups[group];
    std::vector<uint8_t> bitmap = TRY(read_bitmap_locked(d.block_bitmap));
    uint32_t end = m_sb.group_block_count(group);
    uint32_t from = std::min(start, end);
    uint32_t bit = find_clear_bit(bitmap, from, end);
    if (bit == end) {
        bit = find_clear_bit(bitmap, 0, from);
        if (bit == from)
            return corrupt("group " + std::to_string(group) + " counts " +
                           std::to_string(d.free_blocks_count) +
                           " free blocks but its bitmap has none");
    }
    uint32_t count = 0;
    while (count < max_count && count < d.free_blocks_count && bit + count < end &&
           !bit_is_set(bitmap, bit + count)) {
        set_bit(bitmap, bit + count);
        ++count;
    }
    if (count == 0)
        return corrupt("group " + std::to_string(group) + " has free blocks in its bitmap " +
                       "that its descriptor does not count");
    uint32_t first = m_sb.group_first_block(group) + bit;
    if (is_metadata(first))
        return corrupt("block " + std::to_string(first) +
                       " is file-system metadata but free in the bitmap");
    TRY(write_blocks_locked(d.block_bitmap, bitmap));
    d.free_blocks_count -= count;
    m_sb.free_blocks_count -= std::min(m_sb.free_blocks_count, count);
    TRY(write_descriptor_locked(group));
    TRY(write_superblock_locked());
    return BlockRun{first, count};
}

Result<Ext2FileSystem::BlockRun> Ext2FileSystem::allocate_blocks_locked(uint32_t goal,
                                                                        uint32_t max_count) {
    TRY(check_writable());
    if (m_sb.free_blocks_count == 0)
        return Error(ENOSPC, m_name + ": no free blocks");
    if (goal < m_sb.first_data_block || goal >= m_sb.blocks_count)
        goal = m_sb.first_data_block;
    uint32_t goal_group = (goal - m_sb.first_data_block) / m_sb.blocks_per_group;
    for (uint32_t i = 0; i < m_sb.group_count; ++i) {
        uint32_t group = (goal_group + i) % m_sb.group_count;
        if (m_groups[group].free_blocks_count == 0)
            continue;
        uint32_t start = i == 0 ? goal - m_sb.group_first_block(group) : 0;
        return allocate_in_group_locked(group, start, std::max(max_count, 1u));
    }
    return Error(ENOSPC, m_name + ": no free blocks");
}

Result<void> Ext2FileSystem::free_blocks_in_group_locked(uint32_t group, uint32_t first,
                                                         uint32_t count) {
    GroupDescriptor& d = m_groups[group];
    std::vector<uint8_t> bitmap = TRY(read_bitmap_locked(d.block_bitmap));
    uint32_t bit = first - m_sb.group_first_block(group);
    for (uint32_t i = 0; i < count; ++i) {
        if (!bit_is_set(bitmap, bit + i))
            return corrupt("freeing block " + std::to_string(first + i) + ", which is not in use");
        clear_bit(bitmap, bit + i);
    }
    if (d.free_blocks_count + count > m_sb.group_block_count(group))
        return corrupt("group " + std::to_string(group) +
                       " would count more free blocks than it has");
    TRY(write_blocks_locked(d.block_bitmap, bitmap));
    d.free_blocks_count += count;
    m_sb.free_blocks_count = std::min(m_sb.free_blocks_count + count, m_sb.blocks_count);
    TRY(write_descriptor_locked(group));
    return write_superblock_locked();
}

Result<void> Ext2FileSystem::free_blocks_locked(uint32_t first, uint32_t count) {
    TRY(check_writable());
    if (count == 0)
        return {};
    if (first < m_sb.first_data_block || first >= m_sb.blocks_count ||
        count > m_sb.blocks_count - first)
        return corrupt("freeing blocks " + std::to_string(first) + "+" + std::to_string(count) +
                       " past the end");
    while (count > 0) {
        uint32_t group = (first - m_sb.first_data_block) / m_sb.blocks_per_group;
        uint32_t group_end = m_sb.group_first_block(group) + m_sb.group_block_count(group);
        uint32_t chunk = std::min(count, group_end - first);
        for (uint32_t i = 0; i < chunk; ++i)
            if (is_metadata(first + i))
                return corrupt("freeing block " + std::to_string(first + i) +
                               ", which is file-system metadata");
        TRY(free_blocks_in_group_locked(group, first, chunk));
        first += chunk;
        count -= chunk;
    }
    return {};
}

Result<uint32_t> Ext2FileSystem::allocate_inode_in_group_locked(uint32_t group, bool directory) {
    GroupDescriptor& d = m_groups[group];
    std::vector<uint8_t> bitmap = TRY(read_bitmap_locked(d.inode_bitmap));
    uint32_t base = group * m_sb.inodes_per_group;  // inode number of bit 0, minus one
    uint32_t start = 0;
    if (base + 1 < m_sb.first_ino)
        start = std::min(m_sb.first_ino - 1 - base, m_sb.inodes_per_group);
    uint32_t bit = find_clear_bit(bitmap, start, m_sb.inodes_per_group);
    if (bit == m_sb.inodes_per_group)
        return uint32_t{0};
    set_bit(bitmap, bit);
    TRY(write_blocks_locked(d.inode_bitmap, bitmap));
    d.free_inodes_count -= 1;
    if (directory)
        d.used_dirs_count += 1;
    m_sb.free_inodes_count -= std::min(m_sb.free_inodes_count, 1u);
    TRY(write_descriptor_locked(group));
    TRY(write_superblock_locked());
    return base + bit + 1;
}

Result<uint32_t> Ext2FileSystem::allocate_inode_locked(uint32_t parent_ino, bool directory) {
    TRY(check_writable());
    if (m_sb.free_inodes_count == 0)
        return Error(ENOSPC, m_name + ": no free inodes");
    std::vector<uint32_t> order;
    uint32_t parent_group = group_of_inode(parent_ino);
    if (directory) {
        // Spread directories: among the groups with at least the average of
        // free inodes, the one with the most free blocks (Linux's old rule).
        uint64_t average = m_sb.free_inodes_count / m_sb.group_count;
        uint32_t best = parent_group;
        bool found = false;
        for (uint32_t group = 0; group < m_sb.group_count; ++group) {
            const GroupDescriptor& d = m_groups[group];
            if (d.free_inodes_count == 0 || d.free_inodes_count < average)
                continue;
            if (!found || d.free_blocks_count > m_groups[best].free_blocks_count) {
                best = group;
                found = true;
            }
        }
        parent_group = best;
    }
    for (uint32_t i = 0; i < m_sb.group_count; ++i) {
        uint32_t group = (parent_group + i) % m_sb.group_count;
        if (m_groups[group].free_inodes_count == 0)
            continue;
        uint32_t ino = TRY(allocate_inode_in_group_locked(group, directory));
        if (ino != 0)
            return ino;
    }
    return Error(ENOSPC, m_name + ": no free inodes");
}

Result<void> Ext2FileSystem::free_inode_locked(uint32_t ino, bool directory) {
    TRY(check_writable());
    if (ino < m_sb.first_ino || ino > m_sb.inodes_count)
        return corrupt("freeing reserved or out-of-range inode " + std::to_string(ino));
    uint32_t group = group_of_inode(ino);
    GroupDescriptor& d = m_groups[group];
    std::vector<uint8_t> bitmap = TRY(read_bitmap_locked(d.inode_bitmap));
    uint32_t bit = (ino - 1) % m_sb.inodes_per_group;
    if (!bit_is_set(bitmap, bit))
        return corrupt("freeing inode " + std::to_string(ino) + ", which is not in use");
    clear_bit(bitmap, bit);
    TRY(write_blocks_locked(d.inode_bitmap, bitmap));
    d.free_inodes_count = std::min(d.free_inodes_count + 1, m_sb.inodes_per_group);
    if (directory && d.used_dirs_count > 0)
        d.used_dirs_count -= 1;
    m_sb.free_inodes_count = std::min(m_sb.free_inodes_count + 1, m_sb.inodes_count);
    TRY(write_descriptor_locked(group));
    return write_superblock_locked();
}

}  // namespace myst::fs::ext2

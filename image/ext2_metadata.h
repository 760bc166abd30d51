// The last step of the ext2 writer: bitmaps, inode tables, group descriptors
// and the superblock with its backups, from the tables the data pass filled.
#pragma once

#include <cstdint>
#include <vector>

#include "image/ext2_geometry.h"
#include "image/ext2_writer.h"

namespace myst::image::ext2 {

struct FilledTables {
    const Geometry& geometry;
    const std::vector<uint8_t>& inode_table;  // inodes_count * inode_size bytes
    std::vector<uint8_t>& block_bitmap;       // group_count * block_size bytes
    const std::vector<uint32_t>& used_dirs;   // per group
    uint32_t highest_inode;                   // inodes 1..highest are in use
};

Result<Ext2Summary> write_metadata(RandomAccessFile& out, const FilledTables& tables,
                                   const Ext2BuildOptions& options);

}  // namespace myst::image::ext2

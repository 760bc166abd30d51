// Writes an ext2 file system (revision 1, 4 KiB blocks, 256-byte inodes with
// nanosecond times) from a tree: the first section of a `myst mkext2` image.
// The result passes `e2fsck -fn` and mounts on Linux.
#pragma once

#include <array>
#include <cstdint>
#include <functional>

#include "image/fs_tree.h"
#include "image/io.h"

namespace myst::image {

struct Ext2SizeEstimate {
    uint64_t required_bytes = 0;  // the smallest image the tree fits in
    uint64_t default_bytes = 0;   // Mystikos's rule: 1.5x, in whole MiB, at least 8 MiB
    uint64_t inode_count = 0;     // inodes the writer will provide by default
};

struct Ext2BuildOptions {
    uint64_t size_bytes = 0;         // 0: the default size; else at least required_bytes
    std::array<uint8_t, 16> uuid{};  // all zero: random
    int64_t creation_time = 0;       // superblock times; 0: now
    std::function<void(uint64_t done_bytes, uint64_t total_bytes)> progress;
};

struct Ext2Summary {
    uint64_t size_bytes = 0;  // blocks_count * 4096
    uint32_t blocks_count = 0;
    uint32_t free_blocks = 0;
    uint32_t inodes_count = 0;
    uint32_t free_inodes = 0;
};

Result<Ext2SizeEstimate> estimate_ext2_size(const TreeNode& root, uint64_t size_bytes = 0);

// Writes the file system at offset 0 of `out`, whole 4 KiB blocks only (so a
// sector cipher can sit under it); blocks never written are zero.
Result<Ext2Summary> write_ext2(const TreeNode& root, RandomAccessFile& out,
                               const Ext2BuildOptions& options);

}  // namespace myst::image

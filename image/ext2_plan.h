// The first pass of the ext2 writer: numbers the inodes of a tree, packs the
// directories into blocks and counts the blocks every inode needs, so the
// image can be sized before anything is written.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "image/ext2_format.h"
#include "image/fs_tree.h"

namespace myst::image::ext2 {

struct DirectoryEntry {
    uint32_t inode = 0;
    DirentType type = DirentType::unknown;
    std::string name;
};

struct PlannedInode {
    const TreeNode* node = nullptr;  // null for a lost+found the tree lacks
    uint32_t number = 0;
    uint32_t links = 1;
    std::vector<DirectoryEntry> entries;  // directories: ".", "..", children
    uint64_t data_blocks = 0;             // upper bound, before holes are found
    uint64_t indirect_blocks = 0;         // for data_blocks mapped blocks
};

struct Plan {
    std::vector<PlannedInode> inodes;  // ordered by inode number
    uint32_t highest_inode = 0;
    uint64_t content_blocks = 0;  // data + indirect blocks of all inodes

    static Result<Plan> create(const TreeNode& root);
};

// Packs entries into blocks: returns the index of the first entry of each block.
std::vector<size_t> pack_directory(const std::vector<DirectoryEntry>& entries);

// Mapping blocks (single, double, triple indirect) needed for `blocks` data blocks.
uint64_t indirect_blocks_for(uint64_t blocks);

DirentType dirent_type_of(NodeType type);

}  // namespace myst::image::ext2

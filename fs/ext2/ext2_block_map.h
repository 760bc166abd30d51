// The block map of an ext2 inode: i_block[0..11] point at data blocks,
// i_block[12], [13] and [14] at single, double and triple indirect blocks of
// little-endian block numbers. A zero pointer is a hole (reads as zeros).
// Used with the file-system lock held, for one operation at a time.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "base/result.h"
#include "fs/ext2/ext2_definitions.h"

namespace myst::fs::ext2 {

class Ext2FileSystem;

class BlockMap {
public:
    // `record` is the inode's record; allocating and freeing change its
    // i_block and i_blocks, and the caller saves it.
    BlockMap(Ext2FileSystem& fs, uint32_t ino, InodeRecord& record);

    // The device block of logical block `index`; 0 for a hole.
    Result<uint32_t> lookup(uint64_t index);

    struct Mapping {
        uint32_t block = 0;
        bool fresh = false;  // just allocated: its old contents are garbage
    };
    // Maps `index`, allocating its block and any missing indirect block.
    Result<Mapping> allocate(uint64_t index);

    // Frees every block from logical block `first` on, and the indirect
    // blocks left mapping nothing.
    Result<void> truncate(uint64_t first);

    // Logical blocks the map can address.
    uint64_t capacity() const;

private:
    struct Path {
        uint32_t slot = 0;                  // index into i_block
        int depth = 0;                      // indirect blocks on the way (0..3)
        std::array<uint32_t, 3> offsets{};  // pointer index in each of them
    };
    struct CachedBlock {
        uint32_t block = 0;
        std::vector<uint8_t> bytes;
    };

    Result<Path> path_of(uint64_t index) const;
    // The contents of indirect block `block` at depth `level` (0 = the one
    // i_block points at), from the cache when it holds it.
    Result<CachedBlock*> indirect(uint32_t block, int level);
    Result<uint32_t> allocate_block(uint32_t goal, bool zero);
    uint32_t goal_for(uint64_t index);

    class Freer;
    Result<void> free_tree(Freer& freer, uint32_t block, int levels);
    Result<bool> truncate_tree(Freer& freer, uint32_t block, int levels, uint64_t from);

    Ext2FileSystem& m_fs;
    uint32_t m_ino;
    InodeRecord& m_record;
    uint32_t m_pointers;  // per block
    std::array<CachedBlock, 3> m_cache;
    uint32_t m_last_allocated = 0;
};

}  // namespace myst::fs::ext2

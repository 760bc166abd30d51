#include "fs/ext2/ext2_block_map.h"

#include "base/endian.h"
#include "fs/ext2/ext2_file_system.h"

namespace myst::fs::ext2 {

namespace {

constexpr uint32_t kDirectBlocks = format::direct_blocks;
constexpr uint32_t kMaxFreeRun = 1u << 16;

}  // namespace

// Frees blocks in runs of consecutive numbers (a file's blocks mostly are),
// taking them off the inode's i_blocks as it goes.
class BlockMap::Freer {
public:
    Freer(Ext2FileSystem& fs, InodeRecord& record) : m_fs(fs), m_record(record) {}

    Result<void> add(uint32_t block) {
        m_record.add_blocks_512(-static_cast<int64_t>(m_fs.block_size() / 512));
        if (m_count != 0 && block == m_first + m_count && m_count < kMaxFreeRun) {
            ++m_count;
            return {};
        }
        TRY(flush());
        m_first = block;
        m_count = 1;
        return {};
    }

    Result<void> flush() {
        if (m_count == 0)
            return {};
        uint32_t count = m_count;
        m_count = 0;
        return m_fs.free_blocks_locked(m_first, count);
    }

private:
    Ext2FileSystem& m_fs;
    InodeRecord& m_record;
    uint32_t m_first = 0;
    uint32_t m_count = 0;
};

BlockMap::BlockMap(Ext2FileSystem& fs, uint32_t ino, InodeRecord& record)
    : m_fs(fs), m_ino(ino), m_record(record), m_pointers(fs.block_size() / 4) {}

uint64_t BlockMap::capacity() const {
    uint64_t p = m_pointers;
    return kDirectBlocks + p + p * p + p * p * p;
}

Result<BlockMap::Path> BlockMap::path_of(uint64_t index) const {
    uint64_t p = m_pointers;
    Path path;
    if (index < kDirectBlocks) {
        path.slot = static_cast<uint32_t>(index);
        return path;
    }
    index -= kDirectBlocks;
    if (index < p) {
        path.slot = kDirectBlocks;
        path.depth = 1;
        path.offsets[0] = static_cast<uint32_t>(index);
        return path;
    }
    index -= p;
    if (index < p * p) {
        path.slot = kDirectBlocks + 1;
        path.depth = 2;
        path.offsets[0] = static_cast<uint32_t>(index / p);
        path.offsets[1] = static_cast<uint32_t>(index % p);
        return path;
    }
    index -= p * p;
    if (index < p * p * p) {
        path.slot = kDirectBlocks + 2;
        path.depth = 3;
        path.offsets[0] = static_cast<uint32_t>(index / (p * p));
        path.offsets[1] = static_cast<uint32_t>(index / p % p);
        path.offsets[2] = static_cast<uint32_t>(index % p);
        return path;
    }
    return Error(EFBIG, "file too large for the ext2 block map");
}

Result<BlockMap::CachedBlock*> BlockMap::indirect(uint32_t block, int level) {
    CachedBlock& cached = m_cache[static_cast<size_t>(level)];
    if (cached.block == block && !cached.bytes.empty())
        return &cached;
    cached.block = 0;
    cached.bytes.resize(m_fs.block_size());
    TRY(m_fs.read_blocks_locked(block, cached.bytes));
    cached.block = block;
    return &cached;
}

Result<uint32_t> BlockMap::lookup(uint64_t index) {
    Path path = TRY(path_of(index));
    uint32_t block = m_record.block(path.slot);
    for (int level = 0; level < path.depth; ++level) {
        if (block == 0)
            return uint32_t{0};
        TRY(m_fs.check_data_block(block, m_ino));
        CachedBlock* cached = TRY(indirect(block, level));
        block = load_le<uint32_t>(cached->bytes.data() + 4 * path.offsets[level]);
    }
    if (block != 0)
        TRY(m_fs.check_data_block(block, m_ino));
    return block;
}

uint32_t BlockMap::goal_for(uint64_t index) {
    if (m_last_allocated != 0)
        return m_last_allocated + 1;
    if (index > 0) {
        auto previous = lookup(index - 1);
        if (!previous.is_error() && previous.value() != 0)
            return previous.value() + 1;
    }
    return m_fs.group_first_block(m_fs.group_of_inode(m_ino));
}

Result<uint32_t> BlockMap::allocate_block(uint32_t goal, bool zero) {
    Ext2FileSystem::BlockRun run = TRY(m_fs.allocate_blocks_locked(goal, 1));
    m_record.add_blocks_512(m_fs.block_size() / 512);
    m_last_allocated = run.first;
    if (zero) {
        std::vector<uint8_t> zeros(m_fs.block_size(), 0);
        TRY(m_fs.write_blocks_locked(run.first, zeros));
    }
    return run.first;
}

Result<BlockMap::Mapping> BlockMap::allocate(uint64_t index) {
    Path path = TRY(path_of(index));
    uint32_t goal = goal_for(index);
    Mapping mapping;
    uint32_t block = m_record.block(path.slot);
    if (block == 0) {
        block = TRY(allocate_block(goal, path.depth > 0));
        m_record.set_block(path.slot, block);
        mapping.fresh = path.depth == 0;
    } else {
        TRY(m_fs.check_data_block(block, m_ino));
    }
    for (int level = 0; level < path.depth; ++level) {
        CachedBlock* cached = TRY(indirect(block, level));
        uint8_t* pointer = cached->bytes.data() + 4 * path.offsets[level];
        uint32_t child = load_le<uint32_t>(pointer);
        if (child == 0) {
            bool is_data = level + 1 == path.depth;
            child = TRY(allocate_block(m_last_allocated + 1, !is_data));
            store_le<uint32_t>(pointer, child);
            TRY(m_fs.write_blocks_locked(cached->block, cached->bytes));
            mapping.fresh = is_data;
        } else {
            TRY(m_fs.check_data_block(child, m_ino));
        }
        block = child;
    }
    mapping.block = block;
    return mapping;
}

Result<void> BlockMap::free_tree(Freer& freer, uint32_t block, int levels) {
    std::vector<uint8_t> bytes(m_fs.block_size());
    TRY(m_fs.read_blocks_locked(block, bytes));
    for (uint32_t i = 0; i < m_pointers; ++i) {
        uint32_t child = load_le<uint32_t>(bytes.data() + 4 * i);
        if (child == 0)
            continue;
        TRY(m_fs.check_data_block(child, m_ino));
        if (levels == 1)
            TRY(freer.add(child));
        else
            TRY(free_tree(freer, child, levels - 1));
    }
    return freer.add(block);
}

Result<bool> BlockMap::truncate_tree(Freer& freer, uint32_t block, int levels, uint64_t from) {
    std::vector<uint8_t> bytes(m_fs.block_size());
    TRY(m_fs.read_blocks_locked(block, bytes));
    uint64_t child_span = 1;
    for (int i = 1; i < levels; ++i)
        child_span *= m_pointers;
    bool changed = false;
    bool kept = false;
    for (uint32_t i = 0; i < m_pointers; ++i) {
        uint8_t* pointer = bytes.data() + 4 * i;
        uint32_t child = load_le<uint32_t>(pointer);
        if (child == 0)
            continue;
        TRY(m_fs.check_data_block(child, m_ino));
        uint64_t child_first = i * child_span;
        bool drop = child_first >= from;
        if (!drop && levels > 1 && child_first + child_span > from)
            drop = TRY(truncate_tree(freer, child, levels - 1, from - child_first));
        else if (drop && levels > 1)
            TRY(free_tree(freer, child, levels - 1));
        if (!drop) {
            kept = true;
            continue;
        }
        if (levels == 1 || child_first < from)
            TRY(freer.add(child));  // a data block, or an emptied mapping block
        store_le<uint32_t>(pointer, 0);
        changed = true;
    }
    if (kept && changed)
        TRY(m_fs.write_blocks_locked(block, bytes));
    return !kept;
}

Result<void> BlockMap::truncate(uint64_t first) {
    // The cache may hold blocks this changes.
    for (CachedBlock& cached : m_cache)
        cached.block = 0;
    m_last_allocated = 0;
    Freer freer(m_fs, m_record);
    for (uint64_t i = first; i < kDirectBlocks; ++i) {
        uint32_t block = m_record.block(i);
        if (block == 0)
            continue;
        TRY(m_fs.check_data_block(block, m_ino));
        TRY(freer.add(block));
        m_record.set_block(i, 0);
    }
    uint64_t start = kDirectBlocks;
    uint64_t span = m_pointers;
    for (int levels = 1; levels <= 3; ++levels, start += span, span *= m_pointers) {
        uint32_t slot = kDirectBlocks + static_cast<uint32_t>(levels) - 1;
        uint32_t block = m_record.block(slot);
        if (block == 0 || first >= start + span)
            continue;
        TRY(m_fs.check_data_block(block, m_ino));
        bool drop = first <= start;
        if (drop)
            TRY(free_tree(freer, block, levels));
        else if (TRY(truncate_tree(freer, block, levels, first - start)))
            TRY(freer.add(block));
        else
            continue;
        m_record.set_block(slot, 0);
    }
    return freer.flush();
}

}  // namespace myst::fs::ext2

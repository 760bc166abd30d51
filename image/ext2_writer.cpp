#include "image/ext2_writer.h"

#include <algorithm>

#include "base/endian.h"
#include "image/ext2_geometry.h"
#include "image/ext2_inode_encoding.h"
#include "image/ext2_metadata.h"
#include "image/ext2_plan.h"

namespace myst::image {

using namespace ext2;

namespace {

constexpr uint64_t mib = 1 << 20;
constexpr uint32_t run_limit_blocks = 256;  // 1 MiB per write

uint64_t divide_round_up(uint64_t value, uint64_t divisor) {
    return (value + divisor - 1) / divisor;
}

// Collects consecutive blocks into one write.
class BlockRunWriter {
public:
    explicit BlockRunWriter(RandomAccessFile& out) : m_out(out) {
        m_buffer.reserve(run_limit_blocks * block_size);
    }

    Result<void> write(uint32_t block, std::span<const uint8_t> data) {
        if (m_count && (block != m_first + m_count || m_count == run_limit_blocks))
            TRY(flush());
        if (m_count == 0)
            m_first = block;
        m_buffer.insert(m_buffer.end(), data.begin(), data.end());
        m_buffer.resize(size_t(m_count + 1) * block_size, 0);
        m_count++;
        return {};
    }

    Result<void> flush() {
        if (m_count == 0)
            return {};
        TRY(m_out.write_at(uint64_t(m_first) * block_size, m_buffer));
        m_buffer.clear();
        m_count = 0;
        return {};
    }

private:
    RandomAccessFile& m_out;
    std::vector<uint8_t> m_buffer;
    uint32_t m_first = 0;
    uint32_t m_count = 0;
};

class Ext2Writer {
public:
    Ext2Writer(const Plan& plan, const Geometry& geometry, RandomAccessFile& out,
               const Ext2BuildOptions& options)
        : m_plan(plan), m_geometry(geometry), m_out(out), m_options(options), m_sink(out) {}

    Result<Ext2Summary> write() {
        m_inode_table.assign(size_t(m_geometry.inodes_count()) * inode_size, 0);
        m_block_bitmap.assign(size_t(m_geometry.group_count) * block_size, 0);
        m_used_dirs.assign(m_geometry.group_count, 0);
        for (uint32_t group = 0; group < m_geometry.group_count; ++group)
            for (uint32_t i = 0; i < m_geometry.metadata_blocks(group); ++i)
                mark_used(m_geometry.group_first_block(group) + i);
        m_cursor = m_geometry.first_data_block(0);
        for (const TreeNode* node : regular_files())
            m_total_bytes += node->size;
        for (const PlannedInode& inode : m_plan.inodes)
            TRY(write_inode(inode));
        TRY(m_sink.flush());
        return write_metadata(
            m_out, {m_geometry, m_inode_table, m_block_bitmap, m_used_dirs, m_plan.highest_inode},
            m_options);
    }

private:
    std::vector<const TreeNode*> regular_files() const {
        std::vector<const TreeNode*> files;
        for (const PlannedInode& inode : m_plan.inodes)
            if (inode.node && inode.node->type == NodeType::regular)
                files.push_back(inode.node);
        return files;
    }

    void mark_used(uint32_t block) {
        m_block_bitmap[block / 8] |= static_cast<uint8_t>(1u << (block % 8));
        m_used_blocks++;
    }

    Result<uint32_t> allocate_block() {
        while (m_cursor < m_geometry.blocks_count) {
            uint32_t group = m_cursor / blocks_per_group;
            if (m_cursor < m_geometry.first_data_block(group)) {
                m_cursor = m_geometry.first_data_block(group);
                continue;
            }
            uint32_t block = m_cursor++;
            mark_used(block);
            return block;
        }
        return Error(ENOSPC, "ext2 image is full (a file grew while the image was written?)");
    }

    uint8_t* raw_inode(uint32_t number) { return &m_inode_table[size_t(number - 1) * inode_size]; }

    Result<void> write_inode(const PlannedInode& planned) {
        InodeFields fields;
        fields.links = planned.links;
        if (planned.node) {
            fields.set_from(*planned.node);
        } else {  // the lost+found the tree did not have
            fields.mode = 040700;
            fields.set_times(m_plan.inodes.front().node->mtime);
        }
        std::vector<uint32_t> map;
        const TreeNode* node = planned.node;
        if (fields.is_directory()) {
            map = TRY(write_directory(planned));
            fields.size = uint64_t(map.size()) * block_size;
            m_used_dirs[(planned.number - 1) / m_geometry.inodes_per_group]++;
        } else if (node->type == NodeType::regular) {
            map = TRY(write_file_data(*node));
            fields.size = node->size;
        } else if (node->type == NodeType::symlink) {
            fields.size = node->symlink_target.size();
            if (planned.data_blocks == 0)
                fields.set_fast_symlink(node->symlink_target);
            else
                map = {TRY(write_padded_block(node->symlink_target))};
        } else if (node->type == NodeType::char_device || node->type == NodeType::block_device) {
            fields.set_device(node->rdev_major, node->rdev_minor);
        }
        if (!map.empty())
            TRY(write_block_map(map, fields));
        encode_inode(fields, raw_inode(planned.number));
        return {};
    }

    Result<uint32_t> write_padded_block(std::string_view bytes) {
        std::vector<uint8_t> block(block_size, 0);
        std::copy(bytes.begin(), bytes.end(), block.begin());
        uint32_t number = TRY(allocate_block());
        TRY(m_sink.write(number, block));
        return number;
    }

    Result<std::vector<uint32_t>> write_directory(const PlannedInode& planned) {
        std::vector<size_t> starts = pack_directory(planned.entries);
        std::vector<uint32_t> map;
        std::vector<uint8_t> block(block_size);
        for (size_t b = 0; b < planned.data_blocks; ++b) {
            std::fill(block.begin(), block.end(), 0);
            size_t first = b < starts.size() ? starts[b] : planned.entries.size();
            size_t end = b + 1 < starts.size() ? starts[b + 1] : planned.entries.size();
            if (b >= starts.size())
                end = first;
            encode_directory_block(planned.entries, first, end, block.data());
            map.push_back(TRY(allocate_block()));
            TRY(m_sink.write(map.back(), block));
        }
        return map;
    }

    // Copies a file's bytes; all-zero blocks become holes, as mke2fs -d does.
    Result<std::vector<uint32_t>> write_file_data(const TreeNode& node) {
        std::vector<uint32_t> map(divide_round_up(node.size, block_size), 0);
        if (map.empty())
            return map;
        auto file = TRY(node.content->open());
        std::vector<uint8_t> chunk(mib);
        for (uint64_t offset = 0; offset < node.size; offset += chunk.size()) {
            uint64_t length = std::min<uint64_t>(chunk.size(), node.size - offset);
            auto read = file->read_at(offset, std::span(chunk).first(length));
            if (read.is_error())
                return read.release_error().with_context(node.source);
            std::fill(chunk.begin() + static_cast<ptrdiff_t>(length), chunk.end(), 0);
            for (uint64_t at = 0; at < length; at += block_size) {
                std::span<const uint8_t> block(chunk.data() + at, block_size);
                if (is_all_zero(block))
                    continue;
                uint32_t number = TRY(allocate_block());
                map[(offset + at) / block_size] = number;
                TRY(m_sink.write(number, block));
            }
            report_progress(length);
        }
        return map;
    }

    void report_progress(uint64_t bytes) {
        m_done_bytes += bytes;
        if (m_options.progress)
            m_options.progress(m_done_bytes, m_total_bytes);
    }

    Result<void> write_block_map(const std::vector<uint32_t>& map, InodeFields& fields) {
        uint64_t owned_blocks = 0;  // data and mapping blocks, for i_blocks
        for (uint32_t i = 0; i < direct_blocks && i < map.size(); ++i)
            fields.block[i] = map[i];
        uint64_t first = direct_blocks;
        uint64_t span = pointers_per_block;
        for (int level = 1; level <= 3; ++level) {
            fields.block[direct_blocks + level - 1] =
                TRY(write_mapping_block(map, first, level, owned_blocks));
            first += span;
            span *= pointers_per_block;
        }
        for (uint32_t block : map)
            owned_blocks += block != 0;
        fields.blocks_512 = owned_blocks * (block_size / 512);
        return {};
    }

    // The mapping block of `level` (1 = single indirect) for the logical blocks
    // from `first`; 0 when they are all holes. Counts the mapping blocks made.
    Result<uint32_t> write_mapping_block(const std::vector<uint32_t>& map, uint64_t first,
                                         int level, uint64_t& mapping_blocks) {
        uint64_t child_span = 1;
        for (int i = 1; i < level; ++i)
            child_span *= pointers_per_block;
        uint64_t end = std::min<uint64_t>(map.size(), first + child_span * pointers_per_block);
        if (first >= end || std::all_of(map.begin() + static_cast<ptrdiff_t>(first),
                                        map.begin() + static_cast<ptrdiff_t>(end),
                                        [](uint32_t b) { return b == 0; }))
            return 0;
        std::vector<uint8_t> block(block_size, 0);
        for (uint32_t i = 0; i < pointers_per_block; ++i) {
            uint64_t child = first + i * child_span;
            if (child >= end)
                break;
            uint32_t pointer =
                level == 1 ? map[child]
                           : TRY(write_mapping_block(map, child, level - 1, mapping_blocks));
            store_le<uint32_t>(&block[i * 4], pointer);
        }
        uint32_t number = TRY(allocate_block());
        TRY(m_sink.write(number, block));
        mapping_blocks++;
        return number;
    }

    const Plan& m_plan;
    const Geometry& m_geometry;
    RandomAccessFile& m_out;
    const Ext2BuildOptions& m_options;
    BlockRunWriter m_sink;
    std::vector<uint8_t> m_inode_table;
    std::vector<uint8_t> m_block_bitmap;
    std::vector<uint32_t> m_used_dirs;
    uint32_t m_cursor = 0;
    uint64_t m_used_blocks = 0;
    uint64_t m_total_bytes = 0;
    uint64_t m_done_bytes = 0;
};

uint64_t default_inode_count(const Plan& plan, uint64_t size_bytes) {
    uint64_t used = plan.highest_inode;
    // Room for the program to create files at run time, as mke2fs's inode ratio.
    return std::max<uint64_t>(used + used / 4 + 64, size_bytes / 16384);
}

Result<Geometry> geometry_for(const Plan& plan, uint64_t size_bytes) {
    uint64_t blocks = size_bytes / block_size;
    for (uint64_t inodes : {default_inode_count(plan, size_bytes), uint64_t(plan.highest_inode)}) {
        auto geometry = Geometry::compute(blocks, inodes);
        if (!geometry.is_error() && geometry.value().data_capacity_blocks() >= plan.content_blocks)
            return geometry;
    }
    return Error(ENOSPC, "too small");
}

uint64_t required_bytes(const Plan& plan) {
    uint64_t blocks = plan.content_blocks + 64;
    for (;;) {
        auto geometry = Geometry::compute(blocks, plan.highest_inode);
        if (!geometry.is_error()) {
            uint64_t capacity = geometry.value().data_capacity_blocks();
            if (capacity >= plan.content_blocks && geometry.value().blocks_count == blocks)
                return blocks * block_size;
            blocks += std::max<uint64_t>(
                plan.content_blocks - std::min(capacity, plan.content_blocks), 16);
        } else {
            blocks += std::max<uint64_t>(blocks / 16, 16);
        }
    }
}

// "311296 bytes (304 KiB)", "9437184 bytes (9 MiB)": rounded up in the
// unit that tells two small sizes apart.
std::string describe_bytes(uint64_t bytes) {
    if (bytes < mib)
        return std::to_string(bytes) + " bytes (" + std::to_string(divide_round_up(bytes, 1024)) +
               " KiB)";
    return std::to_string(bytes) + " bytes (" + std::to_string(divide_round_up(bytes, mib)) +
           " MiB)";
}

}  // namespace

Result<Ext2SizeEstimate> estimate_ext2_size(const TreeNode& root, uint64_t size_bytes) {
    Plan plan = TRY(Plan::create(root));
    Ext2SizeEstimate estimate;
    estimate.required_bytes = required_bytes(plan);
    estimate.default_bytes =
        std::max<uint64_t>(8 * mib, divide_round_up(estimate.required_bytes * 3 / 2, mib) * mib);
    uint64_t size = size_bytes ? size_bytes : estimate.default_bytes;
    estimate.inode_count = TRY(geometry_for(plan, size)).inodes_count();
    return estimate;
}

Result<Ext2Summary> write_ext2(const TreeNode& root, RandomAccessFile& out,
                               const Ext2BuildOptions& options) {
    Plan plan = TRY(Plan::create(root));
    uint64_t required = required_bytes(plan);
    uint64_t size = options.size_bytes;
    if (size == 0)
        size = std::max<uint64_t>(8 * mib, divide_round_up(required * 3 / 2, mib) * mib);
    auto geometry = geometry_for(plan, size);
    if (geometry.is_error() || size < required)
        return Error(ENOSPC, "the tree needs an ext2 image of at least " +
                                 describe_bytes(required) + "; the size asked for is " +
                                 describe_bytes(size));
    Ext2Writer writer(plan, geometry.value(), out, options);
    Ext2Summary summary = TRY(writer.write());
    if (TRY(out.size()) < summary.size_bytes)
        TRY(out.truncate(summary.size_bytes));
    return summary;
}

}  // namespace myst::image

#include "fuzz/fuzz_support.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace myst::fuzz {

MemoryBlockDevice::MemoryBlockDevice(std::span<const uint8_t> bytes, uint32_t block_size,
                                     uint64_t min_bytes)
    : m_bytes(bytes),
      m_block_size(block_size),
      m_block_count((std::max<uint64_t>(bytes.size(), min_bytes) + block_size - 1) / block_size) {}

Result<void> MemoryBlockDevice::read_blocks(uint64_t first, std::span<uint8_t> buffer) {
    TRY(blk::check_block_range(*this, first, buffer.size()));
    uint64_t offset = first * m_block_size;
    size_t stored =
        offset < m_bytes.size() ? std::min<uint64_t>(buffer.size(), m_bytes.size() - offset) : 0;
    if (stored > 0)  // an empty input has no data() to copy from
        std::memcpy(buffer.data(), m_bytes.data() + offset, stored);
    std::memset(buffer.data() + stored, 0, buffer.size() - stored);
    return {};
}

namespace {

class Walker {
public:
    explicit Walker(WalkBudget budget) : m_budget(budget) {}

    void visit(fs::Inode& inode, unsigned depth) {
        (void)inode.stat();
        if (inode.is_regular())
            read_file(inode);
        else if (inode.is_symlink())
            (void)inode.read_link();
        else if (inode.is_directory() && depth < m_budget.depth)
            visit_directory(inode, depth);
    }

private:
    void read_file(fs::Inode& inode) {
        uint64_t offset = 0;
        uint64_t file_budget = m_budget.bytes_per_file;
        while (file_budget > 0 && read_piece(inode, offset, file_budget)) {
        }
        auto stat = inode.stat();
        if (stat.is_error() || stat.value().st_size <= 0)
            return;
        uint64_t size = static_cast<uint64_t>(stat.value().st_size);
        for (uint64_t probe : {size / 2, size - std::min<uint64_t>(size, 4096)}) {
            uint64_t probe_budget = 4096;
            if (probe > offset)
                (void)read_piece(inode, probe, probe_budget);
        }
    }

    // Reads up to 64 KiB at `offset` within both budgets and moves `offset`
    // past it; false at the end, on an error or with a budget spent.
    bool read_piece(fs::Inode& inode, uint64_t& offset, uint64_t& file_budget) {
        size_t want = std::min({uint64_t(m_buffer.size()), m_budget.bytes, file_budget});
        if (want == 0)
            return false;
        auto read = inode.read_at(offset, std::span(m_buffer).first(want));
        if (read.is_error() || read.value() == 0)
            return false;
        m_budget.bytes -= read.value();
        file_budget -= read.value();
        offset += read.value();
        return true;
    }

    void visit_directory(fs::Inode& directory, unsigned depth) {
        std::vector<std::string> names;
        auto listed = directory.read_directory(0, [&](const fs::DirectoryEntry& entry) {
            if (names.size() >= m_budget.entries)
                return false;
            names.push_back(entry.name);
            return true;
        });
        (void)listed;
        for (const std::string& name : names) {
            if (m_budget.entries == 0)
                return;
            --m_budget.entries;
            if (name == "." || name == "..")
                continue;
            auto child = directory.lookup(name);
            if (!child.is_error())
                visit(*child.value(), depth + 1);
        }
    }

    WalkBudget m_budget;
    // One buffer per walk (each input), not per file.
    std::vector<uint8_t> m_buffer = std::vector<uint8_t>(64 * 1024);
};

}  // namespace

void walk_file_system(fs::FileSystem& file_system, WalkBudget budget) {
    Walker walker(budget);
    walker.visit(*file_system.root(), 0);
}

}  // namespace myst::fuzz

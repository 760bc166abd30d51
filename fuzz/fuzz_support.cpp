#include "fuzz/fuzz_support.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace myst::fuzz {

MemoryBlockDevice::MemoryBlockDevice(std::span<const uint8_t> bytes, uint32_t block_size,
                                     uint64_t min_bytes)
    : m_bytes(bytes.begin(), bytes.end()),
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
        std::vector<uint8_t> buffer(64 * 1024);
        uint64_t offset = 0;
        while (m_budget.bytes > 0) {
            size_t want = std::min<uint64_t>(buffer.size(), m_budget.bytes);
            auto read = inode.read_at(offset, std::span(buffer).first(want));
            if (read.is_error() || read.value() == 0)
                return;
            m_budget.bytes -= read.value();
            offset += read.value();
        }
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
};

}  // namespace

void walk_file_system(fs::FileSystem& file_system, WalkBudget budget) {
    Walker walker(budget);
    walker.visit(*file_system.root(), 0);
}

}  // namespace myst::fuzz

#include "image/ext2_plan.h"

namespace myst::image::ext2 {

namespace {

constexpr uint32_t lost_and_found_blocks = 4;  // 16 KiB, as mke2fs makes it
constexpr uint64_t max_file_blocks =
    direct_blocks + uint64_t(pointers_per_block) +
    uint64_t(pointers_per_block) * pointers_per_block +
    uint64_t(pointers_per_block) * pointers_per_block * pointers_per_block;

uint64_t divide_round_up(uint64_t value, uint64_t divisor) {
    return (value + divisor - 1) / divisor;
}

class Planner {
public:
    Result<Plan> run(const TreeNode& root) {
        const TreeNode* lost_and_found = nullptr;
        for (const TreeNode& child : root.children)
            if (child.name == "lost+found" && child.is_directory())
                lost_and_found = &child;
        m_numbers[&root] = root_inode;
        if (lost_and_found)
            m_numbers[lost_and_found] = first_regular_inode;
        m_next = first_regular_inode + 1;
        TRY(number_children(root));
        // Sized once, so references into it stay valid while directories recurse.
        m_by_number.resize(m_next);
        TRY(plan_directory(root, root_inode, root_inode));
        if (!lost_and_found)
            plan_empty_lost_and_found();
        m_plan.highest_inode = m_next - 1;
        finish();
        return std::move(m_plan);
    }

private:
    // Hard links share the first occurrence's number.
    uint32_t number_of(const TreeNode& node) {
        if (node.link_group) {
            auto [it, inserted] = m_link_groups.try_emplace(node.link_group, m_next);
            if (!inserted) {
                m_numbers[&node] = it->second;
                return it->second;
            }
        }
        m_numbers[&node] = m_next;
        return m_next++;
    }

    Result<void> number_children(const TreeNode& directory) {
        for (const TreeNode& child : directory.children) {
            if (child.name.empty() || child.name.size() > max_name_length)
                return Error(ENAMETOOLONG, child.source + ": name of " +
                                               std::to_string(child.name.size()) +
                                               " bytes; ext2 allows 1 to 255");
            if (child.name.find('/') != std::string::npos || child.name == "." ||
                child.name == "..")
                return Error::invalid(child.source + ": not a valid file name for ext2");
            if (!m_numbers.contains(&child))
                number_of(child);
        }
        for (const TreeNode& child : directory.children)
            if (child.is_directory())
                TRY(number_children(child));
        return {};
    }

    PlannedInode& slot(uint32_t number) {
        m_by_number[number].number = number;
        return m_by_number[number];
    }

    Result<void> plan_directory(const TreeNode& directory, uint32_t number, uint32_t parent) {
        PlannedInode& inode = slot(number);
        inode.node = &directory;
        inode.links = 2;
        inode.entries.push_back({number, DirentType::directory, "."});
        inode.entries.push_back({parent, DirentType::directory, ".."});
        for (const TreeNode& child : directory.children) {
            uint32_t child_number = m_numbers.at(&child);
            inode.entries.push_back({child_number, dirent_type_of(child.type), child.name});
            if (child.is_directory()) {
                inode.links++;
                TRY(plan_directory(child, child_number, number));
            } else {
                TRY(plan_leaf(child, child_number));
            }
        }
        inode.data_blocks = pack_directory(inode.entries).size();
        return {};
    }

    Result<void> plan_leaf(const TreeNode& node, uint32_t number) {
        PlannedInode& inode = slot(number);
        if (inode.node) {  // another name of a hard-linked inode
            inode.links++;
            return {};
        }
        inode.node = &node;
        if (node.type == NodeType::regular) {
            inode.data_blocks = divide_round_up(node.size, block_size);
            if (inode.data_blocks > max_file_blocks)
                return Error(EFBIG, node.source + ": file too large for ext2 with 4 KiB blocks");
        } else if (node.type == NodeType::symlink) {
            if (node.symlink_target.empty() || node.symlink_target.size() >= block_size)
                return Error(ENAMETOOLONG, node.source + ": symlink target of " +
                                               std::to_string(node.symlink_target.size()) +
                                               " bytes; ext2 allows 1 to 4095");
            inode.data_blocks = node.symlink_target.size() > fast_symlink_max ? 1 : 0;
        }
        return {};
    }

    void plan_empty_lost_and_found() {
        PlannedInode& inode = slot(first_regular_inode);
        inode.node = nullptr;
        inode.links = 2;
        inode.entries = {{first_regular_inode, DirentType::directory, "."},
                         {root_inode, DirentType::directory, ".."}};
        inode.data_blocks = lost_and_found_blocks;
        PlannedInode& root = slot(root_inode);
        root.links++;
        root.entries.push_back({first_regular_inode, DirentType::directory, "lost+found"});
    }

    void finish() {
        for (PlannedInode& inode : m_by_number) {
            if (inode.number == 0)
                continue;
            inode.indirect_blocks = indirect_blocks_for(inode.data_blocks);
            m_plan.content_blocks += inode.data_blocks + inode.indirect_blocks;
            m_plan.inodes.push_back(std::move(inode));
        }
    }

    Plan m_plan;
    std::unordered_map<const TreeNode*, uint32_t> m_numbers;
    std::unordered_map<uint64_t, uint32_t> m_link_groups;
    std::vector<PlannedInode> m_by_number;
    uint32_t m_next = 0;
};

}  // namespace

Result<Plan> Plan::create(const TreeNode& root) {
    if (!root.is_directory())
        return Error(ENOTDIR, root.source + ": the root of an image must be a directory");
    return Planner().run(root);
}

std::vector<size_t> pack_directory(const std::vector<DirectoryEntry>& entries) {
    std::vector<size_t> block_starts;
    uint32_t used = block_size;
    for (size_t i = 0; i < entries.size(); ++i) {
        uint32_t size = dirent_size(static_cast<uint32_t>(entries[i].name.size()));
        if (used + size > block_size) {
            block_starts.push_back(i);
            used = 0;
        }
        used += size;
    }
    return block_starts;
}

uint64_t indirect_blocks_for(uint64_t blocks) {
    const uint64_t p = pointers_per_block;
    uint64_t total = 0;
    if (blocks <= direct_blocks)
        return 0;
    blocks -= direct_blocks;
    total += 1;  // single indirect
    if (blocks <= p)
        return total;
    blocks -= p;
    uint64_t in_double = blocks < p * p ? blocks : p * p;
    total += 1 + divide_round_up(in_double, p);
    blocks -= in_double;
    if (blocks == 0)
        return total;
    total += 1 + divide_round_up(blocks, p * p) + divide_round_up(blocks, p);
    return total;
}

DirentType dirent_type_of(NodeType type) {
    switch (type) {
        case NodeType::regular:
            return DirentType::regular;
        case NodeType::directory:
            return DirentType::directory;
        case NodeType::symlink:
            return DirentType::symlink;
        case NodeType::char_device:
            return DirentType::char_device;
        case NodeType::block_device:
            return DirentType::block_device;
        case NodeType::fifo:
            return DirentType::fifo;
        case NodeType::socket:
            return DirentType::socket;
    }
    return DirentType::unknown;
}

}  // namespace myst::image::ext2

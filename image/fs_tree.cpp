#include "image/fs_tree.h"

#include <sys/stat.h>

namespace myst::image {

uint32_t TreeNode::file_type_bits() const {
    switch (type) {
        case NodeType::regular:
            return S_IFREG;
        case NodeType::directory:
            return S_IFDIR;
        case NodeType::symlink:
            return S_IFLNK;
        case NodeType::char_device:
            return S_IFCHR;
        case NodeType::block_device:
            return S_IFBLK;
        case NodeType::fifo:
            return S_IFIFO;
        case NodeType::socket:
            return S_IFSOCK;
    }
    return 0;
}

uint64_t count_nodes(const TreeNode& root) {
    uint64_t count = 1;
    for (const TreeNode& child : root.children)
        count += count_nodes(child);
    return count;
}

}  // namespace myst::image

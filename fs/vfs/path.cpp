#include "fs/vfs/path.h"

#include <vector>

namespace myst::fs {

bool PathNode::is_within(const PathNode& ancestor) const {
    for (const PathNode* node = this; node; node = node->m_parent.get()) {
        if (node->same_as(ancestor))
            return true;
    }
    return false;
}

std::string PathNode::to_string(const PathNode* root) const {
    std::vector<const std::string*> names;
    for (const PathNode* node = this; node && node->m_parent; node = node->m_parent.get()) {
        if (root && node->same_as(*root))
            break;
        names.push_back(&node->m_name);
    }
    if (names.empty())
        return "/";
    std::string path;
    for (auto it = names.rbegin(); it != names.rend(); ++it) {
        path += '/';
        path += **it;
    }
    return path;
}

}  // namespace myst::fs

#include "image/layer_merge.h"

#include <unordered_map>

namespace myst::image {

namespace {

constexpr std::string_view whiteout_prefix = ".wh.";
constexpr std::string_view opaque_marker = ".wh..wh..opq";
constexpr int max_symlink_hops = 40;  // Linux's MAXSYMLINKS

struct Inode {
    uint64_t number = 0;
    NodeType type = NodeType::directory;
    uint32_t permissions = 0755;
    uint32_t uid = 0;
    uint32_t gid = 0;
    Timestamp mtime;
    uint64_t size = 0;
    std::shared_ptr<const FileContent> content;
    std::string symlink_target;
    uint32_t rdev_major = 0;
    uint32_t rdev_minor = 0;
};

NodeType node_type_of(TarEntryType type) {
    switch (type) {
        case TarEntryType::directory:
            return NodeType::directory;
        case TarEntryType::symlink:
            return NodeType::symlink;
        case TarEntryType::char_device:
            return NodeType::char_device;
        case TarEntryType::block_device:
            return NodeType::block_device;
        case TarEntryType::fifo:
            return NodeType::fifo;
        default:
            return NodeType::regular;
    }
}

std::string join(const std::vector<std::string>& components, size_t count) {
    std::string path;
    for (size_t i = 0; i < count; i++)
        path += (i ? "/" : "") + components[i];
    return path;
}

// A relative symlink at depth `depth` (components above it) must not climb
// above the root; an absolute one is resolved inside the image's root.
bool symlink_stays_inside(const std::string& target, size_t depth) {
    if (target.starts_with('/'))
        return true;
    int64_t level = static_cast<int64_t>(depth);
    size_t start = 0;
    while (start <= target.size()) {
        size_t slash = target.find('/', start);
        if (slash == std::string::npos)
            slash = target.size();
        std::string_view part(target.data() + start, slash - start);
        start = slash + 1;
        if (part == "..") {
            if (--level < 0)
                return false;
        } else if (!part.empty() && part != ".") {
            level++;
        }
    }
    return true;
}

}  // namespace

struct MergedTree::Node {
    std::shared_ptr<Inode> inode;
    std::map<std::string, std::unique_ptr<Node>> children;
    uint32_t layer = 0;  // the layer that last declared this node

    bool is_directory() const { return inode->type == NodeType::directory; }
};

namespace {

using Node = MergedTree::Node;

std::unique_ptr<Node> make_directory(uint64_t number, uint32_t layer) {
    auto node = std::make_unique<Node>();
    node->inode = std::make_shared<Inode>();
    node->inode->number = number;
    node->layer = layer;
    return node;
}

// What an opaque directory hides: everything below it that came from a
// lower layer, also inside subdirectories this layer re-declared.
void remove_lower_entries(Node& directory, uint32_t layer) {
    for (auto it = directory.children.begin(); it != directory.children.end();) {
        if (it->second->layer < layer) {
            it = directory.children.erase(it);
            continue;
        }
        if (it->second->is_directory())
            remove_lower_entries(*it->second, layer);
        ++it;
    }
}

void count_links(const Node& node, std::unordered_map<uint64_t, uint32_t>& links) {
    links[node.inode->number]++;
    for (const auto& [name, child] : node.children)
        count_links(*child, links);
}

TreeNode tree_node_of(const Node& node, const std::string& name,
                      const std::unordered_map<uint64_t, uint32_t>& links) {
    const Inode& inode = *node.inode;
    TreeNode tree;
    tree.name = name;
    tree.type = inode.type;
    tree.permissions = inode.permissions;
    tree.uid = inode.uid;
    tree.gid = inode.gid;
    tree.atime = tree.mtime = tree.ctime = inode.mtime;
    tree.size = inode.size;
    tree.content = inode.content;
    tree.symlink_target = inode.symlink_target;
    tree.rdev_major = inode.rdev_major;
    tree.rdev_minor = inode.rdev_minor;
    if (!node.is_directory() && links.at(inode.number) > 1)
        tree.link_group = inode.number;
    for (const auto& [child_name, child] : node.children)
        tree.children.push_back(tree_node_of(*child, child_name, links));
    return tree;
}

}  // namespace

Result<std::shared_ptr<const FileContent>> MemoryContentStore::store(TarReader& reader,
                                                                     uint64_t size) {
    std::vector<uint8_t> bytes(size);
    size_t done = 0;
    while (done < bytes.size()) {
        size_t n = TRY(reader.read_data(std::span(bytes).subspan(done)));
        if (n == 0)
            return Error::invalid(reader.source() + ": file data ends early");
        done += n;
    }
    return std::shared_ptr<const FileContent>(std::make_shared<MemoryContent>(std::move(bytes)));
}

MergedTree::MergedTree() : m_root(make_directory(m_next_inode++, 0)) {}
MergedTree::~MergedTree() = default;

Result<void> MergedTree::apply_layer(TarReader& reader, ContentStore& store, LayerStats& stats) {
    m_layer++;
    while (auto entry = TRY(reader.next())) {
        stats.entries++;
        auto applied = apply_entry(*entry, reader, store, stats);
        if (applied.is_error())
            return applied.release_error().with_context(reader.source());
    }
    return {};
}

Result<void> MergedTree::apply_entry(const TarEntry& entry, TarReader& reader, ContentStore& store,
                                     LayerStats& stats) {
    std::vector<std::string> path = TRY(tar_path_components(entry.name));
    bool is_whiteout = !path.empty() && path.back().starts_with(whiteout_prefix);

    // The parent directory; made when missing (tar may omit directory entries)
    // unless the entry is a whiteout, which has nothing to delete then.
    Node* parent = m_root.get();
    size_t parent_depth = path.empty() ? 0 : path.size() - 1;
    for (size_t i = 0; i < parent_depth; i++) {
        auto it = parent->children.find(path[i]);
        if (it == parent->children.end()) {
            if (is_whiteout)
                return {};
            it = parent->children.emplace(path[i], make_directory(m_next_inode++, m_layer)).first;
        }
        Node& child = *it->second;
        if (child.inode->type == NodeType::symlink)
            return Error::invalid(entry.name + ": passes through the symlink " + join(path, i + 1) +
                                  " (could lead outside the output)");
        if (!child.is_directory())
            return Error::invalid(entry.name + ": " + join(path, i + 1) + " is not a directory");
        // A directory this layer puts something in is this layer's too: an
        // opaque marker later in the same layer keeps it (and what this layer
        // added), whatever the order of the entries.
        if (!is_whiteout)
            child.layer = m_layer;
        parent = &child;
    }

    if (is_whiteout) {
        const std::string& base = path.back();
        stats.whiteouts++;
        if (base == opaque_marker) {
            remove_lower_entries(*parent, m_layer);
            return {};
        }
        if (base.starts_with(std::string(whiteout_prefix) + std::string(whiteout_prefix)))
            return {};  // other aufs metadata (.wh..wh.plnk, ...): not part of the tree
        std::string hidden = base.substr(whiteout_prefix.size());
        if (hidden.empty() || hidden == "." || hidden == "..")
            return Error::invalid(entry.name + ": malformed whiteout");
        // Only lower layers are hidden; this layer's own entries stay.
        auto it = parent->children.find(hidden);
        if (it != parent->children.end() && it->second->layer < m_layer)
            parent->children.erase(it);
        return {};
    }

    if (!entry.xattr_names.empty()) {
        if (stats.dropped_xattrs == 0)
            stats.first_dropped_xattr = entry.xattr_names.front() + " on " + entry.name;
        stats.dropped_xattrs += entry.xattr_names.size();
    }

    if (path.empty()) {  // "./": the root directory's own metadata
        if (entry.type != TarEntryType::directory)
            return Error::invalid(entry.name + ": the root is not a directory");
        Inode& root = *m_root->inode;
        root.permissions = entry.permissions;
        root.uid = entry.uid;
        root.gid = entry.gid;
        root.mtime = entry.mtime;
        return {};
    }

    const std::string& base = path.back();
    if (entry.type == TarEntryType::hard_link) {
        auto target_path = tar_path_components(entry.link_name);
        if (target_path.is_error() || target_path.value().empty())
            return Error::invalid(entry.name + ": hard link to '" + entry.link_name +
                                  "' leads outside the output");
        const Node* target = m_root.get();
        for (const std::string& part : target_path.value()) {
            auto it = target->is_directory() ? target->children.find(part) : target->children.end();
            if (it == target->children.end()) {
                target = nullptr;
                break;
            }
            target = it->second.get();
        }
        if (!target)
            return Error::invalid(entry.name + ": hard link to " + entry.link_name +
                                  ", which is not in the image before it");
        if (target->is_directory())
            return Error::invalid(entry.name + ": hard link to the directory " + entry.link_name);
        auto node = std::make_unique<Node>();
        node->inode = target->inode;
        node->layer = m_layer;
        parent->children[base] = std::move(node);
        return {};
    }
    if (entry.type == TarEntryType::symlink &&
        (entry.link_name.empty() || !symlink_stays_inside(entry.link_name, parent_depth)))
        return Error::invalid(entry.name + ": symlink to '" + entry.link_name +
                              "' leads outside the output");

    auto existing = parent->children.find(base);
    if (entry.type == TarEntryType::directory && existing != parent->children.end() &&
        existing->second->is_directory()) {
        Node& slot = *existing->second;
        Inode& inode = *slot.inode;  // directories merge with the layers below
        inode.permissions = entry.permissions;
        inode.uid = entry.uid;
        inode.gid = entry.gid;
        inode.mtime = entry.mtime;
        slot.layer = m_layer;
        return {};
    }
    auto node = std::make_unique<Node>();
    node->layer = m_layer;
    node->inode = std::make_shared<Inode>();
    Inode& inode = *node->inode;
    inode.number = m_next_inode++;
    inode.type = node_type_of(entry.type);
    inode.permissions = entry.permissions;
    inode.uid = entry.uid;
    inode.gid = entry.gid;
    inode.mtime = entry.mtime;
    inode.rdev_major = entry.dev_major;
    inode.rdev_minor = entry.dev_minor;
    if (entry.type == TarEntryType::symlink)
        inode.symlink_target = entry.link_name;
    if (entry.type == TarEntryType::regular) {
        inode.size = entry.size;
        inode.content = TRY(store.store(reader, entry.size));
    }
    parent->children[base] = std::move(node);
    return {};
}

TreeNode MergedTree::to_tree() const {
    std::unordered_map<uint64_t, uint32_t> links;
    count_links(*m_root, links);
    return tree_node_of(*m_root, "", links);
}

bool MergedTree::is_file(const std::string& path) const {
    std::vector<std::string> pending;  // components still to walk, last first
    auto push_components = [&](const std::string& text) {
        std::vector<std::string> parts;
        size_t start = 0;
        while (start <= text.size()) {
            size_t slash = text.find('/', start);
            if (slash == std::string::npos)
                slash = text.size();
            if (slash > start)
                parts.push_back(text.substr(start, slash - start));
            start = slash + 1;
        }
        pending.insert(pending.end(), parts.rbegin(), parts.rend());
    };
    push_components(path);
    std::vector<const Node*> stack{m_root.get()};
    int hops = 0;
    while (!pending.empty()) {
        std::string part = std::move(pending.back());
        pending.pop_back();
        if (part == ".")
            continue;
        if (part == "..") {
            if (stack.size() > 1)
                stack.pop_back();
            continue;
        }
        const Node* directory = stack.back();
        if (!directory->is_directory())
            return false;
        auto it = directory->children.find(part);
        if (it == directory->children.end())
            return false;
        const Node* child = it->second.get();
        if (child->inode->type == NodeType::symlink) {
            if (++hops > max_symlink_hops)
                return false;
            if (child->inode->symlink_target.starts_with('/'))
                stack.resize(1);
            push_components(child->inode->symlink_target);
            continue;
        }
        stack.push_back(child);
    }
    return stack.back()->inode->type == NodeType::regular;
}

}  // namespace myst::image

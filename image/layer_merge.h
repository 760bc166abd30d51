// Container image layers applied in order to one file tree, with the OCI
// image spec's rules: a later entry replaces an earlier one (directories
// merge), `.wh.NAME` deletes NAME from the layers below, `.wh..wh..opq`
// hides everything the layers below put in its directory, and hard links
// share one inode. Names that could leave the tree (absolute, "..", through
// a symlink) and relative symlinks that climb above the root are errors
// naming the entry, so an unpacked image never reaches outside its output.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "image/fs_tree.h"
#include "image/tar_reader.h"

namespace myst::image {

// Where regular files' bytes go while the layers are read: the tools keep
// them in files beside the output, the tests in memory.
class ContentStore {
public:
    virtual ~ContentStore() = default;
    // Reads the current entry's `size` bytes from `reader` and keeps them.
    virtual Result<std::shared_ptr<const FileContent>> store(TarReader& reader, uint64_t size) = 0;
};

class MemoryContentStore final : public ContentStore {
public:
    Result<std::shared_ptr<const FileContent>> store(TarReader& reader, uint64_t size) override;
};

struct LayerStats {
    uint64_t entries = 0;
    uint64_t whiteouts = 0;
    uint64_t dropped_xattrs = 0;
    std::string first_dropped_xattr;  // "security.capability on usr/bin/ping"
};

class MergedTree {
public:
    MergedTree();
    ~MergedTree();

    // Applies every entry of one layer; `layer` counts from 1, in order.
    Result<void> apply_layer(TarReader& reader, ContentStore& store, LayerStats& stats);

    // The tree for the image writers: children sorted, hard links as link groups.
    TreeNode to_tree() const;

    // Whether `path` (absolute, inside the image) names a non-directory,
    // following symlinks inside the tree as the image's kernel would.
    bool is_file(const std::string& path) const;

    struct Node;

private:
    Result<void> apply_entry(const TarEntry& entry, TarReader& reader, ContentStore& store,
                             LayerStats& stats);
    uint32_t m_layer = 0;
    uint64_t m_next_inode = 1;
    std::unique_ptr<Node> m_root;  // after m_next_inode: it takes inode 1
};

}  // namespace myst::image

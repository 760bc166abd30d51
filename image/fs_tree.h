// The input of the image writers: a directory tree with everything a file
// system stores about each entry. The tools build it from a host directory;
// tests build it in memory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "image/io.h"

namespace myst::image {

enum class NodeType { regular, directory, symlink, char_device, block_device, fifo, socket };

struct Timestamp {
    int64_t seconds = 0;
    uint32_t nanoseconds = 0;
};

// Where a regular file's bytes come from, opened only while they are copied
// so that a large tree never holds many host descriptors.
class FileContent {
public:
    virtual ~FileContent() = default;
    virtual Result<std::unique_ptr<RandomAccessFile>> open() const = 0;
};

class MemoryContent final : public FileContent {
public:
    explicit MemoryContent(std::vector<uint8_t> bytes) : m_bytes(std::move(bytes)) {}
    Result<std::unique_ptr<RandomAccessFile>> open() const override {
        return std::unique_ptr<RandomAccessFile>(std::make_unique<MemoryFile>(m_bytes));
    }

private:
    std::vector<uint8_t> m_bytes;
};

struct TreeNode {
    std::string name;  // one path component; empty for the root
    NodeType type = NodeType::regular;
    uint32_t permissions = 0644;  // the 07777 bits of st_mode
    uint32_t uid = 0;
    uint32_t gid = 0;
    Timestamp atime, mtime, ctime;
    uint64_t size = 0;                           // regular files: content bytes
    std::shared_ptr<const FileContent> content;  // regular files
    std::string symlink_target;                  // symlinks
    uint32_t rdev_major = 0;                     // devices
    uint32_t rdev_minor = 0;
    // Non-zero: this node is a hard link of every other node with the same
    // link_group (the writers that support hard links share one inode).
    uint64_t link_group = 0;
    std::vector<TreeNode> children;  // directories: sorted by name, bytewise
    std::string source;              // where it came from, for error messages

    bool is_directory() const { return type == NodeType::directory; }
    // The st_mode file-type bits (S_IFREG, S_IFDIR, ...) of this node.
    uint32_t file_type_bits() const;
    uint32_t mode() const { return file_type_bits() | (permissions & 07777); }
};

// Number of nodes in the tree, the root included.
uint64_t count_nodes(const TreeNode& root);

}  // namespace myst::image

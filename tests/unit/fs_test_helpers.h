// Helpers shared by the VFS unit tests: a clock the tests move by hand,
// in-memory trees for CPIO images, and whole-file I/O through the VFS.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "fs/ramfs/ramfs.h"
#include "fs/vfs/vfs.h"
#include "image/cpio.h"
#include "image/fs_tree.h"

namespace myst::test {

// A clock that stays where the test puts it.
struct ManualClock {
    std::shared_ptr<struct timespec> now = std::make_shared<struct timespec>(timespec{1000, 0});
    fs::Clock clock() const {
        auto shared = now;
        return [shared]() { return *shared; };
    }
    void advance(time_t seconds) { now->tv_sec += seconds; }
};

// The errno of a failed Result, or 0 when it succeeded.
template <typename T>
int error_code(const Result<T>& result) {
    return result.is_error() ? result.error().code() : 0;
}

inline image::TreeNode tree_dir(std::string name, std::vector<image::TreeNode> children = {},
                                uint32_t permissions = 0755) {
    image::TreeNode node;
    node.name = std::move(name);
    node.type = image::NodeType::directory;
    node.permissions = permissions;
    node.mtime.seconds = 0x5f000000;
    node.children = std::move(children);
    return node;
}

inline image::TreeNode tree_file(std::string name, std::string_view text,
                                 uint32_t permissions = 0644) {
    image::TreeNode node;
    node.name = std::move(name);
    node.type = image::NodeType::regular;
    node.permissions = permissions;
    node.mtime.seconds = 0x5f000000;
    node.size = text.size();
    node.content =
        std::make_shared<image::MemoryContent>(std::vector<uint8_t>(text.begin(), text.end()));
    return node;
}

inline image::TreeNode tree_symlink(std::string name, std::string target) {
    image::TreeNode node;
    node.name = std::move(name);
    node.type = image::NodeType::symlink;
    node.permissions = 0777;
    node.mtime.seconds = 0x5f000000;
    node.symlink_target = std::move(target);
    return node;
}

inline std::vector<uint8_t> cpio_of(const image::TreeNode& root) {
    image::MemoryFile out;
    auto written = image::write_cpio(root, out);
    EXPECT_FALSE(written.is_error()) << written.error().message();
    return out.bytes();
}

inline Result<std::shared_ptr<fs::FileSystem>> ramfs_of(const image::TreeNode& root,
                                                        fs::Clock clock) {
    image::MemoryFile archive(cpio_of(root));
    return fs::create_ramfs_from_cpio(archive, std::move(clock));
}

// Whole-file helpers through the VFS, as root from "/".
inline Result<void> write_text(const fs::Vfs& vfs, const std::string& path, std::string_view text,
                               int flags = O_WRONLY | O_CREAT | O_TRUNC) {
    auto file = TRY(vfs.open(vfs.root_lookup(), path, flags, 0644));
    size_t done = TRY(file->write({reinterpret_cast<const uint8_t*>(text.data()), text.size()}));
    if (done != text.size())
        return Error(EIO, "short write");
    return {};
}

inline Result<std::string> read_all(fs::OpenFile& file) {
    std::string text;
    uint8_t buffer[1000];
    for (;;) {
        size_t count = TRY(file.read(buffer));
        if (count == 0)
            return text;
        text.append(reinterpret_cast<const char*>(buffer), count);
    }
}

inline Result<std::string> read_text(const fs::Vfs& vfs, const std::string& path) {
    auto file = TRY(vfs.open(vfs.root_lookup(), path, O_RDONLY, 0));
    return read_all(*file);
}

// The names a directory lists through getdents64, "." and ".." included.
inline Result<std::vector<std::string>> list_names(const fs::Vfs& vfs, const std::string& path) {
    auto dir = TRY(vfs.open(vfs.root_lookup(), path, O_RDONLY | O_DIRECTORY, 0));
    std::vector<std::string> names;
    std::vector<uint8_t> buffer(4096);
    for (;;) {
        size_t used = TRY(dir->read_directory(buffer, fs::DirentFormat::linux_dirent64));
        if (used == 0)
            return names;
        for (size_t at = 0; at < used;) {
            uint16_t size = static_cast<uint16_t>(buffer[at + 16] | (buffer[at + 17] << 8));
            names.emplace_back(reinterpret_cast<const char*>(&buffer[at + 19]));
            at += size;
        }
    }
}

}  // namespace myst::test

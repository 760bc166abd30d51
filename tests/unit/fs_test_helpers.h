// Helpers shared by the VFS unit tests: a clock the tests move by hand,
// in-memory trees for CPIO images, a VFS to run them on, and whole-file I/O
// and stat through the VFS.
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

// A memory charge of at most `limit` bytes that keeps the sum in `charged`.
class CountingCharge final : public MemoryCharge {
public:
    CountingCharge(int64_t& charged, int64_t limit) : m_charged(charged), m_limit(limit) {}
    bool take(uint64_t bytes) override {
        if (m_charged + static_cast<int64_t>(bytes) > m_limit)
            return false;
        m_charged += static_cast<int64_t>(bytes);
        return true;
    }
    void give_back(uint64_t bytes) override { m_charged -= static_cast<int64_t>(bytes); }
    uint64_t available() const override { return static_cast<uint64_t>(m_limit - m_charged); }
    uint64_t capacity() const override { return static_cast<uint64_t>(m_limit); }

private:
    int64_t& m_charged;
    const int64_t m_limit;
};

// A node of `type` with the fixed mtime every tree here uses.
inline image::TreeNode tree_node(std::string name, image::NodeType type, uint32_t permissions) {
    image::TreeNode node;
    node.name = std::move(name);
    node.type = type;
    node.permissions = permissions;
    node.mtime.seconds = 0x5f000000;
    return node;
}

inline image::TreeNode tree_dir(std::string name, std::vector<image::TreeNode> children = {},
                                uint32_t permissions = 0755) {
    image::TreeNode node = tree_node(std::move(name), image::NodeType::directory, permissions);
    node.children = std::move(children);
    return node;
}

inline image::TreeNode tree_file(std::string name, std::string_view text,
                                 uint32_t permissions = 0644) {
    image::TreeNode node = tree_node(std::move(name), image::NodeType::regular, permissions);
    node.size = text.size();
    node.content =
        std::make_shared<image::MemoryContent>(std::vector<uint8_t>(text.begin(), text.end()));
    return node;
}

inline image::TreeNode tree_symlink(std::string name, std::string target) {
    image::TreeNode node = tree_node(std::move(name), image::NodeType::symlink, 0777);
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

// A VFS with `root` as its root file system, stamped by `clock`; null (and
// a failed test) if it cannot be made.
inline std::unique_ptr<fs::Vfs> vfs_over(std::shared_ptr<fs::FileSystem> root,
                                         const ManualClock& clock) {
    auto vfs = fs::Vfs::create(std::move(root), clock.clock());
    EXPECT_FALSE(vfs.is_error()) << vfs.error().message();
    return vfs.is_error() ? nullptr : vfs.release_value();
}

// The same over an empty ramfs.
inline std::unique_ptr<fs::Vfs> vfs_over_ramfs(const ManualClock& clock) {
    return vfs_over(fs::create_ramfs(clock.clock()), clock);
}

// The helpers below work through the VFS as root from "/".

// Opens `path` (mode 0644 if it is created); null and a failed test if it
// cannot be opened.
inline std::shared_ptr<fs::OpenFile> open_file(const fs::Vfs& vfs, const std::string& path,
                                               int flags) {
    auto file = vfs.open(vfs.root_lookup(), path, flags, 0644);
    EXPECT_FALSE(file.is_error()) << path << ": " << file.error().message();
    return file.is_error() ? nullptr : file.release_value();
}

// The stat of `path` (`follow`: of what a final symlink points to); zeros
// and a failed test if it cannot be had.
inline struct stat stat_of(const fs::Vfs& vfs, const std::string& path, bool follow = true) {
    auto node = vfs.resolve(vfs.root_lookup(), path, follow);
    EXPECT_FALSE(node.is_error()) << path << ": " << node.error().message();
    if (node.is_error())
        return {};
    auto st = node.value()->inode()->stat();
    EXPECT_FALSE(st.is_error()) << path << ": " << st.error().message();
    return st.is_error() ? (struct stat){} : st.value();
}

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

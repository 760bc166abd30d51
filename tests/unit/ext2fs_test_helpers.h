// Helpers shared by the ext2 file-system tests: block devices over memory
// and over a (sparse) host file, images made by our writer and by mke2fs,
// e2fsck/debugfs on the device's bytes, and path walks through the Inode API.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "blk/block_device.h"
#include "fs/ext2/ext2fs.h"
#include "image/ext2_writer.h"
#include "image/fs_tree.h"
#include "tests/unit/fs_test_helpers.h"
#include "tests/unit/test_support.h"

namespace myst::test {

// A device over a vector; `block_size` need not match the file system's.
class MemoryDevice final : public blk::BlockDevice {
public:
    MemoryDevice(std::shared_ptr<std::vector<uint8_t>> bytes, uint32_t block_size = 512)
        : m_bytes(std::move(bytes)), m_block_size(block_size) {}

    uint32_t block_size() const override { return m_block_size; }
    uint64_t block_count() const override { return m_bytes->size() / m_block_size; }
    Result<void> read_blocks(uint64_t first, std::span<uint8_t> buffer) override {
        if (!in_range(first, buffer.size()))
            return Error(EIO, "read past the end of the memory device");
        std::memcpy(buffer.data(), m_bytes->data() + first * m_block_size, buffer.size());
        return {};
    }
    Result<void> write_blocks(uint64_t first, std::span<const uint8_t> data) override {
        if (!in_range(first, data.size()))
            return Error(EIO, "write past the end of the memory device");
        std::memcpy(m_bytes->data() + first * m_block_size, data.data(), data.size());
        ++writes;
        return {};
    }

    uint64_t writes = 0;

private:
    bool in_range(uint64_t first, size_t bytes) const {
        return bytes % m_block_size == 0 && first * m_block_size + bytes <= m_bytes->size();
    }

    std::shared_ptr<std::vector<uint8_t>> m_bytes;
    uint32_t m_block_size;
};

// A device over a host file with pread/pwrite (for images too large for memory).
class FileDevice final : public blk::BlockDevice {
public:
    explicit FileDevice(const std::string& path, uint32_t block_size = 4096)
        : m_fd(::open(path.c_str(), O_RDWR)), m_block_size(block_size) {
        if (m_fd >= 0)
            m_size = static_cast<uint64_t>(::lseek(m_fd, 0, SEEK_END));
    }
    ~FileDevice() override {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    uint32_t block_size() const override { return m_block_size; }
    uint64_t block_count() const override { return m_size / m_block_size; }
    Result<void> read_blocks(uint64_t first, std::span<uint8_t> buffer) override {
        ssize_t got =
            ::pread(m_fd, buffer.data(), buffer.size(), static_cast<off_t>(first * m_block_size));
        if (got != static_cast<ssize_t>(buffer.size()))
            return Error(EIO, "short read from the image file");
        return {};
    }
    Result<void> write_blocks(uint64_t first, std::span<const uint8_t> data) override {
        ssize_t put =
            ::pwrite(m_fd, data.data(), data.size(), static_cast<off_t>(first * m_block_size));
        if (put != static_cast<ssize_t>(data.size()))
            return Error(EIO, "short write to the image file");
        return {};
    }

private:
    int m_fd;
    uint32_t m_block_size;
    uint64_t m_size = 0;
};

// A RandomAccessFile over a host file (the writer's output for big images).
class HostRandomFile final : public image::RandomAccessFile {
public:
    explicit HostRandomFile(const std::string& path)
        : m_fd(::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644)) {}
    ~HostRandomFile() override {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    Result<void> read_at(uint64_t offset, std::span<uint8_t> buffer) override {
        if (::pread(m_fd, buffer.data(), buffer.size(), static_cast<off_t>(offset)) !=
            static_cast<ssize_t>(buffer.size()))
            return Error(EIO, "short read");
        return {};
    }
    Result<void> write_at(uint64_t offset, std::span<const uint8_t> data) override {
        if (::pwrite(m_fd, data.data(), data.size(), static_cast<off_t>(offset)) !=
            static_cast<ssize_t>(data.size()))
            return Error(EIO, "short write");
        return {};
    }
    Result<uint64_t> size() override { return static_cast<uint64_t>(::lseek(m_fd, 0, SEEK_END)); }
    Result<void> truncate(uint64_t size) override {
        if (::ftruncate(m_fd, static_cast<off_t>(size)) != 0)
            return Error(EIO, "ftruncate failed");
        return {};
    }

private:
    int m_fd;
};

inline fs::Clock test_clock() {
    return fs::fixed_clock({1900000000, 123456789});
}

using Bytes = std::shared_ptr<std::vector<uint8_t>>;

inline Bytes bytes_of_file(const std::string& path) {
    return std::make_shared<std::vector<uint8_t>>(read_file(path));
}

inline Result<std::shared_ptr<fs::FileSystem>> mount_bytes(const Bytes& bytes,
                                                           uint32_t device_block = 512) {
    return fs::create_ext2fs(std::make_unique<MemoryDevice>(bytes, device_block), test_clock(),
                             "test.img");
}

// The writer's image of `root` (default size).
inline Bytes write_tree(const image::TreeNode& root, uint64_t size_bytes = 0) {
    image::MemoryFile out;
    image::Ext2BuildOptions options;
    options.size_bytes = size_bytes;
    options.creation_time = 1700000000;
    auto summary = image::write_ext2(root, out, options);
    EXPECT_FALSE(summary.is_error()) << summary.error().message();
    return std::make_shared<std::vector<uint8_t>>(std::move(out.bytes()));
}

// mke2fs -t ext2 of a host directory; `options` like "-b 1024 -I 128".
inline Bytes mke2fs_image(const TempDir& dir, const std::string& source, const std::string& options,
                          const std::string& size = "16M") {
    std::string image = dir.path("mke2fs.img");
    ::unlink(image.c_str());
    auto made = run_command("mke2fs -q -F -t ext2 " + options + " -d '" + source + "' '" + image +
                            "' " + size);
    EXPECT_EQ(made.status, 0) << made.output;
    return bytes_of_file(image);
}

// Stores the device bytes in `dir` and returns the path (for e2fsck/debugfs).
inline std::string save_image(const TempDir& dir, const Bytes& bytes,
                              const std::string& name = "check.img") {
    std::string path = dir.path(name);
    write_file(path, *bytes);
    return path;
}

// e2fsck -fn; `clean` only when it exits 0 *and* prints nothing but its
// pass lines and summary (some findings, like a wrong free-blocks count in
// the superblock, print "Fix? no" and still exit 0).
struct FsckResult {
    bool clean = false;
    std::string output;
};

inline FsckResult fsck(const std::string& image) {
    CommandResult run = run_command("e2fsck -fn '" + image + "'");
    FsckResult result{run.status == 0, run.output};
    size_t start = 0;
    while (start < run.output.size()) {
        size_t end = run.output.find('\n', start);
        if (end == std::string::npos)
            end = run.output.size();
        std::string line = run.output.substr(start, end - start);
        bool known = line.empty() || line.rfind("e2fsck ", 0) == 0 || line.rfind("Pass ", 0) == 0 ||
                     line.find(" files (") != std::string::npos;
        result.clean = result.clean && known;
        start = end + 1;
    }
    return result;
}

inline std::string debugfs(const std::string& image, const std::string& request) {
    auto result = run_command("debugfs -R '" + request + "' '" + image + "' 2>/dev/null");
    EXPECT_EQ(result.status, 0) << result.output;
    auto banner_end = result.output.find('\n');
    if (result.output.rfind("debugfs ", 0) == 0 && banner_end != std::string::npos)
        return result.output.substr(banner_end + 1);
    return result.output;
}

// The fields of `debugfs -R "stat PATH"` the tests compare with stat(2).
struct DebugfsStat {
    uint64_t ino = 0, mode = 0, uid = 0, gid = 0, size = 0, links = 0, blockcount = 0;
    std::map<std::string, struct timespec> times;  // "atime", "mtime", "ctime"
    bool ok = false;
};

inline DebugfsStat debugfs_stat(const std::string& image, const std::string& path) {
    std::string text = debugfs(image, "stat " + path);
    DebugfsStat out;
    std::smatch m;
    auto number = [&](const std::string& pattern, uint64_t& value, int base = 10) {
        if (!std::regex_search(text, m, std::regex(pattern)))
            return false;
        value = std::stoull(m[1].str(), nullptr, base);
        return true;
    };
    bool sized = number(R"(Project:\s+\d+\s+Size: (\d+))", out.size) ||
                 number(R"(Group:\s+\d+\s+Size: (\d+))", out.size);
    out.ok = number(R"(Inode: (\d+))", out.ino) && number(R"(Mode:\s+(\d+))", out.mode, 8) &&
             number(R"(User:\s+(\d+))", out.uid) && number(R"(Group:\s+(\d+))", out.gid) && sized &&
             number(R"(Links: (\d+))", out.links) && number(R"(Blockcount: (\d+))", out.blockcount);
    for (const char* name : {"atime", "mtime", "ctime"}) {
        if (!std::regex_search(
                text, m,
                std::regex(std::string(" ") + name + R"(: 0x([0-9a-f]{8})(:([0-9a-f]{8}))?)")))
            continue;
        uint32_t seconds = static_cast<uint32_t>(std::stoul(m[1].str(), nullptr, 16));
        uint32_t extra =
            m[3].matched ? static_cast<uint32_t>(std::stoul(m[3].str(), nullptr, 16)) : 0;
        struct timespec time {};
        time.tv_sec = static_cast<int32_t>(seconds) + (int64_t(extra & 3) << 32);
        time.tv_nsec = extra >> 2;
        out.times[name] = time;
    }
    return out;
}

// Walks `path` ("a/b/c", no symlinks) from `root` through lookup().
inline Result<std::shared_ptr<fs::Inode>> walk(std::shared_ptr<fs::Inode> root,
                                               const std::string& path) {
    std::shared_ptr<fs::Inode> node = std::move(root);
    size_t start = 0;
    while (start < path.size()) {
        size_t end = path.find('/', start);
        if (end == std::string::npos)
            end = path.size();
        if (end > start)
            node = TRY(node->lookup(std::string_view(path).substr(start, end - start)));
        start = end + 1;
    }
    return node;
}

inline Result<std::vector<uint8_t>> read_inode(fs::Inode& inode) {
    struct stat st = TRY(inode.stat());
    std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
    size_t got = TRY(inode.read_at(0, bytes));
    bytes.resize(got);
    return bytes;
}

inline std::vector<uint8_t> to_bytes(std::string_view text) {
    return {text.begin(), text.end()};
}

// The names a directory lists (file system entries only), with their inodes.
inline Result<std::map<std::string, uint64_t>> list_directory(fs::Inode& dir) {
    std::map<std::string, uint64_t> names;
    TRY(dir.read_directory(0, [&](const fs::DirectoryEntry& entry) {
        names[entry.name] = entry.ino;
        return true;
    }));
    return names;
}

}  // namespace myst::test

#include "tools/myst/tree_output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "tools/myst/host_file.h"

namespace myst::tools {

namespace {

constexpr size_t copy_chunk = 1 << 20;

class StagedContent final : public image::FileContent {
public:
    explicit StagedContent(std::string path) : m_path(std::move(path)) {}
    Result<std::unique_ptr<image::RandomAccessFile>> open() const override {
        auto file = TRY(HostFile::open_read(m_path));
        return std::unique_ptr<image::RandomAccessFile>(std::move(file));
    }
    const std::string& path() const { return m_path; }

private:
    std::string m_path;
};

Result<void> write_all(int fd, std::span<const uint8_t> data, const std::string& path) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return Error::from_errno(errno, path);
        data = data.subspan(static_cast<size_t>(n));
    }
    return {};
}

class DirectoryWriter {
public:
    explicit DirectoryWriter(DirectoryWriteNotes& notes) : m_notes(notes) {}

    Result<void> write(const image::TreeNode& node, int parent, const std::string& name,
                       const std::string& path) {
        const char* at = name.c_str();
        switch (node.type) {
            case image::NodeType::directory: {
                if (::mkdirat(parent, at, 0700) != 0)
                    return Error::from_errno(errno, path);
                int fd = ::openat(parent, at, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                    return Error::from_errno(errno, path);
                auto close_fd =
                    std::unique_ptr<int, void (*)(int*)>(&fd, [](int* f) { ::close(*f); });
                for (const image::TreeNode& child : node.children)
                    TRY(write(child, fd, child.name, path + "/" + child.name));
                break;
            }
            case image::NodeType::regular:
                TRY(write_regular(node, parent, name, path));
                break;
            case image::NodeType::symlink:
                if (::symlinkat(node.symlink_target.c_str(), parent, at) != 0)
                    return Error::from_errno(errno, path);
                break;
            case image::NodeType::fifo:
            case image::NodeType::socket:
                if (::mknodat(parent, at, S_IFIFO | 0600, 0) != 0)
                    return Error::from_errno(errno, path);
                break;
            case image::NodeType::char_device:
            case image::NodeType::block_device:
                if (::mknodat(parent, at, node.file_type_bits() | 0600,
                              makedev(node.rdev_major, node.rdev_minor)) != 0) {
                    if (errno != EPERM)
                        return Error::from_errno(errno, path);
                    m_notes.skipped_devices++;
                    return {};
                }
                break;
        }
        return set_metadata(node, parent, at, path);
    }

private:
    Result<void> write_regular(const image::TreeNode& node, int parent, const std::string& name,
                               const std::string& path) {
        if (node.link_group) {
            auto [it, first] = m_links.try_emplace(node.link_group, path);
            if (!first) {
                if (::link(it->second.c_str(), path.c_str()) != 0)
                    return Error::from_errno(errno, path);
                return {};
            }
        }
        auto staged = std::dynamic_pointer_cast<const StagedContent>(node.content);
        if (staged && ::renameat(AT_FDCWD, staged->path().c_str(), parent, name.c_str()) == 0)
            return {};
        int fd = ::openat(parent, name.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
            return Error::from_errno(errno, path);
        auto out = HostFile::adopt(fd, path);
        if (node.content) {
            auto in = TRY(node.content->open());
            std::vector<uint8_t> chunk(copy_chunk);
            for (uint64_t done = 0; done < node.size;) {
                size_t n = static_cast<size_t>(std::min<uint64_t>(chunk.size(), node.size - done));
                TRY(in->read_at(done, std::span(chunk).first(n)));
                TRY(write_all(fd, std::span(chunk).first(n), path));
                done += n;
            }
        }
        return {};
    }

    Result<void> set_metadata(const image::TreeNode& node, int parent, const char* at,
                              const std::string& path) {
        // chown first: it clears the setuid and setgid bits that chmod then sets.
        if (m_notes.owners_kept &&
            ::fchownat(parent, at, node.uid, node.gid, AT_SYMLINK_NOFOLLOW) != 0)
            return Error::from_errno(errno, path);
        if (node.type != image::NodeType::symlink &&
            ::fchmodat(parent, at, node.permissions, 0) != 0)
            return Error::from_errno(errno, path);
        struct timespec times[2] = {
            {static_cast<time_t>(node.atime.seconds), static_cast<long>(node.atime.nanoseconds)},
            {static_cast<time_t>(node.mtime.seconds), static_cast<long>(node.mtime.nanoseconds)}};
        if (::utimensat(parent, at, times, AT_SYMLINK_NOFOLLOW) != 0)
            return Error::from_errno(errno, path);
        return {};
    }

    DirectoryWriteNotes& m_notes;
    std::map<uint64_t, std::string> m_links;
};

}  // namespace

Result<std::shared_ptr<const image::FileContent>> StagedContentStore::store(
    image::TarReader& reader, uint64_t size) {
    std::string path = m_directory + "/" + std::to_string(m_next++);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return Error::from_errno(errno, path);
    auto file = HostFile::adopt(fd, path);
    m_chunk.resize(copy_chunk);
    uint64_t done = 0;
    while (size_t n = TRY(reader.read_data(m_chunk))) {
        TRY(write_all(fd, std::span(m_chunk).first(n), path));
        done += n;
    }
    if (done != size)
        return Error::invalid(reader.source() + ": file data ends early");
    return std::shared_ptr<const image::FileContent>(std::make_shared<StagedContent>(path));
}

Result<DirectoryWriteNotes> write_tree_to_directory(const image::TreeNode& root,
                                                    const std::string& path) {
    DirectoryWriteNotes notes;
    notes.owners_kept = ::geteuid() == 0;
    DirectoryWriter writer(notes);
    TRY(writer.write(root, AT_FDCWD, path, path));
    return notes;
}

Result<std::unique_ptr<ScratchDirectory>> ScratchDirectory::create(const std::string& prefix) {
    std::string path = prefix + "XXXXXX";
    if (!::mkdtemp(path.data()))
        return Error::from_errno(errno, prefix);
    return std::unique_ptr<ScratchDirectory>(new ScratchDirectory(path));
}

ScratchDirectory::~ScratchDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(m_path, ignored);
}

}  // namespace myst::tools

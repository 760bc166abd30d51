#include "tools/myst/dir_scan.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "tools/myst/host_file.h"

namespace myst::tools {

namespace {

class HostContent final : public image::FileContent {
public:
    explicit HostContent(std::string path) : m_path(std::move(path)) {}
    Result<std::unique_ptr<image::RandomAccessFile>> open() const override {
        auto file = TRY(HostFile::open_read(m_path));
        return std::unique_ptr<image::RandomAccessFile>(std::move(file));
    }

private:
    std::string m_path;
};

image::NodeType node_type_of(mode_t mode) {
    if (S_ISDIR(mode))
        return image::NodeType::directory;
    if (S_ISLNK(mode))
        return image::NodeType::symlink;
    if (S_ISCHR(mode))
        return image::NodeType::char_device;
    if (S_ISBLK(mode))
        return image::NodeType::block_device;
    if (S_ISFIFO(mode))
        return image::NodeType::fifo;
    if (S_ISSOCK(mode))
        return image::NodeType::socket;
    return image::NodeType::regular;
}

image::Timestamp timestamp_of(const struct timespec& ts) {
    return {static_cast<int64_t>(ts.tv_sec), static_cast<uint32_t>(ts.tv_nsec)};
}

Result<std::string> read_symlink(const std::string& path, size_t expected_size) {
    std::string target(expected_size + 1, '\0');
    ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
    if (n < 0)
        return Error::from_errno(errno, path);
    if (static_cast<size_t>(n) > expected_size)
        return Error(EIO, path + ": symlink changed while being read");
    target.resize(static_cast<size_t>(n));
    return target;
}

Result<std::vector<std::string>> list_directory(const std::string& path) {
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(path.c_str()), ::closedir);
    if (!dir)
        return Error::from_errno(errno, path);
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* entry = ::readdir(dir.get())) {
        std::string name = entry->d_name;
        if (name != "." && name != "..")
            names.push_back(std::move(name));
        errno = 0;
    }
    if (errno != 0)
        return Error::from_errno(errno, path);
    std::sort(names.begin(), names.end());
    return names;
}

Result<image::TreeNode> scan_node(const std::string& path, std::string name) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0)
        return Error::from_errno(errno, path);
    image::TreeNode node;
    node.name = std::move(name);
    node.source = path;
    node.type = node_type_of(st.st_mode);
    node.permissions = st.st_mode & 07777;
    node.uid = st.st_uid;
    node.gid = st.st_gid;
    node.atime = timestamp_of(st.st_atim);
    node.mtime = timestamp_of(st.st_mtim);
    node.ctime = timestamp_of(st.st_ctim);
    if (!node.is_directory() && st.st_nlink > 1)
        node.link_group = (static_cast<uint64_t>(st.st_dev) << 40) ^ st.st_ino;
    switch (node.type) {
        case image::NodeType::regular:
            node.size = static_cast<uint64_t>(st.st_size);
            node.content = std::make_shared<HostContent>(path);
            break;
        case image::NodeType::symlink:
            node.symlink_target = TRY(read_symlink(path, static_cast<size_t>(st.st_size)));
            break;
        case image::NodeType::char_device:
        case image::NodeType::block_device:
            node.rdev_major = major(st.st_rdev);
            node.rdev_minor = minor(st.st_rdev);
            break;
        case image::NodeType::directory:
            for (std::string& child : TRY(list_directory(path)))
                node.children.push_back(TRY(scan_node(path + "/" + child, child)));
            break;
        default:
            break;
    }
    return node;
}

}  // namespace

Result<image::TreeNode> scan_directory(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return Error::from_errno(errno, path);
    if (!S_ISDIR(st.st_mode))
        return Error(ENOTDIR, path + ": not a directory");
    std::string root = path;
    while (root.size() > 1 && root.back() == '/')
        root.pop_back();
    // A symlink to the directory is scanned as the directory it names.
    if (::lstat(root.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
        root += "/.";
    return scan_node(root, "");
}

}  // namespace myst::tools

#include "fs/hostfs/hostfs.h"

#include <fcntl.h>

#include <vector>

#include "fs/vfs/open_file.h"

namespace myst::fs {

namespace {

class HostFileSystem;

// Every name handed to the host is one checked component.
Result<void> check_name(std::string_view name) {
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos ||
        name.find('\0') != std::string_view::npos)
        return Error(EINVAL, "invalid file name for hostfs");
    return {};
}

// Closes the host descriptor when it goes out of scope.
class HostFd {
public:
    HostFd(Target& target, int fd) : m_target(target), m_fd(fd) {}
    ~HostFd() { (void)m_target.file_close(m_fd); }
    HostFd(const HostFd&) = delete;
    HostFd& operator=(const HostFd&) = delete;
    int get() const { return m_fd; }

private:
    Target& m_target;
    int m_fd;
};

// One host object, held by its host node (an O_PATH descriptor) rather
// than by a path: renaming it, or anything above it, changes nothing for
// us, and every host call starts from a node of this mount with one
// checked name, so nothing the program renames or plants can lead out.
class HostInode final : public Inode {
public:
    HostInode(HostFileSystem& fs, uint64_t ino, mode_t type, int node);

    HostFileSystem& hostfs() const;
    Target& target() const;
    int node() const { return m_node.get(); }

    Result<std::shared_ptr<Inode>> lookup(std::string_view name) override;
    Result<void> read_directory(uint64_t cookie, const DirectoryVisitor& visit) override;
    Result<std::shared_ptr<Inode>> create(std::string_view name,
                                          const NewInode& attributes) override;
    Result<std::shared_ptr<Inode>> create_symlink(std::string_view name, std::string_view target,
                                                  const NewInode& attributes) override;
    Result<void> link(std::string_view name, const std::shared_ptr<Inode>& target) override;
    Result<void> unlink(std::string_view name) override;
    Result<void> remove_directory(std::string_view name) override;
    Result<void> rename(std::string_view old_name, Inode& new_parent,
                        std::string_view new_name) override;

    Result<size_t> read_at(uint64_t offset, std::span<uint8_t> buffer) override;
    Result<size_t> write_at(uint64_t offset, std::span<const uint8_t> data) override;
    Result<void> truncate(uint64_t size) override;
    Result<std::string> read_link() override;
    Result<void> chmod(mode_t permissions) override;
    Result<void> chown(uid_t uid, gid_t gid) override;
    Result<void> set_times(const struct timespec times[2]) override;
    Result<std::shared_ptr<OpenFile>> open(const PathRef& path, int flags) override;

protected:
    Result<struct stat> read_stat() override;

private:
    Result<std::shared_ptr<Inode>> make_child(std::string_view name) const;

    HostFd m_node;
};

class HostFileSystem final : public FileSystem {
public:
    // Takes the root's node.
    HostFileSystem(Target& target, int root_node, uint64_t root_ino) : m_target(target) {
        m_root = std::make_shared<HostInode>(*this, root_ino, S_IFDIR, root_node);
    }

    std::shared_ptr<Inode> root() override { return m_root; }
    std::string_view type_name() const override { return "hostfs"; }
    Target& target() const { return m_target; }

private:
    Target& m_target;
    std::shared_ptr<HostInode> m_root;
};

// An open regular host file: I/O on one host descriptor.
class HostOpenFile final : public InodeFile {
public:
    HostOpenFile(PathRef path, int flags, Target& target, int host_fd)
        : InodeFile(std::move(path), flags), m_fd(target, host_fd), m_target(target) {}

    Result<size_t> pread(std::span<uint8_t> buffer, uint64_t offset) override {
        return m_target.file_pread(m_fd.get(), buffer, offset);
    }
    Result<size_t> pwrite(std::span<const uint8_t> data, uint64_t offset) override {
        if (flags() & O_APPEND) {
            TRY(append(data));
            return data.size();
        }
        return m_target.file_pwrite(m_fd.get(), data, offset);
    }
    Result<struct stat> stat() override {
        struct stat st = TRY(m_target.file_stat(m_fd.get()));
        st.st_dev = inode()->file_system().device_id();
        return st;
    }
    Result<void> truncate(uint64_t size) override {
        return m_target.file_truncate(m_fd.get(), size);
    }
    Result<void> sync() override { return m_target.file_sync(m_fd.get()); }

protected:
    Result<uint64_t> append(std::span<const uint8_t> data) override {
        // The host descriptor has O_APPEND: its writes land at the end.
        size_t done = 0;
        while (done < data.size())
            done += TRY(m_target.file_write(m_fd.get(), data.subspan(done)));
        return size();
    }
    Result<uint64_t> size() override {
        struct stat st = TRY(m_target.file_stat(m_fd.get()));
        return static_cast<uint64_t>(st.st_size);
    }

private:
    HostFd m_fd;
    Target& m_target;
};

HostInode::HostInode(HostFileSystem& fs, uint64_t ino, mode_t type, int node)
    : Inode(fs, ino, type), m_node(fs.target(), node) {}

HostFileSystem& HostInode::hostfs() const {
    return static_cast<HostFileSystem&>(file_system());
}

Target& HostInode::target() const {
    return hostfs().target();
}

Result<struct stat> HostInode::read_stat() {
    return target().file_stat(node());
}

Result<std::shared_ptr<Inode>> HostInode::make_child(std::string_view name) const {
    // O_PATH | O_NOFOLLOW: a symlink becomes a link inode for the VFS to walk.
    int child = TRY(target().node_open_beneath(node(), std::string(name), O_PATH | O_NOFOLLOW, 0));
    auto st = target().file_stat(child);
    if (st.is_error()) {
        (void)target().file_close(child);
        return st.release_error();
    }
    return std::shared_ptr<Inode>(
        std::make_shared<HostInode>(hostfs(), st.value().st_ino, st.value().st_mode, child));
}

Result<std::shared_ptr<Inode>> HostInode::lookup(std::string_view name) {
    if (!is_directory())
        return Error(ENOTDIR, "not a directory");
    TRY(check_name(name));
    return make_child(name);
}

Result<void> HostInode::read_directory(uint64_t cookie, const DirectoryVisitor& visit) {
    if (!is_directory())
        return Error(ENOTDIR, "not a directory");
    std::vector<HostDirectoryEntry> entries = TRY(target().node_list_directory(node()));
    uint64_t index = 0;
    for (const HostDirectoryEntry& entry : entries) {
        if (entry.name == "." || entry.name == ".." || check_name(entry.name).is_error())
            continue;
        // Cookies are positions in the host's listing order.
        if (index++ < cookie)
            continue;
        if (!visit({entry.name, entry.inode, entry.type, index}))
            break;
    }
    return {};
}

Result<std::shared_ptr<Inode>> HostInode::create(std::string_view name,
                                                 const NewInode& attributes) {
    if (!is_directory())
        return Error(ENOTDIR, "not a directory");
    TRY(check_name(name));
    const mode_t permissions = attributes.mode & 07777;
    switch (attributes.mode & S_IFMT) {
        case S_IFREG: {
            int fd = TRY(target().node_open_beneath(node(), std::string(name),
                                                    O_CREAT | O_EXCL | O_WRONLY, permissions));
            HostFd closer(target(), fd);
            break;
        }
        case S_IFDIR:
            TRY(target().node_make_directory(node(), std::string(name), permissions));
            break;
        default:
            return Error(EPERM, "hostfs makes only files, directories and symlinks");
    }
    return make_child(name);
}

Result<std::shared_ptr<Inode>> HostInode::create_symlink(std::string_view name,
                                                         std::string_view link_target,
                                                         const NewInode&) {
    if (!is_directory())
        return Error(ENOTDIR, "not a directory");
    TRY(check_name(name));
    // The host stores the text; only our VFS ever follows it.
    TRY(target().node_make_symlink(node(), std::string(name), std::string(link_target)));
    return make_child(name);
}

Result<void> HostInode::link(std::string_view name, const std::shared_ptr<Inode>& existing) {
    auto* source = dynamic_cast<HostInode*>(existing.get());
    if (!source || &source->file_system() != &file_system())
        return Error(EXDEV, "hard link across file systems");
    TRY(check_name(name));
    return target().node_link(source->node(), node(), std::string(name));
}

Result<void> HostInode::unlink(std::string_view name) {
    TRY(check_name(name));
    return target().node_unlink(node(), std::string(name), false);
}

Result<void> HostInode::remove_directory(std::string_view name) {
    TRY(check_name(name));
    return target().node_unlink(node(), std::string(name), true);
}

Result<void> HostInode::rename(std::string_view old_name, Inode& new_parent,
                               std::string_view new_name) {
    auto* destination = dynamic_cast<HostInode*>(&new_parent);
    if (!destination || &destination->file_system() != &file_system())
        return Error(EXDEV, "rename across file systems");
    TRY(check_name(old_name));
    TRY(check_name(new_name));
    return target().node_rename(node(), std::string(old_name), destination->node(),
                                std::string(new_name));
}

Result<size_t> HostInode::read_at(uint64_t offset, std::span<uint8_t> buffer) {
    if (!is_regular())
        return Inode::read_at(offset, buffer);
    HostFd fd(target(), TRY(target().node_reopen(node(), O_RDONLY)));
    return target().file_pread(fd.get(), buffer, offset);
}

Result<size_t> HostInode::write_at(uint64_t offset, std::span<const uint8_t> data) {
    if (!is_regular())
        return Inode::write_at(offset, data);
    HostFd fd(target(), TRY(target().node_reopen(node(), O_WRONLY)));
    return target().file_pwrite(fd.get(), data, offset);
}

Result<void> HostInode::truncate(uint64_t size) {
    if (!is_regular())
        return Inode::truncate(size);
    HostFd fd(target(), TRY(target().node_reopen(node(), O_WRONLY)));
    return target().file_truncate(fd.get(), size);
}

Result<std::string> HostInode::read_link() {
    if (!is_symlink())
        return Inode::read_link();
    return target().node_read_link(node());
}

Result<void> HostInode::chmod(mode_t permissions) {
    if (is_symlink())
        return Error(EOPNOTSUPP, "cannot change the mode of a symbolic link");
    return target().node_chmod(node(), permissions & 07777);
}

Result<void> HostInode::chown(uid_t uid, gid_t gid) {
    return target().node_chown(node(), uid, gid);
}

Result<void> HostInode::set_times(const struct timespec times[2]) {
    return target().node_set_times(node(), times);
}

Result<std::shared_ptr<OpenFile>> HostInode::open(const PathRef& path, int flags) {
    if (is_directory())
        return Inode::open(path, flags);
    if (!is_regular())
        return Error(ENXIO, "hostfs opens only regular files and directories");
    int host_flags = (flags & O_ACCMODE) | (flags & O_APPEND);
    int fd = TRY(target().node_reopen(node(), host_flags));
    return std::shared_ptr<OpenFile>(std::make_shared<HostOpenFile>(path, flags, target(), fd));
}

}  // namespace

Result<std::shared_ptr<FileSystem>> create_hostfs(Target& target, const std::string& host_root) {
    if (host_root.empty() || host_root.front() != '/')
        return Error::invalid("hostfs needs an absolute host directory: '" + host_root + "'");
    auto root = target.node_open_directory(host_root);
    if (root.is_error())
        return root.release_error().with_context("hostfs directory " + host_root);
    auto st = target.file_stat(root.value());
    if (st.is_error()) {
        (void)target.file_close(root.value());
        return st.release_error().with_context("hostfs directory " + host_root);
    }
    return std::shared_ptr<FileSystem>(
        std::make_shared<HostFileSystem>(target, root.value(), st.value().st_ino));
}

}  // namespace myst::fs

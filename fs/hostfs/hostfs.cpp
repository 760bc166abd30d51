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

class HostInode final : public Inode {
public:
    HostInode(HostFileSystem& fs, uint64_t ino, mode_t type, std::string relative);

    HostFileSystem& hostfs() const;
    Target& target() const;
    // The host path: the mounted directory plus our relative path.
    std::string host_path() const;
    std::string child_path(std::string_view name) const;

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

    // Opens the host file itself (never through a final symlink).
    Result<int> open_host(int flags) const;

protected:
    Result<struct stat> read_stat() override;

private:
    Result<std::shared_ptr<Inode>> make_child(std::string_view name) const;

    std::string m_relative;  // "" for the root, else "/a/b"
};

class HostFileSystem final : public FileSystem {
public:
    HostFileSystem(Target& target, std::string host_root, uint64_t root_ino)
        : m_target(target), m_host_root(std::move(host_root)) {
        m_root = std::make_shared<HostInode>(*this, root_ino, S_IFDIR, "");
    }

    std::shared_ptr<Inode> root() override { return m_root; }
    std::string_view type_name() const override { return "hostfs"; }
    Target& target() const { return m_target; }
    const std::string& host_root() const { return m_host_root; }

private:
    Target& m_target;
    std::string m_host_root;
    std::shared_ptr<HostInode> m_root;
};

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

HostInode::HostInode(HostFileSystem& fs, uint64_t ino, mode_t type, std::string relative)
    : Inode(fs, ino, type), m_relative(std::move(relative)) {}

HostFileSystem& HostInode::hostfs() const {
    return static_cast<HostFileSystem&>(file_system());
}

Target& HostInode::target() const {
    return hostfs().target();
}

std::string HostInode::host_path() const {
    if (m_relative.empty() && hostfs().host_root().empty())
        return "/";
    return hostfs().host_root() + m_relative;
}

std::string HostInode::child_path(std::string_view name) const {
    return hostfs().host_root() + m_relative + "/" + std::string(name);
}

Result<struct stat> HostInode::read_stat() {
    return target().path_stat(host_path(), false);
}

Result<std::shared_ptr<Inode>> HostInode::make_child(std::string_view name) const {
    struct stat st = TRY(target().path_stat(child_path(name), false));
    return std::shared_ptr<Inode>(std::make_shared<HostInode>(
        hostfs(), st.st_ino, st.st_mode, m_relative + "/" + std::string(name)));
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
    std::vector<HostDirectoryEntry> entries = TRY(target().path_list_directory(host_path()));
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
            int fd = TRY(target().file_open(child_path(name),
                                            O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, permissions));
            HostFd closer(target(), fd);
            break;
        }
        case S_IFDIR:
            TRY(target().path_make_directory(child_path(name), permissions));
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
    TRY(target().path_symlink(std::string(link_target), child_path(name)));
    return make_child(name);
}

Result<void> HostInode::link(std::string_view name, const std::shared_ptr<Inode>& existing) {
    auto* source = dynamic_cast<HostInode*>(existing.get());
    if (!source || &source->file_system() != &file_system())
        return Error(EXDEV, "hard link across file systems");
    TRY(check_name(name));
    return target().path_link(source->host_path(), child_path(name));
}

Result<void> HostInode::unlink(std::string_view name) {
    TRY(check_name(name));
    return target().path_unlink(child_path(name));
}

Result<void> HostInode::remove_directory(std::string_view name) {
    TRY(check_name(name));
    return target().path_remove_directory(child_path(name));
}

Result<void> HostInode::rename(std::string_view old_name, Inode& new_parent,
                               std::string_view new_name) {
    auto* destination = dynamic_cast<HostInode*>(&new_parent);
    if (!destination || &destination->file_system() != &file_system())
        return Error(EXDEV, "rename across file systems");
    TRY(check_name(old_name));
    TRY(check_name(new_name));
    return target().path_rename(child_path(old_name), destination->child_path(new_name));
}

Result<int> HostInode::open_host(int flags) const {
    return target().file_open(host_path(), flags | O_NOFOLLOW, 0);
}

Result<size_t> HostInode::read_at(uint64_t offset, std::span<uint8_t> buffer) {
    if (!is_regular())
        return Inode::read_at(offset, buffer);
    HostFd fd(target(), TRY(open_host(O_RDONLY)));
    return target().file_pread(fd.get(), buffer, offset);
}

Result<size_t> HostInode::write_at(uint64_t offset, std::span<const uint8_t> data) {
    if (!is_regular())
        return Inode::write_at(offset, data);
    HostFd fd(target(), TRY(open_host(O_WRONLY)));
    return target().file_pwrite(fd.get(), data, offset);
}

Result<void> HostInode::truncate(uint64_t size) {
    if (!is_regular())
        return Inode::truncate(size);
    HostFd fd(target(), TRY(open_host(O_WRONLY)));
    return target().file_truncate(fd.get(), size);
}

Result<std::string> HostInode::read_link() {
    if (!is_symlink())
        return Inode::read_link();
    return target().path_read_link(host_path());
}

Result<void> HostInode::chmod(mode_t permissions) {
    // The host's chmod(2) would follow a symlink.
    if (is_symlink())
        return Error(EOPNOTSUPP, "cannot change the mode of a symbolic link");
    return target().path_chmod(host_path(), permissions & 07777);
}

Result<void> HostInode::chown(uid_t uid, gid_t gid) {
    return target().path_chown(host_path(), uid, gid);
}

Result<void> HostInode::set_times(const struct timespec times[2]) {
    return target().path_set_times(host_path(), times);
}

Result<std::shared_ptr<OpenFile>> HostInode::open(const PathRef& path, int flags) {
    if (is_directory())
        return Inode::open(path, flags);
    if (!is_regular())
        return Error(ENXIO, "hostfs opens only regular files and directories");
    int host_flags = (flags & O_ACCMODE) | (flags & O_APPEND);
    int fd = TRY(open_host(host_flags));
    return std::shared_ptr<OpenFile>(std::make_shared<HostOpenFile>(path, flags, target(), fd));
}

}  // namespace

Result<std::shared_ptr<FileSystem>> create_hostfs(Target& target, const std::string& host_root) {
    if (host_root.empty() || host_root.front() != '/')
        return Error::invalid("hostfs needs an absolute host directory: '" + host_root + "'");
    std::string root = host_root;
    while (root.size() > 1 && root.back() == '/')
        root.pop_back();
    if (root == "/")
        root.clear();  // children are "/name"
    auto st = target.path_stat(root.empty() ? "/" : root, true);
    if (st.is_error())
        return st.release_error().with_context("hostfs directory " + host_root);
    if (!S_ISDIR(st.value().st_mode))
        return Error(ENOTDIR, "hostfs directory " + host_root + " is not a directory");
    return std::shared_ptr<FileSystem>(
        std::make_shared<HostFileSystem>(target, std::move(root), st.value().st_ino));
}

}  // namespace myst::fs

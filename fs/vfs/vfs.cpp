// The mount table and path resolution (path_resolution(7)).
#include "fs/vfs/vfs.h"

#include <limits.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>

namespace myst::fs {

namespace {

// Anonymous device numbers, as Linux gives to file systems without a disk:
// major 0, a minor per mount.
dev_t device_for_mount(uint64_t mount_id) {
    return makedev(0, static_cast<unsigned>(mount_id + 16));
}

Result<void> check_path(std::string_view path) {
    if (path.empty())
        return Error(ENOENT, "empty path");
    if (path.size() >= PATH_MAX)
        return Error(ENAMETOOLONG, "path is longer than PATH_MAX");
    return {};
}

// The components of a path; repeated slashes give no empty components.
std::vector<std::string_view> split_components(std::string_view path) {
    std::vector<std::string_view> parts;
    size_t start = 0;
    while (start < path.size()) {
        size_t end = path.find('/', start);
        if (end == std::string_view::npos)
            end = path.size();
        if (end > start)
            parts.push_back(path.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

}  // namespace

Vfs::Vfs(std::shared_ptr<Mount> root_mount, Clock clock) : m_clock(std::move(clock)) {
    std::shared_ptr<Inode> root_inode = root_mount->fs->root();
    m_mounts.emplace(root_mount->id, root_mount);
    m_root = std::make_shared<PathNode>(nullptr, "", std::move(root_inode), std::move(root_mount));
}

Result<std::unique_ptr<Vfs>> Vfs::create(std::shared_ptr<FileSystem> root_fs, Clock clock) {
    if (!root_fs)
        return Error::invalid("no root file system");
    if (!clock)
        return Error::invalid("no clock");
    std::shared_ptr<Inode> root_inode = root_fs->root();
    if (!root_inode || !root_inode->is_directory())
        return Error(ENOTDIR, "the root of the root file system is not a directory");
    std::string source(root_fs->type_name());
    auto mount = std::make_shared<Mount>(Mount{1, std::move(root_fs), "/", std::move(source)});
    mount->fs->set_device_id(device_for_mount(mount->id));
    std::unique_ptr<Vfs> vfs(new Vfs(std::move(mount), std::move(clock)));
    vfs->m_next_mount_id = 2;
    return vfs;
}

Result<void> Vfs::mount(const std::string& path, std::shared_ptr<FileSystem> fs,
                        const MountOptions& options) {
    if (path.empty() || path.front() != '/')
        return Error::invalid("mount point must be an absolute path: '" + path + "'");
    auto resolved = resolve(root_lookup(), path);
    if (resolved.is_error())
        return resolved.release_error().with_context("mount point " + path);
    return mount_at(resolved.value(), std::move(fs), options);
}

Result<void> Vfs::mount_at(const PathRef& point, std::shared_ptr<FileSystem> fs,
                           const MountOptions& options) {
    if (!fs)
        return Error::invalid("no file system to mount");
    std::string path = point->to_string();
    if (!point->inode()->is_directory())
        return Error(ENOTDIR, "mount point " + path + " is not a directory");
    if (!point->parent())
        return Error(EBUSY, "cannot mount over /");
    std::shared_ptr<Inode> root_inode = fs->root();
    if (!root_inode || !root_inode->is_directory())
        return Error(ENOTDIR, "the root of the file system for " + path + " is not a directory");

    std::lock_guard guard(m_mounts_lock);
    // A detached mount (MNT_DETACH) is still reachable from a cwd or a
    // dirfd inside it; nothing may be mounted there, as its file system
    // goes away with its last user and the table keys by its address.
    const std::shared_ptr<Mount>& under = point->mount();
    if (!m_mounts.contains(under->id))
        return Error(EINVAL, "mount point " + path + " is on a detached mount");
    // On the root of a stacked mount, or on a point covered since the
    // caller got it (a cwd), the new mount goes on top of the stack there,
    // as Linux mounts on the top of a stack.
    MountKey key{&point->inode()->file_system(), point->inode()->ino()};
    if (under->point_fs && point->inode()->same_as(*under->fs->root()))
        key = {under->point_fs, under->point_ino};
    if (m_mounts.size() >= kMaxMounts)
        return Error(ENOSPC, "too many mounts (" + std::to_string(kMaxMounts) +
                                 ", Linux's default mount-max)");
    auto mount = std::make_shared<Mount>();
    mount->id = m_next_mount_id++;
    mount->source = options.source.empty() ? std::string(fs->type_name()) : options.source;
    mount->read_only = options.read_only;
    mount->fs = std::move(fs);
    mount->path = std::move(path);
    mount->point_fs = key.first;
    mount->point_ino = key.second;
    mount->fs->set_device_id(device_for_mount(mount->id));
    m_mounts_by_point[key].push_back(mount);
    m_mounts.emplace(mount->id, std::move(mount));
    return {};
}

Result<void> Vfs::unmount(const Lookup& at, std::string_view path, bool follow, bool detach) {
    PathRef node = TRY(resolve(at, path, follow));
    std::shared_ptr<Mount> mount = node->mount();
    if (!node->inode()->same_as(*mount->fs->root()))
        return Error(EINVAL, node->to_string() + " is not a mount point");
    if (!node->parent())
        return Error(EBUSY, "cannot unmount /");
    node.reset();  // the caller's reference is not a use

    std::lock_guard guard(m_mounts_lock);
    auto point = m_mounts_by_point.find({mount->point_fs, mount->point_ino});
    if (!m_mounts.contains(mount->id) || point == m_mounts_by_point.end())
        return Error(EINVAL, mount->path + " is not mounted");
    if (point->second.back() != mount)  // reached from a cwd beneath the top
        return Error(EBUSY, mount->path + " has another mount stacked on it");
    // Mount points are keyed by their file system's address, so a mount
    // inside this one must go first.
    auto inside = m_mounts_by_point.lower_bound({mount->fs.get(), 0});
    if (inside != m_mounts_by_point.end() && inside->first.first == mount->fs.get())
        return Error(EBUSY,
                     mount->path + " has " + inside->second.back()->path + " mounted inside it");
    // The table holds two references and `mount` a third; anything more
    // is a cwd, a process root or an open file inside the mount.
    if (!detach && mount.use_count() > 3)
        return Error(EBUSY, mount->path + " is in use");
    point->second.pop_back();
    if (point->second.empty())
        m_mounts_by_point.erase(point);
    m_mounts.erase(mount->id);
    return {};
}

std::vector<MountInfo> Vfs::mounts() const {
    std::lock_guard guard(m_mounts_lock);
    std::vector<MountInfo> list;
    for (const auto& [id, mount] : m_mounts)
        list.push_back(
            {mount->path, std::string(mount->fs->type_name()), mount->source, mount->read_only});
    return list;
}

PathRef Vfs::enter(const PathRef& parent, std::string name, std::shared_ptr<Inode> inode) const {
    std::shared_ptr<Mount> mount = parent->mount();
    {
        std::lock_guard guard(m_mounts_lock);
        // Mounts can stack: the newest one on a point hides the others.
        auto it = m_mounts_by_point.find({&inode->file_system(), inode->ino()});
        if (it != m_mounts_by_point.end()) {
            mount = it->second.back();
            inode = mount->fs->root();
        }
    }
    return std::make_shared<PathNode>(parent, std::move(name), std::move(inode), std::move(mount));
}

Result<PathRef> Vfs::parent_of(const Lookup& at, const PathRef& node) const {
    if ((at.resolve & resolve_beneath) && at.start && node->same_as(*at.start))
        return Error(EXDEV, "RESOLVE_BENEATH: \"..\" leaves the starting directory");
    // ".." at the process root (or the VFS root) stays there; at a mount's
    // root the chain leads to the mount point's parent.
    if (!node->parent() || (at.root && node->same_as(*at.root)))
        return node;
    if ((at.resolve & resolve_no_xdev) && node->parent()->mount() != node->mount())
        return Error(EXDEV, "RESOLVE_NO_XDEV: \"..\" leaves a mount");
    return node->parent();
}

Result<void> Vfs::check_link_allowed(const Lookup& at, const PathRef& link, const PathRef& magic,
                                     std::string_view target) const {
    if (!at.resolve)
        return {};
    if (at.resolve & resolve_no_symlinks)
        return Error(ELOOP, "RESOLVE_NO_SYMLINKS: a symbolic link");
    if (magic) {
        if (at.resolve & resolve_no_magiclinks)
            return Error(ELOOP, "RESOLVE_NO_MAGICLINKS: a magic link");
        if (at.resolve & (resolve_beneath | resolve_in_root))
            return Error(EXDEV, "a magic link in a scoped resolution");
        if ((at.resolve & resolve_no_xdev) && magic->mount() != link->mount())
            return Error(EXDEV, "RESOLVE_NO_XDEV: a magic link to another mount");
        return {};
    }
    if (!target.empty() && target.front() == '/') {
        if (at.resolve & resolve_beneath)
            return Error(EXDEV, "RESOLVE_BENEATH: an absolute symbolic link");
        if ((at.resolve & resolve_no_xdev) && at.root && at.root->mount() != link->mount())
            return Error(EXDEV, "RESOLVE_NO_XDEV: an absolute symbolic link to another mount");
    }
    return {};
}

Result<PathRef> Vfs::child(const PathRef& parent, const std::string& name) const {
    std::shared_ptr<Inode> inode = TRY(parent->inode()->lookup(name));
    return enter(parent, name, std::move(inode));
}

Result<PathRef> Vfs::follow_link(const Lookup& at, const PathRef& link, int& links) const {
    if (++links > kMaxSymlinks)
        return Error(ELOOP, "too many levels of symbolic links");
    if (PathRef magic = link->inode()->magic_link_target(link)) {
        TRY(check_link_allowed(at, link, magic, {}));
        return magic;
    }
    std::string target = TRY(link->inode()->read_link());
    TRY(check_link_allowed(at, link, nullptr, target));
    if (target.empty())
        return Error(ENOENT, "symbolic link with an empty target");
    // A relative target starts in the directory that holds the link.
    return walk(at, link->parent(), target, true, links);
}

Result<PathRef> Vfs::walk(const Lookup& at, const PathRef& start, std::string_view path,
                          bool follow, int& links) const {
    TRY(check_path(path));
    if (path.front() == '/' && (at.resolve & resolve_beneath))
        return Error(EXDEV, "RESOLVE_BENEATH: an absolute path");
    PathRef node = path.front() == '/' ? at.root : start;
    if (!node)
        return Error(ENOENT, "no starting directory");
    const bool trailing_slash = path.back() == '/';
    std::vector<std::string_view> parts = split_components(path);
    for (size_t i = 0; i < parts.size(); ++i) {
        const std::string_view name = parts[i];
        const bool last = i + 1 == parts.size();
        const std::shared_ptr<Inode>& dir = node->inode();
        if (!dir->is_directory())
            return Error(ENOTDIR, "not a directory");
        if (!at.identity.is_root()) {
            struct stat st = TRY(dir->stat());
            TRY(check_permission(st, at.identity, X_OK));
        }
        if (name == ".")
            continue;
        if (name == "..") {
            node = TRY(parent_of(at, node));
            continue;
        }
        if (name.size() > NAME_MAX)
            return Error(ENAMETOOLONG, "file name is longer than NAME_MAX");
        PathRef next = TRY(child(node, std::string(name)));
        if ((at.resolve & resolve_no_xdev) && next->mount() != node->mount())
            return Error(EXDEV, "RESOLVE_NO_XDEV: a mount point");
        // A trailing slash asks for a directory, so it follows the link
        // even under AT_SYMLINK_NOFOLLOW.
        if (next->inode()->is_symlink() && (!last || follow || trailing_slash))
            next = TRY(follow_link(at, next, links));
        node = std::move(next);
    }
    if (trailing_slash && !node->inode()->is_directory())
        return Error(ENOTDIR, "not a directory");
    return node;
}

Result<PathRef> Vfs::resolve(const Lookup& at, std::string_view path, bool follow) const {
    int links = 0;
    return walk(at, at.start, path, follow, links);
}

Result<Vfs::ParentAndName> Vfs::walk_parent(const Lookup& at, const PathRef& start,
                                            std::string_view path, int& links) const {
    TRY(check_path(path));
    if (path.front() == '/' && (at.resolve & resolve_beneath))
        return Error(EXDEV, "RESOLVE_BENEATH: an absolute path");
    size_t end = path.size();
    while (end > 0 && path[end - 1] == '/')
        --end;
    const bool trailing_slash = end < path.size();
    if (end == 0)  // "/", "//": no last component
        return ParentAndName{at.root, "", trailing_slash};
    std::string_view body = path.substr(0, end);
    size_t slash = body.rfind('/');
    std::string_view name = slash == std::string_view::npos ? body : body.substr(slash + 1);
    PathRef parent = start;
    if (slash != std::string_view::npos)
        parent = TRY(walk(at, start, body.substr(0, slash + 1), true, links));
    if (!parent)
        return Error(ENOENT, "no starting directory");
    if (!parent->inode()->is_directory())
        return Error(ENOTDIR, "not a directory");
    if (!at.identity.is_root()) {
        struct stat st = TRY(parent->inode()->stat());
        TRY(check_permission(st, at.identity, X_OK));
    }
    if (name.size() > NAME_MAX)
        return Error(ENAMETOOLONG, "file name is longer than NAME_MAX");
    return ParentAndName{std::move(parent), std::string(name), trailing_slash};
}

Result<Vfs::ParentAndName> Vfs::resolve_parent(const Lookup& at, std::string_view path) const {
    int links = 0;
    return walk_parent(at, at.start, path, links);
}

}  // namespace myst::fs

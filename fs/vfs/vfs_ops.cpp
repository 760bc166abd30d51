// The operations that take paths: open, create, remove, rename, link, and
// the attribute changes, with the errno cases of their Linux man pages.
#include <stdio.h>  // RENAME_NOREPLACE
#include <unistd.h>

#include "fs/vfs/vfs.h"

namespace myst::fs {

namespace {

// "", "." and "..": a last component that names no new entry.
bool is_special_name(const std::string& name) {
    return name.empty() || name == "." || name == "..";
}

Result<bool> directory_is_empty(Inode& dir) {
    bool empty = true;
    TRY(dir.read_directory(0, [&](const DirectoryEntry&) {
        empty = false;
        return false;
    }));
    return empty;
}

// Changing anything on a read-only mount is EROFS; devices, fifos and
// sockets on it stay writable (their data is not on the file system).
Result<void> check_mount_writable(const PathRef& node) {
    if (!node->mount()->read_only)
        return {};
    mode_t type = node->inode()->type();
    if (S_ISCHR(type) || S_ISBLK(type) || S_ISFIFO(type) || S_ISSOCK(type))
        return {};
    return Error(EROFS, "read-only file system");
}

bool is_mount_root(const PathRef& node) {
    return node->parent() && node->parent()->mount() != node->mount();
}

}  // namespace

Result<void> Vfs::check_directory_writable(const PathRef& dir, const Identity& who) const {
    TRY(check_mount_writable(dir));
    struct stat st = TRY(dir->inode()->stat());
    return check_permission(st, who, W_OK | X_OK);
}

Result<void> Vfs::check_sticky(const PathRef& dir, const PathRef& victim,
                               const Identity& who) const {
    if (who.is_root())
        return {};
    struct stat dir_st = TRY(dir->inode()->stat());
    if (!(dir_st.st_mode & S_ISVTX))
        return {};
    struct stat victim_st = TRY(victim->inode()->stat());
    if (victim_st.st_uid == who.uid || dir_st.st_uid == who.uid)
        return {};
    return Error(EPERM, "sticky directory: not the owner");
}

Result<Vfs::ParentAndName> Vfs::resolve_new_entry(const Lookup& at, std::string_view path,
                                                  const char* trailing_slash_error) const {
    ParentAndName where = TRY(resolve_parent(at, path));
    if (is_special_name(where.name))
        return Error(EEXIST, "file exists");
    auto existing = child(where.parent, where.name);
    if (!existing.is_error())
        return Error(EEXIST, "file exists");
    if (existing.error().code() != ENOENT)
        return existing.release_error();
    if (where.trailing_slash && trailing_slash_error)
        return Error(ENOENT, trailing_slash_error);
    return where;
}

Result<PathRef> Vfs::create_file(const Lookup& at, const ParentAndName& where, mode_t mode) const {
    TRY(check_directory_writable(where.parent, at.identity));
    struct stat dir_st = TRY(where.parent->inode()->stat());
    NewInode attributes{mode, at.identity.uid, at.identity.gid, 0};
    // A set-group-ID directory hands its group down, and to new
    // directories its set-group-ID bit too.
    if (dir_st.st_mode & S_ISGID) {
        attributes.gid = dir_st.st_gid;
        if (S_ISDIR(mode))
            attributes.mode |= S_ISGID;
    }
    std::shared_ptr<Inode> inode = TRY(where.parent->inode()->create(where.name, attributes));
    return enter(where.parent, where.name, std::move(inode));
}

Result<std::shared_ptr<OpenFile>> Vfs::open(const Lookup& at, std::string_view path, int flags,
                                            mode_t mode) const {
    // O_PATH keeps only the flags that say how to find the file.
    if (flags & O_PATH)
        flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    if ((flags & O_TMPFILE) == O_TMPFILE)
        return Error(EOPNOTSUPP, "O_TMPFILE is not supported");
    int links = 0;
    if (!(flags & O_CREAT)) {
        PathRef node = TRY(walk(at, at.start, path, !(flags & O_NOFOLLOW), links));
        if (node->inode()->is_symlink() && !(flags & O_PATH))
            return Error(ELOOP, "O_NOFOLLOW on a symbolic link");
        return open_node(node, flags, at.identity);
    }
    if (flags & O_DIRECTORY)
        return Error(EINVAL, "O_CREAT with O_DIRECTORY");

    // O_CREAT follows a final symlink, even a dangling one: the file is
    // created where it points.
    PathRef start = at.start;
    std::string current(path);
    for (;;) {
        ParentAndName where = TRY(walk_parent(at, start, current, links));
        if (is_special_name(where.name))
            return Error(EISDIR, "is a directory");
        auto existing = child(where.parent, where.name);
        if (existing.is_error()) {
            if (existing.error().code() != ENOENT)
                return existing.release_error();
            if (where.trailing_slash)
                return Error(EISDIR, "cannot create a file with a trailing slash");
            PathRef node = TRY(create_file(at, where, S_IFREG | (mode & 07777)));
            // The creator may use the file whatever mode it asked for.
            return node->inode()->open(node, flags & ~O_TRUNC);
        }
        PathRef node = existing.release_value();
        if (flags & O_EXCL)
            return Error(EEXIST, "file exists");
        if (node->inode()->is_symlink()) {
            if (flags & O_NOFOLLOW)
                return Error(ELOOP, "O_NOFOLLOW on a symbolic link");
            if (++links > kMaxSymlinks)
                return Error(ELOOP, "too many levels of symbolic links");
            if (PathRef magic = node->inode()->magic_link_target(node)) {
                TRY(check_link_allowed(at, node, magic, {}));
                node = magic;
            } else {
                current = TRY(node->inode()->read_link());
                TRY(check_link_allowed(at, node, nullptr, current));
                if (current.empty())
                    return Error(ENOENT, "symbolic link with an empty target");
                start = node->parent();
                continue;
            }
        }
        if (node->inode()->is_directory() || where.trailing_slash)
            return Error(EISDIR, "is a directory");
        return open_node(node, flags, at.identity);
    }
}

Result<std::shared_ptr<OpenFile>> Vfs::open_node(const PathRef& node, int flags,
                                                 const Identity& who) const {
    const std::shared_ptr<Inode>& inode = node->inode();
    if ((flags & O_DIRECTORY) && !inode->is_directory())
        return Error(ENOTDIR, "not a directory");
    if (flags & O_PATH)
        return std::shared_ptr<OpenFile>(std::make_shared<InodeFile>(node, O_PATH));
    const int access = flags & O_ACCMODE;
    if (access == O_ACCMODE)
        return Error(EINVAL, "invalid access mode");
    if (inode->is_symlink())
        return Error(ELOOP, "is a symbolic link");
    const bool writes = access != O_RDONLY || (flags & O_TRUNC);
    if (inode->is_directory() && writes)
        return Error(EISDIR, "is a directory");
    if (S_ISSOCK(inode->type()))
        return Error(ENXIO, "cannot open a socket");
    // A FIFO may be written on a read-only mount: that changes no file.
    const bool fifo = inode->is_named_fifo();
    if (writes && !fifo)
        TRY(check_mount_writable(node));
    struct stat st = TRY(inode->stat());
    int want = (access != O_WRONLY ? R_OK : 0) | (writes ? W_OK : 0);
    TRY(check_permission(st, who, want));
    if (fifo) {
        if (!m_fifo_opener)
            return Error(ENXIO, "no pipes behind FIFOs");
        return m_fifo_opener(node, flags & ~O_TRUNC);
    }
    std::shared_ptr<OpenFile> file = TRY(inode->open(node, flags));
    if ((flags & O_TRUNC) && inode->is_regular() && st.st_size != 0) {
        TRY(inode->truncate(0));
        if (auto pages = inode->mapped_pages())
            TRY(pages->resize(0));
    }
    return file;
}

Result<void> Vfs::make_directory(const Lookup& at, std::string_view path, mode_t mode) const {
    // mkdir(2) takes "dir/" as "dir".
    ParentAndName where = TRY(resolve_new_entry(at, path, nullptr));
    TRY(create_file(at, where, S_IFDIR | (mode & 01777)));
    return {};
}

Result<void> Vfs::make_node(const Lookup& at, std::string_view path, mode_t mode, dev_t dev) const {
    mode_t type = mode & S_IFMT;
    if (type == 0)
        type = S_IFREG;
    switch (type) {
        case S_IFREG:
        case S_IFIFO:
        case S_IFSOCK:
            dev = 0;
            break;
        case S_IFCHR:
        case S_IFBLK:
            if (!at.identity.is_root())
                return Error(EPERM, "only root makes device nodes");
            break;
        case S_IFDIR:
            return Error(EPERM, "mknod cannot make a directory");
        default:
            return Error(EINVAL, "invalid file type");
    }
    ParentAndName where = TRY(resolve_new_entry(at, path, "trailing slash on a new file"));
    TRY(check_directory_writable(where.parent, at.identity));
    NewInode attributes{type | (mode & 07777), at.identity.uid, at.identity.gid, dev};
    TRY(where.parent->inode()->create(where.name, attributes));
    return {};
}

Result<void> Vfs::make_symlink(std::string_view target, const Lookup& at,
                               std::string_view path) const {
    if (target.empty())
        return Error(ENOENT, "empty symbolic link target");
    if (target.size() >= PATH_MAX)
        return Error(ENAMETOOLONG, "symbolic link target is too long");
    ParentAndName where = TRY(resolve_new_entry(at, path, "trailing slash on a new symbolic link"));
    TRY(check_directory_writable(where.parent, at.identity));
    NewInode attributes{S_IFLNK | 0777, at.identity.uid, at.identity.gid, 0};
    TRY(where.parent->inode()->create_symlink(where.name, target, attributes));
    return {};
}

Result<void> Vfs::make_link(const PathRef& existing, const Lookup& at,
                            std::string_view path) const {
    if (existing->inode()->is_directory())
        return Error(EPERM, "cannot hard-link a directory");
    ParentAndName where = TRY(resolve_new_entry(at, path, "trailing slash on a new link"));
    if (where.parent->mount() != existing->mount())
        return Error(EXDEV, "hard link across mounts");
    TRY(check_directory_writable(where.parent, at.identity));
    return where.parent->inode()->link(where.name, existing->inode());
}

Result<void> Vfs::unlink(const Lookup& at, std::string_view path) const {
    ParentAndName where = TRY(resolve_parent(at, path));
    if (is_special_name(where.name))
        return Error(EISDIR, "is a directory");
    PathRef node = TRY(child(where.parent, where.name));
    if (node->inode()->is_directory())
        return Error(EISDIR, "is a directory");
    if (where.trailing_slash)
        return Error(ENOTDIR, "not a directory");
    TRY(check_directory_writable(where.parent, at.identity));
    TRY(check_sticky(where.parent, node, at.identity));
    return where.parent->inode()->unlink(where.name);
}

Result<void> Vfs::remove_directory(const Lookup& at, std::string_view path) const {
    ParentAndName where = TRY(resolve_parent(at, path));
    if (where.name == ".")
        return Error(EINVAL, "cannot remove '.'");
    if (where.name == "..")
        return Error(ENOTEMPTY, "directory not empty");
    if (where.name.empty())
        return Error(EBUSY, "cannot remove the root");
    PathRef node = TRY(child(where.parent, where.name));
    if (!node->inode()->is_directory())
        return Error(ENOTDIR, "not a directory");
    if (is_mount_root(node) || (at.root && node->same_as(*at.root)))
        return Error(EBUSY, "directory is a mount point or the root");
    TRY(check_directory_writable(where.parent, at.identity));
    TRY(check_sticky(where.parent, node, at.identity));
    return where.parent->inode()->remove_directory(where.name);
}

Result<void> Vfs::rename(const Lookup& from_at, std::string_view from, const Lookup& to_at,
                         std::string_view to, unsigned flags) const {
    if (flags & ~static_cast<unsigned>(RENAME_NOREPLACE))
        return Error(EINVAL, "unsupported rename flags");
    const bool no_replace = flags & RENAME_NOREPLACE;
    ParentAndName old_where = TRY(resolve_parent(from_at, from));
    ParentAndName new_where = TRY(resolve_parent(to_at, to));
    if (is_special_name(old_where.name))
        return Error(EBUSY, "cannot rename '.', '..' or '/'");
    if (is_special_name(new_where.name))
        return Error(no_replace ? EEXIST : EBUSY, "cannot rename onto '.', '..' or '/'");
    PathRef source = TRY(child(old_where.parent, old_where.name));
    const bool moves_directory = source->inode()->is_directory();
    if (is_mount_root(source))
        return Error(EBUSY, "cannot rename a mount point");
    if (old_where.parent->mount() != new_where.parent->mount())
        return Error(EXDEV, "rename across mounts");
    if (!moves_directory && (old_where.trailing_slash || new_where.trailing_slash))
        return Error(ENOTDIR, "not a directory");

    auto existing = child(new_where.parent, new_where.name);
    if (existing.is_error() && existing.error().code() != ENOENT)
        return existing.release_error();
    if (!existing.is_error()) {
        PathRef target = existing.release_value();
        if (no_replace)
            return Error(EEXIST, "file exists");
        if (is_mount_root(target))
            return Error(EBUSY, "target is a mount point");
        // Two names of one inode: rename(2) does nothing and succeeds.
        if (target->inode()->same_as(*source->inode()))
            return {};
        if (moves_directory) {
            if (!target->inode()->is_directory())
                return Error(ENOTDIR, "not a directory");
            if (!TRY(directory_is_empty(*target->inode())))
                return Error(ENOTEMPTY, "directory not empty");
        } else if (target->inode()->is_directory()) {
            return Error(EISDIR, "is a directory");
        }
        TRY(check_sticky(new_where.parent, target, to_at.identity));
    }
    // A directory cannot move below itself.
    if (moves_directory && new_where.parent->is_within(*source))
        return Error(EINVAL, "cannot move a directory into itself");
    TRY(check_directory_writable(old_where.parent, from_at.identity));
    TRY(check_directory_writable(new_where.parent, to_at.identity));
    TRY(check_sticky(old_where.parent, source, from_at.identity));
    return old_where.parent->inode()->rename(old_where.name, *new_where.parent->inode(),
                                             new_where.name);
}

Result<std::string> Vfs::read_link(const Lookup& at, std::string_view path) const {
    PathRef node = TRY(resolve(at, path, false));
    return node->inode()->read_link();
}

Result<void> Vfs::check_access(const PathRef& node, int mode, const Identity& who) const {
    if (mode & ~(R_OK | W_OK | X_OK))
        return Error(EINVAL, "invalid access mode");
    if (mode == F_OK)
        return {};
    if (mode & W_OK)
        TRY(check_mount_writable(node));
    struct stat st = TRY(node->inode()->stat());
    return check_permission(st, who, mode);
}

Result<void> Vfs::chmod(const PathRef& node, mode_t mode, const Identity& who) const {
    TRY(check_mount_writable(node));
    struct stat st = TRY(node->inode()->stat());
    if (!who.is_root() && who.uid != st.st_uid)
        return Error(EPERM, "not the owner");
    mode &= 07777;
    // Only a member of the file's group may keep its set-group-ID bit.
    if (!who.is_root() && who.gid != st.st_gid)
        mode &= ~static_cast<mode_t>(S_ISGID);
    return node->inode()->chmod(mode);
}

Result<void> Vfs::chown(const PathRef& node, uid_t uid, gid_t gid, const Identity& who) const {
    TRY(check_mount_writable(node));
    struct stat st = TRY(node->inode()->stat());
    const bool uid_changes = uid != static_cast<uid_t>(-1) && uid != st.st_uid;
    const bool gid_changes = gid != static_cast<gid_t>(-1) && gid != st.st_gid;
    if (!who.is_root()) {
        // The owner may only give the file to a group they are in.
        if (uid_changes || who.uid != st.st_uid || (gid_changes && gid != who.gid))
            return Error(EPERM, "operation not permitted");
    }
    TRY(node->inode()->chown(uid, gid));
    if (S_ISREG(st.st_mode) && (uid != static_cast<uid_t>(-1) || gid != static_cast<gid_t>(-1))) {
        // Linux drops set-user-ID (and set-group-ID with group execute) on
        // a change of owner, for root too.
        mode_t cleared = st.st_mode & 07777 & ~static_cast<mode_t>(S_ISUID);
        if (st.st_mode & S_IXGRP)
            cleared &= ~static_cast<mode_t>(S_ISGID);
        if (cleared != (st.st_mode & 07777))
            TRY(node->inode()->chmod(cleared));
    }
    return {};
}

Result<void> Vfs::set_times(const PathRef& node, const struct timespec* times,
                            const Identity& who) const {
    struct timespec resolved[2];
    bool only_now = true;
    bool all_omitted = true;
    const struct timespec now = m_clock();
    for (int i = 0; i < 2; ++i) {
        struct timespec time = times ? times[i] : timespec{0, UTIME_NOW};
        if (time.tv_nsec == UTIME_NOW) {
            resolved[i] = now;
            all_omitted = false;
        } else if (time.tv_nsec == UTIME_OMIT) {
            resolved[i] = time;
        } else {
            if (time.tv_nsec < 0 || time.tv_nsec >= 1000000000)
                return Error(EINVAL, "invalid nanoseconds");
            resolved[i] = time;
            only_now = false;
            all_omitted = false;
        }
    }
    TRY(check_mount_writable(node));
    struct stat st = TRY(node->inode()->stat());
    if (!who.is_root() && who.uid != st.st_uid) {
        // Anyone who may write may set both times to now; only the owner
        // may set other times.
        if (!only_now)
            return Error(EPERM, "not the owner");
        TRY(check_permission(st, who, W_OK));
    }
    if (all_omitted)
        return {};
    return node->inode()->set_times(resolved);
}

Result<void> Vfs::truncate(const PathRef& node, uint64_t size, const Identity& who) const {
    const std::shared_ptr<Inode>& inode = node->inode();
    if (inode->is_directory())
        return Error(EISDIR, "is a directory");
    if (!inode->is_regular())
        return Error(EINVAL, "not a regular file");
    TRY(check_mount_writable(node));
    struct stat st = TRY(inode->stat());
    TRY(check_permission(st, who, W_OK));
    TRY(inode->truncate(size));
    if (auto pages = inode->mapped_pages())
        TRY(pages->resize(size));
    return {};
}

}  // namespace myst::fs

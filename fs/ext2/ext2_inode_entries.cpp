// ext2 inodes: operations that change directory entries and link counts
// (create, link, unlink, rmdir, rename). An inode whose count drops to zero
// is freed by ~Ext2Inode once nobody holds it (an open file keeps it).
#include <vector>

#include "fs/ext2/ext2_block_map.h"
#include "fs/ext2/ext2_directory.h"
#include "fs/ext2/ext2_file_system.h"
#include "fs/ext2/ext2_inode.h"

namespace myst::fs::ext2 {

namespace {

Result<void> check_name(std::string_view name) {
    if (name.empty())
        return Error(ENOENT, "empty file name");
    if (name.size() > format::max_name_length)
        return Error(ENAMETOOLONG, "file name too long");
    if (name == "." || name == ".." || name.find('/') != std::string_view::npos)
        return Error(EINVAL, "invalid file name");
    return {};
}

Ext2Inode* same_file_system(const Inode& self, Inode* other) {
    auto* ext2 = dynamic_cast<Ext2Inode*>(other);
    if (!ext2 || &ext2->file_system() != &self.file_system())
        return nullptr;
    return ext2;
}

}  // namespace

Result<void> Ext2Inode::init_directory_locked(uint32_t parent) {
    BlockMap map(ext2(), number(), m_record);
    BlockMap::Mapping mapping = TRY(map.allocate(0));
    std::vector<uint8_t> block(ext2().block_size());
    Directory::format_first_block(block, number(), parent, ext2().superblock().has_filetype());
    TRY(ext2().write_blocks_locked(mapping.block, block));
    m_record.set_size(ext2().block_size());
    return {};
}

Result<std::shared_ptr<Inode>> Ext2Inode::create_locked(std::string_view name,
                                                        const NewInode& attributes,
                                                        std::string_view symlink_target) {
    if (!is_directory())
        return Error(ENOTDIR, "not a directory");
    TRY(check_name(name));
    TRY(ext2().check_writable());
    if (m_record.links() == 0)
        return Error(ENOENT, "directory was removed");
    mode_t mode = attributes.mode;
    bool directory = S_ISDIR(mode);
    Directory entries(ext2(), *this);
    if (TRY(entries.find(name)))
        return Error(EEXIST, "file exists");
    if (directory && m_record.links() >= format::link_max)
        return Error(EMLINK, "too many links");
    if (S_ISLNK(mode) && symlink_target.size() >= ext2().block_size())
        return Error(ENAMETOOLONG, "symlink target too long");

    uint32_t ino = TRY(ext2().allocate_inode_locked(number(), directory));
    struct timespec now = ext2().now();
    InodeRecord record = InodeRecord::fresh(ext2().superblock());
    record.set_mode(mode);
    record.set_uid(attributes.uid);
    record.set_gid(attributes.gid);
    record.set_links(directory ? 2 : 1);
    record.set_atime(now);
    record.set_mtime(now);
    record.set_ctime(now);
    record.set_crtime(now);
    record.set_generation(ext2().next_generation_locked());
    if (S_ISCHR(mode) || S_ISBLK(mode))
        record.set_rdev(attributes.rdev);
    auto adopted = ext2().adopt_new_inode_locked(ino, std::move(record));
    if (adopted.is_error()) {
        (void)ext2().free_inode_locked(ino, directory);
        return adopted.release_error();
    }
    std::shared_ptr<Ext2Inode> child = adopted.release_value();
    Result<void> setup = [&]() -> Result<void> {
        if (directory)
            TRY(child->init_directory_locked(number()));
        else if (S_ISLNK(mode))
            TRY(child->init_symlink_locked(symlink_target));
        TRY(child->save_locked());
        return entries.add(name, ino, mode);
    }();
    if (setup.is_error()) {
        // Nothing names it: dropping `child` frees it and its blocks.
        child->record_locked().set_links(0);
        (void)child->save_locked();
        return setup.release_error();
    }
    if (directory)
        m_record.set_links(m_record.links() + 1);  // the child's ".."
    touch_locked(now);
    TRY(save_locked());
    return std::shared_ptr<Inode>(std::move(child));
}

Result<std::shared_ptr<Inode>> Ext2Inode::create(std::string_view name,
                                                 const NewInode& attributes) {
    switch (attributes.mode & S_IFMT) {
        case S_IFREG:
        case S_IFDIR:
        case S_IFCHR:
        case S_IFBLK:
        case S_IFIFO:
        case S_IFSOCK:
            break;
        default:
            return Error(EINVAL, "invalid file type");
    }
    std::lock_guard guard(ext2().lock());
    return create_locked(name, attributes, {});
}

Result<std::shared_ptr<Inode>> Ext2Inode::create_symlink(std::string_view name,
                                                         std::string_view target,
                                                         const NewInode& attributes) {
    if (target.empty())
        return Error(ENOENT, "empty symlink target");
    std::lock_guard guard(ext2().lock());
    NewInode link = attributes;
    link.mode = S_IFLNK | 0777;
    return create_locked(name, link, target);
}

Result<void> Ext2Inode::link(std::string_view name, const std::shared_ptr<Inode>& target) {
    Ext2Inode* other = same_file_system(*this, target.get());
    if (!other)
        return Error(EXDEV, "hard link across file systems");
    if (!is_directory())
        return Error(ENOTDIR, "not a directory");
    if (other->is_directory())
        return Error(EPERM, "cannot hard-link a directory");
    std::lock_guard guard(ext2().lock());
    TRY(check_name(name));
    TRY(ext2().check_writable());
    if (m_record.links() == 0)
        return Error(ENOENT, "directory was removed");
    InodeRecord& linked = other->record_locked();
    if (linked.links() == 0)
        return Error(ENOENT, "file was removed");
    if (linked.links() >= format::link_max)
        return Error(EMLINK, "too many links");
    Directory entries(ext2(), *this);
    if (TRY(entries.find(name)))
        return Error(EEXIST, "file exists");
    TRY(entries.add(name, other->number(), other->type()));
    struct timespec now = ext2().now();
    linked.set_links(linked.links() + 1);
    linked.set_ctime(now);
    TRY(other->save_locked());
    touch_locked(now);
    return save_locked();
}

Result<void> Ext2Inode::unlink(std::string_view name) {
    if (!is_directory())
        return Error(ENOTDIR, "not a directory");
    std::lock_guard guard(ext2().lock());
    TRY(ext2().check_writable());
    Directory entries(ext2(), *this);
    std::shared_ptr<Ext2Inode> child = TRY(named_inode_locked(entries, name));
    if (child->is_directory())
        return Error(EISDIR, "is a directory");
    TRY(entries.remove(name));
    struct timespec now = ext2().now();
    InodeRecord& record = child->record_locked();
    if (record.links() > 0)
        record.set_links(record.links() - 1);
    record.set_ctime(now);
    TRY(child->save_locked());
    touch_locked(now);
    return save_locked();
}

Result<void> Ext2Inode::remove_directory(std::string_view name) {
    if (!is_directory())
        return Error(ENOTDIR, "not a directory");
    std::lock_guard guard(ext2().lock());
    TRY(ext2().check_writable());
    Directory entries(ext2(), *this);
    std::shared_ptr<Ext2Inode> child = TRY(named_inode_locked(entries, name));
    if (!child->is_directory())
        return Error(ENOTDIR, "not a directory");
    if (child.get() == this)
        return Error(EINVAL, "cannot remove a directory from itself");
    if (!TRY(Directory(ext2(), *child).is_empty()))
        return Error(ENOTEMPTY, "directory not empty");
    TRY(entries.remove(name));
    struct timespec now = ext2().now();
    child->record_locked().set_links(0);
    child->record_locked().set_ctime(now);
    TRY(child->save_locked());
    if (m_record.links() > 1)
        m_record.set_links(m_record.links() - 1);  // the child's ".."
    touch_locked(now);
    return save_locked();
}

Result<void> Ext2Inode::rename(std::string_view old_name, Inode& new_parent,
                               std::string_view new_name) {
    Ext2Inode* destination = same_file_system(*this, &new_parent);
    if (!destination)
        return Error(EXDEV, "rename across file systems");
    if (!is_directory() || !destination->is_directory())
        return Error(ENOTDIR, "not a directory");
    std::lock_guard guard(ext2().lock());
    TRY(check_name(new_name));
    TRY(ext2().check_writable());
    Directory from(ext2(), *this);
    Directory to(ext2(), *destination);
    auto found = TRY(from.find(old_name));
    if (!found)
        return Error(ENOENT, "no such file or directory");
    if (destination->m_record.links() == 0)
        return Error(ENOENT, "directory was removed");
    std::shared_ptr<Ext2Inode> source = TRY(ext2().inode_locked(found->ino));
    bool moving_directory = source->is_directory();
    bool across = destination != this;

    std::shared_ptr<Ext2Inode> replaced;
    if (auto existing = TRY(to.find(new_name))) {
        if (existing->ino == source->number())
            return {};  // two names of one inode: rename(2) does nothing
        replaced = TRY(ext2().inode_locked(existing->ino));
        if (replaced->is_directory() && !moving_directory)
            return Error(EISDIR, "is a directory");
        if (!replaced->is_directory() && moving_directory)
            return Error(ENOTDIR, "not a directory");
        if (replaced->is_directory() && !TRY(Directory(ext2(), *replaced).is_empty()))
            return Error(ENOTEMPTY, "directory not empty");
    } else if (moving_directory && across && destination->m_record.links() >= format::link_max) {
        return Error(EMLINK, "too many links");
    }

    // The new name first: a failure then leaves the old one in place.
    if (replaced)
        TRY(to.retarget(new_name, source->number(), source->type()));
    else
        TRY(to.add(new_name, source->number(), source->type()));
    TRY(from.remove(old_name));
    if (moving_directory && across)
        TRY(Directory(ext2(), *source).retarget("..", destination->number(), S_IFDIR));

    struct timespec now = ext2().now();
    if (replaced) {
        InodeRecord& record = replaced->record_locked();
        if (replaced->is_directory()) {
            record.set_links(0);
            // Its ".." no longer counts for the destination.
            destination->m_record.set_links(destination->m_record.links() - 1);
        } else if (record.links() > 0) {
            record.set_links(record.links() - 1);
        }
        record.set_ctime(now);
        TRY(replaced->save_locked());
    }
    if (moving_directory && across) {
        m_record.set_links(m_record.links() - 1);
        destination->m_record.set_links(destination->m_record.links() + 1);
    }
    source->record_locked().set_ctime(now);
    TRY(source->save_locked());
    touch_locked(now);
    destination->touch_locked(now);
    TRY(save_locked());
    return destination->save_locked();
}

}  // namespace myst::fs::ext2

// ext2 inodes: one object per inode in use (the file system's cache hands
// out the same one while it is referenced). The object keeps the on-disk
// record in memory and writes it back after each change.
//
// Contents and attributes live in ext2_inode.cpp; operations that change
// directory entries (create, link, unlink, rmdir, rename) in
// ext2_inode_entries.cpp. Every method takes the file-system lock
// (ext2_file_system.h); *_locked ones expect it held.
#pragma once

#include <memory>
#include <string>

#include "fs/ext2/ext2_definitions.h"
#include "fs/vfs/inode.h"

namespace myst::fs::ext2 {

class Directory;

class Ext2FileSystem;

class Ext2Inode final : public Inode {
public:
    Ext2Inode(Ext2FileSystem& fs, uint32_t ino, InodeRecord record);
    // Frees the inode and its blocks when its last name went away.
    ~Ext2Inode() override;

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
    Result<uint64_t> append(std::span<const uint8_t> data) override;
    Result<void> truncate(uint64_t size) override;
    Result<std::string> read_link() override;

    Result<void> chmod(mode_t permissions) override;
    Result<void> chown(uid_t uid, gid_t gid) override;
    Result<void> set_times(const struct timespec times[2]) override;

    Result<std::shared_ptr<OpenFile>> open(const PathRef& path, int flags) override;

    // --- fs lock held. ---
    uint32_t number() const { return static_cast<uint32_t>(ino()); }
    InodeRecord& record_locked() { return m_record; }
    Result<void> save_locked();
    // Whether i_block holds block pointers (files, directories, slow
    // symlinks) rather than a symlink target or a device number.
    bool has_block_map_locked() const;
    Result<size_t> read_locked(uint64_t offset, std::span<uint8_t> buffer);
    Result<size_t> write_locked(uint64_t offset, std::span<const uint8_t> data);
    Result<void> resize_locked(uint64_t size);
    // Frees every block the inode owns (data, mapping, extended attributes).
    Result<void> free_all_blocks_locked();
    // mtime and ctime (a change of contents or of a directory's entries).
    void touch_locked(struct timespec now);
    // A new directory's first block ("." and ".."), or a symlink's target.
    Result<void> init_directory_locked(uint32_t parent);
    Result<void> init_symlink_locked(std::string_view target);

protected:
    Result<struct stat> read_stat() override;

private:
    Ext2FileSystem& ext2() const;
    // The inode `name` names in `entries` (ENOENT when none); lock held.
    Result<std::shared_ptr<Ext2Inode>> named_inode_locked(Directory& entries,
                                                          std::string_view name);
    Result<std::shared_ptr<Inode>> create_locked(std::string_view name, const NewInode& attributes,
                                                 std::string_view symlink_target);
    // Zeroes the bytes past the end of file in its last block, so that growing reads zeros.
    Result<void> zero_tail_locked(uint64_t size);
    bool is_fast_symlink_locked() const;

    InodeRecord m_record;
};

// The ext2 directory-entry type byte for a mode, and the DT_* value of one.
uint8_t dirent_type_of(mode_t mode);
uint8_t dt_of_dirent_type(uint8_t type);

}  // namespace myst::fs::ext2

// ramfs internals: one lock per file system guards every inode of it (a
// rename touches two directories; one lock keeps that simple and safe).
// Functions named *_locked expect that lock held.
#pragma once

#include "image/io.h"

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "fs/ramfs/ramfs.h"
#include "fs/vfs/inode.h"

namespace myst::fs::ramfs {

class RamInode;

class RamFileSystem final : public FileSystem {
public:
    // `inode_limit`: tmpfs's nr_inodes= (0: no limit; none: no limit, and
    // statfs reports a generous count rather than 0 as nr_inodes=0 does).
    RamFileSystem(Clock clock, mode_t root_mode, PageCharge charge,
                  std::optional<uint64_t> inode_limit = std::nullopt);

    std::shared_ptr<Inode> root() override;
    std::string_view type_name() const override { return "ramfs"; }
    Result<struct statfs> statfs() override;
    bool charge_writes_to(PageCharge charge) override;

    std::mutex& lock() { return m_lock; }
    struct timespec now() const {
        return m_clock();
    }
    std::shared_ptr<RamInode> root_inode() const { return m_root; }
    // A new inode, not yet in any directory (nlink 0).
    std::shared_ptr<RamInode> make_inode_locked(const NewInode& attributes);
    // Bytes in file pages, for statfs.
    std::atomic<int64_t>& pages_in_use() { return m_pages; }
    // One more file page, when the charge allows it (false: ENOSPC).
    bool take_page();
    // `count` pages go, of which `charged` were charged when taken (the
    // pages a CPIO root held before it was charged never were).
    void give_back_pages(int64_t count, int64_t charged);
    // The cost of a new directory entry (ENOSPC past the charge): the bytes
    // charged, 0 when this ramfs charges nothing.
    // Also ENOSPC when the entry would be an inode past nr_inodes=.
    Result<uint32_t> take_entry(uint64_t bytes);
    void give_back_entry(uint32_t charged);
    // The count of directory entries, which nr_inodes= limits: as tmpfs,
    // every name counts (a hard link too), and the root is one more.
    void entry_added_locked() { ++m_entries; }
    void entry_removed_locked() { --m_entries; }

private:
    std::mutex m_lock;
    Clock m_clock;
    uint64_t m_next_ino = 1;
    const std::optional<uint64_t> m_inode_limit;
    uint64_t m_entries = 0;
    std::atomic<int64_t> m_pages{0};
    PageCharge m_charge;  // empty: kernel memory is the only limit
    std::shared_ptr<RamInode> m_root;
};

class RamInode final : public Inode {
public:
    static constexpr size_t kPageSize = 4096;
    using Page = std::array<uint8_t, kPageSize>;

    RamInode(RamFileSystem& fs, uint64_t ino, const NewInode& attributes, struct timespec now);
    ~RamInode() override;

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

    // --- For the CPIO loader and the operations above (fs lock held). ---
    std::shared_ptr<RamInode> child_locked(std::string_view name) const;
    // The same for the operations: ENOTDIR if this is not a directory,
    // ENOENT if it has no such entry.
    Result<std::shared_ptr<RamInode>> existing_child_locked(std::string_view name) const;
    // Adds an entry without touching times (the caller sets them); `charge`
    // is what it cost (take_entry), given back when it goes.
    void add_entry_locked(std::string_view name, std::shared_ptr<RamInode> inode,
                          uint32_t charge = 0);
    // Removes an entry and gives back its charge, or hands the charge to
    // `kept_charge` when the entry moves (rename).
    std::shared_ptr<RamInode> remove_entry_locked(std::string_view name,
                                                  uint32_t* kept_charge = nullptr);
    Result<size_t> write_locked(uint64_t offset, std::span<const uint8_t> data);
    // Fills an empty regular file with `size` bytes read from `source` at
    // `offset`, straight into its pages (no intermediate copy). Returns the
    // byte sum of what was read, for CPIO's crc format.
    Result<uint32_t> load_locked(image::RandomAccessFile& source, uint64_t offset, uint64_t size);
    void set_symlink_target_locked(std::string target) { m_symlink_target = std::move(target); }
    void set_attributes_locked(mode_t mode, uid_t uid, gid_t gid, struct timespec time);
    bool has_entries_locked() const { return !m_entries.empty(); }
    uint32_t links_locked() const { return m_nlink; }

protected:
    Result<struct stat> read_stat() override;

private:
    struct Entry {
        uint64_t cookie;
        std::shared_ptr<RamInode> inode;
        uint32_t charge = 0;  // bytes charged for it (take_entry)
    };

    RamFileSystem& ramfs() const;
    // Marks a change of the directory's entries.
    void touch_locked(struct timespec now);
    Result<std::shared_ptr<Inode>> create_locked(std::string_view name, const NewInode& attributes,
                                                 std::string_view symlink_target);
    void resize_locked(uint64_t size);

    mode_t m_mode;
    uid_t m_uid;
    gid_t m_gid;
    dev_t m_rdev;
    uint32_t m_nlink = 0;
    struct timespec m_atime, m_mtime, m_ctime;

    // Regular files: pages by index; a missing page is a hole of zeros.
    uint64_t m_size = 0;
    std::map<uint64_t, std::unique_ptr<Page>> m_pages;
    // Pages [0, m_uncharged_pages) came from the CPIO archive uncharged
    // (load_locked makes them all); every other page was charged.
    uint64_t m_uncharged_pages = 0;
    std::string m_symlink_target;

    // Directories: entries by name, and by cookie for stable listing order.
    std::map<std::string, Entry, std::less<>> m_entries;
    std::map<uint64_t, std::string> m_names_by_cookie;
    uint64_t m_next_cookie = 0;
};

}  // namespace myst::fs::ramfs

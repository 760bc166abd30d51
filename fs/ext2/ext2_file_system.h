// ext2 internals: the mounted file system (superblock, group descriptors,
// bitmaps, inode table, inode cache).
//
// Lock order: VFS locks -> OpenFile offset lock -> Ext2FileSystem::lock().
// One lock guards the whole file system: every inode, directory block,
// bitmap and counter. Functions named *_locked expect it held. The lock is
// recursive because dropping the last reference to an unlinked inode frees
// the inode from ~Ext2Inode, and that reference may go away while an
// operation holds the lock (unlink drops its own reference last).
//
// Metadata is written through: each operation leaves the bitmaps, group
// descriptors, superblock counters and inodes on the device consistent
// (only the primary superblock and descriptor table are updated, as Linux's
// ext2 does; e2fsck does not compare the backups' counters).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "blk/block_device.h"
#include "fs/ext2/ext2_definitions.h"
#include "fs/vfs/inode.h"

namespace myst::fs::ext2 {

class Ext2Inode;

class Ext2FileSystem final : public FileSystem {
public:
    static Result<std::shared_ptr<Ext2FileSystem>> mount(std::unique_ptr<blk::BlockDevice> device,
                                                         Clock clock, std::string name);
    Ext2FileSystem(std::unique_ptr<blk::BlockDevice> device, Clock clock, std::string name);
    ~Ext2FileSystem() override;

    std::shared_ptr<Inode> root() override;
    std::string_view type_name() const override { return "ext2"; }
    Result<struct statfs> statfs() override;
    bool charge_writes_to(std::shared_ptr<MemoryCharge> charge) override {
        return m_device->charge_writes_to(std::move(charge));
    }

    std::recursive_mutex& lock() { return m_lock; }
    struct timespec now() const {
        return m_clock();
    }
    const Superblock& superblock() const { return m_sb; }
    uint32_t block_size() const { return m_sb.block_size; }
    const std::string& name() const { return m_name; }

    // EUCLEAN with the image name and `message`.
    Error corrupt(const std::string& message) const;
    // EROFS (with the reason) when the file system must not be written.
    Result<void> check_writable() const;

    // --- Blocks (fs lock held). ---
    // Checks that `block` may hold a file's data or mapping (inside the file
    // system, not its metadata); `ino` is for the message.
    Result<void> check_data_block(uint32_t block, uint32_t ino) const;
    // Whole blocks from `first`: buffer.size() is a multiple of block_size().
    Result<void> read_blocks_locked(uint32_t first, std::span<uint8_t> buffer);
    Result<void> write_blocks_locked(uint32_t first, std::span<const uint8_t> data);

    // --- Inodes (fs lock held). ---
    // The inode object of `ino` (one per inode while referenced); EUCLEAN
    // for numbers out of range and inodes not in use.
    Result<std::shared_ptr<Ext2Inode>> inode_locked(uint32_t ino);
    Result<InodeRecord> read_inode_record_locked(uint32_t ino);
    Result<void> write_inode_record_locked(uint32_t ino, const InodeRecord& record);
    // The object for a just-allocated inode whose record is `record`.
    Result<std::shared_ptr<Ext2Inode>> adopt_new_inode_locked(uint32_t ino, InodeRecord record);
    // From ~Ext2Inode: frees the inode when no directory entry names it any more.
    void release_inode(Ext2Inode& inode);

    // --- Allocation (ext2_allocation.cpp; fs lock held). ---
    struct BlockRun {
        uint32_t first = 0;
        uint32_t count = 0;
    };
    // Up to `max_count` free blocks in a row, at or after `goal` if possible.
    Result<BlockRun> allocate_blocks_locked(uint32_t goal, uint32_t max_count);
    Result<void> free_blocks_locked(uint32_t first, uint32_t count);
    // A free inode number, near `parent_ino` for files, in a roomy group for directories.
    Result<uint32_t> allocate_inode_locked(uint32_t parent_ino, bool directory);
    Result<void> free_inode_locked(uint32_t ino, bool directory);
    // Sets the large_file feature before a file grows past 2 GiB.
    Result<void> require_large_file_locked();
    uint32_t group_of_inode(uint32_t ino) const { return (ino - 1) / m_sb.inodes_per_group; }
    uint32_t group_first_block(uint32_t group) const { return m_sb.group_first_block(group); }
    uint32_t next_generation_locked() { return m_next_generation++; }

protected:
    long magic() const override { return format::magic; }

private:
    Result<void> load();
    bool is_metadata(uint32_t block) const;
    Result<void> read_bytes(uint64_t offset, std::span<uint8_t> buffer);
    Result<void> write_bytes(uint64_t offset, std::span<const uint8_t> data);
    Result<void> write_superblock_locked();
    Result<void> write_descriptor_locked(uint32_t group);
    // Reads a bitmap block, checking that it lies where the descriptor says.
    Result<std::vector<uint8_t>> read_bitmap_locked(uint32_t block);
    Result<BlockRun> allocate_in_group_locked(uint32_t group, uint32_t start, uint32_t max_count);
    Result<uint32_t> allocate_inode_in_group_locked(uint32_t group, bool directory);
    Result<void> free_blocks_in_group_locked(uint32_t group, uint32_t first, uint32_t count);

    std::recursive_mutex m_lock;
    std::unique_ptr<blk::BlockDevice> m_device;
    Clock m_clock;
    std::string m_name;
    Superblock m_sb;
    std::vector<uint8_t> m_raw_superblock;   // 1024 bytes at byte 1024
    std::vector<uint8_t> m_raw_descriptors;  // the primary descriptor table
    std::vector<GroupDescriptor> m_groups;
    std::map<uint32_t, std::weak_ptr<Ext2Inode>> m_inodes;
    uint32_t m_next_generation = 1;
    // Declared last: destroyed first, while the members above still exist.
    std::shared_ptr<Ext2Inode> m_root;
};

}  // namespace myst::fs::ext2

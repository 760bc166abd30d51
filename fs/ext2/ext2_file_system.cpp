#include "fs/ext2/ext2_file_system.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "base/endian.h"
#include "base/file_mode.h"
#include "fs/ext2/ext2_inode.h"
#include "fs/ext2/ext2fs.h"

namespace myst::fs {

namespace ext2 {

Ext2FileSystem::Ext2FileSystem(std::unique_ptr<blk::BlockDevice> device, Clock clock,
                               std::string name)
    : m_device(std::move(device)), m_clock(std::move(clock)), m_name(std::move(name)) {}

Ext2FileSystem::~Ext2FileSystem() {
    // The root's destructor reaches back into this object.
    m_root.reset();
}

Result<std::shared_ptr<Ext2FileSystem>> Ext2FileSystem::mount(
    std::unique_ptr<blk::BlockDevice> device, Clock clock, std::string name) {
    if (!device || device->block_size() == 0)
        return Error(EINVAL, name + ": no block device");
    auto fs =
        std::make_shared<Ext2FileSystem>(std::move(device), std::move(clock), std::move(name));
    TRY(fs->load());
    return fs;
}

Result<void> Ext2FileSystem::load() {
    uint64_t device_bytes = m_device->block_count() * m_device->block_size();
    if (device_bytes < format::superblock_offset + format::superblock_size)
        return Error(EINVAL, m_name + ": too small for an ext2 file system (" +
                                 std::to_string(device_bytes) + " bytes)");
    m_raw_superblock.resize(format::superblock_size);
    TRY(read_bytes(format::superblock_offset, m_raw_superblock));
    m_sb = TRY(Superblock::parse(m_raw_superblock, m_name));
    uint64_t fs_bytes = uint64_t(m_sb.blocks_count) * m_sb.block_size;
    if (fs_bytes > device_bytes)
        return Error(kCorrupt, m_name + ": the ext2 file system needs " + std::to_string(fs_bytes) +
                                   " bytes but the image has only " + std::to_string(device_bytes) +
                                   " (truncated image?)");

    m_raw_descriptors.resize(size_t(m_sb.descriptor_blocks) * m_sb.block_size);
    TRY(read_blocks_locked(m_sb.first_data_block + 1, m_raw_descriptors));
    m_groups.resize(m_sb.group_count);
    for (uint32_t group = 0; group < m_sb.group_count; ++group) {
        m_groups[group] =
            GroupDescriptor::parse(&m_raw_descriptors[group * format::group_descriptor_size]);
        TRY(m_groups[group].check(m_sb, group, m_name));
    }

    std::lock_guard guard(m_lock);
    m_next_generation = static_cast<uint32_t>(now().tv_sec);
    auto root = inode_locked(format::root_inode);
    if (root.is_error())
        return root.release_error().with_context("root directory");
    if (!root.value()->is_directory())
        return corrupt("the root inode is not a directory");
    m_root = root.release_value();
    return {};
}

std::shared_ptr<Inode> Ext2FileSystem::root() {
    return m_root;
}

Error Ext2FileSystem::corrupt(const std::string& message) const {
    return Error(kCorrupt, m_name + ": corrupt ext2 file system: " + message);
}

Result<void> Ext2FileSystem::check_writable() const {
    if (!m_sb.read_only_reason.empty())
        return Error(EROFS, m_sb.read_only_reason);
    return {};
}

Result<struct statfs> Ext2FileSystem::statfs() {
    std::lock_guard guard(m_lock);
    struct statfs st {};
    st.f_type = magic();
    st.f_bsize = m_sb.block_size;
    st.f_frsize = m_sb.block_size;
    // Like Linux's default ("bsddf"): the blocks the metadata takes are not counted.
    uint64_t overhead = m_sb.first_data_block;
    for (uint32_t group = 0; group < m_sb.group_count; ++group)
        overhead += m_sb.group_overhead(group);
    st.f_blocks = m_sb.blocks_count - std::min<uint64_t>(overhead, m_sb.blocks_count);
    // Written blocks are kept in memory: the budget may leave fewer than
    // the image has free. The free count stays the image's (df's "Used"
    // is f_blocks - f_bfree); what may be written is the smaller one.
    uint64_t writable = m_device->writable_blocks();
    st.f_bfree = m_sb.free_blocks_count;
    st.f_bavail = std::min<uint64_t>(m_sb.free_blocks_count > m_sb.r_blocks_count
                                         ? m_sb.free_blocks_count - m_sb.r_blocks_count
                                         : 0,
                                     writable);
    st.f_files = m_sb.inodes_count;
    st.f_ffree = m_sb.free_inodes_count;
    st.f_namelen = format::max_name_length;
    uint32_t words[4];
    for (int i = 0; i < 4; ++i)
        words[i] = load_le<uint32_t>(m_sb.uuid.data() + 4 * i);
    st.f_fsid.__val[0] = static_cast<int>(words[0] ^ words[2]);
    st.f_fsid.__val[1] = static_cast<int>(words[1] ^ words[3]);
    if (!m_sb.read_only_reason.empty())
        st.f_flags = ST_RDONLY;
    return st;
}

// --- Device I/O ---

Result<void> Ext2FileSystem::read_bytes(uint64_t offset, std::span<uint8_t> buffer) {
    Result<void> read = blk::read_bytes(*m_device, offset, buffer);
    if (read.is_error())
        return read.release_error().with_context(m_name);
    return {};
}

Result<void> Ext2FileSystem::write_bytes(uint64_t offset, std::span<const uint8_t> data) {
    Result<void> written = blk::write_bytes(*m_device, offset, data);
    if (written.is_error())
        return written.release_error().with_context(m_name);
    return {};
}

bool Ext2FileSystem::is_metadata(uint32_t block) const {
    if (block < m_sb.first_data_block)
        return true;
    uint32_t group = (block - m_sb.first_data_block) / m_sb.blocks_per_group;
    uint32_t first = m_sb.group_first_block(group);
    if (m_sb.has_superblock_copy(group) &&
        block < first + 1 + m_sb.descriptor_blocks + m_sb.reserved_gdt_blocks)
        return true;
    const GroupDescriptor& d = m_groups[group];
    return block == d.block_bitmap || block == d.inode_bitmap ||
           (block >= d.inode_table && block < d.inode_table + m_sb.inode_table_blocks);
}

Result<void> Ext2FileSystem::check_data_block(uint32_t block, uint32_t ino) const {
    if (block >= m_sb.blocks_count)
        return corrupt("inode " + std::to_string(ino) + ": block pointer " + std::to_string(block) +
                       " is past the end (" + std::to_string(m_sb.blocks_count) + " blocks)");
    if (is_metadata(block))
        return corrupt("inode " + std::to_string(ino) + ": block pointer " + std::to_string(block) +
                       " points into file-system metadata");
    return {};
}

Result<void> Ext2FileSystem::read_blocks_locked(uint32_t first, std::span<uint8_t> buffer) {
    uint64_t count = buffer.size() / m_sb.block_size;
    if (first + count > m_sb.blocks_count)
        return corrupt("block " + std::to_string(first + count - 1) + " is past the end");
    return read_bytes(uint64_t(first) * m_sb.block_size, buffer);
}

Result<void> Ext2FileSystem::write_blocks_locked(uint32_t first, std::span<const uint8_t> data) {
    TRY(check_writable());
    uint64_t count = data.size() / m_sb.block_size;
    if (first + count > m_sb.blocks_count)
        return corrupt("block " + std::to_string(first + count - 1) + " is past the end");
    return write_bytes(uint64_t(first) * m_sb.block_size, data);
}

Result<void> Ext2FileSystem::write_superblock_locked() {
    uint8_t* raw = m_raw_superblock.data();
    store_le<uint32_t>(raw + format::sb::free_blocks_count, m_sb.free_blocks_count);
    store_le<uint32_t>(raw + format::sb::free_inodes_count, m_sb.free_inodes_count);
    store_le<uint32_t>(raw + format::sb::feature_ro_compat, m_sb.feature_ro_compat);
    return write_bytes(format::superblock_offset, m_raw_superblock);
}

Result<void> Ext2FileSystem::write_descriptor_locked(uint32_t group) {
    size_t offset = size_t(group) * format::group_descriptor_size;
    m_groups[group].store(&m_raw_descriptors[offset]);
    size_t block = offset / m_sb.block_size;
    return write_blocks_locked(
        m_sb.first_data_block + 1 + static_cast<uint32_t>(block),
        std::span(m_raw_descriptors).subspan(block * m_sb.block_size, m_sb.block_size));
}

Result<void> Ext2FileSystem::require_large_file_locked() {
    if (m_sb.has_large_file())
        return {};
    if (m_sb.rev_level == format::good_old_rev)
        return Error(EFBIG, m_name + ": revision 0 ext2 file systems hold files below 2 GiB");
    m_sb.feature_ro_compat |= format::feature_ro_compat_large_file;
    return write_superblock_locked();
}

// --- Inodes ---

Result<InodeRecord> Ext2FileSystem::read_inode_record_locked(uint32_t ino) {
    if (ino == 0 || ino > m_sb.inodes_count)
        return corrupt("inode number " + std::to_string(ino) + " is out of range (1 to " +
                       std::to_string(m_sb.inodes_count) + ")");
    uint32_t group = group_of_inode(ino);
    uint32_t index = (ino - 1) % m_sb.inodes_per_group;
    std::vector<uint8_t> raw(m_sb.inode_size);
    TRY(read_bytes(
        uint64_t(m_groups[group].inode_table) * m_sb.block_size + uint64_t(index) * m_sb.inode_size,
        raw));
    return InodeRecord(std::move(raw));
}

Result<void> Ext2FileSystem::write_inode_record_locked(uint32_t ino, const InodeRecord& record) {
    TRY(check_writable());
    if (ino == 0 || ino > m_sb.inodes_count)
        return corrupt("inode number " + std::to_string(ino) + " is out of range");
    uint32_t group = group_of_inode(ino);
    uint32_t index = (ino - 1) % m_sb.inodes_per_group;
    return write_bytes(
        uint64_t(m_groups[group].inode_table) * m_sb.block_size + uint64_t(index) * m_sb.inode_size,
        record.raw());
}

Result<std::shared_ptr<Ext2Inode>> Ext2FileSystem::inode_locked(uint32_t ino) {
    auto cached = m_inodes.find(ino);
    if (cached != m_inodes.end()) {
        if (auto inode = cached->second.lock())
            return inode;
    }
    InodeRecord record = TRY(read_inode_record_locked(ino));
    std::string where = "inode " + std::to_string(ino) + ": ";
    if (record.links() == 0)
        return corrupt(where + "a directory entry names a free inode");
    if (!is_known_file_type(record.mode()))
        return corrupt(where + "bad file type in mode 0" + [&] {
            char text[16];
            std::snprintf(text, sizeof text, "%o", record.mode());
            return std::string(text);
        }());
    if (record.flags() & (format::inode_flag_extents | format::inode_flag_inline_data))
        return corrupt(where + "uses extents or inline data, which ext2 does not have");
    auto inode = std::make_shared<Ext2Inode>(*this, ino, std::move(record));
    m_inodes[ino] = inode;
    return inode;
}

Result<std::shared_ptr<Ext2Inode>> Ext2FileSystem::adopt_new_inode_locked(uint32_t ino,
                                                                          InodeRecord record) {
    TRY(write_inode_record_locked(ino, record));
    auto inode = std::make_shared<Ext2Inode>(*this, ino, std::move(record));
    m_inodes[ino] = inode;
    return inode;
}

void Ext2FileSystem::release_inode(Ext2Inode& inode) {
    std::lock_guard guard(m_lock);
    uint32_t ino = inode.number();
    auto cached = m_inodes.find(ino);
    if (cached != m_inodes.end() && cached->second.expired())
        m_inodes.erase(cached);
    InodeRecord& record = inode.record_locked();
    if (record.links() != 0 || check_writable().is_error())
        return;
    // Its last name is gone and nobody holds it open: give back its blocks
    // and its number. Errors leave blocks in use (e2fsck would reclaim them)
    // but nothing inconsistent that a later operation trips over.
    bool directory = S_ISDIR(record.mode());
    if (inode.free_all_blocks_locked().is_error())
        return;
    record.set_size(0);
    record.set_dtime(static_cast<uint32_t>(now().tv_sec));
    if (inode.save_locked().is_error())
        return;
    (void)free_inode_locked(ino, directory);
}

}  // namespace ext2

Result<std::shared_ptr<FileSystem>> create_ext2fs(std::unique_ptr<blk::BlockDevice> device,
                                                  Clock clock, const std::string& name) {
    auto fs = TRY(ext2::Ext2FileSystem::mount(std::move(device), std::move(clock), name));
    return std::shared_ptr<FileSystem>(std::move(fs));
}

}  // namespace myst::fs

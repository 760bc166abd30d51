#include "fs/ext2/ext2_directory.h"

#include <cstring>

#include "base/endian.h"
#include "fs/ext2/ext2_block_map.h"
#include "fs/ext2/ext2_file_system.h"
#include "fs/ext2/ext2_inode.h"

namespace myst::fs::ext2 {

namespace {

constexpr uint32_t kHeader = format::dirent_header_size;
constexpr uint32_t kMinRecord = format::dirent_size(1);

}  // namespace

Directory::Directory(Ext2FileSystem& fs, Ext2Inode& dir) : m_fs(fs), m_dir(dir) {}

Result<uint64_t> Directory::block_count() const {
    uint64_t size = m_dir.record_locked().size();
    if (size % m_fs.block_size() != 0)
        return m_fs.corrupt("directory inode " + std::to_string(m_dir.number()) + " has size " +
                            std::to_string(size) + ", not a multiple of the block size");
    return size / m_fs.block_size();
}

Result<uint32_t> Directory::device_block(uint64_t index) {
    BlockMap map(m_fs, m_dir.number(), m_dir.record_locked());
    uint32_t block = TRY(map.lookup(index));
    if (block == 0)
        return m_fs.corrupt("directory inode " + std::to_string(m_dir.number()) +
                            " has a hole at block " + std::to_string(index));
    return block;
}

Result<void> Directory::read_block(uint64_t index, std::vector<uint8_t>& bytes) {
    bytes.resize(m_fs.block_size());
    return m_fs.read_blocks_locked(TRY(device_block(index)), bytes);
}

Result<void> Directory::write_block(uint64_t index, std::span<const uint8_t> bytes) {
    return m_fs.write_blocks_locked(TRY(device_block(index)), bytes);
}

Result<void> Directory::parse_block(uint64_t index, std::span<const uint8_t> bytes,
                                    const std::function<bool(const DirectoryRecord&)>& visit) {
    const Superblock& sb = m_fs.superblock();
    bool filetype = sb.has_filetype();
    uint32_t size = static_cast<uint32_t>(bytes.size());
    auto bad = [&](uint32_t offset, const std::string& what) {
        return m_fs.corrupt("directory inode " + std::to_string(m_dir.number()) + ", block " +
                            std::to_string(index) + ", entry at offset " + std::to_string(offset) +
                            ": " + what);
    };
    for (uint32_t offset = 0; offset < size;) {
        if (size - offset < kHeader)
            return bad(offset, "record header runs past the end of the block");
        const uint8_t* at = bytes.data() + offset;
        DirectoryRecord record;
        record.offset = offset;
        record.ino = load_le<uint32_t>(at);
        record.rec_len = load_le<uint16_t>(at + 4);
        uint32_t name_length = filetype ? at[6] : load_le<uint16_t>(at + 6);
        record.type = filetype ? at[7] : 0;
        if (record.rec_len < kMinRecord)
            return bad(offset, "rec_len " + std::to_string(record.rec_len) + " is too small");
        if (record.rec_len % 4 != 0)
            return bad(offset, "rec_len " + std::to_string(record.rec_len) + " is not aligned");
        if (record.rec_len > size - offset)
            return bad(offset, "rec_len " + std::to_string(record.rec_len) +
                                   " runs past the end of the block");
        if (format::dirent_size(name_length) > record.rec_len)
            return bad(offset,
                       "name of " + std::to_string(name_length) + " bytes runs past its record");
        if (record.ino != 0) {
            if (name_length == 0)
                return bad(offset, "entry in use without a name");
            if (record.ino > sb.inodes_count)
                return bad(offset,
                           "inode number " + std::to_string(record.ino) + " is out of range");
            record.name =
                std::string_view(reinterpret_cast<const char*>(at + kHeader), name_length);
        }
        if (!visit(record))
            return {};
        offset += record.rec_len;
    }
    return {};
}

Result<std::optional<Directory::Found>> Directory::find(std::string_view name) {
    std::vector<uint8_t> bytes;
    uint64_t blocks = TRY(block_count());
    for (uint64_t index = 0; index < blocks; ++index) {
        TRY(read_block(index, bytes));
        std::optional<Found> found;
        std::optional<uint32_t> previous;
        TRY(parse_block(index, bytes, [&](const DirectoryRecord& record) {
            if (record.ino != 0 && record.name == name) {
                found = Found{record.ino, record.type, index, record.offset, previous};
                return false;
            }
            previous = record.offset;
            return true;
        }));
        if (found)
            return found;
    }
    return std::optional<Found>();
}

Result<void> Directory::list(uint64_t cookie, const Visitor& visit) {
    std::vector<uint8_t> bytes;
    uint64_t block_size = m_fs.block_size();
    uint64_t blocks = TRY(block_count());
    for (uint64_t index = cookie / block_size; index < blocks; ++index) {
        TRY(read_block(index, bytes));
        bool stopped = false;
        TRY(parse_block(index, bytes, [&](const DirectoryRecord& record) {
            uint64_t offset = index * block_size + record.offset;
            if (offset < cookie || record.ino == 0)
                return true;
            if (!visit(offset, record)) {
                stopped = true;
                return false;
            }
            return true;
        }));
        if (stopped)
            return {};
    }
    return {};
}

void Directory::store_record(std::span<uint8_t> block, uint32_t offset, uint32_t ino,
                             uint32_t rec_len, std::string_view name, mode_t mode) const {
    uint8_t* at = block.data() + offset;
    store_le<uint32_t>(at, ino);
    store_le<uint16_t>(at + 4, static_cast<uint16_t>(rec_len));
    at[6] = static_cast<uint8_t>(name.size());
    at[7] = m_fs.superblock().has_filetype() ? dirent_type_of(mode) : 0;
    std::memcpy(at + kHeader, name.data(), name.size());
}

void Directory::format_first_block(std::span<uint8_t> block, uint32_t self, uint32_t parent,
                                   bool filetype) {
    std::memset(block.data(), 0, block.size());
    uint8_t type = filetype ? dirent_type_of(S_IFDIR) : 0;
    uint8_t* dot = block.data();
    store_le<uint32_t>(dot, self);
    store_le<uint16_t>(dot + 4, static_cast<uint16_t>(kMinRecord));
    dot[6] = 1;
    dot[7] = type;
    dot[8] = '.';
    uint8_t* dotdot = dot + kMinRecord;
    store_le<uint32_t>(dotdot, parent);
    store_le<uint16_t>(dotdot + 4, static_cast<uint16_t>(block.size() - kMinRecord));
    dotdot[6] = 2;
    dotdot[7] = type;
    dotdot[8] = '.';
    dotdot[9] = '.';
}

Result<void> Directory::drop_index() {
    InodeRecord& record = m_dir.record_locked();
    if (!(record.flags() & format::inode_flag_index))
        return {};
    record.set_flags(record.flags() & ~format::inode_flag_index);
    return m_dir.save_locked();
}

Result<void> Directory::add(std::string_view name, uint32_t ino, mode_t mode) {
    TRY(drop_index());
    uint32_t needed = format::dirent_size(static_cast<uint32_t>(name.size()));
    std::vector<uint8_t> bytes;
    uint64_t blocks = TRY(block_count());
    for (uint64_t index = 0; index < blocks; ++index) {
        TRY(read_block(index, bytes));
        struct Slot {
            uint32_t offset, rec_len, used;
        };
        std::optional<Slot> slot;
        TRY(parse_block(index, bytes, [&](const DirectoryRecord& record) {
            uint32_t used =
                record.ino ? format::dirent_size(static_cast<uint32_t>(record.name.size())) : 0;
            if (record.rec_len - used >= needed) {
                slot = Slot{record.offset, record.rec_len, used};
                return false;
            }
            return true;
        }));
        if (!slot)
            continue;
        if (slot->used != 0)
            store_le<uint16_t>(bytes.data() + slot->offset + 4, static_cast<uint16_t>(slot->used));
        store_record(bytes, slot->offset + slot->used, ino, slot->rec_len - slot->used, name, mode);
        return write_block(index, bytes);
    }

    // No room: one more block holding just this entry.
    InodeRecord& record = m_dir.record_locked();
    uint64_t size = record.size();
    if (size + m_fs.block_size() > UINT32_MAX)
        return Error(ENOSPC, "directory too large");
    BlockMap map(m_fs, m_dir.number(), record);
    auto mapping = map.allocate(blocks);
    if (mapping.is_error()) {
        (void)m_dir.save_locked();  // i_blocks may count a new mapping block
        return mapping.release_error();
    }
    bytes.assign(m_fs.block_size(), 0);
    store_record(bytes, 0, ino, m_fs.block_size(), name, mode);
    Result<void> written = m_fs.write_blocks_locked(mapping.value().block, bytes);
    if (!written.is_error())
        record.set_size(size + m_fs.block_size());
    TRY(m_dir.save_locked());
    return written;
}

Result<void> Directory::remove(std::string_view name) {
    std::optional<Found> found = TRY(find(name));
    if (!found)
        return Error(ENOENT, "no such file or directory");
    TRY(drop_index());
    std::vector<uint8_t> bytes;
    TRY(read_block(found->block_index, bytes));
    if (found->previous_offset) {
        // The record before absorbs this one, as Linux's ext2 does.
        uint8_t* previous = bytes.data() + *found->previous_offset;
        uint32_t merged =
            load_le<uint16_t>(previous + 4) + load_le<uint16_t>(bytes.data() + found->offset + 4);
        store_le<uint16_t>(previous + 4, static_cast<uint16_t>(merged));
    } else {
        store_le<uint32_t>(bytes.data() + found->offset, 0);
    }
    return write_block(found->block_index, bytes);
}

Result<void> Directory::retarget(std::string_view name, uint32_t ino, mode_t mode) {
    std::optional<Found> found = TRY(find(name));
    if (!found)
        return Error(ENOENT, "no such file or directory");
    std::vector<uint8_t> bytes;
    TRY(read_block(found->block_index, bytes));
    uint8_t* at = bytes.data() + found->offset;
    store_le<uint32_t>(at, ino);
    if (m_fs.superblock().has_filetype())
        at[7] = dirent_type_of(mode);
    return write_block(found->block_index, bytes);
}

Result<bool> Directory::is_empty() {
    bool empty = true;
    TRY(list(0, [&](uint64_t, const DirectoryRecord& record) {
        if (record.name == "." || record.name == "..")
            return true;
        empty = false;
        return false;
    }));
    return empty;
}

}  // namespace myst::fs::ext2

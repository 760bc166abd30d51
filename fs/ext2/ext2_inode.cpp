// ext2 inodes: attributes, file contents, symlinks and directory reads.
#include "fs/ext2/ext2_inode.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "base/endian.h"
#include "fs/ext2/ext2_block_map.h"
#include "fs/ext2/ext2_directory.h"
#include "fs/ext2/ext2_file_system.h"
#include "fs/vfs/open_file.h"

namespace myst::fs::ext2 {

namespace {

constexpr uint64_t kMaxReadRun = 1024;  // blocks per device read
constexpr uint64_t kLargeFileLimit = 0x7fffffff;

bool is_omitted(const struct timespec& time) {
    return time.tv_nsec == UTIME_OMIT;
}

}  // namespace

uint8_t dirent_type_of(mode_t mode) {
    using T = format::DirentType;
    switch (mode & S_IFMT) {
        case S_IFREG:
            return static_cast<uint8_t>(T::regular);
        case S_IFDIR:
            return static_cast<uint8_t>(T::directory);
        case S_IFCHR:
            return static_cast<uint8_t>(T::char_device);
        case S_IFBLK:
            return static_cast<uint8_t>(T::block_device);
        case S_IFIFO:
            return static_cast<uint8_t>(T::fifo);
        case S_IFSOCK:
            return static_cast<uint8_t>(T::socket);
        case S_IFLNK:
            return static_cast<uint8_t>(T::symlink);
        default:
            return static_cast<uint8_t>(T::unknown);
    }
}

uint8_t dt_of_dirent_type(uint8_t type) {
    static constexpr uint8_t kTypes[] = {DT_UNKNOWN, DT_REG,  DT_DIR,  DT_CHR,
                                         DT_BLK,     DT_FIFO, DT_SOCK, DT_LNK};
    if (type >= sizeof kTypes)
        return DT_UNKNOWN;
    return kTypes[type];
}

Ext2Inode::Ext2Inode(Ext2FileSystem& fs, uint32_t ino, InodeRecord record)
    : Inode(fs, ino, record.mode()), m_record(std::move(record)) {}

Ext2Inode::~Ext2Inode() {
    ext2().release_inode(*this);
}

Ext2FileSystem& Ext2Inode::ext2() const {
    return static_cast<Ext2FileSystem&>(file_system());
}

Result<void> Ext2Inode::save_locked() {
    return ext2().write_inode_record_locked(number(), m_record);
}

bool Ext2Inode::is_fast_symlink_locked() const {
    if (!is_symlink())
        return false;
    // Linux's test: no blocks but an extended-attribute block.
    uint64_t attribute_blocks = m_record.file_acl() ? ext2().block_size() / 512 : 0;
    return m_record.blocks(ext2().superblock()) == attribute_blocks;
}

bool Ext2Inode::has_block_map_locked() const {
    return is_regular() || is_directory() || (is_symlink() && !is_fast_symlink_locked());
}

void Ext2Inode::touch_locked(struct timespec now) {
    m_record.set_mtime(now);
    m_record.set_ctime(now);
}

Result<struct stat> Ext2Inode::read_stat() {
    std::lock_guard guard(ext2().lock());
    struct stat st {};
    st.st_ino = ino();
    st.st_mode = m_record.mode();
    st.st_nlink = m_record.links();
    st.st_uid = m_record.uid();
    st.st_gid = m_record.gid();
    st.st_rdev = m_record.rdev();
    st.st_size = static_cast<off_t>(m_record.size());
    st.st_blksize = ext2().block_size();
    st.st_blocks = static_cast<blkcnt_t>(m_record.blocks(ext2().superblock()));
    st.st_atim = m_record.atime();
    st.st_mtim = m_record.mtime();
    st.st_ctim = m_record.ctime();
    return st;
}

// --- Directory reads ---

Result<std::shared_ptr<Inode>> Ext2Inode::lookup(std::string_view name) {
    if (!is_directory())
        return Error(ENOTDIR, "not a directory");
    std::lock_guard guard(ext2().lock());
    if (name.size() > format::max_name_length)
        return Error(ENAMETOOLONG, "file name too long");
    Directory directory(ext2(), *this);
    return std::shared_ptr<Inode>(TRY(named_inode_locked(directory, name)));
}

Result<std::shared_ptr<Ext2Inode>> Ext2Inode::named_inode_locked(Directory& entries,
                                                                 std::string_view name) {
    auto found = TRY(entries.find(name));
    if (!found)
        return Error(ENOENT, "no such file or directory");
    return ext2().inode_locked(found->ino);
}

Result<void> Ext2Inode::read_directory(uint64_t cookie, const DirectoryVisitor& visit) {
    if (!is_directory())
        return Error(ENOTDIR, "not a directory");
    std::lock_guard guard(ext2().lock());
    Directory directory(ext2(), *this);
    Result<void> inner;
    TRY(directory.list(cookie, [&](uint64_t offset, const DirectoryRecord& record) {
        if (record.name == "." || record.name == "..")
            return true;
        uint8_t type = dt_of_dirent_type(record.type);
        if (type == DT_UNKNOWN) {
            // No filetype feature (or an unknown byte): the inode says.
            auto inode = ext2().read_inode_record_locked(record.ino);
            if (inode.is_error()) {
                inner = inode.release_error();
                return false;
            }
            type = directory_entry_type(inode.value().mode());
        }
        DirectoryEntry entry{std::string(record.name), record.ino, type, offset + record.rec_len};
        return visit(entry);
    }));
    return inner;
}

// --- Contents ---

Result<size_t> Ext2Inode::read_locked(uint64_t offset, std::span<uint8_t> buffer) {
    uint64_t size = m_record.size();
    if (offset >= size || buffer.empty())
        return size_t{0};
    size_t count = static_cast<size_t>(std::min<uint64_t>(buffer.size(), size - offset));
    uint32_t block_size = ext2().block_size();
    BlockMap map(ext2(), number(), m_record);
    std::vector<uint8_t> partial;
    size_t done = 0;
    while (done < count) {
        uint64_t position = offset + done;
        uint64_t index = position / block_size;
        uint32_t within = static_cast<uint32_t>(position % block_size);
        uint32_t block = TRY(map.lookup(index));
        if (within == 0 && count - done >= block_size) {
            // Whole blocks: one device read for a run of consecutive ones.
            uint64_t run = 1;
            while (run < kMaxReadRun && count - done >= (run + 1) * block_size) {
                uint32_t next = TRY(map.lookup(index + run));
                if (block == 0 ? next != 0 : next != block + run)
                    break;
                ++run;
            }
            std::span<uint8_t> target = buffer.subspan(done, run * block_size);
            if (block == 0)
                std::memset(target.data(), 0, target.size());
            else
                TRY(ext2().read_blocks_locked(block, target));
            done += target.size();
            continue;
        }
        size_t chunk = std::min<size_t>(block_size - within, count - done);
        if (block == 0) {
            std::memset(buffer.data() + done, 0, chunk);
        } else {
            partial.resize(block_size);
            TRY(ext2().read_blocks_locked(block, partial));
            std::memcpy(buffer.data() + done, partial.data() + within, chunk);
        }
        done += chunk;
    }
    return count;
}

Result<size_t> Ext2Inode::read_at(uint64_t offset, std::span<uint8_t> buffer) {
    if (!is_regular())
        return Inode::read_at(offset, buffer);
    std::lock_guard guard(ext2().lock());
    return read_locked(offset, buffer);
}

Result<void> Ext2Inode::zero_tail_locked(uint64_t size) {
    uint32_t block_size = ext2().block_size();
    uint32_t within = static_cast<uint32_t>(size % block_size);
    if (within == 0)
        return {};
    BlockMap map(ext2(), number(), m_record);
    uint32_t block = TRY(map.lookup(size / block_size));
    if (block == 0)
        return {};
    std::vector<uint8_t> bytes(block_size);
    TRY(ext2().read_blocks_locked(block, bytes));
    if (is_all_zero(std::span(bytes).subspan(within)))
        return {};
    std::memset(bytes.data() + within, 0, block_size - within);
    return ext2().write_blocks_locked(block, bytes);
}

Result<size_t> Ext2Inode::write_locked(uint64_t offset, std::span<const uint8_t> data) {
    TRY(ext2().check_writable());
    if (data.empty())
        return size_t{0};
    uint64_t max_size = ext2().superblock().max_file_size();
    if (offset >= max_size)
        return Error(EFBIG, "file too large");
    data = data.first(static_cast<size_t>(std::min<uint64_t>(data.size(), max_size - offset)));
    uint64_t old_size = m_record.size();
    if (offset + data.size() > kLargeFileLimit)
        TRY(ext2().require_large_file_locked());
    if (offset + data.size() > old_size)
        TRY(zero_tail_locked(old_size));  // garbage past the old end must not show

    uint32_t block_size = ext2().block_size();
    BlockMap map(ext2(), number(), m_record);
    std::vector<uint8_t> partial;
    size_t done = 0;
    Result<void> failure;
    while (done < data.size()) {
        uint64_t position = offset + done;
        uint32_t within = static_cast<uint32_t>(position % block_size);
        size_t chunk = std::min<size_t>(block_size - within, data.size() - done);
        auto mapping = map.allocate(position / block_size);
        if (mapping.is_error()) {
            failure = mapping.release_error();
            break;
        }
        Result<void> written;
        if (chunk == block_size) {
            written = ext2().write_blocks_locked(mapping.value().block, data.subspan(done, chunk));
        } else {
            partial.assign(block_size, 0);
            if (!mapping.value().fresh)
                written = ext2().read_blocks_locked(mapping.value().block, partial);
            if (!written.is_error()) {
                std::memcpy(partial.data() + within, data.data() + done, chunk);
                written = ext2().write_blocks_locked(mapping.value().block, partial);
            }
        }
        if (written.is_error()) {
            failure = written;
            break;
        }
        done += chunk;
    }
    // What was written counts even when a later block failed (ENOSPC).
    if (done > 0) {
        m_record.set_size(std::max<uint64_t>(old_size, offset + done));
        touch_locked(ext2().now());
    }
    TRY(save_locked());
    if (done == 0 && failure.is_error())
        return failure.release_error();
    return done;
}

Result<size_t> Ext2Inode::write_at(uint64_t offset, std::span<const uint8_t> data) {
    if (!is_regular())
        return Inode::write_at(offset, data);
    std::lock_guard guard(ext2().lock());
    return write_locked(offset, data);
}

Result<uint64_t> Ext2Inode::append(std::span<const uint8_t> data) {
    if (!is_regular())
        return Inode::append(data);
    std::lock_guard guard(ext2().lock());
    TRY(write_locked(m_record.size(), data));
    return m_record.size();
}

Result<void> Ext2Inode::resize_locked(uint64_t size) {
    TRY(ext2().check_writable());
    if (size > ext2().superblock().max_file_size())
        return Error(EFBIG, "file too large");
    uint64_t old_size = m_record.size();
    if (size > kLargeFileLimit)
        TRY(ext2().require_large_file_locked());
    if (size < old_size) {
        uint32_t block_size = ext2().block_size();
        BlockMap map(ext2(), number(), m_record);
        Result<void> freed = map.truncate((size + block_size - 1) / block_size);
        if (freed.is_error()) {
            (void)save_locked();  // i_block and i_blocks already changed in part
            return freed;
        }
        m_record.set_size(size);
        TRY(zero_tail_locked(size));
    } else if (size > old_size) {
        TRY(zero_tail_locked(old_size));
        m_record.set_size(size);
    }
    return save_locked();
}

Result<void> Ext2Inode::truncate(uint64_t size) {
    if (!is_regular())
        return Inode::truncate(size);
    std::lock_guard guard(ext2().lock());
    TRY(resize_locked(size));
    touch_locked(ext2().now());
    return save_locked();
}

Result<void> Ext2Inode::free_all_blocks_locked() {
    if (has_block_map_locked()) {
        BlockMap map(ext2(), number(), m_record);
        Result<void> freed = map.truncate(0);
        if (freed.is_error()) {
            (void)save_locked();
            return freed;
        }
    }
    if (uint32_t acl = m_record.file_acl(); acl != 0) {
        // The extended-attribute block may be shared: drop our reference.
        TRY(ext2().check_data_block(acl, number()));
        std::vector<uint8_t> bytes(ext2().block_size());
        TRY(ext2().read_blocks_locked(acl, bytes));
        if (load_le<uint32_t>(bytes.data()) != format::xattr_magic)
            return ext2().corrupt("inode " + std::to_string(number()) +
                                  ": bad extended-attribute block " + std::to_string(acl));
        uint8_t* refcount = bytes.data() + format::xattr_refcount_offset;
        uint32_t references = load_le<uint32_t>(refcount);
        if (references > 1) {
            store_le<uint32_t>(refcount, references - 1);
            TRY(ext2().write_blocks_locked(acl, bytes));
        } else {
            TRY(ext2().free_blocks_locked(acl, 1));
        }
        m_record.add_blocks_512(-static_cast<int64_t>(ext2().block_size() / 512));
        m_record.clear_file_acl();
    }
    return save_locked();
}

// --- Symlinks ---

Result<void> Ext2Inode::init_symlink_locked(std::string_view target) {
    m_record.set_size(target.size());
    if (target.size() < 60) {
        m_record.set_block_bytes(
            std::span(reinterpret_cast<const uint8_t*>(target.data()), target.size()));
        return {};
    }
    BlockMap map(ext2(), number(), m_record);
    BlockMap::Mapping mapping = TRY(map.allocate(0));
    std::vector<uint8_t> bytes(ext2().block_size(), 0);
    std::memcpy(bytes.data(), target.data(), target.size());
    return ext2().write_blocks_locked(mapping.block, bytes);
}

Result<std::string> Ext2Inode::read_link() {
    if (!is_symlink())
        return Inode::read_link();
    std::lock_guard guard(ext2().lock());
    uint64_t size = m_record.size();
    if (is_fast_symlink_locked()) {
        if (size >= 60)
            return ext2().corrupt("inode " + std::to_string(number()) + ": fast symlink of " +
                                  std::to_string(size) + " bytes");
        auto bytes = m_record.block_bytes();
        return std::string(reinterpret_cast<const char*>(bytes.data()), size);
    }
    if (size == 0 || size >= ext2().block_size())
        return ext2().corrupt("inode " + std::to_string(number()) + ": symlink of " +
                              std::to_string(size) + " bytes");
    std::string target(size, '\0');
    size_t got = TRY(read_locked(0, std::span(reinterpret_cast<uint8_t*>(target.data()), size)));
    target.resize(got);
    return target;
}

// --- Attributes ---

Result<void> Ext2Inode::chmod(mode_t permissions) {
    std::lock_guard guard(ext2().lock());
    TRY(ext2().check_writable());
    m_record.set_mode(type() | (permissions & 07777));
    m_record.set_ctime(ext2().now());
    return save_locked();
}

Result<void> Ext2Inode::chown(uid_t uid, gid_t gid) {
    std::lock_guard guard(ext2().lock());
    TRY(ext2().check_writable());
    if (uid != static_cast<uid_t>(-1))
        m_record.set_uid(uid);
    if (gid != static_cast<gid_t>(-1))
        m_record.set_gid(gid);
    m_record.set_ctime(ext2().now());
    return save_locked();
}

Result<void> Ext2Inode::set_times(const struct timespec times[2]) {
    std::lock_guard guard(ext2().lock());
    TRY(ext2().check_writable());
    if (!is_omitted(times[0]))
        m_record.set_atime(times[0]);
    if (!is_omitted(times[1]))
        m_record.set_mtime(times[1]);
    m_record.set_ctime(ext2().now());
    return save_locked();
}

Result<std::shared_ptr<OpenFile>> Ext2Inode::open(const PathRef& path, int flags) {
    // FIXME: device nodes in the image need a device table; until then only
    // devfs serves devices (as in ramfs). FIFOs never get here: the VFS
    // opens them as the kernel's pipes (Vfs::set_fifo_opener).
    if (S_ISCHR(type()) || S_ISBLK(type()) || S_ISFIFO(type()))
        return Error(ENXIO, "no device behind this node");
    return Inode::open(path, flags);
}

}  // namespace myst::fs::ext2

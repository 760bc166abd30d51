#include "fs/ramfs/ramfs_inode.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "fs/ramfs/ramfs.h"
#include "fs/vfs/open_file.h"

namespace myst::fs {

namespace ramfs {

namespace {

constexpr uint64_t kMaxFileSize = std::numeric_limits<int64_t>::max();
// tmpfs counts 20 bytes per directory entry in a directory's st_size.
constexpr uint64_t kBogusDirentSize = 20;

bool is_omitted(const struct timespec& time) {
    return time.tv_nsec == UTIME_OMIT;
}

}  // namespace

RamFileSystem::RamFileSystem(Clock clock, mode_t root_mode, PageCharge charge,
                             std::optional<uint64_t> inode_limit)
    : m_clock(std::move(clock)), m_inode_limit(inode_limit), m_charge(std::move(charge)) {
    std::lock_guard guard(m_lock);
    m_root = make_inode_locked({S_IFDIR | (root_mode & 07777), 0, 0, 0});
}

bool RamFileSystem::take_page() {
    if (m_charge && !m_charge->take(RamInode::kPageSize))
        return false;
    ++m_pages;
    return true;
}

void RamFileSystem::give_back_pages(int64_t count, int64_t charged) {
    m_pages -= count;
    if (m_charge && charged > 0)
        m_charge->give_back(static_cast<uint64_t>(charged) * RamInode::kPageSize);
}

Result<uint32_t> RamFileSystem::take_entry(uint64_t bytes) {
    if (m_inode_limit.value_or(0) != 0 && m_entries + 1 >= *m_inode_limit)
        return Error(ENOSPC, "no free inodes (nr_inodes=" + std::to_string(*m_inode_limit) + ")");
    if (!m_charge)
        return uint32_t{0};
    if (!m_charge->take(bytes))
        return Error(ENOSPC, "no room for another directory entry (the memory budget)");
    return static_cast<uint32_t>(bytes);
}

void RamFileSystem::give_back_entry(uint32_t charged) {
    if (m_charge && charged > 0)
        m_charge->give_back(charged);
}

bool RamFileSystem::charge_writes_to(PageCharge charge) {
    // The CPIO root is loaded before the kernel and its budget exist: what
    // it holds then (the archive) stays uncharged and is never given back.
    std::lock_guard guard(m_lock);
    m_charge = std::move(charge);
    return true;
}

std::shared_ptr<Inode> RamFileSystem::root() {
    return m_root;
}

std::shared_ptr<RamInode> RamFileSystem::make_inode_locked(const NewInode& attributes) {
    return std::make_shared<RamInode>(*this, m_next_ino++, attributes, m_clock());
}

Result<struct statfs> RamFileSystem::statfs() {
    struct statfs st = TRY(FileSystem::statfs());
    // As tmpfs: the size is the charge's limit (size=, or the memory
    // budget), the free blocks what it has left; without a charge, memory
    // is the limit and a generous rest is reported.
    constexpr uint64_t kUnchargedFreeBlocks = 1 << 18;  // 1 GiB of 4 KiB blocks
    uint64_t used = static_cast<uint64_t>(std::max<int64_t>(m_pages.load(), 0));
    std::lock_guard guard(m_lock);
    uint64_t free = m_charge ? m_charge->available() / RamInode::kPageSize : kUnchargedFreeBlocks;
    st.f_blocks =
        m_charge ? std::max(m_charge->capacity() / RamInode::kPageSize, free) : used + free;
    st.f_bfree = free;
    st.f_bavail = free;
    if (m_inode_limit) {  // nr_inodes=0 reports 0 and 0, as on Linux
        st.f_files = *m_inode_limit;
        st.f_ffree = *m_inode_limit - std::min(*m_inode_limit, m_entries + 1);
    } else {
        st.f_files = m_next_ino + kUnchargedFreeBlocks;
        st.f_ffree = kUnchargedFreeBlocks;
    }
    return st;
}

RamInode::RamInode(RamFileSystem& fs, uint64_t ino, const NewInode& attributes, struct timespec now)
    : Inode(fs, ino, attributes.mode),
      m_mode(attributes.mode),
      m_uid(attributes.uid),
      m_gid(attributes.gid),
      m_rdev(attributes.rdev),
      m_atime(now),
      m_mtime(now),
      m_ctime(now) {
    if (is_directory())
        m_nlink = 2;
}

RamInode::~RamInode() {
    int64_t count = static_cast<int64_t>(m_pages.size());
    ramfs().give_back_pages(count, count - static_cast<int64_t>(m_uncharged_pages));
}

RamFileSystem& RamInode::ramfs() const {
    return static_cast<RamFileSystem&>(file_system());
}

std::shared_ptr<RamInode> RamInode::child_locked(std::string_view name) const {
    auto it = m_entries.find(name);
    return it == m_entries.end() ? nullptr : it->second.inode;
}

Result<std::shared_ptr<RamInode>> RamInode::existing_child_locked(std::string_view name) const {
    if (!is_directory())
        return Error(ENOTDIR, "not a directory");
    std::shared_ptr<RamInode> child = child_locked(name);
    if (!child)
        return Error(ENOENT, "no such file or directory");
    return child;
}

void RamInode::add_entry_locked(std::string_view name, std::shared_ptr<RamInode> inode,
                                uint32_t charge) {
    if (inode->is_directory())
        ++m_nlink;  // the child's ".."
    else
        ++inode->m_nlink;
    uint64_t cookie = m_next_cookie++;
    m_names_by_cookie.emplace(cookie, std::string(name));
    m_entries.emplace(std::string(name), Entry{cookie, std::move(inode), charge});
    ramfs().entry_added_locked();
}

std::shared_ptr<RamInode> RamInode::remove_entry_locked(std::string_view name,
                                                        uint32_t* kept_charge) {
    auto it = m_entries.find(name);
    if (it == m_entries.end())
        return nullptr;
    std::shared_ptr<RamInode> inode = std::move(it->second.inode);
    if (kept_charge)
        *kept_charge = it->second.charge;
    else
        ramfs().give_back_entry(it->second.charge);
    m_names_by_cookie.erase(it->second.cookie);
    m_entries.erase(it);
    ramfs().entry_removed_locked();
    if (inode->is_directory())
        --m_nlink;
    else if (inode->m_nlink > 0)
        --inode->m_nlink;
    return inode;
}

void RamInode::touch_locked(struct timespec now) {
    m_mtime = now;
    m_ctime = now;
}

void RamInode::set_attributes_locked(mode_t mode, uid_t uid, gid_t gid, struct timespec time) {
    m_mode = type() | (mode & 07777);
    m_uid = uid;
    m_gid = gid;
    m_atime = m_mtime = m_ctime = time;
}

Result<struct stat> RamInode::read_stat() {
    std::lock_guard guard(ramfs().lock());
    struct stat st {};
    st.st_ino = ino();
    st.st_mode = m_mode;
    st.st_nlink = m_nlink;
    st.st_uid = m_uid;
    st.st_gid = m_gid;
    st.st_rdev = m_rdev;
    if (is_regular())
        st.st_size = static_cast<off_t>(m_size);
    else if (is_symlink())
        st.st_size = static_cast<off_t>(m_symlink_target.size());
    else if (is_directory())
        st.st_size = static_cast<off_t>((m_entries.size() + 2) * kBogusDirentSize);
    st.st_blksize = 4096;
    st.st_blocks = static_cast<blkcnt_t>(m_pages.size() * (kPageSize / 512));
    st.st_atim = m_atime;
    st.st_mtim = m_mtime;
    st.st_ctim = m_ctime;
    return st;
}

Result<std::shared_ptr<Inode>> RamInode::lookup(std::string_view name) {
    std::lock_guard guard(ramfs().lock());
    return std::shared_ptr<Inode>(TRY(existing_child_locked(name)));
}

Result<void> RamInode::read_directory(uint64_t cookie, const DirectoryVisitor& visit) {
    if (!is_directory())
        return Error(ENOTDIR, "not a directory");
    std::lock_guard guard(ramfs().lock());
    for (auto it = m_names_by_cookie.lower_bound(cookie); it != m_names_by_cookie.end(); ++it) {
        const Entry& entry = m_entries.find(it->second)->second;
        DirectoryEntry listed{it->second, entry.inode->ino(),
                              directory_entry_type(entry.inode->type()), it->first + 1};
        if (!visit(listed))
            break;
    }
    return {};
}

Result<std::shared_ptr<Inode>> RamInode::create_locked(std::string_view name,
                                                       const NewInode& attributes,
                                                       std::string_view symlink_target) {
    if (!is_directory())
        return Error(ENOTDIR, "not a directory");
    if (m_nlink == 0)
        return Error(ENOENT, "directory was removed");
    if (m_entries.find(name) != m_entries.end())
        return Error(EEXIST, "file exists");
    // The entry pays for the inode too, and a symbolic link for its target:
    // creating files without end is ENOSPC, as on a tmpfs out of inodes.
    uint32_t charge = TRY(ramfs().take_entry(kRamfsEntryBytes + symlink_target.size()));
    std::shared_ptr<RamInode> inode = ramfs().make_inode_locked(attributes);
    inode->m_symlink_target = std::string(symlink_target);
    add_entry_locked(name, inode, charge);
    touch_locked(ramfs().now());
    return std::shared_ptr<Inode>(std::move(inode));
}

Result<std::shared_ptr<Inode>> RamInode::create(std::string_view name, const NewInode& attributes) {
    std::lock_guard guard(ramfs().lock());
    return create_locked(name, attributes, {});
}

Result<std::shared_ptr<Inode>> RamInode::create_symlink(std::string_view name,
                                                        std::string_view target,
                                                        const NewInode& attributes) {
    std::lock_guard guard(ramfs().lock());
    NewInode link = attributes;
    link.mode = S_IFLNK | 0777;
    return create_locked(name, link, target);
}

Result<void> RamInode::link(std::string_view name, const std::shared_ptr<Inode>& target) {
    auto* same_fs = dynamic_cast<RamInode*>(target.get());
    if (!same_fs || &same_fs->file_system() != &file_system())
        return Error(EXDEV, "hard link across file systems");
    if (!is_directory())
        return Error(ENOTDIR, "not a directory");
    if (target->is_directory())
        return Error(EPERM, "cannot hard-link a directory");
    std::lock_guard guard(ramfs().lock());
    if (same_fs->m_nlink == 0)
        return Error(ENOENT, "file was removed");
    if (m_entries.find(name) != m_entries.end())
        return Error(EEXIST, "file exists");
    // Hard links multiply entries without inodes: each costs as a file does.
    uint32_t charge = TRY(ramfs().take_entry(kRamfsEntryBytes));
    add_entry_locked(name, std::static_pointer_cast<RamInode>(target), charge);
    struct timespec now = ramfs().now();
    touch_locked(now);
    same_fs->m_ctime = now;
    return {};
}

Result<void> RamInode::unlink(std::string_view name) {
    std::lock_guard guard(ramfs().lock());
    std::shared_ptr<RamInode> child = TRY(existing_child_locked(name));
    if (child->is_directory())
        return Error(EISDIR, "is a directory");
    remove_entry_locked(name);
    struct timespec now = ramfs().now();
    touch_locked(now);
    child->m_ctime = now;
    return {};
}

Result<void> RamInode::remove_directory(std::string_view name) {
    std::lock_guard guard(ramfs().lock());
    std::shared_ptr<RamInode> child = TRY(existing_child_locked(name));
    if (!child->is_directory())
        return Error(ENOTDIR, "not a directory");
    if (!child->m_entries.empty())
        return Error(ENOTEMPTY, "directory not empty");
    remove_entry_locked(name);
    child->m_nlink = 0;
    touch_locked(ramfs().now());
    return {};
}

Result<void> RamInode::rename(std::string_view old_name, Inode& new_parent,
                              std::string_view new_name) {
    auto* destination = dynamic_cast<RamInode*>(&new_parent);
    if (!destination || &destination->file_system() != &file_system())
        return Error(EXDEV, "rename across file systems");
    if (!is_directory() || !destination->is_directory())
        return Error(ENOTDIR, "not a directory");
    std::lock_guard guard(ramfs().lock());
    std::shared_ptr<RamInode> source = TRY(existing_child_locked(old_name));
    if (destination->m_nlink == 0)
        return Error(ENOENT, "directory was removed");
    if (std::shared_ptr<RamInode> replaced = destination->child_locked(new_name)) {
        if (replaced.get() == source.get())
            return {};
        if (replaced->is_directory() && !replaced->m_entries.empty())
            return Error(ENOTEMPTY, "directory not empty");
        destination->remove_entry_locked(new_name);
        if (replaced->is_directory())
            replaced->m_nlink = 0;
        replaced->m_ctime = ramfs().now();
    }
    // `source` keeps the inode alive between the two steps; its link count
    // goes down and up again.
    uint32_t charge = 0;
    remove_entry_locked(old_name, &charge);
    destination->add_entry_locked(new_name, source, charge);
    struct timespec now = ramfs().now();
    touch_locked(now);
    destination->touch_locked(now);
    source->m_ctime = now;
    return {};
}

Result<size_t> RamInode::read_at(uint64_t offset, std::span<uint8_t> buffer) {
    if (!is_regular())
        return Inode::read_at(offset, buffer);
    std::lock_guard guard(ramfs().lock());
    if (offset >= m_size)
        return size_t{0};
    size_t count = static_cast<size_t>(std::min<uint64_t>(buffer.size(), m_size - offset));
    size_t done = 0;
    while (done < count) {
        uint64_t position = offset + done;
        uint64_t index = position / kPageSize;
        size_t within = position % kPageSize;
        size_t chunk = std::min(count - done, kPageSize - within);
        auto it = m_pages.find(index);
        if (it == m_pages.end())
            std::memset(buffer.data() + done, 0, chunk);
        else
            std::memcpy(buffer.data() + done, it->second->data() + within, chunk);
        done += chunk;
    }
    return count;
}

Result<size_t> RamInode::write_locked(uint64_t offset, std::span<const uint8_t> data) {
    if (offset > kMaxFileSize || data.size() > kMaxFileSize - offset)
        return Error(EFBIG, "file too large");
    size_t done = 0;
    while (done < data.size()) {
        uint64_t position = offset + done;
        uint64_t index = position / kPageSize;
        size_t within = position % kPageSize;
        size_t chunk = std::min(data.size() - done, kPageSize - within);
        std::unique_ptr<Page>& page = m_pages[index];
        if (!page && !ramfs().take_page()) {
            m_pages.erase(index);
            // A short write, as Linux's tmpfs past size=; nothing at all is ENOSPC.
            if (done == 0)
                return Error(ENOSPC, "the file system's size limit is reached");
            break;
        }
        if (!page) {
            // A page written whole needs no zeroing first (CPIO loading writes
            // whole pages); a partly written one must read as zeros elsewhere.
            page = chunk == kPageSize ? std::make_unique_for_overwrite<Page>()
                                      : std::make_unique<Page>();
        }
        std::memcpy(page->data() + within, data.data() + done, chunk);
        done += chunk;
    }
    m_size = std::max<uint64_t>(m_size, offset + done);
    return done;
}

Result<uint32_t> RamInode::load_locked(image::RandomAccessFile& source, uint64_t offset,
                                       uint64_t size) {
    if (size > kMaxFileSize)
        return Error(EFBIG, "file too large");
    uint32_t sum = 0;
    for (uint64_t done = 0; done < size; done += kPageSize) {
        size_t chunk = static_cast<size_t>(std::min<uint64_t>(kPageSize, size - done));
        auto page =
            chunk == kPageSize ? std::make_unique_for_overwrite<Page>() : std::make_unique<Page>();
        TRY(source.read_at(offset + done, std::span(page->data(), chunk)));
        for (size_t i = 0; i < chunk; ++i)
            sum += (*page)[i];
        std::unique_ptr<Page>& slot = m_pages[done / kPageSize];
        if (!slot)
            ++ramfs().pages_in_use();
        slot = std::move(page);
    }
    m_uncharged_pages = std::max<uint64_t>(m_uncharged_pages, (size + kPageSize - 1) / kPageSize);
    m_size = size;
    return sum;
}

Result<size_t> RamInode::write_at(uint64_t offset, std::span<const uint8_t> data) {
    if (!is_regular())
        return Inode::write_at(offset, data);
    std::lock_guard guard(ramfs().lock());
    size_t written = TRY(write_locked(offset, data));
    if (written > 0)
        touch_locked(ramfs().now());
    return written;
}

Result<uint64_t> RamInode::append(std::span<const uint8_t> data) {
    if (!is_regular())
        return Inode::append(data);
    std::lock_guard guard(ramfs().lock());
    TRY(write_locked(m_size, data));
    if (!data.empty())
        touch_locked(ramfs().now());
    return m_size;
}

void RamInode::resize_locked(uint64_t size) {
    if (size < m_size) {
        // Drop whole pages past the end and zero the tail of the last one,
        // so that growing again reads zeros.
        uint64_t first_dropped = (size + kPageSize - 1) / kPageSize;
        auto it = m_pages.lower_bound(first_dropped);
        auto dropped = static_cast<int64_t>(std::distance(it, m_pages.end()));
        // The archive's pages among them were never charged.
        auto uncharged = static_cast<int64_t>(
            m_uncharged_pages > first_dropped ? m_uncharged_pages - first_dropped : 0);
        ramfs().give_back_pages(dropped, dropped - uncharged);
        m_uncharged_pages = std::min(m_uncharged_pages, first_dropped);
        m_pages.erase(it, m_pages.end());
        if (size % kPageSize != 0) {
            auto last = m_pages.find(size / kPageSize);
            if (last != m_pages.end())
                std::memset(last->second->data() + size % kPageSize, 0,
                            kPageSize - size % kPageSize);
        }
    }
    m_size = size;
}

Result<void> RamInode::truncate(uint64_t size) {
    if (!is_regular())
        return Inode::truncate(size);
    if (size > kMaxFileSize)
        return Error(EFBIG, "file too large");
    std::lock_guard guard(ramfs().lock());
    resize_locked(size);
    touch_locked(ramfs().now());
    return {};
}

Result<std::string> RamInode::read_link() {
    if (!is_symlink())
        return Inode::read_link();
    std::lock_guard guard(ramfs().lock());
    return m_symlink_target;
}

Result<void> RamInode::chmod(mode_t permissions) {
    std::lock_guard guard(ramfs().lock());
    m_mode = type() | (permissions & 07777);
    m_ctime = ramfs().now();
    return {};
}

Result<void> RamInode::chown(uid_t uid, gid_t gid) {
    std::lock_guard guard(ramfs().lock());
    if (uid != static_cast<uid_t>(-1))
        m_uid = uid;
    if (gid != static_cast<gid_t>(-1))
        m_gid = gid;
    m_ctime = ramfs().now();
    return {};
}

Result<void> RamInode::set_times(const struct timespec times[2]) {
    std::lock_guard guard(ramfs().lock());
    if (!is_omitted(times[0]))
        m_atime = times[0];
    if (!is_omitted(times[1]))
        m_mtime = times[1];
    m_ctime = ramfs().now();
    return {};
}

Result<std::shared_ptr<OpenFile>> RamInode::open(const PathRef& path, int flags) {
    // FIXME: device nodes in the image need a device table; until then only
    // devfs serves devices. FIFOs never get here: the VFS opens them as the
    // kernel's pipes (Vfs::set_fifo_opener).
    if (S_ISCHR(type()) || S_ISBLK(type()) || S_ISFIFO(type()))
        return Error(ENXIO, "no device behind this node");
    return Inode::open(path, flags);
}

}  // namespace ramfs

std::shared_ptr<FileSystem> create_ramfs(Clock clock, mode_t root_mode, PageCharge charge,
                                         std::optional<uint64_t> inode_limit) {
    return std::make_shared<ramfs::RamFileSystem>(std::move(clock), root_mode, std::move(charge),
                                                  inode_limit);
}

}  // namespace myst::fs

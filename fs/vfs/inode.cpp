// Default inode and file-system behaviour: the errno Linux gives when a file
// system lacks an operation.
#include "fs/vfs/inode.h"

#include <unistd.h>

#include "fs/vfs/open_file.h"
#include "target/target.h"

namespace myst::fs {

uint8_t directory_entry_type(mode_t mode) {
    switch (mode & S_IFMT) {
        case S_IFREG:
            return DT_REG;
        case S_IFDIR:
            return DT_DIR;
        case S_IFLNK:
            return DT_LNK;
        case S_IFCHR:
            return DT_CHR;
        case S_IFBLK:
            return DT_BLK;
        case S_IFIFO:
            return DT_FIFO;
        case S_IFSOCK:
            return DT_SOCK;
        default:
            return DT_UNKNOWN;
    }
}

Result<void> check_permission(const struct stat& st, const Identity& who, int want) {
    want &= R_OK | W_OK | X_OK;
    if (who.is_root()) {
        // Root reads and writes anything and searches any directory, but
        // runs only what someone may run.
        if ((want & X_OK) && !S_ISDIR(st.st_mode) && (st.st_mode & 0111) == 0)
            return Error(EACCES, "no execute permission");
        return {};
    }
    mode_t bits;
    if (who.uid == st.st_uid)
        bits = (st.st_mode >> 6) & 7;
    else if (who.gid == st.st_gid)
        bits = (st.st_mode >> 3) & 7;
    else
        bits = st.st_mode & 7;
    if ((bits & static_cast<mode_t>(want)) != static_cast<mode_t>(want))
        return Error(EACCES, "permission denied");
    return {};
}

Inode::Inode(FileSystem& fs, uint64_t ino, mode_t type)
    : m_fs(fs), m_ino(ino), m_type(type & S_IFMT) {}

Result<struct stat> Inode::stat() {
    struct stat st = TRY(read_stat());
    st.st_dev = m_fs.device_id();
    return st;
}

Error Inode::unsupported_directory_operation() const {
    if (!is_directory())
        return Error(ENOTDIR, "not a directory");
    return Error(EROFS, "read-only file system");
}

Result<std::shared_ptr<Inode>> Inode::lookup(std::string_view) {
    if (!is_directory())
        return Error(ENOTDIR, "not a directory");
    return Error(ENOENT, "no such file or directory");
}

Result<void> Inode::read_directory(uint64_t, const DirectoryVisitor&) {
    if (!is_directory())
        return Error(ENOTDIR, "not a directory");
    return {};
}

Result<std::shared_ptr<Inode>> Inode::create(std::string_view, const NewInode&) {
    return unsupported_directory_operation();
}

Result<std::shared_ptr<Inode>> Inode::create_symlink(std::string_view, std::string_view,
                                                     const NewInode&) {
    return unsupported_directory_operation();
}

Result<void> Inode::link(std::string_view, const std::shared_ptr<Inode>&) {
    return unsupported_directory_operation();
}

Result<void> Inode::unlink(std::string_view) {
    return unsupported_directory_operation();
}

Result<void> Inode::remove_directory(std::string_view) {
    return unsupported_directory_operation();
}

Result<void> Inode::rename(std::string_view, Inode&, std::string_view) {
    return unsupported_directory_operation();
}

Result<size_t> Inode::read_at(uint64_t, std::span<uint8_t>) {
    if (is_directory())
        return Error(EISDIR, "is a directory");
    return Error(EINVAL, "file cannot be read");
}

Result<size_t> Inode::write_at(uint64_t, std::span<const uint8_t>) {
    if (is_directory())
        return Error(EISDIR, "is a directory");
    return Error(EINVAL, "file cannot be written");
}

Result<uint64_t> Inode::append(std::span<const uint8_t> data) {
    // Not atomic: file systems that can do better override this.
    struct stat st = TRY(stat());
    uint64_t end = static_cast<uint64_t>(st.st_size);
    size_t written = TRY(write_at(end, data));
    return end + written;
}

Result<void> Inode::truncate(uint64_t) {
    if (is_directory())
        return Error(EISDIR, "is a directory");
    if (!is_regular())
        return Error(EINVAL, "not a regular file");
    return Error(EROFS, "read-only file system");
}

Result<void> Inode::sync() {
    return {};
}

Result<std::string> Inode::read_link() {
    return Error(EINVAL, "not a symbolic link");
}

PathRef Inode::magic_link_target(const PathRef&) {
    return nullptr;
}

Result<void> Inode::chmod(mode_t) {
    return Error(EPERM, "attributes cannot be changed");
}

Result<void> Inode::chown(uid_t, gid_t) {
    return Error(EPERM, "owner cannot be changed");
}

Result<void> Inode::set_times(const struct timespec[2]) {
    return Error(EPERM, "times cannot be changed");
}

Result<std::shared_ptr<OpenFile>> Inode::open(const PathRef& path, int flags) {
    return std::shared_ptr<OpenFile>(std::make_shared<InodeFile>(path, flags));
}

Result<struct statfs> FileSystem::statfs() {
    struct statfs st {};
    st.f_type = magic();
    st.f_bsize = 4096;
    st.f_namelen = 255;
    st.f_frsize = 4096;
    return st;
}

Clock clock_from_target(Target& target) {
    return [&target]() {
        auto now = target.clock_time(CLOCK_REALTIME);
        return now.is_error() ? timespec{} : now.value();
    };
}

Clock fixed_clock(struct timespec time) {
    return [time]() { return time; };
}

}  // namespace myst::fs

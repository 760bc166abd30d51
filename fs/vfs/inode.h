// Inodes and file systems: what every file system (ramfs, hostfs, devfs,
// procfs, ...) implements. An Inode is one file-system object; the VFS walks
// paths over them (fs/vfs/vfs.h) and opens them into OpenFiles
// (fs/vfs/open_file.h). The default implementations return the errno Linux
// gives when a file system lacks an operation.
#pragma once

#include <dirent.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <time.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/memory_charge.h"
#include "base/result.h"

namespace myst {
class Target;
}

namespace myst::fs {

class FileSystem;
class Inode;
class OpenFile;
class PathNode;
using PathRef = std::shared_ptr<const PathNode>;

// The wall clock (CLOCK_REALTIME) file systems stamp times with; the kernel
// backs it with the target, tests with a fake.
using Clock = std::function<struct timespec()>;

// Who asks: the caller's file-system ids (the effective ids, or the real
// ones for access(2)).
struct Identity {
    uid_t uid = 0;
    gid_t gid = 0;
    bool is_root() const { return uid == 0; }
};

// One directory entry as a file system lists it; "." and ".." are added by
// the VFS and never come from a file system.
struct DirectoryEntry {
    std::string name;
    uint64_t ino = 0;
    uint8_t type = DT_UNKNOWN;
    // The cookie that continues the listing after this entry; cookies are the
    // directory's offsets as lseek/telldir see them, stable across unlinks.
    uint64_t next_cookie = 0;
};

// Called once per entry; returns false to stop (the caller's buffer is full).
using DirectoryVisitor = std::function<bool(const DirectoryEntry&)>;

// What a new inode starts with.
struct NewInode {
    mode_t mode = 0;  // file type and permission bits (umask already applied)
    uid_t uid = 0;
    gid_t gid = 0;
    dev_t rdev = 0;  // devices
};

// The DT_* value for the S_IFMT bits of a mode.
uint8_t directory_entry_type(mode_t mode);

// Linux's generic permission check: `want` is a mask of R_OK, W_OK, X_OK.
// Root passes, except that executing needs some x bit on a non-directory.
Result<void> check_permission(const struct stat& st, const Identity& who, int want);

// The pages MAP_SHARED mappings of a regular file share (the kernel's
// SharedPages). While a file has them they hold its current bytes: reads
// through an open file come from them and writes go to both, so a mapping
// and read(2)/write(2) agree at once, as Linux's page cache makes them;
// the file itself gets the mapped bytes back on msync(2) and when the last
// mapping goes.
class MappedPages {
public:
    virtual ~MappedPages() = default;
    virtual Result<size_t> read(uint64_t offset, std::span<uint8_t> buffer) = 0;
    virtual Result<void> write(uint64_t offset, std::span<const uint8_t> data) = 0;
    // Follows the file's size (truncate): bytes past it are gone.
    virtual Result<void> resize(uint64_t size) = 0;
};

class Inode {
public:
    Inode(FileSystem& fs, uint64_t ino, mode_t type);
    virtual ~Inode() = default;
    Inode(const Inode&) = delete;
    Inode& operator=(const Inode&) = delete;

    FileSystem& file_system() const { return m_fs; }
    uint64_t ino() const { return m_ino; }
    // The S_IFMT bits, fixed for the inode's life.
    mode_t type() const { return m_type; }
    // Whether opening it connects to a FIFO's pipe (Vfs::set_fifo_opener):
    // true for the FIFOs file systems store, not for procfs's links to
    // open pipes, which open the pipe itself again.
    virtual bool is_named_fifo() const { return S_ISFIFO(m_type); }
    bool is_directory() const { return S_ISDIR(m_type); }
    bool is_symlink() const { return S_ISLNK(m_type); }
    bool is_regular() const { return S_ISREG(m_type); }
    // Whether both are the same object of the same file system.
    bool same_as(const Inode& other) const { return &m_fs == &other.m_fs && m_ino == other.m_ino; }

    // stat(2) of this inode; st_dev is the file system's device number.
    Result<struct stat> stat();

    // --- Directories (ENOTDIR on anything else; EROFS when read-only). ---
    // ENOENT when there is no such entry; `name` is one component, never
    // "." or "..".
    virtual Result<std::shared_ptr<Inode>> lookup(std::string_view name);
    // Lists the entries from `cookie` on (0 = from the start).
    virtual Result<void> read_directory(uint64_t cookie, const DirectoryVisitor& visit);
    // Creates a regular file, directory, device, fifo or socket (by the type
    // bits of `attributes.mode`); EEXIST when the name is taken.
    virtual Result<std::shared_ptr<Inode>> create(std::string_view name,
                                                  const NewInode& attributes);
    virtual Result<std::shared_ptr<Inode>> create_symlink(std::string_view name,
                                                          std::string_view target,
                                                          const NewInode& attributes);
    // A new name for `target` (same file system, not a directory).
    virtual Result<void> link(std::string_view name, const std::shared_ptr<Inode>& target);
    // Removes a non-directory entry (EISDIR for a directory).
    virtual Result<void> unlink(std::string_view name);
    // Removes an empty directory (ENOTEMPTY otherwise, ENOTDIR for a file).
    virtual Result<void> remove_directory(std::string_view name);
    // Moves entry `old_name` to `new_name` in `new_parent` (same file system),
    // replacing what is there. The VFS has checked the Linux rules (types,
    // emptiness, loops, RENAME_NOREPLACE) beforehand.
    virtual Result<void> rename(std::string_view old_name, Inode& new_parent,
                                std::string_view new_name);

    // --- File contents. ---
    // Reads up to buffer.size() bytes at offset; 0 at end of file.
    virtual Result<size_t> read_at(uint64_t offset, std::span<uint8_t> buffer);
    virtual Result<size_t> write_at(uint64_t offset, std::span<const uint8_t> data);
    // Writes at the end of file as one step (O_APPEND); returns the new size.
    virtual Result<uint64_t> append(std::span<const uint8_t> data);
    virtual Result<void> truncate(uint64_t size);
    virtual Result<void> sync();
    // The target of a symlink (EINVAL for anything else).
    virtual Result<std::string> read_link();
    // procfs's /proc/<pid>/fd/N links lead to the open file itself, even when
    // its name is gone or it never had one (a pipe); null means "walk the
    // link text". `link` is the node of this link.
    virtual PathRef magic_link_target(const PathRef& link);

    // --- Attributes. ---
    virtual Result<void> chmod(mode_t permissions);
    // (uid_t)-1 / (gid_t)-1 keep the current value.
    virtual Result<void> chown(uid_t uid, gid_t gid);
    // {atime, mtime}; UTIME_OMIT keeps a time (UTIME_NOW is resolved by the VFS).
    virtual Result<void> set_times(const struct timespec times[2]);

    // A new open file description for this inode, reached through `path`
    // (whose inode is this one). The default serves regular files and
    // directories from the methods above.
    virtual Result<std::shared_ptr<OpenFile>> open(const PathRef& path, int flags);

    // The pages of this file's MAP_SHARED mappings, when it has any (null
    // otherwise). Guarded by the kernel lock, as the rest of the VFS.
    std::shared_ptr<MappedPages> mapped_pages() const { return m_mapped_pages.lock(); }
    void set_mapped_pages(std::weak_ptr<MappedPages> pages) { m_mapped_pages = std::move(pages); }

protected:
    virtual Result<struct stat> read_stat() = 0;

    // The errno for a directory operation this file system does not support.
    Error unsupported_directory_operation() const;

private:
    FileSystem& m_fs;
    uint64_t m_ino;
    mode_t m_type;
    std::weak_ptr<MappedPages> m_mapped_pages;
};

class FileSystem {
public:
    virtual ~FileSystem() = default;

    virtual std::shared_ptr<Inode> root() = 0;
    // The name /proc/mounts shows ("ramfs", "hostfs", "devtmpfs", "proc").
    virtual std::string_view type_name() const = 0;
    // statfs(2); the default reports an empty file system with this type's magic.
    virtual Result<struct statfs> statfs();
    // Makes what programs write here from now on (when it is held in memory:
    // ramfs files, the overlay above an ext2 image) come out of `charge`,
    // ENOSPC past it. What the file system held before stays uncharged.
    // False when writes here take no memory of the kernel's (hostfs).
    virtual bool charge_writes_to(std::shared_ptr<MemoryCharge> charge) {
        (void)charge;
        return false;
    }

    // The st_dev of every inode; the VFS numbers file systems when mounting.
    dev_t device_id() const { return m_device_id; }
    void set_device_id(dev_t id) { m_device_id = id; }

protected:
    // f_type of statfs(2).
    virtual long magic() const { return 0x858458f6; }  // RAMFS_MAGIC

private:
    dev_t m_device_id = 0;
};

// CLOCK_REALTIME of the target (0 if the target fails, which it does not on Linux).
Clock clock_from_target(Target& target);

// A Clock that never moves (tests, and file systems whose times do not matter).
Clock fixed_clock(struct timespec time);

}  // namespace myst::fs

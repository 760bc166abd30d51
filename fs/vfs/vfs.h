// The virtual file system: the mount table and every operation that takes
// a path (path_resolution(7)): absolute and relative paths, dirfds, "." and
// "..", symlinks (40 at most per resolution, else ELOOP), trailing slashes,
// mount points in both directions, and the rwx permission checks.
//
// One Vfs per kernel; the kernel creates it with the root file system and
// mounts the others. The Vfs holds no per-process state: a Lookup says
// where a path starts and who asks.
//
// Lock order: Vfs mount lock (never held while calling a file system) ->
// OpenFile offset lock -> file system lock.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fs/vfs/file_locks.h"
#include "fs/vfs/inode.h"
#include "fs/vfs/open_file.h"
#include "fs/vfs/path.h"

namespace myst::fs {

// openat2(2)'s RESOLVE_* restrictions on a resolution (Lookup::resolve),
// with Linux's values.
enum ResolveFlags : unsigned {
    resolve_no_xdev = 0x01,        // crossing a mount, either way: EXDEV
    resolve_no_magiclinks = 0x02,  // a /proc magic link: ELOOP
    resolve_no_symlinks = 0x04,    // any symlink followed: ELOOP
    resolve_beneath = 0x08,        // leaving `start` (absolute, "..", magic link): EXDEV
    resolve_in_root = 0x10,        // `start` is the root too (the caller sets both);
                                   // magic links are EXDEV
};

// Where a path resolution starts and who performs it.
struct Lookup {
    PathRef root;   // the process root: "/" starts here and ".." stops here
    PathRef start;  // relative paths start here: the cwd or a dirfd's directory
    Identity identity;
    unsigned resolve = 0;  // ResolveFlags
};

struct MountInfo {
    std::string path;
    std::string type;
    std::string source;
    bool read_only = false;
};

struct MountOptions {
    std::string source;  // what /proc/mounts shows first (the type when empty)
    bool read_only = false;
};

class Vfs {
public:
    static constexpr int kMaxSymlinks = 40;  // Linux's MAXSYMLINKS
    // Linux's default /proc/sys/fs/mount-max: past it a mount is ENOSPC, so
    // a program mounting in a loop cannot grow the table without bound.
    static constexpr size_t kMaxMounts = 100000;

    // `clock` stamps UTIME_NOW.
    static Result<std::unique_ptr<Vfs>> create(std::shared_ptr<FileSystem> root_fs, Clock clock);

    // Mounts `fs` on the existing directory at absolute `path` (EBUSY for
    // "/"; ENOSPC with kMaxMounts mounts, the root's included). A second
    // mount on one point stacks over the first, as on Linux.
    Result<void> mount(const std::string& path, std::shared_ptr<FileSystem> fs,
                       const MountOptions& options = {});
    // The same on a resolved directory (mount(2) resolves in the process).
    Result<void> mount_at(const PathRef& point, std::shared_ptr<FileSystem> fs,
                          const MountOptions& options = {});
    // umount2(2) of the mount whose root `path` names (`follow`: a final
    // symlink is followed): EINVAL when that is not the root of a mount,
    // EBUSY for "/", for a mount with mounts inside it, and (unless
    // `detach`) for one still in use by a cwd, a root or an open file. A
    // detached mount leaves the tree at once and its file system lives on
    // until the last user lets go (MNT_DETACH). The path is resolved here
    // so that no reference of the caller's counts as a use.
    Result<void> unmount(const Lookup& at, std::string_view path, bool follow, bool detach);
    std::vector<MountInfo> mounts() const;
    PathRef root() const { return m_root; }
    // A Lookup from the root as root (uid 0), for the kernel's own use.
    Lookup root_lookup() const { return {m_root, m_root, {}}; }
    FileLocks& locks() { return m_locks; }
    // What opening a FIFO gives (the kernel's pipes, which file systems do
    // not know); without one, opening a FIFO is ENXIO.
    using FifoOpener = std::function<Result<std::shared_ptr<OpenFile>>(const PathRef&, int flags)>;
    void set_fifo_opener(FifoOpener opener) { m_fifo_opener = std::move(opener); }
    const Clock& clock() const { return m_clock; }

    // --- Resolution. ---
    // The node `path` names; `follow` follows a final symlink.
    Result<PathRef> resolve(const Lookup& at, std::string_view path, bool follow = true) const;

    struct ParentAndName {
        PathRef parent;       // a directory
        std::string name;     // the last component: may be "", "." or ".." (for "/", "a/..")
        bool trailing_slash;  // the path ended in '/'
    };
    // The directory that holds the last component of `path`, and that name.
    Result<ParentAndName> resolve_parent(const Lookup& at, std::string_view path) const;

    // --- Operations by path. Modes already have the umask applied. ---
    // open(2): O_CREAT, O_EXCL, O_TRUNC, O_DIRECTORY, O_NOFOLLOW, O_PATH.
    Result<std::shared_ptr<OpenFile>> open(const Lookup& at, std::string_view path, int flags,
                                           mode_t mode) const;
    // Opens an already resolved node (checks access as open(2) does).
    Result<std::shared_ptr<OpenFile>> open_node(const PathRef& node, int flags,
                                                const Identity& who) const;
    Result<void> make_directory(const Lookup& at, std::string_view path, mode_t mode) const;
    // mknod(2) of regular files, fifos, sockets and (root only) devices.
    Result<void> make_node(const Lookup& at, std::string_view path, mode_t mode, dev_t dev) const;
    Result<void> make_symlink(std::string_view target, const Lookup& at,
                              std::string_view path) const;
    // link(2): a new name for `existing` (resolved by the caller, so that
    // AT_SYMLINK_FOLLOW and AT_EMPTY_PATH stay in the syscall layer).
    Result<void> make_link(const PathRef& existing, const Lookup& at, std::string_view path) const;
    Result<void> unlink(const Lookup& at, std::string_view path) const;
    Result<void> remove_directory(const Lookup& at, std::string_view path) const;
    // rename(2)/renameat2(2) with flags 0 or RENAME_NOREPLACE.
    Result<void> rename(const Lookup& from_at, std::string_view from, const Lookup& to_at,
                        std::string_view to, unsigned flags) const;
    Result<std::string> read_link(const Lookup& at, std::string_view path) const;

    // --- Operations on resolved nodes. ---
    // access(2): `mode` is F_OK or a mask of R_OK, W_OK, X_OK.
    Result<void> check_access(const PathRef& node, int mode, const Identity& who) const;
    Result<void> chmod(const PathRef& node, mode_t mode, const Identity& who) const;
    // (uid_t)-1 / (gid_t)-1 keep a value.
    Result<void> chown(const PathRef& node, uid_t uid, gid_t gid, const Identity& who) const;
    // utimensat(2) times (null = both now), with UTIME_NOW and UTIME_OMIT.
    Result<void> set_times(const PathRef& node, const struct timespec* times,
                           const Identity& who) const;
    Result<void> truncate(const PathRef& node, uint64_t size, const Identity& who) const;

private:
    Vfs(std::shared_ptr<Mount> root_mount, Clock clock);

    Result<PathRef> walk(const Lookup& at, const PathRef& start, std::string_view path, bool follow,
                         int& links) const;
    Result<ParentAndName> walk_parent(const Lookup& at, const PathRef& start, std::string_view path,
                                      int& links) const;
    Result<PathRef> follow_link(const Lookup& at, const PathRef& link, int& links) const;
    // The node for `name` in `parent`, entering the file system mounted on
    // it if there is one.
    PathRef enter(const PathRef& parent, std::string name, std::shared_ptr<Inode> inode) const;
    // ".." of `node` (EXDEV where Lookup::resolve forbids leaving it).
    Result<PathRef> parent_of(const Lookup& at, const PathRef& node) const;
    // Whether Lookup::resolve lets the walk follow `link` (to `magic`, a
    // magic link's node, or else to `target`): ELOOP or EXDEV if not.
    Result<void> check_link_allowed(const Lookup& at, const PathRef& link, const PathRef& magic,
                                    std::string_view target) const;
    // Looks `name` up in `parent` (ENOENT, or the child's node).
    Result<PathRef> child(const PathRef& parent, const std::string& name) const;
    // Where a new entry named by `path` goes: EEXIST when the name is taken
    // or is "", "." or ".."; ENOENT with `trailing_slash_error` when the
    // path ends in '/' (null: a trailing slash is allowed).
    Result<ParentAndName> resolve_new_entry(const Lookup& at, std::string_view path,
                                            const char* trailing_slash_error) const;
    Result<PathRef> create_file(const Lookup& at, const ParentAndName& where, mode_t mode) const;
    // Write and search permission on a directory, for changing its entries.
    Result<void> check_directory_writable(const PathRef& dir, const Identity& who) const;
    // The sticky-bit rule: in a +t directory only the owner of the entry
    // (or of the directory) may remove or rename it.
    Result<void> check_sticky(const PathRef& dir, const PathRef& victim, const Identity& who) const;

    using MountKey = std::pair<const FileSystem*, uint64_t>;

    PathRef m_root;
    Clock m_clock;
    FileLocks m_locks;
    FifoOpener m_fifo_opener;
    mutable std::mutex m_mounts_lock;
    // Attached mounts by id: in mount order, for /proc/mounts.
    std::map<uint64_t, std::shared_ptr<Mount>> m_mounts;
    // Mount point inode -> the mounts stacked there, the visible one last:
    // finding the visible mount costs one lookup however many are stacked.
    std::map<MountKey, std::vector<std::shared_ptr<Mount>>> m_mounts_by_point;
    uint64_t m_next_mount_id = 1;
};

}  // namespace myst::fs

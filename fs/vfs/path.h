// Paths as the VFS resolved them: a chain of (name, inode, mount) from the
// root down (SerenityOS's Custody, gVisor's VirtualDentry). The chain is
// what makes ".." cross mount points, getcwd print the full path and
// /proc/<pid>/fd show the name a file was opened by.
//
// NOTE: a chain keeps the names it was resolved with: after a directory is
// renamed, the chains through it still print the old name (Linux's dcache
// would follow the rename).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "fs/vfs/inode.h"

namespace myst::fs {

// A file system mounted at a path.
struct Mount {
    uint64_t id = 0;
    std::shared_ptr<FileSystem> fs;
    std::string path;        // the mount point, as /proc/mounts shows it
    std::string source;      // what was mounted (an image, a host directory), for /proc/mounts
    bool read_only = false;  // MS_RDONLY: changes are EROFS
    // Where the VFS's table holds it: the mount point's inode, or for a
    // mount stacked on others, the point of the lowest (Vfs::MountKey).
    const FileSystem* point_fs = nullptr;
    uint64_t point_ino = 0;
};

class PathNode {
public:
    PathNode(PathRef parent, std::string name, std::shared_ptr<Inode> inode,
             std::shared_ptr<Mount> mount)
        : m_parent(std::move(parent)),
          m_name(std::move(name)),
          m_mount(std::move(mount)),
          m_inode(std::move(inode)) {}

    // Null at the VFS root.
    const PathRef& parent() const { return m_parent; }
    // The component that led here; empty at the VFS root.
    const std::string& name() const { return m_name; }
    const std::shared_ptr<Inode>& inode() const { return m_inode; }
    const std::shared_ptr<Mount>& mount() const { return m_mount; }

    // Whether both name the same inode of the same mount.
    bool same_as(const PathNode& other) const {
        return m_mount == other.m_mount && m_inode->same_as(*other.m_inode);
    }
    // Whether `ancestor` is this node or lies on its chain to the root.
    bool is_within(const PathNode& ancestor) const;

    // The absolute path ("/usr/bin"); when `root` is on the chain (a process
    // root), the path is relative to it.
    std::string to_string(const PathNode* root = nullptr) const;

private:
    PathRef m_parent;
    std::string m_name;
    // The mount is declared before the inode so that it is destroyed after
    // it: the mount may hold the last reference to the file system, and an
    // inode's destructor still uses its file system.
    std::shared_ptr<Mount> m_mount;
    std::shared_ptr<Inode> m_inode;
};

}  // namespace myst::fs

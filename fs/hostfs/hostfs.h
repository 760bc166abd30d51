// hostfs: a host directory mounted inside the kernel's tree. INSECURE by
// nature: the host sees every byte and can change anything at any time; it
// is for development and explicitly requested mounts only.
//
// Every host access goes through the Target's host nodes: each inode holds
// an O_PATH descriptor of its host object, and every call names one
// checked component beneath the node of a directory of this mount
// (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, or a walk that does the
// same). The host never resolves a path on our behalf: symlinks are
// returned to the VFS as links and walked there, ".." is handled by the
// VFS chain, and an inode stays its object when it or a directory above it
// is renamed, so a symlink planted at its old name is never followed and
// nothing the program does leads out of the host directory. Devices, fifos
// and sockets on the host are listed but cannot be opened (ENXIO).
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "fs/vfs/inode.h"
#include "target/target.h"

namespace myst::fs {

// `host_root` must be an existing host directory (absolute path).
Result<std::shared_ptr<FileSystem>> create_hostfs(Target& target, const std::string& host_root);

}  // namespace myst::fs

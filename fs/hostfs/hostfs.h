// hostfs: a host directory mounted inside the kernel's tree. INSECURE by
// nature: the host sees every byte and can change anything at any time; it
// is for development and explicitly requested mounts only.
//
// Every host access goes through the Target. The host never resolves a
// path on our behalf beyond single names we checked: symlinks are returned
// to the VFS as links and walked there, ".." is handled by the VFS chain,
// and final components are opened with O_NOFOLLOW, so paths cannot leave
// the host directory through anything the program does. Devices, fifos and
// sockets on the host are listed but cannot be opened (ENXIO).
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

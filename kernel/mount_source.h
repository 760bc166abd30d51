// Opening what a mount names, for the command line, the config and the
// mount(2) call alike: an ext2 image from myst mkext2 (verified, decrypted
// with the key, writes kept in memory), a host directory (hostfs) or a
// fresh ramfs.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "blk/image_device.h"
#include "fs/ramfs/ramfs.h"
#include "fs/vfs/inode.h"
#include "target/target.h"

namespace myst::kernel {

enum class MountType { ext2, hostfs, ramfs };

struct MountSource {
    MountType type = MountType::ramfs;
    std::string host_path;  // the image or directory on the host (absolute); unused for ramfs
    blk::ImageTrust trust;  // ext2: which root hashes are trusted
    uint64_t cache_bytes = blk::default_image_cache_bytes;  // ext2: the verified cache
    // ext2: where the memory of its caches is charged (the allowance the
    // images a program mounts share); null: nowhere (the operator's images).
    std::shared_ptr<MemoryCharge> cache_charge;
    std::optional<std::vector<uint8_t>> key;  // ext2: the 64-byte key of an encrypted image
    mode_t root_mode = 0755;                  // ramfs: the mode of its root directory
    // Where a ramfs's pages and entries, and an ext2 image's written blocks,
    // are charged (the budget); null: nowhere.
    fs::PageCharge memory_charge;
    // ramfs: tmpfs's size=, in bytes or in percent of the budget; 0: only
    // the charge above limits it.
    uint64_t ram_size_bytes = 0;
    uint64_t ram_size_percent = 0;
    std::optional<uint64_t> ram_inode_limit;  // ramfs: tmpfs's nr_inodes= (0: no limit)
    blk::ImageExtent extent;                  // ext2: where the image lies in host_path
};

// The type a mount(2) or config names: "ext2", "hostfs", "ramfs" or
// "tmpfs" (a ramfs); ENODEV otherwise, as Linux says for an unknown type.
Result<MountType> mount_type_from_name(const std::string& name);

// The canonical host path of a mount(2) source if the operator allowed it:
// its realpath lies at or beneath one of `allowed` (canonical paths), so
// neither ".." nor a symlink widens the list. Anything else is EPERM, with
// no word of what the host has there; a missing path is ENOENT only when
// its directory is allowed.
Result<std::string> check_mountable(Target& target, const std::vector<std::string>& allowed,
                                    const std::string& path);

// Errors name the source and the reason (trust, key, corrupt image...).
// `encrypted` (optional) says whether an ext2 image was encrypted.
Result<std::shared_ptr<fs::FileSystem>> open_mount_source(Target& target, const MountSource& source,
                                                          bool* encrypted = nullptr);

}  // namespace myst::kernel

// The file systems a run starts with: the root (a CPIO image loaded into
// ramfs, or an insecure host directory), /dev, /proc, /tmp, and the
// --mount host directories.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "fs/vfs/vfs.h"
#include "kernel/kernel_instance.h"
#include "tools/myst/image_mount.h"

namespace myst::tools {

struct MountRequest {
    std::string source;      // host path (empty for ramfs)
    std::string target;      // absolute path inside
    std::string type;        // "ext2", "hostfs", "ramfs"; empty: a directory is hostfs, a file ext2
    std::string key_file;    // the 64-byte key of an encrypted ext2 image
    ImageOptions image;      // trust and cache for ext2 images
    bool read_only = false;  // config Flags "ro"
};

// "<host path>=<target>"; the target must be absolute.
Result<MountRequest> parse_mount_option(const std::string& option);

// A CPIO image becomes a writable ramfs (changes are lost at exit); an ext2
// image from myst mkext2 is mounted verified (writes stay in memory); a
// directory becomes hostfs. The error names the file and the reason.
Result<std::shared_ptr<fs::FileSystem>> open_root_filesystem(Target& target,
                                                             const std::string& rootfs,
                                                             const ImageOptions& trust);

// Mounts /dev, /proc and /tmp (creating the directories when the root lacks
// them, unless the root is a host directory) and each --mount directory.
Result<void> mount_standard_filesystems(kernel::KernelInstance& kernel, bool root_is_host_directory,
                                        const std::vector<MountRequest>& mounts);

}  // namespace myst::tools

// ext2fs: the ext2 file systems of `myst mkext2` and Linux's mke2fs (revision
// 0 or 1, 1/2/4 KiB blocks, block-mapped files), mounted read-write over a
// block device. Every write goes to the device: the kernel stacks a
// copy-on-write memory overlay under it (blk/), so nothing reaches the host.
//
// Images with incompatible features beyond "filetype" (extents, 64bit,
// flex_bg, meta_bg, journal recovery, ...) are refused with a message that
// names them; images with read-only-compatible features this driver does not
// maintain (metadata_csum, uninit_bg, huge_file, ...) mount read-only, and
// every write is EROFS. Corrupt metadata is EUCLEAN with a message, never a
// crash or a hang.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "blk/block_device.h"
#include "fs/vfs/inode.h"

namespace myst::fs {

// Mounts the ext2 file system on `device`; `name` (the image path) prefixes
// every error message. `clock` stamps the times of changes.
Result<std::shared_ptr<FileSystem>> create_ext2fs(std::unique_ptr<blk::BlockDevice> device,
                                                  Clock clock, const std::string& name);

}  // namespace myst::fs

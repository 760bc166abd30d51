// ramfs: a read-write file system in memory (the root file system loaded
// from a CPIO image, and empty ones for /tmp or /dev/shm). Everything,
// file contents included, lives in kernel memory.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>

#include "base/result.h"
#include "fs/vfs/inode.h"
#include "image/io.h"

namespace myst::fs {

// Asks for (positive) or gives back (negative) bytes of file pages; false
// when there is no room. /dev/shm and memfds charge the memory budget.
using PageCharge = std::function<bool(int64_t bytes)>;

// An empty ramfs whose root directory has `root_mode` (e.g. 01777 for /tmp).
// With a `charge`, a file page it refuses is ENOSPC (as tmpfs past size=).
std::shared_ptr<FileSystem> create_ramfs(Clock clock, mode_t root_mode = 0755,
                                         PageCharge charge = {});

// A ramfs holding the tree of a CPIO newc archive ("070701", or "070702"
// whose checksums are verified). Names are taken apart with
// image::cpio_name_components (no absolute names, no ".."); missing parent
// directories are created; entries that share an inode number and have
// nlink > 1 become hard links (data on any of them, as GNU cpio writes it).
// A corrupt archive is an error that says why and where.
Result<std::shared_ptr<FileSystem>> create_ramfs_from_cpio(image::RandomAccessFile& archive,
                                                           Clock clock);

}  // namespace myst::fs

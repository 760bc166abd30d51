// ramfs: a read-write file system in memory (the root file system loaded
// from a CPIO image, and empty ones for /tmp or /dev/shm). Everything,
// file contents included, lives in kernel memory.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>

#include "base/memory_charge.h"
#include "base/result.h"
#include "fs/vfs/inode.h"
#include "image/io.h"

namespace myst::fs {

// Where a ramfs takes the bytes of its file pages and directory entries
// from; null: kernel memory is the only limit. /dev/shm, /tmp, memfds and
// (from start on) the CPIO root charge the memory budget, a tmpfs mounted
// with size= its own limit on top.
using PageCharge = std::shared_ptr<MemoryCharge>;

// What a charged ramfs charges for each directory entry it makes (with the
// inode a new file gets; a symbolic link adds its target's length): about
// what the entry, its name and the inode take in kernel memory, so that a
// program making empty files or hard links without end meets the budget.
inline constexpr uint64_t kRamfsEntryBytes = 1024;

// An empty ramfs whose root directory has `root_mode` (e.g. 01777 for /tmp).
// With a `charge`, a file page it refuses is ENOSPC (as tmpfs past size=);
// with an `inode_limit` (tmpfs's nr_inodes=; 0: no limit), so is a
// directory entry past that many, the root counted, as tmpfs counts them.
std::shared_ptr<FileSystem> create_ramfs(Clock clock, mode_t root_mode = 0755,
                                         PageCharge charge = {},
                                         std::optional<uint64_t> inode_limit = std::nullopt);

// A ramfs holding the tree of a CPIO newc archive ("070701", or "070702"
// whose checksums are verified). Names are taken apart with
// image::cpio_name_components (no absolute names, no ".."); missing parent
// directories are created; entries that share an inode number and have
// nlink > 1 become hard links (data on any of them, as GNU cpio writes it).
// A corrupt archive is an error that says why and where.
Result<std::shared_ptr<FileSystem>> create_ramfs_from_cpio(image::RandomAccessFile& archive,
                                                           Clock clock);

}  // namespace myst::fs

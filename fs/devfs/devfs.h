// devfs: the /dev the program sees. Character devices null, zero, full,
// random and urandom (randomness from the target), the links stdin,
// stdout, stderr -> /proc/self/fd/0..2 and fd -> /proc/self/fd, and empty
// directories shm and pts to mount other file systems on.
#pragma once

#include <memory>

#include "fs/vfs/inode.h"
#include "target/target.h"

namespace myst::fs {

std::shared_ptr<FileSystem> create_devfs(Target& target);

}  // namespace myst::fs

#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"

namespace myst::kernel {

class Thread;

// Copies `length` bytes of the file open as `fd`, from `offset`, into the
// fresh mapping at `address` (bytes past the end of the file stay zero), and
// returns the file's path for /proc/self/maps. EBADF, EACCES (not readable)
// and ENODEV (not a regular file) as mmap(2).
Result<std::string> fill_file_mapping(Thread& thread, int fd, uint64_t offset, uint64_t address,
                                      uint64_t length);

}  // namespace myst::kernel

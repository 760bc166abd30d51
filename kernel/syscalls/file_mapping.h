#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/result.h"

namespace myst::kernel {

class SharedPages;
class Thread;

struct SharedFilePages {
    std::shared_ptr<SharedPages> pages;
    std::string name;  // for /proc/self/maps
};

// The pages a MAP_SHARED mapping of the file open as `fd` shows: the
// file's own shared pages for a regular file, fresh zero pages of
// `length` bytes for /dev/zero (as an anonymous shared mapping). EACCES
// when the descriptor is not readable, or not writable and `protection`
// has PROT_WRITE; ENODEV for anything else that cannot be mapped.
Result<SharedFilePages> shared_file_pages(Thread& thread, int fd, int protection, uint64_t length);

// Copies `length` bytes of the file open as `fd`, from `offset`, into the
// fresh mapping at `address` (bytes past the end of the file stay zero), and
// returns the file's path for /proc/self/maps. EBADF, EACCES (not readable)
// and ENODEV (not a regular file) as mmap(2).
Result<std::string> fill_file_mapping(Thread& thread, int fd, uint64_t offset, uint64_t address,
                                      uint64_t length);

}  // namespace myst::kernel

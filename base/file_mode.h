// File types in a mode word, as on-disk formats (cpio, ext2) store them.
#pragma once

#include <sys/stat.h>

#include <cstdint>

namespace myst {

// Whether the S_IFMT bits of `mode` name one of the seven POSIX file types;
// anything else in an archive or an inode is corruption.
inline bool is_known_file_type(uint32_t mode) {
    switch (mode & S_IFMT) {
        case S_IFREG:
        case S_IFDIR:
        case S_IFLNK:
        case S_IFCHR:
        case S_IFBLK:
        case S_IFIFO:
        case S_IFSOCK:
            return true;
        default:
            return false;
    }
}

}  // namespace myst

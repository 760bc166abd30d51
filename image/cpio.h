// CPIO "newc" archives (magic 070701), the format `cpio -H newc` writes and
// the kernel's ramfs loads. Entries are written sorted (parents first), with
// names relative to the root ("." for the root itself), ino numbered in order,
// so the same tree always gives the same bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "image/fs_tree.h"
#include "image/io.h"

namespace myst::image {

struct CpioEntry {
    std::string name;  // as stored, e.g. "bin/hello" ("." for the root)
    uint32_t ino = 0;
    uint32_t mode = 0;  // st_mode: type and permission bits
    uint32_t uid = 0;
    uint32_t gid = 0;
    uint32_t nlink = 0;
    uint32_t mtime = 0;
    uint32_t dev_major = 0;
    uint32_t dev_minor = 0;
    uint32_t rdev_major = 0;
    uint32_t rdev_minor = 0;
    uint64_t data_offset = 0;  // where the file's bytes (or symlink target) start
    uint32_t data_size = 0;
    // "070702" archives carry the sum of the data bytes (mod 2^32) in the
    // check field; plain newc ("070701") has none.
    bool has_checksum = false;
    uint32_t checksum = 0;
};

struct CpioWriteOptions {
    // Called every few MiB and once at the end; total_bytes is the exact size
    // of the archive being written.
    std::function<void(uint64_t done_bytes, uint64_t total_bytes)> progress;
};

// Writes the whole tree; returns the archive size. Files of 4 GiB or more do
// not fit newc's 32-bit size field: that is an EFBIG error naming the file.
Result<uint64_t> write_cpio(const TreeNode& root, RandomAccessFile& out,
                            const CpioWriteOptions& options = {});

// Parses the archive's headers up to TRAILER!!!; every field and length is
// checked against the archive size, so a corrupt or truncated archive is an
// error saying at which offset, never a crash.
Result<std::vector<CpioEntry>> read_cpio_entries(RandomAccessFile& archive);

// The path components of a stored name, for whoever turns entries back into
// a tree: "." components and repeated slashes are dropped ("./bin//x" is
// {"bin", "x"}, "." is the root: {}). A name that is empty, absolute, has a
// ".." component or is longer than PATH_MAX is an EINVAL error, since it
// could reach outside the tree being built.
Result<std::vector<std::string>> cpio_name_components(std::string_view name);

}  // namespace myst::image

// ext2 directories: blocks of variable-length entries (inode, rec_len,
// name_len, file type, name), each block a chain of records that ends
// exactly at its end. Directories indexed by an htree (dir_index) are read
// linearly, as Linux's ext2 does: the index hides in records that read as
// unused space. Changing the entries of an indexed directory clears
// EXT2_INDEX_FL, since the index no longer matches.
//
// Every record is checked before use (rec_len, name length, inode number),
// so a corrupt directory is EUCLEAN and every walk ends.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace myst::fs::ext2 {

class Ext2FileSystem;
class Ext2Inode;

// One record as it lies in a directory block.
struct DirectoryRecord {
    uint32_t offset = 0;  // within the block
    uint32_t ino = 0;     // 0: unused space
    uint32_t rec_len = 0;
    uint8_t type = 0;  // the file-type byte (0 without the filetype feature)
    std::string_view name;
};

class Directory {
public:
    // `dir` must be a directory; the fs lock must be held while this lives.
    Directory(Ext2FileSystem& fs, Ext2Inode& dir);

    struct Found {
        uint32_t ino = 0;
        uint8_t type = 0;
        uint64_t block_index = 0;
        uint32_t offset = 0;
        std::optional<uint32_t> previous_offset;  // the record before it in its block
    };
    // The entry called `name` ("." and ".." included), or none.
    Result<std::optional<Found>> find(std::string_view name);

    // Calls `visit` with each record in use from byte offset `cookie` on
    // (byte offsets within the directory); `visit` returns false to stop.
    using Visitor = std::function<bool(uint64_t offset, const DirectoryRecord& record)>;
    Result<void> list(uint64_t cookie, const Visitor& visit);

    // Adds an entry (the caller checked that `name` is free).
    Result<void> add(std::string_view name, uint32_t ino, mode_t mode);
    // Removes the entry called `name` (ENOENT when there is none).
    Result<void> remove(std::string_view name);
    // Points the existing entry `name` at another inode.
    Result<void> retarget(std::string_view name, uint32_t ino, mode_t mode);
    // True when only "." and ".." are left.
    Result<bool> is_empty();

    // The first block of a new directory: "." and "..".
    static void format_first_block(std::span<uint8_t> block, uint32_t self, uint32_t parent,
                                   bool filetype);

private:
    // Blocks of the directory (EUCLEAN unless its size is whole blocks).
    Result<uint64_t> block_count() const;
    Result<uint32_t> device_block(uint64_t index);
    Result<void> read_block(uint64_t index, std::vector<uint8_t>& bytes);
    Result<void> write_block(uint64_t index, std::span<const uint8_t> bytes);
    // Parses every record of one block, checking each; stops when `visit` returns false.
    Result<void> parse_block(uint64_t index, std::span<const uint8_t> bytes,
                             const std::function<bool(const DirectoryRecord&)>& visit);
    void store_record(std::span<uint8_t> block, uint32_t offset, uint32_t ino, uint32_t rec_len,
                      std::string_view name, mode_t mode) const;
    // Clears EXT2_INDEX_FL before the first change of an indexed directory.
    Result<void> drop_index();

    Ext2FileSystem& m_fs;
    Ext2Inode& m_dir;
};

}  // namespace myst::fs::ext2

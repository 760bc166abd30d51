// ext2 driver definitions: the superblock and group descriptors as the
// driver keeps them in memory (parsed and checked once at mount), and the
// accessors of an on-disk inode record. The byte offsets and constants are
// image/ext2_format.h's, shared with the writer.
#pragma once

#include <sys/types.h>
#include <time.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "image/ext2_format.h"

namespace myst::fs::ext2 {

namespace format = image::ext2;

// EUCLEAN is Linux's EFSCORRUPTED: what ext2/ext4 return for corrupt metadata.
constexpr int kCorrupt = EUCLEAN;

struct Superblock {
    uint32_t inodes_count = 0;
    uint32_t blocks_count = 0;
    uint32_t r_blocks_count = 0;
    uint32_t free_blocks_count = 0;
    uint32_t free_inodes_count = 0;
    uint32_t first_data_block = 0;
    uint32_t block_size = 0;
    uint32_t blocks_per_group = 0;
    uint32_t inodes_per_group = 0;
    uint32_t rev_level = 0;
    uint32_t first_ino = 0;
    uint32_t inode_size = 0;
    uint32_t feature_compat = 0;
    uint32_t feature_incompat = 0;
    uint32_t feature_ro_compat = 0;
    uint32_t reserved_gdt_blocks = 0;
    uint16_t want_extra_isize = 0;
    std::array<uint8_t, 16> uuid{};

    // Derived.
    uint32_t group_count = 0;
    uint32_t descriptor_blocks = 0;   // blocks of the group descriptor table
    uint32_t inode_table_blocks = 0;  // per group
    uint32_t pointers_per_block = 0;
    // Why this driver must not write (an ro_compat feature it does not
    // maintain); empty when it may.
    std::string read_only_reason;

    // Parses the 1024 superblock bytes and makes every mount check: magic,
    // revision, block and inode sizes, geometry, features. Errors name `name`.
    static Result<Superblock> parse(std::span<const uint8_t> raw, const std::string& name);

    bool has_filetype() const {
        return (feature_incompat & format::feature_incompat_filetype) != 0;
    }
    bool has_large_file() const {
        return (feature_ro_compat & format::feature_ro_compat_large_file) != 0;
    }
    bool has_huge_file() const {
        return (feature_ro_compat & format::feature_ro_compat_huge_file) != 0;
    }
    bool has_superblock_copy(uint32_t group) const;
    uint32_t group_first_block(uint32_t group) const {
        return first_data_block + group * blocks_per_group;
    }
    // Blocks in `group` (the last group may be short).
    uint32_t group_block_count(uint32_t group) const;
    // Blocks the file system itself uses in `group`: superblock copy,
    // descriptor table and its reserve, bitmaps, inode table.
    uint32_t group_overhead(uint32_t group) const;
    // The largest file size the block map (and i_blocks) can describe.
    uint64_t max_file_size() const;
};

struct GroupDescriptor {
    uint32_t block_bitmap = 0;
    uint32_t inode_bitmap = 0;
    uint32_t inode_table = 0;
    uint32_t free_blocks_count = 0;
    uint32_t free_inodes_count = 0;
    uint32_t used_dirs_count = 0;

    static GroupDescriptor parse(const uint8_t* raw);
    void store(uint8_t* raw) const;
    // Checks that the bitmaps and the inode table lie inside the group.
    Result<void> check(const Superblock& sb, uint32_t group, const std::string& name) const;
};

// The comma-separated names of feature bits (for error messages).
std::string incompat_feature_names(uint32_t bits);
std::string ro_compat_feature_names(uint32_t bits);

// One on-disk inode (inode_size bytes), read and changed through accessors
// named after Linux's i_* fields.
class InodeRecord {
public:
    InodeRecord() = default;
    explicit InodeRecord(std::vector<uint8_t> raw) : m_raw(std::move(raw)) {}
    // A zeroed record of `inode_size` bytes with i_extra_isize set when the
    // inode has room for the nanosecond fields.
    static InodeRecord fresh(const Superblock& sb);

    std::span<const uint8_t> raw() const { return m_raw; }

    mode_t mode() const;
    void set_mode(mode_t mode);
    uid_t uid() const;
    void set_uid(uid_t uid);
    gid_t gid() const;
    void set_gid(gid_t gid);
    // i_size, with i_size_high for regular files.
    uint64_t size() const;
    void set_size(uint64_t size);
    uint32_t links() const;
    void set_links(uint32_t links);
    // i_blocks: 512-byte units (fs blocks when the inode has HUGE_FILE_FL).
    uint64_t blocks(const Superblock& sb) const;
    void add_blocks_512(int64_t delta);
    uint32_t flags() const;
    void set_flags(uint32_t flags);
    uint32_t block(size_t index) const;
    void set_block(size_t index, uint32_t value);
    std::span<const uint8_t> block_bytes() const;  // i_block's 60 bytes
    void set_block_bytes(std::span<const uint8_t> bytes);
    uint32_t file_acl() const;
    void clear_file_acl();
    void set_generation(uint32_t generation);
    void set_dtime(uint32_t seconds);
    uint32_t dtime() const;

    struct timespec atime() const;
    struct timespec mtime() const;
    struct timespec ctime() const;
    void set_atime(struct timespec time);
    void set_mtime(struct timespec time);
    void set_ctime(struct timespec time);
    void set_crtime(struct timespec time);

    dev_t rdev() const;
    void set_rdev(dev_t rdev);

private:
    struct timespec time_at(uint32_t seconds_field, uint32_t extra_field) const;
    void set_time_at(uint32_t seconds_field, uint32_t extra_field, struct timespec time);
    bool has_extra(uint32_t extra_field) const;

    std::vector<uint8_t> m_raw;
};

}  // namespace myst::fs::ext2

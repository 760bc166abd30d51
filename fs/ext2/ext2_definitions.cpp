#include "fs/ext2/ext2_definitions.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <utility>

#include "base/endian.h"

namespace myst::fs::ext2 {

namespace {

using namespace format;

constexpr uint32_t kMaxBlockLog = 2;  // 4 KiB

struct FeatureName {
    uint32_t bit;
    const char* name;
};

constexpr FeatureName kIncompatNames[] = {
    {feature_incompat_compression, "compression"},
    {feature_incompat_filetype, "filetype"},
    {feature_incompat_recover, "needs_recovery"},
    {feature_incompat_journal_dev, "journal_dev"},
    {feature_incompat_meta_bg, "meta_bg"},
    {feature_incompat_extents, "extent"},
    {feature_incompat_64bit, "64bit"},
    {feature_incompat_mmp, "mmp"},
    {feature_incompat_flex_bg, "flex_bg"},
    {feature_incompat_ea_inode, "ea_inode"},
    {feature_incompat_dirdata, "dirdata"},
    {feature_incompat_csum_seed, "metadata_csum_seed"},
    {feature_incompat_largedir, "large_dir"},
    {feature_incompat_inline_data, "inline_data"},
    {feature_incompat_encrypt, "encrypt"},
    {feature_incompat_casefold, "casefold"},
};

constexpr FeatureName kRoCompatNames[] = {
    {feature_ro_compat_sparse_super, "sparse_super"},
    {feature_ro_compat_large_file, "large_file"},
    {feature_ro_compat_btree_dir, "btree_dir"},
    {feature_ro_compat_huge_file, "huge_file"},
    {feature_ro_compat_gdt_csum, "uninit_bg"},
    {feature_ro_compat_dir_nlink, "dir_nlink"},
    {feature_ro_compat_extra_isize, "extra_isize"},
    {feature_ro_compat_quota, "quota"},
    {feature_ro_compat_bigalloc, "bigalloc"},
    {feature_ro_compat_metadata_csum, "metadata_csum"},
    {feature_ro_compat_readonly, "read-only"},
    {feature_ro_compat_project, "project"},
    {feature_ro_compat_verity, "verity"},
    {feature_ro_compat_orphan_present, "orphan_present"},
};

template <size_t N>
std::string feature_names(uint32_t bits, const FeatureName (&names)[N]) {
    std::string text;
    for (const FeatureName& feature : names) {
        if (!(bits & feature.bit))
            continue;
        text += (text.empty() ? "" : ",") + std::string(feature.name);
        bits &= ~feature.bit;
    }
    for (uint32_t bit = 1; bits != 0; bit <<= 1) {
        if (!(bits & bit))
            continue;
        char unknown[24];
        std::snprintf(unknown, sizeof unknown, "0x%x", bit);
        text += (text.empty() ? "" : ",") + std::string(unknown);
        bits &= ~bit;
    }
    return text;
}

uint32_t divide_round_up(uint64_t value, uint64_t divisor) {
    return static_cast<uint32_t>((value + divisor - 1) / divisor);
}

Error corrupt_superblock(const std::string& name, const std::string& message) {
    return Error(kCorrupt, name + ": corrupt ext2 superblock: " + message);
}

}  // namespace

std::string incompat_feature_names(uint32_t bits) {
    return feature_names(bits, kIncompatNames);
}

std::string ro_compat_feature_names(uint32_t bits) {
    return feature_names(bits, kRoCompatNames);
}

Result<Superblock> Superblock::parse(std::span<const uint8_t> raw, const std::string& name) {
    if (raw.size() < superblock_size)
        return corrupt_superblock(name, "short superblock");
    const uint8_t* s = raw.data();
    uint16_t found_magic = load_le<uint16_t>(s + sb::magic);
    if (found_magic != magic) {
        char text[80];
        std::snprintf(text, sizeof text, "not an ext2 file system (magic 0x%04x, expected 0x%04x)",
                      found_magic, magic);
        return Error(EINVAL, name + ": " + text);
    }
    Superblock out;
    out.rev_level = load_le<uint32_t>(s + sb::rev_level);
    if (out.rev_level > dynamic_rev)
        return Error(EINVAL, name + ": unsupported ext2 revision " + std::to_string(out.rev_level) +
                                 " (0 or 1 are supported)");
    uint32_t log_block = load_le<uint32_t>(s + sb::log_block_size);
    if (log_block > kMaxBlockLog)
        return Error(EINVAL, name + ": unsupported ext2 block size " +
                                 (log_block < 21 ? std::to_string(1024u << log_block)
                                                 : "2^" + std::to_string(10 + log_block)) +
                                 " (1024, 2048 or 4096 are supported)");
    out.block_size = 1024u << log_block;
    out.inodes_count = load_le<uint32_t>(s + sb::inodes_count);
    out.blocks_count = load_le<uint32_t>(s + sb::blocks_count);
    out.r_blocks_count = load_le<uint32_t>(s + sb::r_blocks_count);
    out.free_blocks_count = load_le<uint32_t>(s + sb::free_blocks_count);
    out.free_inodes_count = load_le<uint32_t>(s + sb::free_inodes_count);
    out.first_data_block = load_le<uint32_t>(s + sb::first_data_block);
    out.blocks_per_group = load_le<uint32_t>(s + sb::blocks_per_group);
    out.inodes_per_group = load_le<uint32_t>(s + sb::inodes_per_group);
    std::memcpy(out.uuid.data(), s + sb::uuid, out.uuid.size());
    if (out.rev_level == good_old_rev) {
        out.inode_size = good_old_inode_size;
        out.first_ino = good_old_first_ino;
    } else {
        out.inode_size = load_le<uint16_t>(s + sb::inode_size);
        out.first_ino = load_le<uint32_t>(s + sb::first_ino);
        out.feature_compat = load_le<uint32_t>(s + sb::feature_compat);
        out.feature_incompat = load_le<uint32_t>(s + sb::feature_incompat);
        out.feature_ro_compat = load_le<uint32_t>(s + sb::feature_ro_compat);
        out.reserved_gdt_blocks = load_le<uint16_t>(s + sb::reserved_gdt_blocks);
        out.want_extra_isize = load_le<uint16_t>(s + sb::want_extra_isize);
    }

    uint32_t unknown_incompat = out.feature_incompat & ~feature_incompat_filetype;
    if (unknown_incompat != 0)
        return Error(EINVAL, name + ": ext2 image uses incompatible feature(s) " +
                                 incompat_feature_names(unknown_incompat) +
                                 " that this driver does not support");
    uint32_t known_ro =
        feature_ro_compat_sparse_super | feature_ro_compat_large_file | feature_ro_compat_btree_dir;
    if (uint32_t unknown_ro = out.feature_ro_compat & ~known_ro; unknown_ro != 0)
        out.read_only_reason = name + ": mounted read-only: the image uses feature(s) " +
                               ro_compat_feature_names(unknown_ro) +
                               " that this driver cannot keep consistent when writing";

    if (out.inode_size < good_old_inode_size || out.inode_size > out.block_size ||
        (out.inode_size & (out.inode_size - 1)) != 0)
        return corrupt_superblock(name, "bad inode size " + std::to_string(out.inode_size));
    if (out.blocks_per_group == 0 || out.blocks_per_group > out.block_size * 8)
        return corrupt_superblock(name,
                                  "bad blocks per group " + std::to_string(out.blocks_per_group));
    if (out.inodes_per_group == 0 || out.inodes_per_group > out.block_size * 8)
        return corrupt_superblock(name,
                                  "bad inodes per group " + std::to_string(out.inodes_per_group));
    uint32_t expected_first = out.block_size == 1024 ? 1 : 0;
    if (out.first_data_block != expected_first)
        return corrupt_superblock(name,
                                  "bad first data block " + std::to_string(out.first_data_block));
    if (out.blocks_count <= out.first_data_block + 1)
        return corrupt_superblock(name, "bad block count " + std::to_string(out.blocks_count));
    out.group_count =
        divide_round_up(out.blocks_count - out.first_data_block, out.blocks_per_group);
    if (uint64_t(out.group_count) * out.inodes_per_group != out.inodes_count)
        return corrupt_superblock(name, "inode count " + std::to_string(out.inodes_count) +
                                            " is not " + std::to_string(out.group_count) +
                                            " groups of " + std::to_string(out.inodes_per_group));
    if (out.first_ino < good_old_first_ino || out.first_ino > out.inodes_count)
        return corrupt_superblock(name, "bad first inode " + std::to_string(out.first_ino));
    if (out.free_blocks_count > out.blocks_count || out.free_inodes_count > out.inodes_count ||
        out.r_blocks_count > out.blocks_count)
        return corrupt_superblock(name, "free or reserved counts exceed the totals");
    out.descriptor_blocks =
        divide_round_up(uint64_t(out.group_count) * group_descriptor_size, out.block_size);
    out.inode_table_blocks =
        divide_round_up(uint64_t(out.inodes_per_group) * out.inode_size, out.block_size);
    out.pointers_per_block = out.block_size / 4;
    if (out.group_overhead(0) >= out.group_block_count(0))
        return corrupt_superblock(name, "group 0 cannot hold its own metadata");

    // New inodes get the nanosecond fields when there is room for them.
    uint32_t room = out.inode_size - good_old_inode_size;
    if (out.want_extra_isize == 0 || out.want_extra_isize > room || out.want_extra_isize % 4 != 0)
        out.want_extra_isize = static_cast<uint16_t>(std::min<uint32_t>(room, extra_isize));
    return out;
}

bool Superblock::has_superblock_copy(uint32_t group) const {
    if (!(feature_ro_compat & format::feature_ro_compat_sparse_super))
        return true;
    return format::group_has_superblock(group);
}

uint32_t Superblock::group_block_count(uint32_t group) const {
    uint32_t first = group_first_block(group);
    return std::min(blocks_per_group, blocks_count - first);
}

uint32_t Superblock::group_overhead(uint32_t group) const {
    uint32_t blocks = 2 + inode_table_blocks;
    if (has_superblock_copy(group))
        blocks += 1 + descriptor_blocks + reserved_gdt_blocks;
    return blocks;
}

uint64_t Superblock::max_file_size() const {
    uint64_t p = pointers_per_block;
    uint64_t mapped = format::direct_blocks + p + p * p + p * p * p;
    // i_blocks counts 512-byte units in 32 bits, indirect blocks included.
    uint64_t counted = (uint64_t(1) << 32) / (block_size / 512);
    uint64_t mapping = 1 + (1 + p) + (1 + p + p * p);
    uint64_t limit = std::min(mapped, counted > mapping ? counted - mapping : 0);
    return std::min<uint64_t>(limit * block_size, std::numeric_limits<int64_t>::max());
}

GroupDescriptor GroupDescriptor::parse(const uint8_t* raw) {
    GroupDescriptor d;
    d.block_bitmap = load_le<uint32_t>(raw + gd::block_bitmap);
    d.inode_bitmap = load_le<uint32_t>(raw + gd::inode_bitmap);
    d.inode_table = load_le<uint32_t>(raw + gd::inode_table);
    d.free_blocks_count = load_le<uint16_t>(raw + gd::free_blocks_count);
    d.free_inodes_count = load_le<uint16_t>(raw + gd::free_inodes_count);
    d.used_dirs_count = load_le<uint16_t>(raw + gd::used_dirs_count);
    return d;
}

void GroupDescriptor::store(uint8_t* raw) const {
    store_le<uint32_t>(raw + gd::block_bitmap, block_bitmap);
    store_le<uint32_t>(raw + gd::inode_bitmap, inode_bitmap);
    store_le<uint32_t>(raw + gd::inode_table, inode_table);
    store_le<uint16_t>(raw + gd::free_blocks_count, static_cast<uint16_t>(free_blocks_count));
    store_le<uint16_t>(raw + gd::free_inodes_count, static_cast<uint16_t>(free_inodes_count));
    store_le<uint16_t>(raw + gd::used_dirs_count, static_cast<uint16_t>(used_dirs_count));
}

Result<void> GroupDescriptor::check(const Superblock& sb, uint32_t group,
                                    const std::string& name) const {
    uint64_t first = sb.group_first_block(group);
    uint64_t end = first + sb.group_block_count(group);
    auto inside = [&](uint64_t block, uint64_t count) {
        return block >= first && block + count <= end;
    };
    std::string where = name + ": corrupt ext2 group descriptor " + std::to_string(group) + ": ";
    if (!inside(block_bitmap, 1))
        return Error(kCorrupt, where + "block bitmap " + std::to_string(block_bitmap) +
                                   " is outside the group");
    if (!inside(inode_bitmap, 1))
        return Error(kCorrupt, where + "inode bitmap " + std::to_string(inode_bitmap) +
                                   " is outside the group");
    if (!inside(inode_table, sb.inode_table_blocks))
        return Error(kCorrupt, where + "inode table " + std::to_string(inode_table) +
                                   " is outside the group");
    if (free_blocks_count > sb.group_block_count(group) ||
        free_inodes_count > sb.inodes_per_group || used_dirs_count > sb.inodes_per_group)
        return Error(kCorrupt, where + "counts exceed the group's size");
    return {};
}

InodeRecord InodeRecord::fresh(const Superblock& sb) {
    InodeRecord record(std::vector<uint8_t>(sb.inode_size, 0));
    if (sb.inode_size > good_old_inode_size)
        store_le<uint16_t>(record.m_raw.data() + in::extra_isize, sb.want_extra_isize);
    return record;
}

mode_t InodeRecord::mode() const {
    return load_le<uint16_t>(m_raw.data() + in::mode);
}

void InodeRecord::set_mode(mode_t mode) {
    store_le<uint16_t>(m_raw.data() + in::mode, static_cast<uint16_t>(mode));
}

uid_t InodeRecord::uid() const {
    return load_le<uint16_t>(m_raw.data() + in::uid) |
           (uint32_t(load_le<uint16_t>(m_raw.data() + in::uid_high)) << 16);
}

void InodeRecord::set_uid(uid_t uid) {
    store_le<uint16_t>(m_raw.data() + in::uid, static_cast<uint16_t>(uid));
    store_le<uint16_t>(m_raw.data() + in::uid_high, static_cast<uint16_t>(uid >> 16));
}

gid_t InodeRecord::gid() const {
    return load_le<uint16_t>(m_raw.data() + in::gid) |
           (uint32_t(load_le<uint16_t>(m_raw.data() + in::gid_high)) << 16);
}

void InodeRecord::set_gid(gid_t gid) {
    store_le<uint16_t>(m_raw.data() + in::gid, static_cast<uint16_t>(gid));
    store_le<uint16_t>(m_raw.data() + in::gid_high, static_cast<uint16_t>(gid >> 16));
}

uint64_t InodeRecord::size() const {
    uint64_t size = load_le<uint32_t>(m_raw.data() + in::size);
    // Directories of ext2 keep i_dir_acl there; only regular files are large.
    if (S_ISREG(mode()))
        size |= uint64_t(load_le<uint32_t>(m_raw.data() + in::size_high)) << 32;
    return size;
}

void InodeRecord::set_size(uint64_t size) {
    store_le<uint32_t>(m_raw.data() + in::size, static_cast<uint32_t>(size));
    store_le<uint32_t>(m_raw.data() + in::size_high, static_cast<uint32_t>(size >> 32));
}

uint32_t InodeRecord::links() const {
    return load_le<uint16_t>(m_raw.data() + in::links_count);
}

void InodeRecord::set_links(uint32_t links) {
    store_le<uint16_t>(m_raw.data() + in::links_count, static_cast<uint16_t>(links));
}

uint64_t InodeRecord::blocks(const Superblock& sb) const {
    uint64_t blocks = load_le<uint32_t>(m_raw.data() + in::blocks);
    if (sb.has_huge_file()) {
        blocks |= uint64_t(load_le<uint16_t>(m_raw.data() + in::blocks_high)) << 32;
        if (flags() & inode_flag_huge_file)
            blocks *= sb.block_size / 512;
    }
    return blocks;
}

void InodeRecord::add_blocks_512(int64_t delta) {
    uint32_t blocks = load_le<uint32_t>(m_raw.data() + in::blocks);
    store_le<uint32_t>(m_raw.data() + in::blocks, static_cast<uint32_t>(blocks + delta));
}

uint32_t InodeRecord::flags() const {
    return load_le<uint32_t>(m_raw.data() + in::flags);
}

void InodeRecord::set_flags(uint32_t flags) {
    store_le<uint32_t>(m_raw.data() + in::flags, flags);
}

uint32_t InodeRecord::block(size_t index) const {
    return load_le<uint32_t>(m_raw.data() + in::block + 4 * index);
}

void InodeRecord::set_block(size_t index, uint32_t value) {
    store_le<uint32_t>(m_raw.data() + in::block + 4 * index, value);
}

std::span<const uint8_t> InodeRecord::block_bytes() const {
    return std::span(m_raw).subspan(in::block, 60);
}

void InodeRecord::set_block_bytes(std::span<const uint8_t> bytes) {
    std::memset(m_raw.data() + in::block, 0, 60);
    std::memcpy(m_raw.data() + in::block, bytes.data(), std::min<size_t>(bytes.size(), 60));
}

uint32_t InodeRecord::file_acl() const {
    return load_le<uint32_t>(m_raw.data() + in::file_acl);
}

void InodeRecord::clear_file_acl() {
    store_le<uint32_t>(m_raw.data() + in::file_acl, 0);
}

void InodeRecord::set_generation(uint32_t generation) {
    store_le<uint32_t>(m_raw.data() + in::generation, generation);
}

void InodeRecord::set_dtime(uint32_t seconds) {
    store_le<uint32_t>(m_raw.data() + in::dtime, seconds);
}

uint32_t InodeRecord::dtime() const {
    return load_le<uint32_t>(m_raw.data() + in::dtime);
}

bool InodeRecord::has_extra(uint32_t extra_field) const {
    if (m_raw.size() <= good_old_inode_size)
        return false;
    uint32_t extra_size = load_le<uint16_t>(m_raw.data() + in::extra_isize);
    return good_old_inode_size + extra_size >= extra_field + 4 && extra_field + 4 <= m_raw.size();
}

struct timespec InodeRecord::time_at(uint32_t seconds_field, uint32_t extra_field) const {
    uint32_t seconds = load_le<uint32_t>(m_raw.data() + seconds_field);
    bool extra = has_extra(extra_field);
    uint32_t extra_value = extra ? load_le<uint32_t>(m_raw.data() + extra_field) : 0;
    struct timespec time {};
    time.tv_sec = static_cast<time_t>(decode_extra_seconds(seconds, extra_value, extra));
    uint32_t nanoseconds = extra_value >> 2;
    time.tv_nsec = nanoseconds < 1000000000 ? nanoseconds : 0;
    return time;
}

void InodeRecord::set_time_at(uint32_t seconds_field, uint32_t extra_field, struct timespec time) {
    int64_t seconds = time.tv_sec;
    bool extra = has_extra(extra_field);
    if (!extra)
        seconds = std::clamp<int64_t>(seconds, INT32_MIN, INT32_MAX);
    ExtraTime encoded = encode_extra_time(seconds, static_cast<uint32_t>(time.tv_nsec));
    store_le<uint32_t>(m_raw.data() + seconds_field, encoded.seconds);
    if (extra)
        store_le<uint32_t>(m_raw.data() + extra_field, encoded.extra);
}

struct timespec InodeRecord::atime() const {
    return time_at(in::atime, in::atime_extra);
}
struct timespec InodeRecord::mtime() const {
    return time_at(in::mtime, in::mtime_extra);
}
struct timespec InodeRecord::ctime() const {
    return time_at(in::ctime, in::ctime_extra);
}
void InodeRecord::set_atime(struct timespec time) {
    set_time_at(in::atime, in::atime_extra, time);
}
void InodeRecord::set_mtime(struct timespec time) {
    set_time_at(in::mtime, in::mtime_extra, time);
}
void InodeRecord::set_ctime(struct timespec time) {
    set_time_at(in::ctime, in::ctime_extra, time);
}
void InodeRecord::set_crtime(struct timespec time) {
    if (has_extra(in::crtime_extra))
        set_time_at(in::crtime, in::crtime_extra, time);
}

dev_t InodeRecord::rdev() const {
    if (!S_ISCHR(mode()) && !S_ISBLK(mode()))
        return 0;
    DeviceNumber number = decode_device(block(0), block(1));
    return makedev(number.major, number.minor);
}

void InodeRecord::set_rdev(dev_t rdev) {
    DeviceBlocks encoded = encode_device(major(rdev), minor(rdev));
    set_block(0, encoded.block0);
    set_block(1, encoded.block1);
    set_block(2, 0);
}

}  // namespace myst::fs::ext2

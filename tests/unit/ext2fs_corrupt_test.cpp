// Images the driver must refuse or report: a bad superblock, unsupported
// features, corrupt group descriptors, inodes and directory records, and
// block pointers out of range. Every case is a clear error, never a crash
// or a hang.
#include <sys/statvfs.h>

#include "base/endian.h"
#include "image/ext2_format.h"
#include "tests/unit/ext2fs_test_helpers.h"

using namespace myst;
using namespace myst::test;
namespace ext2 = myst::image::ext2;

namespace {

using InodeRef = std::shared_ptr<fs::Inode>;

image::TreeNode sample_tree() {
    image::TreeNode big = tree_file("big", std::string(100 * 4096, 'b'));
    return tree_dir("", {std::move(big), tree_dir("d", {tree_file("inner", "inner text")}),
                         tree_file("f", std::string(20000, 'f')), tree_symlink("l", "f")});
}

struct Sample {
    Bytes bytes;
    uint64_t f_ino = 0, d_ino = 0, big_ino = 0, l_ino = 0;
};

Sample make_sample() {
    Sample sample;
    sample.bytes = write_tree(sample_tree());
    auto mounted = mount_bytes(sample.bytes);
    EXPECT_FALSE(mounted.is_error()) << mounted.error().message();
    InodeRef root = mounted.value()->root();
    sample.f_ino = root->lookup("f").value()->ino();
    sample.d_ino = root->lookup("d").value()->ino();
    sample.big_ino = root->lookup("big").value()->ino();
    sample.l_ino = root->lookup("l").value()->ino();
    return sample;
}

uint8_t* superblock(const Bytes& bytes) {
    return bytes->data() + ext2::superblock_offset;
}

uint32_t block_size_of(const Bytes& bytes) {
    return 1024u << load_le<uint32_t>(superblock(bytes) + ext2::sb::log_block_size);
}

uint8_t* descriptor(const Bytes& bytes, uint32_t group) {
    uint32_t first = load_le<uint32_t>(superblock(bytes) + ext2::sb::first_data_block);
    return bytes->data() + uint64_t(first + 1) * block_size_of(bytes) +
           group * ext2::group_descriptor_size;
}

uint8_t* inode_at(const Bytes& bytes, uint64_t ino) {
    uint32_t per_group = load_le<uint32_t>(superblock(bytes) + ext2::sb::inodes_per_group);
    uint32_t inode_size = load_le<uint16_t>(superblock(bytes) + ext2::sb::inode_size);
    uint32_t group = static_cast<uint32_t>((ino - 1) / per_group);
    uint32_t table = load_le<uint32_t>(descriptor(bytes, group) + ext2::gd::inode_table);
    return bytes->data() + uint64_t(table) * block_size_of(bytes) +
           ((ino - 1) % per_group) * inode_size;
}

uint8_t* first_data_block(const Bytes& bytes, uint64_t ino) {
    uint32_t block = load_le<uint32_t>(inode_at(bytes, ino) + ext2::in::block);
    return bytes->data() + uint64_t(block) * block_size_of(bytes);
}

// The mount's error, which must be one.
Error mount_error(const Bytes& bytes) {
    auto mounted = mount_bytes(bytes);
    EXPECT_TRUE(mounted.is_error());
    return mounted.is_error() ? mounted.error() : Error(0, "mounted");
}

void expect_error(const Error& error, int code, const std::string& text) {
    EXPECT_EQ(error.code(), code) << error.message();
    EXPECT_NE(error.message().find(text), std::string::npos) << error.message();
    EXPECT_NE(error.message().find("test.img"), std::string::npos) << error.message();
}

TEST(Ext2Mount, SampleImageMountsAndPassesFsck) {
    TempDir scratch;
    Sample sample = make_sample();
    FsckResult checked = fsck(save_image(scratch, sample.bytes));
    EXPECT_TRUE(checked.clean) << checked.output;
}

TEST(Ext2Mount, BadMagic) {
    Sample sample = make_sample();
    store_le<uint16_t>(superblock(sample.bytes) + ext2::sb::magic, 0x1234);
    expect_error(mount_error(sample.bytes), EINVAL, "not an ext2 file system (magic 0x1234");
}

TEST(Ext2Mount, UnsupportedRevisionAndBlockSize) {
    Sample sample = make_sample();
    store_le<uint32_t>(superblock(sample.bytes) + ext2::sb::rev_level, 2);
    expect_error(mount_error(sample.bytes), EINVAL, "unsupported ext2 revision 2");
    store_le<uint32_t>(superblock(sample.bytes) + ext2::sb::rev_level, 1);
    store_le<uint32_t>(superblock(sample.bytes) + ext2::sb::log_block_size, 3);
    expect_error(mount_error(sample.bytes), EINVAL, "unsupported ext2 block size 8192");
    store_le<uint32_t>(superblock(sample.bytes) + ext2::sb::log_block_size, 2);
    store_le<uint16_t>(superblock(sample.bytes) + ext2::sb::inode_size, 200);
    expect_error(mount_error(sample.bytes), EUCLEAN, "bad inode size 200");
}

TEST(Ext2Mount, IncompatibleFeaturesAreNamed) {
    Sample sample = make_sample();
    uint8_t* features = superblock(sample.bytes) + ext2::sb::feature_incompat;
    store_le<uint32_t>(features, ext2::feature_incompat_filetype | ext2::feature_incompat_extents |
                                     ext2::feature_incompat_flex_bg | 0x80000000u);
    expect_error(mount_error(sample.bytes), EINVAL,
                 "incompatible feature(s) extent,flex_bg,0x80000000");
    store_le<uint32_t>(features, ext2::feature_incompat_filetype | ext2::feature_incompat_recover);
    expect_error(mount_error(sample.bytes), EINVAL, "needs_recovery");
}

TEST(Ext2Mount, Ext4ImageIsRefused) {
    TempDir scratch;
    std::string image = scratch.path("ext4.img");
    auto made = run_command("mke2fs -q -F -t ext4 '" + image + "' 16M");
    ASSERT_EQ(made.status, 0) << made.output;
    Error error = mount_error(bytes_of_file(image));
    expect_error(error, EINVAL, "extent");
    EXPECT_NE(error.message().find("64bit"), std::string::npos) << error.message();
}

// An ro_compat feature the driver does not maintain: reads work, writes are EROFS.
TEST(Ext2Mount, UnknownReadOnlyFeatureMountsReadOnly) {
    Sample sample = make_sample();
    uint8_t* features = superblock(sample.bytes) + ext2::sb::feature_ro_compat;
    store_le<uint32_t>(features,
                       load_le<uint32_t>(features) | ext2::feature_ro_compat_metadata_csum);
    std::vector<uint8_t> before = *sample.bytes;
    auto mounted = mount_bytes(sample.bytes);
    ASSERT_FALSE(mounted.is_error()) << mounted.error().message();
    InodeRef root = mounted.value()->root();
    InodeRef f = root->lookup("f").value();
    EXPECT_EQ(read_inode(*f).value(), std::vector<uint8_t>(20000, 'f'));
    auto created = root->create("new", {S_IFREG | 0644, 0, 0, 0});
    ASSERT_TRUE(created.is_error());
    expect_error(created.error(), EROFS, "metadata_csum");
    EXPECT_EQ(error_code(f->write_at(0, to_bytes("x"))), EROFS);
    EXPECT_EQ(error_code(f->truncate(0)), EROFS);
    EXPECT_EQ(error_code(f->chmod(0600)), EROFS);
    EXPECT_EQ(error_code(root->unlink("f")), EROFS);
    EXPECT_EQ(error_code(root->rename("f", *root, "g")), EROFS);
    EXPECT_EQ(mounted.value()->statfs().value().f_flags & ST_RDONLY, ST_RDONLY);
    EXPECT_TRUE(*sample.bytes == before);
}

TEST(Ext2Mount, BadGeometry) {
    Sample sample = make_sample();
    uint8_t* sb = superblock(sample.bytes);
    uint32_t inodes = load_le<uint32_t>(sb + ext2::sb::inodes_count);
    store_le<uint32_t>(sb + ext2::sb::inodes_count, inodes + 1);
    expect_error(mount_error(sample.bytes), EUCLEAN, "inode count");
    store_le<uint32_t>(sb + ext2::sb::inodes_count, inodes);
    store_le<uint32_t>(sb + ext2::sb::blocks_per_group, 0);
    expect_error(mount_error(sample.bytes), EUCLEAN, "bad blocks per group 0");
}

TEST(Ext2Mount, TruncatedImage) {
    Sample sample = make_sample();
    sample.bytes->resize(sample.bytes->size() / 2);
    expect_error(mount_error(sample.bytes), EUCLEAN, "truncated image");
    sample.bytes->resize(1500);
    expect_error(mount_error(sample.bytes), EINVAL, "too small");
}

TEST(Ext2Mount, GroupDescriptorOutsideTheGroup) {
    Sample sample = make_sample();
    uint32_t blocks = load_le<uint32_t>(superblock(sample.bytes) + ext2::sb::blocks_count);
    store_le<uint32_t>(descriptor(sample.bytes, 0) + ext2::gd::inode_table, blocks + 5);
    expect_error(mount_error(sample.bytes), EUCLEAN, "group descriptor 0: inode table");
}

TEST(Ext2Mount, RootThatIsNoDirectory) {
    Sample sample = make_sample();
    store_le<uint16_t>(inode_at(sample.bytes, ext2::root_inode) + ext2::in::mode, S_IFREG | 0644);
    expect_error(mount_error(sample.bytes), EUCLEAN, "root inode is not a directory");
    store_le<uint16_t>(inode_at(sample.bytes, ext2::root_inode) + ext2::in::links_count, 0);
    expect_error(mount_error(sample.bytes), EUCLEAN, "free inode");
}

// --- Corruption found while running: EUCLEAN from the operation. ---

struct DirectoryDamage {
    const char* name;
    uint32_t entry_offset;  // of the record changed, in d's first block
    uint32_t field;         // 0 inode, 4 rec_len, 6 name_len
    uint32_t value;
    const char* message;
};

class Ext2CorruptDirectory : public ::testing::TestWithParam<DirectoryDamage> {};

TEST_P(Ext2CorruptDirectory, OperationsFailCleanly) {
    Sample sample = make_sample();
    const DirectoryDamage& damage = GetParam();
    uint8_t* record = first_data_block(sample.bytes, sample.d_ino) + damage.entry_offset;
    if (damage.field == 4)
        store_le<uint16_t>(record + 4, static_cast<uint16_t>(damage.value));
    else if (damage.field == 6)
        record[6] = static_cast<uint8_t>(damage.value);
    else
        store_le<uint32_t>(record, damage.value);
    auto mounted = mount_bytes(sample.bytes);
    ASSERT_FALSE(mounted.is_error()) << mounted.error().message();
    InodeRef root = mounted.value()->root();
    InodeRef d = root->lookup("d").value();
    auto looked = d->lookup("missing");
    ASSERT_TRUE(looked.is_error());
    expect_error(looked.error(), EUCLEAN, damage.message);
    EXPECT_EQ(error_code(list_directory(*d)), EUCLEAN);
    EXPECT_EQ(error_code(d->create("new", {S_IFREG | 0644, 0, 0, 0})), EUCLEAN);
    EXPECT_EQ(error_code(d->unlink("inner")), EUCLEAN);
    EXPECT_EQ(error_code(root->remove_directory("d")), EUCLEAN);
    // The rest of the file system still works.
    EXPECT_EQ(read_inode(*root->lookup("f").value()).value().size(), 20000u);
}

// d's first block: "." at 0 (12 bytes), ".." at 12 (12 bytes), "inner" at 24.
INSTANTIATE_TEST_SUITE_P(
    Damage, Ext2CorruptDirectory,
    ::testing::Values(DirectoryDamage{"zero_rec_len", 24, 4, 0, "rec_len 0 is too small"},
                      DirectoryDamage{"unaligned_rec_len", 24, 4, 18, "is not aligned"},
                      DirectoryDamage{"rec_len_past_block", 24, 4, 8192,
                                      "runs past the end of the block"},
                      DirectoryDamage{"name_past_record", 12, 6, 200, "runs past its record"},
                      DirectoryDamage{"inode_out_of_range", 24, 0, 0x7fffffff,
                                      "inode number 2147483647 is out of range"}),
    [](const ::testing::TestParamInfo<DirectoryDamage>& info) {
        return std::string(info.param.name);
    });

TEST(Ext2Corrupt, EntryNamingAFreeInode) {
    Sample sample = make_sample();
    store_le<uint16_t>(inode_at(sample.bytes, sample.f_ino) + ext2::in::links_count, 0);
    auto mounted = mount_bytes(sample.bytes);
    ASSERT_FALSE(mounted.is_error());
    auto looked = mounted.value()->root()->lookup("f");
    ASSERT_TRUE(looked.is_error());
    expect_error(looked.error(), EUCLEAN, "names a free inode");
}

TEST(Ext2Corrupt, DirectorySizeNotWholeBlocks) {
    Sample sample = make_sample();
    store_le<uint32_t>(inode_at(sample.bytes, sample.d_ino) + ext2::in::size, 100);
    auto mounted = mount_bytes(sample.bytes);
    ASSERT_FALSE(mounted.is_error());
    auto looked = mounted.value()->root()->lookup("d").value()->lookup("inner");
    ASSERT_TRUE(looked.is_error());
    expect_error(looked.error(), EUCLEAN, "not a multiple of the block size");
}

TEST(Ext2Corrupt, BlockPointersOutOfRange) {
    Sample sample = make_sample();
    uint8_t* f = inode_at(sample.bytes, sample.f_ino);
    store_le<uint32_t>(f + ext2::in::block, 0xfffffff0);
    store_le<uint32_t>(f + ext2::in::block + 4, 1);  // the group descriptor table
    // The first pointer of big's indirect block.
    uint32_t indirect = load_le<uint32_t>(inode_at(sample.bytes, sample.big_ino) + ext2::in::block +
                                          4 * ext2::direct_blocks);
    store_le<uint32_t>(sample.bytes->data() + uint64_t(indirect) * 4096, 0x7ffffff0);
    auto mounted = mount_bytes(sample.bytes);
    ASSERT_FALSE(mounted.is_error());
    InodeRef root = mounted.value()->root();
    InodeRef file = root->lookup("f").value();
    std::vector<uint8_t> buffer(100);
    auto read = file->read_at(0, buffer);
    ASSERT_TRUE(read.is_error());
    expect_error(read.error(), EUCLEAN, "block pointer 4294967280 is past the end");
    read = file->read_at(4096, buffer);
    ASSERT_TRUE(read.is_error());
    expect_error(read.error(), EUCLEAN, "points into file-system metadata");
    // Writes and truncation refuse the pointer too, and free nothing wrong.
    EXPECT_EQ(error_code(file->write_at(10, to_bytes("x"))), EUCLEAN);
    EXPECT_EQ(error_code(file->truncate(0)), EUCLEAN);
    InodeRef big = root->lookup("big").value();
    EXPECT_EQ(big->read_at(0, buffer).value(), 100u);
    read = big->read_at(12 * 4096, buffer);
    ASSERT_TRUE(read.is_error());
    expect_error(read.error(), EUCLEAN, "past the end");
}

TEST(Ext2Corrupt, FreeingABlockTwice) {
    Sample sample = make_sample();
    // Mark f's first data block free in the bitmap: truncating f must notice.
    uint32_t data = load_le<uint32_t>(inode_at(sample.bytes, sample.f_ino) + ext2::in::block);
    uint32_t bitmap = load_le<uint32_t>(descriptor(sample.bytes, 0) + ext2::gd::block_bitmap);
    sample.bytes->data()[uint64_t(bitmap) * 4096 + data / 8] &=
        static_cast<uint8_t>(~(1u << (data % 8)));
    auto mounted = mount_bytes(sample.bytes);
    ASSERT_FALSE(mounted.is_error());
    auto truncated = mounted.value()->root()->lookup("f").value()->truncate(0);
    ASSERT_TRUE(truncated.is_error());
    expect_error(truncated.error(), EUCLEAN, "which is not in use");
}

TEST(Ext2Corrupt, OversizedSymlinks) {
    Sample sample = make_sample();
    store_le<uint32_t>(inode_at(sample.bytes, sample.l_ino) + ext2::in::size, 500);
    auto mounted = mount_bytes(sample.bytes);
    ASSERT_FALSE(mounted.is_error());
    auto target = mounted.value()->root()->lookup("l").value()->read_link();
    ASSERT_TRUE(target.is_error());
    expect_error(target.error(), EUCLEAN, "fast symlink of 500 bytes");
}

TEST(Ext2Corrupt, RandomDamageNeverCrashes) {
    // Flip bytes all over the metadata of a small image; every outcome is
    // either a value or an error, and every walk ends.
    int mounted_images = 0;
    for (uint32_t seed = 1; seed <= 40; ++seed) {
        Sample sample = make_sample();
        auto noise = random_bytes(400, seed);
        for (size_t i = 0; i + 4 < noise.size(); i += 4) {
            uint32_t where = load_le<uint32_t>(&noise[i]) % (64 * 4096);
            (*sample.bytes)[where] ^= noise[i + 3] | 1;
        }
        auto mounted = mount_bytes(sample.bytes);
        if (mounted.is_error())
            continue;
        ++mounted_images;
        std::function<void(const InodeRef&, int)> visit = [&](const InodeRef& dir, int depth) {
            auto names = list_directory(*dir);
            if (names.is_error() || depth > 4)
                return;
            for (auto& [name, ino] : names.value()) {
                auto child = dir->lookup(name);
                if (child.is_error())
                    continue;
                std::vector<uint8_t> buffer(8192);
                (void)child.value()->read_at(0, buffer);
                (void)child.value()->read_link();
                (void)child.value()->stat();
                if (child.value()->is_directory() && !child.value()->same_as(*dir))
                    visit(child.value(), depth + 1);
            }
        };
        visit(mounted.value()->root(), 0);
        (void)mounted.value()->root()->create("after-damage", {S_IFREG | 0644, 0, 0, 0});
    }
    EXPECT_GT(mounted_images, 10);
}

}  // namespace

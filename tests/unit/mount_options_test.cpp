// mount(2)'s data string (apply_mount_data), which fuzz/mount_options_fuzzer
// also feeds: each option sets what it names for the types that have it,
// anything else is EINVAL naming the option, and empty options are skipped.
#include "kernel/mount_options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/fs_test_helpers.h"

namespace myst::kernel {
namespace {

using test::error_code;

struct Applied {
    MountSource source;
    fs::MountOptions options;
    Result<void> result;
};

Applied parse_data(MountType type, std::string_view data) {
    Applied applied{};
    applied.source.type = type;
    applied.result = apply_mount_data(data, applied.source, applied.options);
    return applied;
}

TEST(MountOptionsTest, ReadOnlyAndReadWriteTheLastOneWins) {
    EXPECT_TRUE(parse_data(MountType::hostfs, "ro").options.read_only);
    EXPECT_FALSE(parse_data(MountType::hostfs, "ro,rw").options.read_only);
    EXPECT_TRUE(parse_data(MountType::ramfs, ",,rw,,ro,").options.read_only);
    Applied empty = parse_data(MountType::ext2, "");
    EXPECT_FALSE(empty.result.is_error());
    EXPECT_FALSE(empty.options.read_only);
}

TEST(MountOptionsTest, Ext2KeyMustBe128HexDigits) {
    Applied good = parse_data(MountType::ext2, "key=" + std::string(128, 'f'));
    ASSERT_FALSE(good.result.is_error()) << good.result.error().message();
    ASSERT_TRUE(good.source.key.has_value());
    EXPECT_EQ(good.source.key->size(), 64u);
    EXPECT_EQ((*good.source.key)[0], 0xff);
    const std::vector<std::string> bad_options = {"key=abc", "key=" + std::string(126, '0'),
                                                  "key=" + std::string(127, '0') + "g", "key"};
    for (const std::string& bad : bad_options) {
        Applied applied = parse_data(MountType::ext2, bad);
        EXPECT_EQ(error_code(applied.result), EINVAL) << bad;
        EXPECT_FALSE(applied.source.key.has_value()) << bad;
    }
}

TEST(MountOptionsTest, Ext2RootHashTrustsOnlyThatHash) {
    Applied applied = parse_data(MountType::ext2, "roothash=" + std::string(64, '0'));
    ASSERT_FALSE(applied.result.is_error()) << applied.result.error().message();
    ASSERT_EQ(applied.source.trust.root_hashes.size(), 1u);
    EXPECT_FALSE(applied.source.trust.trust_image_fssig);
    EXPECT_EQ(error_code(parse_data(MountType::ext2, "roothash=12").result), EINVAL);
}

TEST(MountOptionsTest, RamfsModeIsOctal) {
    Applied applied = parse_data(MountType::ramfs, "mode=1777,size=1m,nr_inodes=9");
    ASSERT_FALSE(applied.result.is_error()) << applied.result.error().message();
    EXPECT_EQ(applied.source.root_mode, 01777u);
    for (const char* bad : {"mode=", "mode=8", "mode=12345", "mode=-1", "mode=0x7"})
        EXPECT_EQ(error_code(parse_data(MountType::ramfs, bad).result), EINVAL) << bad;
}

// tmpfs's size= limits the mount (bytes with Linux's suffixes, or a share
// of the memory budget); the last one given wins, as on Linux.
TEST(MountOptionsTest, TmpfsSizeIsBytesOrAPercentage) {
    Applied bytes = parse_data(MountType::ramfs, "size=2m");
    ASSERT_FALSE(bytes.result.is_error()) << bytes.result.error().message();
    EXPECT_EQ(bytes.source.ram_size_bytes, uint64_t(2) << 20);
    EXPECT_EQ(parse_data(MountType::ramfs, "size=3G").source.ram_size_bytes, uint64_t(3) << 30);
    EXPECT_EQ(parse_data(MountType::ramfs, "size=1t").source.ram_size_bytes, uint64_t(1) << 40);
    EXPECT_EQ(parse_data(MountType::ramfs, "size=12345").source.ram_size_bytes, 12345u);
    Applied percent = parse_data(MountType::ramfs, "size=1m,size=25%");
    ASSERT_FALSE(percent.result.is_error()) << percent.result.error().message();
    EXPECT_EQ(percent.source.ram_size_percent, 25u);
    EXPECT_EQ(percent.source.ram_size_bytes, 0u);
    for (const char* bad :
         {"size", "size=", "size=m", "size=1x", "size=1mm", "size=-1", "size=%",
          "size=99999999999999999999", "size=99999999999e", "nr_inodes=", "nr_inodes=1q"}) {
        Applied applied = parse_data(MountType::ramfs, bad);
        EXPECT_EQ(error_code(applied.result), EINVAL) << bad;
        EXPECT_NE(applied.result.error().message().find("bad value"), std::string::npos) << bad;
    }
}

TEST(MountOptionsTest, OptionsOfAnotherTypeAreUnknown) {
    Applied key = parse_data(MountType::hostfs, "key=" + std::string(128, '0'));
    EXPECT_EQ(error_code(key.result), EINVAL);
    EXPECT_NE(key.result.error().message().find("unknown mount option"), std::string::npos);
    EXPECT_EQ(error_code(parse_data(MountType::ext2, "mode=0755").result), EINVAL);
    EXPECT_EQ(error_code(parse_data(MountType::ramfs, "roothash=" + std::string(64, '0')).result),
              EINVAL);
    EXPECT_EQ(error_code(parse_data(MountType::ramfs, "nonsense").result), EINVAL);
}

}  // namespace
}  // namespace myst::kernel

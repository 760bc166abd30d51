#include "image/verity.h"

#include <gtest/gtest.h>

#include <cstring>
#include <regex>

#include "base/endian.h"
#include "base/hex.h"
#include "tests/unit/test_support.h"
#include "tools/myst/host_file.h"

using namespace myst;
using namespace myst::image;

namespace {

constexpr uint64_t B = verity_block_size;

// A MemoryFile holding `blocks` data blocks and a verity tree right after them.
struct BuiltImage {
    MemoryFile file;
    VerityBuildResult result;
};

BuiltImage build_image(uint64_t blocks, uint32_t seed) {
    BuiltImage image;
    image.file = MemoryFile(test::random_bytes(blocks * B, seed));
    VerityBuildOptions options;
    options.salt = std::vector<uint8_t>(32, 0x5a);
    auto result = build_verity(image.file, blocks * B, blocks, options);
    EXPECT_FALSE(result.is_error()) << result.error().message();
    if (!result.is_error())
        image.result = result.release_value();
    return image;
}

}  // namespace

TEST(VerityLayout, OneBlockHasNoTree) {
    VerityLayout layout = VerityLayout::compute(B, 1);
    EXPECT_TRUE(layout.level_start.empty());
    EXPECT_EQ(layout.hash_area_size(), B);  // the superblock's block only
}

TEST(VerityLayout, SmallCounts) {
    for (uint64_t blocks : {2, 128}) {
        VerityLayout layout = VerityLayout::compute(1000 * B, blocks);
        ASSERT_EQ(layout.level_blocks, std::vector<uint64_t>{1}) << blocks;
        EXPECT_EQ(layout.level_start, std::vector<uint64_t>{1001 * B});
        EXPECT_EQ(layout.hash_area_size(), 2 * B);
    }
    VerityLayout layout = VerityLayout::compute(1000 * B, 129);
    EXPECT_EQ(layout.level_blocks, (std::vector<uint64_t>{2, 1}));
    // Top level first: level 1 right after the superblock, then level 0.
    EXPECT_EQ(layout.level_start, (std::vector<uint64_t>{1002 * B, 1001 * B}));
    EXPECT_EQ(layout.hash_area_size(), 4 * B);
}

TEST(VerityLayout, LargeCounts) {
    VerityLayout layout = VerityLayout::compute(16384 * B, 16384);
    EXPECT_EQ(layout.level_blocks, (std::vector<uint64_t>{128, 1}));
    EXPECT_EQ(layout.level_start, (std::vector<uint64_t>{16386 * B, 16385 * B}));
    EXPECT_EQ(layout.hash_area_size(), 130 * B);

    layout = VerityLayout::compute(16385 * B, 16385);
    EXPECT_EQ(layout.level_blocks, (std::vector<uint64_t>{129, 2, 1}));
    EXPECT_EQ(layout.level_start, (std::vector<uint64_t>{16389 * B, 16387 * B, 16386 * B}));
    EXPECT_EQ(layout.hash_area_size(), 133 * B);
}

TEST(VeritySuperblock, SerializesFieldsAtTheirOffsets) {
    VeritySuperblock sb;
    for (size_t i = 0; i < 16; ++i)
        sb.uuid[i] = static_cast<uint8_t>(0xa0 + i);
    sb.data_blocks = 0x123456789;
    sb.salt = {1, 2, 3, 4, 5};
    auto bytes = sb.serialize();
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.data()), 8),
              std::string("verity\0\0", 8));
    EXPECT_EQ(load_le<uint32_t>(bytes.data() + 8), 1u);
    EXPECT_EQ(load_le<uint32_t>(bytes.data() + 12), 1u);
    EXPECT_EQ(bytes[16], 0xa0);
    EXPECT_EQ(bytes[31], 0xaf);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.data()) + 32), "sha256");
    EXPECT_TRUE(is_all_zero(std::span(bytes).subspan(38, 26)));
    EXPECT_EQ(load_le<uint32_t>(bytes.data() + 64), 4096u);
    EXPECT_EQ(load_le<uint32_t>(bytes.data() + 68), 4096u);
    EXPECT_EQ(load_le<uint64_t>(bytes.data() + 72), 0x123456789u);
    EXPECT_EQ(load_le<uint16_t>(bytes.data() + 80), 5u);
    EXPECT_TRUE(is_all_zero(std::span(bytes).subspan(82, 6)));
    EXPECT_EQ(bytes[88], 1);
    EXPECT_EQ(bytes[92], 5);
    EXPECT_TRUE(is_all_zero(std::span(bytes).subspan(93)));

    auto parsed = VeritySuperblock::parse(bytes);
    ASSERT_FALSE(parsed.is_error()) << parsed.error().message();
    EXPECT_EQ(parsed.value().uuid, sb.uuid);
    EXPECT_EQ(parsed.value().data_blocks, sb.data_blocks);
    EXPECT_EQ(parsed.value().salt, sb.salt);
    EXPECT_EQ(parsed.value().algorithm, "sha256");
    EXPECT_EQ(parsed.value().version, 1u);
}

TEST(VeritySuperblock, RejectsBadFields) {
    VeritySuperblock sb;
    sb.data_blocks = 10;
    sb.salt = {1, 2};
    auto good = sb.serialize();
    auto expect_error = [&](size_t at, std::vector<uint8_t> patch, const std::string& word) {
        auto bytes = good;
        std::copy(patch.begin(), patch.end(), bytes.begin() + static_cast<ptrdiff_t>(at));
        auto parsed = VeritySuperblock::parse(bytes);
        ASSERT_TRUE(parsed.is_error()) << word;
        EXPECT_NE(parsed.error().message().find(word), std::string::npos)
            << parsed.error().message();
    };
    expect_error(0, {'V'}, "signature");
    expect_error(8, {2}, "version");
    expect_error(12, {0}, "hash type");
    expect_error(32, {'s', 'h', 'a', '1', 0}, "algorithm");
    expect_error(64, {0, 2}, "data block size");
    expect_error(68, {0, 2}, "hash block size");
    expect_error(72, {0}, "zero data blocks");
    expect_error(80, {1, 1}, "salt size");
    EXPECT_TRUE(VeritySuperblock::parse(std::span(good).first(100)).is_error());
}

TEST(Verity, BuildThenVerify) {
    for (uint64_t blocks : {1, 2, 129, 2000}) {
        BuiltImage image = build_image(blocks, blocks);
        VerityLayout layout = VerityLayout::compute(blocks * B, blocks);
        EXPECT_EQ(image.result.end_offset, blocks * B + layout.hash_area_size());
        EXPECT_EQ(image.file.bytes().size(), image.result.end_offset);
        auto verified = verify_verity(image.file, blocks * B, image.result.root_hash);
        EXPECT_FALSE(verified.is_error()) << blocks << ": " << verified.error().message();
    }
}

TEST(Verity, OneBlockRootIsTheBlockHash) {
    BuiltImage image = build_image(1, 7);
    std::vector<uint8_t> salted(32 + B, 0x5a);
    std::memcpy(salted.data() + 32, image.file.bytes().data(), B);
    EXPECT_EQ(image.result.root_hash, Sha256::digest(salted));
}

TEST(Verity, TreeBlocksHashTheLevelBelow) {
    BuiltImage image = build_image(300, 3);
    const auto& bytes = image.file.bytes();
    VerityLayout layout = VerityLayout::compute(300 * B, 300);
    Sha256 hasher;
    std::vector<uint8_t> salt(32, 0x5a);
    // Digest of data block 299 is entry 299 % 128 of level-0 block 2.
    auto digest = verity_hash_block(hasher, salt, std::span(bytes).subspan(299 * B, B));
    uint64_t at = layout.level_start[0] + 2 * B + (299 % 128) * 32;
    EXPECT_TRUE(
        std::equal(digest.begin(), digest.end(), bytes.begin() + static_cast<ptrdiff_t>(at)));
    // The rest of that last block is zero padding.
    EXPECT_TRUE(
        is_all_zero(std::span(bytes).subspan(at + 32, layout.level_start[0] + 3 * B - at - 32)));
    auto top = verity_hash_block(hasher, salt, std::span(bytes).subspan(layout.level_start[1], B));
    EXPECT_EQ(top, image.result.root_hash);
}

TEST(Verity, FlippedDataByteNamesTheBlock) {
    BuiltImage image = build_image(500, 11);
    image.file.bytes()[321 * B + 17] ^= 1;
    auto verified = verify_verity(image.file, 500 * B, image.result.root_hash);
    ASSERT_TRUE(verified.is_error());
    EXPECT_NE(verified.error().message().find("data block 321 "), std::string::npos)
        << verified.error().message();
}

TEST(Verity, FlippedTreeByteNamesTheBlock) {
    BuiltImage image = build_image(500, 12);
    VerityLayout layout = VerityLayout::compute(500 * B, 500);
    // Level 0 block 1 covers data blocks 128..255: change its third digest.
    image.file.bytes()[layout.level_start[0] + B + 2 * 32 + 5] ^= 0x80;
    auto verified = verify_verity(image.file, 500 * B, image.result.root_hash);
    ASSERT_TRUE(verified.is_error());
    EXPECT_NE(verified.error().message().find("data block 130 "), std::string::npos)
        << verified.error().message();

    // The top block: then level 0 block 3 no longer matches level 1.
    BuiltImage again = build_image(500, 12);
    again.file.bytes()[layout.level_start[1] + 3 * 32] ^= 1;
    verified = verify_verity(again.file, 500 * B, again.result.root_hash);
    ASSERT_TRUE(verified.is_error());
    EXPECT_NE(verified.error().message().find("hash block 3 of tree level 0"), std::string::npos)
        << verified.error().message();

    // Non-zero padding at the end of the last level-0 block.
    BuiltImage padded = build_image(500, 12);
    padded.file.bytes()[layout.level_start[0] + 4 * B - 1] = 1;
    verified = verify_verity(padded.file, 500 * B, padded.result.root_hash);
    ASSERT_TRUE(verified.is_error());
    EXPECT_NE(verified.error().message().find("padding"), std::string::npos)
        << verified.error().message();
}

TEST(Verity, WrongRootHashFails) {
    BuiltImage image = build_image(10, 5);
    Sha256Digest wrong = image.result.root_hash;
    wrong[0] ^= 1;
    auto verified = verify_verity(image.file, 10 * B, wrong);
    ASSERT_TRUE(verified.is_error());
    EXPECT_NE(verified.error().message().find("root hash"), std::string::npos);
}

TEST(Verity, BadInputs) {
    MemoryFile file(std::vector<uint8_t>(10 * B));
    VerityBuildOptions options;
    auto unaligned = build_verity(file, 10 * B + 512, 10, options);
    ASSERT_TRUE(unaligned.is_error());
    EXPECT_NE(unaligned.error().message().find("multiple of 4096"), std::string::npos);
    auto overlapping = build_verity(file, 9 * B, 10, options);
    ASSERT_TRUE(overlapping.is_error());
    EXPECT_NE(overlapping.error().message().find("inside"), std::string::npos);
    EXPECT_TRUE(build_verity(file, 10 * B, 0, options).is_error());
    auto too_few = build_verity(file, 20 * B, 11, options);
    ASSERT_TRUE(too_few.is_error());
    EXPECT_NE(too_few.error().message().find("fewer"), std::string::npos);
    options.salt.resize(257);
    EXPECT_TRUE(build_verity(file, 10 * B, 10, options).is_error());

    // Nothing, or garbage, at the hash offset.
    Sha256Digest root{};
    EXPECT_TRUE(verify_verity(file, 20 * B, root).is_error());
    auto garbage = verify_verity(file, 5 * B, root);
    ASSERT_TRUE(garbage.is_error());
    EXPECT_NE(garbage.error().message().find("signature"), std::string::npos);
    EXPECT_TRUE(verify_verity(file, 5 * B + 1, root).is_error());

    // A tree that would run past the end of the file.
    BuiltImage image = build_image(300, 1);
    image.file.bytes().resize(image.file.bytes().size() - B);
    auto truncated = verify_verity(image.file, 300 * B, image.result.root_hash);
    ASSERT_TRUE(truncated.is_error());
    EXPECT_NE(truncated.error().message().find("needs"), std::string::npos);
}

TEST(Verity, RandomSaltAndUuidWhenNotGiven) {
    MemoryFile file(test::random_bytes(4 * B, 9));
    auto result = build_verity(file, 4 * B, 4, {});
    ASSERT_FALSE(result.is_error());
    EXPECT_EQ(result.value().superblock.salt.size(), 32u);
    EXPECT_FALSE(is_all_zero(result.value().superblock.salt));
    EXPECT_FALSE(is_all_zero(result.value().superblock.uuid));
    EXPECT_EQ(result.value().superblock.uuid[6] >> 4, 4);
}

TEST(Verity, ProgressReachesTheTotal) {
    MemoryFile file(test::random_bytes(20000 * B, 2));
    uint64_t last_done = 0, last_total = 0;
    VerityBuildOptions options;
    options.progress = [&](uint64_t done, uint64_t total) {
        EXPECT_GE(done, last_done);
        last_done = done;
        last_total = total;
    };
    ASSERT_FALSE(build_verity(file, 20000 * B, 20000, options).is_error());
    EXPECT_EQ(last_total, 20000u + 157 + 2 + 1);
    EXPECT_EQ(last_done, last_total);
}

// Byte for byte what veritysetup writes, and veritysetup accepts our tree.
TEST(Verity, MatchesVeritysetup) {
    test::TempDir dir;
    ASSERT_TRUE(dir.ok());
    const std::string salt_hex = "0f1e2d3c4b5a69788796a5b4c3d2e1f000112233445566778899aabbccddeeff";
    const std::string uuid_text = "5c7d8e9f-1a2b-4c3d-8e4f-5a6b7c8d9e0f";
    VerityBuildOptions options;
    options.salt = from_hex(salt_hex).value();
    options.uuid = {0x5c, 0x7d, 0x8e, 0x9f, 0x1a, 0x2b, 0x4c, 0x3d,
                    0x8e, 0x4f, 0x5a, 0x6b, 0x7c, 0x8d, 0x9e, 0x0f};

    for (uint64_t blocks : {1, 3, 200, 20000}) {
        SCOPED_TRACE("data blocks " + std::to_string(blocks));
        auto data = test::random_bytes(blocks * B, static_cast<uint32_t>(100 + blocks));
        std::string theirs = dir.path("theirs.img"), ours = dir.path("ours.img");
        test::write_file(theirs, data);
        test::write_file(ours, data);

        std::string offset = std::to_string(blocks * B);
        auto format =
            test::run_command("veritysetup format --hash-offset=" + offset + " --salt=" + salt_hex +
                              " --uuid=" + uuid_text + " " + theirs + " " + theirs);
        ASSERT_EQ(format.status, 0) << format.output;
        std::smatch match;
        ASSERT_TRUE(
            std::regex_search(format.output, match, std::regex("Root hash:\\s+([0-9a-f]{64})")))
            << format.output;
        std::string their_root = match[1];

        {
            auto file = tools::HostFile::open_read_write(ours);
            ASSERT_FALSE(file.is_error());
            auto result = build_verity(*file.value(), blocks * B, blocks, options);
            ASSERT_FALSE(result.is_error()) << result.error().message();
            EXPECT_EQ(to_hex(result.value().root_hash), their_root);
        }
        auto their_bytes = test::read_file(theirs), our_bytes = test::read_file(ours);
        EXPECT_EQ(their_bytes.size(), our_bytes.size());
        EXPECT_TRUE(their_bytes == our_bytes) << "the files differ";

        auto check = test::run_command("veritysetup verify --hash-offset=" + offset + " " + ours +
                                       " " + ours + " " + their_root);
        EXPECT_EQ(check.status, 0) << check.output;

        // And we accept theirs.
        auto file = tools::HostFile::open_read(theirs);
        ASSERT_FALSE(file.is_error());
        Sha256Digest root{};
        auto root_bytes = from_hex(their_root).value();
        ASSERT_EQ(root_bytes.size(), root.size());
        std::memcpy(root.data(), root_bytes.data(), root.size());
        auto verified = verify_verity(*file.value(), blocks * B, root);
        EXPECT_FALSE(verified.is_error()) << verified.error().message();
    }
}

// veritysetup leaves bytes between the superblock and the tree, and after the
// tree, as they were; so must we, or images built over old files differ.
TEST(Verity, LeavesOtherBytesAloneLikeVeritysetup) {
    test::TempDir dir;
    ASSERT_TRUE(dir.ok());
    const std::string salt_hex = "aabbccdd";
    VerityBuildOptions options;
    options.salt = from_hex(salt_hex).value();
    options.uuid = {1, 2, 3, 4, 5, 6, 0x47, 8, 0x89, 10, 11, 12, 13, 14, 15, 16};
    auto data = test::random_bytes(40 * B, 77);
    std::string theirs = dir.path("theirs.img"), ours = dir.path("ours.img");
    test::write_file(theirs, data);
    test::write_file(ours, data);
    auto format =
        test::run_command("veritysetup format --hash-offset=" + std::to_string(10 * B) +
                          " --data-blocks=10 --salt=" + salt_hex +
                          " --uuid=01020304-0506-4708-890a-0b0c0d0e0f10 " + theirs + " " + theirs);
    ASSERT_EQ(format.status, 0) << format.output;
    {
        auto file = tools::HostFile::open_read_write(ours);
        ASSERT_FALSE(file.is_error());
        ASSERT_FALSE(build_verity(*file.value(), 10 * B, 10, options).is_error());
    }
    EXPECT_TRUE(test::read_file(theirs) == test::read_file(ours));
}

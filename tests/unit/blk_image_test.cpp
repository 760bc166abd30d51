// The whole block stack on real image files: images made in the test with the
// project's own writers (ext2, verity, fssig, LUKS1) exactly as `myst mkext2`
// lays them out, opened through the linux target. Clean reads give the exact
// bytes; any tampered byte is EIO on exactly the blocks it covers; the root
// hash is trusted only as configured; encrypted images need the right key.
#include <gtest/gtest.h>

#include <thread>

#include "tests/unit/blk_image_helpers.h"

using namespace myst;
using namespace myst::blk;
using namespace myst::blk::image_test;
using namespace myst::image;

TEST(BlkImage, CleanReadsGiveTheExactData) {
    test::TempDir dir;
    LinuxTarget target;
    auto built = build_image({}, dir.path("plain.img"));
    Lines lines;
    auto opened = open_ext2_image(target, built.path, own_fssig(), std::nullopt, lines.sink());
    ASSERT_FALSE(opened.is_error()) << opened.error().message();
    BlockDevice& device = *opened.value().device;
    EXPECT_FALSE(opened.value().encrypted);
    EXPECT_EQ(opened.value().root_hash, built.root_hash);
    EXPECT_TRUE(contains(opened.value().trusted_by, "own fssig"));
    EXPECT_EQ(device.block_count(), built.plaintext.size() / bs);

    std::vector<uint8_t> all(built.plaintext.size());
    ASSERT_FALSE(device.read_blocks(0, all).is_error());
    EXPECT_EQ(all, built.plaintext);
    for (auto [offset, length] : std::vector<std::pair<uint64_t, uint64_t>>{
             {1024, 1024}, {4095, 2}, {123456, 300000}, {5 * mib - 7, 3 * bs}}) {
        std::vector<uint8_t> part(length);
        ASSERT_FALSE(read_bytes(device, offset, part).is_error());
        EXPECT_EQ(0, std::memcmp(part.data(), built.plaintext.data() + offset, length));
    }
    EXPECT_TRUE(lines.lines.empty());
}

TEST(BlkImage, TreesMadeByVeritysetupAreRead) {
    test::TempDir dir;
    LinuxTarget target;
    auto built = build_image({}, dir.path("ours.img"));
    // The same ext2, hashed by veritysetup itself (the images Mystikos makes).
    std::string path = dir.path("theirs.img");
    test::write_file(path, built.plaintext);
    uint64_t hash_offset = built.plaintext.size();
    auto format =
        test::run_command("veritysetup format --hash-offset=" + std::to_string(hash_offset) + " '" +
                          path + "' '" + path + "' 2>&1 | sed -n 's/^Root hash:[[:space:]]*//p'");
    ASSERT_EQ(format.status, 0) << format.output;
    auto root = from_hex(format.output.substr(0, 64));
    ASSERT_FALSE(root.is_error()) << format.output;
    Fssig fssig;
    fssig.hash_offset = hash_offset;
    std::memcpy(fssig.root_hash.data(), root.value().data(), 32);
    auto bytes = test::read_file(path);
    bytes.resize((bytes.size() + bs - 1) / bs * bs);
    auto trailer = fssig.serialize();
    bytes.insert(bytes.end(), trailer.begin(), trailer.end());
    test::write_file(path, bytes);

    ImageTrust trust;
    trust.root_hashes = {fssig.root_hash};
    auto opened = open_ext2_image(target, path, trust, std::nullopt, {});
    ASSERT_FALSE(opened.is_error()) << opened.error().message();
    std::vector<uint8_t> all(built.plaintext.size());
    ASSERT_FALSE(opened.value().device->read_blocks(0, all).is_error());
    EXPECT_EQ(all, built.plaintext);
}

TEST(BlkImage, TamperedDataIsEioOnExactlyThatBlock) {
    test::TempDir dir;
    LinuxTarget target;
    auto built = build_image({}, dir.path("clean.img"));
    uint64_t last = built.plaintext.size() / bs - 1;
    for (uint64_t block : {uint64_t(1), uint64_t(700), uint64_t(1000), last}) {
        std::string path = dir.path("tampered.img");
        test::write_file(path, built.bytes);
        flip_byte(path, block * bs + (block * 37) % bs);
        Lines lines;
        auto opened = open_ext2_image(target, path, own_fssig(), std::nullopt, lines.sink());
        ASSERT_FALSE(opened.is_error()) << opened.error().message();
        BlockDevice& device = *opened.value().device;
        EXPECT_EQ(failing_blocks(device, built.plaintext), std::vector<uint64_t>{block});

        // A run covering the block fails and names it; runs beside it work.
        std::vector<uint8_t> run(8 * bs);
        uint64_t start = std::min(block >= 4 ? block - 4 : 0, last - 7);
        auto covering = device.read_blocks(start, run);
        ASSERT_TRUE(covering.is_error());
        EXPECT_EQ(covering.error().code(), EIO);
        EXPECT_EQ(covering.error().message(),
                  path + ": block " + std::to_string(block) +
                      " fails verification (its data does not match its hash in the tree)");
        if (block >= 8) {
            EXPECT_FALSE(device.read_blocks(block - 8, run).is_error());
        }
        // One line on the diagnostic stream per bad block, however often it is read.
        ASSERT_EQ(lines.lines.size(), 1u);
        EXPECT_TRUE(contains(lines.lines[0], path + ": block " + std::to_string(block) + " "));
    }
}

TEST(BlkImage, TamperedBlockZeroRefusesTheImage) {
    test::TempDir dir;
    LinuxTarget target;
    auto built = build_image({}, dir.path("zero.img"));
    flip_byte(built.path, 1024 + 56);  // the ext2 magic
    auto opened = open_ext2_image(target, built.path, own_fssig(), std::nullopt, {});
    ASSERT_TRUE(opened.is_error());
    EXPECT_EQ(opened.error().code(), EIO);
    EXPECT_TRUE(contains(opened.error().message(), "block 0 fails verification"));
}

TEST(BlkImage, TamperedHashBlockIsEioOnTheBlocksUnderIt) {
    test::TempDir dir;
    LinuxTarget target;
    auto built = build_image({}, dir.path("clean.img"));
    ASSERT_EQ(built.layout.level_start.size(), 2u);  // 2048 blocks: 16 level-0 blocks, 1 top
    std::string path = dir.path("tampered.img");
    test::write_file(path, built.bytes);
    flip_byte(path, built.layout.level_start[0] + 3 * bs + 200);
    Lines lines;
    auto opened = open_ext2_image(target, path, own_fssig(), std::nullopt, lines.sink());
    ASSERT_FALSE(opened.is_error()) << opened.error().message();
    std::vector<uint64_t> expected;
    for (uint64_t b = 3 * 128; b < 4 * 128; ++b)
        expected.push_back(b);
    EXPECT_EQ(failing_blocks(*opened.value().device, built.plaintext), expected);
    ASSERT_EQ(lines.lines.size(), 1u);
    EXPECT_TRUE(contains(lines.lines[0], "hash block 3 of tree level 0 does not match"));

    // The top block, the salt or the fssig's root hash: nothing matches, nothing mounts.
    uint64_t salt_offset = built.layout.hash_offset + 88;
    uint64_t fssig_root = built.bytes.size() - fssig_size + 24;
    for (uint64_t offset : {built.layout.level_start[1] + 5, salt_offset, fssig_root}) {
        test::write_file(path, built.bytes);
        flip_byte(path, offset);
        auto refused = open_ext2_image(target, path, own_fssig(), std::nullopt, {});
        ASSERT_TRUE(refused.is_error()) << offset;
        EXPECT_EQ(refused.error().code(), EIO);
        EXPECT_TRUE(contains(refused.error().message(), "does not match the trusted root hash"));
    }
}

TEST(BlkImage, SequentialReadHashesEachTreeBlockOnce) {
    test::TempDir dir;
    LinuxTarget target;
    auto built = build_image({}, dir.path("plain.img"));
    auto host = HostFileDevice::open(target, built.path);
    ASSERT_FALSE(host.is_error());
    VerityConfig config;
    config.name = built.path;
    config.layout = built.layout;
    config.salt = std::vector<uint8_t>(32, 0x5a);
    config.root_hash = built.root_hash;
    auto opened = VerityDevice::open(std::move(host.value()), config);
    ASSERT_FALSE(opened.is_error()) << opened.error().message();
    VerityDevice& device = *opened.value();
    EXPECT_EQ(failing_blocks(device, built.plaintext), std::vector<uint64_t>{});
    uint64_t tree_blocks = built.layout.level_blocks[0] + built.layout.level_blocks[1];
    EXPECT_EQ(device.stats().hash_blocks_hashed, tree_blocks);
    EXPECT_EQ(device.stats().data_blocks_hashed, device.block_count());
    EXPECT_EQ(failing_blocks(device, built.plaintext), std::vector<uint64_t>{});
    EXPECT_EQ(device.stats().hash_blocks_hashed, tree_blocks);

    config.root_hash[0] ^= 1;
    auto wrong =
        VerityDevice::open(HostFileDevice::open(target, built.path).release_value(), config);
    ASSERT_TRUE(wrong.is_error());
    EXPECT_EQ(wrong.error().code(), EIO);
    config.root_hash[0] ^= 1;
    config.layout = VerityLayout::compute(built.bytes.size(), 2048);  // tree past the end
    auto outside =
        VerityDevice::open(HostFileDevice::open(target, built.path).release_value(), config);
    ASSERT_TRUE(outside.is_error());
    EXPECT_EQ(outside.error().code(), EINVAL);
}

TEST(BlkImage, ExpectedRootHash) {
    test::TempDir dir;
    LinuxTarget target;
    auto built = build_image({}, dir.path("plain.img"));
    ImageTrust trust;
    trust.root_hashes = {built.root_hash};
    auto opened = open_ext2_image(target, built.path, trust, std::nullopt, {});
    ASSERT_FALSE(opened.is_error()) << opened.error().message();
    EXPECT_EQ(opened.value().trusted_by, "expected root hash");

    trust.root_hashes[0][31] ^= 1;
    auto wrong = open_ext2_image(target, built.path, trust, std::nullopt, {});
    ASSERT_TRUE(wrong.is_error());
    EXPECT_EQ(wrong.error().code(), EACCES);
    EXPECT_TRUE(contains(wrong.error().message(), "root hash mismatch"));

    auto untrusted = open_ext2_image(target, built.path, ImageTrust{}, std::nullopt, {});
    ASSERT_TRUE(untrusted.is_error());
    EXPECT_EQ(untrusted.error().code(), EACCES);
    EXPECT_TRUE(contains(untrusted.error().message(), "no trusted root hash"));
}

TEST(BlkImage, SignedImages) {
    KeyFiles keys;
    ASSERT_EQ(keys.make("right"), "");
    ASSERT_EQ(keys.make("other"), "");
    test::TempDir dir;
    LinuxTarget target;
    ImageSpec spec;
    spec.signer = &keys.private_key("right");
    auto built = build_image(spec, dir.path("signed.img"));

    ImageTrust trust;
    trust.public_keys = {keys.public_key("other"), keys.public_key("right")};
    auto opened = open_ext2_image(target, built.path, trust, std::nullopt, {});
    ASSERT_FALSE(opened.is_error()) << opened.error().message();
    EXPECT_EQ(opened.value().trusted_by,
              "signed by trusted key " + to_hex(keys.public_key("right").signer_id()));

    trust.public_keys = {keys.public_key("other")};
    auto wrong = open_ext2_image(target, built.path, trust, std::nullopt, {});
    ASSERT_TRUE(wrong.is_error());
    EXPECT_EQ(wrong.error().code(), EKEYREJECTED);
    EXPECT_TRUE(contains(wrong.error().message(), "not signed by a trusted key"));

    // A root hash changed under the signature, or a changed signature.
    trust.public_keys = {keys.public_key("right")};
    for (uint64_t field : {uint64_t(24), uint64_t(88 + 17)}) {
        test::write_file(built.path, built.bytes);
        flip_byte(built.path, built.bytes.size() - fssig_size + field);
        auto forged = open_ext2_image(target, built.path, trust, std::nullopt, {});
        ASSERT_TRUE(forged.is_error());
        EXPECT_EQ(forged.error().code(), EKEYREJECTED);
        EXPECT_TRUE(contains(forged.error().message(), "signature does not verify"));
    }

    auto unsigned_image = build_image({}, dir.path("unsigned.img"));
    auto refused = open_ext2_image(target, unsigned_image.path, trust, std::nullopt, {});
    ASSERT_TRUE(refused.is_error());
    EXPECT_EQ(refused.error().code(), EACCES);
    EXPECT_TRUE(contains(refused.error().message(), "not signed by a trusted key"));
    // trust_image_fssig does not weaken a configured key.
    trust.trust_image_fssig = true;
    EXPECT_TRUE(open_ext2_image(target, unsigned_image.path, trust, std::nullopt, {}).is_error());
    // Keys and root hashes are alternatives: --pubkey for one image,
    // --roothash for another, both trusted.
    trust.trust_image_fssig = false;
    trust.root_hashes = {unsigned_image.root_hash};
    auto by_hash = open_ext2_image(target, unsigned_image.path, trust, std::nullopt, {});
    ASSERT_FALSE(by_hash.is_error()) << by_hash.error().message();
    EXPECT_EQ(by_hash.value().trusted_by, "expected root hash");
    test::write_file(built.path, built.bytes);  // undo the forgeries above
    auto by_key = open_ext2_image(target, built.path, trust, std::nullopt, {});
    ASSERT_FALSE(by_key.is_error()) << by_key.error().message();
    trust.public_keys = {keys.public_key("other")};
    auto neither = open_ext2_image(target, built.path, trust, std::nullopt, {});
    ASSERT_TRUE(neither.is_error());
    EXPECT_TRUE(contains(neither.error().message(), "not an expected one either"));
}

TEST(BlkImage, EncryptedImages) {
    test::TempDir dir;
    LinuxTarget target;
    std::vector<uint8_t> key(64);
    for (size_t i = 0; i < key.size(); ++i)
        key[i] = static_cast<uint8_t>(i * 5 + 3);
    ImageSpec spec;
    spec.key = key;
    auto built = build_image(spec, dir.path("secret.img"));
    ASSERT_NE(0, std::memcmp(built.bytes.data() + luks_payload, built.plaintext.data(), 4096));

    auto opened = open_ext2_image(target, built.path, own_fssig(), key, {});
    ASSERT_FALSE(opened.is_error()) << opened.error().message();
    EXPECT_TRUE(opened.value().encrypted);
    BlockDevice& device = *opened.value().device;
    EXPECT_EQ(device.block_count(), built.plaintext.size() / bs);
    std::vector<uint8_t> all(built.plaintext.size());
    ASSERT_FALSE(device.read_blocks(0, all).is_error());
    EXPECT_EQ(all, built.plaintext);

    auto wrong_key = key;
    wrong_key[10] ^= 1;
    auto wrong = open_ext2_image(target, built.path, own_fssig(), wrong_key, {});
    ASSERT_TRUE(wrong.is_error());
    EXPECT_EQ(wrong.error().code(), EKEYREJECTED);
    EXPECT_TRUE(contains(wrong.error().message(), built.path));

    auto no_key = open_ext2_image(target, built.path, own_fssig(), std::nullopt, {});
    ASSERT_TRUE(no_key.is_error());
    EXPECT_EQ(no_key.error().message(), built.path + ": image is encrypted: a key is needed");

    // Verity checks the ciphertext before it is decrypted.
    uint64_t block = built.payload_block + 300;
    flip_byte(built.path, block * bs + 9);
    auto tampered = open_ext2_image(target, built.path, own_fssig(), key, {});
    ASSERT_FALSE(tampered.is_error()) << tampered.error().message();
    EXPECT_EQ(failing_blocks(*tampered.value().device, built.plaintext),
              std::vector<uint64_t>{300});
}

TEST(BlkImage, ConcurrentReaders) {
    test::TempDir dir;
    LinuxTarget target;
    std::vector<uint8_t> key = test::random_bytes(64, 50);
    ImageSpec spec;
    spec.key = key;
    auto built = build_image(spec, dir.path("shared.img"));
    flip_byte(built.path, (built.payload_block + 1500) * bs + 77);
    Lines lines;
    auto opened = open_ext2_image(target, built.path, own_fssig(), key, lines.sink(), 64 * bs);
    ASSERT_FALSE(opened.is_error()) << opened.error().message();
    BlockDevice& device = *opened.value().device;
    const uint64_t blocks = device.block_count();
    std::atomic<int> wrong{0}, refused{0}, missed{0};
    auto reader = [&](uint32_t seed) {
        std::mt19937 random(seed);
        std::vector<uint8_t> buffer;
        for (int i = 0; i < 400; ++i) {
            uint64_t count = 1 + random() % 40;
            uint64_t first = random() % (blocks - count);
            buffer.resize(count * bs);
            bool covers = first <= 1500 && 1500 < first + count;
            auto result = device.read_blocks(first, buffer);
            if (result.is_error())
                covers ? ++refused : ++missed;
            else if (covers ||
                     std::memcmp(buffer.data(), &built.plaintext[first * bs], buffer.size()) != 0)
                ++wrong;
        }
    };
    std::vector<std::thread> threads;
    for (uint32_t t = 0; t < 4; ++t)
        threads.emplace_back(reader, t + 1);
    for (auto& thread : threads)
        thread.join();
    EXPECT_EQ(wrong, 0);
    EXPECT_EQ(missed, 0);
    EXPECT_GT(refused, 0);
    EXPECT_EQ(lines.lines.size(), refused > 0 ? 1u : 0u);
}

TEST(BlkImage, WritesNeverReachTheHostImage) {
    test::TempDir dir;
    LinuxTarget target;
    auto built = build_image({}, dir.path("plain.img"));
    {
        auto opened = open_ext2_image(target, built.path, own_fssig(), std::nullopt, {});
        ASSERT_FALSE(opened.is_error()) << opened.error().message();
        BlockDevice& device = *opened.value().device;
        auto patch = test::random_bytes(3 * bs + 11, 30);
        ASSERT_FALSE(write_bytes(device, 1000 * bs - 5, patch).is_error());
        auto expected = built.plaintext;
        std::memcpy(expected.data() + 1000 * bs - 5, patch.data(), patch.size());
        std::vector<uint8_t> all(expected.size());
        ASSERT_FALSE(device.read_blocks(0, all).is_error());
        EXPECT_EQ(all, expected);
    }
    EXPECT_EQ(test::read_file(built.path), built.bytes);
}

TEST(BlkImage, BadImagesAreClearErrors) {
    test::TempDir dir;
    LinuxTarget target;
    auto missing = open_ext2_image(target, dir.path("none.img"), own_fssig(), std::nullopt, {});
    ASSERT_TRUE(missing.is_error());
    EXPECT_EQ(missing.error().code(), ENOENT);

    test::write_file(dir.path("random.img"), test::random_bytes(64 * bs, 31));
    auto random = open_ext2_image(target, dir.path("random.img"), own_fssig(), std::nullopt, {});
    ASSERT_TRUE(random.is_error());
    EXPECT_TRUE(contains(random.error().message(), dir.path("random.img")));

    auto built = build_image({}, dir.path("plain.img"));
    flip_byte(built.path, built.layout.hash_offset + 1);  // the verity superblock's magic
    auto no_superblock = open_ext2_image(target, built.path, own_fssig(), std::nullopt, {});
    ASSERT_TRUE(no_superblock.is_error());
    EXPECT_TRUE(contains(no_superblock.error().message(), "verity superblock"));
}

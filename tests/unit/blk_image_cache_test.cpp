// The verified cache of an opened image: blocks once verified (and
// decrypted) are re-read from memory without hashing; a block that fails
// verification is never kept. Plus the read speeds, printed for the record.
#include <gtest/gtest.h>
#include <malloc.h>

#include <chrono>

#include "tests/unit/blk_image_helpers.h"

using namespace myst;
using namespace myst::blk;
using namespace myst::blk::image_test;
using namespace myst::image;

namespace {

// Blocks [first, first + count) read with `per_call` blocks per call; false
// when a read fails or gives other bytes than `plaintext`.
bool reads_right(BlockDevice& device, const std::vector<uint8_t>& plaintext, uint64_t first,
                 uint64_t count, uint64_t per_call) {
    std::vector<uint8_t> buffer(per_call * bs);
    for (uint64_t b = first; b < first + count; b += per_call) {
        if (device.read_blocks(b, buffer).is_error() ||
            std::memcmp(buffer.data(), &plaintext[b * bs], buffer.size()) != 0)
            return false;
    }
    return true;
}

}  // namespace

TEST(BlkImage, ReReadsComeFromTheVerifiedCache) {
    test::TempDir dir;
    LinuxTarget target;
    ImageSpec encrypted;
    encrypted.key = test::random_bytes(64, 60);
    for (const ImageSpec& spec : {ImageSpec{}, encrypted}) {
        SCOPED_TRACE(spec.key ? "encrypted" : "plain");
        auto built = build_image(spec, dir.path("cached.img"));
        auto opened = open_ext2_image(target, built.path, own_fssig(), spec.key, {});
        ASSERT_FALSE(opened.is_error()) << opened.error().message();
        BlockDevice& device = *opened.value().device;
        const VerityDevice& verity = *opened.value().verity;
        const CacheDevice& cache = *opened.value().verified_cache;
        // A bulk run (a program's 1 MiB read) and single blocks read in order
        // (4 KiB reads): hashed once, then served from the cache.
        for (auto [first, count, per_call] :
             std::vector<std::array<uint64_t, 3>>{{100, 512, 256}, {900, 96, 1}}) {
            uint64_t hashed = verity.stats().data_blocks_hashed;
            uint64_t hits = cache.stats().hits;
            EXPECT_TRUE(reads_right(device, built.plaintext, first, count, per_call));
            EXPECT_EQ(verity.stats().data_blocks_hashed, hashed + count);
            EXPECT_EQ(cache.stats().hits, hits);
            EXPECT_TRUE(reads_right(device, built.plaintext, first, count, per_call));
            EXPECT_EQ(verity.stats().data_blocks_hashed, hashed + count) << "hashed again";
            EXPECT_EQ(cache.stats().hits, hits + count);
        }
        // The 4 KiB reads went to the host in read-ahead windows.
        EXPECT_GT(opened.value().readahead_cache->stats().read_ahead, 64u);
    }

    // The cache is bounded: of a whole read, the last blocks stay.
    auto built = build_image({}, dir.path("bounded.img"));
    const uint64_t blocks = built.plaintext.size() / bs;
    auto small = open_ext2_image(target, built.path, own_fssig(), std::nullopt, {}, 64 * bs);
    ASSERT_FALSE(small.is_error()) << small.error().message();
    const VerityDevice& verity = *small.value().verity;
    EXPECT_TRUE(reads_right(*small.value().device, built.plaintext, 0, blocks, 32));
    EXPECT_EQ(small.value().verified_cache->cached_blocks(), 64u);
    uint64_t hashed = verity.stats().data_blocks_hashed;
    EXPECT_TRUE(reads_right(*small.value().device, built.plaintext, blocks - 64, 64, 64));
    EXPECT_EQ(verity.stats().data_blocks_hashed, hashed);
    EXPECT_TRUE(reads_right(*small.value().device, built.plaintext, 0, 64, 64));
    EXPECT_EQ(verity.stats().data_blocks_hashed, hashed + 64);

    // Without a verified cache every read is verified again.
    auto none = open_ext2_image(target, built.path, own_fssig(), std::nullopt, {}, 0);
    ASSERT_FALSE(none.is_error()) << none.error().message();
    hashed = none.value().verity->stats().data_blocks_hashed;
    EXPECT_TRUE(reads_right(*none.value().device, built.plaintext, 10, 20, 20));
    EXPECT_TRUE(reads_right(*none.value().device, built.plaintext, 10, 20, 20));
    EXPECT_EQ(none.value().verity->stats().data_blocks_hashed, hashed + 40);
    EXPECT_EQ(none.value().verified_cache->cached_blocks(), 0u);
}

TEST(BlkImage, ImagesSharingACacheChargeStayWithinIt) {
    test::TempDir dir;
    LinuxTarget target;
    auto built = build_image({}, dir.path("shared.img"));
    const uint64_t blocks = built.plaintext.size() / bs;
    constexpr uint64_t allowance = 6 * mib;
    auto charge = std::make_shared<CappedCharge>(nullptr, allowance);
    auto cached_bytes = [](const OpenedImage& opened) {
        return (opened.verified_cache->cached_blocks() + opened.readahead_cache->cached_blocks()) *
               bs;
    };
    auto second = open_ext2_image(target, built.path, own_fssig(), std::nullopt, {},
                                  default_image_cache_bytes, {}, charge);
    ASSERT_FALSE(second.is_error()) << second.error().message();
    {
        auto first = open_ext2_image(target, built.path, own_fssig(), std::nullopt, {},
                                     default_image_cache_bytes, {}, charge);
        ASSERT_FALSE(first.is_error()) << first.error().message();
        EXPECT_TRUE(reads_right(*first.value().device, built.plaintext, 0, blocks, 1));
        EXPECT_TRUE(reads_right(*second.value().device, built.plaintext, 0, blocks, 1));
        EXPECT_LE(cached_bytes(first.value()) + cached_bytes(second.value()), allowance);
        EXPECT_EQ(charge->available(), 0u);
        EXPECT_GT(cached_bytes(first.value()), 0u);
    }
    // The first image's caches gave their memory back: the second's grow.
    uint64_t before = cached_bytes(second.value());
    EXPECT_TRUE(reads_right(*second.value().device, built.plaintext, 0, blocks, 1));
    EXPECT_GT(cached_bytes(second.value()), before);
    EXPECT_LE(cached_bytes(second.value()), allowance);
}

TEST(BlkImage, ABlockThatFailsVerificationIsNeverCached) {
    test::TempDir dir;
    LinuxTarget target;
    ImageSpec encrypted;
    encrypted.key = test::random_bytes(64, 61);
    for (const ImageSpec& spec : {ImageSpec{}, encrypted}) {
        SCOPED_TRACE(spec.key ? "encrypted" : "plain");
        auto built = build_image(spec, dir.path("bad.img"));
        flip_byte(built.path, (built.payload_block + 700) * bs + 123);
        Lines lines;
        auto opened = open_ext2_image(target, built.path, own_fssig(), spec.key, lines.sink());
        ASSERT_FALSE(opened.is_error()) << opened.error().message();
        BlockDevice& device = *opened.value().device;
        const VerityDevice& verity = *opened.value().verity;
        std::vector<uint8_t> block(bs), run(40 * bs);
        for (int pass = 0; pass < 2; ++pass) {
            uint64_t hashed = verity.stats().data_blocks_hashed;
            auto alone = device.read_blocks(700, block);
            ASSERT_TRUE(alone.is_error()) << "pass " << pass;
            EXPECT_EQ(alone.error().code(), EIO);
            EXPECT_TRUE(is_all_zero(block));
            EXPECT_GT(verity.stats().data_blocks_hashed, hashed) << "not checked again";
            auto covering = device.read_blocks(680, run);
            ASSERT_TRUE(covering.is_error()) << "pass " << pass;
            EXPECT_EQ(covering.error().code(), EIO);
            // Its neighbours, cached or not, are fine.
            EXPECT_TRUE(reads_right(device, built.plaintext, 690, 10, 1));
            EXPECT_TRUE(reads_right(device, built.plaintext, 701, 10, 10));
        }
        // Every block read twice: only block 700 fails, both times.
        EXPECT_EQ(failing_blocks(device, built.plaintext), std::vector<uint64_t>{700});
        EXPECT_EQ(failing_blocks(device, built.plaintext), std::vector<uint64_t>{700});
        EXPECT_EQ(lines.lines.size(), 1u);
    }
}

// Not a pass/fail check of speed: a sequential read of 64 MiB through host
// -> read-ahead cache -> verity -> verified cache -> overlay, printed beside
// this machine's SHA-256 over 4 KiB blocks (the bound). The first read is
// timed into a fresh default cache (its memory touched for the first time),
// into a full one (a 32 MiB cache on its second pass: every block copied in
// evicts one) and with no verified cache, which shows what keeping the
// blocks costs; the re-read is the second pass over the default cache.
// Best of three, so that a busy machine disturbs the figures less; the only
// checks are the data, that the re-read hashes nothing, and that it is faster.
TEST(BlkImage, SequentialReadSpeed) {
    test::TempDir dir;
    LinuxTarget target;
    ImageSpec spec;
    spec.raw_data = test::random_bytes(64 * mib, 40);
    ASSERT_GE(default_image_cache_bytes, spec.raw_data.size());
    auto built = build_image(spec, dir.path("speed.img"));
    using clock = std::chrono::steady_clock;

    Sha256 hasher;
    std::vector<uint8_t> salt(32, 0x5a);
    std::span<const uint8_t> sample(spec.raw_data.data(), 16 * mib);
    double sha_seconds = 1e9;
    for (int pass = 0; pass < 3; ++pass) {
        auto start = clock::now();
        for (uint64_t offset = 0; offset < sample.size(); offset += bs)
            (void)verity_hash_block(hasher, salt, sample.subspan(offset, bs));
        sha_seconds =
            std::min(sha_seconds, std::chrono::duration<double>(clock::now() - start).count());
    }
    double sha_rate = double(sample.size()) / sha_seconds / 1e6;

    auto open = [&](uint64_t cache_bytes) {
        auto opened =
            open_ext2_image(target, built.path, own_fssig(), std::nullopt, {}, cache_bytes);
        EXPECT_FALSE(opened.is_error()) << opened.error().message();
        return opened.release_value();
    };
    // MB/s of one pass over the image, in `chunk`-byte reads.
    auto read_rate = [&](BlockDevice& device, uint64_t chunk) {
        std::vector<uint8_t> buffer(chunk);
        double seconds = 0;
        for (uint64_t offset = 0; offset < spec.raw_data.size(); offset += chunk) {
            auto start = clock::now();
            auto read = device.read_blocks(offset / bs, buffer);
            seconds += std::chrono::duration<double>(clock::now() - start).count();
            EXPECT_FALSE(read.is_error()) << read.error().message();
            if (read.is_error() || std::memcmp(buffer.data(), &spec.raw_data[offset], chunk) != 0)
                return 0.0;
        }
        return double(spec.raw_data.size()) / seconds / 1e6;
    };
    for (uint64_t chunk : {uint64_t(4096), uint64_t(128 * 1024), mib}) {
        double none = 0, fresh = 0, full = 0, again = 0;
        for (int pass = 0; pass < 3; ++pass) {
            none = std::max(none, read_rate(*open(0).device, chunk));
            OpenedImage half = open(32 * mib);
            read_rate(*half.device, chunk);
            full = std::max(full, read_rate(*half.device, chunk));
            malloc_trim(0);  // freed caches back to the host: this one's memory is new
            OpenedImage opened = open(default_image_cache_bytes);
            fresh = std::max(fresh, read_rate(*opened.device, chunk));
            uint64_t hashed = opened.verity->stats().data_blocks_hashed;
            again = std::max(again, read_rate(*opened.device, chunk));
            EXPECT_EQ(opened.verity->stats().data_blocks_hashed, hashed);
        }
        std::printf(
            "%7llu-byte reads: first read %4.0f MB/s into a fresh cache, %4.0f into a "
            "full one, %4.0f with none (SHA-256 over 4 KiB blocks here: %.0f MB/s; "
            "%.0f%%, %.0f%%, %.0f%% of it); re-read %5.0f MB/s\n",
            static_cast<unsigned long long>(chunk), fresh, full, none, sha_rate,
            100 * fresh / sha_rate, 100 * full / sha_rate, 100 * none / sha_rate, again);
        EXPECT_GT(fresh, 0.0);
        EXPECT_GT(again, fresh);
    }
}

// The block device layers one at a time, over an in-memory device that
// counts what is asked of it: byte access, the host file device (through the
// real linux target), the LRU cache, the copy-on-write overlay and the LUKS1
// payload view.
#include <gtest/gtest.h>

#include <cstring>

#include "blk/block_lru.h"
#include "blk/cache_device.h"
#include "blk/crypt_device.h"
#include "blk/host_file_device.h"
#include "blk/overlay_device.h"
#include "image/luks1.h"
#include "image/xts_volume.h"
#include "target/linux_target.h"
#include "tests/unit/fs_test_helpers.h"
#include "tests/unit/test_support.h"

using namespace myst;
using namespace myst::blk;

namespace {

constexpr uint32_t bs = 4096;

CacheOptions cache_options(size_t capacity, uint64_t bulk = 32, uint64_t readahead = 0) {
    CacheOptions options;
    options.capacity_blocks = capacity;
    options.bulk_blocks = bulk;
    options.readahead_blocks = readahead;
    return options;
}

// Blocks in a vector; records every read call as {first, count}.
class MemoryDevice final : public BlockDevice {
public:
    explicit MemoryDevice(std::vector<uint8_t> bytes, bool writable = false)
        : m_bytes(std::move(bytes)), m_writable(writable) {}

    uint32_t block_size() const override { return bs; }
    uint64_t block_count() const override { return m_bytes.size() / bs; }
    Result<void> read_blocks(uint64_t first, std::span<uint8_t> buffer) override {
        TRY(check_block_range(*this, first, buffer.size()));
        reads.emplace_back(first, buffer.size() / bs);
        std::memcpy(buffer.data(), m_bytes.data() + first * bs, buffer.size());
        return {};
    }
    Result<void> write_blocks(uint64_t first, std::span<const uint8_t> data) override {
        if (!m_writable)
            return BlockDevice::write_blocks(first, data);
        TRY(check_block_range(*this, first, data.size()));
        std::memcpy(m_bytes.data() + first * bs, data.data(), data.size());
        return {};
    }

    std::vector<std::pair<uint64_t, uint64_t>> reads;

private:
    std::vector<uint8_t> m_bytes;
    bool m_writable;
};

// Forwards to a device the test keeps, for layers that own (and on failure
// drop) their lower device.
class BorrowedDevice final : public BlockDevice {
public:
    explicit BorrowedDevice(BlockDevice& device) : m_device(device) {}
    uint32_t block_size() const override { return m_device.block_size(); }
    uint64_t block_count() const override { return m_device.block_count(); }
    Result<void> read_blocks(uint64_t first, std::span<uint8_t> buffer) override {
        return m_device.read_blocks(first, buffer);
    }

private:
    BlockDevice& m_device;
};

std::vector<uint8_t> slice(const std::vector<uint8_t>& bytes, size_t offset, size_t length) {
    return {bytes.begin() + long(offset), bytes.begin() + long(offset + length)};
}

std::vector<uint8_t> read_all(BlockDevice& device, uint64_t first, uint64_t count) {
    std::vector<uint8_t> out(count * device.block_size());
    auto result = device.read_blocks(first, out);
    EXPECT_FALSE(result.is_error()) << result.error().message();
    return out;
}

}  // namespace

TEST(BlkBytes, ReadsAndWritesAtAnyOffset) {
    auto bytes = test::random_bytes(8 * bs, 1);
    MemoryDevice device(bytes, true);
    for (auto [offset, length] : std::vector<std::pair<size_t, size_t>>{
             {0, 1}, {1024, 1024}, {4095, 2}, {100, 3 * bs}, {bs, 2 * bs}, {5000, 10000}}) {
        std::vector<uint8_t> out(length);
        ASSERT_FALSE(read_bytes(device, offset, out).is_error());
        EXPECT_EQ(out, slice(bytes, offset, length)) << offset << "+" << length;
    }
    // One aligned run is one device call.
    device.reads.clear();
    std::vector<uint8_t> run(3 * bs);
    ASSERT_FALSE(read_bytes(device, bs, run).is_error());
    EXPECT_EQ(device.reads, (std::vector<std::pair<uint64_t, uint64_t>>{{1, 3}}));

    // Partial blocks are read, changed and written back: nothing else moves.
    auto patch = test::random_bytes(2 * bs + 300, 2);
    ASSERT_FALSE(write_bytes(device, 3000, patch).is_error());
    std::memcpy(bytes.data() + 3000, patch.data(), patch.size());
    std::vector<uint8_t> all(bytes.size());
    ASSERT_FALSE(read_bytes(device, 0, all).is_error());
    EXPECT_EQ(all, bytes);
}

TEST(BlkBytes, BadRangesAreErrors) {
    MemoryDevice device(std::vector<uint8_t>(4 * bs), true);
    std::vector<uint8_t> buffer(10);
    EXPECT_EQ(read_bytes(device, 4 * bs - 5, buffer).error().code(), EIO);
    EXPECT_EQ(read_bytes(device, UINT64_MAX - 2, buffer).error().code(), EIO);
    EXPECT_EQ(write_bytes(device, 4 * bs, buffer).error().code(), EIO);
    std::vector<uint8_t> odd(bs + 1);
    EXPECT_EQ(device.read_blocks(0, odd).error().code(), EINVAL);
    std::vector<uint8_t> two(2 * bs);
    EXPECT_EQ(device.read_blocks(3, two).error().code(), EIO);
    EXPECT_EQ(device.read_blocks(UINT64_MAX, two).error().code(), EIO);
    MemoryDevice read_only(std::vector<uint8_t>(4 * bs));
    EXPECT_EQ(write_bytes(read_only, 0, buffer).error().code(), EROFS);
}

TEST(BlkHostFile, ReadsThroughTheTarget) {
    test::TempDir dir;
    ASSERT_TRUE(dir.ok());
    auto bytes = test::random_bytes(5 * bs + 100, 3);
    test::write_file(dir.path("image"), bytes);
    LinuxTarget target;

    auto whole = HostFileDevice::open(target, dir.path("image"));
    ASSERT_FALSE(whole.is_error()) << whole.error().message();
    EXPECT_EQ(whole.value()->block_count(), 5u);  // the partial tail is not a block
    EXPECT_EQ(read_all(*whole.value(), 0, 5), slice(bytes, 0, 5 * bs));
    EXPECT_EQ(read_all(*whole.value(), 2, 2), slice(bytes, 2 * bs, 2 * bs));
    std::vector<uint8_t> past(bs);
    EXPECT_EQ(whole.value()->read_blocks(5, past).error().code(), EIO);
    EXPECT_EQ(whole.value()->write_blocks(0, past).error().code(), EROFS);

    // A byte range of the file, at an unaligned offset.
    auto file = TargetFile::open(target, dir.path("image"));
    ASSERT_FALSE(file.is_error());
    HostFileDevice range(file.value(), 10, 3 * bs + 7);
    EXPECT_EQ(range.block_count(), 3u);
    EXPECT_EQ(read_all(range, 1, 2), slice(bytes, 10 + bs, 2 * bs));

    std::vector<uint8_t> tail(200);
    auto eof = file.value()->read_at(5 * bs, tail);
    ASSERT_TRUE(eof.is_error());
    EXPECT_EQ(eof.error().code(), EIO);
    EXPECT_NE(eof.error().message().find("end of file"), std::string::npos);
    EXPECT_EQ(file.value()->write_at(0, tail).error().code(), EROFS);

    auto missing = HostFileDevice::open(target, dir.path("nonexistent"));
    ASSERT_TRUE(missing.is_error());
    EXPECT_EQ(missing.error().code(), ENOENT);
    EXPECT_NE(missing.error().message().find("nonexistent"), std::string::npos);
    auto directory = HostFileDevice::open(target, dir.path());
    ASSERT_TRUE(directory.is_error());
    EXPECT_EQ(directory.error().code(), EINVAL);
}

TEST(BlkLru, EvictsTheLeastRecentlyUsed) {
    BlockLru lru(3, 16);
    std::vector<uint8_t> a(16, 'a'), b(16, 'b'), c(16, 'c'), d(16, 'd');
    lru.insert(1, a);
    lru.insert(2, b);
    lru.insert(3, c);
    ASSERT_NE(lru.find(1), nullptr);  // 2 is now the oldest
    lru.insert(4, d);
    EXPECT_EQ(lru.find(2), nullptr);
    ASSERT_NE(lru.find(1), nullptr);
    EXPECT_EQ(lru.find(1)[0], 'a');
    EXPECT_EQ(lru.find(3)[0], 'c');
    EXPECT_EQ(lru.find(4)[0], 'd');
    lru.insert(3, a);  // replacing keeps the size
    EXPECT_EQ(lru.size(), 3u);
    EXPECT_EQ(lru.find(3)[0], 'a');
    BlockLru none(0, 16);
    EXPECT_EQ(none.insert(1, a), nullptr);
    EXPECT_EQ(none.find(1), nullptr);
}

TEST(BlkLru, StopsGrowingWhereTheChargeRefuses) {
    // Slot memory comes in pieces of 512 slots; the charge has room for one.
    auto charge = std::make_shared<CappedCharge>(nullptr, 512 * 16);
    std::vector<uint8_t> block(16, 'x');
    BlockLru later(16, 16, nullptr, charge);
    {
        BlockLru lru(2048, 16, nullptr, charge);
        for (uint64_t key = 0; key < 600; ++key)
            ASSERT_NE(lru.insert(key, block), nullptr) << key;
        EXPECT_EQ(lru.size(), 512u);
        EXPECT_EQ(charge->available(), 0u);
        EXPECT_EQ(lru.find(80), nullptr);  // replaced within the slots it had
        EXPECT_NE(lru.find(599), nullptr);
        EXPECT_EQ(later.insert(1, block), nullptr);
        EXPECT_EQ(later.size(), 0u);
    }
    EXPECT_EQ(charge->available(), 512u * 16);   // given back
    EXPECT_NE(later.insert(1, block), nullptr);  // and taken by the other
    EXPECT_EQ(charge->available(), 512u * 16 - 16 * 16);
}

TEST(BlkCache, RepeatedReadsHitTheCache) {
    auto bytes = test::random_bytes(32 * bs, 4);
    auto lower = std::make_unique<MemoryDevice>(bytes);
    MemoryDevice& counted = *lower;
    CacheDevice cache(std::move(lower), cache_options(16));

    EXPECT_EQ(read_all(cache, 0, 10), slice(bytes, 0, 10 * bs));
    EXPECT_EQ(counted.reads, (std::vector<std::pair<uint64_t, uint64_t>>{{0, 10}}));
    counted.reads.clear();
    EXPECT_EQ(read_all(cache, 0, 10), slice(bytes, 0, 10 * bs));
    EXPECT_EQ(read_all(cache, 3, 1), slice(bytes, 3 * bs, bs));
    EXPECT_TRUE(counted.reads.empty());
    // Only the missing run goes down, in one call.
    EXPECT_EQ(read_all(cache, 5, 10), slice(bytes, 5 * bs, 10 * bs));
    EXPECT_EQ(counted.reads, (std::vector<std::pair<uint64_t, uint64_t>>{{10, 5}}));
    EXPECT_EQ(cache.stats().hits, 10u + 1u + 5u);
    EXPECT_EQ(cache.stats().misses, 10u + 5u);
}

TEST(BlkCache, MissingRunsBetweenCachedBlocks) {
    auto bytes = test::random_bytes(16 * bs, 5);
    auto lower = std::make_unique<MemoryDevice>(bytes);
    MemoryDevice& counted = *lower;
    CacheDevice cache(std::move(lower), cache_options(16));
    read_all(cache, 3, 1);
    read_all(cache, 6, 1);
    counted.reads.clear();
    EXPECT_EQ(read_all(cache, 0, 10), slice(bytes, 0, 10 * bs));
    EXPECT_EQ(counted.reads, (std::vector<std::pair<uint64_t, uint64_t>>{{0, 3}, {4, 2}, {7, 3}}));
}

TEST(BlkCache, LeastRecentlyUsedBlocksAreDropped) {
    auto bytes = test::random_bytes(16 * bs, 6);
    auto lower = std::make_unique<MemoryDevice>(bytes);
    MemoryDevice& counted = *lower;
    CacheDevice cache(std::move(lower), cache_options(4));
    read_all(cache, 0, 4);
    read_all(cache, 0, 1);  // 1 is now the oldest
    read_all(cache, 4, 1);
    counted.reads.clear();
    EXPECT_EQ(read_all(cache, 0, 1), slice(bytes, 0, bs));
    EXPECT_TRUE(counted.reads.empty());
    EXPECT_EQ(read_all(cache, 1, 1), slice(bytes, bs, bs));
    EXPECT_EQ(counted.reads, (std::vector<std::pair<uint64_t, uint64_t>>{{1, 1}}));

    // A run longer than the cache leaves its tail cached.
    read_all(cache, 0, 12);
    counted.reads.clear();
    read_all(cache, 8, 4);
    EXPECT_TRUE(counted.reads.empty());

    CacheDevice uncached(std::make_unique<MemoryDevice>(bytes), cache_options(0, 32, 32));
    EXPECT_EQ(read_all(uncached, 2, 3), slice(bytes, 2 * bs, 3 * bs));
    EXPECT_EQ(read_all(uncached, 2, 3), slice(bytes, 2 * bs, 3 * bs));
    EXPECT_EQ(uncached.stats().hits, 0u);
    std::vector<uint8_t> block(bs);
    EXPECT_EQ(cache.write_blocks(0, block).error().code(), EROFS);
}

TEST(BlkCache, BulkRunsAreNotKept) {
    auto bytes = test::random_bytes(64 * bs, 13);
    auto lower = std::make_unique<MemoryDevice>(bytes);
    MemoryDevice& counted = *lower;
    CacheDevice cache(std::move(lower), cache_options(64, 8));
    read_all(cache, 20, 1);
    EXPECT_EQ(read_all(cache, 0, 10), slice(bytes, 0, 10 * bs));
    EXPECT_EQ(read_all(cache, 0, 10), slice(bytes, 0, 10 * bs));
    EXPECT_EQ(read_all(cache, 30, 8), slice(bytes, 30 * bs, 8 * bs));
    EXPECT_EQ(read_all(cache, 30, 8), slice(bytes, 30 * bs, 8 * bs));
    // Block 20 splits this read into two short runs, which are kept.
    EXPECT_EQ(read_all(cache, 16, 10), slice(bytes, 16 * bs, 10 * bs));
    EXPECT_EQ(counted.reads, (std::vector<std::pair<uint64_t, uint64_t>>{
                                 {20, 1}, {0, 10}, {0, 10}, {30, 8}, {30, 8}, {16, 4}, {21, 5}}));
    counted.reads.clear();
    EXPECT_EQ(read_all(cache, 16, 10), slice(bytes, 16 * bs, 10 * bs));
    EXPECT_TRUE(counted.reads.empty());

    CacheDevice keep_all(std::make_unique<MemoryDevice>(bytes), cache_options(64, 0));
    read_all(keep_all, 0, 40);
    read_all(keep_all, 0, 40);
    EXPECT_EQ(keep_all.stats().hits, 40u);
}

TEST(BlkCache, SequentialSmallReadsReadAhead) {
    auto bytes = test::random_bytes(40 * bs, 14);
    auto lower = std::make_unique<MemoryDevice>(bytes);
    MemoryDevice& counted = *lower;
    CacheDevice cache(std::move(lower), cache_options(64, 32, 8));
    // The first read is not known to be sequential; the second is.
    for (uint64_t b = 0; b < 40; ++b)
        EXPECT_EQ(read_all(cache, b, 1), slice(bytes, b * bs, bs)) << b;
    EXPECT_EQ(counted.reads, (std::vector<std::pair<uint64_t, uint64_t>>{
                                 {0, 1}, {1, 8}, {9, 8}, {17, 8}, {25, 8}, {33, 7}}));
    EXPECT_EQ(cache.stats().read_ahead, 7u + 7 + 7 + 7 + 6);
    // Reads elsewhere do not read ahead.
    counted.reads.clear();
    CacheDevice random(std::make_unique<BorrowedDevice>(counted), cache_options(64, 32, 8));
    for (uint64_t b : {5, 20, 7, 30})
        EXPECT_EQ(read_all(random, b, 1), slice(bytes, b * bs, bs));
    EXPECT_EQ(counted.reads,
              (std::vector<std::pair<uint64_t, uint64_t>>{{5, 1}, {20, 1}, {7, 1}, {30, 1}}));
}

TEST(BlkCache, ReadAheadOnlyKeepsNothingElse) {
    auto bytes = test::random_bytes(40 * bs, 15);
    auto lower = std::make_unique<MemoryDevice>(bytes);
    MemoryDevice& counted = *lower;
    CacheDevice cache(std::move(lower), cache_options(64, 1, 8));  // the image's raw cache
    EXPECT_EQ(read_all(cache, 20, 3), slice(bytes, 20 * bs, 3 * bs));
    EXPECT_EQ(read_all(cache, 20, 3), slice(bytes, 20 * bs, 3 * bs));
    EXPECT_EQ(cache.cached_blocks(), 0u);
    EXPECT_EQ(read_all(cache, 23, 1), slice(bytes, 23 * bs, bs));  // sequential: reads ahead
    EXPECT_EQ(cache.cached_blocks(), 8u);
    for (uint64_t b = 24; b < 31; ++b)
        EXPECT_EQ(read_all(cache, b, 1), slice(bytes, b * bs, bs));
    EXPECT_EQ(counted.reads,
              (std::vector<std::pair<uint64_t, uint64_t>>{{20, 3}, {20, 3}, {23, 8}}));
    EXPECT_EQ(cache.stats().hits, 7u);
}

TEST(BlkOverlay, WritesStayInMemory) {
    auto bytes = test::random_bytes(16 * bs, 7);
    auto lower = std::make_unique<MemoryDevice>(bytes, true);  // writable, to prove it is not
    MemoryDevice& counted = *lower;
    OverlayDevice overlay(std::move(lower));

    auto patch = test::random_bytes(bs + 500, 8);
    ASSERT_FALSE(write_bytes(overlay, 3 * bs + 100, patch).is_error());
    auto expected = bytes;
    std::memcpy(expected.data() + 3 * bs + 100, patch.data(), patch.size());
    EXPECT_EQ(overlay.written_blocks(), 2u);

    counted.reads.clear();
    EXPECT_EQ(read_all(overlay, 0, 16), expected);
    // The lower device is read around the written blocks, never written.
    EXPECT_EQ(counted.reads, (std::vector<std::pair<uint64_t, uint64_t>>{{0, 3}, {5, 11}}));
    EXPECT_EQ(read_all(counted, 0, 16), bytes);

    auto whole = test::random_bytes(2 * bs, 9);
    ASSERT_FALSE(overlay.write_blocks(14, whole).is_error());
    std::memcpy(expected.data() + 14 * bs, whole.data(), whole.size());
    EXPECT_EQ(read_all(overlay, 0, 16), expected);
    EXPECT_EQ(read_all(counted, 0, 16), bytes);
    EXPECT_EQ(overlay.write_blocks(15, whole).error().code(), EIO);
}

// Once charged, each block the overlay keeps comes out of the budget: a
// write that needs more is ENOSPC and changes nothing, rewriting a kept
// block is free, and the blocks go back when the overlay goes.
TEST(BlkOverlay, KeptBlocksComeOutOfTheCharge) {
    int64_t charged = 0;
    {
        OverlayDevice overlay(
            std::make_unique<MemoryDevice>(test::random_bytes(16 * bs, 7), false));
        auto early = test::random_bytes(bs, 1);
        ASSERT_FALSE(overlay.write_blocks(0, early).is_error());  // before: uncharged
        ASSERT_TRUE(
            overlay.charge_writes_to(std::make_shared<test::CountingCharge>(charged, 3 * bs)));
        EXPECT_EQ(charged, 0);
        auto two = test::random_bytes(2 * bs, 2);
        ASSERT_FALSE(overlay.write_blocks(1, two).is_error());
        EXPECT_EQ(charged, 2 * int64_t(bs));
        ASSERT_FALSE(overlay.write_blocks(2, std::span(two).first(bs)).is_error());  // kept already
        EXPECT_EQ(charged, 2 * int64_t(bs));
        auto before = read_all(overlay, 0, 16);
        auto three = test::random_bytes(3 * bs, 3);
        EXPECT_EQ(overlay.write_blocks(5, three).error().code(), ENOSPC);
        EXPECT_EQ(read_all(overlay, 0, 16), before);
        EXPECT_EQ(charged, 2 * int64_t(bs));
        ASSERT_FALSE(overlay.write_blocks(5, std::span(three).first(bs)).is_error());
        EXPECT_EQ(charged, 3 * int64_t(bs));
    }
    EXPECT_EQ(charged, 0);
}

namespace {

constexpr uint64_t payload_offset = uint64_t(image::luks1_payload_offset_sectors) * 512;

std::vector<uint8_t> test_key(uint8_t seed) {
    std::vector<uint8_t> key(64);
    for (size_t i = 0; i < key.size(); ++i)
        key[i] = static_cast<uint8_t>(i * 13 + seed);
    return key;
}

// A LUKS1 container holding `plaintext`, as mkext2 --encrypt writes it.
std::vector<uint8_t> make_container(const std::vector<uint8_t>& plaintext,
                                    const std::vector<uint8_t>& key) {
    image::Luks1Options options;
    options.mk_digest_iterations = 1000;
    auto header = image::build_luks1_header_area(key, options);
    EXPECT_FALSE(header.is_error());
    image::MemoryFile file;
    EXPECT_FALSE(file.write_at(0, header.value()).is_error());
    image::XtsVolumeFile volume(file, payload_offset,
                                image::XtsSectorCipher::create(key).release_value());
    EXPECT_FALSE(volume.write_at(0, plaintext).is_error());
    return file.bytes();
}

}  // namespace

TEST(BlkCrypt, DecryptsThePayload) {
    auto key = test_key(1);
    auto plaintext = test::random_bytes(32 * bs, 10);
    auto container = make_container(plaintext, key);
    ASSERT_NE(slice(container, payload_offset, 64), slice(plaintext, 0, 64));
    auto device = CryptDevice::open(std::make_unique<MemoryDevice>(container), key, "c.img");
    ASSERT_FALSE(device.is_error()) << device.error().message();
    EXPECT_EQ(device.value()->block_count(), 32u);
    EXPECT_EQ(read_all(*device.value(), 0, 32), plaintext);
    // Sector numbers follow the block, wherever a read starts.
    EXPECT_EQ(read_all(*device.value(), 17, 3), slice(plaintext, 17 * bs, 3 * bs));
    std::vector<uint8_t> bytes(777);
    ASSERT_FALSE(read_bytes(*device.value(), 5 * bs + 300, bytes).is_error());
    EXPECT_EQ(bytes, slice(plaintext, 5 * bs + 300, 777));
    std::vector<uint8_t> past(bs);
    EXPECT_EQ(device.value()->read_blocks(32, past).error().code(), EIO);
}

TEST(BlkCrypt, WrongKeyIsRejectedBeforeAnyPayloadRead) {
    auto key = test_key(1);
    auto container = make_container(test::random_bytes(8 * bs, 11), key);
    MemoryDevice counted(container);
    auto device =
        CryptDevice::open(std::make_unique<BorrowedDevice>(counted), test_key(2), "c.img");
    ASSERT_TRUE(device.is_error());
    EXPECT_EQ(device.error().code(), EKEYREJECTED);
    EXPECT_NE(device.error().message().find("c.img"), std::string::npos);
    EXPECT_EQ(counted.reads, (std::vector<std::pair<uint64_t, uint64_t>>{{0, 1}}));

    auto short_key = std::vector<uint8_t>(key.begin(), key.begin() + 32);
    auto shorter = CryptDevice::open(std::make_unique<MemoryDevice>(container), short_key, "c");
    ASSERT_TRUE(shorter.is_error());
    EXPECT_EQ(shorter.error().code(), EINVAL);
}

TEST(BlkCrypt, BadContainersAreClearErrors) {
    auto key = test_key(1);
    auto container = make_container(test::random_bytes(4 * bs, 12), key);

    auto no_magic = container;
    no_magic[0] = 'X';
    auto bad = CryptDevice::open(std::make_unique<MemoryDevice>(no_magic), key, "c.img");
    ASSERT_TRUE(bad.is_error());
    EXPECT_NE(bad.error().message().find("not a LUKS header"), std::string::npos);

    // Only the header area: no payload block at all.
    auto header_only = slice(container, 0, payload_offset);
    auto empty = CryptDevice::open(std::make_unique<MemoryDevice>(header_only), key, "c.img");
    ASSERT_TRUE(empty.is_error());
    EXPECT_NE(empty.error().message().find("payload starts at block"), std::string::npos);

    auto tiny = CryptDevice::open(std::make_unique<MemoryDevice>(std::vector<uint8_t>()), key, "t");
    ASSERT_TRUE(tiny.is_error());
    EXPECT_EQ(tiny.error().code(), EIO);
}

#include "image/verity.h"

#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

#include "base/endian.h"

namespace myst::image {

namespace {

// Superblock field offsets (struct verity_sb of cryptsetup, little-endian).
constexpr size_t sb_signature = 0;
constexpr size_t sb_version = 8;
constexpr size_t sb_hash_type = 12;
constexpr size_t sb_uuid = 16;
constexpr size_t sb_algorithm = 32;
constexpr size_t sb_algorithm_size = 32;
constexpr size_t sb_data_block_size = 64;
constexpr size_t sb_hash_block_size = 68;
constexpr size_t sb_data_blocks = 72;
constexpr size_t sb_salt_size = 80;
constexpr size_t sb_salt = 88;
constexpr size_t sb_max_salt = 256;
constexpr char sb_magic[8] = {'v', 'e', 'r', 'i', 't', 'y', 0, 0};

constexpr size_t digest_size = 32;
constexpr uint64_t digests_per_block = verity_block_size / digest_size;  // 128
constexpr unsigned digests_per_block_bits = 7;

// Blocks are read in chunks of 1 MiB (two hash blocks' worth of digests), and
// a window of chunks is hashed before its digests are handed on, so memory
// stays bounded however large the image is.
constexpr uint64_t chunk_blocks = 256;
constexpr uint64_t window_blocks = 16384;  // 64 MiB of input, 512 KiB of digests
// Below this a second thread costs more than it saves.
constexpr uint64_t parallel_threshold_blocks = 1024;

uint64_t hash_blocks_for(uint64_t digests) {
    return (digests + digests_per_block - 1) / digests_per_block;
}

// Receives the digests of one window: first_block is the index of the first
// input block, digests holds 32 bytes per input block.
using DigestSink =
    std::function<Result<void>(uint64_t first_block, std::span<const uint8_t> digests)>;

struct HashJob {
    RandomAccessFile& file;
    uint64_t offset;  // byte offset of input block 0
    uint64_t count;   // input blocks
    std::span<const uint8_t> salt;
};

// Hashes `count` 4 KiB blocks with up to two threads. Only one thread reads
// the file at a time (RandomAccessFile need not be thread-safe), but one
// thread's read overlaps the other's hashing, which is where the time goes.
Result<void> hash_blocks(const HashJob& job, const DigestSink& sink,
                         const std::function<void(uint64_t)>& advanced) {
    unsigned threads = job.count >= parallel_threshold_blocks
                           ? std::clamp(std::thread::hardware_concurrency(), 1u, 2u)
                           : 1u;
    std::vector<uint8_t> digests(std::min(job.count, window_blocks) * digest_size);
    std::mutex io_mutex;
    std::optional<Error> failure;
    std::atomic<bool> failed{false};

    for (uint64_t window_start = 0; window_start < job.count; window_start += window_blocks) {
        uint64_t window_count = std::min(window_blocks, job.count - window_start);
        uint64_t chunks = (window_count + chunk_blocks - 1) / chunk_blocks;
        std::atomic<uint64_t> next_chunk{0};

        auto worker = [&] {
            Sha256 hasher;
            std::vector<uint8_t> buffer(chunk_blocks * verity_block_size);
            for (;;) {
                uint64_t chunk = next_chunk.fetch_add(1);
                if (chunk >= chunks || failed.load())
                    return;
                uint64_t first = chunk * chunk_blocks;
                uint64_t blocks = std::min(chunk_blocks, window_count - first);
                std::span<uint8_t> data(buffer.data(), blocks * verity_block_size);
                {
                    std::lock_guard lock(io_mutex);
                    if (failed.load())
                        return;
                    auto result = job.file.read_at(
                        job.offset + (window_start + first) * verity_block_size, data);
                    if (result.is_error()) {
                        failure = result.release_error();
                        failed = true;
                        return;
                    }
                }
                for (uint64_t i = 0; i < blocks; ++i) {
                    Sha256Digest digest = verity_hash_block(
                        hasher, job.salt, data.subspan(i * verity_block_size, verity_block_size));
                    std::memcpy(digests.data() + (first + i) * digest_size, digest.data(),
                                digest_size);
                }
            }
        };

        std::optional<std::jthread> helper;
        if (threads > 1 && chunks > 1)
            helper.emplace(worker);
        worker();
        helper.reset();  // joins
        if (failed)
            return *failure;
        TRY(sink(window_start,
                 std::span<const uint8_t>(digests.data(), window_count * digest_size)));
        if (advanced)
            advanced(window_count);
    }
    return {};
}

std::string block_name(size_t level, uint64_t index) {
    if (level == 0)
        return "data block " + std::to_string(index);
    return "hash block " + std::to_string(index) + " of tree level " + std::to_string(level - 1);
}

Result<void> check_geometry(uint64_t hash_offset, uint64_t data_blocks) {
    if (data_blocks == 0)
        return Error::invalid("verity: no data blocks to hash");
    if (hash_offset % verity_block_size != 0)
        return Error::invalid("verity: hash offset " + std::to_string(hash_offset) +
                              " is not a multiple of 4096");
    if (data_blocks > UINT64_MAX / verity_block_size ||
        hash_offset < data_blocks * verity_block_size)
        return Error::invalid("verity: hash offset " + std::to_string(hash_offset) +
                              " lies inside the " + std::to_string(data_blocks) + " data blocks");
    return {};
}

void random_uuid(std::array<uint8_t, 16>& uuid) {
    RAND_bytes(uuid.data(), static_cast<int>(uuid.size()));
    uuid[6] = static_cast<uint8_t>((uuid[6] & 0x0f) | 0x40);  // version 4
    uuid[8] = static_cast<uint8_t>((uuid[8] & 0x3f) | 0x80);  // RFC 4122 variant
}

}  // namespace

Sha256Digest verity_hash_block(Sha256& hasher, std::span<const uint8_t> salt,
                               std::span<const uint8_t> block) {
    hasher.begin();
    hasher.update(salt);
    hasher.update(block);
    return hasher.finish();
}

std::array<uint8_t, verity_superblock_size> VeritySuperblock::serialize() const {
    std::array<uint8_t, verity_superblock_size> bytes{};
    std::memcpy(bytes.data() + sb_signature, sb_magic, sizeof(sb_magic));
    store_le<uint32_t>(bytes.data() + sb_version, 1);
    store_le<uint32_t>(bytes.data() + sb_hash_type, version);
    std::memcpy(bytes.data() + sb_uuid, uuid.data(), uuid.size());
    std::memcpy(bytes.data() + sb_algorithm, algorithm.data(),
                std::min(algorithm.size(), sb_algorithm_size - 1));
    store_le<uint32_t>(bytes.data() + sb_data_block_size, data_block_size);
    store_le<uint32_t>(bytes.data() + sb_hash_block_size, hash_block_size);
    store_le<uint64_t>(bytes.data() + sb_data_blocks, data_blocks);
    size_t salt_size = std::min(salt.size(), sb_max_salt);
    store_le<uint16_t>(bytes.data() + sb_salt_size, static_cast<uint16_t>(salt_size));
    std::memcpy(bytes.data() + sb_salt, salt.data(), salt_size);
    return bytes;
}

Result<VeritySuperblock> VeritySuperblock::parse(std::span<const uint8_t> bytes) {
    if (bytes.size() < verity_superblock_size)
        return Error::invalid("verity superblock: only " + std::to_string(bytes.size()) +
                              " of 512 bytes");
    const uint8_t* p = bytes.data();
    if (std::memcmp(p + sb_signature, sb_magic, sizeof(sb_magic)) != 0)
        return Error::invalid("verity superblock: no \"verity\" signature");
    if (uint32_t v = load_le<uint32_t>(p + sb_version); v != 1)
        return Error::invalid("verity superblock: unsupported version " + std::to_string(v));
    VeritySuperblock sb;
    sb.version = load_le<uint32_t>(p + sb_hash_type);
    if (sb.version != 1)
        return Error::invalid("verity superblock: unsupported hash type " +
                              std::to_string(sb.version) + " (only 1 is supported)");
    std::memcpy(sb.uuid.data(), p + sb_uuid, sb.uuid.size());
    const char* algorithm = reinterpret_cast<const char*>(p + sb_algorithm);
    sb.algorithm.assign(algorithm, strnlen(algorithm, sb_algorithm_size));
    if (sb.algorithm != "sha256")
        return Error::invalid("verity superblock: unsupported hash algorithm '" + sb.algorithm +
                              "' (only sha256 is supported)");
    sb.data_block_size = load_le<uint32_t>(p + sb_data_block_size);
    sb.hash_block_size = load_le<uint32_t>(p + sb_hash_block_size);
    if (sb.data_block_size != verity_block_size)
        return Error::invalid("verity superblock: data block size " +
                              std::to_string(sb.data_block_size) + " (only 4096 is supported)");
    if (sb.hash_block_size != verity_block_size)
        return Error::invalid("verity superblock: hash block size " +
                              std::to_string(sb.hash_block_size) + " (only 4096 is supported)");
    sb.data_blocks = load_le<uint64_t>(p + sb_data_blocks);
    if (sb.data_blocks == 0)
        return Error::invalid("verity superblock: zero data blocks");
    uint16_t salt_size = load_le<uint16_t>(p + sb_salt_size);
    if (salt_size > sb_max_salt)
        return Error::invalid("verity superblock: salt size " + std::to_string(salt_size) +
                              " is larger than 256");
    sb.salt.assign(p + sb_salt, p + sb_salt + salt_size);
    return sb;
}

VerityLayout VerityLayout::compute(uint64_t hash_offset, uint64_t data_blocks) {
    VerityLayout layout;
    layout.hash_offset = hash_offset;
    layout.data_blocks = data_blocks;
    // As veritysetup: the number of levels needed so that one block holds the
    // top level's digests; a single data block needs no tree at all.
    size_t levels = 0;
    while (data_blocks > 0 && digests_per_block_bits * levels < 64 &&
           ((data_blocks - 1) >> (digests_per_block_bits * levels)) != 0)
        ++levels;
    layout.level_start.resize(levels);
    layout.level_blocks.resize(levels);
    uint64_t position =
        (hash_offset + verity_superblock_size + verity_block_size - 1) / verity_block_size;
    for (size_t i = levels; i-- > 0;) {
        unsigned shift = digests_per_block_bits * static_cast<unsigned>(i + 1);
        uint64_t blocks = shift >= 64 ? 1 : ((data_blocks - 1) >> shift) + 1;
        layout.level_start[i] = position * verity_block_size;
        layout.level_blocks[i] = blocks;
        position += blocks;
    }
    return layout;
}

uint64_t VerityLayout::hash_area_size() const {
    uint64_t end = (hash_offset + verity_superblock_size + verity_block_size - 1) /
                   verity_block_size * verity_block_size;
    for (uint64_t blocks : level_blocks)
        end += blocks * verity_block_size;
    return end - hash_offset;
}

Result<VerityBuildResult> build_verity(RandomAccessFile& file, uint64_t hash_offset,
                                       uint64_t data_blocks, const VerityBuildOptions& options) {
    TRY(check_geometry(hash_offset, data_blocks));
    if (options.salt.size() > sb_max_salt)
        return Error::invalid("verity: salt of " + std::to_string(options.salt.size()) +
                              " bytes is longer than 256");
    uint64_t file_size = TRY(file.size());
    if (file_size / verity_block_size < data_blocks)
        return Error::invalid("verity: the file holds " +
                              std::to_string(file_size / verity_block_size) +
                              " whole blocks, fewer than the " + std::to_string(data_blocks) +
                              " data blocks to hash");

    VerityBuildResult result;
    VeritySuperblock& sb = result.superblock;
    sb.data_blocks = data_blocks;
    sb.salt = options.salt;
    if (sb.salt.empty()) {
        sb.salt.resize(32);
        RAND_bytes(sb.salt.data(), static_cast<int>(sb.salt.size()));
    }
    sb.uuid = options.uuid;
    if (is_all_zero(sb.uuid))
        random_uuid(sb.uuid);

    VerityLayout layout = VerityLayout::compute(hash_offset, data_blocks);
    result.end_offset = hash_offset + layout.hash_area_size();
    // veritysetup leaves whatever lies between the superblock and the tree
    // alone and only grows the file to the end of the tree; so do we.
    if (file_size < result.end_offset)
        TRY(file.truncate(result.end_offset));
    auto sb_bytes = sb.serialize();
    TRY(file.write_at(hash_offset, sb_bytes));

    uint64_t total = data_blocks;
    for (uint64_t blocks : layout.level_blocks)
        total += blocks;
    uint64_t done = 0;
    auto advanced = [&](uint64_t blocks) {
        done += blocks;
        if (options.progress)
            options.progress(done, total);
    };

    // Level i hashes the blocks of level i-1 (the data for level 0).
    for (size_t level = 0; level < layout.level_start.size(); ++level) {
        uint64_t source = level == 0 ? 0 : layout.level_start[level - 1];
        uint64_t count = level == 0 ? data_blocks : layout.level_blocks[level - 1];
        uint64_t destination = layout.level_start[level];
        auto write_digests = [&](uint64_t first, std::span<const uint8_t> digests) -> Result<void> {
            // Windows start on a multiple of 128 inputs, so on a hash block;
            // the last block of a level is padded with zeros.
            std::vector<uint8_t> blocks(hash_blocks_for(digests.size() / digest_size) *
                                        verity_block_size);
            std::memcpy(blocks.data(), digests.data(), digests.size());
            return file.write_at(destination + first / digests_per_block * verity_block_size,
                                 blocks);
        };
        TRY(hash_blocks({file, source, count, sb.salt}, write_digests, advanced));
    }

    // The root hash covers the top hash block, or the only data block.
    uint64_t root_source = layout.level_start.empty() ? 0 : layout.level_start.back();
    std::vector<uint8_t> top(verity_block_size);
    TRY(file.read_at(root_source, top));
    Sha256 hasher;
    result.root_hash = verity_hash_block(hasher, sb.salt, top);
    if (options.progress)
        options.progress(total, total);
    return result;
}

Result<void> verify_verity(RandomAccessFile& file, uint64_t hash_offset,
                           const Sha256Digest& expected_root_hash) {
    if (hash_offset % verity_block_size != 0)
        return Error::invalid("verity: hash offset " + std::to_string(hash_offset) +
                              " is not a multiple of 4096");
    uint64_t file_size = TRY(file.size());
    if (hash_offset > file_size || file_size - hash_offset < verity_superblock_size)
        return Error::invalid("verity: no superblock at hash offset " +
                              std::to_string(hash_offset) + " (the file has " +
                              std::to_string(file_size) + " bytes)");
    std::array<uint8_t, verity_superblock_size> sb_bytes{};
    TRY(file.read_at(hash_offset, sb_bytes));
    VeritySuperblock sb = TRY(VeritySuperblock::parse(sb_bytes));
    TRY(check_geometry(hash_offset, sb.data_blocks));
    VerityLayout layout = VerityLayout::compute(hash_offset, sb.data_blocks);
    uint64_t end_offset = hash_offset + layout.hash_area_size();
    if (file_size < end_offset)
        return Error::invalid("verity: the hash tree needs " + std::to_string(end_offset) +
                              " bytes but the file has " + std::to_string(file_size));

    // Level 0 first, as veritysetup does, so a corrupt data block is named as
    // such rather than as the tree above it.
    std::vector<uint8_t> stored;
    for (size_t level = 0; level < layout.level_start.size(); ++level) {
        uint64_t source = level == 0 ? 0 : layout.level_start[level - 1];
        uint64_t count = level == 0 ? sb.data_blocks : layout.level_blocks[level - 1];
        uint64_t destination = layout.level_start[level];
        auto compare = [&](uint64_t first, std::span<const uint8_t> digests) -> Result<void> {
            uint64_t inputs = digests.size() / digest_size;
            uint64_t first_hash_block = first / digests_per_block;
            stored.resize(hash_blocks_for(inputs) * verity_block_size);
            TRY(file.read_at(destination + first_hash_block * verity_block_size, stored));
            for (uint64_t i = 0; i < inputs; ++i) {
                if (std::memcmp(stored.data() + i * digest_size, digests.data() + i * digest_size,
                                digest_size) != 0)
                    return Error(EIO, "verity: " + block_name(level, first + i) +
                                          " does not match its hash in tree level " +
                                          std::to_string(level));
            }
            // The end of the last block of a level must be zero.
            if (!is_all_zero(std::span(stored).subspan(inputs * digest_size)))
                return Error(
                    EIO, "verity: " +
                             block_name(level + 1, first_hash_block + inputs / digests_per_block) +
                             ": padding after the last hash is not zero");
            return {};
        };
        TRY(hash_blocks({file, source, count, sb.salt}, compare, nullptr));
    }

    uint64_t root_source = layout.level_start.empty() ? 0 : layout.level_start.back();
    std::vector<uint8_t> top(verity_block_size);
    TRY(file.read_at(root_source, top));
    Sha256 hasher;
    if (verity_hash_block(hasher, sb.salt, top) != expected_root_hash)
        return Error(EIO, std::string("verity: the root hash does not match (") +
                              (layout.level_start.empty() ? "data block 0" : "top hash block") +
                              " or the expected root hash is wrong)");
    return {};
}

}  // namespace myst::image

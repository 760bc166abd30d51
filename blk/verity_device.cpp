#include "blk/verity_device.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace myst::blk {

namespace {

constexpr uint64_t block_bytes = image::verity_block_size;
constexpr uint64_t digest_size = 32;
constexpr uint64_t digests_per_block = block_bytes / digest_size;  // 128
// Data is read and hashed in runs of up to this many blocks: large enough
// that a lower read is one host call per 256 KiB, small enough to stay in
// the CPU cache between the read and the hashing.
constexpr uint64_t run_blocks = 64;
constexpr uint64_t hash_key_bit = uint64_t(1) << 63;

uint64_t hash_key(size_t level, uint64_t index) {
    return (uint64_t(level) << 56) | index;
}

}  // namespace

// A hasher for one read, from the device's idle ones: a Sha256 is costly to
// set up (EVP fetch), and concurrent readers need one each.
class VerityDevice::HasherLease {
public:
    explicit HasherLease(VerityDevice& device) : m_device(device) {
        std::lock_guard lock(device.m_hashers_mutex);
        if (!device.m_hashers.empty()) {
            m_hasher = std::move(device.m_hashers.back());
            device.m_hashers.pop_back();
        }
        if (!m_hasher)
            m_hasher = std::make_unique<Sha256>();
    }
    ~HasherLease() {
        std::lock_guard lock(m_device.m_hashers_mutex);
        m_device.m_hashers.push_back(std::move(m_hasher));
    }
    HasherLease(const HasherLease&) = delete;
    HasherLease& operator=(const HasherLease&) = delete;
    Sha256& operator*() { return *m_hasher; }

private:
    VerityDevice& m_device;
    std::unique_ptr<Sha256> m_hasher;
};

VerityDevice::VerityDevice(std::unique_ptr<BlockDevice> lower, VerityConfig config)
    : m_lower(std::move(lower)),
      m_config(std::move(config)),
      // A whole path from a level-0 block to the top must fit.
      m_verified(std::max(m_config.hash_cache_blocks, m_config.layout.level_start.size() + 1),
                 image::verity_block_size),
      m_tree_hasher(std::make_unique<Sha256>()),
      m_scratch(block_bytes) {}

VerityDevice::~VerityDevice() = default;

Result<std::unique_ptr<VerityDevice>> VerityDevice::open(std::unique_ptr<BlockDevice> lower,
                                                         VerityConfig config) {
    const std::string& name = config.name;
    const image::VerityLayout& layout = config.layout;
    if (lower->block_size() != block_bytes)
        return Error(EINVAL, name + ": verity needs 4096-byte blocks, the device has " +
                                 std::to_string(lower->block_size()));
    if (layout.data_blocks == 0)
        return Error(EINVAL, name + ": the verity superblock says there are no data blocks");
    if (layout.hash_offset % block_bytes != 0)
        return Error(EINVAL, name + ": the hash offset " + std::to_string(layout.hash_offset) +
                                 " is not a multiple of 4096");
    if (layout.data_blocks > layout.hash_offset / block_bytes)
        return Error(EINVAL, name + ": the " + std::to_string(layout.data_blocks) +
                                 " verity data blocks overlap the hash tree at byte " +
                                 std::to_string(layout.hash_offset));
    uint64_t tree_end_block = (layout.hash_offset + layout.hash_area_size()) / block_bytes;
    if (tree_end_block > lower->block_count())
        return Error(EINVAL, name + ": the hash tree ends at block " +
                                 std::to_string(tree_end_block) + " but the image has only " +
                                 std::to_string(lower->block_count()) + " blocks");
    auto device = std::make_unique<VerityDevice>(std::move(lower), std::move(config));
    TRY(device->check_top());
    return device;
}

Result<void> VerityDevice::check_top() {
    const image::VerityLayout& layout = m_config.layout;
    std::lock_guard lock(m_mutex);
    // With one data block there is no tree: the root hash is that block's.
    size_t levels = layout.level_start.size();
    uint64_t top = levels == 0 ? 0 : layout.level_start.back() / block_bytes;
    auto read = m_lower->read_blocks(top, m_scratch);
    if (read.is_error())
        return read.release_error().with_context(m_config.name + ": reading the hash tree");
    ++m_tree_hashed;
    if (image::verity_hash_block(*m_tree_hasher, m_config.salt, m_scratch) != m_config.root_hash)
        return Error(EIO, m_config.name +
                              ": the hash tree does not match the trusted root hash (the root "
                              "hash is wrong, or the image is corrupt or was tampered with)");
    if (levels > 0)
        m_verified.insert(hash_key(levels - 1, 0), m_scratch);
    return {};
}

Error VerityDevice::failure(uint64_t report_key, uint64_t data_block, const std::string& why) {
    std::string message = m_config.name + ": block " + std::to_string(data_block) +
                          " fails verification (" + why + ")";
    bool first_time;
    {
        std::lock_guard lock(m_report_mutex);
        first_time = m_reported.insert(report_key).second;
    }
    if (first_time && m_config.diagnostics)
        m_config.diagnostics("myst: " + message +
                             "; the image is corrupt or was tampered with, reads of it fail");
    return Error(EIO, message);
}

Result<const uint8_t*> VerityDevice::verified_hash_block(size_t level, uint64_t index,
                                                         uint64_t data_block) {
    const image::VerityLayout& layout = m_config.layout;
    const uint64_t key = hash_key(level, index);
    if (const uint8_t* cached = m_verified.find(key))
        return cached;
    // The parent's digest is copied out first: verifying the parent may
    // evict, and inserting this block may evict the parent.
    Sha256Digest expected = m_config.root_hash;
    bool top = level + 1 == layout.level_start.size();
    if (!top) {
        const uint8_t* parent =
            TRY(verified_hash_block(level + 1, index / digests_per_block, data_block));
        std::memcpy(expected.data(), parent + (index % digests_per_block) * digest_size,
                    digest_size);
    }
    auto read = m_lower->read_blocks(layout.level_start[level] / block_bytes + index, m_scratch);
    if (read.is_error())
        return read.release_error().with_context(m_config.name + ": reading the hash tree");
    ++m_tree_hashed;
    if (image::verity_hash_block(*m_tree_hasher, m_config.salt, m_scratch) != expected)
        return failure(hash_key_bit | key, data_block,
                       "hash block " + std::to_string(index) + " of tree level " +
                           std::to_string(level) + " does not match " +
                           (top ? "the trusted root hash" : "the level above it"));
    return m_verified.insert(key, m_scratch);
}

Result<void> VerityDevice::read_blocks(uint64_t first, std::span<uint8_t> buffer) {
    TRY(check_block_range(*this, first, buffer.size()));
    auto result = read_verified(first, buffer);
    // A caller that ignores the error still sees no unverified byte.
    if (result.is_error())
        std::memset(buffer.data(), 0, buffer.size());
    return result;
}

Result<void> VerityDevice::read_verified(uint64_t first, std::span<uint8_t> buffer) {
    const uint64_t count = buffer.size() / block_bytes;
    const bool has_tree = !m_config.layout.level_start.empty();
    HasherLease hasher(*this);
    // The level-0 digests of the blocks being checked, copied out under the
    // lock so that the hashing itself runs without it.
    std::array<uint8_t, digests_per_block * digest_size> expected;
    if (!has_tree)
        std::memcpy(expected.data(), m_config.root_hash.data(), digest_size);

    for (uint64_t done = 0; done < count;) {
        uint64_t run = std::min(run_blocks, count - done);
        auto data = buffer.subspan(done * block_bytes, run * block_bytes);
        TRY(m_lower->read_blocks(first + done, data));
        // Groups of blocks under one level-0 hash block.
        for (uint64_t i = 0; i < run;) {
            uint64_t block = first + done + i;
            uint64_t slot = block % digests_per_block;
            uint64_t group = std::min(run - i, digests_per_block - slot);
            if (has_tree) {
                std::lock_guard lock(m_mutex);
                const uint8_t* hashes =
                    TRY(verified_hash_block(0, block / digests_per_block, block));
                std::memcpy(expected.data(), hashes + slot * digest_size, group * digest_size);
            }
            for (uint64_t j = 0; j < group; ++j) {
                Sha256Digest digest = image::verity_hash_block(
                    *hasher, m_config.salt, data.subspan((i + j) * block_bytes, block_bytes));
                if (std::memcmp(digest.data(), expected.data() + j * digest_size, digest_size) !=
                    0) {
                    m_data_hashed += i + j + 1;
                    return failure(block + j, block + j,
                                   "its data does not match its hash in the tree");
                }
            }
            i += group;
        }
        m_data_hashed += run;
        done += run;
    }
    return {};
}

VerityDevice::Stats VerityDevice::stats() const {
    return {m_data_hashed.load(), m_tree_hashed.load()};
}

}  // namespace myst::blk

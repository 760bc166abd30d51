// dm-verity at run time: every data block read is hashed and checked up the
// Merkle tree to the trusted root hash before anyone above sees it (DESIGN.md
// decision 9). A block that does not match is EIO, with one line naming the
// image and the block sent to the diagnostic sink; never wrong data.
// Hash blocks, once verified, are kept (LRU), so a sequential read hashes
// each tree block once and then only its data blocks.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "base/sha256.h"
#include "blk/block_device.h"
#include "blk/block_lru.h"
#include "image/verity.h"

namespace myst::blk {

// Where a layer's one-line complaints go (the kernel routes them to
// Target::write_diagnostic, i.e. the host's stderr). May be empty.
using DiagnosticSink = std::function<void(std::string_view line)>;

struct VerityConfig {
    std::string name;            // the image, at the start of every message
    image::VerityLayout layout;  // hash_offset, data_blocks, where the levels are
    std::vector<uint8_t> salt;   // from the verity superblock
    Sha256Digest root_hash{};    // trusted: from the signed fssig or the config
    DiagnosticSink diagnostics;
    size_t hash_cache_blocks = 1024;  // verified hash blocks kept: 4 MiB, all of a 512 MiB image's
};

class VerityDevice final : public BlockDevice {
public:
    // `lower` is the whole image: data blocks from block 0, the tree where
    // the layout says (4096-byte blocks). Checks that the tree fits and that
    // its top block matches the root hash: a wrong root hash fails here, at
    // mount time, rather than at the first read.
    static Result<std::unique_ptr<VerityDevice>> open(std::unique_ptr<BlockDevice> lower,
                                                      VerityConfig config);

    VerityDevice(std::unique_ptr<BlockDevice> lower, VerityConfig config);
    ~VerityDevice() override;

    uint32_t block_size() const override { return image::verity_block_size; }
    uint64_t block_count() const override { return m_config.layout.data_blocks; }
    // The data blocks [first, ...): read from the lower device in runs and
    // verified before they are returned. Safe from several threads.
    Result<void> read_blocks(uint64_t first, std::span<uint8_t> buffer) override;

    struct Stats {
        uint64_t data_blocks_hashed = 0;
        uint64_t hash_blocks_hashed = 0;  // tree blocks read and checked
    };
    Stats stats() const;

private:
    class HasherLease;

    Result<void> check_top();
    Result<void> read_verified(uint64_t first, std::span<uint8_t> buffer);
    // The bytes of hash block `index` of `level`, verified up to the root.
    // Call with m_mutex held; valid until the next call. `data_block` is the
    // block being read, for the message.
    Result<const uint8_t*> verified_hash_block(size_t level, uint64_t index, uint64_t data_block);
    // EIO naming the image and the block; the diagnostic once per bad block.
    Error failure(uint64_t report_key, uint64_t data_block, const std::string& why);

    std::unique_ptr<BlockDevice> m_lower;
    VerityConfig m_config;

    std::mutex m_mutex;  // guards the members below, up to m_reported
    BlockLru m_verified;
    std::unique_ptr<Sha256> m_tree_hasher;
    std::vector<uint8_t> m_scratch;

    std::mutex m_report_mutex;
    std::unordered_set<uint64_t> m_reported;

    std::mutex m_hashers_mutex;  // idle hashers for data blocks, one per concurrent reader
    std::vector<std::unique_ptr<Sha256>> m_hashers;

    std::atomic<uint64_t> m_data_hashed{0};
    std::atomic<uint64_t> m_tree_hashed{0};
};

}  // namespace myst::blk

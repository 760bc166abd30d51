// dm-verity hash device, exactly as `veritysetup format --hash-offset=N`
// writes it: a 512-byte verity superblock at hash_offset (padded to one hash
// block), then the Merkle tree, top level first. Format 1 (salt hashed before
// the block), sha256, 4096-byte data and hash blocks.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "image/io.h"

namespace myst::image {

constexpr uint32_t verity_block_size = 4096;
constexpr size_t verity_superblock_size = 512;

struct VeritySuperblock {
    uint32_t version = 1;    // "hash_type" in veritysetup's words: 1 = salt first
    std::array<uint8_t, 16> uuid{};
    std::string algorithm = "sha256";
    uint32_t data_block_size = verity_block_size;
    uint32_t hash_block_size = verity_block_size;
    uint64_t data_blocks = 0;
    std::vector<uint8_t> salt;  // at most 256 bytes

    std::array<uint8_t, verity_superblock_size> serialize() const;
    // Validates signature, version, algorithm (sha256 only), block sizes
    // (4096 only) and salt size; the error says which field is wrong.
    static Result<VeritySuperblock> parse(std::span<const uint8_t> bytes);
};

// Where each level of the tree lives. Level 0 hashes the data blocks; the
// last level is a single block whose hash is the root hash. Levels are stored
// top level first, starting one hash block after the superblock.
struct VerityLayout {
    uint64_t hash_offset = 0;           // byte offset of the superblock
    uint64_t data_blocks = 0;
    std::vector<uint64_t> level_start;  // byte offset of each level's first block
    std::vector<uint64_t> level_blocks; // number of hash blocks in each level

    static VerityLayout compute(uint64_t hash_offset, uint64_t data_blocks);
    // Bytes from hash_offset to the end of the tree (superblock block included).
    uint64_t hash_area_size() const;
};

struct VerityBuildOptions {
    std::vector<uint8_t> salt;              // empty: 32 random bytes
    std::array<uint8_t, 16> uuid{};         // all zero: random
    std::function<void(uint64_t done_blocks, uint64_t total_blocks)> progress;
};

struct VerityBuildResult {
    Sha256Digest root_hash{};
    VeritySuperblock superblock;
    uint64_t end_offset = 0;  // first byte after the tree
};

// Hashes data blocks [0, data_blocks) of `file` and writes the superblock and
// tree at hash_offset (which must be >= data_blocks * 4096 and 4096-aligned).
Result<VerityBuildResult> build_verity(RandomAccessFile& file, uint64_t hash_offset,
                                       uint64_t data_blocks, const VerityBuildOptions& options);

// Recomputes the whole tree from the data and compares it, and the root hash,
// with what is stored: the check `veritysetup verify` does. The error names the
// first block that does not match.
Result<void> verify_verity(RandomAccessFile& file, uint64_t hash_offset,
                           const Sha256Digest& expected_root_hash);

// One hash of a data or hash block under format 1: sha256(salt || block).
Sha256Digest verity_hash_block(Sha256& hasher, std::span<const uint8_t> salt,
                               std::span<const uint8_t> block);

}  // namespace myst::image

// The file-system signature trailer: the last 4096 bytes of an image made by
// `myst mkext2`, byte for byte Mystikos's myst_fssig_t (little-endian):
//   0 magic u64 = 0xf55198a153624d38   8 version u64 = 1
//  16 hash_offset u64 (bytes from image start to the verity superblock)
//  24 root_hash[32]   56 signer[32] (sha256 of the RSA modulus, big-endian)
//  88 signature[1024] 1112 signature_size u64   1120 padding[2976]
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "base/sha256.h"
#include "image/io.h"

namespace myst::image {

constexpr uint64_t fssig_magic = 0xf55198a153624d38ULL;
constexpr uint64_t fssig_version = 1;
constexpr size_t fssig_size = 4096;
constexpr size_t fssig_max_signature_size = 1024;

struct Fssig {
    uint64_t version = fssig_version;
    uint64_t hash_offset = 0;
    Sha256Digest root_hash{};
    Sha256Digest signer{};           // all zero when unsigned
    std::vector<uint8_t> signature;  // empty when unsigned

    bool is_signed() const { return !signature.empty(); }
    std::array<uint8_t, fssig_size> serialize() const;
    // Checks magic, version and signature_size <= 1024.
    static Result<Fssig> parse(std::span<const uint8_t> bytes);
};

// Reads the trailer from the last 4096 bytes of an image; checks that
// hash_offset lies inside the image. The error says why it is not an fssig image.
Result<Fssig> read_fssig(RandomAccessFile& image);

}  // namespace myst::image

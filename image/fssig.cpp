#include "image/fssig.h"

#include <cstring>
#include <string>

#include "base/endian.h"

namespace myst::image {

namespace {

// Field offsets of Mystikos's myst_fssig_t.
constexpr size_t at_magic = 0;
constexpr size_t at_version = 8;
constexpr size_t at_hash_offset = 16;
constexpr size_t at_root_hash = 24;
constexpr size_t at_signer = 56;
constexpr size_t at_signature = 88;
constexpr size_t at_signature_size = 1112;

}  // namespace

std::array<uint8_t, fssig_size> Fssig::serialize() const {
    std::array<uint8_t, fssig_size> bytes{};
    uint8_t* p = bytes.data();
    store_le<uint64_t>(p + at_magic, fssig_magic);
    store_le<uint64_t>(p + at_version, version);
    store_le<uint64_t>(p + at_hash_offset, hash_offset);
    std::memcpy(p + at_root_hash, root_hash.data(), root_hash.size());
    std::memcpy(p + at_signer, signer.data(), signer.size());
    size_t signature_size = std::min(signature.size(), fssig_max_signature_size);
    if (signature_size > 0)  // an empty vector's data() may be null
        std::memcpy(p + at_signature, signature.data(), signature_size);
    store_le<uint64_t>(p + at_signature_size, signature_size);
    return bytes;
}

Result<Fssig> Fssig::parse(std::span<const uint8_t> bytes) {
    if (bytes.size() < fssig_size)
        return Error::invalid("fssig trailer: only " + std::to_string(bytes.size()) +
                              " of 4096 bytes");
    const uint8_t* p = bytes.data();
    if (load_le<uint64_t>(p + at_magic) != fssig_magic)
        return Error::invalid("no fssig trailer: not an image made by myst mkext2");
    Fssig sig;
    sig.version = load_le<uint64_t>(p + at_version);
    if (sig.version != fssig_version)
        return Error::invalid("fssig trailer: unsupported version " + std::to_string(sig.version) +
                              " (expected 1)");
    uint64_t signature_size = load_le<uint64_t>(p + at_signature_size);
    if (signature_size > fssig_max_signature_size)
        return Error::invalid("fssig trailer: signature size " + std::to_string(signature_size) +
                              " is larger than 1024");
    sig.hash_offset = load_le<uint64_t>(p + at_hash_offset);
    std::memcpy(sig.root_hash.data(), p + at_root_hash, sig.root_hash.size());
    std::memcpy(sig.signer.data(), p + at_signer, sig.signer.size());
    sig.signature.assign(p + at_signature, p + at_signature + signature_size);
    return sig;
}

Result<Fssig> read_fssig(RandomAccessFile& image) {
    uint64_t size = TRY(image.size());
    if (size < fssig_size)
        return Error::invalid("no fssig trailer: the file has only " + std::to_string(size) +
                              " bytes, less than the 4096-byte trailer");
    std::array<uint8_t, fssig_size> bytes{};
    uint64_t trailer = size - fssig_size;
    TRY(image.read_at(trailer, bytes));
    Fssig sig = TRY(Fssig::parse(bytes));
    // The verity superblock (512 bytes) must lie before the trailer.
    if (sig.hash_offset > trailer || trailer - sig.hash_offset < 512)
        return Error::invalid("fssig trailer: hash offset " + std::to_string(sig.hash_offset) +
                              " lies beyond the hash area (the trailer starts at " +
                              std::to_string(trailer) + ")");
    return sig;
}

}  // namespace myst::image

#include "blk/image_device.h"

#include <algorithm>
#include <array>

#include "base/hex.h"
#include "blk/crypt_device.h"
#include "blk/host_file_device.h"
#include "blk/overlay_device.h"
#include "image/fssig.h"
#include "image/verity.h"

namespace myst::blk {

namespace {

// The LUKS magic, to tell an encrypted image from a plain one; parsing the
// header is left to image/luks1.
constexpr std::array<uint8_t, 6> luks_magic = {'L', 'U', 'K', 'S', 0xba, 0xbe};

std::string join_hex(const std::vector<Sha256Digest>& hashes) {
    std::string text;
    for (const Sha256Digest& hash : hashes)
        text += (text.empty() ? "" : ", ") + to_hex(hash);
    return text;
}

struct TrustedRoot {
    Sha256Digest root_hash{};
    std::string because;
};

Result<std::string> check_signature(const std::string& path, const image::Fssig& fssig,
                                    const std::vector<image::RsaPublicKey>& keys) {
    if (!fssig.is_signed())
        return Error(EACCES, path +
                                 ": the image is not signed, so it is not signed by a "
                                 "trusted key (a public key is required)");
    auto signer = std::find_if(keys.begin(), keys.end(), [&](const image::RsaPublicKey& key) {
        return key.signer_id() == fssig.signer;
    });
    if (signer == keys.end())
        return Error(EKEYREJECTED, path + ": not signed by a trusted key (signed by signer " +
                                       to_hex(fssig.signer) + ")");
    auto valid = signer->verify(fssig.root_hash, fssig.signature);
    if (valid.is_error())
        return valid.release_error().with_context(path);
    if (!valid.value())
        return Error(EKEYREJECTED, path +
                                       ": not signed by a trusted key (the signature does "
                                       "not verify with the key of signer " +
                                       to_hex(fssig.signer) + ")");
    return "signed by trusted key " + to_hex(fssig.signer);
}

Result<TrustedRoot> decide_root_hash(const std::string& path, const image::Fssig& fssig,
                                     const ImageTrust& trust) {
    TrustedRoot root{fssig.root_hash, {}};
    const auto& hashes = trust.root_hashes;
    if (std::find(hashes.begin(), hashes.end(), fssig.root_hash) != hashes.end()) {
        root.because = "expected root hash";
        return root;
    }
    if (!trust.public_keys.empty()) {
        auto signer = check_signature(path, fssig, trust.public_keys);
        if (signer.is_error() && !hashes.empty())
            return Error(signer.error().code(), signer.error().message() + "; its root hash " +
                                                    to_hex(fssig.root_hash) +
                                                    " is not an expected one either");
        root.because = TRY(std::move(signer));
        return root;
    }
    if (!hashes.empty())
        return Error(EACCES, path + ": root hash mismatch: the image has " +
                                 to_hex(fssig.root_hash) + ", the expected root hash" +
                                 (hashes.size() > 1 ? "es are " : " is ") + join_hex(hashes));
    if (!trust.trust_image_fssig)
        return Error(EACCES, path +
                                 ": no trusted root hash: configure a public key the image "
                                 "is signed with, or its expected root hash");
    root.because = "the image's own fssig (not checked against a key or an expected hash)";
    return root;
}

Result<image::VeritySuperblock> read_verity_superblock(image::RandomAccessFile& file,
                                                       uint64_t hash_offset) {
    std::array<uint8_t, image::verity_superblock_size> bytes{};
    TRY(file.read_at(hash_offset, bytes));
    return image::VeritySuperblock::parse(bytes);
}

}  // namespace

Result<OpenedImage> open_ext2_image(Target& target, const std::string& host_path,
                                    const ImageTrust& trust,
                                    std::optional<std::vector<uint8_t>> key,
                                    DiagnosticSink diagnostics, uint64_t cache_bytes,
                                    ImageExtent extent,
                                    std::shared_ptr<MemoryCharge> cache_charge) {
    auto file = TRY(TargetFile::open(target, host_path));
    uint64_t file_size = TRY(file->size());
    if (extent.offset > file_size || extent.length > file_size - extent.offset)
        return Error(EINVAL, host_path + ": the image extent lies beyond the end of the file");
    uint64_t image_size = extent.length ? extent.length : file_size - extent.offset;
    image::FileWindow image(file, extent.offset, image_size);
    auto fssig = image::read_fssig(image);
    if (fssig.is_error())
        return fssig.release_error().with_context(host_path);
    TrustedRoot root = TRY(decide_root_hash(host_path, fssig.value(), trust));

    uint64_t hash_offset = fssig.value().hash_offset;
    auto superblock = read_verity_superblock(image, hash_offset);
    if (superblock.is_error())
        return superblock.release_error().with_context(host_path);

    VerityConfig config;
    config.name = host_path;
    config.layout = image::VerityLayout::compute(hash_offset, superblock.value().data_blocks);
    config.salt = superblock.value().salt;
    config.root_hash = root.root_hash;
    config.diagnostics = std::move(diagnostics);

    std::unique_ptr<BlockDevice> device =
        std::make_unique<HostFileDevice>(std::move(file), extent.offset, image_size);
    // Neither cache is made larger than what it can hold: a small image
    // (a data mount, a fuzz input) does not take megabytes of memory.
    const uint64_t image_blocks = (image_size + image_block_size - 1) / image_block_size;
    CacheOptions readahead;
    readahead.capacity_blocks =
        std::min<uint64_t>(image_readahead_cache_bytes / image_block_size, image_blocks);
    readahead.bulk_blocks = 1;
    readahead.charge = cache_charge;
    auto readahead_cache = std::make_unique<CacheDevice>(std::move(device), readahead);
    const CacheDevice* readahead_observer = readahead_cache.get();
    auto verity = TRY(VerityDevice::open(std::move(readahead_cache), std::move(config)));
    const VerityDevice* verity_observer = verity.get();
    device = std::move(verity);

    // The magic is read through verity: a verified header decides.
    std::array<uint8_t, luks_magic.size()> magic{};
    TRY(read_bytes(*device, 0, magic));
    bool encrypted = magic == luks_magic;
    if (encrypted) {
        if (!key)
            return Error(ENOKEY, host_path + ": image is encrypted: a key is needed");
        device = TRY(CryptDevice::open(std::move(device), *key, host_path));
    }
    // Every run is kept, bulk ones too: a program that re-reads a file in
    // 1 MiB calls must hit. Copying a block into a full cache costs about a
    // tenth of hashing it; while the cache's memory is new, 4 KiB page
    // faults would cost about as much as the hashing (see bench/RESULTS.md),
    // so the memory is offered to the host as huge pages. No read-ahead
    // here: a bad block ahead would fail a read that does not ask for it.
    CacheOptions verified;
    verified.capacity_blocks =
        std::min<uint64_t>(cache_bytes / image_block_size, superblock.value().data_blocks);
    verified.bulk_blocks = 0;
    verified.readahead_blocks = 0;
    verified.host = &target;
    verified.charge = std::move(cache_charge);
    auto verified_cache = std::make_unique<CacheDevice>(std::move(device), verified);

    OpenedImage opened;
    opened.verity = verity_observer;
    opened.verified_cache = verified_cache.get();
    opened.readahead_cache = readahead_observer;
    opened.device = std::make_unique<OverlayDevice>(std::move(verified_cache));
    opened.encrypted = encrypted;
    opened.root_hash = root.root_hash;
    opened.trusted_by = std::move(root.because);
    return opened;
}

}  // namespace myst::blk

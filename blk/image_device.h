// Opening a `myst mkext2` image for the ext2 file system: decides which root
// hash to trust, then builds the block stack
//   host file (target) -> read-ahead cache -> verity -> [crypt] -> verified cache -> overlay
// Verity covers everything before the hash tree, the LUKS1 header of an
// encrypted image included, so the header and the ciphertext are checked
// before they are used. The verified cache keeps blocks that passed verity
// (decrypted), so re-reading them costs a copy, not SHA-256 and AES again;
// the small cache under verity only batches short sequential host reads.
// The overlay keeps ext2's writes in memory.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/sha256.h"
#include "blk/block_device.h"
#include "blk/cache_device.h"
#include "blk/verity_device.h"
#include "image/signature.h"
#include "target/target.h"

namespace myst::blk {

// Where the trusted root hash comes from (DESIGN.md decision 9). The image
// is trusted when its fssig carries one of `root_hashes`, or is signed by
// one of `public_keys`: the lists name everything the user trusts, for
// every image (`--pubkey` for the root, `--roothash` for a data image).
// Only when both lists are empty, and trust_image_fssig is set, is the root
// hash in the image's own fssig trusted.
struct ImageTrust {
    std::vector<Sha256Digest> root_hashes;
    std::vector<image::RsaPublicKey> public_keys;
    bool trust_image_fssig = false;
};

// What trust_image_fssig means, for the --help of the commands that mount images.
inline constexpr std::string_view image_fssig_trust_note =
    "Without --pubkey or --roothash, the root hash of an ext2 image is taken from the "
    "image's own fssig trailer: every block read is still checked against that hash tree, "
    "which catches corruption, but whoever can rewrite the image file can rewrite its "
    "trailer too. Give --pubkey=<pem> (the image must be signed with its private key) or "
    "--roothash=<hex> to trust only the image you chose.";

// The verified cache's default size. 64 MiB holds the files a program
// typically reads more than once (its binary, shared libraries, an
// interpreter's modules, a data file of tens of MiB) and all of ext2's
// metadata, while staying small beside the host memory a myst process uses:
// it is kernel memory, outside the program's MemorySize budget, taken in
// 1 MiB pieces only as blocks are read, once per mounted image.
inline constexpr uint64_t default_image_cache_bytes = uint64_t(64) << 20;
// The read-ahead cache under verity: 16 read-ahead windows of 128 KiB, so
// a window is read out long before it is pushed out, and small enough to
// stay in the CPU's cache as it is reused. It keeps nothing else: what is
// verified is kept above.
inline constexpr uint64_t image_readahead_cache_bytes = uint64_t(2) << 20;

// Where the image lies in its host file: the whole file, or a root file
// system stored inside a package (myst package).
struct ImageExtent {
    uint64_t offset = 0;
    uint64_t length = 0;  // 0: up to the end of the file
};

struct OpenedImage {
    // The ext2 file system: verified, decrypted, writable (in memory only).
    std::unique_ptr<BlockDevice> device;
    bool encrypted = false;
    Sha256Digest root_hash{};  // the trusted root hash the data is checked against
    std::string trusted_by;    // why that hash is trusted, for logs ("signed by key ...")
    // The layers inside `device`, for their statistics (tests, benchmarks);
    // valid while `device` lives.
    const VerityDevice* verity = nullptr;
    const CacheDevice* verified_cache = nullptr;
    const CacheDevice* readahead_cache = nullptr;
};

// Opens `host_path` through the target. Errors (nothing mounted) say what is
// wrong: not an fssig image, a bad verity superblock, "not signed by a
// trusted key" (EACCES unsigned, EKEYREJECTED other signer or bad
// signature), "root hash mismatch" (EACCES), no trust source (EACCES), a
// wrong key (EKEYREJECTED, checked before any data read), "image is
// encrypted: a key is needed" (ENOKEY). A key given for a plain image is
// not used. Verification failures while reading go to `diagnostics`.
// `cache_bytes` is the verified cache's size (0: none; every read is
// verified again). With a `cache_charge` the memory of both caches is taken
// from it as they fill (images a program mounts share one); when it refuses,
// a cache stops growing.
Result<OpenedImage> open_ext2_image(Target& target, const std::string& host_path,
                                    const ImageTrust& trust,
                                    std::optional<std::vector<uint8_t>> key,
                                    DiagnosticSink diagnostics,
                                    uint64_t cache_bytes = default_image_cache_bytes,
                                    ImageExtent extent = {},
                                    std::shared_ptr<MemoryCharge> cache_charge = nullptr);

}  // namespace myst::blk

// Opening ext2 images from the command line and the config for mounting:
// the trust the user gave (--pubkey, --roothash), the key of an encrypted
// image, and the verity diagnostics routed to the target's stderr.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "blk/image_device.h"
#include "fs/vfs/inode.h"
#include "target/target.h"

namespace myst::tools {

// How ext2 images are opened: what is trusted, and the verified cache.
struct ImageOptions {
    std::vector<std::string> public_key_files;              // --pubkey (PEM files)
    std::vector<std::string> public_key_pems;               // config "PublicKey" (PEM text)
    std::vector<std::string> root_hashes;                   // --roothash / config "RootHash" (hex)
    uint64_t cache_bytes = blk::default_image_cache_bytes;  // --block-cache-size
};

// The keys and root hashes named, loaded (PEM files read, hex parsed).
Result<blk::ImageTrust> load_image_trust(const ImageOptions& options);

// Whether the file starts like a CPIO newc archive.
bool looks_like_cpio(const std::string& path);

// An ext2 file system from a myst mkext2 image, verified against the trust
// given (or the image's own fssig when none is). `key_file` opens an
// encrypted image; an encrypted root is refused by the caller. `extent`
// says where the image lies in `path` (a package holds one inside).
Result<std::shared_ptr<fs::FileSystem>> open_ext2_filesystem(
    Target& target, const std::string& path, const ImageOptions& trust, const std::string& key_file,
    bool* encrypted = nullptr, blk::ImageExtent extent = {});

}  // namespace myst::tools

#include "tools/myst/image_mount.h"

#include <fstream>

#include "image/signature.h"
#include "kernel/mount_source.h"
#include "tools/myst/host_file.h"

namespace myst::tools {

Result<blk::ImageTrust> load_image_trust(const ImageOptions& options) {
    blk::ImageTrust trust;
    for (const std::string& file : options.public_key_files) {
        auto pem = TRY(read_whole_file(file));
        trust.public_keys.push_back(TRY(image::RsaPublicKey::from_pem(pem, file)));
    }
    for (const std::string& text : options.public_key_pems) {
        std::vector<uint8_t> pem(text.begin(), text.end());
        trust.public_keys.push_back(TRY(image::RsaPublicKey::from_pem(pem, "config PublicKey")));
    }
    for (const std::string& text : options.root_hashes)
        trust.root_hashes.push_back(TRY(sha256_digest_from_hex(text)));
    trust.trust_image_fssig = trust.public_keys.empty() && trust.root_hashes.empty();
    return trust;
}

bool looks_like_cpio(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    char magic[6] = {};
    in.read(magic, sizeof magic);
    return in && (std::string(magic, 6) == "070701" || std::string(magic, 6) == "070702");
}

Result<std::shared_ptr<fs::FileSystem>> open_ext2_filesystem(
    Target& target, const std::string& path, const ImageOptions& trust, const std::string& key_file,
    bool* encrypted, blk::ImageExtent extent) {
    kernel::MountSource source;
    source.type = kernel::MountType::ext2;
    source.host_path = path;
    if (!key_file.empty()) {
        source.key = TRY(read_whole_file(key_file));
        if (source.key->size() != 64)
            return Error::invalid(key_file + ": key file must be exactly 64 bytes");
    }
    auto loaded = load_image_trust(trust);
    if (loaded.is_error())
        return loaded.release_error().with_context(path);
    source.trust = loaded.release_value();
    source.cache_bytes = trust.cache_bytes;
    source.extent = extent;
    return kernel::open_mount_source(target, source, encrypted);
}

}  // namespace myst::tools

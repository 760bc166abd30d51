#include "kernel/mount_options.h"

#include <string>

#include "base/hex.h"
#include "base/sha256.h"

namespace myst::kernel {

namespace {

Result<std::vector<uint8_t>> parse_key(std::string_view hex) {
    auto key = from_hex(std::string(hex));
    if (key.is_error() || key.value().size() != 64)
        return Error(EINVAL, "mount option key= must be 128 hex digits (a 64-byte key)");
    return key.release_value();
}

Result<mode_t> parse_mode(std::string_view octal) {
    mode_t mode = 0;
    if (octal.empty() || octal.size() > 4)
        return Error(EINVAL, "mount option mode= must be octal");
    for (char digit : octal) {
        if (digit < '0' || digit > '7')
            return Error(EINVAL, "mount option mode= must be octal");
        mode = mode * 8 + static_cast<mode_t>(digit - '0');
    }
    return mode;
}

// One option of the data string: "name=value" or "name".
Result<void> apply_option(std::string_view option, MountSource& source, fs::MountOptions& options) {
    size_t equals = option.find('=');
    std::string_view name = option.substr(0, equals);
    std::string_view value = equals == std::string_view::npos ? "" : option.substr(equals + 1);
    if (name == "ro" || name == "rw") {
        options.read_only = name == "ro";
        return {};
    }
    if (source.type == MountType::ext2 && name == "key") {
        source.key = TRY(parse_key(value));
        return {};
    }
    if (source.type == MountType::ext2 && name == "roothash") {
        auto hash = sha256_digest_from_hex(value);
        if (hash.is_error())
            return hash.release_error().with_context("mount option roothash=");
        source.trust.root_hashes.push_back(hash.value());
        source.trust.trust_image_fssig = false;
        return {};
    }
    if (source.type == MountType::ramfs && name == "mode") {
        source.root_mode = TRY(parse_mode(value));
        return {};
    }
    // tmpfs sizes are accepted: the kernel's memory budget bounds a ramfs.
    if (source.type == MountType::ramfs && (name == "size" || name == "nr_inodes"))
        return {};
    return Error(EINVAL, "unknown mount option '" + std::string(option) + "'");
}

}  // namespace

Result<void> apply_mount_data(std::string_view data, MountSource& source,
                              fs::MountOptions& options) {
    size_t start = 0;
    while (start <= data.size()) {
        size_t comma = data.find(',', start);
        if (comma == std::string_view::npos)
            comma = data.size();
        if (comma > start)
            TRY(apply_option(data.substr(start, comma - start), source, options));
        start = comma + 1;
    }
    return {};
}

}  // namespace myst::kernel

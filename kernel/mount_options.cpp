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

// A tmpfs count or size as Linux's memparse reads it: decimal digits and an
// optional binary suffix (k, m, g, t, p, e, either case).
Result<uint64_t> parse_tmpfs_number(std::string_view text, std::string_view option) {
    auto bad = [&] {
        return Error(EINVAL, "bad value '" + std::string(text) + "' for " + std::string(option));
    };
    size_t digits = 0;
    uint64_t number = 0;
    for (; digits < text.size() && text[digits] >= '0' && text[digits] <= '9'; ++digits) {
        if (number > (UINT64_MAX - 9) / 10)
            return bad();
        number = number * 10 + static_cast<uint64_t>(text[digits] - '0');
    }
    if (digits == 0 || text.size() - digits > 1)
        return bad();
    if (digits == text.size())
        return number;
    constexpr std::string_view suffixes = "kmgtpe";
    size_t index = suffixes.find(static_cast<char>(text.back() | 0x20));
    if (index == std::string_view::npos)
        return bad();
    unsigned shift = 10 * static_cast<unsigned>(index + 1);
    if (number > (UINT64_MAX >> shift))
        return bad();
    return number << shift;
}

// tmpfs's size=: bytes (with a suffix) or a percentage of memory, here of
// the memory budget.
Result<void> apply_tmpfs_size(std::string_view value, MountSource& source) {
    if (!value.empty() && value.back() == '%') {
        source.ram_size_percent =
            TRY(parse_tmpfs_number(value.substr(0, value.size() - 1), "size="));
        source.ram_size_bytes = 0;
        return {};
    }
    source.ram_size_bytes = TRY(parse_tmpfs_number(value, "size="));
    source.ram_size_percent = 0;
    return {};
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
    if (source.type == MountType::ramfs && name == "size")
        return apply_tmpfs_size(value, source);
    // Each entry costs kRamfsEntryBytes of the budget besides.
    if (source.type == MountType::ramfs && name == "nr_inodes") {
        source.ram_inode_limit = TRY(parse_tmpfs_number(value, "nr_inodes="));
        return {};
    }
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

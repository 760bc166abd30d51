#include "kernel/mount_source.h"

#include "fs/ext2/ext2fs.h"
#include "fs/hostfs/hostfs.h"
#include "fs/ramfs/ramfs.h"

namespace myst::kernel {

namespace {

Result<std::shared_ptr<fs::FileSystem>> open_ext2(Target& target, const MountSource& source,
                                                  bool* encrypted) {
    if (source.key && source.key->size() != 64)
        return Error::invalid(source.host_path + ": the key must be exactly 64 bytes, not " +
                              std::to_string(source.key->size()));
    auto diagnostics = [&target](std::string_view line) { target.write_diagnostic(line); };
    // The block layer's errors name the image already.
    auto opened =
        TRY(blk::open_ext2_image(target, source.host_path, source.trust, source.key, diagnostics,
                                 source.cache_bytes, source.extent, source.cache_charge));
    if (encrypted)
        *encrypted = opened.encrypted;
    auto filesystem = fs::create_ext2fs(std::move(opened.device), fs::clock_from_target(target),
                                        source.host_path);
    if (filesystem.is_error())
        return filesystem.release_error().with_context(source.host_path);
    if (source.memory_charge)
        filesystem.value()->charge_writes_to(source.memory_charge);
    return filesystem;
}

bool allowed_by(const std::vector<std::string>& allowed, const std::string& canonical) {
    for (const std::string& entry : allowed) {
        if (entry == "/" || canonical == entry ||
            (canonical.starts_with(entry) && canonical[entry.size()] == '/'))
            return true;
    }
    return false;
}

Error refused(const std::string& path) {
    return Error(EPERM, path +
                            " is not a host path the operator allowed to mount "
                            "(--mount, --allow-mount-source, \"MountablePaths\")");
}

// The charge of a tmpfs with size=: its own limit, rounded up to pages as
// Linux does, on top of the budget.
fs::PageCharge ramfs_charge(const MountSource& source) {
    if (!source.memory_charge || (source.ram_size_bytes == 0 && source.ram_size_percent == 0))
        return source.memory_charge;
    constexpr uint64_t page = 4096;
    uint64_t limit = source.ram_size_bytes;
    if (limit == 0) {  // a percentage of the budget (past 100% the budget is the limit)
        uint64_t capacity = source.memory_charge->capacity();
        limit = source.ram_size_percent >= 100 ? capacity
                                               : capacity / 100 * source.ram_size_percent +
                                                     capacity % 100 * source.ram_size_percent / 100;
    }
    limit = limit > UINT64_MAX - (page - 1) ? UINT64_MAX / page * page
                                            : (limit + page - 1) / page * page;
    return std::make_shared<CappedCharge>(source.memory_charge, limit);
}

}  // namespace

Result<std::string> check_mountable(Target& target, const std::vector<std::string>& allowed,
                                    const std::string& path) {
    auto canonical = target.path_canonical(path);
    if (!canonical.is_error()) {
        if (allowed_by(allowed, canonical.value()))
            return canonical.release_value();
        return refused(path);
    }
    // A missing source: say so only when its directory may be mounted from.
    size_t slash = path.find_last_of('/');
    std::string name = path.substr(slash + 1);
    if (slash == std::string::npos || name.empty() || name == "." || name == "..")
        return refused(path);
    auto directory = target.path_canonical(slash == 0 ? "/" : path.substr(0, slash));
    if (directory.is_error())
        return refused(path);
    std::string inside = directory.value() == "/" ? "/" + name : directory.value() + "/" + name;
    if (!allowed_by(allowed, inside))
        return refused(path);
    return Error(canonical.error().code(), path + ": no such file in a mountable directory");
}

Result<MountType> mount_type_from_name(const std::string& name) {
    if (name == "ext2")
        return MountType::ext2;
    if (name == "hostfs")
        return MountType::hostfs;
    if (name == "ramfs" || name == "tmpfs")
        return MountType::ramfs;
    return Error(ENODEV, "unknown file system type '" + name + "' (ext2, hostfs, ramfs, tmpfs)");
}

Result<std::shared_ptr<fs::FileSystem>> open_mount_source(Target& target, const MountSource& source,
                                                          bool* encrypted) {
    switch (source.type) {
        case MountType::ramfs:
            return fs::create_ramfs(fs::clock_from_target(target), source.root_mode,
                                    ramfs_charge(source), source.ram_inode_limit);
        case MountType::hostfs: {
            auto hostfs = fs::create_hostfs(target, source.host_path);
            if (hostfs.is_error())
                return hostfs.release_error().with_context(source.host_path);
            return hostfs;
        }
        case MountType::ext2:
            return open_ext2(target, source, encrypted);
    }
    return Error::invalid("unknown mount type");
}

}  // namespace myst::kernel

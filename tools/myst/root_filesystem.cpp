#include "tools/myst/root_filesystem.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fs/devfs/devfs.h"
#include "fs/hostfs/hostfs.h"
#include "fs/procfs/procfs.h"
#include "fs/ramfs/ramfs.h"
#include "kernel/shared_memory.h"
#include "tools/myst/host_file.h"
#include "tools/myst/image_mount.h"

namespace myst::tools {

namespace {

// hostfs takes absolute host paths; the command line may give relative ones.
std::string absolute_path(const std::string& path) {
    char resolved[PATH_MAX];
    return ::realpath(path.c_str(), resolved) ? std::string(resolved) : path;
}

}  // namespace

Result<MountRequest> parse_mount_option(const std::string& option) {
    size_t equals = option.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 >= option.size())
        return Error::invalid("--mount " + option + ": expected <host path>=<target>");
    MountRequest request;
    request.source = option.substr(0, equals);
    request.target = option.substr(equals + 1);
    if (request.target[0] != '/')
        return Error::invalid("--mount " + option + ": the target must be an absolute path");
    return request;
}

Result<std::shared_ptr<fs::FileSystem>> open_root_filesystem(Target& target,
                                                             const std::string& rootfs,
                                                             const ImageOptions& trust) {
    struct stat st {};
    if (::stat(rootfs.c_str(), &st) != 0)
        return Error::from_errno(errno, rootfs);
    if (S_ISDIR(st.st_mode)) {
        auto hostfs = fs::create_hostfs(target, absolute_path(rootfs));
        if (hostfs.is_error())
            return hostfs.release_error().with_context(rootfs);
        return hostfs;
    }
    if (!looks_like_cpio(rootfs)) {
        bool encrypted = false;
        auto ext2 = open_ext2_filesystem(target, rootfs, trust, "", &encrypted);
        if (ext2.is_error() && ext2.error().code() == ENOKEY)
            return Error(EACCES, rootfs +
                                     ": an encrypted image cannot be used as the root file "
                                     "system; mount it with --mount and a KeyFile in the config");
        return ext2;
    }
    auto archive = TRY(HostFile::open_read(rootfs));
    auto ramfs = fs::create_ramfs_from_cpio(*archive, fs::clock_from_target(target));
    if (ramfs.is_error())
        return ramfs.release_error().with_context(rootfs +
                                                  " (expected a CPIO image from myst mkcpio)");
    return ramfs;
}

namespace {

bool directory_exists(fs::Vfs& vfs, const std::string& path) {
    return !vfs.resolve(vfs.root_lookup(), path).is_error();
}

Result<void> mount_on(fs::Vfs& vfs, const std::string& path, std::shared_ptr<fs::FileSystem> fs,
                      const fs::MountOptions& options = {}) {
    if (!directory_exists(vfs, path)) {
        auto made = vfs.make_directory(vfs.root_lookup(), path, 0755);
        if (made.is_error())
            return made.release_error().with_context("cannot mount " + path);
    }
    auto mounted = vfs.mount(path, std::move(fs), options);
    if (mounted.is_error())
        return mounted.release_error().with_context("cannot mount " + path);
    return {};
}

Result<std::shared_ptr<fs::FileSystem>> open_requested_source(Target& target,
                                                              const MountRequest& mount,
                                                              const fs::PageCharge& memory_charge) {
    if (mount.type == "ramfs")
        return fs::create_ramfs(fs::clock_from_target(target), 0755, memory_charge);
    struct stat st {};
    if (::stat(mount.source.c_str(), &st) != 0)
        return Error::from_errno(errno, mount.source);
    bool directory = S_ISDIR(st.st_mode);
    if (mount.type == "hostfs" || (mount.type.empty() && directory)) {
        auto hostfs = fs::create_hostfs(target, absolute_path(mount.source));
        if (hostfs.is_error())
            return hostfs.release_error().with_context(mount.source);
        return hostfs;
    }
    if (directory)
        return Error(EISDIR, mount.source + ": an ext2 mount needs an image file, not a directory");
    auto ext2 = TRY(open_ext2_filesystem(target, mount.source, mount.image, mount.key_file));
    ext2->charge_writes_to(memory_charge);  // the overlay that keeps its writes
    return ext2;
}

}  // namespace

Result<void> mount_standard_filesystems(kernel::KernelInstance& kernel, bool root_is_host_directory,
                                        const std::vector<MountRequest>& mounts) {
    fs::Vfs& vfs = kernel.vfs();
    Target& target = kernel.target();
    // A host directory as root is never written to make mount points.
    auto wanted = [&](const std::string& path) {
        return !root_is_host_directory || directory_exists(vfs, path);
    };
    // What the program writes into its root (a CPIO ramfs, or the memory
    // overlay above an ext2 image) comes out of the memory budget as /tmp's
    // files do; the archive's own bytes, loaded before the budget existed,
    // do not.
    vfs.root_lookup().root->inode()->file_system().charge_writes_to(
        kernel::budget_page_charge(kernel.memory()));
    if (wanted("/dev")) {
        TRY(mount_on(vfs, "/dev", fs::create_devfs(target)));
        // /dev/shm is a tmpfs on Linux (shm_open(3) and LTP's library make
        // files there); its pages come out of the memory budget.
        TRY(mount_on(vfs, "/dev/shm",
                     fs::create_ramfs(fs::clock_from_target(target), 01777,
                                      kernel::budget_page_charge(kernel.memory()))));
    }
    if (wanted("/proc"))
        TRY(mount_on(vfs, "/proc",
                     fs::create_procfs(kernel.process_info(), vfs, fs::clock_from_target(target))));
    // /tmp is fresh memory, as a tmpfs would be, out of the memory budget:
    // past it a write is ENOSPC, as on a full tmpfs.
    if (wanted("/tmp"))
        TRY(mount_on(vfs, "/tmp",
                     fs::create_ramfs(fs::clock_from_target(target), 01777,
                                      kernel::budget_page_charge(kernel.memory()))));
    for (const MountRequest& mount : mounts) {
        auto filesystem =
            open_requested_source(target, mount, kernel::budget_page_charge(kernel.memory()));
        if (filesystem.is_error())
            return filesystem.release_error().with_context("mount on " + mount.target);
        TRY(mount_on(vfs, mount.target, filesystem.release_value(),
                     {mount.source, mount.read_only}));
    }
    return {};
}

}  // namespace myst::tools

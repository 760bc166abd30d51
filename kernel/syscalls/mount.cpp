// Mounting: mount(2) and umount2(2).
//
// The program mounts what `myst exec-linux --mount` could: an ext2 image
// from myst mkext2 (its source a host path; verified against the trust the
// command line gave, decrypted with a `key=<128 hex digits>` option), a host
// directory ("hostfs") or a fresh ramfs ("ramfs", "tmpfs"). The data string
// is Linux's comma-separated options. An ext2 or hostfs source must lie at
// or beneath a host path the operator listed (KernelConfig::mountable_paths):
// being root inside the program is no claim on the host's files.
#include <sys/mount.h>

#include <string>
#include <string_view>

#include <openssl/crypto.h>

#include "fs/vfs/vfs.h"
#include "kernel/kernel.h"
#include "kernel/mount_options.h"
#include "kernel/mount_source.h"
#include "kernel/shared_memory.h"
#include "kernel/syscalls/file_common.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

// Linux's limit on the options page.
constexpr size_t kMountDataMax = 4096;

// Flags that change how an existing mount behaves rather than make a new
// one; none of them is supported.
constexpr unsigned long kUnsupportedMountFlags =
    MS_REMOUNT | MS_BIND | MS_MOVE | MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE | MS_REC;
// Flags that are accepted and have no effect here (no set-id programs, no
// devices on disk images, no access-time updates to keep).
constexpr unsigned long kIgnoredMountFlags = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_SYNCHRONOUS |
                                             MS_DIRSYNC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME |
                                             MS_STRICTATIME | MS_LAZYTIME | MS_SILENT;
// Old programs put this magic in the high half of the flags.
constexpr unsigned long kMountMagicMask = 0xffff0000;
constexpr unsigned long kMountMagic = 0xc0ed0000;

// What a mount(2) call asks for, once its arguments are read.
struct MountCall {
    MountSource source;
    std::string source_text;  // as the program gave it, for /proc/mounts
    fs::MountOptions options;
};

Result<MountCall> read_mount_call(Thread& thread, const SyscallArgs& args) {
    MountCall call;
    std::string type = TRY(copy_string_from_user(thread, args.address(2), 256));
    call.source.type = TRY(mount_type_from_name(type));
    call.source.trust = thread.kernel().config().image_trust;
    call.source.cache_bytes = thread.kernel().config().image_cache_bytes;
    call.source.cache_charge = thread.kernel().mounted_image_caches();
    if (args.address(0))
        call.source_text = TRY(copy_string_from_user(thread, args.address(0), PATH_MAX));
    if (call.source.type != MountType::ramfs) {
        if (call.source_text.empty() || call.source_text.front() != '/')
            return Error(EINVAL, type + " mount source must be an absolute host path, not '" +
                                     call.source_text + "'");
        call.source.host_path = call.source_text;
    }
    unsigned long flags = args.raw[3];
    if ((flags & kMountMagicMask) == kMountMagic)
        flags &= ~kMountMagicMask;
    if (flags & kUnsupportedMountFlags)
        return Error(EINVAL, "remount, bind, move and propagation mounts are not supported");
    if (flags & ~(kIgnoredMountFlags | MS_RDONLY))
        return Error(EINVAL, "unknown mount flags");
    call.options.read_only = flags & MS_RDONLY;
    call.options.source = call.source_text;
    if (args.address(4)) {
        std::string data = TRY(copy_string_from_user(thread, args.address(4), kMountDataMax));
        auto applied = apply_mount_data(data, call.source, call.options);
        OPENSSL_cleanse(data.data(), data.size());  // it may hold a key
        TRY(std::move(applied));
    }
    return call;
}

}  // namespace

// Mount implements Linux syscall mount(2) for new mounts of ext2, hostfs
// and ramfs/tmpfs; remount, bind, move and propagation changes are EINVAL.
Result<long> sys_mount(Thread& thread, const SyscallArgs& args) {
    if (!effective_identity(thread).is_root())
        return Error(EPERM, "mount needs root");
    MountCall call = TRY(read_mount_call(thread, args));
    if (call.source.type != MountType::ramfs) {
        auto allowed =
            check_mountable(thread.kernel().target(), thread.kernel().config().mountable_paths,
                            call.source.host_path);
        if (allowed.is_error()) {
            // One line naming the path, never what the host keeps there.
            thread.kernel().target().write_diagnostic("myst: mount: " + allowed.error().message());
            return allowed.release_error();
        }
        // The checked path is what gets opened, not the text to resolve again.
        call.source.host_path = allowed.release_value();
    }
    std::string target = TRY(path_argument(thread, args.address(1)));
    fs::Lookup at = TRY(lookup_at(thread, AT_FDCWD, target));
    fs::PathRef point = TRY(vfs_of(thread).resolve(at, target));
    if (!point->inode()->is_directory())
        return Error(ENOTDIR, target + " is not a directory");
    // A tmpfs the program mounts, and the writes to an ext2 image (kept in
    // memory), hold program data: the budget pays for them.
    call.source.memory_charge = budget_page_charge(thread.kernel().memory());
    auto filesystem = open_mount_source(thread.kernel().target(), call.source);
    if (call.source.key)
        OPENSSL_cleanse(call.source.key->data(), call.source.key->size());
    if (filesystem.is_error()) {
        // errno alone cannot say that a key was wrong or an image untrusted.
        thread.kernel().target().write_diagnostic("myst: mount on " + target + ": " +
                                                  filesystem.error().message());
        return filesystem.release_error();
    }
    TRY(vfs_of(thread).mount_at(point, filesystem.release_value(), call.options));
    return 0;
}

// Umount2 implements Linux syscall umount2(2): MNT_DETACH detaches a busy
// mount; MNT_FORCE is accepted (nothing here can hang); MNT_EXPIRE is EINVAL.
Result<long> sys_umount2(Thread& thread, const SyscallArgs& args) {
    int flags = args.integer(1);
    if (flags & ~(MNT_FORCE | MNT_DETACH | UMOUNT_NOFOLLOW))
        return Error(EINVAL, "unsupported umount2 flags");
    if (!effective_identity(thread).is_root())
        return Error(EPERM, "umount needs root");
    std::string target = TRY(path_argument(thread, args.address(0)));
    fs::Lookup at = TRY(lookup_at(thread, AT_FDCWD, target));
    TRY(vfs_of(thread).unmount(at, target, !(flags & UMOUNT_NOFOLLOW), flags & MNT_DETACH));
    return 0;
}

}  // namespace myst::kernel

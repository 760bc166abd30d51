// The data string of mount(2): Linux's comma-separated options, here "ro",
// "rw", for ext2 "key=<128 hex digits>" and "roothash=<64 hex digits>", for
// ramfs/tmpfs "mode=<octal>", "size=<bytes>[kmgtpe]" or "size=<N>%" (of the
// memory budget) and "nr_inodes=<count>[kmg...]" (directory entries, the
// root counted; 0: no limit). Kept apart from the syscall so that the
// parser of these untrusted bytes can be fuzzed on its own (fuzz/).
#pragma once

#include <string_view>

#include "base/result.h"
#include "fs/vfs/vfs.h"
#include "kernel/mount_source.h"

namespace myst::kernel {

// Applies every option of `data` to what the call mounts (`source`, whose
// type is already set) and how (`options`); an unknown or malformed option
// is EINVAL naming it. Empty options (",,") are skipped, as Linux does.
Result<void> apply_mount_data(std::string_view data, MountSource& source,
                              fs::MountOptions& options);

}  // namespace myst::kernel

// procfs: /proc as programs and libcs read it. Per process (from a
// ProcessInfo): exe, cwd (links), fd/N (links that readlink to the open
// file's path or "pipe:[ino]" and open the file itself even after it was
// unlinked), cmdline, environ, maps, mounts, stat, status; and self,
// mounts, meminfo, cpuinfo, uptime at the top.
#pragma once

#include <memory>

#include "fs/procfs/process_info.h"
#include "fs/vfs/vfs.h"

namespace myst::fs {

// `processes` and `vfs` (for the mounts files) must outlive the file
// system; `clock` gives its birth time and /proc/uptime.
std::shared_ptr<FileSystem> create_procfs(ProcessInfo& processes, const Vfs& vfs, Clock clock);

}  // namespace myst::fs

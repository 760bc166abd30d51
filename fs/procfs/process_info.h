// What procfs needs to know about processes (and the system's names),
// implemented by the kernel's
// process table (and by a fake in the unit tests). procfs calls these
// while a program reads /proc, from the reading thread: current_pid() is
// the process of the calling thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "fs/vfs/open_file.h"

namespace myst::fs {

struct ProcessStatus {
    std::string name;  // "comm": the thread's name (prctl), at most 15 bytes
    pid_t pid = 0;
    pid_t thread_id = 0;  // /proc/<pid>/task/<tid>; the pid for /proc/<pid>
    pid_t parent_pid = 0;
    pid_t group_id = 0;  // process group
    pid_t session_id = 0;
    uid_t uid = 0, euid = 0, suid = 0;
    gid_t gid = 0, egid = 0, sgid = 0;
    char state = 'R';  // R, S, Z... as in /proc/<pid>/stat
    int threads = 1;
    uint64_t virtual_memory_bytes = 0;   // VmSize
    uint64_t resident_memory_bytes = 0;  // VmRSS
};

// What uname(2) tells, for /proc/sys/kernel: the two must agree.
struct SystemNames {
    std::string hostname;    // nodename, /proc/sys/kernel/hostname
    std::string domainname;  // /proc/sys/kernel/domainname
    std::string ostype;      // sysname, /proc/sys/kernel/ostype
    std::string osrelease;   // release, /proc/sys/kernel/osrelease
    std::string version;     // version, /proc/sys/kernel/version
};

struct MemoryInfo {
    uint64_t total_bytes = 0;      // the kernel's memory budget
    uint64_t available_bytes = 0;  // what is left of it
};

class ProcessInfo {
public:
    virtual ~ProcessInfo() = default;

    // /proc/self: the process of the calling thread.
    virtual pid_t current_pid() = 0;
    // Every live process, for listing /proc.
    virtual std::vector<pid_t> pids() = 0;

    // Each of these fails with ESRCH when `pid` is gone.
    virtual Result<ProcessStatus> status(pid_t pid) = 0;
    // /proc/<pid>/task: the process's live threads (ascending), and one of
    // them as /proc/<pid>/task/<tid>/status shows it (ESRCH when gone).
    virtual Result<std::vector<pid_t>> thread_ids(pid_t pid) = 0;
    virtual Result<ProcessStatus> thread_status(pid_t pid, pid_t tid) = 0;
    // /proc/<pid>/exe: the executable's absolute path in the kernel's tree.
    virtual Result<std::string> executable_path(pid_t pid) = 0;
    // /proc/<pid>/cwd.
    virtual Result<std::string> cwd_path(pid_t pid) = 0;
    // /proc/<pid>/root (chroot(2)): the process's root as the calling
    // process sees it, and the node following the link leads to (null:
    // the VFS root).
    virtual Result<std::string> root_path(pid_t) { return std::string("/"); }
    virtual PathRef root_node(pid_t) { return nullptr; }
    // /proc/<pid>/maps, complete text in Linux's format.
    virtual Result<std::string> maps(pid_t pid) = 0;
    // /proc/<pid>/cmdline and environ: the strings, each NUL-terminated.
    virtual Result<std::string> cmdline(pid_t pid) = 0;
    virtual Result<std::string> environ(pid_t pid) = 0;
    // The open descriptors (ascending) and what one refers to (EBADF/ENOENT
    // when closed), for /proc/<pid>/fd.
    virtual Result<std::vector<int>> open_fds(pid_t pid) = 0;
    virtual Result<std::shared_ptr<OpenFile>> open_file(pid_t pid, int fd) = 0;

    // /proc/meminfo.
    virtual MemoryInfo memory_info() = 0;
    // /proc/sys/kernel's names.
    virtual SystemNames system_names() = 0;
};

}  // namespace myst::fs

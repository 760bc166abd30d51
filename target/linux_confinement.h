// Self-confinement of the myst process on the linux target (defence in
// depth, beyond Mystikos). On this target the program shares myst's address
// space, so a hostile program can reach the host directly: it can run the
// `syscall` instruction of the always-allowed sigreturn range with its own
// registers, or set its thread's dispatch selector to ALLOW. Hiding those
// addresses would only raise the bar; confinement takes away the effect.
// Once start-up is done, myst restricts itself with
// - Landlock (Linux 5.13): host files only beneath the paths the operator
//   granted for run time (hostfs sources, mountable paths); images, config and
//   key files are already open or read by then, and an open fd stays usable;
// - seccomp: only the host calls the target makes (one list, in
//   linux_seccomp.cpp), so no execve, ptrace, process_vm_*, mount, bpf ...
// Both are inherited by every host thread myst starts later, and both hold
// for the escaped program as for myst, which is the point.
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <span>
#include <string>
#include <vector>

#include "base/result.h"

namespace myst {

// A host path the program may reach through the kernel at run time: a
// directory and everything beneath it, or one file.
struct HostGrant {
    std::string path;
    bool writable = false;  // create, write, remove, rename; else read only
};

enum class FileConfinement : uint8_t {
    enforced,     // Landlock restricts host file access to the grants
    unavailable,  // the host has no Landlock (Linux < 5.13, or disabled)
};

// The Landlock ABI version of the host kernel; 0 when it has none.
int landlock_abi_version();

// Restricts the calling thread, and every thread it starts afterwards, to
// the grants. Landlock cannot restrict threads that already run, so this
// fails (EBUSY) unless the caller is the process's only thread. Sets
// no_new_privs, as Landlock requires of an unprivileged process.
Result<FileConfinement> confine_host_files(std::span<const HostGrant> grants);

// The seccomp program: arch check, the allow-list, EPERM for the rest.
// `process_id` is the one process host signals may be sent to.
std::vector<struct sock_filter> host_syscall_filter(pid_t process_id);

// Installs host_syscall_filter(getpid()) on every thread of the process
// (SECCOMP_FILTER_FLAG_TSYNC) after setting no_new_privs.
Result<void> confine_host_syscalls();

}  // namespace myst

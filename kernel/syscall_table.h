// The system-call table: number -> handler, strace name, argument formats
// and support status, generated from the per-family lists in
// kernel/syscalls/list_*.h. The only place where a Result becomes -errno.
#pragma once

#include <cstdint>

#include "base/result.h"
#include "kernel/syscall_args.h"

namespace myst::kernel {

class Thread;

enum class Support { supported, partial };

using SyscallFunction = Result<long> (*)(Thread&, const SyscallArgs&);

struct SyscallEntry {
    const char* name = nullptr;  // nullptr: not implemented (ENOSYS)
    SyscallFunction handler = nullptr;
    const char* formats = "";  // one letter per argument, see syscalls/README.md
    Support support = Support::supported;
};

// Past Linux's numbers (under 512) and Mystikos's own (1001 to 1035,
// include/myst/tee.h) and the kernel's private SYS_myst_program_call_return.
constexpr long max_syscall_number = 1041;

// nullptr for numbers outside the table.
const SyscallEntry* find_syscall(long number);
// Linux's name for any x86-64 syscall number, implemented or not; nullptr
// for numbers Linux does not define.
const char* linux_syscall_name(long number);

// Runs one system call for `thread` and returns the value for RAX (-errno on
// failure), tracing it when strace is on.
long dispatch_syscall(Thread& thread, long number, const SyscallArgs& args);

}  // namespace myst::kernel

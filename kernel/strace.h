// --strace: one line per system call on stderr, strace-style:
//   [pid 10] openat(AT_FDCWD, "/etc/motd", 0x0) = 3
//   [pid 10] open("/nope", 0x0) = -1 ENOENT (No such file or directory)
#pragma once

#include <string>

#include "kernel/kernel.h"
#include "kernel/syscall_args.h"
#include "kernel/syscall_table.h"

namespace myst::kernel {

class Thread;

class Strace {
public:
    explicit Strace(StraceConfig config) : m_config(std::move(config)) {}

    // Whether the call is traced at all (strace on and the filter allows it).
    bool wants(const char* name) const;
    // The "name(arguments" part, read before the call changes memory.
    std::string format_call(Thread& thread, long number, const SyscallEntry* entry,
                            const SyscallArgs& args) const;
    // Completes and prints the line (unless only failures are wanted).
    void report(Thread& thread, const std::string& call, long result) const;
    // For calls that never return (exit, exit_group): "call) = ?".
    void report_no_return(Thread& thread, const std::string& call) const;

    bool enabled() const { return m_config.enabled; }

private:
    StraceConfig m_config;
};

}  // namespace myst::kernel

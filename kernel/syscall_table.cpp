#include "kernel/syscall_table.h"

#include <sys/syscall.h>

#include <array>

#include "kernel/kernel.h"
#include "kernel/strace.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"

namespace myst::kernel {

namespace {

using SyscallTable = std::array<SyscallEntry, max_syscall_number>;

constexpr SyscallTable build_table() {
    SyscallTable table{};
#define MYST_TABLE_ENTRY(name, handler, formats, support) \
    table[SYS_##name] = SyscallEntry{#name, handler, formats, Support::support};
    MYST_CORE_SYSCALLS(MYST_TABLE_ENTRY)
    MYST_FILE_SYSCALLS(MYST_TABLE_ENTRY)
    MYST_THREAD_SYSCALLS(MYST_TABLE_ENTRY)
    MYST_PROCESS_SYSCALLS(MYST_TABLE_ENTRY)
    MYST_WAIT_SYSCALLS(MYST_TABLE_ENTRY)
    MYST_SHARED_MEMORY_SYSCALLS(MYST_TABLE_ENTRY)
    MYST_SOCKET_SYSCALLS(MYST_TABLE_ENTRY)
    MYST_TEE_SYSCALLS(MYST_TABLE_ENTRY)
    MYST_IPC_SYSCALLS(MYST_TABLE_ENTRY)
#undef MYST_TABLE_ENTRY
    return table;
}

constexpr SyscallTable syscall_table = build_table();

long to_abi(Result<long> result) {
    if (result.is_error()) {
        int code = result.error().code();
        return -(code > 0 ? code : EIO);
    }
    return result.value();
}

}  // namespace

const char* linux_syscall_name(long number) {
    static constexpr auto names = [] {
        std::array<const char*, max_syscall_number> table{};
#define MYST_SYSCALL_NAME(number, name) table[number] = #name;
#include "kernel/syscall_names.inc"
#undef MYST_SYSCALL_NAME
        return table;
    }();
    if (number < 0 || number >= max_syscall_number)
        return nullptr;
    return names[static_cast<size_t>(number)];
}

const SyscallEntry* find_syscall(long number) {
    if (number < 0 || number >= max_syscall_number)
        return nullptr;
    return &syscall_table[static_cast<size_t>(number)];
}

long dispatch_syscall(Thread& thread, long number, const SyscallArgs& args) {
    const SyscallEntry* entry = find_syscall(number);
    Strace& strace = thread.kernel().strace();
    // Calls the kernel lacks are always reported when tracing, filter or not.
    bool missing = !entry || !entry->handler;
    bool traced = strace.enabled() && (missing || strace.wants(entry->name));
    std::string call;
    if (traced) {
        call = strace.format_call(thread, number, entry, args);
        if (number == SYS_exit || number == SYS_exit_group)
            strace.report_no_return(thread, call);
    }
    long result = missing ? -ENOSYS : to_abi(entry->handler(thread, args));
    if (traced)
        strace.report(thread, call, result);
    return result;
}

}  // namespace myst::kernel

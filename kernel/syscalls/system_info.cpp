// What the program learns about the system: uname, sysinfo, randomness.
#include <sys/sysinfo.h>
#include <sys/utsname.h>

#include <cstring>
#include <vector>

#include "kernel/kernel.h"
#include "kernel/memory_manager.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

void set_field(char* field, const std::string& value) {
    std::strncpy(field, value.c_str(), _UTSNAME_LENGTH - 1);
    field[_UTSNAME_LENGTH - 1] = '\0';
}

}  // namespace

// Uname implements Linux syscall uname(2); /proc/sys/kernel tells the same
// (kernel_instance.cpp).
Result<long> sys_uname(Thread& thread, const SyscallArgs& args) {
    struct utsname name {};
    set_field(name.sysname, "Linux");
    set_field(name.nodename, thread.kernel().system.hostname);
    set_field(name.release, kKernelRelease);
    set_field(name.version, kKernelVersion);
    set_field(name.machine, "x86_64");
    set_field(name.domainname, thread.kernel().system.domainname);
    TRY(write_user(thread, args.address(0), name));
    return 0;
}

// Sysinfo implements Linux syscall sysinfo(2); memory figures are the
// program's budget.
Result<long> sys_sysinfo(Thread& thread, const SyscallArgs& args) {
    MemoryManager& memory = thread.kernel().memory();
    struct sysinfo info {};
    auto uptime = thread.kernel().target().clock_time(CLOCK_MONOTONIC);
    info.uptime = uptime.is_error() ? 0 : uptime.value().tv_sec;
    info.totalram = memory.region_end() - memory.region_start();
    uint64_t used = memory.committed_bytes();
    info.freeram = info.totalram > used ? info.totalram - used : 0;
    info.procs = 1;
    info.mem_unit = 1;
    TRY(write_user(thread, args.address(0), info));
    return 0;
}

// Getrandom implements Linux syscall getrandom(2).
Result<long> sys_getrandom(Thread& thread, const SyscallArgs& args) {
    uint64_t size = std::min<uint64_t>(args.size(1), 32 * 1024 * 1024);
    std::vector<uint8_t> bytes(size);
    TRY(thread.kernel().target().random_bytes(bytes));
    TRY(copy_to_user(thread, args.address(0), bytes.data(), bytes.size()));
    return static_cast<long>(size);
}

}  // namespace myst::kernel

// The kernel object: owns everything the kernel knows (memory, file
// systems, processes) — the only home of kernel-wide mutable state.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/memory_charge.h"
#include "base/result.h"
#include "blk/image_device.h"
#include "entry/entry.h"
#include "kernel/kernel_lock.h"
#include "kernel/memory_manager.h"
#include "kernel/tee_credentials.h"
#include "target/target.h"

namespace myst::fs {
class Vfs;
}

namespace myst::kernel {

struct IpcNamespace;
class MemoryManager;
class MemoryTurns;
class PipeRegistry;
class Process;
class ProcessTable;
class SharedMemoryRegistry;
class Strace;
class UnixNames;

struct StraceConfig {
    bool enabled = false;
    bool failing_only = false;  // --strace-failing
    std::vector<std::string>
        only_names;  // --strace-filter 'SYS_open:SYS_read' (names without SYS_)
};

// Mystikos's ForkMode values (kernel/memory_image.h has the model). pseudo:
// parent and child both run, each on its own copy of its memory, taking
// turns on the pages. pseudo_wait_for_exit_exec: the parent waits in fork
// while its child runs, until the child execs or exits; then the parent
// gets its memory back as it was at fork. none: fork is ENOTSUP.
// (Mystikos's "pseudo" runs both on one copy of the memory; myst's gives
// each its own, as Linux does.)
enum class ForkMode { pseudo, pseudo_wait_for_exit_exec, none };

// The kernel release and version uname(2) and /proc/sys/kernel give: a
// fixed modern Linux, so libcs enable the features the kernel serves.
inline constexpr const char* kKernelRelease = "6.1.0-myst";
inline constexpr const char* kKernelVersion = "#1 SMP myst";
inline constexpr const char* kKernelDomainName = "(none)";

struct KernelConfig {
    uint64_t memory_size = 512ull << 20;
    // How the syscall entry switches FS (entry::host_fs_switch() picks the
    // fast one where the host has FSGSBASE); arch_prctl works everywhere.
    entry::FsSwitch fs_switch = entry::FsSwitch::arch_prctl;
    // uname's nodename and /proc/sys/kernel/hostname (config "Hostname").
    std::string hostname = "myst";
    // Program threads alive at once: each costs ~0.5 MiB of host memory
    // outside the budget (its kernel signal stack and host stack).
    unsigned max_threads = 1024;
    StraceConfig strace;
    // The caches of the ext2 images the program mounts with mount(2), all
    // together: each may grow to this, and they share it (Kernel::
    // mounted_image_caches), so mounting many images does not multiply it.
    uint64_t image_cache_bytes = blk::default_image_cache_bytes;
    // Mystikos's ForkMode: how fork(2) runs the child in the one address
    // space (kernel/process_lifecycle.h).
    ForkMode fork_mode = ForkMode::pseudo;
    // Processes alive (or zombie) at once; fork past it is EAGAIN.
    unsigned max_processes = 256;
    blk::ImageTrust image_trust{.root_hashes = {}, .public_keys = {}, .trust_image_fssig = true};
    // The host paths the program may mount(2) as ext2 or hostfs: canonical
    // (realpath) host paths, each allowing itself and what is beneath it.
    // The operator names them (--mount sources, config Mount sources,
    // MountablePaths, --allow-mount-source); empty: none.
    std::vector<std::string> mountable_paths;
    // The most kernel memory all pipe buffers together may take (see
    // kernel/pipe.h): past it new pipes get one page, then ENFILE.
    uint64_t pipe_buffer_limit = 64ull << 20;
    // AF_INET/AF_INET6 sockets on the loopback only (--loopback-only; see
    // kernel/host_socket.h); else whatever the host lets myst reach.
    bool loopback_only = false;
    // The application's identity in its TEE reports (kernel/tee_runtime.h):
    // a package's signed measurement, signer, ProductID and
    // SecurityVersion; zeros where nothing is signed.
    TeeIdentity tee_identity;
};

// The system-wide settings a privileged program may change (under the
// kernel lock): uname's names (sethostname, setdomainname) and the kernel
// log's console level (syslog).
struct SystemSettings {
    std::string hostname;  // starts as KernelConfig::hostname
    std::string domainname = kKernelDomainName;
    int console_loglevel = 7;         // CONSOLE_LOGLEVEL_DEFAULT
    int saved_console_loglevel = -1;  // syslog's CONSOLE_OFF saved it; -1: none
};

class Kernel {
public:
    virtual ~Kernel() = default;
    virtual Target& target() = 0;
    virtual fs::Vfs& vfs() = 0;
    virtual MemoryManager& memory() = 0;
    virtual Strace& strace() = 0;
    virtual const KernelConfig& config() const = 0;
    // Whether [address, address+size) is readable and writable program memory.
    virtual bool memory_accessible(uint64_t address, uint64_t size) = 0;
    // The big kernel lock (kernel/kernel_lock.h: what it guards, the order).
    virtual KernelLock& lock() = 0;
    // Kernel-wide pipe state: the buffer budget, pipefs inode numbers.
    virtual PipeRegistry& pipes() = 0;
    // The names AF_UNIX sockets are bound to (kernel/unix_names.h).
    virtual UnixNames& unix_names() = 0;
    // A new id in the kernel's pid space (processes and threads share it).
    virtual pid_t allocate_pid() = 0;
    // A new memory space for a program image (exec).
    virtual SpaceId allocate_space() = 0;
    virtual ProcessTable& processes() = 0;
    // SysV shared memory segments and memfds.
    virtual SharedMemoryRegistry& shared_memory() = 0;
    // SysV semaphores and message queues, POSIX message queues
    // (kernel/ipc_namespace.h).
    virtual IpcNamespace& ipc() = 0;
    // The processes of one space taking turns on its pages (fork).
    virtual MemoryTurns& memory_turns() = 0;
    // What the caches of images mounted with mount(2) take their memory
    // from (KernelConfig::image_cache_bytes in all).
    virtual const std::shared_ptr<MemoryCharge>& mounted_image_caches() = 0;

    // Whether this run has said on stderr that its TEE credentials are
    // simulated (kernel/tee_runtime.cpp); under the kernel lock.
    bool simulated_tee_announced = false;
    SystemSettings system;
};

}  // namespace myst::kernel

// The kernel as `myst exec-linux` runs it: one object owning the target
// reference, the memory budget, the file systems and the processes.
#pragma once

#include <memory>

#include "kernel/elf_loader.h"
#include "kernel/ipc_namespace.h"
#include "kernel/kernel.h"
#include "kernel/memory_image.h"
#include "kernel/memory_manager.h"
#include "kernel/pipe.h"
#include "kernel/process_table.h"
#include "kernel/strace.h"
#include "kernel/unix_names.h"

namespace myst::fs {
class FileSystem;
class ProcessInfo;
}  // namespace myst::fs

namespace myst::kernel {

class Process;

struct FirstProcess {
    ExecRequest exec;
    std::string working_directory = "/";
};

class KernelInstance final : public Kernel {
public:
    // Reserves the memory budget, installs the syscall entry and makes
    // `root` the root file system. The caller mounts the others on vfs()
    // before running anything.
    static Result<std::unique_ptr<KernelInstance>> create(Target& target, KernelConfig config,
                                                          std::shared_ptr<fs::FileSystem> root);
    ~KernelInstance() override;

    Target& target() override { return m_target; }
    fs::Vfs& vfs() override { return *m_vfs; }
    MemoryManager& memory() override { return *m_memory; }
    Strace& strace() override { return m_strace; }
    const KernelConfig& config() const override { return m_config; }
    bool memory_accessible(uint64_t address, uint64_t size) override {
        return m_memory->is_accessible(address, size, true);
    }
    KernelLock& lock() override { return m_lock; }
    PipeRegistry& pipes() override { return m_pipes; }
    UnixNames& unix_names() override { return m_unix_names; }
    pid_t allocate_pid() override { return m_next_pid++; }
    SpaceId allocate_space() override { return m_next_space++; }
    ProcessTable& processes() override { return m_processes; }
    SharedMemoryRegistry& shared_memory() override { return *m_shared_memory; }
    IpcNamespace& ipc() override { return *m_ipc; }
    MemoryTurns& memory_turns() override { return m_memory_turns; }
    const std::shared_ptr<MemoryCharge>& mounted_image_caches() override {
        return m_mounted_image_caches;
    }

    // What /proc shows about the processes.
    fs::ProcessInfo& process_info() { return *m_process_info; }

    // Loads and runs the first program on the calling host thread; returns
    // its exit status (128+signal when a signal ended it).
    Result<int> run_first_process(const FirstProcess& first);

private:
    KernelInstance(Target& target, KernelConfig config);

    KernelLock m_lock;
    pid_t m_next_pid = 11;  // after the first process's pid (10)
    SpaceId m_next_space = first_space + 1;
    Target& m_target;
    KernelConfig m_config;
    Strace m_strace;
    std::unique_ptr<MemoryManager> m_memory;
    MemoryTurns m_memory_turns{*this};
    PipeRegistry m_pipes;
    std::shared_ptr<MemoryCharge> m_mounted_image_caches;
    UnixNames m_unix_names;
    std::unique_ptr<fs::Vfs> m_vfs;
    // Before the processes: the queues their descriptors hold go first.
    std::unique_ptr<IpcNamespace> m_ipc;
    ProcessTable m_processes;
    std::unique_ptr<fs::ProcessInfo> m_process_info;
    std::unique_ptr<SharedMemoryRegistry> m_shared_memory;
};

}  // namespace myst::kernel

#include "kernel/kernel_instance.h"

#include "entry/entry.h"
#include "fs/procfs/process_info.h"
#include "fs/vfs/vfs.h"
#include "kernel/fs_context.h"
#include "kernel/process.h"
#include "kernel/signal_delivery.h"
#include "kernel/syscall_table.h"
#include "kernel/thread.h"
#include "kernel/thread_lifecycle.h"

namespace myst::kernel {

namespace {

// The first program's pid: small and the same every run (not the host's).
constexpr pid_t first_pid = 10;
constexpr pid_t first_parent_pid = 1;

std::string file_name_of(const std::string& path) {
    size_t slash = path.rfind('/');
    return (slash == std::string::npos ? path : path.substr(slash + 1)).substr(0, 15);
}

// /proc's view of the kernel's processes (one process for now).
class KernelProcessInfo final : public fs::ProcessInfo {
public:
    KernelProcessInfo(KernelInstance& kernel, std::unique_ptr<Process>& process)
        : m_kernel(kernel), m_process(process) {}

    pid_t current_pid() override { return m_process ? m_process->pid() : first_pid; }
    std::vector<pid_t> pids() override {
        return m_process ? std::vector<pid_t>{m_process->pid()} : std::vector<pid_t>{};
    }

    Result<fs::ProcessStatus> status(pid_t pid) override {
        Process& process = *TRY(find(pid));
        fs::ProcessStatus status;
        status.name = file_name_of(process.executable_path());
        status.pid = process.pid();
        status.parent_pid = process.parent_pid();
        const Credentials& c = process.credentials();
        status.uid = c.uid, status.euid = c.euid, status.suid = c.suid;
        status.gid = c.gid, status.egid = c.egid, status.sgid = c.sgid;
        status.virtual_memory_bytes = status.resident_memory_bytes =
            m_kernel.memory().committed_bytes();
        return status;
    }
    Result<std::string> executable_path(pid_t pid) override {
        return TRY(find(pid))->executable_path();
    }
    Result<std::string> cwd_path(pid_t pid) override {
        Process& process = *TRY(find(pid));
        return process.fs().cwd()->to_string(process.fs().root().get());
    }
    Result<std::string> maps(pid_t pid) override {
        TRY(find(pid));
        return m_kernel.memory().format_maps();
    }
    Result<std::string> cmdline(pid_t pid) override { return TRY(find(pid))->command_line(); }
    Result<std::string> environ(pid_t pid) override { return TRY(find(pid))->environment_block(); }
    Result<std::vector<int>> open_fds(pid_t pid) override {
        return TRY(find(pid))->fs().fds.open_fds();
    }
    Result<std::shared_ptr<fs::OpenFile>> open_file(pid_t pid, int fd) override {
        return TRY(find(pid))->fs().fds.get(fd);
    }
    fs::MemoryInfo memory_info() override {
        MemoryManager& memory = m_kernel.memory();
        uint64_t total = memory.region_end() - memory.region_start();
        uint64_t used = memory.committed_bytes();
        return {total, total > used ? total - used : 0};
    }

private:
    Result<Process*> find(pid_t pid) {
        if (!m_process || m_process->pid() != pid)
            return Error(ESRCH, "no such process");
        return m_process.get();
    }

    KernelInstance& m_kernel;
    std::unique_ptr<Process>& m_process;
};

}  // namespace

KernelInstance::KernelInstance(Target& target, KernelConfig config)
    : m_target(target),
      m_config(std::move(config)),
      m_strace(m_config.strace),
      m_pipes(m_config.pipe_buffer_limit) {}

KernelInstance::~KernelInstance() = default;

Result<std::unique_ptr<KernelInstance>> KernelInstance::create(
    Target& target, KernelConfig config, std::shared_ptr<fs::FileSystem> root) {
    auto kernel = std::unique_ptr<KernelInstance>(new KernelInstance(target, std::move(config)));
    TRY(entry::install_syscall_capture(kernel->m_config.fs_switch));
    kernel->m_memory = TRY(MemoryManager::create(target, kernel->m_config.memory_size));
    kernel->m_vfs = TRY(fs::Vfs::create(std::move(root), fs::clock_from_target(target)));
    // FIFOs on any file system are the kernel's pipes.
    kernel->m_vfs->set_fifo_opener(
        [&pipes = kernel->m_pipes, &target](const fs::PathRef& node, int flags) {
            return open_fifo(pipes, target, node, flags);
        });
    kernel->m_process_info = std::make_unique<KernelProcessInfo>(*kernel, kernel->m_first_process);
    return kernel;
}

Result<int> KernelInstance::run_first_process(const FirstProcess& first) {
    auto context = create_fs_context(*m_vfs, first.working_directory);
    if (context.is_error())
        return context.release_error().with_context("working directory " + first.working_directory);
    TRY(install_standard_streams(*context.value(), m_target));
    m_first_process =
        std::make_unique<Process>(first_pid, first_parent_pid, context.release_value());
    Thread& thread =
        *m_first_process->threads()
             .emplace(first_pid, std::make_unique<Thread>(*this, *m_first_process, first_pid))
             .first->second;

    ExecRequest exec = first.exec;
    exec.vdso = m_target.vdso_address();
    // The program may read the vDSO as on Linux (copy_from_user too).
    m_memory->add_host_readable(exec.vdso, vdso_image_size(exec.vdso));
    exec.stack_size = m_first_process->limits()[RLIMIT_STACK].rlim_cur;
    TRY(m_target.random_bytes(exec.random));
    auto reader = [&](const std::string& path) { return open_executable(thread, path); };
    LoadedProgram program = TRY(load_program(*m_memory, reader, exec));
    m_first_process->set_executable_path(program.executable_path);
    m_first_process->set_command_line(exec.arguments, exec.environment);

    return run_first_thread(thread, program.entry_point, program.stack_pointer);
}

}  // namespace myst::kernel

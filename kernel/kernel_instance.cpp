#include "kernel/kernel_instance.h"

#include <linux/futex.h>

#include <climits>

#include "entry/entry.h"
#include "fs/procfs/process_info.h"
#include "fs/vfs/vfs.h"
#include "kernel/fs_context.h"
#include "kernel/process.h"
#include "kernel/process_lifecycle.h"
#include "kernel/shared_memory.h"
#include "kernel/signal_delivery.h"
#include "kernel/syscall_table.h"
#include "kernel/tee_runtime.h"
#include "kernel/thread.h"
#include "kernel/thread_lifecycle.h"

namespace myst::kernel {

namespace {

std::string file_name_of(const std::string& path) {
    size_t slash = path.rfind('/');
    return (slash == std::string::npos ? path : path.substr(slash + 1)).substr(0, 15);
}

// /proc's view of the kernel's processes.
class KernelProcessInfo final : public fs::ProcessInfo {
public:
    explicit KernelProcessInfo(KernelInstance& kernel) : m_kernel(kernel) {}

    // The process of the thread reading /proc (the first one when the
    // reader is not a program thread, as in tests).
    pid_t current_pid() override {
        entry::EntryState* state = entry::current_entry_state_or_null();
        auto* thread = static_cast<Thread*>(state ? state->thread : nullptr);
        return thread ? thread->process().pid() : first_process_pid;
    }
    std::vector<pid_t> pids() override {
        std::vector<pid_t> pids;
        for (Process* process : m_kernel.processes().all())
            pids.push_back(process->pid());
        return pids;
    }

    Result<fs::ProcessStatus> status(pid_t pid) override {
        Process& process = *TRY(find(pid));
        fs::ProcessStatus status;
        Thread* leader = process.find_thread(process.pid());
        status.name = leader ? leader->name : file_name_of(process.executable_path());
        status.pid = process.pid();
        status.parent_pid = process.parent_pid();
        const Credentials& c = process.credentials();
        status.uid = c.uid, status.euid = c.euid, status.suid = c.suid;
        status.gid = c.gid, status.egid = c.egid, status.sgid = c.sgid;
        status.state = process.ended ? 'Z' : 'R';
        status.threads = static_cast<int>(process.threads().size());
        status.group_id = process.group_id;
        status.session_id = process.session_id;
        status.virtual_memory_bytes = status.resident_memory_bytes =
            process.ended ? 0 : m_kernel.memory().space_bytes(process.space);
        return status;
    }
    Result<std::vector<pid_t>> thread_ids(pid_t pid) override {
        std::vector<pid_t> tids;
        for (auto& [tid, thread] : TRY(find(pid))->threads())
            if (!thread->exit_started)
                tids.push_back(tid);
        return tids;
    }
    Result<fs::ProcessStatus> thread_status(pid_t pid, pid_t tid) override {
        fs::ProcessStatus status = TRY(this->status(pid));
        Thread* thread = TRY(find(pid))->find_thread(tid);
        if (!thread || thread->exit_started)
            return Error(ESRCH, "no such thread");
        status.thread_id = tid;
        status.name = thread->name;
        return status;
    }
    Result<std::string> executable_path(pid_t pid) override {
        return TRY(find(pid))->executable_path();
    }
    Result<std::string> cwd_path(pid_t pid) override {
        Process& process = *TRY(find(pid));
        return process.fs().cwd()->to_string(process.fs().root().get());
    }
    Result<std::string> root_path(pid_t pid) override {
        fs::PathRef root = TRY(find(pid))->fs().root();
        Process& reader = *TRY(find(current_pid()));
        return root->to_string(reader.fs().root().get());
    }
    fs::PathRef root_node(pid_t pid) override {
        auto process = find(pid);
        return process.is_error() ? nullptr : process.value()->fs().root();
    }
    Result<std::string> maps(pid_t pid) override {
        Process& process = *TRY(find(pid));
        return process.ended ? std::string() : m_kernel.memory().format_maps(process.space);
    }
    Result<std::string> cmdline(pid_t pid) override { return TRY(find(pid))->command_line(); }
    Result<std::string> environ(pid_t pid) override { return TRY(find(pid))->environment_block(); }
    Result<std::vector<int>> open_fds(pid_t pid) override {
        return TRY(find(pid))->fs().fds.open_fds();
    }
    Result<std::shared_ptr<fs::OpenFile>> open_file(pid_t pid, int fd) override {
        return TRY(find(pid))->fs().fds.get(fd);
    }
    fs::SystemNames system_names() override {
        return {.hostname = m_kernel.system.hostname,
                .domainname = m_kernel.system.domainname,
                .ostype = "Linux",
                .osrelease = kKernelRelease,
                .version = kKernelVersion};
    }
    fs::MemoryInfo memory_info() override {
        MemoryManager& memory = m_kernel.memory();
        uint64_t total = memory.region_end() - memory.region_start();
        uint64_t used = memory.committed_bytes();
        return {total, total > used ? total - used : 0};
    }

private:
    Result<Process*> find(pid_t pid) {
        Process* process = m_kernel.processes().find(pid);
        if (!process)
            return Error(ESRCH, "no such process");
        return process;
    }

    KernelInstance& m_kernel;
};

}  // namespace

KernelInstance::KernelInstance(Target& target, KernelConfig config)
    : m_target(target),
      m_config(std::move(config)),
      m_strace(m_config.strace),
      m_pipes(m_config.pipe_buffer_limit),
      m_mounted_image_caches(std::make_shared<CappedCharge>(nullptr, m_config.image_cache_bytes)) {
    system.hostname = m_config.hostname;
}

KernelInstance::~KernelInstance() {
    // Mapped files write their shared pages back while their file systems
    // are still there (members go in reverse order: the VFS before memory).
    m_shared_memory.reset();
    if (m_memory)
        m_memory->release_shared_pages();
}

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
    // A file lock that goes wakes the threads blocked in F_SETLKW or flock.
    kernel->m_vfs->locks().set_waker([&target](uint32_t* word) {
        (void)target.futex(word, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0, nullptr);
    });
    kernel->m_process_info = std::make_unique<KernelProcessInfo>(*kernel);
    kernel->m_ipc = std::make_unique<IpcNamespace>(target, *kernel->m_memory);
    kernel->m_shared_memory = std::make_unique<SharedMemoryRegistry>(target, *kernel->m_memory,
                                                                     fs::clock_from_target(target));
    return kernel;
}

Result<int> KernelInstance::run_first_process(const FirstProcess& first) {
    auto context = create_fs_context(*m_vfs, first.working_directory);
    if (context.is_error())
        return context.release_error().with_context("working directory " + first.working_directory);
    TRY(install_standard_streams(*context.value(), m_target));
    // Before the program runs, as Mystikos does at boot.
    TRY(write_tee_credential_files(*this, first.exec.environment));
    Process& first_process = m_processes.add(
        std::make_unique<Process>(first_process_pid, init_pid, context.release_value()));
    // A group leader in a session it does not lead, as a program a shell
    // starts: setpgid(0, 0) works and setsid(2) is EPERM, as there.
    first_process.session_id = init_pid;
    Thread& thread = *first_process.threads()
                          .emplace(first_process_pid, std::make_unique<Thread>(*this, first_process,
                                                                               first_process_pid))
                          .first->second;

    ExecRequest exec = first.exec;
    exec.vdso = m_target.vdso_address();
    set_identity(exec, first_process.credentials());
    // The program may read the vDSO as on Linux (copy_from_user too).
    m_memory->add_host_readable(exec.vdso, vdso_image_size(exec.vdso));
    exec.stack_size = first_process.limits()[RLIMIT_STACK].rlim_cur;
    TRY(m_target.random_bytes(exec.random));
    auto reader = [&](const std::string& path) { return open_executable(thread, path); };
    LoadedProgram program = TRY(load_program(*m_memory, reader, exec));
    first_process.set_executable_path(program.executable_path);
    first_process.set_command_line(exec.arguments, exec.environment);

    return run_first_thread(thread, program.entry_point, program.stack_pointer);
}

}  // namespace myst::kernel

// A process: what its threads share (files, credentials, identity). All
// processes live in the one address space of the kernel (Mystikos model).
#pragma once

#include <sys/types.h>

#include <signal.h>
#include <sys/resource.h>

#include <array>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kernel/memory_image.h"
#include "kernel/memory_manager.h"

namespace myst::kernel {

struct FsContext;  // kernel/fs_context.h: root, cwd, umask, descriptor table
class Thread;
class Kernel;
class ProcessTimers;
class SignalFile;
class PidFile;

// Linux 6.1's capabilities: CAP_CHOWN (0) to CAP_CHECKPOINT_RESTORE (40).
inline constexpr int kLastCapability = 40;
inline constexpr uint64_t kAllCapabilities = (2ull << kLastCapability) - 1;

// A process's ids, as Linux's struct cred: file access uses fsuid/fsgid,
// which follow the effective ids unless setfsuid/setfsgid moved them.
struct Credentials {
    uid_t uid = 0, euid = 0, suid = 0, fsuid = 0;
    gid_t gid = 0, egid = 0, sgid = 0, fsgid = 0;
    std::vector<gid_t> groups;  // supplementary groups
    // capabilities(7) sets, bit = capability number (kernel/capabilities.h):
    // the first process is root and has every capability, as Linux's root.
    uint64_t cap_permitted = kAllCapabilities, cap_effective = kAllCapabilities;
    uint64_t cap_inheritable = 0;
};

// rt_sigaction(2)'s struct, as the program passes it.
struct SignalAction {
    uint64_t handler = 0;  // SIG_DFL (0), SIG_IGN (1) or a program address
    uint64_t flags = 0;
    uint64_t restorer = 0;
    uint64_t mask = 0;
};

constexpr int signal_count = 65;  // 1..64

class Process {
public:
    Process(pid_t pid, pid_t parent_pid, std::unique_ptr<FsContext> fs);
    ~Process();

    pid_t pid() const { return m_pid; }
    pid_t parent_pid() const { return m_parent_pid; }
    // The parent ended first: init (pid 1, which myst does not run) adopts it.
    void set_parent_pid(pid_t parent) { m_parent_pid = parent; }
    FsContext& fs() { return *m_fs; }
    Credentials& credentials() { return m_credentials; }
    // The program's path inside the image, as /proc/self/exe shows it.
    const std::string& executable_path() const { return m_executable_path; }
    void set_executable_path(std::string path) { m_executable_path = std::move(path); }
    // /proc/<pid>/cmdline and environ: each string NUL-terminated.
    const std::string& command_line() const { return m_command_line; }
    const std::string& environment_block() const { return m_environment_block; }
    void set_command_line(const std::vector<std::string>& arguments,
                          const std::vector<std::string>& environment);
    // fork(2): what a child starts with of its parent (ids, credentials,
    // program, signal dispositions, limits, group, session, memory space).
    void inherit_from(const Process& parent);
    // execve(2): handlers go back to SIG_DFL (ignored signals stay ignored).
    void reset_signal_handlers();
    std::array<SignalAction, signal_count>& signal_actions() { return m_signal_actions; }
    std::array<struct rlimit, RLIM_NLIMITS>& limits() { return m_limits; }

    // The process's threads by tid, the first one included (guarded by the
    // kernel lock). A thread's entry leaves when its host thread ends.
    std::map<pid_t, std::unique_ptr<Thread>>& threads() { return m_threads; }
    Thread* find_thread(pid_t tid);
    // alarm/setitimer/timer_create (kernel/process_timers.h), made on first use.
    ProcessTimers& timers(Kernel& kernel);
    // The timers leave with the process; their host thread is joined by
    // destroying them without the kernel lock held (it takes that lock).
    std::unique_ptr<ProcessTimers> take_timers();
    // execve(2) deletes the POSIX timers (not alarm or setitimer's).
    void delete_posix_timers();

    // Process-directed signals no thread could take yet (all blocked them):
    // bit (signal - 1), and what each was sent with.
    uint64_t pending_signals = 0;
    siginfo_t pending_info[65] = {};
    // The process's signalfds, told when its pending signals change
    // (kernel/event_files.h).
    std::vector<std::weak_ptr<SignalFile>> signal_files;
    // pidfd_open(2)'s descriptors of this process, told when it ends
    // (kernel/pid_file.h).
    std::vector<std::weak_ptr<PidFile>> pid_files;
    bool membarrier_registered = false;  // MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED
    // The status the process ends with, encoded as wait(2) reports it
    // (kernel/process_lifecycle.h): its first thread's exit(2) code, or the
    // exit_group/fatal-signal status.
    int wait_status = 0;
    // Process group and session (setpgid, setsid): inherited at fork.
    pid_t group_id = 0;
    pid_t session_id = 0;
    // The program image's memory (kernel/memory_manager.h). A child of fork
    // or vfork uses its parent's until it execs; the space goes back to the
    // budget when the last process using it execs or ends.
    SpaceId space = first_space;
    // Its copy of the space's memory (kernel/memory_image.h): its own, or
    // its parent's for a vfork/CLONE_VM child; empty once it ended.
    std::shared_ptr<MemoryImage> image = std::make_shared<MemoryImage>();
    // The signal the parent gets when this process ends (clone's CSIGNAL;
    // SIGCHLD for fork), 0 for none.
    int exit_signal = SIGCHLD;
    // A zombie: every thread ended, the parent has not reaped it yet.
    bool ended = false;
    // exit_group or a fatal signal is ending every thread.
    bool dying = false;
    // A vfork-style parent waits on this word (in the parent thread's
    // frame) until the child execs or ends: set to 1 and woken then.
    uint32_t* parent_waiting_word = nullptr;
    // It ran execve since fork: its parent may no longer move its group.
    bool did_exec = false;
    // prctl(PR_SET_PDEATHSIG): the signal this process gets when its parent ends.
    int parent_death_signal = 0;
    // prctl(PR_SET_DUMPABLE), back to 1 at exec; prctl(PR_SET_NO_NEW_PRIVS),
    // kept across fork and exec and never cleared.
    bool dumpable = true;
    bool no_new_privs = false;
    // setpriority(2)'s nice value (-20..19), kept for the whole process
    // (Linux keeps one per thread); inherited at fork, kept across exec.
    int nice = 0;
    // sched_setscheduler(2)/sched_setattr(2): SCHED_OTHER, SCHED_BATCH or
    // SCHED_IDLE (the host schedules every thread alike; the policy is what
    // the program set and reads back), and SCHED_RESET_ON_FORK.
    int sched_policy = 0;
    bool sched_reset_on_fork = false;
    // personality(2): the execution domain (PER_LINUX) and its flags.
    uint32_t personality = 0;
    // mlockall(2)'s MCL_FUTURE and MCL_ONFAULT, as the program set them.
    int mlockall_flags = 0;
    // Bumped and futex-woken when a child ends (wait4 sleeps on it).
    uint32_t child_events = 0;
    // Signalled (with the kernel lock's mutex) when the last thread is gone.
    std::condition_variable threads_gone;

private:
    pid_t m_pid;
    pid_t m_parent_pid;
    std::unique_ptr<FsContext> m_fs;
    Credentials m_credentials;
    std::string m_executable_path;
    std::string m_command_line;
    std::string m_environment_block;
    std::array<SignalAction, signal_count> m_signal_actions{};
    std::array<struct rlimit, RLIM_NLIMITS> m_limits{};
    std::map<pid_t, std::unique_ptr<Thread>> m_threads;
    std::unique_ptr<ProcessTimers> m_timers;  // last: its thread uses the rest
};

}  // namespace myst::kernel

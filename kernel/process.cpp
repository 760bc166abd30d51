#include "kernel/process.h"

#include <algorithm>

#include "kernel/fs_context.h"
#include "kernel/process_timers.h"
#include "kernel/thread.h"

namespace myst::kernel {

namespace {

// Linux's defaults for a new login process, with the stack limit the loader uses.
void set_default_limits(std::array<struct rlimit, RLIM_NLIMITS>& limits) {
    for (struct rlimit& limit : limits)
        limit = {RLIM_INFINITY, RLIM_INFINITY};
    limits[RLIMIT_STACK] = {8ull << 20, RLIM_INFINITY};
    limits[RLIMIT_CORE] = {0, RLIM_INFINITY};
    limits[RLIMIT_NOFILE] = {1024, 1024};
    limits[RLIMIT_NPROC] = {4096, 4096};
    limits[RLIMIT_MEMLOCK] = {8ull << 20, 8ull << 20};
    limits[RLIMIT_SIGPENDING] = {4096, 4096};
    limits[RLIMIT_MSGQUEUE] = {819200, 819200};
    limits[RLIMIT_NICE] = {0, 0};
    limits[RLIMIT_RTPRIO] = {0, 0};
}

std::string join_with_nul(const std::vector<std::string>& strings) {
    std::string block;
    for (const std::string& text : strings) {
        block += text;
        block.push_back('\0');
    }
    return block;
}

}  // namespace

Process::Process(pid_t pid, pid_t parent_pid, std::unique_ptr<FsContext> fs)
    : group_id(pid), session_id(pid), m_pid(pid), m_parent_pid(parent_pid), m_fs(std::move(fs)) {
    set_default_limits(m_limits);
}

Process::~Process() = default;

ProcessTimers& Process::timers(Kernel& kernel) {
    if (!m_timers)
        m_timers = std::make_unique<ProcessTimers>(kernel, *this);
    return *m_timers;
}

void Process::inherit_from(const Process& parent) {
    m_credentials = parent.m_credentials;
    m_executable_path = parent.m_executable_path;
    m_command_line = parent.m_command_line;
    m_environment_block = parent.m_environment_block;
    m_signal_actions = parent.m_signal_actions;
    m_limits = parent.m_limits;
    group_id = parent.group_id;
    session_id = parent.session_id;
    space = parent.space;
    no_new_privs = parent.no_new_privs;
    personality = parent.personality;
    // SCHED_RESET_ON_FORK: the child starts as SCHED_OTHER without a
    // negative nice value (sched(7)).
    nice = parent.sched_reset_on_fork ? std::max(parent.nice, 0) : parent.nice;
    sched_policy = parent.sched_reset_on_fork ? 0 : parent.sched_policy;
}

void Process::reset_signal_handlers() {
    for (SignalAction& action : m_signal_actions)
        if (action.handler != reinterpret_cast<uint64_t>(SIG_IGN))
            action = SignalAction{};
}

std::unique_ptr<ProcessTimers> Process::take_timers() {
    return std::move(m_timers);
}

void Process::delete_posix_timers() {
    if (m_timers)
        m_timers->remove_posix_timers();
}

Thread* Process::find_thread(pid_t tid) {
    auto found = m_threads.find(tid);
    return found == m_threads.end() ? nullptr : found->second.get();
}

void Process::set_command_line(const std::vector<std::string>& arguments,
                               const std::vector<std::string>& environment) {
    m_command_line = join_with_nul(arguments);
    m_environment_block = join_with_nul(environment);
}

}  // namespace myst::kernel

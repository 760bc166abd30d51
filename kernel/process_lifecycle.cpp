#include "kernel/process_lifecycle.h"

#include <linux/futex.h>
#include <sched.h>
#include <signal.h>

#include <climits>

#include "entry/entry.h"
#include "kernel/fs_context.h"
#include "kernel/ipc_namespace.h"
#include "kernel/kernel.h"
#include "kernel/memory_image.h"
#include "kernel/pid_file.h"
#include "kernel/process.h"
#include "kernel/process_table.h"
#include "kernel/process_timers.h"
#include "kernel/signal_delivery.h"
#include "kernel/thread.h"

namespace myst::kernel {

namespace {

void wake_word(Kernel& kernel, uint32_t* word) {
    (void)kernel.target().futex(word, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0, nullptr);
}

// RLIMIT_NPROC counts the processes of the caller's real user (root is
// exempt, as Linux exempts CAP_SYS_RESOURCE), and myst's own table has a
// fixed size: each process costs kernel memory outside the budget.
Result<void> check_process_limits(Kernel& kernel, const Process& parent) {
    if (kernel.processes().size() >= kernel.config().max_processes)
        return Error(EAGAIN, "too many processes (myst's process table is full)");
    uid_t uid = const_cast<Process&>(parent).credentials().uid;
    if (uid == 0)
        return {};
    size_t mine = 0;
    for (Process* process : kernel.processes().all())
        mine += process->credentials().uid == uid;
    if (mine >= const_cast<Process&>(parent).limits()[RLIMIT_NPROC].rlim_cur)
        return Error(EAGAIN, "RLIMIT_NPROC reached");
    return {};
}

// Waits (without the kernel lock) until the child execs or ends; a vfork
// parent cannot be interrupted, as on Linux.
void wait_for_child_release(Thread& parent, uint32_t& word) {
    BlockingScope unlocked(parent);
    while (__atomic_load_n(&word, __ATOMIC_ACQUIRE) == 0)
        (void)parent.kernel().target().futex(&word, FUTEX_WAIT, 0, nullptr, nullptr, 0, nullptr);
}

siginfo_t child_info(Process& child) {
    siginfo_t info{};
    info.si_signo = child.exit_signal;
    info.si_pid = child.pid();
    info.si_uid = child.credentials().uid;
    if (WIFSIGNALED(child.wait_status)) {
        info.si_code = CLD_KILLED;
        info.si_status = WTERMSIG(child.wait_status);
    } else {
        info.si_code = CLD_EXITED;
        info.si_status = WEXITSTATUS(child.wait_status);
    }
    return info;
}

// Orphans go to init, which reaps the zombies among them at once.
void reparent_children(Kernel& kernel, Process& parent) {
    for (Process* child : kernel.processes().children_of(parent.pid())) {
        child->set_parent_pid(init_pid);
        if (child->ended) {
            kernel.processes().remove(child->pid());
        } else if (child->parent_death_signal != 0) {
            siginfo_t info{};
            info.si_signo = child->parent_death_signal;
            info.si_code = SI_USER;
            info.si_pid = parent.pid();
            post_signal_from_kernel(*child, nullptr, child->parent_death_signal, info);
        }
    }
}

// Linux's do_notify_parent(): the parent hears of it (exit_signal) and
// finds a zombie, unless it said it will not reap (SIGCHLD ignored or
// SA_NOCLDWAIT), when the child is reaped at once.
void notify_parent(Kernel& kernel, Process& child) {
    Process* parent = kernel.processes().find(child.parent_pid());
    if (!parent || parent->ended) {
        if (child.pid() != first_process_pid)  // run_first_process reads it
            kernel.processes().remove(child.pid());
        return;
    }
    const SignalAction& action = parent->signal_actions()[SIGCHLD];
    bool no_zombie =
        action.handler == reinterpret_cast<uint64_t>(SIG_IGN) || (action.flags & SA_NOCLDWAIT);
    if (child.exit_signal != 0)
        post_signal_from_kernel(*parent, nullptr, child.exit_signal, child_info(child));
    ++parent->child_events;
    wake_word(kernel, &parent->child_events);
    if (no_zombie)
        kernel.processes().remove(child.pid());
}

}  // namespace

int host_exit_code(int wait_status) {
    return WIFSIGNALED(wait_status) ? 128 + WTERMSIG(wait_status) : WEXITSTATUS(wait_status);
}

size_t running_threads(const Process& process) {
    size_t count = 0;
    for (auto& [tid, thread] : const_cast<Process&>(process).threads())
        count += !thread->exit_started;
    return count;
}

Result<pid_t> fork_process(Thread& parent_thread, uint64_t flags, int exit_signal,
                           const ThreadStart& start) {
    Kernel& kernel = parent_thread.kernel();
    Process& parent = parent_thread.process();
    bool shares_memory = flags & CLONE_VM;
    ForkMode mode = kernel.config().fork_mode;
    if (mode == ForkMode::none && !shares_memory)
        return Error(ENOTSUP, "fork is off (ForkMode none)");
    TRY(check_process_limits(kernel, parent));
    // A parent whose other threads run on cannot leave its pages: its child
    // shares them, as a vfork child does, and the parent waits.
    bool own_image = !shares_memory && running_threads(parent) <= 1;
    bool parent_waits =
        (flags & CLONE_VFORK) || (!shares_memory && (!own_image || mode != ForkMode::pseudo));
    std::shared_ptr<MemoryImage> child_image = parent.image;
    if (own_image) {
        auto forked = kernel.memory_turns().fork_image(parent);
        if (forked.is_error())
            return Error(ENOMEM, "no memory left in the budget for fork");
        child_image = forked.release_value();
    }
    pid_t pid = kernel.allocate_pid();
    auto owned = std::make_unique<Process>(pid, parent.pid(), parent.fs().clone());
    owned->inherit_from(parent);
    owned->image = std::move(child_image);
    owned->exit_signal = exit_signal;
    uint32_t released = 0;
    if (parent_waits)
        owned->parent_waiting_word = &released;
    Process& child = kernel.processes().add(std::move(owned));
    auto started = start_thread(parent_thread, start, &child);
    if (started.is_error()) {
        // The parent's image comes back at its return to the program.
        kernel.memory_turns().leave_image(child);
        kernel.processes().remove(pid);
        return started.release_error();
    }
    // Else (ForkMode pseudo) the child has the pages first: the parent
    // waits for its turn on its way back to the program.
    if (parent_waits)
        wait_for_child_release(parent_thread, released);
    return pid;
}

void release_waiting_parent(Kernel& kernel, Process& process) {
    if (!process.parent_waiting_word)
        return;
    __atomic_store_n(process.parent_waiting_word, 1u, __ATOMIC_RELEASE);
    wake_word(kernel, process.parent_waiting_word);
    process.parent_waiting_word = nullptr;
}

std::unique_ptr<ProcessTimers> end_process(Kernel& kernel, Process& process) {
    process.ended = true;
    notify_pid_files(process);
    std::unique_ptr<ProcessTimers> timers = process.take_timers();
    process.fs().fds.close_all();
    // semop(2)'s SEM_UNDO: what the process did is undone as it ends.
    kernel.ipc().semaphores.process_ended(process.pid());
    kernel.memory_turns().leave_image(process);
    if (!kernel.processes().space_in_use(process.space, &process))
        kernel.memory().release_space(process.space);
    // After the memory: a parent that waited gets its pages back now.
    release_waiting_parent(kernel, process);
    reparent_children(kernel, process);
    notify_parent(kernel, process);  // may destroy `process`
    return timers;
}

void end_process_threads(Kernel& kernel, Process& process, int wait_status) {
    if (!process.dying) {
        process.dying = true;
        process.wait_status = wait_status;
    }
    if (running_threads(process) == 0)
        return;
    // NOTE: the first process's other threads may be anywhere, also in host
    // calls that no signal ends; myst ends at once with the process, as
    // Mystikos does, since its children end with it anyway.
    if (process.pid() == first_process_pid)
        kernel.target().process_exit(host_exit_code(process.wait_status));
    for (auto& [tid, thread] : process.threads()) {
        if (thread->exit_started || thread->exit_requested)
            continue;
        thread->exit_requested = true;
        if (thread->host_tid != 0)
            (void)kernel.target().thread_interrupt(thread->host_tid, entry::interrupt_signal);
    }
}

}  // namespace myst::kernel

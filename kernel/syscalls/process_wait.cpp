// Waiting for children: wait4 and waitid. A child that ended is a zombie
// (kernel/process_lifecycle.h) until a wait reaps it; the waiter sleeps on
// its process's child_events word, which every child's end bumps.
#include <linux/futex.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "kernel/kernel.h"
#include "kernel/process.h"
#include "kernel/process_lifecycle.h"
#include "kernel/process_table.h"
#include "kernel/signal_delivery.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

// Which children a wait is for (wait4's pid, waitid's idtype and id).
struct ChildSelector {
    idtype_t type = P_ALL;
    pid_t id = 0;
    int options = 0;

    bool matches(const Process& child) const {
        if (type == P_PID && child.pid() != id)
            return false;
        if (type == P_PGID && child.group_id != id)
            return false;
        // __WCLONE: only children that signal their end with something other
        // than SIGCHLD; __WALL: all of them.
        if (options & __WALL)
            return true;
        return (child.exit_signal == SIGCHLD) != ((options & __WCLONE) != 0);
    }
};

struct Reaped {
    pid_t pid = 0;  // 0: WNOHANG and nothing ended yet
    int wait_status = 0;
    uid_t uid = 0;
};

// Sleeps (interruptibly, without the kernel lock) until child_events moves
// from `seen`.
Result<void> wait_for_child_event(Thread& thread, uint32_t seen) {
    const uint8_t* interrupted = TRY(begin_interruptible_wait(thread));
    BlockingScope waiting(thread);
    auto woken = thread.kernel().target().futex(&thread.process().child_events, FUTEX_WAIT, seen,
                                                nullptr, nullptr, 0, interrupted);
    if (woken.is_error() && woken.error().code() == EINTR)
        return Error(EINTR, "a signal arrived");
    return {};
}

Result<Reaped> wait_for_child(Thread& thread, const ChildSelector& selector) {
    ProcessTable& processes = thread.kernel().processes();
    while (true) {
        uint32_t seen = thread.process().child_events;
        bool any = false;
        for (Process* child : processes.children_of(thread.process().pid())) {
            if (!selector.matches(*child))
                continue;
            any = true;
            if (!child->ended)
                continue;
            Reaped reaped{child->pid(), child->wait_status, child->credentials().uid};
            if (!(selector.options & WNOWAIT))
                processes.remove(child->pid());
            return reaped;
        }
        if (!any)
            return Error(ECHILD, "no such child");
        if (selector.options & WNOHANG)
            return Reaped{};
        TRY(wait_for_child_event(thread, seen));
    }
}

Result<void> write_zero_usage(Thread& thread, uint64_t address) {
    if (address == 0)
        return {};
    struct rusage usage {};
    return write_user(thread, address, usage);
}

}  // namespace

// Wait4 implements Linux syscall wait4(2) for children that exit or are
// killed (myst has no stopped or continued processes).
Result<long> sys_wait4(Thread& thread, const SyscallArgs& args) {
    pid_t pid = args.integer(0);
    int options = args.integer(2);
    if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL))
        return Error(EINVAL, "bad wait4 options");
    if (pid == INT32_MIN)
        return Error(ESRCH, "no such process group");
    ChildSelector selector{P_ALL, 0, options};
    if (pid > 0)
        selector = {P_PID, pid, options};
    else if (pid == 0)
        selector = {P_PGID, thread.process().group_id, options};
    else if (pid < -1)
        selector = {P_PGID, -pid, options};
    Reaped reaped = TRY(wait_for_child(thread, selector));
    if (reaped.pid != 0 && args.address(1) != 0)
        TRY(write_user(thread, args.address(1), static_cast<int32_t>(reaped.wait_status)));
    TRY(write_zero_usage(thread, args.address(3)));
    return reaped.pid;
}

// Waitid implements Linux syscall waitid(2) (P_ALL, P_PID, P_PGID) for
// children that exited or were killed.
Result<long> sys_waitid(Thread& thread, const SyscallArgs& args) {
    int type = args.integer(0);
    pid_t id = args.integer(1);
    int options = args.integer(3);
    if (options &
        ~(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL))
        return Error(EINVAL, "bad waitid options");
    if (!(options & (WEXITED | WSTOPPED | WCONTINUED)))
        return Error(EINVAL, "waitid needs WEXITED, WSTOPPED or WCONTINUED");
    if (type != P_ALL && type != P_PID && type != P_PGID)
        return Error(EINVAL, "bad waitid id type");
    if ((type == P_PID && id <= 0) || (type == P_PGID && id < 0))
        return Error(EINVAL, "bad waitid id");
    if (type == P_PGID && id == 0)
        id = thread.process().group_id;
    // Without WEXITED only stops and continues are asked for, and myst has
    // none: the call only checks that such children exist.
    ChildSelector selector{static_cast<idtype_t>(type), id, options};
    if (!(options & WEXITED))
        selector.options |= WNOHANG | WNOWAIT;
    Reaped reaped = TRY(wait_for_child(thread, selector));
    if (!(options & WEXITED))
        reaped = Reaped{};
    if (args.address(2) != 0) {
        siginfo_t info{};
        if (reaped.pid != 0) {
            info.si_signo = SIGCHLD;
            info.si_pid = reaped.pid;
            info.si_uid = reaped.uid;
            bool killed = WIFSIGNALED(reaped.wait_status);
            info.si_code = killed ? CLD_KILLED : CLD_EXITED;
            info.si_status =
                killed ? WTERMSIG(reaped.wait_status) : WEXITSTATUS(reaped.wait_status);
        }
        TRY(write_user(thread, args.address(2), info));
    }
    TRY(write_zero_usage(thread, args.address(4)));
    return 0;
}

}  // namespace myst::kernel

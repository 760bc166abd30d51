// Process groups and sessions: getpgrp, getpgid, setpgid, getsid, setsid,
// with Linux's rules (credentials(7), setpgid(2)). There are no
// controlling terminals: a session is only its id.
#include "kernel/kernel.h"
#include "kernel/process.h"
#include "kernel/process_table.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"

namespace myst::kernel {

namespace {

// `pid` 0 is the caller; zombies are found too, as on Linux.
Result<Process*> process_by_pid(Thread& thread, pid_t pid) {
    if (pid < 0)
        return Error(EINVAL, "bad process id");
    if (pid == 0)
        return &thread.process();
    Process* process = thread.kernel().processes().find(pid);
    if (!process)
        return Error(ESRCH, "no such process");
    return process;
}

bool group_exists_in_session(ProcessTable& processes, pid_t group, pid_t session) {
    for (Process* process : processes.all())
        if (process->group_id == group && process->session_id == session && !process->ended)
            return true;
    return false;
}

}  // namespace

// Getpgrp implements Linux syscall getpgrp(2).
Result<long> sys_getpgrp(Thread& thread, const SyscallArgs&) {
    return thread.process().group_id;
}

// Getpgid implements Linux syscall getpgid(2).
Result<long> sys_getpgid(Thread& thread, const SyscallArgs& args) {
    return TRY(process_by_pid(thread, args.integer(0)))->group_id;
}

// Setpgid implements Linux syscall setpgid(2): the caller or a child of it
// that has not exec'd moves to a group of its own session.
Result<long> sys_setpgid(Thread& thread, const SyscallArgs& args) {
    pid_t pid = args.integer(0), group = args.integer(1);
    if (group < 0)
        return Error(EINVAL, "negative process group");
    Process& caller = thread.process();
    Process& target = *TRY(process_by_pid(thread, pid));
    if (&target != &caller) {
        if (target.parent_pid() != caller.pid() || target.ended)
            return Error(ESRCH, "not the caller or its child");
        if (target.did_exec)
            return Error(EACCES, "the child has exec'd");
        if (target.session_id != caller.session_id)
            return Error(EPERM, "the child is in another session");
    }
    if (target.session_id == target.pid())
        return Error(EPERM, "a session leader keeps its group");
    if (group == 0)
        group = target.pid();
    if (group != target.pid() &&
        !group_exists_in_session(thread.kernel().processes(), group, caller.session_id))
        return Error(EPERM, "no such process group in the session");
    target.group_id = group;
    return 0;
}

// Getsid implements Linux syscall getsid(2).
Result<long> sys_getsid(Thread& thread, const SyscallArgs& args) {
    return TRY(process_by_pid(thread, args.integer(0)))->session_id;
}

// Setsid implements Linux syscall setsid(2): a process that leads no group
// starts a session and a group of its own.
Result<long> sys_setsid(Thread& thread, const SyscallArgs&) {
    Process& caller = thread.process();
    for (Process* process : thread.kernel().processes().all())
        if (process->group_id == caller.pid())
            return Error(EPERM, "a process group leader cannot start a session");
    caller.group_id = caller.session_id = caller.pid();
    return caller.pid();
}

}  // namespace myst::kernel

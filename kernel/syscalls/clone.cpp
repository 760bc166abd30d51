// Creating threads and processes: clone(2) and clone3(2) with the flags
// glibc's and musl's pthread_create, fork and posix_spawn use; fork(2) and
// vfork(2) (kernel/process_lifecycle.h has the process model).
#include <linux/capability.h>
#include <linux/sched.h>
#include <sched.h>

#include "kernel/capabilities.h"
#include "kernel/ipc_namespace.h"
#include "kernel/kernel.h"
#include "kernel/process.h"
#include "kernel/process_lifecycle.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/thread_lifecycle.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

constexpr uint64_t thread_flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD;
constexpr uint64_t optional_flags = CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |
                                    CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | CLONE_DETACHED;
constexpr uint64_t namespace_flags = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
                                     CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWTIME;

// Linux's rules for the flag combinations, then what myst serves: a thread
// sharing everything with its creator.
Result<void> check_thread_flags(uint64_t flags) {
    if ((flags & CLONE_THREAD) && !(flags & CLONE_SIGHAND))
        return Error(EINVAL, "CLONE_THREAD needs CLONE_SIGHAND");
    if ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM))
        return Error(EINVAL, "CLONE_SIGHAND needs CLONE_VM");
    if (flags & namespace_flags)
        return Error(EINVAL, "namespaces are not served");
    if ((flags & thread_flags) != thread_flags)
        return Error(EINVAL, "a thread must share files, fs and the address space");
    if (flags & ~(thread_flags | optional_flags))
        return Error(EINVAL, "unsupported clone flags");
    return {};
}

// A new process shares memory or not (CLONE_VM, with or without
// CLONE_VFORK); sharing files, fs or handlers with a process is not served.
constexpr uint64_t process_flags = CLONE_VM | CLONE_VFORK | CLONE_SETTLS | CLONE_PARENT_SETTID |
                                   CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | CLONE_DETACHED;

Result<void> check_process_flags(uint64_t flags) {
    if (flags & namespace_flags)
        return Error(EINVAL, "namespaces are not served");
    if (flags & (CLONE_SIGHAND | CLONE_FILES | CLONE_FS | CLONE_PARENT))
        return Error(EINVAL, "a process sharing files, fs or handlers is not served");
    if (flags & ~process_flags)
        return Error(EINVAL, "unsupported clone flags");
    return {};
}

ThreadStart with_flags(const ThreadStart& start, uint64_t flags) {
    ThreadStart request = start;
    request.set_tls = flags & CLONE_SETTLS;
    if (!(flags & CLONE_PARENT_SETTID))
        request.parent_tid_address = 0;
    if (!(flags & CLONE_CHILD_SETTID))
        request.child_tid_address = 0;
    if (!(flags & CLONE_CHILD_CLEARTID))
        request.clear_tid_address = 0;
    return request;
}

Result<long> clone_task(Thread& thread, uint64_t flags, int exit_signal, const ThreadStart& start) {
    if (!(flags & CLONE_THREAD)) {
        TRY(check_process_flags(flags));
        return TRY(fork_process(thread, flags, exit_signal, with_flags(start, flags)));
    }
    if (exit_signal != 0)
        return Error(EINVAL, "a thread has no exit signal");
    TRY(check_thread_flags(flags));
    return TRY(start_thread(thread, with_flags(start, flags)));
}

}  // namespace

// Clone implements Linux syscall clone(2) (x86-64 argument order: flags,
// stack, parent_tid, child_tid, tls) for new threads.
Result<long> sys_clone(Thread& thread, const SyscallArgs& args) {
    uint64_t flags = args.raw[0] & ~uint64_t(CSIGNAL);
    // clone(2) ignores the exit signal of a thread.
    int exit_signal = (flags & CLONE_THREAD) ? 0 : static_cast<int>(args.raw[0] & CSIGNAL);
    ThreadStart start;
    start.stack_pointer = args.address(1);
    start.parent_tid_address = args.address(2);
    start.child_tid_address = args.address(3);
    start.clear_tid_address = args.address(3);
    start.tls = args.address(4);
    return clone_task(thread, flags, exit_signal, start);
}

// Clone3 implements Linux syscall clone3(2) for new threads.
Result<long> sys_clone3(Thread& thread, const SyscallArgs& args) {
    size_t size = args.size(1);
    if (size < CLONE_ARGS_SIZE_VER0 || size > 4096)
        return Error(EINVAL, "bad clone_args size");
    struct clone_args request {};
    TRY(copy_from_user(thread, &request, args.address(0), std::min(size, sizeof request)));
    if (request.exit_signal >= 65)
        return Error(EINVAL, "bad exit signal");
    if (request.set_tid || request.set_tid_size || request.cgroup)
        return Error(EINVAL, "set_tid and cgroup are not served");
    if ((request.stack == 0) != (request.stack_size == 0))
        return Error(EINVAL, "stack and stack_size go together");
    ThreadStart start;
    start.stack_pointer = request.stack ? request.stack + request.stack_size : 0;
    start.parent_tid_address = request.parent_tid;
    start.child_tid_address = request.child_tid;
    start.clear_tid_address = request.child_tid;
    start.tls = request.tls;
    return clone_task(thread, request.flags, static_cast<int>(request.exit_signal), start);
}

// Fork implements Linux syscall fork(2).
Result<long> sys_fork(Thread& thread, const SyscallArgs&) {
    return TRY(fork_process(thread, 0, SIGCHLD, ThreadStart{}));
}

// Vfork implements Linux syscall vfork(2): the child shares the memory and
// the parent waits until it execs or exits.
Result<long> sys_vfork(Thread& thread, const SyscallArgs&) {
    return TRY(fork_process(thread, CLONE_VM | CLONE_VFORK, SIGCHLD, ThreadStart{}));
}

// Unshare implements Linux syscall unshare(2). A process's descriptor
// table, fs context and signal handlers are shared only by its threads,
// and no process shares its System V undo list, so for a single-threaded
// caller CLONE_FILES, CLONE_FS, CLONE_SIGHAND, CLONE_VM and CLONE_THREAD
// have nothing to unshare, and CLONE_SYSVSEM drops the last reference to
// the undo list: its adjustments are applied and it starts empty. FIXME:
// with other threads alive Linux gives only the caller a new list; the
// kernel keeps one per process and leaves it as it is. A multi-threaded caller cannot
// get a table of its own (the kernel keeps one per process): EINVAL, as
// Linux gives for CLONE_VM or CLONE_SIGHAND there. The kernel has no
// namespaces: without CAP_SYS_ADMIN their flags are EPERM, as on Linux;
// with it they are EINVAL, as on a Linux built without namespaces.
Result<long> sys_unshare(Thread& thread, const SyscallArgs& args) {
    uint64_t flags = args.raw[0];
    constexpr uint64_t known = CLONE_THREAD | CLONE_FS | CLONE_SIGHAND | CLONE_VM | CLONE_FILES |
                               CLONE_SYSVSEM | namespace_flags;
    if (flags & ~known)
        return Error(EINVAL, "unknown unshare flags");
    // Linux's implied flags.
    if (flags & CLONE_NEWUSER)
        flags |= CLONE_THREAD | CLONE_FS;
    if (flags & CLONE_VM)
        flags |= CLONE_SIGHAND;
    if (flags & CLONE_SIGHAND)
        flags |= CLONE_THREAD;
    if (flags & CLONE_NEWNS)
        flags |= CLONE_FS;
    size_t live_threads = 0;
    for (const auto& [tid, other] : thread.process().threads())
        live_threads += !other->exit_started;
    if ((flags & (CLONE_THREAD | CLONE_SIGHAND | CLONE_VM | CLONE_FILES | CLONE_FS)) &&
        live_threads > 1)
        return Error(EINVAL, "the process's threads share what unshare would split");
    if (flags & CLONE_NEWUSER)
        return Error(EINVAL, "user namespaces are not served");
    if (flags & namespace_flags) {
        if (!capable(thread.process().credentials(), CAP_SYS_ADMIN))
            return Error(EPERM, "namespaces need CAP_SYS_ADMIN");
        return Error(EINVAL, "namespaces are not served");
    }
    if ((flags & CLONE_SYSVSEM) && live_threads == 1)
        thread.kernel().ipc().semaphores.process_ended(thread.process().pid());
    return 0;
}

}  // namespace myst::kernel

// How processes begin and end: fork/vfork/clone of a new process, the end
// of a process's last thread (zombie, SIGCHLD, reparenting), and ending
// every thread of a process (exit_group, a fatal signal, execve).
//
// The memory model (DESIGN decision 4): all processes share one address
// space. A child of fork gets a memory image of its own at the same
// addresses, and the processes of one space take turns on its pages
// (kernel/memory_image.h): the child goes on in the pages first while the
// parent's are parked. Under ForkMode pseudo_wait_for_exit_exec the parent
// also waits in fork until the child execs or ends. A parent with other
// running threads cannot leave its pages: its child shares its memory as a
// vfork child does. vfork and CLONE_VM children share memory, as on Linux.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>

#include "base/result.h"
#include "kernel/thread_lifecycle.h"

namespace myst::kernel {

class Kernel;
class Process;
class ProcessTimers;
class Thread;

// The first program's pid (small and the same every run), and init's: the
// parent of the first program and of orphans, which myst does not run.
constexpr pid_t first_process_pid = 10;
constexpr pid_t init_pid = 1;

// wait(2) status words.
constexpr int exited_status(int code) {
    return (code & 0xff) << 8;
}
constexpr int signaled_status(int signal) {
    return signal & 0x7f;
}
// What myst exits with for the first process: its exit code, or
// 128+signal when a signal ended it (as a shell reports it).
int host_exit_code(int wait_status);

// The threads of `process` other than those already leaving.
size_t running_threads(const Process& process);

// fork(2)/vfork(2)/clone(2) without CLONE_THREAD: a new process whose first
// thread starts in `parent`'s registers. `flags` are clone's (CLONE_VM,
// CLONE_VFORK, CLONE_*SETTID...), `exit_signal` its CSIGNAL. Returns the
// child's pid once the parent may go on.
Result<pid_t> fork_process(Thread& parent, uint64_t flags, int exit_signal,
                           const ThreadStart& start);

// The child execs or ends: a parent waiting in fork/vfork goes on.
void release_waiting_parent(Kernel& kernel, Process& process);

// The last thread of `process` is gone: it becomes a zombie for its parent
// (or is reaped at once), its files close and its memory goes back. Returns
// its timers, for the caller to destroy without the kernel lock. `process`
// may have been destroyed on return.
std::unique_ptr<ProcessTimers> end_process(Kernel& kernel, Process& process);

// exit_group(2) and fatal signals: the process ends with `wait_status`;
// every thread still running is made to leave. The first process ends
// myst at once instead (as Mystikos, whose children end with it).
void end_process_threads(Kernel& kernel, Process& process, int wait_status);

}  // namespace myst::kernel

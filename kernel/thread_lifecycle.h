// How program threads start, run and end: the entry callbacks that bring
// each trapped syscall or fault into the kernel (under the kernel lock), a
// new thread for clone(2), and the two ways out — one thread (exit) or the
// whole process (exit_group, a fatal signal).
#pragma once

#include <signal.h>
#include <ucontext.h>

#include <cstdint>

#include "base/result.h"

namespace myst::kernel {

class Process;
class Thread;

// What clone(2)/clone3(2) asked for a new thread.
struct ThreadStart {
    uint64_t stack_pointer = 0;  // 0: the creator's
    uint64_t tls = 0;            // the new FS base when set_tls
    bool set_tls = false;
    uint64_t parent_tid_address = 0;  // CLONE_PARENT_SETTID (0: none)
    uint64_t child_tid_address = 0;   // CLONE_CHILD_SETTID
    uint64_t clear_tid_address = 0;   // CLONE_CHILD_CLEARTID
};

// Runs `thread` (already in its process's table) on the calling host
// thread from `entry_point`/`stack_pointer` until it ends; returns its exit
// code. The first thread of a process runs this way.
Result<int> run_first_thread(Thread& thread, uint64_t entry_point, uint64_t stack_pointer);

// Starts a new thread on a new host thread, in the caller's registers
// (clone returns 0 there): a thread of the caller's process, or the first
// thread of `process` (a new child, whose pid is the thread's id).
// Returns its tid. The caller holds the kernel lock.
Result<pid_t> start_thread(Thread& creator, const ThreadStart& start, Process* process = nullptr);

// exit(2): ends the calling thread; the process ends when it was the last.
[[noreturn]] void exit_thread(Thread& thread, int code);

// exit_group(2) or a fatal signal: ends every thread of the process with
// `wait_status` (encoded as wait(2) reports it: kernel/process_lifecycle.h).
[[noreturn]] void terminate_process(Thread& thread, int wait_status);

// Another thread asked this one to end (exit_group, execve, a fatal
// signal): it ends at its next kernel entry instead of returning to the
// program. Called at every kernel entry and exit.
void end_thread_if_asked(Thread& thread);

}  // namespace myst::kernel

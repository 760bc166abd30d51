// Restarting a system call that a signal interrupted, as Linux does with
// ERESTARTSYS: the calls signal(7) lists as restarted under SA_RESTART
// (reads and writes of pipes, sockets and terminals, opens of FIFOs,
// wait4/waitid, socket calls, flock and F_SETLKW, getrandom, futex waits
// without a timeout, POSIX message queue sends and receives) run again
// after the handler returns when its action has SA_RESTART, or at once
// when no handler runs. Everything else (poll,
// select, epoll_wait, nanosleep, sigsuspend, timed futex waits, ...)
// returns EINTR, as on Linux.
//
// The restart rewinds the program to its `syscall` instruction with RAX
// holding the call's number again, so the handler's frame saves that state
// and its sigreturn re-executes the call with the same arguments.
#pragma once

#include "kernel/syscall_args.h"

namespace myst::kernel {

class Thread;

// What the trapped syscall `number` returns to the program: `result`, or,
// when it was interrupted and restarts, `number` with the thread's context
// rewound to the syscall instruction.
long restart_if_interrupted(Thread& thread, long number, const SyscallArgs& args, long result);

}  // namespace myst::kernel

// Declarations of every system-call handler, generated from the lists.
#pragma once

#include "base/result.h"
#include "kernel/syscall_args.h"
#include "kernel/syscalls/list_core.h"
#include "kernel/syscalls/list_files.h"
#include "kernel/syscalls/list_ipc.h"
#include "kernel/syscalls/list_processes.h"
#include "kernel/syscalls/list_shared_memory.h"
#include "kernel/syscalls/list_sockets.h"
#include "kernel/syscalls/list_tee.h"
#include "kernel/syscalls/list_threads.h"
#include "kernel/syscalls/list_waits.h"

namespace myst::kernel {

class Thread;

#define MYST_DECLARE_HANDLER(name, handler, formats, support) \
    Result<long> handler(Thread& thread, const SyscallArgs& args);
MYST_CORE_SYSCALLS(MYST_DECLARE_HANDLER)
MYST_FILE_SYSCALLS(MYST_DECLARE_HANDLER)
MYST_THREAD_SYSCALLS(MYST_DECLARE_HANDLER)
MYST_PROCESS_SYSCALLS(MYST_DECLARE_HANDLER)
MYST_WAIT_SYSCALLS(MYST_DECLARE_HANDLER)
MYST_SHARED_MEMORY_SYSCALLS(MYST_DECLARE_HANDLER)
MYST_SOCKET_SYSCALLS(MYST_DECLARE_HANDLER)
MYST_TEE_SYSCALLS(MYST_DECLARE_HANDLER)
MYST_IPC_SYSCALLS(MYST_DECLARE_HANDLER)
#undef MYST_DECLARE_HANDLER

}  // namespace myst::kernel

// The kernel's IPC objects that have no path: System V semaphore sets and
// message queues and the POSIX message queues (Linux's ipc namespace; myst
// has one). Shared memory segments live in kernel/shared_memory.h.
#pragma once

#include "kernel/posix_mqueue.h"
#include "kernel/sysv_messages.h"
#include "kernel/sysv_semaphores.h"

namespace myst::kernel {

struct IpcNamespace {
    IpcNamespace(Target& target, MemoryManager& memory)
        : semaphores(target, memory), messages(target, memory), posix_queues(target, memory) {}

    SemaphoreRegistry semaphores;
    MessageRegistry messages;
    PosixQueueRegistry posix_queues;
};

}  // namespace myst::kernel

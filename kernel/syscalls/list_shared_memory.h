// Shared memory without a path: memfds and System V segments
// (kernel/syscalls/shared_memory.cpp). Format: see README.md.
#pragma once

#define MYST_SHARED_MEMORY_SYSCALLS(X)               \
    X(memfd_create, sys_memfd_create, "sx", partial) \
    X(shmget, sys_shmget, "dud", supported)          \
    X(shmat, sys_shmat, "dpx", supported)            \
    X(shmdt, sys_shmdt, "p", supported)              \
    X(shmctl, sys_shmctl, "ddp", partial)

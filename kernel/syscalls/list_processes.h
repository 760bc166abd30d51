// Processes: creating them, running a new program, waiting for them, and
// their groups and sessions. Format: see README.md.
#pragma once

#define MYST_PROCESS_SYSCALLS(X)                  \
    X(fork, sys_fork, "", supported)              \
    X(vfork, sys_vfork, "", supported)            \
    X(execve, sys_execve, "spp", supported)       \
    X(execveat, sys_execveat, "fsppx", supported) \
    X(wait4, sys_wait4, "dpxp", supported)        \
    X(waitid, sys_waitid, "ddpxp", supported)     \
    X(getpgrp, sys_getpgrp, "", supported)        \
    X(getpgid, sys_getpgid, "d", supported)       \
    X(setpgid, sys_setpgid, "dd", supported)      \
    X(getsid, sys_getsid, "d", supported)         \
    X(setsid, sys_setsid, "", supported)

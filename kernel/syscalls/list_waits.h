// Pipes, event descriptors and the calls that wait on many descriptors
// (kernel/syscalls/pipe.cpp, poll.cpp, epoll.cpp, event_fds.cpp).
// Format: see README.md.
#pragma once

#define MYST_WAIT_SYSCALLS(X)                 \
    X(pipe, sys_pipe, "p", supported)         \
    X(pipe2, sys_pipe2, "px", partial)        \
    X(poll, sys_poll, "pud", supported)       \
    X(ppoll, sys_ppoll, "puppu", supported)   \
    X(select, sys_select, "dpppp", supported) \
    X(pselect6, sys_pselect6, "dppppp", supported)

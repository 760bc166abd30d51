// Pipes, event descriptors and the calls that wait on many descriptors
// (kernel/syscalls/pipe.cpp, poll.cpp, epoll.cpp, event_fds.cpp).
// Format: see README.md.
#pragma once

#define MYST_WAIT_SYSCALLS(X)         \
    X(pipe, sys_pipe, "p", supported) \
    X(pipe2, sys_pipe2, "px", partial)

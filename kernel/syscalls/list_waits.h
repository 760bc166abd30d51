// Pipes, event descriptors and the calls that wait on many descriptors
// (kernel/syscalls/pipe.cpp, poll.cpp, epoll.cpp, event_fds.cpp).
// Format: see README.md.
#pragma once

#define MYST_WAIT_SYSCALLS(X)                                \
    X(pipe, sys_pipe, "p", supported)                        \
    X(pipe2, sys_pipe2, "px", partial)                       \
    X(poll, sys_poll, "pud", supported)                      \
    X(ppoll, sys_ppoll, "puppu", supported)                  \
    X(select, sys_select, "dpppp", supported)                \
    X(pselect6, sys_pselect6, "dppppp", supported)           \
    X(epoll_create, sys_epoll_create, "d", supported)        \
    X(epoll_create1, sys_epoll_create1, "x", supported)      \
    X(epoll_ctl, sys_epoll_ctl, "fdfp", supported)           \
    X(epoll_wait, sys_epoll_wait, "fpdd", supported)         \
    X(epoll_pwait, sys_epoll_pwait, "fpddpu", supported)     \
    X(epoll_pwait2, sys_epoll_pwait2, "fpdppu", supported)   \
    X(eventfd, sys_eventfd, "u", supported)                  \
    X(eventfd2, sys_eventfd2, "ux", supported)               \
    X(pidfd_open, sys_pidfd_open, "dx", supported)           \
    X(timerfd_create, sys_timerfd_create, "dx", supported)   \
    X(timerfd_settime, sys_timerfd_settime, "fxpp", partial) \
    X(timerfd_gettime, sys_timerfd_gettime, "fp", supported) \
    X(signalfd, sys_signalfd, "fpu", supported)              \
    X(signalfd4, sys_signalfd4, "fpux", supported)

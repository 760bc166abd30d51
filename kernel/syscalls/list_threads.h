// Threads: creating and ending them, their ids, futexes and the signals
// one thread sends another. Format: see README.md.
#pragma once

#define MYST_THREAD_SYSCALLS(X)                             \
    X(clone, sys_clone, "xpppx", partial)                   \
    X(clone3, sys_clone3, "pu", partial)                    \
    X(exit, sys_exit, "d", supported)                       \
    X(gettid, sys_gettid, "", supported)                    \
    X(set_tid_address, sys_set_tid_address, "p", supported) \
    X(set_robust_list, sys_set_robust_list, "px", supported) \
    X(get_robust_list, sys_get_robust_list, "dpp", supported) \
    X(futex, sys_futex, "pdxppx", partial)                  \
    X(kill, sys_kill, "dd", partial)                        \
    X(tkill, sys_tkill, "dd", supported)                    \
    X(tgkill, sys_tgkill, "ddd", supported)                 \
    X(rt_sigqueueinfo, sys_rt_sigqueueinfo, "ddp", supported) \
    X(rt_tgsigqueueinfo, sys_rt_tgsigqueueinfo, "dddp", supported) \
    X(pause, sys_pause, "", supported)                      \
    X(rt_sigsuspend, sys_rt_sigsuspend, "pu", supported)    \
    X(rt_sigtimedwait, sys_rt_sigtimedwait, "pppu", supported)

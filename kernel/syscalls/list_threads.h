// Threads: creating and ending them, their ids, futexes, the signals one
// thread sends another, waiting for signals, and the timers that send them.
// Format: see README.md.
#pragma once

#define MYST_THREAD_SYSCALLS(X)                                           \
    X(clone, sys_clone, "xpppx", partial)                                 \
    X(clone3, sys_clone3, "pu", partial)                                  \
    X(exit, sys_exit, "d", supported)                                     \
    X(gettid, sys_gettid, "", supported)                                  \
    X(set_tid_address, sys_set_tid_address, "p", supported)               \
    X(set_robust_list, sys_set_robust_list, "px", supported)              \
    X(get_robust_list, sys_get_robust_list, "dpp", supported)             \
    X(futex, sys_futex, "pdxppx", partial)                                \
    X(kill, sys_kill, "dd", partial)                                      \
    X(tkill, sys_tkill, "dd", supported)                                  \
    X(tgkill, sys_tgkill, "ddd", supported)                               \
    X(rt_sigqueueinfo, sys_rt_sigqueueinfo, "ddp", supported)             \
    X(rt_tgsigqueueinfo, sys_rt_tgsigqueueinfo, "dddp", supported)        \
    X(pidfd_send_signal, sys_pidfd_send_signal, "fdpx", supported)        \
    X(pause, sys_pause, "", supported)                                    \
    X(rt_sigsuspend, sys_rt_sigsuspend, "pu", supported)                  \
    X(rt_sigtimedwait, sys_rt_sigtimedwait, "pppu", supported)            \
    X(alarm, sys_alarm, "u", supported)                                   \
    X(setitimer, sys_setitimer, "dpp", partial)                           \
    X(getitimer, sys_getitimer, "dp", partial)                            \
    X(timer_create, sys_timer_create, "dpp", partial)                     \
    X(timer_settime, sys_timer_settime, "ddpp", supported)                \
    X(timer_gettime, sys_timer_gettime, "dp", supported)                  \
    X(timer_getoverrun, sys_timer_getoverrun, "d", supported)             \
    X(timer_delete, sys_timer_delete, "d", supported)                     \
    X(sched_getscheduler, sys_sched_getscheduler, "d", supported)         \
    X(sched_getparam, sys_sched_getparam, "dp", supported)                \
    X(sched_setparam, sys_sched_setparam, "dp", supported)                \
    X(sched_setattr, sys_sched_setattr, "dpx", partial)                   \
    X(sched_getattr, sys_sched_getattr, "dpux", supported)                \
    X(sched_rr_get_interval, sys_sched_rr_get_interval, "dp", supported)  \
    X(getpriority, sys_getpriority, "dd", supported)                      \
    X(setpriority, sys_setpriority, "ddd", supported)                     \
    X(sched_setscheduler, sys_sched_setscheduler, "ddp", partial)         \
    X(sched_get_priority_max, sys_sched_get_priority_max, "d", supported) \
    X(sched_get_priority_min, sys_sched_get_priority_min, "d", supported) \
    X(membarrier, sys_membarrier, "ddd", partial)

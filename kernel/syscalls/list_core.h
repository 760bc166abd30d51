// The kernel's own system calls (memory, process, identity, time, signals,
// resources); file calls are in list_files.h. Format: see README.md.
#pragma once

#define MYST_CORE_SYSCALLS(X)                                     \
    X(mmap, sys_mmap, "pxxxfx", partial)                          \
    X(munmap, sys_munmap, "px", supported)                        \
    X(mprotect, sys_mprotect, "pxx", supported)                   \
    X(brk, sys_brk, "p", supported)                               \
    X(madvise, sys_madvise, "pxd", partial)                       \
    X(mremap, sys_mremap, "pxxxp", partial)                       \
    X(msync, sys_msync, "pxx", partial)                           \
    X(mlock, sys_mlock, "px", partial)                            \
    X(munlock, sys_munlock, "px", partial)                        \
    X(exit_group, sys_exit_group, "d", supported)                 \
    X(getpid, sys_getpid, "", supported)                          \
    X(getppid, sys_getppid, "", supported)                        \
    X(getuid, sys_getuid, "", supported)                          \
    X(geteuid, sys_geteuid, "", supported)                        \
    X(getgid, sys_getgid, "", supported)                          \
    X(getegid, sys_getegid, "", supported)                        \
    X(getresuid, sys_getresuid, "ppp", supported)                 \
    X(getresgid, sys_getresgid, "ppp", supported)                 \
    X(setuid, sys_setuid, "d", supported)                         \
    X(setgid, sys_setgid, "d", supported)                         \
    X(setresuid, sys_setresuid, "ddd", supported)                 \
    X(setresgid, sys_setresgid, "ddd", supported)                 \
    X(setreuid, sys_setreuid, "dd", supported)                    \
    X(setregid, sys_setregid, "dd", supported)                    \
    X(setfsuid, sys_setfsuid, "d", supported)                     \
    X(setfsgid, sys_setfsgid, "d", supported)                     \
    X(getgroups, sys_getgroups, "dp", supported)                  \
    X(setgroups, sys_setgroups, "dp", supported)                  \
    X(uname, sys_uname, "p", supported)                           \
    X(sysinfo, sys_sysinfo, "p", supported)                       \
    X(getrandom, sys_getrandom, "pxx", supported)                 \
    X(clock_gettime, sys_clock_gettime, "dp", supported)          \
    X(clock_getres, sys_clock_getres, "dp", supported)            \
    X(gettimeofday, sys_gettimeofday, "pp", supported)            \
    X(time, sys_time, "p", supported)                             \
    X(nanosleep, sys_nanosleep, "pp", supported)                  \
    X(clock_nanosleep, sys_clock_nanosleep, "dxpp", supported)    \
    X(rt_sigaction, sys_rt_sigaction, "dppu", supported)          \
    X(rt_sigprocmask, sys_rt_sigprocmask, "dppu", supported)      \
    X(sigaltstack, sys_sigaltstack, "pp", partial)                \
    X(rt_sigreturn, sys_rt_sigreturn, "", supported)              \
    X(prlimit64, sys_prlimit64, "ddpp", supported)                \
    X(getrlimit, sys_getrlimit, "dp", supported)                  \
    X(setrlimit, sys_setrlimit, "dp", supported)                  \
    X(getrusage, sys_getrusage, "dp", partial)                    \
    X(sched_getaffinity, sys_sched_getaffinity, "dup", supported) \
    X(sched_setaffinity, sys_sched_setaffinity, "dup", partial)   \
    X(sched_yield, sys_sched_yield, "", supported)                \
    X(getcpu, sys_getcpu, "ppp", supported)                       \
    X(arch_prctl, sys_arch_prctl, "xp", partial)                  \
    X(prctl, sys_prctl, "dxxxx", partial)

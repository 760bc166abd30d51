/* The core system calls LTP and programs use beyond the common ones:
 * rt_sigpending, times, getpriority/setpriority, sched_setparam,
 * sched_rr_get_interval, sched_setattr/getattr, capget/capset, mlock2,
 * mlockall, mincore, personality, sethostname/setdomainname, the clock
 * setters and adjtimex, syslog, restart_syscall and unshare: their
 * success and error paths, run as root, the unprivileged ones in a child
 * that became uid 65534. Only host-independent results are printed. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/timex.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "verdict.h"

/* linux/capability.h, which musl's headers do not reach. */
#define CAP_SETUID 7
#define CAP_SYS_NICE 23
#define _LINUX_CAPABILITY_VERSION_1 0x19980330
#define _LINUX_CAPABILITY_VERSION_3 0x20080522
struct __user_cap_header_struct {
    uint32_t version;
    int pid;
};
struct __user_cap_data_struct {
    uint32_t effective, permitted, inheritable;
};
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif

#define BAD_POINTER ((void*)1)

/* expect_errno for the codes verdict.h does not name. */
static void expect_code(long result, int expected, const char* name, const char* what) {
    int got = result == -1 ? errno : 0;
    if (result == -1 && got == expected)
        verdict(1, "%s fails with %s", what, name);
    else
        verdict(0, "%s fails with %s (got result %ld, errno %d)", what, name, result, got);
}

/* Runs `body` in a child that became uid/gid 65534; its checks print
 * there and its failures come back as the exit status. */
static void as_nobody(void (*body)(void)) {
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        verdict_failures = 0;
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(99);
        body();
        fflush(stdout);
        _exit(verdict_failures == 0 ? 0 : 1);
    }
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "the unprivileged child passed");
}

static void check_sigpending(void) {
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    uint64_t pending = 0;
    CHECK(syscall(SYS_rt_sigpending, &pending, 8) == 0 && pending == 0, "nothing pending at first");
    raise(SIGUSR1);
    CHECK(syscall(SYS_rt_sigpending, &pending, 8) == 0 && pending == (1ull << (SIGUSR1 - 1)),
          "rt_sigpending shows the blocked SIGUSR1");
    uint32_t low = 0;
    CHECK(syscall(SYS_rt_sigpending, &low, 4) == 0 && low == (1u << (SIGUSR1 - 1)),
          "rt_sigpending with a 4-byte set copies 4 bytes");
    expect_errno(syscall(SYS_rt_sigpending, &pending, 16), EINVAL, "rt_sigpending with size 16");
    expect_errno(syscall(SYS_rt_sigpending, BAD_POINTER, 8), EFAULT, "rt_sigpending to a bad set");
    struct timespec zero = {0, 0};
    CHECK(sigtimedwait(&block, NULL, &zero) == SIGUSR1, "the pending SIGUSR1 is taken");
    CHECK(syscall(SYS_rt_sigpending, &pending, 8) == 0 && pending == 0, "nothing pending after");
    sigprocmask(SIG_SETMASK, &old, NULL);
}

static void check_times(void) {
    struct tms first, second;
    long start = syscall(SYS_times, &first);
    for (volatile long spin = 0; spin < 20000000; spin++) {
    }
    long end = syscall(SYS_times, &second);
    CHECK(start != -1 && end >= start, "times returns monotonic ticks");
    CHECK(second.tms_utime + second.tms_stime >= first.tms_utime + first.tms_stime,
          "times' CPU times do not go back");
    struct rusage children;
    CHECK(getrusage(RUSAGE_CHILDREN, &children) == 0 &&
              (children.ru_utime.tv_sec * 100 + children.ru_utime.tv_usec / 10000) ==
                  (long)second.tms_cutime,
          "getrusage(RUSAGE_CHILDREN) and times agree");
    CHECK(syscall(SYS_times, NULL) != -1, "times without a buffer");
    expect_errno(syscall(SYS_times, BAD_POINTER), EFAULT, "times to a bad buffer");
}

static int nice_now(void) {
    return 20 - (int)syscall(SYS_getpriority, PRIO_PROCESS, 0);
}

static void nobody_priority(void) {
    int nice = nice_now();
    expect_errno(syscall(SYS_setpriority, PRIO_PROCESS, 0, nice - 1), EACCES,
                 "an unprivileged lower nice value");
    CHECK(syscall(SYS_setpriority, PRIO_PROCESS, 0, nice + 1) == 0 && nice_now() == nice + 1,
          "an unprivileged higher nice value");
    expect_errno(syscall(SYS_setpriority, PRIO_PROCESS, getppid(), 19), EPERM,
                 "setpriority of root's process");
}

static void check_priority(void) {
    int nice = nice_now();
    CHECK(nice >= -20 && nice <= 14, "getpriority returns 20 - nice");
    CHECK(syscall(SYS_setpriority, PRIO_PROCESS, 0, nice + 5) == 0 && nice_now() == nice + 5,
          "setpriority raises the nice value");
    CHECK(
        syscall(SYS_getpriority, PRIO_PGRP, 0) >= 1 && syscall(SYS_getpriority, PRIO_USER, 0) >= 1,
        "getpriority of the group and the user");
    CHECK(syscall(SYS_setpriority, PRIO_PROCESS, getpid(), 100) == 0 && nice_now() == 19,
          "setpriority clamps to 19");
    expect_errno(syscall(SYS_getpriority, 7, 0), EINVAL, "getpriority of an unknown kind");
    expect_errno(syscall(SYS_setpriority, 7, 0, 0), EINVAL, "setpriority of an unknown kind");
    expect_code(syscall(SYS_getpriority, PRIO_PROCESS, 999999), ESRCH, "ESRCH",
                "getpriority of a missing process");
    expect_code(syscall(SYS_setpriority, PRIO_PROCESS, 999999, 0), ESRCH, "ESRCH",
                "setpriority of a missing process");
    CHECK(syscall(SYS_setpriority, PRIO_PROCESS, 0, nice) == 0 && nice_now() == nice,
          "root lowers the nice value again");
    as_nobody(nobody_priority);
}

/* linux/sched/types.h's struct sched_attr (the second version). */
struct sched_attr_v1 {
    uint32_t size, sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime, sched_deadline, sched_period;
    uint32_t sched_util_min, sched_util_max;
};

static void check_scheduling(void) {
    struct sched_param param = {0};
    CHECK(syscall(SYS_sched_setparam, 0, &param) == 0, "sched_setparam with priority 0");
    param.sched_priority = 1;
    expect_errno(syscall(SYS_sched_setparam, 0, &param), EINVAL, "sched_setparam priority 1");
    expect_errno(syscall(SYS_sched_setparam, -1, &param), EINVAL, "sched_setparam of pid -1");
    expect_errno(syscall(SYS_sched_setparam, 0, NULL), EINVAL, "sched_setparam without param");
    expect_code(syscall(SYS_sched_getparam, 999999, &param), ESRCH, "ESRCH",
                "sched_getparam of a missing process");
    CHECK(syscall(SYS_sched_getparam, 0, &param) == 0 && param.sched_priority == 0,
          "sched_getparam reports priority 0");
    struct timespec slice = {1, 1};
    CHECK(syscall(SYS_sched_rr_get_interval, 0, &slice) == 0 && slice.tv_sec == 0,
          "sched_rr_get_interval for SCHED_OTHER");
    expect_errno(syscall(SYS_sched_rr_get_interval, -1, &slice), EINVAL,
                 "sched_rr_get_interval of pid -1");
    expect_code(syscall(SYS_sched_rr_get_interval, 999999, &slice), ESRCH, "ESRCH",
                "sched_rr_get_interval of a missing process");
    expect_errno(syscall(SYS_sched_rr_get_interval, 0, BAD_POINTER), EFAULT,
                 "sched_rr_get_interval to a bad address");

    int nice = nice_now();
    struct sched_attr_v1 attr = {.size = 48, .sched_policy = SCHED_BATCH, .sched_nice = nice + 2};
    CHECK(syscall(SYS_sched_setattr, 0, &attr, 0) == 0,
          "sched_setattr SCHED_BATCH with a nice value");
    CHECK(syscall(SYS_sched_getscheduler, 0) == SCHED_BATCH, "sched_getscheduler says SCHED_BATCH");
    CHECK(nice_now() == nice + 2, "sched_setattr set the nice value");
    struct sched_attr_v1 got;
    memset(&got, 0xff, sizeof got);
    CHECK(syscall(SYS_sched_getattr, 0, &got, sizeof got, 0) == 0 && got.size == sizeof got &&
              got.sched_policy == SCHED_BATCH && got.sched_nice == nice + 2 &&
              got.sched_priority == 0 && got.sched_flags == 0,
          "sched_getattr reads them back");
    memset(&got, 0xff, sizeof got);
    CHECK(syscall(SYS_sched_getattr, 0, &got, 48, 0) == 0 && got.size == 48 &&
              got.sched_util_min == 0xffffffff,
          "sched_getattr copies only the size asked for");
    attr.sched_policy = SCHED_OTHER;
    attr.sched_nice = nice;
    CHECK(syscall(SYS_sched_setattr, 0, &attr, 0) == 0 &&
              syscall(SYS_sched_getscheduler, 0) == SCHED_OTHER && nice_now() == nice,
          "sched_setattr back to SCHED_OTHER");
    attr.size = 40;
    expect_code(syscall(SYS_sched_setattr, 0, &attr, 0), E2BIG, "E2BIG", "sched_setattr size 40");
    CHECK(attr.size == sizeof(struct sched_attr_v1), "the kernel's size is written back");
    struct {
        struct sched_attr_v1 attr;
        uint64_t extra;
    } bigger = {.attr = {.size = sizeof bigger}, .extra = 1};
    expect_code(syscall(SYS_sched_setattr, 0, &bigger, 0), E2BIG, "E2BIG",
                "sched_setattr with unknown non-zero fields");
    bigger.extra = 0;
    CHECK(syscall(SYS_sched_setattr, 0, &bigger, 0) == 0, "sched_setattr with zero extra bytes");
    attr.size = 48;
    expect_errno(syscall(SYS_sched_setattr, 0, &attr, 1), EINVAL, "sched_setattr with flags");
    attr.sched_policy = 99;
    expect_errno(syscall(SYS_sched_setattr, 0, &attr, 0), EINVAL, "sched_setattr policy 99");
    attr.sched_policy = SCHED_OTHER;
    attr.sched_priority = 5;
    expect_errno(syscall(SYS_sched_setattr, 0, &attr, 0), EINVAL,
                 "sched_setattr SCHED_OTHER priority 5");
    expect_errno(syscall(SYS_sched_getattr, 0, &got, 40, 0), EINVAL, "sched_getattr size 40");
    expect_errno(syscall(SYS_sched_getattr, 0, &got, sizeof got, 1), EINVAL,
                 "sched_getattr with flags");
}

/* CPU affinity as the raw calls see it: the mask set is the mask read
 * back (by a fork child too), with Linux's size, pid and mask rules. */
static void check_affinity(void) {
    unsigned long original[16], mask[16], one = 1;
    memset(original, 0, sizeof original);
    long bytes = syscall(SYS_sched_getaffinity, 0, sizeof original, original);
    CHECK(bytes > 0 && bytes % 8 == 0 && bytes <= (long)sizeof original && (original[0] & 1),
          "sched_getaffinity returns whole longs holding CPU 0");
    expect_errno(syscall(SYS_sched_getaffinity, 0, 4, mask), EINVAL, "sched_getaffinity size 4");
    expect_errno(syscall(SYS_sched_getaffinity, 0, 12, mask), EINVAL, "sched_getaffinity size 12");
    expect_code(syscall(SYS_sched_getaffinity, -1, 8, mask), ESRCH, "ESRCH",
                "sched_getaffinity of pid -1");
    expect_code(syscall(SYS_sched_getaffinity, 999999, 8, mask), ESRCH, "ESRCH",
                "sched_getaffinity of a missing thread");
    CHECK(syscall(SYS_sched_setaffinity, 0, 8, &one) == 0, "sched_setaffinity to CPU 0");
    memset(mask, 0xff, sizeof mask);
    CHECK(syscall(SYS_sched_getaffinity, 0, 8, mask) == 8 && mask[0] == 1,
          "sched_getaffinity reads CPU 0 alone back");
    unsigned cpu = 99;
    CHECK(syscall(SYS_getcpu, &cpu, NULL, NULL) == 0 && cpu == 0, "getcpu says CPU 0");
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        unsigned long inherited = 0;
        _exit(syscall(SYS_sched_getaffinity, 0, 8, &inherited) == 8 && inherited == 1 ? 0 : 1);
    }
    int status = -1;
    CHECK(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
              WEXITSTATUS(status) == 0,
          "a fork child inherits the mask");
    unsigned long beyond[16] = {0};
    beyond[15] = 1ul << 63;
    expect_errno(syscall(SYS_sched_setaffinity, 0, sizeof beyond, beyond), EINVAL,
                 "sched_setaffinity to no CPU there is");
    expect_errno(syscall(SYS_sched_setaffinity, 0, 8, BAD_POINTER), EFAULT,
                 "sched_setaffinity from a bad address");
    expect_code(syscall(SYS_sched_setaffinity, -1, 8, &one), ESRCH, "ESRCH",
                "sched_setaffinity of pid -1");
    CHECK(syscall(SYS_sched_setaffinity, 0, bytes, original) == 0 &&
              syscall(SYS_sched_getaffinity, 0, sizeof mask, mask) == bytes &&
              memcmp(mask, original, (size_t)bytes) == 0,
          "sched_setaffinity back to the first mask");
}

static int capget_self(struct __user_cap_data_struct data[2]) {
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    return (int)syscall(SYS_capget, &header, data);
}

static int capset_self(uint32_t effective, uint32_t permitted, uint32_t inheritable) {
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2] = {{effective, permitted, inheritable}, {0, 0, 0}};
    return (int)syscall(SYS_capset, &header, data);
}

static void check_capabilities(void) {
    struct __user_cap_data_struct data[2];
    CHECK(capget_self(data) == 0 && data[0].effective == data[0].permitted &&
              (data[0].effective & (1u << CAP_SETUID)) &&
              (data[0].effective & (1u << CAP_SYS_NICE)),
          "root's capabilities are effective and permitted");
    struct __user_cap_header_struct header = {0x12345678, 0};
    expect_errno(syscall(SYS_capget, &header, data), EINVAL, "capget with an unknown version");
    CHECK(header.version == _LINUX_CAPABILITY_VERSION_3, "capget wrote the preferred version");
    header.version = 0x12345678;
    CHECK(syscall(SYS_capget, &header, NULL) == 0 && header.version == _LINUX_CAPABILITY_VERSION_3,
          "capget probing the version with no data");
    struct __user_cap_header_struct v1 = {_LINUX_CAPABILITY_VERSION_1, 0};
    struct __user_cap_data_struct one[2] = {{0, 0, 0}, {7, 7, 7}};
    CHECK(syscall(SYS_capget, &v1, one) == 0 && one[0].permitted == data[0].permitted &&
              one[1].effective == 7,
          "capget version 1 fills one set");
    header.version = _LINUX_CAPABILITY_VERSION_3;
    header.pid = -1;
    expect_errno(syscall(SYS_capget, &header, data), EINVAL, "capget of pid -1");
    header.pid = 999999;
    expect_code(syscall(SYS_capget, &header, data), ESRCH, "ESRCH", "capget of a missing process");
    header.pid = 0;
    expect_errno(syscall(SYS_capget, &header, BAD_POINTER), EFAULT, "capget to a bad address");
    expect_errno(syscall(SYS_capget, BAD_POINTER, data), EFAULT, "capget with a bad header");

    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        uint32_t all = data[0].permitted;
        uint32_t without_nice = all & ~(1u << CAP_SYS_NICE);
        CHECK(capset_self(without_nice, without_nice, 0) == 0, "capset drops CAP_SYS_NICE");
        struct __user_cap_data_struct now[2];
        CHECK(capget_self(now) == 0 && now[0].permitted == without_nice &&
                  now[0].effective == without_nice,
              "capget shows it dropped");
        expect_errno(capset_self(without_nice, all, 0), EPERM, "capset raising a permitted cap");
        expect_errno(capset_self(all, without_nice, 0), EPERM, "capset effective beyond permitted");
        struct __user_cap_header_struct parent = {_LINUX_CAPABILITY_VERSION_3, getppid()};
        expect_errno((long)syscall(SYS_capset, &parent, now), EPERM, "capset of another process");
        expect_errno(syscall(SYS_setpriority, PRIO_PROCESS, 0, -5), EACCES,
                     "a lower nice value without CAP_SYS_NICE");
        uint32_t without_setuid = without_nice & ~(1u << CAP_SETUID);
        CHECK(capset_self(without_setuid, without_nice, 0) == 0,
              "capset drops effective CAP_SETUID");
        expect_errno(setuid(65534), EPERM, "setuid without effective CAP_SETUID");
        CHECK(capset_self(without_nice, without_nice, 0) == 0, "capset raises it from permitted");
        CHECK(setuid(65534) == 0, "setuid then works");
        CHECK(capget_self(now) == 0 && now[0].effective == 0 && now[0].permitted == 0 &&
                  now[1].effective == 0 && now[1].permitted == 0,
              "leaving uid 0 clears the capabilities");
        expect_errno(capset_self(1, 1, 0), EPERM, "capset without capabilities");
        fflush(stdout);
        _exit(verdict_failures == 0 ? 0 : 1);
    }
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "the capability child passed");
}

static void residency(char* pages, size_t count, char* text) {
    unsigned char vector[16];
    if (mincore(pages, count * 4096, vector) != 0) {
        strcpy(text, "error");
        return;
    }
    for (size_t i = 0; i < count; i++)
        text[i] = (vector[i] & 1) ? '1' : '0';
    text[count] = '\0';
}

static void check_memory_locks(void) {
    char* pages = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    pages[0] = 1;
    pages[2 * 4096] = 1;
    char text[16];
    residency(pages, 4, text);
    CHECK(strcmp(text, "1010") == 0, "mincore shows the touched pages (%s)", text);
    unsigned char vector[4];
    expect_errno(mincore(pages + 1, 4096, vector), EINVAL, "mincore of an unaligned address");
    expect_errno(mincore(pages, 4096, BAD_POINTER), EFAULT, "mincore to a bad vector");
    CHECK(mincore(pages, 0, vector) == 0, "mincore of nothing");
    CHECK(syscall(SYS_mlock2, pages, 4 * 4096, 0) == 0, "mlock2 locks the pages");
    residency(pages, 4, text);
    CHECK(strcmp(text, "1111") == 0, "locked pages are resident (%s)", text);
    CHECK(munlock(pages, 4 * 4096) == 0, "munlock");
    expect_errno(syscall(SYS_mlock2, pages, 4096, 2), EINVAL, "mlock2 with unknown flags");
    CHECK(syscall(SYS_mlock2, pages, 4096, MLOCK_ONFAULT) == 0, "mlock2 MLOCK_ONFAULT");
    munlock(pages, 4096);
    munmap(pages + 2 * 4096, 2 * 4096);
    expect_errno(mincore(pages, 4 * 4096, vector), ENOMEM, "mincore over unmapped pages");
    expect_errno(mlock(pages + 2 * 4096, 4096), ENOMEM, "mlock of unmapped pages");
    expect_errno(munlock(pages, 4 * 4096), ENOMEM, "munlock over unmapped pages");
    munmap(pages, 2 * 4096);
    expect_errno(mlockall(0), EINVAL, "mlockall without flags");
    expect_errno(mlockall(MCL_ONFAULT), EINVAL, "mlockall MCL_ONFAULT alone");
    expect_errno(mlockall(8), EINVAL, "mlockall unknown flags");
    CHECK(mlockall(MCL_FUTURE) == 0, "mlockall MCL_FUTURE");
    CHECK(munlockall() == 0, "munlockall");
}

static void check_personality(void) {
    long persona = syscall(SYS_personality, 0xffffffffUL);
    CHECK(persona == PER_LINUX, "the persona is PER_LINUX");
    CHECK(syscall(SYS_personality, (unsigned long)(PER_LINUX | ADDR_NO_RANDOMIZE)) == persona,
          "personality returns the old persona");
    CHECK(syscall(SYS_personality, 0xffffffffUL) == (PER_LINUX | ADDR_NO_RANDOMIZE),
          "ADDR_NO_RANDOMIZE is kept");
    CHECK(syscall(SYS_personality, 0x100000000UL | PER_LINUX) == (PER_LINUX | ADDR_NO_RANDOMIZE) &&
              syscall(SYS_personality, 0xffffffffUL) == PER_LINUX,
          "personality takes 32 bits");
}

static void check_hostname(void) {
    char name[80];
    memset(name, 'x', sizeof name);
    expect_errno(syscall(SYS_sethostname, name, 65), EINVAL, "sethostname of 65 bytes");
    expect_errno(syscall(SYS_sethostname, name, -1), EINVAL, "sethostname of length -1");
    expect_errno(syscall(SYS_sethostname, BAD_POINTER, 5), EFAULT,
                 "sethostname from a bad address");
    expect_errno(syscall(SYS_setdomainname, name, 65), EINVAL, "setdomainname of 65 bytes");
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        /* Natively in a UTS namespace of its own; myst has none and
         * changes its own kernel's names (never the host's). */
        (void)unshare(CLONE_NEWUTS);
        CHECK(sethostname("coresys-node", 12) == 0, "sethostname");
        CHECK(setdomainname("coresys-domain", 14) == 0, "setdomainname");
        struct utsname uts;
        CHECK(uname(&uts) == 0 && strcmp(uts.nodename, "coresys-node") == 0 &&
                  strcmp(uts.domainname, "coresys-domain") == 0,
              "uname reports the new names");
        FILE* file = fopen("/proc/sys/kernel/hostname", "r");
        char line[80] = "";
        CHECK(file && fgets(line, sizeof line, file) && strcmp(line, "coresys-node\n") == 0,
              "/proc/sys/kernel/hostname reports it");
        if (file)
            fclose(file);
        CHECK(sethostname("a\0b", 3) == 0 && uname(&uts) == 0 && strcmp(uts.nodename, "a") == 0,
              "a name ends at its NUL");
        fflush(stdout);
        _exit(verdict_failures == 0 ? 0 : 1);
    }
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "the hostname child passed");
}

static void nobody_admin(void) {
    expect_errno(sethostname("nobody", 6), EPERM, "unprivileged sethostname");
    expect_errno(syscall(SYS_setdomainname, "nobody", 6), EPERM, "unprivileged setdomainname");
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    expect_errno(syscall(SYS_clock_settime, CLOCK_REALTIME, &now), EPERM,
                 "unprivileged clock_settime");
    struct timeval tv = {now.tv_sec, 0};
    expect_errno(syscall(SYS_settimeofday, &tv, NULL), EPERM, "unprivileged settimeofday");
    struct timex tx = {.modes = ADJ_FREQUENCY};
    expect_errno(adjtimex(&tx), EPERM, "unprivileged adjtimex ADJ_FREQUENCY");
    memset(&tx, 0, sizeof tx);
    CHECK(adjtimex(&tx) >= 0, "unprivileged adjtimex query");
    expect_errno(syscall(SYS_syslog, 0, NULL, 0), EPERM, "unprivileged syslog close");
    expect_errno(unshare(CLONE_NEWNS), EPERM, "unprivileged unshare CLONE_NEWNS");
    expect_errno(unshare(CLONE_NEWUTS), EPERM, "unprivileged unshare CLONE_NEWUTS");
}

static void check_clock_setting(void) {
    struct timespec bad = {1, 2000000000};
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    expect_errno(syscall(SYS_clock_settime, CLOCK_MONOTONIC, &now), EINVAL,
                 "clock_settime of CLOCK_MONOTONIC");
    expect_errno(syscall(SYS_clock_settime, 99, &now), EINVAL, "clock_settime of clock 99");
    expect_errno(syscall(SYS_clock_settime, CLOCK_REALTIME, &bad), EINVAL,
                 "clock_settime with bad nanoseconds");
    expect_errno(syscall(SYS_clock_settime, CLOCK_REALTIME, BAD_POINTER), EFAULT,
                 "clock_settime from a bad address");
    struct timeval tv = {now.tv_sec, 2000000};
    expect_errno(syscall(SYS_settimeofday, &tv, NULL), EINVAL,
                 "settimeofday with bad microseconds");
    tv.tv_sec = -1;
    tv.tv_usec = 0;
    expect_errno(syscall(SYS_settimeofday, &tv, NULL), EINVAL, "settimeofday before 1970");
    expect_errno(syscall(SYS_settimeofday, BAD_POINTER, NULL), EFAULT,
                 "settimeofday from a bad address");
    struct timex tx;
    memset(&tx, 0, sizeof tx);
    int state = adjtimex(&tx);
    CHECK(state >= TIME_OK && state <= TIME_ERROR, "adjtimex query returns the clock state");
    CHECK(tx.time.tv_sec >= now.tv_sec && tx.time.tv_sec < now.tv_sec + 60 && tx.tick > 0,
          "adjtimex reports the time");
    memset(&tx, 0, sizeof tx);
    tx.modes = ADJ_OFFSET_SS_READ;
    CHECK(adjtimex(&tx) >= 0, "adjtimex ADJ_OFFSET_SS_READ");
    tx.modes = 0x8000;
    expect_errno(adjtimex(&tx), EINVAL, "adjtimex ADJ_ADJTIME without single-shot");
    expect_errno(syscall(SYS_adjtimex, BAD_POINTER), EFAULT, "adjtimex on a bad address");
    memset(&tx, 0, sizeof tx);
    CHECK(syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx) >= 0,
          "clock_adjtime query of CLOCK_REALTIME");
    expect_code(syscall(SYS_clock_adjtime, CLOCK_MONOTONIC, &tx), EOPNOTSUPP, "EOPNOTSUPP",
                "clock_adjtime of CLOCK_MONOTONIC");
    expect_errno(syscall(SYS_clock_adjtime, 99, &tx), EINVAL, "clock_adjtime of clock 99");
    expect_errno(syscall(SYS_clock_adjtime, CLOCK_REALTIME, BAD_POINTER), EFAULT,
                 "clock_adjtime on a bad address");
}

static void check_syslog_restart_unshare(void) {
    char buffer[16];
    CHECK(syscall(SYS_syslog, 10, NULL, 0) > 0, "syslog SIZE_BUFFER");
    CHECK(syscall(SYS_syslog, 3, buffer, 0) == 0, "syslog READ_ALL of 0 bytes");
    expect_errno(syscall(SYS_syslog, 3, NULL, 16), EINVAL, "syslog READ_ALL without a buffer");
    expect_errno(syscall(SYS_syslog, 3, buffer, -1), EINVAL, "syslog READ_ALL of -1 bytes");
    expect_errno(syscall(SYS_syslog, 8, NULL, 0), EINVAL, "syslog CONSOLE_LEVEL 0");
    expect_errno(syscall(SYS_syslog, 99, NULL, 0), EINVAL, "syslog action 99");
    expect_errno(syscall(SYS_restart_syscall), EINTR, "restart_syscall with nothing to restart");
    CHECK(unshare(0) == 0, "unshare of nothing");
    CHECK(unshare(CLONE_FILES | CLONE_FS | CLONE_SYSVSEM) == 0,
          "unshare CLONE_FILES|CLONE_FS|CLONE_SYSVSEM single-threaded");
    expect_errno(unshare(1), EINVAL, "unshare of an unknown flag");
    CHECK(dup(1) >= 0, "the descriptor table still works");
}

static int readable(int fd, int timeout) {
    struct pollfd entry = {.fd = fd, .events = POLLIN};
    return poll(&entry, 1, timeout) == 1 && (entry.revents & POLLIN);
}

static void check_pidfds(void) {
    int self = (int)syscall(SYS_pidfd_open, getpid(), 0);
    CHECK(self >= 0 && (fcntl(self, F_GETFD) & FD_CLOEXEC), "pidfd_open of itself, close-on-exec");
    CHECK(!readable(self, 0), "a live process's pidfd is not readable");
    CHECK(syscall(SYS_pidfd_send_signal, self, 0, NULL, 0) == 0, "pidfd_send_signal of signal 0");
    expect_errno(syscall(SYS_pidfd_send_signal, self, 0, NULL, 8), EINVAL,
                 "pidfd_send_signal with flags");
    expect_errno(syscall(SYS_pidfd_send_signal, self, 99, NULL, 0), EINVAL,
                 "pidfd_send_signal of signal 99");
    expect_errno(syscall(SYS_pidfd_send_signal, 1, 0, NULL, 0), EBADF,
                 "pidfd_send_signal on another descriptor");
    char byte;
    expect_errno(read(self, &byte, 1), EINVAL, "read of a pidfd");
    expect_errno(syscall(SYS_pidfd_open, getpid(), 1), EINVAL, "pidfd_open with unknown flags");
    expect_errno(syscall(SYS_pidfd_open, -1, 0), EINVAL, "pidfd_open of pid -1");
    expect_code(syscall(SYS_pidfd_open, 999999, 0), ESRCH, "ESRCH",
                "pidfd_open of a missing process");
    fflush(stdout);
    pid_t child = fork();
    if (child == 0)
        _exit(3);
    int pidfd = (int)syscall(SYS_pidfd_open, child, O_NONBLOCK);
    CHECK(pidfd >= 0 && readable(pidfd, 10000), "a child's pidfd is readable once it ended");
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 3,
          "the child is reaped");
    expect_code(syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0), ESRCH, "ESRCH",
                "pidfd_send_signal to a reaped process");
    close(pidfd);
    close(self);
}

int main(void) {
    check_sigpending();
    check_times();
    check_priority();
    check_scheduling();
    check_affinity();
    check_capabilities();
    check_memory_locks();
    check_personality();
    check_hostname();
    check_clock_setting();
    check_syslog_restart_unshare();
    check_pidfds();
    as_nobody(nobody_admin);
    return verdict_finish();
}

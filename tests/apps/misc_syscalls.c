/* Calls every program makes at start or now and then: uname, the ids, the
 * clocks and sleeping, random bytes, the CPU affinity mask and resource
 * limits. Values that differ between hosts (ids, times, cpu counts) are checked
 * but not printed. */
#include <sched.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "verdict.h"

static long long nanoseconds(clockid_t clock) {
    struct timespec ts;
    if (clock_gettime(clock, &ts) != 0)
        return -1;
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(void) {
    struct utsname u;
    CHECK(uname(&u) == 0, "uname");
    printf("sysname: %s\n", u.sysname);
    printf("machine: %s\n", u.machine);
    CHECK(strcmp(u.sysname, "Linux") == 0, "sysname is Linux");
    CHECK(strcmp(u.machine, "x86_64") == 0, "machine is x86_64");
    CHECK(u.nodename[0] != '\0' && u.release[0] != '\0', "nodename and release are set");

    uid_t ruid, euid, suid;
    gid_t rgid, egid, sgid;
    CHECK(getuid() == geteuid() && getgid() == getegid(), "real and effective ids agree");
    CHECK(getresuid(&ruid, &euid, &suid) == 0 && ruid == getuid() && euid == geteuid(),
          "getresuid agrees with getuid");
    CHECK(getresgid(&rgid, &egid, &sgid) == 0 && rgid == getgid() && egid == getegid(),
          "getresgid agrees with getgid");

    long long a = nanoseconds(CLOCK_MONOTONIC);
    long long b = nanoseconds(CLOCK_MONOTONIC);
    CHECK(a > 0 && b >= a, "CLOCK_MONOTONIC does not go back");
    struct timespec ten_ms = {0, 10 * 1000 * 1000};
    CHECK(nanosleep(&ten_ms, NULL) == 0, "nanosleep 10 ms");
    long long c = nanoseconds(CLOCK_MONOTONIC);
    CHECK(c - b >= 10 * 1000 * 1000, "nanosleep sleeps at least 10 ms");
    CHECK(c - b < 5LL * 1000 * 1000 * 1000, "nanosleep 10 ms returns within 5 s");

    long long real = nanoseconds(CLOCK_REALTIME);
    CHECK(real > 1577836800LL * 1000000000LL, "CLOCK_REALTIME is after 2020");
    struct timeval tv;
    CHECK(gettimeofday(&tv, NULL) == 0 && llabs((long long)tv.tv_sec - real / 1000000000LL) <= 2,
          "gettimeofday agrees with CLOCK_REALTIME");
    time_t now = time(NULL);
    CHECK(llabs((long long)now - real / 1000000000LL) <= 2, "time agrees with CLOCK_REALTIME");

    unsigned char random_bytes[16] = {0};
    CHECK(getrandom(random_bytes, sizeof(random_bytes), 0) == (ssize_t)sizeof(random_bytes),
          "getrandom 16 bytes");
    int nonzero = 0;
    for (size_t i = 0; i < sizeof(random_bytes); i++)
        nonzero |= random_bytes[i];
    CHECK(nonzero, "getrandom bytes are not all zero");

    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    CHECK(sched_getaffinity(0, sizeof(cpus), &cpus) == 0, "sched_getaffinity");
    CHECK(CPU_COUNT(&cpus) >= 1, "the affinity mask has at least one cpu");
    CHECK(sysconf(_SC_NPROCESSORS_ONLN) >= 1, "sysconf reports at least one online cpu");

    struct rlimit stack_limit;
    CHECK(syscall(SYS_prlimit64, 0, RLIMIT_STACK, NULL, &stack_limit) == 0,
          "prlimit64 reads RLIMIT_STACK");
    CHECK(stack_limit.rlim_cur == RLIM_INFINITY || stack_limit.rlim_cur <= stack_limit.rlim_max,
          "RLIMIT_STACK soft limit is within the hard limit");
    struct rlimit via_getrlimit;
    CHECK(getrlimit(RLIMIT_STACK, &via_getrlimit) == 0 &&
              via_getrlimit.rlim_cur == stack_limit.rlim_cur,
          "getrlimit agrees with prlimit64");
    return verdict_finish();
}

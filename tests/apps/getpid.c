/* Process ids under myst come from the kernel's own numbering, not the host's:
 * the first program's pid is small. Only meaningful under myst (a native run
 * gets a host pid), so the runner runs it under myst alone and compares with a
 * fixed expected output. The other checks hold everywhere. */
#include <sys/syscall.h>
#include <unistd.h>

#include "verdict.h"

int main(void) {
    pid_t pid = getpid();
    CHECK(pid > 0, "getpid is positive");
    CHECK(pid == (pid_t)syscall(SYS_getpid), "libc getpid matches the raw call");
    CHECK(pid == (pid_t)syscall(SYS_gettid), "the main thread's tid is the pid");
    CHECK(getppid() >= 0, "getppid is not negative");
    printf("pid_is_small: %s\n", pid < 100 ? "yes" : "no");
    if (pid >= 100)
        verdict_failures++;
    return verdict_finish();
}

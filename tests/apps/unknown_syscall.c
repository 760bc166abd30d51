/* System call numbers that Linux x86-64 does not have must fail with ENOSYS,
 * and the program must go on running (no kernel panic, no signal). */
#include <sys/syscall.h>
#include <unistd.h>

#include "verdict.h"

int main(void) {
    /* 400 lies in the unassigned gap between uprobe (336) and
     * pidfd_send_signal (424) (335 and 336 were taken by uretprobe/uprobe in
     * Linux 6.11+, whose 335 answers with SIGILL); 1000 and 100000 are beyond
     * every table. */
    const long numbers[] = {400, 1000, 100000};
    for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
        char what[64];
        snprintf(what, sizeof(what), "syscall %ld", numbers[i]);
        expect_errno(syscall(numbers[i], 0, 0, 0, 0, 0, 0), ENOSYS, what);
    }
    CHECK(getpid() > 0, "the program still runs after unknown syscalls");
    return verdict_finish();
}

/* A signal sent to a thread that has just made a system call and now spins in
 * its own code without making another must still reach it, as on Linux. The
 * interrupt that tells the thread may arrive while it is on its way out of the
 * kernel, after the kernel last looked for pending signals; it must then be
 * taken in program code, not wait for the next system call, which never
 * comes (the spinner would spin forever). 20000 rounds: one such landing in
 * about every 20000 was seen before the fix. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "verdict.h"

#define ROUNDS 20000

static atomic_int handled, armed, stop;

static void on_signal(int signal) {
    (void)signal;
    atomic_fetch_add(&handled, 1);
}

/* Round i: one system call, then spin until the i-th signal was handled. */
static void* spinner(void* argument) {
    (void)argument;
    for (int i = 0; !atomic_load(&stop); i++) {
        atomic_store(&armed, i + 1);
        syscall(SYS_getppid);
        while (atomic_load(&handled) < i + 1 && !atomic_load(&stop)) {
        }
    }
    return NULL;
}

static double seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

int main(void) {
    signal(SIGUSR1, on_signal);
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, spinner, NULL) == 0, "start the spinning thread");
    int late = 0, done = 0;
    for (; done < ROUNDS; done++) {
        while (atomic_load(&armed) < done + 1) {
        }
        pthread_kill(thread, SIGUSR1);
        double sent = seconds();
        while (atomic_load(&handled) < done + 1 && seconds() - sent < 2.0) {
        }
        if (atomic_load(&handled) < done + 1) {
            late++;
            break;
        }
    }
    atomic_store(&stop, 1);
    pthread_join(thread, NULL);
    CHECK(late == 0, "%d signals to a thread spinning after a system call all arrive within 2 s",
          ROUNDS);
    return verdict_finish();
}

/* Signals and threads: sigsuspend, pause, sigwaitinfo/sigtimedwait,
 * sigqueue with a value, a process-directed signal going to the one thread
 * that does not block it, and the handler's mask after sigsuspend. */
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "verdict.h"

static volatile pid_t handler_tid;
static volatile int handler_signal;

static pid_t current_tid(void) {
    return (pid_t)syscall(SYS_gettid);
}

static void on_signal(int signal) {
    handler_signal = signal;
    handler_tid = current_tid();
}

static void install(int signal) {
    struct sigaction action = {0};
    action.sa_handler = on_signal;
    sigaction(signal, &action, NULL);
}

static void block(int signal) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signal);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static volatile pid_t receiver_tid;
static volatile int receiver_ready, receiver_done;
static void* unblocking_receiver(void* argument) {
    (void)argument;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    receiver_tid = current_tid();
    receiver_ready = 1;
    while (handler_signal != SIGUSR2) {
        struct timespec pause = {0, 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    receiver_done = 1;
    return NULL;
}

static void check_process_signal_routing(void) {
    install(SIGUSR2);
    block(SIGUSR2);  // the main thread blocks it; the new thread unblocks it
    pthread_t thread;
    pthread_create(&thread, NULL, unblocking_receiver, NULL);
    while (!receiver_ready)
        sched_yield();
    kill(getpid(), SIGUSR2);
    pthread_join(thread, NULL);
    CHECK(receiver_done && handler_tid == receiver_tid,
          "kill() reaches the thread that does not block the signal");
}

static volatile int sender_started;
static void* send_later(void* argument) {
    int signal = (int)(long)argument;
    sender_started = 1;
    struct timespec pause = {0, 30 * 1000 * 1000};
    nanosleep(&pause, NULL);
    union sigval value = {.sival_int = 42};
    sigqueue(getpid(), signal, value);
    return NULL;
}

static void check_sigwaitinfo(void) {
    block(SIGRTMIN + 1);
    pthread_t thread;
    pthread_create(&thread, NULL, send_later, (void*)(long)(SIGRTMIN + 1));
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN + 1);
    siginfo_t info;
    int got = sigwaitinfo(&set, &info);
    pthread_join(thread, NULL);
    CHECK(got == SIGRTMIN + 1, "sigwaitinfo takes a blocked signal another thread queued");
    CHECK(info.si_code == SI_QUEUE && info.si_value.sival_int == 42,
          "with its sigqueue value and code");
    struct timespec short_wait = {0, 20 * 1000 * 1000};
    errno = 0;
    got = sigtimedwait(&set, &info, &short_wait);
    CHECK(got == -1 && errno == EAGAIN, "sigtimedwait times out with EAGAIN (%s)",
          errno_name(errno));
    raise(SIGRTMIN + 1);
    struct timespec zero = {0, 0};
    CHECK(sigtimedwait(&set, &info, &zero) == SIGRTMIN + 1, "a pending one is taken at once");
}

/* pause() has no way to close the race with a signal that comes before it
 * starts: send until it has returned. */
static volatile int stop_sending;
static void* send_until_stopped(void* argument) {
    int signal = (int)(long)argument;
    while (!stop_sending) {
        struct timespec pause = {0, 30 * 1000 * 1000};
        nanosleep(&pause, NULL);
        kill(getpid(), signal);
    }
    return NULL;
}

static void check_sigsuspend(void) {
    install(SIGUSR1);
    block(SIGUSR1);
    handler_signal = 0;
    pthread_t thread;
    pthread_create(&thread, NULL, send_later, (void*)(long)SIGUSR1);
    sigset_t during;
    sigemptyset(&during);
    errno = 0;
    int result = sigsuspend(&during);
    pthread_join(thread, NULL);
    CHECK(result == -1 && errno == EINTR, "sigsuspend returns EINTR (%s)", errno_name(errno));
    CHECK(handler_signal == SIGUSR1, "after the handler ran");
    sigset_t now;
    pthread_sigmask(SIG_BLOCK, NULL, &now);
    CHECK(sigismember(&now, SIGUSR1), "the old mask is back (SIGUSR1 blocked again)");

    sigset_t unblock;
    sigemptyset(&unblock);
    sigaddset(&unblock, SIGUSR1);
    pthread_sigmask(SIG_UNBLOCK, &unblock, NULL);
    handler_signal = 0;
    pthread_create(&thread, NULL, send_until_stopped, (void*)(long)SIGUSR1);
    errno = 0;
    result = pause();
    stop_sending = 1;
    pthread_join(thread, NULL);
    CHECK(result == -1 && errno == EINTR && handler_signal == SIGUSR1,
          "pause returns EINTR after a handler (%s)", errno_name(errno));
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    check_process_signal_routing();
    check_sigwaitinfo();
    check_sigsuspend();
    return verdict_finish();
}

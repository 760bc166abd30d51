/* Signals and threads: sigsuspend, pause, sigwaitinfo/sigtimedwait,
 * sigqueue with a value, a process-directed signal going to the one thread
 * that does not block it, the handler's mask after sigsuspend, and a
 * thread that faults running the SIGSEGV handler on its own alternate stack
 * while the other threads go on. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
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

static __thread sigjmp_buf fault_return;
static __thread volatile uintptr_t fault_address;
static volatile pid_t fault_tid;
static volatile int fault_on_alternate_stack;

static void on_fault(int signal, siginfo_t* info, void* context) {
    (void)signal;
    (void)context;
    stack_t stack;
    sigaltstack(NULL, &stack);
    fault_on_alternate_stack = (stack.ss_flags & SS_ONSTACK) != 0;
    fault_tid = current_tid();
    fault_address = (uintptr_t)info->si_addr;
    siglongjmp(fault_return, 1);
}

static volatile uintptr_t bad_address = 0x10; /* volatile: the compiler cannot see the fault */

static void* crashing_thread(void* argument) {
    (void)argument;
    static char alternate[65536];
    stack_t stack = {.ss_sp = alternate, .ss_size = sizeof alternate, .ss_flags = 0};
    sigaltstack(&stack, NULL);
    if (sigsetjmp(fault_return, 1) == 0)
        *(volatile int*)bad_address = 1;
    return (void*)(uintptr_t)(fault_tid == current_tid() && fault_address == 0x10);
}

static void check_crashing_thread(void) {
    struct sigaction action = {0};
    action.sa_sigaction = on_fault;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGSEGV, &action, NULL);
    pthread_t thread;
    void* recovered = NULL;
    if (pthread_create(&thread, NULL, crashing_thread, NULL) != 0 ||
        pthread_join(thread, &recovered) != 0)
        return verdict(0, "pthread_create/join");
    CHECK(recovered != NULL, "a faulting thread runs its SIGSEGV handler with the fault address");
    CHECK(fault_on_alternate_stack, "on the thread's own alternate stack");
    CHECK(fault_tid != current_tid(), "in the faulting thread, not the main one");
    signal(SIGSEGV, SIG_DFL);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    check_process_signal_routing();
    check_sigwaitinfo();
    check_sigsuspend();
    check_crashing_thread();
    return verdict_finish();
}

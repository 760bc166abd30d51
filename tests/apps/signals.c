/* Signal handlers run by the kernel: a signal the program sends itself, one
 * that waits while blocked and arrives on unblocking, SA_SIGINFO details,
 * SA_RESETHAND, the alternate signal stack, floating-point state kept across
 * a handler, and a SIGSEGV from a write to a read-only page. */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "verdict.h"

static volatile sig_atomic_t received;
static volatile int info_code, info_signo;
static volatile uintptr_t handler_stack;
static sigjmp_buf fault_return;

static void on_signal(int signal) {
    received = signal;
}

static void on_signal_info(int signal, siginfo_t* info, void* context) {
    (void)context;
    received = signal;
    info_signo = info->si_signo;
    info_code = info->si_code;
}

static void on_signal_stack(int signal) {
    int local = 0;
    received = signal;
    handler_stack = (uintptr_t)&local;
}

static void on_fault(int signal) {
    (void)signal;
    siglongjmp(fault_return, 1);
}

static void install(int signal, void (*handler)(int), int flags) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    action.sa_flags = flags;
    sigemptyset(&action.sa_mask);
    sigaction(signal, &action, NULL);
}

int main(void) {
    install(SIGUSR1, on_signal, 0);
    received = 0;
    CHECK(raise(SIGUSR1) == 0 && received == SIGUSR1, "a handler runs for a raised signal");

    volatile double before = 1.25;
    received = 0;
    raise(SIGUSR1);
    CHECK(before * 4 == 5.0, "floating-point values survive a handler");

    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    received = 0;
    raise(SIGUSR1);
    CHECK(received == 0, "a blocked signal waits");
    sigprocmask(SIG_SETMASK, &old, NULL);
    CHECK(received == SIGUSR1, "the waiting signal arrives when unblocked");

    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_signal_info;
    action.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR2, &action, NULL);
    received = 0;
    raise(SIGUSR2);
    CHECK(received == SIGUSR2 && info_signo == SIGUSR2 && info_code == SI_TKILL,
          "SA_SIGINFO handlers get the signal number and si_code SI_TKILL");

    install(SIGUSR1, on_signal, SA_RESETHAND);
    raise(SIGUSR1);
    struct sigaction now;
    sigaction(SIGUSR1, NULL, &now);
    CHECK(now.sa_handler == SIG_DFL, "SA_RESETHAND restores the default after one delivery");

    static char alternate[64 * 1024];
    stack_t stack = {.ss_sp = alternate, .ss_size = sizeof alternate, .ss_flags = 0};
    CHECK(sigaltstack(&stack, NULL) == 0, "sigaltstack accepts a 64 KiB stack");
    install(SIGUSR1, on_signal_stack, SA_ONSTACK);
    raise(SIGUSR1);
    CHECK(handler_stack >= (uintptr_t)alternate &&
              handler_stack < (uintptr_t)alternate + sizeof alternate,
          "an SA_ONSTACK handler runs on the alternate stack");

    install(SIGCHLD, SIG_DFL, 0);
    CHECK(raise(SIGCHLD) == 0, "SIGCHLD's default action ignores it");
    install(SIGUSR1, SIG_IGN, 0);
    CHECK(raise(SIGUSR1) == 0, "an ignored signal does nothing");

    volatile char* page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    install(SIGSEGV, on_fault, 0);
    int faulted = 0;
    if (sigsetjmp(fault_return, 1) == 0)
        *page = 1;
    else
        faulted = 1;
    CHECK(faulted, "writing a read-only page runs the SIGSEGV handler");
    return verdict_finish();
}

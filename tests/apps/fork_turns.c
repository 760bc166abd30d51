/* fork(2) where parent and child both keep running without exec, as test
 * harnesses and pre-forking servers do: they wait for each other (futex
 * checkpoints in shared memory, pipes, signals), spin on shared flags, and
 * each sees its own copy of its private memory (globals, heap, stack).
 * Under myst's ForkMode pseudo the processes take turns on the pages; every
 * check must come out as on Linux. Only the parent prints; children report
 * through exit statuses. */
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "verdict.h"

/* musl has no <linux/futex.h>: the shared (non-private) operations. */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1

static int global_value = 1;

static void futex_wait(volatile uint32_t* word, uint32_t value) {
    while (*word == value)
        syscall(SYS_futex, word, FUTEX_WAIT, value, NULL, NULL, 0);
}

static void futex_wake(volatile uint32_t* word) {
    __atomic_add_fetch(word, 1, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static int exit_code_of(pid_t pid) {
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

static void* shared_page(void) {
    return mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
}

static void sleep_ms(long ms) {
    struct timespec delay = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&delay, NULL);
}

/* LTP's checkpoints: the child waits on a futex in shared memory until the
 * parent, still running after fork, wakes it; then the other way round. */
static void checkpoints(void) {
    volatile uint32_t* words = shared_page();
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        futex_wait(&words[0], 0);
        words[2] = 42;
        futex_wake(&words[1]);
        _exit(7);
    }
    sleep_ms(5);
    futex_wake(&words[0]);
    futex_wait(&words[1], 0);
    CHECK(words[2] == 42, "the child ran after the parent's wake and woke the parent back");
    CHECK(exit_code_of(child) == 7, "the checkpoint child exits 7");
}

/* Each process has its own globals, heap and stack after fork, while both run. */
static void private_memory(void) {
    int to_child[2], to_parent[2];
    CHECK(pipe(to_child) == 0 && pipe(to_parent) == 0, "pipes for the private-memory check");
    char* heap = malloc(1 << 16);
    memset(heap, 'p', 1 << 16);
    int on_stack = 5;
    global_value = 1;
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        global_value = 2;
        memset(heap, 'c', 1 << 16);
        on_stack = 6;
        char* fresh = malloc(1 << 20);
        memset(fresh, 'C', 1 << 20);
        char byte = 'x';
        if (write(to_parent[1], &byte, 1) != 1 || read(to_child[0], &byte, 1) != 1)
            _exit(90);
        int bad = global_value != 2 || heap[12345] != 'c' || on_stack != 6 || fresh[777777] != 'C';
        _exit(bad ? 91 : 0);
    }
    char byte;
    CHECK(read(to_parent[0], &byte, 1) == 1, "the child changed its memory and said so");
    CHECK(global_value == 1, "the parent's global is its own");
    CHECK(heap[12345] == 'p' && heap[(1 << 16) - 1] == 'p', "the parent's heap is its own");
    CHECK(on_stack == 5, "the parent's stack is its own");
    global_value = 3;
    memset(heap, 'q', 1 << 16);
    char* fresh = malloc(1 << 20);
    memset(fresh, 'P', 1 << 20);
    CHECK(write(to_child[1], &byte, 1) == 1, "the parent answers");
    CHECK(exit_code_of(child) == 0, "the child still saw its own global, heap and stack");
    CHECK(global_value == 3 && heap[5] == 'q' && fresh[777777] == 'P',
          "the parent keeps what it wrote while the child ran");
    free(fresh);
    free(heap);
    for (int i = 0; i < 2; i++) {
        close(to_child[i]);
        close(to_parent[i]);
    }
}

/* A pipe ping-pong: the turn passes at every read. */
static void ping_pong(void) {
    int to_child[2], to_parent[2];
    CHECK(pipe(to_child) == 0 && pipe(to_parent) == 0, "pipes for the ping-pong");
    int rounds = 300, counter = 0;
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        int value;
        for (int i = 0; i < rounds; i++) {
            if (read(to_child[0], &value, sizeof value) != sizeof value)
                _exit(80);
            counter += 2;
            value += 1;
            if (write(to_parent[1], &value, sizeof value) != sizeof value)
                _exit(81);
        }
        _exit(counter == 2 * rounds ? 0 : 82);
    }
    int value = 0, ok = 1;
    for (int i = 0; i < rounds && ok; i++) {
        ok = write(to_child[1], &value, sizeof value) == sizeof value &&
             read(to_parent[0], &value, sizeof value) == sizeof value;
        counter += 1;
    }
    CHECK(ok && value == rounds, "300 round trips between parent and child");
    CHECK(counter == rounds, "the parent's counter counted only its own steps");
    CHECK(exit_code_of(child) == 0, "the child's counter counted only its own steps");
    for (int i = 0; i < 2; i++) {
        close(to_child[i]);
        close(to_parent[i]);
    }
}

/* Neither waits in the kernel: one spins on a flag the other sets later,
 * so the one spinning must be made to give the other a turn. */
static void spinning(void) {
    volatile uint32_t* flags = shared_page();
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        while (flags[0] == 0) {
        }
        /* Some work in program code, then the answer. */
        volatile uint64_t sum = 0;
        for (uint64_t i = 0; i < 20000000; i++)
            sum += i;
        flags[1] = sum == 199999990000000ull ? 1 : 2;
        _exit(0);
    }
    volatile uint64_t sum = 0;
    for (uint64_t i = 0; i < 20000000; i++)
        sum += i;
    flags[0] = 1;
    while (flags[1] == 0) {
    }
    CHECK(flags[1] == 1 && sum == 199999990000000ull, "parent and child spin in turn and finish");
    CHECK(exit_code_of(child) == 0, "the spinning child exits 0");
}

/* A pre-forking server: workers share one task pipe and one result pipe. */
static void workers(void) {
    int tasks[2], results[2];
    CHECK(pipe(tasks) == 0 && pipe(results) == 0, "pipes for the workers");
    pid_t pids[3];
    volatile uint32_t* handled = shared_page();
    fflush(stdout);
    for (int w = 0; w < 3; w++) {
        pids[w] = fork();
        if (pids[w] == 0) {
            close(tasks[1]);
            close(results[0]);
            int task, done = 0;
            while (read(tasks[0], &task, sizeof task) == sizeof task) {
                int square = task * task;
                if (write(results[1], &square, sizeof square) != sizeof square)
                    _exit(70);
                done++;
            }
            __atomic_add_fetch(&handled[0], done, __ATOMIC_SEQ_CST);
            _exit(0);
        }
    }
    close(tasks[0]);
    close(results[1]);
    long expected = 0;
    for (int task = 1; task <= 300; task++) {
        expected += (long)task * task;
        if (write(tasks[1], &task, sizeof task) != sizeof task)
            break;
    }
    close(tasks[1]);
    long total = 0;
    int square, count = 0;
    while (read(results[0], &square, sizeof square) == sizeof square) {
        total += square;
        count++;
    }
    close(results[0]);
    int failed = 0;
    for (int w = 0; w < 3; w++)
        failed += exit_code_of(pids[w]) != 0;
    CHECK(count == 300 && total == expected, "three workers squared all 300 tasks");
    CHECK(failed == 0 && handled[0] == 300, "the workers' counts add up to 300");
}

static volatile sig_atomic_t got_signal;

static void on_usr1(int signal) {
    got_signal = signal;
}

/* A signal to a child that waits in pause() while its parent runs on. */
static void signal_to_running_child(void) {
    int ready[2];
    CHECK(pipe(ready) == 0, "a pipe for the signal check");
    signal(SIGUSR1, on_usr1);
    got_signal = 0;
    /* Blocked until sigsuspend, so that it cannot come before the wait. */
    sigset_t usr1, old_mask;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, &old_mask);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        char byte = 'r';
        if (write(ready[1], &byte, 1) != 1)
            _exit(60);
        while (!got_signal)
            sigsuspend(&old_mask);
        _exit(got_signal == SIGUSR1 ? 5 : 61);
    }
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    char byte;
    CHECK(read(ready[0], &byte, 1) == 1, "the child is ready for its signal");
    CHECK(kill(child, SIGUSR1) == 0, "kill(child, SIGUSR1)");
    CHECK(exit_code_of(child) == 5, "the child's handler ran in the child");
    CHECK(got_signal == 0, "the parent's copy of the flag is untouched");
    signal(SIGUSR1, SIG_DFL);
    close(ready[0]);
    close(ready[1]);
}

/* Three generations alive at once, each with its own copy. */
static void grandchild(void) {
    int pipes[2];
    CHECK(pipe(pipes) == 0, "a pipe for three generations");
    global_value = 10;
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        global_value = 20;
        pid_t grandchild_pid = fork();
        if (grandchild_pid == 0) {
            global_value = 30;
            int value = global_value;
            if (write(pipes[1], &value, sizeof value) != sizeof value)
                _exit(50);
            _exit(0);
        }
        int value = 0;
        if (read(pipes[0], &value, sizeof value) != sizeof value)
            _exit(51);
        int code = exit_code_of(grandchild_pid);
        _exit(value == 30 && global_value == 20 && code == 0 ? 0 : 52);
    }
    CHECK(exit_code_of(child) == 0, "child and grandchild each kept their own global");
    CHECK(global_value == 10, "the grandparent kept its own global");
    close(pipes[0]);
    close(pipes[1]);
}

/* A child killed while its parent runs: the parent sees the signal. */
static void killed_child(void) {
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        for (;;)
            pause();
    }
    sleep_ms(10);
    CHECK(kill(child, SIGKILL) == 0, "kill(child, SIGKILL)");
    CHECK(exit_code_of(child) == 100 + SIGKILL, "the parent sees its child killed by SIGKILL");
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    checkpoints();
    private_memory();
    ping_pong();
    spinning();
    workers();
    signal_to_running_child();
    grandchild();
    killed_child();
    return verdict_failures == 0 ? 0 : 1;
}

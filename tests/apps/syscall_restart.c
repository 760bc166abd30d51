/* Interrupted system calls, as signal(7) describes them: a handler with
 * SA_RESTART makes read, write and wait4 go on after it returns; without
 * SA_RESTART they fail with EINTR; poll, nanosleep and sigsuspend-like
 * waits fail with EINTR either way. SIGALRM from setitimer interrupts a
 * call that a helper thread (or a spawned child) finishes later. */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "verdict.h"

extern char** environ;

static volatile sig_atomic_t alarms;
static int channel[2];

static void on_alarm(int signal) {
    (void)signal;
    alarms++;
}

static void set_alarm_handler(int flags) {
    struct sigaction action = {0};
    action.sa_handler = on_alarm;
    action.sa_flags = flags;
    sigemptyset(&action.sa_mask);
    sigaction(SIGALRM, &action, NULL);
    alarms = 0;
}

/* SIGALRM in 50 ms, once. */
static void alarm_soon(void) {
    struct itimerval timer = {{0, 0}, {0, 50000}};
    setitimer(ITIMER_REAL, &timer, NULL);
}

static void* write_later(void* unused) {
    (void)unused;
    usleep(300000);
    if (write(channel[1], "late", 4) != 4)
        _exit(3);
    return NULL;
}

/* A read of an empty pipe that SIGALRM interrupts at 50 ms and a thread
 * satisfies at 300 ms: returns read's result, errno in *error. */
static ssize_t interrupted_read(int flags, int* error) {
    set_alarm_handler(flags);
    if (pipe(channel) != 0)
        return -2;
    pthread_t writer;
    pthread_create(&writer, NULL, write_later, NULL);
    alarm_soon();
    char buffer[16];
    errno = 0;
    ssize_t got = read(channel[0], buffer, sizeof buffer);
    *error = errno;
    pthread_join(writer, NULL);
    close(channel[0]);
    close(channel[1]);
    return got;
}

static void check_read(void) {
    int error = 0;
    ssize_t got = interrupted_read(SA_RESTART, &error);
    CHECK(got == 4 && alarms == 1, "SA_RESTART: read goes on after the handler and gets the data");
    got = interrupted_read(0, &error);
    CHECK(got == -1 && error == EINTR && alarms == 1, "no SA_RESTART: read fails with EINTR");
}

static void check_never_restarted(void) {
    set_alarm_handler(SA_RESTART);
    if (pipe(channel) != 0)
        return verdict(0, "pipe");
    struct pollfd ready = {channel[0], POLLIN, 0};
    alarm_soon();
    errno = 0;
    CHECK(poll(&ready, 1, 2000) == -1 && errno == EINTR && alarms == 1,
          "SA_RESTART: poll still fails with EINTR");
    alarm_soon();
    struct timespec nap = {2, 0}, left = {0, 0};
    errno = 0;
    CHECK(nanosleep(&nap, &left) == -1 && errno == EINTR && left.tv_sec >= 1 && alarms == 2,
          "SA_RESTART: nanosleep fails with EINTR and reports the time left");
    close(channel[0]);
    close(channel[1]);
}

static void check_wait(char* self) {
    set_alarm_handler(SA_RESTART);
    char* args[] = {self, "nap", NULL};
    pid_t child;
    if (posix_spawn(&child, self, NULL, NULL, args, environ) != 0)
        return verdict(0, "posix_spawn");
    alarm_soon();
    int status = 0;
    pid_t reaped = waitpid(child, &status, 0);
    CHECK(reaped == child && WIFEXITED(status) && WEXITSTATUS(status) == 5 && alarms == 1,
          "SA_RESTART: waitpid goes on after the handler and reaps the child");

    set_alarm_handler(0);
    if (posix_spawn(&child, self, NULL, NULL, args, environ) != 0)
        return verdict(0, "posix_spawn");
    alarm_soon();
    errno = 0;
    CHECK(waitpid(child, &status, 0) == -1 && errno == EINTR, "no SA_RESTART: waitpid: EINTR");
    CHECK(waitpid(child, &status, 0) == child && WEXITSTATUS(status) == 5,
          "the child is reaped by the next waitpid");
}

int main(int argc, char** argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "nap") == 0) { /* a child outliving the alarm */
        usleep(300000);
        return 5;
    }
    char self[512];
    ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
    if (length <= 0)
        return 1;
    self[length] = '\0';
    check_read();
    check_never_restarted();
    check_wait(self);
    return verdict_failures ? 1 : 0;
}

/* epoll (level and edge triggered, one-shot, hang-ups, nesting, waits on a
 * mix of descriptors) and the event descriptors it watches: eventfd
 * (counter and semaphore), timerfd (one-shot, periodic, absolute) and
 * signalfd; the errors of bad arguments. Threads play the other end. */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "verdict.h"

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif

static void pause_ms(int milliseconds) {
    struct timespec delay = {milliseconds / 1000, (milliseconds % 1000) * 1000000L};
    nanosleep(&delay, NULL);
}

static int wait_events(int epfd, struct epoll_event* events, int timeout) {
    return epoll_wait(epfd, events, 8, timeout);
}

static int add(int epfd, int fd, uint32_t events) {
    struct epoll_event event = {.events = events, .data.u64 = (uint64_t)fd + 1000};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
}

static void level_and_edge(void) {
    int fds[2];
    pipe2(fds, O_NONBLOCK);
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    CHECK(epfd >= 0 && fcntl(epfd, F_GETFD) == FD_CLOEXEC, "epoll_create1(EPOLL_CLOEXEC)");
    struct epoll_event events[8];
    CHECK(add(epfd, fds[0], EPOLLIN) == 0, "watch a read end, level triggered");
    CHECK(wait_events(epfd, events, 0) == 0, "empty pipe: no event");
    write(fds[1], "ab", 2);
    CHECK(wait_events(epfd, events, 0) == 1 && events[0].events == EPOLLIN &&
              events[0].data.u64 == (uint64_t)fds[0] + 1000,
          "data: EPOLLIN with the item's data");
    CHECK(wait_events(epfd, events, 0) == 1, "level triggered: reported again while readable");

    struct epoll_event edge = {.events = EPOLLIN | EPOLLET, .data.u64 = 7};
    CHECK(epoll_ctl(epfd, EPOLL_CTL_MOD, fds[0], &edge) == 0, "switch to edge triggered");
    CHECK(wait_events(epfd, events, 0) == 1 && events[0].data.u64 == 7,
          "edge triggered: reported once after the change");
    CHECK(wait_events(epfd, events, 0) == 0, "edge triggered: not again without new data");
    write(fds[1], "c", 1);
    CHECK(wait_events(epfd, events, 0) == 1, "edge triggered: new data is a new edge");

    struct epoll_event once = {.events = EPOLLIN | EPOLLONESHOT, .data.u64 = 8};
    CHECK(epoll_ctl(epfd, EPOLL_CTL_MOD, fds[0], &once) == 0, "switch to one-shot");
    CHECK(wait_events(epfd, events, 0) == 1, "one-shot: reported once");
    write(fds[1], "d", 1);
    CHECK(wait_events(epfd, events, 0) == 0, "one-shot: disabled after it fired");
    CHECK(epoll_ctl(epfd, EPOLL_CTL_MOD, fds[0], &once) == 0 && wait_events(epfd, events, 0) == 1,
          "one-shot: EPOLL_CTL_MOD arms it again");

    CHECK(add(epfd, fds[1], EPOLLOUT) == 0, "watch the write end too");
    struct pollfd probe = {epfd, POLLIN, 0};
    CHECK(poll(&probe, 1, 0) == 1 && probe.revents == POLLIN,
          "an epoll fd with events is readable");
    CHECK(epoll_ctl(epfd, EPOLL_CTL_DEL, fds[1], NULL) == 0, "EPOLL_CTL_DEL");
    expect_errno(epoll_ctl(epfd, EPOLL_CTL_DEL, fds[1], NULL), ENOENT, "EPOLL_CTL_DEL twice");
    expect_errno(add(epfd, fds[0], EPOLLIN), EEXIST, "EPOLL_CTL_ADD twice");

    struct epoll_event level = {.events = EPOLLIN, .data.u64 = 9};
    epoll_ctl(epfd, EPOLL_CTL_MOD, fds[0], &level);
    char buffer[16];
    read(fds[0], buffer, sizeof buffer);
    close(fds[1]);
    CHECK(wait_events(epfd, events, 0) == 1 && events[0].events == EPOLLHUP,
          "writer gone: EPOLLHUP alone on an empty read end");
    int again[2];
    pipe(again);
    add(epfd, again[1], EPOLLOUT);
    close(again[0]);
    epoll_ctl(epfd, EPOLL_CTL_DEL, fds[0], NULL);
    CHECK(wait_events(epfd, events, 0) == 1 && events[0].events == (EPOLLOUT | EPOLLERR),
          "reader gone: EPOLLOUT | EPOLLERR on the write end");
    close(again[1]);
    CHECK(wait_events(epfd, events, 0) == 0,
          "closing the last fd of a description removes its item");
    close(fds[0]);
    close(epfd);
}

static void* late_event(void* argument) {
    pause_ms(30);
    uint64_t one = 1;
    write(*(int*)argument, &one, sizeof one);
    return NULL;
}

static void mixed_wait(void) {
    int epfd = epoll_create(1);
    int event = eventfd(0, 0);
    int timer = timerfd_create(CLOCK_MONOTONIC, 0);
    int fds[2];
    pipe(fds);
    add(epfd, event, EPOLLIN);
    add(epfd, timer, EPOLLIN);
    add(epfd, fds[0], EPOLLIN);
    pthread_t thread;
    pthread_create(&thread, NULL, late_event, &event);
    struct epoll_event events[8];
    CHECK(wait_events(epfd, events, -1) == 1 && events[0].data.u64 == (uint64_t)event + 1000,
          "epoll_wait sleeps until another thread writes an eventfd");
    pthread_join(thread, NULL);
    uint64_t count = 0;
    read(event, &count, sizeof count);

    struct itimerspec soon = {{0, 0}, {0, 20000000}};
    timerfd_settime(timer, 0, &soon, NULL);
    CHECK(wait_events(epfd, events, -1) == 1 && events[0].data.u64 == (uint64_t)timer + 1000,
          "epoll_wait sleeps until a timerfd expires");
    struct timespec two_ms = {0, 2000000};
    CHECK(syscall(SYS_epoll_pwait2, epfd, events, 8, &two_ms, NULL, 8) == 1,
          "epoll_pwait2 with a timespec timeout");
    sigset_t none;
    sigemptyset(&none);
    CHECK(epoll_pwait(epfd, events, 8, 0, &none) == 1, "epoll_pwait with a mask");
    read(timer, &count, sizeof count);
    CHECK(count == 1, "a one-shot timer expired once");
    CHECK(wait_events(epfd, events, 20) == 0, "epoll_wait times out");

    int outer = epoll_create1(0);
    add(outer, epfd, EPOLLIN);
    write(fds[1], "x", 1);
    CHECK(wait_events(outer, events, 0) == 1 && events[0].data.u64 == (uint64_t)epfd + 1000,
          "an epoll fd inside another reports its items' readiness");
    expect_errno(add(epfd, outer, EPOLLIN), ELOOP, "epoll instances watching each other");
    close(outer);

    /* Bad arguments, in Linux's order of checks. */
    expect_errno(add(epfd, epfd, EPOLLIN), EINVAL, "epoll_ctl on itself");
    expect_errno(add(epfd, 99, EPOLLIN), EBADF, "epoll_ctl on a closed fd");
    expect_errno(add(99, fds[0], EPOLLIN), EBADF, "epoll_ctl with a closed epoll fd");
    expect_errno(add(fds[1], fds[0], EPOLLIN), EINVAL, "epoll_ctl on a fd that is not epoll");
    int file = open("/proc/self/cmdline", O_RDONLY);
    expect_errno(add(epfd, file, EPOLLIN), EPERM, "epoll_ctl on a regular file");
    close(file);
    expect_errno(epoll_ctl(epfd, 99, fds[0], &(struct epoll_event){0}), EINVAL,
                 "epoll_ctl with an unknown operation");
    expect_errno(epoll_ctl(epfd, EPOLL_CTL_ADD, fds[0], (struct epoll_event*)16), EFAULT,
                 "epoll_ctl with a bad event");
    struct epoll_event exclusive = {.events = EPOLLIN | EPOLLEXCLUSIVE};
    expect_errno(epoll_ctl(epfd, EPOLL_CTL_MOD, fds[0], &exclusive), EINVAL,
                 "EPOLLEXCLUSIVE with EPOLL_CTL_MOD");
    int spare = dup(fds[0]);
    CHECK(epoll_ctl(epfd, EPOLL_CTL_ADD, spare, &exclusive) == 0, "EPOLLEXCLUSIVE is accepted");
    close(spare);
    expect_errno(syscall(SYS_epoll_create, 0), EINVAL, "epoll_create(0)");
    expect_errno(epoll_create1(1), EINVAL, "epoll_create1 with an unknown flag");
    expect_errno(epoll_wait(epfd, events, 0, 0), EINVAL, "epoll_wait with maxevents 0");
    expect_errno(epoll_wait(fds[0], events, 8, 0), EINVAL, "epoll_wait on a fd that is not epoll");
    expect_errno(epoll_wait(99, events, 8, 0), EBADF, "epoll_wait on a closed fd");
    expect_errno(syscall(SYS_epoll_wait, epfd, 16, 8, 0), EFAULT,
                 "epoll_wait with a bad array and an event to report");
    close(fds[0]);
    close(fds[1]);
    close(event);
    close(timer);
    close(epfd);
}

static void eventfds(void) {
    int event = eventfd(5, EFD_NONBLOCK);
    uint64_t value = 0;
    CHECK(read(event, &value, sizeof value) == 8 && value == 5, "eventfd reads its initial count");
    expect_errno(read(event, &value, sizeof value), EAGAIN, "an empty eventfd with EFD_NONBLOCK");
    value = 3;
    write(event, &value, sizeof value);
    write(event, &value, sizeof value);
    CHECK(read(event, &value, sizeof value) == 8 && value == 6, "writes add up");
    uint32_t small;
    expect_errno(read(event, &small, sizeof small), EINVAL, "an eventfd read of 4 bytes");
    value = UINT64_MAX;
    expect_errno(write(event, &value, sizeof value), EINVAL, "adding 2^64-1");
    value = UINT64_MAX - 1;
    CHECK(write(event, &value, sizeof value) == 8, "the counter may reach 2^64-2");
    struct pollfd probe = {event, POLLIN | POLLOUT, 0};
    CHECK(poll(&probe, 1, 0) == 1 && probe.revents == POLLIN, "a full counter is not writable");
    value = 1;
    expect_errno(write(event, &value, sizeof value), EAGAIN, "an overflowing write");
    struct stat st;
    CHECK(fstat(event, &st) == 0 && (st.st_mode & S_IFMT) == 0, "an eventfd has no file type");
    close(event);

    int semaphore = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC);
    int ones = 0;
    while (read(semaphore, &value, sizeof value) == 8 && value == 1)
        ones++;
    CHECK(ones == 3 && errno == EAGAIN, "EFD_SEMAPHORE reads 1 three times, then EAGAIN");
    int copy = dup2(semaphore, 50);
    value = 2;
    CHECK(copy == 50 && write(copy, &value, sizeof value) == 8 &&
              read(semaphore, &value, sizeof value) == 8 && value == 1,
          "dup2 of an eventfd shares the counter");
    CHECK(fcntl(semaphore, F_SETFL, 0) == 0 && !(fcntl(copy, F_GETFL) & O_NONBLOCK),
          "F_SETFL clears O_NONBLOCK for both descriptors");
    close(copy);
    close(semaphore);

    int blocking = eventfd(0, 0);
    pthread_t thread;
    pthread_create(&thread, NULL, late_event, &blocking);
    CHECK(read(blocking, &value, sizeof value) == 8 && value == 1,
          "a blocking eventfd read waits for a write");
    pthread_join(thread, NULL);
    close(blocking);
    expect_errno(eventfd(0, 0x1234), EINVAL, "eventfd with unknown flags");
}

static void timerfds(void) {
    int timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    struct itimerspec periodic = {{0, 20000000}, {0, 20000000}};
    CHECK(timerfd_settime(timer, 0, &periodic, NULL) == 0, "a periodic 20 ms timer");
    uint64_t count = 0;
    CHECK(read(timer, &count, sizeof count) == 8 && count >= 1, "a blocking read waits for it");
    pause_ms(105);
    read(timer, &count, sizeof count);
    CHECK(count >= 4 && count <= 12, "every expiration of 105 ms is counted (at least 4)");
    struct itimerspec now;
    CHECK(timerfd_gettime(timer, &now) == 0 && now.it_interval.tv_nsec == 20000000 &&
              now.it_value.tv_sec == 0 && now.it_value.tv_nsec > 0 &&
              now.it_value.tv_nsec <= 20000000,
          "timerfd_gettime: the interval, and the time to the next expiry");
    struct itimerspec off = {{0, 0}, {0, 0}}, old;
    CHECK(timerfd_settime(timer, 0, &off, &old) == 0 && old.it_interval.tv_nsec == 20000000,
          "disarming returns the old setting");
    timerfd_gettime(timer, &now);
    CHECK(now.it_value.tv_sec == 0 && now.it_value.tv_nsec == 0, "a disarmed timer shows zero");
    close(timer);

    timer = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
    expect_errno(read(timer, &count, sizeof count), EAGAIN, "an unexpired timer, TFD_NONBLOCK");
    struct timespec real;
    clock_gettime(CLOCK_REALTIME, &real);
    real.tv_nsec += 20000000;
    if (real.tv_nsec >= 1000000000) {
        real.tv_sec++;
        real.tv_nsec -= 1000000000;
    }
    struct itimerspec absolute = {{0, 0}, real};
    CHECK(timerfd_settime(timer, TFD_TIMER_ABSTIME, &absolute, NULL) == 0,
          "an absolute CLOCK_REALTIME timer");
    struct pollfd probe = {timer, POLLIN, 0};
    CHECK(poll(&probe, 1, -1) == 1 && read(timer, &count, sizeof count) == 8 && count == 1,
          "poll waits for it; it expired once");
    expect_errno(timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0), EINVAL, "timerfd on a CPU clock");
    expect_errno(timerfd_create(CLOCK_MONOTONIC, 0x40), EINVAL, "timerfd_create bad flags");
    struct itimerspec bad = {{0, 0}, {0, 1000000000}};
    expect_errno(timerfd_settime(timer, 0, &bad, NULL), EINVAL, "timerfd_settime bad nanoseconds");
    expect_errno(timerfd_settime(timer, 0x10, &periodic, NULL), EINVAL,
                 "timerfd_settime bad flags");
    int event = eventfd(0, 0);
    expect_errno(timerfd_settime(event, 0, &periodic, NULL), EINVAL,
                 "timerfd_settime on an eventfd");
    expect_errno(timerfd_gettime(99, &now), EBADF, "timerfd_gettime on a closed fd");
    close(event);
    close(timer);
}

static void* send_usr2(void* argument) {
    pause_ms(30);
    kill(getpid(), SIGUSR2);
    (void)argument;
    return NULL;
}

static void signalfds(void) {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    sigaddset(&mask, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    CHECK(sfd >= 0, "signalfd for SIGUSR1 and SIGUSR2");
    struct signalfd_siginfo info;
    expect_errno(read(sfd, &info, sizeof info), EAGAIN, "no signal pending, SFD_NONBLOCK");
    raise(SIGUSR1);
    struct pollfd probe = {sfd, POLLIN, 0};
    CHECK(poll(&probe, 1, 0) == 1 && probe.revents == POLLIN, "a pending signal makes it readable");
    CHECK(read(sfd, &info, sizeof info) == sizeof info && info.ssi_signo == SIGUSR1 &&
              info.ssi_code == SI_TKILL,
          "read takes SIGUSR1 (sent by raise: SI_TKILL)");
    sigset_t only_usr1;
    sigemptyset(&only_usr1);
    sigaddset(&only_usr1, SIGUSR1);
    struct timespec no_wait = {0, 0};
    expect_errno(sigtimedwait(&only_usr1, NULL, &no_wait), EAGAIN,
                 "the signal read is no longer pending: sigtimedwait");
    expect_errno(read(sfd, &info, 8), EINVAL, "a signalfd read smaller than a record");

    pthread_t thread;
    pthread_create(&thread, NULL, send_usr2, NULL);
    int epfd = epoll_create1(0);
    add(epfd, sfd, EPOLLIN);
    struct epoll_event events[2];
    CHECK(epoll_wait(epfd, events, 2, -1) == 1,
          "epoll_wait wakes when another thread sends a signal");
    pthread_join(thread, NULL);
    CHECK(read(sfd, &info, sizeof info) == sizeof info && info.ssi_signo == SIGUSR2 &&
              info.ssi_code == SI_USER,
          "read takes SIGUSR2 (sent by kill: SI_USER)");
    sigdelset(&mask, SIGUSR1);
    CHECK(signalfd(sfd, &mask, 0) == sfd, "signalfd with an fd changes its mask");
    raise(SIGUSR1);
    expect_errno(read(sfd, &info, sizeof info), EAGAIN,
                 "a signal outside the new mask is not read");
    sigset_t wait_for;
    sigemptyset(&wait_for);
    sigaddset(&wait_for, SIGUSR1);
    int taken = 0;
    sigwait(&wait_for, &taken);
    expect_errno(signalfd(-1, &mask, 0x1234), EINVAL, "signalfd with unknown flags");
    expect_errno(syscall(SYS_signalfd4, -1, &mask, 4, 0), EINVAL, "signalfd with a bad mask size");
    expect_errno(signalfd(epfd, &mask, 0), EINVAL, "signalfd on an fd that is not a signalfd");
    close(epfd);
    close(sfd);
    pthread_sigmask(SIG_UNBLOCK, &mask, NULL);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    level_and_edge();
    mixed_wait();
    eventfds();
    timerfds();
    signalfds();
    return verdict_finish();
}

/* POSIX message queues: mq_open (the raw syscall's name rules too),
 * mq_unlink, priority order, O_NONBLOCK, EMSGSIZE, absolute timeouts,
 * mq_getattr/mq_setattr, mq_notify with a signal, an mqd in poll, and a
 * receive that another thread's send ends. The libc wrappers link in all
 * four variants (glibc >= 2.34 has them in libc); the raw syscall shows
 * the kernel's own checks. */
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "verdict.h"

/* A name no other run of this program uses at the same time (natively the
 * runs share the host's queues). */
static char QUEUE[64];

static const char* mq_errno_name(int code) {
    switch (code) {
        case EMSGSIZE:
            return "EMSGSIZE";
        case ETIMEDOUT:
            return "ETIMEDOUT";
        case ENOTSOCK:
            return "ENOTSOCK";
        default:
            return errno_name(code);
    }
}

static void expect_mq_errno(long result, int expected, const char* what) {
    int got = result == -1 ? errno : 0;
    if (result == -1 && got == expected)
        verdict(1, "%s fails with %s", what, mq_errno_name(expected));
    else
        verdict(0, "%s fails with %s (got result %s, errno %s)", what, mq_errno_name(expected),
                result == -1 ? "-1" : "success", mq_errno_name(got));
}

static void sleep_ms(long ms) {
    struct timespec pause = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&pause, NULL);
}

/* CLOCK_REALTIME `ms` from now (negative: in the past). */
static struct timespec realtime_in(long ms) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long long ns = (long long)now.tv_sec * 1000000000LL + now.tv_nsec + ms * 1000000LL;
    return (struct timespec){ns / 1000000000LL, ns % 1000000000LL};
}

static volatile sig_atomic_t notified;
static volatile int notified_code;
static volatile int notified_value;

static void on_notify(int signal, siginfo_t* info, void* context) {
    (void)signal;
    (void)context;
    notified++;
    notified_code = info->si_code;
    notified_value = info->si_value.sival_int;
}

static void on_signal(int signal) {
    (void)signal;
}

struct receiver {
    mqd_t queue;
    long result;
    int error;
    char text[64];
    unsigned priority;
};

static void* receive_thread(void* argument) {
    struct receiver* r = argument;
    r->result = mq_receive(r->queue, r->text, sizeof r->text, &r->priority);
    r->error = errno;
    return NULL;
}

struct poller {
    mqd_t queue;
    int result;
    short revents;
};

static void* poll_thread(void* argument) {
    struct poller* p = argument;
    struct pollfd entry = {p->queue, POLLIN, 0};
    p->result = poll(&entry, 1, 5000);
    p->revents = entry.revents;
    return NULL;
}

static short poll_now(mqd_t queue) {
    struct pollfd entry = {queue, POLLIN | POLLOUT, 0};
    return poll(&entry, 1, 0) < 0 ? -1 : entry.revents;
}

static void names_and_attributes(void) {
    mq_unlink(QUEUE);
    long raw = syscall(SYS_mq_open, QUEUE + 1, O_RDWR, 0, NULL);
    expect_mq_errno(raw, ENOENT, "mq_open of a missing queue");
    expect_mq_errno(syscall(SYS_mq_open, "a/b", O_RDWR | O_CREAT, 0600, NULL), EACCES,
                    "raw mq_open of a name with '/'");
    char long_name[300];
    memset(long_name, 'q', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = 0;
    expect_mq_errno(syscall(SYS_mq_open, long_name, O_RDWR | O_CREAT, 0600, NULL), ENAMETOOLONG,
                    "raw mq_open of a name past NAME_MAX");
    struct mq_attr attr = {.mq_maxmsg = 0, .mq_msgsize = 64};
    expect_mq_errno(mq_open(QUEUE, O_RDWR | O_CREAT, 0600, &attr), EINVAL, "mq_open with maxmsg 0");
    attr = (struct mq_attr){.mq_maxmsg = 4, .mq_msgsize = -1};
    expect_mq_errno(mq_open(QUEUE, O_RDWR | O_CREAT, 0600, &attr), EINVAL,
                    "mq_open with msgsize -1");
    attr = (struct mq_attr){.mq_maxmsg = 100000, .mq_msgsize = 64};
    expect_mq_errno(mq_open(QUEUE, O_RDWR | O_CREAT, 0600, &attr), EINVAL,
                    "mq_open past the hard maxmsg");

    mqd_t queue = mq_open(QUEUE, O_RDWR | O_CREAT | O_EXCL, 0600, NULL);
    CHECK(queue != (mqd_t)-1, "mq_open O_CREAT|O_EXCL with default attributes");
    CHECK(mq_getattr(queue, &attr) == 0 && attr.mq_maxmsg == 10 && attr.mq_msgsize == 8192 &&
              attr.mq_curmsgs == 0 && attr.mq_flags == 0,
          "the defaults are 10 messages of 8192 bytes");
    CHECK(fcntl(queue, F_GETFD) == FD_CLOEXEC, "an mqd is close-on-exec");
    expect_mq_errno(mq_open(QUEUE, O_RDWR | O_CREAT | O_EXCL, 0600, NULL), EEXIST,
                    "mq_open O_EXCL of an existing queue");
    expect_mq_errno(mq_open(QUEUE, O_RDWR | O_WRONLY), EINVAL, "mq_open O_RDWR|O_WRONLY");
    mqd_t again = mq_open(QUEUE, O_RDONLY);
    CHECK(again != (mqd_t)-1, "mq_open of the existing queue");
    char text[8192];
    expect_mq_errno(mq_send(again, "x", 1, 0), EBADF, "mq_send on a read-only mqd");
    expect_mq_errno(mq_send(STDOUT_FILENO, "x", 1, 0), EBADF, "mq_send on a non-queue fd");
    mq_close(again);
    CHECK(mq_unlink(QUEUE) == 0, "mq_unlink");
    expect_mq_errno(mq_unlink(QUEUE), ENOENT, "mq_unlink of a missing queue");
    CHECK(mq_send(queue, "kept", 5, 0) == 0 && mq_receive(queue, text, sizeof text, NULL) == 5,
          "an unlinked queue stays usable while open");
    mq_close(queue);
}

static void messages(void) {
    struct mq_attr attr = {.mq_maxmsg = 4, .mq_msgsize = 64};
    mqd_t queue = mq_open(QUEUE, O_RDWR | O_CREAT, 0600, &attr);
    CHECK(queue != (mqd_t)-1, "mq_open with 4 messages of 64 bytes");
    CHECK(mq_getattr(queue, &attr) == 0 && attr.mq_maxmsg == 4 && attr.mq_msgsize == 64,
          "mq_getattr shows them");
    CHECK(poll_now(queue) == POLLOUT, "an empty queue polls writable only");
    CHECK(mq_send(queue, "a", 2, 1) == 0 && mq_send(queue, "b", 2, 5) == 0 &&
              mq_send(queue, "c", 2, 1) == 0 && mq_send(queue, "d", 2, 3) == 0,
          "four sends with priorities");
    CHECK(poll_now(queue) == POLLIN, "a full queue polls readable only");
    CHECK(mq_getattr(queue, &attr) == 0 && attr.mq_curmsgs == 4, "mq_curmsgs counts them");
    char text[64];
    char order[5] = {0};
    unsigned priorities[4] = {0};
    for (int i = 0; i < 4; i++) {
        if (mq_receive(queue, text, sizeof text, &priorities[i]) == 2)
            order[i] = text[0];
    }
    CHECK(strcmp(order, "bdac") == 0 && priorities[0] == 5 && priorities[1] == 3 &&
              priorities[2] == 1 && priorities[3] == 1,
          "higher priorities first, one priority in order");

    char big[65] = {0};
    expect_mq_errno(mq_send(queue, big, 65, 0), EMSGSIZE, "mq_send past mq_msgsize");
    expect_mq_errno(mq_receive(queue, text, 63, NULL), EMSGSIZE,
                    "mq_receive into a buffer below mq_msgsize");
    expect_mq_errno(mq_send(queue, "x", 1, 32768), EINVAL, "mq_send past MQ_PRIO_MAX");

    struct timespec timeout = realtime_in(50);
    expect_mq_errno(mq_timedreceive(queue, text, sizeof text, NULL, &timeout), ETIMEDOUT,
                    "mq_timedreceive on an empty queue times out");
    timeout.tv_nsec = 1000000000;
    expect_mq_errno(mq_timedreceive(queue, text, sizeof text, NULL, &timeout), EINVAL,
                    "mq_timedreceive with a bad timeout");
    for (int i = 0; i < 4; i++)
        mq_send(queue, "f", 2, 0);
    timeout = realtime_in(-1000);
    expect_mq_errno(mq_timedsend(queue, "x", 2, 0, &timeout), ETIMEDOUT,
                    "mq_timedsend to a full queue with a past timeout");
    struct mq_attr wanted = {.mq_flags = O_NONBLOCK}, old;
    CHECK(mq_setattr(queue, &wanted, &old) == 0 && old.mq_flags == 0, "mq_setattr O_NONBLOCK");
    expect_mq_errno(mq_send(queue, "x", 2, 0), EAGAIN, "mq_send to a full O_NONBLOCK queue");
    CHECK(mq_getattr(queue, &attr) == 0 && attr.mq_flags == O_NONBLOCK && attr.mq_curmsgs == 4,
          "mq_getattr shows O_NONBLOCK");
    for (int i = 0; i < 4; i++)
        mq_receive(queue, text, sizeof text, NULL);
    expect_mq_errno(mq_receive(queue, text, sizeof text, NULL), EAGAIN,
                    "mq_receive from an empty O_NONBLOCK queue");
    wanted.mq_flags = 0;
    mq_setattr(queue, &wanted, NULL);
    wanted.mq_flags = O_APPEND;
    expect_mq_errno(mq_setattr(queue, &wanted, NULL), EINVAL, "mq_setattr with other flags");
    mq_close(queue);
    mq_unlink(QUEUE);
}

static void waits_and_notifications(void) {
    struct mq_attr attr = {.mq_maxmsg = 2, .mq_msgsize = 64};
    mqd_t queue = mq_open(QUEUE, O_RDWR | O_CREAT, 0600, &attr);

    struct receiver r = {.queue = queue};
    pthread_t thread;
    pthread_create(&thread, NULL, receive_thread, &r);
    sleep_ms(100);
    mq_send(queue, "wake", 5, 7);
    pthread_join(thread, NULL);
    CHECK(r.result == 5 && strcmp(r.text, "wake") == 0 && r.priority == 7,
          "a send wakes the receiving thread");

    struct poller p = {.queue = queue};
    pthread_create(&thread, NULL, poll_thread, &p);
    sleep_ms(100);
    mq_send(queue, "poll", 5, 0);
    pthread_join(thread, NULL);
    CHECK(p.result == 1 && p.revents == POLLIN, "a send ends a poll for POLLIN on the mqd");
    char text[64];
    mq_receive(queue, text, sizeof text, NULL);

    struct sigaction action = {.sa_handler = on_signal};
    sigaction(SIGUSR2, &action, NULL);
    r = (struct receiver){.queue = queue};
    pthread_create(&thread, NULL, receive_thread, &r);
    sleep_ms(100);
    pthread_kill(thread, SIGUSR2);
    pthread_join(thread, NULL);
    errno = r.error;
    expect_mq_errno(r.result, EINTR, "mq_receive interrupted by a signal without SA_RESTART");

    struct sigaction notify_action = {.sa_sigaction = on_notify, .sa_flags = SA_SIGINFO};
    sigaction(SIGUSR1, &notify_action, NULL);
    struct sigevent event = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
    event.sigev_value.sival_int = 42;
    CHECK(mq_notify(queue, &event) == 0, "mq_notify SIGEV_SIGNAL");
    expect_mq_errno(mq_notify(queue, &event), EBUSY, "a second mq_notify");
    mq_send(queue, "n", 2, 0);
    for (int i = 0; i < 100 && !notified; i++)
        sleep_ms(10);
    CHECK(notified == 1 && notified_code == SI_MESGQ && notified_value == 42,
          "a message to the empty queue sends the signal with SI_MESGQ and the value");
    mq_send(queue, "m", 2, 0);
    sleep_ms(20);
    CHECK(notified == 1, "the notification was for one message only");
    mq_receive(queue, text, sizeof text, NULL);
    mq_receive(queue, text, sizeof text, NULL);
    CHECK(mq_notify(queue, &event) == 0 && mq_notify(queue, NULL) == 0,
          "mq_notify again, then removed");
    mq_send(queue, "n", 2, 0);
    sleep_ms(20);
    CHECK(notified == 1, "no signal after the registration is removed");
    mq_receive(queue, text, sizeof text, NULL);
    event.sigev_notify = SIGEV_NONE;
    CHECK(mq_notify(queue, &event) == 0, "mq_notify SIGEV_NONE");
    expect_mq_errno(mq_notify(queue, &event), EBUSY, "mq_notify while registered");
    close(dup(queue));
    CHECK(mq_notify(queue, &event) == 0, "closing any mqd of the queue drops the registration");
    mq_notify(queue, NULL);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0)
        _exit(mq_notify(queue, &event) == 0 ? 0 : 1);
    int status = 0;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a forked child registers");
    CHECK(mq_notify(queue, &event) == 0, "the child's registration ends with it");
    event.sigev_notify = 99;
    expect_mq_errno(mq_notify(queue, &event), EINVAL, "mq_notify with a bad sigev_notify");

    /* SIGEV_THREAD: the raw call wants a netlink socket in sigev_signo. */
    char cookie[32] = {0};
    struct sigevent raw = {.sigev_notify = SIGEV_THREAD, .sigev_signo = -1};
    raw.sigev_value.sival_ptr = cookie;
    expect_mq_errno(syscall(SYS_mq_notify, queue, &raw), EBADF,
                    "raw SIGEV_THREAD with a bad socket fd");
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0)
        return;
    raw.sigev_signo = pipe_fds[0];
    expect_mq_errno(syscall(SYS_mq_notify, queue, &raw), ENOTSOCK,
                    "raw SIGEV_THREAD with a pipe for the socket");
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    mq_close(queue);
    mq_unlink(QUEUE);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    snprintf(QUEUE, sizeof QUEUE, "/myst_posix_mq_test_%d", (int)getpid());
    names_and_attributes();
    messages();
    waits_and_notifications();
    return verdict_finish();
}

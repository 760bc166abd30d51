/* Pipes and the calls that wait on them: end of file, EAGAIN, EPIPE with
 * SIGPIPE (handled and ignored), PIPE_BUF atomicity with concurrent
 * writers, blocking reads and writes woken by another thread, pipe sizes,
 * FIONREAD, fstat, fcntl and dup, poll/ppoll/select/pselect readiness
 * (POLLHUP, POLLERR), waits ended by a signal from another thread, and
 * the errors of bad arguments. Threads play the other end (no fork). */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "verdict.h"

#define RECORD 4096
#define WRITERS 4
#define RECORDS_PER_WRITER 256

static void pause_ms(int milliseconds) {
    struct timespec delay = {milliseconds / 1000, (milliseconds % 1000) * 1000000L};
    nanosleep(&delay, NULL);
}

static size_t read_fully(int fd, char* buffer, size_t size) {
    size_t done = 0;
    while (done < size) {
        ssize_t got = read(fd, buffer + done, size - done);
        if (got <= 0)
            break;
        done += (size_t)got;
    }
    return done;
}

static void basics(void) {
    int fds[2];
    CHECK(pipe(fds) == 0, "pipe makes two descriptors");
    CHECK(write(fds[1], "hello", 5) == 5, "write 5 bytes");
    int available = -1;
    CHECK(ioctl(fds[0], FIONREAD, &available) == 0 && available == 5, "FIONREAD shows 5 bytes");
    char buffer[16] = {0};
    CHECK(read(fds[0], buffer, sizeof buffer) == 5 && memcmp(buffer, "hello", 5) == 0,
          "read returns what was written, no more");
    struct stat st;
    CHECK(fstat(fds[0], &st) == 0 && S_ISFIFO(st.st_mode), "fstat shows a FIFO");
    CHECK(fcntl(fds[0], F_GETFL) == O_RDONLY, "the read end is O_RDONLY");
    CHECK(fcntl(fds[1], F_GETFL) == O_WRONLY, "the write end is O_WRONLY");
    char path[64], link[64] = {0};
    snprintf(path, sizeof path, "/proc/self/fd/%d", fds[0]);
    CHECK(readlink(path, link, sizeof link - 1) > 0 && strncmp(link, "pipe:[", 6) == 0,
          "/proc/self/fd shows pipe:[ino]");
    expect_errno(read(fds[1], buffer, 1), EBADF, "read from the write end");
    expect_errno(write(fds[0], "x", 1), EBADF, "write to the read end");

    /* A dup keeps the write end open: no end of file until both are gone. */
    int copy = dup(fds[1]);
    close(fds[1]);
    CHECK(write(copy, "z", 1) == 1 && read(fds[0], buffer, 1) == 1, "a dup'ed write end writes");
    CHECK(fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0 && (fcntl(fds[0], F_GETFL) & O_NONBLOCK),
          "F_SETFL sets O_NONBLOCK on a pipe");
    expect_errno(read(fds[0], buffer, 1), EAGAIN, "empty pipe with a writer, O_NONBLOCK");
    close(copy);
    CHECK(read(fds[0], buffer, 1) == 0, "read returns 0 once every write end is closed");
    close(fds[0]);

    CHECK(pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0, "pipe2 with O_CLOEXEC | O_NONBLOCK");
    CHECK(fcntl(fds[0], F_GETFD) == FD_CLOEXEC && (fcntl(fds[1], F_GETFL) & O_NONBLOCK),
          "pipe2 flags show in F_GETFD and F_GETFL");
    size_t total = 0;
    char chunk[RECORD];
    memset(chunk, 'a', sizeof chunk);
    while (write(fds[1], chunk, sizeof chunk) == (ssize_t)sizeof chunk)
        total += sizeof chunk;
    CHECK(errno == EAGAIN && total == 65536, "a full pipe holds 64 KiB, then EAGAIN");
    struct pollfd probe = {fds[1], POLLOUT, 0};
    CHECK(poll(&probe, 1, 0) == 0, "a full pipe is not writable");
    CHECK(read(fds[0], chunk, sizeof chunk) == (ssize_t)sizeof chunk && poll(&probe, 1, 0) == 1 &&
              probe.revents == POLLOUT,
          "a page read makes it writable");
    int dup3_target = dup3(fds[0], 100, O_CLOEXEC);
    CHECK(dup3_target == 100 && fcntl(100, F_GETFD) == FD_CLOEXEC, "dup3 of a pipe end");
    close(100);
    close(fds[0]);
    close(fds[1]);

    expect_errno(pipe2(fds, 0x40000000), EINVAL, "pipe2 with an unknown flag");
    expect_errno(syscall(SYS_pipe2, (void*)16, 0), EFAULT, "pipe2 with a bad array");
}

static void sizes(void) {
    int fds[2];
    pipe(fds);
    CHECK(fcntl(fds[0], F_GETPIPE_SZ) == 65536, "the default pipe size is 64 KiB");
    CHECK(fcntl(fds[1], F_SETPIPE_SZ, 10000) == 16384, "F_SETPIPE_SZ rounds up to pages, 2^n");
    CHECK(fcntl(fds[1], F_SETPIPE_SZ, 0) == 4096, "F_SETPIPE_SZ 0 gives one page");
    char data[5000];
    memset(data, 'b', sizeof data);
    fcntl(fds[1], F_SETPIPE_SZ, 8192);
    CHECK(write(fds[1], data, sizeof data) == (ssize_t)sizeof data, "5000 bytes in a 8 KiB pipe");
    expect_errno(fcntl(fds[1], F_SETPIPE_SZ, 4096), EBUSY, "shrinking below the data held");
    /* Allowed only with CAP_SYS_RESOURCE, which a container's root may lack. */
    long big = fcntl(fds[1], F_SETPIPE_SZ, 2 << 20);
    CHECK(big == (2 << 20) || (big == -1 && errno == EPERM),
          "past pipe-max-size: allowed when privileged, else EPERM");
    char back[5000];
    CHECK(read_fully(fds[0], back, sizeof back) == sizeof back && memcmp(back, data, 5000) == 0,
          "the data survives the resizes");
    expect_errno(fcntl(fds[1], F_SETPIPE_SZ, 0x90000000u), EINVAL, "F_SETPIPE_SZ past 2 GiB");
    close(fds[0]);
    close(fds[1]);
    int file = open("/proc/self/cmdline", O_RDONLY);
    expect_errno(fcntl(file, F_GETPIPE_SZ), EBADF, "F_GETPIPE_SZ on a regular file");
    close(file);
}

static volatile sig_atomic_t sigpipe_count;
static void on_sigpipe(int signal) {
    (void)signal;
    sigpipe_count++;
}

static void broken_pipe(void) {
    struct sigaction action = {0};
    action.sa_handler = on_sigpipe;
    sigaction(SIGPIPE, &action, NULL);
    int fds[2];
    pipe(fds);
    close(fds[0]);
    expect_errno(write(fds[1], "x", 1), EPIPE, "write without a reader (handler)");
    CHECK(sigpipe_count == 1, "SIGPIPE ran the handler once");
    struct pollfd probe = {fds[1], POLLOUT, 0};
    CHECK(poll(&probe, 1, 0) == 1 && probe.revents == (POLLOUT | POLLERR),
          "poll of a write end without reader: POLLOUT | POLLERR");
    signal(SIGPIPE, SIG_IGN);
    expect_errno(write(fds[1], "x", 1), EPIPE, "write without a reader (SIG_IGN)");
    CHECK(sigpipe_count == 1, "an ignored SIGPIPE runs nothing");
    close(fds[1]);
    signal(SIGPIPE, SIG_DFL);
}

struct writer {
    int fd;
    char id;
};

static void* write_records(void* argument) {
    struct writer* writer = argument;
    char record[RECORD];
    memset(record, writer->id, sizeof record);
    for (int i = 0; i < RECORDS_PER_WRITER; i++)
        if (write(writer->fd, record, sizeof record) != (ssize_t)sizeof record)
            return (void*)1;
    return NULL;
}

static void atomic_writes(void) {
    int fds[2];
    pipe(fds);
    pthread_t threads[WRITERS];
    struct writer writers[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        writers[i] = (struct writer){fds[1], (char)('A' + i)};
        pthread_create(&threads[i], NULL, write_records, &writers[i]);
    }
    int whole = 1, counts[WRITERS] = {0};
    char record[RECORD];
    for (int i = 0; i < WRITERS * RECORDS_PER_WRITER; i++) {
        if (read_fully(fds[0], record, sizeof record) != sizeof record) {
            whole = 0;
            break;
        }
        for (int j = 1; j < RECORD; j++)
            if (record[j] != record[0])
                whole = 0;
        if (record[0] >= 'A' && record[0] < 'A' + WRITERS)
            counts[record[0] - 'A']++;
    }
    int writes_ok = 1;
    for (int i = 0; i < WRITERS; i++) {
        void* result;
        pthread_join(threads[i], &result);
        writes_ok = writes_ok && result == NULL && counts[i] == RECORDS_PER_WRITER;
    }
    CHECK(whole, "PIPE_BUF writes of %d threads never interleave", WRITERS);
    CHECK(writes_ok, "every record of every writer arrives");
    close(fds[0]);
    close(fds[1]);
}

static void* late_writer(void* argument) {
    pause_ms(50);
    write(*(int*)argument, "late", 4);
    return NULL;
}

static void* slow_reader(void* argument) {
    int fd = *(int*)argument;
    static char sink[1 << 18];
    pause_ms(20);
    return (void*)(intptr_t)read_fully(fd, sink, sizeof sink);
}

static void blocking(void) {
    int fds[2];
    pipe(fds);
    pthread_t thread;
    pthread_create(&thread, NULL, late_writer, &fds[1]);
    char buffer[8] = {0};
    CHECK(read(fds[0], buffer, sizeof buffer) == 4 && memcmp(buffer, "late", 4) == 0,
          "a blocking read waits for another thread's write");
    pthread_join(thread, NULL);

    pthread_create(&thread, NULL, late_writer, &fds[1]);
    struct pollfd probe = {fds[0], POLLIN, 0};
    CHECK(poll(&probe, 1, -1) == 1 && probe.revents == POLLIN, "poll waits for a write");
    pthread_join(thread, NULL);
    read(fds[0], buffer, sizeof buffer);

    static char big[1 << 18];
    memset(big, 'c', sizeof big);
    pthread_create(&thread, NULL, slow_reader, &fds[0]);
    CHECK(write(fds[1], big, sizeof big) == (ssize_t)sizeof big,
          "a blocking 256 KiB write waits for room until all is written");
    void* got;
    pthread_join(thread, &got);
    CHECK((intptr_t)got == (intptr_t)sizeof big, "the reader gets all 256 KiB");
    close(fds[0]);
    close(fds[1]);
}

static void readiness(void) {
    int fds[2];
    pipe(fds);
    struct pollfd probes[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLOUT, 0}};
    CHECK(poll(probes, 2, 0) == 1 && probes[0].revents == 0 && probes[1].revents == POLLOUT,
          "empty pipe: write end writable, read end not readable");
    write(fds[1], "xy", 2);
    CHECK(poll(probes, 2, 0) == 2 && probes[0].revents == POLLIN, "data: read end readable");
    struct pollfd ignored = {-1, POLLIN, 0};
    CHECK(poll(&ignored, 1, 0) == 0, "a negative fd is ignored");
    struct pollfd closed = {77, POLLIN, 0};
    CHECK(poll(&closed, 1, 0) == 1 && closed.revents == POLLNVAL, "a closed fd is POLLNVAL");

    fd_set readable, writable;
    FD_ZERO(&readable);
    FD_ZERO(&writable);
    FD_SET(fds[0], &readable);
    FD_SET(fds[1], &writable);
    struct timeval zero = {0, 0};
    CHECK(select(fds[1] + 1, &readable, &writable, NULL, &zero) == 2 &&
              FD_ISSET(fds[0], &readable) && FD_ISSET(fds[1], &writable),
          "select: both ends ready");
    close(fds[1]);
    probes[0].revents = 0;
    CHECK(poll(probes, 1, 0) == 1 && probes[0].revents == (POLLIN | POLLHUP),
          "writer gone with data left: POLLIN | POLLHUP");
    char buffer[4];
    read(fds[0], buffer, sizeof buffer);
    struct pollfd hangup = {fds[0], 0, 0};
    CHECK(poll(&hangup, 1, 0) == 1 && hangup.revents == POLLHUP,
          "writer gone, empty: POLLHUP even when not asked");

    int empty[2];
    pipe(empty);
    FD_ZERO(&readable);
    FD_SET(empty[0], &readable);
    struct timeval wait = {0, 30000};
    /* The system call itself: musl's select does not hand the time back. */
    CHECK(syscall(SYS_select, empty[0] + 1, &readable, NULL, NULL, &wait) == 0 &&
              !FD_ISSET(empty[0], &readable),
          "select times out on an empty pipe and clears the set");
    CHECK(wait.tv_sec == 0 && wait.tv_usec == 0, "select leaves the time left (none) in timeout");
    struct timespec ppoll_wait = {0, 20000000};
    struct pollfd empty_probe = {empty[0], POLLIN, 0};
    CHECK(ppoll(&empty_probe, 1, &ppoll_wait, NULL) == 0, "ppoll times out");
    struct timespec pselect_wait = {0, 10000000};
    FD_SET(empty[0], &readable);
    CHECK(pselect(empty[0] + 1, &readable, NULL, NULL, &pselect_wait, NULL) == 0,
          "pselect times out");

    FD_ZERO(&readable);
    FD_SET(99, &readable);
    expect_errno(select(100, &readable, NULL, NULL, &zero), EBADF,
                 "select with a closed fd in a set");
    expect_errno(select(-1, NULL, NULL, NULL, &zero), EINVAL, "select with negative nfds");
    struct timeval negative = {-1, 0};
    expect_errno(select(1, NULL, NULL, NULL, &negative), EINVAL, "select with a negative timeout");
    struct rlimit limit;
    getrlimit(RLIMIT_NOFILE, &limit);
    expect_errno(poll(&empty_probe, limit.rlim_cur + 1, 0), EINVAL, "poll past RLIMIT_NOFILE");
    expect_errno(syscall(SYS_poll, 16, 1, 0), EFAULT, "poll with a bad array");
    struct timespec bad_time = {0, 1000000000};
    expect_errno(ppoll(&empty_probe, 1, &bad_time, NULL), EINVAL, "ppoll with bad nanoseconds");
    expect_errno(syscall(SYS_ppoll, &empty_probe, 1, &zero, &limit, 4), EINVAL,
                 "ppoll with a bad sigset size");
    close(fds[0]);
    close(empty[0]);
    close(empty[1]);
}

/* A signal from another thread ends a wait: sent again and again until the
 * wait has ended, since it may come before the wait began. */
static volatile sig_atomic_t usr1_count;
static volatile int wait_over;
static pthread_t waiter;

static void on_usr1(int signal) {
    (void)signal;
    usr1_count++;
}

static void* interrupter(void* argument) {
    (void)argument;
    while (!__atomic_load_n(&wait_over, __ATOMIC_SEQ_CST)) {
        pthread_kill(waiter, SIGUSR1);
        pause_ms(5);
    }
    return NULL;
}

static void interrupted_waits(void) {
    struct sigaction action = {0};
    action.sa_handler = on_usr1; /* no SA_RESTART: the wait ends with EINTR */
    sigaction(SIGUSR1, &action, NULL);
    int fds[2];
    pipe(fds);
    waiter = pthread_self();

    pthread_t thread;
    wait_over = 0;
    pthread_create(&thread, NULL, interrupter, NULL);
    struct pollfd probe = {fds[0], POLLIN, 0};
    int result = poll(&probe, 1, -1);
    int error = errno;
    __atomic_store_n(&wait_over, 1, __ATOMIC_SEQ_CST);
    pthread_join(thread, NULL);
    CHECK(result == -1 && error == EINTR && usr1_count > 0, "poll ended by a signal: EINTR");

    wait_over = 0;
    pthread_create(&thread, NULL, interrupter, NULL);
    char buffer[4];
    result = read(fds[0], buffer, sizeof buffer);
    error = errno;
    __atomic_store_n(&wait_over, 1, __ATOMIC_SEQ_CST);
    pthread_join(thread, NULL);
    CHECK(result == -1 && error == EINTR, "a blocking pipe read ended by a signal: EINTR");

    /* ppoll's mask: SIGUSR1 is blocked but for the wait. */
    sigset_t blocked, during, now;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &blocked, NULL);
    sigemptyset(&during);
    usr1_count = 0;
    wait_over = 0;
    pthread_create(&thread, NULL, interrupter, NULL);
    result = ppoll(&probe, 1, NULL, &during);
    error = errno;
    __atomic_store_n(&wait_over, 1, __ATOMIC_SEQ_CST);
    pthread_join(thread, NULL);
    CHECK(result == -1 && error == EINTR && usr1_count == 1,
          "ppoll with a mask that lets SIGUSR1 in: EINTR, handler ran once");
    pthread_sigmask(SIG_BLOCK, NULL, &now);
    CHECK(sigismember(&now, SIGUSR1), "ppoll puts the old mask back");

    usr1_count = 0;
    wait_over = 0;
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(fds[0], &readable);
    pthread_create(&thread, NULL, interrupter, NULL);
    result = pselect(fds[0] + 1, &readable, NULL, NULL, NULL, &during);
    error = errno;
    __atomic_store_n(&wait_over, 1, __ATOMIC_SEQ_CST);
    pthread_join(thread, NULL);
    CHECK(result == -1 && error == EINTR && usr1_count == 1,
          "pselect with a mask that lets SIGUSR1 in: EINTR, handler ran once");
    pthread_sigmask(SIG_UNBLOCK, &blocked, NULL);
    signal(SIGUSR1, SIG_DFL);
    close(fds[0]);
    close(fds[1]);
}

/* Named after the pid: native runs of the variants may run at once. */
static char fifo_path[64];

static void* open_fifo_writer(void* argument) {
    (void)argument;
    pause_ms(30);
    int fd = open(fifo_path, O_WRONLY);
    if (fd >= 0) {
        write(fd, "fifo", 4);
        close(fd);
    }
    return (void*)(intptr_t)(fd >= 0);
}

static void fifos(void) {
    snprintf(fifo_path, sizeof fifo_path, "/tmp/pipes_poll.%d.fifo", (int)getpid());
    CHECK(mkfifo(fifo_path, 0600) == 0, "mkfifo");
    struct stat st;
    CHECK(stat(fifo_path, &st) == 0 && S_ISFIFO(st.st_mode), "stat shows a FIFO");
    expect_errno(open(fifo_path, O_WRONLY | O_NONBLOCK), ENXIO,
                 "a non-blocking write-only open without a reader");
    int reader = open(fifo_path, O_RDONLY | O_NONBLOCK);
    CHECK(reader >= 0, "a non-blocking read-only open needs no writer");
    char buffer[8] = {0};
    CHECK(read(reader, buffer, sizeof buffer) == 0, "no writer yet: read returns 0");
    struct pollfd probe = {reader, POLLIN, 0};
    CHECK(poll(&probe, 1, 0) == 0, "no writer yet: no POLLHUP");
    int writer = open(fifo_path, O_WRONLY | O_NONBLOCK);
    CHECK(writer >= 0, "with a reader, a non-blocking write-only open succeeds");
    CHECK(write(writer, "abc", 3) == 3 && read(reader, buffer, sizeof buffer) == 3 &&
              memcmp(buffer, "abc", 3) == 0,
          "both opens share one pipe");
    CHECK(fcntl(writer, F_GETPIPE_SZ) == 65536, "F_GETPIPE_SZ on a FIFO");
    close(writer);
    CHECK(poll(&probe, 1, 0) == 1 && probe.revents == POLLHUP, "the writer came and went: POLLHUP");
    close(reader);

    pthread_t thread;
    pthread_create(&thread, NULL, open_fifo_writer, NULL);
    reader = open(fifo_path, O_RDONLY);
    CHECK(reader >= 0, "a blocking read-only open waits for a writer");
    CHECK(read_fully(reader, buffer, 4) == 4 && memcmp(buffer, "fifo", 4) == 0,
          "and reads what it wrote");
    void* opened;
    pthread_join(thread, &opened);
    CHECK(opened == (void*)1, "the writer's blocking open found the reader");
    close(reader);
    int both = open(fifo_path, O_RDWR);
    CHECK(both >= 0 && write(both, "rw", 2) == 2 && read(both, buffer, 2) == 2,
          "an O_RDWR open never waits and is both ends");
    close(both);
    CHECK(unlink(fifo_path) == 0, "unlink the FIFO");
}

/* pipe2(O_DIRECT): every write is a packet; a read returns one packet at
 * most and drops what does not fit; writes past PIPE_BUF are split. */
static void packets(void) {
    int fds[2];
    if (pipe2(fds, O_DIRECT) != 0)
        return verdict(0, "pipe2(O_DIRECT)");
    CHECK((fcntl(fds[1], F_GETFL) & O_DIRECT) != 0, "F_GETFL shows O_DIRECT");
    CHECK(write(fds[1], "first", 5) == 5 && write(fds[1], "second", 6) == 6, "two packets");
    char buffer[8192];
    CHECK(read(fds[0], buffer, sizeof buffer) == 5 && memcmp(buffer, "first", 5) == 0,
          "a read returns one packet");
    CHECK(read(fds[0], buffer, 3) == 3 && memcmp(buffer, "sec", 3) == 0,
          "a short read takes the start of a packet");
    CHECK(write(fds[1], "third", 5) == 5 && read(fds[0], buffer, sizeof buffer) == 5 &&
              memcmp(buffer, "third", 5) == 0,
          "and drops its rest");
    static char large[6000];
    memset(large, 'x', sizeof large);
    CHECK(write(fds[1], large, sizeof large) == (ssize_t)sizeof large, "a 6000-byte write");
    ssize_t first = read(fds[0], buffer, sizeof buffer);
    ssize_t second = read(fds[0], buffer, sizeof buffer);
    CHECK(first == 4096 && second == 6000 - 4096, "is split into PIPE_BUF packets");
    CHECK(fcntl(fds[1], F_SETFL, 0) == 0 && write(fds[1], "ab", 2) == 2 &&
              write(fds[1], "cd", 2) == 2 && read(fds[0], buffer, sizeof buffer) == 4,
          "without O_DIRECT the writes are a byte stream again");
    close(fds[0]);
    close(fds[1]);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    basics();
    sizes();
    broken_pipe();
    atomic_writes();
    blocking();
    readiness();
    interrupted_waits();
    fifos();
    packets();
    return verdict_finish();
}

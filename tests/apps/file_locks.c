/* File locks: flock (between descriptions, across dup and fork, a second
 * process that blocks until the holder unlocks, signals that end or restart
 * a blocked flock) and fcntl record locks between processes (F_SETLKW ended
 * by a signal, and waiting for the unlock). Run with no arguments; it works
 * in /tmp/file_locks.work and runs itself again (through /proc/self/exe's
 * target) as the second process, which runs beside its parent once it
 * execs (myst's pseudo fork makes a parent wait until then). Children
 * report through their exit status, so nothing printed depends on
 * scheduling. */
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "verdict.h"

#define WORK "/tmp/file_locks.work"

static char self[512];

static void make_file(const char* path, const char* content) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        if (write(fd, content, strlen(content)) < 0)
            perror("write");
        close(fd);
    }
}

static int remove_entry(const char* path, const struct stat* st, int type, struct FTW* ftw) {
    (void)st;
    (void)type;
    (void)ftw;
    remove(path);
    return 0;
}

/* Empties the work directory of an earlier run. */
static void remove_tree(const char* path) {
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int run_child_status(pid_t pid) {
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

/* ---- flock ---- */

/* The second process of the blocking check (after exec): its own
 * description must wait for the parent's LOCK_EX. */
static int flock_child(int ready_fd) {
    int fd = open(WORK "/lockfile", O_RDONLY);
    if (fd < 0)
        return 2;
    if (flock(fd, LOCK_EX | LOCK_NB) != -1 || errno != EWOULDBLOCK)
        return 3;
    if (write(ready_fd, "r", 1) != 1)
        return 4;
    if (flock(fd, LOCK_EX) != 0)
        return 5;
    return 0; /* exit drops the lock */
}

static volatile sig_atomic_t alarm_count;
static int unlock_in_handler = -1;
static void arm_timer(int restart);

static int set_record_lock(int fd, int command, short type) {
    struct flock lock;
    memset(&lock, 0, sizeof lock);
    lock.l_type = type;
    lock.l_whence = SEEK_SET;
    return fcntl(fd, command, &lock);
}

/* The second process of the record-lock check: F_SETLK conflicts, a
 * signal ends F_SETLKW, and F_SETLKW waits for the parent's unlock. */
static int record_lock_child(int ready_fd) {
    int fd = open(WORK "/lockfile", O_RDWR);
    if (fd < 0)
        return 2;
    if (set_record_lock(fd, F_SETLK, F_WRLCK) != -1 || (errno != EAGAIN && errno != EACCES))
        return 3;
    arm_timer(0);
    if (set_record_lock(fd, F_SETLKW, F_WRLCK) != -1 || errno != EINTR || alarm_count != 1)
        return 4;
    if (write(ready_fd, "r", 1) != 1)
        return 5;
    if (set_record_lock(fd, F_SETLKW, F_WRLCK) != 0)
        return 6;
    return 0;
}

static void on_alarm(int signal) {
    (void)signal;
    alarm_count++;
    if (unlock_in_handler >= 0)
        flock(unlock_in_handler, LOCK_UN);
}

static void arm_timer(int restart) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_alarm;
    action.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGALRM, &action, NULL);
    struct itimerval timer = {{0, 0}, {0, 50000}};
    setitimer(ITIMER_REAL, &timer, NULL);
}

/* Runs this program again as `mode` with a pipe to say it is about to
 * block; the parent lets go once it says so. Returns the child's status. */
static int run_blocked_child(const char* mode, int (*unlock)(int), int holder) {
    int ready[2];
    if (pipe(ready) != 0)
        return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(ready[0]);
        char fd_text[16];
        snprintf(fd_text, sizeof fd_text, "%d", ready[1]);
        char* args[] = {self, (char*)mode, fd_text, NULL};
        execv(self, args);
        _exit(127);
    }
    close(ready[1]);
    char byte = 0;
    int said = read(ready[0], &byte, 1) == 1 && byte == 'r';
    close(ready[0]);
    struct timespec pause = {0, 100000000};
    nanosleep(&pause, NULL);
    int unlocked = unlock(holder) == 0;
    int status = run_child_status(pid);
    return said && unlocked ? status : 50 + status;
}

static int record_unlock(int fd) {
    return set_record_lock(fd, F_SETLK, F_UNLCK);
}

static void check_record_locks(void) {
    int holder = open(WORK "/lockfile", O_RDWR);
    CHECK(set_record_lock(holder, F_SETLK, F_WRLCK) == 0, "F_SETLK write lock");
    int status = run_blocked_child("record-lock-child", record_unlock, holder);
    CHECK(status == 0,
          "another process: F_SETLK conflicts, a signal ends F_SETLKW, F_SETLKW waits for the "
          "unlock (step %d)",
          status);
    close(holder);
}

static void check_flock(void) {
    const char* path = WORK "/lockfile";
    make_file(path, "lock");
    int a = open(path, O_RDWR);
    int b = open(path, O_RDONLY);
    CHECK(flock(a, LOCK_EX) == 0, "flock LOCK_EX on a free file");
    expect_errno(flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK,
                 "flock LOCK_EX|LOCK_NB of another description");
    expect_errno(flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK, "flock LOCK_SH|LOCK_NB against LOCK_EX");
    CHECK(flock(a, LOCK_EX | LOCK_NB) == 0, "flock again by the holder succeeds");
    int a2 = dup(a);
    CHECK(flock(a2, LOCK_SH | LOCK_NB) == 0, "a dup'ed descriptor converts the shared lock");
    CHECK(flock(a2, LOCK_EX | LOCK_NB) == 0, "and back to LOCK_EX");
    close(a);
    expect_errno(flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK,
                 "the lock stays while a dup of its description is open");
    close(a2);
    CHECK(flock(b, LOCK_EX | LOCK_NB) == 0, "the last close of the description drops its lock");
    CHECK(flock(b, LOCK_UN) == 0, "LOCK_UN");
    CHECK(flock(b, LOCK_UN) == 0, "LOCK_UN without a lock");

    /* Shared locks coexist; a failed conversion drops the old lock. */
    int c = open(path, O_RDONLY);
    CHECK(flock(b, LOCK_SH) == 0 && flock(c, LOCK_SH | LOCK_NB) == 0,
          "two descriptions hold LOCK_SH together");
    expect_errno(flock(c, LOCK_EX | LOCK_NB), EWOULDBLOCK, "converting to LOCK_EX conflicts");
    CHECK(flock(b, LOCK_EX | LOCK_NB) == 0, "the failed conversion dropped the shared lock");
    close(c);

    /* Errors. */
    expect_errno(flock(-1, LOCK_SH), EBADF, "flock of a bad descriptor");
    expect_errno(flock(-1, 0), EINVAL, "flock with no operation (before EBADF)");
    expect_errno(flock(b, LOCK_SH | LOCK_EX), EINVAL, "flock LOCK_SH|LOCK_EX");
    int opath = open(path, O_PATH);
    expect_errno(flock(opath, LOCK_SH), EBADF, "flock of an O_PATH descriptor");
    close(opath);
    int p[2];
    if (pipe(p) == 0) {
        CHECK(flock(p[0], LOCK_EX | LOCK_NB) == 0, "flock of a pipe");
        close(p[0]);
        close(p[1]);
    }

    /* A forked child shares the description, and so the lock. */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        _exit(flock(b, LOCK_EX | LOCK_NB) == 0 && flock(b, LOCK_UN) == 0 ? 0 : 1);
    CHECK(run_child_status(pid) == 0, "a forked child holds the lock of the inherited description");
    int d = open(path, O_RDONLY);
    CHECK(flock(d, LOCK_EX | LOCK_NB) == 0, "the child's LOCK_UN released the shared description");
    close(d);
    close(b);

    /* Another process blocks until the holder lets go. */
    int holder = open(path, O_RDONLY);
    int ready[2];
    if (flock(holder, LOCK_EX) != 0 || pipe(ready) != 0) {
        CHECK(0, "setting up the blocking check");
        return;
    }
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        close(ready[0]);
        char fd_text[16];
        snprintf(fd_text, sizeof fd_text, "%d", ready[1]);
        char* args[] = {self, "flock-child", fd_text, NULL};
        execv(self, args);
        _exit(127);
    }
    close(ready[1]);
    char byte = 0;
    CHECK(read(ready[0], &byte, 1) == 1 && byte == 'r',
          "the other process found the lock taken (LOCK_NB)");
    struct timespec pause = {0, 100000000};
    nanosleep(&pause, NULL);
    CHECK(flock(holder, LOCK_UN) == 0, "the holder unlocks");
    CHECK(run_child_status(pid) == 0, "the blocked process got the lock after the unlock");
    close(ready[0]);
    int e = open(path, O_RDONLY);
    CHECK(flock(e, LOCK_EX | LOCK_NB) == 0, "the other process's exit dropped its lock");
    close(e);

    /* A signal ends a blocked flock: EINTR without SA_RESTART; with it the
     * call goes on (here the handler itself lets the lock go). */
    int f = open(path, O_RDONLY);
    CHECK(flock(holder, LOCK_EX) == 0, "relock");
    alarm_count = 0;
    arm_timer(0);
    expect_errno(flock(f, LOCK_EX), EINTR, "a signal interrupts a blocked flock");
    CHECK(alarm_count == 1, "the handler ran once");
    alarm_count = 0;
    unlock_in_handler = holder;
    arm_timer(1);
    CHECK(flock(f, LOCK_EX) == 0, "under SA_RESTART the flock restarts and gets the lock");
    CHECK(alarm_count == 1, "the restarting handler ran once");
    unlock_in_handler = -1;
    signal(SIGALRM, SIG_DFL);
    close(f);
    close(holder);
}

int main(int argc, char** argv) {
    if (argc == 3 && strcmp(argv[1], "flock-child") == 0)
        return flock_child(atoi(argv[2]));
    if (argc == 3 && strcmp(argv[1], "record-lock-child") == 0)
        return record_lock_child(atoi(argv[2]));
    ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
    if (length < 0) {
        printf("FAIL: readlink /proc/self/exe\n");
        return 1;
    }
    self[length] = '\0';
    umask(022);
    remove_tree(WORK);
    mkdir(WORK, 0755);
    check_flock();
    check_record_locks();
    remove_tree(WORK);
    return verdict_finish();
}

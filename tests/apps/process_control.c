/* Controlling other processes: kill to a process, a process group, the
 * caller's group and -1 (signal 0 only: natively -1 reaches the host's
 * processes), the permission rule, tgkill across processes, prctl (names,
 * parent-death signal, dumpable, no_new_privs), /proc/<pid>/task, the ids
 * in the auxiliary vector, and what exec keeps of the timers. Children that
 * must run beside their parent are started with posix_spawn of this program
 * in a mode, so the program behaves the same under a fork that makes the
 * parent wait for exec or exit (ForkMode pseudo_wait_for_exit_exec). Run
 * as root. */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "verdict.h"

extern char** environ;

static char self[512];
static int report_fd = -1; /* where a mode's signal handler reports */

static void report_signal(int signal) {
    char byte = (char)signal;
    if (write(report_fd, &byte, 1) != 1)
        _exit(90);
}

/* Mode "sleeper <fd>": report SIGUSR1 on fd, say "ready", sleep until killed. */
static int run_sleeper(int fd) {
    report_fd = fd;
    signal(SIGUSR1, report_signal);
    char ready = 'r';
    if (write(fd, &ready, 1) != 1)
        return 91;
    for (;;)
        pause();
}

static void report_and_end(int signal) {
    report_signal(signal);
    _exit(0);
}

/* Mode "orphan <fd> <ready-fd>": a grandchild asking for SIGUSR2 when its
 * parent ends; it says "ready" to its parent, and reports the signal on fd. */
static int run_orphan(int fd, int ready_fd) {
    report_fd = fd;
    signal(SIGUSR2, report_and_end);
    if (prctl(PR_SET_PDEATHSIG, SIGUSR2) != 0)
        return 92;
    char ready = 'r';
    if (write(ready_fd, &ready, 1) != 1)
        return 93;
    for (int i = 0; i < 1000; i++)
        usleep(10000); /* 10 s at most: the signal ends it sooner */
    return 94;
}

static pid_t spawn_mode(const char* mode, int fd, int ready_fd, pid_t group) {
    char fd_text[16], ready_text[16];
    snprintf(fd_text, sizeof fd_text, "%d", fd);
    snprintf(ready_text, sizeof ready_text, "%d", ready_fd);
    char* args[] = {self, (char*)mode, fd_text, ready_text, NULL};
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    if (group >= 0) {
        posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
        posix_spawnattr_setpgroup(&attributes, group);
    }
    pid_t pid = -1;
    int error = posix_spawn(&pid, self, NULL, &attributes, args, environ);
    posix_spawnattr_destroy(&attributes);
    return error ? -1 : pid;
}

static int read_byte(int fd);

/* Mode "middle <fd>": start an orphan-to-be, and once it asked for its
 * parent-death signal, say "ready" on fd and end. */
static int run_middle(int fd) {
    int ready[2];
    if (pipe(ready) != 0 || spawn_mode("orphan", fd, ready[1], -1) < 0)
        return 95;
    if (read_byte(ready[0]) != 'r')
        return 96;
    char byte = 'r';
    return write(fd, &byte, 1) == 1 ? 0 : 97;
}

/* One byte from fd within 10 s, or -1. */
static int read_byte(int fd) {
    struct pollfd ready = {fd, POLLIN, 0};
    char byte;
    if (poll(&ready, 1, 10000) != 1 || read(fd, &byte, 1) != 1)
        return -1;
    return byte;
}

static int status_of(pid_t pid) {
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return status;
}

static int killed_by(pid_t pid, int signal) {
    int status = status_of(pid);
    return WIFSIGNALED(status) && WTERMSIG(status) == signal;
}

static void check_kill_process(void) {
    int channel[2];
    if (pipe(channel) != 0)
        return verdict(0, "pipe");
    pid_t pid = spawn_mode("sleeper", channel[1], -1, -1);
    CHECK(pid > 0 && read_byte(channel[0]) == 'r', "sleeper started");
    CHECK(kill(pid, 0) == 0, "kill(pid, 0) finds the child");
    CHECK(kill(pid, SIGUSR1) == 0 && read_byte(channel[0]) == SIGUSR1,
          "kill(pid, SIGUSR1) runs the child's handler");
    CHECK(syscall(SYS_tgkill, pid, pid, SIGUSR1) == 0 && read_byte(channel[0]) == SIGUSR1,
          "tgkill reaches a thread of another process");
    errno = 0;
    CHECK(syscall(SYS_tgkill, getpid(), pid, SIGUSR1) == -1 && errno == ESRCH,
          "tgkill with the wrong process id: ESRCH");
    CHECK(kill(-1, 0) == 0, "kill(-1, 0) finds other processes");
    CHECK(kill(pid, SIGTERM) == 0 && killed_by(pid, SIGTERM), "kill(pid, SIGTERM) ends the child");
    errno = 0;
    CHECK(kill(pid, 0) == -1 && errno == ESRCH, "kill of a reaped child: ESRCH");
    close(channel[0]);
    close(channel[1]);
}

static void check_zombie_and_permission(void) {
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    for (int i = 0; i < 1000; i++) { /* until it is a zombie */
        siginfo_t info = {0};
        if (waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid)
            break;
        usleep(1000);
    }
    CHECK(kill(pid, SIGTERM) == 0, "kill of a zombie succeeds");
    CHECK(WIFEXITED(status_of(pid)), "the zombie still exited normally");
    pid_t parent = getpid();
    pid = fork();
    if (pid == 0) {
        if (setresuid(1000, 1000, 1000) != 0)
            _exit(80);
        int denied = kill(parent, 0) == -1 && errno == EPERM;
        int own = kill(getpid(), 0) == 0;
        _exit(denied && own ? 0 : 81);
    }
    int status = status_of(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "an unprivileged child may not signal root's process: EPERM");
    errno = 0;
    CHECK(kill(getpid(), 65) == -1 && errno == EINVAL, "kill with signal 65: EINVAL");
}

static volatile sig_atomic_t own_usr2;

static void count_usr2(int signal) {
    (void)signal;
    own_usr2++;
}

static void check_kill_groups(void) {
    int channel[2];
    if (pipe(channel) != 0)
        return verdict(0, "pipe");
    pid_t first = spawn_mode("sleeper", channel[1], -1, 0);
    pid_t second = spawn_mode("sleeper", channel[1], -1, first);
    CHECK(first > 0 && second > 0 && read_byte(channel[0]) == 'r' && read_byte(channel[0]) == 'r',
          "two sleepers in a new group");
    CHECK(getpgid(second) == first, "the second joined the first's group");
    CHECK(kill(-first, SIGTERM) == 0, "kill(-group, SIGTERM)");
    CHECK(killed_by(first, SIGTERM) && killed_by(second, SIGTERM), "both group members ended");
    errno = 0;
    CHECK(kill(-first, 0) == -1 && errno == ESRCH, "kill of an empty group: ESRCH");

    /* Our own group, so kill(0) reaches no process of the harness. */
    CHECK(setpgid(0, 0) == 0, "setpgid(0, 0)");
    signal(SIGUSR2, count_usr2);
    pid_t same_group = spawn_mode("sleeper", channel[1], -1, -1);
    CHECK(same_group > 0 && read_byte(channel[0]) == 'r', "a sleeper in our group");
    CHECK(kill(0, SIGUSR2) == 0 && own_usr2 == 1, "kill(0, SIGUSR2) reaches the caller");
    CHECK(killed_by(same_group, SIGUSR2), "kill(0, SIGUSR2) ends the group's sleeper");
    signal(SIGUSR2, SIG_DFL);
    close(channel[0]);
    close(channel[1]);
}

static void check_parent_death_signal(void) {
    int signal_number = -1;
    CHECK(prctl(PR_GET_PDEATHSIG, &signal_number) == 0 && signal_number == 0,
          "PR_GET_PDEATHSIG starts at 0");
    CHECK(prctl(PR_SET_PDEATHSIG, SIGHUP) == 0 && prctl(PR_GET_PDEATHSIG, &signal_number) == 0 &&
              signal_number == SIGHUP,
          "PR_SET_PDEATHSIG then PR_GET_PDEATHSIG");
    pid_t pid = fork();
    if (pid == 0) {
        int inherited = -1;
        prctl(PR_GET_PDEATHSIG, &inherited);
        _exit(inherited == 0 ? 0 : 1);
    }
    int status = status_of(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a fork child starts without it");
    prctl(PR_SET_PDEATHSIG, 0);
    errno = 0;
    CHECK(prctl(PR_SET_PDEATHSIG, 65) == -1 && errno == EINVAL, "PR_SET_PDEATHSIG 65: EINVAL");

    int channel[2];
    if (pipe(channel) != 0)
        return verdict(0, "pipe");
    pid_t middle = spawn_mode("middle", channel[1], -1, -1);
    CHECK(middle > 0 && read_byte(channel[0]) == 'r', "a grandchild asked for SIGUSR2");
    status = status_of(middle);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "its parent ended");
    CHECK(read_byte(channel[0]) == SIGUSR2, "the orphan got its parent-death signal");
    close(channel[0]);
    close(channel[1]);
}

static void check_prctl_flags(void) {
    char name[32] = {0};
    CHECK(prctl(PR_SET_NAME, "a-rather-long-thread-name") == 0 && prctl(PR_GET_NAME, name) == 0 &&
              strcmp(name, "a-rather-long-t") == 0,
          "PR_SET_NAME keeps 15 bytes");
    char comm[64] = {0};
    int fd = open("/proc/self/comm", O_RDONLY);
    CHECK(fd >= 0 && read(fd, comm, sizeof comm - 1) > 0 && strcmp(comm, "a-rather-long-t\n") == 0,
          "/proc/self/comm shows the name");
    close(fd);
    CHECK(prctl(PR_GET_DUMPABLE) == 1, "PR_GET_DUMPABLE starts at 1");
    CHECK(prctl(PR_SET_DUMPABLE, 0) == 0 && prctl(PR_GET_DUMPABLE) == 0, "PR_SET_DUMPABLE 0");
    errno = 0;
    CHECK(prctl(PR_SET_DUMPABLE, 2) == -1 && errno == EINVAL, "PR_SET_DUMPABLE 2: EINVAL");
    prctl(PR_SET_DUMPABLE, 1);
    CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0, "PR_GET_NO_NEW_PRIVS starts at 0");
    errno = 0;
    CHECK(prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0) == -1 && errno == EINVAL,
          "PR_SET_NO_NEW_PRIVS 0: EINVAL");
    CHECK(
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1,
        "PR_SET_NO_NEW_PRIVS 1 sticks");
    errno = 0;
    CHECK(prctl(0x7fff) == -1 && errno == EINVAL, "an unknown prctl option: EINVAL");
}

static pthread_mutex_t task_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t task_done = PTHREAD_COND_INITIALIZER;
static int task_tid, task_may_end;

static void* named_thread(void* unused) {
    (void)unused;
    prctl(PR_SET_NAME, "worker");
    pthread_mutex_lock(&task_lock);
    task_tid = (int)syscall(SYS_gettid);
    pthread_cond_broadcast(&task_done);
    while (!task_may_end)
        pthread_cond_wait(&task_done, &task_lock);
    pthread_mutex_unlock(&task_lock);
    return NULL;
}

static int read_file(const char* path, char* text, size_t size) {
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t length = read(fd, text, size - 1);
    close(fd);
    text[length > 0 ? length : 0] = '\0';
    return length > 0 ? 0 : -1;
}

static void check_task_directory(void) {
    pthread_t thread;
    if (pthread_create(&thread, NULL, named_thread, NULL) != 0)
        return verdict(0, "pthread_create");
    pthread_mutex_lock(&task_lock);
    while (!task_tid)
        pthread_cond_wait(&task_done, &task_lock);
    pthread_mutex_unlock(&task_lock);

    char path[128], text[512], expected[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", task_tid);
    CHECK(read_file(path, text, sizeof text) == 0 && strcmp(text, "worker\n") == 0,
          "/proc/self/task/<tid>/comm is the thread's name");
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", getpid(), task_tid);
    snprintf(expected, sizeof expected, "%d (worker) ", task_tid);
    CHECK(read_file(path, text, sizeof text) == 0 && strncmp(text, expected, strlen(expected)) == 0,
          "/proc/<pid>/task/<tid>/stat starts with the tid and name");
    snprintf(path, sizeof path, "/proc/self/task/%d/status", task_tid);
    snprintf(expected, sizeof expected, "\nTgid:\t%d\n", getpid());
    CHECK(read_file(path, text, sizeof text) == 0 && strstr(text, expected) != NULL,
          "the thread's status names its process");
    snprintf(path, sizeof path, "/proc/self/task/%d", getpid());
    CHECK(access(path, F_OK) == 0, "/proc/self/task/<pid> is the main thread");
    CHECK(access("/proc/self/task/999999", F_OK) == -1 && errno == ENOENT,
          "/proc/self/task/<no such tid>: ENOENT");

    pthread_mutex_lock(&task_lock);
    task_may_end = 1;
    pthread_cond_broadcast(&task_done);
    pthread_mutex_unlock(&task_lock);
    pthread_join(thread, NULL);
}

/* Mode "after-exec <timer-id>": what exec kept of the ids and timers. */
static int run_after_exec(int timer_id) {
    printf("AT_UID %lu AT_EUID %lu AT_SECURE %lu\n", getauxval(AT_UID), getauxval(AT_EUID),
           getauxval(AT_SECURE));
    struct itimerspec left;
    errno = 0;
    int gone = syscall(SYS_timer_gettime, timer_id, &left) == -1 && errno == EINVAL;
    printf("POSIX timer deleted by exec: %s\n", gone ? "yes" : "no");
    unsigned remaining = alarm(0);
    printf("alarm kept across exec: %s\n", remaining > 0 && remaining <= 100 ? "yes" : "no");
    return 0;
}

static void check_exec_keeps(void) {
    CHECK(getauxval(AT_UID) == getuid() && getauxval(AT_SECURE) == 0,
          "auxv AT_UID is the real uid, AT_SECURE 0");
    pid_t pid = fork();
    if (pid == 0) {
        int timer_id = -1;
        struct sigevent event = {0};
        event.sigev_notify = SIGEV_NONE;
        if (syscall(SYS_timer_create, CLOCK_MONOTONIC, &event, &timer_id) != 0)
            _exit(70);
        char id_text[16];
        snprintf(id_text, sizeof id_text, "%d", timer_id);
        alarm(100);
        if (setresuid(1000, 0, 0) != 0) /* real 1000, effective 0: a secure exec */
            _exit(71);
        char* args[] = {self, "after-exec", id_text, NULL};
        execve(self, args, environ);
        _exit(72);
    }
    int status = status_of(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the exec'd child ran");
}

int main(int argc, char** argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
    if (length <= 0) {
        printf("FAIL: readlink /proc/self/exe\n");
        return 1;
    }
    self[length] = '\0';
    if (argc > 2 && strcmp(argv[1], "sleeper") == 0)
        return run_sleeper(atoi(argv[2]));
    if (argc > 3 && strcmp(argv[1], "orphan") == 0)
        return run_orphan(atoi(argv[2]), atoi(argv[3]));
    if (argc > 2 && strcmp(argv[1], "middle") == 0)
        return run_middle(atoi(argv[2]));
    if (argc > 2 && strcmp(argv[1], "after-exec") == 0)
        return run_after_exec(atoi(argv[2]));
    check_kill_process();
    check_zombie_and_permission();
    check_kill_groups();
    check_parent_death_signal();
    check_prctl_flags();
    check_task_directory();
    check_exec_keeps();
    return verdict_failures ? 1 : 0;
}

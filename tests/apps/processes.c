/* Processes: fork, vfork, posix_spawn, execve (ELF and #! scripts), exit
 * statuses, wait4/waitid, SIGCHLD, zombies, process groups and sessions.
 * Every child exits or execs without waiting for its parent, so the program
 * runs the same under a fork that makes the parent wait until then (myst's
 * ForkMode pseudo_wait_for_exit_exec, and its default pseudo) as on Linux. Run with no arguments;
 * it runs itself again (through /proc/self/exe's target) for the exec
 * checks, with a mode argument. */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "verdict.h"

extern char** environ;

static char self[512];

static int global_counter = 100;

/* Modes the program runs in when it execs itself. */
static int run_mode(int argc, char** argv) {
    const char* mode = argv[1];
    if (strcmp(mode, "print-args") == 0) {
        for (int i = 2; i < argc; i++)
            printf("arg: %s\n", argv[i]);
        const char* value = getenv("PROCESSES_TEST");
        printf("env: %s\n", value ? value : "(unset)");
        return 3;
    }
    if (strcmp(mode, "script") == 0) {
        /* argv: interpreter, "script", script path, then the script's arguments. */
        printf("script interpreter args: %d\n", argc);
        const char* slash = strrchr(argv[2], '/');
        printf("script name: %s\n", slash ? slash + 1 : argv[2]);
        for (int i = 3; i < argc; i++)
            printf("script arg: %s\n", argv[i]);
        return 4;
    }
    if (strcmp(mode, "cloexec") == 0) {
        int fd = atoi(argv[2]);
        printf("close-on-exec fd closed: %s\n", fcntl(fd, F_GETFD) == -1 ? "yes" : "no");
        printf("inherited fd open: %s\n", fcntl(fd + 1, F_GETFD) != -1 ? "yes" : "no");
        struct sigaction action;
        sigaction(SIGUSR1, NULL, &action);
        printf("handler reset to default: %s\n", action.sa_handler == SIG_DFL ? "yes" : "no");
        sigaction(SIGUSR2, NULL, &action);
        printf("ignored stays ignored: %s\n", action.sa_handler == SIG_IGN ? "yes" : "no");
        return 0;
    }
    if (strcmp(mode, "group") == 0) {
        printf("exec'd child keeps its group: %s\n", getpgid(0) == getpid() ? "yes" : "no");
        return 0;
    }
    printf("FAIL: unknown mode %s\n", mode);
    return 1;
}

static int status_of(pid_t pid) {
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return status;
}

static void check_fork_and_exit(void) {
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0)
        _exit(getppid() == parent ? 7 : 8);
    CHECK(pid > 0, "fork returns the child's pid");
    int status = status_of(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7, "child sees its parent and exits 7");
    CHECK(waitpid(pid, &status, 0) == -1 && errno == ECHILD, "a reaped child is gone (ECHILD)");
}

static void check_private_memory(void) {
    int on_stack = 5;
    int* on_heap = malloc(sizeof *on_heap);
    *on_heap = 9;
    pid_t pid = fork();
    if (pid == 0) {
        global_counter = 1;
        on_stack = 2;
        *on_heap = 3;
        for (int i = 0; i < 1000; i++)
            free(malloc(64 + i));
        _exit(global_counter + on_stack + *on_heap == 6 ? 0 : 1);
    }
    int status = status_of(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child sees its own writes");
    CHECK(global_counter == 100 && on_stack == 5 && *on_heap == 9,
          "the parent keeps its globals, stack and heap after the child wrote them");
    free(on_heap);
}

static void check_vfork(void) {
    volatile int shared = 0;
    pid_t pid = vfork();
    if (pid == 0) {
        shared = 1;
        _exit(5);
    }
    int status = status_of(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 5, "vfork child exits 5");
    CHECK(shared == 1, "a vfork child shares the parent's memory");
}

static void check_exec(void) {
    pid_t pid = fork();
    if (pid == 0) {
        char* args[] = {self, "print-args", "one", "two words", NULL};
        char* env[] = {"PROCESSES_TEST=from-execve", NULL};
        execve(self, args, env);
        _exit(99);
    }
    int status = status_of(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 3, "exec'd program's exit status");

    pid_t spawned;
    char* args[] = {self, "print-args", "spawned", NULL};
    char* env[] = {"PROCESSES_TEST=from-posix_spawn", NULL};
    /* The verdict waits for the child, whose output would race with it. */
    int spawn_error = posix_spawn(&spawned, self, NULL, NULL, args, env);
    status = spawn_error == 0 ? status_of(spawned) : -1;
    CHECK(spawn_error == 0, "posix_spawn starts a child");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 3, "posix_spawn child's exit status");

    errno = 0;
    char* none[] = {"missing", NULL};
    CHECK(execve("/no/such/program", none, environ) == -1 && errno == ENOENT,
          "execve of a missing file: ENOENT, the caller goes on");
    int fd = open("/tmp/processes-not-elf", O_CREAT | O_TRUNC | O_WRONLY, 0755);
    CHECK(fd >= 0 && write(fd, "just text\n", 10) == 10, "write a non-ELF file");
    close(fd);
    errno = 0;
    CHECK(execve("/tmp/processes-not-elf", none, environ) == -1 && errno == ENOEXEC,
          "execve of text without #!: ENOEXEC");
    fd = open("/tmp/processes-truncated", O_CREAT | O_TRUNC | O_WRONLY, 0755);
    int self_fd = open(self, O_RDONLY);
    char head[100];
    CHECK(read(self_fd, head, sizeof head) == sizeof head && write(fd, head, sizeof head) == 100,
          "write a truncated ELF");
    close(self_fd);
    close(fd);
    errno = 0;
    CHECK(execve("/tmp/processes-truncated", none, environ) == -1 && errno == ENOEXEC,
          "execve of a truncated ELF: ENOEXEC");
    unlink("/tmp/processes-not-elf");
    unlink("/tmp/processes-truncated");
}

static void check_script(void) {
    const char* path = "/tmp/processes-script";
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0755);
    char line[600];
    int length = snprintf(line, sizeof line, "#!%s script\necho not run\n", self);
    CHECK(fd >= 0 && write(fd, line, length) == length, "write a #! script");
    close(fd);
    pid_t pid = fork();
    if (pid == 0) {
        char* args[] = {"processes-script", "alpha", "beta", NULL};
        execve(path, args, environ);
        _exit(98);
    }
    int status = status_of(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 4, "a #! script runs its interpreter");
    unlink(path);
}

static void check_close_on_exec(void) {
    int fds[2];
    fds[0] = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    fds[1] = dup2(open("/proc/self/cmdline", O_RDONLY), fds[0] + 1);
    CHECK(fds[0] >= 0 && fds[1] == fds[0] + 1, "open two descriptors");
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGUSR1, SIG_IGN);
        struct sigaction handler = {0};
        handler.sa_handler = (void (*)(int))exit;
        sigaction(SIGUSR1, &handler, NULL);
        signal(SIGUSR2, SIG_IGN);
        char number[16];
        snprintf(number, sizeof number, "%d", fds[0]);
        char* args[] = {self, "cloexec", number, NULL};
        execve(self, args, environ);
        _exit(97);
    }
    int status = status_of(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exec'd child ran");
    close(fds[0]);
    close(fds[1]);
}

static void check_signalled_children(void) {
    pid_t pid = fork();
    if (pid == 0) {
        kill(getpid(), SIGTERM);
        _exit(0);
    }
    int status = status_of(pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "a child killed by SIGTERM");
    pid = fork();
    if (pid == 0) {
        static volatile uintptr_t address = 8; /* hidden from the compiler */
        *(volatile int*)address = 1;
        _exit(0);
    }
    status = status_of(pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "a crashing child: SIGSEGV");
    pid = fork();
    if (pid == 0)
        abort();
    status = status_of(pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "an aborting child: SIGABRT");
}

static volatile sig_atomic_t sigchld_count;
static volatile pid_t sigchld_pid;
static volatile int sigchld_code;

static void on_sigchld(int signal, siginfo_t* info, void* context) {
    (void)signal;
    (void)context;
    sigchld_count++;
    sigchld_pid = info->si_pid;
    sigchld_code = info->si_code;
}

static void check_sigchld_and_waitid(void) {
    struct sigaction action = {0};
    action.sa_sigaction = on_sigchld;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGCHLD, &action, NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(12);
    siginfo_t info = {0};
    CHECK(waitid(P_PID, pid, &info, WEXITED | WNOWAIT) == 0, "waitid WNOWAIT");
    CHECK(info.si_pid == pid && info.si_code == CLD_EXITED && info.si_status == 12,
          "waitid reports the exit");
    memset(&info, 0, sizeof info);
    CHECK(waitid(P_ALL, 0, &info, WEXITED) == 0 && info.si_pid == pid, "waitid reaps it");
    CHECK(sigchld_count == 1 && sigchld_pid == pid && sigchld_code == CLD_EXITED,
          "SIGCHLD handler ran once with the child's pid");
    memset(&info, 0, sizeof info);
    errno = 0;
    CHECK(waitid(P_ALL, 0, &info, WEXITED | WNOHANG) == -1 && errno == ECHILD,
          "waitid with no children: ECHILD");
    errno = 0;
    CHECK(waitid(P_ALL, 0, &info, WNOHANG) == -1 && errno == EINVAL,
          "waitid without WEXITED/WSTOPPED/WCONTINUED: EINVAL");
    signal(SIGCHLD, SIG_DFL);

    signal(SIGCHLD, SIG_IGN);
    pid = fork();
    if (pid == 0)
        _exit(0);
    int status;
    errno = 0;
    CHECK(waitpid(-1, &status, 0) == -1 && errno == ECHILD,
          "SIGCHLD ignored: the child is reaped at once (ECHILD)");
    signal(SIGCHLD, SIG_DFL);
}

static void check_wait_errors(void) {
    int status;
    errno = 0;
    CHECK(wait(&status) == -1 && errno == ECHILD, "wait with no children: ECHILD");
    errno = 0;
    CHECK(waitpid(-1, &status, 0x40000000 | 0x1000) == -1 && errno == EINVAL,
          "waitpid with unknown options: EINVAL");
    CHECK(waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD, "WNOHANG with no children");
    for (int code = 0; code < 256; code += 85) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(code);
        int got = status_of(pid);
        CHECK(WIFEXITED(got) && WEXITSTATUS(got) == code, "exit status %d reaches the parent",
              code);
    }
}

static void check_groups(void) {
    pid_t me = getpid();
    CHECK(getpgid(0) == getpgrp(), "getpgid(0) is getpgrp()");
    CHECK(getsid(0) == getsid(me), "getsid(0) is getsid(self)");
    pid_t pid = fork();
    if (pid == 0) {
        int ok = getpgrp() != getpid();
        ok &= setpgid(0, 0) == 0 && getpgrp() == getpid();
        ok &= setsid() == -1 && errno == EPERM; /* a group leader now */
        _exit(ok ? 0 : 1);
    }
    int status = status_of(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: setpgid(0,0), setsid EPERM");
    pid = fork();
    if (pid == 0) {
        pid_t session = setsid();
        int ok = session == getpid() && getsid(0) == getpid() && getpgrp() == getpid();
        _exit(ok ? 0 : 1);
    }
    status = status_of(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: setsid starts a session");
    pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        char* args[] = {self, "group", NULL};
        execve(self, args, environ);
        _exit(96);
    }
    status = status_of(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exec'd child in its own group");
    errno = 0;
    CHECK(setpgid(pid, pid) == -1 && errno == ESRCH, "setpgid of a reaped child: ESRCH");
    errno = 0;
    CHECK(getpgid(999999) == -1 && errno == ESRCH, "getpgid of no process: ESRCH");
    errno = 0;
    CHECK(kill(999999, 0) == -1 && errno == ESRCH, "kill of no process: ESRCH");
}

int main(int argc, char** argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
    if (length <= 0) {
        printf("FAIL: readlink /proc/self/exe\n");
        return 1;
    }
    self[length] = '\0';
    if (argc > 1)
        return run_mode(argc, argv);
    check_fork_and_exit();
    check_private_memory();
    check_vfork();
    check_exec();
    check_script();
    check_close_on_exec();
    check_signalled_children();
    check_sigchld_and_waitid();
    check_wait_errors();
    check_groups();
    return verdict_failures ? 1 : 0;
}

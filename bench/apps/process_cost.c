/* Process costs, printed as one number for bench/processes.sh:
 *   process_cost fork N       fork, child _exit(0), waitpid; µs per round
 *   process_cost forkexec N   fork, child execs this static program (which
 *                             exits at once), waitpid; µs per round
 *   process_cost spawn N      posix_spawn of the same, waitpid; µs per round
 *   process_cost pingpong N   one byte bounced N times between this process
 *                             and a spawned child over two pipes; round
 *                             trips per second
 *   process_cost stream MIB   a spawned child writes MIB MiB into a pipe in
 *                             64 KiB writes, this process reads; MB/s
 * Children that run beside their parent are spawned (vfork + exec), so
 * the figures mean the same under a fork that makes the parent wait. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 65536
extern char** environ;
static char self[512];

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void reap(pid_t pid) {
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        exit(2);
}

static pid_t spawn(char** args) {
    pid_t pid;
    return posix_spawn(&pid, self, NULL, NULL, args, environ) == 0 ? pid : -1;
}

/* The child side of pingpong and stream: argv = mode, read fd, write fd, count. */
static int run_child(char** argv) {
    int in = atoi(argv[2]), out = atoi(argv[3]);
    long long count = atoll(argv[4]);
    if (strcmp(argv[1], "echo") == 0) {
        char byte;
        for (long long i = 0; i < count; i++)
            if (read(in, &byte, 1) != 1 || write(out, &byte, 1) != 1)
                return 3;
        return 0;
    }
    static char data[CHUNK];
    memset(data, 'p', sizeof data);
    for (long long done = 0; done < count << 20; done += CHUNK)
        if (write(out, data, CHUNK) != CHUNK)
            return 3;
    return 0;
}

/* With `forked`, the echoing child is a fork that does not exec: under
 * myst the two processes take turns on the pages at every byte. */
static double rounds_per_second_pingpong(long rounds, int forked) {
    int to_child[2], from_child[2];
    if (pipe(to_child) || pipe(from_child))
        exit(2);
    char in[16], out[16], count[24];
    snprintf(in, sizeof in, "%d", to_child[0]);
    snprintf(out, sizeof out, "%d", from_child[1]);
    snprintf(count, sizeof count, "%ld", rounds);
    char* args[] = {self, "echo", in, out, count, NULL};
    pid_t child = forked ? fork() : spawn(args);
    if (child == 0)
        _exit(run_child(args));
    double start = now();
    char byte = 'x';
    for (long i = 0; i < rounds; i++)
        if (write(to_child[1], &byte, 1) != 1 || read(from_child[0], &byte, 1) != 1)
            exit(2);
    double elapsed = now() - start;
    reap(child);
    return rounds / elapsed;
}

static double stream_megabytes_per_second(long long mib) {
    int channel[2];
    if (pipe(channel))
        exit(2);
    char out[16], count[24];
    snprintf(out, sizeof out, "%d", channel[1]);
    snprintf(count, sizeof count, "%lld", mib);
    char* args[] = {self, "produce", "0", out, count, NULL};
    double start = now();
    pid_t child = spawn(args);
    close(channel[1]);
    static char sink[CHUNK];
    long long got = 0;
    ssize_t n;
    while ((n = read(channel[0], sink, sizeof sink)) > 0)
        got += n;
    double elapsed = now() - start;
    reap(child);
    if (got != mib << 20)
        exit(2);
    return got / elapsed / 1e6;
}

int main(int argc, char** argv) {
    ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
    if (length <= 0)
        return 1;
    self[length] = '\0';
    if (argc == 2 && strcmp(argv[1], "noop") == 0)
        return 0;
    if (argc == 5)
        return run_child(argv);
    if (argc != 3)
        return 1;
    long count = atol(argv[2]);
    char* noop[] = {self, "noop", NULL};
    double start = now();
    if (strcmp(argv[1], "fork") == 0) {
        for (long i = 0; i < count; i++) {
            pid_t pid = fork();
            if (pid == 0)
                _exit(0);
            reap(pid);
        }
    } else if (strcmp(argv[1], "forkexec") == 0) {
        for (long i = 0; i < count; i++) {
            pid_t pid = fork();
            if (pid == 0) {
                execve(self, noop, environ);
                _exit(4);
            }
            reap(pid);
        }
    } else if (strcmp(argv[1], "spawn") == 0) {
        for (long i = 0; i < count; i++)
            reap(spawn(noop));
    } else if (strcmp(argv[1], "pingpong") == 0) {
        printf("%.0f\n", rounds_per_second_pingpong(count, 0));
        return 0;
    } else if (strcmp(argv[1], "forkpingpong") == 0) {
        printf("%.0f\n", rounds_per_second_pingpong(count, 1));
        return 0;
    } else if (strcmp(argv[1], "stream") == 0) {
        printf("%.0f\n", stream_megabytes_per_second(count));
        return 0;
    } else {
        return 1;
    }
    printf("%.1f\n", (now() - start) / count * 1e6);
    return 0;
}

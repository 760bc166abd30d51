/* Times one system call in a loop and prints nanoseconds per call:
 *   syscall_cost getppid N        - getppid() N times
 *   syscall_cost read4k FILE N    - pread() of 4 KiB from FILE N times */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char** argv) {
    if (argc >= 3 && strcmp(argv[1], "getppid") == 0) {
        long n = atol(argv[2]);
        double start = now_ns();
        for (long i = 0; i < n; ++i)
            getppid();
        printf("%.1f\n", (now_ns() - start) / n);
        return 0;
    }
    if (argc >= 4 && strcmp(argv[1], "read4k") == 0) {
        int fd = open(argv[2], O_RDONLY);
        if (fd < 0) {
            perror(argv[2]);
            return 1;
        }
        static char buffer[4096];
        long n = atol(argv[3]);
        double start = now_ns();
        for (long i = 0; i < n; ++i)
            if (pread(fd, buffer, sizeof buffer, (i % 256) * 4096) != (ssize_t)sizeof buffer)
                return 1;
        printf("%.1f\n", (now_ns() - start) / n);
        return 0;
    }
    fprintf(stderr, "usage: syscall_cost getppid N | read4k FILE N\n");
    return 2;
}

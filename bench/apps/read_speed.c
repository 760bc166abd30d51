/* Reads a file sequentially in 1 MiB calls, PASSES times (default 1) from
 * the start, and prints the MB/s of each pass on one line: "1010 2950".
 * A second pass shows what the file system keeps from the first. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: read_speed FILE [PASSES]\n");
        return 2;
    }
    int passes = argc == 3 ? atoi(argv[2]) : 1;
    if (passes < 1) {
        fprintf(stderr, "read_speed: PASSES must be a positive number\n");
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
        perror(argv[1]);
        return 1;
    }
    static char buffer[1 << 20];
    for (int pass = 0; pass < passes; ++pass) {
        if (lseek(fd, 0, SEEK_SET) != 0) {
            perror("lseek");
            return 1;
        }
        double start = now();
        long long total = 0;
        ssize_t n;
        while ((n = read(fd, buffer, sizeof buffer)) > 0)
            total += n;
        double seconds = now() - start;
        if (n < 0) {
            perror("read");
            return 1;
        }
        printf("%s%.0f", pass ? " " : "", total / seconds / 1e6);
    }
    printf("\n");
    return 0;
}

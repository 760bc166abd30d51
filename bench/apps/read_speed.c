/* Reads a file sequentially in 1 MiB calls and prints MB/s. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: read_speed FILE\n");
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
        perror(argv[1]);
        return 1;
    }
    static char buffer[1 << 20];
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    long long total = 0;
    ssize_t n;
    while ((n = read(fd, buffer, sizeof buffer)) > 0)
        total += n;
    clock_gettime(CLOCK_MONOTONIC, &end);
    if (n < 0) {
        perror("read");
        return 1;
    }
    double seconds = (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
    printf("%.0f\n", total / seconds / 1e6);
    return 0;
}

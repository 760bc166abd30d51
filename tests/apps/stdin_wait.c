/* A thread blocked reading the host's stdin must not stop the others: run
 * with a stdin that stays silent for 5 seconds before a line comes
 * (tests/apps/exec_apps.sh pipes `sleep 5; echo`). The main thread's own
 * kernel work must finish meanwhile, well before the line (a kernel that
 * held its lock through the read would finish it only after ~5 s); then
 * the reader gets the line. */
#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "verdict.h"

static char line[64];
static ssize_t line_length = -1;

static void* read_stdin(void* unused) {
    (void)unused;
    line_length = read(0, line, sizeof line - 1);
    return NULL;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_t reader;
    if (pthread_create(&reader, NULL, read_stdin, NULL) != 0)
        return 1;
    usleep(100000); /* the reader is waiting by now */
    double start = now();
    int opened = 0;
    for (int i = 0; i < 100; i++) {
        int fd = open("/proc/self/status", O_RDONLY);
        opened += fd >= 0;
        close(fd);
    }
    double elapsed = now() - start;
    CHECK(opened == 100 && elapsed < 2 && line_length < 0,
          "other threads make system calls while one waits for stdin");
    pthread_join(reader, NULL);
    CHECK(line_length == 5 && memcmp(line, "line\n", 5) == 0, "the reader gets the line");
    return verdict_failures ? 1 : 0;
}

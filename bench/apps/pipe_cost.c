/* Pipe costs, printed as one number for bench/pipes.sh:
 *   pipe_cost pingpong N   two threads bounce one byte over two pipes N
 *                          times; prints round trips per second
 *   pipe_cost stream MIB   one thread writes MIB MiB in 64 KiB writes,
 *                          another reads them; prints MB/s (10^6 bytes) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int to_peer[2], from_peer[2];
static long rounds;
static long long stream_bytes;
#define CHUNK 65536

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void* echo(void* argument) {
    (void)argument;
    char byte;
    for (long i = 0; i < rounds; i++) {
        if (read(to_peer[0], &byte, 1) != 1 || write(from_peer[1], &byte, 1) != 1)
            exit(2);
    }
    return NULL;
}

static void* produce(void* argument) {
    (void)argument;
    static char data[CHUNK];
    memset(data, 'p', sizeof data);
    for (long long done = 0; done < stream_bytes; done += CHUNK)
        if (write(to_peer[1], data, CHUNK) != CHUNK)
            exit(2);
    close(to_peer[1]);
    return NULL;
}

int main(int argc, char** argv) {
    if (argc != 3)
        return 1;
    pipe(to_peer);
    pipe(from_peer);
    pthread_t thread;
    if (strcmp(argv[1], "pingpong") == 0) {
        rounds = atol(argv[2]);
        pthread_create(&thread, NULL, echo, NULL);
        double start = now();
        char byte = 'x';
        for (long i = 0; i < rounds; i++)
            if (write(to_peer[1], &byte, 1) != 1 || read(from_peer[0], &byte, 1) != 1)
                return 2;
        double elapsed = now() - start;
        pthread_join(thread, NULL);
        printf("%.0f\n", rounds / elapsed);
    } else {
        stream_bytes = atoll(argv[2]) << 20;
        static char sink[CHUNK];
        double start = now();
        pthread_create(&thread, NULL, produce, NULL);
        long long got = 0;
        ssize_t n;
        while ((n = read(to_peer[0], sink, sizeof sink)) > 0)
            got += n;
        double elapsed = now() - start;
        pthread_join(thread, NULL);
        if (got != stream_bytes)
            return 2;
        printf("%.0f\n", got / elapsed / 1e6);
    }
    return 0;
}

/* Stream socket costs, printed as one number for bench/sockets.sh:
 *   socket_cost pingpong N   a client and an echoing server thread bounce
 *                            one byte N times over TCP on 127.0.0.1
 *                            (TCP_NODELAY); prints round trips per second
 *   socket_cost stream MIB   one thread sends MIB MiB over TCP in 64 KiB
 *                            sends, another receives them; prints MB/s
 *                            (10^6 bytes)
 *   socket_cost unix-pingpong N, socket_cost unix-stream MIB
 *                            the same over an AF_UNIX stream socketpair */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 65536

static int server_fd;
static long rounds;
static long long stream_bytes;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void* echo(void* argument) {
    (void)argument;
    char byte;
    for (long i = 0; i < rounds; i++)
        if (recv(server_fd, &byte, 1, 0) != 1 || send(server_fd, &byte, 1, 0) != 1)
            exit(2);
    return NULL;
}

static void* produce(void* argument) {
    int fd = *(int*)argument;
    static char data[CHUNK];
    memset(data, 'p', sizeof data);
    for (long long done = 0; done < stream_bytes; done += CHUNK)
        if (send(fd, data, CHUNK, 0) != CHUNK)
            exit(2);
    shutdown(fd, SHUT_WR);
    return NULL;
}

/* A connected TCP pair over 127.0.0.1, without Nagle's delay. */
static int tcp_pair(int* client) {
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {0};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (bind(listener, (struct sockaddr*)&address, sizeof address) != 0 ||
        listen(listener, 1) != 0 || getsockname(listener, (struct sockaddr*)&address, &size) != 0)
        return 2;
    *client = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(*client, (struct sockaddr*)&address, sizeof address) != 0)
        return 2;
    server_fd = accept(listener, NULL, NULL);
    int on = 1;
    setsockopt(*client, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    setsockopt(server_fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    return 0;
}

int main(int argc, char** argv) {
    if (argc != 3)
        return 1;
    const char* mode = argv[1];
    int client = -1;
    if (strncmp(mode, "unix-", 5) == 0) {
        int pair[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0)
            return 2;
        client = pair[0];
        server_fd = pair[1];
        mode += 5;
    } else if (tcp_pair(&client) != 0) {
        return 2;
    }
    pthread_t thread;
    if (strcmp(mode, "pingpong") == 0) {
        rounds = atol(argv[2]);
        pthread_create(&thread, NULL, echo, NULL);
        double start = now();
        char byte = 'x';
        for (long i = 0; i < rounds; i++)
            if (send(client, &byte, 1, 0) != 1 || recv(client, &byte, 1, 0) != 1)
                return 2;
        double elapsed = now() - start;
        pthread_join(thread, NULL);
        printf("%.0f\n", rounds / elapsed);
        return 0;
    }
    stream_bytes = atoll(argv[2]) << 20;
    static char buffer[CHUNK];
    double start = now();
    pthread_create(&thread, NULL, produce, &client);
    long long received = 0;
    for (;;) {
        ssize_t got = recv(server_fd, buffer, sizeof buffer, 0);
        if (got <= 0)
            break;
        received += got;
    }
    double elapsed = now() - start;
    pthread_join(thread, NULL);
    if (received != stream_bytes)
        return 2;
    printf("%.0f\n", received / elapsed / 1e6);
    return 0;
}

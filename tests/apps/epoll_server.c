/* An echo server on one thread with epoll (edge-triggered, non-blocking
 * sockets, EPOLLOUT when a reply does not fit), and the client that loads
 * it, for the real-service test (tests/tools/exec_epoll_server.sh): the
 * server runs under myst, the client natively on the host.
 *
 *   epoll_server server <connections>
 *     listens on 127.0.0.1 (an ephemeral port, named on stderr as
 *     "listening on port N") and exits after <connections> clients have
 *     closed cleanly, printing what it saw. A client that resets its
 *     connection mid-request is dropped and does not count.
 *   epoll_server client <port> <connections> <rounds> <size>
 *     first resets one connection in the middle of a request, then opens
 *     <connections> at once and, each round, sends <size> bytes on each and
 *     reads them back; prints the totals (and round trips/s on stderr).
 *
 * stdout depends on neither ports nor timing, so a native run of the
 * server and one under myst print the same. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "verdict.h"

#define MAX_CONNECTIONS 1024
#define BUFFER_SIZE (256 * 1024)

struct connection {
    int fd;
    size_t pending;  /* bytes read but not yet echoed */
    uint64_t echoed; /* bytes echoed so far */
    char* buffer;
};

static struct connection* connections[MAX_CONNECTIONS];
static uint64_t clean_closes, clean_bytes, dropped, most_open, open_now;

static void drop(int epoll_fd, struct connection* connection, int clean) {
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, connection->fd, NULL);
    close(connection->fd);
    if (clean) {
        clean_closes++;
        clean_bytes += connection->echoed;
    } else {
        dropped++;
    }
    open_now--;
    connections[connection->fd] = NULL;
    free(connection->buffer);
    free(connection);
}

/* Writes what is pending; 0 when all went out, 1 when the socket is full
 * (EPOLLOUT will say when to go on), -1 on an error. */
static int flush_pending(struct connection* connection) {
    size_t done = 0;
    while (done < connection->pending) {
        ssize_t sent = send(connection->fd, connection->buffer + done, connection->pending - done,
                            MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EAGAIN)
                break;
            return -1;
        }
        done += (size_t)sent;
        connection->echoed += (uint64_t)sent;
    }
    memmove(connection->buffer, connection->buffer + done, connection->pending - done);
    connection->pending -= done;
    return connection->pending == 0 ? 0 : 1;
}

/* Edge-triggered: read until EAGAIN, echoing as it goes. */
static void serve(int epoll_fd, struct connection* connection, uint32_t events) {
    if (events & EPOLLOUT) {
        int state = flush_pending(connection);
        if (state < 0) {
            drop(epoll_fd, connection, 0);
            return;
        }
    }
    for (;;) {
        if (connection->pending == BUFFER_SIZE)
            return; /* full: EPOLLOUT comes when the peer reads */
        ssize_t got = recv(connection->fd, connection->buffer + connection->pending,
                           BUFFER_SIZE - connection->pending, 0);
        if (got == 0) {
            drop(epoll_fd, connection, connection->pending == 0);
            return;
        }
        if (got < 0) {
            if (errno == EAGAIN)
                return;
            drop(epoll_fd, connection, 0); /* ECONNRESET: the client went away */
            return;
        }
        connection->pending += (size_t)got;
        if (flush_pending(connection) < 0) {
            drop(epoll_fd, connection, 0);
            return;
        }
    }
}

static int run_server(uint64_t wanted) {
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t length = sizeof(address);
    if (listener < 0 || setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(listener, (struct sockaddr*)&address, sizeof(address)) != 0 ||
        listen(listener, 128) != 0 ||
        getsockname(listener, (struct sockaddr*)&address, &length) != 0) {
        perror("listen");
        return 1;
    }
    fprintf(stderr, "listening on port %u\n", ntohs(address.sin_port));
    fflush(stderr);
    int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event event = {.events = EPOLLIN, .data.fd = listener};
    if (epoll_fd < 0 || epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listener, &event) != 0) {
        perror("epoll");
        return 1;
    }
    struct epoll_event events[64];
    while (clean_closes < wanted) {
        int ready = epoll_wait(epoll_fd, events, 64, -1);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            perror("epoll_wait");
            return 1;
        }
        for (int i = 0; i < ready; i++) {
            if (events[i].data.fd == listener) {
                for (;;) {
                    int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0)
                        break; /* EAGAIN, or a connection reset before accept */
                    if (fd >= MAX_CONNECTIONS) {
                        close(fd);
                        continue;
                    }
                    struct connection* connection = calloc(1, sizeof(*connection));
                    connection->fd = fd;
                    connection->buffer = malloc(BUFFER_SIZE);
                    connections[fd] = connection;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    struct epoll_event add = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                              .data.fd = fd};
                    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &add);
                    if (++open_now > most_open)
                        most_open = open_now;
                }
            } else if (connections[events[i].data.fd]) {
                serve(epoll_fd, connections[events[i].data.fd], events[i].events);
            }
        }
    }
    printf("clean connections: %llu\n", (unsigned long long)clean_closes);
    printf("bytes echoed on them: %llu\n", (unsigned long long)clean_bytes);
    CHECK(most_open >= wanted, "at least %llu connections were open at once",
          (unsigned long long)wanted);
    close(epoll_fd);
    close(listener);
    return verdict_finish();
}

static int connect_to(unsigned port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET,
                                  .sin_port = htons((uint16_t)port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || connect(fd, (struct sockaddr*)&address, sizeof(address)) != 0) {
        perror("connect");
        exit(1);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static int run_client(unsigned port, int count, int rounds, size_t size) {
    /* A client that sends half a request and resets the connection. */
    int aborted = connect_to(port);
    struct linger linger = {.l_onoff = 1, .l_linger = 0};
    send(aborted, "half a requ", 11, 0);
    setsockopt(aborted, SOL_SOCKET, SO_LINGER, &linger, sizeof(linger));
    close(aborted);

    int* fds = calloc((size_t)count, sizeof(int));
    for (int i = 0; i < count; i++)
        fds[i] = connect_to(port);
    char* out = malloc(size);
    char* in = malloc(size);
    uint64_t mismatches = 0, bytes = 0;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int round = 0; round < rounds; round++) {
        for (int i = 0; i < count; i++) {
            memset(out, 'a' + (i + round) % 26, size);
            if (send(fds[i], out, size, 0) != (ssize_t)size) {
                perror("send");
                return 1;
            }
        }
        for (int i = 0; i < count; i++) {
            if (recv(fds[i], in, size, MSG_WAITALL) != (ssize_t)size) {
                perror("recv");
                return 1;
            }
            memset(out, 'a' + (i + round) % 26, size);
            mismatches += memcmp(in, out, size) != 0;
            bytes += size;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    for (int i = 0; i < count; i++)
        close(fds[i]);
    double seconds = (double)(end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
    printf("client: %d connections, %d rounds of %zu bytes, %llu bytes back, %llu mismatches\n",
           count, rounds, size, (unsigned long long)bytes, (unsigned long long)mismatches);
    fprintf(stderr, "round trips/s: %.0f\n", (double)count * rounds / seconds);
    return mismatches == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
    if (argc == 3 && strcmp(argv[1], "server") == 0)
        return run_server(strtoull(argv[2], NULL, 10));
    if (argc == 6 && strcmp(argv[1], "client") == 0)
        return run_client((unsigned)atoi(argv[2]), atoi(argv[3]), atoi(argv[4]),
                          (size_t)strtoull(argv[5], NULL, 10));
    fprintf(stderr,
            "usage: %s server <connections> | client <port> <connections> <rounds> <size>\n",
            argv[0]);
    return 2;
}

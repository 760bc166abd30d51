/* Internet sockets over the loopback: TCP and UDP round trips with the
 * server in a thread on an ephemeral port, bulk transfer with MSG_WAITALL,
 * non-blocking connect, poll and edge-triggered epoll on sockets mixed
 * with a pipe, MSG_PEEK/MSG_DONTWAIT/FIONREAD/FIONBIO, shutdown, socket
 * options and timeouts, a receive interrupted by a signal, EPIPE with and
 * without MSG_NOSIGNAL, and the errors of bad arguments. Nothing printed
 * depends on ports or addresses. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "verdict.h"

#define ROUND_TRIPS 200
#define BULK_SIZE (4 << 20)

static const char* socket_errno_name(int code) {
    switch (code) {
        case EINPROGRESS:
            return "EINPROGRESS";
        case ECONNREFUSED:
            return "ECONNREFUSED";
        case ENOTSOCK:
            return "ENOTSOCK";
        case EAFNOSUPPORT:
            return "EAFNOSUPPORT";
        case EOPNOTSUPP:
            return "EOPNOTSUPP";
        case ENOTCONN:
            return "ENOTCONN";
        case EADDRINUSE:
            return "EADDRINUSE";
        case EMSGSIZE:
            return "EMSGSIZE";
        case EDESTADDRREQ:
            return "EDESTADDRREQ";
        case EISCONN:
            return "EISCONN";
        case ECONNRESET:
            return "ECONNRESET";
        case EDOM:
            return "EDOM";
        default:
            return errno_name(code);
    }
}

static void expect_failure(long result, int expected, const char* what) {
    int got = result == -1 ? errno : 0;
    if (result == -1 && got == expected)
        verdict(1, "%s fails with %s", what, socket_errno_name(expected));
    else
        verdict(0, "%s fails with %s (got %s, errno %s)", what, socket_errno_name(expected),
                result == -1 ? "-1" : "success", socket_errno_name(got));
}

static void pause_ms(int milliseconds) {
    struct timespec delay = {milliseconds / 1000, (milliseconds % 1000) * 1000000L};
    nanosleep(&delay, NULL);
}

static struct sockaddr_in loopback(uint16_t port) {
    struct sockaddr_in address = {0};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

/* A socket bound to 127.0.0.1 on an ephemeral port; its address in *bound. */
static int bound_socket(int type, struct sockaddr_in* bound) {
    int fd = socket(AF_INET, type, 0);
    struct sockaddr_in address = loopback(0);
    socklen_t size = sizeof *bound;
    if (fd < 0 || bind(fd, (struct sockaddr*)&address, sizeof address) != 0 ||
        getsockname(fd, (struct sockaddr*)bound, &size) != 0)
        return -1;
    return fd;
}

static int listening_socket(struct sockaddr_in* bound) {
    int fd = bound_socket(SOCK_STREAM, bound);
    if (fd >= 0 && listen(fd, 16) != 0)
        return -1;
    return fd;
}

/* A connected pair over the loopback: *client and *server. */
static int connected_pair(int* client, int* server) {
    struct sockaddr_in address;
    int listener = listening_socket(&address);
    *client = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0 || *client < 0 ||
        connect(*client, (struct sockaddr*)&address, sizeof address) != 0)
        return -1;
    *server = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    close(listener);
    return *server >= 0 ? 0 : -1;
}

static size_t receive_fully(int fd, char* buffer, size_t size) {
    size_t done = 0;
    while (done < size) {
        ssize_t got = recv(fd, buffer + done, size - done, 0);
        if (got <= 0)
            break;
        done += (size_t)got;
    }
    return done;
}

/* --- TCP echo: the server in a thread. --- */

static void* tcp_echo_server(void* argument) {
    int listener = *(int*)argument;
    struct sockaddr_in peer;
    socklen_t size = sizeof peer;
    int connection = accept(listener, (struct sockaddr*)&peer, &size);
    if (connection < 0)
        return (void*)1;
    char buffer[64];
    for (;;) {
        ssize_t got = read(connection, buffer, sizeof buffer);
        if (got <= 0)
            break;
        if (write(connection, buffer, (size_t)got) != got)
            break;
    }
    close(connection);
    return NULL;
}

static void tcp_round_trips(void) {
    struct sockaddr_in address;
    int listener = listening_socket(&address);
    CHECK(listener >= 0, "TCP socket bound to 127.0.0.1:0 and listening");
    CHECK(ntohs(address.sin_port) != 0, "getsockname shows the ephemeral port");
    pthread_t server;
    pthread_create(&server, NULL, tcp_echo_server, &listener);
    int client = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(connect(client, (struct sockaddr*)&address, sizeof address) == 0,
          "blocking connect to the listening thread");
    struct sockaddr_in peer;
    socklen_t size = sizeof peer;
    CHECK(getpeername(client, (struct sockaddr*)&peer, &size) == 0 && size == sizeof peer &&
              peer.sin_port == address.sin_port && peer.sin_addr.s_addr == address.sin_addr.s_addr,
          "getpeername names the server");
    int matches = 0;
    for (int i = 0; i < ROUND_TRIPS; i++) {
        char message[16], reply[16] = {0};
        int length = snprintf(message, sizeof message, "ping %d", i);
        if (send(client, message, (size_t)length, 0) != length)
            break;
        if (receive_fully(client, reply, (size_t)length) == (size_t)length &&
            memcmp(reply, message, (size_t)length) == 0)
            matches++;
    }
    CHECK(matches == ROUND_TRIPS, "%d TCP round trips echo their bytes", ROUND_TRIPS);
    struct iovec pieces[2] = {{"ab", 2}, {"cde", 3}};
    char reply[8] = {0};
    CHECK(writev(client, pieces, 2) == 5 && receive_fully(client, reply, 5) == 5 &&
              memcmp(reply, "abcde", 5) == 0,
          "writev on a socket, echoed");
    struct iovec halves[2] = {{reply, 2}, {reply + 2, 3}};
    memset(reply, 0, sizeof reply);
    CHECK(write(client, "fghij", 5) == 5, "write on a socket");
    pause_ms(50);
    CHECK(readv(client, halves, 2) == 5 && memcmp(reply, "fghij", 5) == 0, "readv on a socket");
    shutdown(client, SHUT_WR);
    CHECK(recv(client, reply, sizeof reply, 0) == 0,
          "after shutdown(SHUT_WR) the server closes: end of stream");
    void* result = (void*)1;
    pthread_join(server, &result);
    CHECK(result == NULL, "server thread accepted and echoed");
    close(client);
    close(listener);
}

/* --- Bulk transfer: blocking send of 4 MiB, MSG_WAITALL on the other end. --- */

static void* bulk_sender(void* argument) {
    int fd = *(int*)argument;
    char* data = malloc(BULK_SIZE);
    for (size_t i = 0; i < BULK_SIZE; i++)
        data[i] = (char)(i * 7 + 3);
    ssize_t sent = send(fd, data, BULK_SIZE, 0);
    free(data);
    return (void*)(intptr_t)(sent == BULK_SIZE);
}

static void bulk_transfer(void) {
    int client, server;
    CHECK(connected_pair(&client, &server) == 0, "connected pair for bulk transfer");
    pthread_t sender;
    pthread_create(&sender, NULL, bulk_sender, &client);
    char* data = malloc(BULK_SIZE);
    ssize_t got = recv(server, data, BULK_SIZE, MSG_WAITALL);
    int intact = got == BULK_SIZE;
    for (size_t i = 0; intact && i < BULK_SIZE; i++)
        intact = data[i] == (char)(i * 7 + 3);
    void* sent = NULL;
    pthread_join(sender, &sent);
    CHECK(sent == (void*)1, "one blocking send moves 4 MiB");
    CHECK(intact, "one recv with MSG_WAITALL gets all 4 MiB intact");
    free(data);
    close(client);
    close(server);
}

/* --- UDP: sendto/recvfrom, recvmsg flags, sendmmsg/recvmmsg. --- */

static void udp_round_trips(void) {
    struct sockaddr_in a_address, b_address;
    int a = bound_socket(SOCK_DGRAM, &a_address);
    int b = bound_socket(SOCK_DGRAM, &b_address);
    CHECK(a >= 0 && b >= 0, "two UDP sockets bound to 127.0.0.1:0");
    CHECK(sendto(a, "datagram", 8, 0, (struct sockaddr*)&b_address, sizeof b_address) == 8,
          "sendto a datagram");
    char buffer[32] = {0};
    struct sockaddr_in from;
    socklen_t size = sizeof from;
    CHECK(recvfrom(b, buffer, sizeof buffer, 0, (struct sockaddr*)&from, &size) == 8 &&
              memcmp(buffer, "datagram", 8) == 0,
          "recvfrom gets it whole");
    CHECK(size == sizeof from && from.sin_port == a_address.sin_port, "recvfrom names the sender");

    sendto(a, "0123456789", 10, 0, (struct sockaddr*)&b_address, sizeof b_address);
    CHECK(recv(b, buffer, 4, MSG_PEEK) == 4 && memcmp(buffer, "0123", 4) == 0,
          "MSG_PEEK reads without taking");
    char small[4];
    struct iovec vector = {small, sizeof small};
    struct msghdr header = {0};
    header.msg_iov = &vector;
    header.msg_iovlen = 1;
    CHECK(recvmsg(b, &header, 0) == 4 && (header.msg_flags & MSG_TRUNC),
          "recvmsg into a short buffer sets MSG_TRUNC");
    sendto(a, "0123456789", 10, 0, (struct sockaddr*)&b_address, sizeof b_address);
    CHECK(recv(b, small, sizeof small, MSG_TRUNC) == 10,
          "recv with MSG_TRUNC returns the datagram's size");
    expect_failure(recv(b, buffer, sizeof buffer, MSG_DONTWAIT), EAGAIN,
                   "MSG_DONTWAIT on an empty socket");

    CHECK(connect(a, (struct sockaddr*)&b_address, sizeof b_address) == 0, "connect a UDP socket");
    struct mmsghdr messages[3];
    struct iovec vectors[3];
    const char* texts[3] = {"one", "three", "seven"};
    memset(messages, 0, sizeof messages);
    for (int i = 0; i < 3; i++) {
        vectors[i].iov_base = (void*)texts[i];
        vectors[i].iov_len = strlen(texts[i]);
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    CHECK(sendmmsg(a, messages, 3, 0) == 3 && messages[2].msg_len == 5,
          "sendmmsg sends 3 datagrams");
    char received[3][16];
    memset(messages, 0, sizeof messages);
    for (int i = 0; i < 3; i++) {
        vectors[i].iov_base = received[i];
        vectors[i].iov_len = sizeof received[i];
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    pause_ms(20);
    CHECK(recvmmsg(b, messages, 3, MSG_WAITFORONE, NULL) == 3 && messages[0].msg_len == 3 &&
              messages[1].msg_len == 5 && memcmp(received[2], "seven", 5) == 0,
          "recvmmsg receives the 3 datagrams in order");
    expect_failure(send(a, buffer, 70000, 0), EMSGSIZE, "a 70000-byte UDP datagram");
    close(a);
    close(b);
}

/* --- Non-blocking connect, refused connections. --- */

static void connecting(void) {
    struct sockaddr_in address;
    int listener = listening_socket(&address);
    int client = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int started = connect(client, (struct sockaddr*)&address, sizeof address);
    CHECK(started == 0 || errno == EINPROGRESS, "non-blocking connect is under way");
    struct pollfd entry = {client, POLLOUT, 0};
    CHECK(poll(&entry, 1, 5000) == 1 && (entry.revents & POLLOUT), "poll reports it writable");
    int error = -1;
    socklen_t size = sizeof error;
    CHECK(getsockopt(client, SOL_SOCKET, SO_ERROR, &error, &size) == 0 && error == 0,
          "SO_ERROR is 0: connected");
    CHECK(connect(client, (struct sockaddr*)&address, sizeof address) == 0,
          "connect again reports the connection made");
    expect_failure(connect(client, (struct sockaddr*)&address, sizeof address), EISCONN,
                   "a third connect");
    int server = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
    CHECK(server >= 0 && (fcntl(server, F_GETFL) & O_NONBLOCK), "accept4 with SOCK_NONBLOCK");
    fcntl(listener, F_SETFL, O_NONBLOCK);
    expect_failure(accept(listener, NULL, NULL), EAGAIN, "accept on an empty non-blocking queue");
    close(server);
    close(client);

    struct sockaddr_in closed;
    int placeholder = bound_socket(SOCK_STREAM, &closed);
    close(placeholder);
    int refused = socket(AF_INET, SOCK_STREAM, 0);
    expect_failure(connect(refused, (struct sockaddr*)&closed, sizeof closed), ECONNREFUSED,
                   "blocking connect to a closed port");
    close(refused);
    refused = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    started = connect(refused, (struct sockaddr*)&closed, sizeof closed);
    entry.fd = refused;
    entry.events = POLLOUT;
    error = 0;
    CHECK((started == 0 || errno == EINPROGRESS || errno == ECONNREFUSED),
          "non-blocking connect to a closed port starts");
    if (started == -1 && errno == EINPROGRESS) {
        poll(&entry, 1, 5000);
        getsockopt(refused, SOL_SOCKET, SO_ERROR, &error, &size);
    } else {
        error = ECONNREFUSED;
    }
    CHECK(error == ECONNREFUSED, "its SO_ERROR is ECONNREFUSED");
    close(refused);
    close(listener);
}

/* --- Readiness: poll and edge-triggered epoll, sockets mixed with a pipe. --- */

static void readiness(void) {
    int client, server, pipe_fds[2];
    CHECK(connected_pair(&client, &server) == 0 && pipe(pipe_fds) == 0, "a socket pair and a pipe");
    fcntl(server, F_SETFL, O_NONBLOCK);
    struct pollfd entries[2] = {{server, POLLIN, 0}, {pipe_fds[0], POLLIN, 0}};
    CHECK(poll(entries, 2, 0) == 0, "poll: nothing readable yet");
    send(client, "x", 1, 0);
    CHECK(poll(entries, 2, 5000) == 1 && entries[0].revents == POLLIN && entries[1].revents == 0,
          "poll: the socket readable, the pipe not");
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event event = {EPOLLIN | EPOLLET, {.fd = server}};
    epoll_ctl(epoll, EPOLL_CTL_ADD, server, &event);
    event.data.fd = pipe_fds[0];
    epoll_ctl(epoll, EPOLL_CTL_ADD, pipe_fds[0], &event);
    struct epoll_event ready[4];
    CHECK(epoll_wait(epoll, ready, 4, 5000) == 1 && ready[0].data.fd == server,
          "epoll (edge-triggered): the socket reports its data");
    char buffer[16];
    while (recv(server, buffer, sizeof buffer, 0) > 0) {
    }
    CHECK(errno == EAGAIN, "drained to EAGAIN");
    CHECK(epoll_wait(epoll, ready, 4, 0) == 0, "epoll: no new edge after draining");
    send(client, "yz", 2, 0);
    CHECK(epoll_wait(epoll, ready, 4, 5000) == 1 && ready[0].data.fd == server,
          "epoll: new data makes a new edge");
    while (recv(server, buffer, sizeof buffer, 0) > 0) {
    }
    write(pipe_fds[1], "p", 1);
    CHECK(epoll_wait(epoll, ready, 4, 5000) == 1 && ready[0].data.fd == pipe_fds[0],
          "epoll: the pipe in the same instance reports");
    close(client);
    CHECK(epoll_wait(epoll, ready, 4, 5000) == 1 && ready[0].data.fd == server &&
              (ready[0].events & EPOLLIN),
          "epoll: the peer's close makes the socket readable (end of stream)");
    CHECK(recv(server, buffer, sizeof buffer, 0) == 0, "recv: end of stream");
    close(epoll);
    close(server);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
}

/* --- Flags, ioctls and options. --- */

static void flags_and_options(void) {
    int client, server;
    CHECK(connected_pair(&client, &server) == 0, "connected pair for options");
    struct stat st;
    CHECK(fstat(server, &st) == 0 && S_ISSOCK(st.st_mode), "fstat shows a socket");
    send(client, "hello", 5, 0);
    pause_ms(50);
    int available = -1;
    CHECK(ioctl(server, FIONREAD, &available) == 0 && available == 5, "FIONREAD shows 5 bytes");
    char buffer[16] = {0};
    CHECK(recv(server, buffer, sizeof buffer, MSG_PEEK) == 5, "MSG_PEEK sees 5 bytes");
    CHECK(recv(server, buffer, sizeof buffer, 0) == 5 && memcmp(buffer, "hello", 5) == 0,
          "then recv takes them");
    int on = 1;
    CHECK(ioctl(server, FIONBIO, &on) == 0 && (fcntl(server, F_GETFL) & O_NONBLOCK),
          "FIONBIO sets O_NONBLOCK");
    expect_failure(read(server, buffer, sizeof buffer), EAGAIN,
                   "read of an empty non-blocking socket");
    on = 0;
    ioctl(server, FIONBIO, &on);

    int value = 0;
    socklen_t size = sizeof value;
    CHECK(setsockopt(client, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == 0, "SO_REUSEADDR set");
    on = 1;
    setsockopt(client, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    CHECK(getsockopt(client, SOL_SOCKET, SO_REUSEADDR, &value, &size) == 0 && value == 1,
          "SO_REUSEADDR reads back");
    CHECK(setsockopt(client, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) == 0, "SO_REUSEPORT set");
    CHECK(setsockopt(client, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) == 0 &&
              getsockopt(client, SOL_SOCKET, SO_KEEPALIVE, &value, &size) == 0 && value == 1,
          "SO_KEEPALIVE set and read back");
    CHECK(setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == 0 &&
              getsockopt(client, IPPROTO_TCP, TCP_NODELAY, &value, &size) == 0 && value == 1,
          "TCP_NODELAY set and read back");
    CHECK(getsockopt(client, SOL_SOCKET, SO_RCVBUF, &value, &size) == 0 && value > 0,
          "SO_RCVBUF is positive");
    int buffer_size = 65536;
    CHECK(setsockopt(client, SOL_SOCKET, SO_SNDBUF, &buffer_size, sizeof buffer_size) == 0,
          "SO_SNDBUF set");
    CHECK(getsockopt(client, SOL_SOCKET, SO_TYPE, &value, &size) == 0 && value == SOCK_STREAM,
          "SO_TYPE is SOCK_STREAM");
    CHECK(getsockopt(client, SOL_SOCKET, SO_DOMAIN, &value, &size) == 0 && value == AF_INET,
          "SO_DOMAIN is AF_INET");
    struct linger linger = {1, 3}, linger_back = {0, 0};
    size = sizeof linger_back;
    CHECK(setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, sizeof linger) == 0 &&
              getsockopt(client, SOL_SOCKET, SO_LINGER, &linger_back, &size) == 0 &&
              linger_back.l_onoff == 1 && linger_back.l_linger == 3,
          "SO_LINGER set and read back");
    char shorter[2] = {0};
    size = sizeof shorter;
    CHECK(getsockopt(client, SOL_SOCKET, SO_TYPE, shorter, &size) == 0 && size == 2,
          "getsockopt cuts the value to the room given");

    struct timeval timeout = {0, 100000}, timeout_back = {0, 0};
    size = sizeof timeout_back;
    CHECK(setsockopt(server, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) == 0 &&
              getsockopt(server, SOL_SOCKET, SO_RCVTIMEO, &timeout_back, &size) == 0 &&
              timeout_back.tv_usec == 100000,
          "SO_RCVTIMEO set and read back");
    struct timespec before, after;
    clock_gettime(CLOCK_MONOTONIC, &before);
    expect_failure(recv(server, buffer, sizeof buffer, 0), EAGAIN, "a recv past SO_RCVTIMEO");
    clock_gettime(CLOCK_MONOTONIC, &after);
    long waited =
        (after.tv_sec - before.tv_sec) * 1000 + (after.tv_nsec - before.tv_nsec) / 1000000;
    CHECK(waited >= 90, "it waited the timeout");
    timeout.tv_usec = 2000000;
    expect_failure(setsockopt(server, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout), EDOM,
                   "SO_RCVTIMEO with 2000000 microseconds");
    close(client);
    close(server);

    int v6 = socket(AF_INET6, SOCK_STREAM, 0);
    if (v6 >= 0) {
        on = 1;
        size = sizeof value;
        CHECK(setsockopt(v6, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) == 0 &&
                  getsockopt(v6, IPPROTO_IPV6, IPV6_V6ONLY, &value, &size) == 0 && value == 1,
              "IPV6_V6ONLY set and read back");
        close(v6);
    } else {
        CHECK(errno == EAFNOSUPPORT, "no IPv6 on this host: EAFNOSUPPORT");
    }
}

/* --- Signals: EPIPE and SIGPIPE, a receive interrupted. --- */

static volatile sig_atomic_t signals_seen;
static void count_signal(int signal) {
    (void)signal;
    signals_seen++;
}

static volatile sig_atomic_t interrupted_call_returned;

/* Signals the thread every 100 ms until its call returned, so a slow start
 * of the call cannot leave it waiting forever. */
static void* interrupt_later(void* argument) {
    while (!interrupted_call_returned) {
        pause_ms(100);
        if (!interrupted_call_returned)
            pthread_kill(*(pthread_t*)argument, SIGUSR1);
    }
    return NULL;
}

static void signals(void) {
    int client, server;
    CHECK(connected_pair(&client, &server) == 0, "connected pair for signals");
    struct sigaction action = {0};
    action.sa_handler = count_signal;
    sigaction(SIGPIPE, &action, NULL);
    sigaction(SIGUSR1, &action, NULL);
    shutdown(client, SHUT_WR);
    signals_seen = 0;
    expect_failure(send(client, "x", 1, MSG_NOSIGNAL), EPIPE,
                   "send after SHUT_WR with MSG_NOSIGNAL");
    CHECK(signals_seen == 0, "MSG_NOSIGNAL: no SIGPIPE");
    expect_failure(send(client, "x", 1, 0), EPIPE, "send after SHUT_WR");
    CHECK(signals_seen == 1, "SIGPIPE was delivered");
    expect_failure(write(client, "x", 1), EPIPE, "write after SHUT_WR");
    CHECK(signals_seen == 2, "write raised SIGPIPE too");

    close(client);
    close(server);
    CHECK(connected_pair(&client, &server) == 0, "a new pair for the interrupt");
    signals_seen = 0;
    interrupted_call_returned = 0;
    pthread_t self = pthread_self(), helper;
    pthread_create(&helper, NULL, interrupt_later, &self);
    char buffer[8];
    long received = recv(server, buffer, sizeof buffer, 0);
    interrupted_call_returned = 1;
    expect_failure(received, EINTR, "a blocking recv interrupted by a handled signal");
    pthread_join(helper, NULL);
    CHECK(signals_seen >= 1, "the handler ran");
    signal(SIGPIPE, SIG_IGN);
    close(client);
    close(server);
}

/* --- Bad arguments. --- */

static void errors(void) {
    expect_failure(socket(1000, SOCK_STREAM, 0), EAFNOSUPPORT, "socket of family 1000");
    expect_failure(socket(AF_INET, 99, 0), EINVAL, "socket of type 99");
    int pair[2];
    expect_failure(socketpair(AF_INET, SOCK_STREAM, 0, pair), EOPNOTSUPP, "socketpair(AF_INET)");
    int pipe_fds[2];
    pipe(pipe_fds);
    expect_failure(send(pipe_fds[1], "x", 1, 0), ENOTSOCK, "send on a pipe");
    int value;
    socklen_t size = sizeof value;
    expect_failure(getsockopt(pipe_fds[0], SOL_SOCKET, SO_TYPE, &value, &size), ENOTSOCK,
                   "getsockopt on a pipe");
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    expect_failure(send(999, "x", 1, 0), EBADF, "send on a closed descriptor");

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = loopback(0);
    expect_failure(bind(fd, (struct sockaddr*)1, sizeof address), EFAULT,
                   "bind with a bad pointer");
    expect_failure(bind(fd, (struct sockaddr*)&address, 1000), EINVAL, "bind with addrlen 1000");
    expect_failure(bind(fd, (struct sockaddr*)&address, -1), EINVAL, "bind with addrlen -1");
    expect_failure(bind(fd, (struct sockaddr*)&address, 2), EINVAL, "bind with addrlen 2");
    expect_failure(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &value, -1), EINVAL,
                   "setsockopt with optlen -1");
    expect_failure(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, (void*)1, sizeof value), EFAULT,
                   "setsockopt with a bad pointer");
    expect_failure(shutdown(fd, 7), EINVAL, "shutdown with how 7");
    struct sockaddr_in peer;
    size = sizeof peer;
    expect_failure(getpeername(fd, (struct sockaddr*)&peer, &size), ENOTCONN,
                   "getpeername unconnected");
    expect_failure(getsockname(fd, (struct sockaddr*)&peer, (socklen_t*)1), EFAULT,
                   "getsockname with a bad length pointer");
    expect_failure(send(fd, "x", 1, 0), EPIPE, "send on an unconnected stream socket");
    expect_failure(recv(fd, &value, sizeof value, 0), ENOTCONN,
                   "recv on an unconnected stream socket");
    expect_failure(accept4(fd, NULL, NULL, 0x1234), EINVAL, "accept4 with bad flags");
    expect_failure(accept(fd, NULL, NULL), EINVAL, "accept on a socket not listening");
    struct sockaddr_in taken;
    int first = listening_socket(&taken);
    expect_failure(bind(fd, (struct sockaddr*)&taken, sizeof taken), EADDRINUSE,
                   "bind to a port in use");
    close(first);
    close(fd);

    int client, server;
    connected_pair(&client, &server);
    expect_failure(send(client, (void*)1, 16, 0), EFAULT, "send from a bad pointer");
    send(client, "data", 4, 0);
    pause_ms(20);
    expect_failure(recv(server, (void*)1, 16, 0), EFAULT, "recv into a bad pointer");
    struct msghdr header = {0};
    header.msg_iov = (struct iovec*)1;
    header.msg_iovlen = 1;
    expect_failure(sendmsg(client, &header, 0), EFAULT, "sendmsg with a bad iovec pointer");
    /* musl's sendmsg reads the header itself: the raw call. */
    expect_failure(syscall(SYS_sendmsg, client, 1, 0), EFAULT, "sendmsg with a bad msghdr");
    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    expect_failure(send(udp, "x", 1, 0), EDESTADDRREQ, "send on an unconnected UDP socket");
    close(udp);
    close(client);
    close(server);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    tcp_round_trips();
    bulk_transfer();
    udp_round_trips();
    connecting();
    readiness();
    flags_and_options();
    signals();
    errors();
    return verdict_finish();
}

/* AF_UNIX sockets: socketpair (stream, datagram, seqpacket), a named
 * stream server in a thread, abstract names, named datagram sockets,
 * SCM_RIGHTS and SCM_CREDENTIALS, SO_PEERCRED, readiness with poll and
 * edge-triggered epoll, hang-ups, and the errors of bad arguments. Paths
 * are per run and never printed. */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "verdict.h"

static const char* socket_errno_name(int code) {
    switch (code) {
        case ECONNREFUSED:
            return "ECONNREFUSED";
        case ENOTSOCK:
            return "ENOTSOCK";
        case EOPNOTSUPP:
            return "EOPNOTSUPP";
        case ENOTCONN:
            return "ENOTCONN";
        case EADDRINUSE:
            return "EADDRINUSE";
        case EISCONN:
            return "EISCONN";
        case ESOCKTNOSUPPORT:
            return "ESOCKTNOSUPPORT";
        case EPROTOTYPE:
            return "EPROTOTYPE";
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

static socklen_t path_address(struct sockaddr_un* address, const char* path) {
    memset(address, 0, sizeof *address);
    address->sun_family = AF_UNIX;
    strncpy(address->sun_path, path, sizeof address->sun_path - 1);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
}

static socklen_t abstract_address(struct sockaddr_un* address, const char* name) {
    memset(address, 0, sizeof *address);
    address->sun_family = AF_UNIX;
    memcpy(address->sun_path + 1, name, strlen(name));
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
}

static void pairs(void) {
    int pair[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0, "socketpair(AF_UNIX, SOCK_STREAM)");
    struct stat st;
    CHECK(fstat(pair[0], &st) == 0 && S_ISSOCK(st.st_mode), "fstat shows a socket");
    char buffer[32] = {0};
    CHECK(write(pair[0], "hello", 5) == 5 && write(pair[0], " world", 6) == 6, "two writes");
    int available = 0;
    CHECK(ioctl(pair[1], FIONREAD, &available) == 0 && available == 11, "FIONREAD shows 11 bytes");
    CHECK(read(pair[1], buffer, sizeof buffer) == 11 && memcmp(buffer, "hello world", 11) == 0,
          "one read takes both writes (a stream)");
    CHECK(send(pair[1], "back", 4, 0) == 4 && recv(pair[0], buffer, 4, 0) == 4 &&
              memcmp(buffer, "back", 4) == 0,
          "the other direction");
    expect_failure(recv(pair[0], buffer, sizeof buffer, MSG_DONTWAIT), EAGAIN,
                   "MSG_DONTWAIT when empty");
    struct ucred credentials;
    socklen_t size = sizeof credentials;
    CHECK(getsockopt(pair[0], SOL_SOCKET, SO_PEERCRED, &credentials, &size) == 0 &&
              credentials.pid == getpid() && credentials.uid == geteuid() &&
              credentials.gid == getegid(),
          "SO_PEERCRED names this process");
    int type = 0;
    size = sizeof type;
    CHECK(getsockopt(pair[0], SOL_SOCKET, SO_TYPE, &type, &size) == 0 && type == SOCK_STREAM,
          "SO_TYPE is SOCK_STREAM");
    write(pair[0], "last", 4);
    close(pair[0]);
    CHECK(read(pair[1], buffer, sizeof buffer) == 4, "data written before the close is read");
    CHECK(read(pair[1], buffer, sizeof buffer) == 0, "then end of stream");
    struct pollfd entry = {pair[1], POLLIN | POLLOUT, 0};
    CHECK(poll(&entry, 1, 0) == 1 && (entry.revents & POLLHUP), "poll shows POLLHUP");
    expect_failure(send(pair[1], "x", 1, MSG_NOSIGNAL), EPIPE, "send to a closed peer");
    close(pair[1]);

    CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, pair) == 0, "socketpair(AF_UNIX, SOCK_DGRAM)");
    send(pair[0], "one", 3, 0);
    send(pair[0], "three", 5, 0);
    CHECK(recv(pair[1], buffer, sizeof buffer, 0) == 3, "datagrams keep their boundaries (1)");
    CHECK(recv(pair[1], buffer, 2, MSG_TRUNC) == 5, "MSG_TRUNC gives the datagram's size");
    send(pair[0], "", 0, 0);
    CHECK(recv(pair[1], buffer, sizeof buffer, 0) == 0, "an empty datagram");
    close(pair[0]);
    close(pair[1]);

    CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0,
          "socketpair(AF_UNIX, SOCK_SEQPACKET)");
    CHECK(fcntl(pair[0], F_GETFD) == FD_CLOEXEC, "SOCK_CLOEXEC sets FD_CLOEXEC");
    send(pair[0], "record1", 7, 0);
    send(pair[0], "r2", 2, 0);
    struct iovec vector = {buffer, 4};
    struct msghdr header = {0};
    header.msg_iov = &vector;
    header.msg_iovlen = 1;
    CHECK(recvmsg(pair[1], &header, 0) == 4 && (header.msg_flags & MSG_TRUNC),
          "a short read of a record sets MSG_TRUNC");
    CHECK(recv(pair[1], buffer, sizeof buffer, 0) == 2, "the next record is whole");
    close(pair[0]);
    CHECK(recv(pair[1], buffer, sizeof buffer, 0) == 0, "end of records after the close");
    close(pair[1]);
}

static struct sockaddr_un server_address;
static socklen_t server_address_size;

static void* echo_server(void* argument) {
    int listener = *(int*)argument;
    int connection = accept(listener, NULL, NULL);
    if (connection < 0)
        return (void*)1;
    char buffer[64];
    ssize_t got;
    while ((got = read(connection, buffer, sizeof buffer)) > 0)
        write(connection, buffer, (size_t)got);
    close(connection);
    return NULL;
}

static void named_stream(const char* path) {
    int listener = socket(AF_UNIX, SOCK_STREAM, 0);
    server_address_size = path_address(&server_address, path);
    CHECK(bind(listener, (struct sockaddr*)&server_address, server_address_size) == 0,
          "bind to a path");
    struct stat st;
    CHECK(stat(path, &st) == 0 && S_ISSOCK(st.st_mode), "the path is a socket inode");
    int other = socket(AF_UNIX, SOCK_STREAM, 0);
    expect_failure(bind(other, (struct sockaddr*)&server_address, server_address_size), EADDRINUSE,
                   "bind to the same path");
    expect_failure(connect(other, (struct sockaddr*)&server_address, server_address_size),
                   ECONNREFUSED, "connect before listen");
    CHECK(listen(listener, 4) == 0, "listen");
    pthread_t server;
    pthread_create(&server, NULL, echo_server, &listener);
    CHECK(connect(other, (struct sockaddr*)&server_address, server_address_size) == 0,
          "connect to the path");
    struct sockaddr_un peer;
    socklen_t size = sizeof peer;
    CHECK(getpeername(other, (struct sockaddr*)&peer, &size) == 0 && size == server_address_size &&
              strcmp(peer.sun_path, path) == 0,
          "getpeername shows the path");
    size = sizeof peer;
    CHECK(getsockname(other, (struct sockaddr*)&peer, &size) == 0 && size == sizeof(sa_family_t),
          "the client is unnamed");
    int matches = 0;
    for (int i = 0; i < 100; i++) {
        char message[16], reply[16];
        int length = snprintf(message, sizeof message, "msg %d", i);
        write(other, message, (size_t)length);
        if (recv(other, reply, (size_t)length, MSG_WAITALL) == length &&
            memcmp(reply, message, (size_t)length) == 0)
            matches++;
    }
    CHECK(matches == 100, "100 round trips through the named socket");
    struct ucred credentials;
    size = sizeof credentials;
    CHECK(getsockopt(other, SOL_SOCKET, SO_PEERCRED, &credentials, &size) == 0 &&
              credentials.pid == getpid(),
          "SO_PEERCRED of the server is this process");
    shutdown(other, SHUT_WR);
    char buffer[8];
    CHECK(read(other, buffer, sizeof buffer) == 0, "after SHUT_WR the server hangs up");
    void* result = (void*)1;
    pthread_join(server, &result);
    CHECK(result == NULL, "the server thread accepted and echoed");
    close(other);
    close(listener);
    CHECK(unlink(path) == 0, "the socket path is unlinked");
}

static void abstract_and_datagrams(const char* path_a, const char* path_b, const char* name) {
    struct sockaddr_un address;
    socklen_t size = abstract_address(&address, name);
    int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK(bind(listener, (struct sockaddr*)&address, size) == 0 && listen(listener, 1) == 0,
          "bind and listen on an abstract name");
    struct sockaddr_un shown;
    socklen_t shown_size = sizeof shown;
    CHECK(getsockname(listener, (struct sockaddr*)&shown, &shown_size) == 0 && shown_size == size &&
              shown.sun_path[0] == 0 && memcmp(shown.sun_path + 1, name, strlen(name)) == 0,
          "getsockname shows the abstract name");
    expect_failure(accept(listener, NULL, NULL), EAGAIN, "accept with nothing queued");
    int client = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(connect(client, (struct sockaddr*)&address, size) == 0, "connect to the abstract name");
    struct pollfd entry = {listener, POLLIN, 0};
    CHECK(poll(&entry, 1, 1000) == 1, "the listener polls readable");
    int server = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
    CHECK(server >= 0 && (fcntl(server, F_GETFL) & O_NONBLOCK), "accept4 with SOCK_NONBLOCK");
    int epoll = epoll_create1(0);
    struct epoll_event event = {EPOLLIN | EPOLLET, {.fd = server}};
    epoll_ctl(epoll, EPOLL_CTL_ADD, server, &event);
    struct epoll_event ready;
    CHECK(epoll_wait(epoll, &ready, 1, 0) == 0, "epoll: nothing yet");
    write(client, "abc", 3);
    CHECK(epoll_wait(epoll, &ready, 1, 1000) == 1, "epoll (edge-triggered): data arrives");
    char buffer[16];
    while (read(server, buffer, sizeof buffer) > 0) {
    }
    CHECK(epoll_wait(epoll, &ready, 1, 0) == 0, "epoll: no edge after draining");
    write(client, "d", 1);
    CHECK(epoll_wait(epoll, &ready, 1, 1000) == 1, "epoll: new data, new edge");
    close(epoll);
    close(server);
    close(client);
    close(listener);

    int a = socket(AF_UNIX, SOCK_DGRAM, 0), b = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un a_address, b_address;
    socklen_t a_size = path_address(&a_address, path_a), b_size = path_address(&b_address, path_b);
    CHECK(bind(a, (struct sockaddr*)&a_address, a_size) == 0 &&
              bind(b, (struct sockaddr*)&b_address, b_size) == 0,
          "two datagram sockets bound to paths");
    CHECK(sendto(a, "ping", 4, 0, (struct sockaddr*)&b_address, b_size) == 4, "sendto a path");
    struct sockaddr_un from;
    socklen_t from_size = sizeof from;
    CHECK(recvfrom(b, buffer, sizeof buffer, 0, (struct sockaddr*)&from, &from_size) == 4 &&
              from_size == a_size && strcmp(from.sun_path, path_a) == 0,
          "recvfrom names the sender's path");
    int unnamed = socket(AF_UNIX, SOCK_DGRAM, 0);
    sendto(unnamed, "anon", 4, 0, (struct sockaddr*)&b_address, b_size);
    from_size = sizeof from;
    CHECK(recvfrom(b, buffer, sizeof buffer, 0, (struct sockaddr*)&from, &from_size) == 4 &&
              from_size == 0,
          "a datagram from an unnamed socket has no address");
    expect_failure(send(unnamed, "x", 1, 0), ENOTCONN, "send without a destination");
    close(unnamed);
    close(a);
    close(b);
    expect_failure(
        sendto(socket(AF_UNIX, SOCK_DGRAM, 0), "x", 1, 0, (struct sockaddr*)&a_address, a_size),
        ECONNREFUSED, "sendto a path whose socket is closed");
    unlink(path_a);
    unlink(path_b);
}

static int send_fds(int socket_fd, const int* fds, int count) {
    char control[CMSG_SPACE(4 * sizeof(int))];
    memset(control, 0, sizeof control);
    struct iovec vector = {"F", 1};
    struct msghdr header = {0};
    header.msg_iov = &vector;
    header.msg_iovlen = 1;
    header.msg_control = control;
    header.msg_controllen = CMSG_SPACE(count * sizeof(int));
    struct cmsghdr* message = CMSG_FIRSTHDR(&header);
    message->cmsg_level = SOL_SOCKET;
    message->cmsg_type = SCM_RIGHTS;
    message->cmsg_len = CMSG_LEN(count * sizeof(int));
    memcpy(CMSG_DATA(message), fds, count * sizeof(int));
    return (int)sendmsg(socket_fd, &header, 0);
}

static void passing(void) {
    int pair[2], pipe_fds[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0 && pipe(pipe_fds) == 0,
          "a socketpair and a pipe");
    CHECK(send_fds(pair[0], pipe_fds, 2) == 1, "sendmsg with SCM_RIGHTS of both pipe ends");
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    char data[4], control[CMSG_SPACE(4 * sizeof(int))];
    struct iovec vector = {data, sizeof data};
    struct msghdr header = {0};
    header.msg_iov = &vector;
    header.msg_iovlen = 1;
    header.msg_control = control;
    header.msg_controllen = sizeof control;
    CHECK(recvmsg(pair[1], &header, MSG_CMSG_CLOEXEC) == 1, "recvmsg gets the byte");
    struct cmsghdr* message = CMSG_FIRSTHDR(&header);
    int received[2] = {-1, -1};
    CHECK(message && message->cmsg_level == SOL_SOCKET && message->cmsg_type == SCM_RIGHTS &&
              message->cmsg_len == CMSG_LEN(2 * sizeof(int)),
          "one SCM_RIGHTS message with two descriptors");
    if (message)
        memcpy(received, CMSG_DATA(message), sizeof received);
    CHECK(fcntl(received[0], F_GETFD) == FD_CLOEXEC, "MSG_CMSG_CLOEXEC sets FD_CLOEXEC");
    char buffer[8] = {0};
    CHECK(write(received[1], "via", 3) == 3 && read(received[0], buffer, sizeof buffer) == 3 &&
              memcmp(buffer, "via", 3) == 0,
          "the passed pipe ends are the same pipe");
    close(received[0]);
    close(received[1]);

    int bad = 999;
    expect_failure(send_fds(pair[0], &bad, 1), EBADF, "SCM_RIGHTS of a closed descriptor");

    int on = 1;
    CHECK(setsockopt(pair[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on) == 0, "SO_PASSCRED on");
    send(pair[0], "c", 1, 0);
    header.msg_control = control;
    header.msg_controllen = sizeof control;
    CHECK(recvmsg(pair[1], &header, 0) == 1, "recvmsg with SO_PASSCRED");
    message = CMSG_FIRSTHDR(&header);
    struct ucred credentials = {0, 0, 0};
    if (message && message->cmsg_type == SCM_CREDENTIALS)
        memcpy(&credentials, CMSG_DATA(message), sizeof credentials);
    CHECK(message && message->cmsg_type == SCM_CREDENTIALS && credentials.pid == getpid() &&
              credentials.uid == geteuid(),
          "SCM_CREDENTIALS names the sender");
    close(pair[0]);
    close(pair[1]);
}

/* A descriptor passed from a child process to its parent. */
static void between_processes(void) {
    int pair[2], pipe_fds[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0 && pipe(pipe_fds) == 0,
          "a socketpair and a pipe to share with a child");
    pid_t child = fork();
    if (child == 0) {
        close(pair[1]);
        _exit(send_fds(pair[0], &pipe_fds[1], 1) == 1 ? 0 : 1);
    }
    close(pipe_fds[1]);
    close(pair[0]);
    int status = -1;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "the child sent the pipe's write end");
    char data[4], control[CMSG_SPACE(sizeof(int))];
    struct iovec vector = {data, sizeof data};
    struct msghdr header = {0};
    header.msg_iov = &vector;
    header.msg_iovlen = 1;
    header.msg_control = control;
    header.msg_controllen = sizeof control;
    CHECK(recvmsg(pair[1], &header, 0) == 1, "the parent receives the message");
    struct cmsghdr* message = CMSG_FIRSTHDR(&header);
    int received = -1;
    if (message && message->cmsg_type == SCM_RIGHTS)
        memcpy(&received, CMSG_DATA(message), sizeof received);
    char buffer[8] = {0};
    CHECK(received >= 0 && write(received, "kid", 3) == 3 && read(pipe_fds[0], buffer, 3) == 3 &&
              memcmp(buffer, "kid", 3) == 0,
          "the descriptor from the child writes into the parent's pipe");
    close(received);
    close(pipe_fds[0]);
    close(pair[1]);
}

static void errors(const char* path) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un address;
    socklen_t size = path_address(&address, "/nonexistent/socket");
    expect_failure(connect(fd, (struct sockaddr*)&address, size), ENOENT,
                   "connect to a missing path");
    int file = open(path, O_CREAT | O_WRONLY, 0600);
    close(file);
    size = path_address(&address, path);
    expect_failure(connect(fd, (struct sockaddr*)&address, size), ECONNREFUSED,
                   "connect to a regular file");
    expect_failure(bind(fd, (struct sockaddr*)&address, size), EADDRINUSE,
                   "bind to an existing file");
    unlink(path);
    address.sun_family = AF_INET;
    expect_failure(bind(fd, (struct sockaddr*)&address, size), EINVAL, "bind with another family");
    expect_failure(bind(fd, (struct sockaddr*)&address, 1), EINVAL, "bind with addrlen 1");
    expect_failure(bind(fd, (struct sockaddr*)1, size), EFAULT, "bind with a bad pointer");
    char buffer[4];
    expect_failure(recv(fd, buffer, sizeof buffer, 0), EINVAL, "recv on an unconnected stream");
    struct sockaddr_un peer;
    socklen_t peer_size = sizeof peer;
    expect_failure(getpeername(fd, (struct sockaddr*)&peer, &peer_size), ENOTCONN,
                   "getpeername unconnected");
    expect_failure(listen(fd, 1), EINVAL, "listen unbound");
    close(fd);
    fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    expect_failure(listen(fd, 1), EOPNOTSUPP, "listen on a datagram socket");
    close(fd);
    expect_failure(socket(AF_UNIX, 4 /* SOCK_RDM */, 0), ESOCKTNOSUPPORT,
                   "socket(AF_UNIX, SOCK_RDM)");
    volatile uintptr_t bad_array = 1;
    expect_failure(socketpair(AF_UNIX, SOCK_STREAM, 0, (int*)bad_array), EFAULT,
                   "socketpair with a bad array");
}

int main(void) {
    char path[64], path_a[64], path_b[64], name[64];
    snprintf(path, sizeof path, "/tmp/unix_sockets.%d.sock", (int)getpid());
    snprintf(path_a, sizeof path_a, "/tmp/unix_sockets.%d.a", (int)getpid());
    snprintf(path_b, sizeof path_b, "/tmp/unix_sockets.%d.b", (int)getpid());
    snprintf(name, sizeof name, "unix_sockets.%d", (int)getpid());
    pairs();
    named_stream(path);
    abstract_and_datagrams(path_a, path_b, name);
    passing();
    between_processes();
    errors(path);
    return verdict_finish();
}

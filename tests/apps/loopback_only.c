/* What a program sees of `myst exec-linux --loopback-only`
 * (tests/tools/exec_loopback_only.sh holds the expected output): binds to
 * the wildcard address, to an address off the loopback, connects and
 * sends to addresses off the loopback (TEST-NET-1 192.0.2.1 and
 * 2001:db8::1, which no host routes anywhere useful), the local address of
 * sockets bound implicitly by listen, connect and sendto, and a TCP and a
 * UDP round trip over the loopback, which still work. Natively (without
 * the restriction) the wildcard binds stay wildcard and the far
 * destinations give whatever the host's routes say. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "verdict.h"

static const char* error_text(int code) {
    switch (code) {
        case ENETUNREACH:
            return "ENETUNREACH";
        case EADDRNOTAVAIL:
            return "EADDRNOTAVAIL";
        case EINPROGRESS:
            return "EINPROGRESS";
        case ECONNREFUSED:
            return "ECONNREFUSED";
        case EHOSTUNREACH:
            return "EHOSTUNREACH";
        default:
            return errno_name(code);
    }
}

static struct sockaddr_in v4(const char* text, unsigned port) {
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, text, &address.sin_addr);
    return address;
}

static struct sockaddr_in6 v6(const char* text, unsigned port) {
    struct sockaddr_in6 address = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
    inet_pton(AF_INET6, text, &address.sin6_addr);
    return address;
}

/* The socket's local address without its port, or the error. */
static void print_local(const char* what, int fd) {
    struct sockaddr_storage local;
    socklen_t size = sizeof(local);
    char text[INET6_ADDRSTRLEN] = "?";
    if (getsockname(fd, (struct sockaddr*)&local, &size) != 0) {
        printf("%s: getsockname fails with %s\n", what, error_text(errno));
        return;
    }
    if (local.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in*)&local)->sin_addr, text, sizeof(text));
    else
        inet_ntop(AF_INET6, &((struct sockaddr_in6*)&local)->sin6_addr, text, sizeof(text));
    printf("%s: local address %s\n", what, text);
}

static void print_result(const char* what, int result) {
    if (result == 0)
        printf("%s: ok\n", what);
    else
        printf("%s: %s\n", what, error_text(errno));
}

int main(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in any = v4("0.0.0.0", 0);
    print_result("bind 0.0.0.0", bind(fd, (struct sockaddr*)&any, sizeof(any)));
    print_local("bind 0.0.0.0", fd);
    close(fd);

    fd = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 any6 = v6("::", 0);
    print_result("bind ::", bind(fd, (struct sockaddr*)&any6, sizeof(any6)));
    print_local("bind ::", fd);
    close(fd);

    fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in far = v4("192.0.2.1", 0);
    print_result("bind 192.0.2.1", bind(fd, (struct sockaddr*)&far, sizeof(far)));
    close(fd);

    fd = socket(AF_INET, SOCK_STREAM, 0);
    print_result("listen unbound", listen(fd, 4));
    print_local("listen unbound", fd);
    close(fd);

    /* Non-blocking, so a native run does not wait for a far host. */
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    far = v4("192.0.2.1", 80);
    print_result("connect 192.0.2.1:80", connect(fd, (struct sockaddr*)&far, sizeof(far)));
    close(fd);

    fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in6 far6 = v6("2001:db8::1", 80);
    print_result("connect [2001:db8::1]:80", connect(fd, (struct sockaddr*)&far6, sizeof(far6)));
    close(fd);

    fd = socket(AF_INET, SOCK_DGRAM, 0);
    far = v4("192.0.2.1", 9);
    print_result("sendto 192.0.2.1:9",
                 sendto(fd, "x", 1, 0, (struct sockaddr*)&far, sizeof(far)) == 1 ? 0 : -1);
    print_local("after sendto 192.0.2.1:9", fd);
    close(fd);

    /* UDP over the loopback: the sender's implicit bind is the loopback. */
    int receiver = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in here = v4("127.0.0.1", 0);
    socklen_t size = sizeof(here);
    int ok = bind(receiver, (struct sockaddr*)&here, sizeof(here)) == 0 &&
             getsockname(receiver, (struct sockaddr*)&here, &size) == 0;
    int sender = socket(AF_INET, SOCK_DGRAM, 0);
    ok = ok && sendto(sender, "ping", 4, 0, (struct sockaddr*)&here, sizeof(here)) == 4;
    char buffer[8] = "";
    ok = ok && recv(receiver, buffer, sizeof(buffer), 0) == 4 && memcmp(buffer, "ping", 4) == 0;
    print_local("UDP sender after sendto 127.0.0.1", sender);
    printf("UDP over 127.0.0.1: %s\n", ok ? "ok" : "failed");
    close(sender);
    close(receiver);

    /* TCP over the loopback, the client bound implicitly by connect. */
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    here = v4("127.0.0.1", 0);
    size = sizeof(here);
    ok = bind(listener, (struct sockaddr*)&here, sizeof(here)) == 0 && listen(listener, 1) == 0 &&
         getsockname(listener, (struct sockaddr*)&here, &size) == 0;
    int client = socket(AF_INET, SOCK_STREAM, 0);
    ok = ok && connect(client, (struct sockaddr*)&here, sizeof(here)) == 0;
    int server = ok ? accept(listener, NULL, NULL) : -1;
    ok = ok && server >= 0 && send(client, "hello", 5, 0) == 5 &&
         recv(server, buffer, 5, MSG_WAITALL) == 5;
    print_local("TCP client after connect 127.0.0.1", client);
    printf("TCP over 127.0.0.1: %s\n", ok ? "ok" : "failed");
    close(client);
    close(server);
    close(listener);
    fflush(stdout);
    return 0;
}

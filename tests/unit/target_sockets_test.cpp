// The linux target's host sockets (target/target.h) on their own: only
// AF_INET/AF_INET6 stream and datagram sockets reach the host, every host
// socket is non-blocking and close-on-exec, and a TCP connection over the
// loopback goes through connect, accept, send, receive, options, names and
// shutdown with EAGAIN where Linux would sleep.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>

#include "target/linux_target.h"

namespace myst {
namespace {

std::span<const uint8_t> bytes_of(const struct sockaddr_in& address) {
    return {reinterpret_cast<const uint8_t*>(&address), sizeof address};
}

bool is_nonblocking_and_cloexec(int fd) {
    return (::fcntl(fd, F_GETFL) & O_NONBLOCK) && (::fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

// Waits up to a second for `events` on `fd` through the target.
bool wait_for(LinuxTarget& target, int fd, short events) {
    struct pollfd entry {
        fd, events, 0
    };
    const struct timespec second { 1, 0 };
    auto ready = target.wait_for_readiness(std::span(&entry, 1), &second, nullptr);
    return !ready.is_error() && ready.value() == 1;
}

TEST(TargetSocketsTest, OnlyInternetStreamAndDatagramSocketsReachTheHost) {
    LinuxTarget target;
    EXPECT_EQ(target.socket_create(AF_UNIX, SOCK_STREAM, 0).error().code(), EAFNOSUPPORT);
    EXPECT_EQ(target.socket_create(AF_NETLINK, SOCK_DGRAM, 0).error().code(), EAFNOSUPPORT);
    EXPECT_EQ(target.socket_create(AF_PACKET, SOCK_DGRAM, 0).error().code(), EAFNOSUPPORT);
    EXPECT_EQ(target.socket_create(AF_INET, SOCK_RAW, IPPROTO_ICMP).error().code(),
              ESOCKTNOSUPPORT);
    int udp = target.socket_create(AF_INET, SOCK_DGRAM, 0).release_value();
    EXPECT_TRUE(is_nonblocking_and_cloexec(udp));
    EXPECT_FALSE(target.file_close(udp).is_error());
}

TEST(TargetSocketsTest, LoopbackConnectionNeverBlocks) {
    LinuxTarget target;
    int listener = target.socket_create(AF_INET, SOCK_STREAM, 0).release_value();
    struct sockaddr_in address {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_FALSE(target.socket_bind(listener, bytes_of(address)).is_error());
    ASSERT_FALSE(target.socket_listen(listener, 4).is_error());
    std::vector<uint8_t> name(128);
    auto size = target.socket_address(listener, false, name);
    ASSERT_FALSE(size.is_error());
    ASSERT_EQ(size.value(), sizeof address);
    std::memcpy(&address, name.data(), sizeof address);
    EXPECT_NE(address.sin_port, 0);

    socklen_t peer_size = 0;
    std::vector<uint8_t> peer(128);
    EXPECT_EQ(target.socket_accept(listener, peer, peer_size).error().code(), EAGAIN);

    int client = target.socket_create(AF_INET, SOCK_STREAM, 0).release_value();
    auto connected = target.socket_connect(client, bytes_of(address));
    EXPECT_TRUE(!connected.is_error() || connected.error().code() == EINPROGRESS);
    ASSERT_TRUE(wait_for(target, client, POLLOUT));
    ASSERT_TRUE(wait_for(target, listener, POLLIN));
    int server = target.socket_accept(listener, peer, peer_size).release_value();
    EXPECT_EQ(peer_size, sizeof(struct sockaddr_in));
    EXPECT_TRUE(is_nonblocking_and_cloexec(server));

    int error = -1;
    auto option = target.socket_get_option(
        client, SOL_SOCKET, SO_ERROR, std::span(reinterpret_cast<uint8_t*>(&error), sizeof error));
    ASSERT_FALSE(option.is_error());
    EXPECT_EQ(error, 0);
    const int on = 1;
    const std::span on_bytes(reinterpret_cast<const uint8_t*>(&on), sizeof on);
    EXPECT_FALSE(target.socket_set_option(client, IPPROTO_TCP, TCP_NODELAY, on_bytes).is_error());

    char buffer[16] = {};
    struct iovec vector {
        buffer, sizeof buffer
    };
    struct msghdr header {};
    header.msg_iov = &vector;
    header.msg_iovlen = 1;
    EXPECT_EQ(target.socket_receive(server, header, 0).error().code(), EAGAIN);

    char text[] = "hello";
    struct iovec out {
        text, 5
    };
    struct msghdr sending {};
    sending.msg_iov = &out;
    sending.msg_iovlen = 1;
    ASSERT_EQ(target.socket_send(client, sending, 0).value(), 5u);
    ASSERT_TRUE(wait_for(target, server, POLLIN));
    EXPECT_EQ(target.socket_bytes_readable(server).value(), 5);
    EXPECT_EQ(target.socket_receive(server, header, MSG_PEEK).value(), 5u);
    EXPECT_EQ(target.socket_receive(server, header, 0).value(), 5u);
    EXPECT_EQ(std::memcmp(buffer, "hello", 5), 0);

    // After SHUT_WR the peer reads the end of the stream and sends fail
    // with EPIPE, without a SIGPIPE (MSG_NOSIGNAL is always added).
    ASSERT_FALSE(target.socket_shutdown(client, SHUT_WR).is_error());
    ASSERT_TRUE(wait_for(target, server, POLLIN));
    EXPECT_EQ(target.socket_receive(server, header, 0).value(), 0u);
    EXPECT_EQ(target.socket_send(client, sending, 0).error().code(), EPIPE);
    EXPECT_EQ(target.socket_address(listener, true, name).error().code(), ENOTCONN);

    for (int fd : {server, client, listener})
        EXPECT_FALSE(target.file_close(fd).is_error());
}

}  // namespace
}  // namespace myst

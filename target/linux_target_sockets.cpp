// Host sockets of the linux target: AF_INET and AF_INET6 sockets of the
// host's network stack, always non-blocking (the kernel does the waiting,
// without its lock) and close-on-exec.
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "target/linux_target.h"

namespace myst {

namespace {

const struct sockaddr* address_of(std::span<const uint8_t> address) {
    return reinterpret_cast<const struct sockaddr*>(address.data());
}

}  // namespace

Result<int> LinuxTarget::socket_create(int domain, int type, int protocol) {
    // Only what the kernel hands to the host: anything else would give the
    // program a host object the target does not mean to offer.
    if (domain != AF_INET && domain != AF_INET6)
        return Error(EAFNOSUPPORT, "only AF_INET and AF_INET6 sockets reach the host");
    if (type != SOCK_STREAM && type != SOCK_DGRAM)
        return Error(ESOCKTNOSUPPORT, "only stream and datagram host sockets");
    int fd = ::socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0)
        return Error(errno, "socket");
    return fd;
}

Result<void> LinuxTarget::socket_bind(int fd, std::span<const uint8_t> address) {
    if (::bind(fd, address_of(address), static_cast<socklen_t>(address.size())) < 0)
        return Error(errno, "bind");
    return {};
}

Result<void> LinuxTarget::socket_listen(int fd, int backlog) {
    if (::listen(fd, backlog) < 0)
        return Error(errno, "listen");
    return {};
}

Result<int> LinuxTarget::socket_accept(int fd, std::span<uint8_t> address,
                                       socklen_t& address_size) {
    address_size = static_cast<socklen_t>(address.size());
    int accepted = ::accept4(fd, reinterpret_cast<struct sockaddr*>(address.data()), &address_size,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (accepted < 0)
        return Error(errno, "accept4");
    return accepted;
}

Result<void> LinuxTarget::socket_connect(int fd, std::span<const uint8_t> address) {
    if (::connect(fd, address_of(address), static_cast<socklen_t>(address.size())) < 0)
        return Error(errno, "connect");
    return {};
}

Result<size_t> LinuxTarget::socket_send(int fd, const struct msghdr& message, int flags) {
    ssize_t sent = ::sendmsg(fd, &message, flags | MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent < 0)
        return Error(errno, "sendmsg");
    return static_cast<size_t>(sent);
}

Result<size_t> LinuxTarget::socket_receive(int fd, struct msghdr& message, int flags) {
    // MSG_CMSG_CLOEXEC concerns SCM_RIGHTS only, which AF_INET never carries.
    ssize_t received = ::recvmsg(fd, &message, flags | MSG_DONTWAIT);
    if (received < 0)
        return Error(errno, "recvmsg");
    return static_cast<size_t>(received);
}

Result<void> LinuxTarget::socket_shutdown(int fd, int how) {
    if (::shutdown(fd, how) < 0)
        return Error(errno, "shutdown");
    return {};
}

Result<socklen_t> LinuxTarget::socket_address(int fd, bool peer, std::span<uint8_t> address) {
    socklen_t size = static_cast<socklen_t>(address.size());
    auto* raw = reinterpret_cast<struct sockaddr*>(address.data());
    if ((peer ? ::getpeername(fd, raw, &size) : ::getsockname(fd, raw, &size)) < 0)
        return Error(errno, peer ? "getpeername" : "getsockname");
    return size;
}

Result<socklen_t> LinuxTarget::socket_get_option(int fd, int level, int name,
                                                 std::span<uint8_t> value) {
    socklen_t size = static_cast<socklen_t>(value.size());
    if (::getsockopt(fd, level, name, value.data(), &size) < 0)
        return Error(errno, "getsockopt");
    return size;
}

Result<void> LinuxTarget::socket_set_option(int fd, int level, int name,
                                            std::span<const uint8_t> value) {
    if (::setsockopt(fd, level, name, value.data(), static_cast<socklen_t>(value.size())) < 0)
        return Error(errno, "setsockopt");
    return {};
}

Result<int> LinuxTarget::socket_bytes_readable(int fd) {
    int count = 0;
    if (::ioctl(fd, FIONREAD, &count) < 0)
        return Error(errno, "ioctl FIONREAD");
    return count;
}

}  // namespace myst

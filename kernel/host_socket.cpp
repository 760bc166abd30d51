#include "kernel/host_socket.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/uio.h>

#include <cstring>

#include "kernel/thread.h"

namespace myst::kernel {

namespace {

// The flags a receive or send passes to the host; the kernel handles
// MSG_DONTWAIT and MSG_WAITALL by waiting (or not) itself.
constexpr int kHostReceiveFlags = MSG_PEEK | MSG_TRUNC | MSG_OOB | MSG_ERRQUEUE;
constexpr int kHostSendFlags = MSG_OOB | MSG_DONTROUTE | MSG_EOR | MSG_MORE | MSG_CONFIRM;

// What an AF_INET or AF_INET6 address is, for loopback only. Addresses of
// another family (AF_UNSPEC: a datagram socket's disconnect) are `other`.
enum class AddressKind { loopback, wildcard, other, invalid };

bool is_loopback_v4(const struct in_addr& address) {
    return (ntohl(address.s_addr) >> 24) == 127;  // 127.0.0.0/8
}

sa_family_t family_of(std::span<const uint8_t> address) {
    sa_family_t family = AF_UNSPEC;
    if (address.size() >= sizeof(family))
        std::memcpy(&family, address.data(), sizeof(family));
    return family;
}

AddressKind address_kind(std::span<const uint8_t> address) {
    const sa_family_t family = family_of(address);
    if (family == AF_INET) {
        struct sockaddr_in in {};
        if (address.size() < sizeof(in))
            return AddressKind::invalid;
        std::memcpy(&in, address.data(), sizeof(in));
        if (in.sin_addr.s_addr == htonl(INADDR_ANY))
            return AddressKind::wildcard;
        return is_loopback_v4(in.sin_addr) ? AddressKind::loopback : AddressKind::other;
    }
    if (family == AF_INET6) {
        struct sockaddr_in6 in6 {};
        if (address.size() < sizeof(in6))
            return AddressKind::invalid;
        std::memcpy(&in6, address.data(), sizeof(in6));
        if (IN6_IS_ADDR_UNSPECIFIED(&in6.sin6_addr))
            return AddressKind::wildcard;
        if (IN6_IS_ADDR_LOOPBACK(&in6.sin6_addr))
            return AddressKind::loopback;
        if (IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr)) {
            struct in_addr v4 {};
            std::memcpy(&v4, &in6.sin6_addr.s6_addr[12], sizeof(v4));
            return v4.s_addr == htonl(INADDR_ANY) ? AddressKind::wildcard
                   : is_loopback_v4(v4)           ? AddressKind::loopback
                                                  : AddressKind::other;
        }
        return AddressKind::other;
    }
    return AddressKind::other;
}

// The loopback address of `domain` with `port` (network order); for
// AF_INET6, the IPv4-mapped 127.0.0.1 when `mapped` (to reach IPv4 peers).
std::vector<uint8_t> loopback_address(int domain, in_port_t port, bool mapped) {
    if (domain == AF_INET) {
        struct sockaddr_in in {};
        in.sin_family = AF_INET;
        in.sin_port = port;
        in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        const auto* bytes = reinterpret_cast<const uint8_t*>(&in);
        return {bytes, bytes + sizeof(in)};
    }
    struct sockaddr_in6 in6 {};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = port;
    if (mapped) {
        in6.sin6_addr.s6_addr[10] = in6.sin6_addr.s6_addr[11] = 0xff;
        const uint32_t v4 = htonl(INADDR_LOOPBACK);
        std::memcpy(&in6.sin6_addr.s6_addr[12], &v4, sizeof(v4));
    } else {
        in6.sin6_addr = in6addr_loopback;
    }
    const auto* bytes = reinterpret_cast<const uint8_t*>(&in6);
    return {bytes, bytes + sizeof(in6)};
}

// The port of an AF_INET or AF_INET6 address (network order; 0 if none).
in_port_t port_of(std::span<const uint8_t> address) {
    const sa_family_t family = family_of(address);
    in_port_t port = 0;
    // sin_port and sin6_port are at the same offset.
    if ((family == AF_INET || family == AF_INET6) &&
        address.size() >= offsetof(struct sockaddr_in, sin_port) + sizeof(port))
        std::memcpy(&port, address.data() + offsetof(struct sockaddr_in, sin_port), sizeof(port));
    return port;
}

bool is_v4_mapped(std::span<const uint8_t> address) {
    struct sockaddr_in6 in6 {};
    if (address.size() < sizeof(in6))
        return false;
    std::memcpy(&in6, address.data(), sizeof(in6));
    return in6.sin6_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr);
}

}  // namespace

HostSocket::HostSocket(Target& target, int host_fd, int flags, int domain, int type, uint64_t inode,
                       bool loopback_only)
    : Socket(flags, domain, type, inode),
      m_target(target),
      m_host_fd(host_fd),
      m_loopback_only(loopback_only) {}

HostSocket::~HostSocket() {
    (void)m_target.file_close(m_host_fd);
}

Result<std::shared_ptr<HostSocket>> HostSocket::create(Target& target, int domain, int type,
                                                       int protocol, int flags, uint64_t inode,
                                                       bool loopback_only) {
    const int host_fd = TRY(target.socket_create(domain, type, protocol));
    return std::make_shared<HostSocket>(target, host_fd, flags, domain, type, inode, loopback_only);
}

Result<void> HostSocket::bind(Thread&, std::span<const uint8_t> address) {
    if (!m_loopback_only)
        return m_target.socket_bind(m_host_fd, address);
    switch (address_kind(address)) {
        case AddressKind::wildcard:
            TRY(m_target.socket_bind(
                m_host_fd, loopback_address(domain(), port_of(address), is_v4_mapped(address))));
            break;
        case AddressKind::other:
            // Another family: the host gives Linux's error for it.
            if (family_of(address) == domain())
                return Error(EADDRNOTAVAIL, "bind: only loopback addresses (--loopback-only)");
            [[fallthrough]];
        case AddressKind::loopback:
        case AddressKind::invalid:
            TRY(m_target.socket_bind(m_host_fd, address));
            break;
    }
    m_bound = true;
    return {};
}

Result<void> HostSocket::check_destination(std::span<const uint8_t> destination) {
    const AddressKind kind = address_kind(destination);
    const bool inet = family_of(destination) == AF_INET || family_of(destination) == AF_INET6;
    if (kind == AddressKind::other && inet)
        return Error(ENETUNREACH, "only loopback destinations (--loopback-only)");
    if (m_bound || kind == AddressKind::invalid || !inet)
        return {};
    // Linux's connect or sendto would bind an unbound socket to the
    // wildcard address: bind it to the loopback first. (Connecting to the
    // wildcard address reaches the loopback on Linux too.)
    const std::vector<uint8_t> local = TRY(address(false));
    if (port_of(local) == 0) {
        auto bound = m_target.socket_bind(m_host_fd,
                                          loopback_address(domain(), 0, is_v4_mapped(destination)));
        // EINVAL: bound meanwhile by another thread, which is what we want.
        if (bound.is_error() && bound.error().code() != EINVAL)
            return bound.release_error();
    }
    m_bound = true;
    return {};
}

Result<void> HostSocket::listen(int backlog) {
    if (m_loopback_only && !m_bound) {
        const std::vector<uint8_t> local = TRY(address(false));
        if (port_of(local) == 0)
            TRY(m_target.socket_bind(m_host_fd, loopback_address(domain(), 0, false)));
        m_bound = true;
    }
    return m_target.socket_listen(m_host_fd, backlog);
}

Result<std::shared_ptr<Socket>> HostSocket::accept(Thread& thread, int flags,
                                                   std::vector<uint8_t>& peer_address) {
    ++m_generation;
    peer_address.resize(kMaxSocketAddress);
    socklen_t size = 0;
    const int accepted = TRY(m_target.socket_accept(m_host_fd, peer_address, size));
    peer_address.resize(std::min<size_t>(size, kMaxSocketAddress));
    return std::shared_ptr<Socket>(std::make_shared<HostSocket>(
        m_target, accepted, flags, domain(), type(), next_socket_inode(thread), m_loopback_only));
}

Result<void> HostSocket::connect(Thread&, std::span<const uint8_t> address) {
    ++m_generation;
    if (m_loopback_only)
        TRY(check_destination(address));
    return m_target.socket_connect(m_host_fd, address);
}

Result<void> HostSocket::connect_result() {
    int error = 0;
    TRY(m_target.socket_get_option(m_host_fd, SOL_SOCKET, SO_ERROR,
                                   std::span(reinterpret_cast<uint8_t*>(&error), sizeof error)));
    if (error != 0)
        return Error(error, "connect");
    return {};
}

Result<size_t> HostSocket::send(Thread&, SocketMessage& message, int flags) {
    ++m_generation;
    // SCM_RIGHTS and SCM_CREDENTIALS are AF_UNIX's alone, as Linux's
    // __scm_send says for other families.
    if (!message.rights.empty() || message.credentials)
        return Error(EINVAL, "SCM_RIGHTS/SCM_CREDENTIALS on a host socket");
    // A connected stream socket ignores the address, as Linux does.
    if (m_loopback_only && !message.address.empty() && type() != SOCK_STREAM)
        TRY(check_destination(message.address));
    struct iovec data {
        message.data.data(), message.data.size()
    };
    struct msghdr header {};
    header.msg_name = message.address.empty() ? nullptr : message.address.data();
    header.msg_namelen = static_cast<socklen_t>(message.address.size());
    header.msg_iov = &data;
    header.msg_iovlen = 1;
    header.msg_control = message.control.empty() ? nullptr : message.control.data();
    header.msg_controllen = message.control.size();
    return m_target.socket_send(m_host_fd, header, flags & kHostSendFlags);
}

Result<size_t> HostSocket::receive(Thread&, SocketMessage& message, int flags) {
    ++m_generation;
    struct iovec data {
        message.data.data(), message.data.size()
    };
    message.address.resize(kMaxSocketAddress);
    struct msghdr header {};
    header.msg_name = message.address.data();
    header.msg_namelen = static_cast<socklen_t>(message.address.size());
    header.msg_iov = &data;
    header.msg_iovlen = 1;
    header.msg_control = message.control.empty() ? nullptr : message.control.data();
    header.msg_controllen = message.control.size();
    const size_t received =
        TRY(m_target.socket_receive(m_host_fd, header, flags & kHostReceiveFlags));
    message.address.resize(std::min<size_t>(header.msg_namelen, kMaxSocketAddress));
    message.control.resize(std::min<size_t>(header.msg_controllen, message.control.size()));
    message.data.resize(std::min(received, message.data.size()));
    message.flags = header.msg_flags;
    return received;
}

Result<void> HostSocket::shutdown(int how) {
    ++m_generation;
    return m_target.socket_shutdown(m_host_fd, how);
}

Result<std::vector<uint8_t>> HostSocket::address(bool peer) {
    std::vector<uint8_t> address(kMaxSocketAddress);
    const socklen_t size = TRY(m_target.socket_address(m_host_fd, peer, address));
    address.resize(std::min<size_t>(size, kMaxSocketAddress));
    return address;
}

Result<int> HostSocket::bytes_readable() {
    return m_target.socket_bytes_readable(m_host_fd);
}

uint32_t HostSocket::poll_events() {
    struct pollfd entry {
        m_host_fd, POLLIN | POLLOUT | POLLPRI | POLLRDHUP, 0
    };
    const struct timespec now {};
    // A poll that does not wait; an interrupt meant for this thread may
    // still end it with EINTR, which says nothing about the socket.
    for (int attempt = 0; attempt < 3; ++attempt) {
        auto polled = m_target.wait_for_readiness(std::span(&entry, 1), &now, nullptr);
        if (!polled.is_error())
            return static_cast<uint16_t>(entry.revents);
        if (polled.error().code() != EINTR)
            break;
    }
    return POLLERR;
}

Result<void> HostSocket::add_wake_sources(fs::WaitSources& sources, uint32_t events) {
    // Only what was asked (errors and hang-ups come anyway): a wait for
    // room must not wake, and spin, on the peer's half-close.
    sources.add_fd(m_host_fd, static_cast<short>(events));
    return {};
}

uint64_t HostSocket::readiness_generation() const {
    auto waiting = m_target.socket_bytes_readable(m_host_fd);
    const uint64_t bytes = waiting.is_error() ? 0 : static_cast<uint32_t>(waiting.value());
    return (m_generation.load() << 32) ^ bytes;
}

Result<socklen_t> HostSocket::get_kind_option(int level, int name, std::span<uint8_t> value) {
    return m_target.socket_get_option(m_host_fd, level, name, value);
}

Result<void> HostSocket::set_kind_option(int level, int name, std::span<const uint8_t> value) {
    return m_target.socket_set_option(m_host_fd, level, name, value);
}

Result<size_t> HostSocket::receive_plain(std::span<uint8_t> buffer) {
    ++m_generation;
    struct iovec data {
        buffer.data(), buffer.size()
    };
    struct msghdr header {};
    header.msg_iov = &data;
    header.msg_iovlen = 1;
    return m_target.socket_receive(m_host_fd, header, 0);
}

Result<size_t> HostSocket::send_plain(std::span<const uint8_t> data) {
    ++m_generation;
    struct iovec vector {
        const_cast<uint8_t*>(data.data()), data.size()
    };
    struct msghdr header {};
    header.msg_iov = &vector;
    header.msg_iovlen = 1;
    return m_target.socket_send(m_host_fd, header, 0);
}

}  // namespace myst::kernel

#include "kernel/host_socket.h"

#include <poll.h>
#include <sys/uio.h>

#include "kernel/thread.h"

namespace myst::kernel {

namespace {

// The flags a receive or send passes to the host; the kernel handles
// MSG_DONTWAIT and MSG_WAITALL by waiting (or not) itself.
constexpr int kHostReceiveFlags = MSG_PEEK | MSG_TRUNC | MSG_OOB | MSG_ERRQUEUE;
constexpr int kHostSendFlags = MSG_OOB | MSG_DONTROUTE | MSG_EOR | MSG_MORE | MSG_CONFIRM;

}  // namespace

HostSocket::HostSocket(Target& target, int host_fd, int flags, int domain, int type, uint64_t inode)
    : Socket(flags, domain, type, inode), m_target(target), m_host_fd(host_fd) {}

HostSocket::~HostSocket() {
    (void)m_target.file_close(m_host_fd);
}

Result<std::shared_ptr<HostSocket>> HostSocket::create(Target& target, int domain, int type,
                                                       int protocol, int flags, uint64_t inode) {
    const int host_fd = TRY(target.socket_create(domain, type, protocol));
    return std::make_shared<HostSocket>(target, host_fd, flags, domain, type, inode);
}

Result<void> HostSocket::bind(Thread&, std::span<const uint8_t> address) {
    return m_target.socket_bind(m_host_fd, address);
}

Result<void> HostSocket::listen(int backlog) {
    return m_target.socket_listen(m_host_fd, backlog);
}

Result<std::shared_ptr<Socket>> HostSocket::accept(Thread& thread, int flags,
                                                   std::vector<uint8_t>& peer_address) {
    ++m_generation;
    peer_address.resize(kMaxSocketAddress);
    socklen_t size = 0;
    const int accepted = TRY(m_target.socket_accept(m_host_fd, peer_address, size));
    peer_address.resize(std::min<size_t>(size, kMaxSocketAddress));
    return std::shared_ptr<Socket>(std::make_shared<HostSocket>(m_target, accepted, flags, domain(),
                                                                type(), next_socket_inode(thread)));
}

Result<void> HostSocket::connect(Thread&, std::span<const uint8_t> address) {
    ++m_generation;
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

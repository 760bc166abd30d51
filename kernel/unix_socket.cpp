// AF_UNIX sockets: creation, names, connections, options and readiness.
// Sending and receiving are unix_socket_transfer.cpp.
#include "kernel/unix_socket.h"

#include <poll.h>
#include <sys/un.h>

#include <algorithm>
#include <cstring>

#include "fs/vfs/vfs.h"
#include "kernel/kernel.h"
#include "kernel/process.h"
#include "kernel/syscalls/file_common.h"
#include "kernel/thread.h"
#include "kernel/unix_names.h"

namespace myst::kernel {

namespace {

// Linux's default socket buffer (net.core.rmem_default): what one
// receive queue holds.
constexpr size_t kQueueCapacity = 212992;
constexpr int kMaxBacklog = 4096;
constexpr size_t kFamilySize = sizeof(sa_family_t);

// A sockaddr_un the program passed.
struct UnixAddress {
    bool abstract = false;
    std::string name;  // a path, or the abstract name without its leading NUL
};

// none: only the family (an unnamed address: bind autobinds).
Result<std::optional<UnixAddress>> parse_address(std::span<const uint8_t> address) {
    if (address.size() < kFamilySize)
        return Error(EINVAL, "address shorter than its family");
    sa_family_t family;
    std::memcpy(&family, address.data(), sizeof family);
    if (family != AF_UNIX)
        return Error(EINVAL, "not an AF_UNIX address");
    if (address.size() > sizeof(struct sockaddr_un))
        return Error(EINVAL, "AF_UNIX address too long");
    if (address.size() == kFamilySize)
        return std::optional<UnixAddress>();
    auto path = address.subspan(kFamilySize);
    UnixAddress parsed;
    if (path[0] == 0) {
        parsed.abstract = true;
        parsed.name.assign(path.begin() + 1, path.end());
    } else {
        parsed.name.assign(path.begin(), std::find(path.begin(), path.end(), 0));
    }
    return std::optional<UnixAddress>(parsed);
}

std::vector<uint8_t> encode_address(const UnixAddress& address) {
    std::vector<uint8_t> encoded(kFamilySize);
    const sa_family_t family = AF_UNIX;
    std::memcpy(encoded.data(), &family, sizeof family);
    if (address.abstract)
        encoded.push_back(0);
    encoded.insert(encoded.end(), address.name.begin(), address.name.end());
    if (!address.abstract)
        encoded.push_back(0);  // getsockname shows the path's NUL, as Linux
    return encoded;
}

// The address of a socket without a name.
std::vector<uint8_t> unnamed_address() {
    std::vector<uint8_t> encoded(kFamilySize);
    const sa_family_t family = AF_UNIX;
    std::memcpy(encoded.data(), &family, sizeof family);
    return encoded;
}

struct ucred credentials_of(Thread& thread) {
    const Credentials& credentials = thread.process().credentials();
    return {thread.process().pid(), credentials.euid, credentials.egid};
}

socklen_t put_int(std::span<uint8_t> value, int number) {
    const size_t size = std::min(value.size(), sizeof number);
    std::memcpy(value.data(), &number, size);
    return static_cast<socklen_t>(size);
}

}  // namespace

UnixSocket::UnixSocket(Private, Thread& thread, int type, int flags)
    : Socket(flags, AF_UNIX, type, next_socket_inode(thread)),
      m_target(thread.kernel().target()),
      m_names(thread.kernel().unix_names()),
      m_receive_capacity(kQueueCapacity),
      m_credentials(credentials_of(thread)),
      m_readable(m_target),
      m_writable(m_target) {}

Result<std::shared_ptr<Socket>> UnixSocket::create(Thread& thread, int type, int protocol,
                                                   int flags) {
    if (type == SOCK_RAW)
        type = SOCK_DGRAM;  // as Linux's unix_create
    if (type != SOCK_STREAM && type != SOCK_DGRAM && type != SOCK_SEQPACKET)
        return Error(ESOCKTNOSUPPORT, "AF_UNIX serves stream, datagram and seqpacket");
    if (protocol != 0 && protocol != PF_UNIX)
        return Error(EPROTONOSUPPORT, "AF_UNIX protocol must be 0");
    return std::shared_ptr<Socket>(std::make_shared<UnixSocket>(Private{}, thread, type, flags));
}

Result<UnixSocket::Pair> UnixSocket::create_pair(Thread& thread, int type, int protocol,
                                                 int flags) {
    auto first = std::static_pointer_cast<UnixSocket>(TRY(create(thread, type, protocol, flags)));
    auto second = std::static_pointer_cast<UnixSocket>(TRY(create(thread, type, protocol, flags)));
    for (auto [one, other] : {std::pair{first, second}, std::pair{second, first}}) {
        one->m_peer = other;
        one->m_state = State::connected;
        one->m_peer_credentials = other->m_credentials;
        one->update_signals();
    }
    return Pair{std::move(first), std::move(second)};
}

UnixSocket::~UnixSocket() {
    if (m_abstract_name)
        m_names.remove_abstract(*m_abstract_name);
    if (m_bound_inode)
        m_names.remove_path(*m_bound_inode);
    if (std::shared_ptr<UnixSocket> peer = m_peer.lock()) {
        if (!is_datagram() && peer->m_peer.expired()) {
            peer->m_peer_closed = true;
            peer->update_signals();
        }
    }
    // Connections never accepted end here, hanging up their clients.
    m_pending.clear();
}

Result<std::shared_ptr<UnixSocket>> UnixSocket::find_bound(Thread& thread,
                                                           std::span<const uint8_t> address) {
    std::optional<UnixAddress> parsed = TRY(parse_address(address));
    if (!parsed)
        return Error(EINVAL, "an AF_UNIX address without a name");
    std::shared_ptr<UnixSocket> found;
    if (parsed->abstract) {
        found = m_names.find_abstract(parsed->name);
    } else {
        fs::Lookup at = TRY(lookup_at(thread, AT_FDCWD, parsed->name));
        fs::PathRef node = TRY(vfs_of(thread).resolve(at, parsed->name, true));
        if (!S_ISSOCK(node->inode()->type()))
            return Error(ECONNREFUSED, "not a socket");
        TRY(vfs_of(thread).check_access(node, W_OK, effective_identity(thread)));
        found = m_names.find_path(*node->inode());
    }
    if (!found)
        return Error(ECONNREFUSED, "no socket is bound to the address");
    return found;
}

Result<void> UnixSocket::autobind(Thread&) {
    UnixAddress name{true, m_names.next_autobind_name()};
    TRY(m_names.add_abstract(name.name, shared_from_this()));
    m_abstract_name = name.name;
    m_address = encode_address(name);
    return {};
}

Result<void> UnixSocket::bind(Thread& thread, std::span<const uint8_t> address) {
    std::optional<UnixAddress> parsed = TRY(parse_address(address));
    if (!m_address.empty())
        return Error(EINVAL, "socket already bound");
    if (!parsed)
        return autobind(thread);
    if (parsed->name.empty() && !parsed->abstract)
        return Error(EINVAL, "empty AF_UNIX path");
    if (parsed->abstract) {
        TRY(m_names.add_abstract(parsed->name, shared_from_this()));
        m_abstract_name = parsed->name;
        m_address = encode_address(*parsed);
        return {};
    }
    // The name is a socket inode made in the file system, as mknod(S_IFSOCK).
    fs::Lookup at = TRY(lookup_at(thread, AT_FDCWD, parsed->name));
    const mode_t mode = S_IFSOCK | (0777 & ~fs_context_of(thread).umask());
    auto made = vfs_of(thread).make_node(at, parsed->name, mode, 0);
    if (made.is_error()) {
        if (made.error().code() == EEXIST)
            return Error(EADDRINUSE, "the socket path exists");
        return made.release_error();
    }
    fs::PathRef node = TRY(vfs_of(thread).resolve(at, parsed->name, false));
    m_bound_inode = node->inode();
    m_names.add_path(*m_bound_inode, shared_from_this());
    m_address = encode_address(*parsed);
    return {};
}

Result<void> UnixSocket::listen(int backlog) {
    if (is_datagram())
        return Error(EOPNOTSUPP, "listen on a datagram socket");
    if (m_state == State::connected || m_address.empty())
        return Error(EINVAL, "listen needs a bound, unconnected socket");
    m_state = State::listening;
    m_backlog = std::clamp(backlog, 0, kMaxBacklog);
    update_signals();
    return {};
}

Result<std::shared_ptr<Socket>> UnixSocket::accept(Thread&, int flags,
                                                   std::vector<uint8_t>& peer_address) {
    ++m_generation;
    if (m_state != State::listening)
        return Error(EINVAL, "accept on a socket that is not listening");
    if (m_pending.empty())
        return Error(EAGAIN, "no connection to accept");
    std::shared_ptr<UnixSocket> server = std::move(m_pending.front());
    m_pending.pop_front();
    update_signals();
    server->set_status_flags(flags & O_NONBLOCK);
    std::shared_ptr<UnixSocket> client = server->m_peer.lock();
    peer_address = client && !client->m_address.empty() ? client->m_address : unnamed_address();
    return std::shared_ptr<Socket>(std::move(server));
}

Result<void> UnixSocket::connect(Thread& thread, std::span<const uint8_t> address) {
    ++m_generation;
    if (m_state == State::listening)
        return Error(EINVAL, "connect on a listening socket");
    if (m_state == State::connected && !is_datagram())
        return Error(EISCONN, "already connected");
    std::shared_ptr<UnixSocket> target = TRY(find_bound(thread, address));
    if (target->type() != type())
        return Error(EPROTOTYPE, "the bound socket is of another type");
    if (is_datagram()) {
        m_peer = target;
        m_state = State::connected;
        m_peer_credentials = target->m_credentials;
        update_signals();
        return {};
    }
    if (target->m_state != State::listening)
        return Error(ECONNREFUSED, "the bound socket is not listening");
    if (target->m_pending.size() > static_cast<size_t>(target->m_backlog))
        return Error(EAGAIN, "the listening socket's queue is full");
    auto server = std::make_shared<UnixSocket>(Private{}, thread, type(), 0);
    m_credentials = credentials_of(thread);
    server->m_credentials = target->m_credentials;
    server->m_address = target->m_address;
    server->m_peer = shared_from_this();
    server->m_state = State::connected;
    server->m_peer_credentials = m_credentials;
    server->m_pass_credentials = target->m_pass_credentials;
    m_peer = server;
    m_state = State::connected;
    m_peer_credentials = target->m_credentials;
    server->update_signals();
    target->m_pending.push_back(std::move(server));
    target->update_signals();
    update_signals();
    return {};
}

Result<void> UnixSocket::shutdown(int how) {
    ++m_generation;
    if (m_state != State::connected)
        return Error(ENOTCONN, "shutdown of an unconnected socket");
    if (how == SHUT_RD || how == SHUT_RDWR)
        m_read_shut = true;
    if (how == SHUT_WR || how == SHUT_RDWR)
        m_write_shut = true;
    if (std::shared_ptr<UnixSocket> peer = m_peer.lock(); peer && !is_datagram()) {
        if (m_write_shut)
            peer->m_peer_write_shut = true;
        peer->update_signals();
    }
    update_signals();
    return {};
}

Result<std::vector<uint8_t>> UnixSocket::address(bool peer) {
    if (!peer)
        return m_address.empty() ? unnamed_address() : m_address;
    if (m_state != State::connected)
        return Error(ENOTCONN, "not connected");
    std::shared_ptr<UnixSocket> other = m_peer.lock();
    if (!other && is_datagram())
        return Error(ENOTCONN, "the peer is gone");
    if (!other || other->m_address.empty())
        return unnamed_address();
    return other->m_address;
}

Result<int> UnixSocket::bytes_readable() {
    if (m_state == State::listening)
        return Error(EINVAL, "FIONREAD on a listening socket");
    if (is_stream())
        return static_cast<int>(m_queued_bytes);
    return m_queue.empty() ? 0 : static_cast<int>(m_queue.front().data.size());
}

size_t UnixSocket::room() const {
    return m_receive_capacity > m_queued_bytes ? m_receive_capacity - m_queued_bytes : 0;
}

uint32_t UnixSocket::poll_events() {
    if (m_state == State::listening)
        return m_pending.empty() ? 0 : POLLIN | POLLRDNORM;
    uint32_t events = 0;
    if (!m_queue.empty())
        events |= POLLIN | POLLRDNORM;
    std::shared_ptr<UnixSocket> peer = m_peer.lock();
    if (is_datagram()) {
        if (m_read_shut)
            events |= POLLIN | POLLRDNORM | POLLRDHUP;
        // A connected datagram socket can write while its peer has room.
        if (!peer || peer->room() > 0)
            events |= POLLOUT | POLLWRNORM;
        return events;
    }
    if (m_state == State::unconnected)
        return events | POLLOUT | POLLWRNORM | POLLHUP;
    const bool reading_over = m_read_shut || m_peer_write_shut || m_peer_closed;
    if (reading_over)
        events |= POLLIN | POLLRDNORM | POLLRDHUP;
    if ((m_read_shut && m_write_shut) || m_peer_closed)
        events |= POLLHUP;
    if (m_write_shut || m_peer_closed || !peer || peer->room() > 0)
        events |= POLLOUT | POLLWRNORM;
    return events;
}

void UnixSocket::update_signals() {
    const uint32_t events = poll_events();
    m_readable.set(events & (POLLIN | POLLHUP));
    m_writable.set(events & (POLLOUT | POLLHUP));
}

void UnixSocket::peer_changed() {
    if (std::shared_ptr<UnixSocket> peer = m_peer.lock())
        peer->update_signals();
}

Result<void> UnixSocket::add_wake_sources(fs::WaitSources& sources, uint32_t events) {
    update_signals();
    if (events & (POLLIN | POLLPRI | POLLRDHUP))
        sources.add_fd(TRY(m_readable.fd()), POLLIN);
    if (events & POLLOUT)
        sources.add_fd(TRY(m_writable.fd()), POLLIN);
    if (!(events & (POLLIN | POLLPRI | POLLRDHUP | POLLOUT)))
        sources.add_fd(TRY(m_readable.fd()), POLLIN);  // hang-ups only
    return {};
}

Result<socklen_t> UnixSocket::get_kind_option(int level, int name, std::span<uint8_t> value) {
    if (level != SOL_SOCKET)
        return Error(EOPNOTSUPP, "AF_UNIX sockets have SOL_SOCKET options only");
    switch (name) {
        case SO_TYPE:
            return put_int(value, type());
        case SO_DOMAIN:
            return put_int(value, AF_UNIX);
        case SO_PROTOCOL:
            return put_int(value, 0);
        case SO_ACCEPTCONN:
            return put_int(value, m_state == State::listening);
        case SO_ERROR:
            return put_int(value, 0);
        case SO_PASSCRED:
            return put_int(value, m_pass_credentials);
        case SO_RCVBUF:
        case SO_SNDBUF: {
            auto stored = m_plain_options.find(name);
            return put_int(value, stored == m_plain_options.end() ? static_cast<int>(kQueueCapacity)
                                                                  : stored->second);
        }
        case SO_PEERCRED: {
            // Without a peer Linux reports no process and the overflow ids.
            struct ucred credentials = m_peer_credentials.value_or(ucred{0, 65534, 65534});
            const size_t size = std::min(value.size(), sizeof credentials);
            std::memcpy(value.data(), &credentials, size);
            return static_cast<socklen_t>(size);
        }
        case SO_LINGER: {
            const size_t size = std::min(value.size(), sizeof m_linger);
            std::memcpy(value.data(), &m_linger, size);
            return static_cast<socklen_t>(size);
        }
        case SO_REUSEADDR:
        case SO_REUSEPORT:
        case SO_KEEPALIVE:
        case SO_BROADCAST:
        case SO_OOBINLINE:
        case SO_PRIORITY:
        case SO_RCVLOWAT:
        case SO_SNDLOWAT: {
            auto stored = m_plain_options.find(name);
            const int fallback = (name == SO_RCVLOWAT || name == SO_SNDLOWAT) ? 1 : 0;
            return put_int(value, stored == m_plain_options.end() ? fallback : stored->second);
        }
        default:
            return Error(ENOPROTOOPT, "option not served for AF_UNIX");
    }
}

Result<void> UnixSocket::set_kind_option(int level, int name, std::span<const uint8_t> value) {
    if (level != SOL_SOCKET)
        return Error(EOPNOTSUPP, "AF_UNIX sockets have SOL_SOCKET options only");
    if (name == SO_LINGER) {
        if (value.size() < sizeof m_linger)
            return Error(EINVAL, "SO_LINGER needs a struct linger");
        std::memcpy(&m_linger, value.data(), sizeof m_linger);
        return {};
    }
    int number;
    if (value.size() < sizeof number)
        return Error(EINVAL, "option value shorter than an int");
    std::memcpy(&number, value.data(), sizeof number);
    switch (name) {
        case SO_PASSCRED:
            m_pass_credentials = number != 0;
            return {};
        case SO_RCVBUF:
        case SO_SNDBUF: {
            // Linux doubles the request (for its bookkeeping) within rmem_max.
            const int limited = std::clamp(number, 0, static_cast<int>(kQueueCapacity));
            m_plain_options[name] = std::max(limited * 2, name == SO_RCVBUF ? 2304 : 4608);
            return {};
        }
        case SO_REUSEADDR:
        case SO_REUSEPORT:
        case SO_KEEPALIVE:
        case SO_BROADCAST:
        case SO_OOBINLINE:
            m_plain_options[name] = number != 0;
            return {};
        case SO_PRIORITY:
        case SO_RCVLOWAT:
        case SO_SNDLOWAT:
            m_plain_options[name] = number;
            return {};
        default:
            return Error(ENOPROTOOPT, "option not served for AF_UNIX");
    }
}

}  // namespace myst::kernel

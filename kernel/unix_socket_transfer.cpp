// AF_UNIX sockets: sending and receiving. A send puts one packet into the
// receiver's queue (a stream's may be cut to the room left); a receive
// takes a datagram or record whole, or stream bytes across packets.
#include <cstring>

#include "kernel/process.h"
#include "kernel/thread.h"
#include "kernel/unix_socket.h"

namespace myst::kernel {

namespace {

// SCM_CREDENTIALS may name only the sender's own process and ids, unless
// it is root (CAP_SYS_ADMIN, CAP_SETUID, CAP_SETGID).
Result<void> check_credentials(Thread& thread, const struct ucred& claimed) {
    const Credentials& own = thread.process().credentials();
    if (own.euid == 0)
        return {};
    const bool pid_ok = claimed.pid == thread.process().pid();
    const bool uid_ok =
        claimed.uid == own.uid || claimed.uid == own.euid || claimed.uid == own.suid;
    const bool gid_ok =
        claimed.gid == own.gid || claimed.gid == own.egid || claimed.gid == own.sgid;
    if (!pid_ok || !uid_ok || !gid_ok)
        return Error(EPERM, "SCM_CREDENTIALS names another process or ids");
    return {};
}

}  // namespace

Result<size_t> UnixSocket::send(Thread& thread, SocketMessage& message, int flags) {
    if (flags & MSG_OOB)
        return Error(EOPNOTSUPP, "MSG_OOB on an AF_UNIX socket");
    if (!message.control.empty())
        return Error(EINVAL, "control message AF_UNIX does not serve");
    if (message.credentials)
        TRY(check_credentials(thread, *message.credentials));
    else
        message.credentials = ucred{thread.process().pid(), thread.process().credentials().euid,
                                    thread.process().credentials().egid};
    std::shared_ptr<UnixSocket> target;
    if (!message.address.empty()) {
        if (!is_datagram())
            return Error(m_state == State::connected ? EISCONN : EOPNOTSUPP,
                         "an address on a connection-oriented socket");
        target = TRY(find_bound(thread, message.address));
    }
    return send_to(std::move(target), message);
}

Result<size_t> UnixSocket::send_to(std::shared_ptr<UnixSocket> target, SocketMessage& message) {
    ++m_generation;
    if (m_write_shut)
        return Error(EPIPE, "socket shut for writing");
    if (is_datagram()) {
        if (!target) {
            target = m_peer.lock();
            if (!target)
                return Error(m_state == State::connected ? ECONNREFUSED : ENOTCONN,
                             "no destination for the datagram");
        }
        if (target->type() != type())
            return Error(EPROTOTYPE, "the destination is of another type");
        if (message.data.size() > target->m_receive_capacity)
            return Error(EMSGSIZE, "datagram larger than the receive queue");
        return deliver(*target, message);
    }
    if (m_state != State::connected)
        return Error(ENOTCONN, "not connected");
    std::shared_ptr<UnixSocket> peer = m_peer.lock();
    if (!peer || m_peer_closed || peer->m_read_shut)
        return Error(EPIPE, "the peer is gone");
    if (!is_stream() && message.data.size() > peer->m_receive_capacity)
        return Error(EMSGSIZE, "record larger than the receive queue");
    return deliver(*peer, message);
}

Result<size_t> UnixSocket::deliver(UnixSocket& receiver, SocketMessage& message) {
    if (is_stream() && message.data.empty())
        return 0;  // a stream moves no empty pieces
    const size_t room = receiver.room();
    size_t size = message.data.size();
    if (is_stream()) {
        if (room == 0)
            return Error(EAGAIN, "the receive queue is full");
        size = std::min(size, room);
    } else if (size > room && !receiver.m_queue.empty()) {
        return Error(EAGAIN, "the receive queue is full");
    }
    Packet packet;
    packet.data.assign(message.data.begin(), message.data.begin() + static_cast<long>(size));
    packet.rights = std::move(message.rights);
    message.rights.clear();
    packet.credentials = message.credentials;
    packet.from = m_address;
    receiver.m_queue.push_back(std::move(packet));
    receiver.m_queued_bytes += size;
    ++receiver.m_generation;
    receiver.update_signals();
    update_signals();
    return size;
}

Result<size_t> UnixSocket::receive(Thread&, SocketMessage& message, int flags) {
    message.control.clear();  // only files and credentials travel here
    return receive_queued(message, flags);
}

Result<size_t> UnixSocket::receive_queued(SocketMessage& message, int flags) {
    ++m_generation;
    if (m_state == State::listening)
        return Error(EINVAL, "receive on a listening socket");
    if (!is_datagram() && m_state != State::connected)
        return Error(EINVAL, "receive on an unconnected socket");
    if (flags & MSG_OOB)
        return Error(EOPNOTSUPP, "MSG_OOB on an AF_UNIX socket");
    if (m_queue.empty()) {
        const bool ended = m_read_shut || (!is_datagram() && (m_peer_write_shut || m_peer_closed));
        if (!ended)
            return Error(EAGAIN, "nothing to receive");
        message.data.clear();
        message.address.clear();
        return 0;
    }
    const bool peek = flags & MSG_PEEK;
    const size_t want = message.data.size();
    message.address = m_queue.front().from;
    if (m_pass_credentials)
        message.credentials = m_queue.front().credentials;
    size_t result = 0;
    if (is_stream()) {
        // Bytes across pieces, but never those of a later piece that
        // carries files with the ones already taken.
        size_t copied = 0;
        for (size_t index = 0; index < m_queue.size() && copied < want;) {
            Packet& packet = m_queue[index];
            if (copied > 0 && !packet.rights.empty())
                break;
            const size_t take = std::min(packet.data.size() - packet.consumed, want - copied);
            std::memcpy(message.data.data() + copied, packet.data.data() + packet.consumed, take);
            if (!packet.rights.empty()) {
                if (peek) {
                    message.rights = packet.rights;
                } else {
                    message.rights = std::move(packet.rights);
                    packet.rights.clear();
                }
            }
            copied += take;
            if (peek) {
                ++index;
                continue;
            }
            packet.consumed += take;
            m_queued_bytes -= take;
            if (packet.consumed < packet.data.size())
                break;
            m_queue.pop_front();
        }
        message.data.resize(copied);
        result = copied;
    } else {
        Packet& packet = m_queue.front();
        const size_t copied = std::min(packet.data.size(), want);
        std::memcpy(message.data.data(), packet.data.data(), copied);
        message.data.resize(copied);
        if (packet.data.size() > copied)
            message.flags |= MSG_TRUNC;
        result = (flags & MSG_TRUNC) ? packet.data.size() : copied;
        if (peek) {
            message.rights = packet.rights;
        } else {
            message.rights = std::move(packet.rights);
            m_queued_bytes -= packet.data.size();
            m_queue.pop_front();
        }
    }
    update_signals();
    // Room was made: a writer waiting on this queue may go on.
    peer_changed();
    return result;
}

Result<size_t> UnixSocket::receive_plain(std::span<uint8_t> buffer) {
    SocketMessage message;
    message.data.resize(buffer.size());
    // read(2) has no room for files: any that came are closed, as Linux.
    const size_t received = TRY(receive_queued(message, 0));
    std::memcpy(buffer.data(), message.data.data(), message.data.size());
    return is_stream() ? received : message.data.size();
}

Result<size_t> UnixSocket::send_plain(std::span<const uint8_t> data) {
    SocketMessage message;
    message.data.assign(data.begin(), data.end());
    message.credentials = m_credentials;
    return send_to(nullptr, message);
}

}  // namespace myst::kernel

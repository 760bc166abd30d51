// AF_UNIX sockets (unix(7)), served by the kernel without the host:
// stream, datagram and seqpacket; socketpair; names bound in the kernel's
// file systems (a socket inode) or abstract; SCM_RIGHTS and
// SCM_CREDENTIALS; SO_PEERCRED and SO_PASSCRED.
//
// What a socket sends goes straight into its receiver's queue, so data
// written before a close stays readable. A connected stream or seqpacket
// socket knows its peer weakly: the peer's last close (its destructor)
// hangs the connection up. A listening socket holds the server ends of
// the connections not accepted yet. Each socket keeps two wake fds
// (readable, writable) that follow its readiness after every change.
//
// All state is guarded by the kernel lock (every call comes from a
// syscall holding it).
// NOTE: files in flight (SCM_RIGHTS in a queue) are owned by the queue; a
// socket sent over itself is never freed (Linux collects such cycles).
// NOTE: a datagram sender waiting for room in an unconnected receiver's
// full queue polls for it (rechecks) rather than being woken.
#pragma once

#include <sys/socket.h>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "fs/vfs/inode.h"
#include "kernel/socket.h"
#include "kernel/wake_signal.h"
#include "target/target.h"

namespace myst::kernel {

class UnixNames;

class UnixSocket final : public Socket, public std::enable_shared_from_this<UnixSocket> {
    struct Private {};

public:
    using Pair = std::pair<std::shared_ptr<Socket>, std::shared_ptr<Socket>>;
    // socket(2) and socketpair(2) for AF_UNIX (`type` without flags;
    // `protocol` 0 or PF_UNIX; `flags` O_NONBLOCK or 0).
    static Result<std::shared_ptr<Socket>> create(Thread& thread, int type, int protocol,
                                                  int flags);
    static Result<Pair> create_pair(Thread& thread, int type, int protocol, int flags);

    UnixSocket(Private, Thread& thread, int type, int flags);
    ~UnixSocket() override;

    Result<void> bind(Thread& thread, std::span<const uint8_t> address) override;
    Result<void> listen(int backlog) override;
    Result<std::shared_ptr<Socket>> accept(Thread& thread, int flags,
                                           std::vector<uint8_t>& peer_address) override;
    Result<void> connect(Thread& thread, std::span<const uint8_t> address) override;
    Result<size_t> send(Thread& thread, SocketMessage& message, int flags) override;
    Result<size_t> receive(Thread& thread, SocketMessage& message, int flags) override;
    Result<void> shutdown(int how) override;
    Result<std::vector<uint8_t>> address(bool peer) override;
    Result<int> bytes_readable() override;

    uint32_t poll_events() override;
    Result<void> add_wake_sources(fs::WaitSources& sources, uint32_t events) override;
    uint64_t readiness_generation() const override { return m_generation; }

protected:
    Result<socklen_t> get_kind_option(int level, int name, std::span<uint8_t> value) override;
    Result<void> set_kind_option(int level, int name, std::span<const uint8_t> value) override;
    Result<size_t> receive_plain(std::span<uint8_t> buffer) override;
    Result<size_t> send_plain(std::span<const uint8_t> data) override;

private:
    // One write's worth in a receive queue: a datagram, a seqpacket
    // record, or a piece of a stream (a stream read never takes bytes of
    // two pieces when the second carries files).
    struct Packet {
        std::vector<uint8_t> data;
        size_t consumed = 0;  // stream: bytes already read
        std::vector<std::shared_ptr<fs::OpenFile>> rights;
        std::optional<struct ucred> credentials;
        std::vector<uint8_t> from;  // the sender's address
    };
    enum class State { unconnected, listening, connected };

    bool is_stream() const { return type() == SOCK_STREAM; }
    bool is_datagram() const { return type() == SOCK_DGRAM; }
    // The socket bound to `address` (ECONNREFUSED when none).
    Result<std::shared_ptr<UnixSocket>> find_bound(Thread& thread,
                                                   std::span<const uint8_t> address);
    // Binds to a fresh abstract name (bind with only the family, autobind).
    Result<void> autobind(Thread& thread);
    // Room left in this socket's receive queue.
    size_t room() const;
    // Sends to `target` (a datagram's destination; null: the peer).
    Result<size_t> send_to(std::shared_ptr<UnixSocket> target, SocketMessage& message);
    Result<size_t> deliver(UnixSocket& receiver, SocketMessage& message);
    Result<size_t> receive_queued(SocketMessage& message, int flags);
    Result<size_t> receive_stream(SocketMessage& message, int flags);
    Result<size_t> receive_record(SocketMessage& message, int flags);
    // Recomputes the wake fds from the readiness (after any change).
    void update_signals();
    void peer_changed();

    Target& m_target;
    UnixNames& m_names;
    State m_state = State::unconnected;
    std::weak_ptr<UnixSocket> m_peer;  // connected peer, or a datagram's default destination
    bool m_peer_closed = false;        // the connected peer's last close came
    bool m_read_shut = false;          // shutdown(SHUT_RD) here
    bool m_write_shut = false;         // shutdown(SHUT_WR) here
    bool m_peer_write_shut = false;    // the peer shut its writing: end of stream after the data
    std::deque<Packet> m_queue;
    size_t m_queued_bytes = 0;
    size_t m_receive_capacity;
    std::deque<std::shared_ptr<UnixSocket>> m_pending;  // listening: not accepted yet
    int m_backlog = 0;
    std::vector<uint8_t> m_address;              // bound name as getsockname shows it
    std::shared_ptr<fs::Inode> m_bound_inode;    // a path name's socket inode
    std::optional<std::string> m_abstract_name;  // without its leading NUL
    struct ucred m_credentials;                  // the creator's, for the peer's SO_PEERCRED
    std::optional<struct ucred> m_peer_credentials;
    bool m_pass_credentials = false;     // SO_PASSCRED
    std::map<int, int> m_plain_options;  // SOL_SOCKET options kept for getsockopt
    struct linger m_linger {};
    uint64_t m_generation = 0;
    WakeSignal m_readable;
    WakeSignal m_writable;
};

}  // namespace myst::kernel

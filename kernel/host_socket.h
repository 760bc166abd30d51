// AF_INET and AF_INET6 sockets: a host socket (target/target.h, always
// non-blocking) held by a kernel open file description. The host's network
// stack does the protocol work; the kernel keeps the blocking, the
// timeouts and the signals.
//
// Readiness: the host socket fd is itself the wake source (no kernel wake
// fd), and poll_events asks the host with a poll that does not wait.
// Edge-triggered epoll needs a generation: it counts the program's
// transfers and accepts on the socket, and adds the bytes waiting to be
// read, so an item reported ready is reported again after the program
// read or wrote (as a program drains to EAGAIN, then waits again) or when
// more data came, but not while nothing happened.
//
// Loopback only (KernelConfig::loopback_only, `--loopback-only`): the
// socket may bind, listen, connect and send only on the loopback. A bind to
// the wildcard address binds the loopback address instead; a bind to
// another address is EADDRNOTAVAIL (as for an address the host does not
// have), a connect or send to one ENETUNREACH (as with no route); and a
// socket that would be bound implicitly (listen, connect, sendto on an
// unbound socket) is bound to the loopback first, so the host never binds
// it to the wildcard address.
// NOTE: room freed in the send buffer (the peer's acknowledgements) makes
// no new EPOLLOUT edge by itself, as it does on Linux.
#pragma once

#include <atomic>

#include "kernel/socket.h"
#include "target/target.h"

namespace myst::kernel {

class HostSocket final : public Socket {
public:
    // Takes ownership of the host socket `host_fd`.
    HostSocket(Target& target, int host_fd, int flags, int domain, int type, uint64_t inode,
               bool loopback_only);
    ~HostSocket() override;
    // socket(2) for AF_INET/AF_INET6 (`type` without flags).
    static Result<std::shared_ptr<HostSocket>> create(Target& target, int domain, int type,
                                                      int protocol, int flags, uint64_t inode,
                                                      bool loopback_only);

    Result<void> bind(Thread& thread, std::span<const uint8_t> address) override;
    Result<void> listen(int backlog) override;
    Result<std::shared_ptr<Socket>> accept(Thread& thread, int flags,
                                           std::vector<uint8_t>& peer_address) override;
    Result<void> connect(Thread& thread, std::span<const uint8_t> address) override;
    Result<void> connect_result() override;
    Result<size_t> send(Thread& thread, SocketMessage& message, int flags) override;
    Result<size_t> receive(Thread& thread, SocketMessage& message, int flags) override;
    Result<void> shutdown(int how) override;
    Result<std::vector<uint8_t>> address(bool peer) override;
    Result<int> bytes_readable() override;

    uint32_t poll_events() override;
    Result<void> add_wake_sources(fs::WaitSources& sources, uint32_t events) override;
    uint64_t readiness_generation() const override;

protected:
    Result<socklen_t> get_kind_option(int level, int name, std::span<uint8_t> value) override;
    Result<void> set_kind_option(int level, int name, std::span<const uint8_t> value) override;
    Result<size_t> receive_plain(std::span<uint8_t> buffer) override;
    Result<size_t> send_plain(std::span<const uint8_t> data) override;

private:
    // Loopback only: refuses a destination off the loopback, and binds an
    // unbound socket to the loopback before the host would bind it.
    Result<void> check_destination(std::span<const uint8_t> destination);

    Target& m_target;
    const int m_host_fd;
    const bool m_loopback_only;
    // Loopback only: the socket is known to have a local address.
    std::atomic<bool> m_bound{false};
    std::atomic<uint64_t> m_generation{0};
};

}  // namespace myst::kernel

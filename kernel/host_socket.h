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
    HostSocket(Target& target, int host_fd, int flags, int domain, int type, uint64_t inode);
    ~HostSocket() override;
    // socket(2) for AF_INET/AF_INET6 (`type` without flags).
    static Result<std::shared_ptr<HostSocket>> create(Target& target, int domain, int type,
                                                      int protocol, int flags, uint64_t inode);

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
    Target& m_target;
    const int m_host_fd;
    std::atomic<uint64_t> m_generation{0};
};

}  // namespace myst::kernel

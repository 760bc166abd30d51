// Sockets (socket(7)) as open file descriptions: the interface every
// socket kind serves (host sockets for AF_INET/AF_INET6, kernel sockets for
// AF_UNIX), and what all of them keep in the kernel (the receive and send
// timeouts).
//
// Every operation here is one attempt that never blocks: where Linux would
// sleep it fails with EAGAIN (connect: EINPROGRESS), and the socket calls
// (kernel/syscalls/socket*.cpp) wait for the socket's readiness without the
// kernel lock, unless the description is O_NONBLOCK or the call asked
// MSG_DONTWAIT. All of it runs under the kernel lock.
#pragma once

#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "base/result.h"
#include "fs/vfs/open_file.h"

namespace myst::kernel {

class Thread;

// The most bytes of an address (sizeof(struct sockaddr_storage)): a longer
// addrlen is EINVAL, as Linux's move_addr_to_kernel.
constexpr size_t kMaxSocketAddress = 128;

// The inode number of a new socket (sockfs numbers, shown by fstat and
// /proc/<pid>/fd; drawn from the same counter as pipefs's).
uint64_t next_socket_inode(Thread& thread);

// What one send or receive moves, in kernel memory.
struct SocketMessage {
    // send: the bytes; receive: sized to what may be received, cut down to
    // what was (a datagram's full size is the call's result).
    std::vector<uint8_t> data;
    // send: where to (empty: the connected peer); receive: where from
    // (empty when the socket kind has none to give).
    std::vector<uint8_t> address;
    // Ancillary data the kernel does not interpret (cmsg records for the
    // host); receive: sized to the room the program gave.
    std::vector<uint8_t> control;
    // SCM_RIGHTS: the files passed (AF_UNIX only).
    std::vector<std::shared_ptr<fs::OpenFile>> rights;
    // SCM_CREDENTIALS (AF_UNIX only).
    std::optional<struct ucred> credentials;
    // receive: MSG_TRUNC, MSG_CTRUNC, MSG_EOR... as recvmsg's msg_flags.
    int flags = 0;
};

class Socket : public fs::OpenFile {
public:
    // `flags`: O_RDWR and O_NONBLOCK; `inode` the number fstat shows.
    Socket(int flags, int domain, int type, uint64_t inode);

    int domain() const { return m_domain; }
    int type() const { return m_type; }

    virtual Result<void> bind(Thread& thread, std::span<const uint8_t> address) = 0;
    virtual Result<void> listen(int backlog) = 0;
    // A connection from the queue (EAGAIN when none); its peer's address
    // goes to `peer_address`.
    virtual Result<std::shared_ptr<Socket>> accept(Thread& thread, int flags,
                                                   std::vector<uint8_t>& peer_address) = 0;
    // Starts (or makes) a connection: EINPROGRESS while one is under way;
    // connect_result() then tells how it ended once the socket is writable.
    virtual Result<void> connect(Thread& thread, std::span<const uint8_t> address) = 0;
    virtual Result<void> connect_result() { return {}; }
    // Returns the bytes sent; EPIPE when the peer is gone for writing (the
    // caller raises SIGPIPE).
    virtual Result<size_t> send(Thread& thread, SocketMessage& message, int flags) = 0;
    // Fills `message`; returns the bytes received (0 at end of stream).
    virtual Result<size_t> receive(Thread& thread, SocketMessage& message, int flags) = 0;
    virtual Result<void> shutdown(int how) = 0;
    // getsockname(2) (`peer` false) and getpeername(2).
    virtual Result<std::vector<uint8_t>> address(bool peer) = 0;
    // getsockopt(2)/setsockopt(2) for what the kind serves; SO_RCVTIMEO and
    // SO_SNDTIMEO are served here for every kind (the kernel does the
    // waiting). get_option fills `value` and returns the option's size.
    Result<socklen_t> get_option(int level, int name, std::span<uint8_t> value);
    Result<void> set_option(int level, int name, std::span<const uint8_t> value);
    // FIONREAD: bytes waiting to be read.
    virtual Result<int> bytes_readable() = 0;

    // How long a blocking receive (SO_RCVTIMEO) or send (SO_SNDTIMEO) may
    // wait; none: forever.
    std::optional<struct timespec> receive_timeout() const { return m_receive_timeout; }
    std::optional<struct timespec> send_timeout() const { return m_send_timeout; }

    // read(2)/write(2)/readv/writev: receive and send without flags.
    Result<size_t> read(std::span<uint8_t> buffer) override;
    Result<size_t> write(std::span<const uint8_t> data) override;
    Result<struct stat> stat() override;
    // FIONREAD (SIOCINQ); other requests are ENOTTY.
    Result<long> ioctl(unsigned long request, std::span<uint8_t> argument) override;
    std::string describe() const override;
    bool is_pollable() const override { return true; }
    // A blocking write on a stream socket sends all of its data.
    bool completes_blocking_writes() const override { return m_type == SOCK_STREAM; }

protected:
    virtual Result<socklen_t> get_kind_option(int level, int name, std::span<uint8_t> value) = 0;
    virtual Result<void> set_kind_option(int level, int name, std::span<const uint8_t> value) = 0;
    // read(2) and write(2), which carry no thread: kinds whose plain
    // transfers need none implement them.
    virtual Result<size_t> receive_plain(std::span<uint8_t> buffer) = 0;
    virtual Result<size_t> send_plain(std::span<const uint8_t> data) = 0;

private:
    const int m_domain;
    const int m_type;
    const uint64_t m_inode;
    std::optional<struct timespec> m_receive_timeout;
    std::optional<struct timespec> m_send_timeout;
};

}  // namespace myst::kernel

// Sockets: socket, socketpair, bind, listen, accept, accept4, connect,
// shutdown, getsockname, getpeername, getsockopt, setsockopt. AF_INET and
// AF_INET6 go to the host (kernel/host_socket.h); AF_UNIX is the kernel's
// (kernel/unix_socket.h). Sending and receiving are socket_messages.cpp.
#include <poll.h>
#include <sys/socket.h>

#include <array>

#include "kernel/host_socket.h"
#include "kernel/kernel.h"
#include "kernel/process.h"
#include "kernel/syscalls/file_common.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/syscalls/socket_common.h"
#include "kernel/thread.h"
#include "kernel/unix_socket.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

constexpr int kSocketFlags = SOCK_NONBLOCK | SOCK_CLOEXEC;
// The most bytes of an option value copied in either direction.
constexpr size_t kMaxOptionSize = 64 << 10;

// Linux's first check: bits beyond the type and its two flags are EINVAL
// (a type past SOCK_PACKET is EINVAL too, once the family is known).
Result<void> check_socket_type(int type) {
    constexpr int kTypeMask = 0xf;
    if (type & ~kTypeMask)
        return Error(EINVAL, "invalid socket type");
    return {};
}

Result<int> install_socket(Thread& thread, std::shared_ptr<Socket> socket, int flags) {
    return fs_context_of(thread).fds.allocate(std::move(socket), flags & SOCK_CLOEXEC);
}

}  // namespace

// Socket implements Linux syscall socket(2): AF_INET and AF_INET6 (host),
// AF_UNIX (kernel); any other family is EAFNOSUPPORT.
Result<long> sys_socket(Thread& thread, const SyscallArgs& args) {
    const int domain = args.integer(0);
    const int flags = args.integer(1) & kSocketFlags;
    const int type = args.integer(1) & ~kSocketFlags;
    const int protocol = args.integer(2);
    TRY(check_socket_type(type));
    // As Linux's __sock_create: a family out of range first, then the type.
    if (domain >= 0 && domain < AF_MAX && type > SOCK_PACKET)
        return Error(EINVAL, "invalid socket type");
    const int open_flags = (flags & SOCK_NONBLOCK) ? O_NONBLOCK : 0;
    std::shared_ptr<Socket> socket;
    if (domain == AF_INET || domain == AF_INET6) {
        socket = TRY(HostSocket::create(thread.kernel().target(), domain, type, protocol,
                                        open_flags, next_socket_inode(thread),
                                        thread.kernel().config().loopback_only));
    } else if (domain == AF_UNIX) {
        socket = TRY(UnixSocket::create(thread, type, protocol, open_flags));
    } else {
        return Error(EAFNOSUPPORT, "address family not supported");
    }
    return TRY(install_socket(thread, std::move(socket), flags));
}

// Socketpair implements Linux syscall socketpair(2): AF_UNIX only, as
// Linux (AF_INET is EOPNOTSUPP).
Result<long> sys_socketpair(Thread& thread, const SyscallArgs& args) {
    const int domain = args.integer(0);
    const int flags = args.integer(1) & kSocketFlags;
    const int type = args.integer(1) & ~kSocketFlags;
    TRY(check_socket_type(type));
    if (type > SOCK_PACKET)
        return Error(EINVAL, "invalid socket type");
    if (domain == AF_INET || domain == AF_INET6)
        return Error(EOPNOTSUPP, "socketpair of an internet family");
    if (domain != AF_UNIX)
        return Error(EAFNOSUPPORT, "address family not supported");
    const int open_flags = (flags & SOCK_NONBLOCK) ? O_NONBLOCK : 0;
    auto [first, second] = TRY(UnixSocket::create_pair(thread, type, args.integer(2), open_flags));
    FdTable& fds = fs_context_of(thread).fds;
    const int first_fd = TRY(install_socket(thread, std::move(first), flags));
    auto second_fd = install_socket(thread, std::move(second), flags);
    if (second_fd.is_error()) {
        (void)fds.remove(first_fd);
        return second_fd.release_error();
    }
    const int pair[2] = {first_fd, second_fd.value()};
    auto written = copy_to_user(thread, args.address(3), pair, sizeof pair);
    if (written.is_error()) {
        (void)fds.remove(pair[0]);
        (void)fds.remove(pair[1]);
        return written.release_error();
    }
    return 0;
}

// Bind implements Linux syscall bind(2).
Result<long> sys_bind(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<Socket> socket = TRY(socket_of(thread, args.fd(0)));
    auto address = TRY(read_socket_address(thread, args.address(1), args.integer(2)));
    TRY(socket->bind(thread, address));
    return 0;
}

// Listen implements Linux syscall listen(2).
Result<long> sys_listen(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<Socket> socket = TRY(socket_of(thread, args.fd(0)));
    TRY(socket->listen(args.integer(1)));
    return 0;
}

namespace {

Result<long> accept_connection(Thread& thread, const SyscallArgs& args, int flags) {
    if (flags & ~kSocketFlags)
        return Error(EINVAL, "invalid accept4 flags");
    std::shared_ptr<Socket> socket = TRY(socket_of(thread, args.fd(0)));
    std::vector<uint8_t> peer;
    const int open_flags = (flags & SOCK_NONBLOCK) ? O_NONBLOCK : 0;
    std::shared_ptr<Socket> accepted = TRY(retry_socket_call(
        thread, *socket, POLLIN, socket_call_nonblocking(*socket, 0), socket->receive_timeout(),
        [&] { return socket->accept(thread, open_flags, peer); }));
    // As Linux: a bad address buffer loses the connection, no descriptor.
    TRY(write_socket_address(thread, args.address(1), args.address(2), peer));
    return TRY(install_socket(thread, std::move(accepted), flags));
}

}  // namespace

// Accept implements Linux syscall accept(2).
Result<long> sys_accept(Thread& thread, const SyscallArgs& args) {
    return accept_connection(thread, args, 0);
}

// Accept4 implements Linux syscall accept4(2): SOCK_NONBLOCK, SOCK_CLOEXEC.
Result<long> sys_accept4(Thread& thread, const SyscallArgs& args) {
    return accept_connection(thread, args, args.integer(3));
}

// Connect implements Linux syscall connect(2). A blocking connect that
// the socket cannot make at once waits for writability (up to
// SO_SNDTIMEO: EINPROGRESS after it) and returns how it ended (SO_ERROR).
Result<long> sys_connect(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<Socket> socket = TRY(socket_of(thread, args.fd(0)));
    auto address = TRY(read_socket_address(thread, args.address(1), args.integer(2)));
    const bool nonblocking = socket_call_nonblocking(*socket, 0);
    auto started = retry_socket_call(thread, *socket, POLLOUT, nonblocking, socket->send_timeout(),
                                     [&] { return socket->connect(thread, address); });
    if (!started.is_error())
        return 0;
    if (started.error().code() != EINPROGRESS || nonblocking)
        return started.release_error();
    if (!TRY(wait_for_socket(thread, *socket, POLLOUT, socket->send_timeout())))
        return Error(EINPROGRESS, "connect timeout passed");
    TRY(socket->connect_result());
    return 0;
}

// Shutdown implements Linux syscall shutdown(2).
Result<long> sys_shutdown(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<Socket> socket = TRY(socket_of(thread, args.fd(0)));
    const int how = args.integer(1);
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
        return Error(EINVAL, "invalid shutdown direction");
    TRY(socket->shutdown(how));
    return 0;
}

// Getsockname implements Linux syscall getsockname(2).
Result<long> sys_getsockname(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<Socket> socket = TRY(socket_of(thread, args.fd(0)));
    auto address = TRY(socket->address(false));
    TRY(write_socket_address(thread, args.address(1), args.address(2), address));
    return 0;
}

// Getpeername implements Linux syscall getpeername(2): ENOTCONN without a peer.
Result<long> sys_getpeername(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<Socket> socket = TRY(socket_of(thread, args.fd(0)));
    auto address = TRY(socket->address(true));
    TRY(write_socket_address(thread, args.address(1), args.address(2), address));
    return 0;
}

// Getsockopt implements Linux syscall getsockopt(2).
Result<long> sys_getsockopt(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<Socket> socket = TRY(socket_of(thread, args.fd(0)));
    const uint64_t size_address = args.address(4);
    const int room = TRY(read_user<int>(thread, size_address));
    if (room < 0)
        return Error(EINVAL, "negative option length");
    std::vector<uint8_t> value(std::min(static_cast<size_t>(room), kMaxOptionSize));
    const socklen_t size = TRY(socket->get_option(args.integer(1), args.integer(2), value));
    const size_t copied = std::min<size_t>(size, value.size());
    TRY(copy_to_user(thread, args.address(3), value.data(), copied));
    TRY(write_user<int>(thread, size_address, static_cast<int>(copied)));
    return 0;
}

// Setsockopt implements Linux syscall setsockopt(2).
Result<long> sys_setsockopt(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<Socket> socket = TRY(socket_of(thread, args.fd(0)));
    const int size = args.integer(4);
    if (size < 0 || static_cast<size_t>(size) > kMaxOptionSize)
        return Error(EINVAL, "invalid option length");
    std::vector<uint8_t> value(static_cast<size_t>(size));
    TRY(copy_from_user(thread, value.data(), args.address(3), value.size()));
    TRY(socket->set_option(args.integer(1), args.integer(2), value));
    return 0;
}

}  // namespace myst::kernel

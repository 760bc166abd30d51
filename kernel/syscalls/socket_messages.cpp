// Sending and receiving on sockets: sendto, recvfrom, sendmsg, recvmsg,
// sendmmsg, recvmmsg. The data goes through kernel buffers (a step of at
// most kStepSize bytes); a blocking call waits for the socket between
// attempts (kernel/syscalls/socket_common.h), up to SO_SNDTIMEO or
// SO_RCVTIMEO.
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstring>

#include "kernel/readiness.h"
#include "kernel/signal_delivery.h"
#include "kernel/syscalls/file_common.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/syscalls/socket_common.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

// The bytes one send or receive attempt moves at most: a datagram must fit
// in one, a stream is moved in several.
constexpr size_t kStepSize = 1 << 20;
// The most ancillary data one message carries (Linux's optmem_max is 20 KiB).
constexpr size_t kMaxControl = 64 << 10;
// Linux's SCM_MAX_FD: descriptors one SCM_RIGHTS message may pass.
constexpr size_t kMaxPassedFds = 253;
// Linux's UIO_MAXDEV cap on sendmmsg/recvmmsg message counts.
constexpr unsigned kMaxMessages = 1024;

constexpr int kReceiveFlags = MSG_PEEK | MSG_DONTWAIT | MSG_WAITALL | MSG_TRUNC | MSG_OOB |
                              MSG_CMSG_CLOEXEC | MSG_ERRQUEUE | MSG_NOSIGNAL;

// A piece of program memory a message is gathered from or scattered into.
struct UserVector {
    uint64_t base;
    uint64_t length;
};

struct UserMessage {
    std::vector<UserVector> vectors;
    size_t total = 0;  // bytes the vectors hold, at most kMaxTransfer
};

Result<UserMessage> read_user_vectors(Thread& thread, uint64_t address, uint64_t count) {
    if (count > IOV_MAX)
        return Error(EMSGSIZE, "too many iovecs");
    std::vector<struct iovec> raw(count);
    TRY(copy_from_user(thread, raw.data(), address, raw.size() * sizeof(struct iovec)));
    UserMessage message;
    for (const struct iovec& vector : raw) {
        const uint64_t length = vector.iov_len;
        if (length > static_cast<uint64_t>(SSIZE_MAX) - message.total)
            return Error(EINVAL, "iovec lengths overflow");
        message.total += length;
        message.vectors.push_back({reinterpret_cast<uint64_t>(vector.iov_base), length});
    }
    message.total = std::min(message.total, kMaxTransfer);
    return message;
}

// Copies `size` bytes at byte `offset` of the program's vectors into or out
// of `buffer`.
Result<void> move_user_bytes(Thread& thread, const UserMessage& message, size_t offset,
                             uint8_t* buffer, size_t size, bool to_user) {
    size_t position = 0;
    for (const UserVector& vector : message.vectors) {
        if (size == 0)
            break;
        if (offset >= position + vector.length) {
            position += vector.length;
            continue;
        }
        const size_t inside = offset - position;
        const size_t count = std::min<size_t>(vector.length - inside, size);
        if (to_user)
            TRY(copy_to_user(thread, vector.base + inside, buffer, count));
        else
            TRY(copy_from_user(thread, buffer, vector.base + inside, count));
        buffer += count;
        offset += count;
        size -= count;
        position += vector.length;
    }
    return {};
}

// The control messages of a send: SCM_RIGHTS become files, SCM_CREDENTIALS
// a ucred, the rest is passed on as it is.
Result<void> read_control(Thread& thread, uint64_t address, size_t size, SocketMessage& message) {
    if (size == 0)
        return {};
    if (size > kMaxControl)
        return Error(ENOBUFS, "control data too large");
    std::vector<uint8_t> raw(size);
    TRY(copy_from_user(thread, raw.data(), address, size));
    size_t offset = 0;
    while (offset + sizeof(struct cmsghdr) <= size) {
        struct cmsghdr header;
        std::memcpy(&header, raw.data() + offset, sizeof header);
        if (header.cmsg_len < sizeof header || header.cmsg_len > size - offset)
            return Error(EINVAL, "bad control message length");
        const uint8_t* data = raw.data() + offset + CMSG_LEN(0);
        const size_t data_size = header.cmsg_len - CMSG_LEN(0);
        if (header.cmsg_level == SOL_SOCKET && header.cmsg_type == SCM_RIGHTS) {
            const size_t count = data_size / sizeof(int);
            if (message.rights.size() + count > kMaxPassedFds)
                return Error(EINVAL, "too many descriptors passed");
            for (size_t i = 0; i < count; ++i) {
                int fd;
                std::memcpy(&fd, data + i * sizeof(int), sizeof fd);
                message.rights.push_back(TRY(file_of(thread, fd)));
            }
        } else if (header.cmsg_level == SOL_SOCKET && header.cmsg_type == SCM_CREDENTIALS) {
            if (data_size != sizeof(struct ucred))
                return Error(EINVAL, "bad SCM_CREDENTIALS size");
            struct ucred credentials;
            std::memcpy(&credentials, data, sizeof credentials);
            message.credentials = credentials;
        } else {
            message.control.insert(message.control.end(), raw.data() + offset,
                                   raw.data() + offset + header.cmsg_len);
        }
        offset += CMSG_ALIGN(header.cmsg_len);
    }
    return {};
}

// Sends the program's bytes: a datagram in one attempt, a stream in steps;
// a blocking stream send goes on until all is sent. Returns the bytes sent
// (what went before an error or a signal counts, as Linux).
Result<size_t> send_from_user(Thread& thread, Socket& socket, const UserMessage& data,
                              SocketMessage& message, int flags) {
    const bool stream = socket.type() == SOCK_STREAM;
    if (!stream && data.total > kStepSize)
        return Error(EMSGSIZE, "datagram too large");
    const bool nonblocking = socket_call_nonblocking(socket, flags);
    size_t sent = 0;
    for (;;) {
        const size_t step = std::min(data.total - sent, kStepSize);
        message.data.resize(step);
        TRY(move_user_bytes(thread, data, sent, message.data.data(), step, false));
        auto attempt =
            retry_socket_call(thread, socket, POLLOUT, nonblocking, socket.send_timeout(),
                              [&] { return socket.send(thread, message, flags); });
        if (attempt.is_error()) {
            if (sent > 0)
                return sent;
            return attempt.release_error();
        }
        sent += attempt.value();
        // Files and credentials go with the first bytes only.
        message.rights.clear();
        message.credentials.reset();
        message.control.clear();
        if (!stream || sent >= data.total || (nonblocking && attempt.value() < step))
            return sent;
    }
}

// Receives into the program's vectors; MSG_WAITALL on a stream goes on
// until they are full (or end of stream, an error or a signal). Returns
// the call's result (a datagram's full size with MSG_TRUNC).
Result<size_t> receive_to_user(Thread& thread, Socket& socket, const UserMessage& data,
                               SocketMessage& message, size_t control_room, int flags) {
    const bool stream = socket.type() == SOCK_STREAM;
    const bool wait_all = stream && (flags & MSG_WAITALL) && !(flags & MSG_PEEK);
    const bool nonblocking = socket_call_nonblocking(socket, flags);
    size_t received = 0;
    for (;;) {
        // The address, ancillary data and flags are the first step's; the
        // files of every step are kept.
        SocketMessage piece;
        piece.data.resize(std::min(data.total - received, kStepSize));
        piece.control.resize(received == 0 ? control_room : 0);
        auto attempt =
            retry_socket_call(thread, socket, POLLIN, nonblocking, socket.receive_timeout(),
                              [&] { return socket.receive(thread, piece, flags); });
        if (attempt.is_error()) {
            if (received > 0)
                return received;
            return attempt.release_error();
        }
        if (received == 0) {
            message.address = std::move(piece.address);
            message.control = std::move(piece.control);
            message.credentials = piece.credentials;
            message.flags = piece.flags;
        }
        message.rights.insert(message.rights.end(), piece.rights.begin(), piece.rights.end());
        TRY(move_user_bytes(thread, data, received, piece.data.data(), piece.data.size(), true));
        if (!stream)
            return attempt.value();
        received += piece.data.size();
        if (!wait_all || attempt.value() == 0 || received >= data.total)
            return received;
    }
}

UserMessage single_buffer(uint64_t address, uint64_t size) {
    UserMessage message;
    message.vectors.push_back({address, size});
    message.total = std::min<size_t>(size, kMaxTransfer);
    return message;
}

// EPIPE raises SIGPIPE unless the call said MSG_NOSIGNAL.
Result<long> end_send(Thread& thread, Result<size_t> sent, int flags) {
    if (sent.is_error()) {
        if (flags & MSG_NOSIGNAL)
            return sent.release_error();
        return signal_broken_pipe(thread, sent.release_error());
    }
    return static_cast<long>(sent.value());
}

// One sendmsg: the struct msghdr at `address`.
Result<size_t> send_message(Thread& thread, Socket& socket, uint64_t address, int flags) {
    const auto header = TRY(read_user<struct msghdr>(thread, address));
    UserMessage data = TRY(
        read_user_vectors(thread, reinterpret_cast<uint64_t>(header.msg_iov), header.msg_iovlen));
    SocketMessage message;
    if (header.msg_name && header.msg_namelen)
        message.address = TRY(read_socket_address(
            thread, reinterpret_cast<uint64_t>(header.msg_name), header.msg_namelen));
    TRY(read_control(thread, reinterpret_cast<uint64_t>(header.msg_control), header.msg_controllen,
                     message));
    return send_from_user(thread, socket, data, message, flags);
}

// Writes the control messages of a receive into the program's buffer of
// `room` bytes at `address`: what the socket kind gave as it is, then the
// passed files as new descriptors. Returns the bytes used; sets MSG_CTRUNC
// when something did not fit (files that did not fit are closed, as Linux).
Result<size_t> write_control(Thread& thread, uint64_t address, size_t room, SocketMessage& message,
                             int flags) {
    std::vector<uint8_t> out = message.control;
    if (!message.rights.empty()) {
        const size_t space = room > out.size() + CMSG_LEN(0) ? room - out.size() - CMSG_LEN(0) : 0;
        const size_t fitting = std::min(message.rights.size(), space / sizeof(int));
        if (fitting < message.rights.size())
            message.flags |= MSG_CTRUNC;
        if (fitting > 0) {
            std::vector<int> fds;
            for (size_t i = 0; i < fitting; ++i)
                fds.push_back(TRY(fs_context_of(thread).fds.allocate(
                    message.rights[i], (flags & MSG_CMSG_CLOEXEC) != 0)));
            struct cmsghdr header {};
            header.cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
            header.cmsg_level = SOL_SOCKET;
            header.cmsg_type = SCM_RIGHTS;
            const size_t start = out.size();
            out.resize(start + CMSG_SPACE(fds.size() * sizeof(int)));
            std::memcpy(out.data() + start, &header, sizeof header);
            std::memcpy(out.data() + start + CMSG_LEN(0), fds.data(), fds.size() * sizeof(int));
            out.resize(std::min(out.size(), room));
        }
        message.rights.clear();
    }
    if (message.credentials) {
        struct cmsghdr header {};
        header.cmsg_len = CMSG_LEN(sizeof(struct ucred));
        header.cmsg_level = SOL_SOCKET;
        header.cmsg_type = SCM_CREDENTIALS;
        const size_t start = out.size();
        if (start + CMSG_SPACE(sizeof(struct ucred)) <= room) {
            out.resize(start + CMSG_SPACE(sizeof(struct ucred)));
            std::memcpy(out.data() + start, &header, sizeof header);
            std::memcpy(out.data() + start + CMSG_LEN(0), &*message.credentials,
                        sizeof(struct ucred));
        } else {
            message.flags |= MSG_CTRUNC;
        }
    }
    TRY(copy_to_user(thread, address, out.data(), out.size()));
    return out.size();
}

// One recvmsg: the struct msghdr at `address`, updated as Linux does
// (msg_namelen, msg_controllen, msg_flags).
Result<size_t> receive_message(Thread& thread, Socket& socket, uint64_t address, int flags) {
    auto header = TRY(read_user<struct msghdr>(thread, address));
    UserMessage data = TRY(
        read_user_vectors(thread, reinterpret_cast<uint64_t>(header.msg_iov), header.msg_iovlen));
    if (static_cast<int>(header.msg_namelen) < 0)
        return Error(EINVAL, "negative name length");
    const size_t control_room = std::min<size_t>(header.msg_controllen, kMaxControl);
    SocketMessage message;
    const size_t result = TRY(receive_to_user(thread, socket, data, message, control_room, flags));
    if (header.msg_name) {
        const size_t copied = std::min<size_t>(message.address.size(), header.msg_namelen);
        TRY(copy_to_user(thread, reinterpret_cast<uint64_t>(header.msg_name),
                         message.address.data(), copied));
    }
    header.msg_namelen = static_cast<socklen_t>(message.address.size());
    if (header.msg_control) {
        header.msg_controllen = TRY(write_control(
            thread, reinterpret_cast<uint64_t>(header.msg_control), control_room, message, flags));
    } else {
        // Files passed with no room to take them are closed, as Linux.
        if (!message.rights.empty() || !message.control.empty())
            message.flags |= MSG_CTRUNC;
        header.msg_controllen = 0;
    }
    header.msg_flags = message.flags;
    TRY(write_user(thread, address, header));
    return result;
}

}  // namespace

// Sendto implements Linux syscall sendto(2) (and send(2)).
Result<long> sys_sendto(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<Socket> socket = TRY(socket_of(thread, args.fd(0)));
    const int flags = args.integer(3);
    SocketMessage message;
    if (args.address(4) && args.integer(5))
        message.address = TRY(read_socket_address(thread, args.address(4), args.integer(5)));
    UserMessage data = single_buffer(args.address(1), args.size(2));
    return end_send(thread, send_from_user(thread, *socket, data, message, flags), flags);
}

// Recvfrom implements Linux syscall recvfrom(2) (and recv(2)).
Result<long> sys_recvfrom(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<Socket> socket = TRY(socket_of(thread, args.fd(0)));
    const int flags = args.integer(3);
    if (flags & ~kReceiveFlags)
        return Error(EINVAL, "unsupported receive flags");
    UserMessage data = single_buffer(args.address(1), args.size(2));
    SocketMessage message;
    const size_t result = TRY(receive_to_user(thread, *socket, data, message, 0, flags));
    if (args.address(4))
        TRY(write_socket_address(thread, args.address(4), args.address(5), message.address));
    return static_cast<long>(result);
}

// Sendmsg implements Linux syscall sendmsg(2).
Result<long> sys_sendmsg(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<Socket> socket = TRY(socket_of(thread, args.fd(0)));
    const int flags = args.integer(2);
    return end_send(thread, send_message(thread, *socket, args.address(1), flags), flags);
}

// Recvmsg implements Linux syscall recvmsg(2).
Result<long> sys_recvmsg(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<Socket> socket = TRY(socket_of(thread, args.fd(0)));
    const int flags = args.integer(2);
    if (flags & ~kReceiveFlags)
        return Error(EINVAL, "unsupported receive flags");
    return static_cast<long>(TRY(receive_message(thread, *socket, args.address(1), flags)));
}

// Sendmmsg implements Linux syscall sendmmsg(2): each struct mmsghdr's
// msg_len gets its bytes; an error after the first message ends the call
// with the count sent.
Result<long> sys_sendmmsg(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<Socket> socket = TRY(socket_of(thread, args.fd(0)));
    const uint64_t vector = args.address(1);
    const unsigned count = std::min(args.flags(2), kMaxMessages);
    const int flags = args.integer(3);
    unsigned done = 0;
    for (; done < count; ++done) {
        const uint64_t entry = vector + done * sizeof(struct mmsghdr);
        auto sent = send_message(thread, *socket, entry, flags);
        if (sent.is_error()) {
            if (done > 0)
                break;
            return end_send(thread, sent.release_error(), flags);
        }
        TRY(write_user<unsigned>(thread, entry + offsetof(struct mmsghdr, msg_len),
                                 static_cast<unsigned>(sent.value())));
    }
    return done;
}

// Recvmmsg implements Linux syscall recvmmsg(2): MSG_WAITFORONE makes the
// messages after the first non-blocking. The timeout is checked between
// messages, as Linux does.
Result<long> sys_recvmmsg(Thread& thread, const SyscallArgs& args) {
    std::shared_ptr<Socket> socket = TRY(socket_of(thread, args.fd(0)));
    const uint64_t vector = args.address(1);
    const unsigned count = std::min(args.flags(2), kMaxMessages);
    int flags = args.integer(3);
    if (flags & ~(kReceiveFlags | MSG_WAITFORONE))
        return Error(EINVAL, "unsupported receive flags");
    std::optional<struct timespec> deadline;
    if (args.address(4)) {
        const auto timeout = TRY(read_user<struct timespec>(thread, args.address(4)));
        if (timeout.tv_sec < 0 || timeout.tv_nsec < 0 || timeout.tv_nsec >= 1000000000)
            return Error(EINVAL, "invalid timeout");
        deadline = monotonic_after(thread, timeout);
    }
    unsigned done = 0;
    for (; done < count; ++done) {
        const uint64_t entry = vector + done * sizeof(struct mmsghdr);
        auto received = receive_message(thread, *socket, entry, flags & ~MSG_WAITFORONE);
        if (received.is_error()) {
            if (done > 0)
                break;
            return received.release_error();
        }
        TRY(write_user<unsigned>(thread, entry + offsetof(struct mmsghdr, msg_len),
                                 static_cast<unsigned>(received.value())));
        if (flags & MSG_WAITFORONE)
            flags |= MSG_DONTWAIT;
        if (deadline && !time_before(monotonic_now(thread), *deadline)) {
            ++done;
            break;
        }
    }
    return done;
}

}  // namespace myst::kernel

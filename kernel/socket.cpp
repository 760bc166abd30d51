#include "kernel/socket.h"

#include <sys/ioctl.h>
#include <sys/time.h>

#include <cstring>

#include "kernel/kernel.h"
#include "kernel/pipe.h"
#include "kernel/thread.h"

namespace myst::kernel {

namespace {

// SO_RCVTIMEO/SO_SNDTIMEO in both spellings (the _NEW ones carry a 64-bit
// timeval, which on x86-64 is the same struct).
constexpr int kReceiveTimeoutNew = 66;
constexpr int kSendTimeoutNew = 67;

bool is_receive_timeout(int level, int name) {
    return level == SOL_SOCKET && (name == SO_RCVTIMEO || name == kReceiveTimeoutNew);
}

bool is_send_timeout(int level, int name) {
    return level == SOL_SOCKET && (name == SO_SNDTIMEO || name == kSendTimeoutNew);
}

// Linux's sock_set_timeout: 0 is "forever", a negative time "at once".
Result<std::optional<struct timespec>> parse_timeout(std::span<const uint8_t> value) {
    struct timeval time {};
    if (value.size() < sizeof time)
        return Error(EINVAL, "timeout option shorter than a timeval");
    std::memcpy(&time, value.data(), sizeof time);
    if (time.tv_usec < 0 || time.tv_usec >= 1000000)
        return Error(EDOM, "timeout microseconds out of range");
    if (time.tv_sec < 0)
        return std::optional<struct timespec>(timespec{0, 0});
    if (time.tv_sec == 0 && time.tv_usec == 0)
        return std::optional<struct timespec>();
    return std::optional<struct timespec>(timespec{time.tv_sec, time.tv_usec * 1000});
}

socklen_t encode_timeout(const std::optional<struct timespec>& timeout, std::span<uint8_t> value) {
    struct timeval time {};
    if (timeout)
        time = {timeout->tv_sec, timeout->tv_nsec / 1000};
    const size_t size = std::min(value.size(), sizeof time);
    std::memcpy(value.data(), &time, size);
    return static_cast<socklen_t>(size);
}

}  // namespace

uint64_t next_socket_inode(Thread& thread) {
    return thread.kernel().pipes().next_inode();
}

Socket::Socket(int flags, int domain, int type, uint64_t inode)
    : OpenFile(O_RDWR | (flags & O_NONBLOCK)), m_domain(domain), m_type(type), m_inode(inode) {}

Result<socklen_t> Socket::get_option(int level, int name, std::span<uint8_t> value) {
    if (is_receive_timeout(level, name))
        return encode_timeout(m_receive_timeout, value);
    if (is_send_timeout(level, name))
        return encode_timeout(m_send_timeout, value);
    return get_kind_option(level, name, value);
}

Result<void> Socket::set_option(int level, int name, std::span<const uint8_t> value) {
    if (is_receive_timeout(level, name)) {
        m_receive_timeout = TRY(parse_timeout(value));
        return {};
    }
    if (is_send_timeout(level, name)) {
        m_send_timeout = TRY(parse_timeout(value));
        return {};
    }
    return set_kind_option(level, name, value);
}

Result<size_t> Socket::read(std::span<uint8_t> buffer) {
    return receive_plain(buffer);
}

Result<size_t> Socket::write(std::span<const uint8_t> data) {
    return send_plain(data);
}

Result<struct stat> Socket::stat() {
    struct stat st {};
    st.st_mode = S_IFSOCK | 0777;
    st.st_nlink = 1;
    st.st_ino = m_inode;
    st.st_blksize = 4096;
    return st;
}

Result<long> Socket::ioctl(unsigned long request, std::span<uint8_t> argument) {
    if (request != FIONREAD)
        return Error(ENOTTY, "inappropriate ioctl for a socket");
    const int count = TRY(bytes_readable());
    if (argument.size() < sizeof count)
        return Error(EFAULT, "FIONREAD argument too small");
    std::memcpy(argument.data(), &count, sizeof count);
    return 0;
}

std::string Socket::describe() const {
    return "socket:[" + std::to_string(m_inode) + "]";
}

}  // namespace myst::kernel

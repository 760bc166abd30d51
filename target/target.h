// The target: the only way from the kernel to the host (Mystikos's TCALLs).
// A flat, typed interface in the spirit of Gramine's PAL: every host service
// the kernel uses is one method here. The linux target implements it with
// host system calls; an SGX target would implement it with OCALLs, checking
// everything the host returns. Sizes are bytes; host fds are the host's.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <cerrno>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace myst {

struct HostDirectoryEntry {
    std::string name;
    uint64_t inode = 0;
    uint8_t type = 0;  // DT_* value
};

class Target {
public:
    virtual ~Target() = default;

    // --- Host files: hostfs mounts, image files, the standard streams. ---
    // Paths are host paths; flags and modes are Linux's O_* and mode bits.
    virtual Result<int> file_open(const std::string& path, int flags, mode_t mode) = 0;
    virtual Result<void> file_close(int fd) = 0;
    virtual Result<size_t> file_read(int fd, std::span<uint8_t> buffer) = 0;
    virtual Result<size_t> file_write(int fd, std::span<const uint8_t> data) = 0;
    virtual Result<size_t> file_pread(int fd, std::span<uint8_t> buffer, uint64_t offset) = 0;
    virtual Result<size_t> file_pwrite(int fd, std::span<const uint8_t> data, uint64_t offset) = 0;
    virtual Result<struct stat> file_stat(int fd) = 0;
    virtual Result<void> file_truncate(int fd, uint64_t size) = 0;
    virtual Result<void> file_sync(int fd) = 0;
    // Terminal requests on the standard streams only (TCGETS, TIOCGWINSZ...);
    // `argument` points to kernel memory of the request's size.
    virtual Result<long> file_ioctl(int fd, unsigned long request, void* argument) = 0;

    // --- Host directories (hostfs): nodes. A node is a host O_PATH
    // descriptor of one file, directory or symlink; every call below works
    // on a node, or on a directory node and one name, so an object keeps
    // its identity when it is renamed and no host path is ever resolved
    // again from the top. No call follows a symlink or leaves the directory
    // it starts from; `name` is one component (not "", ".", ".." and without
    // '/'; EINVAL otherwise). Nodes are closed with file_close.

    // The directory a mount names (an absolute path the operator or the
    // kernel's mount check chose); ENOTDIR for anything else.
    virtual Result<int> node_open_directory(const std::string& path) = 0;
    // Opens `relative` beneath the directory node `directory`, as openat2(2)
    // with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS: an absolute path or a ".."
    // above `directory` is EXDEV, a symlink on the way is ELOOP, and a
    // final symlink is opened itself with O_PATH (ELOOP without). `flags`
    // are O_* flags (O_PATH for a new node, O_CREAT with `mode`...).
    virtual Result<int> node_open_beneath(int directory, const std::string& relative, int flags,
                                          mode_t mode) = 0;
    // A new descriptor with `flags` (O_RDONLY/O_WRONLY/O_RDWR, O_APPEND,
    // O_TRUNC) for the regular file or directory of `node`, never a path.
    virtual Result<int> node_reopen(int node, int flags) = 0;
    virtual Result<std::vector<HostDirectoryEntry>> node_list_directory(int directory) = 0;
    virtual Result<std::string> node_read_link(int node) = 0;
    virtual Result<void> node_make_directory(int directory, const std::string& name,
                                             mode_t mode) = 0;
    // A symlink `name` holding `target` (text for the kernel to walk).
    virtual Result<void> node_make_symlink(int directory, const std::string& name,
                                           const std::string& target) = 0;
    // A hard link `name` in `directory` to the object of `node`.
    virtual Result<void> node_link(int node, int directory, const std::string& name) = 0;
    // unlink(2), or rmdir(2) when `is_directory`.
    virtual Result<void> node_unlink(int directory, const std::string& name, bool is_directory) = 0;
    virtual Result<void> node_rename(int from_directory, const std::string& from_name,
                                     int to_directory, const std::string& to_name) = 0;
    // Not for symlinks (Linux cannot change a link's mode: EOPNOTSUPP).
    virtual Result<void> node_chmod(int node, mode_t mode) = 0;
    // (uid_t)-1 / (gid_t)-1 keep a value; a symlink's own owner changes.
    virtual Result<void> node_chown(int node, uid_t uid, gid_t gid) = 0;
    // times: {atime, mtime} with UTIME_NOW / UTIME_OMIT as utimensat(2).
    virtual Result<void> node_set_times(int node, const struct timespec times[2]) = 0;

    // The host's canonical form of `path` (realpath(3): absolute, no ".",
    // "..", or symlink), for checking a path against the operator's list.
    virtual Result<std::string> path_canonical(const std::string& path) = 0;

    // --- Memory: the kernel's one reserved region and fixed-address images. ---
    // Reserves (PROT_NONE) `size` bytes anywhere.
    virtual Result<void*> memory_reserve(size_t size) = 0;
    // Makes [address, address+size) inside a reservation usable, zero-filled.
    virtual Result<void> memory_commit(void* address, size_t size, int protection) = 0;
    virtual Result<void> memory_protect(void* address, size_t size, int protection) = 0;
    // Returns pages to the host and makes them inaccessible (back to reserved).
    virtual Result<void> memory_decommit(void* address, size_t size) = 0;
    // Drops the bytes of committed private pages (madvise MADV_DONTNEED):
    // they read as zeros again, the host gets their memory back, and their
    // protection stays as it was.
    virtual Result<void> memory_discard(void* address, size_t size) = 0;
    // Moves the pages of [from, from+size) (one host mapping) to `to`,
    // replacing what was there, without copying them; `from` is reserved
    // again. A target that cannot gives ENOSYS (the caller copies).
    virtual Result<void> memory_move(void* from, void* to, size_t size) {
        (void)from, (void)to, (void)size;
        return Error(ENOSYS, "moving pages is not offered");
    }
    // Maps zeroed memory at exactly `address` if nothing is there (EEXIST if taken).
    virtual Result<void*> memory_map_at(void* address, size_t size, int protection) = 0;
    virtual Result<void> memory_unmap(void* address, size_t size) = 0;
    // Which pages of [address, address+size) hold data (mincore): one byte a
    // page, non-zero when resident. Pages never touched read as zero.
    virtual Result<void> memory_residency(void* address, size_t size, std::span<uint8_t> pages) = 0;
    // A hint that [address, address+size) (kernel memory about to be
    // filled, 2 MiB aligned) should be backed by huge pages and faulted in
    // now, in one call rather than a fault per 4 KiB page. Hosts that
    // cannot ignore it; the memory works either way.
    virtual void memory_prefer_huge_pages(void* address, size_t size) = 0;
    // Pages several mappings can share (MAP_SHARED files, SysV segments):
    // a host handle, closed with file_close, read and written with
    // file_pread/file_pwrite. `size` bytes, zero-filled.
    virtual Result<int> shared_memory_create(size_t size) = 0;
    // Grows or shrinks the pages (shrinking drops the bytes past `size`).
    virtual Result<void> shared_memory_resize(int handle, size_t size) = 0;
    // Maps [offset, offset+size) of the pages at exactly `address`,
    // replacing what was there (inside the reservation).
    virtual Result<void> shared_memory_map(void* address, size_t size, int protection, int handle,
                                           uint64_t offset) = 0;

    // --- Time, randomness, waiting. ---
    virtual Result<struct timespec> clock_time(clockid_t clock) = 0;
    // Sleeps on `clock` for `request` (until it, when `absolute`). Returns
    // EINTR when `interrupted` (EntryState::interrupted, may be null) is or
    // becomes set, with the time left in `remaining` for a relative sleep.
    virtual Result<void> sleep(clockid_t clock, bool absolute, const struct timespec& request,
                               struct timespec* remaining, const uint8_t* interrupted) = 0;
    virtual Result<void> random_bytes(std::span<uint8_t> buffer) = 0;
    // The host's vDSO image (for AT_SYSINFO_EHDR) or 0 when there is none.
    virtual uintptr_t vdso_address() = 0;

    // --- Readiness (DESIGN.md decision 7). A kernel object that can make
    // a program wait (a pipe, an eventfd...) keeps a host eventfd whose
    // readability mirrors its own readiness: a wait on many objects is one
    // host ppoll over their wake fds, and the kernel recomputes the real
    // readiness from the objects afterwards.
    // A new host eventfd (count 0: not readable), non-blocking and
    // close-on-exec.
    virtual Result<int> wake_fd_create() = 0;
    // Makes the wake fd readable (adds 1 to its count).
    virtual Result<void> wake_fd_set(int fd) = 0;
    // Makes the wake fd unreadable again (reads its count to 0).
    virtual Result<void> wake_fd_clear(int fd) = 0;
    // ppoll(2) over host fds without a signal mask: fills each revents and
    // returns how many are non-zero (0 when `timeout`, relative, may be
    // null for none, passes). EINTR when `interrupted` (see sleep) is or
    // becomes set.
    virtual Result<int> wait_for_readiness(std::span<struct pollfd> fds,
                                           const struct timespec* timeout,
                                           const uint8_t* interrupted) = 0;

    // --- Host sockets: AF_INET and AF_INET6 through the host's network
    // stack (AF_UNIX never reaches the host: the kernel serves it). Every
    // host socket is non-blocking and close-on-exec whatever the program
    // asked: where Linux would sleep these calls fail with EAGAIN (connect:
    // EINPROGRESS) and the kernel waits for the fd with wait_for_readiness,
    // without the kernel lock. Addresses are Linux's sockaddr bytes and
    // every buffer is kernel memory; errors are the host's errno. A socket
    // is closed with file_close.
    // socket(2); `type` is SOCK_STREAM or SOCK_DGRAM without flags.
    virtual Result<int> socket_create(int domain, int type, int protocol) = 0;
    virtual Result<void> socket_bind(int fd, std::span<const uint8_t> address) = 0;
    virtual Result<void> socket_listen(int fd, int backlog) = 0;
    // accept4(2): a new host socket (non-blocking, close-on-exec); the
    // peer's address goes to `address`, its full size (which may pass the
    // buffer's) to `address_size`.
    virtual Result<int> socket_accept(int fd, std::span<uint8_t> address,
                                      socklen_t& address_size) = 0;
    // connect(2): EINPROGRESS while a stream connection is under way.
    virtual Result<void> socket_connect(int fd, std::span<const uint8_t> address) = 0;
    // sendmsg(2)/recvmsg(2): every pointer in `message` (name, iovecs,
    // control) is kernel memory; recvmsg updates msg_namelen,
    // msg_controllen and msg_flags. MSG_DONTWAIT and MSG_NOSIGNAL are
    // always added (the kernel raises SIGPIPE itself). Returns the bytes
    // sent or received (received: the datagram's full size with MSG_TRUNC).
    virtual Result<size_t> socket_send(int fd, const struct msghdr& message, int flags) = 0;
    virtual Result<size_t> socket_receive(int fd, struct msghdr& message, int flags) = 0;
    // shutdown(2): SHUT_RD, SHUT_WR or SHUT_RDWR.
    virtual Result<void> socket_shutdown(int fd, int how) = 0;
    // getsockname(2) (`peer` false) or getpeername(2): fills `address` and
    // returns the address's full size (which may pass the buffer's).
    virtual Result<socklen_t> socket_address(int fd, bool peer, std::span<uint8_t> address) = 0;
    // getsockopt(2): fills `value`, returns the option's size.
    virtual Result<socklen_t> socket_get_option(int fd, int level, int name,
                                                std::span<uint8_t> value) = 0;
    // setsockopt(2).
    virtual Result<void> socket_set_option(int fd, int level, int name,
                                           std::span<const uint8_t> value) = 0;
    // FIONREAD (SIOCINQ): bytes waiting to be read.
    virtual Result<int> socket_bytes_readable(int fd) = 0;

    // --- CPUs. ---
    virtual unsigned cpu_count() = 0;  // CPUs the program may use, at least 1
    // The bytes of a CPU mask as the host's kernel counts them (what its
    // sched_getaffinity returns for a large buffer): whole longs.
    virtual unsigned cpu_mask_bytes() { return (cpu_count() + 63) / 64 * 8; }
    virtual void yield() = 0;

    // --- Futexes on program memory (one address space: the host's futex
    // serves them directly). Returns the host's result (woken count or 0).
    virtual Result<long> futex_wait(uint32_t* address, uint32_t expected,
                                    const struct timespec* relative_timeout) = 0;
    virtual Result<long> futex_wake(uint32_t* address, int count) = 0;
    // Any other futex(2) operation on program memory, passed to the host as
    // Linux defines it (operation includes FUTEX_PRIVATE_FLAG and
    // FUTEX_CLOCK_REALTIME; timeout is in kernel memory, relative or
    // absolute as the operation says; address2/value3 as the operation uses
    // them). A wait returns EINTR when `interrupted` (may be null; see
    // sleep) is or becomes set.
    virtual Result<long> futex(uint32_t* address, int operation, uint32_t value,
                               const struct timespec* timeout, uint32_t* address2, uint32_t value3,
                               const uint8_t* interrupted) = 0;

    // --- Threads. ---
    // Starts a host thread that runs `body` and ends when it returns. Its
    // own stack is small: the kernel runs on the entry's signal stack.
    virtual Result<void> thread_start(std::function<void()> body) = 0;
    // The calling host thread's id (for thread_interrupt).
    virtual pid_t thread_host_id() = 0;
    // Sends the entry's interrupt signal to a host thread of this process,
    // so that a blocking host call it makes returns EINTR.
    virtual Result<void> thread_interrupt(pid_t host_thread_id, int host_signal) = 0;
    // A memory barrier on every running thread of this process (the
    // host's membarrier PRIVATE_EXPEDITED).
    virtual Result<void> memory_barrier_all_threads() = 0;
    // Ends the whole host process at once (every thread) with `status`.
    [[noreturn]] virtual void process_exit(int status) = 0;

    // --- Diagnostics: one line to the host's stderr (strace, errors). ---
    virtual void write_diagnostic(std::string_view line) = 0;
};

}  // namespace myst

// The linux target: the Target interface served by host system calls, for
// running on Linux without a TEE (Mystikos's "linux" target).
#pragma once

#include <atomic>

#include "target/target.h"

namespace myst {

struct LinuxTargetOptions {
    // node_open_beneath uses openat2(2) (Linux 5.6) where the host has it;
    // false forces the walk one component at a time that replaces it when
    // openat2 is ENOSYS (MYST_NO_OPENAT2=1 for myst; tests run both).
    bool use_openat2 = true;
};

class LinuxTarget final : public Target {
public:
    explicit LinuxTarget(LinuxTargetOptions options = {}) : m_use_openat2(options.use_openat2) {}

    Result<int> file_open(const std::string& path, int flags, mode_t mode) override;
    Result<void> file_close(int fd) override;
    Result<size_t> file_read(int fd, std::span<uint8_t> buffer) override;
    Result<size_t> file_write(int fd, std::span<const uint8_t> data) override;
    Result<size_t> file_pread(int fd, std::span<uint8_t> buffer, uint64_t offset) override;
    Result<size_t> file_pwrite(int fd, std::span<const uint8_t> data, uint64_t offset) override;
    Result<struct stat> file_stat(int fd) override;
    Result<void> file_truncate(int fd, uint64_t size) override;
    Result<void> file_sync(int fd) override;
    Result<long> file_ioctl(int fd, unsigned long request, void* argument) override;

    Result<int> node_open_directory(const std::string& path) override;
    Result<int> node_open_beneath(int directory, const std::string& relative, int flags,
                                  mode_t mode) override;
    Result<int> node_reopen(int node, int flags) override;
    Result<std::vector<HostDirectoryEntry>> node_list_directory(int directory) override;
    Result<std::string> node_read_link(int node) override;
    Result<void> node_make_directory(int directory, const std::string& name, mode_t mode) override;
    Result<void> node_make_symlink(int directory, const std::string& name,
                                   const std::string& target) override;
    Result<void> node_link(int node, int directory, const std::string& name) override;
    Result<void> node_unlink(int directory, const std::string& name, bool is_directory) override;
    Result<void> node_rename(int from_directory, const std::string& from_name, int to_directory,
                             const std::string& to_name) override;
    Result<void> node_chmod(int node, mode_t mode) override;
    Result<void> node_chown(int node, uid_t uid, gid_t gid) override;
    Result<void> node_set_times(int node, const struct timespec times[2]) override;
    Result<std::string> path_canonical(const std::string& path) override;

    Result<void*> memory_reserve(size_t size) override;
    Result<void> memory_commit(void* address, size_t size, int protection) override;
    Result<void> memory_protect(void* address, size_t size, int protection) override;
    Result<void> memory_decommit(void* address, size_t size) override;
    Result<void> memory_discard(void* address, size_t size) override;
    Result<void> memory_move(void* from, void* to, size_t size) override;
    Result<void*> memory_map_at(void* address, size_t size, int protection) override;
    Result<void> memory_unmap(void* address, size_t size) override;
    Result<void> memory_residency(void* address, size_t size, std::span<uint8_t> pages) override;
    void memory_prefer_huge_pages(void* address, size_t size) override;
    Result<int> shared_memory_create(size_t size) override;
    Result<void> shared_memory_resize(int handle, size_t size) override;
    Result<void> shared_memory_map(void* address, size_t size, int protection, int handle,
                                   uint64_t offset) override;

    Result<struct timespec> clock_time(clockid_t clock) override;
    Result<void> sleep(clockid_t clock, bool absolute, const struct timespec& request,
                       struct timespec* remaining, const uint8_t* interrupted) override;
    Result<void> random_bytes(std::span<uint8_t> buffer) override;
    uintptr_t vdso_address() override;

    Result<int> wake_fd_create() override;
    Result<void> wake_fd_set(int fd) override;
    Result<void> wake_fd_clear(int fd) override;
    Result<int> wait_for_readiness(std::span<struct pollfd> fds, const struct timespec* timeout,
                                   const uint8_t* interrupted) override;

    Result<int> socket_create(int domain, int type, int protocol) override;
    Result<void> socket_bind(int fd, std::span<const uint8_t> address) override;
    Result<void> socket_listen(int fd, int backlog) override;
    Result<int> socket_accept(int fd, std::span<uint8_t> address, socklen_t& address_size) override;
    Result<void> socket_connect(int fd, std::span<const uint8_t> address) override;
    Result<size_t> socket_send(int fd, const struct msghdr& message, int flags) override;
    Result<size_t> socket_receive(int fd, struct msghdr& message, int flags) override;
    Result<void> socket_shutdown(int fd, int how) override;
    Result<socklen_t> socket_address(int fd, bool peer, std::span<uint8_t> address) override;
    Result<socklen_t> socket_get_option(int fd, int level, int name,
                                        std::span<uint8_t> value) override;
    Result<void> socket_set_option(int fd, int level, int name,
                                   std::span<const uint8_t> value) override;
    Result<int> socket_bytes_readable(int fd) override;

    unsigned cpu_count() override;
    unsigned cpu_mask_bytes() override;
    void yield() override;

    Result<long> futex_wait(uint32_t* address, uint32_t expected,
                            const struct timespec* relative_timeout) override;
    Result<long> futex_wake(uint32_t* address, int count) override;
    Result<long> futex(uint32_t* address, int operation, uint32_t value,
                       const struct timespec* timeout, uint32_t* address2, uint32_t value3,
                       const uint8_t* interrupted) override;
    Result<void> thread_start(std::function<void()> body) override;
    pid_t thread_host_id() override;
    Result<void> thread_interrupt(pid_t host_thread_id, int host_signal) override;
    Result<void> memory_barrier_all_threads() override;
    [[noreturn]] void process_exit(int status) override;

    void write_diagnostic(std::string_view line) override;

private:
    // Cleared for good when the host answers openat2 with ENOSYS.
    std::atomic<bool> m_use_openat2;
};

}  // namespace myst

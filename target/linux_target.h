// The linux target: the Target interface served by host system calls, for
// running on Linux without a TEE (Mystikos's "linux" target).
#pragma once

#include "target/target.h"

namespace myst {

class LinuxTarget final : public Target {
public:
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

    Result<struct stat> path_stat(const std::string& path, bool follow_symlinks) override;
    Result<std::vector<HostDirectoryEntry>> path_list_directory(const std::string& path) override;
    Result<std::string> path_read_link(const std::string& path) override;
    Result<void> path_make_directory(const std::string& path, mode_t mode) override;
    Result<void> path_remove_directory(const std::string& path) override;
    Result<void> path_unlink(const std::string& path) override;
    Result<void> path_rename(const std::string& from, const std::string& to) override;
    Result<void> path_symlink(const std::string& target, const std::string& path) override;
    Result<void> path_link(const std::string& existing, const std::string& path) override;
    Result<void> path_chmod(const std::string& path, mode_t mode) override;
    Result<void> path_chown(const std::string& path, uid_t uid, gid_t gid) override;
    Result<void> path_set_times(const std::string& path, const struct timespec times[2]) override;

    Result<void*> memory_reserve(size_t size) override;
    Result<void> memory_commit(void* address, size_t size, int protection) override;
    Result<void> memory_protect(void* address, size_t size, int protection) override;
    Result<void> memory_decommit(void* address, size_t size) override;
    Result<void*> memory_map_at(void* address, size_t size, int protection) override;
    Result<void> memory_unmap(void* address, size_t size) override;
    void memory_prefer_huge_pages(void* address, size_t size) override;

    Result<struct timespec> clock_time(clockid_t clock) override;
    Result<void> sleep(clockid_t clock, bool absolute, const struct timespec& request,
                       struct timespec* remaining, const uint8_t* interrupted) override;
    Result<void> random_bytes(std::span<uint8_t> buffer) override;
    uintptr_t vdso_address() override;

    unsigned cpu_count() override;
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
    [[noreturn]] void process_exit(int status) override;

    void write_diagnostic(std::string_view line) override;
};

}  // namespace myst

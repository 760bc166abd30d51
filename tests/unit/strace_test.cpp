// --strace lines (kernel/strace.h) for a thread of a fake kernel whose
// memory is a real MemoryManager: argument formats, strings read from
// program memory (escaped, cut, bad pointers), results and errors, calls the
// kernel lacks named as Linux names them, and the filters.
#include "kernel/strace.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "fs/ramfs/ramfs.h"
#include "fs/vfs/vfs.h"
#include "kernel/fs_context.h"
#include "kernel/ipc_namespace.h"
#include "kernel/kernel.h"
#include "kernel/memory_manager.h"
#include "kernel/pipe.h"
#include "kernel/process.h"
#include "kernel/process_table.h"
#include "kernel/shared_memory.h"
#include "kernel/syscall_table.h"
#include "kernel/thread.h"
#include "kernel/unix_names.h"
#include "target/linux_target.h"

namespace myst::kernel {
namespace {

// The linux target with its diagnostics kept instead of printed
// (LinuxTarget is final, so every call is passed on by hand).
class RecordingTarget final : public Target {
public:
    std::vector<std::string> lines;

    void write_diagnostic(std::string_view line) override { lines.emplace_back(line); }

    Result<int> file_open(const std::string& path, int flags, mode_t mode) override {
        return m_host.file_open(path, flags, mode);
    }
    Result<int> wake_fd_create() override { return m_host.wake_fd_create(); }
    Result<void> wake_fd_set(int fd) override { return m_host.wake_fd_set(fd); }
    Result<void> wake_fd_clear(int fd) override { return m_host.wake_fd_clear(fd); }
    Result<int> wait_for_readiness(std::span<struct pollfd> fds, const struct timespec* timeout,
                                   const uint8_t* interrupted) override {
        return m_host.wait_for_readiness(fds, timeout, interrupted);
    }
    Result<void> file_close(int fd) override { return m_host.file_close(fd); }
    Result<int> socket_create(int domain, int type, int protocol) override {
        return m_host.socket_create(domain, type, protocol);
    }
    Result<void> socket_bind(int fd, std::span<const uint8_t> address) override {
        return m_host.socket_bind(fd, address);
    }
    Result<void> socket_listen(int fd, int backlog) override {
        return m_host.socket_listen(fd, backlog);
    }
    Result<int> socket_accept(int fd, std::span<uint8_t> address,
                              socklen_t& address_size) override {
        return m_host.socket_accept(fd, address, address_size);
    }
    Result<void> socket_connect(int fd, std::span<const uint8_t> address) override {
        return m_host.socket_connect(fd, address);
    }
    Result<size_t> socket_send(int fd, const struct msghdr& message, int flags) override {
        return m_host.socket_send(fd, message, flags);
    }
    Result<size_t> socket_receive(int fd, struct msghdr& message, int flags) override {
        return m_host.socket_receive(fd, message, flags);
    }
    Result<void> socket_shutdown(int fd, int how) override {
        return m_host.socket_shutdown(fd, how);
    }
    Result<socklen_t> socket_address(int fd, bool peer, std::span<uint8_t> address) override {
        return m_host.socket_address(fd, peer, address);
    }
    Result<socklen_t> socket_get_option(int fd, int level, int name,
                                        std::span<uint8_t> value) override {
        return m_host.socket_get_option(fd, level, name, value);
    }
    Result<void> socket_set_option(int fd, int level, int name,
                                   std::span<const uint8_t> value) override {
        return m_host.socket_set_option(fd, level, name, value);
    }
    Result<int> socket_bytes_readable(int fd) override { return m_host.socket_bytes_readable(fd); }
    Result<size_t> file_read(int fd, std::span<uint8_t> buffer) override {
        return m_host.file_read(fd, buffer);
    }
    Result<size_t> file_write(int fd, std::span<const uint8_t> data) override {
        return m_host.file_write(fd, data);
    }
    Result<size_t> file_pread(int fd, std::span<uint8_t> buffer, uint64_t offset) override {
        return m_host.file_pread(fd, buffer, offset);
    }
    Result<size_t> file_pwrite(int fd, std::span<const uint8_t> data, uint64_t offset) override {
        return m_host.file_pwrite(fd, data, offset);
    }
    Result<struct stat> file_stat(int fd) override { return m_host.file_stat(fd); }
    Result<void> file_truncate(int fd, uint64_t size) override {
        return m_host.file_truncate(fd, size);
    }
    Result<void> file_sync(int fd) override { return m_host.file_sync(fd); }
    Result<long> file_ioctl(int fd, unsigned long request, void* argument) override {
        return m_host.file_ioctl(fd, request, argument);
    }
    Result<int> node_open_directory(const std::string& path) override {
        return m_host.node_open_directory(path);
    }
    Result<int> node_open_beneath(int directory, const std::string& relative, int flags,
                                  mode_t mode) override {
        return m_host.node_open_beneath(directory, relative, flags, mode);
    }
    Result<int> node_reopen(int node, int flags) override {
        return m_host.node_reopen(node, flags);
    }
    Result<std::vector<HostDirectoryEntry>> node_list_directory(int directory) override {
        return m_host.node_list_directory(directory);
    }
    Result<std::string> node_read_link(int node) override { return m_host.node_read_link(node); }
    Result<void> node_make_directory(int directory, const std::string& name, mode_t mode) override {
        return m_host.node_make_directory(directory, name, mode);
    }
    Result<void> node_make_symlink(int directory, const std::string& name,
                                   const std::string& target) override {
        return m_host.node_make_symlink(directory, name, target);
    }
    Result<void> node_link(int node, int directory, const std::string& name) override {
        return m_host.node_link(node, directory, name);
    }
    Result<void> node_unlink(int directory, const std::string& name, bool is_directory) override {
        return m_host.node_unlink(directory, name, is_directory);
    }
    Result<void> node_rename(int from_directory, const std::string& from_name, int to_directory,
                             const std::string& to_name) override {
        return m_host.node_rename(from_directory, from_name, to_directory, to_name);
    }
    Result<void> node_chmod(int node, mode_t mode) override {
        return m_host.node_chmod(node, mode);
    }
    Result<void> node_chown(int node, uid_t uid, gid_t gid) override {
        return m_host.node_chown(node, uid, gid);
    }
    Result<void> node_set_times(int node, const struct timespec times[2]) override {
        return m_host.node_set_times(node, times);
    }
    Result<std::string> path_canonical(const std::string& path) override {
        return m_host.path_canonical(path);
    }
    Result<void*> memory_reserve(size_t size) override { return m_host.memory_reserve(size); }
    Result<void> memory_commit(void* address, size_t size, int protection) override {
        return m_host.memory_commit(address, size, protection);
    }
    Result<void> memory_protect(void* address, size_t size, int protection) override {
        return m_host.memory_protect(address, size, protection);
    }
    Result<void> memory_decommit(void* address, size_t size) override {
        return m_host.memory_decommit(address, size);
    }
    Result<void> memory_move(void* from, void* to, size_t size) override {
        return m_host.memory_move(from, to, size);
    }
    Result<void> memory_discard(void* address, size_t size) override {
        return m_host.memory_discard(address, size);
    }
    Result<void*> memory_map_at(void* address, size_t size, int protection) override {
        return m_host.memory_map_at(address, size, protection);
    }
    Result<void> memory_residency(void* address, size_t size, std::span<uint8_t> pages) override {
        return m_host.memory_residency(address, size, pages);
    }
    Result<void> memory_unmap(void* address, size_t size) override {
        return m_host.memory_unmap(address, size);
    }
    void memory_prefer_huge_pages(void* address, size_t size) override {
        m_host.memory_prefer_huge_pages(address, size);
    }
    Result<int> shared_memory_create(size_t size) override {
        return m_host.shared_memory_create(size);
    }
    Result<void> shared_memory_resize(int handle, size_t size) override {
        return m_host.shared_memory_resize(handle, size);
    }
    Result<void> shared_memory_map(void* address, size_t size, int protection, int handle,
                                   uint64_t offset) override {
        return m_host.shared_memory_map(address, size, protection, handle, offset);
    }
    Result<struct timespec> clock_time(clockid_t clock) override {
        return m_host.clock_time(clock);
    }
    Result<void> sleep(clockid_t clock, bool absolute, const struct timespec& request,
                       struct timespec* remaining, const uint8_t* interrupted) override {
        return m_host.sleep(clock, absolute, request, remaining, interrupted);
    }
    Result<void> random_bytes(std::span<uint8_t> buffer) override {
        return m_host.random_bytes(buffer);
    }
    uintptr_t vdso_address() override { return m_host.vdso_address(); }
    unsigned cpu_count() override { return m_host.cpu_count(); }
    void yield() override { m_host.yield(); }
    Result<long> futex_wait(uint32_t* address, uint32_t expected,
                            const struct timespec* relative_timeout) override {
        return m_host.futex_wait(address, expected, relative_timeout);
    }
    Result<long> futex_wake(uint32_t* address, int count) override {
        return m_host.futex_wake(address, count);
    }
    Result<long> futex(uint32_t* address, int operation, uint32_t value,
                       const struct timespec* timeout, uint32_t* address2, uint32_t value3,
                       const uint8_t* interrupted) override {
        return m_host.futex(address, operation, value, timeout, address2, value3, interrupted);
    }
    Result<void> thread_start(std::function<void()> body) override {
        return m_host.thread_start(std::move(body));
    }
    pid_t thread_host_id() override { return m_host.thread_host_id(); }
    Result<void> thread_interrupt(pid_t host_thread_id, int host_signal) override {
        return m_host.thread_interrupt(host_thread_id, host_signal);
    }
    Result<void> memory_barrier_all_threads() override {
        return m_host.memory_barrier_all_threads();
    }
    [[noreturn]] void process_exit(int status) override { m_host.process_exit(status); }

private:
    LinuxTarget m_host;
};

fs::Clock fixed_clock() {
    return [] { return timespec{1000, 0}; };
}

class FakeKernel final : public Kernel {
public:
    FakeKernel(RecordingTarget& target, std::unique_ptr<MemoryManager> memory, StraceConfig strace)
        : m_target(target),
          m_vfs(fs::Vfs::create(fs::create_ramfs(fixed_clock()), fixed_clock()).release_value()),
          m_memory(std::move(memory)),
          m_strace(strace),
          m_shared_memory(target, *m_memory, fixed_clock()),
          m_ipc(target, *m_memory) {
        m_config.strace = std::move(strace);
    }

    Target& target() override { return m_target; }
    fs::Vfs& vfs() override { return *m_vfs; }
    MemoryManager& memory() override { return *m_memory; }
    Strace& strace() override { return m_strace; }
    const KernelConfig& config() const override { return m_config; }
    bool memory_accessible(uint64_t address, uint64_t size) override {
        return m_memory->is_accessible(address, size, true);
    }
    KernelLock& lock() override { return m_lock; }
    pid_t allocate_pid() override { return m_next_pid++; }
    SpaceId allocate_space() override { return m_next_space++; }
    ProcessTable& processes() override { return m_processes; }
    PipeRegistry& pipes() override { return m_pipes; }
    SharedMemoryRegistry& shared_memory() override { return m_shared_memory; }
    IpcNamespace& ipc() override { return m_ipc; }
    UnixNames& unix_names() override { return m_unix_names; }
    MemoryTurns& memory_turns() override { return m_memory_turns; }
    const std::shared_ptr<MemoryCharge>& mounted_image_caches() override {
        return m_mounted_image_caches;
    }

private:
    KernelLock m_lock;
    MemoryTurns m_memory_turns{*this};
    SpaceId m_next_space = first_space + 1;
    ProcessTable m_processes;
    PipeRegistry m_pipes{KernelConfig{}.pipe_buffer_limit};
    UnixNames m_unix_names;
    std::shared_ptr<MemoryCharge> m_mounted_image_caches =
        std::make_shared<CappedCharge>(nullptr, 0);
    pid_t m_next_pid = 11;
    RecordingTarget& m_target;
    std::unique_ptr<fs::Vfs> m_vfs;
    std::unique_ptr<MemoryManager> m_memory;
    Strace m_strace;
    SharedMemoryRegistry m_shared_memory;
    IpcNamespace m_ipc;
    KernelConfig m_config;
};

constexpr uint64_t at_fdcwd = static_cast<uint64_t>(-100);

class StraceTest : public ::testing::Test {
protected:
    void start(StraceConfig config) {
        auto memory = MemoryManager::create(m_target, 1 << 20);
        ASSERT_FALSE(memory.is_error()) << memory.error().message();
        m_kernel = std::make_unique<FakeKernel>(m_target, memory.release_value(), config);
        m_process = std::make_unique<Process>(7, 1, nullptr);
        m_thread = std::make_unique<Thread>(*m_kernel, *m_process, 10);
        // Two pages of program memory; the second is made inaccessible by
        // tests that need a string to run into a hole.
        auto page = m_kernel->memory().map_anywhere(2 * page_size, PROT_READ | PROT_WRITE, "");
        ASSERT_FALSE(page.is_error());
        m_page = page.value();
    }
    void SetUp() override { start({true, false, {}}); }

    // A NUL-terminated string in program memory at `offset` in the page.
    uint64_t user_string(const std::string& text, uint64_t offset = 0) {
        std::memcpy(reinterpret_cast<char*>(m_page + offset), text.c_str(), text.size() + 1);
        return m_page + offset;
    }

    // One full line, as dispatch would print it.
    std::string trace(long number, SyscallArgs args, long result) {
        Strace& strace = m_kernel->strace();
        std::string call = strace.format_call(*m_thread, number, find_syscall(number), args);
        m_target.lines.clear();
        strace.report(*m_thread, call, result);
        return m_target.lines.empty() ? "<nothing>" : m_target.lines.back();
    }

    RecordingTarget m_target;
    std::unique_ptr<FakeKernel> m_kernel;
    std::unique_ptr<Process> m_process;
    std::unique_ptr<Thread> m_thread;
    uint64_t m_page = 0;
};

TEST_F(StraceTest, OpenatLineAndErrors) {
    uint64_t path = user_string("/etc/motd");
    EXPECT_EQ(trace(SYS_openat, {{at_fdcwd, path, 0, 0}}, 3),
              "[pid 10] openat(AT_FDCWD, \"/etc/motd\", 0x0, 00) = 3");
    EXPECT_EQ(trace(SYS_openat, {{at_fdcwd, path, O_WRONLY | O_CREAT, 0644}}, -ENOENT),
              "[pid 10] openat(AT_FDCWD, \"/etc/motd\", 0x41, 0644) = -1 ENOENT (No such file or "
              "directory)");
    EXPECT_EQ(trace(SYS_openat, {{5, path, 0, 0}}, -EACCES),
              "[pid 10] openat(5, \"/etc/motd\", 0x0, 00) = -1 EACCES (Permission denied)");
    EXPECT_EQ(
        trace(SYS_read, {{3, m_page, 100}}, -EFAULT), "[pid 10] read(3, 0x" + [&] {
            char hex[32];
            std::snprintf(hex, sizeof hex, "%lx", m_page);
            return std::string(hex);
        }() + ", 100) = -1 EFAULT (Bad address)");
    EXPECT_EQ(trace(SYS_read, {{0, 0, 0}}, 0), "[pid 10] read(0, NULL, 0) = 0");
}

TEST_F(StraceTest, ResultsSmallInDecimalLargeInHex) {
    EXPECT_EQ(trace(SYS_getpid, {}, 7), "[pid 10] getpid() = 7");
    EXPECT_EQ(trace(SYS_getpid, {}, 0xffff), "[pid 10] getpid() = 65535");
    EXPECT_EQ(trace(SYS_brk, {{0}}, 0x7f0000001000), "[pid 10] brk(NULL) = 0x7f0000001000");
    // -4096 and below are not errors (addresses in the top of memory).
    EXPECT_EQ(trace(SYS_getpid, {}, -4096), "[pid 10] getpid() = -4096");
    // An errno without a name still prints.
    EXPECT_EQ(trace(SYS_getpid, {}, -4095),
              std::string("[pid 10] getpid() = -1 E? (") + std::strerror(4095) + ")");
}

TEST_F(StraceTest, ArgumentFormats) {
    // d: signed int; u: unsigned long; x: hex; o: octal; p: pointer or NULL; f: fd.
    EXPECT_EQ(trace(SYS_lseek, {{static_cast<uint64_t>(-1), static_cast<uint64_t>(-5), 2}}, -EBADF),
              "[pid 10] lseek(-1, -5, 2) = -1 EBADF (Bad file descriptor)");
    EXPECT_EQ(trace(SYS_mprotect, {{0x1000, 0x2000, 3}}, 0),
              "[pid 10] mprotect(0x1000, 0x2000, 0x3) = 0");
    EXPECT_EQ(trace(SYS_sched_getaffinity, {{0, 128, 0}}, 8),
              "[pid 10] sched_getaffinity(0, 128, NULL) = 8");
    EXPECT_EQ(trace(SYS_exit_group, {{static_cast<uint64_t>(-1)}}, 0),
              "[pid 10] exit_group(-1) = 0");
}

TEST_F(StraceTest, StringsAreEscapedAndCut) {
    uint64_t odd = user_string("a\"b\\c\nd\x01\x7f\xff");
    EXPECT_EQ(trace(SYS_openat, {{at_fdcwd, odd, 0, 0}}, 3),
              R"([pid 10] openat(AT_FDCWD, "a\"b\\c\nd\x01\x7f\xff", 0x0, 00) = 3)");
    EXPECT_EQ(trace(SYS_openat, {{at_fdcwd, user_string(""), 0, 0}}, -ENOENT),
              "[pid 10] openat(AT_FDCWD, \"\", 0x0, 00) = -1 ENOENT (No such file or directory)");

    // 64 characters are shown; longer strings are cut with "...".
    std::string exact(64, 'x');
    EXPECT_EQ(trace(SYS_openat, {{at_fdcwd, user_string(exact), 0, 0}}, 3),
              "[pid 10] openat(AT_FDCWD, \"" + exact + "\", 0x0, 00) = 3");
    std::string longer = std::string(64, 'y') + "zzz";
    EXPECT_EQ(trace(SYS_openat, {{at_fdcwd, user_string(longer), 0, 0}}, 3),
              "[pid 10] openat(AT_FDCWD, \"" + std::string(64, 'y') + "\"..., 0x0, 00) = 3");

    // A string that ends right before a hole is fine.
    ASSERT_FALSE(m_kernel->memory().protect(m_page + page_size, page_size, PROT_NONE).is_error());
    uint64_t edge = user_string("edge", page_size - 5);
    EXPECT_EQ(trace(SYS_openat, {{at_fdcwd, edge, 0, 0}}, 3),
              "[pid 10] openat(AT_FDCWD, \"edge\", 0x0, 00) = 3");
}

TEST_F(StraceTest, BadStringPointersPrintTheAddressInHex) {
    EXPECT_EQ(trace(SYS_openat, {{at_fdcwd, 0, 0, 0}}, -EFAULT),
              "[pid 10] openat(AT_FDCWD, NULL, 0x0, 00) = -1 EFAULT (Bad address)");
    EXPECT_EQ(trace(SYS_openat, {{at_fdcwd, 0x1000, 0, 0}}, -EFAULT),
              "[pid 10] openat(AT_FDCWD, 0x1000, 0x0, 00) = -1 EFAULT (Bad address)");
    // Running into an inaccessible page without a NUL.
    ASSERT_FALSE(m_kernel->memory().protect(m_page + page_size, page_size, PROT_NONE).is_error());
    std::memset(reinterpret_cast<void*>(m_page + page_size - 8), 'q', 8);
    char hex[32];
    std::snprintf(hex, sizeof hex, "0x%lx", m_page + page_size - 8);
    EXPECT_EQ(
        trace(SYS_openat, {{at_fdcwd, m_page + page_size - 8, 0, 0}}, -EFAULT),
        std::string("[pid 10] openat(AT_FDCWD, ") + hex + ", 0x0, 00) = -1 EFAULT (Bad address)");
}

TEST_F(StraceTest, CallsTheKernelLacksAreNamedAsLinuxNamesThem) {
    ASSERT_NE(linux_syscall_name(334), nullptr);
    EXPECT_STREQ(linux_syscall_name(334), "rseq");
    EXPECT_STREQ(linux_syscall_name(SYS_openat), "openat");
    EXPECT_STREQ(linux_syscall_name(0), "read");
    EXPECT_EQ(linux_syscall_name(-1), nullptr);
    EXPECT_EQ(linux_syscall_name(max_syscall_number), nullptr);
    EXPECT_EQ(linux_syscall_name(400), nullptr);  // a gap in the numbering

    ASSERT_NE(find_syscall(334), nullptr);
    EXPECT_EQ(find_syscall(334)->handler, nullptr) << "rseq got implemented: pick another call";
    EXPECT_EQ(trace(334, {{0x10, 0x20, 0, 0x53053053}}, -ENOSYS),
              "[pid 10] rseq(0x10, 0x20, 0x0, 0x53053053, 0x0, 0x0) = -1 ENOSYS (Function not "
              "implemented)");
    EXPECT_EQ(trace(400, {{1}}, -ENOSYS),
              "[pid 10] SYS_400(0x1, 0x0, 0x0, 0x0, 0x0, 0x0) = -1 ENOSYS (Function not "
              "implemented)");
    EXPECT_EQ(trace(100000, {}, -ENOSYS),
              "[pid 10] SYS_100000(0x0, 0x0, 0x0, 0x0, 0x0, 0x0) = -1 ENOSYS (Function not "
              "implemented)");
}

TEST_F(StraceTest, DispatchTracesCallsAndReportsMissingOnes) {
    m_target.lines.clear();
    EXPECT_EQ(dispatch_syscall(*m_thread, SYS_getpid, {}), 7);
    EXPECT_EQ(dispatch_syscall(*m_thread, 334, {{1, 2, 3, 4, 5, 6}}), -ENOSYS);
    ASSERT_EQ(m_target.lines.size(), 2u);
    EXPECT_EQ(m_target.lines[0], "[pid 10] getpid() = 7");
    EXPECT_EQ(m_target.lines[1],
              "[pid 10] rseq(0x1, 0x2, 0x3, 0x4, 0x5, 0x6) = -1 ENOSYS (Function not "
              "implemented)");
}

TEST_F(StraceTest, FiltersAndFailingOnly) {
    start({true, false, {"openat", "read"}});
    Strace& strace = m_kernel->strace();
    EXPECT_TRUE(strace.enabled());
    EXPECT_TRUE(strace.wants("openat"));
    EXPECT_TRUE(strace.wants("read"));
    EXPECT_FALSE(strace.wants("getpid"));
    EXPECT_FALSE(strace.wants("open"));  // exact names only
    m_target.lines.clear();
    EXPECT_EQ(dispatch_syscall(*m_thread, SYS_getpid, {}), 7);
    EXPECT_TRUE(m_target.lines.empty());
    // Missing calls are reported whatever the filter says.
    EXPECT_EQ(dispatch_syscall(*m_thread, 334, {}), -ENOSYS);
    ASSERT_EQ(m_target.lines.size(), 1u);
    EXPECT_EQ(m_target.lines[0].rfind("[pid 10] rseq(", 0), 0u);

    start({true, true, {}});
    EXPECT_EQ(trace(SYS_getpid, {}, 7), "<nothing>");
    EXPECT_EQ(trace(SYS_close, {{99}}, -EBADF),
              "[pid 10] close(99) = -1 EBADF (Bad file descriptor)");
    m_target.lines.clear();
    m_kernel->strace().report_no_return(*m_thread, "[pid 10] exit_group(0");
    EXPECT_TRUE(m_target.lines.empty());

    start({false, false, {}});
    EXPECT_FALSE(m_kernel->strace().enabled());
    EXPECT_FALSE(m_kernel->strace().wants("getpid"));
    m_target.lines.clear();
    EXPECT_EQ(dispatch_syscall(*m_thread, SYS_getpid, {}), 7);
    EXPECT_EQ(dispatch_syscall(*m_thread, 334, {}), -ENOSYS);
    EXPECT_TRUE(m_target.lines.empty());
}

TEST_F(StraceTest, CallsThatNeverReturn) {
    Strace& strace = m_kernel->strace();
    std::string call =
        strace.format_call(*m_thread, SYS_exit_group, find_syscall(SYS_exit_group), {{3}});
    m_target.lines.clear();
    strace.report_no_return(*m_thread, call);
    ASSERT_EQ(m_target.lines.size(), 1u);
    EXPECT_EQ(m_target.lines[0], "[pid 10] exit_group(3) = ?");
}

}  // namespace
}  // namespace myst::kernel

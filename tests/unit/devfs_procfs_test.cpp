// devfs (null, zero, full, urandom, the fd links) and procfs with a fake
// process table: self, exe, cmdline, status, maps, fd links that follow
// the open file even after unlink, mounts and meminfo.
#include <gtest/gtest.h>
#include <sys/sysmacros.h>

#include "fs/devfs/devfs.h"
#include "fs/procfs/procfs.h"
#include "fs/ramfs/ramfs.h"
#include "fs/vfs/vfs.h"
#include "kernel/fd_table.h"
#include "target/linux_target.h"
#include "tests/unit/fs_test_helpers.h"

namespace myst::fs {
namespace {

using test::error_code;

constexpr pid_t kPid = 42;

// One process (pid 42, parent 1) whose descriptors live in `fds`.
class FakeProcesses final : public ProcessInfo {
public:
    kernel::FdTable fds;

    pid_t current_pid() override { return kPid; }
    std::vector<pid_t> pids() override { return {1, kPid}; }
    Result<ProcessStatus> status(pid_t pid) override {
        TRY(check(pid));
        ProcessStatus st;
        st.name = "prog";
        st.pid = pid;
        st.parent_pid = 1;
        st.group_id = st.session_id = pid;
        st.uid = st.euid = st.suid = 0;
        st.threads = 2;
        st.virtual_memory_bytes = 8 << 20;
        return st;
    }
    Result<std::vector<pid_t>> thread_ids(pid_t pid) override {
        TRY(check(pid));
        return std::vector<pid_t>{pid, pid + 1};
    }
    Result<ProcessStatus> thread_status(pid_t pid, pid_t tid) override {
        ProcessStatus st = TRY(status(pid));
        if (tid != pid && tid != pid + 1)
            return Error(ESRCH, "no such thread");
        st.thread_id = tid;
        st.name = tid == pid ? "prog" : "worker";
        return st;
    }
    Result<std::string> executable_path(pid_t pid) override {
        TRY(check(pid));
        return std::string("/bin/prog");
    }
    Result<std::string> cwd_path(pid_t pid) override {
        TRY(check(pid));
        return std::string("/work");
    }
    Result<std::string> maps(pid_t pid) override {
        TRY(check(pid));
        return std::string("00400000-00401000 r-xp 00000000 00:10 7 /bin/prog\n");
    }
    Result<std::string> cmdline(pid_t pid) override {
        TRY(check(pid));
        return std::string("prog\0--flag\0", 12);
    }
    Result<std::string> environ(pid_t pid) override {
        TRY(check(pid));
        return std::string("HOME=/\0", 7);
    }
    Result<std::vector<int>> open_fds(pid_t pid) override {
        TRY(check(pid));
        return fds.open_fds();
    }
    Result<std::shared_ptr<OpenFile>> open_file(pid_t pid, int fd) override {
        TRY(check(pid));
        return fds.get(fd);
    }
    MemoryInfo memory_info() override { return {512ull << 20, 100ull << 20}; }
    SystemNames system_names() override {
        return {.hostname = hostname,
                .domainname = "(none)",
                .ostype = "Linux",
                .osrelease = "6.1.0-test",
                .version = "#1 test"};
    }
    std::string hostname = "enclave";

private:
    static Result<void> check(pid_t pid) {
        if (pid != kPid && pid != 1)
            return Error(ESRCH, "no such process");
        return {};
    }
};

// A pipe-like file: no path, reopened as a fresh description.
class FakePipe final : public OpenFile {
public:
    FakePipe() : OpenFile(O_RDONLY) {}
    Result<size_t> read(std::span<uint8_t> buffer) override {
        std::string_view text = m_done ? "" : "pipe data";
        m_done = true;
        std::copy(text.begin(), text.end(), buffer.begin());
        return text.size();
    }
    Result<struct stat> stat() override {
        struct stat st {};
        st.st_mode = S_IFIFO | 0600;
        st.st_ino = 7;
        return st;
    }
    std::string describe() const override { return "pipe:[7]"; }
    Result<std::shared_ptr<OpenFile>> reopen(int) override {
        return std::shared_ptr<OpenFile>(std::make_shared<FakePipe>());
    }

private:
    bool m_done = false;
};

class SpecialFsTest : public ::testing::Test {
protected:
    void SetUp() override {
        m_vfs = test::vfs_over_ramfs(m_clock);
        ASSERT_TRUE(m_vfs);
        for (const char* dir : {"/dev", "/proc", "/work"})
            ASSERT_FALSE(m_vfs->make_directory(at(), dir, 0755).is_error());
        ASSERT_FALSE(m_vfs->mount("/dev", create_devfs(m_target)).is_error());
        ASSERT_FALSE(
            m_vfs->mount("/proc", create_procfs(m_processes, *m_vfs, m_clock.clock())).is_error());
    }

    Lookup at() const { return m_vfs->root_lookup(); }
    std::shared_ptr<OpenFile> open(const std::string& path, int flags) {
        return test::open_file(*m_vfs, path, flags);
    }
    std::string link_of(const std::string& path) {
        auto text = m_vfs->read_link(at(), path);
        return text.is_error() ? "error " + std::to_string(text.error().code()) : text.value();
    }

    LinuxTarget m_target;
    test::ManualClock m_clock;
    FakeProcesses m_processes;
    std::unique_ptr<Vfs> m_vfs;
};

TEST_F(SpecialFsTest, MemoryDevices) {
    std::vector<uint8_t> buffer(4096, 0xaa);
    auto null = open("/dev/null", O_RDWR);
    EXPECT_EQ(null->read(buffer).value(), 0u);
    EXPECT_EQ(null->write(buffer).value(), buffer.size());
    EXPECT_EQ(null->stat().value().st_mode, S_IFCHR | 0666u);
    EXPECT_EQ(null->stat().value().st_rdev, makedev(1, 3));
    EXPECT_TRUE(null->is_stream());

    auto zero = open("/dev/zero", O_RDONLY);
    EXPECT_EQ(zero->read(buffer).value(), buffer.size());
    EXPECT_EQ(buffer, std::vector<uint8_t>(4096, 0));

    auto full = open("/dev/full", O_WRONLY);
    EXPECT_EQ(error_code(full->write(buffer)), ENOSPC);

    std::vector<uint8_t> first(64), second(64);
    auto urandom = open("/dev/urandom", O_RDONLY);
    ASSERT_EQ(urandom->read(first).value(), 64u);
    ASSERT_EQ(open("/dev/random", O_RDONLY)->read(second).value(), 64u);
    EXPECT_NE(first, second);
    EXPECT_NE(first, std::vector<uint8_t>(64, 0));

    // O_TRUNC and O_CREAT on an existing device are harmless.
    EXPECT_NE(open("/dev/null", O_WRONLY | O_CREAT | O_TRUNC), nullptr);
    EXPECT_EQ(error_code(m_vfs->open(at(), "/dev/newfile", O_CREAT | O_WRONLY, 0644)), EROFS);
    EXPECT_EQ(test::list_names(*m_vfs, "/dev").value(),
              (std::vector<std::string>{".", "..", "full", "null", "random", "urandom", "zero",
                                        "fd", "pts", "shm", "stderr", "stdin", "stdout"}));
    // /dev/shm is there to mount a ramfs on.
    EXPECT_FALSE(m_vfs->mount("/dev/shm", create_ramfs(m_clock.clock(), 01777)).is_error());
    EXPECT_FALSE(test::write_text(*m_vfs, "/dev/shm/segment", "shared").is_error());
}

TEST_F(SpecialFsTest, ProcessFiles) {
    EXPECT_EQ(link_of("/proc/self"), "42");
    EXPECT_EQ(link_of("/proc/self/exe"), "/bin/prog");
    EXPECT_EQ(link_of("/proc/42/cwd"), "/work");
    EXPECT_EQ(m_vfs->resolve(at(), "/proc/self/cwd").value()->to_string(), "/work");
    EXPECT_EQ(test::read_text(*m_vfs, "/proc/self/cmdline").value(),
              std::string("prog\0--flag\0", 12));
    EXPECT_EQ(test::read_text(*m_vfs, "/proc/42/environ").value(), std::string("HOME=/\0", 7));
    EXPECT_EQ(test::read_text(*m_vfs, "/proc/self/maps").value(),
              "00400000-00401000 r-xp 00000000 00:10 7 /bin/prog\n");
    EXPECT_EQ(test::read_text(*m_vfs, "/proc/self/comm").value(), "prog\n");
    std::string status = test::read_text(*m_vfs, "/proc/self/status").value();
    EXPECT_NE(status.find("Name:\tprog\n"), std::string::npos) << status;
    EXPECT_NE(status.find("\nPid:\t42\n"), std::string::npos) << status;
    EXPECT_NE(status.find("\nPPid:\t1\n"), std::string::npos) << status;
    EXPECT_NE(status.find("\nUid:\t0\t0\t0\t0\n"), std::string::npos) << status;
    EXPECT_NE(status.find("\nThreads:\t2\n"), std::string::npos) << status;
    std::string stat = test::read_text(*m_vfs, "/proc/42/stat").value();
    EXPECT_EQ(stat.rfind("42 (prog) R 1 42 42 0 -1 ", 0), 0u) << stat;
    EXPECT_EQ(std::count(stat.begin(), stat.end(), ' '), 51);  // 52 fields

    EXPECT_EQ(error_code(m_vfs->resolve(at(), "/proc/99")), ENOENT);
    EXPECT_EQ(error_code(m_vfs->resolve(at(), "/proc/042")), ENOENT);
    EXPECT_EQ(error_code(m_vfs->resolve(at(), "/proc/self/nothing")), ENOENT);
    EXPECT_EQ(error_code(m_vfs->open(at(), "/proc/self/status", O_WRONLY, 0)), EACCES);
    std::vector<std::string> top = test::list_names(*m_vfs, "/proc").value();
    EXPECT_EQ(top, (std::vector<std::string>{".", "..", "1", "42", "cpuinfo", "meminfo", "mounts",
                                             "self", "uptime", "sys"}));
    std::vector<std::string> own = test::list_names(*m_vfs, "/proc/self").value();
    EXPECT_NE(std::find(own.begin(), own.end(), "fd"), own.end());
    EXPECT_NE(std::find(own.begin(), own.end(), "maps"), own.end());

    std::string meminfo = test::read_text(*m_vfs, "/proc/meminfo").value();
    EXPECT_EQ(meminfo.rfind("MemTotal:         524288 kB\nMemFree:          102400 kB\n", 0), 0u)
        << meminfo;
    EXPECT_EQ(test::read_text(*m_vfs, "/proc/mounts").value(),
              "ramfs / ramfs rw 0 0\ndevtmpfs /dev devtmpfs rw 0 0\nproc /proc proc rw 0 0\n");
}

// /proc/sys/kernel tells what uname(2) tells, as it is when opened.
TEST_F(SpecialFsTest, SystemNames) {
    EXPECT_EQ(test::list_names(*m_vfs, "/proc/sys").value(),
              (std::vector<std::string>{".", "..", "kernel"}));
    EXPECT_EQ(test::list_names(*m_vfs, "/proc/sys/kernel").value(),
              (std::vector<std::string>{".", "..", "domainname", "hostname", "osrelease", "ostype",
                                        "version"}));
    EXPECT_EQ(test::read_text(*m_vfs, "/proc/sys/kernel/hostname").value(), "enclave\n");
    EXPECT_EQ(test::read_text(*m_vfs, "/proc/sys/kernel/ostype").value(), "Linux\n");
    EXPECT_EQ(test::read_text(*m_vfs, "/proc/sys/kernel/osrelease").value(), "6.1.0-test\n");
    EXPECT_EQ(test::read_text(*m_vfs, "/proc/sys/kernel/domainname").value(), "(none)\n");
    m_processes.hostname = "renamed";
    EXPECT_EQ(test::read_text(*m_vfs, "/proc/sys/kernel/hostname").value(), "renamed\n");
    EXPECT_EQ(error_code(m_vfs->resolve(at(), "/proc/sys/kernel/nope")), ENOENT);
    // Read-only: the names come from the config.
    EXPECT_TRUE(m_vfs->open(at(), "/proc/sys/kernel/hostname", O_WRONLY, 0).is_error());
}

// /proc/<pid>/task/<tid>/ shows each thread with its own id and name.
TEST_F(SpecialFsTest, TaskDirectories) {
    EXPECT_EQ(test::list_names(*m_vfs, "/proc/self/task").value(),
              (std::vector<std::string>{".", "..", "42", "43"}));
    EXPECT_EQ(test::list_names(*m_vfs, "/proc/42/task/43").value(),
              (std::vector<std::string>{".", "..", "comm", "stat", "status"}));
    EXPECT_EQ(test::read_text(*m_vfs, "/proc/self/task/43/comm").value(), "worker\n");
    std::string status = test::read_text(*m_vfs, "/proc/42/task/43/status").value();
    EXPECT_NE(status.find("Name:\tworker\n"), std::string::npos) << status;
    EXPECT_NE(status.find("\nTgid:\t42\n"), std::string::npos) << status;
    EXPECT_NE(status.find("\nPid:\t43\n"), std::string::npos) << status;
    EXPECT_EQ(test::read_text(*m_vfs, "/proc/42/task/42/stat").value().rfind("42 (prog) R 1 ", 0),
              0u);
    EXPECT_EQ(error_code(m_vfs->resolve(at(), "/proc/42/task/44")), ENOENT);
    EXPECT_EQ(error_code(m_vfs->resolve(at(), "/proc/42/task/x")), ENOENT);
}

TEST_F(SpecialFsTest, DescriptorLinks) {
    ASSERT_FALSE(test::write_text(*m_vfs, "/work/data", "payload").is_error());
    ASSERT_FALSE(m_processes.fds.install(0, open("/dev/null", O_RDONLY), false).is_error());
    ASSERT_FALSE(m_processes.fds.install(3, open("/work/data", O_RDONLY), false).is_error());

    EXPECT_EQ(test::list_names(*m_vfs, "/proc/self/fd").value(),
              (std::vector<std::string>{".", "..", "0", "3"}));
    EXPECT_EQ(link_of("/proc/self/fd/3"), "/work/data");
    EXPECT_EQ(link_of("/proc/42/fd/0"), "/dev/null");
    EXPECT_EQ(error_code(m_vfs->resolve(at(), "/proc/self/fd/7")), ENOENT);
    // /dev/stdin -> /proc/self/fd/0 -> the open file itself.
    EXPECT_EQ(link_of("/dev/stdin"), "/proc/self/fd/0");
    EXPECT_EQ(m_vfs->resolve(at(), "/dev/stdin").value()->to_string(), "/dev/null");
    EXPECT_EQ(m_vfs->resolve(at(), "/dev/fd/3").value()->to_string(), "/work/data");

    // A file without a path is opened again through its link.
    ASSERT_FALSE(m_processes.fds.install(5, std::make_shared<FakePipe>(), false).is_error());
    EXPECT_EQ(link_of("/proc/self/fd/5"), "pipe:[7]");
    EXPECT_EQ(test::read_text(*m_vfs, "/dev/fd/5").value(), "pipe data");
    auto pipe_node = m_vfs->resolve(at(), "/dev/fd/5");
    ASSERT_FALSE(pipe_node.is_error());
    EXPECT_TRUE(S_ISFIFO(pipe_node.value()->inode()->stat().value().st_mode));
    EXPECT_EQ(error_code(m_vfs->resolve(at(), "/dev/fd/5/x")), ENOTDIR);

    // After unlink the link says so, and opening it still reaches the file.
    ASSERT_FALSE(m_vfs->unlink(at(), "/work/data").is_error());
    EXPECT_EQ(link_of("/proc/self/fd/3"), "/work/data (deleted)");
    EXPECT_EQ(test::read_text(*m_vfs, "/proc/self/fd/3").value(), "payload");
    EXPECT_EQ(test::read_text(*m_vfs, "/dev/fd/3").value(), "payload");
}

}  // namespace
}  // namespace myst::fs

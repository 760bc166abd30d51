// The linux target's self-confinement (target/linux_confinement.h) on its
// own: each test confines a forked child, which reports by its exit status
// which of its checks failed, so the test process itself stays free.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <thread>

#include "target/linux_confinement.h"
#include "tests/unit/test_support.h"

namespace myst {
namespace {

// Runs `body` in a forked child; returns its exit status (255 when it died).
int in_child(const std::function<int()>& body) {
    pid_t child = ::fork();
    if (child == 0)
        ::_exit(body());
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

// -errno of a raw call, or its result.
long raw(long number, long a = 0, long b = 0, long c = 0) {
    long result = ::syscall(number, a, b, c);
    return result < 0 ? -errno : result;
}

TEST(LinuxConfinementTest, FilterAllowsTheTargetsCallsAndRefusesTheRest) {
    int failed = in_child([] {
        if (confine_host_syscalls().is_error())
            return 100;
        int failures = 0;
        auto expect = [&](bool ok, int bit) { failures |= ok ? 0 : 1 << bit; };
        expect(raw(SYS_getpid) == ::getpid(), 0);
        char* const argv[] = {const_cast<char*>("true"), nullptr};
        expect(raw(SYS_execve, reinterpret_cast<long>("/bin/true"), reinterpret_cast<long>(argv),
                   0) == -EPERM,
               1);
        expect(raw(SYS_socket, AF_UNIX, SOCK_STREAM, 0) == -EPERM, 2);
        long inet = raw(SYS_socket, AF_INET, SOCK_STREAM, 0);
        expect(inet >= 0, 3);
        // clone3 is ENOSYS so that glibc falls back to clone, which is
        // allowed for threads and nothing else.
        expect(raw(SYS_clone3, 0, 0) == -ENOSYS, 4);
        bool ran = false;
        std::thread([&] { ran = true; }).join();
        expect(ran, 5);
        expect(raw(SYS_fork) == -EPERM, 6);
        char c = 'x';
        expect(raw(SYS_ioctl, 0, TIOCSTI, reinterpret_cast<long>(&c)) == -EPERM, 7);
        expect(raw(SYS_prctl, PR_SET_DUMPABLE, 1) == -EPERM, 8);
        expect(raw(SYS_tgkill, ::getppid(), ::getppid(), 0) == -EPERM, 9);
        expect(raw(SYS_tgkill, ::getpid(), ::gettid(), 0) == 0, 10);
        expect(raw(SYS_ptrace, 0, 0, 0) == -EPERM, 11);
        expect(raw(SYS_mount, 0, 0, 0) == -EPERM, 12);
        return failures;
    });
    EXPECT_EQ(failed, 0) << "bit set = check failed (see the test body)";
}

TEST(LinuxConfinementTest, FilterChecksTheArchitectureFirst) {
    auto code = host_syscall_filter(1);
    ASSERT_GE(code.size(), 3u);
    EXPECT_EQ(code[0].k, offsetof(seccomp_data, arch));
    EXPECT_EQ(code.back().k, static_cast<uint32_t>(SECCOMP_RET_ERRNO | EPERM));
    EXPECT_LT(code.size(), 400u);  // a linear list stays short
}

TEST(LinuxConfinementTest, LandlockGrantsOnlyThePathsGiven) {
    if (landlock_abi_version() == 0)
        GTEST_SKIP() << "no Landlock on this host";
    test::TempDir dir;
    ASSERT_TRUE(dir.ok());
    ::mkdir(dir.path("read").c_str(), 0755);
    ::mkdir(dir.path("write").c_str(), 0755);
    ::mkdir(dir.path("outside").c_str(), 0755);
    test::write_file(dir.path("read/file"), "r");
    test::write_file(dir.path("outside/file"), "o");
    test::write_file(dir.path("single"), "s");
    int failed = in_child([&] {
        HostGrant grants[] = {
            {dir.path("read"), false}, {dir.path("write"), true}, {dir.path("single"), false}};
        auto confined = confine_host_files(grants);
        if (confined.is_error() || confined.value() != FileConfinement::enforced)
            return 100;
        int failures = 0;
        auto expect = [&](bool ok, int bit) { failures |= ok ? 0 : 1 << bit; };
        auto opens = [](const std::string& path, int flags) {
            int fd = ::open(path.c_str(), flags, 0644);
            if (fd < 0)
                return -errno;
            ::close(fd);
            return 0;
        };
        expect(opens(dir.path("read/file"), O_RDONLY) == 0, 0);
        expect(opens(dir.path("read/file"), O_WRONLY) == -EACCES, 1);
        expect(opens(dir.path("read/new"), O_WRONLY | O_CREAT) == -EACCES, 2);
        expect(opens(dir.path("write/new"), O_WRONLY | O_CREAT) == 0, 3);
        expect(::unlink(dir.path("write/new").c_str()) == 0, 4);
        expect(opens(dir.path("outside/file"), O_RDONLY) == -EACCES, 5);
        expect(opens("/etc/passwd", O_RDONLY) == -EACCES, 6);
        expect(opens(dir.path("single"), O_RDONLY) == 0, 7);
        expect(opens(dir.path("single"), O_WRONLY) == -EACCES, 8);
        return failures;
    });
    EXPECT_EQ(failed, 0) << "bit set = check failed (see the test body)";
}

TEST(LinuxConfinementTest, LandlockRefusesAProcessThatAlreadyHasThreads) {
    if (landlock_abi_version() == 0)
        GTEST_SKIP() << "no Landlock on this host";
    int failed = in_child([] {
        std::thread other([] { ::sleep(1); });
        auto confined = confine_host_files({});
        other.join();
        return confined.is_error() && confined.error().code() == EBUSY ? 0 : 1;
    });
    EXPECT_EQ(failed, 0);
}

}  // namespace
}  // namespace myst

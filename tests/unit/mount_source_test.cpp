// Which host paths a program may mount(2) (check_mountable): only what the
// operator listed, compared as canonical paths, so neither ".." nor a
// symlink inside a listed directory widens the list, and a refusal says
// nothing of what the host keeps at the path.
#include "kernel/mount_source.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "target/linux_target.h"
#include "tests/unit/fs_test_helpers.h"
#include "tests/unit/test_support.h"

namespace myst::kernel {
namespace {

using test::error_code;

class MountableTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(m_dir.ok());
        ASSERT_EQ(::mkdir(m_dir.path("images").c_str(), 0755), 0);
        ASSERT_EQ(::mkdir(m_dir.path("images2").c_str(), 0755), 0);
        test::write_file(m_dir.path("images/a.ext2"), "image");
        test::write_file(m_dir.path("images2/b.ext2"), "image");
        test::write_file(m_dir.path("secret"), "host secret");
        ASSERT_EQ(::symlink("/", m_dir.path("images/to_root").c_str()), 0);
        ASSERT_EQ(::symlink("../secret", m_dir.path("images/to_secret").c_str()), 0);
        ASSERT_EQ(::symlink("a.ext2", m_dir.path("images/alias.ext2").c_str()), 0);
        m_canonical = m_target.path_canonical(m_dir.path()).release_value();
        m_allowed = {m_canonical + "/images"};
    }
    Result<std::string> check(const std::string& path) {
        return check_mountable(m_target, m_allowed, path);
    }

    test::TempDir m_dir;
    LinuxTarget m_target;
    std::string m_canonical;
    std::vector<std::string> m_allowed;
};

TEST_F(MountableTest, ListedPathsAndWhatIsBeneathThem) {
    EXPECT_EQ(check(m_dir.path("images")).value(), m_canonical + "/images");
    EXPECT_EQ(check(m_dir.path("images/a.ext2")).value(), m_canonical + "/images/a.ext2");
    EXPECT_EQ(check(m_dir.path("images/./alias.ext2")).value(), m_canonical + "/images/a.ext2");
    // A missing path is ENOENT only where mounting is allowed.
    EXPECT_EQ(error_code(check(m_dir.path("images/missing.ext2"))), ENOENT);
    EXPECT_EQ(error_code(check(m_dir.path("missing.ext2"))), EPERM);
    EXPECT_EQ(error_code(check("/no/such/dir/image")), EPERM);
}

TEST_F(MountableTest, DotDotAndSymlinksDoNotWidenTheList) {
    EXPECT_EQ(error_code(check("/")), EPERM);
    EXPECT_EQ(error_code(check("/etc/passwd")), EPERM);
    EXPECT_EQ(error_code(check(m_dir.path("secret"))), EPERM);
    EXPECT_EQ(error_code(check(m_dir.path("images/../secret"))), EPERM);
    EXPECT_EQ(error_code(check(m_dir.path("images/to_root"))), EPERM);
    EXPECT_EQ(error_code(check(m_dir.path("images/to_root/etc/passwd"))), EPERM);
    EXPECT_EQ(error_code(check(m_dir.path("images/to_secret"))), EPERM);
    EXPECT_EQ(error_code(check(m_dir.path("images/to_root/no-such-file"))), EPERM);
    // A listed directory is not a prefix of its neighbours' names.
    EXPECT_EQ(error_code(check(m_dir.path("images2/b.ext2"))), EPERM);
    // The refusal names the path and nothing of what is there.
    auto refused = check("/etc/passwd");
    ASSERT_TRUE(refused.is_error());
    EXPECT_NE(refused.error().message().find("/etc/passwd"), std::string::npos);
    EXPECT_EQ(refused.error().message().find("byte"), std::string::npos);
}

TEST_F(MountableTest, NothingListedAllowsNothingAndSlashAllowsAll) {
    EXPECT_EQ(error_code(check_mountable(m_target, {}, m_dir.path("images/a.ext2"))), EPERM);
    EXPECT_EQ(check_mountable(m_target, {"/"}, "/etc/passwd").value(), "/etc/passwd");
}

// A tmpfs with size= holds that much (in whole pages) and no more, and
// takes it out of the budget below; a percentage is of the budget.
TEST(RamfsMountSource, SizeLimitsTheMountWithinTheBudget) {
    LinuxTarget target;
    int64_t charged = 0;
    MountSource source;
    source.type = MountType::ramfs;
    source.memory_charge = std::make_shared<test::CountingCharge>(charged, 1 << 20);
    source.ram_size_bytes = 5000;  // two pages
    auto filesystem = open_mount_source(target, source).release_value();
    EXPECT_EQ(filesystem->statfs().value().f_bfree, 2u);
    source.ram_size_bytes = 0;
    source.ram_size_percent = 50;
    EXPECT_EQ(open_mount_source(target, source).value()->statfs().value().f_bfree, 128u);
    source.ram_size_percent = 250;  // past the budget: the budget
    EXPECT_EQ(open_mount_source(target, source).value()->statfs().value().f_bfree, 256u);

    auto vfs = test::vfs_over(filesystem, test::ManualClock{});
    auto file = vfs->open(vfs->root_lookup(), "/f", O_RDWR | O_CREAT, 0600).release_value();
    std::vector<uint8_t> data(4 * 4096, 'x');
    // The entry takes 1 KiB of the two pages: one page of data fits.
    EXPECT_EQ(file->pwrite(data, 0).value(), 4096u);
    EXPECT_EQ(error_code(file->pwrite(data, 4096)), ENOSPC);
    EXPECT_EQ(charged, static_cast<int64_t>(4096 + fs::kRamfsEntryBytes));
}

}  // namespace
}  // namespace myst::kernel

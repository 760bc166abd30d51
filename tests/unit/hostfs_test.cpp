// hostfs over a scratch directory with the real linux target: reads and
// writes reach the host, and neither ".." nor host symlinks (absolute or
// relative) lead out of the mounted directory.
#include "fs/hostfs/hostfs.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/ramfs/ramfs.h"
#include "fs/vfs/vfs.h"
#include "target/linux_target.h"
#include "tests/unit/fs_test_helpers.h"
#include "tests/unit/test_support.h"

namespace myst::fs {
namespace {

using test::error_code;

class HostfsTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(m_dir.ok());
        // The mounted directory is host/; a secret sits next to it.
        ASSERT_EQ(::mkdir(m_dir.path("host").c_str(), 0755), 0);
        ASSERT_EQ(::mkdir(m_dir.path("host/sub").c_str(), 0755), 0);
        test::write_file(m_dir.path("host/hello"), "hello from the host\n");
        test::write_file(m_dir.path("host/sub/inner"), "inner\n");
        test::write_file(m_dir.path("secret"), "must not be reachable\n");
        ASSERT_EQ(::symlink(m_dir.path("secret").c_str(), m_dir.path("host/abs_escape").c_str()),
                  0);
        ASSERT_EQ(::symlink("../secret", m_dir.path("host/rel_escape").c_str()), 0);
        ASSERT_EQ(::symlink("/", m_dir.path("host/to_root").c_str()), 0);
        ASSERT_EQ(::symlink("../../../../../../..", m_dir.path("host/sub/way_up").c_str()), 0);
        ASSERT_EQ(::symlink("sub/inner", m_dir.path("host/inner_link").c_str()), 0);

        auto vfs = Vfs::create(create_ramfs(m_clock.clock()), m_clock.clock());
        ASSERT_FALSE(vfs.is_error());
        m_vfs = vfs.release_value();
        ASSERT_FALSE(m_vfs->make_directory(at(), "/mnt", 0755).is_error());
        ASSERT_FALSE(test::write_text(*m_vfs, "/marker", "kernel root").is_error());
        auto hostfs = create_hostfs(m_target, m_dir.path("host"));
        ASSERT_FALSE(hostfs.is_error()) << hostfs.error().message();
        m_hostfs = hostfs.release_value();
        ASSERT_FALSE(m_vfs->mount("/mnt", m_hostfs).is_error());
    }

    Lookup at() const { return m_vfs->root_lookup(); }
    std::string resolved(const std::string& path) {
        auto node = m_vfs->resolve(at(), path);
        return node.is_error() ? "error " + std::to_string(node.error().code())
                               : node.value()->to_string();
    }

    test::TempDir m_dir;
    LinuxTarget m_target;
    test::ManualClock m_clock;
    std::unique_ptr<Vfs> m_vfs;
    std::shared_ptr<FileSystem> m_hostfs;
};

TEST_F(HostfsTest, ReadsAndWritesReachTheHost) {
    EXPECT_EQ(test::read_text(*m_vfs, "/mnt/hello").value(), "hello from the host\n");
    EXPECT_EQ(test::read_text(*m_vfs, "/mnt/inner_link").value(), "inner\n");
    ASSERT_FALSE(test::write_text(*m_vfs, "/mnt/sub/new", "written inside\n").is_error());
    auto bytes = test::read_file(m_dir.path("host/sub/new"));
    EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "written inside\n");

    ASSERT_FALSE(
        test::write_text(*m_vfs, "/mnt/sub/new", "more\n", O_WRONLY | O_APPEND).is_error());
    EXPECT_EQ(test::read_text(*m_vfs, "/mnt/sub/new").value(), "written inside\nmore\n");
    auto file = m_vfs->open(at(), "/mnt/sub/new", O_RDWR, 0).release_value();
    ASSERT_FALSE(file->truncate(7).is_error());
    EXPECT_EQ(file->stat().value().st_size, 7);
    EXPECT_EQ(file->seek(0, SEEK_END).value(), 7u);

    ASSERT_FALSE(m_vfs->make_directory(at(), "/mnt/made", 0750).is_error());
    struct stat st {};
    ASSERT_EQ(::stat(m_dir.path("host/made").c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    ASSERT_FALSE(m_vfs->rename(at(), "/mnt/sub/new", at(), "/mnt/made/moved", 0).is_error());
    EXPECT_EQ(::access(m_dir.path("host/made/moved").c_str(), F_OK), 0);
    ASSERT_FALSE(
        m_vfs->make_link(m_vfs->resolve(at(), "/mnt/made/moved").value(), at(), "/mnt/made/hard")
            .is_error());
    EXPECT_EQ(m_vfs->resolve(at(), "/mnt/made/hard").value()->inode()->stat().value().st_nlink, 2u);
    ASSERT_FALSE(m_vfs->unlink(at(), "/mnt/made/moved").is_error());
    ASSERT_FALSE(m_vfs->unlink(at(), "/mnt/made/hard").is_error());
    ASSERT_FALSE(m_vfs->remove_directory(at(), "/mnt/made").is_error());
    EXPECT_NE(::access(m_dir.path("host/made").c_str(), F_OK), 0);

    ASSERT_FALSE(m_vfs->make_symlink("hello", at(), "/mnt/made_link").is_error());
    char target[64] = {};
    ASSERT_EQ(::readlink(m_dir.path("host/made_link").c_str(), target, sizeof(target)), 5);
    EXPECT_STREQ(target, "hello");
    EXPECT_EQ(test::read_text(*m_vfs, "/mnt/made_link").value(), "hello from the host\n");

    std::vector<std::string> names = test::list_names(*m_vfs, "/mnt/sub").value();
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{".", "..", "inner", "way_up"}));
    EXPECT_EQ(m_hostfs->root()->file_system().type_name(), "hostfs");
}

TEST_F(HostfsTest, DotDotNeverLeavesTheMount) {
    EXPECT_EQ(resolved("/mnt/.."), "/");
    EXPECT_EQ(resolved("/mnt/sub/../../marker"), "/marker");
    EXPECT_EQ(error_code(m_vfs->resolve(at(), "/mnt/../secret")), ENOENT);
    EXPECT_EQ(error_code(m_vfs->resolve(at(), "/mnt/sub/../../../secret")), ENOENT);
}

TEST_F(HostfsTest, HostSymlinksAreWalkedByTheKernel) {
    // The links come back as links with the host's text...
    EXPECT_EQ(m_vfs->read_link(at(), "/mnt/rel_escape").value(), "../secret");
    // ...and are resolved in the kernel's tree: none reaches the host secret.
    EXPECT_EQ(error_code(m_vfs->resolve(at(), "/mnt/rel_escape")), ENOENT);
    EXPECT_EQ(error_code(m_vfs->resolve(at(), "/mnt/abs_escape")), ENOENT);
    EXPECT_EQ(error_code(m_vfs->open(at(), "/mnt/abs_escape", O_RDONLY, 0)), ENOENT);
    EXPECT_EQ(resolved("/mnt/to_root"), "/");
    EXPECT_EQ(resolved("/mnt/to_root/marker"), "/marker");
    EXPECT_EQ(resolved("/mnt/sub/way_up"), "/");
    EXPECT_EQ(test::read_text(*m_vfs, "/mnt/sub/way_up/marker").value(), "kernel root");
    // Creating through a link that points out lands in the kernel's tree.
    ASSERT_FALSE(test::write_text(*m_vfs, "/mnt/to_root/created", "x").is_error());
    EXPECT_EQ(test::read_text(*m_vfs, "/created").value(), "x");
    EXPECT_NE(::access((m_dir.path("created")).c_str(), F_OK), 0);
    // The file system never takes a path, only checked names.
    std::shared_ptr<Inode> root = m_hostfs->root();
    EXPECT_EQ(error_code(root->lookup("..")), EINVAL);
    EXPECT_EQ(error_code(root->lookup("sub/inner")), EINVAL);
    EXPECT_EQ(error_code(root->create("../escape", {S_IFREG | 0644, 0, 0, 0})), EINVAL);
    EXPECT_NE(::access((m_dir.path("escape")).c_str(), F_OK), 0);
    // A host symlink is a link inode with no contents of its own.
    auto link = root->lookup("abs_escape");
    ASSERT_FALSE(link.is_error());
    EXPECT_TRUE(link.value()->is_symlink());
    std::vector<uint8_t> buffer(16);
    EXPECT_EQ(error_code(link.value()->read_at(0, buffer)), EINVAL);
}

TEST_F(HostfsTest, MountErrors) {
    EXPECT_EQ(error_code(create_hostfs(m_target, m_dir.path("missing"))), ENOENT);
    EXPECT_EQ(error_code(create_hostfs(m_target, m_dir.path("secret"))), ENOTDIR);
    EXPECT_EQ(error_code(create_hostfs(m_target, "relative/dir")), EINVAL);
}

}  // namespace
}  // namespace myst::fs

// hostfs over a scratch directory with the real linux target: reads and
// writes reach the host, and neither ".." nor host symlinks (absolute or
// relative) nor renaming a directory and planting a symlink at its old name
// lead out of the mounted directory. Every test runs twice: with openat2
// and with the target's walk for hosts without it.
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

class HostfsTest : public ::testing::TestWithParam<bool> {
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
    LinuxTarget m_target{LinuxTargetOptions{.use_openat2 = GetParam()}};
    test::ManualClock m_clock;
    std::unique_ptr<Vfs> m_vfs;
    std::shared_ptr<FileSystem> m_hostfs;
};

TEST_P(HostfsTest, ReadsAndWritesReachTheHost) {
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

TEST_P(HostfsTest, DotDotNeverLeavesTheMount) {
    EXPECT_EQ(resolved("/mnt/.."), "/");
    EXPECT_EQ(resolved("/mnt/sub/../../marker"), "/marker");
    EXPECT_EQ(error_code(m_vfs->resolve(at(), "/mnt/../secret")), ENOENT);
    EXPECT_EQ(error_code(m_vfs->resolve(at(), "/mnt/sub/../../../secret")), ENOENT);
}

TEST_P(HostfsTest, HostSymlinksAreWalkedByTheKernel) {
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

TEST_P(HostfsTest, MountErrors) {
    EXPECT_EQ(error_code(create_hostfs(m_target, m_dir.path("missing"))), ENOENT);
    EXPECT_EQ(error_code(create_hostfs(m_target, m_dir.path("secret"))), ENOTDIR);
    EXPECT_EQ(error_code(create_hostfs(m_target, "relative/dir")), EINVAL);
}

// The hardening issue's escape: a directory held open (a dirfd, the cwd, an
// inode) is renamed and a symlink out of the mount is planted at its old
// name. The held directory must stay the renamed one, as on Linux, and no
// operation may follow the planted link on the host.
TEST_P(HostfsTest, RenamedDirectoryIsNotReplacedByAPlantedSymlink) {
    ASSERT_EQ(::mkdir(m_dir.path("outside").c_str(), 0755), 0);
    test::write_file(m_dir.path("outside/passwd"), "host secret\n");
    ASSERT_EQ(::mkdir(m_dir.path("host/d").c_str(), 0755), 0);
    test::write_file(m_dir.path("host/d/file"), "inside\n");
    PathRef dir = m_vfs->resolve(at(), "/mnt/d").release_value();
    PathRef file = m_vfs->resolve(at(), "/mnt/d/file").release_value();
    ASSERT_FALSE(m_vfs->rename(at(), "/mnt/d", at(), "/mnt/d2", 0).is_error());
    ASSERT_EQ(::symlink(m_dir.path("outside").c_str(), m_dir.path("host/d").c_str()), 0);
    test::write_file(m_dir.path("outside/file"), "outside\n");

    Lookup from_dir{at().root, dir, {}};
    EXPECT_EQ(error_code(m_vfs->open(from_dir, "passwd", O_RDONLY, 0)), ENOENT);
    EXPECT_EQ(error_code(m_vfs->resolve(from_dir, "passwd")), ENOENT);
    EXPECT_EQ(test::read_text(*m_vfs, "/mnt/d2/file").value(), "inside\n");
    std::shared_ptr<Inode> d = dir->inode();
    EXPECT_EQ(error_code(d->lookup("passwd")), ENOENT);
    EXPECT_EQ(error_code(d->unlink("passwd")), ENOENT);
    EXPECT_EQ(error_code(d->rename("passwd", *d, "moved")), ENOENT);
    std::vector<std::string> names;
    ASSERT_FALSE(d->read_directory(0, [&](const DirectoryEntry& e) {
                      names.push_back(e.name);
                      return true;
                  }).is_error());
    EXPECT_EQ(names, std::vector<std::string>{"file"});

    // What is made through the held directory lands in d2.
    ASSERT_FALSE(m_vfs->open(from_dir, "created", O_CREAT | O_WRONLY, 0644).is_error());
    ASSERT_FALSE(d->create("made", {S_IFDIR | 0755, 0, 0, 0}).is_error());
    ASSERT_FALSE(d->create_symlink("link", "file", {S_IFLNK | 0777, 0, 0, 0}).is_error());
    ASSERT_FALSE(d->link("hard", file->inode()).is_error());
    for (const char* name : {"created", "made", "link", "hard"}) {
        EXPECT_EQ(::access(m_dir.path(std::string("host/d2/") + name).c_str(), F_OK), 0) << name;
        EXPECT_NE(::access(m_dir.path(std::string("outside/") + name).c_str(), F_OK), 0) << name;
    }
    ASSERT_FALSE(d->unlink("hard").is_error());
    ASSERT_FALSE(d->remove_directory("made").is_error());
    EXPECT_NE(::access(m_dir.path("host/d2/made").c_str(), F_OK), 0);

    // Attributes of the held directory and file are theirs, not the link's.
    struct stat before {};
    ASSERT_EQ(::stat(m_dir.path("outside").c_str(), &before), 0);
    ASSERT_FALSE(d->chmod(0700).is_error());
    const struct timespec times[2] = {{1000, 0}, {2000, 0}};
    ASSERT_FALSE(d->set_times(times).is_error());
    struct stat st {};
    ASSERT_EQ(::stat(m_dir.path("host/d2").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    EXPECT_EQ(st.st_mtime, 2000);
    EXPECT_EQ(d->stat().value().st_ino, st.st_ino);
    struct stat after {};
    ASSERT_EQ(::stat(m_dir.path("outside").c_str(), &after), 0);
    EXPECT_EQ(after.st_mode, before.st_mode);
    EXPECT_EQ(after.st_mtime, before.st_mtime);

    std::shared_ptr<Inode> f = file->inode();
    std::vector<uint8_t> buffer(16);
    EXPECT_EQ(f->read_at(0, buffer).value(), 7u);
    EXPECT_EQ(std::string(buffer.begin(), buffer.begin() + 7), "inside\n");
    ASSERT_FALSE(f->truncate(3).is_error());
    ASSERT_FALSE(f->chmod(0600).is_error());
    auto opened = m_vfs->open(from_dir, "file", O_WRONLY | O_APPEND, 0);
    ASSERT_FALSE(opened.is_error());
    ASSERT_FALSE(opened.value()->write(std::span<const uint8_t>(buffer.data(), 2)).is_error());
    EXPECT_EQ(test::read_text(*m_vfs, "/mnt/d2/file").value(), "insin");
    // By path, the planted link is walked by the kernel, in its own tree.
    EXPECT_EQ(error_code(m_vfs->resolve(at(), "/mnt/d/file")), ENOENT);
    EXPECT_EQ(test::read_file(m_dir.path("outside/file")).size(), 8u);
}

// The target's own rule, below hostfs: nothing it opens beneath a
// directory node is outside it, whatever the relative path says.
TEST_P(HostfsTest, TargetOpensOnlyBeneathTheDirectory) {
    int root = m_target.node_open_directory(m_dir.path("host")).release_value();
    auto code = [&](const std::string& relative, int flags) {
        auto fd = m_target.node_open_beneath(root, relative, flags, 0644);
        if (fd.is_error())
            return fd.error().code();
        (void)m_target.file_close(fd.value());
        return 0;
    };
    EXPECT_EQ(code("hello", O_RDONLY), 0);
    EXPECT_EQ(code("sub/inner", O_RDONLY), 0);
    EXPECT_EQ(code("sub/../hello", O_RDONLY), 0);
    EXPECT_EQ(code("./sub/./inner", O_RDONLY), 0);
    EXPECT_EQ(code("sub/..", O_RDONLY | O_DIRECTORY), 0);
    EXPECT_EQ(code("../secret", O_RDONLY), EXDEV);
    EXPECT_EQ(code("sub/../../secret", O_RDONLY), EXDEV);
    EXPECT_EQ(code(m_dir.path("secret"), O_RDONLY), EXDEV);
    EXPECT_EQ(code("abs_escape", O_RDONLY), ELOOP);
    EXPECT_EQ(code("rel_escape", O_RDONLY), ELOOP);
    EXPECT_EQ(code("inner_link", O_RDONLY), ELOOP);
    EXPECT_EQ(code("to_root/etc/passwd", O_RDONLY), ELOOP);
    EXPECT_EQ(code("abs_escape", O_PATH | O_NOFOLLOW), 0);  // the link itself
    EXPECT_EQ(code("", O_RDONLY), ENOENT);
    EXPECT_EQ(code("to_root/escape", O_CREAT | O_EXCL | O_WRONLY), ELOOP);
    EXPECT_EQ(code("../escape", O_CREAT | O_EXCL | O_WRONLY), EXDEV);
    EXPECT_NE(::access(m_dir.path("escape").c_str(), F_OK), 0);
    // Calls that take a name take one component only.
    EXPECT_EQ(error_code(m_target.node_make_directory(root, "../escape", 0755)), EINVAL);
    EXPECT_EQ(error_code(m_target.node_make_symlink(root, "sub/x", "y")), EINVAL);
    EXPECT_EQ(error_code(m_target.node_unlink(root, "..", true)), EINVAL);
    EXPECT_EQ(error_code(m_target.node_rename(root, "hello", root, "../moved")), EINVAL);
    EXPECT_EQ(::access(m_dir.path("host/hello").c_str(), F_OK), 0);
    (void)m_target.file_close(root);
}

INSTANTIATE_TEST_SUITE_P(OpenPaths, HostfsTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) {
                             return info.param ? "openat2" : "walk";
                         });

}  // namespace
}  // namespace myst::fs

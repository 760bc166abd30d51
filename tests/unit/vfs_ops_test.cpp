// VFS operations on ramfs with the errno cases of their man pages: open
// flags, mkdir/rmdir/unlink, rename rules, hard links, unlink while open,
// permissions for non-root callers, attribute changes and open_executable.
#include <gtest/gtest.h>
#include <stdio.h>
#include <unistd.h>

#include "fs/ramfs/ramfs.h"
#include "fs/vfs/vfs.h"
#include "kernel/elf_loader.h"
#include "kernel/fs_context.h"
#include "tests/unit/fs_test_helpers.h"

namespace myst::fs {
namespace {

using test::error_code;

class OpsTest : public ::testing::Test {
protected:
    void SetUp() override {
        m_vfs = test::vfs_over_ramfs(m_clock);
        ASSERT_TRUE(m_vfs);
        ASSERT_FALSE(m_vfs->make_directory(at(), "/dir", 0755).is_error());
        ASSERT_FALSE(m_vfs->make_directory(at(), "/dir/sub", 0755).is_error());
        ASSERT_FALSE(test::write_text(*m_vfs, "/dir/file", "content").is_error());
        ASSERT_FALSE(m_vfs->make_directory(at(), "/mnt", 0755).is_error());
        ASSERT_FALSE(m_vfs->mount("/mnt", create_ramfs(m_clock.clock())).is_error());
    }

    Lookup at() const { return m_vfs->root_lookup(); }
    Lookup user_at() const {
        Lookup lookup = m_vfs->root_lookup();
        lookup.identity = {1000, 1000};
        return lookup;
    }
    struct stat stat_of(const std::string& path, bool follow = true) {
        return test::stat_of(*m_vfs, path, follow);
    }
    bool exists(const std::string& path) { return !m_vfs->resolve(at(), path, false).is_error(); }
    int open_error(const std::string& path, int flags, const Lookup& lookup) {
        return error_code(m_vfs->open(lookup, path, flags, 0644));
    }
    int open_error(const std::string& path, int flags) { return open_error(path, flags, at()); }

    test::ManualClock m_clock;
    std::unique_ptr<Vfs> m_vfs;
};

TEST_F(OpsTest, OpenFlags) {
    EXPECT_EQ(open_error("/new", O_CREAT | O_EXCL | O_WRONLY), 0);
    EXPECT_EQ(open_error("/new", O_CREAT | O_EXCL | O_WRONLY), EEXIST);
    EXPECT_EQ(open_error("/missing", O_RDONLY), ENOENT);
    EXPECT_EQ(open_error("/missing/x", O_CREAT | O_WRONLY), ENOENT);
    EXPECT_EQ(open_error("/dir/file", O_RDONLY | O_DIRECTORY), ENOTDIR);
    EXPECT_EQ(open_error("/dir", O_WRONLY), EISDIR);
    EXPECT_EQ(open_error("/dir", O_RDONLY | O_TRUNC), EISDIR);
    EXPECT_EQ(open_error("/dir", O_CREAT | O_RDONLY), EISDIR);
    EXPECT_EQ(open_error("/newdir/", O_CREAT | O_WRONLY), EISDIR);
    EXPECT_EQ(open_error("/dir/file/", O_RDONLY), ENOTDIR);
    EXPECT_EQ(open_error("/dir", O_RDONLY | O_DIRECTORY), 0);
    EXPECT_EQ(open_error("/x", O_CREAT | O_DIRECTORY | O_RDWR), EINVAL);
    EXPECT_EQ(open_error("/x", O_TMPFILE | O_RDWR), EOPNOTSUPP);

    // O_TRUNC empties, O_APPEND writes at the end whatever the offset.
    ASSERT_FALSE(test::write_text(*m_vfs, "/dir/file", "12345").is_error());
    auto appender = m_vfs->open(at(), "/dir/file", O_WRONLY | O_APPEND, 0).release_value();
    auto other = m_vfs->open(at(), "/dir/file", O_WRONLY, 0).release_value();
    ASSERT_EQ(other->write({reinterpret_cast<const uint8_t*>("ab"), 2}).value(), 2u);
    ASSERT_EQ(appender->write({reinterpret_cast<const uint8_t*>("XY"), 2}).value(), 2u);
    EXPECT_EQ(test::read_text(*m_vfs, "/dir/file").value(), "ab345XY");
    EXPECT_EQ(appender->seek(0, SEEK_CUR).value(), 7u);
    EXPECT_EQ(appender->flags() & O_ACCMODE, O_WRONLY);
    EXPECT_TRUE(appender->flags() & O_APPEND);
    ASSERT_FALSE(m_vfs->open(at(), "/dir/file", O_WRONLY | O_TRUNC, 0).is_error());
    EXPECT_EQ(stat_of("/dir/file").st_size, 0);
}

TEST_F(OpsTest, CreatingThroughSymlinks) {
    ASSERT_FALSE(m_vfs->make_symlink("/dir/target", at(), "/dangling").is_error());
    // O_CREAT follows a dangling link and creates where it points...
    EXPECT_EQ(open_error("/dangling", O_CREAT | O_WRONLY), 0);
    EXPECT_TRUE(exists("/dir/target"));
    // ...but O_EXCL never follows, and O_NOFOLLOW refuses the link.
    EXPECT_EQ(open_error("/dangling", O_CREAT | O_EXCL | O_WRONLY), EEXIST);
    EXPECT_EQ(open_error("/dangling", O_RDONLY | O_NOFOLLOW), ELOOP);
    EXPECT_EQ(open_error("/dangling", O_CREAT | O_WRONLY | O_NOFOLLOW), ELOOP);
    // O_PATH | O_NOFOLLOW opens the link itself.
    auto link = m_vfs->open(at(), "/dangling", O_PATH | O_NOFOLLOW, 0);
    ASSERT_FALSE(link.is_error());
    EXPECT_TRUE(link.value()->inode()->is_symlink());
    EXPECT_FALSE(link.value()->can_read());
    EXPECT_EQ(link.value()->flags(), O_PATH);
    // O_PATH ignores creation and truncation.
    EXPECT_EQ(open_error("/not_there", O_PATH | O_CREAT), ENOENT);
    EXPECT_EQ(open_error("/dir/file", O_PATH | O_TRUNC | O_WRONLY), 0);
    EXPECT_EQ(stat_of("/dir/file").st_size, 7);
}

TEST_F(OpsTest, MakeAndRemoveDirectories) {
    EXPECT_EQ(error_code(m_vfs->make_directory(at(), "/dir", 0755)), EEXIST);
    EXPECT_EQ(error_code(m_vfs->make_directory(at(), "/dir/file", 0755)), EEXIST);
    EXPECT_EQ(error_code(m_vfs->make_directory(at(), "/dir/.", 0755)), EEXIST);
    EXPECT_EQ(error_code(m_vfs->make_directory(at(), "/", 0755)), EEXIST);
    EXPECT_EQ(error_code(m_vfs->make_directory(at(), "/nope/x", 0755)), ENOENT);
    EXPECT_EQ(error_code(m_vfs->make_directory(at(), "/dir/file/x", 0755)), ENOTDIR);
    EXPECT_EQ(error_code(m_vfs->make_directory(at(), "/trailing/", 0755)), 0);
    EXPECT_EQ(stat_of("/trailing").st_mode, S_IFDIR | 0755u);

    EXPECT_EQ(error_code(m_vfs->remove_directory(at(), "/dir")), ENOTEMPTY);
    EXPECT_EQ(error_code(m_vfs->remove_directory(at(), "/dir/file")), ENOTDIR);
    EXPECT_EQ(error_code(m_vfs->remove_directory(at(), "/dir/.")), EINVAL);
    EXPECT_EQ(error_code(m_vfs->remove_directory(at(), "/dir/sub/..")), ENOTEMPTY);
    EXPECT_EQ(error_code(m_vfs->remove_directory(at(), "/")), EBUSY);
    EXPECT_EQ(error_code(m_vfs->remove_directory(at(), "/mnt")), EBUSY);
    EXPECT_EQ(error_code(m_vfs->remove_directory(at(), "/missing")), ENOENT);
    EXPECT_EQ(error_code(m_vfs->remove_directory(at(), "/dir/sub")), 0);
    EXPECT_FALSE(exists("/dir/sub"));

    EXPECT_EQ(error_code(m_vfs->unlink(at(), "/dir")), EISDIR);
    EXPECT_EQ(error_code(m_vfs->unlink(at(), "/dir/file/")), ENOTDIR);
    EXPECT_EQ(error_code(m_vfs->unlink(at(), "/missing")), ENOENT);
    EXPECT_EQ(error_code(m_vfs->unlink(at(), "/dir/file")), 0);
    EXPECT_FALSE(exists("/dir/file"));
}

TEST_F(OpsTest, RenameRules) {
    ASSERT_FALSE(test::write_text(*m_vfs, "/a", "A").is_error());
    ASSERT_FALSE(test::write_text(*m_vfs, "/b", "B").is_error());
    ASSERT_FALSE(m_vfs->make_directory(at(), "/empty", 0755).is_error());
    auto rename = [&](const char* from, const char* to, unsigned flags = 0) {
        return error_code(m_vfs->rename(at(), from, at(), to, flags));
    };
    EXPECT_EQ(rename("/a", "/b", RENAME_NOREPLACE), EEXIST);
    EXPECT_EQ(rename("/a", "/b"), 0);  // replaces
    EXPECT_EQ(test::read_text(*m_vfs, "/b").value(), "A");
    EXPECT_FALSE(exists("/a"));
    EXPECT_EQ(rename("/missing", "/x"), ENOENT);
    EXPECT_EQ(rename("/dir", "/b"), ENOTDIR);
    EXPECT_EQ(rename("/b", "/empty"), EISDIR);
    EXPECT_EQ(rename("/empty", "/dir"), ENOTEMPTY);
    EXPECT_EQ(rename("/dir", "/dir/sub/inside"), EINVAL);
    EXPECT_EQ(rename("/b", "/mnt/b"), EXDEV);
    EXPECT_EQ(rename("/mnt", "/elsewhere"), EBUSY);
    EXPECT_EQ(rename("/dir/.", "/x"), EBUSY);
    EXPECT_EQ(rename("/b/", "/c"), ENOTDIR);
    EXPECT_EQ(rename("/b", "/c", RENAME_EXCHANGE), EINVAL);
    // Two names of one inode: nothing happens.
    ASSERT_FALSE(m_vfs->make_link(m_vfs->resolve(at(), "/b").value(), at(), "/b2").is_error());
    EXPECT_EQ(rename("/b", "/b2"), 0);
    EXPECT_TRUE(exists("/b"));
    EXPECT_TRUE(exists("/b2"));
    // A directory replaces an empty one and keeps its contents.
    EXPECT_EQ(rename("/dir", "/empty"), 0);
    EXPECT_EQ(test::read_text(*m_vfs, "/empty/file").value(), "content");
    EXPECT_FALSE(exists("/dir"));
    // Renaming a symlink moves the link, not its target.
    ASSERT_FALSE(m_vfs->make_symlink("empty", at(), "/ln").is_error());
    EXPECT_EQ(rename("/ln", "/ln2"), 0);
    EXPECT_TRUE(stat_of("/ln2", false).st_mode & S_IFLNK);
    EXPECT_TRUE(exists("/empty/file"));
}

TEST_F(OpsTest, HardLinksAndUnlinkWhileOpen) {
    PathRef file = m_vfs->resolve(at(), "/dir/file").value();
    ASSERT_FALSE(m_vfs->make_link(file, at(), "/linked").is_error());
    EXPECT_EQ(stat_of("/dir/file").st_nlink, 2u);
    EXPECT_EQ(stat_of("/linked").st_ino, stat_of("/dir/file").st_ino);
    EXPECT_EQ(error_code(m_vfs->make_link(file, at(), "/linked")), EEXIST);
    EXPECT_EQ(error_code(m_vfs->make_link(file, at(), "/mnt/x")), EXDEV);
    EXPECT_EQ(error_code(m_vfs->make_link(m_vfs->resolve(at(), "/dir").value(), at(), "/d2")),
              EPERM);

    auto open = m_vfs->open(at(), "/linked", O_RDWR, 0).release_value();
    ASSERT_FALSE(m_vfs->unlink(at(), "/linked").is_error());
    ASSERT_FALSE(m_vfs->unlink(at(), "/dir/file").is_error());
    EXPECT_FALSE(exists("/linked"));
    // The open file lives on without names.
    EXPECT_EQ(test::read_all(*open).value(), "content");
    ASSERT_EQ(open->pwrite({reinterpret_cast<const uint8_t*>("C"), 1}, 0).value(), 1u);
    uint8_t first = 0;
    ASSERT_EQ(open->pread({&first, 1}, 0).value(), 1u);
    EXPECT_EQ(first, 'C');
    EXPECT_EQ(open->stat().value().st_nlink, 0u);
    EXPECT_EQ(open->describe(), "/linked (deleted)");
    // An unlinked file cannot get a new name.
    EXPECT_EQ(error_code(m_vfs->make_link(open->path(), at(), "/again")), ENOENT);
}

TEST_F(OpsTest, PermissionsOfOtherUsers) {
    ASSERT_FALSE(test::write_text(*m_vfs, "/private", "p").is_error());
    ASSERT_FALSE(m_vfs->chmod(m_vfs->resolve(at(), "/private").value(), 0600, {}).is_error());
    EXPECT_EQ(open_error("/private", O_RDONLY, user_at()), EACCES);
    EXPECT_EQ(open_error("/dir/new", O_CREAT | O_WRONLY, user_at()), EACCES);
    EXPECT_EQ(error_code(m_vfs->make_directory(user_at(), "/dir/d", 0755)), EACCES);
    EXPECT_EQ(error_code(m_vfs->unlink(user_at(), "/dir/file")), EACCES);
    EXPECT_EQ(open_error("/dir/file", O_RDONLY, user_at()), 0);
    EXPECT_EQ(open_error("/dir/file", O_WRONLY, user_at()), EACCES);
    // Root may read anything.
    EXPECT_EQ(open_error("/private", O_RDWR), 0);

    // A world-writable sticky directory: users create, and only owners remove.
    ASSERT_FALSE(m_vfs->make_directory(at(), "/tmp", 01777).is_error());
    ASSERT_FALSE(test::write_text(*m_vfs, "/tmp/roots", "r").is_error());
    EXPECT_EQ(open_error("/tmp/mine", O_CREAT | O_WRONLY, user_at()), 0);
    EXPECT_EQ(stat_of("/tmp/mine").st_uid, 1000u);
    EXPECT_EQ(stat_of("/tmp/mine").st_mode, S_IFREG | 0644u);
    EXPECT_EQ(error_code(m_vfs->unlink(user_at(), "/tmp/roots")), EPERM);
    EXPECT_EQ(error_code(m_vfs->unlink(user_at(), "/tmp/mine")), 0);

    PathRef file = m_vfs->resolve(at(), "/dir/file").value();
    EXPECT_EQ(error_code(m_vfs->chmod(file, 0777, {1000, 1000})), EPERM);
    EXPECT_EQ(error_code(m_vfs->chown(file, 1000, 1000, {1000, 1000})), EPERM);
    EXPECT_EQ(error_code(m_vfs->check_access(file, R_OK, {1000, 1000})), 0);
    EXPECT_EQ(error_code(m_vfs->check_access(file, W_OK, {1000, 1000})), EACCES);
    EXPECT_EQ(error_code(m_vfs->check_access(file, X_OK, {})), EACCES);  // root needs an x bit
    EXPECT_EQ(error_code(m_vfs->truncate(file, 0, {1000, 1000})), EACCES);
}

TEST_F(OpsTest, AttributeChanges) {
    PathRef file = m_vfs->resolve(at(), "/dir/file").value();
    ASSERT_FALSE(m_vfs->chmod(file, 04755, {}).is_error());
    EXPECT_EQ(stat_of("/dir/file").st_mode, S_IFREG | 04755u);
    ASSERT_FALSE(m_vfs->chown(file, 1000, static_cast<gid_t>(-1), {}).is_error());
    struct stat st = stat_of("/dir/file");
    EXPECT_EQ(st.st_uid, 1000u);
    EXPECT_EQ(st.st_gid, 0u);
    EXPECT_EQ(st.st_mode, S_IFREG | 0755u);  // a change of owner drops set-user-ID

    struct timespec times[2] = {{111, 5}, {222, 6}};
    ASSERT_FALSE(m_vfs->set_times(file, times, {}).is_error());
    st = stat_of("/dir/file");
    EXPECT_EQ(st.st_atim.tv_sec, 111);
    EXPECT_EQ(st.st_mtim.tv_sec, 222);
    EXPECT_EQ(st.st_mtim.tv_nsec, 6);
    m_clock.advance(100);
    struct timespec now_and_omit[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
    ASSERT_FALSE(m_vfs->set_times(file, now_and_omit, {}).is_error());
    st = stat_of("/dir/file");
    EXPECT_EQ(st.st_atim.tv_sec, 1100);
    EXPECT_EQ(st.st_mtim.tv_sec, 222);
    struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
    EXPECT_EQ(error_code(m_vfs->set_times(file, bad, {})), EINVAL);
    // The owner sets any time; others with write access only "now".
    EXPECT_EQ(error_code(m_vfs->set_times(file, times, {1000, 5})), 0);
    EXPECT_EQ(error_code(m_vfs->set_times(file, times, {2000, 5})), EPERM);
    EXPECT_EQ(error_code(m_vfs->set_times(file, nullptr, {2000, 5})), EACCES);

    EXPECT_EQ(error_code(m_vfs->truncate(m_vfs->resolve(at(), "/dir").value(), 0, {})), EISDIR);
    ASSERT_FALSE(m_vfs->truncate(file, 3, {}).is_error());
    EXPECT_EQ(test::read_text(*m_vfs, "/dir/file").value(), "con");
}

TEST_F(OpsTest, MakeNodeAndSymlinks) {
    EXPECT_EQ(error_code(m_vfs->make_node(at(), "/fifo", S_IFIFO | 0644, 0)), 0);
    EXPECT_EQ(stat_of("/fifo").st_mode, S_IFIFO | 0644u);
    EXPECT_EQ(error_code(m_vfs->make_node(user_at(), "/mnt/dev", S_IFCHR | 0644, 0)), EPERM);
    EXPECT_EQ(error_code(m_vfs->make_node(at(), "/fifo", S_IFIFO | 0644, 0)), EEXIST);
    EXPECT_EQ(error_code(m_vfs->make_symlink("", at(), "/empty_link")), ENOENT);
    EXPECT_EQ(error_code(m_vfs->make_symlink("x", at(), "/dir/file")), EEXIST);
    EXPECT_EQ(error_code(m_vfs->make_symlink("x", at(), "/dir/..")), EEXIST);
    ASSERT_FALSE(m_vfs->make_symlink("file", at(), "/dir/link").is_error());
    EXPECT_EQ(m_vfs->read_link(at(), "/dir/link").value(), "file");
    EXPECT_EQ(error_code(m_vfs->read_link(at(), "/dir/file")), EINVAL);
    EXPECT_EQ(stat_of("/dir/link", false).st_size, 4);
}

TEST_F(OpsTest, OpenExecutable) {
    ASSERT_FALSE(test::write_text(*m_vfs, "/dir/prog",
                                  "\x7f"
                                  "ELF fake")
                     .is_error());
    PathRef prog = m_vfs->resolve(at(), "/dir/prog").value();
    ASSERT_FALSE(m_vfs->make_symlink("dir/prog", at(), "/prog_link").is_error());
    Lookup from_dir = at();
    from_dir.start = m_vfs->resolve(at(), "/dir").value();

    EXPECT_EQ(error_code(kernel::open_executable(*m_vfs, from_dir, "prog")), EACCES);  // no x
    ASSERT_FALSE(m_vfs->chmod(prog, 0700, {}).is_error());
    auto executable = kernel::open_executable(*m_vfs, from_dir, "prog");
    ASSERT_FALSE(executable.is_error()) << executable.error().message();
    EXPECT_EQ(executable.value().path, "/dir/prog");
    std::string bytes(executable.value().size, '\0');
    ASSERT_FALSE(executable.value()
                     .read_at(0, {reinterpret_cast<uint8_t*>(bytes.data()), bytes.size()})
                     .is_error());
    EXPECT_EQ(bytes,
              "\x7f"
              "ELF fake");
    // Links resolve to the real path; others need their own x bit.
    EXPECT_EQ(kernel::open_executable(*m_vfs, at(), "/prog_link").value().path, "/dir/prog");
    Lookup user = user_at();
    EXPECT_EQ(error_code(kernel::open_executable(*m_vfs, user, "/dir/prog")), EACCES);
    ASSERT_FALSE(m_vfs->chmod(prog, 0711, {}).is_error());
    EXPECT_EQ(error_code(kernel::open_executable(*m_vfs, user, "/dir/prog")), 0);
    EXPECT_EQ(error_code(kernel::open_executable(*m_vfs, at(), "/dir")), EACCES);
    EXPECT_EQ(error_code(kernel::open_executable(*m_vfs, at(), "/dir/missing")), ENOENT);
}

}  // namespace
}  // namespace myst::fs

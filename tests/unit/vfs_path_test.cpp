// Path resolution (path_resolution(7)) over ramfs trees: "." and "..",
// symlinks (relative, absolute, loops, the 40-link limit), mount points in
// both directions, trailing slashes, ENOTDIR/ENOENT/ENAMETOOLONG, and the
// search permission of non-root callers.
#include <fcntl.h>
#include <gtest/gtest.h>

#include "fs/ramfs/ramfs.h"
#include "fs/vfs/vfs.h"
#include "tests/unit/fs_test_helpers.h"

namespace myst::fs {
namespace {

using test::error_code;
using test::tree_dir;
using test::tree_file;
using test::tree_symlink;

class PathTest : public ::testing::Test {
protected:
    void SetUp() override {
        image::TreeNode root =
            tree_dir("", {
                             tree_dir("a",
                                      {
                                          tree_dir("b", {tree_file("c", "abc")}),
                                          tree_symlink("link_to_b", "b"),
                                          tree_symlink("to_mnt", "/mnt/inner"),
                                      }),
                             tree_symlink("abs_link", "/a/b"),
                             tree_symlink("dangling", "/nonexistent"),
                             tree_file("file", "data"),
                             tree_symlink("loop1", "loop2"),
                             tree_symlink("loop2", "loop1"),
                             tree_dir("mnt"),
                             tree_dir("private", {tree_file("secret", "s")}, 0700),
                             tree_symlink("self_loop", "self_loop"),
                         });
        auto root_fs = test::ramfs_of(root, m_clock.clock());
        ASSERT_FALSE(root_fs.is_error()) << root_fs.error().message();
        m_vfs = test::vfs_over(root_fs.release_value(), m_clock);
        ASSERT_TRUE(m_vfs);

        image::TreeNode mounted = tree_dir("", {tree_dir("inner", {tree_file("x", "in the mount")}),
                                                tree_symlink("up", "../a/b")});
        auto mounted_fs = test::ramfs_of(mounted, m_clock.clock());
        ASSERT_FALSE(mounted_fs.is_error());
        m_mounted = mounted_fs.release_value();
        ASSERT_FALSE(m_vfs->mount("/mnt", m_mounted).is_error());
    }

    Result<PathRef> resolve(std::string_view path, bool follow = true) {
        return m_vfs->resolve(m_vfs->root_lookup(), path, follow);
    }
    std::string resolved_name(std::string_view path, bool follow = true) {
        auto node = resolve(path, follow);
        if (node.is_error())
            return "error " + std::to_string(node.error().code());
        return node.value()->to_string();
    }

    test::ManualClock m_clock;
    std::unique_ptr<Vfs> m_vfs;
    std::shared_ptr<FileSystem> m_mounted;
};

TEST_F(PathTest, AbsolutePathsWithDotAndDotDot) {
    EXPECT_EQ(resolved_name("/a/b/c"), "/a/b/c");
    EXPECT_EQ(resolved_name("/a/./b/../b/c"), "/a/b/c");
    EXPECT_EQ(resolved_name("//a///b//"), "/a/b");
    EXPECT_EQ(resolved_name("/"), "/");
    EXPECT_EQ(resolved_name("/.."), "/");
    EXPECT_EQ(resolved_name("/../../a/.."), "/");
    EXPECT_TRUE(resolve("/a/b/c").value()->inode()->is_regular());
}

TEST_F(PathTest, RelativePathsStartAtTheStartDirectory) {
    Lookup at = m_vfs->root_lookup();
    at.start = resolve("/a").value();
    auto node = m_vfs->resolve(at, "b/c");
    ASSERT_FALSE(node.is_error());
    EXPECT_EQ(node.value()->to_string(), "/a/b/c");
    EXPECT_EQ(m_vfs->resolve(at, "../a/b").value()->to_string(), "/a/b");
    EXPECT_EQ(m_vfs->resolve(at, ".").value()->to_string(), "/a");
    // Absolute paths ignore the start directory.
    EXPECT_EQ(m_vfs->resolve(at, "/file").value()->to_string(), "/file");
}

TEST_F(PathTest, DotDotStopsAtTheProcessRoot) {
    Lookup at = m_vfs->root_lookup();
    at.root = resolve("/a").value();
    at.start = at.root;
    EXPECT_EQ(m_vfs->resolve(at, "/../..").value()->to_string(), "/a");
    EXPECT_EQ(m_vfs->resolve(at, "/b/c").value()->to_string(), "/a/b/c");
    EXPECT_EQ(m_vfs->resolve(at, "/b/c").value()->to_string(at.root.get()), "/b/c");
    // An absolute symlink target starts at the process root too.
    EXPECT_EQ(error_code(m_vfs->resolve(at, "/to_mnt")), ENOENT);
}

TEST_F(PathTest, SymlinksAreFollowed) {
    EXPECT_EQ(resolved_name("/a/link_to_b/c"), "/a/b/c");
    EXPECT_EQ(resolved_name("/abs_link/c"), "/a/b/c");
    // ".." after a link is the parent of where the link led.
    EXPECT_EQ(resolved_name("/a/link_to_b/.."), "/a");
    EXPECT_EQ(resolved_name("/abs_link/../.."), "/");
    // Without following, the final link itself.
    auto link = resolve("/a/link_to_b", false);
    ASSERT_FALSE(link.is_error());
    EXPECT_TRUE(link.value()->inode()->is_symlink());
    EXPECT_EQ(link.value()->to_string(), "/a/link_to_b");
    // A link in the middle is followed whatever the final flag says.
    EXPECT_EQ(resolved_name("/abs_link/c", false), "/a/b/c");
}

TEST_F(PathTest, TrailingSlashNeedsADirectoryAndFollowsTheLink) {
    EXPECT_EQ(error_code(resolve("/a/b/c/")), ENOTDIR);
    EXPECT_EQ(error_code(resolve("/file/.")), ENOTDIR);
    EXPECT_EQ(resolved_name("/a/b/"), "/a/b");
    EXPECT_EQ(resolved_name("/a/link_to_b/", false), "/a/b");
    EXPECT_EQ(error_code(resolve("/missing/")), ENOENT);
}

TEST_F(PathTest, LoopsAndDanglingLinks) {
    EXPECT_EQ(error_code(resolve("/loop1")), ELOOP);
    EXPECT_EQ(error_code(resolve("/self_loop/x")), ELOOP);
    EXPECT_EQ(error_code(resolve("/dangling")), ENOENT);
    auto link = resolve("/dangling", false);
    ASSERT_FALSE(link.is_error());
    EXPECT_TRUE(link.value()->inode()->is_symlink());
    // With nofollow the loop is never entered.
    EXPECT_FALSE(resolve("/loop1", false).is_error());
}

TEST_F(PathTest, FortySymlinksAreFineFortyOneAreNot) {
    // link0 -> a/b, link1 -> link0, ... each needs one more level.
    ASSERT_FALSE(m_vfs->make_symlink("a/b", m_vfs->root_lookup(), "/link0").is_error());
    for (int i = 1; i <= 40; ++i) {
        std::string name = "/link" + std::to_string(i);
        ASSERT_FALSE(m_vfs->make_symlink("link" + std::to_string(i - 1), m_vfs->root_lookup(), name)
                         .is_error());
    }
    EXPECT_EQ(resolved_name("/link39/c"), "/a/b/c");     // 40 links
    EXPECT_EQ(error_code(resolve("/link40/c")), ELOOP);  // 41 links
}

TEST_F(PathTest, NotDirectoryAndMissing) {
    EXPECT_EQ(error_code(resolve("/file/x")), ENOTDIR);
    EXPECT_EQ(error_code(resolve("/a/b/c/d/e")), ENOTDIR);
    EXPECT_EQ(error_code(resolve("/nonexistent/x")), ENOENT);
    EXPECT_EQ(error_code(resolve("")), ENOENT);
}

TEST_F(PathTest, NamesAndPathsThatAreTooLong) {
    EXPECT_EQ(error_code(resolve("/a/" + std::string(256, 'x'))), ENAMETOOLONG);
    EXPECT_EQ(error_code(resolve("/a/" + std::string(255, 'x'))), ENOENT);
    std::string long_path;
    while (long_path.size() < 4096)
        long_path += "/a/..";
    EXPECT_EQ(error_code(resolve(long_path)), ENAMETOOLONG);
}

TEST_F(PathTest, MountPointsInBothDirections) {
    auto inner = resolve("/mnt/inner/x");
    ASSERT_FALSE(inner.is_error());
    EXPECT_EQ(&inner.value()->inode()->file_system(), m_mounted.get());
    EXPECT_EQ(inner.value()->to_string(), "/mnt/inner/x");
    // The mount point shows the mounted root.
    EXPECT_TRUE(resolve("/mnt").value()->inode()->same_as(*m_mounted->root()));
    // ".." at the mount's root leads to the mount point's parent.
    auto up = resolve("/mnt/inner/../..");
    ASSERT_FALSE(up.is_error());
    EXPECT_TRUE(up.value()->same_as(*m_vfs->root()));
    EXPECT_EQ(resolved_name("/mnt/.."), "/");
    EXPECT_EQ(resolved_name("/mnt/../a/b"), "/a/b");
    // File systems have their own device numbers.
    auto a_stat = resolve("/a").value()->inode()->stat();
    auto x_stat = inner.value()->inode()->stat();
    EXPECT_NE(a_stat.value().st_dev, x_stat.value().st_dev);
}

TEST_F(PathTest, SymlinksAcrossMounts) {
    // Into the mount.
    EXPECT_EQ(resolved_name("/a/to_mnt/x"), "/mnt/inner/x");
    // Out of it: "../a/b" relative to the mount's root.
    EXPECT_EQ(resolved_name("/mnt/up/c"), "/a/b/c");
}

// openat2(2)'s RESOLVE_ flags, from /a as the start directory.
TEST_F(PathTest, ResolveFlagsRestrictTheWalk) {
    Lookup at = m_vfs->root_lookup();
    at.start = resolve("/a").value();
    auto name_with = [&](unsigned flags, std::string_view path) {
        Lookup scoped = at;
        scoped.resolve = flags;
        auto node = m_vfs->resolve(scoped, path);
        return node.is_error() ? "error " + std::to_string(node.error().code())
                               : node.value()->to_string();
    };
    const std::string exdev = "error " + std::to_string(EXDEV);
    const std::string eloop = "error " + std::to_string(ELOOP);
    // RESOLVE_BENEATH: ".." only while it stays below the start.
    EXPECT_EQ(name_with(resolve_beneath, "b/../b/c"), "/a/b/c");
    EXPECT_EQ(name_with(resolve_beneath, "link_to_b/c"), "/a/b/c");
    EXPECT_EQ(name_with(resolve_beneath, ".."), exdev);
    EXPECT_EQ(name_with(resolve_beneath, "b/../../file"), exdev);
    EXPECT_EQ(name_with(resolve_beneath, "/a/b"), exdev);
    EXPECT_EQ(name_with(resolve_beneath, "to_mnt"), exdev);  // an absolute symlink
    // RESOLVE_NO_SYMLINKS: any link followed is ELOOP; a final one kept is fine.
    EXPECT_EQ(name_with(resolve_no_symlinks, "link_to_b/c"), eloop);
    Lookup no_links = at;
    no_links.resolve = resolve_no_symlinks;
    EXPECT_FALSE(m_vfs->resolve(no_links, "link_to_b", false).is_error());
    // RESOLVE_NO_XDEV: no mount crossing either way, through links too.
    EXPECT_EQ(name_with(resolve_no_xdev, "b/c"), "/a/b/c");
    EXPECT_EQ(name_with(resolve_no_xdev, "/mnt/inner"), exdev);
    EXPECT_EQ(name_with(resolve_no_xdev, "to_mnt"), exdev);
    Lookup in_mount = at;
    in_mount.start = resolve("/mnt/inner").value();
    in_mount.resolve = resolve_no_xdev;
    EXPECT_EQ(error_code(m_vfs->resolve(in_mount, "../..")), EXDEV);
    EXPECT_FALSE(m_vfs->resolve(in_mount, "x").is_error());
    // RESOLVE_IN_ROOT: the caller makes the start the root too.
    Lookup in_root = at;
    in_root.root = at.start;
    in_root.resolve = resolve_in_root;
    EXPECT_EQ(m_vfs->resolve(in_root, "/b/c").value()->to_string(), "/a/b/c");
    EXPECT_EQ(m_vfs->resolve(in_root, "../../b/c").value()->to_string(), "/a/b/c");
}

TEST_F(PathTest, MountErrors) {
    auto other = create_ramfs(m_clock.clock());
    EXPECT_EQ(error_code(m_vfs->mount("/missing", other)), ENOENT);
    EXPECT_EQ(error_code(m_vfs->mount("/file", other)), ENOTDIR);
    EXPECT_EQ(error_code(m_vfs->mount("/", other)), EBUSY);
    EXPECT_EQ(error_code(m_vfs->mount("relative", other)), EINVAL);
    std::vector<MountInfo> mounts = m_vfs->mounts();
    ASSERT_EQ(mounts.size(), 2u);
    EXPECT_EQ(mounts[0].path, "/");
    EXPECT_EQ(mounts[1].path, "/mnt");
    EXPECT_EQ(mounts[1].type, "ramfs");
    // A second mount on /mnt stacks over the first and hides it.
    ASSERT_FALSE(m_vfs->mount("/mnt", other).is_error());
    EXPECT_TRUE(resolve("/mnt").value()->inode()->same_as(*other->root()));
    EXPECT_EQ(error_code(resolve("/mnt/inner")), ENOENT);
    EXPECT_EQ(resolved_name("/mnt/.."), "/");
    other = create_ramfs(m_clock.clock());
    // Mounting through a symlink records the real place.
    ASSERT_FALSE(m_vfs->mount("/abs_link", other).is_error());
    EXPECT_EQ(m_vfs->mounts().back().path, "/a/b");
    EXPECT_EQ(error_code(resolve("/a/b/c")), ENOENT);  // hidden by the mount
}

TEST_F(PathTest, Unmount) {
    // Not a mount point, and "/".
    EXPECT_EQ(error_code(m_vfs->unmount(m_vfs->root_lookup(), "/a", true, false)), EINVAL);
    EXPECT_EQ(error_code(m_vfs->unmount(m_vfs->root_lookup(), "/", true, false)), EBUSY);
    // Busy while something holds a path inside it; then it goes.
    PathRef inside = resolve("/mnt/inner").value();
    EXPECT_EQ(error_code(m_vfs->unmount(m_vfs->root_lookup(), "/mnt", true, false)), EBUSY);
    inside.reset();
    ASSERT_FALSE(m_vfs->unmount(m_vfs->root_lookup(), "/mnt", true, false).is_error());
    EXPECT_EQ(m_vfs->mounts().size(), 1u);
    EXPECT_FALSE(resolve("/mnt").value()->inode()->same_as(*m_mounted->root()));
    EXPECT_EQ(error_code(resolve("/mnt/inner")), ENOENT);

    // A mount with a mount inside it is busy even when detaching; a
    // detached mount keeps serving the paths already held in it.
    ASSERT_FALSE(m_vfs->mount("/mnt", m_mounted).is_error());
    ASSERT_FALSE(m_vfs->mount("/mnt/inner", create_ramfs(m_clock.clock())).is_error());
    EXPECT_EQ(error_code(m_vfs->unmount(m_vfs->root_lookup(), "/mnt", true, true)), EBUSY);
    ASSERT_FALSE(m_vfs->unmount(m_vfs->root_lookup(), "/mnt/inner", true, false).is_error());
    inside = resolve("/mnt/inner").value();
    ASSERT_FALSE(m_vfs->unmount(m_vfs->root_lookup(), "/mnt", true, true).is_error());
    EXPECT_EQ(error_code(resolve("/mnt/inner")), ENOENT);
    EXPECT_TRUE(inside->inode()->is_directory());
    EXPECT_EQ(error_code(m_vfs->mount_at(inside, create_ramfs(m_clock.clock()))), EINVAL);
    EXPECT_EQ(m_vfs->mounts().size(), 1u);
}

// Mounts stacked on one point: the newest is seen and unmounted first; a
// mount made from a path held into a lower one goes on top, and the lower
// one is busy while covered. Finding the top costs one lookup however
// high the stack, so Linux's mount-max of them is quick to make and undo.
TEST_F(PathTest, StackedMounts) {
    Lookup at = m_vfs->root_lookup();
    PathRef lowest = resolve("/mnt").value();
    auto second = create_ramfs(m_clock.clock());
    ASSERT_FALSE(m_vfs->mount("/mnt", second).is_error());
    auto third = create_ramfs(m_clock.clock());
    ASSERT_FALSE(m_vfs->mount_at(lowest, third).is_error());
    EXPECT_TRUE(resolve("/mnt").value()->inode()->same_as(*third->root()));
    Lookup from_lowest = at;
    from_lowest.start = lowest;
    EXPECT_EQ(error_code(m_vfs->unmount(from_lowest, ".", true, false)), EBUSY);
    lowest.reset();
    ASSERT_FALSE(m_vfs->unmount(at, "/mnt", true, false).is_error());
    EXPECT_TRUE(resolve("/mnt").value()->inode()->same_as(*second->root()));
    ASSERT_FALSE(m_vfs->unmount(at, "/mnt", true, false).is_error());
    EXPECT_TRUE(resolve("/mnt").value()->inode()->same_as(*m_mounted->root()));

    size_t made = m_vfs->mounts().size();
    for (; made < Vfs::kMaxMounts; ++made)
        ASSERT_FALSE(m_vfs->mount("/mnt", create_ramfs(m_clock.clock())).is_error()) << made;
    EXPECT_EQ(error_code(m_vfs->mount("/mnt", create_ramfs(m_clock.clock()))), ENOSPC);
    EXPECT_EQ(m_vfs->mounts().size(), Vfs::kMaxMounts);
    for (; made > 2; --made)
        ASSERT_FALSE(m_vfs->unmount(at, "/mnt", true, false).is_error()) << made;
    EXPECT_TRUE(resolve("/mnt").value()->inode()->same_as(*m_mounted->root()));
}

TEST_F(PathTest, ReadOnlyMount) {
    ASSERT_FALSE(m_vfs->mount("/a/b", create_ramfs(m_clock.clock()), {"src", true}).is_error());
    Lookup at = m_vfs->root_lookup();
    EXPECT_EQ(error_code(m_vfs->make_directory(at, "/a/b/d", 0755)), EROFS);
    EXPECT_EQ(error_code(m_vfs->open(at, "/a/b/f", O_CREAT | O_WRONLY, 0644)), EROFS);
    PathRef root = resolve("/a/b").value();
    EXPECT_EQ(error_code(m_vfs->chmod(root, 0700, {})), EROFS);
    EXPECT_EQ(error_code(m_vfs->check_access(root, W_OK, {})), EROFS);
    EXPECT_FALSE(m_vfs->check_access(root, R_OK | X_OK, {}).is_error());
    EXPECT_EQ(m_vfs->mounts().back().source, "src");
    EXPECT_TRUE(m_vfs->mounts().back().read_only);
    // The file system under it is still writable elsewhere.
    EXPECT_FALSE(m_vfs->make_directory(at, "/a/new", 0755).is_error());
}

TEST_F(PathTest, ParentAndName) {
    Lookup at = m_vfs->root_lookup();
    auto where = m_vfs->resolve_parent(at, "/a/b/new");
    ASSERT_FALSE(where.is_error());
    EXPECT_EQ(where.value().parent->to_string(), "/a/b");
    EXPECT_EQ(where.value().name, "new");
    EXPECT_FALSE(where.value().trailing_slash);
    where = m_vfs->resolve_parent(at, "/a/b//");
    EXPECT_EQ(where.value().parent->to_string(), "/a");
    EXPECT_EQ(where.value().name, "b");
    EXPECT_TRUE(where.value().trailing_slash);
    where = m_vfs->resolve_parent(at, "/");
    EXPECT_EQ(where.value().name, "");
    where = m_vfs->resolve_parent(at, "/a/..");
    EXPECT_EQ(where.value().name, "..");
    EXPECT_EQ(error_code(m_vfs->resolve_parent(at, "/file/x")), ENOTDIR);
    EXPECT_EQ(error_code(m_vfs->resolve_parent(at, "/missing/x")), ENOENT);
}

TEST_F(PathTest, SearchPermissionForOthers) {
    Lookup user = m_vfs->root_lookup();
    user.identity = {1000, 1000};
    EXPECT_EQ(error_code(m_vfs->resolve(user, "/private/secret")), EACCES);
    // The directory itself can be named, just not searched.
    EXPECT_FALSE(m_vfs->resolve(user, "/private").is_error());
    EXPECT_FALSE(m_vfs->resolve(m_vfs->root_lookup(), "/private/secret").is_error());
}

}  // namespace
}  // namespace myst::fs

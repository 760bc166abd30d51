// ramfs: loading CPIO archives (written by image::write_cpio and by GNU
// cpio, with hard links, crc checksums and missing parents), corrupt
// archives (clear errors), and the stat fields of a live ramfs.
#include <gtest/gtest.h>
#include <sys/sysmacros.h>

#include <cstring>

#include "fs/ramfs/ramfs.h"
#include "fs/vfs/vfs.h"
#include "tests/unit/fs_test_helpers.h"
#include "tests/unit/test_support.h"

namespace myst::fs {
namespace {

using test::error_code;
using test::stat_of;
using test::tree_dir;
using test::tree_file;
using test::tree_symlink;
using test::vfs_over;

Result<std::shared_ptr<FileSystem>> load(std::vector<uint8_t> bytes) {
    image::MemoryFile archive(std::move(bytes));
    test::ManualClock clock;
    return create_ramfs_from_cpio(archive, clock.clock());
}

// Replaces the first occurrence of `from` in the archive by `to` (same size).
void patch(std::vector<uint8_t>& bytes, std::string_view from, std::string_view to) {
    ASSERT_EQ(from.size(), to.size());
    auto it = std::search(bytes.begin(), bytes.end(), from.begin(), from.end());
    ASSERT_NE(it, bytes.end()) << from;
    std::memcpy(&*it, to.data(), to.size());
}

TEST(Ramfs, LoadsATreeFromCpio) {
    std::string big(5000, 'q');
    big[4096] = 'Z';
    image::TreeNode device;
    device.name = "tty";
    device.type = image::NodeType::char_device;
    device.permissions = 0620;
    device.rdev_major = 4;
    device.rdev_minor = 64;
    image::TreeNode owned = tree_file("owned", "x", 04755);
    owned.uid = 1000;
    owned.gid = 100;
    image::TreeNode root =
        tree_dir("", {
                         tree_dir("bin", {tree_file("hello", "#!/bin/sh\n", 0755)}),
                         tree_file("big", big),
                         tree_dir("empty", {}, 0700),
                         tree_symlink("link", "bin/hello"),
                         owned,
                         tree_dir("sticky", {tree_dir("inner")}, 01777),
                         device,
                     });
    test::ManualClock clock;
    auto fs = test::ramfs_of(root, clock.clock());
    ASSERT_FALSE(fs.is_error()) << fs.error().message();
    auto vfs = vfs_over(fs.release_value(), clock);

    EXPECT_EQ(test::read_text(*vfs, "/bin/hello").value(), "#!/bin/sh\n");
    EXPECT_EQ(test::read_text(*vfs, "/link").value(), "#!/bin/sh\n");
    EXPECT_EQ(test::read_text(*vfs, "/big").value(), big);
    EXPECT_EQ(vfs->read_link(vfs->root_lookup(), "/link").value(), "bin/hello");

    struct stat root_st = stat_of(*vfs, "/");
    EXPECT_EQ(root_st.st_mode, S_IFDIR | 0755u);
    EXPECT_EQ(root_st.st_nlink, 2u + 3u);  // bin, empty, sticky
    struct stat hello = stat_of(*vfs, "/bin/hello");
    EXPECT_EQ(hello.st_mode, S_IFREG | 0755u);
    EXPECT_EQ(hello.st_nlink, 1u);
    EXPECT_EQ(hello.st_size, 10);
    EXPECT_EQ(hello.st_blksize, 4096);
    EXPECT_EQ(hello.st_blocks, 8);
    EXPECT_EQ(hello.st_mtim.tv_sec, 0x5f000000);
    EXPECT_EQ(stat_of(*vfs, "/big").st_blocks, 16);  // two 4 KiB pages
    EXPECT_EQ(stat_of(*vfs, "/empty").st_mode, S_IFDIR | 0700u);
    EXPECT_EQ(stat_of(*vfs, "/empty").st_nlink, 2u);
    EXPECT_EQ(stat_of(*vfs, "/sticky").st_mode, S_IFDIR | 01777u);
    EXPECT_EQ(stat_of(*vfs, "/sticky").st_nlink, 3u);
    struct stat link = stat_of(*vfs, "/link", false);
    EXPECT_EQ(link.st_mode, S_IFLNK | 0777u);
    EXPECT_EQ(link.st_size, 9);
    struct stat owned_st = stat_of(*vfs, "/owned");
    EXPECT_EQ(owned_st.st_mode, S_IFREG | 04755u);
    EXPECT_EQ(owned_st.st_uid, 1000u);
    EXPECT_EQ(owned_st.st_gid, 100u);
    struct stat tty = stat_of(*vfs, "/tty");
    EXPECT_EQ(tty.st_mode, S_IFCHR | 0620u);
    EXPECT_EQ(tty.st_rdev, makedev(4, 64));
    // A device node without a driver behind it.
    EXPECT_EQ(error_code(vfs->open(vfs->root_lookup(), "/tty", O_RDONLY, 0)), ENXIO);
    EXPECT_NE(hello.st_ino, stat_of(*vfs, "/big").st_ino);
}

TEST(Ramfs, HardLinksAndChecksumsFromGnuCpio) {
    test::TempDir dir;
    ASSERT_TRUE(dir.ok());
    test::write_file(dir.path("first"), "shared bytes\n");
    test::write_file(dir.path("other"), "other\n");
    ASSERT_EQ(::link(dir.path("first").c_str(), dir.path("second").c_str()), 0);
    for (const char* format : {"newc", "crc"}) {
        SCOPED_TRACE(format);
        std::string archive = dir.path(std::string("archive.") + format);
        auto result = test::run_command("cd " + dir.file("") +
                                        " && printf 'first\\nother\\nsecond\\n' | cpio -o -H " +
                                        format + " > " + "'" + archive + "' 2>/dev/null");
        ASSERT_EQ(result.status, 0) << result.output;
        auto fs = load(test::read_file(archive));
        ASSERT_FALSE(fs.is_error()) << fs.error().message();
        test::ManualClock clock;
        auto vfs = vfs_over(fs.release_value(), clock);
        struct stat first = stat_of(*vfs, "/first");
        struct stat second = stat_of(*vfs, "/second");
        EXPECT_EQ(first.st_ino, second.st_ino);
        EXPECT_EQ(first.st_nlink, 2u);
        EXPECT_EQ(stat_of(*vfs, "/other").st_nlink, 1u);
        EXPECT_EQ(test::read_text(*vfs, "/first").value(), "shared bytes\n");
        EXPECT_EQ(test::read_text(*vfs, "/second").value(), "shared bytes\n");
        // One inode: a write through one name shows through the other.
        ASSERT_FALSE(test::write_text(*vfs, "/second", "changed\n").is_error());
        EXPECT_EQ(test::read_text(*vfs, "/first").value(), "changed\n");
    }
}

TEST(Ramfs, MissingParentsAreCreated) {
    test::TempDir dir;
    ASSERT_TRUE(dir.ok());
    ASSERT_EQ(test::run_command("mkdir -p " + dir.file("x/y")).status, 0);
    test::write_file(dir.path("x/y/file"), "deep\n");
    auto result = test::run_command("cd " + dir.file("") +
                                    " && echo x/y/file | cpio -o -H newc > archive 2>/dev/null");
    ASSERT_EQ(result.status, 0) << result.output;
    auto fs = load(test::read_file(dir.path("archive")));
    ASSERT_FALSE(fs.is_error()) << fs.error().message();
    test::ManualClock clock;
    auto vfs = vfs_over(fs.release_value(), clock);
    EXPECT_EQ(stat_of(*vfs, "/x/y").st_mode, S_IFDIR | 0755u);
    EXPECT_EQ(test::read_text(*vfs, "/x/y/file").value(), "deep\n");
}

TEST(Ramfs, CorruptArchivesAreClearErrors) {
    std::vector<uint8_t> good = test::cpio_of(tree_dir("", {tree_file("a", "hi\n")}));
    struct Case {
        const char* what;
        std::vector<uint8_t> bytes;
    };
    std::vector<uint8_t> bad_magic = good;
    bad_magic[0] = 'X';
    std::vector<Case> cases = {
        {"empty", {}},
        {"bad magic", bad_magic},
        {"truncated in the data", std::vector<uint8_t>(good.begin(), good.begin() + 230)},
        {"no trailer", std::vector<uint8_t>(good.begin(), good.begin() + 228)},
    };
    for (const Case& c : cases) {
        auto fs = load(c.bytes);
        ASSERT_TRUE(fs.is_error()) << c.what;
        EXPECT_EQ(fs.error().code(), EINVAL) << c.what;
        EXPECT_NE(fs.error().message().find("cannot load the CPIO archive: corrupt cpio archive"),
                  std::string::npos)
            << c.what << ": " << fs.error().message();
    }
}

TEST(Ramfs, CrcChecksumIsVerified) {
    std::vector<uint8_t> bytes = test::cpio_of(tree_dir("", {tree_file("a", "hi\n")}));
    // The file's header starts after the root's 112 bytes; "hi\n" sums to 0xdb.
    std::memcpy(&bytes[112], "070702", 6);
    std::memcpy(&bytes[112 + 102], "000000DB", 8);
    EXPECT_FALSE(load(bytes).is_error());
    std::memcpy(&bytes[112 + 102], "000000DC", 8);
    auto fs = load(bytes);
    ASSERT_TRUE(fs.is_error());
    EXPECT_NE(fs.error().message().find("cpio entry 'a': checksum mismatch"), std::string::npos)
        << fs.error().message();
}

TEST(Ramfs, NamesThatCouldEscapeOrCollideAreRejected) {
    std::vector<uint8_t> dotdot = test::cpio_of(tree_dir("", {tree_file("ab", "x")}));
    patch(dotdot, std::string_view("ab\0", 3), std::string_view("..\0", 3));
    auto fs = load(dotdot);
    ASSERT_TRUE(fs.is_error());
    EXPECT_NE(fs.error().message().find("'..' component"), std::string::npos)
        << fs.error().message();

    // "b/c" turned into "a/c" where "a" is a file.
    std::vector<uint8_t> under_file =
        test::cpio_of(tree_dir("", {tree_file("a", "x"), tree_dir("b", {tree_file("c", "y")})}));
    patch(under_file, std::string_view("b/c\0", 4), std::string_view("a/c\0", 4));
    fs = load(under_file);
    ASSERT_TRUE(fs.is_error());
    EXPECT_EQ(fs.error().code(), ENOTDIR);
    EXPECT_NE(fs.error().message().find("'a' is not a directory"), std::string::npos)
        << fs.error().message();
}

TEST(Ramfs, TimesLinksAndBlocksFollowChanges) {
    test::ManualClock clock;
    auto vfs = vfs_over(create_ramfs(clock.clock(), 01777), clock);
    EXPECT_EQ(stat_of(*vfs, "/").st_mode, S_IFDIR | 01777u);
    EXPECT_EQ(stat_of(*vfs, "/").st_mtim.tv_sec, 1000);

    clock.advance(10);
    ASSERT_FALSE(test::write_text(*vfs, "/f", "hello").is_error());
    struct stat created = stat_of(*vfs, "/f");
    EXPECT_EQ(created.st_mtim.tv_sec, 1010);
    EXPECT_EQ(created.st_ctim.tv_sec, 1010);
    EXPECT_EQ(stat_of(*vfs, "/").st_mtim.tv_sec, 1010);  // the directory changed

    clock.advance(5);
    ASSERT_FALSE(test::write_text(*vfs, "/f", "more", O_WRONLY | O_APPEND).is_error());
    EXPECT_EQ(stat_of(*vfs, "/f").st_mtim.tv_sec, 1015);
    EXPECT_EQ(stat_of(*vfs, "/").st_mtim.tv_sec, 1010);
    EXPECT_EQ(test::read_text(*vfs, "/f").value(), "hellomore");

    // A write far out leaves a hole: only the touched page counts.
    auto file = vfs->open(vfs->root_lookup(), "/f", O_RDWR, 0).release_value();
    uint8_t byte = 'E';
    ASSERT_FALSE(file->pwrite({&byte, 1}, 1 << 20).is_error());
    struct stat sparse = stat_of(*vfs, "/f");
    EXPECT_EQ(sparse.st_size, (1 << 20) + 1);
    EXPECT_EQ(sparse.st_blocks, 16);
    std::vector<uint8_t> middle(10, 0xff);
    ASSERT_EQ(file->pread(middle, 4096 * 3).value(), 10u);
    EXPECT_EQ(middle, std::vector<uint8_t>(10, 0));

    // Shrinking drops bytes for good: growing again reads zeros.
    ASSERT_FALSE(file->truncate(3).is_error());
    ASSERT_FALSE(file->truncate(8).is_error());
    std::vector<uint8_t> grown(16, 0xff);
    ASSERT_EQ(file->pread(grown, 0).value(), 8u);
    EXPECT_EQ(std::string(grown.begin(), grown.begin() + 8), std::string("hel\0\0\0\0\0", 8));
    EXPECT_EQ(stat_of(*vfs, "/f").st_blocks, 8);

    // Directory link counts: 2 + subdirectories.
    Lookup at = vfs->root_lookup();
    ASSERT_FALSE(vfs->make_directory(at, "/d1", 0755).is_error());
    ASSERT_FALSE(vfs->make_directory(at, "/d2", 0755).is_error());
    ASSERT_FALSE(vfs->make_directory(at, "/d1/sub", 0755).is_error());
    EXPECT_EQ(stat_of(*vfs, "/").st_nlink, 4u);
    EXPECT_EQ(stat_of(*vfs, "/d1").st_nlink, 3u);
    ASSERT_FALSE(vfs->rename(at, "/d1/sub", at, "/d2/sub", 0).is_error());
    EXPECT_EQ(stat_of(*vfs, "/d1").st_nlink, 2u);
    EXPECT_EQ(stat_of(*vfs, "/d2").st_nlink, 3u);
    EXPECT_EQ(stat_of(*vfs, "/d2/sub").st_nlink, 2u);
    ASSERT_FALSE(vfs->remove_directory(at, "/d2/sub").is_error());
    EXPECT_EQ(stat_of(*vfs, "/d2").st_nlink, 2u);

    auto statfs = stat_of(*vfs, "/").st_dev;
    EXPECT_NE(statfs, 0u);
    EXPECT_EQ(vfs->root()->inode()->file_system().statfs().value().f_type, 0x858458f6);
}

}  // namespace
}  // namespace myst::fs

namespace myst::fs {
namespace {

// A charge of at most `limit` bytes that keeps the sum in `charged`.
PageCharge counting_charge(int64_t& charged, int64_t limit) {
    return std::make_shared<test::CountingCharge>(charged, limit);
}

// /dev/shm and memfds charge the memory budget for their pages: a page the
// charge refuses is ENOSPC (a short write when some bytes fit), and pages
// go back when a file shrinks or is removed.
TEST(Ramfs, PageChargeBoundsWritesAndGetsPagesBack) {
    test::ManualClock clock;
    int64_t charged = 0;
    const int64_t limit = 3 * 4096 + kRamfsEntryBytes;  // the entry of /f and 3 pages
    PageCharge charge = counting_charge(charged, limit);
    auto vfs = vfs_over(create_ramfs(clock.clock(), 01777, charge), clock);
    auto file = vfs->open(vfs->root_lookup(), "/f", O_RDWR | O_CREAT, 0600).release_value();
    std::vector<uint8_t> data(5 * 4096, 'x');
    auto written = file->pwrite(data, 0);
    ASSERT_FALSE(written.is_error());
    EXPECT_EQ(written.value(), 3u * 4096);
    EXPECT_EQ(charged, limit);
    auto refused = file->pwrite(data, 3 * 4096);
    ASSERT_TRUE(refused.is_error());
    EXPECT_EQ(refused.error().code(), ENOSPC);
    ASSERT_FALSE(file->truncate(4096).is_error());
    EXPECT_EQ(charged, 4096 + static_cast<int64_t>(kRamfsEntryBytes));
    file.reset();
    ASSERT_FALSE(vfs->unlink(vfs->root_lookup(), "/f").is_error());
    EXPECT_EQ(charged, 0);
}

// statfs shows what the charge has left, as tmpfs shows what size= leaves;
// a capped charge (size=) takes from the charge below it too.
TEST(Ramfs, StatfsReportsTheRoomTheChargeLeaves) {
    test::ManualClock clock;
    int64_t charged = 0;
    auto budget = counting_charge(charged, 100 * 4096);
    auto capped = std::make_shared<CappedCharge>(budget, 10 * 4096);
    auto vfs = vfs_over(create_ramfs(clock.clock(), 01777, capped), clock);
    auto before = vfs->root()->inode()->file_system().statfs().value();
    EXPECT_EQ(before.f_bfree, 10u);
    EXPECT_EQ(before.f_blocks, 10u);
    auto file = vfs->open(vfs->root_lookup(), "/f", O_RDWR | O_CREAT, 0600).release_value();
    std::vector<uint8_t> data(20 * 4096, 'x');
    auto written = file->pwrite(data, 0);
    ASSERT_FALSE(written.is_error());
    // The entry took kRamfsEntryBytes, the pages the rest of the 10.
    EXPECT_EQ(written.value(), (10 * 4096 - kRamfsEntryBytes) / 4096 * 4096);
    EXPECT_EQ(charged, static_cast<int64_t>(kRamfsEntryBytes + written.value()));
    auto full = vfs->root()->inode()->file_system().statfs().value();
    EXPECT_EQ(full.f_bfree, 0u);
    EXPECT_EQ(full.f_bavail, 0u);
    ASSERT_FALSE(file->truncate(0).is_error());
    EXPECT_EQ(vfs->root()->inode()->file_system().statfs().value().f_bfree, 9u);
    // A budget nearly used up elsewhere leaves less than size= would.
    int64_t other = 0;
    auto small_budget = counting_charge(other, 3 * 4096);
    auto vfs_small = vfs_over(
        create_ramfs(clock.clock(), 01777, std::make_shared<CappedCharge>(small_budget, 10 * 4096)),
        clock);
    EXPECT_EQ(vfs_small->root()->inode()->file_system().statfs().value().f_bfree, 3u);
}

// Every directory entry costs kRamfsEntryBytes (a symlink adds its target):
// empty files, directories and hard links stop with ENOSPC at the charge's
// limit; a rename keeps the cost and removing gives it back.
TEST(Ramfs, EntriesAreChargedAndGivenBack) {
    test::ManualClock clock;
    int64_t charged = 0;
    const auto entry = static_cast<int64_t>(kRamfsEntryBytes);
    auto vfs = vfs_over(create_ramfs(clock.clock(), 01777, counting_charge(charged, 4 * entry + 3)),
                        clock);
    auto root = vfs->root_lookup();
    ASSERT_FALSE(vfs->make_directory(root, "/d", 0755).is_error());
    ASSERT_FALSE(vfs->open(root, "/d/a", O_WRONLY | O_CREAT, 0600).is_error());
    ASSERT_FALSE(vfs->make_link(vfs->resolve(root, "/d/a").release_value(), root, "/b").is_error());
    ASSERT_FALSE(vfs->make_symlink("d/a", root, "/s").is_error());
    EXPECT_EQ(charged, 4 * entry + 3);
    EXPECT_EQ(error_code(vfs->open(root, "/c", O_WRONLY | O_CREAT, 0600)), ENOSPC);
    EXPECT_EQ(error_code(vfs->make_directory(root, "/e", 0755)), ENOSPC);
    ASSERT_FALSE(vfs->unlink(root, "/s").is_error());
    EXPECT_EQ(charged, 3 * entry);
    ASSERT_FALSE(vfs->rename(root, "/d/a", root, "/moved", 0).is_error());
    EXPECT_EQ(charged, 3 * entry);
    ASSERT_FALSE(vfs->open(root, "/c", O_WRONLY | O_CREAT, 0600).is_error());
    ASSERT_FALSE(vfs->rename(root, "/c", root, "/moved", 0).is_error());  // replaces it
    EXPECT_EQ(charged, 3 * entry);
    ASSERT_FALSE(vfs->unlink(root, "/b").is_error());
    ASSERT_FALSE(vfs->unlink(root, "/moved").is_error());
    ASSERT_FALSE(vfs->remove_directory(root, "/d").is_error());
    EXPECT_EQ(charged, 0);
}

// nr_inodes= counts every name and the root, as tmpfs does (checked on
// Linux 6.18: with nr_inodes=4 the fourth file and a hard link are ENOSPC,
// df -i shows 4 used, 0 free); nr_inodes=0 is no limit and reports 0.
TEST(Ramfs, InodeLimitCountsEveryNameAndTheRoot) {
    test::ManualClock clock;
    auto vfs = vfs_over(create_ramfs(clock.clock(), 01777, {}, 4), clock);
    auto root = vfs->root_lookup();
    auto& filesystem = vfs->root()->inode()->file_system();
    EXPECT_EQ(filesystem.statfs().value().f_files, 4u);
    EXPECT_EQ(filesystem.statfs().value().f_ffree, 3u);
    for (const char* name : {"/a", "/b", "/c"})
        ASSERT_FALSE(vfs->open(root, name, O_WRONLY | O_CREAT, 0600).is_error()) << name;
    EXPECT_EQ(error_code(vfs->open(root, "/d", O_WRONLY | O_CREAT, 0600)), ENOSPC);
    auto a = vfs->resolve(root, "/a").release_value();
    EXPECT_EQ(error_code(vfs->make_link(a, root, "/link")), ENOSPC);
    EXPECT_EQ(error_code(vfs->make_directory(root, "/dir", 0755)), ENOSPC);
    EXPECT_EQ(error_code(vfs->make_symlink("a", root, "/s")), ENOSPC);
    EXPECT_EQ(filesystem.statfs().value().f_ffree, 0u);
    ASSERT_FALSE(vfs->rename(root, "/b", root, "/b2", 0).is_error());  // a rename keeps one
    ASSERT_FALSE(vfs->unlink(root, "/b2").is_error());
    EXPECT_EQ(filesystem.statfs().value().f_ffree, 1u);
    ASSERT_FALSE(vfs->make_link(a, root, "/link").is_error());

    auto unlimited = vfs_over(create_ramfs(clock.clock(), 01777, {}, 0), clock);
    auto unlimited_root = unlimited->root_lookup();
    for (int i = 0; i < 10; ++i)
        ASSERT_FALSE(
            unlimited->open(unlimited_root, "/f" + std::to_string(i), O_WRONLY | O_CREAT, 0600)
                .is_error());
    auto figures = unlimited->root()->inode()->file_system().statfs().value();
    EXPECT_EQ(figures.f_files, 0u);
    EXPECT_EQ(figures.f_ffree, 0u);
}

// A CPIO root is charged from start on: the archive's pages and entries
// never were, so removing or truncating them gives nothing back; what the
// program adds is charged and given back.
TEST(Ramfs, CpioRootIsChargedFromNowOn) {
    test::ManualClock clock;
    image::TreeNode tree = tree_dir("", {tree_file("big", std::string(3 * 4096, 'b')),
                                         tree_file("other", std::string(4096, 'o'))});
    auto fs = test::ramfs_of(tree, clock.clock());
    ASSERT_FALSE(fs.is_error()) << fs.error().message();
    int64_t charged = 0;
    ASSERT_TRUE(fs.value()->charge_writes_to(counting_charge(charged, 1 << 20)));
    auto vfs = vfs_over(fs.release_value(), clock);
    auto root = vfs->root_lookup();
    auto big = vfs->open(root, "/big", O_RDWR, 0).release_value();
    ASSERT_FALSE(big->truncate(4096).is_error());
    EXPECT_EQ(charged, 0);
    std::vector<uint8_t> data(2 * 4096, 'x');
    ASSERT_FALSE(big->pwrite(data, 4096).is_error());  // two new pages
    EXPECT_EQ(charged, 2 * 4096);
    ASSERT_FALSE(big->truncate(0).is_error());  // the new pages and the archive's
    EXPECT_EQ(charged, 0);
    big.reset();
    ASSERT_FALSE(vfs->unlink(root, "/other").is_error());
    EXPECT_EQ(charged, 0);
    ASSERT_FALSE(vfs->open(root, "/new", O_WRONLY | O_CREAT, 0600).is_error());
    EXPECT_EQ(charged, static_cast<int64_t>(kRamfsEntryBytes));
    ASSERT_FALSE(vfs->unlink(root, "/new").is_error());
    EXPECT_EQ(charged, 0);
}

}  // namespace
}  // namespace myst::fs

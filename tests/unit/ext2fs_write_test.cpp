// Changing ext2 images through the Inode API, then checking the device's
// bytes with Linux's tools: e2fsck -fn must find nothing to fix, debugfs
// must read the new contents, and a fresh mount must see the same state.
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <filesystem>
#include <set>
#include <thread>

#include "tests/unit/ext2fs_test_helpers.h"
#include "tools/myst/dir_scan.h"

using namespace myst;
using namespace myst::test;

namespace {

using InodeRef = std::shared_ptr<fs::Inode>;

std::span<const uint8_t> span_of(std::string_view text) {
    return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// The source every image kind is made from.
void make_source(const std::string& root) {
    std::filesystem::create_directories(root + "/sub");
    std::filesystem::create_directories(root + "/emptydir");
    std::filesystem::create_directories(root + "/fulldir");
    write_file(root + "/keep", "keep me\n");
    write_file(root + "/old.txt", random_bytes(4000, 3));
    write_file(root + "/victim", "bye\n");
    write_file(root + "/fulldir/x", "x");
    write_file(root + "/sub/inner", random_bytes(70000, 4));
}

struct ImageKind {
    const char* name;
    const char* mke2fs_options;  // null: our writer
    bool large_files;            // revision 0 has no large_file feature
    bool large_inodes = true;    // 256 bytes: nanoseconds and epoch bits
};

Bytes make_image(const TempDir& scratch, const ImageKind& kind) {
    std::string source = scratch.path("source");
    make_source(source);
    if (kind.mke2fs_options)
        return mke2fs_image(scratch, source, kind.mke2fs_options);
    auto tree = tools::scan_directory(source);
    EXPECT_FALSE(tree.is_error()) << tree.error().message();
    return write_tree(tree.value(), 16 << 20);
}

InodeRef must(Result<InodeRef> result, const std::string& what) {
    EXPECT_FALSE(result.is_error()) << what << ": " << result.error().message();
    return result.is_error() ? nullptr : result.release_value();
}

InodeRef create_file(fs::Inode& dir, const std::string& name, mode_t mode = S_IFREG | 0644) {
    return must(dir.create(name, {mode, 0, 0, 0}), "create " + name);
}

void write_all(fs::Inode& inode, uint64_t offset, std::span<const uint8_t> data) {
    auto written = inode.write_at(offset, data);
    ASSERT_FALSE(written.is_error()) << written.error().message();
    ASSERT_EQ(written.value(), data.size());
}

std::string text_of(fs::Inode& inode) {
    auto bytes = read_inode(inode);
    EXPECT_FALSE(bytes.is_error()) << bytes.error().message();
    return bytes.is_error() ? "" : std::string(bytes.value().begin(), bytes.value().end());
}

// e2fsck -fn on the bytes: nothing to fix.
std::string expect_clean(const TempDir& scratch, const Bytes& bytes) {
    std::string image = save_image(scratch, bytes);
    FsckResult checked = fsck(image);
    EXPECT_TRUE(checked.clean) << checked.output;
    return image;
}

class Ext2Changes : public ::testing::TestWithParam<ImageKind> {};

// One session of every kind of change, checked by e2fsck, debugfs and a remount.
TEST_P(Ext2Changes, SessionOfChangesPassesFsck) {
    TempDir scratch;
    const ImageKind& kind = GetParam();
    Bytes bytes = make_image(scratch, kind);
    expect_clean(scratch, bytes);
    auto random_100k = random_bytes(100 * 1024, 5);
    auto random_600k = random_bytes(600 * 1024, 6);
    auto old_txt = read_file(scratch.path("source/old.txt"));
    uint64_t huge_offset = 5ull << 30;
    uint32_t block_size = 0;
    {
        auto mounted = mount_bytes(bytes, 4096);
        ASSERT_FALSE(mounted.is_error()) << mounted.error().message();
        auto fs = mounted.value();
        InodeRef root = fs->root();
        block_size = static_cast<uint32_t>(root->stat().value().st_blksize);

        // Files: create, write, extend, shrink, append.
        InodeRef note = create_file(*root, "new.txt");
        write_all(*note, 0, span_of("hello"));
        ASSERT_FALSE(note->truncate(10000).is_error());
        EXPECT_EQ(text_of(*note), "hello" + std::string(9995, '\0'));
        ASSERT_FALSE(note->truncate(3).is_error());
        EXPECT_EQ(note->append(span_of("!!")).value(), 5u);
        EXPECT_EQ(text_of(*note), "hel!!");
        EXPECT_EQ(error_code(root->create("new.txt", {S_IFREG | 0644, 0, 0, 0})), EEXIST);

        InodeRef dir1 = must(root->create("dir1", {S_IFDIR | 0750, 0, 0, 0}), "mkdir dir1");
        InodeRef dir2 = must(root->create("dir2", {S_IFDIR | 0755, 0, 0, 0}), "mkdir dir2");
        EXPECT_EQ(dir1->stat().value().st_nlink, 2u);
        InodeRef file = create_file(*dir1, "file");
        write_all(*file, 0, random_100k);
        EXPECT_TRUE(read_inode(*file).value() == random_100k);

        // Indirect and double indirect blocks, then freed in part.
        InodeRef big = create_file(*root, "big");
        write_all(*big, 0, random_600k);
        EXPECT_TRUE(read_inode(*big).value() == random_600k);
        uint64_t kept = 13 * block_size + 100;
        ASSERT_FALSE(big->truncate(kept).is_error());
        EXPECT_TRUE(read_inode(*big).value() ==
                    std::vector<uint8_t>(random_600k.begin(), random_600k.begin() + kept));
        // Growing again reads zeros past the old end.
        ASSERT_FALSE(big->truncate(kept + 5000).is_error());
        auto grown = read_inode(*big).value();
        EXPECT_TRUE(std::all_of(grown.begin() + kept, grown.end(), [](uint8_t b) { return !b; }));

        // Holes stay holes.
        InodeRef sparse = create_file(*root, "sparse");
        write_all(*sparse, 0, span_of("start"));
        write_all(*sparse, 1 << 20, span_of("middle"));
        struct stat sparse_st = sparse->stat().value();
        EXPECT_EQ(sparse_st.st_size, (1 << 20) + 6);
        EXPECT_LT(sparse_st.st_blocks, 8 * 8);

        // Past 4 GiB: triple indirect blocks and i_size_high.
        InodeRef huge = create_file(*root, "huge");
        auto marker = huge->write_at(huge_offset, span_of("far away"));
        if (kind.large_files) {
            ASSERT_FALSE(marker.is_error()) << marker.error().message();
            std::vector<uint8_t> back(8);
            ASSERT_EQ(huge->read_at(huge_offset, back).value(), 8u);
            EXPECT_EQ(std::string(back.begin(), back.end()), "far away");
            EXPECT_EQ(huge->stat().value().st_size, static_cast<off_t>(huge_offset + 8));
        } else {
            EXPECT_EQ(error_code(marker), EFBIG);
        }

        // A file from the image, changed in the middle.
        InodeRef inner = must(walk(root, "sub/inner"), "sub/inner");
        write_all(*inner, 1000, span_of("CHANGED"));

        // Renames: across directories, over a file, a directory (".." moves),
        // within one directory, over an empty directory.
        ASSERT_FALSE(root->rename("new.txt", *dir2, "renamed.txt").is_error());
        ASSERT_FALSE(root->rename("old.txt", *root, "keep").is_error());
        ASSERT_FALSE(root->rename("dir1", *dir2, "moved").is_error());
        ASSERT_FALSE(dir2->rename("moved", *dir2, "moved2").is_error());
        InodeRef dir3 = must(root->create("dir3", {S_IFDIR | 0700, 0, 0, 0}), "mkdir dir3");
        ASSERT_FALSE(root->rename("emptydir", *root, "dir3").is_error());
        EXPECT_EQ(error_code(root->rename("dir3", *root, "fulldir")), ENOTEMPTY);
        EXPECT_EQ(error_code(root->lookup("new.txt")), ENOENT);
        EXPECT_EQ(dir2->stat().value().st_nlink, 3u);  // "." , its entry, moved2's ".."
        auto moved = must(walk(root, "dir2/moved2"), "moved2");
        EXPECT_EQ(moved.get(), dir1.get());

        // Removal.
        ASSERT_FALSE(root->unlink("victim").is_error());
        EXPECT_EQ(error_code(root->unlink("victim")), ENOENT);
        EXPECT_EQ(error_code(root->unlink("sub")), EISDIR);
        EXPECT_EQ(error_code(root->remove_directory("keep")), ENOTDIR);
        EXPECT_EQ(error_code(root->remove_directory("fulldir")), ENOTEMPTY);
        InodeRef fulldir = must(root->lookup("fulldir"), "fulldir");
        ASSERT_FALSE(fulldir->unlink("x").is_error());
        ASSERT_FALSE(root->remove_directory("fulldir").is_error());
        EXPECT_EQ(error_code(fulldir->create("y", {S_IFREG | 0644, 0, 0, 0})), ENOENT);
        fulldir.reset();

        // Links.
        InodeRef fast = must(root->create_symlink("fl", "dir2/renamed.txt", {}), "fast link");
        InodeRef slow = must(root->create_symlink("sl", std::string(200, 'z'), {}), "slow link");
        EXPECT_EQ(fast->read_link().value(), "dir2/renamed.txt");
        EXPECT_EQ(slow->read_link().value(), std::string(200, 'z'));
        EXPECT_EQ(slow->stat().value().st_blocks, block_size / 512);
        ASSERT_FALSE(root->link("hl", note).is_error());
        EXPECT_EQ(note->stat().value().st_nlink, 2u);
        EXPECT_EQ(error_code(root->link("hl2", dir2)), EPERM);

        // Attributes.
        InodeRef keep = must(root->lookup("keep"), "keep");
        ASSERT_FALSE(keep->chmod(0600).is_error());
        ASSERT_FALSE(keep->chown(70000, 80000).is_error());
        struct timespec times[2] = {{1, 2}, {4102444800, 5}};
        ASSERT_FALSE(keep->set_times(times).is_error());
        struct stat keep_st = keep->stat().value();
        EXPECT_EQ(keep_st.st_mode, S_IFREG | 0600);
        EXPECT_EQ(keep_st.st_uid, 70000u);
        // 128-byte inodes have no epoch bits: the time is clamped, as Linux does.
        EXPECT_EQ(keep_st.st_mtim.tv_sec, kind.large_inodes ? 4102444800 : INT32_MAX);
        EXPECT_EQ(keep_st.st_mtim.tv_nsec, kind.large_inodes ? 5 : 0);

        // Devices, fifos, sockets.
        ASSERT_FALSE(root->create("cdev", {S_IFCHR | 0600, 0, 0, makedev(259, 70000)}).is_error());
        ASSERT_FALSE(root->create("fifo", {S_IFIFO | 0600, 0, 0, 0}).is_error());
        ASSERT_FALSE(root->create("sock", {S_IFSOCK | 0600, 0, 0, 0}).is_error());

        // A directory over several blocks, thinned out.
        InodeRef lots = must(root->create("lots", {S_IFDIR | 0755, 0, 0, 0}), "lots");
        for (int i = 0; i < 400; ++i)
            ASSERT_FALSE(lots->create("file-number-" + std::to_string(i), {S_IFREG | 0644, 0, 0, 0})
                             .is_error());
        for (int i = 0; i < 400; i += 3)
            ASSERT_FALSE(lots->unlink("file-number-" + std::to_string(i)).is_error());
        EXPECT_EQ(list_directory(*lots).value().size(), 400u - 134u);
        EXPECT_GT(lots->stat().value().st_size, block_size);

        // Unlinked while open: readable until the last reference goes.
        InodeRef ghost = create_file(*root, "ghost");
        write_all(*ghost, 0, random_100k);
        ASSERT_FALSE(root->unlink("ghost").is_error());
        EXPECT_EQ(ghost->stat().value().st_nlink, 0u);
        EXPECT_TRUE(read_inode(*ghost).value() == random_100k);
    }  // every reference dropped: the ghost is freed

    std::string image = expect_clean(scratch, bytes);
    EXPECT_EQ(debugfs(image, "cat /dir2/renamed.txt"), "hel!!");
    EXPECT_EQ(debugfs(image, "cat /hl"), "hel!!");
    EXPECT_EQ(debugfs(image, "cat /keep"), std::string(old_txt.begin(), old_txt.end()));
    std::string dumped = scratch.path("file.out");
    debugfs(image, "dump /dir2/moved2/file " + dumped);
    EXPECT_TRUE(read_file(dumped) == random_100k);
    DebugfsStat keep = debugfs_stat(image, "/keep");
    EXPECT_EQ(keep.mode, 0600u);
    EXPECT_EQ(keep.uid, 70000u);
    EXPECT_EQ(keep.gid, 80000u);
    DebugfsStat dir2 = debugfs_stat(image, "/dir2");
    EXPECT_EQ(dir2.links, 3u);
    EXPECT_NE(debugfs(image, "ls -l /dir2/moved2").find(std::to_string(dir2.ino)),
              std::string::npos);
    EXPECT_NE(debugfs(image, "stat /fl").find("Fast link dest: \"dir2/renamed.txt\""),
              std::string::npos);
    EXPECT_NE(debugfs(image, "stat /cdev").find("259:70000"), std::string::npos)
        << debugfs(image, "stat /cdev");
    if (kind.large_files) {
        EXPECT_EQ(debugfs_stat(image, "/huge").size, huge_offset + 8);
    }

    // A fresh mount sees the same state.
    auto again = mount_bytes(bytes);
    ASSERT_FALSE(again.is_error()) << again.error().message();
    InodeRef root = again.value()->root();
    EXPECT_EQ(text_of(*must(walk(root, "dir2/renamed.txt"), "renamed")), "hel!!");
    EXPECT_EQ(must(walk(root, "sl"), "sl")->read_link().value(), std::string(200, 'z'));
    auto inner = read_inode(*must(walk(root, "sub/inner"), "inner")).value();
    EXPECT_EQ(std::string(inner.begin() + 1000, inner.begin() + 1007), "CHANGED");
    struct stat keep_st = must(walk(root, "keep"), "keep")->stat().value();
    EXPECT_EQ(keep_st.st_uid, 70000u);
    EXPECT_EQ(keep_st.st_atim.tv_sec, 1);
    struct stat cdev = must(walk(root, "cdev"), "cdev")->stat().value();
    EXPECT_EQ(major(cdev.st_rdev), 259u);
    EXPECT_EQ(minor(cdev.st_rdev), 70000u);
    EXPECT_EQ(must(walk(root, "fifo"), "fifo")->stat().value().st_mode, S_IFIFO | 0600);
    EXPECT_EQ(error_code(root->lookup("ghost")), ENOENT);
    EXPECT_EQ(error_code(root->lookup("fulldir")), ENOENT);
}

INSTANTIATE_TEST_SUITE_P(
    Images, Ext2Changes,
    ::testing::Values(ImageKind{"writer", nullptr, true}, ImageKind{"mke2fs_1k", "-b 1024", true},
                      ImageKind{"mke2fs_4k", "-b 4096", true},
                      ImageKind{"mke2fs_2k_small_inodes", "-b 2048 -I 128", true, false},
                      ImageKind{"mke2fs_no_filetype", "-b 1024 -O ^filetype", true},
                      ImageKind{"mke2fs_rev0", "-b 1024 -r 0", false, false}),
    [](const ::testing::TestParamInfo<ImageKind>& info) { return std::string(info.param.name); });

// Times set through the API come back with nanoseconds (256-byte inodes),
// past 2038 too, and new inodes get the clock's time.
TEST(Ext2Write, TimesAndOwners) {
    TempDir scratch;
    Bytes bytes = make_image(scratch, {"writer", nullptr, true});
    auto mounted = mount_bytes(bytes);
    ASSERT_FALSE(mounted.is_error()) << mounted.error().message();
    InodeRef root = mounted.value()->root();
    InodeRef file = create_file(*root, "t");
    struct stat st = file->stat().value();
    EXPECT_EQ(st.st_mtim.tv_sec, 1900000000);
    EXPECT_EQ(st.st_mtim.tv_nsec, 123456789);
    struct timespec times[2] = {{-5, 999999999}, {4102444800, 42}};
    ASSERT_FALSE(file->set_times(times).is_error());
    struct timespec keep[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
    ASSERT_FALSE(file->set_times(keep).is_error());
    st = file->stat().value();
    EXPECT_EQ(st.st_atim.tv_sec, -5);
    EXPECT_EQ(st.st_atim.tv_nsec, 999999999);
    EXPECT_EQ(st.st_mtim.tv_sec, 4102444800);
    EXPECT_EQ(st.st_mtim.tv_nsec, 42);
    ASSERT_FALSE(file->chown(static_cast<uid_t>(-1), 123456).is_error());
    EXPECT_EQ(file->stat().value().st_gid, 123456u);
    EXPECT_EQ(file->stat().value().st_uid, 0u);
    file.reset();
    root.reset();
    std::string image = expect_clean(scratch, bytes);
    DebugfsStat reference = debugfs_stat(image, "/t");
    EXPECT_EQ(reference.times["mtime"].tv_sec, 4102444800);
    EXPECT_EQ(reference.times["mtime"].tv_nsec, 42);
    EXPECT_EQ(reference.times["atime"].tv_sec, -5);
    EXPECT_EQ(reference.gid, 123456u);
}

// Changing a directory e2fsck -D indexed clears its index flag, so that
// neither Linux nor e2fsck trusts the stale htree.
TEST(Ext2Write, IndexedDirectoryDropsItsIndex) {
    TempDir scratch;
    std::string source = scratch.path("source");
    std::filesystem::create_directories(source + "/big");
    for (int i = 0; i < 500; ++i)
        write_file(source + "/big/name-" + std::to_string(i), std::to_string(i));
    Bytes made = mke2fs_image(scratch, source, "-b 1024 -O dir_index");
    std::string image = save_image(scratch, made, "indexed.img");
    ASSERT_LE(run_command("e2fsck -fyD '" + image + "'").status, 1);
    ASSERT_NE(debugfs(image, "stat /big").find("Flags: 0x1000"), std::string::npos);
    Bytes bytes = bytes_of_file(image);
    {
        auto mounted = mount_bytes(bytes);
        ASSERT_FALSE(mounted.is_error()) << mounted.error().message();
        InodeRef big = must(walk(mounted.value()->root(), "big"), "big");
        for (int i = 0; i < 500; i += 2)
            ASSERT_FALSE(big->unlink("name-" + std::to_string(i)).is_error());
        for (int i = 0; i < 100; ++i)
            create_file(*big, "added-" + std::to_string(i));
        EXPECT_EQ(list_directory(*big).value().size(), 350u);
    }
    std::string changed = expect_clean(scratch, bytes);
    EXPECT_EQ(debugfs(changed, "stat /big").find("Flags: 0x1000"), std::string::npos);
    EXPECT_EQ(debugfs(changed, "cat /big/name-7"), "7");
}

// Listing continues from a cookie after entries before and after it went away.
TEST(Ext2Write, DirectoryCookiesSurviveUnlinks) {
    TempDir scratch;
    Bytes bytes = make_image(scratch, {"mke2fs_1k", "-b 1024", true});
    auto mounted = mount_bytes(bytes);
    ASSERT_FALSE(mounted.is_error()) << mounted.error().message();
    InodeRef root = mounted.value()->root();
    InodeRef dir = must(root->create("d", {S_IFDIR | 0755, 0, 0, 0}), "d");
    for (int i = 0; i < 100; ++i)
        create_file(*dir, "entry-" + std::to_string(i));
    std::vector<std::string> seen;
    uint64_t cookie = 0;
    ASSERT_FALSE(dir->read_directory(0,
                                     [&](const fs::DirectoryEntry& entry) {
                                         seen.push_back(entry.name);
                                         cookie = entry.next_cookie;
                                         return seen.size() < 40;
                                     })
                     .is_error());
    for (const std::string& name : {seen[3], seen[39]})
        ASSERT_FALSE(dir->unlink(name).is_error());
    auto rest = list_directory(*dir).value();
    std::set<std::string> after;
    ASSERT_FALSE(dir->read_directory(cookie,
                                     [&](const fs::DirectoryEntry& entry) {
                                         EXPECT_TRUE(after.insert(entry.name).second) << entry.name;
                                         return true;
                                     })
                     .is_error());
    EXPECT_EQ(after.size(), 60u);
    for (const std::string& name : seen)
        EXPECT_EQ(after.count(name), 0u) << name;
    EXPECT_EQ(rest.size(), 98u);
}

// Filling the file system: short writes, then ENOSPC; freeing makes room again.
TEST(Ext2Write, FullFileSystem) {
    TempDir scratch;
    std::string source = scratch.path("source");
    std::filesystem::create_directories(source);
    Bytes bytes = mke2fs_image(scratch, source, "-b 1024", "2M");
    {
        auto mounted = mount_bytes(bytes);
        ASSERT_FALSE(mounted.is_error()) << mounted.error().message();
        auto fs = mounted.value();
        InodeRef root = fs->root();
        uint64_t free_before = fs->statfs().value().f_bfree;
        InodeRef filler = create_file(*root, "filler");
        auto chunk = random_bytes(256 * 1024, 9);
        uint64_t total = 0;
        for (int i = 0; i < 20; ++i) {
            auto written = filler->write_at(total, chunk);
            if (written.is_error()) {
                EXPECT_EQ(written.error().code(), ENOSPC);
                break;
            }
            total += written.value();
        }
        EXPECT_GT(total, 1000u * 1024);
        EXPECT_LT(total, 2048u * 1024);
        EXPECT_EQ(fs->statfs().value().f_bfree, 0u);
        EXPECT_EQ(error_code(root->create("dir", {S_IFDIR | 0755, 0, 0, 0})), ENOSPC);
        std::vector<uint8_t> back(total);
        ASSERT_EQ(filler->read_at(0, back).value(), total);
        EXPECT_TRUE(std::equal(back.begin(), back.begin() + chunk.size(), chunk.begin()));
        filler.reset();
        ASSERT_FALSE(root->unlink("filler").is_error());
        EXPECT_EQ(fs->statfs().value().f_bfree, free_before);
        ASSERT_FALSE(root->create("dir", {S_IFDIR | 0755, 0, 0, 0}).is_error());
    }
    expect_clean(scratch, bytes);
}

// The VFS over an ext2 root: paths, getdents, renames and O_TRUNC.
TEST(Ext2Write, ThroughTheVfs) {
    TempDir scratch;
    Bytes bytes = make_image(scratch, {"writer", nullptr, true});
    {
        auto mounted = mount_bytes(bytes);
        ASSERT_FALSE(mounted.is_error()) << mounted.error().message();
        auto vfs = fs::Vfs::create(mounted.value(), test_clock());
        ASSERT_FALSE(vfs.is_error()) << vfs.error().message();
        fs::Vfs& v = *vfs.value();
        EXPECT_EQ(read_text(v, "/keep").value(), "keep me\n");
        ASSERT_FALSE(v.make_directory(v.root_lookup(), "/made", 0755).is_error());
        ASSERT_FALSE(write_text(v, "/made/a.txt", "first version, long text").is_error());
        ASSERT_FALSE(write_text(v, "/made/a.txt", "second").is_error());
        EXPECT_EQ(read_text(v, "/made/a.txt").value(), "second");
        ASSERT_FALSE(
            v.rename(v.root_lookup(), "/made/a.txt", v.root_lookup(), "/sub/b.txt", 0).is_error());
        auto names = list_names(v, "/sub").value();
        std::sort(names.begin(), names.end());
        EXPECT_EQ(names, (std::vector<std::string>{".", "..", "b.txt", "inner"}));
        ASSERT_FALSE(v.make_symlink("../keep", v.root_lookup(), "/made/link").is_error());
        EXPECT_EQ(read_text(v, "/made/link").value(), "keep me\n");
        EXPECT_EQ(error_code(v.remove_directory(v.root_lookup(), "/made")), ENOTEMPTY);
        ASSERT_FALSE(v.unlink(v.root_lookup(), "/made/link").is_error());
        ASSERT_FALSE(v.remove_directory(v.root_lookup(), "/made").is_error());
        // An open file outlives its name.
        ASSERT_FALSE(write_text(v, "/doomed", "still here").is_error());
        auto open = v.open(v.root_lookup(), "/doomed", O_RDONLY, 0);
        ASSERT_FALSE(open.is_error());
        ASSERT_FALSE(v.unlink(v.root_lookup(), "/doomed").is_error());
        EXPECT_EQ(read_all(*open.value()).value(), "still here");
        EXPECT_EQ(open.value()->stat().value().st_nlink, 0u);
    }
    std::string image = expect_clean(scratch, bytes);
    EXPECT_EQ(debugfs(image, "cat /sub/b.txt"), "second");
}

// A file growing past 2 GiB turns on the large_file feature of an image
// without it; e2fsck accepts the result.
TEST(Ext2Write, LargeFileFeatureIsSetWhenNeeded) {
    TempDir scratch;
    std::string source = scratch.path("source");
    std::filesystem::create_directories(source);
    Bytes made = mke2fs_image(scratch, source, "-b 4096");
    // mke2fs always sets large_file; debugfs clears it in every superblock copy.
    std::string plain = save_image(scratch, made, "plain.img");
    ASSERT_EQ(run_command("debugfs -w -R 'feature -large_file' '" + plain + "'").status, 0);
    ASSERT_EQ(debugfs(plain, "features").find("large_file"), std::string::npos);
    Bytes bytes = bytes_of_file(plain);
    {
        auto mounted = mount_bytes(bytes);
        ASSERT_FALSE(mounted.is_error()) << mounted.error().message();
        InodeRef file = create_file(*mounted.value()->root(), "big");
        write_all(*file, 3ull << 30, span_of("beyond 2 GiB"));
    }
    std::string image = expect_clean(scratch, bytes);
    EXPECT_NE(debugfs(image, "features").find("large_file"), std::string::npos);
    EXPECT_EQ(debugfs_stat(image, "/big").size, (3ull << 30) + 12);
}

// Threads changing their own directories at once leave a consistent image.
TEST(Ext2Write, ConcurrentChanges) {
    TempDir scratch;
    Bytes bytes = make_image(scratch, {"mke2fs_1k", "-b 1024", true});
    {
        auto mounted = mount_bytes(bytes);
        ASSERT_FALSE(mounted.is_error()) << mounted.error().message();
        InodeRef root = mounted.value()->root();
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([root, t] {
                auto dir = root->create("t" + std::to_string(t), {S_IFDIR | 0755, 0, 0, 0});
                ASSERT_FALSE(dir.is_error());
                auto data = random_bytes(20000, static_cast<uint32_t>(t));
                for (int i = 0; i < 40; ++i) {
                    std::string name = "f" + std::to_string(i);
                    auto file = dir.value()->create(name, {S_IFREG | 0644, 0, 0, 0});
                    ASSERT_FALSE(file.is_error()) << file.error().message();
                    ASSERT_FALSE(file.value()->write_at(0, data).is_error());
                    EXPECT_TRUE(read_inode(*file.value()).value() == data);
                    if (i % 2) {
                        ASSERT_FALSE(dir.value()->unlink(name).is_error());
                    } else if (i % 10 == 0) {  // across directories, under the shared root
                        auto renamed =
                            dir.value()->rename(name, *root, name + "-" + std::to_string(t));
                        ASSERT_FALSE(renamed.is_error()) << renamed.error().message();
                    }
                }
            });
        }
        for (std::thread& thread : threads)
            thread.join();
        for (int t = 0; t < 4; ++t)
            EXPECT_EQ(list_directory(*walk(root, "t" + std::to_string(t)).value()).value().size(),
                      16u);
    }
    expect_clean(scratch, bytes);
}

}  // namespace

// The ext2 writer, checked by e2fsck and debugfs (Linux's own tools) on
// images of in-memory trees, and its layout arithmetic checked by hand.
#include <gtest/gtest.h>

#include "base/endian.h"
#include "image/ext2_geometry.h"
#include "image/ext2_plan.h"
#include "image/ext2_writer.h"
#include "tests/unit/test_support.h"

using namespace myst;
using namespace myst::image;

namespace {

constexpr int64_t fixed_time = 1700000000;

TreeNode make_node(std::string name, NodeType type, uint32_t permissions) {
    TreeNode node;
    node.name = std::move(name);
    node.type = type;
    node.permissions = permissions;
    node.atime = node.mtime = node.ctime = {fixed_time, 123456789};
    node.source = "test:" + node.name;
    return node;
}

TreeNode make_dir(std::string name, std::vector<TreeNode> children = {}) {
    TreeNode node = make_node(std::move(name), NodeType::directory, 0755);
    std::sort(children.begin(), children.end(),
              [](const TreeNode& a, const TreeNode& b) { return a.name < b.name; });
    node.children = std::move(children);
    return node;
}

TreeNode make_file(std::string name, std::vector<uint8_t> bytes, uint32_t permissions = 0644) {
    TreeNode node = make_node(std::move(name), NodeType::regular, permissions);
    node.size = bytes.size();
    node.content = std::make_shared<MemoryContent>(std::move(bytes));
    return node;
}

TreeNode make_symlink(std::string name, std::string target) {
    TreeNode node = make_node(std::move(name), NodeType::symlink, 0777);
    node.symlink_target = std::move(target);
    return node;
}

std::vector<uint8_t> text(const std::string& s) {
    return {s.begin(), s.end()};
}

// Writes the tree, stores the image in `dir`, and runs e2fsck -fn on it.
std::string build_and_check(const TreeNode& root, test::TempDir& dir, uint64_t size = 0) {
    MemoryFile image;
    Ext2BuildOptions options;
    options.size_bytes = size;
    auto summary = write_ext2(root, image, options);
    EXPECT_FALSE(summary.is_error()) << summary.error().message();
    std::string path = dir.path("fs.img");
    test::write_file(path, image.bytes());
    auto fsck = test::run_command("e2fsck -fn '" + path + "'");
    EXPECT_EQ(fsck.status, 0) << fsck.output;
    return path;
}

std::string debugfs(const std::string& image, const std::string& request) {
    auto result = test::run_command("debugfs -R '" + request + "' '" + image + "' 2>/dev/null");
    EXPECT_EQ(result.status, 0) << result.output;
    // debugfs prints its version banner on stderr; run_command merges it.
    auto banner_end = result.output.find('\n');
    if (result.output.rfind("debugfs ", 0) == 0 && banner_end != std::string::npos)
        return result.output.substr(banner_end + 1);
    return result.output;
}

}  // namespace

TEST(Ext2Geometry, SparseSuperBackupGroups) {
    std::vector<uint32_t> groups;
    for (uint32_t g = 0; g < 60; ++g)
        if (ext2::group_has_superblock(g))
            groups.push_back(g);
    EXPECT_EQ(groups, (std::vector<uint32_t>{0, 1, 3, 5, 7, 9, 25, 27, 49}));
}

TEST(Ext2Geometry, SmallLastGroupIsDropped) {
    auto geometry = ext2::Geometry::compute(32768 + 40, 1000);
    ASSERT_FALSE(geometry.is_error());
    EXPECT_EQ(geometry.value().blocks_count, 32768u);
    EXPECT_EQ(geometry.value().group_count, 1u);
    EXPECT_TRUE(ext2::Geometry::compute(20, 64).is_error());
}

TEST(Ext2Plan, IndirectBlockCounts) {
    EXPECT_EQ(ext2::indirect_blocks_for(12), 0u);
    EXPECT_EQ(ext2::indirect_blocks_for(13), 1u);
    EXPECT_EQ(ext2::indirect_blocks_for(12 + 1024), 1u);
    EXPECT_EQ(ext2::indirect_blocks_for(12 + 1024 + 1), 3u);
    EXPECT_EQ(ext2::indirect_blocks_for(12 + 1024 + 1024 * 1024), 1u + 1 + 1024);
    EXPECT_EQ(ext2::indirect_blocks_for(12 + 1024 + 1024 * 1024 + 1), 1u + 1 + 1024 + 3);
}

TEST(Ext2Writer, EmptyDirectoryPassesFsck) {
    test::TempDir dir;
    std::string image = build_and_check(make_dir(""), dir);
    std::string listing = debugfs(image, "ls -l /");
    EXPECT_NE(listing.find("lost+found"), std::string::npos) << listing;
}

TEST(Ext2Writer, FilesOfEdgeSizesReadBack) {
    test::TempDir dir;
    auto one_block = test::random_bytes(4096, 1);
    auto large = test::random_bytes(5 * 1024 * 1024 + 17, 2);  // needs double indirect
    TreeNode root = make_dir(
        "", {make_file("empty", {}), make_file("one_block", one_block),
             make_file("large", large, 04755), make_file("small", text("Hello World!\n"))});
    std::string image = build_and_check(root, dir);
    for (auto& [name, bytes] : std::vector<std::pair<std::string, std::vector<uint8_t>>>{
             {"empty", {}}, {"one_block", one_block}, {"large", large}}) {
        std::string out = dir.path(name + ".out");
        debugfs(image, "dump /" + name + " " + out);
        EXPECT_EQ(test::read_file(out), bytes) << name;
    }
    EXPECT_EQ(debugfs(image, "cat /small"), "Hello World!\n");
    std::string stat = debugfs(image, "stat /large");
    EXPECT_NE(stat.find("Mode:  04755"), std::string::npos) << stat;
}

TEST(Ext2Writer, ZeroBlocksBecomeHoles) {
    test::TempDir dir;
    std::vector<uint8_t> sparse(64 * 4096, 0);
    sparse[10 * 4096] = 1;
    sparse.back() = 2;
    std::string image = build_and_check(make_dir("", {make_file("sparse", sparse)}), dir);
    std::string out = dir.path("sparse.out");
    debugfs(image, "dump /sparse " + out);
    EXPECT_EQ(test::read_file(out), sparse);
    // Two data blocks and one indirect block: 3 * 8 sectors.
    EXPECT_NE(debugfs(image, "stat /sparse").find("Blockcount: 24"), std::string::npos);
}

TEST(Ext2Writer, ManyEntriesDeepPathsSymlinksAndHardLinks) {
    test::TempDir dir;
    std::vector<TreeNode> many;
    for (int i = 0; i < 10000; ++i)
        many.push_back(make_file("file-with-a-longish-name-" + std::to_string(i), {}));
    TreeNode deep = make_file("bottom", text("deep\n"));
    for (int level = 0; level < 100; ++level)
        deep = make_dir("d" + std::to_string(level), {std::move(deep)});
    TreeNode linked_a = make_file("a", text("shared\n"));
    TreeNode linked_b = make_file("b", text("shared\n"));
    linked_a.link_group = linked_b.link_group = 42;
    std::string long_target(300, 'x');
    TreeNode root =
        make_dir("", {make_dir("many", std::move(many)), std::move(deep),
                      make_symlink("fast", "many/file-with-a-longish-name-7"),
                      make_symlink("slow", long_target), std::move(linked_a), std::move(linked_b)});
    std::string image = build_and_check(root, dir);
    EXPECT_NE(debugfs(image, "ls /many").find("file-with-a-longish-name-9999"), std::string::npos);
    std::string path = "/d99";
    for (int level = 98; level >= 0; --level)
        path += "/d" + std::to_string(level);
    EXPECT_EQ(debugfs(image, "cat " + path + "/bottom"), "deep\n");
    EXPECT_NE(
        debugfs(image, "stat /fast").find("Fast link dest: \"many/file-with-a-longish-name-7\""),
        std::string::npos);
    EXPECT_NE(debugfs(image, "stat /slow").find("Links: 1"), std::string::npos);
    std::string a = debugfs(image, "stat /a");
    EXPECT_NE(a.find("Links: 2"), std::string::npos) << a;
    EXPECT_EQ(debugfs(image, "testi /a"), debugfs(image, "testi /b"));
}

TEST(Ext2Writer, StoresOwnersTimesAndDevices) {
    test::TempDir dir;
    TreeNode file = make_file("owned", text("x"));
    file.uid = 70000;  // needs the high 16 bits
    file.gid = 1234;
    file.mtime = {4102444800, 5};  // 2100-01-01: past 2038, epoch bit 1
    TreeNode device = make_node("null", NodeType::char_device, 0666);
    device.rdev_major = 1;
    device.rdev_minor = 3;
    TreeNode fifo = make_node("pipe", NodeType::fifo, 0600);
    std::string image = build_and_check(make_dir("", {file, device, fifo}), dir);
    std::string stat = debugfs(image, "stat /owned");
    EXPECT_NE(stat.find("User: 70000"), std::string::npos) << stat;
    EXPECT_NE(stat.find("Group:  1234"), std::string::npos) << stat;
    EXPECT_NE(stat.find("mtime: 0xf4865700:00000015"), std::string::npos) << stat;
    EXPECT_NE(debugfs(image, "stat /null").find("Device major/minor number: 01:03"),
              std::string::npos);
}

TEST(Ext2Writer, ManyGroupsPassFsck) {
    test::TempDir dir;
    // 300 MiB: ten block groups, superblock backups in 1, 3, 5, 7, 9.
    build_and_check(make_dir("", {make_file("f", text("data"))}), dir, 300ull << 20);
}

TEST(Ext2Writer, RejectsWhatExt2CannotHold) {
    MemoryFile image;
    auto long_name = write_ext2(make_dir("", {make_file(std::string(256, 'n'), {})}), image, {});
    ASSERT_TRUE(long_name.is_error());
    EXPECT_NE(long_name.error().message().find("ext2 allows 1 to 255"), std::string::npos);
    auto long_link =
        write_ext2(make_dir("", {make_symlink("l", std::string(4096, 't'))}), image, {});
    ASSERT_TRUE(long_link.is_error());
    Ext2BuildOptions small;
    small.size_bytes = 1 << 20;
    auto too_big = write_ext2(make_dir("", {make_file("big", std::vector<uint8_t>(4 << 20, 1))}),
                              image, small);
    ASSERT_TRUE(too_big.is_error());
    EXPECT_NE(too_big.error().message().find("needs an ext2 image of at least"), std::string::npos);
    // Sizes under 1 MiB are told apart (not both "1 MiB").
    small.size_bytes = 64 << 10;
    auto tiny = write_ext2(make_dir("", {make_file("f", {1})}), image, small);
    ASSERT_TRUE(tiny.is_error());
    EXPECT_NE(tiny.error().message().find("the size asked for is 65536 bytes (64 KiB)"),
              std::string::npos)
        << tiny.error().message();
}

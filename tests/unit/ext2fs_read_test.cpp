// Reading ext2 images made by our writer and by Linux's mke2fs: every file's
// bytes against its source, every stat field against the source tree and
// against debugfs (Linux's own reading of the same image).
#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <filesystem>
#include <functional>

#include "tests/unit/ext2fs_test_helpers.h"

using namespace myst;
using namespace myst::test;
using image::NodeType;
using image::TreeNode;

namespace {

TreeNode node(std::string name, NodeType type, uint32_t permissions) {
    TreeNode n;
    n.name = std::move(name);
    n.type = type;
    n.permissions = permissions;
    n.uid = 1000;
    n.gid = 100;
    n.atime = {1600000000, 111111111};
    n.mtime = {1650000000, 222222222};
    n.ctime = {1690000000, 333333333};
    n.source = "test:" + n.name;
    return n;
}

TreeNode dir(std::string name, std::vector<TreeNode> children) {
    TreeNode n = node(std::move(name), NodeType::directory, 0755);
    std::sort(children.begin(), children.end(),
              [](const TreeNode& a, const TreeNode& b) { return a.name < b.name; });
    n.children = std::move(children);
    return n;
}

TreeNode file(std::string name, std::vector<uint8_t> bytes, uint32_t permissions = 0644) {
    TreeNode n = node(std::move(name), NodeType::regular, permissions);
    n.size = bytes.size();
    n.content = std::make_shared<image::MemoryContent>(std::move(bytes));
    return n;
}

TreeNode symlink(std::string name, std::string target) {
    TreeNode n = node(std::move(name), NodeType::symlink, 0777);
    n.symlink_target = std::move(target);
    return n;
}

// Zeros with a marker in the last 16 bytes, never held in memory whole.
class SparseContent final : public image::FileContent {
public:
    SparseContent(uint64_t size, std::string marker) : m_size(size), m_marker(std::move(marker)) {}
    Result<std::unique_ptr<image::RandomAccessFile>> open() const override {
        return std::unique_ptr<image::RandomAccessFile>(std::make_unique<Reader>(*this));
    }

private:
    class Reader final : public image::RandomAccessFile {
    public:
        explicit Reader(const SparseContent& content) : m_content(content) {}
        Result<void> read_at(uint64_t offset, std::span<uint8_t> buffer) override {
            std::memset(buffer.data(), 0, buffer.size());
            uint64_t marker_at = m_content.m_size - m_content.m_marker.size();
            uint64_t first = std::max(offset, marker_at);
            uint64_t end = std::min(offset + buffer.size(), m_content.m_size);
            for (uint64_t position = first; position < end; ++position)
                buffer[position - offset] =
                    static_cast<uint8_t>(m_content.m_marker[position - marker_at]);
            return {};
        }
        Result<void> write_at(uint64_t, std::span<const uint8_t>) override {
            return Error(EROFS, "read-only");
        }
        Result<uint64_t> size() override { return m_content.m_size; }
        Result<void> truncate(uint64_t) override { return Error(EROFS, "read-only"); }

    private:
        const SparseContent& m_content;
    };

    uint64_t m_size;
    std::string m_marker;
};

// The tree the writer tests use, and more: many entries, deep paths,
// symlinks fast and slow, hard links, holes, a 5 MiB file, large ids and
// times past 2038, devices, a fifo and a socket.
TreeNode rich_tree() {
    std::vector<TreeNode> many;
    for (int i = 0; i < 1500; ++i)
        many.push_back(file("entry-with-a-longish-name-" + std::to_string(i),
                            to_bytes("n" + std::to_string(i))));
    TreeNode deep = file("bottom", to_bytes("deep\n"));
    for (int level = 0; level < 40; ++level)
        deep = dir("d" + std::to_string(level), {std::move(deep)});
    std::vector<uint8_t> sparse(300 * 4096, 0);
    sparse[5] = 1;
    sparse[200 * 4096 + 17] = 2;
    sparse.back() = 3;
    TreeNode linked_a = file("a", to_bytes("shared\n"));
    TreeNode linked_b = file("b", to_bytes("shared\n"));
    linked_a.link_group = linked_b.link_group = 7;
    TreeNode owned = file("owned", to_bytes("x"), 04755);
    owned.uid = 70000;
    owned.gid = 80000;
    owned.mtime = {4102444800, 5};  // 2100
    owned.atime = {-100, 7};        // before 1970
    TreeNode null = node("null", NodeType::char_device, 0666);
    null.rdev_major = 1;
    null.rdev_minor = 3;
    TreeNode disk = node("disk", NodeType::block_device, 0660);
    disk.rdev_major = 259;  // needs the new encoding
    disk.rdev_minor = 70000;
    return dir("", {dir("many", std::move(many)), std::move(deep),
                    file("large", random_bytes(5 * 1024 * 1024 + 17, 2)), file("empty", {}),
                    file("sparse", sparse), symlink("fast", "many/entry-with-a-longish-name-7"),
                    symlink("slow", std::string(300, 's')), std::move(linked_a),
                    std::move(linked_b), std::move(owned), std::move(null), std::move(disk),
                    node("pipe", NodeType::fifo, 0600), node("socket", NodeType::socket, 0755)});
}

void expect_time(const struct timespec& got, const image::Timestamp& want,
                 const std::string& what) {
    EXPECT_EQ(got.tv_sec, want.seconds) << what;
    EXPECT_EQ(got.tv_nsec, want.nanoseconds) << what;
}

void expect_same_as_debugfs(const struct stat& st, const std::string& image,
                            const std::string& path) {
    DebugfsStat reference = debugfs_stat(image, path);
    ASSERT_TRUE(reference.ok) << path;
    EXPECT_EQ(st.st_ino, reference.ino) << path;
    EXPECT_EQ(st.st_mode & 07777, reference.mode) << path;
    EXPECT_EQ(st.st_uid, reference.uid) << path;
    EXPECT_EQ(st.st_gid, reference.gid) << path;
    EXPECT_EQ(static_cast<uint64_t>(st.st_size), reference.size) << path;
    EXPECT_EQ(st.st_nlink, reference.links) << path;
    EXPECT_EQ(static_cast<uint64_t>(st.st_blocks), reference.blockcount) << path;
    for (auto& [name, time] : reference.times) {
        const struct timespec& ours = name == "atime"   ? st.st_atim
                                      : name == "mtime" ? st.st_mtim
                                                        : st.st_ctim;
        EXPECT_EQ(ours.tv_sec, time.tv_sec) << path << " " << name;
        EXPECT_EQ(ours.tv_nsec, time.tv_nsec) << path << " " << name;
    }
}

// Compares every node of `tree` with what the mounted file system shows.
void check_tree(fs::Inode& inode, const TreeNode& tree, const std::string& path,
                const std::string& image, bool with_debugfs) {
    SCOPED_TRACE(path);
    auto st_result = inode.stat();
    ASSERT_FALSE(st_result.is_error()) << st_result.error().message();
    struct stat st = st_result.value();
    EXPECT_EQ(st.st_mode, tree.mode());
    EXPECT_EQ(st.st_uid, tree.uid);
    EXPECT_EQ(st.st_gid, tree.gid);
    EXPECT_EQ(st.st_blksize, 4096);
    expect_time(st.st_atim, tree.atime, "atime");
    expect_time(st.st_mtim, tree.mtime, "mtime");
    expect_time(st.st_ctim, tree.ctime, "ctime");
    if (with_debugfs)
        expect_same_as_debugfs(st, image, path.empty() ? "/" : path);
    switch (tree.type) {
        case NodeType::regular: {
            EXPECT_EQ(static_cast<uint64_t>(st.st_size), tree.size);
            auto file = tree.content->open();
            ASSERT_FALSE(file.is_error());
            std::vector<uint8_t> want(tree.size);
            ASSERT_FALSE(file.value()->read_at(0, want).is_error());
            auto got = read_inode(inode);
            ASSERT_FALSE(got.is_error()) << got.error().message();
            EXPECT_TRUE(got.value() == want);
            break;
        }
        case NodeType::symlink: {
            auto target = inode.read_link();
            ASSERT_FALSE(target.is_error()) << target.error().message();
            EXPECT_EQ(target.value(), tree.symlink_target);
            EXPECT_EQ(static_cast<size_t>(st.st_size), tree.symlink_target.size());
            break;
        }
        case NodeType::char_device:
        case NodeType::block_device:
            EXPECT_EQ(major(st.st_rdev), tree.rdev_major);
            EXPECT_EQ(minor(st.st_rdev), tree.rdev_minor);
            break;
        case NodeType::directory: {
            auto listed = list_directory(inode);
            ASSERT_FALSE(listed.is_error()) << listed.error().message();
            std::map<std::string, uint64_t> names = listed.value();
            if (path.empty())
                names.erase("lost+found");
            ASSERT_EQ(names.size(), tree.children.size());
            for (const TreeNode& child : tree.children) {
                ASSERT_TRUE(names.count(child.name)) << child.name;
                auto found = inode.lookup(child.name);
                ASSERT_FALSE(found.is_error()) << child.name << ": " << found.error().message();
                EXPECT_EQ(found.value()->ino(), names[child.name]);
                // debugfs once per kind of node keeps the test fast.
                bool check = with_debugfs && (child.name.rfind("entry-with", 0) != 0 ||
                                              child.name == "entry-with-a-longish-name-42");
                check_tree(*found.value(), child, path + "/" + child.name, image, check);
            }
            break;
        }
        default:
            break;
    }
}

class Ext2WriterImages : public ::testing::TestWithParam<uint32_t> {};

TEST_P(Ext2WriterImages, EveryFileAndStatFieldMatchesTheTree) {
    TempDir scratch;
    TreeNode tree = rich_tree();
    Bytes bytes = write_tree(tree);
    std::string image = save_image(scratch, bytes);
    auto mounted = mount_bytes(bytes, GetParam());
    ASSERT_FALSE(mounted.is_error()) << mounted.error().message();
    auto root = mounted.value()->root();
    check_tree(*root, tree, "", image, true);

    auto a = walk(root, "a");
    auto b = walk(root, "b");
    ASSERT_FALSE(a.is_error() || b.is_error());
    EXPECT_EQ(a.value()->ino(), b.value()->ino());
    EXPECT_EQ(a.value().get(), b.value().get());  // one object per inode
    EXPECT_EQ(a.value()->stat().value().st_nlink, 2u);
    auto bottom = walk(root,
                       "d39/d38/d37/d36/d35/d34/d33/d32/d31/d30/d29/d28/d27/d26/d25/d24/"
                       "d23/d22/d21/d20/d19/d18/d17/d16/d15/d14/d13/d12/d11/d10/d9/d8/d7/"
                       "d6/d5/d4/d3/d2/d1/d0/bottom");
    ASSERT_FALSE(bottom.is_error()) << bottom.error().message();
    EXPECT_EQ(read_inode(*bottom.value()).value(), to_bytes("deep\n"));
    // Holes read as zeros and cost no blocks: 3 data blocks and an indirect one.
    EXPECT_EQ(walk(root, "sparse").value()->stat().value().st_blocks, 4 * 8);
}

INSTANTIATE_TEST_SUITE_P(DeviceBlockSizes, Ext2WriterImages, ::testing::Values(512u, 4096u));

TEST(Ext2Read, LookupErrors) {
    Bytes bytes = write_tree(dir("", {file("f", to_bytes("x")), dir("d", {})}));
    auto mounted = mount_bytes(bytes);
    ASSERT_FALSE(mounted.is_error()) << mounted.error().message();
    auto root = mounted.value()->root();
    EXPECT_EQ(error_code(root->lookup("missing")), ENOENT);
    EXPECT_EQ(error_code(root->lookup(std::string(256, 'n'))), ENAMETOOLONG);
    auto f = root->lookup("f").value();
    EXPECT_EQ(error_code(f->lookup("x")), ENOTDIR);
    EXPECT_EQ(error_code(f->read_link()), EINVAL);
    std::vector<uint8_t> buffer(10);
    EXPECT_EQ(error_code(root->read_at(0, buffer)), EISDIR);
    EXPECT_EQ(f->read_at(1, buffer).value(), 0u);  // at end of file
    EXPECT_EQ(mounted.value()->type_name(), "ext2");
    auto st = mounted.value()->statfs();
    ASSERT_FALSE(st.is_error());
    EXPECT_EQ(st.value().f_type, 0xEF53);
    EXPECT_EQ(st.value().f_bsize, 4096);
    EXPECT_GT(st.value().f_bfree, 0u);
    EXPECT_LT(st.value().f_bfree, st.value().f_blocks);
}

// A 5 GiB file (triple indirect blocks, i_size_high) from the writer into a
// sparse host file: its last bytes read back through a file-backed device.
TEST(Ext2Read, FileLargerThan4GiB) {
    TempDir scratch;
    constexpr uint64_t size = 5ull << 30;
    TreeNode huge = node("huge", NodeType::regular, 0644);
    huge.size = size;
    huge.content = std::make_shared<SparseContent>(size, "END-OF-5-GIB-OK!");
    TreeNode tree = dir("", {std::move(huge)});
    auto estimate = image::estimate_ext2_size(tree);
    ASSERT_FALSE(estimate.is_error()) << estimate.error().message();
    std::string path = scratch.path("huge.img");
    {
        HostRandomFile out(path);
        image::Ext2BuildOptions options;
        options.size_bytes = estimate.value().required_bytes;
        auto written = image::write_ext2(tree, out, options);
        ASSERT_FALSE(written.is_error()) << written.error().message();
    }
    auto mounted = fs::create_ext2fs(std::make_unique<FileDevice>(path), test_clock(), path);
    ASSERT_FALSE(mounted.is_error()) << mounted.error().message();
    auto inode = walk(mounted.value()->root(), "huge");
    ASSERT_FALSE(inode.is_error()) << inode.error().message();
    struct stat st = inode.value()->stat().value();
    EXPECT_EQ(static_cast<uint64_t>(st.st_size), size);
    // One data block, and the triple, double and single indirect blocks over it.
    EXPECT_EQ(st.st_blocks, 4 * 8);
    expect_same_as_debugfs(st, path, "/huge");

    std::vector<uint8_t> tail(64, 0xee);
    auto got = inode.value()->read_at(size - 48, tail);
    ASSERT_FALSE(got.is_error()) << got.error().message();
    EXPECT_EQ(got.value(), 48u);
    EXPECT_TRUE(std::all_of(tail.begin(), tail.begin() + 32, [](uint8_t b) { return b == 0; }));
    EXPECT_EQ(std::string(tail.begin() + 32, tail.begin() + 48), "END-OF-5-GIB-OK!");
    std::vector<uint8_t> middle(3 * 4096 + 5, 0xee);
    ASSERT_FALSE(inode.value()->read_at((4ull << 30) + 3, middle).is_error());
    EXPECT_TRUE(std::all_of(middle.begin(), middle.end(), [](uint8_t b) { return b == 0; }));
}

// --- Images from mke2fs -d ---

void write_host(const std::string& path, const std::vector<uint8_t>& bytes) {
    write_file(path, bytes);
}

// A host directory with the shapes an image holds.
void make_host_tree(const std::string& root) {
    namespace stdfs = std::filesystem;
    stdfs::create_directories(root + "/sub/deeper/deepest");
    stdfs::create_directories(root + "/many");
    int seed = 10;
    for (size_t size : {0, 1, 1023, 1024, 1025, 12 * 1024 + 1, 300 * 1024, 2 * 1024 * 1024 + 3})
        write_host(root + "/size-" + std::to_string(size), random_bytes(size, ++seed));
    write_host(root + "/sub/deeper/deepest/leaf", to_bytes("leaf\n"));
    for (int i = 0; i < 300; ++i)
        write_host(root + "/many/f" + std::to_string(i), to_bytes(std::to_string(i)));
    // Holes: a 3 MiB file with data in the middle and at the end.
    int fd = ::open((root + "/holes").c_str(), O_WRONLY | O_CREAT, 0640);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, "middle", 6, 1 << 20), 6);
    ASSERT_EQ(::pwrite(fd, "end", 3, (3 << 20) - 3), 3);
    ::close(fd);
    stdfs::create_symlink("size-1", root + "/fast-link");
    stdfs::create_symlink(std::string(200, 'L'), root + "/slow-link");
    ASSERT_EQ(::link((root + "/size-1").c_str(), (root + "/hard-link").c_str()), 0);
    ASSERT_EQ(::mkfifo((root + "/fifo").c_str(), 0600), 0);
    ASSERT_EQ(::chown((root + "/size-1023").c_str(), 70000, 1234), 0);
    ASSERT_EQ(::chmod((root + "/size-1024").c_str(), 02750), 0);
    // mke2fs -d keeps 32-bit seconds only; times past 2038 come from the writer tests.
    struct timespec times[2] = {{1500000000, 0}, {2000000000, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (root + "/size-1025").c_str(), times, 0), 0);
}

// Compares the mounted tree with the host directory it came from, and its
// stat fields with debugfs's.
void check_host_tree(fs::Inode& inode, const std::string& host, const std::string& path,
                     const std::string& image, uint32_t block_size) {
    SCOPED_TRACE(path);
    struct stat want {};
    ASSERT_EQ(::lstat(host.c_str(), &want), 0);
    struct stat st = inode.stat().value();
    EXPECT_EQ(st.st_mode, want.st_mode);
    EXPECT_EQ(st.st_uid, want.st_uid);
    EXPECT_EQ(st.st_gid, want.st_gid);
    EXPECT_EQ(st.st_blksize, block_size);
    if (!path.empty()) {
        EXPECT_EQ(st.st_mtim.tv_sec, want.st_mtim.tv_sec);
    }
    bool sample = path.find("/many/") == std::string::npos || path == "/many/f7";
    if (sample)
        expect_same_as_debugfs(st, image, path.empty() ? "/" : path);
    if (S_ISREG(want.st_mode)) {
        EXPECT_EQ(st.st_size, want.st_size);
        auto got = read_inode(inode);
        ASSERT_FALSE(got.is_error()) << got.error().message();
        EXPECT_TRUE(got.value() == read_file(host));
    } else if (S_ISLNK(want.st_mode)) {
        EXPECT_EQ(inode.read_link().value(), std::filesystem::read_symlink(host).string());
    } else if (S_ISDIR(want.st_mode)) {
        auto listed = list_directory(inode);
        ASSERT_FALSE(listed.is_error()) << listed.error().message();
        std::map<std::string, uint64_t> names = listed.value();
        if (path.empty())
            names.erase("lost+found");
        size_t count = 0;
        for (const auto& entry : std::filesystem::directory_iterator(host)) {
            std::string name = entry.path().filename();
            ++count;
            ASSERT_TRUE(names.count(name)) << name;
            auto child = inode.lookup(name);
            ASSERT_FALSE(child.is_error()) << name << ": " << child.error().message();
            check_host_tree(*child.value(), host + "/" + name, path + "/" + name, image,
                            block_size);
        }
        EXPECT_EQ(names.size(), count);
    }
}

struct Mke2fsCase {
    const char* options;
    uint32_t block_size;
};

class Mke2fsImages : public ::testing::TestWithParam<Mke2fsCase> {};

TEST_P(Mke2fsImages, EveryFileMatchesTheSourceDirectory) {
    TempDir scratch;
    std::string source = scratch.path("source");
    make_host_tree(source);
    Bytes bytes = mke2fs_image(scratch, source, GetParam().options);
    std::string image = save_image(scratch, bytes);
    auto mounted = mount_bytes(bytes, 1024);
    ASSERT_FALSE(mounted.is_error()) << mounted.error().message();
    check_host_tree(*mounted.value()->root(), source, "", image, GetParam().block_size);
    auto hard = walk(mounted.value()->root(), "hard-link");
    ASSERT_FALSE(hard.is_error());
    EXPECT_EQ(hard.value()->stat().value().st_nlink, 2u);
}

INSTANTIATE_TEST_SUITE_P(Options, Mke2fsImages,
                         ::testing::Values(Mke2fsCase{"-b 1024", 1024}, Mke2fsCase{"-b 4096", 4096},
                                           Mke2fsCase{"-b 2048 -I 128", 2048},
                                           Mke2fsCase{"-b 1024 -O ^filetype",
                                                      1024},  // types from the inodes
                                           Mke2fsCase{"-b 1024 -r 0", 1024}),  // revision 0
                         [](const ::testing::TestParamInfo<Mke2fsCase>& info) {
                             std::string name;
                             for (const char* c = info.param.options; *c; ++c)
                                 if (std::isalnum(static_cast<unsigned char>(*c)))
                                     name += *c;
                             return name;
                         });

// Directories that e2fsck -D indexed (htree) read linearly, as Linux's ext2 does.
TEST(Ext2Read, HtreeIndexedDirectory) {
    TempDir scratch;
    std::string source = scratch.path("source");
    std::filesystem::create_directories(source + "/big");
    for (int i = 0; i < 600; ++i)
        write_file(source + "/big/name-" + std::to_string(i), std::to_string(i));
    Bytes made = mke2fs_image(scratch, source, "-b 1024 -O dir_index");
    std::string image = save_image(scratch, made, "indexed.img");
    auto indexed = run_command("e2fsck -fyD '" + image + "'");
    ASSERT_LE(indexed.status, 1) << indexed.output;
    ASSERT_NE(debugfs(image, "stat /big").find("Flags: 0x1000"), std::string::npos)
        << "e2fsck -D did not index the directory";
    auto mounted = mount_bytes(bytes_of_file(image));
    ASSERT_FALSE(mounted.is_error()) << mounted.error().message();
    auto big = walk(mounted.value()->root(), "big");
    ASSERT_FALSE(big.is_error());
    auto names = list_directory(*big.value());
    ASSERT_FALSE(names.is_error()) << names.error().message();
    EXPECT_EQ(names.value().size(), 600u);
    for (int i = 0; i < 600; i += 37) {
        auto child = big.value()->lookup("name-" + std::to_string(i));
        ASSERT_FALSE(child.is_error()) << child.error().message();
        EXPECT_EQ(read_inode(*child.value()).value(), to_bytes(std::to_string(i)));
    }
}

}  // namespace

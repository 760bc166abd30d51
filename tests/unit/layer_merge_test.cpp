// Tar reading and the OCI layer rules: whiteouts, opaque directories, hard
// links, symlinks, and every name that could leave the tree (an error, never
// applied). Archives are built in memory with TarBuilder and, for the reader,
// also checked against what GNU tar's headers look like (base-256, pax).
#include "image/layer_merge.h"

#include <gtest/gtest.h>

#include "image/tar_writer.h"

namespace myst::image {
namespace {

struct Layered {
    MergedTree tree;
    MemoryContentStore store;
    LayerStats stats;

    Result<void> apply(std::vector<uint8_t> archive) {
        FileStream stream(std::make_shared<MemoryFile>(std::move(archive)));
        TarReader reader(stream, "layer");
        return tree.apply_layer(reader, store, stats);
    }
};

const TreeNode* find(const TreeNode& root, const std::string& path) {
    const TreeNode* node = &root;
    size_t start = 0;
    while (start < path.size()) {
        size_t slash = std::min(path.find('/', start), path.size());
        std::string part = path.substr(start, slash - start);
        start = slash + 1;
        auto it = std::find_if(node->children.begin(), node->children.end(),
                               [&](const TreeNode& child) { return child.name == part; });
        if (it == node->children.end())
            return nullptr;
        node = &*it;
    }
    return node;
}

std::string content(const TreeNode& node) {
    auto file = node.content->open();
    EXPECT_FALSE(file.is_error());
    std::string text(node.size, '\0');
    EXPECT_FALSE(file.value()
                     ->read_at(0, {reinterpret_cast<uint8_t*>(text.data()), text.size()})
                     .is_error());
    return text;
}

std::vector<TarEntry> read_all(std::vector<uint8_t> archive, std::string* error = nullptr) {
    auto file = std::make_shared<MemoryFile>(std::move(archive));
    FileStream stream(file);
    TarReader reader(stream, "t.tar");
    std::vector<TarEntry> entries;
    for (;;) {
        auto next = reader.next();
        if (next.is_error()) {
            if (error)
                *error = next.error().message();
            break;
        }
        if (!next.value())
            break;
        entries.push_back(*next.value());
    }
    return entries;
}

TEST(TarReaderTest, ReadsUstarEntriesAndLongNamesThroughPax) {
    std::string long_name = "d/" + std::string(150, 'n');
    auto archive = TarBuilder()
                       .directory("d/")
                       .file("d/f", "hello", 0751)
                       .file(long_name, "x")
                       .symlink("d/s", std::string(120, 't'))
                       .finish();
    std::string error;
    auto entries = read_all(archive, &error);
    EXPECT_EQ(error, "");
    ASSERT_EQ(entries.size(), 4u);
    EXPECT_EQ(entries[0].type, TarEntryType::directory);
    EXPECT_EQ(entries[1].name, "d/f");
    EXPECT_EQ(entries[1].permissions, 0751u);
    EXPECT_EQ(entries[1].size, 5u);
    EXPECT_EQ(entries[2].name, long_name);
    EXPECT_EQ(entries[3].link_name, std::string(120, 't'));
}

TEST(TarReaderTest, CorruptHeadersAreErrorsNamingTheOffset) {
    auto archive = TarBuilder().file("a", "1").file("b", "2").finish();
    archive[512 + 512 + 10] ^= 1;  // second header's name: checksum no longer matches
    std::string error;
    auto entries = read_all(archive, &error);
    EXPECT_EQ(entries.size(), 1u);
    EXPECT_NE(error.find("offset 1024: header checksum mismatch"), std::string::npos) << error;

    auto truncated = TarBuilder().file("a", std::string(2000, 'x')).finish();
    truncated.resize(1000);
    read_all(truncated, &error);
    EXPECT_NE(error.find("truncated"), std::string::npos) << error;
}

TEST(TarReaderTest, ReadsBase256NumbersAndPaxOverrides) {
    TarEntry big;
    big.name = "big";
    big.type = TarEntryType::directory;
    auto header = tar_header(big);
    // GNU tar writes numbers too big for octal in base-256: rewrite the uid
    // field that way by hand and fix the checksum.
    std::fill(header.begin() + 108, header.begin() + 116, 0);
    header[108] = 0x80;
    header[115] = 0x2a;  // 42
    std::fill(header.begin() + 148, header.begin() + 156, ' ');
    unsigned sum = 0;
    for (uint8_t b : header)
        sum += b;
    std::snprintf(reinterpret_cast<char*>(header.data() + 148), 8, "%06o", sum);
    auto end = tar_end();
    header.insert(header.end(), end.begin(), end.end());
    auto entries = read_all(header);
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].uid, 42u);
}

std::vector<uint8_t> gzip_of(const std::vector<uint8_t>& data) {
    std::vector<uint8_t> out;
    auto writer = GzipWriter::create();
    EXPECT_FALSE(writer.is_error());
    EXPECT_FALSE(writer.value()->write(data, out).is_error());
    EXPECT_FALSE(writer.value()->finish(out).is_error());
    return out;
}

TEST(GzipStreamTest, RoundTripsAndRejectsTruncatedOrCorruptData) {
    auto archive = TarBuilder().file("a", std::string(100000, 'z')).finish();
    auto compressed = gzip_of(archive);
    EXPECT_EQ(detect_compression(compressed), Compression::gzip);
    auto read_back = [](std::vector<uint8_t> bytes) -> Result<std::vector<uint8_t>> {
        FileStream raw(std::make_shared<MemoryFile>(std::move(bytes)));
        auto gzip = TRY(GzipStream::create(raw, "layer.gz"));
        std::vector<uint8_t> out, chunk(4096);
        while (size_t n = TRY(gzip->read(chunk)))
            out.insert(out.end(), chunk.begin(), chunk.begin() + n);
        return out;
    };
    EXPECT_EQ(read_back(compressed).value(), archive);
    auto truncated = compressed;
    truncated.resize(truncated.size() / 2);
    EXPECT_NE(read_back(truncated).error().message().find("truncated"), std::string::npos);
    auto corrupt = compressed;
    corrupt[corrupt.size() - 6] ^= 0xff;  // the CRC-32 of the trailer
    EXPECT_NE(read_back(corrupt).error().message().find("corrupt gzip data"), std::string::npos);
    auto twice = compressed;  // concatenated members are one stream
    twice.insert(twice.end(), compressed.begin(), compressed.end());
    EXPECT_EQ(read_back(twice).value().size(), 2 * archive.size());
    const uint8_t zstd[] = {0x28, 0xb5, 0x2f, 0xfd, 0};
    EXPECT_EQ(detect_compression(zstd), Compression::zstd);
}

TEST(TarPathTest, ComponentsAndEscapes) {
    EXPECT_EQ(tar_path_components("./a//b/./c/").value(),
              (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_TRUE(tar_path_components("./").value().empty());
    EXPECT_NE(tar_path_components("../etc/passwd").error().message().find("'..'"),
              std::string::npos);
    EXPECT_NE(tar_path_components("a/../../b").error().message().find("'..'"), std::string::npos);
    EXPECT_NE(tar_path_components("/etc/passwd").error().message().find("absolute"),
              std::string::npos);
}

TEST(LayerMergeTest, WhiteoutsOpaqueDirectoriesHardLinksAndSymlinks) {
    Layered image;
    ASSERT_FALSE(image
                     .apply(TarBuilder()
                                .directory("etc/")
                                .file("etc/keep", "keep")
                                .file("etc/gone", "gone")
                                .directory("opaque/")
                                .file("opaque/old", "old")
                                .directory("opaque/sub/")
                                .file("opaque/sub/old2", "old2")
                                .file("bin/tool", "tool", 0755)
                                .hard_link("bin/tool-link", "bin/tool")
                                .symlink("bin/sh", "/bin/tool")
                                .finish())
                     .is_error());
    ASSERT_FALSE(image
                     .apply(TarBuilder()
                                .file("etc/.wh.gone", "")
                                .file("etc/new", "new")
                                .file("etc/.wh.new", "")  // same layer: does not hide it
                                .directory("opaque/")
                                .file("opaque/.wh..wh..opq", "")
                                .directory("opaque/sub/")
                                .file("opaque/fresh", "fresh")
                                .file(".wh.missing", "")
                                .finish())
                     .is_error());
    TreeNode root = image.tree.to_tree();
    EXPECT_NE(find(root, "etc/keep"), nullptr);
    EXPECT_EQ(find(root, "etc/gone"), nullptr);
    ASSERT_NE(find(root, "etc/new"), nullptr);
    EXPECT_EQ(content(*find(root, "etc/new")), "new");
    EXPECT_EQ(find(root, "opaque/old"), nullptr);
    ASSERT_NE(find(root, "opaque/sub"), nullptr);  // re-declared in the upper layer
    EXPECT_EQ(find(root, "opaque/sub/old2"), nullptr);
    EXPECT_NE(find(root, "opaque/fresh"), nullptr);
    EXPECT_EQ(find(root, "opaque/.wh..wh..opq"), nullptr);
    EXPECT_EQ(find(root, ".wh.missing"), nullptr);
    const TreeNode* tool = find(root, "bin/tool");
    const TreeNode* link = find(root, "bin/tool-link");
    ASSERT_TRUE(tool && link);
    EXPECT_NE(tool->link_group, 0u);
    EXPECT_EQ(tool->link_group, link->link_group);
    EXPECT_EQ(content(*link), "tool");
    EXPECT_EQ(tool->permissions, 0755u);
    EXPECT_EQ(find(root, "bin/sh")->symlink_target, "/bin/tool");
    EXPECT_TRUE(image.tree.is_file("/bin/sh"));  // through the symlink
    EXPECT_FALSE(image.tree.is_file("/etc"));
    EXPECT_EQ(image.stats.whiteouts, 4u);
}

TEST(LayerMergeTest, AnOpaqueMarkerAfterTheNewEntriesKeepsThem) {
    Layered image;
    ASSERT_FALSE(
        image.apply(TarBuilder().file("d/sub/old", "1").file("d/old", "2").finish()).is_error());
    ASSERT_FALSE(image
                     .apply(TarBuilder()
                                .file("d/sub/new", "3")  // no entry for d/ or d/sub/
                                .file("d/.wh..wh..opq", "")
                                .finish())
                     .is_error());
    TreeNode root = image.tree.to_tree();
    EXPECT_NE(find(root, "d/sub/new"), nullptr);
    EXPECT_EQ(find(root, "d/sub/old"), nullptr);
    EXPECT_EQ(find(root, "d/old"), nullptr);
}

TEST(LayerMergeTest, ALaterFileReplacesADirectoryAndTheReverse) {
    Layered image;
    ASSERT_FALSE(image.apply(TarBuilder().file("a/x", "1").file("b", "2").finish()).is_error());
    ASSERT_FALSE(image.apply(TarBuilder().file("a", "file").directory("b/").finish()).is_error());
    TreeNode root = image.tree.to_tree();
    EXPECT_EQ(find(root, "a")->type, NodeType::regular);
    EXPECT_EQ(find(root, "b")->type, NodeType::directory);
}

void expect_rejected(std::vector<uint8_t> archive, const std::string& message) {
    Layered image;
    auto result = image.apply(std::move(archive));
    ASSERT_TRUE(result.is_error()) << message;
    EXPECT_NE(result.error().message().find(message), std::string::npos)
        << result.error().message();
}

TEST(LayerMergeTest, NamesLeavingTheTreeAreErrors) {
    expect_rejected(TarBuilder().file("../evil", "x").finish(), "../evil: '..' in the name");
    expect_rejected(TarBuilder().file("/etc/evil", "x").finish(), "/etc/evil: absolute name");
    expect_rejected(TarBuilder().symlink("a/b/up", "../../../etc").finish(),
                    "a/b/up: symlink to '../../../etc' leads outside");
    expect_rejected(TarBuilder().hard_link("h", "../../etc/passwd").finish(),
                    "h: hard link to '../../etc/passwd' leads outside");
    expect_rejected(TarBuilder().symlink("link", "/etc").file("link/passwd", "x").finish(),
                    "link/passwd: passes through the symlink link");
    expect_rejected(TarBuilder().hard_link("h", "nothing").finish(), "not in the image before it");
}

TEST(LayerMergeTest, SymlinksThatStayInsideAreKept) {
    Layered image;
    ASSERT_FALSE(image
                     .apply(TarBuilder()
                                .symlink("a/b/ok", "../../c")
                                .symlink("abs", "/../../etc")  // resolved in the image root
                                .finish())
                     .is_error());
    TreeNode root = image.tree.to_tree();
    EXPECT_EQ(find(root, "a/b/ok")->symlink_target, "../../c");
}

}  // namespace
}  // namespace myst::image

// CPIO newc writer and reader: exact bytes of a tiny archive, round trips of
// awkward trees, and corrupt archives (each an error, never a crash).
#include "image/cpio.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <random>
#include <string>

namespace myst::image {
namespace {

constexpr int64_t kMtime = 0x5f000000;

TreeNode dir(std::string name, std::vector<TreeNode> children = {}, uint32_t permissions = 0755) {
    TreeNode node;
    node.name = std::move(name);
    node.type = NodeType::directory;
    node.permissions = permissions;
    node.mtime.seconds = kMtime;
    node.children = std::move(children);
    return node;
}

TreeNode file(std::string name, std::vector<uint8_t> bytes, uint32_t permissions = 0644) {
    TreeNode node;
    node.name = std::move(name);
    node.type = NodeType::regular;
    node.permissions = permissions;
    node.mtime.seconds = kMtime;
    node.size = bytes.size();
    node.content = std::make_shared<MemoryContent>(std::move(bytes));
    return node;
}

TreeNode text_file(std::string name, std::string_view text, uint32_t permissions = 0644) {
    return file(std::move(name), std::vector<uint8_t>(text.begin(), text.end()), permissions);
}

TreeNode symlink(std::string name, std::string target) {
    TreeNode node;
    node.name = std::move(name);
    node.type = NodeType::symlink;
    node.permissions = 0777;
    node.mtime.seconds = kMtime;
    node.symlink_target = std::move(target);
    return node;
}

TreeNode special(std::string name, NodeType type, uint32_t major = 0, uint32_t minor = 0) {
    TreeNode node;
    node.name = std::move(name);
    node.type = type;
    node.permissions = 0620;
    node.mtime.seconds = kMtime;
    node.rdev_major = major;
    node.rdev_minor = minor;
    return node;
}

std::vector<uint8_t> archive_of(const TreeNode& root) {
    MemoryFile out;
    auto written = write_cpio(root, out);
    EXPECT_FALSE(written.is_error()) << written.error().message();
    if (!written.is_error()) {
        EXPECT_EQ(written.value(), out.bytes().size());
    }
    return out.bytes();
}

std::vector<CpioEntry> entries_of(std::vector<uint8_t> bytes) {
    MemoryFile archive(std::move(bytes));
    auto entries = read_cpio_entries(archive);
    EXPECT_FALSE(entries.is_error()) << entries.error().message();
    return entries.is_error() ? std::vector<CpioEntry>{} : entries.release_value();
}

std::string data_of(const std::vector<uint8_t>& archive, const CpioEntry& entry) {
    return std::string(reinterpret_cast<const char*>(archive.data()) + entry.data_offset,
                       entry.data_size);
}

// Parsing this must fail with EINVAL and a message that says where.
void expect_corrupt(std::vector<uint8_t> bytes, std::string_view what) {
    MemoryFile archive(std::move(bytes));
    auto entries = read_cpio_entries(archive);
    ASSERT_TRUE(entries.is_error()) << what;
    EXPECT_EQ(entries.error().code(), EINVAL) << what;
    EXPECT_NE(entries.error().message().find("corrupt cpio archive at offset"), std::string::npos)
        << entries.error().message();
}

// The archive of a root directory holding one file "a" with "hi\n", written
// out field by field from the newc layout.
std::string tiny_archive_by_hand() {
    std::string root = std::string("070701") + "00000001" + "000041ed" + "00000000" + "00000000" +
                       "00000002" + "5f000000" + "00000000" + "00000000" + "00000000" + "00000000" +
                       "00000000" + "00000002" + "00000000" + std::string(".\0", 2);
    std::string a = std::string("070701") + "00000002" + "000081a4" + "00000000" + "00000000" +
                    "00000001" + "5f000000" + "00000003" + "00000000" + "00000000" + "00000000" +
                    "00000000" + "00000002" + "00000000" + std::string("a\0", 2) +
                    std::string("hi\n\0", 4);
    std::string trailer = std::string("070701") + "00000000" + "00000000" + "00000000" +
                          "00000000" + "00000001" + "00000000" + "00000000" + "00000000" +
                          "00000000" + "00000000" + "00000000" + "0000000b" + "00000000" +
                          std::string("TRAILER!!!\0\0\0\0", 14);
    return root + a + trailer;
}

TEST(Cpio, TinyArchiveIsByteExact) {
    std::vector<uint8_t> bytes = archive_of(dir("", {text_file("a", "hi\n")}));
    std::string expected = tiny_archive_by_hand();
    ASSERT_EQ(expected.size(), 112u + 116u + 124u);
    EXPECT_EQ(std::string(bytes.begin(), bytes.end()), expected);
}

TEST(Cpio, ReaderAcceptsUppercaseHexAndCrcMagic) {
    std::string text = tiny_archive_by_hand();
    // "000041ed" -> "000041ED", as GNU cpio writes it; second entry gets 070702.
    text.replace(6 + 8, 8, "000041ED");
    text.replace(112, 6, "070702");
    std::vector<CpioEntry> entries = entries_of(std::vector<uint8_t>(text.begin(), text.end()));
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0].mode, 040755u);
    EXPECT_FALSE(entries[0].has_checksum);
    EXPECT_TRUE(entries[1].has_checksum);
}

TEST(Cpio, EmptyRootDirectory) {
    std::vector<uint8_t> bytes = archive_of(dir("", {}, 0700));
    std::vector<CpioEntry> entries = entries_of(bytes);
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].name, ".");
    EXPECT_EQ(entries[0].mode, 040700u);
    EXPECT_EQ(entries[0].nlink, 2u);
    EXPECT_EQ(entries[0].ino, 1u);
    EXPECT_EQ(bytes.size() % 4, 0u);
}

TEST(Cpio, RoundTripOfAwkwardEntries) {
    std::vector<uint8_t> page(4096);
    for (size_t i = 0; i < page.size(); ++i)
        page[i] = static_cast<uint8_t>(i * 7 + 3);
    TreeNode root = dir("", {
                                symlink("abs", "/etc/passwd"),
                                dir("bin", {text_file("hello", "#!/bin/sh\necho hi\n", 0755)}),
                                text_file("empty", ""),
                                dir("emptydir", {}, 0700),
                                file("page", page),
                                special("pipe", NodeType::fifo),
                                text_file("setuid", "x", 04755),
                                dir("sticky", {}, 01777),
                                dir("sub", {dir("inner"), symlink("up", "../bin/hello")}),
                                special("tty", NodeType::char_device, 4, 64),
                            });

    std::vector<uint8_t> bytes = archive_of(root);
    std::vector<CpioEntry> entries = entries_of(bytes);
    std::vector<std::string> names;
    for (const CpioEntry& entry : entries)
        names.push_back(entry.name);
    std::vector<std::string> expected_names = {
        ".",    "abs",    "bin",    "bin/hello", "empty",     "emptydir", "page",
        "pipe", "setuid", "sticky", "sub",       "sub/inner", "sub/up",   "tty",
    };
    ASSERT_EQ(names, expected_names);
    for (size_t i = 0; i < entries.size(); ++i) {
        EXPECT_EQ(entries[i].ino, i + 1);
        EXPECT_EQ(entries[i].mtime, kMtime);
        EXPECT_EQ(entries[i].dev_major, 0u);
        EXPECT_EQ(entries[i].data_offset % 4, 0u);
    }
    auto find = [&](std::string_view name) -> const CpioEntry& {
        for (const CpioEntry& entry : entries)
            if (entry.name == name)
                return entry;
        ADD_FAILURE() << "no entry " << name;
        return entries[0];
    };
    EXPECT_EQ(find(".").nlink, 2u + 4u);  // bin, emptydir, sticky, sub
    EXPECT_EQ(find("sub").nlink, 3u);
    EXPECT_EQ(find("abs").mode, 0120777u);
    EXPECT_EQ(data_of(bytes, find("abs")), "/etc/passwd");
    EXPECT_EQ(data_of(bytes, find("sub/up")), "../bin/hello");
    EXPECT_EQ(find("bin/hello").mode, 0100755u);
    EXPECT_EQ(data_of(bytes, find("bin/hello")), "#!/bin/sh\necho hi\n");
    EXPECT_EQ(find("empty").data_size, 0u);
    EXPECT_EQ(find("emptydir").mode, 040700u);
    EXPECT_EQ(find("page").data_size, 4096u);
    EXPECT_EQ(data_of(bytes, find("page")), std::string(page.begin(), page.end()));
    EXPECT_EQ(find("pipe").mode, 010620u);
    EXPECT_EQ(find("setuid").mode, 0104755u);
    EXPECT_EQ(find("sticky").mode, 041777u);
    EXPECT_EQ(find("tty").mode, 020620u);
    EXPECT_EQ(find("tty").rdev_major, 4u);
    EXPECT_EQ(find("tty").rdev_minor, 64u);
    EXPECT_EQ(find("tty").nlink, 1u);

    // The same tree gives the same bytes.
    EXPECT_EQ(archive_of(root), bytes);
}

TEST(Cpio, TenThousandEntriesInOneDirectory) {
    TreeNode root = dir("");
    for (int i = 0; i < 10000; ++i) {
        char name[16];
        std::snprintf(name, sizeof name, "f%05d", i);
        root.children.push_back(text_file(name, name));
    }
    std::vector<uint8_t> bytes = archive_of(root);
    std::vector<CpioEntry> entries = entries_of(bytes);
    ASSERT_EQ(entries.size(), 10001u);
    EXPECT_EQ(entries[1].name, "f00000");
    EXPECT_EQ(entries[10000].name, "f09999");
    EXPECT_EQ(entries[10000].ino, 10001u);
    EXPECT_EQ(data_of(bytes, entries[1234]), "f01233");
}

TEST(Cpio, DeepPath) {
    TreeNode leaf = text_file("leaf", "bottom");
    std::string expected_path;
    for (int level = 59; level >= 0; --level)
        leaf = dir("level" + std::to_string(level), {std::move(leaf)});
    for (int level = 0; level < 60; ++level)
        expected_path += "level" + std::to_string(level) + "/";
    expected_path += "leaf";
    std::vector<uint8_t> bytes = archive_of(dir("", {std::move(leaf)}));
    std::vector<CpioEntry> entries = entries_of(bytes);
    ASSERT_EQ(entries.size(), 62u);
    EXPECT_EQ(entries.back().name, expected_path);
    EXPECT_EQ(data_of(bytes, entries.back()), "bottom");
    auto components = cpio_name_components(entries.back().name);
    ASSERT_FALSE(components.is_error());
    EXPECT_EQ(components.value().size(), 61u);
}

TEST(Cpio, MtimeIsClampedToThe32BitField) {
    TreeNode root = dir("", {text_file("old", ""), text_file("far", "")});
    root.children[0].mtime.seconds = -5;
    root.children[1].mtime.seconds = int64_t{1} << 40;
    std::vector<CpioEntry> entries = entries_of(archive_of(root));
    ASSERT_EQ(entries.size(), 3u);
    EXPECT_EQ(entries[1].mtime, 0u);
    EXPECT_EQ(entries[2].mtime, UINT32_MAX);
}

TEST(Cpio, FileOf4GiBIsEfbigNamingTheFile) {
    TreeNode big = text_file("big", "");
    big.size = uint64_t{1} << 32;
    big.source = "/apps/big";
    MemoryFile out;
    auto written = write_cpio(dir("", {big}), out);
    ASSERT_TRUE(written.is_error());
    EXPECT_EQ(written.error().code(), EFBIG);
    EXPECT_NE(written.error().message().find("/apps/big"), std::string::npos);
    EXPECT_TRUE(out.bytes().empty());  // found before anything was written
}

TEST(Cpio, FileThatChangedSizeIsAnError) {
    for (uint64_t recorded : {uint64_t{10}, uint64_t{2}}) {
        TreeNode changed = text_file("changing", "12345");
        changed.size = recorded;
        changed.source = "/apps/changing";
        MemoryFile out;
        auto written = write_cpio(dir("", {changed}), out);
        ASSERT_TRUE(written.is_error());
        EXPECT_NE(written.error().message().find("/apps/changing"), std::string::npos);
        EXPECT_NE(written.error().message().find("changed size"), std::string::npos);
    }
}

TEST(Cpio, BadTreesAreRejected) {
    MemoryFile out;
    EXPECT_TRUE(write_cpio(dir("", {text_file("a/b", "")}), out).is_error());
    EXPECT_TRUE(write_cpio(dir("", {text_file("..", "")}), out).is_error());
    EXPECT_TRUE(write_cpio(dir("", {text_file("x", ""), text_file("x", "")}), out).is_error());
    EXPECT_TRUE(write_cpio(text_file("", "not a dir"), out).is_error());
    EXPECT_TRUE(write_cpio(dir("", {symlink("dangling", "")}), out).is_error());
}

TEST(Cpio, ProgressEndsAtTheArchiveSize) {
    std::vector<uint8_t> big(10 << 20, 0x5a);
    std::vector<std::pair<uint64_t, uint64_t>> calls;
    CpioWriteOptions options;
    options.progress = [&](uint64_t done, uint64_t total) { calls.emplace_back(done, total); };
    MemoryFile out;
    auto written = write_cpio(dir("", {file("big", big)}), out, options);
    ASSERT_FALSE(written.is_error()) << written.error().message();
    ASSERT_GE(calls.size(), 2u);
    EXPECT_EQ(calls.back().first, written.value());
    EXPECT_EQ(calls.back().second, written.value());
    for (size_t i = 1; i < calls.size(); ++i)
        EXPECT_GE(calls[i].first, calls[i - 1].first);
}

TEST(Cpio, TruncatedArchivesAreErrors) {
    std::string text = tiny_archive_by_hand();
    // Everything up to the trailer's NUL is needed; only the trailer's final
    // padding may be missing.
    size_t needed = text.size() - 3;
    for (size_t cut = 0; cut < needed; ++cut)
        expect_corrupt(std::vector<uint8_t>(text.begin(), text.begin() + cut),
                       "cut at " + std::to_string(cut));
    EXPECT_EQ(entries_of(std::vector<uint8_t>(text.begin(), text.begin() + needed)).size(), 2u);
}

TEST(Cpio, CorruptHeadersAreErrors) {
    const std::string good = tiny_archive_by_hand();
    auto with = [&](size_t at, std::string_view replacement) {
        std::string text = good;
        text.replace(at, replacement.size(), replacement);
        return std::vector<uint8_t>(text.begin(), text.end());
    };
    constexpr size_t second = 112;  // offset of entry "a"
    expect_corrupt(with(0, "070707"), "old binary-ish magic");
    expect_corrupt(with(second, "XXXXXX"), "bad magic in the second entry");
    expect_corrupt(with(6 + 8 * 1, "0000g1ed"), "bad hex digit in mode");
    expect_corrupt(with(6 + 8 * 1, "-00041ed"), "sign in a field");
    expect_corrupt(with(second + 6 + 8 * 11, "ffffffff"), "huge namesize");
    expect_corrupt(with(second + 6 + 8 * 11, "00000000"), "namesize 0");
    expect_corrupt(with(second + 6 + 8 * 11, "00000003"), "name not NUL-terminated");
    expect_corrupt(with(second + 110, std::string_view("\0\0", 2)), "name without NUL at its end");
    expect_corrupt(with(second + 6 + 8 * 6, "7fffffff"), "data past the end");
    expect_corrupt(with(second + 6 + 8 * 1, "00000000"), "unknown file type");
    expect_corrupt(with(6 + 8 * 6, "00000004"), "directory with data");
    expect_corrupt(std::vector<uint8_t>(good.begin(), good.begin() + 228), "missing trailer");
    expect_corrupt({}, "empty archive");

    MemoryFile archive(with(second, "XXXXXX"));
    auto entries = read_cpio_entries(archive);
    ASSERT_TRUE(entries.is_error());
    EXPECT_NE(entries.error().message().find("at offset 112: bad magic"), std::string::npos)
        << entries.error().message();
}

TEST(Cpio, RandomDamageNeverCrashes) {
    std::vector<uint8_t> good = archive_of(dir("", {
                                                       dir("d", {text_file("f", "contents")}),
                                                       symlink("l", "d/f"),
                                                       text_file("z", std::string(300, 'z')),
                                                   }));
    std::mt19937 random(1234);
    int errors = 0;
    for (int round = 0; round < 3000; ++round) {
        std::vector<uint8_t> bytes = good;
        int flips = 1 + static_cast<int>(random() % 4);
        for (int i = 0; i < flips; ++i)
            bytes[random() % bytes.size()] = static_cast<uint8_t>(random());
        MemoryFile archive(bytes);
        auto entries = read_cpio_entries(archive);
        if (entries.is_error()) {
            ++errors;
            continue;
        }
        for (const CpioEntry& entry : entries.value())
            EXPECT_LE(entry.data_offset + entry.data_size, bytes.size());
    }
    EXPECT_GT(errors, 500);  // most damage hits a header
}

TEST(Cpio, NameComponents) {
    using Names = std::vector<std::string>;
    auto ok = [](std::string_view name) {
        auto components = cpio_name_components(name);
        EXPECT_FALSE(components.is_error()) << name;
        return components.is_error() ? Names{"<error>"} : components.release_value();
    };
    EXPECT_EQ(ok("."), Names{});
    EXPECT_EQ(ok("./"), Names{});
    EXPECT_EQ(ok("bin/hello"), (Names{"bin", "hello"}));
    EXPECT_EQ(ok("./bin//hello/"), (Names{"bin", "hello"}));
    EXPECT_EQ(ok("...")[0], "...");
    EXPECT_EQ(ok("a/..b"), (Names{"a", "..b"}));
    for (std::string_view bad : {"", "/", "/etc/passwd", "..", "../evil", "a/../../b", "a/.."}) {
        auto components = cpio_name_components(bad);
        ASSERT_TRUE(components.is_error()) << bad;
        EXPECT_EQ(components.error().code(), EINVAL);
    }
    EXPECT_TRUE(cpio_name_components(std::string(5000, 'a')).is_error());
}

}  // namespace
}  // namespace myst::image

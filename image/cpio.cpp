#include "image/cpio.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "base/endian.h"
#include "base/file_mode.h"
#include "base/hex.h"

namespace myst::image {

namespace {

// A newc header is the 6-byte magic and 13 fields of 8 hex digits; the name
// (with its NUL) follows and is padded so that header + name is a multiple of
// 4, and so is the data after it.
constexpr size_t kHeaderSize = 110;
constexpr size_t kFieldDigits = 8;
constexpr std::string_view kMagicNewc = "070701";
constexpr std::string_view kMagicCrc = "070702";
constexpr std::string_view kTrailerName = "TRAILER!!!";

enum Field : size_t {
    f_ino,
    f_mode,
    f_uid,
    f_gid,
    f_nlink,
    f_mtime,
    f_filesize,
    f_devmajor,
    f_devminor,
    f_rdevmajor,
    f_rdevminor,
    f_namesize,
    f_check,
    field_count,
};
using Fields = std::array<uint32_t, field_count>;

constexpr const char* kFieldNames[field_count] = {
    "ino",      "mode",     "uid",       "gid",       "nlink",    "mtime", "filesize",
    "devmajor", "devminor", "rdevmajor", "rdevminor", "namesize", "check",
};

// No stored name (the NUL included) may be longer than this: real paths stop
// at PATH_MAX, and a reader must not be made to allocate what a corrupt
// header claims.
constexpr uint32_t kMaxNameSize = 65536;
// Linux's PATH_MAX, the longest name an extracted entry can have.
constexpr size_t kMaxPathLength = 4096;

constexpr size_t kCopyChunk = 1 << 20;
constexpr uint64_t kProgressStep = 4 << 20;

constexpr uint64_t align4(uint64_t value) {
    return (value + 3) & ~uint64_t{3};
}

// For messages: a name from an archive may hold any byte.
std::string printable(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            c = '?';
    return out;
}

// ---- writing ----

// Buffers small writes (10,000 headers should not be 10,000 pwrites) and
// reports progress.
class ArchiveStream {
public:
    ArchiveStream(RandomAccessFile& out, uint64_t total, const CpioWriteOptions& options)
        : m_out(out), m_total(total), m_options(options) {
        m_buffer.reserve(kCopyChunk);
    }

    uint64_t offset() const { return m_flushed + m_buffer.size(); }

    Result<void> append(std::span<const uint8_t> data) {
        if (m_buffer.size() + data.size() > kCopyChunk)
            TRY(flush());
        if (data.size() >= kCopyChunk) {
            TRY(m_out.write_at(m_flushed, data));
            m_flushed += data.size();
        } else {
            m_buffer.insert(m_buffer.end(), data.begin(), data.end());
        }
        report_progress(false);
        return {};
    }

    Result<void> pad_to_4() {
        static constexpr uint8_t zeros[4] = {};
        return append(std::span(zeros, align4(offset()) - offset()));
    }

    Result<void> flush() {
        if (!m_buffer.empty())
            TRY(m_out.write_at(m_flushed, m_buffer));
        m_flushed += m_buffer.size();
        m_buffer.clear();
        return {};
    }

    void report_progress(bool final) {
        if (!m_options.progress)
            return;
        if (final || offset() >= m_next_report) {
            m_options.progress(offset(), m_total);
            m_next_report = offset() + kProgressStep;
        }
    }

private:
    RandomAccessFile& m_out;
    uint64_t m_total;
    const CpioWriteOptions& m_options;
    std::vector<uint8_t> m_buffer;
    uint64_t m_flushed = 0;
    uint64_t m_next_report = kProgressStep;
};

// Stored names are relative to the root, which itself is ".".
std::string child_path(const std::string& parent, const std::string& name) {
    return parent == "." ? name : parent + "/" + name;
}

std::string node_label(const TreeNode& node, std::string_view path) {
    return node.source.empty() ? std::string(path) : node.source;
}

uint64_t data_size_of(const TreeNode& node) {
    if (node.type == NodeType::regular)
        return node.size;
    if (node.type == NodeType::symlink)
        return node.symlink_target.size();
    return 0;
}

// The first pass checks everything that would otherwise fail half-way (so a
// tree that cannot be stored fails before any byte is written) and computes
// the archive size for progress reports.
struct Plan {
    uint64_t archive_size = 0;
    uint64_t entries = 0;
};

Result<void> plan_node(const TreeNode& node, const std::string& path, Plan& plan) {
    std::string label = node_label(node, path);
    uint64_t data_size = data_size_of(node);
    if (data_size > UINT32_MAX)
        return Error(EFBIG, label + ": file is 4 GiB or larger, too large for a cpio newc archive");
    if (path.size() + 1 > kMaxNameSize)
        return Error(ENAMETOOLONG, label + ": path too long for a cpio archive");
    if (node.type == NodeType::regular && node.size > 0 && !node.content)
        return Error::invalid(label + ": regular file without content");
    if (node.type == NodeType::symlink && node.symlink_target.empty())
        return Error::invalid(label + ": symlink with an empty target");
    if (!node.is_directory() && !node.children.empty())
        return Error::invalid(label + ": has children but is not a directory");
    plan.archive_size += align4(kHeaderSize + path.size() + 1) + align4(data_size);
    plan.entries += 1;

    std::vector<std::string_view> names;
    for (const TreeNode& child : node.children) {
        const std::string& name = child.name;
        if (name.empty() || name == "." || name == ".." ||
            name.find_first_of(std::string_view("/\0", 2)) != std::string::npos)
            return Error::invalid(label + ": bad entry name '" + printable(name) + "'");
        names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    if (std::adjacent_find(names.begin(), names.end()) != names.end())
        return Error::invalid(label + ": two entries named '" +
                              printable(*std::adjacent_find(names.begin(), names.end())) + "'");

    for (const TreeNode& child : node.children)
        TRY(plan_node(child, child_path(path, child.name), plan));
    return {};
}

Result<void> write_header(ArchiveStream& stream, const Fields& fields, std::string_view name) {
    std::vector<uint8_t> header;
    header.reserve(kHeaderSize + name.size() + 4);
    header.insert(header.end(), kMagicNewc.begin(), kMagicNewc.end());
    for (uint32_t value : fields) {
        uint8_t be[4];
        store_be<uint32_t>(be, value);
        std::string digits = to_hex(be);
        header.insert(header.end(), digits.begin(), digits.end());
    }
    header.insert(header.end(), name.begin(), name.end());
    header.push_back(0);
    TRY(stream.append(header));
    return stream.pad_to_4();
}

uint32_t clamp_seconds(int64_t seconds) {
    return static_cast<uint32_t>(std::clamp<int64_t>(seconds, 0, UINT32_MAX));
}

// Copies a regular file's bytes, failing if the file is not the size the tree
// recorded (it changed after the scan): the header already holds that size.
Result<void> copy_content(const TreeNode& node, std::string_view path, ArchiveStream& stream,
                          std::vector<uint8_t>& chunk) {
    if (!node.content)
        return {};  // only for size 0, checked by plan_node
    std::string label = node_label(node, path);
    auto file = TRY(node.content->open());
    auto changed = [&](uint64_t now) {
        return Error(EIO, label + ": file changed size while being archived (" +
                              std::to_string(node.size) + " bytes when scanned, " +
                              std::to_string(now) + " now)");
    };
    uint64_t size = TRY(file->size());
    if (size != node.size)
        return changed(size);
    for (uint64_t done = 0; done < node.size;) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(kCopyChunk, node.size - done));
        chunk.resize(n);
        auto read = file->read_at(done, chunk);
        if (read.is_error()) {
            auto now = file->size();
            if (!now.is_error() && now.value() != node.size)
                return changed(now.value());
            return read.release_error();
        }
        TRY(stream.append(chunk));
        done += n;
    }
    size = TRY(file->size());
    if (size != node.size)
        return changed(size);
    return stream.pad_to_4();
}

Result<void> write_node(const TreeNode& node, const std::string& path, ArchiveStream& stream,
                        uint32_t& next_ino, std::vector<uint8_t>& chunk) {
    Fields fields{};
    fields[f_ino] = next_ino++;
    fields[f_mode] = node.mode();
    fields[f_uid] = node.uid;
    fields[f_gid] = node.gid;
    // Hard links (link_group) are stored as independent copies with nlink 1:
    // newc's own hard-link scheme (shared ino, data on the last link) is easy
    // for readers to get wrong, and copies extract correctly everywhere.
    fields[f_nlink] = 1;
    if (node.is_directory()) {
        fields[f_nlink] = 2 + static_cast<uint32_t>(std::count_if(
                                  node.children.begin(), node.children.end(),
                                  [](const TreeNode& child) { return child.is_directory(); }));
    }
    fields[f_mtime] = clamp_seconds(node.mtime.seconds);
    fields[f_filesize] = static_cast<uint32_t>(data_size_of(node));
    if (node.type == NodeType::char_device || node.type == NodeType::block_device) {
        fields[f_rdevmajor] = node.rdev_major;
        fields[f_rdevminor] = node.rdev_minor;
    }
    fields[f_namesize] = static_cast<uint32_t>(path.size() + 1);
    TRY(write_header(stream, fields, path));

    if (node.type == NodeType::regular) {
        TRY(copy_content(node, path, stream, chunk));
    } else if (node.type == NodeType::symlink) {
        const std::string& target = node.symlink_target;
        TRY(stream.append(
            std::span(reinterpret_cast<const uint8_t*>(target.data()), target.size())));
        TRY(stream.pad_to_4());
    }

    for (const TreeNode& child : node.children)
        TRY(write_node(child, child_path(path, child.name), stream, next_ino, chunk));
    return {};
}

// ---- reading ----

Error corrupt(uint64_t offset, const std::string& reason) {
    return Error(EINVAL,
                 "corrupt cpio archive at offset " + std::to_string(offset) + ": " + reason);
}

}  // namespace

Result<uint64_t> write_cpio(const TreeNode& root, RandomAccessFile& out,
                            const CpioWriteOptions& options) {
    if (!root.is_directory())
        return Error(ENOTDIR, node_label(root, ".") +
                                  ": the root of a cpio tree must be a "
                                  "directory");
    Plan plan;
    TRY(plan_node(root, ".", plan));
    if (plan.entries >= UINT32_MAX)
        return Error(EFBIG, "too many entries for a cpio archive");
    plan.archive_size += align4(kHeaderSize + kTrailerName.size() + 1);

    ArchiveStream stream(out, plan.archive_size, options);
    uint32_t next_ino = 1;
    std::vector<uint8_t> chunk;
    TRY(write_node(root, ".", stream, next_ino, chunk));

    Fields trailer{};
    trailer[f_nlink] = 1;
    trailer[f_namesize] = static_cast<uint32_t>(kTrailerName.size() + 1);
    TRY(write_header(stream, trailer, kTrailerName));
    TRY(stream.flush());
    if (stream.offset() != plan.archive_size)
        return Error(EIO, "cpio archive size differs from the planned size (tree changed?)");
    TRY(out.truncate(stream.offset()));
    stream.report_progress(true);
    return stream.offset();
}

Result<std::vector<CpioEntry>> read_cpio_entries(RandomAccessFile& archive) {
    const uint64_t size = TRY(archive.size());
    std::vector<CpioEntry> entries;
    std::array<uint8_t, kHeaderSize> header{};
    std::vector<uint8_t> name_bytes;
    uint64_t offset = 0;
    for (;;) {
        if (offset >= size)
            return corrupt(offset,
                           size == 0 ? "empty archive" : "archive ends without a TRAILER!!! entry");
        if (size - offset < kHeaderSize)
            return corrupt(offset, "truncated header (" + std::to_string(size - offset) +
                                       " bytes left, a header needs " +
                                       std::to_string(kHeaderSize) + ")");
        TRY(archive.read_at(offset, header));
        std::string_view magic(reinterpret_cast<const char*>(header.data()), 6);
        if (magic != kMagicNewc && magic != kMagicCrc)
            return corrupt(offset, "bad magic '" + printable(magic) + "' (expected 070701)");

        Fields fields{};
        for (size_t i = 0; i < field_count; ++i) {
            std::string_view text(
                reinterpret_cast<const char*>(header.data()) + 6 + i * kFieldDigits, kFieldDigits);
            auto bytes = from_hex(text);
            if (bytes.is_error())
                return corrupt(offset, std::string("field ") + kFieldNames[i] + " '" +
                                           printable(text) + "' is not 8 hex digits");
            fields[i] = load_be<uint32_t>(bytes.value().data());
        }

        uint32_t name_size = fields[f_namesize];
        if (name_size == 0)
            return corrupt(offset, "name size is 0");
        if (name_size > kMaxNameSize)
            return corrupt(offset, "name size " + std::to_string(name_size) + " is too large");
        uint64_t name_offset = offset + kHeaderSize;
        if (name_size > size - name_offset)
            return corrupt(offset, "name runs past the end of the archive");
        name_bytes.resize(name_size);
        TRY(archive.read_at(name_offset, name_bytes));
        if (name_bytes.back() != 0)
            return corrupt(offset, "name is not NUL-terminated");
        std::string name(reinterpret_cast<const char*>(name_bytes.data()), name_size - 1);
        if (name.find('\0') != std::string::npos)
            return corrupt(offset, "name contains a NUL byte");

        uint64_t data_offset = align4(name_offset + name_size);
        uint32_t data_size = fields[f_filesize];
        if (data_size > 0 && (data_offset > size || data_size > size - data_offset))
            return corrupt(offset, "data of '" + printable(name) + "' (" +
                                       std::to_string(data_size) +
                                       " bytes) runs past the end of the archive");
        if (name == kTrailerName)
            return entries;

        uint32_t mode = fields[f_mode];
        if (!is_known_file_type(mode))
            return corrupt(offset, "'" + printable(name) + "' has an unknown file type (mode " +
                                       std::to_string(mode) + ")");
        uint32_t type = mode & S_IFMT;
        if (data_size != 0 && type != S_IFREG && type != S_IFLNK)
            return corrupt(offset, "'" + printable(name) +
                                       "' has data but is not a file or "
                                       "symlink");

        CpioEntry entry;
        entry.name = std::move(name);
        entry.ino = fields[f_ino];
        entry.mode = mode;
        entry.uid = fields[f_uid];
        entry.gid = fields[f_gid];
        entry.nlink = fields[f_nlink];
        entry.mtime = fields[f_mtime];
        entry.dev_major = fields[f_devmajor];
        entry.dev_minor = fields[f_devminor];
        entry.rdev_major = fields[f_rdevmajor];
        entry.rdev_minor = fields[f_rdevminor];
        entry.data_offset = data_offset;
        entry.data_size = data_size;
        entry.has_checksum = magic == kMagicCrc;
        entry.checksum = fields[f_check];
        entries.push_back(std::move(entry));
        offset = align4(data_offset + data_size);
    }
}

Result<std::vector<std::string>> cpio_name_components(std::string_view name) {
    if (name.empty())
        return Error::invalid("cpio entry with an empty name");
    if (name.size() >= kMaxPathLength)
        return Error::invalid("cpio entry name is longer than PATH_MAX: '" +
                              printable(name.substr(0, 64)) + "...'");
    if (name.front() == '/')
        return Error::invalid("cpio entry has an absolute name: '" + printable(name) + "'");
    std::vector<std::string> components;
    size_t start = 0;
    while (start <= name.size()) {
        size_t end = name.find('/', start);
        if (end == std::string_view::npos)
            end = name.size();
        std::string_view component = name.substr(start, end - start);
        if (component == "..")
            return Error::invalid("cpio entry name has a '..' component: '" + printable(name) +
                                  "'");
        if (!component.empty() && component != ".")
            components.emplace_back(component);
        start = end + 1;
    }
    return components;
}

}  // namespace myst::image

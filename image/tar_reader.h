// A streaming reader of tar archives as container image layers hold them:
// POSIX ustar with pax extended headers (path, linkpath, size, uid, gid,
// mtime, xattrs), GNU long names and links (type L/K) and GNU base-256
// numbers. Every header is checked (checksum, octal fields, lengths), so a
// corrupt layer is an error naming the offset, never a crash or a hang.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "image/byte_stream.h"
#include "image/fs_tree.h"

namespace myst::image {

enum class TarEntryType { regular, hard_link, symlink, char_device, block_device, directory, fifo };

struct TarEntry {
    std::string name;  // as stored (pax path or GNU long name applied)
    TarEntryType type = TarEntryType::regular;
    uint32_t permissions = 0;  // the 07777 bits
    uint32_t uid = 0;
    uint32_t gid = 0;
    Timestamp mtime;
    uint64_t size = 0;      // data bytes that follow (regular files)
    std::string link_name;  // symlink target or hard link's archive path
    uint32_t dev_major = 0;
    uint32_t dev_minor = 0;
    std::vector<std::string> xattr_names;  // pax SCHILY.xattr.* / LIBARCHIVE.xattr.*
    uint64_t header_offset = 0;            // where the entry's header starts
    uint64_t data_offset = 0;              // where its data starts
};

class TarReader {
public:
    // `source` names the archive in errors ("blobs/sha256/ab12...").
    TarReader(ByteStream& stream, std::string source)
        : m_stream(stream), m_source(std::move(source)) {}

    // The next entry, skipping what is left of the previous one's data;
    // nullopt at the end of the archive.
    Result<std::optional<TarEntry>> next();
    // Reads the current entry's data; 0 once it is all read.
    Result<size_t> read_data(std::span<uint8_t> buffer);
    const std::string& source() const { return m_source; }

private:
    Result<void> skip_rest_of_entry();
    Result<std::string> read_long_text(uint64_t size, uint64_t limit, const char* what);
    Error error_at(uint64_t offset, const std::string& problem) const;

    ByteStream& m_stream;
    std::string m_source;
    uint64_t m_offset = 0;        // bytes consumed from the stream
    uint64_t m_data_left = 0;     // of the current entry
    uint64_t m_padding_left = 0;  // to the next 512-byte boundary
    bool m_ended = false;
};

// The components of an archive path, for applying it to a tree: leading
// "./" and "." components and repeated slashes dropped, a trailing slash
// allowed. An empty name, an absolute name or a ".." component is an error
// saying so (such a name could write outside the tree).
Result<std::vector<std::string>> tar_path_components(const std::string& name);

}  // namespace myst::image

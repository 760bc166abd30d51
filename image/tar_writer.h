// Writes tar archives (POSIX ustar; a pax header carries names and link
// targets too long for ustar): the layers of the OCI images `myst package
// --oci` makes, and the test layers of the unit tests.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "image/tar_reader.h"

namespace myst::image {

// The header block(s) of one entry; for a regular file, entry.size data
// bytes and tar_padding(entry.size) follow.
std::vector<uint8_t> tar_header(const TarEntry& entry);
// Zeros up to the next 512-byte boundary after `size` data bytes.
std::vector<uint8_t> tar_padding(uint64_t size);
// The two zero blocks that end an archive.
std::vector<uint8_t> tar_end();

// An archive in memory, entry by entry (for small archives and tests).
class TarBuilder {
public:
    TarBuilder& directory(const std::string& name, uint32_t permissions = 0755);
    TarBuilder& file(const std::string& name, std::string_view content,
                     uint32_t permissions = 0644);
    TarBuilder& symlink(const std::string& name, const std::string& target);
    TarBuilder& hard_link(const std::string& name, const std::string& target);
    TarBuilder& entry(const TarEntry& entry, std::span<const uint8_t> data = {});
    std::vector<uint8_t> finish();

private:
    std::vector<uint8_t> m_bytes;
};

}  // namespace myst::image

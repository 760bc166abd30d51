#include "image/tar_writer.h"

#include <cstdio>
#include <cstring>

namespace myst::image {

namespace {

constexpr size_t block_size = 512;

void put_text(std::vector<uint8_t>& header, size_t offset, size_t length, std::string_view text) {
    std::memcpy(header.data() + offset, text.data(), std::min(length, text.size()));
}

// Octal with a NUL, or GNU base-256 when the value does not fit.
void put_number(std::vector<uint8_t>& header, size_t offset, size_t length, uint64_t value) {
    if (length < 12 || value < (uint64_t(1) << (3 * (length - 1)))) {
        char text[24];
        std::snprintf(text, sizeof text, "%0*llo", static_cast<int>(length - 1),
                      static_cast<unsigned long long>(value));
        put_text(header, offset, length - 1, text);
        return;
    }
    header[offset] = 0x80;
    for (size_t i = length - 1; i > 0; i--, value >>= 8)
        header[offset + i] = static_cast<uint8_t>(value);
}

char type_flag(TarEntryType type) {
    switch (type) {
        case TarEntryType::regular:
            return '0';
        case TarEntryType::hard_link:
            return '1';
        case TarEntryType::symlink:
            return '2';
        case TarEntryType::char_device:
            return '3';
        case TarEntryType::block_device:
            return '4';
        case TarEntryType::directory:
            return '5';
        case TarEntryType::fifo:
            return '6';
    }
    return '0';
}

std::vector<uint8_t> ustar_block(const std::string& name, char type, uint64_t size,
                                 const TarEntry& entry) {
    std::vector<uint8_t> header(block_size);
    put_text(header, 0, 100, name);
    put_number(header, 100, 8, entry.permissions & 07777);
    put_number(header, 108, 8, entry.uid);
    put_number(header, 116, 8, entry.gid);
    put_number(header, 124, 12, size);
    put_number(header, 136, 12, entry.mtime.seconds < 0 ? 0 : uint64_t(entry.mtime.seconds));
    header[156] = static_cast<uint8_t>(type);
    if (entry.link_name.size() <= 100)
        put_text(header, 157, 100, entry.link_name);
    put_text(header, 257, 6, "ustar");
    put_text(header, 263, 2, "00");
    put_number(header, 329, 8, entry.dev_major);
    put_number(header, 337, 8, entry.dev_minor);
    std::memset(header.data() + 148, ' ', 8);
    uint64_t sum = 0;
    for (uint8_t byte : header)
        sum += byte;
    char text[8];
    std::snprintf(text, sizeof text, "%06llo", static_cast<unsigned long long>(sum));
    std::memcpy(header.data() + 148, text, 7);  // six digits, NUL, space
    return header;
}

std::string pax_record(const std::string& key, const std::string& value) {
    // The length counts itself: find the fixed point.
    size_t length = key.size() + value.size() + 3;
    for (;;) {
        std::string record = std::to_string(length) + " " + key + "=" + value + "\n";
        if (record.size() == length)
            return record;
        length = record.size();
    }
}

}  // namespace

std::vector<uint8_t> tar_padding(uint64_t size) {
    return std::vector<uint8_t>((block_size - size % block_size) % block_size);
}

std::vector<uint8_t> tar_end() {
    return std::vector<uint8_t>(2 * block_size);
}

std::vector<uint8_t> tar_header(const TarEntry& entry) {
    std::vector<uint8_t> out;
    std::string pax;
    if (entry.name.size() > 100)
        pax += pax_record("path", entry.name);
    if (entry.link_name.size() > 100)
        pax += pax_record("linkpath", entry.link_name);
    if (!pax.empty()) {
        out = ustar_block("PaxHeaders/entry", 'x', pax.size(), TarEntry{});
        out.insert(out.end(), pax.begin(), pax.end());
        auto padding = tar_padding(pax.size());
        out.insert(out.end(), padding.begin(), padding.end());
    }
    uint64_t size = entry.type == TarEntryType::regular ? entry.size : 0;
    auto header = ustar_block(entry.name.substr(0, 100), type_flag(entry.type), size, entry);
    out.insert(out.end(), header.begin(), header.end());
    return out;
}

TarBuilder& TarBuilder::entry(const TarEntry& entry, std::span<const uint8_t> data) {
    auto header = tar_header(entry);
    m_bytes.insert(m_bytes.end(), header.begin(), header.end());
    m_bytes.insert(m_bytes.end(), data.begin(), data.end());
    auto padding = tar_padding(data.size());
    m_bytes.insert(m_bytes.end(), padding.begin(), padding.end());
    return *this;
}

TarBuilder& TarBuilder::directory(const std::string& name, uint32_t permissions) {
    TarEntry e;
    e.name = name;
    e.type = TarEntryType::directory;
    e.permissions = permissions;
    return entry(e);
}

TarBuilder& TarBuilder::file(const std::string& name, std::string_view content,
                             uint32_t permissions) {
    TarEntry e;
    e.name = name;
    e.permissions = permissions;
    e.size = content.size();
    return entry(e, {reinterpret_cast<const uint8_t*>(content.data()), content.size()});
}

TarBuilder& TarBuilder::symlink(const std::string& name, const std::string& target) {
    TarEntry e;
    e.name = name;
    e.type = TarEntryType::symlink;
    e.permissions = 0777;
    e.link_name = target;
    return entry(e);
}

TarBuilder& TarBuilder::hard_link(const std::string& name, const std::string& target) {
    TarEntry e;
    e.name = name;
    e.type = TarEntryType::hard_link;
    e.permissions = 0644;
    e.link_name = target;
    return entry(e);
}

std::vector<uint8_t> TarBuilder::finish() {
    auto end = tar_end();
    m_bytes.insert(m_bytes.end(), end.begin(), end.end());
    return std::move(m_bytes);
}

}  // namespace myst::image

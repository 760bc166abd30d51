#include "image/tar_reader.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <climits>
#include <cstring>
#include <functional>

namespace myst::image {

namespace {

constexpr size_t block_size = 512;
constexpr uint64_t max_pax_bytes = 1 << 20;  // far above any real pax header
constexpr uint64_t max_name_bytes = PATH_MAX;

struct Header {
    std::array<uint8_t, block_size> bytes{};
    std::string_view field(size_t offset, size_t length) const {
        const char* start = reinterpret_cast<const char*>(bytes.data()) + offset;
        return {start, strnlen(start, length)};
    }
};

// Octal (NUL/space terminated) or GNU base-256 (high bit of the first byte).
std::optional<uint64_t> parse_number(const Header& header, size_t offset, size_t length) {
    const uint8_t* p = header.bytes.data() + offset;
    if (p[0] & 0x80) {
        if (p[0] != 0x80)
            return std::nullopt;  // negative or too wide for 64 bits
        uint64_t value = 0;
        for (size_t i = 1; i < length; i++) {
            if (value >> 56)
                return std::nullopt;
            value = value << 8 | p[i];
        }
        return value;
    }
    size_t i = 0;
    while (i < length && p[i] == ' ')
        i++;
    uint64_t value = 0;
    size_t digits = 0;
    for (; i < length && p[i] >= '0' && p[i] <= '7'; i++, digits++) {
        if (value >> 61)
            return std::nullopt;
        value = value * 8 + (p[i] - '0');
    }
    for (; i < length; i++)
        if (p[i] != ' ' && p[i] != '\0')
            return std::nullopt;
    return value;
}

bool checksum_matches(const Header& header) {
    auto stored = parse_number(header, 148, 8);
    if (!stored)
        return false;
    uint64_t sum = 0;
    for (size_t i = 0; i < block_size; i++)
        sum += (i >= 148 && i < 156) ? uint8_t(' ') : header.bytes[i];
    return sum == *stored;
}

bool all_zero(const Header& header) {
    return std::all_of(header.bytes.begin(), header.bytes.end(), [](uint8_t b) { return b == 0; });
}

// One pax record set: "<length> <key>=<value>\n" repeated.
struct PaxValues {
    std::optional<std::string> path, link_path;
    std::optional<uint64_t> size, uid, gid;
    std::optional<Timestamp> mtime;
    std::vector<std::string> xattr_names;
};

std::optional<uint64_t> decimal(std::string_view text) {
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty())
        return std::nullopt;
    return value;
}

// "1612325106.123456789": seconds, then up to 9 fraction digits.
std::optional<Timestamp> pax_time(std::string_view text) {
    bool negative = text.starts_with('-');
    if (negative)
        text.remove_prefix(1);
    size_t dot = text.find('.');
    auto seconds = decimal(text.substr(0, dot));
    if (!seconds || *seconds > uint64_t(INT64_MAX))
        return std::nullopt;
    Timestamp time{negative ? -int64_t(*seconds) : int64_t(*seconds), 0};
    if (dot != std::string_view::npos) {
        std::string_view fraction = text.substr(dot + 1);
        uint32_t ns = 0, scale = 100000000;
        for (char c : fraction) {
            if (c < '0' || c > '9')
                return std::nullopt;
            ns += scale * uint32_t(c - '0');
            scale /= 10;
        }
        time.nanoseconds = negative ? 0 : ns;
    }
    return time;
}

}  // namespace

Error TarReader::error_at(uint64_t offset, const std::string& problem) const {
    return Error::invalid(m_source + ": tar entry at offset " + std::to_string(offset) + ": " +
                          problem);
}

Result<void> TarReader::skip_rest_of_entry() {
    std::vector<uint8_t> chunk(64 * 1024);
    uint64_t left = m_data_left + m_padding_left;
    while (left > 0) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(left, chunk.size()));
        if (!TRY(read_exact(m_stream, std::span(chunk).first(want))))
            return Error::invalid(m_source + ": archive ends inside an entry (truncated)");
        left -= want;
        m_offset += want;
    }
    m_data_left = m_padding_left = 0;
    return {};
}

Result<size_t> TarReader::read_data(std::span<uint8_t> buffer) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), m_data_left));
    if (want == 0)
        return size_t(0);
    if (!TRY(read_exact(m_stream, buffer.first(want))))
        return Error::invalid(m_source + ": archive ends inside an entry (truncated)");
    m_data_left -= want;
    m_offset += want;
    return want;
}

Result<std::string> TarReader::read_long_text(uint64_t size, uint64_t limit, const char* what) {
    if (size > limit)
        return error_at(m_offset - block_size,
                        std::string(what) + " of " + std::to_string(size) + " bytes is too long");
    std::string text(size, '\0');
    TRY(read_data({reinterpret_cast<uint8_t*>(text.data()), text.size()}));
    TRY(skip_rest_of_entry());
    return text;
}

namespace {

Result<PaxValues> parse_pax(std::string_view text, const std::function<Error(std::string)>& fail) {
    PaxValues values;
    while (!text.empty()) {
        size_t space = text.find(' ');
        auto length =
            space == std::string_view::npos ? std::nullopt : decimal(text.substr(0, space));
        if (!length || *length <= space + 1 || *length > text.size() || text[*length - 1] != '\n')
            return fail("malformed pax extended header record");
        std::string_view record = text.substr(space + 1, *length - space - 2);
        text.remove_prefix(*length);
        size_t equals = record.find('=');
        if (equals == std::string_view::npos)
            return fail("pax record without '='");
        std::string_view key = record.substr(0, equals), value = record.substr(equals + 1);
        auto number = [&](std::optional<uint64_t>& into) -> Result<void> {
            into = decimal(value);
            if (!into)
                return fail("pax " + std::string(key) + " is not a number");
            return {};
        };
        if (key == "path")
            values.path = std::string(value);
        else if (key == "linkpath")
            values.link_path = std::string(value);
        else if (key == "size")
            TRY(number(values.size));
        else if (key == "uid")
            TRY(number(values.uid));
        else if (key == "gid")
            TRY(number(values.gid));
        else if (key == "mtime") {
            values.mtime = pax_time(value);
            if (!values.mtime)
                return fail("pax mtime is not a time");
        } else if (key.starts_with("SCHILY.xattr.") || key.starts_with("LIBARCHIVE.xattr."))
            values.xattr_names.emplace_back(key.substr(key.find(".xattr.") + 7));
        else if (key.starts_with("GNU.sparse."))
            return fail("sparse files are not supported");
    }
    return values;
}

}  // namespace

Result<std::optional<TarEntry>> TarReader::next() {
    if (m_ended)
        return std::optional<TarEntry>();
    TRY(skip_rest_of_entry());
    PaxValues pax;
    std::optional<std::string> long_name, long_link;
    for (;;) {
        Header header;
        uint64_t at = m_offset;
        size_t got = 0;
        if (!TRY(read_exact(m_stream, header.bytes, &got))) {
            if (got == 0) {  // no end-of-archive blocks: end at a header boundary
                m_ended = true;
                return std::optional<TarEntry>();
            }
            return error_at(at, "archive ends inside a header (truncated)");
        }
        m_offset += block_size;
        if (all_zero(header)) {
            m_ended = true;  // the rest (the second zero block, padding) is not read
            return std::optional<TarEntry>();
        }
        if (!checksum_matches(header))
            return error_at(at, "header checksum mismatch (not a tar archive, or corrupt)");
        auto size = parse_number(header, 124, 12);
        auto mode = parse_number(header, 100, 8);
        auto uid = parse_number(header, 108, 8);
        auto gid = parse_number(header, 116, 8);
        auto mtime = parse_number(header, 136, 12);
        auto major = parse_number(header, 329, 8);
        auto minor = parse_number(header, 337, 8);
        if (!size || !mode || !uid || !gid || !mtime || !major || !minor)
            return error_at(at, "a numeric header field is malformed");
        char type = static_cast<char>(header.bytes[156]);
        uint64_t data_size = pax.size && type != 'x' && type != 'g' ? *pax.size : *size;
        m_data_left = data_size;
        m_padding_left = (block_size - data_size % block_size) % block_size;
        auto fail = [&](std::string problem) { return error_at(at, problem); };

        if (type == 'x') {
            std::string text = TRY(read_long_text(data_size, max_pax_bytes, "pax header"));
            PaxValues next = TRY(parse_pax(text, fail));
            pax = std::move(next);
            continue;
        }
        if (type == 'g') {  // global pax header: nothing in it applies to a file tree
            TRY(skip_rest_of_entry());
            continue;
        }
        if (type == 'L' || type == 'K') {
            std::string text = TRY(read_long_text(data_size, max_name_bytes + 1, "GNU long name"));
            if (size_t nul = text.find('\0'); nul != std::string::npos)
                text.resize(nul);
            (type == 'L' ? long_name : long_link) = std::move(text);
            continue;
        }

        TarEntry entry;
        entry.header_offset = at;
        entry.data_offset = m_offset;
        std::string_view magic = header.field(257, 6);
        bool ustar = magic == "ustar";  // POSIX "ustar\0" (GNU's "ustar  " has no prefix field)
        std::string name(header.field(0, 100));
        if (ustar && header.bytes[345] != 0)
            name = std::string(header.field(345, 155)) + "/" + name;
        entry.name = pax.path ? *pax.path : long_name ? *long_name : name;
        entry.link_name = pax.link_path ? *pax.link_path
                          : long_link   ? *long_link
                                        : std::string(header.field(157, 100));
        entry.permissions = static_cast<uint32_t>(*mode & 07777);
        entry.uid = static_cast<uint32_t>(pax.uid.value_or(*uid));
        entry.gid = static_cast<uint32_t>(pax.gid.value_or(*gid));
        entry.mtime = pax.mtime.value_or(Timestamp{static_cast<int64_t>(*mtime), 0});
        entry.dev_major = static_cast<uint32_t>(*major);
        entry.dev_minor = static_cast<uint32_t>(*minor);
        entry.xattr_names = std::move(pax.xattr_names);
        if (entry.name.empty())
            return fail("entry without a name");
        if (entry.name.size() > max_name_bytes || entry.link_name.size() > max_name_bytes)
            return fail("name longer than PATH_MAX");
        switch (type) {
            case '0':
            case '\0':
            case '7':
                entry.type = TarEntryType::regular;
                break;
            case '1':
                entry.type = TarEntryType::hard_link;
                break;
            case '2':
                entry.type = TarEntryType::symlink;
                break;
            case '3':
                entry.type = TarEntryType::char_device;
                break;
            case '4':
                entry.type = TarEntryType::block_device;
                break;
            case '5':
                entry.type = TarEntryType::directory;
                break;
            case '6':
                entry.type = TarEntryType::fifo;
                break;
            case 'S':
                return fail(entry.name + ": GNU sparse files are not supported");
            default:
                return fail(entry.name + ": unsupported entry type '" +
                            (type >= 32 && type < 127 ? std::string(1, type)
                                                      : std::to_string(int(uint8_t(type)))) +
                            "'");
        }
        // Only regular files carry data; a size on the others is skipped.
        entry.size = entry.type == TarEntryType::regular ? data_size : 0;
        if (entry.type == TarEntryType::regular && name.ends_with('/') && !ustar && type == '\0')
            entry.type = TarEntryType::directory;  // old tar: a directory is a name ending in '/'
        return std::optional<TarEntry>(std::move(entry));
    }
}

Result<std::vector<std::string>> tar_path_components(const std::string& name) {
    if (name.empty())
        return Error::invalid("empty name");
    if (name.starts_with('/'))
        return Error::invalid(name + ": absolute name in the archive");
    std::vector<std::string> components;
    size_t start = 0;
    while (start <= name.size()) {
        size_t slash = name.find('/', start);
        if (slash == std::string::npos)
            slash = name.size();
        std::string part = name.substr(start, slash - start);
        start = slash + 1;
        if (part.empty() || part == ".")
            continue;
        if (part == "..")
            return Error::invalid(name + ": '..' in the name would leave the output directory");
        components.push_back(std::move(part));
    }
    return components;
}

}  // namespace myst::image

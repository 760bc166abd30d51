#include "image/byte_stream.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

namespace myst::image {

Result<bool> read_exact(ByteStream& stream, std::span<uint8_t> buffer, size_t* got) {
    size_t done = 0;
    while (done < buffer.size()) {
        size_t n = TRY(stream.read(buffer.subspan(done)));
        if (n == 0)
            break;
        done += n;
    }
    if (got)
        *got = done;
    return done == buffer.size();
}

Result<uint64_t> drain(ByteStream& stream) {
    std::vector<uint8_t> chunk(64 * 1024);
    uint64_t total = 0;
    while (size_t n = TRY(stream.read(chunk)))
        total += n;
    return total;
}

Result<size_t> FileStream::read(std::span<uint8_t> buffer) {
    if (m_size == UINT64_MAX)
        m_size = TRY(m_file->size());
    size_t n = static_cast<size_t>(std::min<uint64_t>(buffer.size(), m_size - m_offset));
    if (n == 0)
        return size_t(0);
    TRY(m_file->read_at(m_offset, buffer.first(n)));
    m_offset += n;
    return n;
}

Result<size_t> HashingStream::read(std::span<uint8_t> buffer) {
    size_t n = TRY(m_inner.read(buffer));
    m_sha.update(buffer.first(n));
    m_count += n;
    return n;
}

Result<size_t> PrefixedStream::read(std::span<uint8_t> buffer) {
    if (m_used < m_prefix.size()) {
        size_t n = std::min(buffer.size(), m_prefix.size() - m_used);
        std::memcpy(buffer.data(), m_prefix.data() + m_used, n);
        m_used += n;
        return n;
    }
    return m_inner.read(buffer);
}

Compression detect_compression(std::span<const uint8_t> head) {
    auto starts = [&](std::initializer_list<uint8_t> magic) {
        return head.size() >= magic.size() && std::equal(magic.begin(), magic.end(), head.begin());
    };
    if (starts({0x1f, 0x8b}))
        return Compression::gzip;
    if (starts({0x28, 0xb5, 0x2f, 0xfd}))
        return Compression::zstd;
    if (starts({'B', 'Z', 'h'}))
        return Compression::bzip2;
    if (starts({0xfd, '7', 'z', 'X', 'Z', 0x00}))
        return Compression::xz;
    return Compression::none;
}

struct GzipStream::State {
    z_stream z{};
    std::vector<uint8_t> input = std::vector<uint8_t>(64 * 1024);
    bool input_ended = false;
    bool ended = false;
};

GzipStream::GzipStream(ByteStream& inner, std::string source)
    : m_inner(inner), m_source(std::move(source)), m_state(std::make_unique<State>()) {}

GzipStream::~GzipStream() {
    ::inflateEnd(&m_state->z);
}

Result<std::unique_ptr<GzipStream>> GzipStream::create(ByteStream& inner, std::string source) {
    std::unique_ptr<GzipStream> stream(new GzipStream(inner, std::move(source)));
    // 16 + MAX_WBITS: gzip framing only, with its CRC and length checked.
    if (::inflateInit2(&stream->m_state->z, 16 + MAX_WBITS) != Z_OK)
        return Error(ENOMEM, stream->m_source + ": cannot start gzip decompression");
    return stream;
}

Result<size_t> GzipStream::read(std::span<uint8_t> buffer) {
    State& s = *m_state;
    if (s.ended || buffer.empty())
        return size_t(0);
    s.z.next_out = buffer.data();
    s.z.avail_out = static_cast<uInt>(std::min<size_t>(buffer.size(), 1u << 30));
    while (s.z.next_out == buffer.data()) {
        if (s.z.avail_in == 0 && !s.input_ended) {
            size_t n = TRY(m_inner.read(s.input));
            s.input_ended = n == 0;
            s.z.next_in = s.input.data();
            s.z.avail_in = static_cast<uInt>(n);
        }
        if (s.z.avail_in == 0 && s.input_ended)
            return Error::invalid(m_source + ": gzip data ends early (truncated)");
        int rc = ::inflate(&s.z, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) {
            // Another member may follow (concatenated gzip files are one stream).
            if (s.z.avail_in == 0 && !s.input_ended) {
                size_t n = TRY(m_inner.read(s.input));
                s.input_ended = n == 0;
                s.z.next_in = s.input.data();
                s.z.avail_in = static_cast<uInt>(n);
            }
            if (s.z.avail_in == 0) {
                s.ended = true;
                break;
            }
            ::inflateReset(&s.z);
            continue;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            return Error::invalid(m_source + ": corrupt gzip data (" +
                                  (s.z.msg ? s.z.msg : "inflate failed") + ")");
    }
    return static_cast<size_t>(s.z.next_out - buffer.data());
}

struct GzipWriter::State {
    z_stream z{};
};

GzipWriter::GzipWriter() : m_state(std::make_unique<State>()) {}

GzipWriter::~GzipWriter() {
    ::deflateEnd(&m_state->z);
}

Result<std::unique_ptr<GzipWriter>> GzipWriter::create(int level) {
    std::unique_ptr<GzipWriter> writer(new GzipWriter());
    if (::deflateInit2(&writer->m_state->z, level, Z_DEFLATED, 16 + MAX_WBITS, 8,
                       Z_DEFAULT_STRATEGY) != Z_OK)
        return Error(ENOMEM, "cannot start gzip compression");
    return writer;
}

namespace {

Result<void> deflate_into(z_stream& z, std::span<const uint8_t> data, int flush,
                          std::vector<uint8_t>& out) {
    z.next_in = const_cast<uint8_t*>(data.data());
    z.avail_in = static_cast<uInt>(data.size());
    uint8_t chunk[64 * 1024];
    for (;;) {
        z.next_out = chunk;
        z.avail_out = sizeof chunk;
        int rc = ::deflate(&z, flush);
        if (rc == Z_STREAM_ERROR)
            return Error(EIO, "gzip compression failed");
        out.insert(out.end(), chunk, z.next_out);
        if (flush == Z_FINISH ? rc == Z_STREAM_END : (z.avail_in == 0 && z.avail_out != 0))
            return {};
    }
}

}  // namespace

Result<void> GzipWriter::write(std::span<const uint8_t> data, std::vector<uint8_t>& out) {
    return deflate_into(m_state->z, data, Z_NO_FLUSH, out);
}

Result<void> GzipWriter::finish(std::vector<uint8_t>& out) {
    return deflate_into(m_state->z, {}, Z_FINISH, out);
}

}  // namespace myst::image

// Sequential byte sources for formats read front to back (tar layers, gzip):
// a layer of a container image is read once, decompressed and hashed on the
// way, and never needs to be held in memory or on disk whole.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "base/result.h"
#include "base/sha256.h"
#include "image/io.h"

namespace myst::image {

class ByteStream {
public:
    virtual ~ByteStream() = default;
    // Reads up to buffer.size() bytes; 0 only at the end of the stream.
    virtual Result<size_t> read(std::span<uint8_t> buffer) = 0;
};

// Reads exactly buffer.size() bytes; false when the stream ended first
// (after a partial read the buffer holds what was there).
Result<bool> read_exact(ByteStream& stream, std::span<uint8_t> buffer, size_t* got = nullptr);

// Reads the stream to its end, discarding the bytes; returns how many.
Result<uint64_t> drain(ByteStream& stream);

// The bytes of a RandomAccessFile, front to back.
class FileStream final : public ByteStream {
public:
    explicit FileStream(std::shared_ptr<RandomAccessFile> file) : m_file(std::move(file)) {}
    Result<size_t> read(std::span<uint8_t> buffer) override;
    uint64_t offset() const { return m_offset; }

private:
    std::shared_ptr<RandomAccessFile> m_file;
    uint64_t m_offset = 0;
    uint64_t m_size = UINT64_MAX;  // fetched on the first read
};

// Passes the bytes through and hashes them (SHA-256) and counts them.
class HashingStream final : public ByteStream {
public:
    explicit HashingStream(ByteStream& inner) : m_inner(inner) { m_sha.begin(); }
    Result<size_t> read(std::span<uint8_t> buffer) override;
    uint64_t count() const { return m_count; }
    Sha256Digest finish() { return m_sha.finish(); }

private:
    ByteStream& m_inner;
    Sha256 m_sha;
    uint64_t m_count = 0;
};

enum class Compression { none, gzip, zstd, bzip2, xz };

// What the first bytes of a stream say it is compressed with.
Compression detect_compression(std::span<const uint8_t> head);

// Decompresses gzip (one or more members, as `gzip` and `pigz` write) from
// the inner stream. `source` names the input in errors.
class GzipStream final : public ByteStream {
public:
    static Result<std::unique_ptr<GzipStream>> create(ByteStream& inner, std::string source);
    ~GzipStream() override;
    Result<size_t> read(std::span<uint8_t> buffer) override;

private:
    GzipStream(ByteStream& inner, std::string source);
    struct State;
    ByteStream& m_inner;
    std::string m_source;
    std::unique_ptr<State> m_state;
};

// A stream that first gives back bytes already read from `inner` (to look at
// its magic) and then the rest of `inner`.
class PrefixedStream final : public ByteStream {
public:
    PrefixedStream(std::vector<uint8_t> prefix, ByteStream& inner)
        : m_prefix(std::move(prefix)), m_inner(inner) {}
    Result<size_t> read(std::span<uint8_t> buffer) override;

private:
    std::vector<uint8_t> m_prefix;
    size_t m_used = 0;
    ByteStream& m_inner;
};

// Gzip-compresses everything written into it (deterministic: no name, time 0).
class GzipWriter {
public:
    static Result<std::unique_ptr<GzipWriter>> create(int level = 6);
    ~GzipWriter();
    // Appends compressed bytes to `out`.
    Result<void> write(std::span<const uint8_t> data, std::vector<uint8_t>& out);
    Result<void> finish(std::vector<uint8_t>& out);

private:
    GzipWriter();
    struct State;
    std::unique_ptr<State> m_state;
};

}  // namespace myst::image

// Byte-addressed files as the image formats see them. The tools back these
// with host files; the kernel will back them with target calls; tests use
// MemoryFile. Nothing in image/ touches the host directly.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/result.h"

namespace myst::image {

class RandomAccessFile {
public:
    virtual ~RandomAccessFile() = default;

    // Reads exactly buffer.size() bytes at offset; reading past the end is EIO.
    virtual Result<void> read_at(uint64_t offset, std::span<uint8_t> buffer) = 0;
    // Writes all of data at offset, growing the file when needed.
    virtual Result<void> write_at(uint64_t offset, std::span<const uint8_t> data) = 0;
    virtual Result<uint64_t> size() = 0;
    // Sets the size; growing leaves a hole that reads as zeros.
    virtual Result<void> truncate(uint64_t size) = 0;
};

class MemoryFile final : public RandomAccessFile {
public:
    MemoryFile() = default;
    explicit MemoryFile(std::vector<uint8_t> bytes) : m_bytes(std::move(bytes)) {}

    Result<void> read_at(uint64_t offset, std::span<uint8_t> buffer) override;
    Result<void> write_at(uint64_t offset, std::span<const uint8_t> data) override;
    Result<uint64_t> size() override { return static_cast<uint64_t>(m_bytes.size()); }
    Result<void> truncate(uint64_t size) override;

    std::vector<uint8_t>& bytes() { return m_bytes; }

private:
    std::vector<uint8_t> m_bytes;
};

// Bytes [offset, offset + length) of another file, read-only: a root file
// system stored inside a package file is read through one, so the formats
// need not know where their image starts.
class FileWindow final : public RandomAccessFile {
public:
    FileWindow(std::shared_ptr<RandomAccessFile> file, uint64_t offset, uint64_t length)
        : m_file(std::move(file)), m_offset(offset), m_length(length) {}

    Result<void> read_at(uint64_t offset, std::span<uint8_t> buffer) override;
    Result<void> write_at(uint64_t offset, std::span<const uint8_t> data) override;  // EROFS
    Result<uint64_t> size() override { return m_length; }
    Result<void> truncate(uint64_t size) override;  // EROFS

private:
    std::shared_ptr<RandomAccessFile> m_file;
    uint64_t m_offset;
    uint64_t m_length;
};

}  // namespace myst::image

// The bottom of the block stack: an image file on the host, read through the
// target (never a host call of our own). The host is untrusted: what comes
// from here is checked by verity above before anyone uses it.
#pragma once

#include <memory>
#include <string>

#include "blk/block_device.h"
#include "image/io.h"
#include "target/target.h"

namespace myst::blk {

constexpr uint32_t image_block_size = 4096;

// A host file opened read-only through the target, as the image formats'
// RandomAccessFile (read_fssig, the verity superblock). Closes on destruction.
class TargetFile final : public image::RandomAccessFile {
public:
    static Result<std::shared_ptr<TargetFile>> open(Target& target, const std::string& path);
    TargetFile(Target& target, int fd, std::string path, uint64_t size)
        : m_target(target), m_fd(fd), m_path(std::move(path)), m_size(size) {}
    ~TargetFile() override;
    TargetFile(const TargetFile&) = delete;
    TargetFile& operator=(const TargetFile&) = delete;

    // Exactly buffer.size() bytes (short host reads are continued); the end
    // of the file is EIO. Safe to call from several threads.
    Result<void> read_at(uint64_t offset, std::span<uint8_t> buffer) override;
    Result<void> write_at(uint64_t offset, std::span<const uint8_t> data) override;  // EROFS
    // The size when the file was opened.
    Result<uint64_t> size() override { return m_size; }
    Result<void> truncate(uint64_t size) override;  // EROFS

    const std::string& path() const { return m_path; }

private:
    Target& m_target;
    int m_fd;
    std::string m_path;
    uint64_t m_size;
};

// Blocks of [offset, offset + length) of a host file; a partial last block is
// not part of the device. Read-only.
class HostFileDevice final : public BlockDevice {
public:
    HostFileDevice(std::shared_ptr<TargetFile> file, uint64_t offset, uint64_t length,
                   uint32_t block_size = image_block_size)
        : m_file(std::move(file)),
          m_offset(offset),
          m_block_size(block_size),
          m_block_count(length / block_size) {}
    // The whole file.
    static Result<std::unique_ptr<HostFileDevice>> open(Target& target, const std::string& path);

    uint32_t block_size() const override { return m_block_size; }
    uint64_t block_count() const override { return m_block_count; }
    Result<void> read_blocks(uint64_t first, std::span<uint8_t> buffer) override;

private:
    std::shared_ptr<TargetFile> m_file;
    uint64_t m_offset;
    uint32_t m_block_size;
    uint64_t m_block_count;
};

}  // namespace myst::blk

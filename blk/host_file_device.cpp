#include "blk/host_file_device.h"

#include <fcntl.h>

#include <cstring>

namespace myst::blk {

Result<std::shared_ptr<TargetFile>> TargetFile::open(Target& target, const std::string& path) {
    auto fd = target.file_open(path, O_RDONLY, 0);
    if (fd.is_error())
        return Error(fd.error().code(),
                     path + ": cannot open the image: " + std::strerror(fd.error().code()));
    auto file = std::make_shared<TargetFile>(target, fd.value(), path, 0);
    auto st = target.file_stat(fd.value());
    if (st.is_error())
        return st.release_error().with_context(path);
    if (!S_ISREG(st.value().st_mode) && !S_ISBLK(st.value().st_mode))
        return Error(EINVAL, path + ": the image is not a regular file");
    file->m_size = static_cast<uint64_t>(st.value().st_size);
    return file;
}

TargetFile::~TargetFile() {
    (void)m_target.file_close(m_fd);
}

Result<void> TargetFile::read_at(uint64_t offset, std::span<uint8_t> buffer) {
    while (!buffer.empty()) {
        auto got = m_target.file_pread(m_fd, buffer, offset);
        if (got.is_error())
            return got.release_error().with_context(m_path);
        if (got.value() == 0)
            return Error(EIO,
                         m_path + ": unexpected end of file at byte " + std::to_string(offset));
        buffer = buffer.subspan(got.value());
        offset += got.value();
    }
    return {};
}

Result<void> TargetFile::write_at(uint64_t, std::span<const uint8_t>) {
    return Error(EROFS, m_path + ": the image is opened read-only");
}

Result<void> TargetFile::truncate(uint64_t) {
    return Error(EROFS, m_path + ": the image is opened read-only");
}

Result<std::unique_ptr<HostFileDevice>> HostFileDevice::open(Target& target,
                                                             const std::string& path) {
    auto file = TRY(TargetFile::open(target, path));
    uint64_t size = TRY(file->size());
    return std::make_unique<HostFileDevice>(std::move(file), 0, size);
}

Result<void> HostFileDevice::read_blocks(uint64_t first, std::span<uint8_t> buffer) {
    TRY(check_block_range(*this, first, buffer.size()));
    return m_file->read_at(m_offset + first * m_block_size, buffer);
}

}  // namespace myst::blk

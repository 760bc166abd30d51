// The plaintext view of an encrypted payload: what is written through it is
// encrypted sector by sector into the lower file at payload_offset, and what
// is read is decrypted. Sector numbers count from the payload start, as
// dm-crypt numbers them for a LUKS volume.
#pragma once

#include <vector>

#include "image/io.h"
#include "image/luks1.h"

namespace myst::image {

class XtsVolumeFile final : public RandomAccessFile {
public:
    XtsVolumeFile(RandomAccessFile& lower, uint64_t payload_offset, XtsSectorCipher cipher)
        : m_lower(lower), m_payload_offset(payload_offset), m_cipher(std::move(cipher)) {}

    // Offsets and sizes must be multiples of 512 (whole sectors).
    Result<void> read_at(uint64_t offset, std::span<uint8_t> buffer) override;
    Result<void> write_at(uint64_t offset, std::span<const uint8_t> data) override;
    Result<uint64_t> size() override;
    Result<void> truncate(uint64_t size) override;

    // Writes encrypted zeros to every 4 KiB block of [0, size) not written
    // through this view, so all of the volume decrypts to what the writer
    // meant; an unwritten hole would otherwise decrypt to noise.
    Result<void> fill_unwritten(uint64_t size);

private:
    void mark_written(uint64_t offset, uint64_t length);

    RandomAccessFile& m_lower;
    uint64_t m_payload_offset;
    XtsSectorCipher m_cipher;
    std::vector<bool> m_written;  // per 4 KiB block, only whole blocks count
};

}  // namespace myst::image

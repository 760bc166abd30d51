// LUKS1 containers as `mkext2 --encrypt` writes them and the kernel reads
// them: aes-xts-plain64, 512-bit volume (master) key, sha256, the header laid
// out as cryptsetup does (key material after the 592-byte header, payload at
// sector 4096 = 2 MiB). Header fields are big-endian (LUKS1 on-disk spec).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace myst::image {

constexpr size_t luks1_master_key_size = 64;
constexpr size_t luks1_sector_size = 512;
constexpr uint32_t luks1_payload_offset_sectors = 4096;  // 2 MiB, as cryptsetup
constexpr size_t luks1_key_slots = 8;
constexpr uint32_t luks1_stripes = 4000;
// The most PBKDF2 iterations a header may ask for. The field allows
// 2^32 - 1, which would keep a mount in PBKDF2 for hours (a hang the
// fuzz/luks1_fuzzer.cpp target reports as a timeout). The master-key
// digest is checked at every mount: cryptsetup sizes it to 1/8 of its
// 2-second benchmark, some 10^5 iterations, and 2^20 is about 2.5 s on the
// project's VM. A key slot is opened only with a passphrase; 2^24 leaves
// room for cryptsetup's counts on fast CPUs.
constexpr uint32_t luks1_max_digest_iterations = uint32_t(1) << 20;
constexpr uint32_t luks1_max_iterations = uint32_t(1) << 24;

struct Luks1KeySlot {
    bool active = false;
    uint32_t iterations = 0;
    std::array<uint8_t, 32> salt{};
    uint32_t key_material_offset = 0;  // sectors
    uint32_t stripes = luks1_stripes;
};

struct Luks1Header {
    std::string cipher_name = "aes";
    std::string cipher_mode = "xts-plain64";
    std::string hash_spec = "sha256";
    uint32_t payload_offset = luks1_payload_offset_sectors;  // sectors
    uint32_t key_bytes = luks1_master_key_size;
    std::array<uint8_t, 20> mk_digest{};
    std::array<uint8_t, 32> mk_digest_salt{};
    uint32_t mk_digest_iterations = 0;
    std::string uuid;  // 36 characters
    std::array<Luks1KeySlot, luks1_key_slots> key_slots{};

    // Parses the 592-byte header at the start of `bytes`; accepts only what
    // this reader can decrypt (aes, xts-plain64, sha256, 64-byte key).
    static Result<Luks1Header> parse(std::span<const uint8_t> bytes);
    std::vector<uint8_t> serialize() const;  // 592 bytes
};

struct Luks1Options {
    std::optional<std::string> passphrase;  // adds key slot 0
    uint32_t mk_digest_iterations = 1000;
    uint32_t key_slot_iterations = 100000;
};

// The whole header area, payload_offset * 512 bytes: header plus key material
// for the passphrase slot (other slots disabled).
Result<std::vector<uint8_t>> build_luks1_header_area(std::span<const uint8_t> master_key,
                                                     const Luks1Options& options);

// Wrong key: an EKEYREJECTED error saying the key does not match the header.
Result<void> check_luks1_master_key(const Luks1Header& header, std::span<const uint8_t> master_key);

// Opens a key slot with a passphrase (header_area = at least the key material).
Result<std::vector<uint8_t>> recover_luks1_master_key(const Luks1Header& header,
                                                      std::span<const uint8_t> header_area,
                                                      std::string_view passphrase);

// AES-256-XTS over 512-byte sectors, IV = sector number (plain64, little-endian).
class XtsSectorCipher {
public:
    static Result<XtsSectorCipher> create(std::span<const uint8_t> key);  // 64 bytes
    // In place; data.size() must be a multiple of 512; first_sector numbers
    // the first sector of data.
    Result<void> encrypt(uint64_t first_sector, std::span<uint8_t> data) const;
    Result<void> decrypt(uint64_t first_sector, std::span<uint8_t> data) const;

private:
    struct State;      // keyed AES-256-ECB contexts, shared by copies (image/xts.cpp)
    struct Workspace;  // one call's own contexts and tweak buffers
    Result<void> run(uint64_t first_sector, std::span<uint8_t> data, bool encrypt) const;

    std::shared_ptr<State> m_state;
};

}  // namespace myst::image

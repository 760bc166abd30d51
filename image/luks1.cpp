// LUKS1 header, anti-forensic (AF) splitting and key slots, following the
// LUKS1 on-disk format specification (version 1.2.3): big-endian fields,
// PBKDF2 for the master-key digest and the key-slot keys, AF diffusion with
// the header's hash, key material encrypted with the volume's own cipher
// (aes-xts-plain64) and sectors counted from the start of the key material.
#include "image/luks1.h"

#include <algorithm>
#include <cerrno>
#include <string>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "base/endian.h"
#include "base/hex.h"
#include "base/sha256.h"

namespace myst::image {

namespace {

constexpr size_t header_size = 592;
constexpr uint8_t magic[6] = {'L', 'U', 'K', 'S', 0xba, 0xbe};
constexpr uint16_t luks_version = 1;

// Field offsets in the 592-byte header.
constexpr size_t off_version = 6;
constexpr size_t off_cipher_name = 8;
constexpr size_t off_cipher_mode = 40;
constexpr size_t off_hash_spec = 72;
constexpr size_t off_payload_offset = 104;
constexpr size_t off_key_bytes = 108;
constexpr size_t off_mk_digest = 112;
constexpr size_t off_mk_digest_salt = 132;
constexpr size_t off_mk_digest_iter = 164;
constexpr size_t off_uuid = 168;
constexpr size_t off_key_slots = 208;
constexpr size_t name_field_size = 32;
constexpr size_t uuid_field_size = 40;

// Offsets inside one 48-byte key slot.
constexpr size_t key_slot_size = 48;
constexpr size_t slot_off_iterations = 4;
constexpr size_t slot_off_salt = 8;
constexpr size_t slot_off_key_material = 40;
constexpr size_t slot_off_stripes = 44;

constexpr uint32_t slot_enabled = 0x00AC71F3;
constexpr uint32_t slot_disabled = 0x0000DEAD;

// cryptsetup starts each slot's key material on a 4 KiB boundary.
constexpr uint32_t key_material_alignment_sectors = 4096 / luks1_sector_size;

uint32_t round_up(uint32_t value, uint32_t alignment) {
    return (value + alignment - 1) / alignment * alignment;
}

uint32_t key_material_sectors(uint32_t key_bytes, uint32_t stripes) {
    uint64_t bytes = uint64_t{key_bytes} * stripes;
    return static_cast<uint32_t>((bytes + luks1_sector_size - 1) / luks1_sector_size);
}

// A NUL-terminated string in a fixed field; a field without NUL is corrupt.
Result<std::string> read_string_field(std::span<const uint8_t> header, size_t offset, size_t size,
                                      const char* name) {
    auto field = header.subspan(offset, size);
    auto end = std::find(field.begin(), field.end(), uint8_t{0});
    if (end == field.end())
        return Error::invalid(std::string("LUKS1 header: ") + name + " is not NUL-terminated");
    return std::string(field.begin(), end);
}

void write_string_field(std::span<uint8_t> header, size_t offset, size_t size,
                        const std::string& value) {
    // Keep a terminating NUL, as readers expect one.
    size_t length = std::min(value.size(), size - 1);
    std::copy_n(value.begin(), length, header.begin() + offset);
}

std::string too_many_iterations(const std::string& what, uint32_t iterations, uint32_t limit) {
    return what + " iteration count " + std::to_string(iterations) + " is more than " +
           std::to_string(limit) + " (it would take minutes to check)";
}

Result<void> pbkdf2_sha256(std::span<const uint8_t> secret, std::span<const uint8_t> salt,
                           uint32_t iterations, std::span<uint8_t> out) {
    if (iterations == 0)
        return Error::invalid("LUKS1: PBKDF2 iteration count is 0");
    // PKCS5_PBKDF2_HMAC wants a non-null password pointer even when empty.
    static const char empty = 0;
    const char* password = secret.empty() ? &empty : reinterpret_cast<const char*>(secret.data());
    if (PKCS5_PBKDF2_HMAC(password, static_cast<int>(secret.size()), salt.data(),
                          static_cast<int>(salt.size()), static_cast<int>(iterations), EVP_sha256(),
                          static_cast<int>(out.size()), out.data()) != 1)
        return Error(EIO, "LUKS1: PBKDF2-HMAC-SHA256 failed in OpenSSL");
    return {};
}

Result<void> fill_random(std::span<uint8_t> out) {
    if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1)
        return Error(EIO, "LUKS1: the OpenSSL random generator failed");
    return {};
}

// The spec's diffuse(): each digest-sized block i of the buffer becomes
// H(be32(i) || block), cut to the block's length for a short last block.
void diffuse(std::span<uint8_t> buffer, Sha256& hasher) {
    constexpr size_t digest_size = sizeof(Sha256Digest);
    for (size_t i = 0; i * digest_size < buffer.size(); ++i) {
        auto block =
            buffer.subspan(i * digest_size, std::min(digest_size, buffer.size() - i * digest_size));
        uint8_t index[4];
        store_be<uint32_t>(index, static_cast<uint32_t>(i));
        hasher.begin();
        hasher.update(index);
        hasher.update(block);
        Sha256Digest digest = hasher.finish();
        std::copy_n(digest.begin(), block.size(), block.begin());
    }
}

void xor_into(std::span<uint8_t> target, std::span<const uint8_t> source) {
    for (size_t i = 0; i < target.size(); ++i)
        target[i] ^= source[i];
}

// AF split: stripes-1 random stripes, each folded into d (d = H(d ^ s_i)),
// and a last stripe that makes the fold come out at the key.
Result<std::vector<uint8_t>> af_split(std::span<const uint8_t> key, uint32_t stripes) {
    size_t size = key.size();
    std::vector<uint8_t> material(size * stripes);
    TRY(fill_random(std::span(material).first(size * (stripes - 1))));
    std::vector<uint8_t> fold(size, 0);
    Sha256 hasher;
    for (uint32_t i = 0; i + 1 < stripes; ++i) {
        xor_into(fold, std::span(material).subspan(i * size, size));
        diffuse(fold, hasher);
    }
    auto last = std::span(material).subspan((stripes - 1) * size, size);
    for (size_t i = 0; i < size; ++i)
        last[i] = fold[i] ^ key[i];
    return material;
}

std::vector<uint8_t> af_merge(std::span<const uint8_t> material, size_t size, uint32_t stripes) {
    std::vector<uint8_t> fold(size, 0);
    Sha256 hasher;
    for (uint32_t i = 0; i + 1 < stripes; ++i) {
        xor_into(fold, material.subspan(i * size, size));
        diffuse(fold, hasher);
    }
    xor_into(fold, material.subspan((stripes - 1) * size, size));
    return fold;
}

// Slot key = PBKDF2(passphrase, slot salt); the key material is the AF-split
// master key encrypted under it, sector 0 at the start of the material.
Result<XtsSectorCipher> slot_cipher(std::string_view passphrase, const Luks1KeySlot& slot,
                                    uint32_t key_bytes) {
    std::vector<uint8_t> slot_key(key_bytes);
    auto secret = std::span(reinterpret_cast<const uint8_t*>(passphrase.data()), passphrase.size());
    TRY(pbkdf2_sha256(secret, slot.salt, slot.iterations, slot_key));
    auto cipher = XtsSectorCipher::create(slot_key);
    OPENSSL_cleanse(slot_key.data(), slot_key.size());
    return cipher;
}

std::string random_uuid_v4(const std::array<uint8_t, 16>& random) {
    std::array<uint8_t, 16> bytes = random;
    bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0f) | 0x40);  // version 4
    bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
    auto part = [&](size_t from, size_t count) {
        return to_hex(std::span(bytes).subspan(from, count));
    };
    return part(0, 4) + "-" + part(4, 2) + "-" + part(6, 2) + "-" + part(8, 2) + "-" + part(10, 6);
}

Result<void> check_master_key_size(const Luks1Header& header, std::span<const uint8_t> key) {
    if (key.size() != luks1_master_key_size || key.size() != header.key_bytes)
        return Error::invalid("LUKS1 master key must be " + std::to_string(luks1_master_key_size) +
                              " bytes, got " + std::to_string(key.size()));
    return {};
}

}  // namespace

Result<Luks1Header> Luks1Header::parse(std::span<const uint8_t> bytes) {
    if (bytes.size() < header_size)
        return Error::invalid("LUKS1 header truncated: " + std::to_string(bytes.size()) +
                              " bytes, need " + std::to_string(header_size));
    if (!std::equal(std::begin(magic), std::end(magic), bytes.begin()))
        return Error::invalid("not a LUKS header (bad magic)");
    uint16_t version = load_be<uint16_t>(bytes.data() + off_version);
    if (version != luks_version)
        return Error::invalid("unsupported LUKS version " + std::to_string(version) +
                              " (only LUKS1 is supported)");

    Luks1Header header;
    header.cipher_name =
        TRY(read_string_field(bytes, off_cipher_name, name_field_size, "cipher name"));
    header.cipher_mode =
        TRY(read_string_field(bytes, off_cipher_mode, name_field_size, "cipher mode"));
    header.hash_spec = TRY(read_string_field(bytes, off_hash_spec, name_field_size, "hash spec"));
    if (header.cipher_name != "aes" || header.cipher_mode != "xts-plain64")
        return Error::invalid("unsupported LUKS1 cipher " + header.cipher_name + "-" +
                                  header.cipher_mode + " (only aes-xts-plain64)",
                              ENOTSUP);
    if (header.hash_spec != "sha256")
        return Error::invalid("unsupported LUKS1 hash " + header.hash_spec + " (only sha256)",
                              ENOTSUP);

    header.payload_offset = load_be<uint32_t>(bytes.data() + off_payload_offset);
    header.key_bytes = load_be<uint32_t>(bytes.data() + off_key_bytes);
    if (header.key_bytes != luks1_master_key_size)
        return Error::invalid(
            "unsupported LUKS1 key size " + std::to_string(header.key_bytes) + " bytes (only 64)",
            ENOTSUP);
    if (header.payload_offset == 0)
        return Error::invalid("LUKS1 header: payload offset is 0");
    std::copy_n(bytes.begin() + off_mk_digest, header.mk_digest.size(), header.mk_digest.begin());
    std::copy_n(bytes.begin() + off_mk_digest_salt, header.mk_digest_salt.size(),
                header.mk_digest_salt.begin());
    header.mk_digest_iterations = load_be<uint32_t>(bytes.data() + off_mk_digest_iter);
    if (header.mk_digest_iterations == 0)
        return Error::invalid("LUKS1 header: master-key digest iteration count is 0");
    if (header.mk_digest_iterations > luks1_max_digest_iterations)
        return Error::invalid(too_many_iterations("LUKS1 header: master-key digest",
                                                  header.mk_digest_iterations,
                                                  luks1_max_digest_iterations));
    header.uuid = TRY(read_string_field(bytes, off_uuid, uuid_field_size, "UUID"));

    for (size_t i = 0; i < luks1_key_slots; ++i) {
        const uint8_t* at = bytes.data() + off_key_slots + i * key_slot_size;
        Luks1KeySlot& slot = header.key_slots[i];
        std::string name = "LUKS1 key slot " + std::to_string(i);
        uint32_t state = load_be<uint32_t>(at);
        if (state != slot_enabled && state != slot_disabled)
            return Error::invalid(name + ": invalid state field");
        slot.active = state == slot_enabled;
        slot.iterations = load_be<uint32_t>(at + slot_off_iterations);
        std::copy_n(at + slot_off_salt, slot.salt.size(), slot.salt.begin());
        slot.key_material_offset = load_be<uint32_t>(at + slot_off_key_material);
        slot.stripes = load_be<uint32_t>(at + slot_off_stripes);
        if (slot.stripes != luks1_stripes)
            return Error::invalid(name + ": " + std::to_string(slot.stripes) +
                                  " AF stripes (must be 4000)");
        if (slot.active && slot.iterations == 0)
            return Error::invalid(name + ": iteration count is 0");
        if (slot.active && slot.iterations > luks1_max_iterations)
            return Error::invalid(too_many_iterations(name, slot.iterations, luks1_max_iterations));
        // The key material must lie between the header and the payload.
        uint64_t start = slot.key_material_offset;
        uint64_t end = start + key_material_sectors(header.key_bytes, slot.stripes);
        if (start * luks1_sector_size < header_size)
            return Error::invalid(name + ": key material overlaps the header");
        if (end > header.payload_offset)
            return Error::invalid(name + ": key material lies past the payload offset");
    }
    // ... and no two slots may share sectors.
    for (size_t i = 0; i < luks1_key_slots; ++i) {
        for (size_t j = i + 1; j < luks1_key_slots; ++j) {
            const auto& a = header.key_slots[i];
            const auto& b = header.key_slots[j];
            uint32_t sectors = key_material_sectors(header.key_bytes, luks1_stripes);
            if (a.key_material_offset < b.key_material_offset + sectors &&
                b.key_material_offset < a.key_material_offset + sectors)
                return Error::invalid("LUKS1 key slots " + std::to_string(i) + " and " +
                                      std::to_string(j) + " overlap");
        }
    }
    return header;
}

std::vector<uint8_t> Luks1Header::serialize() const {
    std::vector<uint8_t> out(header_size, 0);
    std::copy(std::begin(magic), std::end(magic), out.begin());
    store_be<uint16_t>(out.data() + off_version, luks_version);
    write_string_field(out, off_cipher_name, name_field_size, cipher_name);
    write_string_field(out, off_cipher_mode, name_field_size, cipher_mode);
    write_string_field(out, off_hash_spec, name_field_size, hash_spec);
    store_be<uint32_t>(out.data() + off_payload_offset, payload_offset);
    store_be<uint32_t>(out.data() + off_key_bytes, key_bytes);
    std::copy(mk_digest.begin(), mk_digest.end(), out.begin() + off_mk_digest);
    std::copy(mk_digest_salt.begin(), mk_digest_salt.end(), out.begin() + off_mk_digest_salt);
    store_be<uint32_t>(out.data() + off_mk_digest_iter, mk_digest_iterations);
    write_string_field(out, off_uuid, uuid_field_size, uuid);
    for (size_t i = 0; i < luks1_key_slots; ++i) {
        uint8_t* at = out.data() + off_key_slots + i * key_slot_size;
        const Luks1KeySlot& slot = key_slots[i];
        store_be<uint32_t>(at, slot.active ? slot_enabled : slot_disabled);
        store_be<uint32_t>(at + slot_off_iterations, slot.iterations);
        std::copy(slot.salt.begin(), slot.salt.end(), at + slot_off_salt);
        store_be<uint32_t>(at + slot_off_key_material, slot.key_material_offset);
        store_be<uint32_t>(at + slot_off_stripes, slot.stripes);
    }
    return out;
}

Result<std::vector<uint8_t>> build_luks1_header_area(std::span<const uint8_t> master_key,
                                                     const Luks1Options& options) {
    Luks1Header header;
    TRY(check_master_key_size(header, master_key));
    if (options.mk_digest_iterations == 0 || options.key_slot_iterations == 0)
        return Error::invalid("LUKS1: PBKDF2 iteration counts must be at least 1");
    if (options.mk_digest_iterations > luks1_max_digest_iterations ||
        options.key_slot_iterations > luks1_max_iterations)
        return Error::invalid("LUKS1: PBKDF2 iteration counts must be at most " +
                              std::to_string(luks1_max_digest_iterations) + " (digest) and " +
                              std::to_string(luks1_max_iterations) +
                              " (key slot), as the reader accepts");
    if (options.passphrase && options.passphrase->empty())
        return Error::invalid("LUKS1: the passphrase is empty");

    header.mk_digest_iterations = options.mk_digest_iterations;
    TRY(fill_random(header.mk_digest_salt));
    TRY(pbkdf2_sha256(master_key, header.mk_digest_salt, header.mk_digest_iterations,
                      header.mk_digest));
    std::array<uint8_t, 16> uuid_random{};
    TRY(fill_random(uuid_random));
    header.uuid = random_uuid_v4(uuid_random);

    // Key material of all slots, packed as cryptsetup does: the first after
    // the header, each on a 4 KiB boundary.
    uint32_t material_sectors = key_material_sectors(header.key_bytes, luks1_stripes);
    uint32_t next =
        round_up(static_cast<uint32_t>((header_size + luks1_sector_size - 1) / luks1_sector_size),
                 key_material_alignment_sectors);
    for (auto& slot : header.key_slots) {
        slot.key_material_offset = next;
        slot.stripes = luks1_stripes;
        next = round_up(next + material_sectors, key_material_alignment_sectors);
    }
    if (next > header.payload_offset)
        return Error::invalid("LUKS1: key slots do not fit before the payload");

    std::vector<uint8_t> area(size_t{header.payload_offset} * luks1_sector_size, 0);
    if (options.passphrase) {
        Luks1KeySlot& slot = header.key_slots[0];
        slot.active = true;
        slot.iterations = options.key_slot_iterations;
        TRY(fill_random(slot.salt));
        std::vector<uint8_t> material = TRY(af_split(master_key, slot.stripes));
        material.resize(size_t{material_sectors} * luks1_sector_size, 0);
        XtsSectorCipher cipher = TRY(slot_cipher(*options.passphrase, slot, header.key_bytes));
        TRY(cipher.encrypt(0, material));
        std::copy(material.begin(), material.end(),
                  area.begin() + size_t{slot.key_material_offset} * luks1_sector_size);
    }
    std::vector<uint8_t> header_bytes = header.serialize();
    std::copy(header_bytes.begin(), header_bytes.end(), area.begin());
    return area;
}

Result<void> check_luks1_master_key(const Luks1Header& header,
                                    std::span<const uint8_t> master_key) {
    TRY(check_master_key_size(header, master_key));
    std::array<uint8_t, 20> digest{};
    TRY(pbkdf2_sha256(master_key, header.mk_digest_salt, header.mk_digest_iterations, digest));
    if (CRYPTO_memcmp(digest.data(), header.mk_digest.data(), digest.size()) != 0)
        return Error(EKEYREJECTED, "key does not match the LUKS header (wrong key file?)");
    return {};
}

Result<std::vector<uint8_t>> recover_luks1_master_key(const Luks1Header& header,
                                                      std::span<const uint8_t> header_area,
                                                      std::string_view passphrase) {
    bool any_active = false;
    for (const Luks1KeySlot& slot : header.key_slots) {
        if (!slot.active)
            continue;
        any_active = true;
        size_t offset = size_t{slot.key_material_offset} * luks1_sector_size;
        size_t size =
            size_t{key_material_sectors(header.key_bytes, slot.stripes)} * luks1_sector_size;
        if (offset + size > header_area.size())
            return Error::invalid("LUKS1 header area truncated: key material ends at byte " +
                                  std::to_string(offset + size) + ", have " +
                                  std::to_string(header_area.size()));
        std::vector<uint8_t> material(header_area.begin() + offset,
                                      header_area.begin() + offset + size);
        XtsSectorCipher cipher = TRY(slot_cipher(passphrase, slot, header.key_bytes));
        TRY(cipher.decrypt(0, material));
        std::vector<uint8_t> key = af_merge(material, header.key_bytes, slot.stripes);
        OPENSSL_cleanse(material.data(), material.size());
        if (!check_luks1_master_key(header, key).is_error())
            return key;
        OPENSSL_cleanse(key.data(), key.size());
    }
    if (!any_active)
        return Error(ENOKEY, "the LUKS header has no active key slot");
    return Error(EPERM, "no LUKS key slot matches the passphrase");
}

}  // namespace myst::image

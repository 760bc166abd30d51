#include "image/package.h"

#include <algorithm>
#include <cstring>

#include "base/endian.h"
#include "base/hex.h"
#include "image/fssig.h"
#include "image/signature.h"

namespace myst::image {

namespace {

constexpr std::string_view record_header = "myst-measurement-v1";
constexpr std::array<uint8_t, 8> trailer_magic = {'M', 'Y', 'S', 'T', 'P', 'K', 'G', '1'};
constexpr std::array<uint8_t, 8> signature_magic = {'M', 'Y', 'S', 'T', 'S', 'I', 'G', '1'};
constexpr uint32_t package_version = 1;
constexpr size_t signature_header_size = 24;
// Far more than any key or record needs; a bound keeps a damaged size from
// asking for gigabytes.
constexpr uint32_t max_signature_part = 64 * 1024;

// Trailer field offsets.
constexpr size_t at_version = 8;
constexpr size_t at_target = 12;
constexpr size_t at_rootfs_type = 13;
constexpr size_t at_reserved16 = 14;
constexpr size_t at_runtime_size = 16;
constexpr size_t at_rootfs_offset = 24;
constexpr size_t at_rootfs_size = 32;
constexpr size_t at_config_size = 40;
constexpr size_t at_signature_size = 48;
constexpr size_t at_reserved64 = 56;

uint64_t align_up(uint64_t value, uint64_t alignment) {
    return (value + alignment - 1) / alignment * alignment;
}

Error damaged(const std::string& part, const std::string& why) {
    return Error(EBADMSG, part + " check failed: " + why);
}

// One "key=value" line of the record, in its fixed place.
class RecordReader {
public:
    explicit RecordReader(std::string_view text) : m_text(text) {}

    Result<std::string_view> line() {
        size_t end = m_text.find('\n');
        if (end == std::string_view::npos)
            return Error::invalid("measurement record: a line does not end in a newline");
        std::string_view line = m_text.substr(0, end);
        m_text.remove_prefix(end + 1);
        return line;
    }
    Result<std::string_view> value(std::string_view key) {
        std::string_view text = TRY(line());
        if (!text.starts_with(key) || text.size() <= key.size() || text[key.size()] != '=')
            return Error::invalid("measurement record: expected \"" + std::string(key) + "=\"");
        return text.substr(key.size() + 1);
    }
    Result<uint64_t> number(std::string_view key) {
        std::string_view text = TRY(value(key));
        uint64_t number = 0;
        for (char c : text) {
            if (c < '0' || c > '9' || number > (UINT64_MAX - 9) / 10)
                return Error::invalid("measurement record: " + std::string(key) + " is not a size");
            number = number * 10 + static_cast<uint64_t>(c - '0');
        }
        return number;
    }
    Result<Sha256Digest> digest(std::string_view key) {
        std::string_view text = TRY(value(key));
        auto digest = sha256_digest_from_hex(text);
        if (digest.is_error())
            return Error::invalid("measurement record: " + std::string(key) +
                                  " is not 64 hex digits");
        return digest.release_value();
    }
    bool at_end() const { return m_text.empty(); }

private:
    std::string_view m_text;
};

}  // namespace

std::string_view target_name(PackageTarget target) {
    return target == PackageTarget::sgx_enclave ? "sgx" : "linux";
}

std::string_view rootfs_type_name(RootfsType type) {
    return type == RootfsType::ext2 ? "ext2" : "cpio";
}

std::string Measurement::record() const {
    std::string text(record_header);
    text += "\ntarget=" + std::string(target_name(target));
    text += "\nruntime-size=" + std::to_string(runtime_size);
    text += "\nruntime-sha256=" + to_hex(runtime);
    text += "\nrootfs-type=" + std::string(rootfs_type_name(rootfs_type));
    text += "\nrootfs-size=" + std::to_string(rootfs_size);
    // An ext2 image is named by the root of its hash tree, as dm-verity does.
    text += rootfs_type == RootfsType::ext2 ? "\nrootfs-verity-root-hash=" : "\nrootfs-sha256=";
    text += to_hex(rootfs);
    text += "\nconfig-size=" + std::to_string(config_size);
    text += "\nconfig-sha256=" + to_hex(config) + "\n";
    return text;
}

Result<Measurement> Measurement::parse(std::string_view record) {
    RecordReader reader(record);
    if (TRY(reader.line()) != record_header)
        return Error::invalid("measurement record: does not start with \"" +
                              std::string(record_header) + "\"");
    Measurement m;
    std::string_view target = TRY(reader.value("target"));
    if (target != "linux" && target != "sgx")
        return Error::invalid("measurement record: unknown target");
    m.target = target == "sgx" ? PackageTarget::sgx_enclave : PackageTarget::linux_process;
    m.runtime_size = TRY(reader.number("runtime-size"));
    m.runtime = TRY(reader.digest("runtime-sha256"));
    std::string_view type = TRY(reader.value("rootfs-type"));
    if (type != "cpio" && type != "ext2")
        return Error::invalid("measurement record: unknown rootfs-type");
    m.rootfs_type = type == "ext2" ? RootfsType::ext2 : RootfsType::cpio;
    m.rootfs_size = TRY(reader.number("rootfs-size"));
    m.rootfs = TRY(reader.digest(m.rootfs_type == RootfsType::ext2 ? "rootfs-verity-root-hash"
                                                                   : "rootfs-sha256"));
    m.config_size = TRY(reader.number("config-size"));
    m.config = TRY(reader.digest("config-sha256"));
    // Leading zeros or upper-case hex would parse; only the canonical text counts.
    if (!reader.at_end() || m.record() != record)
        return Error::invalid("measurement record: not in canonical form");
    return m;
}

Sha256Digest Measurement::digest() const {
    std::string text = record();
    return Sha256::digest({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

std::vector<uint8_t> SignedMeasurement::serialize() const {
    std::vector<uint8_t> bytes(signature_header_size + record.size() + public_key_pem.size() +
                               signature.size());
    uint8_t* at = bytes.data();
    std::memcpy(at, signature_magic.data(), signature_magic.size());
    store_le<uint32_t>(at + 8, static_cast<uint32_t>(record.size()));
    store_le<uint32_t>(at + 12, static_cast<uint32_t>(public_key_pem.size()));
    store_le<uint32_t>(at + 16, static_cast<uint32_t>(signature.size()));
    at += signature_header_size;
    at = std::copy(record.begin(), record.end(), at);
    at = std::copy(public_key_pem.begin(), public_key_pem.end(), at);
    std::copy(signature.begin(), signature.end(), at);
    return bytes;
}

Result<SignedMeasurement> SignedMeasurement::parse(std::span<const uint8_t> bytes) {
    if (bytes.size() < signature_header_size ||
        !std::equal(signature_magic.begin(), signature_magic.end(), bytes.begin()))
        return Error::invalid("no signature block (bad magic)");
    uint32_t record_size = load_le<uint32_t>(bytes.data() + 8);
    uint32_t key_size = load_le<uint32_t>(bytes.data() + 12);
    uint32_t signature_size = load_le<uint32_t>(bytes.data() + 16);
    if (load_le<uint32_t>(bytes.data() + 20) != 0)
        return Error::invalid("signature block: reserved field is not zero");
    if (record_size > max_signature_part || key_size > max_signature_part ||
        signature_size > max_signature_part ||
        signature_header_size + uint64_t(record_size) + key_size + signature_size != bytes.size())
        return Error::invalid("signature block: its sizes do not add up to the block's size");
    const uint8_t* at = bytes.data() + signature_header_size;
    SignedMeasurement block;
    block.record.assign(reinterpret_cast<const char*>(at), record_size);
    at += record_size;
    block.public_key_pem.assign(at, at + key_size);
    at += key_size;
    block.signature.assign(at, at + signature_size);
    return block;
}

Result<VerifiedMeasurement> verify_signed_measurement(const SignedMeasurement& block) {
    auto key = RsaPublicKey::from_pem(block.public_key_pem, "the signer's public key");
    if (key.is_error())
        return damaged("signature", key.error().message());
    VerifiedMeasurement verified;
    auto measurement = Measurement::parse(block.record);
    if (measurement.is_error())
        return damaged("signature", measurement.error().message());
    verified.measurement = measurement.release_value();
    verified.digest = verified.measurement.digest();
    verified.signer = key.value().signer_id();
    if (!TRY(key.value().verify(verified.digest, block.signature)))
        return damaged("signature",
                       "the signature does not match the measurement and the signer's key");
    return verified;
}

std::array<uint8_t, package_trailer_size> PackageTrailer::serialize() const {
    std::array<uint8_t, package_trailer_size> bytes{};
    uint8_t* p = bytes.data();
    std::memcpy(p, trailer_magic.data(), trailer_magic.size());
    store_le<uint32_t>(p + at_version, package_version);
    p[at_target] = static_cast<uint8_t>(target);
    p[at_rootfs_type] = static_cast<uint8_t>(rootfs_type);
    store_le<uint64_t>(p + at_runtime_size, runtime_size);
    store_le<uint64_t>(p + at_rootfs_offset, rootfs_offset);
    store_le<uint64_t>(p + at_rootfs_size, rootfs_size);
    store_le<uint64_t>(p + at_config_size, config_size);
    store_le<uint64_t>(p + at_signature_size, signature_size);
    return bytes;
}

Result<PackageTrailer> PackageTrailer::parse(std::span<const uint8_t> bytes) {
    const uint8_t* p = bytes.data();
    if (bytes.size() != package_trailer_size ||
        !std::equal(trailer_magic.begin(), trailer_magic.end(), p))
        return Error::invalid("bad magic");
    if (load_le<uint32_t>(p + at_version) != package_version)
        return Error::invalid("unsupported version " +
                              std::to_string(load_le<uint32_t>(p + at_version)));
    PackageTrailer t;
    uint8_t target = p[at_target];
    uint8_t type = p[at_rootfs_type];
    if (target != uint8_t(PackageTarget::linux_process) &&
        target != uint8_t(PackageTarget::sgx_enclave))
        return Error::invalid("unknown target " + std::to_string(target));
    if (type != uint8_t(RootfsType::cpio) && type != uint8_t(RootfsType::ext2))
        return Error::invalid("unknown root file system type " + std::to_string(type));
    if (load_le<uint16_t>(p + at_reserved16) != 0 || load_le<uint64_t>(p + at_reserved64) != 0)
        return Error::invalid("reserved field is not zero");
    t.target = PackageTarget(target);
    t.rootfs_type = RootfsType(type);
    t.runtime_size = load_le<uint64_t>(p + at_runtime_size);
    t.rootfs_offset = load_le<uint64_t>(p + at_rootfs_offset);
    t.rootfs_size = load_le<uint64_t>(p + at_rootfs_size);
    t.config_size = load_le<uint64_t>(p + at_config_size);
    t.signature_size = load_le<uint64_t>(p + at_signature_size);
    // Each size is below 2^48 (256 TiB), so the sums cannot wrap.
    constexpr uint64_t limit = uint64_t(1) << 48;
    if (t.runtime_size >= limit || t.rootfs_size >= limit || t.config_size >= limit ||
        t.signature_size >= limit)
        return Error::invalid("a size is out of range");
    if (t.rootfs_offset != align_up(t.runtime_size, package_alignment))
        return Error::invalid("the root file system does not start where the runtime ends");
    return t;
}

Result<uint64_t> elf_file_end(RandomAccessFile& file) {
    std::array<uint8_t, 64> header{};
    TRY(file.read_at(0, header));
    const uint8_t* h = header.data();
    if (std::memcmp(h,
                    "\x7f"
                    "ELF",
                    4) != 0 ||
        h[4] != 2 /* ELFCLASS64 */)
        return Error::invalid("not a 64-bit ELF file");
    uint64_t phoff = load_le<uint64_t>(h + 32);
    uint64_t shoff = load_le<uint64_t>(h + 40);
    uint16_t phentsize = load_le<uint16_t>(h + 54);
    uint16_t phnum = load_le<uint16_t>(h + 56);
    uint16_t shentsize = load_le<uint16_t>(h + 58);
    uint16_t shnum = load_le<uint16_t>(h + 60);
    if (phentsize < 56 || shentsize < 64)
        return Error::invalid("ELF header tables have unexpected entry sizes");
    uint64_t end = std::max<uint64_t>(64, phoff + uint64_t(phentsize) * phnum);
    end = std::max(end, shoff + uint64_t(shentsize) * shnum);
    // Segments and sections may lie past the tables (a linker's choice).
    std::vector<uint8_t> table(uint64_t(phentsize) * phnum);
    TRY(file.read_at(phoff, table));
    for (size_t i = 0; i < phnum; i++) {
        const uint8_t* ph = table.data() + i * phentsize;
        end = std::max(end, load_le<uint64_t>(ph + 8) + load_le<uint64_t>(ph + 32));
    }
    table.resize(uint64_t(shentsize) * shnum);
    TRY(file.read_at(shoff, table));
    for (size_t i = 0; i < shnum; i++) {
        const uint8_t* sh = table.data() + i * shentsize;
        constexpr uint32_t sht_nobits = 8;  // .bss: no bytes in the file
        if (load_le<uint32_t>(sh + 4) != sht_nobits)
            end = std::max(end, load_le<uint64_t>(sh + 24) + load_le<uint64_t>(sh + 32));
    }
    return end;
}

Result<std::vector<uint8_t>> loaded_image_only(RandomAccessFile& elf) {
    std::array<uint8_t, 64> header{};
    TRY(elf.read_at(0, header));
    TRY(elf_file_end(elf));  // checks the header and reads the tables
    uint64_t phoff = load_le<uint64_t>(header.data() + 32);
    uint16_t phentsize = load_le<uint16_t>(header.data() + 54);
    uint16_t phnum = load_le<uint16_t>(header.data() + 56);
    std::vector<uint8_t> table(uint64_t(phentsize) * phnum);
    TRY(elf.read_at(phoff, table));
    uint64_t end = phoff + table.size();
    for (size_t i = 0; i < phnum; i++) {
        const uint8_t* ph = table.data() + i * phentsize;
        constexpr uint32_t pt_load = 1;
        if (load_le<uint32_t>(ph) == pt_load)
            end = std::max(end, load_le<uint64_t>(ph + 8) + load_le<uint64_t>(ph + 32));
    }
    std::vector<uint8_t> image(end);
    TRY(elf.read_at(0, image));
    // No section headers: e_shoff, e_shnum and e_shstrndx become 0, as in
    // an executable built without them; the loader never reads them.
    store_le<uint64_t>(image.data() + 40, 0);
    store_le<uint16_t>(image.data() + 60, 0);
    store_le<uint16_t>(image.data() + 62, 0);
    return image;
}

Result<Sha256Digest> sha256_of_range(RandomAccessFile& file, uint64_t offset, uint64_t length) {
    Sha256 hasher;
    hasher.begin();
    // 64 KiB stays in the CPU's cache and on malloc's heap; a 1 MiB buffer
    // would be fresh mmap'd pages, faulted in on every start of a package.
    std::vector<uint8_t> buffer(std::min<uint64_t>(length, 64 << 10));
    while (length > 0) {
        std::span<uint8_t> chunk(buffer.data(), std::min<uint64_t>(length, buffer.size()));
        TRY(file.read_at(offset, chunk));
        hasher.update(chunk);
        offset += chunk.size();
        length -= chunk.size();
    }
    return hasher.finish();
}

Result<bool> has_package_payload(RandomAccessFile& file) {
    uint64_t end = TRY(elf_file_end(file));
    return TRY(file.size()) > end;
}

namespace {

Result<PackageTrailer> read_trailer(RandomAccessFile& file) {
    uint64_t size = TRY(file.size());
    auto elf_end_or_error = elf_file_end(file);
    if (elf_end_or_error.is_error())
        return damaged("runtime", elf_end_or_error.error().message());
    uint64_t elf_end = elf_end_or_error.value();
    if (size < elf_end + package_trailer_size)
        return damaged("trailer", "the file is too short to hold one");
    std::array<uint8_t, package_trailer_size> bytes{};
    TRY(file.read_at(size - package_trailer_size, bytes));
    auto trailer = PackageTrailer::parse(bytes);
    if (trailer.is_error())
        return damaged("trailer", trailer.error().message());
    if (trailer.value().runtime_size != elf_end)
        return damaged("trailer", "the runtime size is not the size of the ELF image");
    if (trailer.value().file_size() != size)
        return damaged("trailer", "its sizes do not add up to the file's size");
    return trailer;
}

// The measured parts, compared with the signed record one by one.
Result<void> check_parts(RandomAccessFile& file, const PackageTrailer& t, const Measurement& m,
                         VerifiedPackage& package) {
    if (m.target != t.target || m.rootfs_type != t.rootfs_type ||
        m.runtime_size != t.runtime_size || m.rootfs_size != t.rootfs_size ||
        m.config_size != t.config_size)
        return damaged("trailer", "it does not match the signed measurement");
    // The padding is not measured; it must be what `myst package` wrote.
    std::vector<uint8_t> padding(t.rootfs_offset - t.runtime_size);
    TRY(file.read_at(t.runtime_size, padding));
    if (!is_all_zero(padding))
        return damaged("runtime", "the padding after the runtime is not zero");
    if (TRY(sha256_of_range(file, 0, t.runtime_size)) != m.runtime)
        return damaged("runtime", "the myst runtime does not match its measurement");
    package.config.resize(t.config_size);
    TRY(file.read_at(t.config_offset(), package.config));
    if (Sha256::digest(package.config) != m.config)
        return damaged("config", "the config does not match its measurement");
    if (t.rootfs_type == RootfsType::cpio) {
        // Read once: what was hashed is what the kernel loads.
        package.rootfs.resize(t.rootfs_size);
        TRY(file.read_at(t.rootfs_offset, package.rootfs));
        if (Sha256::digest(package.rootfs) != m.rootfs)
            return damaged("root file system", "the CPIO archive does not match its measurement");
    }
    return {};
}

}  // namespace

Result<VerifiedPackage> verify_package(std::shared_ptr<RandomAccessFile> file) {
    VerifiedPackage package;
    package.trailer = TRY(read_trailer(*file));
    const PackageTrailer& t = package.trailer;
    if (t.signature_size > 3 * max_signature_part + signature_header_size)
        return damaged("signature", "the signature block is too large");
    std::vector<uint8_t> block(t.signature_size);
    TRY(file->read_at(t.signature_offset(), block));
    auto signed_measurement = SignedMeasurement::parse(block);
    if (signed_measurement.is_error())
        return damaged("signature", signed_measurement.error().message());
    package.verified = TRY(verify_signed_measurement(signed_measurement.value()));
    TRY(check_parts(*file, t, package.verified.measurement, package));
    if (t.rootfs_type == RootfsType::ext2) {
        // The blocks are checked against this root hash as they are read.
        FileWindow rootfs(file, t.rootfs_offset, t.rootfs_size);
        auto fssig = read_fssig(rootfs);
        if (fssig.is_error())
            return damaged("root file system", fssig.error().message());
        if (fssig.value().root_hash != package.verified.measurement.rootfs)
            return damaged("root file system",
                           "the ext2 image's verity root hash does not match its measurement");
    }
    return package;
}

}  // namespace myst::image

// Signed deployments (`myst sign`, `myst package`): what is measured, how
// it is signed, and how a package file is laid out. Shared by the tools that
// write them and by myst when it starts from a package.
//
// The measurement record is a short text, one "key=value" per line, in a
// fixed order: the target, and the size and SHA-256 of the runtime (the myst
// executable), of the root file system (a CPIO archive's SHA-256, or an ext2
// image's dm-verity root hash, which covers every block) and of the config in
// its canonical form. The measurement is SHA-256(record), and the signature
// is RSA PKCS#1 v1.5 over that digest: exactly what
// `openssl dgst -sha256 -sign key.pem record` makes, so
// `openssl dgst -sha256 -verify public.pem -signature sig record` checks it.
//
// A package is one executable file:
//   [runtime: the myst ELF file][zeros up to a 4096 boundary][root fs]
//   [config][signature block][trailer: 64 bytes]
// The trailer (little-endian) locates the parts:
//    0 magic "MYSTPKG1"  8 version u32 = 1  12 target u8  13 root fs type u8
//   14 reserved u16 = 0  16 runtime_size  24 rootfs_offset  32 rootfs_size
//   40 config_size  48 signature_size  56 reserved u64 = 0   (sizes u64)
// The signature block: magic "MYSTSIG1", u32 record/public key/signature
// sizes, u32 reserved = 0, then the record, the signer's PEM public key and
// the signature. Every trailer field is checked against the signed record or
// the file, so a changed byte anywhere fails the check.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/sha256.h"
#include "image/io.h"

namespace myst::image {

// Where the package may run: the linux target (`myst package`) or only in
// an SGX enclave (`myst package-sgx`).
enum class PackageTarget : uint8_t { linux_process = 1, sgx_enclave = 2 };
enum class RootfsType : uint8_t { cpio = 1, ext2 = 2 };

std::string_view target_name(PackageTarget target);  // "linux", "sgx"
std::string_view rootfs_type_name(RootfsType type);  // "cpio", "ext2"

struct Measurement {
    PackageTarget target = PackageTarget::linux_process;
    uint64_t runtime_size = 0;
    Sha256Digest runtime{};  // SHA-256 of the myst executable's bytes
    RootfsType rootfs_type = RootfsType::cpio;
    uint64_t rootfs_size = 0;
    Sha256Digest rootfs{};  // cpio: SHA-256 of the archive; ext2: verity root hash
    uint64_t config_size = 0;
    Sha256Digest config{};  // SHA-256 of the canonical config

    std::string record() const;
    // Only the exact text record() writes is accepted, so one measurement
    // has one record.
    static Result<Measurement> parse(std::string_view record);
    Sha256Digest digest() const;
};

// The record, the signer's public key (PEM) and the signature, as a package
// carries them (the `myst sign` output keeps them as three files).
struct SignedMeasurement {
    std::string record;
    std::vector<uint8_t> public_key_pem;
    std::vector<uint8_t> signature;

    std::vector<uint8_t> serialize() const;
    static Result<SignedMeasurement> parse(std::span<const uint8_t> bytes);
};

// What a valid signature establishes.
struct VerifiedMeasurement {
    Measurement measurement;
    Sha256Digest digest{};  // the measurement
    Sha256Digest signer{};  // sha256 of the signer's RSA modulus
};

// Checks the signature over the record with the public key it carries. The
// error says which of the three is wrong.
Result<VerifiedMeasurement> verify_signed_measurement(const SignedMeasurement& signed_measurement);

constexpr size_t package_trailer_size = 64;
constexpr uint64_t package_alignment = 4096;

struct PackageTrailer {
    PackageTarget target = PackageTarget::linux_process;
    RootfsType rootfs_type = RootfsType::cpio;
    uint64_t runtime_size = 0;
    uint64_t rootfs_offset = 0;  // runtime_size rounded up to package_alignment
    uint64_t rootfs_size = 0;
    uint64_t config_size = 0;
    uint64_t signature_size = 0;

    uint64_t config_offset() const { return rootfs_offset + rootfs_size; }
    uint64_t signature_offset() const { return config_offset() + config_size; }
    uint64_t file_size() const {
        return signature_offset() + signature_size + package_trailer_size;
    }

    std::array<uint8_t, package_trailer_size> serialize() const;
    // Checks magic, version, the enums, reserved fields and the offsets'
    // arithmetic (no overflow, the root fs aligned after the runtime).
    static Result<PackageTrailer> parse(std::span<const uint8_t> bytes);
};

// The end of the ELF image at the start of `file`: the furthest byte its
// program and section header tables reach. Bytes after it are a payload.
Result<uint64_t> elf_file_end(RandomAccessFile& file);

// The runtime as signed and packaged: an ELF executable cut to what the
// loader maps (its header, program headers and loadable segments), without
// the debug information, symbols and section headers a build leaves after
// them. The code is the same; a package of it starts faster, since every
// start hashes the whole runtime (80 MB with debug information, 8 MB
// without, for a RelWithDebInfo myst).
Result<std::vector<uint8_t>> loaded_image_only(RandomAccessFile& elf);

// SHA-256 of bytes [offset, offset + length) of a file.
Result<Sha256Digest> sha256_of_range(RandomAccessFile& file, uint64_t offset, uint64_t length);

// A package whose signature, runtime, config and root fs have been checked
// against its measurement. An ext2 root fs is checked by its verity root hash
// at this point; its blocks are then checked as they are read.
struct VerifiedPackage {
    PackageTrailer trailer;
    VerifiedMeasurement verified;
    std::vector<uint8_t> config;  // the canonical config, as measured
    std::vector<uint8_t> rootfs;  // a CPIO root fs, as measured (empty for ext2)
};

// Whether `file` (myst's own executable) carries a payload after its ELF
// image: false for a plain myst.
Result<bool> has_package_payload(RandomAccessFile& file);

// Reads and checks the package in `file`. Each error names the part that
// failed: "trailer", "signature", "runtime", "root file system", "config".
Result<VerifiedPackage> verify_package(std::shared_ptr<RandomAccessFile> file);

}  // namespace myst::image

// What `myst sign` and `myst package` share: reading and checking their
// inputs (an appdir or a root file-system image, an RSA private key, a
// config.json), measuring them with the myst runtime, and signing the
// measurement (image/package.h describes the record and the signature).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "image/io.h"
#include "image/package.h"
#include "tools/myst/app_config.h"

namespace myst::tools {

struct SigningInput {
    std::string rootfs;       // appdir, CPIO archive or ext2 image (myst mkext2)
    std::string private_key;  // PEM RSA key, at least 2048 bits
    std::string config;       // Mystikos config.json
    image::PackageTarget target = image::PackageTarget::linux_process;
};

struct SignedApp {
    // The root file system as measured: the image, or the appdir packed as CPIO (in memory).
    std::shared_ptr<image::RandomAccessFile> rootfs;
    std::vector<uint8_t> runtime;  // the myst executable's bytes
    std::string config;            // canonical
    AppConfig app_config;
    image::SignedMeasurement signed_measurement;
    image::VerifiedMeasurement verified;  // the measurement, its digest and the signer
};

// The files `myst sign` writes into its output directory.
namespace signed_files {
constexpr const char* runtime = "bin/myst";
constexpr const char* rootfs = "rootfs";
constexpr const char* config = "config.json";
constexpr const char* measurement = "measurement";  // the record
constexpr const char* signature = "signature";      // raw RSA signature over the record
constexpr const char* public_key = "public.pem";
}  // namespace signed_files

// What a checked signed directory or package holds.
struct SignedContents {
    image::VerifiedMeasurement verified;
    AppConfig config;
};

// Checks a `myst sign` output directory: the signature over the record, and
// that the runtime, root file system (an ext2 image's whole hash tree) and
// config files match it. The error names the file that does not.
Result<SignedContents> check_signed_directory(const std::string& directory);

// Reads, checks, measures and signs. Every error names the file at fault
// and the reason: a key that is not RSA or has fewer than 2048 bits, a
// config that does not parse or has no ApplicationPath, an ApplicationPath
// that is not a file in the root file system, an image of neither kind.
Result<SignedApp> sign_app(const SigningInput& input);

// The measured bytes of the running myst: /proc/self/exe cut to what the
// loader maps (image::loaded_image_only).
Result<std::vector<uint8_t>> read_own_runtime();

// Copies all of `from` to `to` at `offset`, in 1 MiB pieces.
Result<void> copy_file_bytes(image::RandomAccessFile& from, image::RandomAccessFile& to,
                             uint64_t offset);

}  // namespace myst::tools

// `myst package` / `package-sgx`: one executable file holding the myst
// runtime, the root file system, the config and the signature
// (image/package.h gives the layout), and what that file does when it
// starts: check itself, then run the config's ApplicationPath as
// `myst exec-linux` would.
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "base/hex.h"
#include "fs/ramfs/ramfs.h"
#include "image/package.h"
#include "tools/myst/app_signing.h"
#include "tools/myst/command.h"
#include "tools/myst/exec_linux.h"
#include "tools/myst/host_file.h"
#include "tools/myst/oci_output.h"
#include "tools/myst/tree_output.h"

namespace myst::tools {

namespace {

struct PackageOptions {
    std::string rootfs;
    std::string private_key;
    std::string config;
    std::string output;  // default: myst/bin/<ApplicationPath's file name>, as Mystikos
    std::string oci;     // --oci: an OCI image layout holding the package
};

std::string default_output(const AppConfig& config) {
    std::string name = std::filesystem::path(config.application_path).filename().string();
    return "myst/bin/" + (name.empty() ? std::string("app") : name);
}

struct PackageResult {
    std::string path;
    std::string name;  // the file name a container image gives it
};

Result<PackageResult> package(const PackageOptions& options, image::PackageTarget target) {
    SignedApp app = TRY(sign_app({options.rootfs, options.private_key, options.config, target}));
    std::string output = options.output.empty() ? default_output(app.app_config) : options.output;
    std::string name = std::filesystem::path(default_output(app.app_config)).filename().string();
    std::filesystem::path parent = std::filesystem::path(output).parent_path();
    std::error_code error;
    if (options.output.empty() && !std::filesystem::create_directories(parent, error) && error)
        return Error(error.value(), parent.string() + ": " + error.message());

    image::PackageTrailer trailer;
    trailer.target = target;
    trailer.rootfs_type = app.verified.measurement.rootfs_type;
    trailer.runtime_size = app.runtime.size();
    trailer.rootfs_offset = (trailer.runtime_size + image::package_alignment - 1) /
                            image::package_alignment * image::package_alignment;
    trailer.rootfs_size = app.verified.measurement.rootfs_size;
    trailer.config_size = app.config.size();
    std::vector<uint8_t> signature = app.signed_measurement.serialize();
    trailer.signature_size = signature.size();

    auto out = TRY(PendingOutput::create(output, /*overwrite=*/true));
    image::RandomAccessFile& file = out->file();
    TRY(file.write_at(0, app.runtime));
    std::vector<uint8_t> padding(trailer.rootfs_offset - trailer.runtime_size);
    TRY(file.write_at(trailer.runtime_size, padding));
    TRY(copy_file_bytes(*app.rootfs, file, trailer.rootfs_offset));
    TRY(file.write_at(trailer.config_offset(),
                      {reinterpret_cast<const uint8_t*>(app.config.data()), app.config.size()}));
    TRY(file.write_at(trailer.signature_offset(), signature));
    TRY(file.write_at(trailer.file_size() - image::package_trailer_size, trailer.serialize()));
    if (::fchmod(out->file().fd(), 0755) != 0)
        return Error::from_errno(errno, output);
    TRY(out->commit());
    return PackageResult{output, name};
}

// --oci DIR: the package in an OCI image layout; a loose file too only with -o.
Result<void> package_as_oci(const PackageOptions& options, image::PackageTarget target) {
    struct stat st {};
    if (::lstat(options.oci.c_str(), &st) == 0)
        return Error(EEXIST, options.oci + ": already exists (remove it first)");
    auto scratch = TRY(ScratchDirectory::create(options.oci + ".package-"));
    PackageOptions inner = options;
    if (inner.output.empty())
        inner.output = scratch->path() + "/package";
    PackageResult result = TRY(package(inner, target));
    OciImageOptions oci;
    oci.directory = options.oci;
    oci.executable_path = result.path;
    oci.name = result.name;
    TRY(write_oci_image(oci));
    return {};
}

Command add_package_command(CLI::App& parent, const std::string& name,
                            image::PackageTarget target) {
    auto options = std::make_shared<PackageOptions>();
    bool sgx = target == image::PackageTarget::sgx_enclave;
    CLI::App* app = parent.add_subcommand(
        name, sgx ? "Package an application into one executable for an SGX enclave"
                  : "Package an application into one signed executable (linux target)");
    app->footer(
        std::string(sgx ? "Makes the same file as 'myst package', marked for the SGX target: it\n"
                          "refuses to run where there is no SGX (use 'myst package' there).\n\n"
                        : "") +
        "Writes ONE executable: the myst runtime with the root file system (an appdir\n"
        "is packed as CPIO; a CPIO or ext2 image is taken as it is), the config and the\n"
        "signature appended (see 'myst sign' for what is measured). Running it checks\n"
        "the signature and the measurement of every part first; any change is a\n"
        "one-line error naming the part. Then it runs the config's ApplicationPath as\n"
        "'myst exec-linux --app-config-path config.json <rootfs>' would: its arguments\n"
        "are passed only with \"HostApplicationParameters\": true (else the config's\n"
        "\"ApplicationParameters\"), and of the host's environment only the\n"
        "\"HostEnvironmentVariables\" get in. The file may be renamed or moved.\n"
        "Blocks of an ext2 root are checked against its verity root hash as they are read.\n\n"
        "Example:\n  openssl genrsa -out private.pem -3 3072\n  myst " +
        name + " appdir private.pem config.json\n  ./myst/bin/hello red green");
    app->add_option("rootfs", options->rootfs, "Application directory, CPIO or ext2 image")
        ->required();
    app->add_option("private-key", options->private_key, "PEM RSA private key (>= 2048 bits)")
        ->required();
    app->add_option("config", options->config, "Mystikos config.json")->required();
    app->add_option("-o,--output", options->output,
                    "Output file (default: myst/bin/<ApplicationPath's file name>)");
    app->add_option("--oci", options->oci,
                    "Write an OCI image layout to this directory instead: one layer holding "
                    "the package as /myst/bin/<name>, its entrypoint (see doc/kubernetes.md)");
    return {app, [options, name, target] {
                if (!options->oci.empty()) {
                    auto result = package_as_oci(*options, target);
                    return result.is_error() ? report_failure(name, result.error()) : 0;
                }
                auto result = package(*options, target);
                return result.is_error() ? report_failure(name, result.error()) : 0;
            }};
}

std::string own_path() {
    char path[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
    return n > 0 ? std::string(path, static_cast<size_t>(n)) : std::string("/proc/self/exe");
}

int package_failure(const std::string& name, const Error& error) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), error.message().c_str());
    return 1;
}

}  // namespace

Command add_package_command(CLI::App& parent) {
    return add_package_command(parent, "package", image::PackageTarget::linux_process);
}

Command add_package_sgx_command(CLI::App& parent) {
    return add_package_command(parent, "package-sgx", image::PackageTarget::sgx_enclave);
}

std::optional<int> run_package_if_present(int argc, char** argv) {
    auto self = HostFile::open_read("/proc/self/exe");
    if (self.is_error())
        return std::nullopt;  // no /proc: myst's own commands still work
    std::shared_ptr<HostFile> file = self.release_value();
    auto has_payload = image::has_package_payload(*file);
    if (!has_payload.is_error() && !has_payload.value())
        return std::nullopt;
    std::string name = own_path();
    if (has_payload.is_error())
        return package_failure(name, has_payload.error().with_context("runtime check failed"));
    auto package = image::verify_package(file);
    if (package.is_error())
        return package_failure(name, package.error());
    if (package.value().trailer.target == image::PackageTarget::sgx_enclave)
        return package_failure(
            name, Error(ENODEV,
                        "made with 'myst package-sgx' for an SGX enclave, and there is no SGX "
                        "here; make it with 'myst package' to run on the linux target"));

    ExecOptions options;
    options.error_prefix = name;
    options.config_source = name + " (its config)";
    const std::vector<uint8_t>& config = package.value().config;
    auto parsed = parse_app_config({reinterpret_cast<const char*>(config.data()), config.size()},
                                   options.config_source);
    if (parsed.is_error())
        return package_failure(name, parsed.error());
    options.config = parsed.release_value();
    options.program_arguments.assign(argv + std::min(argc, 1), argv + argc);
    options.measurement = package.value().verified.digest;
    options.signer = package.value().verified.signer;

    image::PackageTrailer trailer = package.value().trailer;
    Sha256Digest root_hash = package.value().verified.measurement.rootfs;
    auto archive = std::make_shared<image::MemoryFile>(std::move(package.value().rootfs));
    options.open_root = [&](Target& target,
                            const ImageOptions& image) -> Result<std::shared_ptr<fs::FileSystem>> {
        if (trailer.rootfs_type == image::RootfsType::cpio) {
            auto ramfs = fs::create_ramfs_from_cpio(*archive, fs::clock_from_target(target));
            if (ramfs.is_error())
                return ramfs.release_error().with_context(name + ": root file system");
            return ramfs;
        }
        // Every block is checked against the signed root hash, never the image's own.
        ImageOptions trust = image;
        trust.public_key_files.clear();
        trust.public_key_pems.clear();
        trust.root_hashes = {to_hex(root_hash)};
        return open_ext2_filesystem(target, "/proc/self/exe", trust, "", nullptr,
                                    {trailer.rootfs_offset, trailer.rootfs_size});
    };
    return run_exec_linux(options);
}

}  // namespace myst::tools

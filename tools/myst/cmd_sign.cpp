// `myst sign` and `myst dump`: sign an application (the myst runtime, its
// root file system and its config) into a directory, as Mystikos's sign
// writes `myst/`, and show and check what a signed directory or a package
// holds. `sign-sgx` and `dump-sgx` are Mystikos's names; without SGX they
// say which command to use.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "base/hex.h"
#include "image/fssig.h"
#include "image/package.h"
#include "tools/myst/app_signing.h"
#include "tools/myst/command.h"
#include "tools/myst/host_file.h"

namespace myst::tools {

namespace {

namespace stdfs = std::filesystem;

struct SignOptions {
    std::string rootfs;
    std::string private_key;
    std::string config;
    std::string outdir = "myst";
};

// A directory being filled under a temporary name; commit() renames it to
// its destination (replacing an earlier sign output), and without commit()
// it is removed, so a failed sign leaves nothing behind.
class PendingDirectory {
public:
    static Result<std::unique_ptr<PendingDirectory>> create(const std::string& destination) {
        std::error_code error;
        if (stdfs::exists(destination, error) &&
            !stdfs::exists(stdfs::path(destination) / signed_files::measurement, error))
            return Error(EEXIST, destination +
                                     ": exists and is not the output of myst sign (it has no "
                                     "measurement file); remove it or give another --outdir");
        stdfs::path parent = stdfs::path(destination).parent_path();
        if (!parent.empty() && !stdfs::is_directory(parent, error))
            return Error(ENOENT,
                         destination + ": the directory " + parent.string() + " does not exist");
        std::string temporary = destination + ".partial-XXXXXX";
        if (!::mkdtemp(temporary.data()))
            return Error::from_errno(errno, destination);
        return std::unique_ptr<PendingDirectory>(new PendingDirectory(destination, temporary));
    }
    ~PendingDirectory() {
        std::error_code ignored;
        if (!m_committed)
            stdfs::remove_all(m_temporary, ignored);
    }
    std::string path(const std::string& name) const { return m_temporary + "/" + name; }

    Result<void> commit() {
        std::error_code error;
        std::string old;
        if (stdfs::exists(m_destination, error)) {
            old = m_destination + ".old-XXXXXX";
            if (!::mkdtemp(old.data()))
                return Error::from_errno(errno, m_destination);
            if (::rename(m_destination.c_str(), (old + "/previous").c_str()) != 0)
                return Error::from_errno(errno, m_destination);
        }
        if (::rename(m_temporary.c_str(), m_destination.c_str()) != 0)
            return Error::from_errno(errno, m_destination);
        m_committed = true;
        if (!old.empty())
            stdfs::remove_all(old, error);
        return {};
    }

private:
    PendingDirectory(std::string destination, std::string temporary)
        : m_destination(std::move(destination)), m_temporary(std::move(temporary)) {}
    std::string m_destination;
    std::string m_temporary;
    bool m_committed = false;
};

Result<void> write_new_file(const std::string& path, std::span<const uint8_t> bytes,
                            mode_t mode = 0644) {
    auto output = TRY(PendingOutput::create(path, /*overwrite=*/false));
    TRY(output->file().write_at(0, bytes));
    if (::fchmod(output->file().fd(), mode) != 0)
        return Error::from_errno(errno, path);
    return output->commit();
}

std::span<const uint8_t> bytes_of(const std::string& text) {
    return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

Result<void> sign(const SignOptions& options) {
    SignedApp app = TRY(sign_app({options.rootfs, options.private_key, options.config,
                                  image::PackageTarget::linux_process}));
    auto dir = TRY(PendingDirectory::create(options.outdir));
    if (::mkdir(dir->path("bin").c_str(), 0755) != 0)
        return Error::from_errno(errno, options.outdir + "/bin");
    TRY(write_new_file(dir->path(signed_files::runtime), app.runtime, 0755));
    {
        auto rootfs = TRY(PendingOutput::create(dir->path(signed_files::rootfs), false));
        TRY(copy_file_bytes(*app.rootfs, rootfs->file(), 0));
        TRY(rootfs->commit());
    }
    TRY(write_new_file(dir->path(signed_files::config), bytes_of(app.config)));
    TRY(write_new_file(dir->path(signed_files::measurement),
                       bytes_of(app.signed_measurement.record)));
    TRY(write_new_file(dir->path(signed_files::signature), app.signed_measurement.signature));
    TRY(write_new_file(dir->path(signed_files::public_key), app.signed_measurement.public_key_pem));
    return dir->commit();
}

// ---- dump ----

Result<SignedContents> inspect(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return Error::from_errno(errno, path);
    if (S_ISDIR(st.st_mode))
        return check_signed_directory(path);
    std::shared_ptr<HostFile> file = TRY(HostFile::open_read(path));
    auto has_payload = image::has_package_payload(*file);
    if (has_payload.is_error() || !has_payload.value())
        return Error::invalid(path + ": not a package (" +
                              (has_payload.is_error() ? has_payload.error().message()
                                                      : "an ELF file with nothing appended") +
                              ") nor the output directory of myst sign");
    auto package = image::verify_package(file);
    if (package.is_error())
        return package.release_error().with_context(path);
    SignedContents contents;
    contents.verified = package.value().verified;
    std::string_view config(reinterpret_cast<const char*>(package.value().config.data()),
                            package.value().config.size());
    contents.config = TRY(parse_app_config(config, path + " (its config)"));
    return contents;
}

int run_dump(const std::string& path) {
    auto contents = inspect(path);
    if (contents.is_error())
        return report_failure("dump", contents.error());
    const SignedContents& c = contents.value();
    const image::Measurement& m = c.verified.measurement;
    std::printf("measurement=%s\n", to_hex(c.verified.digest).c_str());
    std::printf("signer=%s\n", to_hex(c.verified.signer).c_str());
    std::printf("ProductID=%u\n", unsigned(c.config.product_id));
    std::printf("SecurityVersion=%u\n", unsigned(c.config.security_version));
    std::printf("Debug=%d\n", c.config.debug ? 1 : 0);
    std::printf("target=%s\n", std::string(image::target_name(m.target)).c_str());
    std::printf("ApplicationPath=%s\n", c.config.application_path.c_str());
    std::printf("rootfs=%s\n", std::string(image::rootfs_type_name(m.rootfs_type)).c_str());
    std::printf("verified=yes\n");
    return 0;
}

// Mystikos's SGX spellings are accepted, whatever follows them, and say
// which command does the job here: there is no enclave to sign for.
Command add_refused_sgx_command(CLI::App& parent, const std::string& name,
                                const std::string& instead) {
    CLI::App* app = parent.add_subcommand(
        name, "Mystikos's SGX " + instead + " (no SGX here: use myst " + instead + ")");
    app->allow_extras();
    app->footer("This myst has no SGX target; 'myst " + instead +
                "' does the same for the linux target.");
    return {app, [name, instead] {
                return report_failure(name, Error(ENODEV,
                                                  "there is no SGX target in this myst; "
                                                  "use 'myst " +
                                                      instead + "' (the linux target)"));
            }};
}

}  // namespace

Command add_sign_command(CLI::App& parent) {
    auto options = std::make_shared<SignOptions>();
    CLI::App* app = parent.add_subcommand(
        "sign", "Sign an application: the myst runtime, its root file system and its config");
    app->footer(
        "Measures the myst runtime (this executable as the loader maps it: its debug\n"
        "information and symbols are left out), the root file system (an appdir is\n"
        "packed as CPIO first; a CPIO archive by its SHA-256, an ext2 image from myst\n"
        "mkext2 by its dm-verity root hash) and the config (canonical JSON), and signs\n"
        "the measurement with RSA PKCS#1 v1.5 over SHA-256. Writes into --outdir:\n"
        "  bin/myst  rootfs  config.json  measurement (the signed record)\n"
        "  signature (raw, over the record)  public.pem (the signer's key)\n"
        "The signature checks with openssl:\n"
        "  openssl dgst -sha256 -verify myst/public.pem -signature myst/signature "
        "myst/measurement\n"
        "The key: RSA of at least 2048 bits, e.g. `openssl genrsa -out private.pem -3 3072`.\n"
        "The config must name an ApplicationPath that is a file in the root file system.\n\n"
        "Example:\n  myst sign appdir private.pem config.json --outdir myst\n"
        "  myst dump myst");
    app->add_option("rootfs", options->rootfs, "Application directory, CPIO or ext2 image")
        ->required();
    app->add_option("private-key", options->private_key, "PEM RSA private key")->required();
    app->add_option("config", options->config, "Mystikos config.json")->required();
    app->add_option("--outdir", options->outdir, "Output directory (default: myst)");
    return {app, [options] {
                auto result = sign(*options);
                return result.is_error() ? report_failure("sign", result.error()) : 0;
            }};
}

Command add_dump_command(CLI::App& parent) {
    auto path = std::make_shared<std::string>();
    CLI::App* app = parent.add_subcommand(
        "dump", "Check and show a signed application (myst sign) or a package (myst package)");
    app->footer(
        "Checks the signature and that the runtime, root file system and config match\n"
        "the measurement, then prints measurement, signer (SHA-256 of the RSA modulus),\n"
        "ProductID, SecurityVersion, Debug, target, ApplicationPath and the root file\n"
        "system type, one name=value per line. Any mismatch is an error (exit 1).\n\n"
        "Example:\n  myst dump myst\n  myst dump myst/bin/hello");
    app->add_option("signed", *path, "Output directory of myst sign, or a package")->required();
    return {app, [path] { return run_dump(*path); }};
}

Command add_sign_sgx_command(CLI::App& parent) {
    return add_refused_sgx_command(parent, "sign-sgx", "sign");
}

Command add_dump_sgx_command(CLI::App& parent) {
    return add_refused_sgx_command(parent, "dump-sgx", "dump");
}

}  // namespace myst::tools

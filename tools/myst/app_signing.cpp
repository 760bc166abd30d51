#include "tools/myst/app_signing.h"

#include <sys/stat.h>

#include <algorithm>

#include "fs/ramfs/ramfs.h"
#include "fs/vfs/path.h"
#include "fs/vfs/vfs.h"
#include "image/cpio.h"
#include "image/fssig.h"
#include "image/signature.h"
#include "image/verity.h"
#include "target/linux_target.h"
#include "tools/myst/dir_scan.h"
#include "tools/myst/host_file.h"
#include "tools/myst/image_mount.h"

namespace myst::tools {

namespace {

// Below this an RSA key no longer gives the 112-bit security NIST asks of
// signatures (SP 800-57); Mystikos's guide makes 3072-bit keys.
constexpr size_t min_rsa_bits = 2048;
constexpr size_t copy_chunk = 1 << 20;

Result<image::RsaPrivateKey> load_signing_key(const std::string& path) {
    auto pem = TRY(read_whole_file(path));
    auto key = TRY(image::RsaPrivateKey::from_pem(pem, path));
    if (key.bits() < min_rsa_bits)
        return Error::invalid(path + ": a " + std::to_string(key.bits()) +
                              "-bit RSA key; signing needs at least 2048 bits");
    return key;
}

struct LoadedConfig {
    std::string canonical;
    AppConfig config;
};

Result<LoadedConfig> load_config(const std::string& path) {
    auto bytes = TRY(read_whole_file(path));
    std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    LoadedConfig loaded;
    loaded.canonical = TRY(canonical_app_config(text, path));
    loaded.config = TRY(parse_app_config(loaded.canonical, path));
    const std::string& program = loaded.config.application_path;
    if (program.empty())
        return Error::invalid(path + ": ApplicationPath: missing (the program the package runs)");
    if (!program.starts_with('/'))
        return Error::invalid(path + ": ApplicationPath: '" + program +
                              "' is not an absolute path");
    return loaded;
}

struct MeasuredRootfs {
    std::shared_ptr<image::RandomAccessFile> file;
    image::RootfsType type = image::RootfsType::cpio;
    Sha256Digest hash{};
};

// An appdir is packed as `myst mkcpio` packs it; an image is taken as it is.
Result<MeasuredRootfs> measure_rootfs(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return Error::from_errno(errno, path);
    MeasuredRootfs rootfs;
    if (S_ISDIR(st.st_mode)) {
        image::TreeNode tree = TRY(scan_directory(path));
        auto archive = std::make_shared<image::MemoryFile>();
        TRY(image::write_cpio(tree, *archive));
        rootfs.file = archive;
    } else {
        rootfs.file = std::shared_ptr<HostFile>(TRY(HostFile::open_read(path)));
    }
    uint64_t size = TRY(rootfs.file->size());
    if (S_ISDIR(st.st_mode) || looks_like_cpio(path)) {
        rootfs.hash = TRY(image::sha256_of_range(*rootfs.file, 0, size));
        return rootfs;
    }
    auto fssig = image::read_fssig(*rootfs.file);
    if (fssig.is_error())
        return Error::invalid(path +
                              ": neither an appdir, a CPIO archive nor an ext2 image from "
                              "myst mkext2 (" +
                              fssig.error().message() + ")");
    // The whole tree is checked once here, so a damaged image is never signed.
    auto verified =
        image::verify_verity(*rootfs.file, fssig.value().hash_offset, fssig.value().root_hash);
    if (verified.is_error())
        return verified.release_error().with_context(path);
    rootfs.type = image::RootfsType::ext2;
    rootfs.hash = fssig.value().root_hash;
    return rootfs;
}

// The program must be a file the kernel will find: the root file system is
// opened as the kernel opens it and the path resolved (symlinks followed).
Result<void> check_application_path(const std::string& rootfs_path, MeasuredRootfs& rootfs,
                                    const std::string& config_path, const std::string& program) {
    LinuxTarget target;
    std::shared_ptr<fs::FileSystem> root;
    if (rootfs.type == image::RootfsType::cpio) {
        auto ramfs = fs::create_ramfs_from_cpio(*rootfs.file, fs::clock_from_target(target));
        if (ramfs.is_error())
            return ramfs.release_error().with_context(rootfs_path);
        root = ramfs.release_value();
    } else {
        auto ext2 = open_ext2_filesystem(target, rootfs_path, {}, "");
        if (ext2.is_error() && ext2.error().code() == ENOKEY)
            return Error(EACCES, rootfs_path +
                                     ": an encrypted image cannot be the root file system of a "
                                     "signed application");
        root = TRY(std::move(ext2));
    }
    auto vfs = TRY(fs::Vfs::create(root, fs::clock_from_target(target)));
    auto node = vfs->resolve(vfs->root_lookup(), program);
    if (node.is_error())
        return Error::invalid(config_path + ": ApplicationPath: " + program + " is not in " +
                              rootfs_path + " (" + node.error().message() + ")");
    if (!node.value()->inode()->is_regular())
        return Error::invalid(config_path + ": ApplicationPath: " + program + " in " + rootfs_path +
                              " is not a regular file");
    return {};
}

}  // namespace

Result<std::vector<uint8_t>> read_own_runtime() {
    auto self = TRY(HostFile::open_read("/proc/self/exe"));
    auto runtime = image::loaded_image_only(*self);
    if (runtime.is_error())
        return runtime.release_error().with_context("the myst runtime (/proc/self/exe)");
    return runtime;
}

Result<void> copy_file_bytes(image::RandomAccessFile& from, image::RandomAccessFile& to,
                             uint64_t offset) {
    uint64_t size = TRY(from.size());
    std::vector<uint8_t> buffer(std::min<uint64_t>(size, copy_chunk));
    for (uint64_t done = 0; done < size;) {
        std::span<uint8_t> chunk(buffer.data(), std::min<uint64_t>(size - done, buffer.size()));
        TRY(from.read_at(done, chunk));
        TRY(to.write_at(offset + done, chunk));
        done += chunk.size();
    }
    return {};
}

namespace {

Error mismatch(const std::string& path, const std::string& what) {
    return Error(EBADMSG, path + ": " + what + " check failed: it does not match the measurement");
}

Result<void> check_measured_file(const std::string& path, const std::string& what, uint64_t size,
                                 const Sha256Digest& digest) {
    auto file = TRY(HostFile::open_read(path));
    if (TRY(file->size()) != size || TRY(image::sha256_of_range(*file, 0, size)) != digest)
        return mismatch(path, what);
    return {};
}

}  // namespace

Result<SignedContents> check_signed_directory(const std::string& directory) {
    auto path = [&](const char* name) { return directory + "/" + name; };
    image::SignedMeasurement block;
    auto record = TRY(read_whole_file(path(signed_files::measurement)));
    block.record.assign(record.begin(), record.end());
    block.public_key_pem = TRY(read_whole_file(path(signed_files::public_key)));
    block.signature = TRY(read_whole_file(path(signed_files::signature)));
    SignedContents contents;
    auto verified = image::verify_signed_measurement(block);
    if (verified.is_error())
        return verified.release_error().with_context(directory);
    contents.verified = verified.release_value();
    const image::Measurement& m = contents.verified.measurement;
    TRY(check_measured_file(path(signed_files::runtime), "runtime", m.runtime_size, m.runtime));
    TRY(check_measured_file(path(signed_files::config), "config", m.config_size, m.config));
    std::string rootfs_path = path(signed_files::rootfs);
    if (m.rootfs_type == image::RootfsType::cpio) {
        TRY(check_measured_file(rootfs_path, "root file system", m.rootfs_size, m.rootfs));
    } else {
        auto rootfs = TRY(HostFile::open_read(rootfs_path));
        auto fssig = image::read_fssig(*rootfs);
        if (TRY(rootfs->size()) != m.rootfs_size || fssig.is_error() ||
            fssig.value().root_hash != m.rootfs)
            return mismatch(rootfs_path, "root file system");
        auto tree = image::verify_verity(*rootfs, fssig.value().hash_offset, m.rootfs);
        if (tree.is_error())
            return tree.release_error().with_context(rootfs_path + ": root file system");
    }
    auto config = TRY(read_whole_file(path(signed_files::config)));
    contents.config = TRY(parse_app_config(
        {reinterpret_cast<const char*>(config.data()), config.size()}, path(signed_files::config)));
    return contents;
}

Result<SignedApp> sign_app(const SigningInput& input) {
    // The cheap checks first, so that a bad key or config fails at once.
    image::RsaPrivateKey key = TRY(load_signing_key(input.private_key));
    LoadedConfig config = TRY(load_config(input.config));
    MeasuredRootfs rootfs = TRY(measure_rootfs(input.rootfs));
    TRY(check_application_path(input.rootfs, rootfs, input.config, config.config.application_path));

    SignedApp app;
    app.runtime = TRY(read_own_runtime());
    app.config = std::move(config.canonical);
    app.app_config = std::move(config.config);
    app.rootfs = rootfs.file;

    image::Measurement m;
    m.target = input.target;
    m.runtime_size = app.runtime.size();
    m.runtime = Sha256::digest(app.runtime);
    m.rootfs_type = rootfs.type;
    m.rootfs_size = TRY(rootfs.file->size());
    m.rootfs = rootfs.hash;
    m.config_size = app.config.size();
    m.config =
        Sha256::digest({reinterpret_cast<const uint8_t*>(app.config.data()), app.config.size()});

    app.signed_measurement.record = m.record();
    app.signed_measurement.public_key_pem = TRY(key.public_key_pem());
    app.signed_measurement.signature = TRY(key.sign(m.digest()));
    // Checked back as the package will check it, so a key OpenSSL signs
    // with but cannot verify (or a bug here) never yields a package.
    app.verified = TRY(image::verify_signed_measurement(app.signed_measurement));
    return app;
}

}  // namespace myst::tools

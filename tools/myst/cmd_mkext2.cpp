// myst mkext2: a directory becomes [EXT2 | HASH TREE | FSSIG], or with
// --encrypt [LUKS1 HEADER | ENCRYPTED EXT2 | HASH TREE | FSSIG], the layout
// Mystikos's own mkext2 produces, written by our code alone (no mke2fs,
// cryptsetup or veritysetup, no root, no device-mapper).
#include <iostream>
#include <optional>

#include "base/hex.h"
#include "base/size_parse.h"
#include "image/ext2_writer.h"
#include "image/fssig.h"
#include "image/luks1.h"
#include "image/signature.h"
#include "image/verity.h"
#include "image/xts_volume.h"
#include "tools/myst/command.h"
#include "tools/myst/dir_scan.h"
#include "tools/myst/ext2_image.h"
#include "tools/myst/host_file.h"
#include "tools/myst/progress.h"

namespace myst::tools {

namespace {

constexpr uint64_t mkext2_block = 4096;
constexpr size_t min_passphrase_length = 14;  // Mystikos's rule
constexpr uint64_t luks_header_bytes =
    uint64_t(image::luks1_payload_offset_sectors) * image::luks1_sector_size;

struct Mkext2Arguments {
    std::string appdir;
    std::string image;
    std::string size;
    std::string encrypt_key_file;
    std::string passphrase;
    std::string sign;
    std::string salt;
    bool force = false;
    bool quiet = false;
};

// Everything the arguments name, loaded and checked before any output exists.
struct Mkext2Inputs {
    uint64_t size_bytes = 0;  // 0: default; else the bytes before the hash tree
    std::optional<std::vector<uint8_t>> master_key;
    std::optional<image::RsaPrivateKey> private_key;
    std::vector<uint8_t> salt;
};

Result<Mkext2Inputs> load_inputs(const Mkext2Arguments& args) {
    Mkext2Inputs inputs;
    if (!args.size.empty()) {
        auto size = parse_size(args.size);
        if (size.is_error())
            return size.release_error().with_context("--size");
        inputs.size_bytes = size.value();
        if (inputs.size_bytes % mkext2_block != 0)
            return Error::invalid("--size: " + args.size + " is not a multiple of 4096 bytes");
    }
    if (!args.encrypt_key_file.empty()) {
        auto key = read_whole_file(args.encrypt_key_file);
        if (key.is_error())
            return key.release_error();
        if (key.value().size() != image::luks1_master_key_size)
            return Error::invalid(args.encrypt_key_file + ": key file must be exactly 64 bytes " +
                                  "(make one with: head -c 64 /dev/urandom > keyfile); it has " +
                                  std::to_string(key.value().size()));
        TRY(image::XtsSectorCipher::create(key.value()));  // rejects keys XTS cannot use
        inputs.master_key = key.release_value();
    }
    if (!args.passphrase.empty()) {
        if (!inputs.master_key)
            return Error::invalid("--passphrase needs --encrypt=<keyfile>");
        if (args.passphrase.size() < min_passphrase_length)
            return Error::invalid("--passphrase must be at least 14 characters");
    }
    if (!args.sign.empty()) {
        size_t colon = args.sign.find(':');
        if (colon == std::string::npos)
            return Error::invalid("--sign=" + args.sign + ": expected <pubkey.pem>:<privkey.pem>");
        std::string public_path = args.sign.substr(0, colon);
        std::string private_path = args.sign.substr(colon + 1);
        auto public_key =
            TRY(image::RsaPublicKey::from_pem(TRY(read_whole_file(public_path)), public_path));
        auto private_key =
            TRY(image::RsaPrivateKey::from_pem(TRY(read_whole_file(private_path)), private_path));
        if (public_key.signer_id() != private_key.signer_id())
            return Error::invalid("--sign: " + public_path + " is not the public half of " +
                                  private_path);
        inputs.private_key = std::move(private_key);
    }
    if (!args.salt.empty()) {
        auto salt = from_hex(args.salt);
        if (salt.is_error() || salt.value().empty() || salt.value().size() > 256)
            return Error::invalid("--salt: expected 1 to 256 bytes in hex");
        inputs.salt = salt.release_value();
    }
    return inputs;
}

// Writes the ext2 section (plain, or inside a LUKS1 container); returns the
// byte offset where the hash tree starts.
Result<uint64_t> write_data_area(const image::TreeNode& tree, const Mkext2Inputs& inputs,
                                 const Mkext2Arguments& args, HostFile& out,
                                 ProgressLine& progress) {
    uint64_t header = inputs.master_key ? luks_header_bytes : 0;
    uint64_t ext2_size = 0;
    if (inputs.size_bytes) {
        if (inputs.size_bytes <= header)
            return Error::invalid(
                "--size: an encrypted image needs more than its 2 MiB LUKS header");
        ext2_size = inputs.size_bytes - header;
    }
    image::Ext2BuildOptions options;
    options.size_bytes = ext2_size;
    options.progress = progress.stage("writing files", "MiB");
    if (!inputs.master_key) {
        auto summary = TRY(image::write_ext2(tree, out, options));
        return ext2_size ? ext2_size : summary.size_bytes;
    }
    image::Luks1Options luks;
    if (!args.passphrase.empty())
        luks.passphrase = args.passphrase;
    auto header_area = TRY(image::build_luks1_header_area(*inputs.master_key, luks));
    TRY(out.write_at(0, header_area));
    image::XtsVolumeFile volume(out, header,
                                TRY(image::XtsSectorCipher::create(*inputs.master_key)));
    auto summary = TRY(image::write_ext2(tree, volume, options));
    uint64_t volume_size = ext2_size ? ext2_size : summary.size_bytes;
    TRY(volume.fill_unwritten(volume_size));
    return header + volume_size;
}

// Everything after the inputs are loaded and the output opened.
Result<image::VerityBuildResult> write_image(const image::TreeNode& tree,
                                             const Mkext2Inputs& inputs,
                                             const Mkext2Arguments& args, HostFile& out,
                                             ProgressLine& progress) {
    uint64_t hash_offset = TRY(write_data_area(tree, inputs, args, out, progress));
    TRY(out.truncate(hash_offset));
    image::VerityBuildOptions verity;
    verity.salt = inputs.salt;
    verity.progress = progress.stage("hashing", "blocks");
    auto result = TRY(image::build_verity(out, hash_offset, hash_offset / mkext2_block, verity));

    image::Fssig fssig;
    fssig.hash_offset = hash_offset;
    fssig.root_hash = result.root_hash;
    if (inputs.private_key) {
        fssig.signer = inputs.private_key->signer_id();
        fssig.signature = TRY(inputs.private_key->sign(result.root_hash));
    }
    TRY(out.write_at(result.end_offset, fssig.serialize()));
    TRY(out.truncate(result.end_offset + image::fssig_size));
    return result;
}

Result<image::VerityBuildResult> build_image(const Mkext2Arguments& args, ProgressLine& progress) {
    Mkext2Inputs inputs = TRY(load_inputs(args));
    image::TreeNode tree = TRY(scan_directory(args.appdir));
    auto output = TRY(PendingOutput::create(args.image, args.force));
    auto result = TRY(write_image(tree, inputs, args, output->file(), progress));
    TRY(output->commit());
    return result;
}

int run_mkext2(const Mkext2Arguments& args) {
    ProgressLine progress("myst mkext2", !args.quiet);
    auto result = build_image(args, progress);
    progress.finish();
    if (result.is_error())
        return report_failure("mkext2", result.error());
    if (!args.quiet)
        std::cout << args.image << ": root hash " << to_hex(result.value().root_hash) << "\n";
    return 0;
}

}  // namespace

Result<image::VerityBuildResult> write_verity_ext2(const image::TreeNode& tree, HostFile& out,
                                                   ProgressLine& progress) {
    return write_image(tree, Mkext2Inputs{}, Mkext2Arguments{}, out, progress);
}

Command add_mkext2_command(CLI::App& parent) {
    auto args = std::make_shared<Mkext2Arguments>();
    CLI::App* app =
        parent.add_subcommand("mkext2",
                              "Make an EXT2 image of a directory, integrity-protected (dm-verity), "
                              "optionally encrypted (LUKS1) and signed");
    app->footer(
        "Make an EXT2 image of <appdir>: [EXT2 | HASH TREE | FSSIG]; with --encrypt\n"
        "[LUKS1 HEADER | ENCRYPTED EXT2 | HASH TREE | FSSIG]. The hash tree is what\n"
        "'veritysetup format --hash-offset=<size>' writes, the encryption what\n"
        "'cryptsetup luksFormat --type luks1 --cipher aes-xts-plain64' writes; the last\n"
        "4096 bytes (fssig) hold the root hash and, with --sign, its RSA signature.\n\n"
        "Examples:\n"
        "  myst mkext2 appdir app.ext2\n"
        "  head -c 64 /dev/urandom > keyfile; myst mkext2 --encrypt=keyfile appdir app.ext2\n"
        "  myst mkext2 --sign=pub.pem:priv.pem appdir app.ext2");
    app->add_option("appdir", args->appdir, "Directory to put in the image")->required();
    app->add_option("image", args->image, "Image file to write")->required();
    app->add_option("--size", args->size,
                    "Bytes before the hash tree (k/m/g suffixes; multiple of 4096). "
                    "Default: 1.5x what the directory needs, at least 8 MiB");
    app->add_option("--encrypt", args->encrypt_key_file,
                    "Encrypt with this 64-byte key file (the LUKS1 volume key)");
    app->add_option("--passphrase", args->passphrase,
                    "Also add a LUKS key slot opened by this passphrase (>= 14 characters)");
    app->add_option("--sign", args->sign, "Sign the root hash: <pubkey.pem>:<privkey.pem> (RSA)");
    app->add_option("--salt", args->salt, "Verity salt in hex (default: 32 random bytes)");
    app->add_flag("--force,-f", args->force, "Overwrite an existing image");
    app->add_flag("--quiet,-q", args->quiet, "Print nothing on success");
    return {app, [args] { return run_mkext2(*args); }};
}

}  // namespace myst::tools

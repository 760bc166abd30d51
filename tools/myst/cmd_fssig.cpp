// `myst fssig`: shows the fssig trailer and verity superblock of an image made
// by `myst mkext2` (or by Mystikos), and checks its signature and hash tree.
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/hex.h"
#include "image/fssig.h"
#include "image/signature.h"
#include "image/verity.h"
#include "tools/myst/command.h"
#include "tools/myst/host_file.h"

namespace myst::tools {

namespace {

struct FssigOptions {
    std::string image;
    std::string pubkey;
    bool roothash_only = false;
    bool json = false;
    bool verify = false;
};

struct FssigReport {
    image::Fssig fssig;
    image::VeritySuperblock superblock;
    bool encrypted = false;
    bool signature_checked = false;
    bool signature_valid = false;
    std::optional<std::string> signature_problem;  // why a checked signature is not valid
    std::optional<bool> verified;                  // set by --verify
    std::string verify_error;
};

constexpr uint8_t luks_magic[6] = {'L', 'U', 'K', 'S', 0xba, 0xbe};

// Host errors already start with the path; add it only where it is missing.
Error in_file(const Error& error, const std::string& path) {
    if (error.message().starts_with(path + ": "))
        return error;
    return error.with_context(path);
}

std::string uuid_text(const std::array<uint8_t, 16>& uuid) {
    std::string hex = to_hex(uuid);
    return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
           hex.substr(16, 4) + "-" + hex.substr(20);
}

Result<FssigReport> inspect(const FssigOptions& options) {
    auto file = TRY(HostFile::open_read(options.image));
    FssigReport report;
    report.fssig = TRY(image::read_fssig(*file));

    std::array<uint8_t, image::verity_superblock_size> sb_bytes{};
    TRY(file->read_at(report.fssig.hash_offset, sb_bytes));
    auto superblock = image::VeritySuperblock::parse(sb_bytes);
    if (superblock.is_error())
        return superblock.error().with_context("at hash offset " +
                                               std::to_string(report.fssig.hash_offset));
    report.superblock = superblock.release_value();

    std::array<uint8_t, sizeof(luks_magic)> head{};
    TRY(file->read_at(0, head));
    report.encrypted = std::equal(head.begin(), head.end(), std::begin(luks_magic));

    if (!options.pubkey.empty() && report.fssig.is_signed()) {
        // The fssig holds only the key's hash: the key must be the signer
        // before its signature means anything.
        auto pem = TRY(read_whole_file(options.pubkey));
        auto key = TRY(image::RsaPublicKey::from_pem(pem, options.pubkey));
        report.signature_checked = true;
        if (key.signer_id() != report.fssig.signer) {
            report.signature_problem = "signed by another key (signer " +
                                       to_hex(report.fssig.signer) + ", " + options.pubkey +
                                       " is " + to_hex(key.signer_id()) + ")";
        } else if (!TRY(key.verify(report.fssig.root_hash, report.fssig.signature))) {
            report.signature_problem = "the signature does not match the root hash";
        } else {
            report.signature_valid = true;
        }
    } else if (!options.pubkey.empty()) {
        // Still reject a bad key file, so that a typo is not silently ignored.
        auto pem = TRY(read_whole_file(options.pubkey));
        TRY(image::RsaPublicKey::from_pem(pem, options.pubkey));
        report.signature_checked = true;
        report.signature_problem = "the image is not signed";
    }

    if (options.verify) {
        auto result = image::verify_verity(*file, report.fssig.hash_offset, report.fssig.root_hash);
        report.verified = !result.is_error();
        if (result.is_error())
            report.verify_error = result.error().message();
    }
    return report;
}

void print_text(const FssigReport& report) {
    const image::Fssig& sig = report.fssig;
    std::printf("magic=0x%016llx\n", static_cast<unsigned long long>(image::fssig_magic));
    std::printf("version=%llu\n", static_cast<unsigned long long>(sig.version));
    std::printf("hash_offset=%llu\n", static_cast<unsigned long long>(sig.hash_offset));
    std::printf("root_hash=%s\n", to_hex(sig.root_hash).c_str());
    std::printf("signer=%s\n", sig.is_signed() ? to_hex(sig.signer).c_str() : "null");
    std::printf("signature_size=%zu\n", sig.signature.size());
    std::printf("data_blocks=%llu\n",
                static_cast<unsigned long long>(report.superblock.data_blocks));
    std::printf("salt=%s\n", to_hex(report.superblock.salt).c_str());
    std::printf("uuid=%s\n", uuid_text(report.superblock.uuid).c_str());
    std::printf("encrypted=%s\n", report.encrypted ? "true" : "false");
    std::printf("signed=%s\n", sig.is_signed() ? "true" : "false");
    std::printf("signature_checked=%s\n", report.signature_checked ? "true" : "false");
    std::printf("signature_valid=%s\n", report.signature_valid ? "true" : "false");
    if (sig.is_signed() && !report.signature_checked)
        std::printf("signature not checked: give --pubkey\n");
    if (report.signature_problem)
        std::printf("signature invalid: %s\n", report.signature_problem->c_str());
    if (report.verified)
        std::printf("verity=%s\n", *report.verified ? "ok" : "bad");
}

void print_json(const FssigReport& report) {
    const image::Fssig& sig = report.fssig;
    nlohmann::ordered_json out;
    out["magic"] = "0xf55198a153624d38";
    out["version"] = sig.version;
    out["hash_offset"] = sig.hash_offset;
    out["root_hash"] = to_hex(sig.root_hash);
    out["signer"] = sig.is_signed() ? nlohmann::ordered_json(to_hex(sig.signer)) : nullptr;
    out["signature_size"] = sig.signature.size();
    out["data_blocks"] = report.superblock.data_blocks;
    out["salt"] = to_hex(report.superblock.salt);
    out["uuid"] = uuid_text(report.superblock.uuid);
    out["encrypted"] = report.encrypted;
    out["signed"] = sig.is_signed();
    out["signature_checked"] = report.signature_checked;
    out["signature_valid"] = report.signature_valid;
    if (report.signature_problem)
        out["signature_problem"] = *report.signature_problem;
    if (report.verified) {
        out["verified"] = *report.verified;
        if (!*report.verified)
            out["verify_error"] = report.verify_error;
    }
    std::cout << out.dump(2) << "\n";
}

int run_fssig(const FssigOptions& options) {
    auto report = inspect(options);
    if (report.is_error()) {
        // A key-file error already names the key file.
        const Error& error = report.error();
        if (!options.pubkey.empty() && error.message().starts_with(options.pubkey + ": "))
            return report_failure("fssig", error);
        return report_failure("fssig", in_file(error, options.image));
    }
    const FssigReport& r = report.value();
    if (options.roothash_only)
        std::printf("%s\n", to_hex(r.fssig.root_hash).c_str());
    else if (options.json)
        print_json(r);
    else
        print_text(r);
    std::fflush(stdout);

    int status = 0;
    if (r.verified && !*r.verified)
        status = report_failure("fssig", Error(EIO, options.image + ": " + r.verify_error));
    if (r.signature_problem)
        status = report_failure(
            "fssig", Error(EINVAL, options.image + ": signature invalid: " + *r.signature_problem));
    return status;
}

}  // namespace

Command add_fssig_command(CLI::App& parent) {
    auto options = std::make_shared<FssigOptions>();
    CLI::App* app = parent.add_subcommand(
        "fssig", "Show the signature trailer (fssig) and verity superblock of an ext2 image");
    app->footer(
        "Without --pubkey a signature is reported but not checked: the trailer holds only the "
        "hash of the signing key. With --pubkey the exit status is 1 unless the image is signed "
        "by that key and the signature is valid; with --verify it is 1 if the hash tree does not "
        "match the data.\n");
    auto* roothash =
        app->add_flag("--roothash", options->roothash_only, "Print only the root hash, in hex");
    auto* json = app->add_flag("--json", options->json, "Print one JSON object");
    roothash->excludes(json);
    app->add_option("--pubkey", options->pubkey,
                    "PEM RSA public key of the expected signer: check the signature");
    app->add_flag("--verify", options->verify,
                  "Also recompute the whole hash tree and compare it with the image");
    app->add_option("image", options->image, "Image made by `myst mkext2`")->required();
    return {app, [options] { return run_fssig(*options); }};
}

}  // namespace myst::tools

// Images for the block-stack tests: built in the test with the project's
// own writers (ext2, verity, fssig, LUKS1) exactly as `myst mkext2` lays
// them out, plus helpers to tamper with them and read them back.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstring>
#include <map>
#include <random>
#include <thread>

#include "base/endian.h"
#include "base/hex.h"
#include "blk/host_file_device.h"
#include "blk/image_device.h"
#include "blk/verity_device.h"
#include "image/ext2_writer.h"
#include "image/fssig.h"
#include "image/luks1.h"
#include "image/verity.h"
#include "image/xts_volume.h"
#include "target/linux_target.h"
#include "tests/unit/test_support.h"

namespace myst::blk::image_test {

using namespace myst::image;

inline constexpr uint64_t bs = 4096;
inline constexpr uint64_t mib = 1 << 20;
inline constexpr uint64_t luks_payload = uint64_t(luks1_payload_offset_sectors) * 512;

inline TreeNode make_file(std::string name, std::vector<uint8_t> bytes) {
    TreeNode node;
    node.name = std::move(name);
    node.type = NodeType::regular;
    node.size = bytes.size();
    node.content = std::make_shared<MemoryContent>(std::move(bytes));
    return node;
}

inline TreeNode sample_tree() {
    TreeNode root;
    root.type = NodeType::directory;
    root.permissions = 0755;
    std::string hello = "hello from an ext2 image\n";
    root.children.push_back(make_file("big.bin", test::random_bytes(3 * mib + 123, 21)));
    root.children.push_back(make_file("hello.txt", {hello.begin(), hello.end()}));
    return root;
}

struct ImageSpec {
    uint64_t ext2_size = 8 * mib;
    std::optional<std::vector<uint8_t>> key;  // encrypt with it
    const RsaPrivateKey* signer = nullptr;
    std::vector<uint8_t> raw_data;  // instead of an ext2 (the speed image)
};

struct BuiltImage {
    std::string path;
    std::vector<uint8_t> plaintext;  // what the device must read
    std::vector<uint8_t> bytes;      // the image file
    VerityLayout layout;
    Sha256Digest root_hash{};
    uint64_t payload_block = 0;  // image block of plaintext block 0
};

// [EXT2 | HASH TREE | FSSIG] or [LUKS1 | ENCRYPTED EXT2 | HASH TREE | FSSIG],
// as tools/myst/cmd_mkext2.cpp builds them.
inline BuiltImage build_image(const ImageSpec& spec, const std::string& path) {
    BuiltImage built;
    built.path = path;
    if (spec.raw_data.empty()) {
        MemoryFile plain;
        Ext2BuildOptions options;
        options.size_bytes = spec.ext2_size;
        auto summary = write_ext2(sample_tree(), plain, options);
        EXPECT_FALSE(summary.is_error()) << summary.error().message();
        built.plaintext = plain.bytes();
        built.plaintext.resize(spec.ext2_size);
    } else {
        built.plaintext = spec.raw_data;
    }
    MemoryFile file;
    uint64_t hash_offset = built.plaintext.size();
    if (spec.key) {
        Luks1Options luks;
        luks.mk_digest_iterations = 1000;
        auto header = build_luks1_header_area(*spec.key, luks);
        EXPECT_FALSE(header.is_error());
        EXPECT_FALSE(file.write_at(0, header.value()).is_error());
        XtsVolumeFile volume(file, luks_payload,
                             XtsSectorCipher::create(*spec.key).release_value());
        EXPECT_FALSE(volume.write_at(0, built.plaintext).is_error());
        hash_offset += luks_payload;
        built.payload_block = luks_payload / bs;
    } else {
        EXPECT_FALSE(file.write_at(0, built.plaintext).is_error());
    }
    VerityBuildOptions verity;
    verity.salt = std::vector<uint8_t>(32, 0x5a);
    auto tree = build_verity(file, hash_offset, hash_offset / bs, verity);
    EXPECT_FALSE(tree.is_error()) << tree.error().message();
    built.root_hash = tree.value().root_hash;
    built.layout = VerityLayout::compute(hash_offset, hash_offset / bs);
    Fssig fssig;
    fssig.hash_offset = hash_offset;
    fssig.root_hash = built.root_hash;
    if (spec.signer) {
        fssig.signer = spec.signer->signer_id();
        fssig.signature = spec.signer->sign(built.root_hash).release_value();
    }
    EXPECT_FALSE(file.write_at(tree.value().end_offset, fssig.serialize()).is_error());
    built.bytes = file.bytes();
    test::write_file(path, built.bytes);
    return built;
}

inline ImageTrust own_fssig() {
    ImageTrust trust;
    trust.trust_image_fssig = true;
    return trust;
}

// Collects the diagnostic lines of one opened image.
struct Lines {
    std::vector<std::string> lines;
    DiagnosticSink sink() {
        return [this](std::string_view line) { lines.emplace_back(line); };
    }
};

inline bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// Which single-block reads of the device fail (EIO), in order.
inline std::vector<uint64_t> failing_blocks(BlockDevice& device,
                                            const std::vector<uint8_t>& plaintext) {
    std::vector<uint64_t> failing;
    std::vector<uint8_t> block(bs);
    for (uint64_t b = 0; b < device.block_count(); ++b) {
        auto result = device.read_blocks(b, block);
        if (result.is_error()) {
            EXPECT_EQ(result.error().code(), EIO);
            EXPECT_TRUE(is_all_zero(block)) << "unverified bytes left in the buffer";
            failing.push_back(b);
        } else if (std::memcmp(block.data(), plaintext.data() + b * bs, bs) != 0) {
            ADD_FAILURE() << "block " << b << " read wrong data";
        }
    }
    return failing;
}

class KeyFiles {
public:
    // An RSA key pair made by openssl; empty error when it worked.
    std::string make(const std::string& name) {
        std::string pem = m_dir.path(name + ".pem");
        std::string pub = m_dir.path(name + "-pub.pem");
        auto made = test::run_command("openssl genrsa -out '" + pem + "' 2048");
        auto out = test::run_command("openssl pkey -in '" + pem + "' -pubout -out '" + pub + "'");
        if (made.status != 0 || out.status != 0)
            return made.output + out.output;
        m_private[name] = RsaPrivateKey::from_pem(test::read_file(pem), pem).release_value();
        m_public[name] = RsaPublicKey::from_pem(test::read_file(pub), pub).release_value();
        return {};
    }
    const RsaPrivateKey& private_key(const std::string& name) { return m_private.at(name); }
    const RsaPublicKey& public_key(const std::string& name) { return m_public.at(name); }

private:
    test::TempDir m_dir;
    std::map<std::string, RsaPrivateKey> m_private;
    std::map<std::string, RsaPublicKey> m_public;
};

inline void flip_byte(const std::string& path, uint64_t offset) {
    auto bytes = test::read_file(path);
    bytes.at(offset) ^= 0x40;
    test::write_file(path, bytes);
}

}  // namespace myst::blk::image_test

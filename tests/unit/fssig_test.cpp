#include "image/fssig.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "base/endian.h"
#include "base/hex.h"
#include "image/signature.h"
#include "image/verity.h"
#include "tests/unit/test_support.h"
#include "tools/myst/command.h"

using namespace myst;
using namespace myst::image;

namespace {

Fssig sample_fssig() {
    Fssig sig;
    sig.hash_offset = 0x0123456789abcdefULL;
    for (size_t i = 0; i < 32; ++i) {
        sig.root_hash[i] = static_cast<uint8_t>(i + 1);
        sig.signer[i] = static_cast<uint8_t>(0x80 + i);
    }
    sig.signature = test::random_bytes(256, 3);
    return sig;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// Keys made by `openssl`, each once per test process and only when a test
// asks for it: CTest runs every test in its own process, and generating the
// 8192-bit key is the slow part.
struct KeyPair {
    std::string private_pem;  // paths
    std::string public_pem;
    std::string rsa_public_pem;  // "RSA PUBLIC KEY" form
    std::string error;           // openssl's output when generation failed
};

class Keys {
public:
    static Keys& get() {
        static Keys keys;
        return keys;
    }
    const test::TempDir& dir() const { return m_dir; }
    const KeyPair& pair(const std::string& name) {
        auto found = m_pairs.find(name);
        if (found == m_pairs.end())
            found = m_pairs.emplace(name, make(name)).first;
        return found->second;
    }

private:
    KeyPair make(const std::string& name) {
        KeyPair pair{m_dir.path(name + ".pem"),
                     m_dir.path(name + "-pub.pem"),
                     m_dir.path(name + "-rsapub.pem"),
                     {}};
        std::string out = "'" + pair.private_pem + "'";
        std::string command = "openssl genrsa -out " + out + " 2048";
        if (name == "rsa8192")  // five primes: seconds instead of tens of seconds
            command = "openssl genrsa -primes 5 -out " + out + " 8192";
        else if (name == "ec")
            command = "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + out;
        auto made = test::run_command(command);
        auto pub = test::run_command("openssl pkey -in " + out + " -pubout -out '" +
                                     pair.public_pem + "'");
        if (made.status != 0 || pub.status != 0)
            pair.error = name + ": " + made.output + pub.output;
        if (name != "ec" && pair.error.empty()) {
            auto rsa = test::run_command("openssl rsa -in " + out + " -RSAPublicKey_out -out '" +
                                         pair.rsa_public_pem + "'");
            if (rsa.status != 0)
                pair.error = name + ": " + rsa.output;
        }
        return pair;
    }
    test::TempDir m_dir;
    std::map<std::string, KeyPair> m_pairs;
};

// The generated key pair, or a test failure.
#define KEY_PAIR(var, name)                      \
    const KeyPair& var = Keys::get().pair(name); \
    ASSERT_EQ(var.error, "") << "key generation failed"

Result<RsaPublicKey> load_public(const std::string& path) {
    return RsaPublicKey::from_pem(test::read_file(path), path);
}

Result<RsaPrivateKey> load_private(const std::string& path) {
    return RsaPrivateKey::from_pem(test::read_file(path), path);
}

// A public key with an arbitrary odd modulus of `bits` bits: enough to test
// size limits without generating primes.
std::vector<uint8_t> public_pem_with_modulus_bits(int bits) {
    std::vector<uint8_t> pem;
    BIGNUM* n = BN_new();
    BIGNUM* e = BN_new();
    BN_rand(n, bits, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ODD);
    BN_set_word(e, 65537);
    OSSL_PARAM_BLD* build = OSSL_PARAM_BLD_new();
    OSSL_PARAM_BLD_push_BN(build, OSSL_PKEY_PARAM_RSA_N, n);
    OSSL_PARAM_BLD_push_BN(build, OSSL_PKEY_PARAM_RSA_E, e);
    OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(build);
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
    EVP_PKEY* key = nullptr;
    if (EVP_PKEY_fromdata_init(ctx) > 0 &&
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) > 0) {
        BIO* bio = BIO_new(BIO_s_mem());
        PEM_write_bio_PUBKEY(bio, key);
        char* data = nullptr;
        long size = BIO_get_mem_data(bio, &data);
        pem.assign(data, data + size);
        BIO_free(bio);
    }
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(build);
    BN_free(n);
    BN_free(e);
    return pem;
}

}  // namespace

TEST(Fssig, FieldsAtMystikosOffsets) {
    Fssig sig = sample_fssig();
    auto bytes = sig.serialize();
    EXPECT_EQ(load_le<uint64_t>(bytes.data()), 0xf55198a153624d38ULL);
    EXPECT_EQ(bytes[0], 0x38);  // little-endian
    EXPECT_EQ(load_le<uint64_t>(bytes.data() + 8), 1u);
    EXPECT_EQ(load_le<uint64_t>(bytes.data() + 16), 0x0123456789abcdefULL);
    EXPECT_EQ(bytes[24], 1);
    EXPECT_EQ(bytes[55], 32);
    EXPECT_EQ(bytes[56], 0x80);
    EXPECT_EQ(bytes[87], 0x80 + 31);
    EXPECT_TRUE(std::equal(sig.signature.begin(), sig.signature.end(), bytes.begin() + 88));
    EXPECT_TRUE(is_all_zero(std::span(bytes).subspan(88 + 256, 1024 - 256)));
    EXPECT_EQ(load_le<uint64_t>(bytes.data() + 1112), 256u);
    EXPECT_TRUE(is_all_zero(std::span(bytes).subspan(1120)));
}

TEST(Fssig, RoundTrip) {
    Fssig sig = sample_fssig();
    auto parsed = Fssig::parse(sig.serialize());
    ASSERT_FALSE(parsed.is_error()) << parsed.error().message();
    EXPECT_EQ(parsed.value().version, 1u);
    EXPECT_EQ(parsed.value().hash_offset, sig.hash_offset);
    EXPECT_EQ(parsed.value().root_hash, sig.root_hash);
    EXPECT_EQ(parsed.value().signer, sig.signer);
    EXPECT_EQ(parsed.value().signature, sig.signature);
    EXPECT_TRUE(parsed.value().is_signed());

    Fssig unsigned_sig;
    unsigned_sig.hash_offset = 4096;
    auto parsed_unsigned = Fssig::parse(unsigned_sig.serialize());
    ASSERT_FALSE(parsed_unsigned.is_error());
    EXPECT_FALSE(parsed_unsigned.value().is_signed());
}

TEST(Fssig, ParseRejectsBadTrailers) {
    auto good = sample_fssig().serialize();
    auto bad_magic = good;
    bad_magic[3] ^= 1;
    auto magic = Fssig::parse(bad_magic);
    ASSERT_TRUE(magic.is_error());
    EXPECT_EQ(magic.error().message(), "no fssig trailer: not an image made by myst mkext2");

    auto bad_version = good;
    store_le<uint64_t>(bad_version.data() + 8, 2);
    auto version = Fssig::parse(bad_version);
    ASSERT_TRUE(version.is_error());
    EXPECT_TRUE(contains(version.error().message(), "version 2"));

    auto big_signature = good;
    store_le<uint64_t>(big_signature.data() + 1112, 1025);
    auto size = Fssig::parse(big_signature);
    ASSERT_TRUE(size.is_error());
    EXPECT_TRUE(contains(size.error().message(), "1025"));
    store_le<uint64_t>(big_signature.data() + 1112, 1024);
    EXPECT_FALSE(Fssig::parse(big_signature).is_error());

    EXPECT_TRUE(Fssig::parse(std::span(good).first(4095)).is_error());
}

TEST(Fssig, ReadFromTheEndOfAnImage) {
    Fssig sig = sample_fssig();
    sig.hash_offset = 8192;
    std::vector<uint8_t> image = test::random_bytes(3 * 4096, 1);
    auto trailer = sig.serialize();
    image.insert(image.end(), trailer.begin(), trailer.end());
    MemoryFile file(image);
    auto read = read_fssig(file);
    ASSERT_FALSE(read.is_error()) << read.error().message();
    EXPECT_EQ(read.value().root_hash, sig.root_hash);
    EXPECT_EQ(read.value().hash_offset, 8192u);
}

TEST(Fssig, ReadRejectsWhatIsNotAnFssigImage) {
    MemoryFile small(std::vector<uint8_t>(4095));
    auto short_file = read_fssig(small);
    ASSERT_TRUE(short_file.is_error());
    EXPECT_TRUE(contains(short_file.error().message(), "4095 bytes"));

    MemoryFile random(test::random_bytes(8192, 2));
    auto not_fssig = read_fssig(random);
    ASSERT_TRUE(not_fssig.is_error());
    EXPECT_EQ(not_fssig.error().message(), "no fssig trailer: not an image made by myst mkext2");

    // The superblock would lie in the trailer itself.
    Fssig sig;
    sig.hash_offset = 4096;
    std::vector<uint8_t> image(2 * 4096);
    auto trailer = sig.serialize();
    std::copy(trailer.begin(), trailer.end(), image.begin() + 4096);
    MemoryFile beyond(image);
    auto offset = read_fssig(beyond);
    ASSERT_TRUE(offset.is_error());
    EXPECT_TRUE(contains(offset.error().message(), "hash offset 4096"));
}

namespace {

// Signs a root hash with the key and checks it both ways against openssl.
void check_sign_and_verify(const KeyPair& keys, size_t signature_size) {
    auto private_key = load_private(keys.private_pem);
    ASSERT_FALSE(private_key.is_error()) << private_key.error().message();
    auto public_key = load_public(keys.public_pem);
    ASSERT_FALSE(public_key.is_error()) << public_key.error().message();

    Sha256Digest root = Sha256::digest(test::random_bytes(100, 4));
    auto signature = private_key.value().sign(root);
    ASSERT_FALSE(signature.is_error()) << signature.error().message();
    EXPECT_EQ(signature.value().size(), signature_size);
    EXPECT_TRUE(public_key.value().verify(root, signature.value()).value());

    // openssl accepts ours, and signs the same bytes (PKCS#1 v1.5 is
    // deterministic).
    const test::TempDir& dir = Keys::get().dir();
    test::write_file(dir.path("root.bin"), root);
    test::write_file(dir.path("sig.bin"), signature.value());
    auto check = test::run_command("openssl pkeyutl -verify -pubin -inkey '" + keys.public_pem +
                                   "' -pkeyopt digest:sha256 -in " + dir.file("root.bin") +
                                   " -sigfile " + dir.file("sig.bin"));
    EXPECT_EQ(check.status, 0) << check.output;
    auto theirs = test::run_command("openssl pkeyutl -sign -inkey '" + keys.private_pem +
                                    "' -pkeyopt digest:sha256 -in " + dir.file("root.bin") +
                                    " -out " + dir.file("their-sig.bin"));
    ASSERT_EQ(theirs.status, 0) << theirs.output;
    EXPECT_TRUE(test::read_file(dir.path("their-sig.bin")) == signature.value());

    // Any change to the hash or the signature is refused.
    Sha256Digest other_root = root;
    other_root[31] ^= 1;
    EXPECT_FALSE(public_key.value().verify(other_root, signature.value()).value());
    auto tampered = signature.value();
    tampered[10] ^= 4;
    EXPECT_FALSE(public_key.value().verify(root, tampered).value());
    tampered.pop_back();
    EXPECT_FALSE(public_key.value().verify(root, tampered).value());
    EXPECT_FALSE(public_key.value().verify(root, {}).value());
}

// The signer id is sha256 of the modulus bytes `openssl rsa -modulus` prints.
void check_signer_id(const KeyPair& keys) {
    auto modulus =
        test::run_command("openssl rsa -pubin -in '" + keys.public_pem + "' -noout -modulus");
    ASSERT_EQ(modulus.status, 0) << modulus.output;
    ASSERT_TRUE(modulus.output.starts_with("Modulus="));
    std::string hex = modulus.output.substr(8);
    while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r'))
        hex.pop_back();
    auto bytes = from_hex(hex);
    ASSERT_FALSE(bytes.is_error()) << bytes.error().message();
    Sha256Digest expected = Sha256::digest(bytes.value());

    auto public_key = load_public(keys.public_pem);
    ASSERT_FALSE(public_key.is_error());
    EXPECT_EQ(public_key.value().signer_id(), expected);
    auto private_key = load_private(keys.private_pem);
    ASSERT_FALSE(private_key.is_error());
    EXPECT_EQ(private_key.value().signer_id(), expected);
    // The PKCS#1 "RSA PUBLIC KEY" form is the same key.
    auto rsa_public = load_public(keys.rsa_public_pem);
    ASSERT_FALSE(rsa_public.is_error()) << rsa_public.error().message();
    EXPECT_EQ(rsa_public.value().signer_id(), expected);
}

}  // namespace

TEST(Signature, Rsa2048SignAndVerifyMatchOpenssl) {
    KEY_PAIR(keys, "rsa2048");
    check_sign_and_verify(keys, 256);
}

TEST(Signature, Rsa2048SignerIdIsTheModulusHash) {
    KEY_PAIR(keys, "rsa2048");
    check_signer_id(keys);
}

// The largest key: its 1024-byte signature fills the fssig's signature field.
TEST(Signature, Rsa8192) {
    KEY_PAIR(keys, "rsa8192");
    check_sign_and_verify(keys, 1024);
    check_signer_id(keys);
}

TEST(Signature, WrongKeyFails) {
    KEY_PAIR(keys, "rsa2048");
    KEY_PAIR(other_keys, "other2048");
    auto private_key = load_private(keys.private_pem);
    auto other = load_public(other_keys.public_pem);
    ASSERT_FALSE(private_key.is_error());
    ASSERT_FALSE(other.is_error());
    Sha256Digest root = Sha256::digest(test::random_bytes(10, 5));
    auto signature = private_key.value().sign(root);
    ASSERT_FALSE(signature.is_error());
    EXPECT_FALSE(other.value().verify(root, signature.value()).value());
    EXPECT_NE(other.value().signer_id(), private_key.value().signer_id());
}

TEST(Signature, RejectsEcKeys) {
    KEY_PAIR(keys, "ec");
    auto private_key = load_private(keys.private_pem);
    ASSERT_TRUE(private_key.is_error());
    EXPECT_TRUE(contains(private_key.error().message(), keys.private_pem + ": a EC key"))
        << private_key.error().message();
    auto public_key = load_public(keys.public_pem);
    ASSERT_TRUE(public_key.is_error());
    EXPECT_TRUE(contains(public_key.error().message(), "only RSA")) << public_key.error().message();
}

TEST(Signature, RejectsGarbageAndOversizedKeys) {
    std::string garbage =
        "-----BEGIN PUBLIC KEY-----\nnot base64 at all\n-----END PUBLIC KEY-----\n";
    auto bad_public = RsaPublicKey::from_pem(
        std::span(reinterpret_cast<const uint8_t*>(garbage.data()), garbage.size()), "bad.pem");
    ASSERT_TRUE(bad_public.is_error());
    EXPECT_TRUE(bad_public.error().message().starts_with("bad.pem: not a PEM public key"));
    auto bad_private = RsaPrivateKey::from_pem(test::random_bytes(500, 6), "random.pem");
    ASSERT_TRUE(bad_private.is_error());
    EXPECT_TRUE(bad_private.error().message().starts_with("random.pem: not a PEM private key"));
    auto empty = RsaPublicKey::from_pem({}, "empty.pem");
    ASSERT_TRUE(empty.is_error());

    // A private key where the public one belongs.
    KEY_PAIR(keys, "rsa2048");
    auto swapped = RsaPublicKey::from_pem(test::read_file(keys.private_pem), "key.pem");
    ASSERT_TRUE(swapped.is_error());
    EXPECT_TRUE(contains(swapped.error().message(), "private key"));

    auto limit = public_pem_with_modulus_bits(8192);
    ASSERT_FALSE(limit.empty());
    EXPECT_FALSE(RsaPublicKey::from_pem(limit, "8192.pem").is_error());
    auto too_big = public_pem_with_modulus_bits(8200);
    ASSERT_FALSE(too_big.empty());
    auto big = RsaPublicKey::from_pem(too_big, "big.pem");
    ASSERT_TRUE(big.is_error());
    EXPECT_TRUE(contains(big.error().message(), "big.pem: a 8200-bit RSA key"))
        << big.error().message();
}

TEST(Signature, RejectsEncryptedPrivateKeys) {
    KEY_PAIR(keys, "rsa2048");
    const test::TempDir& dir = Keys::get().dir();
    auto made =
        test::run_command("openssl rsa -in '" + keys.private_pem +
                          "' -aes256 -passout pass:secret -out " + dir.file("encrypted.pem"));
    ASSERT_EQ(made.status, 0) << made.output;
    auto key = load_private(dir.path("encrypted.pem"));
    ASSERT_TRUE(key.is_error());
    EXPECT_TRUE(contains(key.error().message(), "encrypted")) << key.error().message();
}

// `myst fssig` through its CLI11 subcommand, on images built here.
namespace {

struct CommandOutput {
    int status;
    std::string out;
    std::string err;
};

CommandOutput run_fssig(std::vector<std::string> args) {
    CLI::App app;
    tools::Command command = tools::add_fssig_command(app);
    args.insert(args.begin(), "fssig");
    std::reverse(args.begin(), args.end());  // CLI11 takes them last first
    app.parse(args);
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    int status = command.run();
    return {status, testing::internal::GetCapturedStdout(), testing::internal::GetCapturedStderr()};
}

// Data blocks, a verity tree and an fssig trailer, signed with `key` if given.
std::string make_image(const test::TempDir& dir, const std::string& name, uint64_t blocks,
                       const std::string& key, bool luks = false) {
    MemoryFile file(test::random_bytes(blocks * 4096, 8));
    if (luks)
        std::memcpy(file.bytes().data(), "LUKS\xba\xbe", 6);
    auto built = build_verity(file, blocks * 4096, blocks, {});
    EXPECT_FALSE(built.is_error());
    Fssig sig;
    sig.hash_offset = blocks * 4096;
    sig.root_hash = built.value().root_hash;
    if (!key.empty()) {
        auto private_key = load_private(key);
        EXPECT_FALSE(private_key.is_error());
        sig.signer = private_key.value().signer_id();
        sig.signature = private_key.value().sign(sig.root_hash).value();
    }
    auto trailer = sig.serialize();
    EXPECT_FALSE(file.write_at(built.value().end_offset, trailer).is_error());
    test::write_file(dir.path(name), file.bytes());
    return dir.path(name);
}

}  // namespace

TEST(FssigCommand, UnsignedImage) {
    test::TempDir dir;
    std::string image = make_image(dir, "plain.img", 300, "");
    auto out = run_fssig({image});
    EXPECT_EQ(out.status, 0) << out.err;
    EXPECT_TRUE(contains(out.out, "hash_offset=1228800\n"));
    EXPECT_TRUE(contains(out.out, "data_blocks=300\n"));
    EXPECT_TRUE(contains(out.out, "signer=null\n"));
    EXPECT_TRUE(contains(out.out, "signed=false\n"));
    EXPECT_TRUE(contains(out.out, "encrypted=false\n"));

    auto roothash = run_fssig({"--roothash", image});
    EXPECT_EQ(roothash.status, 0);
    EXPECT_EQ(roothash.out.size(), 65u);
    EXPECT_TRUE(contains(out.out, "root_hash=" + roothash.out));

    auto json = run_fssig({"--json", "--verify", image});
    EXPECT_EQ(json.status, 0) << json.err;
    auto parsed = nlohmann::json::parse(json.out);
    EXPECT_EQ(parsed["hash_offset"], 1228800);
    EXPECT_EQ(parsed["data_blocks"], 300);
    EXPECT_EQ(parsed["signed"], false);
    EXPECT_EQ(parsed["signature_valid"], false);
    EXPECT_EQ(parsed["signature_checked"], false);
    EXPECT_EQ(parsed["verified"], true);
    EXPECT_EQ(parsed["root_hash"].get<std::string>() + "\n", roothash.out);
    EXPECT_EQ(parsed["salt"].get<std::string>().size(), 64u);

    std::string luks = make_image(dir, "luks.img", 10, "", true);
    EXPECT_TRUE(contains(run_fssig({luks}).out, "encrypted=true\n"));
}

TEST(FssigCommand, SignedImage) {
    test::TempDir dir;
    KEY_PAIR(keys, "rsa2048");
    std::string image = make_image(dir, "signed.img", 50, keys.private_pem);

    auto unchecked = run_fssig({image});
    EXPECT_EQ(unchecked.status, 0);
    EXPECT_TRUE(contains(unchecked.out, "signature not checked: give --pubkey\n"));
    EXPECT_TRUE(contains(unchecked.out,
                         "signed=true\nsignature_checked=false\n"
                         "signature_valid=false\n"));

    auto checked = run_fssig({"--json", "--pubkey", keys.public_pem, image});
    EXPECT_EQ(checked.status, 0) << checked.err;
    auto parsed = nlohmann::json::parse(checked.out);
    EXPECT_EQ(parsed["signed"], true);
    EXPECT_EQ(parsed["signature_checked"], true);
    EXPECT_EQ(parsed["signature_valid"], true);
    EXPECT_EQ(parsed["signature_size"], 256);
    EXPECT_EQ(parsed["signer"], to_hex(load_public(keys.public_pem).value().signer_id()));

    KEY_PAIR(other_keys, "other2048");
    auto other = run_fssig({"--json", "--pubkey", other_keys.public_pem, image});
    EXPECT_EQ(other.status, 1);
    EXPECT_EQ(nlohmann::json::parse(other.out)["signature_valid"], false);
    EXPECT_TRUE(contains(other.err, "signed by another key")) << other.err;

    // Right signer, wrong signature: corrupt one signature byte in place.
    auto bytes = test::read_file(image);
    bytes[bytes.size() - 4096 + 88 + 5] ^= 1;
    test::write_file(image, bytes);
    auto forged = run_fssig({"--pubkey", keys.public_pem, image});
    EXPECT_EQ(forged.status, 1);
    EXPECT_TRUE(contains(forged.out, "signature_valid=false\n"));
    EXPECT_TRUE(contains(forged.err, "does not match the root hash")) << forged.err;
}

TEST(FssigCommand, VerifyFindsCorruption) {
    test::TempDir dir;
    std::string image = make_image(dir, "corrupt.img", 300, "");
    auto bytes = test::read_file(image);
    bytes[200 * 4096 + 1] ^= 0xff;
    test::write_file(image, bytes);
    auto out = run_fssig({"--verify", image});
    EXPECT_EQ(out.status, 1);
    EXPECT_TRUE(contains(out.out, "verity=bad\n"));
    EXPECT_EQ(out.err, "myst fssig: " + image +
                           ": verity: data block 200 does not match its hash "
                           "in tree level 0\n");
    EXPECT_EQ(run_fssig({image}).status, 0);  // without --verify only the trailer is read
}

TEST(FssigCommand, BadInputs) {
    test::TempDir dir;
    test::write_file(dir.path("random.bin"), test::random_bytes(8192, 9));
    auto random = run_fssig({dir.path("random.bin")});
    EXPECT_EQ(random.status, 1);
    EXPECT_EQ(random.out, "");
    EXPECT_EQ(random.err, "myst fssig: " + dir.path("random.bin") +
                              ": no fssig trailer: not an image made by myst mkext2\n");

    auto missing = run_fssig({dir.path("missing.img")});
    EXPECT_EQ(missing.status, 1);
    EXPECT_EQ(missing.err,
              "myst fssig: " + dir.path("missing.img") + ": No such file or directory\n");

    std::string image = make_image(dir, "plain.img", 5, "");
    test::write_file(dir.path("bad.pem"), std::string("garbage\n"));
    auto pem = run_fssig({"--pubkey", dir.path("bad.pem"), image});
    EXPECT_EQ(pem.status, 1);
    EXPECT_TRUE(
        pem.err.starts_with("myst fssig: " + dir.path("bad.pem") + ": not a PEM public key"))
        << pem.err;
    EXPECT_EQ(std::count(pem.err.begin(), pem.err.end(), '\n'), 1);

    // A trailer pointing at something that is not a verity superblock.
    auto bytes = test::read_file(image);
    store_le<uint64_t>(bytes.data() + bytes.size() - 4096 + 16, 4096);
    test::write_file(image, bytes);
    auto superblock = run_fssig({image});
    EXPECT_EQ(superblock.status, 1);
    EXPECT_TRUE(contains(superblock.err, "verity superblock")) << superblock.err;
}

#include "image/package.h"

#include <gtest/gtest.h>

#include <cstring>

#include "base/endian.h"
#include "image/signature.h"
#include "tests/unit/test_support.h"
#include "tools/myst/app_config.h"

using namespace myst;
using namespace myst::image;

namespace {

Measurement sample_measurement() {
    Measurement m;
    m.target = PackageTarget::linux_process;
    m.runtime_size = 123456;
    m.rootfs_type = RootfsType::cpio;
    m.rootfs_size = 4096;
    m.config_size = 40;
    for (size_t i = 0; i < 32; i++) {
        m.runtime[i] = uint8_t(i);
        m.rootfs[i] = uint8_t(0x40 + i);
        m.config[i] = uint8_t(0x80 + i);
    }
    return m;
}

// A 2048-bit key made once per test process by openssl, the checker.
const RsaPrivateKey& test_key() {
    static test::TempDir dir;
    static RsaPrivateKey key = [] {
        auto made = test::run_command("openssl genrsa -out " + dir.file("key.pem") + " 2048");
        EXPECT_EQ(made.status, 0) << made.output;
        auto pem = test::read_file(dir.path("key.pem"));
        return RsaPrivateKey::from_pem(pem, "key.pem").release_value();
    }();
    return key;
}

// The smallest ELF image elf_file_end accepts: a header and no tables.
std::vector<uint8_t> tiny_elf() {
    std::vector<uint8_t> elf(64);
    std::memcpy(elf.data(),
                "\x7f"
                "ELF",
                4);
    elf[4] = 2;                               // ELFCLASS64
    elf[5] = 1;                               // little-endian
    store_le<uint64_t>(elf.data() + 32, 64);  // e_phoff
    store_le<uint16_t>(elf.data() + 54, 56);  // e_phentsize
    store_le<uint16_t>(elf.data() + 58, 64);  // e_shentsize
    return elf;
}

// A whole package in memory, laid out as `myst package` lays it out.
std::vector<uint8_t> make_package(PackageTarget target = PackageTarget::linux_process) {
    std::vector<uint8_t> runtime = tiny_elf();
    std::vector<uint8_t> rootfs = test::random_bytes(1000, 7);
    std::string config = "{\"ApplicationPath\":\"/bin/hello\"}\n";
    Measurement m;
    m.target = target;
    m.runtime_size = runtime.size();
    m.runtime = Sha256::digest(runtime);
    m.rootfs_size = rootfs.size();
    m.rootfs = Sha256::digest(rootfs);
    m.config_size = config.size();
    m.config = Sha256::digest({reinterpret_cast<const uint8_t*>(config.data()), config.size()});
    SignedMeasurement block;
    block.record = m.record();
    block.public_key_pem = test_key().public_key_pem().release_value();
    block.signature = test_key().sign(m.digest()).release_value();
    std::vector<uint8_t> signature = block.serialize();

    PackageTrailer t;
    t.target = target;
    t.runtime_size = runtime.size();
    t.rootfs_offset = package_alignment;
    t.rootfs_size = rootfs.size();
    t.config_size = config.size();
    t.signature_size = signature.size();
    std::vector<uint8_t> file(t.file_size());
    std::copy(runtime.begin(), runtime.end(), file.begin());
    std::copy(rootfs.begin(), rootfs.end(), file.begin() + t.rootfs_offset);
    std::copy(config.begin(), config.end(), file.begin() + t.config_offset());
    std::copy(signature.begin(), signature.end(), file.begin() + t.signature_offset());
    auto trailer = t.serialize();
    std::copy(trailer.begin(), trailer.end(), file.end() - package_trailer_size);
    return file;
}

Result<VerifiedPackage> verify(std::vector<uint8_t> bytes) {
    return verify_package(std::make_shared<MemoryFile>(std::move(bytes)));
}

}  // namespace

TEST(MeasurementRecord, RoundTripsAndIsTheDigestsInput) {
    Measurement m = sample_measurement();
    std::string record = m.record();
    EXPECT_TRUE(record.starts_with("myst-measurement-v1\ntarget=linux\nruntime-size=123456\n"));
    auto parsed = Measurement::parse(record);
    ASSERT_FALSE(parsed.is_error()) << parsed.error().message();
    EXPECT_EQ(parsed.value().record(), record);
    EXPECT_EQ(m.digest(),
              Sha256::digest({reinterpret_cast<const uint8_t*>(record.data()), record.size()}));
}

TEST(MeasurementRecord, Ext2IsNamedByItsVerityRootHash) {
    Measurement m = sample_measurement();
    m.rootfs_type = RootfsType::ext2;
    m.target = PackageTarget::sgx_enclave;
    EXPECT_NE(m.record().find("\nrootfs-verity-root-hash="), std::string::npos);
    auto parsed = Measurement::parse(m.record());
    ASSERT_FALSE(parsed.is_error());
    EXPECT_EQ(parsed.value().target, PackageTarget::sgx_enclave);
    EXPECT_EQ(parsed.value().rootfs_type, RootfsType::ext2);
}

TEST(MeasurementRecord, OnlyTheCanonicalTextParses) {
    std::string record = sample_measurement().record();
    auto variant = [&](const std::string& from, const std::string& to) {
        std::string text = record;
        text.replace(text.find(from), from.size(), to);
        return Measurement::parse(text);
    };
    EXPECT_TRUE(variant("runtime-size=123456", "runtime-size=0123456").is_error());
    EXPECT_TRUE(variant("runtime-sha256=000102", "runtime-sha256=000A02").is_error());
    EXPECT_TRUE(variant("target=linux", "target=windows").is_error());
    EXPECT_TRUE(variant("rootfs-type=cpio", "rootfs-type=ext2").is_error());
    EXPECT_TRUE(Measurement::parse(record + "extra=1\n").is_error());
    EXPECT_TRUE(Measurement::parse(record.substr(0, record.size() - 1)).is_error());
}

TEST(PackageTrailer, RoundTripsAndChecksEveryField) {
    PackageTrailer t;
    t.target = PackageTarget::sgx_enclave;
    t.rootfs_type = RootfsType::ext2;
    t.runtime_size = 5000;
    t.rootfs_offset = 8192;
    t.rootfs_size = 1 << 20;
    t.config_size = 77;
    t.signature_size = 900;
    auto bytes = t.serialize();
    auto parsed = PackageTrailer::parse(bytes);
    ASSERT_FALSE(parsed.is_error()) << parsed.error().message();
    EXPECT_EQ(parsed.value().serialize(), bytes);
    EXPECT_EQ(parsed.value().file_size(), 8192u + (1 << 20) + 77 + 900 + 64);
    // Bytes whose change the trailer alone shows (the sizes are checked
    // against the file and the signed record).
    for (size_t at : {0, 5, 7, 8, 11, 12, 13, 14, 15, 24, 25, 56, 63}) {
        auto changed = bytes;
        changed[at] ^= 0x01;
        EXPECT_TRUE(PackageTrailer::parse(changed).is_error()) << "byte " << at;
    }
}

TEST(SignedMeasurement, SizesMustAddUp) {
    SignedMeasurement block;
    block.record = sample_measurement().record();
    block.public_key_pem = {'k', 'e', 'y'};
    block.signature = test::random_bytes(256, 1);
    auto bytes = block.serialize();
    auto parsed = SignedMeasurement::parse(bytes);
    ASSERT_FALSE(parsed.is_error());
    EXPECT_EQ(parsed.value().record, block.record);
    EXPECT_EQ(parsed.value().signature, block.signature);
    bytes.push_back(0);
    EXPECT_TRUE(SignedMeasurement::parse(bytes).is_error());
    bytes.pop_back();
    store_le<uint32_t>(bytes.data() + 8, 0xffffffff);
    EXPECT_TRUE(SignedMeasurement::parse(bytes).is_error());
}

TEST(ElfFileEnd, ReachesTheFurthestTable) {
    auto elf = tiny_elf();
    MemoryFile file(elf);
    EXPECT_EQ(elf_file_end(file).value(), 64u);
    EXPECT_FALSE(has_package_payload(file).value());
    file.bytes().push_back(0);
    EXPECT_TRUE(has_package_payload(file).value());
    MemoryFile text(std::vector<uint8_t>(100, 'x'));
    EXPECT_TRUE(elf_file_end(text).is_error());
}

TEST(VerifyPackage, AcceptsTheWholePackage) {
    auto package = verify(make_package());
    ASSERT_FALSE(package.is_error()) << package.error().message();
    EXPECT_EQ(package.value().verified.signer, test_key().signer_id());
    EXPECT_EQ(package.value().rootfs.size(), 1000u);
    EXPECT_EQ(std::string(package.value().config.begin(), package.value().config.end()),
              "{\"ApplicationPath\":\"/bin/hello\"}\n");
}

// The promise of the format: whatever byte changes, the check fails.
TEST(VerifyPackage, EveryFlippedByteIsCaught) {
    const auto good = make_package();
    for (size_t at = 0; at < good.size(); at++) {
        auto bad = good;
        bad[at] ^= 0x20;
        auto package = verify(std::move(bad));
        ASSERT_TRUE(package.is_error()) << "byte " << at << " of " << good.size();
        EXPECT_NE(package.error().message().find("check failed"), std::string::npos)
            << package.error().message();
    }
}

TEST(VerifyPackage, NamesThePartThatFailed) {
    auto package = make_package();
    PackageTrailer t = PackageTrailer::parse(std::span(package).last(package_trailer_size)).value();
    auto message_after_flip = [&](uint64_t at) {
        auto bad = package;
        bad[at] ^= 1;
        return verify(bad).error().message();
    };
    EXPECT_TRUE(message_after_flip(9).starts_with("runtime check failed"));
    EXPECT_TRUE(message_after_flip(100).starts_with("runtime check failed: the padding"));
    EXPECT_TRUE(message_after_flip(t.rootfs_offset + 3).starts_with("root file system check"));
    EXPECT_TRUE(message_after_flip(t.config_offset() + 3).starts_with("config check failed"));
    EXPECT_TRUE(message_after_flip(t.signature_offset() + 30).starts_with("signature check"));
    EXPECT_TRUE(message_after_flip(package.size() - 1).starts_with("trailer check failed"));
}

TEST(VerifyPackage, KeepsTheSgxMark) {
    auto package = make_package(PackageTarget::sgx_enclave);
    auto verified = verify(package);
    ASSERT_FALSE(verified.is_error());
    EXPECT_EQ(verified.value().trailer.target, PackageTarget::sgx_enclave);
}

TEST(CanonicalConfig, SortsKeysAndDropsSpacing) {
    auto a = tools::canonical_app_config(
        "{ \"ProductID\": 1,\n  \"ApplicationPath\": \"/bin/x\", \"Debug\": true }", "a.json");
    auto b = tools::canonical_app_config(
        "{\"Debug\":true,\"ApplicationPath\":\"/bin/x\",\"ProductID\":1}", "b.json");
    ASSERT_FALSE(a.is_error()) << a.error().message();
    ASSERT_FALSE(b.is_error());
    EXPECT_EQ(a.value(), b.value());
    EXPECT_EQ(a.value(), "{\"ApplicationPath\":\"/bin/x\",\"Debug\":true,\"ProductID\":1}\n");
}

TEST(CanonicalConfig, RejectsWhatTheParserRejects) {
    auto broken = tools::canonical_app_config("{\"ApplicationPath\": ", "c.json");
    ASSERT_TRUE(broken.is_error());
    EXPECT_TRUE(broken.error().message().starts_with("c.json: malformed JSON"));
    auto wrong = tools::canonical_app_config("{\"SecurityVersion\": -1}", "d.json");
    ASSERT_TRUE(wrong.is_error());
    EXPECT_TRUE(wrong.error().message().starts_with("d.json: SecurityVersion"));
}

TEST(AppConfig, ReadsTheSignedIdentity) {
    auto config = tools::parse_app_config(
        "{\"ProductID\": 7, \"SecurityVersion\": 65535, \"Debug\": 1}", "e.json");
    ASSERT_FALSE(config.is_error()) << config.error().message();
    EXPECT_EQ(config.value().product_id, 7);
    EXPECT_EQ(config.value().security_version, 65535);
    EXPECT_TRUE(config.value().debug);
    EXPECT_TRUE(tools::parse_app_config("{\"ProductID\": \"7\"}", "f.json").is_error());
    EXPECT_TRUE(tools::parse_app_config("{\"ProductID\": 65536}", "g.json").is_error());
}

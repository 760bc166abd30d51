// LUKS1 headers, checked against cryptsetup both ways: cryptsetup reads what
// we write (luksDump, volume-key dump, passphrase test) and we open what
// cryptsetup's luksFormat writes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "base/endian.h"
#include "base/hex.h"
#include "image/luks1.h"
#include "tests/unit/test_support.h"

using namespace myst;
using namespace myst::image;

namespace {

// luksFormat's minimum PBKDF2 count for LUKS1 (cryptsetup 2.6 reads any count
// >= 1); about a millisecond per derivation keeps the tests fast.
constexpr uint32_t test_iterations = 1000;

std::vector<uint8_t> test_master_key(uint32_t seed = 1) {
    return test::random_bytes(luks1_master_key_size, seed);
}

Luks1Options test_options(std::optional<std::string> passphrase) {
    Luks1Options options;
    options.passphrase = std::move(passphrase);
    options.mk_digest_iterations = test_iterations;
    options.key_slot_iterations = test_iterations;
    return options;
}

// The value after "name:" on the first line that starts with it, trimmed.
std::string dump_field(const std::string& dump, const std::string& name) {
    std::istringstream lines(dump);
    std::string line;
    while (std::getline(lines, line)) {
        size_t start = line.find_first_not_of(" \t");
        if (start == std::string::npos || line.compare(start, name.size() + 1, name + ":") != 0)
            continue;
        std::string value = line.substr(start + name.size() + 1);
        size_t first = value.find_first_not_of(" \t");
        size_t last = value.find_last_not_of(" \t");
        return first == std::string::npos ? "" : value.substr(first, last - first + 1);
    }
    return "<missing " + name + ">";
}

// "MK dump:" prints the key as spaced hex over several indented lines.
std::string dumped_master_key(const std::string& dump) {
    size_t at = dump.find("MK dump:");
    if (at == std::string::npos)
        return "<no MK dump>";
    std::string hex;
    std::istringstream lines(dump.substr(at + 8));
    std::string line;
    bool first = true;
    while (std::getline(lines, line)) {
        if (!first && (line.empty() || !std::isspace(static_cast<unsigned char>(line[0]))))
            break;
        first = false;
        for (char c : line)
            if (std::isxdigit(static_cast<unsigned char>(c)))
                hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return hex;
}

// Header area plus a few payload sectors encrypted with the master key.
void write_container(const std::string& path, std::span<const uint8_t> area,
                     std::span<const uint8_t> master_key) {
    std::vector<uint8_t> image(area.begin(), area.end());
    std::vector<uint8_t> payload(8 * luks1_sector_size, 0x42);
    auto cipher = XtsSectorCipher::create(master_key);
    ASSERT_FALSE(cipher.is_error()) << cipher.error().message();
    ASSERT_FALSE(cipher.value().encrypt(0, payload).is_error());
    image.insert(image.end(), payload.begin(), payload.end());
    test::write_file(path, image);
}

Luks1Header parse_ok(std::span<const uint8_t> bytes) {
    auto header = Luks1Header::parse(bytes);
    EXPECT_FALSE(header.is_error()) << header.error().message();
    return header.is_error() ? Luks1Header{} : header.release_value();
}

}  // namespace

TEST(Luks1, HeaderLayoutAndRoundTrip) {
    auto key = test_master_key();
    auto area = build_luks1_header_area(key, test_options("passphrase"));
    ASSERT_FALSE(area.is_error()) << area.error().message();
    ASSERT_EQ(area.value().size(), size_t{4096} * 512);

    Luks1Header header = parse_ok(area.value());
    EXPECT_EQ(header.cipher_name, "aes");
    EXPECT_EQ(header.cipher_mode, "xts-plain64");
    EXPECT_EQ(header.hash_spec, "sha256");
    EXPECT_EQ(header.payload_offset, 4096u);
    EXPECT_EQ(header.key_bytes, 64u);
    EXPECT_EQ(header.mk_digest_iterations, test_iterations);
    ASSERT_EQ(header.uuid.size(), 36u);
    EXPECT_EQ(header.uuid[14], '4');
    EXPECT_NE(std::string("89ab").find(header.uuid[19]), std::string::npos);
    for (size_t dash : {8, 13, 18, 23})
        EXPECT_EQ(header.uuid[dash], '-');

    // cryptsetup's layout for a 64-byte key: 500 sectors a slot, 4 KiB aligned.
    const uint32_t offsets[] = {8, 512, 1016, 1520, 2024, 2528, 3032, 3536};
    for (size_t i = 0; i < luks1_key_slots; ++i) {
        EXPECT_EQ(header.key_slots[i].key_material_offset, offsets[i]) << i;
        EXPECT_EQ(header.key_slots[i].stripes, 4000u) << i;
        EXPECT_EQ(header.key_slots[i].active, i == 0) << i;
    }
    EXPECT_EQ(header.key_slots[0].iterations, test_iterations);

    auto bytes = header.serialize();
    ASSERT_EQ(bytes.size(), 592u);
    EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), area.value().begin()));

    // Two builds differ in salts and UUID.
    auto again = build_luks1_header_area(key, test_options("passphrase")).release_value();
    Luks1Header other = parse_ok(again);
    EXPECT_NE(other.uuid, header.uuid);
    EXPECT_NE(other.mk_digest_salt, header.mk_digest_salt);
    EXPECT_NE(other.key_slots[0].salt, header.key_slots[0].salt);
}

TEST(Luks1, CryptsetupReadsOurHeader) {
    test::TempDir dir;
    ASSERT_TRUE(dir.ok());
    auto key = test_master_key();
    const std::string passphrase = "correct horse battery staple";
    auto area = build_luks1_header_area(key, test_options(passphrase)).release_value();
    Luks1Header header = parse_ok(area);
    write_container(dir.path("disk.img"), area, key);
    test::write_file(dir.path("pass"), passphrase);  // no trailing newline
    test::write_file(dir.path("wrong"), passphrase + "!");

    test::CommandResult dump = test::run_command("cryptsetup luksDump " + dir.file("disk.img"));
    ASSERT_EQ(dump.status, 0) << dump.output;
    EXPECT_EQ(dump_field(dump.output, "Version"), "1");
    EXPECT_EQ(dump_field(dump.output, "Cipher name"), "aes");
    EXPECT_EQ(dump_field(dump.output, "Cipher mode"), "xts-plain64");
    EXPECT_EQ(dump_field(dump.output, "Hash spec"), "sha256");
    EXPECT_EQ(dump_field(dump.output, "Payload offset"), "4096");
    EXPECT_EQ(dump_field(dump.output, "MK bits"), "512");
    EXPECT_EQ(dump_field(dump.output, "MK iterations"), "1000");
    EXPECT_EQ(dump_field(dump.output, "UUID"), header.uuid);
    EXPECT_EQ(dump_field(dump.output, "Key Slot 0"), "ENABLED");
    EXPECT_EQ(dump_field(dump.output, "Key material offset"), "8");
    EXPECT_EQ(dump_field(dump.output, "AF stripes"), "4000");
    for (int slot = 1; slot < 8; ++slot)
        EXPECT_EQ(dump_field(dump.output, "Key Slot " + std::to_string(slot)), "DISABLED");

    // cryptsetup opens slot 0 (PBKDF2, XTS key material, AF merge, digest).
    test::CommandResult volume_key = test::run_command(
        "cryptsetup luksDump --dump-volume-key -q --key-file=" + dir.file("pass") + " " +
        dir.file("disk.img"));
    ASSERT_EQ(volume_key.status, 0) << volume_key.output;
    EXPECT_EQ(dumped_master_key(volume_key.output), to_hex(key)) << volume_key.output;

    test::CommandResult open =
        test::run_command("cryptsetup open --test-passphrase --key-file=" + dir.file("pass") + " " +
                          dir.file("disk.img"));
    EXPECT_EQ(open.status, 0) << open.output;
    test::CommandResult wrong =
        test::run_command("cryptsetup open --test-passphrase --key-file=" + dir.file("wrong") +
                          " " + dir.file("disk.img"));
    EXPECT_NE(wrong.status, 0) << wrong.output;
    EXPECT_NE(wrong.output.find("No key available"), std::string::npos) << wrong.output;
}

TEST(Luks1, CryptsetupReadsHeaderWithoutKeySlot) {
    test::TempDir dir;
    ASSERT_TRUE(dir.ok());
    auto key = test_master_key();
    auto area = build_luks1_header_area(key, test_options(std::nullopt)).release_value();
    Luks1Header header = parse_ok(area);
    for (const auto& slot : header.key_slots)
        EXPECT_FALSE(slot.active);
    write_container(dir.path("disk.img"), area, key);

    test::CommandResult dump = test::run_command("cryptsetup luksDump " + dir.file("disk.img"));
    ASSERT_EQ(dump.status, 0) << dump.output;
    EXPECT_EQ(dump_field(dump.output, "UUID"), header.uuid);
    for (int slot = 0; slot < 8; ++slot)
        EXPECT_EQ(dump_field(dump.output, "Key Slot " + std::to_string(slot)), "DISABLED");

    auto recovered = recover_luks1_master_key(header, area, "anything");
    ASSERT_TRUE(recovered.is_error());
    EXPECT_EQ(recovered.error().code(), ENOKEY);
    EXPECT_FALSE(check_luks1_master_key(header, key).is_error());
}

TEST(Luks1, OpensCryptsetupFormattedContainer) {
    test::TempDir dir;
    ASSERT_TRUE(dir.ok());
    auto key = test_master_key(77);
    test::write_file(dir.path("key.bin"), key);
    test::write_file(dir.path("pass"), std::string("cryptsetup made me"));
    test::write_file(dir.path("disk.img"), std::vector<uint8_t>(4 << 20, 0));
    test::CommandResult format = test::run_command(
        "cryptsetup luksFormat -q --type luks1 --cipher aes-xts-plain64 --key-size 512 "
        "--hash sha256 --pbkdf-force-iterations 1000 --volume-key-file=" +
        dir.file("key.bin") + " --key-file=" + dir.file("pass") + " " + dir.file("disk.img"));
    ASSERT_EQ(format.status, 0) << format.output;

    auto image = test::read_file(dir.path("disk.img"));
    std::span<const uint8_t> area(image.data(), size_t{4096} * 512);
    Luks1Header header = parse_ok(area);
    EXPECT_TRUE(header.key_slots[0].active);
    EXPECT_FALSE(check_luks1_master_key(header, key).is_error());

    auto recovered = recover_luks1_master_key(header, area, "cryptsetup made me");
    ASSERT_FALSE(recovered.is_error()) << recovered.error().message();
    EXPECT_EQ(recovered.value(), key);
    EXPECT_TRUE(recover_luks1_master_key(header, area, "cryptsetup made me!").is_error());

    // Our serializer reproduces cryptsetup's header byte for byte.
    auto bytes = header.serialize();
    EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), image.begin()));
}

TEST(Luks1, MasterKeyCheck) {
    auto key = test_master_key();
    auto area = build_luks1_header_area(key, test_options(std::nullopt)).release_value();
    Luks1Header header = parse_ok(area);
    EXPECT_FALSE(check_luks1_master_key(header, key).is_error());

    auto wrong_key = key;
    wrong_key[17] ^= 1;
    auto wrong = check_luks1_master_key(header, wrong_key);
    ASSERT_TRUE(wrong.is_error());
    EXPECT_EQ(wrong.error().code(), EKEYREJECTED);
    EXPECT_EQ(wrong.error().message(), "key does not match the LUKS header (wrong key file?)");

    auto short_key = check_luks1_master_key(header, std::span(key).first(32));
    ASSERT_TRUE(short_key.is_error());
    EXPECT_EQ(short_key.error().code(), EINVAL);
    EXPECT_NE(short_key.error().message().find("must be 64 bytes, got 32"), std::string::npos);

    EXPECT_TRUE(
        build_luks1_header_area(std::span(key).first(63), test_options(std::nullopt)).is_error());
    EXPECT_TRUE(build_luks1_header_area(key, test_options("")).is_error());
}

TEST(Luks1, RecoverMasterKey) {
    auto key = test_master_key(9);
    auto area = build_luks1_header_area(key, test_options("open sesame")).release_value();
    Luks1Header header = parse_ok(area);

    auto recovered = recover_luks1_master_key(header, area, "open sesame");
    ASSERT_FALSE(recovered.is_error()) << recovered.error().message();
    EXPECT_EQ(recovered.value(), key);

    auto wrong = recover_luks1_master_key(header, area, "open sesame ");
    ASSERT_TRUE(wrong.is_error());
    EXPECT_EQ(wrong.error().code(), EPERM);
    EXPECT_EQ(wrong.error().message(), "no LUKS key slot matches the passphrase");

    // Key material cut off: an error, not a read past the buffer.
    auto truncated =
        recover_luks1_master_key(header, std::span(area).first(100 * 512), "open sesame");
    ASSERT_TRUE(truncated.is_error());
    EXPECT_NE(truncated.error().message().find("truncated"), std::string::npos);

    // Damaged key material no longer yields the key.
    auto damaged = area;
    damaged[8 * 512 + 1000] ^= 0x80;
    EXPECT_TRUE(recover_luks1_master_key(header, damaged, "open sesame").is_error());
}

TEST(Luks1, RejectsBadHeaders) {
    auto good = build_luks1_header_area(test_master_key(), test_options("x")).release_value();
    good.resize(592);
    parse_ok(good);

    auto expect_error = [&](const char* what, auto&& mutate, const std::string& needle) {
        auto bytes = good;
        mutate(bytes);
        auto parsed = Luks1Header::parse(bytes);
        ASSERT_TRUE(parsed.is_error()) << what;
        EXPECT_NE(parsed.error().message().find(needle), std::string::npos)
            << what << ": " << parsed.error().message();
    };
    auto set_string = [](std::vector<uint8_t>& bytes, size_t offset, const std::string& value) {
        std::fill_n(bytes.begin() + offset, 32, 0);
        std::copy(value.begin(), value.end(), bytes.begin() + offset);
    };
    constexpr size_t slot1 = 208 + 48;

    expect_error(
        "magic", [](auto& b) { b[4] = 0; }, "bad magic");
    expect_error(
        "version", [](auto& b) { store_be<uint16_t>(&b[6], 2); }, "version 2");
    expect_error(
        "cipher", [&](auto& b) { set_string(b, 8, "twofish"); }, "unsupported");
    expect_error(
        "mode", [&](auto& b) { set_string(b, 40, "cbc-essiv:sha256"); }, "unsupported");
    expect_error(
        "hash", [&](auto& b) { set_string(b, 72, "sha1"); }, "unsupported LUKS1 hash");
    expect_error(
        "unterminated", [](auto& b) { std::fill_n(b.begin() + 8, 32, 'a'); }, "NUL-terminated");
    expect_error(
        "payload 0", [](auto& b) { store_be<uint32_t>(&b[104], 0); }, "payload offset");
    expect_error(
        "key bytes", [](auto& b) { store_be<uint32_t>(&b[108], 32); }, "key size 32");
    expect_error(
        "mk iterations", [](auto& b) { store_be<uint32_t>(&b[164], 0); }, "iteration count is 0");
    // Regression (fuzz/regressions/luks1/mk_digest_iterations_2_31): 2^31 - 1
    // iterations kept CryptDevice::open in PBKDF2 for a quarter of an hour.
    expect_error(
        "mk iterations too many",
        [](auto& b) { store_be<uint32_t>(&b[164], luks1_max_digest_iterations + 1); },
        "master-key digest iteration count 1048577 is more than 1048576");
    expect_error(
        "slot iterations too many", [](auto& b) { store_be<uint32_t>(&b[208 + 4], 0x7fffffff); },
        "key slot 0 iteration count 2147483647 is more than");
    expect_error(
        "slot state", [](auto& b) { store_be<uint32_t>(&b[slot1], 0x12345678); },
        "key slot 1: invalid state");
    expect_error(
        "stripes", [](auto& b) { store_be<uint32_t>(&b[slot1 + 44], 1); }, "AF stripes");
    expect_error(
        "slot in header", [](auto& b) { store_be<uint32_t>(&b[slot1 + 40], 1); },
        "overlaps the header");
    expect_error(
        "slot past payload", [](auto& b) { store_be<uint32_t>(&b[slot1 + 40], 3700); },
        "past the payload offset");
    expect_error(
        "small payload", [](auto& b) { store_be<uint32_t>(&b[104], 2048); },
        "past the payload offset");
    expect_error(
        "slots overlap", [](auto& b) { store_be<uint32_t>(&b[slot1 + 40], 300); }, "overlap");

    for (size_t size : {size_t{0}, size_t{6}, size_t{591}}) {
        auto parsed = Luks1Header::parse(std::span(good).first(size));
        ASSERT_TRUE(parsed.is_error()) << size;
        EXPECT_NE(parsed.error().message().find("truncated"), std::string::npos);
    }
}

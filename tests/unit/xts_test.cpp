// AES-256-XTS sectors, cross-checked against Python's `cryptography` package
// (`openssl enc` refuses XTS ciphers, so it cannot serve as the reference)
// and against OpenSSL's own EVP aes-256-xts, one call per sector.
#include <gtest/gtest.h>

#include <openssl/evp.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/endian.h"
#include "base/hex.h"
#include "image/luks1.h"
#include "tests/unit/test_support.h"

using namespace myst;
using namespace myst::image;

namespace {

// Two distinct 32-byte halves, as XTS requires.
std::vector<uint8_t> test_key() {
    return test::random_bytes(64, 11);
}

std::vector<uint8_t> test_data(size_t sectors) {
    return test::random_bytes(sectors * luks1_sector_size, 12345);
}

// Encrypts each 512-byte sector on its own, tweak = sector number as a
// 16-byte little-endian value (dm-crypt's plain64).
constexpr const char* reference_script = R"(import sys
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
key = bytes.fromhex(sys.argv[1])
first = int(sys.argv[2])
data = open(sys.argv[3], 'rb').read()
out = b''
for i in range(0, len(data), 512):
    tweak = (first + i // 512).to_bytes(16, 'little')
    enc = Cipher(algorithms.AES(key), modes.XTS(tweak)).encryptor()
    out += enc.update(data[i:i + 512]) + enc.finalize()
open(sys.argv[4], 'wb').write(out)
)";

std::vector<uint8_t> reference_encrypt(const test::TempDir& dir, std::span<const uint8_t> key,
                                       uint64_t first_sector, std::span<const uint8_t> plain) {
    test::write_file(dir.path("xts.py"), std::string(reference_script));
    test::write_file(dir.path("plain.bin"), plain);
    std::filesystem::remove(dir.path("cipher.bin"));
    test::CommandResult result = test::run_command(
        "python3 " + dir.file("xts.py") + " " + to_hex(key) + " " + std::to_string(first_sector) +
        " " + dir.file("plain.bin") + " " + dir.file("cipher.bin"));
    EXPECT_EQ(result.status, 0) << result.output;
    return test::read_file(dir.path("cipher.bin"));
}

// dm-crypt's aes-xts-plain64 through OpenSSL's own XTS: each sector one
// data unit, its IV the sector number (little-endian, 16 bytes).
std::vector<uint8_t> openssl_xts(std::span<const uint8_t> key, uint64_t first_sector,
                                 std::span<const uint8_t> input, bool encrypt) {
    std::unique_ptr<EVP_CIPHER, decltype(&EVP_CIPHER_free)> xts(
        EVP_CIPHER_fetch(nullptr, "AES-256-XTS", nullptr), EVP_CIPHER_free);
    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> context(EVP_CIPHER_CTX_new(),
                                                                            EVP_CIPHER_CTX_free);
    EXPECT_TRUE(xts && context);
    EXPECT_EQ(
        EVP_CipherInit_ex2(context.get(), xts.get(), key.data(), nullptr, encrypt ? 1 : 0, nullptr),
        1);
    std::vector<uint8_t> output(input.size());
    for (size_t offset = 0; offset < input.size(); offset += luks1_sector_size) {
        uint8_t iv[16] = {};
        store_le<uint64_t>(iv, first_sector + offset / luks1_sector_size);
        int written = 0;
        EXPECT_EQ(EVP_CipherInit_ex2(context.get(), nullptr, nullptr, iv, -1, nullptr), 1);
        EXPECT_EQ(EVP_CipherUpdate(context.get(), output.data() + offset, &written,
                                   input.data() + offset, static_cast<int>(luks1_sector_size)),
                  1);
        EXPECT_EQ(written, static_cast<int>(luks1_sector_size));
    }
    return output;
}

// Sector numbers around the places where the plain64 IV changes width.
const uint64_t interesting_sectors[] = {
    0, 1, 7, (uint64_t{1} << 32) - 1, (uint64_t{1} << 32) + 5, (uint64_t{1} << 63) + 3};

}  // namespace

TEST(Xts, MatchesIndependentImplementation) {
    test::TempDir dir;
    ASSERT_TRUE(dir.ok());
    auto key = test_key();
    auto cipher = XtsSectorCipher::create(key);
    ASSERT_FALSE(cipher.is_error()) << cipher.error().message();
    auto plain = test_data(5);
    // Sector 0, a small number, and one past 32 bits to cover all IV bytes.
    for (uint64_t first_sector : {uint64_t{0}, uint64_t{7}, uint64_t{0x0123456789abcdefULL}}) {
        SCOPED_TRACE(first_sector);
        auto expected = reference_encrypt(dir, key, first_sector, plain);
        ASSERT_EQ(expected.size(), plain.size());
        auto data = plain;
        ASSERT_FALSE(cipher.value().encrypt(first_sector, data).is_error());
        EXPECT_EQ(data, expected);
        ASSERT_FALSE(cipher.value().decrypt(first_sector, data).is_error());
        EXPECT_EQ(data, plain);
    }
}

TEST(Xts, SectorsAreIndependent) {
    // Encrypting sectors 3..4 in one call equals encrypting them one by one.
    auto cipher = XtsSectorCipher::create(test_key()).release_value();
    auto plain = test_data(2);
    auto whole = plain;
    ASSERT_FALSE(cipher.encrypt(3, whole).is_error());
    auto first = std::vector<uint8_t>(plain.begin(), plain.begin() + 512);
    auto second = std::vector<uint8_t>(plain.begin() + 512, plain.end());
    ASSERT_FALSE(cipher.encrypt(3, first).is_error());
    ASSERT_FALSE(cipher.encrypt(4, second).is_error());
    first.insert(first.end(), second.begin(), second.end());
    EXPECT_EQ(whole, first);

    // The same plaintext in another sector gives another ciphertext.
    auto other = plain;
    ASSERT_FALSE(cipher.encrypt(5, other).is_error());
    EXPECT_NE(whole, other);
    EXPECT_NE(whole, plain);
}

TEST(Xts, RoundTripAndConcurrentUse) {
    auto cipher = XtsSectorCipher::create(test_key()).release_value();
    auto plain = test_data(64);
    auto expected = plain;
    ASSERT_FALSE(cipher.encrypt(1000, expected).is_error());

    // Copies share the keyed contexts; concurrent calls must still agree.
    std::vector<std::vector<uint8_t>> results(4, plain);
    std::vector<std::thread> threads;
    for (auto& result : results)
        threads.emplace_back([copy = cipher, &result] {
            for (int round = 0; round < 20; ++round) {
                (void)copy.encrypt(1000, result);
                (void)copy.decrypt(1000, result);
            }
            (void)copy.encrypt(1000, result);
        });
    for (auto& thread : threads)
        thread.join();
    for (const auto& result : results)
        EXPECT_EQ(result, expected);

    ASSERT_FALSE(cipher.decrypt(1000, expected).is_error());
    EXPECT_EQ(expected, plain);
}

TEST(Xts, RejectsPartialSectors) {
    auto cipher = XtsSectorCipher::create(test_key()).release_value();
    for (size_t size : {size_t{1}, size_t{511}, size_t{513}, size_t{1000}}) {
        std::vector<uint8_t> data(size, 0x5a);
        auto encrypted = cipher.encrypt(0, data);
        ASSERT_TRUE(encrypted.is_error()) << size;
        EXPECT_EQ(encrypted.error().code(), EINVAL);
        EXPECT_NE(encrypted.error().message().find("multiple of the 512-byte sector"),
                  std::string::npos);
        EXPECT_TRUE(cipher.decrypt(0, data).is_error()) << size;
        EXPECT_EQ(data, std::vector<uint8_t>(size, 0x5a)) << "data changed on error";
    }
    std::vector<uint8_t> empty;
    EXPECT_FALSE(cipher.encrypt(0, empty).is_error());
}

TEST(Xts, RejectsBadKeys) {
    std::vector<uint8_t> equal_halves(64);
    for (size_t i = 0; i < 32; ++i)
        equal_halves[i] = equal_halves[i + 32] = static_cast<uint8_t>(i);
    auto equal = XtsSectorCipher::create(equal_halves);
    ASSERT_TRUE(equal.is_error());
    EXPECT_NE(equal.error().message().find("halves of the key are equal"), std::string::npos)
        << equal.error().message();

    for (size_t size : {size_t{0}, size_t{32}, size_t{63}, size_t{65}}) {
        auto wrong = XtsSectorCipher::create(std::vector<uint8_t>(size, 1));
        ASSERT_TRUE(wrong.is_error()) << size;
        EXPECT_NE(wrong.error().message().find("key must be 64 bytes"), std::string::npos);
    }
}

TEST(Xts, MatchesOpenSslPerSector) {
    // Run lengths: one sector, counts that leave sectors over after groups
    // of four (the non-AVX2 path), and runs past the 256-sector tweak group.
    const size_t run_lengths[] = {1, 3, 7, 8, 13, 256, 300, 2048};
    uint32_t seed = 100;
    for (uint64_t first_sector : interesting_sectors) {
        for (size_t sectors : run_lengths) {
            SCOPED_TRACE("first sector " + std::to_string(first_sector) + ", " +
                         std::to_string(sectors) + " sectors");
            auto key = test::random_bytes(64, ++seed);
            auto cipher = XtsSectorCipher::create(key);
            ASSERT_FALSE(cipher.is_error()) << cipher.error().message();
            auto plain = test::random_bytes(sectors * luks1_sector_size, ++seed);

            auto data = plain;
            ASSERT_FALSE(cipher.value().encrypt(first_sector, data).is_error());
            auto expected = openssl_xts(key, first_sector, plain, true);
            ASSERT_EQ(data, expected);
            ASSERT_FALSE(cipher.value().decrypt(first_sector, data).is_error());
            ASSERT_EQ(data, plain);

            // Decrypting arbitrary bytes (not our own output) agrees too.
            ASSERT_FALSE(cipher.value().decrypt(first_sector, data).is_error());
            ASSERT_EQ(data, openssl_xts(key, first_sector, plain, false));
        }
    }
}

TEST(Xts, UnalignedBuffers) {
    auto key = test::random_bytes(64, 21);
    auto cipher = XtsSectorCipher::create(key).release_value();
    auto plain = test::random_bytes(37 * luks1_sector_size, 22);
    auto expected = openssl_xts(key, 99, plain, true);
    for (size_t misalignment : {1, 3, 8, 15}) {
        SCOPED_TRACE(misalignment);
        std::vector<uint8_t> buffer(plain.size() + misalignment + 1, 0xee);
        std::copy(plain.begin(), plain.end(), buffer.begin() + misalignment);
        std::span<uint8_t> data(buffer.data() + misalignment, plain.size());
        ASSERT_FALSE(cipher.encrypt(99, data).is_error());
        EXPECT_TRUE(std::equal(data.begin(), data.end(), expected.begin()));
        // The bytes around the buffer stay untouched.
        EXPECT_EQ(buffer[misalignment - 1], 0xee);
        EXPECT_EQ(buffer.back(), 0xee);
        ASSERT_FALSE(cipher.decrypt(99, data).is_error());
        EXPECT_TRUE(std::equal(data.begin(), data.end(), plain.begin()));
    }
}

TEST(Xts, ThreadsShareOneCipher) {
    // Four threads decrypt different runs with the same object (and one
    // with a copy made while the others run), many times each.
    auto key = test::random_bytes(64, 31);
    auto cipher = XtsSectorCipher::create(key).release_value();
    struct Run {
        uint64_t first_sector;
        std::vector<uint8_t> cipher_text;
        std::vector<uint8_t> expected;
    };
    std::vector<Run> runs;
    const std::pair<uint64_t, size_t> shapes[] = {
        {0, 2048}, {(uint64_t{1} << 32) - 3, 8}, {4096 * 8 + 17, 77}, {(uint64_t{1} << 63) + 3, 1}};
    for (auto [first_sector, sectors] : shapes) {
        auto bytes = test::random_bytes(sectors * luks1_sector_size, uint32_t(sectors));
        runs.push_back({first_sector, bytes, openssl_xts(key, first_sector, bytes, false)});
    }
    std::vector<int> mismatches(runs.size(), 0);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < runs.size(); ++t)
        threads.emplace_back([&, t] {
            std::optional<XtsSectorCipher> copy;
            if (t == 3)
                copy = cipher;
            const XtsSectorCipher& shared = copy ? *copy : cipher;
            const Run& run = runs[t];
            for (int round = 0; round < 200; ++round) {
                auto data = run.cipher_text;
                if (shared.decrypt(run.first_sector, data).is_error() || data != run.expected)
                    ++mismatches[t];
            }
        });
    for (auto& thread : threads)
        thread.join();
    for (size_t t = 0; t < runs.size(); ++t)
        EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

TEST(Xts, CopyOutlivesOriginal) {
    auto key = test::random_bytes(64, 41);
    std::optional<XtsSectorCipher> original = XtsSectorCipher::create(key).release_value();
    XtsSectorCipher copy = *original;
    auto plain = test::random_bytes(9 * luks1_sector_size, 42);
    auto data = plain;
    ASSERT_FALSE(original->encrypt(5, data).is_error());
    original.reset();
    auto again = plain;
    ASSERT_FALSE(copy.encrypt(5, again).is_error());
    EXPECT_EQ(again, data);
    EXPECT_EQ(again, openssl_xts(key, 5, plain, true));
}

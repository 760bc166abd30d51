// AES-256-XTS sectors, cross-checked against Python's `cryptography` package
// (`openssl enc` refuses XTS ciphers, so it cannot serve as the reference).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

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

// Throughput of our SHA-256 (as dm-verity uses it: one 4 KiB block plus a
// 32-byte salt per digest) and AES-256-XTS (dm-crypt's aes-xts-plain64, each
// 512-byte sector its own data unit), in MB/s, one "name value" per line for
// bench/mkext2.sh to set beside `openssl speed`.
//
// aes-256-xts-1m is what the crypt device does: decrypt 1 MiB runs of 4 KiB
// blocks in one call; -4k is one block per call, -512 one sector per call.
// The openssl-* lines run OpenSSL's own EVP aes-256-xts in this process the
// way `openssl speed -evp aes-256-xts -bytes N` does (one N-byte data unit
// per EVP_CipherUpdate, the IV set once), so both sides share the same load.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include <openssl/evp.h>

#include "image/luks1.h"
#include "image/verity.h"

using namespace myst;

namespace {

template <typename Work>
double megabytes_per_second(size_t bytes_per_call, Work&& work) {
    using clock = std::chrono::steady_clock;
    auto start = clock::now();
    size_t calls = 0;
    while (clock::now() - start < std::chrono::seconds(2)) {
        for (int i = 0; i < 64; ++i)
            work();
        calls += 64;
    }
    double seconds = std::chrono::duration<double>(clock::now() - start).count();
    return double(calls) * double(bytes_per_call) / seconds / 1e6;
}

// Decrypts `unit`-byte calls over a 1 MiB buffer, advancing the sector
// number as a reader walking the device would.
double xts_decrypt_speed(const image::XtsSectorCipher& cipher, size_t unit) {
    std::vector<uint8_t> data(1 << 20, 0x33);
    uint64_t sector = 0;
    size_t offset = 0;
    return megabytes_per_second(unit, [&] {
        if (cipher.decrypt(sector, std::span(data).subspan(offset, unit)).is_error())
            std::abort();
        sector += unit / image::luks1_sector_size;
        offset = (offset + unit) % data.size();
    });
}

double openssl_xts_speed(const std::vector<uint8_t>& key, size_t unit) {
    std::unique_ptr<EVP_CIPHER, decltype(&EVP_CIPHER_free)> xts(
        EVP_CIPHER_fetch(nullptr, "AES-256-XTS", nullptr), EVP_CIPHER_free);
    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> context(EVP_CIPHER_CTX_new(),
                                                                            EVP_CIPHER_CTX_free);
    if (!xts || !context ||
        EVP_CipherInit_ex2(context.get(), xts.get(), key.data(), nullptr, 0, nullptr) != 1)
        std::abort();
    std::vector<uint8_t> data(unit, 0x33);
    uint8_t iv[16] = {};
    if (EVP_CipherInit_ex2(context.get(), nullptr, nullptr, iv, -1, nullptr) != 1)
        std::abort();
    return megabytes_per_second(unit, [&] {
        int written = 0;
        if (EVP_CipherUpdate(context.get(), data.data(), &written, data.data(),
                             static_cast<int>(unit)) != 1)
            std::abort();
    });
}

}  // namespace

int main() {
    std::vector<uint8_t> block(4096, 0x5a);
    std::vector<uint8_t> salt(32, 0x11);
    Sha256 hasher;
    double sha = megabytes_per_second(block.size(), [&] {
        volatile auto digest = image::verity_hash_block(hasher, salt, block);
        (void)digest;
    });
    std::printf("sha256-verity-4k %.0f\n", sha);

    std::vector<uint8_t> key(64);
    for (size_t i = 0; i < key.size(); ++i)
        key[i] = static_cast<uint8_t>(i * 7 + 1);
    auto cipher = image::XtsSectorCipher::create(key);
    if (cipher.is_error()) {
        std::fprintf(stderr, "%s\n", cipher.error().message().c_str());
        return 1;
    }
    for (auto [name, unit] : {std::pair{"1m", size_t{1} << 20}, std::pair{"4k", size_t{4096}},
                              std::pair{"512", size_t{512}}})
        std::printf("aes-256-xts-%s %.0f\n", name, xts_decrypt_speed(cipher.value(), unit));
    for (auto [name, unit] : {std::pair{"1m", size_t{1} << 20}, std::pair{"512", size_t{512}}})
        std::printf("openssl-aes-256-xts-%s %.0f\n", name, openssl_xts_speed(key, unit));
    return 0;
}

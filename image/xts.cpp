// AES-256-XTS sector encryption (dm-crypt's aes-xts-plain64) through
// OpenSSL's EVP interface.
#include <cerrno>
#include <memory>
#include <string>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "base/endian.h"
#include "image/luks1.h"

namespace myst::image {

namespace {

constexpr size_t xts_iv_size = 16;

using CipherContext = std::shared_ptr<EVP_CIPHER_CTX>;

CipherContext new_context() {
    return CipherContext(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
}

// OpenSSL keeps the reason of a failure in its thread-local error queue.
Error openssl_error(const std::string& what) {
    unsigned long code = ERR_get_error();
    ERR_clear_error();
    const char* reason = code ? ERR_reason_error_string(code) : nullptr;
    return Error(EIO, "OpenSSL aes-256-xts: " + what + ": " + (reason ? reason : "unknown error"));
}

Result<CipherContext> keyed_context(std::span<const uint8_t> key, bool encrypt) {
    std::unique_ptr<EVP_CIPHER, decltype(&EVP_CIPHER_free)> cipher(
        EVP_CIPHER_fetch(nullptr, "AES-256-XTS", nullptr), EVP_CIPHER_free);
    if (!cipher)
        return openssl_error("cipher unavailable");
    CipherContext context = new_context();
    if (!context)
        return Error(ENOMEM, "OpenSSL aes-256-xts: out of memory");
    if (EVP_CipherInit_ex2(context.get(), cipher.get(), key.data(), nullptr, encrypt ? 1 : 0,
                           nullptr) != 1)
        return openssl_error("key set-up failed");
    return context;
}

Result<void> run_sectors(const CipherContext& keyed, uint64_t first_sector,
                         std::span<uint8_t> data) {
    if (data.size() % luks1_sector_size != 0)
        return Error::invalid("aes-xts: data size " + std::to_string(data.size()) +
                              " is not a multiple of the 512-byte sector");
    // A private copy of the keyed context per call: copies of one
    // XtsSectorCipher share the keyed contexts, and setting an IV writes to
    // the context, so calls from several threads must not touch the shared one.
    CipherContext context = new_context();
    if (!context)
        return Error(ENOMEM, "OpenSSL aes-256-xts: out of memory");
    if (EVP_CIPHER_CTX_copy(context.get(), keyed.get()) != 1)
        return openssl_error("context copy failed");

    uint8_t iv[xts_iv_size] = {};
    for (size_t offset = 0; offset < data.size(); offset += luks1_sector_size) {
        // plain64: the sector number, little-endian, zero-padded to 16 bytes.
        store_le<uint64_t>(iv, first_sector + offset / luks1_sector_size);
        if (EVP_CipherInit_ex2(context.get(), nullptr, nullptr, iv, -1, nullptr) != 1)
            return openssl_error("setting the sector IV failed");
        uint8_t* sector = data.data() + offset;
        int written = 0;
        // XTS treats each update as one whole data unit, so in place is fine.
        if (EVP_CipherUpdate(context.get(), sector, &written, sector,
                             static_cast<int>(luks1_sector_size)) != 1 ||
            written != static_cast<int>(luks1_sector_size))
            return openssl_error("sector " + std::to_string(first_sector) + "+" +
                                 std::to_string(offset / luks1_sector_size) + " failed");
    }
    return {};
}

}  // namespace

Result<XtsSectorCipher> XtsSectorCipher::create(std::span<const uint8_t> key) {
    if (key.size() != luks1_master_key_size)
        return Error::invalid("aes-xts: key must be " + std::to_string(luks1_master_key_size) +
                              " bytes, got " + std::to_string(key.size()));
    // XTS with equal halves loses its security; OpenSSL refuses to encrypt
    // with such a key, so say why here rather than fail with an opaque code.
    size_t half = key.size() / 2;
    if (CRYPTO_memcmp(key.data(), key.data() + half, half) == 0)
        return Error::invalid("aes-xts: the two halves of the key are equal (insecure key)");
    XtsSectorCipher cipher;
    cipher.m_encrypt = TRY(keyed_context(key, true));
    cipher.m_decrypt = TRY(keyed_context(key, false));
    return cipher;
}

Result<void> XtsSectorCipher::encrypt(uint64_t first_sector, std::span<uint8_t> data) const {
    return run_sectors(m_encrypt, first_sector, data);
}

Result<void> XtsSectorCipher::decrypt(uint64_t first_sector, std::span<uint8_t> data) const {
    return run_sectors(m_decrypt, first_sector, data);
}

}  // namespace myst::image

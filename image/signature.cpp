#include "image/signature.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <string_view>

namespace myst::image {

namespace {

constexpr int max_rsa_bits = 8192;  // a 1024-byte signature fills the fssig

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)>;
using DecoderCtxPtr = std::unique_ptr<OSSL_DECODER_CTX, decltype(&OSSL_DECODER_CTX_free)>;

// The newest OpenSSL reason, for the end of a message; clears the queue so a
// later failure does not report this one.
std::string openssl_reason() {
    unsigned long code = ERR_peek_last_error();
    std::string reason;
    if (code != 0) {
        const char* text = ERR_reason_error_string(code);
        reason = text ? text : "error " + std::to_string(code);
    }
    ERR_clear_error();
    return reason;
}

std::string_view pem_text(std::span<const uint8_t> pem) {
    return {reinterpret_cast<const char*>(pem.data()), pem.size()};
}

BioPtr memory_bio(std::span<const uint8_t> pem) {
    return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
}

// Refuses to prompt on the terminal for a passphrase: the tools run in
// scripts, and an encrypted key is reported as such.
int no_passphrase(char*, int, int, void*) {
    return -1;
}

// Checks that the key is RSA and not too large, and returns its modulus.
Result<std::vector<uint8_t>> rsa_modulus(EVP_PKEY* key, const std::string& name) {
    if (!EVP_PKEY_is_a(key, "RSA")) {
        const char* type = EVP_PKEY_get0_type_name(key);
        return Error::invalid(name + ": a " + std::string(type ? type : "non-RSA") +
                              " key; only RSA keys are supported");
    }
    int bits = EVP_PKEY_get_bits(key);
    if (bits > max_rsa_bits)
        return Error::invalid(name + ": a " + std::to_string(bits) +
                              "-bit RSA key; at most 8192 bits are supported");
    BIGNUM* n = nullptr;
    if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n))
        return Error::invalid(name + ": cannot read the RSA modulus: " + openssl_reason());
    std::vector<uint8_t> modulus(static_cast<size_t>(BN_num_bytes(n)));
    BN_bn2bin(n, modulus.data());
    BN_free(n);
    return modulus;
}

// "RSA PUBLIC KEY" (PKCS#1 RSAPublicKey), which PEM_read_bio_PUBKEY does not
// take; the decoder is OpenSSL 3's non-deprecated reader for it.
EVP_PKEY* decode_pkcs1_public_key(std::span<const uint8_t> pem) {
    EVP_PKEY* key = nullptr;
    DecoderCtxPtr decoder(OSSL_DECODER_CTX_new_for_pkey(&key, "PEM", "type-specific", "RSA",
                                                        EVP_PKEY_PUBLIC_KEY, nullptr, nullptr),
                          OSSL_DECODER_CTX_free);
    if (!decoder)
        return nullptr;
    const unsigned char* data = pem.data();
    size_t length = pem.size();
    if (!OSSL_DECODER_from_data(decoder.get(), &data, &length)) {
        EVP_PKEY_free(key);
        return nullptr;
    }
    return key;
}

// A context for PKCS#1 v1.5 over a SHA-256 digest, made ready by `init`
// (EVP_PKEY_sign_init or EVP_PKEY_verify_init).
Result<PkeyCtxPtr> pkcs1_sha256_context(EVP_PKEY* key, int (*init)(EVP_PKEY_CTX*),
                                        const char* what) {
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr), EVP_PKEY_CTX_free);
    if (!ctx || init(ctx.get()) <= 0 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) <= 0)
        return Error(EIO, std::string("RSA ") + what + " set-up failed: " + openssl_reason());
    return ctx;
}

}  // namespace

Result<void> RsaKey::adopt(EVP_PKEY* key, const std::string& name) {
    m_key = std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
    m_modulus = TRY(rsa_modulus(key, name));
    return {};
}

Sha256Digest RsaKey::signer_id() const {
    return Sha256::digest(m_modulus);
}

size_t RsaKey::bits() const {
    size_t leading = 0;
    while (leading < m_modulus.size() && m_modulus[leading] == 0)
        leading++;
    if (leading == m_modulus.size())
        return 0;
    size_t bits = (m_modulus.size() - leading) * 8;
    for (uint8_t top = m_modulus[leading]; !(top & 0x80); top <<= 1)
        bits--;
    return bits;
}

Result<std::vector<uint8_t>> RsaKey::public_key_pem() const {
    BioPtr bio(BIO_new(BIO_s_mem()), BIO_free);
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), m_key.get()) != 1)
        return Error(EIO, "cannot write the public key: " + openssl_reason());
    char* data = nullptr;
    long length = BIO_get_mem_data(bio.get(), &data);
    return std::vector<uint8_t>(data, data + length);
}

Result<RsaPublicKey> RsaPublicKey::from_pem(std::span<const uint8_t> pem, const std::string& name) {
    BioPtr bio = memory_bio(pem);
    if (!bio)
        return Error(ENOMEM, name + ": out of memory");
    EVP_PKEY* raw = PEM_read_bio_PUBKEY(bio.get(), nullptr, no_passphrase, nullptr);
    if (!raw)
        raw = decode_pkcs1_public_key(pem);
    if (!raw) {
        ERR_clear_error();
        if (pem_text(pem).find("PRIVATE KEY-----") != std::string_view::npos)
            return Error::invalid(name + ": a private key; give the public key");
        return Error::invalid(name +
                              ": not a PEM public key (\"PUBLIC KEY\" or \"RSA PUBLIC KEY\")");
    }
    RsaPublicKey key;
    TRY(key.adopt(raw, name));
    return key;
}

Result<bool> RsaPublicKey::verify(const Sha256Digest& root_hash,
                                  std::span<const uint8_t> signature) const {
    PkeyCtxPtr ctx = TRY(pkcs1_sha256_context(m_key.get(), EVP_PKEY_verify_init, "verification"));
    int status = EVP_PKEY_verify(ctx.get(), signature.data(), signature.size(), root_hash.data(),
                                 root_hash.size());
    // 0 is a wrong signature; a negative status is a malformed one (wrong
    // length, bad padding), which is just as wrong.
    ERR_clear_error();
    return status == 1;
}

Result<RsaPrivateKey> RsaPrivateKey::from_pem(std::span<const uint8_t> pem,
                                              const std::string& name) {
    BioPtr bio = memory_bio(pem);
    if (!bio)
        return Error(ENOMEM, name + ": out of memory");
    EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr);
    if (!raw) {
        std::string reason = openssl_reason();
        bool encrypted = pem_text(pem).find("ENCRYPTED") != std::string_view::npos;
        if (encrypted)
            return Error::invalid(name +
                                  ": the private key is encrypted; give an unencrypted "
                                  "key");
        return Error::invalid(name + ": not a PEM private key" +
                              (reason.empty() ? "" : " (" + reason + ")"));
    }
    RsaPrivateKey key;
    TRY(key.adopt(raw, name));
    return key;
}

Result<std::vector<uint8_t>> RsaPrivateKey::sign(const Sha256Digest& root_hash) const {
    PkeyCtxPtr ctx = TRY(pkcs1_sha256_context(m_key.get(), EVP_PKEY_sign_init, "signing"));
    size_t length = 0;
    if (EVP_PKEY_sign(ctx.get(), nullptr, &length, root_hash.data(), root_hash.size()) <= 0)
        return Error(EIO, "RSA signing failed: " + openssl_reason());
    std::vector<uint8_t> signature(length);
    if (EVP_PKEY_sign(ctx.get(), signature.data(), &length, root_hash.data(), root_hash.size()) <=
        0)
        return Error(EIO, "RSA signing failed: " + openssl_reason());
    signature.resize(length);
    return signature;
}

}  // namespace myst::image

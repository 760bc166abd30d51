// RSA signatures of a root hash, as Mystikos makes them: PKCS#1 v1.5 with the
// SHA-256 DigestInfo, where the 32-byte root hash *is* the digest (it is not
// hashed again) — what `openssl pkeyutl -sign -pkeyopt digest:sha256` does.
// The signer id is sha256 of the public modulus as big-endian bytes.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/sha256.h"

namespace myst::image {

// What both halves of a key pair hold: the OpenSSL key and its modulus.
class RsaKey {
public:
    // sha256(modulus, big-endian): the same for both halves of a pair, so
    // --sign can check that its two keys belong together.
    Sha256Digest signer_id() const;
    // The modulus's size in bits (3072 for `openssl genrsa 3072`).
    size_t bits() const;
    // The public half as PEM "PUBLIC KEY" (SubjectPublicKeyInfo), what
    // `openssl rsa -pubout` writes.
    Result<std::vector<uint8_t>> public_key_pem() const;

protected:
    // Takes ownership of `key`; checks that it is RSA of at most 8192 bits.
    Result<void> adopt(struct evp_pkey_st* key, const std::string& name);

    std::shared_ptr<struct evp_pkey_st> m_key;
    std::vector<uint8_t> m_modulus;
};

class RsaPublicKey : public RsaKey {
public:
    // PEM "PUBLIC KEY" (SubjectPublicKeyInfo) or "RSA PUBLIC KEY"; RSA only,
    // up to 8192 bits. `name` is used in error messages.
    static Result<RsaPublicKey> from_pem(std::span<const uint8_t> pem, const std::string& name);
    Result<bool> verify(const Sha256Digest& root_hash, std::span<const uint8_t> signature) const;
};

class RsaPrivateKey : public RsaKey {
public:
    // PEM private key (PKCS#8 or traditional RSA); RSA only, up to 8192 bits.
    static Result<RsaPrivateKey> from_pem(std::span<const uint8_t> pem, const std::string& name);
    Result<std::vector<uint8_t>> sign(const Sha256Digest& root_hash) const;
};

}  // namespace myst::image

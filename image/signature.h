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

class RsaPublicKey {
public:
    // PEM "PUBLIC KEY" (SubjectPublicKeyInfo) or "RSA PUBLIC KEY"; RSA only,
    // up to 8192 bits. `name` is used in error messages.
    static Result<RsaPublicKey> from_pem(std::span<const uint8_t> pem, const std::string& name);
    Sha256Digest signer_id() const;  // sha256(modulus, big-endian)
    Result<bool> verify(const Sha256Digest& root_hash, std::span<const uint8_t> signature) const;

private:
    std::shared_ptr<struct evp_pkey_st> m_key;
    std::vector<uint8_t> m_modulus;
};

class RsaPrivateKey {
public:
    // PEM private key (PKCS#8 or traditional RSA); RSA only, up to 8192 bits.
    static Result<RsaPrivateKey> from_pem(std::span<const uint8_t> pem, const std::string& name);
    Result<std::vector<uint8_t>> sign(const Sha256Digest& root_hash) const;
    // The public half, to check that --sign's two keys belong together.
    Sha256Digest signer_id() const;

private:
    std::shared_ptr<struct evp_pkey_st> m_key;
    std::vector<uint8_t> m_modulus;
};

}  // namespace myst::image

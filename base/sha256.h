// SHA-256 through OpenSSL's EVP interface, with the digest fetched once and
// the context reused: dm-verity hashes one 4 KiB block at a time, so the
// per-call set-up cost matters.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include <openssl/evp.h>

#include "base/result.h"

namespace myst {

using Sha256Digest = std::array<uint8_t, 32>;

// A digest written as 64 hex digits (a root hash on a command line or in a
// mount option); EINVAL otherwise.
Result<Sha256Digest> sha256_digest_from_hex(std::string_view text);

class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    void begin();
    void update(std::span<const uint8_t> bytes);
    Sha256Digest finish();

    static Sha256Digest digest(std::span<const uint8_t> bytes);

private:
    EVP_MD* m_md;
    EVP_MD_CTX* m_ctx;
};

}  // namespace myst

#include "base/sha256.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "base/hex.h"

namespace myst {

Sha256::Sha256() : m_md(EVP_MD_fetch(nullptr, "SHA256", nullptr)), m_ctx(EVP_MD_CTX_new()) {
    // Without SHA-256 or memory the process cannot do anything useful; this is
    // the one place a constructor may fail, and it does so loudly.
    if (!m_md || !m_ctx)
        throw std::runtime_error("OpenSSL: SHA-256 is unavailable");
}

Sha256::~Sha256() {
    EVP_MD_CTX_free(m_ctx);
    EVP_MD_free(m_md);
}

void Sha256::begin() {
    EVP_DigestInit_ex2(m_ctx, m_md, nullptr);
}

void Sha256::update(std::span<const uint8_t> bytes) {
    EVP_DigestUpdate(m_ctx, bytes.data(), bytes.size());
}

Sha256Digest Sha256::finish() {
    Sha256Digest digest{};
    unsigned int length = 0;
    EVP_DigestFinal_ex(m_ctx, digest.data(), &length);
    return digest;
}

Sha256Digest Sha256::digest(std::span<const uint8_t> bytes) {
    Sha256 hasher;
    hasher.begin();
    hasher.update(bytes);
    return hasher.finish();
}

Result<Sha256Digest> sha256_digest_from_hex(std::string_view text) {
    auto bytes = from_hex(std::string(text));
    if (bytes.is_error() || bytes.value().size() != Sha256Digest().size())
        return Error::invalid("'" + std::string(text) +
                              "' is not a SHA-256 digest (64 hex digits)");
    Sha256Digest digest;
    std::copy(bytes.value().begin(), bytes.value().end(), digest.begin());
    return digest;
}

}  // namespace myst

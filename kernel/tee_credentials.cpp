#include "kernel/tee_credentials.h"

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <ctime>
#include <memory>
#include <string_view>

#include "base/sha256.h"

namespace myst::kernel {

static_assert(sizeof(myst_tee_identity_t) == 96, "Open Enclave's oe_identity_t layout");

namespace {

template <auto free_function>
struct OpensslFree {
    template <typename T>
    void operator()(T* pointer) const {
        free_function(pointer);
    }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpensslFree<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, OpensslFree<X509_free>>;
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, OpensslFree<X509_EXTENSION_free>>;
using ObjectPtr = std::unique_ptr<ASN1_OBJECT, OpensslFree<ASN1_OBJECT_free>>;
using OctetsPtr = std::unique_ptr<ASN1_OCTET_STRING, OpensslFree<ASN1_OCTET_STRING_free>>;
using IntegerPtr = std::unique_ptr<ASN1_INTEGER, OpensslFree<ASN1_INTEGER_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpensslFree<BN_free>>;
using BioPtr = std::unique_ptr<BIO, OpensslFree<BIO_free>>;
using DigestCtxPtr = std::unique_ptr<EVP_MD_CTX, OpensslFree<EVP_MD_CTX_free>>;

constexpr char report_magic[8] = {'M', 'Y', 'S', 'T', 'S', 'I', 'M', 'R'};
constexpr uint32_t report_version = 1;
constexpr uint32_t report_flag_simulated = 1;
constexpr size_t identity_offset = 16;
constexpr size_t key_hash_offset = identity_offset + sizeof(myst_tee_identity_t);
constexpr size_t signature_offset = key_hash_offset + 32;
constexpr size_t ed25519_signature_size = 64;
static_assert(signature_offset + ed25519_signature_size == simulated_report_size);
constexpr int64_t validity_seconds = 10ll * 365 * 24 * 3600;

// The development key's seed: a public string's SHA-256. Public on purpose:
// the report it signs is a stand-in that anyone can make.
constexpr std::string_view development_key_phrase =
    "myst simulated attestation development key, version 1 (public: proves nothing)";

Error openssl_error(int code, const std::string& what) {
    return Error(code, what + " (OpenSSL)");
}

Result<PkeyPtr> ed25519_key_from_seed(std::span<const uint8_t> seed) {
    if (seed.size() != 32)
        return Error::invalid("an Ed25519 key seed is 32 bytes");
    PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
    if (!key)
        return openssl_error(ENOMEM, "cannot make an Ed25519 key");
    return key;
}

Sha256Digest development_key_seed() {
    return Sha256::digest({reinterpret_cast<const uint8_t*>(development_key_phrase.data()),
                           development_key_phrase.size()});
}

Result<std::vector<uint8_t>> public_key_der(EVP_PKEY* key) {
    int size = i2d_PUBKEY(key, nullptr);
    if (size <= 0)
        return openssl_error(EINVAL, "cannot encode the public key");
    std::vector<uint8_t> der(static_cast<size_t>(size));
    uint8_t* cursor = der.data();
    i2d_PUBKEY(key, &cursor);
    return der;
}

Result<Sha256Digest> public_key_hash(EVP_PKEY* key) {
    return Sha256::digest(TRY(public_key_der(key)));
}

Result<std::vector<uint8_t>> ed25519_sign(EVP_PKEY* key, std::span<const uint8_t> message) {
    DigestCtxPtr context(EVP_MD_CTX_new());
    std::vector<uint8_t> signature(ed25519_signature_size);
    size_t size = signature.size();
    if (!context || EVP_DigestSignInit(context.get(), nullptr, nullptr, nullptr, key) != 1 ||
        EVP_DigestSign(context.get(), signature.data(), &size, message.data(), message.size()) !=
            1 ||
        size != ed25519_signature_size)
        return openssl_error(ENOMEM, "cannot sign the report");
    return signature;
}

bool ed25519_verify(EVP_PKEY* key, std::span<const uint8_t> message,
                    std::span<const uint8_t> signature) {
    DigestCtxPtr context(EVP_MD_CTX_new());
    return context && EVP_DigestVerifyInit(context.get(), nullptr, nullptr, nullptr, key) == 1 &&
           EVP_DigestVerify(context.get(), signature.data(), signature.size(), message.data(),
                            message.size()) == 1;
}

Result<std::vector<uint8_t>> make_report(const TeeIdentity& identity, const Sha256Digest& key_hash,
                                         EVP_PKEY* report_key) {
    std::vector<uint8_t> report(simulated_report_size);
    std::memcpy(report.data(), report_magic, sizeof report_magic);
    std::memcpy(report.data() + 8, &report_version, 4);
    std::memcpy(report.data() + 12, &report_flag_simulated, 4);
    myst_tee_identity_t abi = identity.to_abi();
    std::memcpy(report.data() + identity_offset, &abi, sizeof abi);
    std::memcpy(report.data() + key_hash_offset, key_hash.data(), key_hash.size());
    auto signature = TRY(ed25519_sign(report_key, {report.data(), signature_offset}));
    std::memcpy(report.data() + signature_offset, signature.data(), signature.size());
    return report;
}

// Checks a report's form and signature; the identity it names.
Result<TeeIdentity> check_report(std::span<const uint8_t> report, const Sha256Digest& key_hash) {
    if (report.size() != simulated_report_size ||
        std::memcmp(report.data(), report_magic, sizeof report_magic) != 0)
        return Error(EPERM, "the report extension is not a myst simulated report");
    uint32_t version = 0, flags = 0;
    std::memcpy(&version, report.data() + 8, 4);
    std::memcpy(&flags, report.data() + 12, 4);
    if (version != report_version || flags != report_flag_simulated)
        return Error(EPERM, "unknown report version or flags");
    PkeyPtr development = TRY(ed25519_key_from_seed(development_key_seed()));
    if (!ed25519_verify(development.get(), report.first(signature_offset),
                        report.subspan(signature_offset)))
        return Error(EPERM, "the report is not signed by myst's development key");
    if (std::memcmp(report.data() + key_hash_offset, key_hash.data(), key_hash.size()) != 0)
        return Error(EPERM, "the report names another public key than the certificate's");
    myst_tee_identity_t abi;
    std::memcpy(&abi, report.data() + identity_offset, sizeof abi);
    if (!(abi.attributes & MYST_TEE_ATTRIBUTE_SIMULATED))
        return Error(EPERM, "the report's identity is not marked simulated");
    return TeeIdentity::from_abi(abi);
}

Result<void> set_name(X509* certificate) {
    X509_NAME* name = X509_get_subject_name(certificate);
    auto add = [&](const char* field, const char* value) {
        return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                          reinterpret_cast<const unsigned char*>(value), -1, -1,
                                          0) == 1;
    };
    if (!add("CN", "myst simulated TEE") ||
        !add("O", "myst SIMULATED attestation (no TEE, development key)") ||
        X509_set_issuer_name(certificate, name) != 1)
        return openssl_error(ENOMEM, "cannot name the certificate");
    return {};
}

Result<void> set_serial(X509* certificate, std::span<const uint8_t> serial) {
    if (serial.empty() || serial.size() > 16)
        return Error::invalid("a serial number is 1 to 16 bytes");
    BignumPtr number(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
    // RFC 5280: positive and non-zero.
    if (!number || BN_set_bit(number.get(), static_cast<int>(serial.size()) * 8) != 1)
        return openssl_error(ENOMEM, "cannot make the serial number");
    IntegerPtr integer(BN_to_ASN1_INTEGER(number.get(), nullptr));
    if (!integer || X509_set_serialNumber(certificate, integer.get()) != 1)
        return openssl_error(ENOMEM, "cannot set the serial number");
    return {};
}

Result<void> add_report_extension(X509* certificate, std::span<const uint8_t> report) {
    ObjectPtr object(OBJ_txt2obj(simulated_report_oid, 1));
    OctetsPtr value(ASN1_OCTET_STRING_new());
    if (!object || !value ||
        ASN1_OCTET_STRING_set(value.get(), report.data(), static_cast<int>(report.size())) != 1)
        return openssl_error(ENOMEM, "cannot make the report extension");
    ExtensionPtr extension(X509_EXTENSION_create_by_OBJ(nullptr, object.get(), 0, value.get()));
    if (!extension || X509_add_ext(certificate, extension.get(), -1) != 1)
        return openssl_error(ENOMEM, "cannot add the report extension");
    return {};
}

Result<std::string> private_key_pem(EVP_PKEY* key) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio ||
        PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
        return openssl_error(ENOMEM, "cannot write the private key");
    char* data = nullptr;
    long size = BIO_get_mem_data(bio.get(), &data);
    std::string pem(data, static_cast<size_t>(size));
    // The BIO's copy is freed with it; wipe it first.
    OPENSSL_cleanse(data, static_cast<size_t>(size));
    return pem;
}

}  // namespace

void wipe(std::span<uint8_t> secret) {
    OPENSSL_cleanse(secret.data(), secret.size());
}

TeeCredentials::~TeeCredentials() {
    wipe({reinterpret_cast<uint8_t*>(private_key.data()), private_key.size()});
}

myst_tee_identity_t TeeIdentity::to_abi() const {
    myst_tee_identity_t abi{};
    abi.id_version = 0;
    abi.security_version = security_version;
    abi.attributes = attributes;
    std::memcpy(abi.unique_id, unique_id.data(), unique_id.size());
    std::memcpy(abi.signer_id, signer_id.data(), signer_id.size());
    std::memcpy(abi.product_id, product_id.data(), product_id.size());
    return abi;
}

TeeIdentity TeeIdentity::from_abi(const myst_tee_identity_t& abi) {
    TeeIdentity identity;
    identity.security_version = abi.security_version;
    identity.attributes = abi.attributes;
    std::memcpy(identity.unique_id.data(), abi.unique_id, identity.unique_id.size());
    std::memcpy(identity.signer_id.data(), abi.signer_id, identity.signer_id.size());
    std::memcpy(identity.product_id.data(), abi.product_id, identity.product_id.size());
    return identity;
}

Result<TeeCredentials> make_simulated_credentials_signed_by(
    const TeeIdentity& identity, std::span<const uint8_t> key_seed, std::span<const uint8_t> serial,
    int64_t now, std::span<const uint8_t> report_key_seed) {
    PkeyPtr key = TRY(ed25519_key_from_seed(key_seed));
    PkeyPtr report_key = TRY(ed25519_key_from_seed(report_key_seed));
    TeeIdentity named = identity;
    named.attributes |= MYST_TEE_ATTRIBUTE_SIMULATED;
    named.attributes &= ~MYST_TEE_ATTRIBUTE_REMOTE;
    TeeCredentials credentials;
    credentials.report = TRY(make_report(named, TRY(public_key_hash(key.get())), report_key.get()));

    time_t start = static_cast<time_t>(now);
    X509Ptr certificate(X509_new());
    if (!certificate || X509_set_version(certificate.get(), 2) != 1 ||
        X509_set_pubkey(certificate.get(), key.get()) != 1 ||
        !X509_time_adj_ex(X509_getm_notBefore(certificate.get()), 0, 0, &start) ||
        !X509_time_adj_ex(X509_getm_notAfter(certificate.get()), 0, validity_seconds, &start))
        return openssl_error(ENOMEM, "cannot make the certificate");
    TRY(set_serial(certificate.get(), serial));
    TRY(set_name(certificate.get()));
    TRY(add_report_extension(certificate.get(), credentials.report));
    // Ed25519 signs the message itself: no digest.
    if (X509_sign(certificate.get(), key.get(), nullptr) <= 0)
        return openssl_error(ENOMEM, "cannot sign the certificate");
    int size = i2d_X509(certificate.get(), nullptr);
    if (size <= 0)
        return openssl_error(ENOMEM, "cannot encode the certificate");
    credentials.certificate.resize(static_cast<size_t>(size));
    uint8_t* cursor = credentials.certificate.data();
    i2d_X509(certificate.get(), &cursor);
    credentials.private_key = TRY(private_key_pem(key.get()));
    return credentials;
}

Result<TeeCredentials> make_simulated_credentials(const TeeIdentity& identity,
                                                  std::span<const uint8_t> key_seed,
                                                  std::span<const uint8_t> serial, int64_t now) {
    return make_simulated_credentials_signed_by(identity, key_seed, serial, now,
                                                development_key_seed());
}

Result<TeeIdentity> verify_simulated_certificate(std::span<const uint8_t> bytes) {
    const uint8_t* cursor = bytes.data();
    X509Ptr certificate(d2i_X509(nullptr, &cursor, static_cast<long>(bytes.size())));
    if (!certificate || cursor != bytes.data() + bytes.size())
        return Error::invalid("not a DER X.509 certificate");
    EVP_PKEY* key = X509_get0_pubkey(certificate.get());  // owned by the certificate
    if (!key)
        return Error(EPERM, "the certificate's public key cannot be read");
    if (X509_NAME_cmp(X509_get_subject_name(certificate.get()),
                      X509_get_issuer_name(certificate.get())) != 0)
        return Error(EPERM, "the certificate is not self-signed");
    if (X509_verify(certificate.get(), key) != 1)
        return Error(EPERM, "the certificate's signature does not match its key");
    ObjectPtr object(OBJ_txt2obj(simulated_report_oid, 1));
    if (!object)
        return openssl_error(ENOMEM, "cannot make the report OID");
    int index = X509_get_ext_by_OBJ(certificate.get(), object.get(), -1);
    if (index < 0)
        return Error(EPERM, "the certificate carries no myst report (another issuer)");
    if (X509_get_ext_by_OBJ(certificate.get(), object.get(), index) >= 0)
        return Error(EPERM, "the certificate carries two myst reports");
    ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(X509_get_ext(certificate.get(), index));
    std::span<const uint8_t> report(ASN1_STRING_get0_data(value),
                                    static_cast<size_t>(ASN1_STRING_length(value)));
    return check_report(report, TRY(public_key_hash(key)));
}

}  // namespace myst::kernel

// The simulated TEE credentials (kernel/tee_credentials.h): a certificate
// made for an identity verifies and gives that identity back; OpenSSL reads
// it as an ordinary self-signed certificate whose key is the PEM key; and
// every forgery is refused: a changed report, a report signed by another
// key, a report moved into another key's certificate, a certificate of
// another issuer, a certificate that is not self-signed, and bytes that are
// no certificate at all.
#include "kernel/tee_credentials.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace myst::kernel {
namespace {

template <auto free_function>
struct Free {
    template <typename T>
    void operator()(T* pointer) const {
        free_function(pointer);
    }
};
using X509Ptr = std::unique_ptr<X509, Free<X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, Free<BIO_free>>;

constexpr int64_t now = 1767225600;  // 2026-01-01

std::array<uint8_t, 32> seed(uint8_t value) {
    std::array<uint8_t, 32> bytes{};
    bytes.fill(value);
    return bytes;
}

const std::array<uint8_t, 16> serial = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

TeeIdentity sample_identity() {
    TeeIdentity identity;
    identity.security_version = 7;
    identity.attributes = MYST_TEE_ATTRIBUTE_DEBUG;
    identity.unique_id.fill(0xab);
    identity.signer_id.fill(0xcd);
    identity.product_id[0] = 0x34;
    identity.product_id[1] = 0x12;
    return identity;
}

TeeCredentials make(const TeeIdentity& identity = sample_identity()) {
    auto credentials = make_simulated_credentials(identity, seed(1), serial, now);
    EXPECT_FALSE(credentials.is_error()) << credentials.error().message();
    return credentials.release_value();
}

X509Ptr parse(const std::vector<uint8_t>& der) {
    const uint8_t* cursor = der.data();
    return X509Ptr(d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
}

std::vector<uint8_t> encode(X509* certificate) {
    std::vector<uint8_t> der(static_cast<size_t>(i2d_X509(certificate, nullptr)));
    uint8_t* cursor = der.data();
    i2d_X509(certificate, &cursor);
    return der;
}

// A self-signed certificate of another issuer for a key from `key_seed`,
// optionally carrying `report` under myst's extension OID.
std::vector<uint8_t> other_issuer_certificate(uint8_t key_seed, const char* common_name,
                                              const std::vector<uint8_t>* report,
                                              const char* issuer_name = nullptr) {
    auto bytes = seed(key_seed);
    PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, bytes.data(), 32));
    X509Ptr certificate(X509_new());
    X509_set_version(certificate.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(certificate.get()), 99);
    X509_gmtime_adj(X509_getm_notBefore(certificate.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(certificate.get()), 3600);
    X509_set_pubkey(certificate.get(), key.get());
    X509_NAME* name = X509_get_subject_name(certificate.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
    X509_NAME* issuer = X509_NAME_new();
    X509_NAME_add_entry_by_txt(
        issuer, "CN", MBSTRING_UTF8,
        reinterpret_cast<const unsigned char*>(issuer_name ? issuer_name : common_name), -1, -1, 0);
    X509_set_issuer_name(certificate.get(), issuer);
    X509_NAME_free(issuer);
    if (report) {
        ASN1_OBJECT* object = OBJ_txt2obj(simulated_report_oid, 1);
        ASN1_OCTET_STRING* value = ASN1_OCTET_STRING_new();
        ASN1_OCTET_STRING_set(value, report->data(), static_cast<int>(report->size()));
        X509_EXTENSION* extension = X509_EXTENSION_create_by_OBJ(nullptr, object, 0, value);
        X509_add_ext(certificate.get(), extension, -1);
        X509_EXTENSION_free(extension);
        ASN1_OCTET_STRING_free(value);
        ASN1_OBJECT_free(object);
    }
    EXPECT_GT(X509_sign(certificate.get(), key.get(), nullptr), 0);
    return encode(certificate.get());
}

void expect_refused(const std::vector<uint8_t>& certificate, int code, const std::string& reason) {
    auto verified = verify_simulated_certificate(certificate);
    ASSERT_TRUE(verified.is_error());
    EXPECT_EQ(verified.error().code(), code) << verified.error().message();
    EXPECT_NE(verified.error().message().find(reason), std::string::npos)
        << verified.error().message();
}

TEST(TeeCredentials, VerifyGivesTheIdentityBackMarkedSimulated) {
    TeeCredentials credentials = make();
    auto verified = verify_simulated_certificate(credentials.certificate);
    ASSERT_FALSE(verified.is_error()) << verified.error().message();
    TeeIdentity expected = sample_identity();
    expected.attributes |= MYST_TEE_ATTRIBUTE_SIMULATED;
    EXPECT_EQ(verified.value(), expected);
    myst_tee_identity_t abi = verified.value().to_abi();
    EXPECT_EQ(abi.id_version, 0u);
    EXPECT_EQ(abi.security_version, 7u);
    EXPECT_EQ(abi.product_id[0], 0x34);
    EXPECT_EQ(abi.product_id[1], 0x12);
    EXPECT_EQ(credentials.report.size(), simulated_report_size);
    EXPECT_EQ(std::memcmp(credentials.report.data(), "MYSTSIMR", 8), 0);
}

TEST(TeeCredentials, OpensslReadsASelfSignedCertificateForThePemKey) {
    TeeCredentials credentials = make();
    X509Ptr certificate = parse(credentials.certificate);
    ASSERT_TRUE(certificate);
    EXPECT_EQ(X509_verify(certificate.get(), X509_get0_pubkey(certificate.get())), 1);
    EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(certificate.get()),
                            X509_get_issuer_name(certificate.get())),
              0);
    char subject[256];
    X509_NAME_oneline(X509_get_subject_name(certificate.get()), subject, sizeof subject);
    EXPECT_NE(std::string(subject).find("SIMULATED"), std::string::npos) << subject;
    // The report extension is there, and not critical (TLS peers accept it).
    ASN1_OBJECT* object = OBJ_txt2obj(simulated_report_oid, 1);
    int index = X509_get_ext_by_OBJ(certificate.get(), object, -1);
    ASN1_OBJECT_free(object);
    ASSERT_GE(index, 0);
    EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(certificate.get(), index)), 0);

    BioPtr bio(BIO_new_mem_buf(credentials.private_key.data(),
                               static_cast<int>(credentials.private_key.size())));
    PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    ASSERT_TRUE(key);
    EXPECT_EQ(X509_check_private_key(certificate.get(), key.get()), 1);
}

TEST(TeeCredentials, FreshSeedsGiveFreshKeys) {
    auto first = make_simulated_credentials(sample_identity(), seed(1), serial, now);
    auto second = make_simulated_credentials(sample_identity(), seed(2), serial, now);
    ASSERT_FALSE(first.is_error());
    ASSERT_FALSE(second.is_error());
    EXPECT_NE(first.value().private_key, second.value().private_key);
    EXPECT_NE(first.value().certificate, second.value().certificate);
}

TEST(TeeCredentials, AChangedReportIsRefused) {
    TeeCredentials credentials = make();
    auto& der = credentials.certificate;
    auto at =
        std::search(der.begin(), der.end(), credentials.report.begin(), credentials.report.end());
    ASSERT_NE(at, der.end());
    size_t report = static_cast<size_t>(at - der.begin());
    // The ProductID (identity at 16, product_id at 80 in it): the report's
    // signature fails; the certificate's own signature too, which is
    // checked first.
    std::vector<uint8_t> changed = der;
    changed[report + 16 + 80] ^= 1;
    expect_refused(changed, EPERM, "signature");
}

TEST(TeeCredentials, AChangedReportInACertificateResignedByItsOwnKeyIsRefused) {
    // The holder of the key (seed 1) raises its SecurityVersion and signs
    // the certificate again: only the report's own signature catches it.
    TeeCredentials credentials = make();
    std::vector<uint8_t> report = credentials.report;
    report[16 + 4] ^= 0x08;
    auto resigned = other_issuer_certificate(1, "myst simulated TEE", &report);
    expect_refused(resigned, EPERM, "development key");
    // Unchanged, the same construction verifies: the test changes one thing.
    auto same = other_issuer_certificate(1, "myst simulated TEE", &credentials.report);
    EXPECT_FALSE(verify_simulated_certificate(same).is_error());
}

TEST(TeeCredentials, AReportSignedByAnotherKeyIsRefused) {
    auto forged =
        make_simulated_credentials_signed_by(sample_identity(), seed(1), serial, now, seed(9));
    ASSERT_FALSE(forged.is_error());
    expect_refused(forged.value().certificate, EPERM, "development key");
}

TEST(TeeCredentials, AReportMovedIntoAnotherKeysCertificateIsRefused) {
    TeeCredentials credentials = make();
    auto moved = other_issuer_certificate(5, "myst simulated TEE", &credentials.report);
    expect_refused(moved, EPERM, "another public key");
}

TEST(TeeCredentials, ACertificateOfAnotherIssuerIsRefused) {
    auto other = other_issuer_certificate(6, "attested service", nullptr);
    expect_refused(other, EPERM, "another issuer");
}

TEST(TeeCredentials, ACertificateThatIsNotSelfSignedIsRefused) {
    TeeCredentials credentials = make();
    auto issued =
        other_issuer_certificate(7, "leaf", &credentials.report, "Some Certificate Authority");
    expect_refused(issued, EPERM, "not self-signed");
}

TEST(TeeCredentials, BytesThatAreNoCertificateAreEinval) {
    expect_refused({}, EINVAL, "not a DER");
    expect_refused(std::vector<uint8_t>(300, 0x5a), EINVAL, "not a DER");
    TeeCredentials credentials = make();
    std::vector<uint8_t> truncated(credentials.certificate.begin(),
                                   credentials.certificate.end() - 1);
    expect_refused(truncated, EINVAL, "not a DER");
    std::vector<uint8_t> trailing = credentials.certificate;
    trailing.push_back(0);
    expect_refused(trailing, EINVAL, "not a DER");
}

TEST(TeeCredentials, BadSeedsAndSerialsAreErrors) {
    std::array<uint8_t, 5> short_seed{};
    EXPECT_TRUE(make_simulated_credentials(sample_identity(), short_seed, serial, now).is_error());
    std::array<uint8_t, 17> long_serial{};
    EXPECT_TRUE(
        make_simulated_credentials(sample_identity(), seed(1), long_serial, now).is_error());
}

}  // namespace
}  // namespace myst::kernel

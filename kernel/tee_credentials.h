// TEE credentials on a target without a TEE: a self-signed X.509
// certificate for a fresh key, carrying a SIMULATED attestation report in an
// extension, and the check of such a certificate (Mystikos's gen_creds and
// verify_cert; include/myst/tee.h has the program's side).
//
// The report stands where an SGX quote would: it names the application's
// identity (measurement, signer, ProductID, SecurityVersion) and binds it to
// the certificate's key by the key's SHA-256. A real quote is signed by the
// CPU's quoting enclave; this one is signed with a DEVELOPMENT key that is
// derived from a public string, so anyone can forge it: it lets programs
// exercise the attested-TLS flow, and proves nothing. The certificate says
// so in its subject, the report has a "simulated" flag, and the identity
// carries MYST_TEE_ATTRIBUTE_SIMULATED.
//
// Report layout (simulated_report_size bytes, little-endian):
//    0 magic "MYSTSIMR"   8 version u32 = 1   12 flags u32 (bit 0: simulated)
//   16 identity: myst_tee_identity_t (96 bytes)
//  112 SHA-256 of the certificate's public key (DER SubjectPublicKeyInfo)
//  144 Ed25519 signature of bytes [0, 144) by the development key (64 bytes)
//
// An SGX target would implement the same two operations with Open
// Enclave's oe_get_report / oe_verify_attestation_certificate (see
// doc/tee-aware.md): the syscalls and the files do not change.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "include/myst/tee.h"

namespace myst::kernel {

// The identity a report names; to_abi() gives the program's structure.
struct TeeIdentity {
    uint32_t security_version = 0;
    uint64_t attributes = 0;  // MYST_TEE_ATTRIBUTE_*
    std::array<uint8_t, MYST_UNIQUE_ID_SIZE> unique_id{};
    std::array<uint8_t, MYST_SIGNER_ID_SIZE> signer_id{};
    std::array<uint8_t, MYST_PRODUCT_ID_SIZE> product_id{};

    myst_tee_identity_t to_abi() const;
    static TeeIdentity from_abi(const myst_tee_identity_t& identity);
    bool operator==(const TeeIdentity&) const = default;
};

struct TeeCredentials {
    std::vector<uint8_t> certificate;  // DER
    std::string private_key;           // PEM (PKCS#8); wiped when this ends
    std::vector<uint8_t> report;       // the report, as in the certificate

    TeeCredentials() = default;
    TeeCredentials(TeeCredentials&&) = default;
    TeeCredentials& operator=(TeeCredentials&&) = default;
    ~TeeCredentials();
};

// Overwrites secret bytes with zeros in a way the compiler keeps.
void wipe(std::span<uint8_t> secret);

// The extension that carries the report: a UUID OID (ITU-T X.667) of its
// own, so that no real attestation format is mistaken for it. Non-critical,
// so that TLS libraries and `openssl verify` accept the certificate.
inline constexpr const char* simulated_report_oid = "2.25.226251131194418216530391627045576641111";
inline constexpr size_t simulated_report_size = 208;

// Makes the credentials: an Ed25519 key from `key_seed` (32 random bytes:
// signing needs no randomness afterwards), valid from `now` (seconds since
// the epoch) for ten years, with serial number `serial` (up to 16 bytes).
Result<TeeCredentials> make_simulated_credentials(const TeeIdentity& identity,
                                                  std::span<const uint8_t> key_seed,
                                                  std::span<const uint8_t> serial, int64_t now);

// The same, with the report signed by the Ed25519 key from `report_key_seed`
// instead of the development key (tests forge certificates with it).
Result<TeeCredentials> make_simulated_credentials_signed_by(
    const TeeIdentity& identity, std::span<const uint8_t> key_seed, std::span<const uint8_t> serial,
    int64_t now, std::span<const uint8_t> report_key_seed);

// Checks a DER certificate made by make_simulated_credentials: its own
// signature, one report extension, the report's development-key signature
// and flags, and that the report names the certificate's key. EINVAL: not a
// DER certificate; EPERM: any other check failed (the message says which).
Result<TeeIdentity> verify_simulated_certificate(std::span<const uint8_t> certificate);

// The one-line notice myst prints once per run when it first makes
// simulated credentials.
inline constexpr const char* simulated_credentials_notice =
    "myst: TEE credentials are SIMULATED (linux target, no TEE): the attestation report is signed "
    "with a public development key and proves nothing\n";

}  // namespace myst::kernel

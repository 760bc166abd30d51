// The TEE-aware runtime on a kernel: credentials for the running
// application (SYS_myst_gen_creds, MYST_WANT_TEE_CREDENTIALS) and the
// check of a peer's certificate (SYS_myst_verify_cert).
//
// Where a TEE plugs in: on the linux target both operations use the
// SIMULATED report of kernel/tee_credentials.h, signed with a public
// development key. An SGX target would give make_tee_credentials a real
// quote over the certificate key's hash (Open Enclave's oe_get_report, as
// Mystikos's gencreds.c does) and verify_tee_certificate Open Enclave's
// oe_verify_attestation_certificate; the identity, the syscalls and the
// files stay as they are. Those two functions are the seam.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "kernel/tee_credentials.h"

namespace myst::kernel {

class Kernel;

// The application's identity for its reports: from the signed config of a
// package (measurement, signer, ProductID, SecurityVersion, Debug), from an
// unsigned config (ProductID and SecurityVersion; zero ids), or all zeros.
// KernelConfig::tee_identity holds it.

// New credentials for the running application: a fresh key from the
// target's randomness, a certificate and report naming
// kernel.config().tee_identity. The first call of a run says on stderr
// that they are simulated.
Result<TeeCredentials> make_tee_credentials(Kernel& kernel);

// Checks a peer's DER certificate; the identity its report names.
Result<TeeIdentity> verify_tee_certificate(std::span<const uint8_t> certificate);

// MYST_WANT_TEE_CREDENTIALS in the program's initial `environment`:
// CERT_PEMKEY writes MYST_CERTIFICATE_PATH and MYST_PRIVATE_KEY_PATH,
// CERT_PEMKEY_REPORT also MYST_ATTESTATION_REPORT_PATH (through the VFS, so
// on the kernel's /tmp, never the host's); unset: nothing. Any other value
// is EINVAL, as in Mystikos.
Result<void> write_tee_credential_files(Kernel& kernel,
                                        const std::vector<std::string>& environment);

}  // namespace myst::kernel

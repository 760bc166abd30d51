/* myst's TEE-aware system calls, for programs (C and C++).
 *
 * The numbers, the identity structure and the file paths are Mystikos's
 * (its include/myst/tee.h), so a program written against Mystikos builds
 * against this header and runs unchanged. doc/tee-aware.md says what each
 * call does on the linux target, where there is no TEE and the attestation
 * report is SIMULATED.
 *
 *   syscall(SYS_myst_gen_creds, &cert, &cert_size, &pkey, &pkey_size)
 *       cert: DER X.509 certificate with the (simulated) report in an
 *       extension; pkey: its private key, PEM. Both in new program memory.
 *   syscall(SYS_myst_gen_creds_ex, &cert, &cert_size, &pkey, &pkey_size,
 *           &report, &report_size)
 *       the same, and the report on its own.
 *   syscall(SYS_myst_free_creds, cert, cert_size, pkey, pkey_size,
 *           report, report_size)   (report may be NULL, 0)
 *   syscall(SYS_myst_free_creds_ex, ...same arguments...)
 *       wipes and unmaps what gen_creds(_ex) returned.
 *   syscall(SYS_myst_verify_cert, cert, cert_size, verifier, arg)
 *       0 when the certificate and its report check out and `verifier`
 *       (may be NULL) returns 0 for the identity the report names.
 *
 * Errors (syscall() returns -1 and sets errno): EFAULT for a bad pointer,
 * EINVAL for bytes that are not a certificate, EPERM for a certificate
 * whose report is missing, tampered with or from another issuer, EACCES
 * when the verifier refused the identity, ENOMEM when the memory budget is
 * spent.
 */
#ifndef MYST_TEE_H
#define MYST_TEE_H

#include <stdint.h>

enum {
    /* Mystikos's public extended system calls. */
    SYS_myst_max_threads = 1008, /* not offered by myst: ENOSYS */
    SYS_myst_gen_creds = 1009,
    SYS_myst_free_creds = 1010,
    SYS_myst_verify_cert = 1011,
    SYS_myst_gen_creds_ex = 1012,
    SYS_myst_free_creds_ex = 1013,
    /* 1014 to 1035 are Mystikos's Open Enclave extensions (SGX only; ENOSYS
     * here). */
};

#define MYST_UNIQUE_ID_SIZE 32  /* bytes: SGX's MRENCLAVE; myst's measurement */
#define MYST_SIGNER_ID_SIZE 32  /* bytes: SGX's MRSIGNER; SHA-256 of the signer's modulus */
#define MYST_PRODUCT_ID_SIZE 16 /* bytes: SGX's ISVPRODID (16 bits, little-endian) */

/* Written at start when the program's environment has
 * MYST_WANT_TEE_CREDENTIALS=CERT_PEMKEY (certificate and key) or
 * CERT_PEMKEY_REPORT (and the report). */
#define MYST_CERTIFICATE_PATH "/tmp/myst.crt"           /* DER */
#define MYST_PRIVATE_KEY_PATH "/tmp/myst.key"           /* PEM */
#define MYST_ATTESTATION_REPORT_PATH "/tmp/myst.report" /* binary */

/* Bits of myst_tee_identity_t.attributes. The first two are Open
 * Enclave's; myst's own start from the top. */
#define MYST_TEE_ATTRIBUTE_DEBUG 0x1ull  /* the application was signed with Debug */
#define MYST_TEE_ATTRIBUTE_REMOTE 0x2ull /* a real TEE's report: never set on linux */
#define MYST_TEE_ATTRIBUTE_SIMULATED 0x8000000000000000ull /* no TEE: the report proves nothing */

/* The identity a verified report names; the layout of Open Enclave's
 * oe_identity_t (96 bytes). */
typedef struct _myst_tee_identity {
    uint32_t id_version;       /* 0 */
    uint32_t security_version; /* the config's SecurityVersion (SGX: ISVSVN) */
    uint64_t attributes;       /* MYST_TEE_ATTRIBUTE_* */
    uint8_t unique_id[MYST_UNIQUE_ID_SIZE];
    uint8_t signer_id[MYST_SIGNER_ID_SIZE];
    uint8_t product_id[MYST_PRODUCT_ID_SIZE]; /* the config's ProductID */
} myst_tee_identity_t;

/* The verifier SYS_myst_verify_cert calls: 0 accepts the identity, any
 * other value refuses it. It runs on the calling thread, like a signal
 * handler, and may make system calls. As with a signal handler, what it
 * writes should be volatile or reached through `arg`: glibc declares
 * syscall() a leaf function, so a compiler may assume the call changes no
 * static variable of the caller's file. */
typedef int (*myst_tee_verifier_t)(myst_tee_identity_t* identity, void* arg);

#endif /* MYST_TEE_H */

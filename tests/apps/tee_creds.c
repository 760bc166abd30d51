/* The TEE-aware flow of Mystikos's guide (doc/user-getting-started-tee-aware
 * there): gen_creds, then verify_cert with a verifier that checks the
 * ProductID and SecurityVersion, then free_creds; built against myst's copy
 * of the numbers (include/myst/tee.h). Then what the guide does not show:
 * the _ex calls, a refusing verifier, a verifier that nests, registers kept
 * across the verifier, and bad input (garbage, tampered certificates, bad
 * pointers), which must fail with an errno and never crash.
 *
 * Usage: tee_creds [PRODUCT_ID SECURITY_VERSION [files]]
 *   the identity the verifier expects (default 1 1); "files": also check
 *   the certificate, key (and report) MYST_WANT_TEE_CREDENTIALS wrote.
 * Only meaningful under myst (MYST_TARGET set); natively it says so. */
#include <fcntl.h>
#include <myst/tee.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "verdict.h"

static unsigned expected_product_id = 1;
static unsigned expected_security_version = 1;
static myst_tee_identity_t seen;
/* volatile: glibc declares syscall() a leaf function (it never calls back
 * into this file), so without it the compiler may keep the count in a
 * register across verify_cert, whose verifier does call back. Anything a
 * verifier writes must be volatile or reached through its `arg`. */
static volatile int verifier_calls;

static void print_hex(const char* name, const uint8_t* bytes, size_t size) {
    printf("%s: ", name);
    for (size_t i = 0; i < size; i++)
        printf("%02x", bytes[i]);
    printf("\n");
}

/* As the guide's verifier: 0 accepts. It also records what it saw and
 * uses the FPU and stdio, which the kernel must not mind. */
static int product_verifier(myst_tee_identity_t* identity, void* arg) {
    uint8_t product_id[MYST_PRODUCT_ID_SIZE] = {0};
    product_id[0] = (uint8_t)expected_product_id;
    product_id[1] = (uint8_t)(expected_product_id >> 8);
    verifier_calls++;
    seen = *identity;
    volatile double clobber = 2.5;
    printf("verifier: arg %s, %.1f\n", arg == &seen ? "as given" : "wrong", clobber * 2);
    return memcmp(identity->product_id, product_id, MYST_PRODUCT_ID_SIZE) != 0 ||
           identity->security_version != expected_security_version;
}

static int refusing_verifier(myst_tee_identity_t* identity, void* arg) {
    (void)identity;
    (void)arg;
    verifier_calls++;
    return 42;
}

struct nested {
    void* cert;
    size_t size;
    long inner_result;
};

/* A verifier that verifies again, with a verifier of its own. */
static int nesting_verifier(myst_tee_identity_t* identity, void* arg) {
    struct nested* nested = arg;
    (void)identity;
    verifier_calls++;
    nested->inner_result =
        syscall(SYS_myst_verify_cert, nested->cert, nested->size, product_verifier, &seen);
    return 0;
}

/* verify_cert with the syscall instruction itself, checking that every
 * register Linux keeps across a syscall (all but rax, rcx, r11) and an SSE
 * register come back unchanged although the verifier ran in between. */
static long verify_keeping_registers(void* cert, size_t size, int* kept) {
    long rax = SYS_myst_verify_cert;
    long rdi = (long)cert, rsi = (long)size, rdx = (long)product_verifier;
    register long r10 __asm__("r10") = (long)&seen;
    register long r8 __asm__("r8") = 0x0123456789abcdefl;
    register long r9 __asm__("r9") = -77;
    double xmm = 1234.5;
    __asm__ volatile("syscall"
                     : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r10), "+r"(r8), "+r"(r9),
                       "+x"(xmm)
                     :
                     : "rcx", "r11", "memory");
    *kept = rdi == (long)cert && rsi == (long)size && rdx == (long)product_verifier &&
            r10 == (long)&seen && r8 == 0x0123456789abcdefl && r9 == -77 && xmm == 1234.5;
    return rax;
}

/* Where the report's magic lies in a DER certificate; -1 when absent. */
static long find_report(const uint8_t* bytes, size_t size) {
    for (size_t i = 0; i + 8 <= size; i++)
        if (memcmp(bytes + i, "MYSTSIMR", 8) == 0)
            return (long)i;
    return -1;
}

static void check_tampering(const uint8_t* cert, size_t size) {
    uint8_t* copy = malloc(size);
    long report = find_report(cert, size);
    CHECK(report > 0, "the certificate carries the simulated report");
    if (report <= 0 || !copy) {
        free(copy);
        return;
    }
    /* ProductID inside the report (offset 16 + 80), the key hash (112), the
     * report's signature (144), the certificate's own signature (the end). */
    const long offsets[] = {report + 96, report + 114, report + 150, (long)size - 5};
    const char* names[] = {"the report's ProductID", "the report's key hash",
                           "the report's signature", "the certificate's signature"};
    for (size_t i = 0; i < 4; i++) {
        memcpy(copy, cert, size);
        copy[offsets[i]] ^= 0x01;
        char what[128];
        snprintf(what, sizeof what, "verify_cert with %s changed", names[i]);
        expect_errno(syscall(SYS_myst_verify_cert, copy, size, NULL, NULL), EPERM, what);
    }
    memcpy(copy, cert, size);
    expect_errno(syscall(SYS_myst_verify_cert, copy, size - 1, NULL, NULL), EINVAL,
                 "verify_cert of a truncated certificate");
    free(copy);
}

static void check_bad_input(void* cert, size_t cert_size) {
    uint8_t garbage[300];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = (uint8_t)(i * 7 + 3);
    expect_errno(syscall(SYS_myst_verify_cert, garbage, sizeof garbage, NULL, NULL), EINVAL,
                 "verify_cert of garbage");
    expect_errno(syscall(SYS_myst_verify_cert, (void*)16, (size_t)100, NULL, NULL), EFAULT,
                 "verify_cert of a bad pointer");
    expect_errno(syscall(SYS_myst_verify_cert, cert, (size_t)0, NULL, NULL), EINVAL,
                 "verify_cert of size 0");
    expect_errno(syscall(SYS_myst_verify_cert, cert, cert_size, (void*)garbage, NULL), EFAULT,
                 "verify_cert with a verifier that is not code");
    void* out = NULL;
    size_t size = 0;
    expect_errno(syscall(SYS_myst_gen_creds, NULL, &size, &out, &size), EFAULT,
                 "gen_creds with a null output pointer");
    expect_errno(syscall(SYS_myst_gen_creds, &out, &size, &out, (void*)8), EFAULT,
                 "gen_creds with a bad output pointer");
    expect_errno(syscall(SYS_myst_free_creds, (void*)4096, (size_t)10, NULL, (size_t)0), EFAULT,
                 "free_creds of unmapped memory");
    expect_errno(syscall(SYS_myst_free_creds, garbage + 1, (size_t)10, NULL, (size_t)0), EINVAL,
                 "free_creds of a pointer gen_creds did not return");
}

static void check_ex(void) {
    void *cert = NULL, *pkey = NULL, *report = NULL;
    size_t cert_size = 0, pkey_size = 0, report_size = 0;
    long ret =
        syscall(SYS_myst_gen_creds_ex, &cert, &cert_size, &pkey, &pkey_size, &report, &report_size);
    CHECK(ret == 0 && cert && pkey && report, "gen_creds_ex");
    if (ret != 0)
        return;
    CHECK(report_size == 208 && memcmp(report, "MYSTSIMR", 8) == 0,
          "gen_creds_ex: the report on its own");
    CHECK(syscall(SYS_myst_verify_cert, cert, cert_size, product_verifier, &seen) == 0,
          "verify_cert accepts gen_creds_ex's certificate");
    CHECK(
        syscall(SYS_myst_free_creds_ex, cert, cert_size, pkey, pkey_size, report, report_size) == 0,
        "free_creds_ex");
}

static size_t read_file(const char* path, uint8_t* buffer, size_t size) {
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t got = read(fd, buffer, size);
    close(fd);
    return got > 0 ? (size_t)got : 0;
}

static void check_files(void) {
    static uint8_t cert[8192], key[8192], report[1024];
    size_t cert_size = read_file(MYST_CERTIFICATE_PATH, cert, sizeof cert);
    size_t key_size = read_file(MYST_PRIVATE_KEY_PATH, key, sizeof key - 1);
    size_t report_size = read_file(MYST_ATTESTATION_REPORT_PATH, report, sizeof report);
    CHECK(cert_size > 0, "MYST_WANT_TEE_CREDENTIALS wrote " MYST_CERTIFICATE_PATH);
    CHECK(key_size > 0 && strstr((char*)key, "-----BEGIN PRIVATE KEY-----") != NULL,
          "MYST_WANT_TEE_CREDENTIALS wrote a PEM key to " MYST_PRIVATE_KEY_PATH);
    const char* wanted = getenv("MYST_WANT_TEE_CREDENTIALS");
    if (wanted && strcmp(wanted, "CERT_PEMKEY_REPORT") == 0)
        CHECK(report_size == 208,
              "CERT_PEMKEY_REPORT wrote the report to " MYST_ATTESTATION_REPORT_PATH);
    else
        CHECK(report_size == 0 && access(MYST_ATTESTATION_REPORT_PATH, F_OK) != 0,
              "CERT_PEMKEY wrote no report");
    CHECK(cert_size > 0 &&
              syscall(SYS_myst_verify_cert, cert, cert_size, product_verifier, &seen) == 0,
          "the written certificate verifies with the expected identity");
}

int main(int argc, char** argv) {
    const char* target = getenv("MYST_TARGET");
    if (!target) {
        printf("not running on myst (no MYST_TARGET): nothing to check\n");
        return 0;
    }
    if (argc >= 3) {
        expected_product_id = (unsigned)strtoul(argv[1], NULL, 0);
        expected_security_version = (unsigned)strtoul(argv[2], NULL, 0);
    }
    printf("MYST_TARGET=%s\n", target);

    /* The guide's flow. */
    void *cert = NULL, *pkey = NULL;
    size_t cert_size = 0, pkey_size = 0;
    long ret = syscall(SYS_myst_gen_creds, &cert, &cert_size, &pkey, &pkey_size);
    CHECK(ret == 0 && cert && pkey && cert_size > 0 && pkey_size > 0,
          "gen_creds: a certificate and a private key");
    if (ret != 0)
        return verdict_finish();
    ret = syscall(SYS_myst_verify_cert, cert, cert_size, product_verifier, &seen);
    CHECK(ret == 0 && verifier_calls == 1,
          "verify_cert with a verifier checking ProductID %u and SecurityVersion %u",
          expected_product_id, expected_security_version);
    if (ret != 0)
        printf("verify_cert: errno %s\n", errno_name(errno));
    printf("identity: id_version %u, security_version %u, attributes 0x%llx\n", seen.id_version,
           seen.security_version, (unsigned long long)seen.attributes);
    print_hex("unique_id", seen.unique_id, MYST_UNIQUE_ID_SIZE);
    print_hex("signer_id", seen.signer_id, MYST_SIGNER_ID_SIZE);
    print_hex("product_id", seen.product_id, MYST_PRODUCT_ID_SIZE);
    CHECK(seen.attributes & MYST_TEE_ATTRIBUTE_SIMULATED, "the identity says it is simulated");

    /* Beyond the guide. */
    CHECK(syscall(SYS_myst_verify_cert, cert, cert_size, NULL, NULL) == 0,
          "verify_cert without a verifier");
    verifier_calls = 0;
    expect_errno(syscall(SYS_myst_verify_cert, cert, cert_size, refusing_verifier, NULL), EACCES,
                 "verify_cert with a refusing verifier");
    CHECK(verifier_calls == 1, "the refusing verifier ran once");
    struct nested nested = {cert, cert_size, -1};
    verifier_calls = 0;
    CHECK(syscall(SYS_myst_verify_cert, cert, cert_size, nesting_verifier, &nested) == 0 &&
              nested.inner_result == 0 && verifier_calls == 2,
          "a verifier that calls verify_cert with a verifier of its own");
    int kept = 0;
    CHECK(verify_keeping_registers(cert, cert_size, &kept) == 0 && kept,
          "registers survive the verifier's run");
    check_tampering(cert, cert_size);
    check_bad_input(cert, cert_size);

    ret = syscall(SYS_myst_free_creds, cert, cert_size, pkey, pkey_size, NULL, 0);
    CHECK(ret == 0, "free_creds");
    expect_errno(syscall(SYS_myst_verify_cert, cert, cert_size, NULL, NULL), EFAULT,
                 "the freed certificate is gone");
    check_ex();
    if (argc >= 4 && strcmp(argv[3], "files") == 0)
        check_files();
    return verdict_finish();
}

#include "kernel/tee_runtime.h"

#include <fcntl.h>

#include <array>
#include <cstring>
#include <string_view>

#include "fs/vfs/open_file.h"
#include "fs/vfs/vfs.h"
#include "kernel/kernel.h"

namespace myst::kernel {

namespace {

constexpr std::string_view want_variable = "MYST_WANT_TEE_CREDENTIALS=";
constexpr mode_t credential_file_mode = 0444;  // as Mystikos writes them

// The notice goes to the host's stderr through the target, once per run.
void announce_simulated(Kernel& kernel) {
    if (kernel.simulated_tee_announced)
        return;
    kernel.simulated_tee_announced = true;
    std::string_view notice = simulated_credentials_notice;
    (void)kernel.target().file_write(
        2, {reinterpret_cast<const uint8_t*>(notice.data()), notice.size()});
}

Result<void> write_file(Kernel& kernel, const char* path, std::span<const uint8_t> bytes) {
    fs::Vfs& vfs = kernel.vfs();
    auto file =
        vfs.open(vfs.root_lookup(), path, O_CREAT | O_WRONLY | O_TRUNC, credential_file_mode);
    if (file.is_error())
        return file.release_error().with_context(std::string("cannot create ") + path);
    size_t written = 0;
    while (written < bytes.size()) {
        auto count = file.value()->write(bytes.subspan(written));
        if (count.is_error())
            return count.release_error().with_context(std::string("cannot write ") + path);
        if (count.value() == 0)
            return Error(EIO, std::string("cannot write ") + path);
        written += count.value();
    }
    return {};
}

}  // namespace

Result<TeeCredentials> make_tee_credentials(Kernel& kernel) {
    std::array<uint8_t, 32> key_seed{};
    std::array<uint8_t, 16> serial{};
    TRY(kernel.target().random_bytes(key_seed));
    TRY(kernel.target().random_bytes(serial));
    struct timespec now = TRY(kernel.target().clock_time(CLOCK_REALTIME));
    auto credentials =
        make_simulated_credentials(kernel.config().tee_identity, key_seed, serial, now.tv_sec);
    wipe(key_seed);  // the seed is the private key
    if (!credentials.is_error())
        announce_simulated(kernel);
    return credentials;
}

Result<TeeIdentity> verify_tee_certificate(std::span<const uint8_t> certificate) {
    return verify_simulated_certificate(certificate);
}

Result<void> write_tee_credential_files(Kernel& kernel,
                                        const std::vector<std::string>& environment) {
    std::string_view wanted;
    bool present = false;
    for (const std::string& variable : environment)
        if (variable.starts_with(want_variable)) {
            wanted = std::string_view(variable).substr(want_variable.size());
            present = true;  // the first, as getenv(3) finds it
            break;
        }
    if (!present)
        return {};
    bool with_report = wanted == "CERT_PEMKEY_REPORT";
    if (!with_report && wanted != "CERT_PEMKEY")
        return Error::invalid("MYST_WANT_TEE_CREDENTIALS is '" + std::string(wanted) +
                              "', not CERT_PEMKEY or CERT_PEMKEY_REPORT");
    TeeCredentials credentials = TRY(make_tee_credentials(kernel));
    TRY(write_file(kernel, MYST_CERTIFICATE_PATH, credentials.certificate));
    TRY(write_file(kernel, MYST_PRIVATE_KEY_PATH,
                   {reinterpret_cast<const uint8_t*>(credentials.private_key.data()),
                    credentials.private_key.size()}));
    if (with_report)
        TRY(write_file(kernel, MYST_ATTESTATION_REPORT_PATH, credentials.report));
    return {};
}

}  // namespace myst::kernel

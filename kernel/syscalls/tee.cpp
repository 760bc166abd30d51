// Mystikos's TEE-aware system calls (include/myst/tee.h): credentials for
// the running application and the check of a peer's certificate, over
// kernel/tee_runtime.h. On the linux target the attestation report is
// simulated (doc/tee-aware.md).
#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "kernel/kernel.h"
#include "kernel/memory_manager.h"
#include "kernel/process.h"
#include "kernel/program_call.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/tee_runtime.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

// Larger than any certificate with a report (under 1 KiB), small enough
// to copy into the kernel.
constexpr uint64_t max_certificate_size = 64 * 1024;

// The program memory gen_creds hands out: one anonymous mapping per
// buffer, unmapped again unless the call succeeds.
class ProgramBuffers {
public:
    explicit ProgramBuffers(Thread& thread) : m_thread(thread) {}
    ProgramBuffers(const ProgramBuffers&) = delete;
    ProgramBuffers& operator=(const ProgramBuffers&) = delete;
    ~ProgramBuffers() {
        if (m_kept)
            return;
        for (const auto& [address, size] : m_mapped)
            (void)m_thread.kernel().memory().unmap(address, size);
    }

    // A new mapping holding `bytes`; its address.
    Result<uint64_t> add(std::span<const uint8_t> bytes) {
        MemoryManager& memory = m_thread.kernel().memory();
        uint64_t size = page_align_up(bytes.size());
        uint64_t address =
            TRY(memory.map_anywhere(size, PROT_READ | PROT_WRITE, "", m_thread.process().space));
        m_mapped.emplace_back(address, size);
        TRY(copy_to_user(m_thread, address, bytes.data(), bytes.size()));
        return address;
    }
    void keep() { m_kept = true; }

private:
    Thread& m_thread;
    std::vector<std::pair<uint64_t, uint64_t>> m_mapped;
    bool m_kept = false;
};

std::span<const uint8_t> bytes_of(const std::string& text) {
    return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// gen_creds and gen_creds_ex: args 0-3 are where the certificate, its
// size, the key and its size go; with `report`, args 4-5 for the report.
Result<long> generate_credentials(Thread& thread, const SyscallArgs& args, bool report) {
    int pointers = report ? 6 : 4;
    for (int i = 0; i < pointers; ++i)
        if (!thread.kernel().memory_accessible(args.address(i), sizeof(uint64_t)))
            return Error(EFAULT, "gen_creds: bad output pointer");
    TeeCredentials credentials = TRY(make_tee_credentials(thread.kernel()));
    ProgramBuffers buffers(thread);
    uint64_t certificate = TRY(buffers.add(credentials.certificate));
    uint64_t key = TRY(buffers.add(bytes_of(credentials.private_key)));
    TRY(write_user(thread, args.address(0), certificate));
    TRY(write_user(thread, args.address(1), uint64_t{credentials.certificate.size()}));
    TRY(write_user(thread, args.address(2), key));
    TRY(write_user(thread, args.address(3), uint64_t{credentials.private_key.size()}));
    if (report) {
        uint64_t report_address = TRY(buffers.add(credentials.report));
        TRY(write_user(thread, args.address(4), report_address));
        TRY(write_user(thread, args.address(5), uint64_t{credentials.report.size()}));
    }
    buffers.keep();
    return 0;
}

// Wipes and unmaps one buffer gen_creds handed out; a null one is skipped.
Result<void> free_buffer(Thread& thread, uint64_t address, uint64_t size) {
    if (address == 0)
        return {};
    if (address % page_size != 0 || size == 0 || page_align_up(size) < size)
        return Error(EINVAL, "free_creds: not a buffer gen_creds returned");
    if (!thread.kernel().memory_accessible(address, size))
        return Error(EFAULT, "free_creds: the buffer is not program memory");
    static const std::array<uint8_t, page_size> zeros{};
    for (uint64_t done = 0; done < size; done += page_size)
        TRY(copy_to_user(thread, address + done, zeros.data(), std::min(page_size, size - done)));
    return thread.kernel().memory().unmap(address, page_align_up(size));
}

// The verifier's result: 0 accepts the identity.
Result<long> complete_verification(long verifier_result) {
    if (static_cast<int>(verifier_result) != 0)
        return Error(EACCES, "the verifier refused the identity");
    return 0;
}

}  // namespace

// MystGenCreds implements Mystikos's SYS_myst_gen_creds: a new key and a
// self-signed DER certificate carrying the application's (simulated)
// report, each in new program memory (free them with SYS_myst_free_creds).
Result<long> sys_myst_gen_creds(Thread& thread, const SyscallArgs& args) {
    return generate_credentials(thread, args, false);
}

// MystGenCredsEx implements Mystikos's SYS_myst_gen_creds_ex: gen_creds,
// and the report on its own (the certificate carries it too, so
// verify_cert accepts it; Mystikos's leaves it out).
Result<long> sys_myst_gen_creds_ex(Thread& thread, const SyscallArgs& args) {
    return generate_credentials(thread, args, true);
}

// MystFreeCreds implements Mystikos's SYS_myst_free_creds: the certificate
// and the key are wiped and unmapped. Arguments 4 and 5 (a report) are
// ignored: Mystikos's guide calls it with four arguments.
Result<long> sys_myst_free_creds(Thread& thread, const SyscallArgs& args) {
    TRY(free_buffer(thread, args.address(0), args.size(1)));
    TRY(free_buffer(thread, args.address(2), args.size(3)));
    return 0;
}

// MystFreeCredsEx implements Mystikos's SYS_myst_free_creds_ex: free_creds
// and the report.
Result<long> sys_myst_free_creds_ex(Thread& thread, const SyscallArgs& args) {
    TRY(sys_myst_free_creds(thread, args));
    TRY(free_buffer(thread, args.address(4), args.size(5)));
    return 0;
}

// MystVerifyCert implements Mystikos's SYS_myst_verify_cert(cert, size,
// verifier, arg): the certificate and its report are checked here; then,
// when a verifier is given, it runs as program code with the identity the
// report names (kernel/program_call.h) and its answer is the result.
Result<long> sys_myst_verify_cert(Thread& thread, const SyscallArgs& args) {
    uint64_t size = args.size(1);
    if (size == 0 || size > max_certificate_size)
        return Error(EINVAL, "verify_cert: no certificate has that size");
    std::vector<uint8_t> certificate(size);
    TRY(copy_from_user(thread, certificate.data(), args.address(0), size));
    uint64_t verifier = args.address(2);
    if (verifier != 0) {
        auto mapping = thread.kernel().memory().mapping_containing(verifier, 1);
        if (mapping.is_error() || !(mapping.value().protection & PROT_EXEC))
            return Error(EFAULT, "verify_cert: the verifier is not program code");
    }
    TeeIdentity identity = TRY(verify_tee_certificate(certificate));
    if (verifier == 0)
        return 0;
    myst_tee_identity_t abi = identity.to_abi();
    TRY(begin_program_call(thread, verifier, {reinterpret_cast<const uint8_t*>(&abi), sizeof abi},
                           args.address(3), complete_verification));
    return 0;
}

}  // namespace myst::kernel
